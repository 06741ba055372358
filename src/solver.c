/*-------------------------------------------------------------------------
 *
 * solver.c
 *	  Linear binary classifiers over a sparse row-major training set:
 *	  L2-regularised logistic regression (trust-region Newton), L2-loss SVM
 *	  (dual coordinate descent), PA-II (online), and Platt scaling.
 *
 * This file owns the numerical work of training only: given a CSR training
 * set it fills in a weight vector.  It does not own collecting the rows,
 * class weights (the caller folds them into C_pos/C_neg), model storage or
 * scoring.  It includes no PostgreSQL header: the backend (train.c) links it
 * and so does the standalone sanitizer harness (t/unit/test_solver.c).
 *
 * The formulations, constants and stopping rules follow LIBLINEAR 2.3
 * (tron.cpp and linear.cpp), so a model agrees with `train -s 0 -B b` or
 * `train -s 1 -B b` on the same data to within the stopping tolerance.
 * Deliberate differences from LIBLINEAR:
 *	- no global state: the dual CD and PA permutations come from a private
 *	  splitmix64 generator seeded with params->seed, not rand();
 *	- scratch memory comes only from params->alloc, and an ERROR raised by
 *	  params->check_interrupts may abandon it (the caller's memory context
 *	  reclaims it), so nothing here relies on params->free being reached;
 *	- the gradient and its diagonal preconditioner are computed in one pass
 *	  over the data, and the duplicated evaluation at w = 0 that LIBLINEAR
 *	  does for the initial gradient norm is skipped (w starts at 0 anyway).
 *
 * Everything is deterministic: the same problem and parameters give a
 * bit-identical w, because every reduction runs in a fixed order.
 *
 * The weight vector has n_cols + 1 entries; the last is the bias weight.
 * When prob->bias <= 0 the bias feature value is taken as 0, which keeps
 * that weight at exactly 0 through every solver without special cases.
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "solver.h"

/* Rows visited between two calls of params->check_interrupts. */
#define SOLVER_CHECK_ROWS	4096

/* Scratch arrays one solver holds at once (TRON needs the most, 10). */
#define SOLVER_MAX_SCRATCH	16

/*
 * State shared by the solvers for one solver_train() call.  It lives on the
 * stack of solver_train(), which is what makes the code re-entrant.
 */
typedef struct SolverContext
{
	const SolverProblem *prob;
	const SolverParams *params;
	int			l;				/* number of rows */
	int			n;				/* number of weights: n_cols + 1 */
	double		bias;			/* bias feature value; 0 when there is none */
	int			rows_since_check;	/* for the interrupt hook */
	int			n_scratch;
	void	   *scratch[SOLVER_MAX_SCRATCH];
} SolverContext;

/* ----------------------------------------------------------------
 *		small helpers
 * ----------------------------------------------------------------
 */

/* Call the interrupt hook unconditionally (once per outer iteration). */
static void
check_interrupts(SolverContext *ctx)
{
	ctx->rows_since_check = 0;
	if (ctx->params->check_interrupts != NULL)
		ctx->params->check_interrupts(ctx->params->interrupt_arg);
}

/*
 * Count 'rows' row visits and call the interrupt hook once enough have
 * accumulated.  Used where rows are visited in an irregular order.
 */
static inline void
count_rows(SolverContext *ctx, int rows)
{
	ctx->rows_since_check += rows;
	if (ctx->rows_since_check >= SOLVER_CHECK_ROWS)
		check_interrupts(ctx);
}

/*
 * Allocate an array through params->alloc and remember it so that
 * release_scratch() can hand it back.  Returns NULL only if the allocator
 * broke its contract and returned NULL.
 */
static void *
scratch_alloc(SolverContext *ctx, size_t count, size_t elem_size)
{
	void	   *p;

	if (ctx->n_scratch >= SOLVER_MAX_SCRATCH)
		return NULL;			/* can't happen: sizes are fixed above */
	/* never ask for 0 bytes: some allocators return NULL for that */
	p = ctx->params->alloc(count > 0 ? count * elem_size : elem_size,
						   ctx->params->alloc_arg);
	if (p != NULL)
		ctx->scratch[ctx->n_scratch++] = p;
	return p;
}

/* Free every scratch array, newest first. */
static void
release_scratch(SolverContext *ctx)
{
	while (ctx->n_scratch > 0)
	{
		ctx->n_scratch--;
		if (ctx->params->free != NULL)
			ctx->params->free(ctx->scratch[ctx->n_scratch],
							  ctx->params->alloc_arg);
	}
}

/* Cost of a row: C_pos for +1 rows, C_neg for -1 rows. */
static inline double
row_cost(const SolverContext *ctx, int i)
{
	return ctx->prob->y[i] > 0 ? ctx->params->C_pos : ctx->params->C_neg;
}

/*
 * x_i'w, including the bias feature.  Two accumulators let the two chains
 * of gathers overlap; the order is fixed so results are reproducible.
 */
static inline double
row_dot(const SolverContext *ctx, int i, const double *restrict w)
{
	const SolverProblem *prob = ctx->prob;
	int64_t		k = prob->row_start[i];
	const int64_t end = prob->row_start[i + 1];
	const int32_t *restrict col = prob->col;
	const float *restrict val = prob->val;
	double		s0 = 0.0;
	double		s1 = 0.0;

	for (; k + 1 < end; k += 2)
	{
		s0 += w[col[k]] * (double) val[k];
		s1 += w[col[k + 1]] * (double) val[k + 1];
	}
	if (k < end)
		s0 += w[col[k]] * (double) val[k];
	return s0 + s1 + w[ctx->n - 1] * ctx->bias;
}

/* w += a * x_i, including the bias feature. */
static inline void
row_axpy(const SolverContext *ctx, int i, double a, double *restrict w)
{
	const SolverProblem *prob = ctx->prob;
	const int64_t end = prob->row_start[i + 1];
	const int32_t *restrict col = prob->col;
	const float *restrict val = prob->val;
	int64_t		k;

	for (k = prob->row_start[i]; k < end; k++)
		w[col[k]] += a * (double) val[k];
	w[ctx->n - 1] += a * ctx->bias;
}

/* ||x_i||^2, including the bias feature. */
static double
row_norm_sq(const SolverContext *ctx, int i)
{
	const SolverProblem *prob = ctx->prob;
	double		s = ctx->bias * ctx->bias;
	int64_t		k;

	for (k = prob->row_start[i]; k < prob->row_start[i + 1]; k++)
		s += (double) prob->val[k] * (double) prob->val[k];
	return s;
}

static double
vec_dot(int n, const double *restrict a, const double *restrict b)
{
	double		s = 0.0;
	int			j;

	for (j = 0; j < n; j++)
		s += a[j] * b[j];
	return s;
}

/* a' diag(M) b */
static double
vec_dot_m(int n, const double *restrict a, const double *restrict M,
		  const double *restrict b)
{
	double		s = 0.0;
	int			j;

	for (j = 0; j < n; j++)
		s += a[j] * M[j] * b[j];
	return s;
}

/* y += a * x */
static void
vec_axpy(int n, double a, const double *restrict x, double *restrict y)
{
	int			j;

	for (j = 0; j < n; j++)
		y[j] += a * x[j];
}

/*
 * splitmix64 (Steele, Lea & Flood 2014): tiny, full-period, and good enough
 * for shuffling; the state is a local variable of the caller.
 */
static inline uint64_t
splitmix64_next(uint64_t *state)
{
	uint64_t	z = (*state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/*
 * Uniform integer in [0, range), 0 < range < 2^31, by multiply-shift on the
 * top 32 bits (bias below 2^-1, irrelevant for shuffling).
 */
static inline int
random_below(uint64_t *state, int range)
{
	return (int) (((splitmix64_next(state) >> 32) * (uint64_t) range) >> 32);
}

/* Primal objective of the L2-loss SVM: 0.5 w'w + sum C_i max(0, 1 - y_i w'x_i)^2 */
static double
svm_primal_objective(SolverContext *ctx, const double *w)
{
	double		f = 0.5 * vec_dot(ctx->n, w, w);
	int			i;

	for (i = 0; i < ctx->l; i++)
	{
		double		loss = 1.0 - ctx->prob->y[i] * row_dot(ctx, i, w);

		if (loss > 0)
			f += row_cost(ctx, i) * loss * loss;
		count_rows(ctx, 1);
	}
	return f;
}

/* ----------------------------------------------------------------
 *		SOLVER_LOGREG: trust-region Newton (LIBLINEAR -s 0)
 *
 * f(w) = 0.5 w'w + sum_i C_i log(1 + exp(-y_i w'x_i))
 * g(w) = w + X' (C_i (sigma(y_i w'x_i) - 1) y_i)
 * H    = I + X' diag(C_i D_i) X,  D_i = sigma_i (1 - sigma_i)
 * ----------------------------------------------------------------
 */

typedef struct LogregState
{
	SolverContext *ctx;
	double	   *margin;			/* per row: x_i'w, then the gradient factor */
	double	   *D;				/* per row: C_i sigma_i (1 - sigma_i) */
} LogregState;

/*
 * f(w); leaves x_i'w in st->margin for logreg_grad().  The two branches are
 * the overflow-free forms of log(1 + exp(-yz)).
 */
static double
logreg_fun(LogregState *st, const double *w)
{
	SolverContext *ctx = st->ctx;
	double		f = 0.5 * vec_dot(ctx->n, w, w);
	int			i;

	for (i = 0; i < ctx->l; i++)
	{
		double		z = row_dot(ctx, i, w);
		double		yz = ctx->prob->y[i] * z;

		st->margin[i] = z;
		if (yz >= 0)
			f += row_cost(ctx, i) * log1p(exp(-yz));
		else
			f += row_cost(ctx, i) * (-yz + log1p(exp(yz)));
		if ((i & (SOLVER_CHECK_ROWS - 1)) == SOLVER_CHECK_ROWS - 1)
			check_interrupts(ctx);
	}
	return f;
}

/*
 * g(w) and the Jacobi preconditioner diag(H), in one pass over the rows.
 * Needs the margins of the same w from logreg_fun(); stores C_i D_i in st->D
 * for logreg_Hv().  M is left as LIBLINEAR's mix (1 - a) I + a diag(H) with
 * a = 0.01 (Hsia, Chiang & Lin 2018).
 */
static void
logreg_grad(LogregState *st, const double *w, double *restrict g,
			double *restrict M)
{
	SolverContext *ctx = st->ctx;
	const SolverProblem *prob = ctx->prob;
	const int32_t *restrict col = prob->col;
	const float *restrict val = prob->val;
	const double alpha_pcg = 0.01;
	int			n = ctx->n;
	int			i,
				j;

	memset(g, 0, sizeof(double) * n);
	memset(M, 0, sizeof(double) * n);
	for (i = 0; i < ctx->l; i++)
	{
		double		yi = prob->y[i];
		double		Ci = row_cost(ctx, i);
		/* 1 / (1 + exp(-yz)): exp may overflow to inf, giving exactly 0 */
		double		sigma = 1.0 / (1.0 + exp(-yi * st->margin[i]));
		double		gi = Ci * (sigma - 1.0) * yi;
		double		hi = Ci * sigma * (1.0 - sigma);
		int64_t		k;

		st->D[i] = hi;
		for (k = prob->row_start[i]; k < prob->row_start[i + 1]; k++)
		{
			double		v = val[k];

			g[col[k]] += gi * v;
			M[col[k]] += hi * v * v;
		}
		g[n - 1] += gi * ctx->bias;
		M[n - 1] += hi * ctx->bias * ctx->bias;
		if ((i & (SOLVER_CHECK_ROWS - 1)) == SOLVER_CHECK_ROWS - 1)
			check_interrupts(ctx);
	}
	for (j = 0; j < n; j++)
	{
		g[j] += w[j];
		M[j] = (1.0 - alpha_pcg) + alpha_pcg * (1.0 + M[j]);
	}
}

/* Hs = H s = s + X' (C_i D_i x_i's), one pass over the rows. */
static void
logreg_Hv(LogregState *st, const double *restrict s, double *restrict Hs)
{
	SolverContext *ctx = st->ctx;
	int			n = ctx->n;
	int			i;

	memset(Hs, 0, sizeof(double) * n);
	for (i = 0; i < ctx->l; i++)
	{
		double		a = st->D[i];

		/* rows with a negligible curvature contribute exactly nothing */
		if (a != 0.0)
			row_axpy(ctx, i, a * row_dot(ctx, i, s), Hs);
		if ((i & (SOLVER_CHECK_ROWS - 1)) == SOLVER_CHECK_ROWS - 1)
			check_interrupts(ctx);
	}
	vec_axpy(n, 1.0, s, Hs);
}

/*
 * Preconditioned CG for the trust-region subproblem
 *	  min g's + 0.5 s'Hs  subject to  ||s||_M <= delta
 * (Steihaug), stopping when ||r||_{M^-1} <= eps_cg ||g||_{M^-1}.  On return s
 * is the step and r = -g - Hs.  Work arrays d, Hd, z have n entries.
 */
static int
logreg_trpcg(LogregState *st, double delta, const double *g, const double *M,
			 double *s, double *r, double *d, double *Hd, double *z,
			 int *reach_boundary)
{
	const double eps_cg = 0.1;
	int			n = st->ctx->n;
	int			max_cg_iter = n > 5 ? n : 5;
	int			cg_iter = 0;
	double		zTr,
				cgtol;
	int			j;

	*reach_boundary = 0;
	for (j = 0; j < n; j++)
	{
		s[j] = 0.0;
		r[j] = -g[j];
		z[j] = r[j] / M[j];
		d[j] = z[j];
	}
	zTr = vec_dot(n, z, r);
	cgtol = eps_cg * sqrt(zTr);

	while (cg_iter < max_cg_iter)
	{
		double		alpha,
					znewTrnew,
					beta;

		if (sqrt(zTr) <= cgtol)
			break;
		cg_iter++;
		logreg_Hv(st, d, Hd);

		alpha = zTr / vec_dot(n, d, Hd);
		vec_axpy(n, alpha, d, s);
		if (sqrt(vec_dot_m(n, s, M, s)) > delta)
		{
			/* step back, then go to the boundary along d */
			double		sTMd,
						sTMs,
						dTMd,
						dsq,
						rad;

			*reach_boundary = 1;
			vec_axpy(n, -alpha, d, s);
			sTMd = vec_dot_m(n, s, M, d);
			sTMs = vec_dot_m(n, s, M, s);
			dTMd = vec_dot_m(n, d, M, d);
			dsq = delta * delta;
			rad = sqrt(sTMd * sTMd + dTMd * (dsq - sTMs));
			/* the two forms avoid cancellation for either sign of sTMd */
			if (sTMd >= 0)
				alpha = (dsq - sTMs) / (sTMd + rad);
			else
				alpha = (rad - sTMd) / dTMd;
			vec_axpy(n, alpha, d, s);
			vec_axpy(n, -alpha, Hd, r);
			break;
		}
		vec_axpy(n, -alpha, Hd, r);

		for (j = 0; j < n; j++)
			z[j] = r[j] / M[j];
		znewTrnew = vec_dot(n, z, r);
		beta = znewTrnew / zTr;
		for (j = 0; j < n; j++)
			d[j] = beta * d[j] + z[j];
		zTr = znewTrnew;
	}
	return cg_iter;
}

static int
train_logreg(SolverContext *ctx, double *w, SolverResult *result)
{
	/* step acceptance and trust-region update constants, as LIBLINEAR */
	const double eta0 = 1e-4,
				eta1 = 0.25,
				eta2 = 0.75;
	const double sigma1 = 0.25,
				sigma2 = 0.5,
				sigma3 = 4.0;
	const int	max_iter = ctx->params->max_iter;
	/* safety net against endless rejected steps; LIBLINEAR has none */
	const int	max_trials = 2 * max_iter + 100;
	int			n = ctx->n;
	int			l = ctx->l;
	LogregState st;
	double	   *g,
			   *s,
			   *r,
			   *w_new,
			   *M,
			   *d,
			   *Hd,
			   *z;
	double		f,
				gnorm,
				gnorm0,
				delta,
				tol;
	int			n_pos = 0;
	int			n_minority;
	int			iter = 0;
	int			trials = 0;
	int			delta_adjusted = 0;
	int			i;

	for (i = 0; i < l; i++)
		n_pos += ctx->prob->y[i] > 0;
	n_minority = n_pos < l - n_pos ? n_pos : l - n_pos;
	if (n_minority < 1)
		n_minority = 1;

	/*
	 * LIBLINEAR's primal tolerance: eps scaled by the minority class share,
	 * so that unbalanced sets are not stopped too early.  l > 0 here.
	 */
	tol = ctx->params->epsilon * n_minority / (double) l;

	st.ctx = ctx;
	st.margin = scratch_alloc(ctx, l, sizeof(double));
	st.D = scratch_alloc(ctx, l, sizeof(double));
	g = scratch_alloc(ctx, n, sizeof(double));
	s = scratch_alloc(ctx, n, sizeof(double));
	r = scratch_alloc(ctx, n, sizeof(double));
	w_new = scratch_alloc(ctx, n, sizeof(double));
	M = scratch_alloc(ctx, n, sizeof(double));
	d = scratch_alloc(ctx, n, sizeof(double));
	Hd = scratch_alloc(ctx, n, sizeof(double));
	z = scratch_alloc(ctx, n, sizeof(double));
	if (st.margin == NULL || st.D == NULL || g == NULL || s == NULL ||
		r == NULL || w_new == NULL || M == NULL || d == NULL ||
		Hd == NULL || z == NULL)
		return -1;

	memset(w, 0, sizeof(double) * n);
	f = logreg_fun(&st, w);
	logreg_grad(&st, w, g, M);
	gnorm0 = gnorm = sqrt(vec_dot(n, g, g));
	delta = sqrt(vec_dot_m(n, g, M, g));

	while (iter < max_iter && trials < max_trials && gnorm > tol * gnorm0)
	{
		double		fnew,
					gs,
					prered,
					actred,
					sMnorm,
					alpha;
		int			reach_boundary;

		check_interrupts(ctx);
		trials++;
		logreg_trpcg(&st, delta, g, M, s, r, d, Hd, z, &reach_boundary);

		memcpy(w_new, w, sizeof(double) * n);
		vec_axpy(n, 1.0, s, w_new);

		gs = vec_dot(n, g, s);
		prered = -0.5 * (gs - vec_dot(n, s, r));
		fnew = logreg_fun(&st, w_new);
		actred = f - fnew;

		/* on the first iteration, adjust the initial step bound */
		sMnorm = sqrt(vec_dot_m(n, s, M, s));
		if (iter == 0 && !delta_adjusted)
		{
			if (sMnorm < delta)
				delta = sMnorm;
			delta_adjusted = 1;
		}

		/* predicted step multiple from a quadratic fit along s */
		if (fnew - f - gs <= 0)
			alpha = sigma3;
		else
			alpha = fmax(sigma1, -0.5 * (gs / (fnew - f - gs)));

		if (actred < eta0 * prered)
			delta = fmin(alpha * sMnorm, sigma2 * delta);
		else if (actred < eta1 * prered)
			delta = fmax(sigma1 * delta, fmin(alpha * sMnorm, sigma2 * delta));
		else if (actred < eta2 * prered)
			delta = fmax(sigma1 * delta, fmin(alpha * sMnorm, sigma3 * delta));
		else if (reach_boundary)
			delta = sigma3 * delta;
		else
			delta = fmax(delta, fmin(alpha * sMnorm, sigma3 * delta));

		if (actred > eta0 * prered)
		{
			/* accept the step; logreg_fun left w_new's margins behind */
			iter++;
			memcpy(w, w_new, sizeof(double) * n);
			f = fnew;
			logreg_grad(&st, w, g, M);
			gnorm = sqrt(vec_dot(n, g, g));
			if (gnorm <= tol * gnorm0)
				break;
		}
		/* numerical stagnation: no further progress is possible */
		if (prered <= 0)
			break;
		if (fabs(actred) <= 1.0e-12 * fabs(f) &&
			fabs(prered) <= 1.0e-12 * fabs(f))
			break;
	}

	result->iterations = iter;
	result->converged = gnorm <= tol * gnorm0;
	result->objective = f;
	return 0;
}

/* ----------------------------------------------------------------
 *		SOLVER_SVM: dual coordinate descent (LIBLINEAR -s 1)
 *
 * Dual: min_a 0.5 a'(Q + diag(0.5/C_i)) a - e'a,  a >= 0,
 * Q_ij = y_i y_j x_i'x_j, with w = sum a_i y_i x_i kept up to date.
 * Shrinking as in Hsieh et al. (2008); the upper bound is infinite.
 * ----------------------------------------------------------------
 */
static int
train_svm(SolverContext *ctx, double *w, SolverResult *result)
{
	const int	max_iter = ctx->params->max_iter;
	const double eps = ctx->params->epsilon;
	const int8_t *y = ctx->prob->y;
	int			l = ctx->l;
	double	   *QD,
			   *alpha;
	int		   *index;
	int			active_size = l;
	int			iter = 0;
	int			converged = 0;
	/*
	 * LIBLINEAR also tracks PGmin_old, for shrinking rows at the upper bound;
	 * the L2-loss dual has none, so only PGmax_old is needed.
	 */
	double		PGmax_old = HUGE_VAL;
	uint64_t	rng = ctx->params->seed;
	int			i,
				s;

	QD = scratch_alloc(ctx, l, sizeof(double));
	alpha = scratch_alloc(ctx, l, sizeof(double));
	index = scratch_alloc(ctx, l, sizeof(int));
	if (QD == NULL || alpha == NULL || index == NULL)
		return -1;

	memset(w, 0, sizeof(double) * ctx->n);
	for (i = 0; i < l; i++)
	{
		alpha[i] = 0.0;
		QD[i] = 0.5 / row_cost(ctx, i) + row_norm_sq(ctx, i);
		index[i] = i;
		count_rows(ctx, 1);
	}

	while (iter < max_iter)
	{
		double		PGmax_new = -HUGE_VAL;
		double		PGmin_new = HUGE_VAL;

		check_interrupts(ctx);
		for (i = 0; i < active_size; i++)
		{
			int			j = i + random_below(&rng, active_size - i);
			int			tmp = index[i];

			index[i] = index[j];
			index[j] = tmp;
		}

		for (s = 0; s < active_size; s++)
		{
			double		G,
						PG = 0.0,
						diag;

			i = index[s];
			diag = 0.5 / row_cost(ctx, i);
			G = y[i] * row_dot(ctx, i, w) - 1.0 + alpha[i] * diag;
			count_rows(ctx, 1);

			if (alpha[i] == 0.0)
			{
				if (G > PGmax_old)
				{
					/* at the bound and likely to stay: shrink it away */
					active_size--;
					index[s] = index[active_size];
					index[active_size] = i;
					s--;
					continue;
				}
				else if (G < 0)
					PG = G;
			}
			else
				PG = G;

			if (PG > PGmax_new)
				PGmax_new = PG;
			if (PG < PGmin_new)
				PGmin_new = PG;

			if (fabs(PG) > 1.0e-12)
			{
				double		alpha_old = alpha[i];

				alpha[i] = fmax(alpha[i] - G / QD[i], 0.0);
				row_axpy(ctx, i, (alpha[i] - alpha_old) * y[i], w);
			}
		}

		iter++;
		if (PGmax_new - PGmin_new <= eps)
		{
			if (active_size == l)
			{
				converged = 1;
				break;
			}
			/* converged on the shrunk problem: re-check on all rows */
			active_size = l;
			PGmax_old = HUGE_VAL;
			continue;
		}
		PGmax_old = PGmax_new;
		if (PGmax_old <= 0)
			PGmax_old = HUGE_VAL;
	}

	result->iterations = iter;
	result->converged = converged;
	result->objective = svm_primal_objective(ctx, w);
	return 0;
}

/* ----------------------------------------------------------------
 *		SOLVER_PA: PA-II (Crammer et al. 2006)
 * ----------------------------------------------------------------
 */

/*
 * PA has no stopping rule of its own: it runs max_iter epochs, except that
 * an epoch without a single update means w is a fixed point, so the
 * remaining epochs would change nothing and are skipped.  Either way the
 * run is reported as converged, since running the requested epochs is what
 * the algorithm is.  The objective is the mean hinge loss at the final w.
 */
static int
train_pa(SolverContext *ctx, double *w, SolverResult *result)
{
	const int	max_iter = ctx->params->max_iter;
	const int8_t *y = ctx->prob->y;
	int			l = ctx->l;
	double	   *denom;
	int		   *index;
	uint64_t	rng = ctx->params->seed;
	int			iter = 0;
	double		loss_sum = 0.0;
	int			i,
				s;

	denom = scratch_alloc(ctx, l, sizeof(double));
	index = scratch_alloc(ctx, l, sizeof(int));
	if (denom == NULL || index == NULL)
		return -1;

	memset(w, 0, sizeof(double) * ctx->n);
	for (i = 0; i < l; i++)
	{
		denom[i] = row_norm_sq(ctx, i) + 0.5 / row_cost(ctx, i);
		index[i] = i;
		count_rows(ctx, 1);
	}

	while (iter < max_iter)
	{
		int			updates = 0;

		check_interrupts(ctx);
		/* Fisher-Yates over the whole set, continuing the permutation */
		for (i = l - 1; i > 0; i--)
		{
			int			j = random_below(&rng, i + 1);
			int			tmp = index[i];

			index[i] = index[j];
			index[j] = tmp;
		}

		for (s = 0; s < l; s++)
		{
			double		loss;

			i = index[s];
			loss = 1.0 - y[i] * row_dot(ctx, i, w);
			if (loss > 0)
			{
				row_axpy(ctx, i, loss / denom[i] * y[i], w);
				updates++;
			}
			count_rows(ctx, 1);
		}
		iter++;
		if (updates == 0)
			break;
	}

	for (i = 0; i < l; i++)
	{
		double		loss = 1.0 - y[i] * row_dot(ctx, i, w);

		if (loss > 0)
			loss_sum += loss;
		count_rows(ctx, 1);
	}

	result->iterations = iter;
	result->converged = 1;
	result->objective = l > 0 ? loss_sum / l : 0.0;
	return 0;
}

/* ----------------------------------------------------------------
 *		entry points
 * ----------------------------------------------------------------
 */

static int
cost_ok(double C)
{
	return isfinite(C) && C > 0;
}

/*
 * Check the problem's arrays before trusting them: offsets non-decreasing
 * and starting at 0, columns in range, values finite, labels +1/-1.  One
 * pass over the data, cheap next to training, and it keeps a corrupt set
 * from turning into out-of-bounds writes.
 */
static int
problem_ok(const SolverProblem *prob)
{
	int64_t		k;
	int			i;

	if (prob->n_rows < 0 || prob->n_cols < 0 || !isfinite(prob->bias))
		return 0;
	/* the weight vector and its TRON companions must be addressable */
	if ((size_t) prob->n_cols + 1 > SIZE_MAX / sizeof(double) ||
		prob->n_cols == INT32_MAX)
		return 0;
	if (prob->n_rows == 0)
		return 1;
	if (prob->row_start == NULL || prob->y == NULL || prob->row_start[0] != 0)
		return 0;
	for (i = 0; i < prob->n_rows; i++)
	{
		if (prob->y[i] != 1 && prob->y[i] != -1)
			return 0;
		if (prob->row_start[i + 1] < prob->row_start[i])
			return 0;
	}
	if (prob->row_start[prob->n_rows] > 0 &&
		(prob->col == NULL || prob->val == NULL))
		return 0;
	for (k = 0; k < prob->row_start[prob->n_rows]; k++)
	{
		if (prob->col[k] < 0 || prob->col[k] >= prob->n_cols ||
			!isfinite(prob->val[k]))
			return 0;
	}
	return 1;
}

/*
 * solver_train
 *		Train a linear classifier; see solver.h for the layout of w.
 *
 * Returns -1, leaving w untouched, for bad parameters (C_pos or C_neg not a
 * finite positive number, epsilon not finite and positive, max_iter < 1,
 * unknown kind, missing alloc) or a malformed problem (n_rows or n_cols
 * negative, offsets decreasing, a column out of range, a non-finite value
 * or bias, a label other than +1/-1).  Returns -1 too if params->alloc
 * breaks its contract and returns NULL.  'result' may be NULL.
 *
 * With no rows, w = 0 is the exact solution of every formulation and is
 * returned as converged after 0 iterations.  A set with a single class is
 * fine: the regularised problems still have a unique finite solution.
 */
int
solver_train(const SolverProblem *prob, const SolverParams *params,
			 double *w, SolverResult *result)
{
	SolverContext ctx;
	SolverResult dummy;
	int			rc;

	if (prob == NULL || params == NULL || w == NULL)
		return -1;
	if (params->kind != SOLVER_LOGREG && params->kind != SOLVER_SVM &&
		params->kind != SOLVER_PA)
		return -1;
	if (!cost_ok(params->C_pos) || !cost_ok(params->C_neg) ||
		!isfinite(params->epsilon) || !(params->epsilon > 0) ||
		params->max_iter < 1 || params->alloc == NULL)
		return -1;
	if (!problem_ok(prob))
		return -1;
	if (result == NULL)
		result = &dummy;

	memset(&ctx, 0, sizeof(ctx));
	ctx.prob = prob;
	ctx.params = params;
	ctx.l = prob->n_rows;
	ctx.n = prob->n_cols + 1;
	ctx.bias = prob->bias > 0 ? prob->bias : 0.0;

	if (ctx.l == 0)
	{
		memset(w, 0, sizeof(double) * ctx.n);
		result->iterations = 0;
		result->converged = 1;
		result->objective = 0.0;
		return 0;
	}

	switch (params->kind)
	{
		case SOLVER_LOGREG:
			rc = train_logreg(&ctx, w, result);
			break;
		case SOLVER_SVM:
			rc = train_svm(&ctx, w, result);
			break;
		case SOLVER_PA:
			rc = train_pa(&ctx, w, result);
			break;
		default:
			rc = -1;			/* can't happen: checked above */
			break;
	}
	release_scratch(&ctx);
	return rc;
}

/*
 * Platt's negative log-likelihood term for one margin, written so that
 * exp() never overflows: with u = A f + B,
 *	  t u + log(1 + exp(-u))		  for u >= 0
 *	  (t - 1) u + log(1 + exp(u))	  for u < 0
 */
static inline double
platt_term(double t, double u)
{
	if (u >= 0)
		return t * u + log1p(exp(-u));
	return (t - 1.0) * u + log1p(exp(u));
}

/*
 * solver_platt
 *		Fit P(y = +1 | f) = 1 / (1 + exp(A f + B)) by Newton's method with
 *		backtracking, as LIBSVM's sigmoid_train (Lin, Lin & Weng 2007).
 *
 * Targets are Platt's prior-corrected (N+ + 1)/(N+ + 2) and 1/(N- + 2), so
 * even a perfectly separated set gives finite A, B.  No allocation: the
 * targets are recomputed from y.  On non-finite margins or a numerical
 * failure the last finite iterate is kept; with n <= 0 the result is A = 0,
 * B = 0 (probability 1/2).
 */
void
solver_platt(int n, const double *margin, const int8_t *y,
			 double *A, double *B)
{
	const int	max_iter = 100;
	const double min_step = 1e-10;
	const double sigma = 1e-12;	/* keeps the Hessian strictly PD */
	const double eps = 1e-5;
	double		prior1 = 0.0,
				prior0 = 0.0;
	double		hiTarget,
				loTarget;
	double		a,
				b,
				fval = 0.0;
	int			iter,
				i;

	*A = 0.0;
	*B = 0.0;
	if (n <= 0 || margin == NULL || y == NULL)
		return;
	for (i = 0; i < n; i++)
	{
		if (!isfinite(margin[i]))
			return;
		if (y[i] > 0)
			prior1 += 1.0;
		else
			prior0 += 1.0;
	}
	hiTarget = (prior1 + 1.0) / (prior1 + 2.0);
	loTarget = 1.0 / (prior0 + 2.0);

	a = 0.0;
	b = log((prior0 + 1.0) / (prior1 + 1.0));
	for (i = 0; i < n; i++)
		fval += platt_term(y[i] > 0 ? hiTarget : loTarget, margin[i] * a + b);

	for (iter = 0; iter < max_iter; iter++)
	{
		double		h11 = sigma,
					h22 = sigma,
					h21 = 0.0,
					g1 = 0.0,
					g2 = 0.0;
		double		det,
					dA,
					dB,
					gd,
					stepsize;

		for (i = 0; i < n; i++)
		{
			double		f = margin[i];
			double		u = f * a + b;
			double		p,
						q,
						d1,
						d2;

			/* p = 1 / (1 + exp(u)), q = 1 - p, without overflow */
			if (u >= 0)
			{
				double		e = exp(-u);

				p = e / (1.0 + e);
				q = 1.0 / (1.0 + e);
			}
			else
			{
				double		e = exp(u);

				p = 1.0 / (1.0 + e);
				q = e / (1.0 + e);
			}
			d2 = p * q;
			h11 += f * f * d2;
			h22 += d2;
			h21 += f * d2;
			d1 = (y[i] > 0 ? hiTarget : loTarget) - p;
			g1 += f * d1;
			g2 += d1;
		}

		if (fabs(g1) < eps && fabs(g2) < eps)
			break;

		/* Newton direction -H^-1 g */
		det = h11 * h22 - h21 * h21;
		if (!(det > 0) || !isfinite(det))
			break;
		dA = -(h22 * g1 - h21 * g2) / det;
		dB = -(-h21 * g1 + h11 * g2) / det;
		gd = g1 * dA + g2 * dB;

		for (stepsize = 1.0; stepsize >= min_step; stepsize /= 2.0)
		{
			double		newA = a + stepsize * dA;
			double		newB = b + stepsize * dB;
			double		newf = 0.0;

			for (i = 0; i < n; i++)
				newf += platt_term(y[i] > 0 ? hiTarget : loTarget,
								   margin[i] * newA + newB);
			/* sufficient decrease; a non-finite newf fails this test */
			if (newf < fval + 0.0001 * stepsize * gd)
			{
				a = newA;
				b = newB;
				fval = newf;
				break;
			}
		}
		if (stepsize < min_step)
			break;				/* line search failed: keep the last iterate */
	}

	*A = a;
	*B = b;
}
