/*-------------------------------------------------------------------------
 *
 * fvec_parse.h
 *	  Reading the text form of an fvec, {12:1,407:0.5}, and reading and
 *	  writing its binary form.
 *
 * Plain C with no PostgreSQL headers, so the parsers of this untrusted
 * input can be fuzzed and unit-tested on their own (t/fuzz/fuzz_fvec.c,
 * t/unit/test_serial.c); fvec.c turns their results into values and their
 * failures into ereport()s.  Printing the text form needs
 * PostgreSQL's shortest-exact float output and stays in fvec.c.
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

/*
 * The binary form, as fvec_send writes it: int32 entry count n, then n int32
 * indexes, then n float4 values, all big-endian.  The "entries" (indexes,
 * then values) are laid out the same way in a model's binary form.
 */
#define FVEC_BINARY_SIZE(n)		(4 + (size_t) (n) * 8)

typedef enum FVecRecvStatus
{
	FVEC_RECV_OK = 0,
	FVEC_RECV_TRUNCATED,		/* fewer than 4 bytes: no entry count */
	FVEC_RECV_COUNT_RANGE,		/* entry count negative or above max_entries */
	FVEC_RECV_LENGTH,			/* entry bytes other than 8 per entry */
	FVEC_RECV_NEGATIVE_INDEX,	/* an index below 0 */
	FVEC_RECV_NOT_INCREASING,	/* an index not above the one before it */
	FVEC_RECV_NOT_FINITE		/* a NaN or infinite value */
} FVecRecvStatus;

typedef struct FVecRecvResult
{
	int			n;				/* entry count as read, even when out of range */
	int32_t    *indexes;		/* from alloc(), once count and length are right */
	float	   *values;			/* likewise */
	size_t		entry_bytes;	/* bytes after the count */
	int32_t		bad_index;		/* the index at fault, for the last three */
} FVecRecvResult;

/*
 * Room for n decoded entries: sets *indexes and *values to arrays of n
 * elements each, and must not fail (raise instead).  The backend points
 * them into the final varlena, so a large value is never copied twice.
 */
typedef void (*FVecEntryAlloc) (int n, int32_t **indexes, float **values, void *arg);

/*
 * Decode the binary form in data[0..len): all of it must be the one value.
 * Storage comes from alloc() only after the count has been checked against
 * max_entries and the length against the count, so it is never more than
 * len bytes' worth.  On success the entries are checked as by
 * fvec_check_entries().
 */
extern FVecRecvStatus fvec_decode_binary(const unsigned char *data, size_t len,
										 int max_entries, FVecEntryAlloc alloc,
										 void *alloc_arg, FVecRecvResult *result);

/* Write the binary form of n entries to out, FVEC_BINARY_SIZE(n) bytes. */
extern void fvec_encode_binary(unsigned char *out, int n,
							   const int32_t *indexes, const float *values);

/* Read or write n entries alone (8 * n bytes), without the count. */
extern void fvec_read_entries(const unsigned char *data, int n,
							  int32_t *indexes, float *values);
extern void fvec_write_entries(unsigned char *out, int n,
							   const int32_t *indexes, const float *values);

/*
 * The invariants of every fvec, for entries we did not produce: indexes
 * non-negative and strictly increasing, values finite.  Entries are checked
 * in order, each first for its index and then for its value; the first
 * defect is returned, with its index in *bad_index.
 */
extern FVecRecvStatus fvec_check_entries(int n, const int32_t *indexes,
										 const float *values, int32_t *bad_index);

#endif							/* PGLEARN_FVEC_PARSE_H */
