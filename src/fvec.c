/*-------------------------------------------------------------------------
 *
 * fvec.c
 *	  The sparse feature vector type: text and binary I/O, construction
 *	  from unsorted pairs, and small accessors.
 *
 * This file owns the representation of pglearn.fvec and its errors; the
 * grammar of the text form, the byte layout of the binary form and the
 * checks of untrusted entries are fvec_parse.c's, in plain C so that they
 * can be fuzzed and unit-tested without a server.  Turning articles into
 * vectors is features.c's business; using them to train or score is
 * train.c's and classify.c's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "fvec.h"
#include "fvec_parse.h"

PG_FUNCTION_INFO_V1(pglearn_fvec_in);
PG_FUNCTION_INFO_V1(pglearn_fvec_out);
PG_FUNCTION_INFO_V1(pglearn_fvec_recv);
PG_FUNCTION_INFO_V1(pglearn_fvec_send);
PG_FUNCTION_INFO_V1(pglearn_fvec_nnz);
PG_FUNCTION_INFO_V1(pglearn_fvec_cosine);

FVec *
fvec_allocate(int nnz)
{
	FVec	   *v;

	if (nnz < 0 || nnz > FVEC_MAX_NNZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("fvec cannot have %d entries", nnz),
				 errdetail("The maximum is %d entries.", FVEC_MAX_NNZ)));

	v = (FVec *) palloc0(FVEC_SIZE(nnz));
	SET_VARSIZE(v, FVEC_SIZE(nnz));
	v->nnz = nnz;
	return v;
}

typedef struct FVecPair
{
	int32		index;
	float4		value;
} FVecPair;

static int
fvec_pair_cmp(const void *a, const void *b)
{
	int32		ia = ((const FVecPair *) a)->index;
	int32		ib = ((const FVecPair *) b)->index;

	return (ia > ib) - (ia < ib);
}

FVec *
fvec_from_pairs(int32 *indexes, float4 *values, int n)
{
	FVecPair   *pairs;
	FVec	   *v;
	float4	   *out_values;
	int			nnz = 0;
	int			i;

	if (n == 0)
		return fvec_allocate(0);

	pairs = palloc_extended(sizeof(FVecPair) * (Size) n, MCXT_ALLOC_HUGE);
	for (i = 0; i < n; i++)
	{
		pairs[i].index = indexes[i];
		pairs[i].value = values[i];
	}
	qsort(pairs, n, sizeof(FVecPair), fvec_pair_cmp);

	/* sum duplicates in place */
	for (i = 0; i < n; i++)
	{
		if (nnz > 0 && pairs[nnz - 1].index == pairs[i].index)
			pairs[nnz - 1].value += pairs[i].value;
		else
			pairs[nnz++] = pairs[i];
	}

	/* drop the zeros the sums may have produced */
	n = nnz;
	nnz = 0;
	for (i = 0; i < n; i++)
		if (pairs[i].value != 0.0f)
			pairs[nnz++] = pairs[i];

	v = fvec_allocate(nnz);
	out_values = FVEC_VALUES(v);
	for (i = 0; i < nnz; i++)
	{
		v->indexes[i] = pairs[i].index;
		out_values[i] = pairs[i].value;
	}
	pfree(pairs);
	return v;
}

static void
fvec_syntax_error(const char *input, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type fvec: \"%s\"", input),
			 errdetail("%s", what),
			 errhint("An fvec looks like {12:1,407:0.5}: index:value pairs with increasing indexes.")));
}

void *
fvec_parse_grow(void *ptr, size_t size, void *arg)
{
	if (ptr == NULL)
		return palloc_extended(size, MCXT_ALLOC_HUGE);
	return repalloc_huge(ptr, size);
}

/*
 * Raise the error for a failed fvec_parse_text() of input.  Model input
 * reports its weights, written in fvec syntax, through here too.
 */
void
fvec_report_parse_error(FVecParseStatus status, const FVecParseResult *parsed,
						const char *input)
{
	long long	bad = (long long) parsed->bad_index;

	switch (status)
	{
		case FVEC_PARSE_OK:
			break;
		case FVEC_PARSE_EXPECTED_OPEN:
			fvec_syntax_error(input, "Expected \"{\" at the start.");
			break;
		case FVEC_PARSE_EXPECTED_INDEX:
			fvec_syntax_error(input, "Expected a non-negative integer index.");
			break;
		case FVEC_PARSE_INDEX_RANGE:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("fvec index out of range in \"%s\"", input),
					 errdetail("Indexes must be between 0 and %d.", PG_INT32_MAX)));
			break;
		case FVEC_PARSE_EXPECTED_COLON:
			fvec_syntax_error(input, "Expected \":\" after an index.");
			break;
		case FVEC_PARSE_EXPECTED_NUMBER:
			fvec_syntax_error(input, "Expected a number after \":\".");
			break;
		case FVEC_PARSE_VALUE_RANGE:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("fvec value for index %lld is not a finite float4 in \"%s\"", bad, input),
					 errhint("NaN and infinite values are not allowed in a feature vector.")));
			break;
		case FVEC_PARSE_DUPLICATE:
		case FVEC_PARSE_OUT_OF_ORDER:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type fvec: \"%s\"", input),
					 errdetail(status == FVEC_PARSE_DUPLICATE ?
							   "Index %lld appears twice." : "Index %lld is out of order.", bad),
					 errhint("List indexes in strictly increasing order.")));
			break;
		case FVEC_PARSE_TOO_MANY:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("fvec has too many entries"),
					 errdetail("The maximum is %d entries.", FVEC_MAX_NNZ)));
			break;
		case FVEC_PARSE_EXPECTED_SEPARATOR:
			fvec_syntax_error(input, "Expected \",\" or \"}\" after a value.");
			break;
		case FVEC_PARSE_TRAILING:
			fvec_syntax_error(input, "Unexpected characters after \"}\".");
			break;
	}
	elog(ERROR, "unexpected fvec parse status %d", (int) status);
}

/* Text input; the grammar is fvec_parse.c's. */
Datum
pglearn_fvec_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);
	FVecParseResult parsed;
	FVecParseStatus status;
	FVec	   *v;

	status = fvec_parse_text(input, FVEC_MAX_NNZ, fvec_parse_grow, NULL, &parsed);
	if (status != FVEC_PARSE_OK)
		fvec_report_parse_error(status, &parsed, input);

	v = fvec_allocate(parsed.n);
	memcpy(v->indexes, parsed.indexes, sizeof(int32) * parsed.n);
	memcpy(FVEC_VALUES(v), parsed.values, sizeof(float4) * parsed.n);
	PG_RETURN_FVEC_P(v);
}

Datum
pglearn_fvec_out(PG_FUNCTION_ARGS)
{
	FVec	   *v = PG_GETARG_FVEC_P(0);
	float4	   *values = FVEC_VALUES(v);
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	enlargeStringInfo(&buf, v->nnz * 20 + 2);
	appendStringInfoChar(&buf, '{');
	for (i = 0; i < v->nnz; i++)
	{
		char		number[FLOAT_SHORTEST_DECIMAL_LEN];

		if (i > 0)
			appendStringInfoChar(&buf, ',');
		/* shortest text that reads back as the identical float4 */
		float_to_shortest_decimal_buf(values[i], number);
		appendStringInfo(&buf, "%d:%s", v->indexes[i], number);
	}
	appendStringInfoChar(&buf, '}');
	PG_RETURN_CSTRING(buf.data);
}

/* Binary entries are decoded straight into the fvec that will be returned. */
static void
fvec_recv_alloc(int n, int32_t **indexes, float **values, void *arg)
{
	FVec	  **v = (FVec **) arg;

	*v = fvec_allocate(n);
	*indexes = (*v)->indexes;
	*values = FVEC_VALUES(*v);
}

/* Binary input; the layout is fvec_parse.h's. */
Datum
pglearn_fvec_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	FVec	   *v = NULL;
	FVecRecvResult r;

	switch (fvec_decode_binary((const unsigned char *) buf->data + buf->cursor,
							   buf->len - buf->cursor, FVEC_MAX_NNZ,
							   fvec_recv_alloc, &v, &r))
	{
		case FVEC_RECV_OK:
			break;
		case FVEC_RECV_TRUNCATED:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid binary fvec: truncated header")));
			break;
		case FVEC_RECV_COUNT_RANGE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid binary fvec: entry count %d out of range", r.n)));
			break;
		case FVEC_RECV_LENGTH:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid binary fvec: expected %d bytes of entries, got %d",
							r.n * 8, (int) r.entry_bytes)));
			break;
		case FVEC_RECV_NEGATIVE_INDEX:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid fvec: negative index %d", r.bad_index)));
			break;
		case FVEC_RECV_NOT_INCREASING:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid fvec: indexes not strictly increasing at %d", r.bad_index)));
			break;
		case FVEC_RECV_NOT_FINITE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid fvec: value at index %d is not finite", r.bad_index)));
			break;
	}
	/* the whole message is the value; callers check that it was consumed */
	buf->cursor = buf->len;
	PG_RETURN_FVEC_P(v);
}

Datum
pglearn_fvec_send(PG_FUNCTION_ARGS)
{
	FVec	   *v = PG_GETARG_FVEC_P(0);
	Size		size = FVEC_BINARY_SIZE(v->nnz);
	bytea	   *result = (bytea *) palloc(VARHDRSZ + size);

	SET_VARSIZE(result, VARHDRSZ + size);
	fvec_encode_binary((unsigned char *) VARDATA(result), v->nnz,
					   v->indexes, FVEC_VALUES(v));
	PG_RETURN_BYTEA_P(result);
}

Datum
pglearn_fvec_nnz(PG_FUNCTION_ARGS)
{
	FVec	   *v = PG_GETARG_FVEC_P(0);

	PG_RETURN_INT32(v->nnz);
}

/*
 * Cosine similarity by a merge over the two sorted index lists; 0 when
 * either vector is all zeros.  cosine_similarity() and recommend()'s
 * diversity (src/diversity.c) both use it, so they agree to the bit.
 */
double
fvec_cosine(const FVec *a, const FVec *b)
{
	const float4 *av = FVEC_VALUES(a);
	const float4 *bv = FVEC_VALUES(b);
	double		dot = 0.0,
				norm_a = 0.0,
				norm_b = 0.0;
	int			i = 0,
				j = 0;

	for (i = 0; i < a->nnz; i++)
		norm_a += (double) av[i] * av[i];
	for (j = 0; j < b->nnz; j++)
		norm_b += (double) bv[j] * bv[j];

	i = j = 0;
	while (i < a->nnz && j < b->nnz)
	{
		if (a->indexes[i] == b->indexes[j])
			dot += (double) av[i++] * bv[j++];
		else if (a->indexes[i] < b->indexes[j])
			i++;
		else
			j++;
	}

	if (norm_a == 0.0 || norm_b == 0.0)
		return 0.0;
	return dot / sqrt(norm_a * norm_b);
}

Datum
pglearn_fvec_cosine(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(fvec_cosine(PG_GETARG_FVEC_P(0), PG_GETARG_FVEC_P(1)));
}

PG_FUNCTION_INFO_V1(pglearn_fvec_eq);

/* Equal when the same entries hold the same values (bitwise). */
Datum
pglearn_fvec_eq(PG_FUNCTION_ARGS)
{
	FVec	   *a = PG_GETARG_FVEC_P(0);
	FVec	   *b = PG_GETARG_FVEC_P(1);

	PG_RETURN_BOOL(VARSIZE(a) == VARSIZE(b) &&
				   memcmp(VARDATA(a), VARDATA(b), VARSIZE(a) - VARHDRSZ) == 0);
}
