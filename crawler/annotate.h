/*
 * annotate.h: `pglearn annotate`, interactive labelling of the articles the
 * model is least sure of (active learning, margin sampling).
 */
#ifndef PGLEARN_ANNOTATE_H
#define PGLEARN_ANNOTATE_H

/* returns the exit status: 0 done, 1 no model can be fitted, 2 usage/database */
int			annotate_main(int argc, char **argv);

#endif							/* PGLEARN_ANNOTATE_H */
