/*-------------------------------------------------------------------------
 *
 * evaluate.c
 *	  The evaluate(probability, label) aggregate: classification metrics of
 *	  any query's probabilities against labels, as jsonb.
 *
 * Accuracy, precision, recall, F1 and the confusion matrix threshold the
 * probability at 0.5.  ROC AUC needs the ranking of all rows, so the state
 * keeps every (probability, label) pair -- 9 bytes a row, bounded by
 * pglearn.max_train_memory like the training set.  Rows with a NULL
 * probability or a NULL/0 label are skipped.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "jsonbuild.h"
#include "pglearn.h"

PG_FUNCTION_INFO_V1(pglearn_evaluate_transfn);
PG_FUNCTION_INFO_V1(pglearn_evaluate_combinefn);
PG_FUNCTION_INFO_V1(pglearn_evaluate_serialfn);
PG_FUNCTION_INFO_V1(pglearn_evaluate_deserialfn);
PG_FUNCTION_INFO_V1(pglearn_evaluate_finalfn);

/* probabilities are clipped to [EPS, 1-EPS] for log loss, as scikit-learn */
#define LOG_LOSS_EPSILON 1e-15

typedef struct EvaluateState
{
	int64		n;
	int64		capacity;
	float8	   *probability;
	int8	   *label;
} EvaluateState;

static EvaluateState *
evaluate_state_create(MemoryContext context, int64 capacity)
{
	EvaluateState *state = MemoryContextAllocZero(context, sizeof(EvaluateState));

	state->capacity = Max(capacity, 64);
	state->probability = MemoryContextAllocExtended(context, sizeof(float8) * state->capacity,
													MCXT_ALLOC_HUGE);
	state->label = MemoryContextAllocExtended(context, sizeof(int8) * state->capacity,
											  MCXT_ALLOC_HUGE);
	return state;
}

static void
evaluate_state_reserve(EvaluateState *state, int64 more)
{
	int64		capacity = state->capacity;

	if (state->n + more <= capacity)
		return;
	while (capacity < state->n + more)
		capacity *= 2;
	if ((Size) capacity * (sizeof(float8) + sizeof(int8)) > (Size) pglearn_max_train_memory * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("evaluate() input exceeds pglearn.max_train_memory"),
				 errdetail("%lld rows need more than %d kB.", (long long) (state->n + more),
						   pglearn_max_train_memory),
				 errhint("Raise pglearn.max_train_memory or evaluate a sample.")));
	state->probability = repalloc_huge(state->probability, sizeof(float8) * capacity);
	state->label = repalloc_huge(state->label, sizeof(int8) * capacity);
	state->capacity = capacity;
}

Datum
pglearn_evaluate_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	EvaluateState *state;
	float8		probability;
	int32		label;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "evaluate_transfn called in non-aggregate context");

	state = PG_ARGISNULL(0) ? NULL : (EvaluateState *) PG_GETARG_POINTER(0);
	if (state == NULL)
		state = evaluate_state_create(aggcontext, 0);

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(state);
	probability = PG_GETARG_FLOAT8(1);
	label = PG_GETARG_INT32(2);
	if (label == 0)
		PG_RETURN_POINTER(state);
	if (label != 1 && label != -1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid label %d", label),
				 errdetail("Labels are 1 (positive), -1 (negative), or 0 or NULL (skipped).")));
	if (isnan(probability) || probability < 0.0 || probability > 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("probability %g is not between 0 and 1", probability),
				 errhint("Pass classify() results; for margins from score() use a sigmoid.")));

	evaluate_state_reserve(state, 1);
	state->probability[state->n] = probability;
	state->label[state->n] = (int8) label;
	state->n++;
	PG_RETURN_POINTER(state);
}

Datum
pglearn_evaluate_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	EvaluateState *state1 = PG_ARGISNULL(0) ? NULL : (EvaluateState *) PG_GETARG_POINTER(0);
	EvaluateState *state2 = PG_ARGISNULL(1) ? NULL : (EvaluateState *) PG_GETARG_POINTER(1);

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "evaluate_combinefn called in non-aggregate context");
	if (state2 == NULL)
		PG_RETURN_POINTER(state1);
	if (state1 == NULL)
		state1 = evaluate_state_create(aggcontext, state2->n);
	evaluate_state_reserve(state1, state2->n);
	memcpy(state1->probability + state1->n, state2->probability, sizeof(float8) * state2->n);
	memcpy(state1->label + state1->n, state2->label, sizeof(int8) * state2->n);
	state1->n += state2->n;
	PG_RETURN_POINTER(state1);
}

/* Serialised: int64 n, n float8 probabilities, n int8 labels (native order). */
Datum
pglearn_evaluate_serialfn(PG_FUNCTION_ARGS)
{
	EvaluateState *state = (EvaluateState *) PG_GETARG_POINTER(0);
	Size		size = VARHDRSZ + sizeof(int64) + state->n * (sizeof(float8) + sizeof(int8));
	bytea	   *result;
	char	   *p;

	if (!AllocSizeIsValid(size))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("evaluate() state too large to pass between parallel workers"),
				 errhint("Disable parallel query for this statement with SET max_parallel_workers_per_gather = 0.")));
	result = palloc(size);
	SET_VARSIZE(result, size);
	p = VARDATA(result);
	memcpy(p, &state->n, sizeof(int64));
	p += sizeof(int64);
	memcpy(p, state->probability, sizeof(float8) * state->n);
	p += sizeof(float8) * state->n;
	memcpy(p, state->label, sizeof(int8) * state->n);
	PG_RETURN_BYTEA_P(result);
}

Datum
pglearn_evaluate_deserialfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	bytea	   *serial = PG_GETARG_BYTEA_PP(0);
	const char *p = VARDATA_ANY(serial);
	Size		len = VARSIZE_ANY_EXHDR(serial);
	EvaluateState *state;
	int64		n;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "evaluate_deserialfn called in non-aggregate context");
	if (len < sizeof(int64))
		elog(ERROR, "corrupt serialised evaluate state");
	memcpy(&n, p, sizeof(int64));
	p += sizeof(int64);
	if (n < 0 || len != sizeof(int64) + n * (sizeof(float8) + sizeof(int8)))
		elog(ERROR, "corrupt serialised evaluate state");
	state = evaluate_state_create(aggcontext, n);
	memcpy(state->probability, p, sizeof(float8) * n);
	p += sizeof(float8) * n;
	memcpy(state->label, p, sizeof(int8) * n);
	state->n = n;
	PG_RETURN_POINTER(state);
}

typedef struct ScoredLabel
{
	float8		probability;
	int8		label;
} ScoredLabel;

static int
scored_label_cmp(const void *a, const void *b)
{
	const ScoredLabel *sa = a;
	const ScoredLabel *sb = b;

	if (sa->probability != sb->probability)
		return sa->probability < sb->probability ? -1 : 1;
	return (sa->label > sb->label) - (sa->label < sb->label);
}

/*
 * The rows sorted by (probability, label).  Every metric is computed over
 * this order, so the floating-point sums do not depend on the order rows
 * arrived in: serial and parallel plans give identical results.
 */
static ScoredLabel *
evaluate_sorted_rows(const EvaluateState *state)
{
	ScoredLabel *rows = palloc_extended(sizeof(ScoredLabel) * state->n, MCXT_ALLOC_HUGE);
	int64		i;

	for (i = 0; i < state->n; i++)
	{
		rows[i].probability = state->probability[i];
		rows[i].label = state->label[i];
	}
	qsort(rows, state->n, sizeof(ScoredLabel), scored_label_cmp);
	return rows;
}

/*
 * ROC AUC as the Mann-Whitney statistic: the probability that a random
 * positive scores above a random negative, ties counting one half (mid
 * ranks).  NaN when only one class is present.
 */
static double
evaluate_roc_auc(const ScoredLabel *rows, int64 n, int64 n_pos, int64 n_neg)
{
	double		rank_sum = 0.0;
	int64		i,
				j;

	if (n_pos == 0 || n_neg == 0)
		return NAN;
	for (i = 0; i < n; i = j)
	{
		int64		positives = 0;
		double		mid_rank;

		CHECK_FOR_INTERRUPTS();
		for (j = i; j < n && rows[j].probability == rows[i].probability; j++)
			if (rows[j].label > 0)
				positives++;
		/* ranks i+1 .. j share the mid rank */
		mid_rank = (double) (i + 1 + j) / 2.0;
		rank_sum += mid_rank * positives;
	}
	return (rank_sum - (double) n_pos * (n_pos + 1) / 2.0) / ((double) n_pos * n_neg);
}

/*
 * Final: {"n", "accuracy", "precision", "recall", "f1", "roc_auc",
 * "log_loss", "confusion": {"tp", "fp", "tn", "fn"}}.  A metric whose
 * denominator is zero (precision with no positive predictions, AUC with
 * one class) is null, not 0, so it cannot be mistaken for a real score.
 * No rows at all gives NULL, like other aggregates over no input.
 */
Datum
pglearn_evaluate_finalfn(PG_FUNCTION_ARGS)
{
	EvaluateState *state = PG_ARGISNULL(0) ? NULL : (EvaluateState *) PG_GETARG_POINTER(0);
	int64		tp = 0,
				fp = 0,
				tn = 0,
				fn = 0;
	double		log_loss = 0.0;
	ScoredLabel *rows;
	double		precision,
				recall,
				f1;
	JsonBuild	metrics;
	int64		i;

	if (state == NULL || state->n == 0)
		PG_RETURN_NULL();

	rows = evaluate_sorted_rows(state);
	for (i = 0; i < state->n; i++)
	{
		double		p = rows[i].probability;
		double		clipped = Min(Max(p, LOG_LOSS_EPSILON), 1.0 - LOG_LOSS_EPSILON);
		bool		predicted_positive = p >= 0.5;

		if (rows[i].label > 0)
		{
			log_loss -= log(clipped);
			if (predicted_positive)
				tp++;
			else
				fn++;
		}
		else
		{
			log_loss -= log(1.0 - clipped);
			if (predicted_positive)
				fp++;
			else
				tn++;
		}
	}

	precision = (tp + fp) > 0 ? (double) tp / (tp + fp) : NAN;
	recall = (tp + fn) > 0 ? (double) tp / (tp + fn) : NAN;
	/* 2PR/(P+R) written so that it is 0, not undefined, when tp = 0 */
	f1 = (tp + fp + fn) > 0 ? 2.0 * tp / (2.0 * tp + fp + fn) : NAN;

	json_build_begin(&metrics);
	json_build_int64(&metrics, "n", state->n);
	json_build_float8(&metrics, "accuracy", (double) (tp + tn) / state->n);
	json_build_float8(&metrics, "precision", precision);
	json_build_float8(&metrics, "recall", recall);
	json_build_float8(&metrics, "f1", f1);
	json_build_float8(&metrics, "roc_auc", evaluate_roc_auc(rows, state->n, tp + fn, tn + fp));
	json_build_float8(&metrics, "log_loss", log_loss / state->n);
	json_build_begin_object(&metrics, "confusion");
	json_build_int64(&metrics, "tp", tp);
	json_build_int64(&metrics, "fp", fp);
	json_build_int64(&metrics, "tn", tn);
	json_build_int64(&metrics, "fn", fn);
	json_build_end_object(&metrics);
	PG_RETURN_JSONB_P(json_build_finish(&metrics));
}
