/*-------------------------------------------------------------------------
 *
 * solver.h
 *	  Linear binary classifiers over a sparse row-major training set.
 *
 * Plain C with no PostgreSQL headers, so the same code is exercised by the
 * backend (train.c) and by the standalone sanitizer harness.  The caller
 * owns every input array; the solver allocates its scratch space only
 * through SolverParams.alloc/free so that the backend can hand it palloc
 * (and have an ERROR raised by the interrupt hook release everything).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_SOLVER_H
#define PGLEARN_SOLVER_H

#include <stddef.h>
#include <stdint.h>

typedef enum SolverKind
{
	SOLVER_LOGREG = 1,			/* L2-regularised logistic regression, TRON */
	SOLVER_SVM = 2,				/* L2-regularised L2-loss SVM, dual CD */
	SOLVER_PA = 3				/* passive-aggressive PA-II, online */
} SolverKind;

/*
 * Training set in compressed sparse row form.  Columns are compact
 * (0 .. n_cols-1); the bias column, if any, is NOT stored here: the solver
 * appends it itself with value 'bias' when bias > 0.
 */
typedef struct SolverProblem
{
	int			n_rows;
	int			n_cols;
	const int64_t *row_start;	/* n_rows + 1 offsets into col/val */
	const int32_t *col;			/* compact column indexes, sorted per row */
	const float *val;			/* feature values */
	const int8_t *y;			/* labels, +1 or -1 */
	double		bias;			/* > 0: append a bias feature of this value */
} SolverProblem;

typedef struct SolverParams
{
	SolverKind	kind;
	double		C_pos;			/* cost of errors on +1 rows (C * class weight) */
	double		C_neg;			/* cost of errors on -1 rows */
	double		epsilon;		/* stopping tolerance, LIBLINEAR semantics */
	int			max_iter;		/* outer iterations (TRON/CD) or epochs (PA) */
	uint64_t	seed;			/* for the dual CD / PA permutations */

	/* scratch memory; must not return NULL (raise instead) */
	void	   *(*alloc) (size_t size, void *arg);
	void		(*free) (void *ptr, void *arg);
	void	   *alloc_arg;

	/* called at least every few thousand row visits; may longjmp out */
	void		(*check_interrupts) (void *arg);
	void	   *interrupt_arg;
} SolverParams;

typedef struct SolverResult
{
	int			iterations;		/* outer iterations / epochs run */
	int			converged;		/* 1 if the stopping criterion was met */
	double		objective;		/* primal objective at the solution */
} SolverResult;

/*
 * Train a model.  'w' must have room for n_cols + 1 doubles; on return
 * w[0..n_cols-1] are the feature weights and w[n_cols] is the bias weight
 * (0 when bias <= 0).  The margin of a row x is sum_j w[j]*x[j] + w[n_cols]*bias.
 * Returns 0 on success, -1 on bad parameters.
 */
extern int	solver_train(const SolverProblem *prob, const SolverParams *params,
						 double *w, SolverResult *result);

/*
 * Platt scaling: fit A, B so that P(y=+1|f) = 1 / (1 + exp(A*f + B)) on the
 * given margins and labels (Lin, Lin & Weng 2007, "A note on Platt's
 * probabilistic outputs").  Used to turn svm/pa margins into probabilities.
 */
extern void solver_platt(int n, const double *margin, const int8_t *y,
						 double *A, double *B);

#endif							/* PGLEARN_SOLVER_H */
