/*-------------------------------------------------------------------------
 *
 * diversity.c
 *	  pglearn._diverse_order(): the order recommend(..., diverse => d)
 *	  takes its candidates in (greedy maximal marginal relevance).
 *
 * Each step takes the candidate with the largest
 *
 *		(1 - d) * score - d * (its largest cosine with the articles taken)
 *
 * the first of equal values winning, until k are taken.  0.1 ran this loop
 * in plpgsql: with a pool of 10 k candidates it made k * 10 k calls of
 * cosine_similarity() through the function manager, each copying two
 * vectors out of an array.  Here the vectors are detoasted once and the
 * cosine is fvec_cosine(), the arithmetic of cosine_similarity(), so the
 * order is the same to the bit.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type_d.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/lsyscache.h"

#include "fvec.h"

PG_FUNCTION_INFO_V1(pglearn_diverse_order);

/*
 * _diverse_order(scores float8[], vectors fvec[], k int4, diverse float8)
 * RETURNS int4[]: the 1-based positions of the min(k, n) candidates taken,
 * in the order taken.  scores and vectors are the candidates' in rank
 * order, one each, no NULLs.
 */
Datum
pglearn_diverse_order(PG_FUNCTION_ARGS)
{
	ArrayType  *scores_array = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *vectors_array = PG_GETARG_ARRAYTYPE_P(1);
	int32		k = PG_GETARG_INT32(2);
	float8		diverse = PG_GETARG_FLOAT8(3);
	Datum	   *score_items;
	Datum	   *vector_items;
	bool	   *score_nulls;
	bool	   *vector_nulls;
	int			n;
	int			nvectors;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	FVec	  **vectors;
	float8	   *scores;
	float8	   *nearest;
	bool	   *taken;
	Datum	   *chosen;
	int			nchosen;

	if (k <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be a positive integer, got %d", k)));
	if (isnan(diverse) || diverse < 0 || diverse > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("diverse must be between 0 and 1, got %g", diverse)));
	if (ARR_NDIM(scores_array) > 1 || ARR_NDIM(vectors_array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("scores and vectors must be one-dimensional arrays")));

	deconstruct_array(scores_array, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &score_items, &score_nulls, &n);
	get_typlenbyvalalign(ARR_ELEMTYPE(vectors_array), &typlen, &typbyval, &typalign);
	deconstruct_array(vectors_array, ARR_ELEMTYPE(vectors_array), typlen, typbyval, typalign,
					  &vector_items, &vector_nulls, &nvectors);
	if (n != nvectors)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("scores and vectors must have the same length"),
				 errdetail("There are %d scores and %d vectors.", n, nvectors)));

	scores = palloc(sizeof(float8) * Max(n, 1));
	vectors = palloc(sizeof(FVec *) * Max(n, 1));
	nearest = palloc0(sizeof(float8) * Max(n, 1));
	taken = palloc0(sizeof(bool) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (score_nulls[i] || vector_nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("candidate %d has no score or no vector", i + 1)));
		scores[i] = DatumGetFloat8(score_items[i]);
		vectors[i] = DatumGetFVec(vector_items[i]);
	}

	nchosen = Min(k, n);
	chosen = palloc(sizeof(Datum) * Max(nchosen, 1));
	for (int step = 0; step < nchosen; step++)
	{
		int			best = -1;
		float8		best_value = 0;

		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < n; i++)
		{
			float8		value;

			if (taken[i])
				continue;
			value = (1 - diverse) * scores[i] - diverse * nearest[i];
			if (best < 0 || value > best_value)
			{
				best = i;
				best_value = value;
			}
		}
		taken[best] = true;
		chosen[step] = Int32GetDatum(best + 1);
		for (int i = 0; i < n; i++)
		{
			float8		similarity;

			if (taken[i])
				continue;
			similarity = fvec_cosine(vectors[best], vectors[i]);
			if (similarity > nearest[i])
				nearest[i] = similarity;
		}
	}

	PG_RETURN_ARRAYTYPE_P(construct_array(chosen, nchosen, INT4OID, sizeof(int32), true, TYPALIGN_INT));
}
