/*-------------------------------------------------------------------------
 *
 * model_parse.c
 *	  The model text parser, the binary decoder and encoder, and the checks
 *	  of a model read from either.
 *
 * Text form (one line, keys in table order, weights last):
 *
 *	 format=2 id=9f0c... solver=logreg trained_at="2026-11-25 18:40:00.5+00"
 *	 C=1 epsilon=0.01 ... n_features=5 hash_bits=20 binary=false
 *	 fields=url,title,description+body weights={12:0.5,407:-0.25}
 *
 * Format 1 is the same without hash_bits, binary and fields.  The format
 * version is read before anything else, so that a model of another version
 * is refused as such rather than as garbage, and it decides which fields
 * follow.  Both forms go through model_check(), so they accept exactly the
 * same models.
 *
 *-------------------------------------------------------------------------
 */
#include "model_parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "solver.h"
#include "wire.h"

const ModelField model_fields[] = {
	{"id", offsetof(ModelHeader, id), MODEL_FIELD_ID, 1},
	{"solver", offsetof(ModelHeader, solver), MODEL_FIELD_SOLVER, 1},
	{"trained_at", offsetof(ModelHeader, trained_at), MODEL_FIELD_TIMESTAMP, 1},
	{"C", offsetof(ModelHeader, C), MODEL_FIELD_FLOAT8, 1},
	{"epsilon", offsetof(ModelHeader, epsilon), MODEL_FIELD_FLOAT8, 1},
	{"bias", offsetof(ModelHeader, bias), MODEL_FIELD_FLOAT8, 1},
	{"weight_pos", offsetof(ModelHeader, weight_pos), MODEL_FIELD_FLOAT8, 1},
	{"weight_neg", offsetof(ModelHeader, weight_neg), MODEL_FIELD_FLOAT8, 1},
	{"platt_a", offsetof(ModelHeader, platt_a), MODEL_FIELD_FLOAT8, 1},
	{"platt_b", offsetof(ModelHeader, platt_b), MODEL_FIELD_FLOAT8, 1},
	{"bias_weight", offsetof(ModelHeader, bias_weight), MODEL_FIELD_FLOAT8, 1},
	{"max_iter", offsetof(ModelHeader, max_iter), MODEL_FIELD_INT32, 1},
	{"iterations", offsetof(ModelHeader, iterations), MODEL_FIELD_INT32, 1},
	{"converged", offsetof(ModelHeader, converged), MODEL_FIELD_INT32, 1},
	{"n_pos", offsetof(ModelHeader, n_pos), MODEL_FIELD_INT32, 1},
	{"n_neg", offsetof(ModelHeader, n_neg), MODEL_FIELD_INT32, 1},
	{"n_features", offsetof(ModelHeader, n_features), MODEL_FIELD_INT32, 1},
	/* the feature settings the weights were trained on */
	{"hash_bits", offsetof(ModelHeader, hash_bits), MODEL_FIELD_HASH_BITS, 2},
	{"binary", offsetof(ModelHeader, binary), MODEL_FIELD_BOOL, 2},
	{"fields", offsetof(ModelHeader, fields), MODEL_FIELD_FIELDS, 2},
};

const int	model_num_fields = (int) (sizeof(model_fields) / sizeof(model_fields[0]));

/* trained_at values TimestampTz reserves for -infinity and infinity */
#define TIMESTAMP_NOBEGIN	INT64_MIN
#define TIMESTAMP_NOEND		INT64_MAX

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

const char *
model_feature_fields_name(int fields)
{
	switch (fields)
	{
		case FEATURES_FIELDS_ARTICLE:
			return "url,title,description+body";
	}
	return NULL;
}

static void
model_result_init(ModelParseResult *result)
{
	memset(result, 0, sizeof(*result));
	result->header.magic = MODEL_MAGIC;
	result->header.version = MODEL_FORMAT_VERSION;
	result->bad_index = -1;
}

ModelParseStatus
model_check(const ModelHeader *header, const int32_t *indexes,
			const float *weights, ModelParseResult *result)
{
	if (model_solver_name(header->solver) == NULL)
		return MODEL_INVALID_SOLVER;
	if (header->trained_at == TIMESTAMP_NOBEGIN || header->trained_at == TIMESTAMP_NOEND)
		return MODEL_INVALID_TRAINED_AT;
	/* a timestamp PostgreSQL cannot print would make the model undumpable */
	if (header->trained_at < MODEL_TIMESTAMP_MIN || header->trained_at >= MODEL_TIMESTAMP_END)
		return MODEL_INVALID_TRAINED_AT_RANGE;
	for (int i = 0; i < model_num_fields; i++)
	{
		const ModelField *f = &model_fields[i];

		result->field = f;
		if (f->type == MODEL_FIELD_FLOAT8 && !isfinite(*MODEL_FIELD_PTR(header, f, const double)))
			return MODEL_INVALID_NOT_FINITE;
		if (f->type == MODEL_FIELD_INT32 && *MODEL_FIELD_PTR(header, f, const int32_t) < 0)
			return MODEL_INVALID_NEGATIVE;
	}
	result->field = NULL;
	if (!(header->C > 0) || !(header->epsilon > 0) || header->bias < 0 ||
		!(header->weight_pos > 0) || !(header->weight_neg > 0))
		return MODEL_INVALID_NOT_POSITIVE;
	if (header->converged > 1)
		return MODEL_INVALID_CONVERGED;
	if (header->version < 2)
	{
		/* format 1 reserved these bytes and always wrote zeros there */
		if (header->hash_bits != 0 || header->binary != 0 || header->fields != 0)
			return MODEL_INVALID_RESERVED;
	}
	else
	{
		if (header->hash_bits < FEATURES_MIN_HASH_BITS ||
			header->hash_bits > FEATURES_MAX_HASH_BITS)
			return MODEL_INVALID_HASH_BITS;
		if (header->binary > 1)
			return MODEL_INVALID_BINARY;
		if (model_feature_fields_name(header->fields) == NULL)
			return MODEL_INVALID_FIELDS;
	}
	switch (fvec_check_entries(header->nnz, indexes, weights, &result->bad_index))
	{
		case FVEC_RECV_OK:
			break;
		case FVEC_RECV_NOT_FINITE:
			return MODEL_INVALID_WEIGHT_NOT_FINITE;
		default:
			/* a model has always called a negative index out of order too */
			return MODEL_INVALID_WEIGHT_ORDER;
	}
	return MODEL_PARSE_OK;
}

/*
 * Read "key=" at *p, demanding the expected key; set *value to the start of
 * the value and leave *p after it.  Values end at a space, except a quoted
 * one, which ends at its closing quote (and needs no space after it).
 */
static ModelParseStatus
model_read_value(char **p, const char *key, char **value, ModelParseResult *result)
{
	size_t		keylen = strlen(key);

	result->key = key;
	while (**p == ' ')
		(*p)++;
	if (strncmp(*p, key, keylen) != 0 || (*p)[keylen] != '=')
	{
		result->at = *p;
		return MODEL_PARSE_EXPECTED_KEY;
	}
	*p += keylen + 1;
	*value = *p;
	if (**p == '"')
	{
		*value = ++(*p);
		while (**p && **p != '"')
			(*p)++;
		if (**p != '"')
			return MODEL_PARSE_UNTERMINATED;
	}
	else
	{
		while (**p && **p != ' ')
			(*p)++;
	}
	if (**p)
		*(*p)++ = '\0';
	if (**value == '\0')
		return MODEL_PARSE_EMPTY_VALUE;
	result->value = *value;
	return MODEL_PARSE_OK;
}

/* A whole decimal integer in [min, max]. */
static int
model_parse_integer(const char *value, int64_t min, int64_t max, int64_t *result)
{
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(value, &end, 10);
	if (*end != '\0' || errno != 0 || v < min || v > max)
		return 0;
	*result = v;
	return 1;
}

/* One header field's value, already cut out of the text. */
static ModelParseStatus
model_parse_field(const ModelField *f, const char *value, ModelHeader *header,
				  ModelTimestampFn read_timestamp, void *timestamp_arg)
{
	char	   *end;
	int64_t		integer;
	int			solver;

	switch (f->type)
	{
		case MODEL_FIELD_ID:
			errno = 0;
			header->id = strtoull(value, &end, 16);
			if (*end != '\0' || errno != 0 || strlen(value) != 16)
				return MODEL_PARSE_BAD_ID;
			break;
		case MODEL_FIELD_SOLVER:
			for (solver = SOLVER_LOGREG; solver <= SOLVER_PA; solver++)
				if (strcmp(value, model_solver_name(solver)) == 0)
					break;
			if (solver > SOLVER_PA)
				return MODEL_PARSE_UNKNOWN_SOLVER;
			header->solver = solver;
			break;
		case MODEL_FIELD_TIMESTAMP:
			if (!read_timestamp(value, &header->trained_at, timestamp_arg))
				return MODEL_PARSE_BAD_TIMESTAMP;
			break;
		case MODEL_FIELD_FLOAT8:
			/* overflow reads as infinity, which model_check() refuses by name */
			*MODEL_FIELD_PTR(header, f, double) = strtod(value, &end);
			if (*end != '\0' || end == value)
				return MODEL_PARSE_BAD_NUMBER;
			break;
		case MODEL_FIELD_INT32:
			if (!model_parse_integer(value, 0, INT32_MAX, &integer))
				return MODEL_PARSE_BAD_INTEGER;
			*MODEL_FIELD_PTR(header, f, int32_t) = (int32_t) integer;
			break;
		case MODEL_FIELD_HASH_BITS:
			/* what fits the header; model_check() says whether it is valid */
			if (!model_parse_integer(value, 0, INT16_MAX, &integer))
				return MODEL_PARSE_BAD_INTEGER;
			*MODEL_FIELD_PTR(header, f, int16_t) = (int16_t) integer;
			break;
		case MODEL_FIELD_BOOL:
			if (strcmp(value, "true") == 0)
				*MODEL_FIELD_PTR(header, f, uint8_t) = 1;
			else if (strcmp(value, "false") == 0)
				*MODEL_FIELD_PTR(header, f, uint8_t) = 0;
			else
				return MODEL_PARSE_BAD_BOOL;
			break;
		case MODEL_FIELD_FIELDS:
			for (int fields = FEATURES_FIELDS_FIRST;; fields++)
			{
				if (fields > FEATURES_FIELDS_LAST)
					return MODEL_PARSE_UNKNOWN_FIELDS;
				if (strcmp(value, model_feature_fields_name(fields)) == 0)
				{
					*MODEL_FIELD_PTR(header, f, uint8_t) = (uint8_t) fields;
					break;
				}
			}
			break;
	}
	return MODEL_PARSE_OK;
}

ModelParseStatus
model_parse_text(char *input, int max_weights,
				 void *(*grow) (void *ptr, size_t size, void *arg), void *grow_arg,
				 ModelTimestampFn read_timestamp, void *timestamp_arg,
				 ModelParseResult *result)
{
	char	   *p = input;
	char	   *value;
	int64_t		version;
	ModelParseStatus status;

	model_result_init(result);

	status = model_read_value(&p, "format", &value, result);
	if (status != MODEL_PARSE_OK)
		return status;
	if (!model_parse_integer(value, INT32_MIN, INT32_MAX, &version))
		return MODEL_PARSE_BAD_INTEGER;
	if (version < MODEL_FORMAT_OLDEST || version > MODEL_FORMAT_VERSION)
	{
		result->version = version;
		return MODEL_PARSE_VERSION;
	}
	result->header.version = (int32_t) version;

	for (int i = 0; i < model_num_fields; i++)
	{
		const ModelField *f = &model_fields[i];

		if (f->since > version)
			continue;
		status = model_read_value(&p, f->name, &value, result);
		if (status != MODEL_PARSE_OK)
			return status;
		result->field = f;
		status = model_parse_field(f, value, &result->header,
								   read_timestamp, timestamp_arg);
		if (status != MODEL_PARSE_OK)
			return status;
	}
	result->key = NULL;
	result->value = NULL;
	result->field = NULL;

	/* the rest is the weights, in fvec syntax */
	while (*p == ' ')
		p++;
	if (strncmp(p, "weights=", 8) != 0)
		return MODEL_PARSE_EXPECTED_WEIGHTS;
	result->weights_text = p + 8;
	result->weights_status = fvec_parse_text(result->weights_text, max_weights,
											 grow, grow_arg, &result->weights_parsed);
	if (result->weights_status != FVEC_PARSE_OK)
		return MODEL_PARSE_WEIGHTS;

	result->header.nnz = result->weights_parsed.n;
	result->indexes = result->weights_parsed.indexes;
	result->weights = result->weights_parsed.values;
	return model_check(&result->header, result->indexes, result->weights, result);
}

ModelParseStatus
model_decode_binary(const unsigned char *data, size_t len, int max_weights,
					FVecEntryAlloc alloc, void *alloc_arg, ModelParseResult *result)
{
	const unsigned char *p = data;
	const unsigned char *end = data + len;
	ModelHeader *header = &result->header;

	model_result_init(result);

	if (end - p < 4)
		return MODEL_PARSE_TRUNCATED;
	/* read as unsigned, as pq_getmsgint did: 0xffffffff is 4294967295 */
	result->version = wire_get_uint32(p);
	p += 4;
	if (result->version < MODEL_FORMAT_OLDEST || result->version > MODEL_FORMAT_VERSION)
		return MODEL_PARSE_VERSION;
	header->version = (int32_t) result->version;

	for (int i = 0; i < model_num_fields; i++)
	{
		const ModelField *f = &model_fields[i];
		uint32_t	setting;

		if (f->since > header->version)
			continue;
		switch (f->type)
		{
			case MODEL_FIELD_ID:
			case MODEL_FIELD_TIMESTAMP:
				if (end - p < 8)
					return MODEL_PARSE_TRUNCATED;
				*MODEL_FIELD_PTR(header, f, uint64_t) = wire_get_uint64(p);
				p += 8;
				break;
			case MODEL_FIELD_FLOAT8:
				if (end - p < 8)
					return MODEL_PARSE_TRUNCATED;
				*MODEL_FIELD_PTR(header, f, double) = wire_get_float8(p);
				p += 8;
				break;
			case MODEL_FIELD_SOLVER:
			case MODEL_FIELD_INT32:
				if (end - p < 4)
					return MODEL_PARSE_TRUNCATED;
				*MODEL_FIELD_PTR(header, f, int32_t) = (int32_t) wire_get_uint32(p);
				p += 4;
				break;
			case MODEL_FIELD_HASH_BITS:
			case MODEL_FIELD_BOOL:
			case MODEL_FIELD_FIELDS:
				if (end - p < 4)
					return MODEL_PARSE_TRUNCATED;
				setting = wire_get_uint32(p);
				p += 4;

				/*
				 * An int32 on the wire, narrower in the header: a value the
				 * header cannot hold becomes one model_check() refuses for
				 * the same reason (-1 bits, 255 for the others), so that no
				 * two inputs read as the same model.
				 */
				if (f->type == MODEL_FIELD_HASH_BITS)
					*MODEL_FIELD_PTR(header, f, int16_t) =
						setting <= FEATURES_MAX_HASH_BITS ? (int16_t) setting : -1;
				else
					*MODEL_FIELD_PTR(header, f, uint8_t) =
						setting <= 254 ? (uint8_t) setting : 255;
				break;
		}
	}
	if (end - p < 4)
		return MODEL_PARSE_TRUNCATED;
	header->nnz = (int32_t) wire_get_uint32(p);
	p += 4;
	if (header->nnz < 0 || header->nnz > max_weights)
		return MODEL_PARSE_COUNT_RANGE;
	/* exactly the weights: a count that promises more allocates nothing */
	result->weight_bytes = (size_t) (end - p);
	if (result->weight_bytes != (size_t) header->nnz * 8)
		return MODEL_PARSE_LENGTH;

	alloc(header->nnz, &result->indexes, &result->weights, alloc_arg);
	fvec_read_entries(p, header->nnz, result->indexes, result->weights);
	return model_check(header, result->indexes, result->weights, result);
}

void
model_encode_binary(unsigned char *out, const ModelHeader *header,
					const int32_t *indexes, const float *weights)
{
	unsigned char *p = out;

	wire_put_uint32(p, (uint32_t) header->version);
	p += 4;
	for (int i = 0; i < model_num_fields; i++)
	{
		const ModelField *f = &model_fields[i];

		if (f->since > header->version)
			continue;
		switch (f->type)
		{
			case MODEL_FIELD_ID:
			case MODEL_FIELD_TIMESTAMP:
				wire_put_uint64(p, *MODEL_FIELD_PTR(header, f, const uint64_t));
				p += 8;
				break;
			case MODEL_FIELD_FLOAT8:
				wire_put_float8(p, *MODEL_FIELD_PTR(header, f, const double));
				p += 8;
				break;
			case MODEL_FIELD_SOLVER:
			case MODEL_FIELD_INT32:
				wire_put_uint32(p, (uint32_t) *MODEL_FIELD_PTR(header, f, const int32_t));
				p += 4;
				break;
			case MODEL_FIELD_HASH_BITS:
				wire_put_uint32(p, (uint32_t) *MODEL_FIELD_PTR(header, f, const int16_t));
				p += 4;
				break;
			case MODEL_FIELD_BOOL:
			case MODEL_FIELD_FIELDS:
				wire_put_uint32(p, *MODEL_FIELD_PTR(header, f, const uint8_t));
				p += 4;
				break;
		}
	}
	wire_put_uint32(p, (uint32_t) header->nnz);
	fvec_write_entries(p + 4, header->nnz, indexes, weights);
}
