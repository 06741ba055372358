/*-------------------------------------------------------------------------
 *
 * fuzz_fvec.c
 *	  libFuzzer target for the fvec text parser (src/fvec_parse.c).
 *
 * Beyond "no crash, no sanitizer report": an accepted vector has strictly
 * increasing non-negative indexes and finite values, and printing it with
 * nine significant digits (enough for any float) parses back to the same
 * bits.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fvec_parse.h"

#define MAX_ENTRIES 100000

static void *
grow(void *ptr, size_t size, void *arg)
{
	void	   *p = realloc(ptr, size);

	(void) arg;
	if (p == NULL)
		abort();
	return p;
}

static void
check_round_trip(const FVecParseResult *r)
{
	size_t		cap = 3 + (size_t) r->n * 32;	/* braces, NUL */
	char	   *text = malloc(cap);
	size_t		len = 0;
	FVecParseResult again;

	len += snprintf(text + len, cap - len, "{");
	for (int i = 0; i < r->n; i++)
		len += snprintf(text + len, cap - len, "%s%d:%.9g", i ? "," : "",
						r->indexes[i], (double) r->values[i]);
	snprintf(text + len, cap - len, "}");

	if (fvec_parse_text(text, MAX_ENTRIES, grow, NULL, &again) != FVEC_PARSE_OK ||
		again.n != r->n ||
		memcmp(again.indexes, r->indexes, sizeof(int32_t) * r->n) != 0 ||
		memcmp(again.values, r->values, sizeof(float) * r->n) != 0)
		abort();
	free(again.indexes);
	free(again.values);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *input = malloc(size + 1);
	FVecParseResult r;

	memcpy(input, data, size);
	input[size] = '\0';
	if (fvec_parse_text(input, MAX_ENTRIES, grow, NULL, &r) == FVEC_PARSE_OK)
	{
		for (int i = 0; i < r.n; i++)
			if (r.indexes[i] < 0 || (i > 0 && r.indexes[i] <= r.indexes[i - 1]) ||
				!isfinite(r.values[i]))
				abort();
		check_round_trip(&r);
	}
	free(r.indexes);
	free(r.values);
	free(input);
	return 0;
}
