/*-------------------------------------------------------------------------
 *
 * fvec.h
 *	  The sparse feature vector type, pglearn.fvec.
 *
 * On disk and in memory an fvec is a varlena holding nnz strictly
 * increasing non-negative int32 indexes followed by nnz finite float4
 * values.  Text form: {12:1,407:0.5}.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_FVEC_H
#define PGLEARN_FVEC_H

#include "postgres.h"
#include "fmgr.h"

#include "fvec_parse.h"

/* Largest number of entries one fvec may hold (fits in MaxAllocSize). */
#define FVEC_MAX_NNZ	(64 * 1024 * 1024)

typedef struct FVec
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int32		nnz;			/* number of stored entries */
	int32		flags;			/* reserved, always 0 */
	int32		indexes[FLEXIBLE_ARRAY_MEMBER];
	/* float4 values[nnz] follow the indexes */
} FVec;

#define FVEC_SIZE(nnz)		(offsetof(FVec, indexes) + (Size) (nnz) * (sizeof(int32) + sizeof(float4)))
#define FVEC_VALUES(v)		((float4 *) ((v)->indexes + (v)->nnz))

#define DatumGetFVec(x)		((FVec *) PG_DETOAST_DATUM(x))
#define PG_GETARG_FVEC_P(n)	DatumGetFVec(PG_GETARG_DATUM(n))
#define PG_RETURN_FVEC_P(x)	PG_RETURN_POINTER(x)

/* Allocate a zeroed fvec with room for nnz entries (palloc). */
extern FVec *fvec_allocate(int nnz);

/*
 * Build an fvec from unsorted (index, value) pairs, summing duplicates and
 * dropping zeros.  The arrays are sorted in place.
 */
extern FVec *fvec_from_pairs(int32 *indexes, float4 *values, int n);
extern double fvec_cosine(const FVec *a, const FVec *b);

/* The grow() of fvec_parse_text() in the backend: palloc, huge allowed. */
extern void *fvec_parse_grow(void *ptr, size_t size, void *arg);

/*
 * Raise the error for a failed fvec_parse_text() of input; never returns.
 * For model input too, whose weights are written in fvec syntax.
 */
extern void fvec_report_parse_error(FVecParseStatus status,
									const FVecParseResult *parsed,
									const char *input) pg_attribute_noreturn();

/* Text I/O; model_out prints its weights with fvec_out. */
extern Datum pglearn_fvec_in(PG_FUNCTION_ARGS);
extern Datum pglearn_fvec_out(PG_FUNCTION_ARGS);

#endif							/* PGLEARN_FVEC_H */
