/*-------------------------------------------------------------------------
 *
 * fvec_parse.h
 *	  Parsing the text form of an fvec, {12:1,407:0.5}.
 *
 * Plain C with no PostgreSQL headers, so the parser of this untrusted
 * input can be fuzzed on its own (t/fuzz/fuzz_fvec.c); fvec.c turns its
 * results into values and its failures into ereport()s.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_FVEC_PARSE_H
#define PGLEARN_FVEC_PARSE_H

#include <stddef.h>
#include <stdint.h>

typedef enum FVecParseStatus
{
	FVEC_PARSE_OK = 0,
	FVEC_PARSE_EXPECTED_OPEN,	/* no "{" at the start */
	FVEC_PARSE_EXPECTED_INDEX,	/* no non-negative integer where an index goes */
	FVEC_PARSE_INDEX_RANGE,		/* an index above INT32_MAX */
	FVEC_PARSE_EXPECTED_COLON,	/* no ":" after an index */
	FVEC_PARSE_EXPECTED_NUMBER, /* no number after ":" */
	FVEC_PARSE_VALUE_RANGE,		/* NaN, infinite, or beyond float4 */
	FVEC_PARSE_DUPLICATE,		/* an index given twice */
	FVEC_PARSE_OUT_OF_ORDER,	/* an index below the one before it */
	FVEC_PARSE_TOO_MANY,		/* more than max_entries entries */
	FVEC_PARSE_EXPECTED_SEPARATOR,	/* no "," or "}" after a value */
	FVEC_PARSE_TRAILING			/* characters after the closing "}" */
} FVecParseStatus;

typedef struct FVecParseResult
{
	int			n;				/* entries parsed */
	int32_t    *indexes;		/* from grow(): strictly increasing */
	float	   *values;			/* from grow(): finite */
	int64_t		bad_index;		/* the index at fault, where one is */
} FVecParseResult;

/*
 * Parse 'input' (NUL-terminated).  Entry arrays are obtained and enlarged
 * through grow(ptr, size, arg), realloc-like, which must not return NULL
 * (raise instead).  On failure the arrays hold what was parsed so far.
 */
extern FVecParseStatus fvec_parse_text(const char *input, int max_entries,
									   void *(*grow) (void *ptr, size_t size, void *arg),
									   void *grow_arg, FVecParseResult *result);

#endif							/* PGLEARN_FVEC_PARSE_H */
