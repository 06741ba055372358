/*-------------------------------------------------------------------------
 *
 * test_solver.c
 *	  Standalone TAP test of src/solver.c, meant to run under the sanitizers:
 *
 *	  cc -O1 -g -Wall -Wextra -fsanitize=address,undefined -iquote src \
 *		  t/unit/test_solver.c src/solver.c -lm -o /tmp/test_solver
 *	  /tmp/test_solver
 *
 * (-iquote rather than -I: with -Isrc, src/features.h would shadow glibc's
 * <features.h>, which every system header includes.)
 *
 * It owns checks of the solver's contract only (classification, optimality,
 * determinism, parameter validation, memory and interrupt discipline, Platt
 * scaling); the SQL-level training path is tested by pg_regress.  It needs
 * no LIBLINEAR at run time: the reference numbers for the fixed tiny problem
 * were produced once with the LIBLINEAR 2.3.0 CLI and are hard-coded below.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solver.h"
#include "../lib/tap.h"

/* ----------------------------------------------------------------
 *		a tracking allocator, standing in for a memory context
 * ----------------------------------------------------------------
 */
typedef struct Block
{
	struct Block *next;
	struct Block *prev;
	size_t		size;
	/* keep the payload aligned for doubles */
	double		payload[];
} Block;

typedef struct Arena
{
	Block	   *first;			/* live blocks, newest first */
	long		live;			/* blocks allocated and not freed */
	long		total;			/* blocks ever allocated */
} Arena;

static void
arena_init(Arena *a)
{
	a->first = NULL;
	a->live = a->total = 0;
}

static void *
arena_alloc(size_t size, void *arg)
{
	Arena	   *a = arg;
	Block	   *b = malloc(sizeof(Block) + size);

	if (b == NULL)
	{
		fprintf(stderr, "out of memory\n");
		abort();				/* the contract: never return NULL */
	}
	b->size = size;
	b->prev = NULL;
	b->next = a->first;
	if (a->first != NULL)
		a->first->prev = b;
	a->first = b;
	a->live++;
	a->total++;
	/* poison, so a solver reading uninitialised scratch shows up */
	memset(b->payload, 0xA5, size);
	return b->payload;
}

static void
arena_free(void *ptr, void *arg)
{
	Arena	   *a = arg;
	Block	   *b = (Block *) ((char *) ptr - offsetof(Block, payload));

	if (b->prev != NULL)
		b->prev->next = b->next;
	else
		a->first = b->next;
	if (b->next != NULL)
		b->next->prev = b->prev;
	a->live--;
	free(b);
}

/* What a memory context reset does after an ERROR: free whatever is left. */
static void
arena_reset(Arena *a)
{
	while (a->first != NULL)
		arena_free(a->first->payload, a);
}

/* ----------------------------------------------------------------
 *		interrupt hooks
 * ----------------------------------------------------------------
 */
typedef struct Interrupts
{
	long		calls;
	long		fire_at;		/* longjmp on this call; 0 = never */
	jmp_buf		env;
} Interrupts;

static void
count_interrupts(void *arg)
{
	Interrupts *it = arg;

	it->calls++;
	if (it->fire_at > 0 && it->calls == it->fire_at)
		longjmp(it->env, 1);
}

/* ----------------------------------------------------------------
 *		problems
 * ----------------------------------------------------------------
 */
typedef struct TestSet
{
	SolverProblem prob;
	int64_t    *row_start;
	int32_t    *col;
	float	   *val;
	int8_t	   *y;
} TestSet;

static uint64_t
rng_next(uint64_t *s)
{
	uint64_t	z = (*s += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static double
rng_unit(uint64_t *s)
{
	return (double) (rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

static void
testset_free(TestSet *t)
{
	free(t->row_start);
	free(t->col);
	free(t->val);
	free(t->y);
}

/*
 * A random sparse set: 'nnz' distinct sorted columns per row out of n_cols.
 * With 'separable', column 0 carries the label (value y_i * 1.0) and the
 * other columns are noise, so w = (big, 0, ...) separates it with margin.
 * Otherwise labels come from a hidden linear rule plus label noise.
 */
static void
testset_random(TestSet *t, int n_rows, int n_cols, int nnz, int separable,
			   uint64_t seed)
{
	uint64_t	s = seed;
	double	   *truth = malloc(sizeof(double) * n_cols);
	int64_t		k = 0;
	int			i,
				j;

	t->row_start = malloc(sizeof(int64_t) * (n_rows + 1));
	t->col = malloc(sizeof(int32_t) * (size_t) n_rows * (nnz + 1));
	t->val = malloc(sizeof(float) * (size_t) n_rows * (nnz + 1));
	t->y = malloc(n_rows);
	for (j = 0; j < n_cols; j++)
		truth[j] = rng_unit(&s) * 2.0 - 1.0;

	for (i = 0; i < n_rows; i++)
	{
		double		z = 0.0;
		int64_t		first = k;
		int			c = separable ? 1 : 0;

		t->row_start[i] = k;
		t->y[i] = (rng_next(&s) & 1) ? 1 : -1;
		if (separable)
		{
			t->col[k] = 0;
			t->val[k] = (float) t->y[i];
			k++;
		}
		/* choose columns by walking with random gaps: sorted and distinct */
		while (k - first < nnz + separable && c < n_cols)
		{
			c += (int) (rng_unit(&s) * (2.0 * n_cols / nnz));
			if (c >= n_cols)
				break;
			t->col[k] = c;
			/* dyadic values are exact in float and in LIBLINEAR's double */
			t->val[k] = (float) ((1 + (int) (rng_unit(&s) * 64)) / 64.0);
			z += truth[c] * t->val[k];
			k++;
			c++;
		}
		if (!separable)
		{
			t->y[i] = z > 0 ? 1 : -1;
			if (rng_unit(&s) < 0.1)
				t->y[i] = (int8_t) -t->y[i];
		}
	}
	t->row_start[n_rows] = k;
	free(truth);

	t->prob.n_rows = n_rows;
	t->prob.n_cols = n_cols;
	t->prob.row_start = t->row_start;
	t->prob.col = t->col;
	t->prob.val = t->val;
	t->prob.y = t->y;
	t->prob.bias = 1.0;
}

/*
 * The fixed tiny problem: tiny_rows below, one line each, is a libsvm-format
 * file (1-based columns; the test turns them 0-based).  The reference values
 * come from LIBLINEAR 2.3.0 (Debian liblinear-tools 2.3.0+dfsg-5):
 *	  liblinear-train -s 0 -c 1 -e 0.000001 -B 1 tiny.txt
 *	  liblinear-train -s 1 -c 1 -e 0.000001 -B 1 tiny.txt
 * The weights are the model files' (label order "1 -1", last one the bias);
 * the objectives are the primal objectives of those weights evaluated in
 * double precision (0.5 w'w plus the sum of log1p(exp(-m)), resp.
 * max(0, 1 - m)^2).  At that tolerance both optima are pinned to ~1e-7.
 */
static const char *const tiny_rows[] = {
	"+1 1:1 2:0.5 4:0.25",
	"+1 1:0.75 3:1",
	"+1 2:1 3:0.5 5:0.5",
	"+1 1:0.5 5:1",
	"+1 1:1.5 2:0.25",
	"-1 3:1 4:1",
	"-1 2:0.5 4:0.75 5:0.25",
	"-1 4:1.25",
	"-1 1:0.25 3:0.75 4:0.5",
	"-1 1:1 4:1",
	"+1 4:0.5 5:0.5",
	"-1 2:1 3:0.25",
};

static const double tiny_logreg_objective = 6.64322227712897;
static const double tiny_logreg_w[6] = {
	0.66680551001288768, -0.012921427895928294, -0.093785663258453666,
	-1.0599047828759591, 0.64600145247232132, 0.067675688841318027
};
static const double tiny_svm_objective = 5.02431828182615;
static const double tiny_svm_w[6] = {
	0.61512175921972956, -0.28269612675595823, -0.022735676289380335,
	-1.1906431515222569, 1.2110490244949008, 0.13322859268001988
};

/* Parse libsvm-format lines into a TestSet (columns become 0-based). */
static void
testset_parse(TestSet *t, const char *const *lines, int n_rows, int n_cols)
{
	int64_t		k = 0;
	int			i;

	t->row_start = malloc(sizeof(int64_t) * (n_rows + 1));
	t->col = malloc(sizeof(int32_t) * 64 * n_rows);
	t->val = malloc(sizeof(float) * 64 * n_rows);
	t->y = malloc(n_rows);
	for (i = 0; i < n_rows; i++)
	{
		char	   *p;

		t->row_start[i] = k;
		t->y[i] = (int8_t) (strtol(lines[i], &p, 10) > 0 ? 1 : -1);
		while (*p == ' ')
		{
			long		c = strtol(p, &p, 10);

			p++;				/* ':' */
			t->col[k] = (int32_t) (c - 1);
			t->val[k] = (float) strtod(p, &p);
			k++;
		}
	}
	t->row_start[n_rows] = k;
	t->prob.n_rows = n_rows;
	t->prob.n_cols = n_cols;
	t->prob.row_start = t->row_start;
	t->prob.col = t->col;
	t->prob.val = t->val;
	t->prob.y = t->y;
	t->prob.bias = 1.0;
}

/* ----------------------------------------------------------------
 *		independent reference computations
 * ----------------------------------------------------------------
 */
static double
margin_of(const SolverProblem *p, const double *w, int i)
{
	double		z = p->bias > 0 ? w[p->n_cols] * p->bias : 0.0;
	int64_t		k;

	for (k = p->row_start[i]; k < p->row_start[i + 1]; k++)
		z += w[p->col[k]] * p->val[k];
	return z;
}

static int
count_errors(const SolverProblem *p, const double *w)
{
	int			errors = 0;
	int			i;

	for (i = 0; i < p->n_rows; i++)
		if (p->y[i] * margin_of(p, w, i) <= 0)
			errors++;
	return errors;
}

/*
 * Gradient of 0.5 w'w + sum C_i log(1 + exp(-y_i w'x_i)) (kind LOGREG) or
 * of 0.5 w'w + sum C_i max(0, 1 - y_i w'x_i)^2 (kind SVM) into g; returns
 * the objective.  Written directly from the formulas, not from solver.c.
 */
static double
primal(const SolverProblem *p, double C_pos, double C_neg, SolverKind kind,
	   const double *w, double *g)
{
	int			n = p->n_cols + 1;
	double		b = p->bias > 0 ? p->bias : 0.0;
	double		f = 0.0;
	int			i,
				j;

	for (j = 0; j < n; j++)
	{
		g[j] = w[j];
		f += 0.5 * w[j] * w[j];
	}
	for (i = 0; i < p->n_rows; i++)
	{
		double		C = p->y[i] > 0 ? C_pos : C_neg;
		double		m = p->y[i] * margin_of(p, w, i);
		double		coef;		/* d loss / d margin_i, times y_i */
		int64_t		k;

		if (kind == SOLVER_LOGREG)
		{
			f += C * (m >= 0 ? log1p(exp(-m)) : -m + log1p(exp(m)));
			coef = -C * p->y[i] / (1.0 + exp(m));
		}
		else
		{
			if (m >= 1)
				continue;
			f += C * (1 - m) * (1 - m);
			coef = -2.0 * C * (1 - m) * p->y[i];
		}
		for (k = p->row_start[i]; k < p->row_start[i + 1]; k++)
			g[p->col[k]] += coef * p->val[k];
		g[p->n_cols] += coef * b;
	}
	return f;
}

static double
norm2(int n, const double *v)
{
	double		s = 0.0;
	int			j;

	for (j = 0; j < n; j++)
		s += v[j] * v[j];
	return sqrt(s);
}

static SolverParams
default_params(SolverKind kind, Arena *arena, Interrupts *it)
{
	SolverParams p;

	memset(&p, 0, sizeof(p));
	p.kind = kind;
	p.C_pos = 1.0;
	p.C_neg = 1.0;
	p.epsilon = kind == SOLVER_LOGREG ? 0.01 : 0.1;
	p.max_iter = kind == SOLVER_PA ? 10 : 1000;
	p.seed = 12345;
	p.alloc = arena_alloc;
	p.free = arena_free;
	p.alloc_arg = arena;
	p.check_interrupts = it ? count_interrupts : NULL;
	p.interrupt_arg = it;
	return p;
}

static const char *
kind_name(SolverKind kind)
{
	return kind == SOLVER_LOGREG ? "logreg" : kind == SOLVER_SVM ? "svm" : "pa";
}

/* ----------------------------------------------------------------
 *		tests
 * ----------------------------------------------------------------
 */

/* (a) a separable set is classified perfectly; scratch is all returned */
static void
test_separable(void)
{
	static const SolverKind kinds[] = {SOLVER_LOGREG, SOLVER_SVM, SOLVER_PA};
	TestSet		t;
	int			k;

	testset_random(&t, 300, 50, 5, 1, 1);
	for (k = 0; k < 3; k++)
	{
		Arena		arena;
		SolverParams p;
		SolverResult r;
		double		w[51];
		char		desc[128];
		int			rc;

		arena_init(&arena);
		p = default_params(kinds[k], &arena, NULL);
		rc = solver_train(&t.prob, &p, w, &r);
		snprintf(desc, sizeof(desc), "%s: separable set classified perfectly",
				 kind_name(kinds[k]));
		ok(rc == 0 && count_errors(&t.prob, w) == 0 && r.converged, desc);
		snprintf(desc, sizeof(desc), "%s: all %ld scratch blocks freed",
				 kind_name(kinds[k]), arena.total);
		ok(arena.live == 0 && arena.total > 0, desc);
		arena_reset(&arena);
	}
	testset_free(&t);
}

/* (b) two runs give bit-identical weights; a no-bias run keeps w[n] = 0 */
static void
test_determinism(void)
{
	static const SolverKind kinds[] = {SOLVER_LOGREG, SOLVER_SVM, SOLVER_PA};
	TestSet		t;
	int			n_cols = 2000;
	double	   *w1 = malloc(sizeof(double) * (n_cols + 1));
	double	   *w2 = malloc(sizeof(double) * (n_cols + 1));
	int			k;

	testset_random(&t, 3000, n_cols, 20, 0, 2);
	for (k = 0; k < 3; k++)
	{
		Arena		arena;
		SolverParams p;
		SolverResult r1,
					r2;
		char		desc[128];
		int			rc1,
					rc2;

		arena_init(&arena);
		p = default_params(kinds[k], &arena, NULL);
		rc1 = solver_train(&t.prob, &p, w1, &r1);
		/* dirty the output so stale values cannot pass the comparison */
		memset(w2, 0x5A, sizeof(double) * (n_cols + 1));
		rc2 = solver_train(&t.prob, &p, w2, &r2);
		snprintf(desc, sizeof(desc), "%s: two runs give identical w (%d iterations)",
				 kind_name(kinds[k]), r1.iterations);
		ok(rc1 == 0 && rc2 == 0 &&
		   memcmp(w1, w2, sizeof(double) * (n_cols + 1)) == 0 &&
		   r1.iterations == r2.iterations &&
		   r1.objective == r2.objective, desc);

		t.prob.bias = 0.0;
		rc1 = solver_train(&t.prob, &p, w1, &r1);
		t.prob.bias = 1.0;
		snprintf(desc, sizeof(desc), "%s: without bias the bias weight is 0",
				 kind_name(kinds[k]));
		ok(rc1 == 0 && w1[n_cols] == 0.0, desc);
		arena_reset(&arena);
	}
	testset_free(&t);
	free(w1);
	free(w2);
}

/*
 * (c) optimality, checked with a gradient computed here from the formulas:
 * logreg meets LIBLINEAR's stopping rule, and with a tight epsilon both
 * logreg and the SVM reach a near-zero gradient.  Unequal C_pos/C_neg so
 * that a mix-up of the two costs would show.
 */
static void
test_optimality(void)
{
	TestSet		t;
	int			n_cols = 1000;
	int			n = n_cols + 1;
	double	   *w = malloc(sizeof(double) * n);
	double	   *g = malloc(sizeof(double) * n);
	double	   *zero = calloc(n, sizeof(double));
	Arena		arena;
	SolverParams p;
	SolverResult r;
	double		f,
				gnorm0,
				tol;
	int			n_pos = 0,
				i,
				rc;
	char		desc[160];

	testset_random(&t, 2000, n_cols, 15, 0, 3);
	for (i = 0; i < t.prob.n_rows; i++)
		n_pos += t.prob.y[i] > 0;
	arena_init(&arena);

	/* LIBLINEAR's primal criterion at the default epsilon */
	p = default_params(SOLVER_LOGREG, &arena, NULL);
	p.C_pos = 2.0;
	p.C_neg = 0.5;
	rc = solver_train(&t.prob, &p, w, &r);
	primal(&t.prob, p.C_pos, p.C_neg, SOLVER_LOGREG, zero, g);
	gnorm0 = norm2(n, g);
	f = primal(&t.prob, p.C_pos, p.C_neg, SOLVER_LOGREG, w, g);
	tol = p.epsilon * fmax(fmin(n_pos, t.prob.n_rows - n_pos), 1) / t.prob.n_rows;
	snprintf(desc, sizeof(desc),
			 "logreg: |g(w)| %.3g <= eps*max(min(pos,neg),1)/l*|g(0)| = %.3g",
			 norm2(n, g), tol * gnorm0);
	ok(rc == 0 && r.converged && norm2(n, g) <= tol * gnorm0, desc);
	ok(fabs(r.objective - f) <= 1e-9 * f,
	   "logreg: reported objective equals the primal objective");

	p.epsilon = 1e-8;
	rc = solver_train(&t.prob, &p, w, &r);
	primal(&t.prob, p.C_pos, p.C_neg, SOLVER_LOGREG, w, g);
	snprintf(desc, sizeof(desc), "logreg: tight epsilon gives |g(w)|/|g(0)| = %.3g < 1e-8",
			 norm2(n, g) / gnorm0);
	ok(rc == 0 && r.converged && norm2(n, g) < 1e-8 * gnorm0, desc);

	/* SVM: the primal gradient vanishes as the dual gap closes */
	p = default_params(SOLVER_SVM, &arena, NULL);
	p.C_pos = 2.0;
	p.C_neg = 0.5;
	p.epsilon = 1e-6;
	rc = solver_train(&t.prob, &p, w, &r);
	primal(&t.prob, p.C_pos, p.C_neg, SOLVER_SVM, zero, g);
	gnorm0 = norm2(n, g);
	f = primal(&t.prob, p.C_pos, p.C_neg, SOLVER_SVM, w, g);
	snprintf(desc, sizeof(desc), "svm: tight epsilon gives |g(w)|/|g(0)| = %.3g < 1e-4",
			 norm2(n, g) / gnorm0);
	ok(rc == 0 && r.converged && norm2(n, g) < 1e-4 * gnorm0, desc);
	ok(fabs(r.objective - f) <= 1e-9 * f,
	   "svm: reported objective equals the primal objective");

	/* PA: the objective is the mean hinge loss */
	p = default_params(SOLVER_PA, &arena, NULL);
	rc = solver_train(&t.prob, &p, w, &r);
	f = 0.0;
	for (i = 0; i < t.prob.n_rows; i++)
		f += fmax(0.0, 1.0 - t.prob.y[i] * margin_of(&t.prob, w, i));
	f /= t.prob.n_rows;
	ok(rc == 0 && r.iterations == p.max_iter && fabs(r.objective - f) <= 1e-9,
	   "pa: runs max_iter epochs and reports the mean hinge loss");
	/* online learning on noisy data should still beat a coin */
	ok(count_errors(&t.prob, w) < t.prob.n_rows / 4,
	   "pa: training error under 25% on a 10%-noise set");

	arena_reset(&arena);
	testset_free(&t);
	free(w);
	free(g);
	free(zero);
}

/* (d) the fixed tiny problem against numbers obtained from LIBLINEAR */
static void
test_liblinear_reference(void)
{
	TestSet		t;
	Arena		arena;
	SolverParams p;
	SolverResult r;
	double		w[6],
				g[6],
				f,
				maxdiff;
	int			j,
				rc;
	char		desc[160];

	testset_parse(&t, tiny_rows, 12, 5);
	arena_init(&arena);

	p = default_params(SOLVER_LOGREG, &arena, NULL);
	p.epsilon = 1e-6;
	rc = solver_train(&t.prob, &p, w, &r);
	f = primal(&t.prob, 1.0, 1.0, SOLVER_LOGREG, w, g);
	maxdiff = 0.0;
	for (j = 0; j < 6; j++)
		maxdiff = fmax(maxdiff, fabs(w[j] - tiny_logreg_w[j]));
	snprintf(desc, sizeof(desc),
			 "tiny logreg: objective %.12g matches LIBLINEAR -s 0 (%.12g)",
			 f, tiny_logreg_objective);
	ok(rc == 0 && fabs(f - tiny_logreg_objective) < 1e-9 * tiny_logreg_objective,
	   desc);
	snprintf(desc, sizeof(desc), "tiny logreg: weights within %.2g of LIBLINEAR's",
			 maxdiff);
	ok(maxdiff < 1e-6, desc);

	p = default_params(SOLVER_SVM, &arena, NULL);
	p.epsilon = 1e-6;
	rc = solver_train(&t.prob, &p, w, &r);
	f = primal(&t.prob, 1.0, 1.0, SOLVER_SVM, w, g);
	maxdiff = 0.0;
	for (j = 0; j < 6; j++)
		maxdiff = fmax(maxdiff, fabs(w[j] - tiny_svm_w[j]));
	snprintf(desc, sizeof(desc),
			 "tiny svm: objective %.12g matches LIBLINEAR -s 1 (%.12g)",
			 f, tiny_svm_objective);
	ok(rc == 0 && fabs(f - tiny_svm_objective) < 1e-9 * tiny_svm_objective,
	   desc);
	snprintf(desc, sizeof(desc), "tiny svm: weights within %.2g of LIBLINEAR's",
			 maxdiff);
	ok(maxdiff < 1e-5, desc);

	arena_reset(&arena);
	testset_free(&t);
}

/* (e) bad parameters and malformed problems are refused; edge cases work */
static void
test_validation(void)
{
	TestSet		t;
	Arena		arena;
	SolverParams good,
				p;
	SolverProblem bad;
	SolverResult r;
	double		w[11];
	int8_t		y_bad[40];
	int32_t    *col_bad;
	float	   *val_bad;
	int			all_refused = 1;
	int			i,
				k;

	testset_random(&t, 40, 10, 3, 0, 4);
	arena_init(&arena);
	good = default_params(SOLVER_LOGREG, &arena, NULL);

#define EXPECT_REFUSED(prob_, params_) \
	do { \
		for (i = 0; i < 11; i++) \
			w[i] = 42.0; \
		if (solver_train((prob_), (params_), w, &r) != -1) \
			all_refused = 0; \
		for (i = 0; i < 11; i++) \
			if (w[i] != 42.0) \
				all_refused = 0; \
	} while (0)

	p = good; p.C_pos = 0.0; EXPECT_REFUSED(&t.prob, &p);
	p = good; p.C_neg = -1.0; EXPECT_REFUSED(&t.prob, &p);
	p = good; p.C_pos = NAN; EXPECT_REFUSED(&t.prob, &p);
	p = good; p.C_neg = INFINITY; EXPECT_REFUSED(&t.prob, &p);
	p = good; p.epsilon = 0.0; EXPECT_REFUSED(&t.prob, &p);
	p = good; p.epsilon = -0.1; EXPECT_REFUSED(&t.prob, &p);
	p = good; p.epsilon = NAN; EXPECT_REFUSED(&t.prob, &p);
	p = good; p.max_iter = 0; EXPECT_REFUSED(&t.prob, &p);
	p = good; p.kind = (SolverKind) 99; EXPECT_REFUSED(&t.prob, &p);
	p = good; p.alloc = NULL; EXPECT_REFUSED(&t.prob, &p);
	ok(all_refused, "bad C, epsilon, max_iter, kind or alloc return -1, w untouched");

	all_refused = 1;
	bad = t.prob; bad.n_rows = -1; EXPECT_REFUSED(&bad, &good);
	bad = t.prob; bad.n_cols = -1; EXPECT_REFUSED(&bad, &good);
	bad = t.prob; bad.bias = NAN; EXPECT_REFUSED(&bad, &good);
	memcpy(y_bad, t.y, 40);
	y_bad[7] = 0;
	bad = t.prob; bad.y = y_bad; EXPECT_REFUSED(&bad, &good);
	k = (int) t.row_start[40];
	col_bad = malloc(sizeof(int32_t) * k);
	val_bad = malloc(sizeof(float) * k);
	memcpy(col_bad, t.col, sizeof(int32_t) * k);
	memcpy(val_bad, t.val, sizeof(float) * k);
	col_bad[k - 1] = 10;		/* == n_cols: out of range */
	bad = t.prob; bad.col = col_bad; EXPECT_REFUSED(&bad, &good);
	val_bad[0] = NAN;
	bad = t.prob; bad.val = val_bad; EXPECT_REFUSED(&bad, &good);
	ok(all_refused, "negative sizes, NaN bias, label 0, column out of range, NaN value return -1");
	ok(solver_train(NULL, &good, w, &r) == -1 &&
	   solver_train(&t.prob, NULL, w, &r) == -1 &&
	   solver_train(&t.prob, &good, NULL, &r) == -1,
	   "NULL problem, params or w return -1");
	free(col_bad);
	free(val_bad);
#undef EXPECT_REFUSED

	/* no rows: w = 0, converged, for every kind */
	{
		static const SolverKind kinds[] = {SOLVER_LOGREG, SOLVER_SVM, SOLVER_PA};
		int			fine = 1;

		for (k = 0; k < 3; k++)
		{
			p = default_params(kinds[k], &arena, NULL);
			bad = t.prob;
			bad.n_rows = 0;
			for (i = 0; i < 11; i++)
				w[i] = 42.0;
			if (solver_train(&bad, &p, w, &r) != 0 || !r.converged ||
				r.objective != 0.0)
				fine = 0;
			for (i = 0; i < 11; i++)
				if (w[i] != 0.0)
					fine = 0;
		}
		ok(fine, "n_rows = 0 gives w = 0, converged, objective 0");
	}

	/* a single class: finite w that predicts that class everywhere */
	{
		static const SolverKind kinds[] = {SOLVER_LOGREG, SOLVER_SVM, SOLVER_PA};
		int8_t		y_pos[40];
		int			fine = 1;

		memset(y_pos, 1, sizeof(y_pos));
		bad = t.prob;
		bad.y = y_pos;
		for (k = 0; k < 3; k++)
		{
			p = default_params(kinds[k], &arena, NULL);
			if (solver_train(&bad, &p, w, &r) != 0 || !r.converged ||
				!isfinite(r.objective))
				fine = 0;
			for (i = 0; i < 11; i++)
				if (!isfinite(w[i]))
					fine = 0;
			if (count_errors(&bad, w) != 0)
				fine = 0;
		}
		ok(fine, "one class only: converged, finite w, predicts that class");
	}

	/* result may be NULL */
	ok(solver_train(&t.prob, &good, w, NULL) == 0, "result may be NULL");

	arena_reset(&arena);
	testset_free(&t);
}

/* (f) Platt scaling */
static void
test_platt(void)
{
	enum {N = 200};
	double		margin[N],
				A,
				B,
				prev = -1.0;
	int8_t		y[N];
	uint64_t	s = 5;
	int			monotone = 1,
				finite,
				i;

	/* overlapping classes around +-1 */
	for (i = 0; i < N; i++)
	{
		y[i] = (i % 2) ? 1 : -1;
		margin[i] = y[i] * 1.0 + (rng_unit(&s) - 0.5) * 3.0;
	}
	solver_platt(N, margin, y, &A, &B);
	for (i = -50; i <= 50; i++)
	{
		double		pr = 1.0 / (1.0 + exp(A * (i / 10.0) + B));

		if (!(pr >= prev))
			monotone = 0;
		prev = pr;
	}
	ok(A < 0 && isfinite(B) && monotone,
	   "platt: A < 0 and probability increases with the margin");

	/*
	 * Perfectly separated, with margins of +-1e6 mixed in.  The fit is then
	 * dominated by the extreme rows (the prior-corrected targets make the
	 * optimum finite), so only require finiteness and the right ordering.
	 */
	for (i = 0; i < N; i++)
		margin[i] = y[i] * ((i % 3) == 0 ? 1e6 : 2.0 + i);
	solver_platt(N, margin, y, &A, &B);
	finite = isfinite(A) && isfinite(B) && A < 0;
	prev = -1.0;
	for (i = -1; i <= 1; i++)
	{
		double		u = A * (i * 1e6) + B;
		/* the stable form of 1 / (1 + exp(u)) */
		double		pr = u >= 0 ? exp(-u) / (1.0 + exp(-u)) : 1.0 / (1.0 + exp(u));

		if (!isfinite(pr) || !(pr > prev))
			finite = 0;
		prev = pr;
	}
	ok(finite && prev > 0.5,
	   "platt: margins of +-1e6 give finite A < 0, B and ordered probabilities");

	/* nothing but extreme margins */
	for (i = 0; i < N; i++)
		margin[i] = y[i] * 1e6;
	solver_platt(N, margin, y, &A, &B);
	ok(isfinite(A) && isfinite(B) && A < 0 && A * 1e6 + B < 0 && -A * 1e6 + B > 0,
	   "platt: only margins of +-1e6: finite A, B on the right sides");

	/* degenerate inputs */
	solver_platt(0, margin, y, &A, &B);
	ok(A == 0.0 && B == 0.0, "platt: no margins gives A = B = 0");
	for (i = 0; i < N; i++)
		y[i] = 1;
	solver_platt(N, margin, y, &A, &B);
	ok(isfinite(A) && isfinite(B), "platt: a single class gives finite A, B");
}

/* (g) the interrupt hook is called, and a longjmp out of it is safe */
static void
test_interrupts(void)
{
	static const SolverKind kinds[] = {SOLVER_LOGREG, SOLVER_SVM, SOLVER_PA};
	TestSet		t;
	int			n_cols = 5000;
	double	   *w = malloc(sizeof(double) * (n_cols + 1));
	int			k;

	testset_random(&t, 20000, n_cols, 10, 0, 6);
	for (k = 0; k < 3; k++)
	{
		Arena		arena;
		Interrupts	it;
		SolverParams p;
		SolverResult r;
		char		desc[160];
		int			rc;
		volatile int jumped = 0;

		arena_init(&arena);
		memset(&it, 0, sizeof(it));
		p = default_params(kinds[k], &arena, &it);
		rc = solver_train(&t.prob, &p, w, &r);
		/*
		 * At least once per outer iteration; logreg and pa visit every row
		 * at least once per iteration, so also once per 4096 of those (the
		 * SVM's shrinking makes its row count unknown here).
		 */
		snprintf(desc, sizeof(desc),
				 "%s: check_interrupts called %ld times in %d iterations",
				 kind_name(kinds[k]), it.calls, r.iterations);
		ok(rc == 0 && r.iterations > 1 && it.calls >= r.iterations &&
		   (kinds[k] == SOLVER_SVM ||
			it.calls >= (long) r.iterations * t.prob.n_rows / 4096), desc);

		/* an ERROR thrown from the hook midway: nothing but the arena leaks */
		memset(&it, 0, sizeof(it));
		it.fire_at = 3;
		if (setjmp(it.env) == 0)
			solver_train(&t.prob, &p, w, &r);
		else
			jumped = 1;
		snprintf(desc, sizeof(desc),
				 "%s: longjmp out of check_interrupts leaves %ld blocks to the context reset",
				 kind_name(kinds[k]), arena.live);
		ok(jumped && arena.live > 0, desc);
		arena_reset(&arena);
	}
	testset_free(&t);
	free(w);
}

int
main(void)
{
	test_separable();
	test_determinism();
	test_optimality();
	test_liblinear_reference();
	test_validation();
	test_platt();
	test_interrupts();

	return tap_finish();
}
