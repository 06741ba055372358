/*-------------------------------------------------------------------------
 *
 * model.c
 *	  The trained model type: text and binary I/O, validation, content id,
 *	  and the introspection functions model_info() and weights().
 *
 * Text form (one line, keys in this order, weights last):
 *
 *	 format=1 id=9f0c... solver=logreg trained_at="2026-11-25 18:40:00.5+00"
 *	 C=1 epsilon=0.01 ... weights={12:0.5,407:-0.25}
 *
 * Every number is printed in its shortest exact form, so text output parsed
 * back is bit-identical: pg_dump/restore and logical copies keep models.
 * Input checks everything, including that the id matches the content, so a
 * hand-edited model can never be mistaken for another by the score cache.
 * Training lives in train.c and scoring in classify.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "common/shortest_dec.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "fvec.h"
#include "model.h"
#include "solver.h"

PG_FUNCTION_INFO_V1(pglearn_model_in);
PG_FUNCTION_INFO_V1(pglearn_model_out);
PG_FUNCTION_INFO_V1(pglearn_model_recv);
PG_FUNCTION_INFO_V1(pglearn_model_send);
PG_FUNCTION_INFO_V1(pglearn_model_info);
PG_FUNCTION_INFO_V1(pglearn_model_weights);

typedef enum ModelFieldType
{
	FIELD_ID,
	FIELD_SOLVER,
	FIELD_TIMESTAMP,
	FIELD_FLOAT8,
	FIELD_INT32
} ModelFieldType;

typedef struct ModelField
{
	const char *name;
	size_t		offset;
	ModelFieldType type;
} ModelField;

/* The header fields in text and binary order; one table drives all I/O. */
static const ModelField model_fields[] = {
	{"id", offsetof(Model, id), FIELD_ID},
	{"solver", offsetof(Model, solver), FIELD_SOLVER},
	{"trained_at", offsetof(Model, trained_at), FIELD_TIMESTAMP},
	{"C", offsetof(Model, C), FIELD_FLOAT8},
	{"epsilon", offsetof(Model, epsilon), FIELD_FLOAT8},
	{"bias", offsetof(Model, bias), FIELD_FLOAT8},
	{"weight_pos", offsetof(Model, weight_pos), FIELD_FLOAT8},
	{"weight_neg", offsetof(Model, weight_neg), FIELD_FLOAT8},
	{"platt_a", offsetof(Model, platt_a), FIELD_FLOAT8},
	{"platt_b", offsetof(Model, platt_b), FIELD_FLOAT8},
	{"bias_weight", offsetof(Model, bias_weight), FIELD_FLOAT8},
	{"max_iter", offsetof(Model, max_iter), FIELD_INT32},
	{"iterations", offsetof(Model, iterations), FIELD_INT32},
	{"converged", offsetof(Model, converged), FIELD_INT32},
	{"n_pos", offsetof(Model, n_pos), FIELD_INT32},
	{"n_neg", offsetof(Model, n_neg), FIELD_INT32},
	{"n_features", offsetof(Model, n_features), FIELD_INT32},
};

#define NUM_MODEL_FIELDS lengthof(model_fields)
#define FIELD_PTR(m, f, type) ((type *) ((char *) (m) + (f)->offset))

Model *
model_allocate(int nnz)
{
	Model	   *m;

	if (nnz < 0 || nnz > MODEL_MAX_NNZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("model cannot have %d weights", nnz),
				 errdetail("The maximum is %d weights.", MODEL_MAX_NNZ)));
	m = (Model *) palloc0(MODEL_SIZE(nnz));
	SET_VARSIZE(m, MODEL_SIZE(nnz));
	m->magic = MODEL_MAGIC;
	m->version = MODEL_FORMAT_VERSION;
	m->nnz = nnz;
	return m;
}

/* Hash of everything but the varlena header, the id and trained_at. */
static uint64
model_compute_id(const Model *m)
{
	Model		header;
	uint64		h;

	memcpy(&header, m, MODEL_HEADER_SIZE);
	header.id = 0;
	header.trained_at = 0;
	h = hash_bytes_extended((const unsigned char *) &header.magic,
							MODEL_HEADER_SIZE - offsetof(Model, magic), 0x706c6561726e);
	return hash_bytes_extended((const unsigned char *) m->indexes,
							   (int) (VARSIZE(m) - MODEL_HEADER_SIZE), h);
}

void
model_set_id(Model *m)
{
	m->id = model_compute_id(m);
}

const char *
model_solver_name(int solver)
{
	switch (solver)
	{
		case SOLVER_LOGREG:
			return "logreg";
		case SOLVER_SVM:
			return "svm";
		case SOLVER_PA:
			return "pa";
	}
	return NULL;
}

double
model_probability(const Model *m, double margin)
{
	double		t = m->platt_a * margin + m->platt_b;

	/* 1 / (1 + exp(t)) without overflow for large |t| */
	if (t >= 0)
		return exp(-t) / (1.0 + exp(-t));
	return 1.0 / (1.0 + exp(t));
}

static void
model_invalid(bool binary, const char *what)
{
	ereport(ERROR,
			(errcode(binary ? ERRCODE_INVALID_BINARY_REPRESENTATION :
					 ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid %s model: %s", binary ? "binary" : "text", what)));
}

/*
 * Check every invariant of a model built from untrusted input.  The
 * weights are checked by the fvec rules they share.
 */
static void
model_validate(const Model *m, bool binary)
{
	const float4 *weights = MODEL_WEIGHTS(m);
	int			i;

	if (model_solver_name(m->solver) == NULL)
		model_invalid(binary, psprintf("unknown solver %d", m->solver));
	if (TIMESTAMP_NOT_FINITE(m->trained_at))
		model_invalid(binary, "trained_at is not finite");
	for (i = 0; i < (int) NUM_MODEL_FIELDS; i++)
	{
		const ModelField *f = &model_fields[i];

		if (f->type == FIELD_FLOAT8 && !isfinite(*FIELD_PTR(m, f, float8)))
			model_invalid(binary, psprintf("%s is not finite", f->name));
		if (f->type == FIELD_INT32 && *FIELD_PTR(m, f, int32) < 0)
			model_invalid(binary, psprintf("%s is negative", f->name));
	}
	if (!(m->C > 0) || !(m->epsilon > 0) || m->bias < 0 ||
		!(m->weight_pos > 0) || !(m->weight_neg > 0))
		model_invalid(binary, "C, epsilon and class weights must be positive and bias non-negative");
	if (m->converged > 1)
		model_invalid(binary, "converged must be 0 or 1");
	if (m->reserved != 0)
		model_invalid(binary, "reserved field is not zero");
	for (i = 0; i < m->nnz; i++)
	{
		if (m->indexes[i] < 0 || (i > 0 && m->indexes[i] <= m->indexes[i - 1]))
			model_invalid(binary, psprintf("weight indexes not strictly increasing at %d", m->indexes[i]));
		if (!isfinite(weights[i]))
			model_invalid(binary, psprintf("weight at index %d is not finite", m->indexes[i]));
	}
	if (model_compute_id(m) != m->id)
		ereport(ERROR,
				(errcode(binary ? ERRCODE_INVALID_BINARY_REPRESENTATION :
						 ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid %s model: id does not match its content", binary ? "binary" : "text"),
				 errdetail("The model was modified after training or is corrupt."),
				 errhint("Models cannot be edited by hand; train a new one.")));
}

/* Check the format version before reading anything that depends on it. */
static void
model_check_version(int64 version, bool binary)
{
	if (version != MODEL_FORMAT_VERSION)
		ereport(ERROR,
				(errcode(binary ? ERRCODE_INVALID_BINARY_REPRESENTATION :
						 ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("unsupported model format version %lld", (long long) version),
				 errdetail("This version of pglearn reads model format version %d.", MODEL_FORMAT_VERSION),
				 errhint("Upgrade the pglearn extension, or retrain the model.")));
}

static void
model_format_timestamp(TimestampTz ts, StringInfo buf)
{
	struct pg_tm tm;
	fsec_t		fsec;
	char		text[MAXDATELEN + 1];

	/* always UTC and ISO, whatever TimeZone and DateStyle say */
	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("model trained_at out of range")));
	EncodeDateTime(&tm, fsec, false, 0, NULL, USE_ISO_DATES, text);
	appendStringInfo(buf, "\"%s+00\"", text);
}

/*
 * Append one header field's value.  Text form and model_info() print the
 * same values; JSON additionally quotes the id and the solver name (the
 * timestamp is quoted in both).
 */
static void
model_append_field(StringInfo buf, const Model *m, const ModelField *f, bool json)
{
	char		number[DOUBLE_SHORTEST_DECIMAL_LEN];
	const char *quote = json ? "\"" : "";

	switch (f->type)
	{
		case FIELD_ID:
			appendStringInfo(buf, "%s%016llx%s", quote, (unsigned long long) m->id, quote);
			break;
		case FIELD_SOLVER:
			appendStringInfo(buf, "%s%s%s", quote, model_solver_name(m->solver), quote);
			break;
		case FIELD_TIMESTAMP:
			model_format_timestamp(m->trained_at, buf);
			break;
		case FIELD_FLOAT8:
			double_to_shortest_decimal_buf(*FIELD_PTR(m, f, float8), number);
			appendStringInfoString(buf, number);
			break;
		case FIELD_INT32:
			appendStringInfo(buf, "%d", *FIELD_PTR(m, f, int32));
			break;
	}
}

Datum
pglearn_model_out(PG_FUNCTION_ARGS)
{
	Model	   *m = PG_GETARG_MODEL_P(0);
	StringInfoData buf;
	FVec	   *weights;
	int			i;

	initStringInfo(&buf);
	appendStringInfo(&buf, "format=%d", m->version);
	for (i = 0; i < (int) NUM_MODEL_FIELDS; i++)
	{
		appendStringInfo(&buf, " %s=", model_fields[i].name);
		model_append_field(&buf, m, &model_fields[i], false);
	}

	/* the weights are printed exactly as an fvec of the same entries */
	weights = fvec_allocate(m->nnz);
	memcpy(weights->indexes, m->indexes, sizeof(int32) * m->nnz);
	memcpy(FVEC_VALUES(weights), MODEL_WEIGHTS(m), sizeof(float4) * m->nnz);
	appendStringInfo(&buf, " weights=%s",
					 DatumGetCString(DirectFunctionCall1(pglearn_fvec_out,
														 PointerGetDatum(weights))));
	PG_RETURN_CSTRING(buf.data);
}

/*
 * Read "key=" at *p, demanding the expected key; return the start of the
 * value and leave *p after it.  Values end at a space, except a quoted
 * timestamp.
 */
static char *
model_read_value(char **p, const char *key)
{
	size_t		keylen = strlen(key);
	char	   *value;

	while (**p == ' ')
		(*p)++;
	if (strncmp(*p, key, keylen) != 0 || (*p)[keylen] != '=')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid text model: expected \"%s=\" at \"%.20s\"", key, *p),
				 errhint("Model text is produced by pglearn itself; keys come in a fixed order.")));
	*p += keylen + 1;
	value = *p;
	if (**p == '"')
	{
		value = ++(*p);
		while (**p && **p != '"')
			(*p)++;
		if (**p != '"')
			model_invalid(false, psprintf("unterminated quoted value for %s", key));
	}
	else
	{
		while (**p && **p != ' ')
			(*p)++;
	}
	if (**p)
		*(*p)++ = '\0';
	if (*value == '\0')
		model_invalid(false, psprintf("empty value for %s", key));
	return value;
}

static int64
model_parse_integer(const char *value, const char *key, int64 min, int64 max)
{
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(value, &end, 10);
	if (*end != '\0' || errno != 0 || v < min || v > max)
		model_invalid(false, psprintf("bad integer \"%s\" for %s", value, key));
	return v;
}

Datum
pglearn_model_in(PG_FUNCTION_ARGS)
{
	char	   *input = pstrdup(PG_GETARG_CSTRING(0));
	char	   *p = input;
	Model		header;
	FVec	   *weights;
	Model	   *m;
	int			i;

	memset(&header, 0, sizeof(header));
	model_check_version(model_parse_integer(model_read_value(&p, "format"), "format",
											PG_INT32_MIN, PG_INT32_MAX), false);

	for (i = 0; i < (int) NUM_MODEL_FIELDS; i++)
	{
		const ModelField *f = &model_fields[i];
		char	   *value = model_read_value(&p, f->name);
		char	   *end;
		int			solver;

		switch (f->type)
		{
			case FIELD_ID:
				errno = 0;
				header.id = strtoull(value, &end, 16);
				if (*end != '\0' || errno != 0 || strlen(value) != 16)
					model_invalid(false, psprintf("bad id \"%s\"", value));
				break;
			case FIELD_SOLVER:
				for (solver = SOLVER_LOGREG; solver <= SOLVER_PA; solver++)
					if (strcmp(value, model_solver_name(solver)) == 0)
						break;
				if (solver > SOLVER_PA)
					model_invalid(false, psprintf("unknown solver \"%s\"", value));
				header.solver = solver;
				break;
			case FIELD_TIMESTAMP:
				header.trained_at =
					DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
															CStringGetDatum(value),
															ObjectIdGetDatum(InvalidOid),
															Int32GetDatum(-1)));
				break;
			case FIELD_FLOAT8:
				errno = 0;
				*FIELD_PTR(&header, f, float8) = strtod(value, &end);
				if (*end != '\0' || end == value)
					model_invalid(false, psprintf("bad number \"%s\" for %s", value, f->name));
				break;
			case FIELD_INT32:
				*FIELD_PTR(&header, f, int32) =
					(int32) model_parse_integer(value, f->name, 0, PG_INT32_MAX);
				break;
		}
	}

	/* the rest is the weights, in fvec syntax */
	while (*p == ' ')
		p++;
	if (strncmp(p, "weights=", 8) != 0)
		model_invalid(false, "expected \"weights=\" after the header");
	weights = DatumGetFVec(DirectFunctionCall1(pglearn_fvec_in, CStringGetDatum(p + 8)));

	m = model_allocate(weights->nnz);
	memcpy(((char *) m) + offsetof(Model, solver), ((char *) &header) + offsetof(Model, solver),
		   MODEL_HEADER_SIZE - offsetof(Model, solver));
	m->nnz = weights->nnz;
	memcpy(m->indexes, weights->indexes, sizeof(int32) * m->nnz);
	memcpy(MODEL_WEIGHTS(m), FVEC_VALUES(weights), sizeof(float4) * m->nnz);
	model_validate(m, false);
	PG_RETURN_POINTER(m);
}

/*
 * Binary form: int32 format version, the header fields in table order
 * (ids and timestamps as int64, floats as float8, solver as int32), int32
 * nnz, the indexes, then the float4 weights.
 */
Datum
pglearn_model_send(PG_FUNCTION_ARGS)
{
	Model	   *m = PG_GETARG_MODEL_P(0);
	float4	   *weights = MODEL_WEIGHTS(m);
	StringInfoData buf;
	int			i;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, m->version);
	for (i = 0; i < (int) NUM_MODEL_FIELDS; i++)
	{
		const ModelField *f = &model_fields[i];

		switch (f->type)
		{
			case FIELD_ID:
			case FIELD_TIMESTAMP:
				pq_sendint64(&buf, *FIELD_PTR(m, f, int64));
				break;
			case FIELD_FLOAT8:
				pq_sendfloat8(&buf, *FIELD_PTR(m, f, float8));
				break;
			case FIELD_SOLVER:
			case FIELD_INT32:
				pq_sendint32(&buf, *FIELD_PTR(m, f, int32));
				break;
		}
	}
	pq_sendint32(&buf, m->nnz);
	for (i = 0; i < m->nnz; i++)
		pq_sendint32(&buf, m->indexes[i]);
	for (i = 0; i < m->nnz; i++)
		pq_sendfloat4(&buf, weights[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

static void
model_need_bytes(StringInfo buf, Size n)
{
	if ((Size) (buf->len - buf->cursor) < n)
		model_invalid(true, "truncated data");
}

Datum
pglearn_model_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	Model		header;
	Model	   *m;
	float4	   *weights;
	int32		nnz;
	int			i;

	memset(&header, 0, sizeof(header));
	model_need_bytes(buf, 4);
	model_check_version(pq_getmsgint(buf, 4), true);
	for (i = 0; i < (int) NUM_MODEL_FIELDS; i++)
	{
		const ModelField *f = &model_fields[i];

		switch (f->type)
		{
			case FIELD_ID:
			case FIELD_TIMESTAMP:
				model_need_bytes(buf, 8);
				*FIELD_PTR(&header, f, int64) = pq_getmsgint64(buf);
				break;
			case FIELD_FLOAT8:
				model_need_bytes(buf, 8);
				*FIELD_PTR(&header, f, float8) = pq_getmsgfloat8(buf);
				break;
			case FIELD_SOLVER:
			case FIELD_INT32:
				model_need_bytes(buf, 4);
				*FIELD_PTR(&header, f, int32) = pq_getmsgint(buf, 4);
				break;
		}
	}
	model_need_bytes(buf, 4);
	nnz = pq_getmsgint(buf, 4);
	if (nnz < 0 || nnz > MODEL_MAX_NNZ)
		model_invalid(true, psprintf("weight count %d out of range", nnz));
	if ((Size) (buf->len - buf->cursor) != (Size) nnz * 8)
		model_invalid(true, psprintf("expected %d bytes of weights, got %d",
									 nnz * 8, buf->len - buf->cursor));

	m = model_allocate(nnz);
	memcpy(((char *) m) + offsetof(Model, solver), ((char *) &header) + offsetof(Model, solver),
		   MODEL_HEADER_SIZE - offsetof(Model, solver));
	m->nnz = nnz;
	weights = MODEL_WEIGHTS(m);
	for (i = 0; i < nnz; i++)
		m->indexes[i] = pq_getmsgint(buf, 4);
	for (i = 0; i < nnz; i++)
		weights[i] = pq_getmsgfloat4(buf);
	model_validate(m, true);
	PG_RETURN_POINTER(m);
}

/* The header as jsonb, for reports; weights are left out (see weights()). */
Datum
pglearn_model_info(PG_FUNCTION_ARGS)
{
	Model	   *m = (Model *) PG_DETOAST_DATUM_SLICE(PG_GETARG_DATUM(0), 0, MODEL_HEADER_SIZE);
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"format\": %d", m->version);
	for (i = 0; i < (int) NUM_MODEL_FIELDS; i++)
	{
		appendStringInfo(&buf, ", \"%s\": ", model_fields[i].name);
		model_append_field(&buf, m, &model_fields[i], true);
	}
	appendStringInfo(&buf, ", \"nnz\": %d}", m->nnz);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/* weights(model): (index, weight) rows, the bias first with index -1. */
Datum
pglearn_model_weights(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	Model	   *m;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext oldcontext;
		TupleDesc	tupdesc;

		funcctx = SRF_FIRSTCALL_INIT();
		oldcontext = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		funcctx->tuple_desc = BlessTupleDesc(tupdesc);
		m = PG_GETARG_MODEL_P_COPY(0);
		funcctx->user_fctx = m;
		funcctx->max_calls = m->nnz + (m->bias > 0 ? 1 : 0);
		MemoryContextSwitchTo(oldcontext);
	}

	funcctx = SRF_PERCALL_SETUP();
	m = (Model *) funcctx->user_fctx;
	if (funcctx->call_cntr < funcctx->max_calls)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};
		int			i = (int) funcctx->call_cntr - (m->bias > 0 ? 1 : 0);

		if (i < 0)
		{
			values[0] = Int32GetDatum(-1);
			values[1] = Float8GetDatum(m->bias_weight);
		}
		else
		{
			values[0] = Int32GetDatum(m->indexes[i]);
			values[1] = Float8GetDatum((double) MODEL_WEIGHTS(m)[i]);
		}
		SRF_RETURN_NEXT(funcctx,
						HeapTupleGetDatum(heap_form_tuple(funcctx->tuple_desc, values, nulls)));
	}
	SRF_RETURN_DONE(funcctx);
}

PG_FUNCTION_INFO_V1(pglearn_model_eq);

/*
 * Equal when everything but trained_at is identical: the same training
 * data and parameters give equal models whenever they were trained.
 */
Datum
pglearn_model_eq(PG_FUNCTION_ARGS)
{
	Model	   *a = PG_GETARG_MODEL_P(0);
	Model	   *b = PG_GETARG_MODEL_P(1);
	Size		after_time = offsetof(Model, trained_at) + sizeof(TimestampTz);

	PG_RETURN_BOOL(VARSIZE(a) == VARSIZE(b) &&
				   memcmp(a, b, offsetof(Model, trained_at)) == 0 &&
				   memcmp((char *) a + after_time, (char *) b + after_time,
						  VARSIZE(a) - after_time) == 0);
}
