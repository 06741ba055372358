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

#endif							/* PGLEARN_H */
