/*-------------------------------------------------------------------------
 *
 * fvec_parse.c
 *	  The fvec text parser: '{}' or '{i:v,i:v,...}' with optional
 *	  whitespace, indexes strictly increasing non-negative int32, values
 *	  finite float4.
 *
 * Sorted input is required rather than sorted here, so that text round
 * trips are exact and a typo never silently merges two features.  Explicit
 * zeros are kept as written, for the same reason.
 *
 *-------------------------------------------------------------------------
 */
#include "fvec_parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

static const char *
skip_space(const char *p)
{
	while (isspace((unsigned char) *p))
		p++;
	return p;
}

FVecParseStatus
fvec_parse_text(const char *input, int max_entries,
				void *(*grow) (void *ptr, size_t size, void *arg),
				void *grow_arg, FVecParseResult *result)
{
	const char *p = skip_space(input);
	int			capacity = 16;

	result->n = 0;
	result->bad_index = -1;
	result->indexes = grow(NULL, sizeof(int32_t) * capacity, grow_arg);
	result->values = grow(NULL, sizeof(float) * capacity, grow_arg);

	if (*p != '{')
		return FVEC_PARSE_EXPECTED_OPEN;
	p = skip_space(p + 1);

	if (*p != '}')
	{
		for (;;)
		{
			long long	index;
			float		value;
			char	   *end;

			p = skip_space(p);
			if (!isdigit((unsigned char) *p))
				return FVEC_PARSE_EXPECTED_INDEX;
			errno = 0;
			index = strtoll(p, &end, 10);
			if (errno == ERANGE || index > INT32_MAX)
				return FVEC_PARSE_INDEX_RANGE;
			result->bad_index = index;
			p = skip_space(end);
			if (*p != ':')
				return FVEC_PARSE_EXPECTED_COLON;
			p = skip_space(p + 1);
			errno = 0;
			value = strtof(p, &end);
			if (end == p)
				return FVEC_PARSE_EXPECTED_NUMBER;
			/* strtof reports underflow to denormals as ERANGE too: keep those */
			if (!isfinite(value) || (errno == ERANGE && fabsf(value) > 1.0f))
				return FVEC_PARSE_VALUE_RANGE;
			p = end;

			if (result->n > 0 && index <= result->indexes[result->n - 1])
				return index == result->indexes[result->n - 1] ?
					FVEC_PARSE_DUPLICATE : FVEC_PARSE_OUT_OF_ORDER;
			if (result->n >= max_entries)
				return FVEC_PARSE_TOO_MANY;
			if (result->n == capacity)
			{
				capacity *= 2;
				result->indexes = grow(result->indexes, sizeof(int32_t) * (size_t) capacity, grow_arg);
				result->values = grow(result->values, sizeof(float) * (size_t) capacity, grow_arg);
			}
			result->indexes[result->n] = (int32_t) index;
			result->values[result->n] = value;
			result->n++;

			p = skip_space(p);
			if (*p == ',')
			{
				p++;
				continue;
			}
			if (*p == '}')
				break;
			return FVEC_PARSE_EXPECTED_SEPARATOR;
		}
	}
	result->bad_index = -1;
	p = skip_space(p + 1);		/* past the closing brace */
	if (*p != '\0')
		return FVEC_PARSE_TRAILING;
	return FVEC_PARSE_OK;
}
