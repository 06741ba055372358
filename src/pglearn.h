/*-------------------------------------------------------------------------
 *
 * pglearn.h
 *	  Settings shared across pglearn's C files.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_H
#define PGLEARN_H

/* pglearn.max_train_memory, in kilobytes */
extern int	pglearn_max_train_memory;

/* pglearn.default_model: the model the scoring trigger uses ('' = none) */
extern char *pglearn_default_model;

#endif							/* PGLEARN_H */
