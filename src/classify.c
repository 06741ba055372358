/*-------------------------------------------------------------------------
 *
 * classify.c
 *	  Scoring: score(model, fvec), classify(model, fvec), predict(model,
 *	  fvec), and classify(name, url, title, body) over stored models, with
 *	  the one definition of a name's live model (_newest_model()).
 *
 * A model can be megabytes of weights, and a query scores it against every
 * row, often one row per statement.  Each backend therefore keeps the last
 * SCORING_CACHE_SIZE decoded models, keyed by their content id: the id is a
 * hash of everything the decoded form depends on, and model input rejects
 * a model whose id does not match its content, so an entry with the same id
 * is the same model and never needs invalidating.  Reading the id needs
 * only the header: for a toasted model that is a slice fetch of the first
 * chunk, so a row costs O(nnz of its fvec) no matter how large the model.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "featurize.h"
#include "fvec.h"
#include "model.h"

/* Citus's setting that allows a query inside a query on a shard */
#define CITUS_NESTED_EXECUTION "citus.allow_nested_distributed_execution"

PG_FUNCTION_INFO_V1(pglearn_score);
PG_FUNCTION_INFO_V1(pglearn_classify);
PG_FUNCTION_INFO_V1(pglearn_predict);
PG_FUNCTION_INFO_V1(pglearn_classify_named);
PG_FUNCTION_INFO_V1(pglearn_newest_model);

/*
 * A decoded model: weights spread into a dense array indexed by feature
 * index, so a dot product is one lookup per fvec entry.  Models whose
 * largest index is far beyond their weight count (hand-made fvecs with huge
 * indexes) keep their sorted sparse arrays and use binary search instead.
 */
#define SCORING_DENSE_MIN	(1 << 22)

typedef struct ScoringModel
{
	uint64		id;
	int32		dense_len;		/* entries in dense[], 0 if sparse */
	float4	   *dense;
	int32		nnz;			/* sparse form, if dense is NULL */
	int32	   *indexes;
	float4	   *weights;
	double		intercept;		/* bias_weight * bias */
	Model		header;			/* the header only (the weights are above) */
} ScoringModel;

static void
scoring_model_free(ScoringModel *sm)
{
	if (sm->dense)
		pfree(sm->dense);
	if (sm->indexes)
		pfree(sm->indexes);
	if (sm->weights)
		pfree(sm->weights);
	pfree(sm);
}

/* Build a ScoringModel in 'context' from a full (detoasted) model. */
static ScoringModel *
scoring_model_build(const Model *m, MemoryContext context)
{
	ScoringModel *sm = MemoryContextAllocZero(context, sizeof(ScoringModel));
	const float4 *weights = MODEL_WEIGHTS(m);
	int			i;

	memcpy(&sm->header, m, MODEL_HEADER_SIZE);
	sm->id = m->id;
	sm->intercept = m->bias_weight * m->bias;
	sm->dense_len = m->nnz > 0 ? m->indexes[m->nnz - 1] + 1 : 0;
	if (sm->dense_len <= Max(SCORING_DENSE_MIN, 4 * (int64) m->nnz))
	{
		sm->dense = MemoryContextAllocExtended(context, sizeof(float4) * (Size) Max(sm->dense_len, 1),
											   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		for (i = 0; i < m->nnz; i++)
			sm->dense[m->indexes[i]] = weights[i];
	}
	else
	{
		sm->dense_len = 0;
		sm->nnz = m->nnz;
		sm->indexes = MemoryContextAllocExtended(context, sizeof(int32) * m->nnz, MCXT_ALLOC_HUGE);
		sm->weights = MemoryContextAllocExtended(context, sizeof(float4) * m->nnz, MCXT_ALLOC_HUGE);
		memcpy(sm->indexes, m->indexes, sizeof(int32) * m->nnz);
		memcpy(sm->weights, weights, sizeof(float4) * m->nnz);
	}
	return sm;
}

/*
 * Backend-lifetime cache of decoded models, most recently used first.  Two
 * entries cover the common cases (one live model; a model being replaced
 * by a new fit) while bounding what an idle backend holds: a decoded model
 * over 2^20 hashed features takes 4 MB.
 */
#define SCORING_CACHE_SIZE 2

static ScoringModel *scoring_cache[SCORING_CACHE_SIZE];
static MemoryContext scoring_cache_context = NULL;

static ScoringModel *
scoring_cache_lookup(uint64 id)
{
	int			i;

	for (i = 0; i < SCORING_CACHE_SIZE; i++)
	{
		ScoringModel *sm = scoring_cache[i];

		if (sm != NULL && sm->id == id)
		{
			memmove(&scoring_cache[1], &scoring_cache[0], sizeof(ScoringModel *) * i);
			scoring_cache[0] = sm;
			return sm;
		}
	}
	return NULL;
}

/* Decode a model into the cache, evicting the least recently used entry. */
static ScoringModel *
scoring_cache_add(const Model *m)
{
	ScoringModel *sm;

	if (scoring_cache_context == NULL)
		scoring_cache_context = AllocSetContextCreate(TopMemoryContext,
													  "pglearn decoded models",
													  ALLOCSET_DEFAULT_SIZES);
	/* build first: an error here leaves the cache as it was */
	sm = scoring_model_build(m, scoring_cache_context);
	if (scoring_cache[SCORING_CACHE_SIZE - 1] != NULL)
		scoring_model_free(scoring_cache[SCORING_CACHE_SIZE - 1]);
	memmove(&scoring_cache[1], &scoring_cache[0], sizeof(ScoringModel *) * (SCORING_CACHE_SIZE - 1));
	scoring_cache[0] = sm;
	return sm;
}

/* The decoded form of a model datum: from the cache, or decoded now. */
static ScoringModel *
scoring_model_get(Datum model_datum)
{
	Model	   *header = (Model *) PG_DETOAST_DATUM_SLICE(model_datum, 0, MODEL_HEADER_SIZE);
	ScoringModel *sm = scoring_cache_lookup(header->id);

	if (sm == NULL)
		sm = scoring_cache_add(DatumGetModel(model_datum));
	return sm;
}

static double
scoring_model_margin(const ScoringModel *sm, const FVec *v)
{
	const float4 *values = FVEC_VALUES(v);
	double		margin = sm->intercept;
	int			i;

	if (sm->dense != NULL)
	{
		for (i = 0; i < v->nnz; i++)
		{
			int32		index = v->indexes[i];

			/* indexes are sorted: nothing past the model's largest counts */
			if (index >= sm->dense_len)
				break;
			margin += (double) sm->dense[index] * values[i];
		}
		return margin;
	}

	for (i = 0; i < v->nnz; i++)
	{
		int32		lo = 0,
					hi = sm->nnz;

		while (lo < hi)
		{
			int32		mid = lo + (hi - lo) / 2;

			if (sm->indexes[mid] < v->indexes[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < sm->nnz && sm->indexes[lo] == v->indexes[i])
			margin += (double) sm->weights[lo] * values[i];
	}
	return margin;
}

Datum
pglearn_score(PG_FUNCTION_ARGS)
{
	ScoringModel *sm = scoring_model_get(PG_GETARG_DATUM(0));
	FVec	   *v = PG_GETARG_FVEC_P(1);

	PG_RETURN_FLOAT8(scoring_model_margin(sm, v));
}

Datum
pglearn_classify(PG_FUNCTION_ARGS)
{
	ScoringModel *sm = scoring_model_get(PG_GETARG_DATUM(0));
	FVec	   *v = PG_GETARG_FVEC_P(1);

	PG_RETURN_FLOAT8(model_probability(&sm->header, scoring_model_margin(sm, v)));
}

Datum
pglearn_predict(PG_FUNCTION_ARGS)
{
	ScoringModel *sm = scoring_model_get(PG_GETARG_DATUM(0));
	FVec	   *v = PG_GETARG_FVEC_P(1);

	PG_RETURN_INT32(scoring_model_margin(sm, v) >= 0.0 ? 1 : -1);
}

/*
 * classify(name, url, title, body): the newest stored model of that name,
 * with the feature settings it records (model_feature_settings()).  The
 * lookup happens once per query (the function is STABLE, so one snapshot's
 * answer serves the whole statement) and its result is kept in fn_extra;
 * the decoded model itself lives in the backend's cache above.
 */
typedef struct NamedModelCache
{
	char	   *name;
	ModelFeatureSettings settings;	/* of the newest model of that name */
	uint64		id;				/* of the newest model of that name */
} NamedModelCache;

/*
 * The newest model stored under a name, as it is stored (possibly a toast
 * pointer), in SPI's memory; false if there is none.  The one definition
 * of "the live model": classify(name, ...) uses it, and SQL
 * (_live_model(), label_conflicts) reads it through pglearn._newest_model().
 * It lives here, not in SQL, so that this library scores by name in a
 * database whose extension scripts are older than it, until ALTER
 * EXTENSION UPDATE.  The caller is connected to SPI.
 *
 * Schema-qualified names and operators only: this runs with the caller's
 * search_path, and an operator a user put before pg_catalog
 * (public.=(text, text), say) must never run here.  ORDER BY uses the
 * columns' default btree operator classes, found without a name lookup.
 */
static bool
newest_model_query(text *name_text, Datum *model_datum)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	bool		isnull;
	int			ret;
	int			guc_level;

	args[0] = PointerGetDatum(name_text);

	/*
	 * On Citus (pglearn.distribute()) models is a reference table and this
	 * may run on a worker, inside the task of a query over examples' shards,
	 * where Citus refuses a nested query on a distributed table unless told
	 * otherwise: shards may move meanwhile.  A reference table is on every
	 * node, kept equal by two-phase commit, so this one read is allowed, for
	 * this statement only.
	 */
	guc_level = NewGUCNestLevel();
	if (GetConfigOption(CITUS_NESTED_EXECUTION, true, false) != NULL)
		(void) set_config_option(CITUS_NESTED_EXECUTION, "on", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	ret = SPI_execute_with_args("SELECT m.model FROM pglearn.models m"
								" WHERE m.name OPERATOR(pg_catalog.=) $1"
								" ORDER BY m.created_at DESC, m.id DESC LIMIT 1",
								1, argtypes, args, NULL, true, 1);
	AtEOXact_GUC(true, guc_level);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %d", ret);
	if (SPI_processed == 0)
		return false;
	*model_datum = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return !isnull;
}

/*
 * _newest_model(name): the newest model of a name, NULL if there is none.
 * The model is returned detoasted, in the caller's memory.
 */
Datum
pglearn_newest_model(PG_FUNCTION_ARGS)
{
	text	   *name_text = PG_GETARG_TEXT_PP(0);
	MemoryContext caller_context = CurrentMemoryContext;
	Datum		model_datum;
	Model	   *model = NULL;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (newest_model_query(name_text, &model_datum))
	{
		MemoryContext spi_context = MemoryContextSwitchTo(caller_context);

		model = (Model *) PG_DETOAST_DATUM_COPY(model_datum);
		MemoryContextSwitchTo(spi_context);
	}
	SPI_finish();
	if (model == NULL)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(model);
}

/*
 * The newest model of a name, looked up once per call site unless 'again'
 * (its decoded form was evicted and must be decoded anew).  Leaves the
 * decoded model at the front of the backend's cache.
 */
static NamedModelCache *
named_model_lookup(FunctionCallInfo fcinfo, text *name_text, bool again)
{
	NamedModelCache *cache = (NamedModelCache *) fcinfo->flinfo->fn_extra;
	char	   *name = text_to_cstring(name_text);
	MemoryContext fn_context = fcinfo->flinfo->fn_mcxt;
	Datum		model_datum;
	Model	   *header;

	if (cache != NULL && !again && strcmp(cache->name, name) == 0)
		return cache;

	if (cache == NULL)
		cache = MemoryContextAllocZero(fn_context, sizeof(NamedModelCache));
	else
	{
		/* forget it first: an error in the lookup must not leave it dangling */
		fcinfo->flinfo->fn_extra = NULL;
		pfree(cache->name);
		cache->name = NULL;
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (!newest_model_query(name_text, &model_datum))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name),
				 errhint("Train it with SELECT pglearn.fit('%s'); existing models are listed in pglearn.models.", name)));

	header = (Model *) PG_DETOAST_DATUM_SLICE(model_datum, 0, MODEL_HEADER_SIZE);
	cache->id = header->id;
	model_feature_settings(header, &cache->settings);
	if (cache->settings.fields != FEATURES_FIELDS_ARTICLE)
		elog(ERROR, "model \"%s\" has fields %d, which no scorer computes",
			 name, cache->settings.fields);
	if (scoring_cache_lookup(cache->id) == NULL)
		scoring_cache_add(DatumGetModel(model_datum));
	SPI_finish();

	cache->name = MemoryContextStrdup(fn_context, name);
	fcinfo->flinfo->fn_extra = cache;
	return cache;
}

/*
 * The article's fvec, computed by the SQL-level features() function itself
 * (called directly, since it accepts NULL fields) with the model's own
 * settings, so that a stored model always sees exactly the features it was
 * fitted on.  The caller passes the body as the model's fields say
 * (article_text(description, body), the only kind there is).
 */
static FVec *
named_model_features(FunctionCallInfo fcinfo, const NamedModelCache *cache)
{
	LOCAL_FCINFO(features_fcinfo, 5);
	Datum		result;
	int			i;

	InitFunctionCallInfoData(*features_fcinfo, NULL, 5, InvalidOid, NULL, NULL);
	for (i = 0; i < 3; i++)
		features_fcinfo->args[i] = fcinfo->args[i + 1];
	features_fcinfo->args[3].value = Int32GetDatum(cache->settings.hash_bits);
	features_fcinfo->args[3].isnull = false;
	features_fcinfo->args[4].value = BoolGetDatum(cache->settings.binary);
	features_fcinfo->args[4].isnull = false;
	result = pglearn_features(features_fcinfo);
	if (features_fcinfo->isnull)
		elog(ERROR, "features() returned NULL");
	return DatumGetFVec(result);
}

Datum
pglearn_classify_named(PG_FUNCTION_ARGS)
{
	NamedModelCache *cache;
	ScoringModel *sm;
	FVec	   *v;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model name must not be NULL")));
	cache = named_model_lookup(fcinfo, PG_GETARG_TEXT_PP(0), false);
	sm = scoring_cache_lookup(cache->id);
	if (sm == NULL)
	{
		/* other models pushed it out of the backend's cache */
		cache = named_model_lookup(fcinfo, PG_GETARG_TEXT_PP(0), true);
		sm = scoring_cache_lookup(cache->id);
		Assert(sm != NULL);
	}
	v = named_model_features(fcinfo, cache);
	PG_RETURN_FLOAT8(model_probability(&sm->header, scoring_model_margin(sm, v)));
}
