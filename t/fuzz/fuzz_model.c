/*-------------------------------------------------------------------------
 *
 * fuzz_model.c
 *	  libFuzzer target for the model text parser and binary decoder
 *	  (src/model_parse.c): every input is tried as both forms, in both
 *	  format versions (1, and 2 with the feature settings).
 *
 * Beyond "no crash, no sanitizer report":
 *	- an accepted model passes model_check() again;
 *	- an accepted binary input encodes back to exactly the same bytes;
 *	- an accepted model of either form, written in the other form and read
 *	  back, is the same model (header and weights bit for bit), and so is
 *	  one written again as text: the two forms accept the same models;
 *	- an accepted model keeps its format version through both forms, and
 *	  records feature settings exactly when it is format 2;
 *	- a rejected input names everything the backend's message prints
 *	  (key, value, field ...), as NUL-terminated strings inside the input,
 *	  and a rejected binary input allocated nothing unless its count and
 *	  length agreed.
 *
 * Two things are the backend's and are stubbed here: timestamps (see
 * read_timestamp()) and the content id, which model.c checks after
 * everything here passed; so the fuzzer reaches "accepted" without forging
 * hashes.  The text written back uses %.17g and %.9g, not the backend's
 * shortest-exact output (PostgreSQL's own code); both read back as the
 * same bits.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_parse.h"
#include "../lib/parse_alloc.h"

/*
 * The backend passes FVEC_MAX_NNZ or MODEL_MAX_NNZ (64M); a limit of 20 is
 * reached by short inputs, as in fuzz_fvec.c.
 */
#define MAX_WEIGHTS 20

/*
 * Stands in for timestamptz_in: "infinity" and "-infinity" as PostgreSQL
 * reads them, "@N" as N microseconds (what write_text() prints), and any
 * other string of digits and date punctuation as a hash of it; anything
 * else is refused.
 */
static int
read_timestamp(const char *text, int64_t *result, void *arg)
{
	uint64_t	hash = 14695981039346656037u;	/* FNV-1a */

	(void) arg;
	if (strcmp(text, "infinity") == 0)
		*result = INT64_MAX;
	else if (strcmp(text, "-infinity") == 0)
		*result = INT64_MIN;
	else if (text[0] == '@')
	{
		char	   *end;

		errno = 0;
		*result = strtoll(text + 1, &end, 10);
		if (end == text + 1 || *end != '\0' || errno != 0)
			return 0;
	}
	else if (strspn(text, "0123456789-:. +") == strlen(text))
	{
		for (const char *p = text; *p; p++)
			hash = (hash ^ (unsigned char) *p) * 1099511628211u;
		*result = (int64_t) (hash >> 2);	/* clear of the infinities */
	}
	else
		return 0;
	return 1;
}

/* The text form of a model, malloc'd. */
static char *
write_text(const ModelHeader *h, const int32_t *indexes, const float *weights)
{
	size_t		cap = 2048 + (size_t) h->nnz * 32;
	char	   *text = test_grow(NULL, cap, NULL);
	size_t		len = 0;

	len += snprintf(text + len, cap - len, "format=%d", h->version);
	for (int i = 0; i < model_num_fields; i++)
	{
		const ModelField *f = &model_fields[i];

		if (f->since > h->version)
			continue;
		len += snprintf(text + len, cap - len, " %s=", f->name);
		switch (f->type)
		{
			case MODEL_FIELD_ID:
				len += snprintf(text + len, cap - len, "%016llx", (unsigned long long) h->id);
				break;
			case MODEL_FIELD_SOLVER:
				len += snprintf(text + len, cap - len, "%s", model_solver_name(h->solver));
				break;
			case MODEL_FIELD_TIMESTAMP:
				len += snprintf(text + len, cap - len, "\"@%lld\"", (long long) h->trained_at);
				break;
			case MODEL_FIELD_FLOAT8:
				len += snprintf(text + len, cap - len, "%.17g",
								*MODEL_FIELD_PTR(h, f, const double));
				break;
			case MODEL_FIELD_INT32:
				len += snprintf(text + len, cap - len, "%d",
								*MODEL_FIELD_PTR(h, f, const int32_t));
				break;
			case MODEL_FIELD_HASH_BITS:
				len += snprintf(text + len, cap - len, "%d",
								(int) *MODEL_FIELD_PTR(h, f, const int16_t));
				break;
			case MODEL_FIELD_BOOL:
				len += snprintf(text + len, cap - len, "%s",
								*MODEL_FIELD_PTR(h, f, const uint8_t) ? "true" : "false");
				break;
			case MODEL_FIELD_FIELDS:
				len += snprintf(text + len, cap - len, "%s",
								model_feature_fields_name(*MODEL_FIELD_PTR(h, f, const uint8_t)));
				break;
		}
	}
	len += snprintf(text + len, cap - len, " weights={");
	for (int i = 0; i < h->nnz; i++)
		len += snprintf(text + len, cap - len, "%s%d:%.9g", i ? "," : "",
						indexes[i], (double) weights[i]);
	snprintf(text + len, cap - len, "}");
	return text;
}

static int
same_model(const ModelParseResult *a, const ModelParseResult *b)
{
	size_t		n = (size_t) a->header.nnz;

	return memcmp(&a->header, &b->header, sizeof(ModelHeader)) == 0 &&
		memcmp(a->indexes, b->indexes, sizeof(int32_t) * n) == 0 &&
		memcmp(a->weights, b->weights, sizeof(float) * n) == 0;
}

/* Everything that holds of an accepted model, whichever form it came in. */
static void
check_accepted(const ModelParseResult *r)
{
	ModelParseResult again;
	size_t		size = MODEL_BINARY_SIZE(r->header.version, r->header.nnz);
	unsigned char *bytes = test_grow(NULL, size, NULL);
	char	   *text;

	if (r->header.nnz < 0 || r->header.nnz > MAX_WEIGHTS ||
		model_check(&r->header, r->indexes, r->weights, &again) != MODEL_PARSE_OK)
		abort();
	/* settings exactly in format 2, and then valid ones */
	if (r->header.version < MODEL_FORMAT_OLDEST || r->header.version > MODEL_FORMAT_VERSION)
		abort();
	if (r->header.version == 1 ?
		(r->header.hash_bits != 0 || r->header.binary != 0 || r->header.fields != 0) :
		(r->header.hash_bits < FEATURES_MIN_HASH_BITS || r->header.hash_bits > FEATURES_MAX_HASH_BITS ||
		 r->header.binary > 1 || model_feature_fields_name(r->header.fields) == NULL))
		abort();

	model_encode_binary(bytes, &r->header, r->indexes, r->weights);
	if (model_decode_binary(bytes, size, MAX_WEIGHTS, test_alloc_entries, NULL, &again) != MODEL_PARSE_OK ||
		!same_model(r, &again))
		abort();
	free(again.indexes);
	free(again.weights);
	free(bytes);

	text = write_text(&r->header, r->indexes, r->weights);
	if (model_parse_text(text, MAX_WEIGHTS, test_grow, NULL, read_timestamp, NULL, &again) != MODEL_PARSE_OK ||
		!same_model(r, &again))
		abort();
	free(again.weights_parsed.indexes);
	free(again.weights_parsed.values);
	free(text);
}

/* A string the backend's message prints: present, and ending inside its buffer. */
static void
check_string(const char *s)
{
	if (s == NULL || strlen(s) > 65536)
		abort();
}

/* What model.c's error report reads for each failure is there. */
static void
check_rejected(ModelParseStatus status, const ModelParseResult *r)
{
	switch (status)
	{
		case MODEL_PARSE_OK:
			break;
		case MODEL_PARSE_EXPECTED_KEY:
			check_string(r->key);
			check_string(r->at);
			break;
		case MODEL_PARSE_UNTERMINATED:
		case MODEL_PARSE_EMPTY_VALUE:
			check_string(r->key);
			break;
		case MODEL_PARSE_BAD_INTEGER:
		case MODEL_PARSE_BAD_NUMBER:
			check_string(r->key);
			check_string(r->value);
			break;
		case MODEL_PARSE_BAD_BOOL:
			check_string(r->key);
			check_string(r->value);
			break;
		case MODEL_PARSE_BAD_ID:
		case MODEL_PARSE_UNKNOWN_SOLVER:
		case MODEL_PARSE_BAD_TIMESTAMP:
		case MODEL_PARSE_UNKNOWN_FIELDS:
			check_string(r->value);
			break;
		case MODEL_PARSE_EXPECTED_WEIGHTS:
			break;
		case MODEL_PARSE_WEIGHTS:
			check_string(r->weights_text);
			if (r->weights_status == FVEC_PARSE_OK)
				abort();
			break;
		case MODEL_PARSE_TRUNCATED:
			break;
		case MODEL_PARSE_COUNT_RANGE:
			if (r->header.nnz >= 0 && r->header.nnz <= MAX_WEIGHTS)
				abort();
			break;
		case MODEL_PARSE_LENGTH:
			if (r->weight_bytes == (size_t) r->header.nnz * 8)
				abort();
			break;
		case MODEL_PARSE_VERSION:
			if (r->version >= MODEL_FORMAT_OLDEST && r->version <= MODEL_FORMAT_VERSION)
				abort();
			break;
		case MODEL_INVALID_NOT_FINITE:
			if (r->field == NULL || r->field->type != MODEL_FIELD_FLOAT8)
				abort();
			check_string(r->field->name);
			break;
		case MODEL_INVALID_NEGATIVE:
			if (r->field == NULL || r->field->type != MODEL_FIELD_INT32)
				abort();
			check_string(r->field->name);
			break;
		case MODEL_INVALID_SOLVER:
		case MODEL_INVALID_TRAINED_AT:
		case MODEL_INVALID_TRAINED_AT_RANGE:
		case MODEL_INVALID_NOT_POSITIVE:
		case MODEL_INVALID_CONVERGED:
			break;
		case MODEL_INVALID_RESERVED:
			/* no input of either form can set format 1's reserved bytes */
			abort();
			break;
		case MODEL_INVALID_HASH_BITS:
		case MODEL_INVALID_BINARY:
		case MODEL_INVALID_FIELDS:
			if (r->header.version < 2)
				abort();
			break;
		case MODEL_INVALID_WEIGHT_ORDER:
		case MODEL_INVALID_WEIGHT_NOT_FINITE:
			break;
	}
}

static void
fuzz_text(const uint8_t *data, size_t size)
{
	char	   *input = test_cstring(data, size);
	ModelParseResult r;
	ModelParseStatus status;

	status = model_parse_text(input, MAX_WEIGHTS, test_grow, NULL, read_timestamp, NULL, &r);
	if (status == MODEL_PARSE_OK)
		check_accepted(&r);
	else
		check_rejected(status, &r);
	free(r.weights_parsed.indexes);
	free(r.weights_parsed.values);
	free(input);
}

static void
fuzz_binary(const uint8_t *data, size_t size)
{
	ModelParseResult r;
	ModelParseStatus status;
	unsigned char *again;

	status = model_decode_binary(data, size, MAX_WEIGHTS, test_alloc_entries, NULL, &r);
	if (status == MODEL_PARSE_OK)
	{
		check_accepted(&r);
		again = test_grow(NULL, size, NULL);
		if (MODEL_BINARY_SIZE(r.header.version, r.header.nnz) != size)
			abort();
		model_encode_binary(again, &r.header, r.indexes, r.weights);
		if (memcmp(again, data, size) != 0)
			abort();
		free(again);
	}
	else
	{
		check_rejected(status, &r);
		/* nothing allocated before the count and length agree */
		if ((status == MODEL_PARSE_TRUNCATED || status == MODEL_PARSE_VERSION ||
			 status == MODEL_PARSE_COUNT_RANGE || status == MODEL_PARSE_LENGTH) &&
			r.indexes != NULL)
			abort();
	}
	free(r.indexes);
	free(r.weights);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_text(data, size);
	fuzz_binary(data, size);
	return 0;
}
