/*-------------------------------------------------------------------------
 *
 * train.c
 *	  The train(fvec, label [, params]) aggregate: collecting labelled rows,
 *	  combining and (de)serialising partial states for parallel query,
 *	  parsing training parameters, and turning the solver's weights into a
 *	  model.
 *
 * The model records the feature settings its vectors were made with
 * (params "hash_bits" and "binary"; the other from feature_settings.h's
 * defaults when only one is given), so that it can later be scored by name
 * on an article's text: model format 2.  train() cannot tell how an fvec
 * was made, so the caller says so (fit() always does).  Told nothing, it
 * writes format 1, the model that records no settings: one that claimed
 * the defaults without knowing would be the silent mismatch format 2
 * exists to prevent -- 0.2's fit(), still running on this library until
 * ALTER EXTENSION UPDATE, computes features with its params' settings and
 * strips them from train()'s, and the update converts what it wrote with
 * those params (pglearn--0.2--0.3.sql).
 *
 * The optimisation itself is solver.c's.  Training needs every labelled row
 * at once (the solvers make many passes), so the state is the training set
 * in compressed sparse row form, bounded by pglearn.max_train_memory.
 *
 * Determinism: parallel workers deliver rows in an order that depends on
 * timing, and the solvers' results depend (in the last bits, or more for
 * the online solver) on row order.  The final function therefore puts the
 * rows into a canonical order -- by a hash of their content -- before
 * solving, so a serial and a parallel plan over the same rows give the
 * identical model.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "feature_settings.h"
#include "fvec.h"
#include "model.h"
#include "pglearn.h"
#include "solver.h"

PG_FUNCTION_INFO_V1(pglearn_train_transfn);
PG_FUNCTION_INFO_V1(pglearn_train_combinefn);
PG_FUNCTION_INFO_V1(pglearn_train_serialfn);
PG_FUNCTION_INFO_V1(pglearn_train_deserialfn);
PG_FUNCTION_INFO_V1(pglearn_train_finalfn);

/* The training set collected so far, allocated in the aggregate context. */
typedef struct TrainState
{
	int64		n_rows;
	int64		nnz;
	int64		rows_capacity;
	int64		nnz_capacity;
	int64	   *row_start;		/* n_rows + 1 offsets into indexes/values */
	int32	   *indexes;
	float4	   *values;
	int8	   *labels;			/* +1 or -1 */
	Jsonb	   *params;			/* the params argument, or NULL */
} TrainState;

/* Parsed training parameters. */
typedef struct TrainParams
{
	SolverKind	solver;
	double		C;
	double		epsilon;
	int			max_iter;
	bool		balanced;		/* class_weight = "balanced" */
	double		weight_pos;
	double		weight_neg;
	double		bias;
	uint64		seed;
	/* not the solver's: recorded in the model */
	bool		settings_given; /* hash_bits or binary was given */
	int			hash_bits;
	bool		binary;
} TrainParams;

#define TRAIN_PARAM_KEYS "solver, C, epsilon, max_iter, epochs, class_weight, bias, seed, hash_bits, binary"

static Size
train_state_bytes(int64 rows_capacity, int64 nnz_capacity)
{
	return (Size) (rows_capacity + 1) * sizeof(int64) +
		(Size) rows_capacity * sizeof(int8) +
		(Size) nnz_capacity * (sizeof(int32) + sizeof(float4));
}

static void
train_check_memory(Size bytes, const char *what)
{
	Size		limit = (Size) pglearn_max_train_memory * 1024;

	if (bytes > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("training set exceeds pglearn.max_train_memory"),
				 errdetail("%s needs %zu kB; the limit is %d kB.",
						   what, (bytes + 1023) / 1024, pglearn_max_train_memory),
				 errhint("Raise pglearn.max_train_memory, train on a sample, or use fewer features.")));
}

static TrainState *
train_state_create(MemoryContext context)
{
	TrainState *state = MemoryContextAllocZero(context, sizeof(TrainState));

	state->rows_capacity = 64;
	state->nnz_capacity = 1024;
	state->row_start = MemoryContextAlloc(context, sizeof(int64) * (state->rows_capacity + 1));
	state->labels = MemoryContextAlloc(context, sizeof(int8) * state->rows_capacity);
	state->indexes = MemoryContextAlloc(context, sizeof(int32) * state->nnz_capacity);
	state->values = MemoryContextAlloc(context, sizeof(float4) * state->nnz_capacity);
	state->row_start[0] = 0;
	return state;
}

/*
 * Make room for 'rows' more rows and 'nnz' more entries, doubling so that
 * appends are amortised O(1).  repalloc keeps the arrays in the context
 * they were allocated in, the aggregate context.
 */
static void
train_state_reserve(TrainState *state, int64 rows, int64 nnz)
{
	int64		need_rows = state->n_rows + rows;
	int64		need_nnz = state->nnz + nnz;
	int64		new_rows = state->rows_capacity;
	int64		new_nnz = state->nnz_capacity;

	if (need_rows <= new_rows && need_nnz <= new_nnz)
		return;
	if (need_rows > PG_INT32_MAX - 1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("training set has too many rows"),
				 errdetail("The maximum is %d rows.", PG_INT32_MAX - 1)));
	while (new_rows < need_rows)
		new_rows *= 2;
	while (new_nnz < need_nnz)
		new_nnz *= 2;

	/* a doubling that would cross the limit shrinks to what is needed */
	if (train_state_bytes(new_rows, new_nnz) > (Size) pglearn_max_train_memory * 1024)
	{
		new_rows = Max(need_rows, state->rows_capacity);
		new_nnz = Max(need_nnz, state->nnz_capacity);
	}
	train_check_memory(train_state_bytes(new_rows, new_nnz), "The training set");

	if (new_rows != state->rows_capacity)
	{
		state->row_start = repalloc_huge(state->row_start, sizeof(int64) * (new_rows + 1));
		state->labels = repalloc_huge(state->labels, sizeof(int8) * new_rows);
		state->rows_capacity = new_rows;
	}
	if (new_nnz != state->nnz_capacity)
	{
		state->indexes = repalloc_huge(state->indexes, sizeof(int32) * new_nnz);
		state->values = repalloc_huge(state->values, sizeof(float4) * new_nnz);
		state->nnz_capacity = new_nnz;
	}
}

static void
train_state_set_params(TrainState *state, Jsonb *params, MemoryContext context)
{
	if (params == NULL)
		return;
	if (state->params == NULL)
	{
		state->params = MemoryContextAlloc(context, VARSIZE(params));
		memcpy(state->params, params, VARSIZE(params));
	}
	else if (VARSIZE(state->params) != VARSIZE(params) ||
			 memcmp(state->params, params, VARSIZE(params)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("train() parameters must be the same for every row"),
				 errhint("Pass a constant jsonb as the third argument.")));
}

Datum
pglearn_train_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	TrainState *state;
	FVec	   *v;
	int32		label;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "train_transfn called in non-aggregate context");

	state = PG_ARGISNULL(0) ? NULL : (TrainState *) PG_GETARG_POINTER(0);
	if (state == NULL)
		state = train_state_create(aggcontext);

	if (PG_NARGS() > 3 && !PG_ARGISNULL(3))
		train_state_set_params(state, PG_GETARG_JSONB_P(3), aggcontext);

	/* unlabelled rows (NULL or 0) and rows without features are skipped */
	if (PG_ARGISNULL(2) || PG_ARGISNULL(1))
		PG_RETURN_POINTER(state);
	label = PG_GETARG_INT32(2);
	if (label == 0)
		PG_RETURN_POINTER(state);
	if (label != 1 && label != -1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid label %d", label),
				 errdetail("Labels are 1 (positive), -1 (negative), or 0 or NULL (unlabelled).")));

	v = PG_GETARG_FVEC_P(1);
	train_state_reserve(state, 1, v->nnz);
	memcpy(state->indexes + state->nnz, v->indexes, sizeof(int32) * v->nnz);
	memcpy(state->values + state->nnz, FVEC_VALUES(v), sizeof(float4) * v->nnz);
	state->nnz += v->nnz;
	state->labels[state->n_rows] = (int8) label;
	state->n_rows++;
	state->row_start[state->n_rows] = state->nnz;

	PG_RETURN_POINTER(state);
}

/* Append src's rows to dst (which lives in 'context'). */
static void
train_state_append(TrainState *dst, const TrainState *src, MemoryContext context)
{
	int64		i;

	train_state_set_params(dst, src->params, context);
	train_state_reserve(dst, src->n_rows, src->nnz);
	memcpy(dst->indexes + dst->nnz, src->indexes, sizeof(int32) * src->nnz);
	memcpy(dst->values + dst->nnz, src->values, sizeof(float4) * src->nnz);
	memcpy(dst->labels + dst->n_rows, src->labels, sizeof(int8) * src->n_rows);
	for (i = 1; i <= src->n_rows; i++)
		dst->row_start[dst->n_rows + i] = dst->nnz + src->row_start[i];
	dst->n_rows += src->n_rows;
	dst->nnz += src->nnz;
}

Datum
pglearn_train_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	TrainState *state1 = PG_ARGISNULL(0) ? NULL : (TrainState *) PG_GETARG_POINTER(0);
	TrainState *state2 = PG_ARGISNULL(1) ? NULL : (TrainState *) PG_GETARG_POINTER(1);

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "train_combinefn called in non-aggregate context");

	if (state2 == NULL)
		PG_RETURN_POINTER(state1);
	if (state1 == NULL)
		state1 = train_state_create(aggcontext);
	train_state_append(state1, state2, aggcontext);
	PG_RETURN_POINTER(state1);
}

/*
 * Serialised state: int64 n_rows, int64 nnz, int32 params length, then the
 * labels, row offsets, indexes, values and params, in native byte order
 * (serialised states only travel between processes of one server).
 */
typedef struct TrainStateHeader
{
	int64		n_rows;
	int64		nnz;
	int32		params_len;
} TrainStateHeader;

Datum
pglearn_train_serialfn(PG_FUNCTION_ARGS)
{
	TrainState *state = (TrainState *) PG_GETARG_POINTER(0);
	TrainStateHeader header;
	Size		size;
	bytea	   *result;
	char	   *p;

	header.n_rows = state->n_rows;
	header.nnz = state->nnz;
	header.params_len = state->params ? VARSIZE(state->params) : 0;
	size = VARHDRSZ + sizeof(header) + state->n_rows * sizeof(int8) +
		(state->n_rows + 1) * sizeof(int64) +
		state->nnz * (sizeof(int32) + sizeof(float4)) + header.params_len;
	if (!AllocSizeIsValid(size))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("training set too large to pass between parallel workers"),
				 errhint("Disable parallel query for this statement with SET max_parallel_workers_per_gather = 0.")));

	result = palloc(size);
	SET_VARSIZE(result, size);
	p = VARDATA(result);
#define SERIAL_PUT(src, len) (memcpy(p, (src), (len)), p += (len))
	SERIAL_PUT(&header, sizeof(header));
	SERIAL_PUT(state->labels, state->n_rows * sizeof(int8));
	SERIAL_PUT(state->row_start, (state->n_rows + 1) * sizeof(int64));
	SERIAL_PUT(state->indexes, state->nnz * sizeof(int32));
	SERIAL_PUT(state->values, state->nnz * sizeof(float4));
	if (state->params)
		SERIAL_PUT(state->params, header.params_len);
#undef SERIAL_PUT
	Assert(p == (char *) result + size);
	PG_RETURN_BYTEA_P(result);
}

Datum
pglearn_train_deserialfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	bytea	   *serial = PG_GETARG_BYTEA_PP(0);
	const char *p = VARDATA_ANY(serial);
	Size		len = VARSIZE_ANY_EXHDR(serial);
	TrainStateHeader header;
	TrainState *state;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "train_deserialfn called in non-aggregate context");
	if (len < sizeof(header))
		elog(ERROR, "corrupt serialised train state");
	memcpy(&header, p, sizeof(header));
	p += sizeof(header);
	if (header.n_rows < 0 || header.nnz < 0 || header.params_len < 0 ||
		len != sizeof(header) + header.n_rows * sizeof(int8) +
		(header.n_rows + 1) * sizeof(int64) +
		header.nnz * (sizeof(int32) + sizeof(float4)) + header.params_len)
		elog(ERROR, "corrupt serialised train state");

	state = train_state_create(aggcontext);
	train_state_reserve(state, header.n_rows, header.nnz);
#define SERIAL_GET(dst, len) (memcpy((dst), p, (len)), p += (len))
	SERIAL_GET(state->labels, header.n_rows * sizeof(int8));
	SERIAL_GET(state->row_start, (header.n_rows + 1) * sizeof(int64));
	SERIAL_GET(state->indexes, header.nnz * sizeof(int32));
	SERIAL_GET(state->values, header.nnz * sizeof(float4));
	if (header.params_len > 0)
	{
		state->params = MemoryContextAlloc(aggcontext, header.params_len);
		SERIAL_GET(state->params, header.params_len);
	}
#undef SERIAL_GET
	state->n_rows = header.n_rows;
	state->nnz = header.nnz;
	PG_RETURN_POINTER(state);
}

/*
 * Parameters
 */

static void
train_param_error(const char *key, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid train parameter \"%s\": %s", key, what),
			 errhint("Valid parameters are: " TRAIN_PARAM_KEYS ".")));
}

static double
train_param_number(const char *key, JsonbValue *value)
{
	double		d;

	if (value->type != jbvNumeric)
		train_param_error(key, "expected a number");
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
										   NumericGetDatum(value->val.numeric)));
	if (!isfinite(d))
		train_param_error(key, "expected a finite number");
	return d;
}

static int64
train_param_integer(const char *key, JsonbValue *value, int64 min, int64 max)
{
	double		d = train_param_number(key, value);

	if (d != floor(d) || d < (double) min || d > (double) max)
		train_param_error(key, psprintf("expected an integer between " INT64_FORMAT " and " INT64_FORMAT,
										min, max));
	return (int64) d;
}

/* class_weight: "balanced", null, or {"1": w, "-1": w} */
static void
train_param_class_weight(TrainParams *params, JsonbValue *value, JsonbIterator **it)
{
	JsonbValue	v;
	JsonbIteratorToken token;

	if (value->type == jbvNull)
		return;
	if (value->type == jbvString)
	{
		if (value->val.string.len == 8 &&
			strncmp(value->val.string.val, "balanced", 8) == 0)
		{
			params->balanced = true;
			return;
		}
		train_param_error("class_weight", "expected \"balanced\" or an object like {\"1\": 2, \"-1\": 1}");
	}
	if (value->type != jbvBinary)
		train_param_error("class_weight", "expected \"balanced\" or an object like {\"1\": 2, \"-1\": 1}");

	/* an object: walk it with its own iterator */
	*it = JsonbIteratorInit(value->val.binary.data);
	token = JsonbIteratorNext(it, &v, true);
	if (token != WJB_BEGIN_OBJECT)
		train_param_error("class_weight", "expected \"balanced\" or an object like {\"1\": 2, \"-1\": 1}");
	while ((token = JsonbIteratorNext(it, &v, true)) == WJB_KEY)
	{
		char	   *label = pnstrdup(v.val.string.val, v.val.string.len);
		double		w;

		token = JsonbIteratorNext(it, &v, true);
		w = train_param_number("class_weight", &v);
		if (!(w > 0))
			train_param_error("class_weight", "weights must be positive");
		if (strcmp(label, "1") == 0 || strcmp(label, "+1") == 0)
			params->weight_pos = w;
		else if (strcmp(label, "-1") == 0)
			params->weight_neg = w;
		else
			train_param_error("class_weight", psprintf("unknown class \"%s\"; classes are \"1\" and \"-1\"", label));
	}
}

static void
train_parse_params(Jsonb *jsonb, TrainParams *params)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken token;
	bool		have_epsilon = false;
	bool		have_max_iter = false;
	int			epochs = -1;

	params->solver = SOLVER_LOGREG;
	params->C = 1.0;
	params->epsilon = 0.01;
	params->max_iter = 1000;
	params->balanced = false;
	params->weight_pos = 1.0;
	params->weight_neg = 1.0;
	params->bias = 1.0;
	params->seed = 1;
	params->settings_given = false;
	params->hash_bits = FEATURES_DEFAULT_HASH_BITS;
	params->binary = FEATURES_DEFAULT_BINARY;

	if (jsonb != NULL)
	{
		if (!JB_ROOT_IS_OBJECT(jsonb))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("train() parameters must be a jsonb object"),
					 errhint("For example '{\"solver\": \"svm\", \"C\": 0.5}'.")));

		it = JsonbIteratorInit(&jsonb->root);
		while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			char	   *key;

			if (token != WJB_KEY)
				continue;
			key = pnstrdup(v.val.string.val, v.val.string.len);
			token = JsonbIteratorNext(&it, &v, true);
			Assert(token == WJB_VALUE);

			if (strcmp(key, "solver") == 0)
			{
				char	   *name;

				if (v.type != jbvString)
					train_param_error(key, "expected \"logreg\", \"svm\" or \"pa\"");
				name = pnstrdup(v.val.string.val, v.val.string.len);
				if (strcmp(name, "logreg") == 0)
					params->solver = SOLVER_LOGREG;
				else if (strcmp(name, "svm") == 0)
					params->solver = SOLVER_SVM;
				else if (strcmp(name, "pa") == 0)
					params->solver = SOLVER_PA;
				else
					train_param_error(key, psprintf("unknown solver \"%s\"; expected \"logreg\", \"svm\" or \"pa\"", name));
			}
			else if (strcmp(key, "C") == 0)
			{
				if (v.type == jbvBinary)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("invalid train parameter \"C\": expected a number"),
							 errhint("To search a grid of C values, use pglearn.fit() or pglearn.cross_validate().")));
				params->C = train_param_number(key, &v);
				if (!(params->C > 0))
					train_param_error(key, "must be positive");
			}
			else if (strcmp(key, "epsilon") == 0)
			{
				params->epsilon = train_param_number(key, &v);
				if (!(params->epsilon > 0))
					train_param_error(key, "must be positive");
				have_epsilon = true;
			}
			else if (strcmp(key, "max_iter") == 0)
			{
				params->max_iter = (int) train_param_integer(key, &v, 1, 1000000);
				have_max_iter = true;
			}
			else if (strcmp(key, "epochs") == 0)
				epochs = (int) train_param_integer(key, &v, 1, 1000000);
			else if (strcmp(key, "class_weight") == 0)
			{
				JsonbIterator *inner = NULL;

				train_param_class_weight(params, &v, &inner);
			}
			else if (strcmp(key, "bias") == 0)
			{
				params->bias = train_param_number(key, &v);
				if (params->bias < 0)
					train_param_error(key, "must be zero (no bias) or positive");
			}
			else if (strcmp(key, "seed") == 0)
				params->seed = (uint64) train_param_integer(key, &v, 0, PG_INT64_MAX);
			else if (strcmp(key, "hash_bits") == 0)
			{
				params->hash_bits = (int) train_param_integer(key, &v, FEATURES_MIN_HASH_BITS,
															  FEATURES_MAX_HASH_BITS);
				params->settings_given = true;
			}
			else if (strcmp(key, "binary") == 0)
			{
				if (v.type != jbvBool)
					train_param_error(key, "expected true or false");
				params->binary = v.val.boolean;
				params->settings_given = true;
			}
			else
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unknown train parameter \"%s\"", key),
						 errhint("Valid parameters are: " TRAIN_PARAM_KEYS ".")));
		}
	}

	/* solver-specific defaults, as LIBLINEAR's */
	if (params->solver == SOLVER_SVM && !have_epsilon)
		params->epsilon = 0.1;
	if (params->solver == SOLVER_PA)
	{
		if (have_max_iter)
			train_param_error("max_iter", "the pa solver takes \"epochs\" instead");
		params->max_iter = epochs > 0 ? epochs : 10;
	}
	else if (epochs > 0)
		train_param_error("epochs", "applies only to the pa solver; use max_iter");
}

/*
 * Final function: canonical row order, compact columns, solve, build model.
 */

typedef struct RowOrderContext
{
	const TrainState *state;
	const uint64 *hashes;
} RowOrderContext;

static int
train_row_cmp(const void *a, const void *b, void *arg)
{
	const RowOrderContext *ctx = arg;
	const TrainState *s = ctx->state;
	int32		ra = *(const int32 *) a;
	int32		rb = *(const int32 *) b;
	int64		na = s->row_start[ra + 1] - s->row_start[ra];
	int64		nb = s->row_start[rb + 1] - s->row_start[rb];
	int			c;

	if (ctx->hashes[ra] != ctx->hashes[rb])
		return ctx->hashes[ra] < ctx->hashes[rb] ? -1 : 1;
	if (s->labels[ra] != s->labels[rb])
		return s->labels[ra] < s->labels[rb] ? -1 : 1;
	if (na != nb)
		return na < nb ? -1 : 1;
	c = memcmp(s->indexes + s->row_start[ra], s->indexes + s->row_start[rb], na * sizeof(int32));
	if (c != 0)
		return c;
	/* identical content: order is irrelevant to the result */
	return memcmp(s->values + s->row_start[ra], s->values + s->row_start[rb], na * sizeof(float4));
}

static int
train_int32_cmp(const void *a, const void *b)
{
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	return (x > y) - (x < y);
}

/* The compact column of a feature index present in the sorted index_of. */
static int32
train_column_search(const int32 *index_of, int32 n_cols, int32 index)
{
	int32		lo = 0,
				hi = n_cols - 1;

	while (lo < hi)
	{
		int32		mid = lo + (hi - lo) / 2;

		if (index_of[mid] < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	Assert(index_of[lo] == index);
	return lo;
}

static void *
train_solver_alloc(size_t size, void *arg)
{
	return MemoryContextAllocExtended((MemoryContext) arg, size, MCXT_ALLOC_HUGE);
}

static void
train_solver_free(void *ptr, void *arg)
{
	pfree(ptr);
}

static void
train_solver_interrupts(void *arg)
{
	CHECK_FOR_INTERRUPTS();
}

Datum
pglearn_train_finalfn(PG_FUNCTION_ARGS)
{
	TrainState *state = PG_ARGISNULL(0) ? NULL : (TrainState *) PG_GETARG_POINTER(0);
	TrainParams params;
	MemoryContext work_context,
				old_context;
	int32		n_rows;
	int32	   *order;
	uint64	   *hashes;
	RowOrderContext order_ctx;
	int32		max_index = -1;
	int32		n_cols = 0;
	bool		dense_map;
	int32	   *column_of;		/* feature index -> compact column, if dense */
	int32	   *index_of;		/* compact column -> feature index */
	int64	   *row_start;
	int32	   *col;
	float	   *val;
	int8	   *y;
	int64		i,
				k;
	int			n_pos = 0,
				n_neg = 0;
	SolverProblem prob;
	SolverParams sparams;
	SolverResult result;
	double	   *w;
	int			nnz;
	Model	   *m;
	float4	   *weights;

	train_parse_params(state ? state->params : NULL, &params);

	if (state == NULL || state->n_rows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot train a model without labelled rows"),
				 errdetail("train() saw no row with label 1 or -1."),
				 errhint("Label some rows 1 (interesting) or -1 (not interesting) first.")));
	n_rows = (int32) state->n_rows;

	/* scratch for the solve; freed at the end, or by the error machinery */
	work_context = AllocSetContextCreate(CurrentMemoryContext, "pglearn train",
										 ALLOCSET_DEFAULT_SIZES);
	old_context = MemoryContextSwitchTo(work_context);

	for (k = 0; k < state->nnz; k++)
		max_index = Max(max_index, state->indexes[k]);

	/* canonical row order, by content */
	order = palloc_extended(sizeof(int32) * n_rows, MCXT_ALLOC_HUGE);
	hashes = palloc_extended(sizeof(uint64) * n_rows, MCXT_ALLOC_HUGE);
	for (i = 0; i < n_rows; i++)
	{
		int64		start = state->row_start[i];
		int64		len = state->row_start[i + 1] - start;
		uint64		h = hash_bytes_extended((unsigned char *) (state->indexes + start),
											len * sizeof(int32), state->labels[i]);

		order[i] = i;
		hashes[i] = hash_bytes_extended((unsigned char *) (state->values + start),
										len * sizeof(float4), h);
		if ((i & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	order_ctx.state = state;
	order_ctx.hashes = hashes;
	qsort_arg(order, n_rows, sizeof(int32), train_row_cmp, &order_ctx);

	/*
	 * Compact columns in increasing feature index order.  Hashed features
	 * fill their index range densely, so a direct map is cheapest; vectors
	 * with a few huge indexes get a sorted list and binary search instead.
	 */
	dense_map = (Size) max_index + 1 <= (Size) state->nnz * 2 + (1 << 22);
	if (dense_map)
	{
		column_of = palloc_extended(sizeof(int32) * ((Size) max_index + 1),
									MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		for (k = 0; k < state->nnz; k++)
			column_of[state->indexes[k]] = 1;
		for (k = 0; k <= max_index; k++)
			if (column_of[k])
				n_cols++;
		index_of = palloc_extended(sizeof(int32) * ((Size) n_cols + 1), MCXT_ALLOC_HUGE);
		n_cols = 0;
		for (k = 0; k <= max_index; k++)
			if (column_of[k])
			{
				index_of[n_cols] = (int32) k;
				column_of[k] = n_cols++;
			}
	}
	else
	{
		column_of = NULL;
		index_of = palloc_extended(sizeof(int32) * Max(state->nnz, 1), MCXT_ALLOC_HUGE);
		memcpy(index_of, state->indexes, sizeof(int32) * state->nnz);
		qsort(index_of, state->nnz, sizeof(int32), train_int32_cmp);
		for (k = 0; k < state->nnz; k++)
			if (n_cols == 0 || index_of[n_cols - 1] != index_of[k])
				index_of[n_cols++] = index_of[k];
	}

	/* the problem's copy and the solver's vectors must fit too */
	train_check_memory(train_state_bytes(state->n_rows, state->nnz) * 2 +
					   (dense_map ? (Size) (max_index + 1) * sizeof(int32) : 0) +
					   (Size) n_rows * 6 * sizeof(double) +
					   ((Size) n_cols + 1) * 8 * sizeof(double),
					   "Solving");

	/* the problem in canonical order */
	row_start = palloc_extended(sizeof(int64) * ((Size) n_rows + 1), MCXT_ALLOC_HUGE);
	col = palloc_extended(sizeof(int32) * Max(state->nnz, 1), MCXT_ALLOC_HUGE);
	val = palloc_extended(sizeof(float) * Max(state->nnz, 1), MCXT_ALLOC_HUGE);
	y = palloc_extended(sizeof(int8) * n_rows, MCXT_ALLOC_HUGE);
	row_start[0] = 0;
	for (i = 0; i < n_rows; i++)
	{
		int32		r = order[i];
		int64		out = row_start[i];

		for (k = state->row_start[r]; k < state->row_start[r + 1]; k++, out++)
		{
			col[out] = dense_map ? column_of[state->indexes[k]] :
				train_column_search(index_of, n_cols, state->indexes[k]);
			val[out] = state->values[k];
		}
		row_start[i + 1] = out;
		y[i] = state->labels[r];
		if (y[i] > 0)
			n_pos++;
		else
			n_neg++;
		if ((i & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
	}

	/* "balanced" weighs each class by n / (2 * class count), as scikit-learn */
	if (params.balanced)
	{
		params.weight_pos = n_pos > 0 ? (double) n_rows / (2.0 * n_pos) : 1.0;
		params.weight_neg = n_neg > 0 ? (double) n_rows / (2.0 * n_neg) : 1.0;
	}

	prob.n_rows = n_rows;
	prob.n_cols = n_cols;
	prob.row_start = row_start;
	prob.col = col;
	prob.val = val;
	prob.y = y;
	prob.bias = params.bias;

	memset(&sparams, 0, sizeof(sparams));
	sparams.kind = params.solver;
	sparams.C_pos = params.C * params.weight_pos;
	sparams.C_neg = params.C * params.weight_neg;
	sparams.epsilon = params.epsilon;
	sparams.max_iter = params.max_iter;
	sparams.seed = params.seed;
	sparams.alloc = train_solver_alloc;
	sparams.free = train_solver_free;
	sparams.alloc_arg = work_context;
	sparams.check_interrupts = train_solver_interrupts;
	sparams.interrupt_arg = NULL;

	w = palloc_extended(sizeof(double) * ((Size) n_cols + 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	memset(&result, 0, sizeof(result));
	if (solver_train(&prob, &sparams, w, &result) != 0)
		elog(ERROR, "solver rejected parameters that passed validation");

	/* keep the weights that survive the cast to float4 */
	nnz = 0;
	for (k = 0; k < n_cols; k++)
		if ((float4) w[k] != 0.0f)
			nnz++;

	MemoryContextSwitchTo(old_context);
	m = model_allocate(nnz);
	weights = MODEL_WEIGHTS(m);
	nnz = 0;
	for (k = 0; k < n_cols; k++)
		if ((float4) w[k] != 0.0f)
		{
			m->indexes[nnz] = index_of[k];
			weights[nnz] = (float4) w[k];
			nnz++;
		}

	m->solver = params.solver;
	m->trained_at = GetCurrentTimestamp();
	m->C = params.C;
	m->epsilon = params.epsilon;
	m->bias = params.bias;
	m->weight_pos = params.weight_pos;
	m->weight_neg = params.weight_neg;
	m->bias_weight = params.bias > 0 ? w[n_cols] : 0.0;
	m->max_iter = params.max_iter;
	m->iterations = result.iterations;
	m->converged = result.converged ? 1 : 0;
	m->n_pos = n_pos;
	m->n_neg = n_neg;
	m->n_features = n_cols;
	if (params.settings_given)
	{
		m->version = MODEL_FORMAT_VERSION;
		m->hash_bits = (int16) params.hash_bits;
		m->binary = params.binary ? 1 : 0;
		m->fields = FEATURES_FIELDS_ARTICLE;
	}
	else
		m->version = MODEL_FORMAT_OLDEST;	/* format 1, no settings: see above */

	/*
	 * Probabilities: logistic regression's margin already is a log-odds, so
	 * P = sigmoid(margin).  For svm and pa we fit Platt's sigmoid to the
	 * training margins of the stored (float4) weights.
	 */
	if (params.solver == SOLVER_LOGREG)
	{
		m->platt_a = -1.0;
		m->platt_b = 0.0;
	}
	else
	{
		double	   *margins;

		MemoryContextSwitchTo(work_context);
		margins = palloc_extended(sizeof(double) * n_rows, MCXT_ALLOC_HUGE);
		for (i = 0; i < n_rows; i++)
		{
			double		margin = m->bias_weight * m->bias;

			for (k = row_start[i]; k < row_start[i + 1]; k++)
				margin += (double) (float4) w[col[k]] * val[k];
			margins[i] = margin;
		}
		solver_platt(n_rows, margins, y, &m->platt_a, &m->platt_b);
		MemoryContextSwitchTo(old_context);
	}

	model_set_id(m);
	MemoryContextDelete(work_context);
	PG_RETURN_POINTER(m);
}
