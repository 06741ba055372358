/*-------------------------------------------------------------------------
 *
 * fvec_parse.c
 *	  The fvec text parser: '{}' or '{i:v,i:v,...}' with optional
 *	  whitespace, indexes strictly increasing non-negative int32, values
 *	  finite float4; and the decoder and encoder of the binary form.
 *
 * Sorted input is required rather than sorted here, so that text round
 * trips are exact and a typo never silently merges two features.  Explicit
 * zeros are kept as written, for the same reason.  Both forms accept
 * exactly the same set of vectors.
 *
 *-------------------------------------------------------------------------
 */
#include "fvec_parse.h"
#include "wire.h"

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

FVecRecvStatus
fvec_check_entries(int n, const int32_t *indexes, const float *values,
				   int32_t *bad_index)
{
	for (int i = 0; i < n; i++)
	{
		FVecRecvStatus status = FVEC_RECV_OK;

		if (indexes[i] < 0)
			status = FVEC_RECV_NEGATIVE_INDEX;
		else if (i > 0 && indexes[i] <= indexes[i - 1])
			status = FVEC_RECV_NOT_INCREASING;
		else if (!isfinite(values[i]))
			status = FVEC_RECV_NOT_FINITE;
		if (status != FVEC_RECV_OK)
		{
			*bad_index = indexes[i];
			return status;
		}
	}
	return FVEC_RECV_OK;
}

void
fvec_read_entries(const unsigned char *data, int n, int32_t *indexes, float *values)
{
	for (int i = 0; i < n; i++)
		indexes[i] = (int32_t) wire_get_uint32(data + 4 * (size_t) i);
	data += 4 * (size_t) n;
	for (int i = 0; i < n; i++)
		values[i] = wire_get_float4(data + 4 * (size_t) i);
}

void
fvec_write_entries(unsigned char *out, int n, const int32_t *indexes, const float *values)
{
	for (int i = 0; i < n; i++)
		wire_put_uint32(out + 4 * (size_t) i, (uint32_t) indexes[i]);
	out += 4 * (size_t) n;
	for (int i = 0; i < n; i++)
		wire_put_float4(out + 4 * (size_t) i, values[i]);
}

FVecRecvStatus
fvec_decode_binary(const unsigned char *data, size_t len, int max_entries,
				   FVecEntryAlloc alloc, void *alloc_arg, FVecRecvResult *result)
{
	result->n = 0;
	result->indexes = NULL;
	result->values = NULL;
	result->entry_bytes = 0;
	result->bad_index = -1;

	if (len < 4)
		return FVEC_RECV_TRUNCATED;
	result->n = (int32_t) wire_get_uint32(data);
	if (result->n < 0 || result->n > max_entries)
		return FVEC_RECV_COUNT_RANGE;
	/* exactly the entries, so a count the data does not back allocates nothing */
	result->entry_bytes = len - 4;
	if (result->entry_bytes != (size_t) result->n * 8)
		return FVEC_RECV_LENGTH;

	alloc(result->n, &result->indexes, &result->values, alloc_arg);
	fvec_read_entries(data + 4, result->n, result->indexes, result->values);
	return fvec_check_entries(result->n, result->indexes, result->values,
							  &result->bad_index);
}

void
fvec_encode_binary(unsigned char *out, int n, const int32_t *indexes, const float *values)
{
	wire_put_uint32(out, (uint32_t) n);
	fvec_write_entries(out + 4, n, indexes, values);
}
