/*-------------------------------------------------------------------------
 *
 * model.c
 *	  The trained model type: text and binary I/O, the content id, the
 *	  feature settings a model records, and the introspection functions
 *	  model_info(), weights() and feature_settings().
 *
 * Every number is printed in its shortest exact form, so text output parsed
 * back is bit-identical: pg_dump/restore and logical copies keep models.
 * Input checks everything, including that the id matches the content, so a
 * hand-edited model can never be mistaken for another by the score cache.
 * The text grammar, the binary layout and every check but the id's are
 * model_parse.c's, in plain C so that they can be fuzzed and unit-tested
 * without a server; this file owns the errors they turn into, reading
 * timestamps, the id, and printing.  Training lives in train.c and scoring
 * in classify.c.
 *
 * A model is printed and sent in the format version it has, so a format-1
 * value (stored before 0.3) round-trips unchanged, id included;
 * model_upgrade() is the one way from format 1 to format 2, and it is
 * told the settings (the 0.3 update script and pglearn.models' trigger
 * pass those fit() kept in pglearn.models.params).
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
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "featurize.h"
#include "fvec.h"
#include "jsonbuild.h"
#include "model.h"
#include "model_parse.h"

PG_FUNCTION_INFO_V1(pglearn_model_in);
PG_FUNCTION_INFO_V1(pglearn_model_out);
PG_FUNCTION_INFO_V1(pglearn_model_recv);
PG_FUNCTION_INFO_V1(pglearn_model_send);
PG_FUNCTION_INFO_V1(pglearn_model_info);
PG_FUNCTION_INFO_V1(pglearn_model_weights);
PG_FUNCTION_INFO_V1(pglearn_model_feature_settings);
PG_FUNCTION_INFO_V1(pglearn_feature_settings_default);
PG_FUNCTION_INFO_V1(pglearn_model_upgrade);

/*
 * model_parse.c's field table addresses a ModelHeader; it serves Model too
 * because the two lay out their headers identically.
 */
#define MODEL_SAME_OFFSET(field) \
	StaticAssertDecl(offsetof(Model, field) == offsetof(ModelHeader, field), \
					 "Model and ModelHeader disagree on " #field)
StaticAssertDecl(MODEL_TIMESTAMP_MIN == MIN_TIMESTAMP && MODEL_TIMESTAMP_END == END_TIMESTAMP,
				 "model_parse.h's trained_at range is not timestamptz's");
StaticAssertDecl(sizeof(ModelHeader) == MODEL_HEADER_SIZE,
				 "ModelHeader is not the size of Model's header");
MODEL_SAME_OFFSET(magic);
MODEL_SAME_OFFSET(version);
MODEL_SAME_OFFSET(solver);
MODEL_SAME_OFFSET(id);
MODEL_SAME_OFFSET(trained_at);
MODEL_SAME_OFFSET(C);
MODEL_SAME_OFFSET(epsilon);
MODEL_SAME_OFFSET(bias);
MODEL_SAME_OFFSET(weight_pos);
MODEL_SAME_OFFSET(weight_neg);
MODEL_SAME_OFFSET(platt_a);
MODEL_SAME_OFFSET(platt_b);
MODEL_SAME_OFFSET(bias_weight);
MODEL_SAME_OFFSET(max_iter);
MODEL_SAME_OFFSET(iterations);
MODEL_SAME_OFFSET(converged);
MODEL_SAME_OFFSET(n_pos);
MODEL_SAME_OFFSET(n_neg);
MODEL_SAME_OFFSET(n_features);
MODEL_SAME_OFFSET(nnz);
MODEL_SAME_OFFSET(hash_bits);
MODEL_SAME_OFFSET(binary);
MODEL_SAME_OFFSET(fields);

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

void
model_feature_settings(const Model *m, ModelFeatureSettings *settings)
{
	if (m->version < 2)
	{
		settings->hash_bits = FEATURES_DEFAULT_HASH_BITS;
		settings->binary = FEATURES_DEFAULT_BINARY;
		settings->fields = FEATURES_DEFAULT_FIELDS;
		return;
	}
	settings->hash_bits = m->hash_bits;
	settings->binary = m->binary != 0;
	settings->fields = m->fields;
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
 * Raise the error for a model_parse_text() or model_decode_binary() that
 * failed; 'binary' says which.  Never returns.
 */
static void
model_report_parse_error(ModelParseStatus status, const ModelParseResult *r, bool binary)
{
	switch (status)
	{
		case MODEL_PARSE_OK:
			break;
		case MODEL_PARSE_EXPECTED_KEY:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid text model: expected \"%s=\" at \"%.20s\"", r->key, r->at),
					 errhint("Model text is produced by pglearn itself; keys come in a fixed order.")));
			break;
		case MODEL_PARSE_UNTERMINATED:
			model_invalid(binary, psprintf("unterminated quoted value for %s", r->key));
			break;
		case MODEL_PARSE_EMPTY_VALUE:
			model_invalid(binary, psprintf("empty value for %s", r->key));
			break;
		case MODEL_PARSE_BAD_INTEGER:
			model_invalid(binary, psprintf("bad integer \"%s\" for %s", r->value, r->key));
			break;
		case MODEL_PARSE_BAD_ID:
			model_invalid(binary, psprintf("bad id \"%s\"", r->value));
			break;
		case MODEL_PARSE_UNKNOWN_SOLVER:
			model_invalid(binary, psprintf("unknown solver \"%s\"", r->value));
			break;
		case MODEL_PARSE_BAD_TIMESTAMP:
			/* model_read_timestamp() raises timestamptz_in's error instead */
			break;
		case MODEL_PARSE_BAD_NUMBER:
			model_invalid(binary, psprintf("bad number \"%s\" for %s", r->value, r->key));
			break;
		case MODEL_PARSE_BAD_BOOL:
			model_invalid(binary, psprintf("bad boolean \"%s\" for %s", r->value, r->key));
			break;
		case MODEL_PARSE_UNKNOWN_FIELDS:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid text model: unknown fields \"%s\"", r->value),
					 errdetail("This version of pglearn computes features from \"%s\" only.",
							   model_feature_fields_name(FEATURES_DEFAULT_FIELDS)),
					 errhint("Upgrade the pglearn extension, or retrain the model.")));
			break;
		case MODEL_PARSE_EXPECTED_WEIGHTS:
			model_invalid(binary, "expected \"weights=\" after the header");
			break;
		case MODEL_PARSE_WEIGHTS:
			fvec_report_parse_error(r->weights_status, &r->weights_parsed, r->weights_text);
			break;
		case MODEL_PARSE_TRUNCATED:
			model_invalid(binary, "truncated data");
			break;
		case MODEL_PARSE_COUNT_RANGE:
			model_invalid(binary, psprintf("weight count %d out of range", r->header.nnz));
			break;
		case MODEL_PARSE_LENGTH:
			model_invalid(binary, psprintf("expected %d bytes of weights, got %d",
										   r->header.nnz * 8, (int) r->weight_bytes));
			break;
		case MODEL_PARSE_VERSION:
			ereport(ERROR,
					(errcode(binary ? ERRCODE_INVALID_BINARY_REPRESENTATION :
							 ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("unsupported model format version %lld", (long long) r->version),
					 errdetail("This version of pglearn reads model format versions %d to %d.",
							   MODEL_FORMAT_OLDEST, MODEL_FORMAT_VERSION),
					 errhint("Upgrade the pglearn extension, or retrain the model.")));
			break;
		case MODEL_INVALID_SOLVER:
			model_invalid(binary, psprintf("unknown solver %d", r->header.solver));
			break;
		case MODEL_INVALID_TRAINED_AT:
			model_invalid(binary, "trained_at is not finite");
			break;
		case MODEL_INVALID_TRAINED_AT_RANGE:
			model_invalid(binary, "trained_at is out of range");
			break;
		case MODEL_INVALID_NOT_FINITE:
			model_invalid(binary, psprintf("%s is not finite", r->field->name));
			break;
		case MODEL_INVALID_NEGATIVE:
			model_invalid(binary, psprintf("%s is negative", r->field->name));
			break;
		case MODEL_INVALID_NOT_POSITIVE:
			model_invalid(binary, "C, epsilon and class weights must be positive and bias non-negative");
			break;
		case MODEL_INVALID_CONVERGED:
			model_invalid(binary, "converged must be 0 or 1");
			break;
		case MODEL_INVALID_RESERVED:
			model_invalid(binary, "reserved field is not zero");
			break;
		case MODEL_INVALID_HASH_BITS:
			model_invalid(binary, psprintf("hash_bits must be between %d and %d",
										   FEATURES_MIN_HASH_BITS, FEATURES_MAX_HASH_BITS));
			break;
		case MODEL_INVALID_BINARY:
			model_invalid(binary, "binary must be 0 or 1");
			break;
		case MODEL_INVALID_FIELDS:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid binary model: unknown fields %d", r->header.fields),
					 errdetail("This version of pglearn computes features from fields %d (\"%s\") only.",
							   FEATURES_DEFAULT_FIELDS, model_feature_fields_name(FEATURES_DEFAULT_FIELDS)),
					 errhint("Upgrade the pglearn extension, or retrain the model.")));
			break;
		case MODEL_INVALID_WEIGHT_ORDER:
			model_invalid(binary, psprintf("weight indexes not strictly increasing at %d", r->bad_index));
			break;
		case MODEL_INVALID_WEIGHT_NOT_FINITE:
			model_invalid(binary, psprintf("weight at index %d is not finite", r->bad_index));
			break;
	}
	elog(ERROR, "unexpected model parse status %d", (int) status);
}

/*
 * Give a model that passed model_parse.c's checks its header, then check
 * its id, last as always: only a model exactly as trained gets in.
 */
static void
model_accept(Model *m, const ModelHeader *header, bool binary)
{
	Assert(m->nnz == header->nnz);
	/* all but the varlena header, which model_allocate() set */
	memcpy((char *) m + offsetof(Model, magic),
		   (const char *) header + offsetof(ModelHeader, magic),
		   MODEL_HEADER_SIZE - offsetof(Model, magic));
	if (model_compute_id(m) != m->id)
		ereport(ERROR,
				(errcode(binary ? ERRCODE_INVALID_BINARY_REPRESENTATION :
						 ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid %s model: id does not match its content", binary ? "binary" : "text"),
				 errdetail("The model was modified after training or is corrupt."),
				 errhint("Models cannot be edited by hand; train a new one.")));
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
	appendStringInfo(buf, "%s+00", text);
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
		case MODEL_FIELD_ID:
			appendStringInfo(buf, "%s%016llx%s", quote, (unsigned long long) m->id, quote);
			break;
		case MODEL_FIELD_SOLVER:
			appendStringInfo(buf, "%s%s%s", quote, model_solver_name(m->solver), quote);
			break;
		case MODEL_FIELD_TIMESTAMP:
			appendStringInfoChar(buf, '"');
			model_format_timestamp(m->trained_at, buf);
			appendStringInfoChar(buf, '"');
			break;
		case MODEL_FIELD_FLOAT8:
			double_to_shortest_decimal_buf(*MODEL_FIELD_PTR(m, f, float8), number);
			appendStringInfoString(buf, number);
			break;
		case MODEL_FIELD_INT32:
			appendStringInfo(buf, "%d", *MODEL_FIELD_PTR(m, f, int32));
			break;
		case MODEL_FIELD_HASH_BITS:
			appendStringInfo(buf, "%d", (int) *MODEL_FIELD_PTR(m, f, int16));
			break;
		case MODEL_FIELD_BOOL:
			appendStringInfoString(buf, *MODEL_FIELD_PTR(m, f, uint8) ? "true" : "false");
			break;
		case MODEL_FIELD_FIELDS:
			appendStringInfo(buf, "%s%s%s", quote,
							 model_feature_fields_name(*MODEL_FIELD_PTR(m, f, uint8)), quote);
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
	for (i = 0; i < model_num_fields; i++)
	{
		if (model_fields[i].since > m->version)
			continue;
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

/* The backend's timestamp reader for model_parse_text(): raises, never fails. */
static int
model_read_timestamp(const char *text, int64_t *result, void *arg)
{
	*result = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
													  CStringGetDatum(text),
													  ObjectIdGetDatum(InvalidOid),
													  Int32GetDatum(-1)));
	return 1;
}

/* Text input; the grammar is model_parse.c's. */
Datum
pglearn_model_in(PG_FUNCTION_ARGS)
{
	char	   *input = pstrdup(PG_GETARG_CSTRING(0));
	ModelParseResult r;
	ModelParseStatus status;
	Model	   *m;

	/* the weights are read as an fvec, so an fvec's limit applies */
	status = model_parse_text(input, FVEC_MAX_NNZ, fvec_parse_grow, NULL,
							  model_read_timestamp, NULL, &r);
	if (status != MODEL_PARSE_OK)
		model_report_parse_error(status, &r, false);

	m = model_allocate(r.header.nnz);
	memcpy(m->indexes, r.indexes, sizeof(int32) * m->nnz);
	memcpy(MODEL_WEIGHTS(m), r.weights, sizeof(float4) * m->nnz);
	model_accept(m, &r.header, false);
	PG_RETURN_POINTER(m);
}

/* Binary output; the layout is model_parse.h's. */
Datum
pglearn_model_send(PG_FUNCTION_ARGS)
{
	Model	   *m = PG_GETARG_MODEL_P(0);
	ModelHeader header;
	Size		size = MODEL_BINARY_SIZE(m->version, m->nnz);
	bytea	   *result = (bytea *) palloc(VARHDRSZ + size);

	memcpy(&header, m, MODEL_HEADER_SIZE);
	SET_VARSIZE(result, VARHDRSZ + size);
	model_encode_binary((unsigned char *) VARDATA(result), &header,
						m->indexes, MODEL_WEIGHTS(m));
	PG_RETURN_BYTEA_P(result);
}

/* Binary weights are decoded straight into the model that will be returned. */
static void
model_recv_alloc(int n, int32_t **indexes, float **weights, void *arg)
{
	Model	  **m = (Model **) arg;

	*m = model_allocate(n);
	*indexes = (*m)->indexes;
	*weights = MODEL_WEIGHTS(*m);
}

/* Binary input; the layout is model_parse.h's. */
Datum
pglearn_model_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	ModelParseResult r;
	ModelParseStatus status;
	Model	   *m = NULL;

	status = model_decode_binary((const unsigned char *) buf->data + buf->cursor,
								 buf->len - buf->cursor, MODEL_MAX_NNZ,
								 model_recv_alloc, &m, &r);
	if (status != MODEL_PARSE_OK)
		model_report_parse_error(status, &r, true);
	model_accept(m, &r.header, true);
	/* the whole message is the value; callers check that it was consumed */
	buf->cursor = buf->len;
	PG_RETURN_POINTER(m);
}

/*
 * The header as jsonb, for reports; weights are left out (see weights()).
 * The feature settings are those the model is scored with, so a format-1
 * model shows the defaults it is read with (and "format": 1).
 */
Datum
pglearn_model_info(PG_FUNCTION_ARGS)
{
	Model	   *stored = (Model *) PG_DETOAST_DATUM_SLICE(PG_GETARG_DATUM(0), 0, MODEL_HEADER_SIZE);
	Model		header;
	Model	   *m = &header;
	ModelFeatureSettings settings;
	JsonBuild	info;
	StringInfoData text;
	int			i;

	memcpy(&header, stored, MODEL_HEADER_SIZE);
	model_feature_settings(stored, &settings);
	header.hash_bits = (int16) settings.hash_bits;
	header.binary = settings.binary ? 1 : 0;
	header.fields = (uint8) settings.fields;
	initStringInfo(&text);

	json_build_begin(&info);
	json_build_int64(&info, "format", m->version);
	for (i = 0; i < model_num_fields; i++)
	{
		const ModelField *f = &model_fields[i];

		switch (f->type)
		{
			case MODEL_FIELD_FLOAT8:
				json_build_float8(&info, f->name, *MODEL_FIELD_PTR(m, f, float8));
				break;
			case MODEL_FIELD_INT32:
				json_build_int64(&info, f->name, *MODEL_FIELD_PTR(m, f, int32));
				break;
			case MODEL_FIELD_HASH_BITS:
				json_build_int64(&info, f->name, *MODEL_FIELD_PTR(m, f, int16));
				break;
			case MODEL_FIELD_BOOL:
				json_build_bool(&info, f->name, *MODEL_FIELD_PTR(m, f, uint8) != 0);
				break;
			case MODEL_FIELD_TIMESTAMP:
				resetStringInfo(&text);
				model_format_timestamp(m->trained_at, &text);
				json_build_string(&info, f->name, text.data);
				break;
			default:
				/* id, solver, fields: strings, as the text form writes them */
				resetStringInfo(&text);
				model_append_field(&text, m, f, false);
				json_build_string(&info, f->name, text.data);
				break;
		}
	}
	json_build_int64(&info, "nnz", m->nnz);
	PG_RETURN_JSONB_P(json_build_finish(&info));
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

/*
 * feature_settings(model, OUT hash_bits, OUT binary, OUT fields): what the
 * model is scored with by name (model_feature_settings()), typed, for the
 * SQL functions that compute an article's features for a stored model.
 */
Datum
pglearn_model_feature_settings(PG_FUNCTION_ARGS)
{
	Model	   *m = (Model *) PG_DETOAST_DATUM_SLICE(PG_GETARG_DATUM(0), 0, MODEL_HEADER_SIZE);
	ModelFeatureSettings settings;
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	model_feature_settings(m, &settings);
	values[0] = Int32GetDatum(settings.hash_bits);
	values[1] = BoolGetDatum(settings.binary);
	values[2] = CStringGetTextDatum(model_feature_fields_name(settings.fields));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/*
 * feature_settings(): the defaults, which fit() records unless its params
 * say otherwise (and train() for the one of hash_bits and binary it is not
 * given), for SQL that needs them before a model exists (fit()'s
 * features); feature_settings.h holds their one definition.
 */
Datum
pglearn_feature_settings_default(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = Int32GetDatum(FEATURES_DEFAULT_HASH_BITS);
	values[1] = BoolGetDatum(FEATURES_DEFAULT_BINARY);
	values[2] = CStringGetTextDatum(model_feature_fields_name(FEATURES_DEFAULT_FIELDS));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/*
 * model_upgrade(model, hash_bits, binary): a format-1 model as format 2,
 * recording that it was trained on features(url, title,
 * article_text(description, body), hash_bits, binary) -- the only
 * features fit() ever computed.  The weights and every other field stay;
 * the id is computed anew, since the settings are content.  A format-2
 * model is returned as it is: it already says what it was trained with,
 * and nothing may overwrite that.
 */
Datum
pglearn_model_upgrade(PG_FUNCTION_ARGS)
{
	Model	   *m = PG_GETARG_MODEL_P(0);
	int32		hash_bits = PG_GETARG_INT32(1);
	bool		binary = PG_GETARG_BOOL(2);
	Model	   *upgraded;

	if (m->version >= 2)
		PG_RETURN_POINTER(m);
	features_check_hash_bits(hash_bits);

	/* the same layout: format 1's reserved bytes take the settings */
	upgraded = (Model *) palloc(VARSIZE(m));
	memcpy(upgraded, m, VARSIZE(m));
	upgraded->version = MODEL_FORMAT_VERSION;
	upgraded->hash_bits = (int16) hash_bits;
	upgraded->binary = binary ? 1 : 0;
	upgraded->fields = FEATURES_FIELDS_ARTICLE;
	model_set_id(upgraded);
	PG_RETURN_POINTER(upgraded);
}
