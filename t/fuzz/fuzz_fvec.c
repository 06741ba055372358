/*-------------------------------------------------------------------------
 *
 * fuzz_fvec.c
 *	  libFuzzer target for the fvec text parser and binary decoder
 *	  (src/fvec_parse.c): every input is tried as both forms.
 *
 * Beyond "no crash, no sanitizer report":
 *	- an accepted vector has strictly increasing non-negative indexes and
 *	  finite values;
 *	- an accepted binary input encodes back to exactly the same bytes, and
 *	  its text form (nine significant digits, enough for any float) parses
 *	  back to the same bits;
 *	- an accepted text input encodes to binary that decodes to the same
 *	  bits: the two forms accept the same vectors;
 *	- a rejected binary input allocated nothing unless its count and
 *	  length agreed, and names the fault the backend's message prints.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fvec_parse.h"
#include "../lib/parse_alloc.h"

/*
 * The backend passes FVEC_MAX_NNZ (64M).  A limit of 20 is reached by short
 * inputs in both forms (a thousand strictly increasing indexes were never
 * found in 70 million runs) and is still past the text parser's first
 * 16-entry arrays.
 */
#define MAX_ENTRIES 20

static void
check_entries(int n, const int32_t *indexes, const float *values)
{
	for (int i = 0; i < n; i++)
		if (indexes[i] < 0 || (i > 0 && indexes[i] <= indexes[i - 1]) ||
			!isfinite(values[i]))
			abort();
}

static int
same_entries(int n, const int32_t *indexes, const float *values,
			 int n2, const int32_t *indexes2, const float *values2)
{
	return n == n2 &&
		memcmp(indexes, indexes2, sizeof(int32_t) * (size_t) n) == 0 &&
		memcmp(values, values2, sizeof(float) * (size_t) n) == 0;
}

/* Text printed with nine significant digits parses back to the same bits. */
static void
check_text_round_trip(int n, const int32_t *indexes, const float *values)
{
	size_t		cap = 3 + (size_t) n * 32;	/* braces, NUL */
	char	   *text = test_grow(NULL, cap, NULL);
	size_t		len = 0;
	FVecParseResult again;

	len += snprintf(text + len, cap - len, "{");
	for (int i = 0; i < n; i++)
		len += snprintf(text + len, cap - len, "%s%d:%.9g", i ? "," : "",
						indexes[i], (double) values[i]);
	snprintf(text + len, cap - len, "}");

	if (fvec_parse_text(text, MAX_ENTRIES, test_grow, NULL, &again) != FVEC_PARSE_OK ||
		!same_entries(n, indexes, values, again.n, again.indexes, again.values))
		abort();
	free(again.indexes);
	free(again.values);
	free(text);
}

/* Encoded and decoded, the entries come back the same bits. */
static unsigned char *
check_binary_round_trip(int n, const int32_t *indexes, const float *values)
{
	size_t		size = FVEC_BINARY_SIZE(n);
	unsigned char *bytes = test_grow(NULL, size, NULL);
	FVecRecvResult again;

	fvec_encode_binary(bytes, n, indexes, values);
	if (fvec_decode_binary(bytes, size, MAX_ENTRIES, test_alloc_entries, NULL, &again) != FVEC_RECV_OK ||
		!same_entries(n, indexes, values, again.n, again.indexes, again.values))
		abort();
	free(again.indexes);
	free(again.values);
	return bytes;
}

static void
fuzz_text(const uint8_t *data, size_t size)
{
	char	   *input = test_cstring(data, size);
	FVecParseResult r;

	if (fvec_parse_text(input, MAX_ENTRIES, test_grow, NULL, &r) == FVEC_PARSE_OK)
	{
		check_entries(r.n, r.indexes, r.values);
		check_text_round_trip(r.n, r.indexes, r.values);
		free(check_binary_round_trip(r.n, r.indexes, r.values));
	}
	free(r.indexes);
	free(r.values);
	free(input);
}

static void
fuzz_binary(const uint8_t *data, size_t size)
{
	FVecRecvResult r;
	FVecRecvStatus status;
	unsigned char *again;

	status = fvec_decode_binary(data, size, MAX_ENTRIES, test_alloc_entries, NULL, &r);
	switch (status)
	{
		case FVEC_RECV_OK:
			check_entries(r.n, r.indexes, r.values);
			again = check_binary_round_trip(r.n, r.indexes, r.values);
			if (FVEC_BINARY_SIZE(r.n) != size || memcmp(again, data, size) != 0)
				abort();
			free(again);
			check_text_round_trip(r.n, r.indexes, r.values);
			break;
		case FVEC_RECV_TRUNCATED:
			if (size >= 4 || r.indexes != NULL)
				abort();
			break;
		case FVEC_RECV_COUNT_RANGE:
			if ((r.n >= 0 && r.n <= MAX_ENTRIES) || r.indexes != NULL)
				abort();
			break;
		case FVEC_RECV_LENGTH:
			if (r.entry_bytes == (size_t) r.n * 8 || r.entry_bytes != size - 4 ||
				r.indexes != NULL)
				abort();
			break;
		case FVEC_RECV_NEGATIVE_INDEX:
		case FVEC_RECV_NOT_INCREASING:
		case FVEC_RECV_NOT_FINITE:
			if (r.indexes == NULL)
				abort();
			break;
	}
	free(r.indexes);
	free(r.values);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_text(data, size);
	fuzz_binary(data, size);
	return 0;
}
