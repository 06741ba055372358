/*-------------------------------------------------------------------------
 *
 * ranking.c
 *	  Ranked, de-duplicated candidate streams, one row per call:
 *	  _uncertain_stored(per_host) for uncertain(NULL, k) and to_label, and
 *	  _recommend_stored(...) for recommend().
 *
 * Both rank candidates by a key (distance from 0.5 ascending; score
 * descending), ties by URL, and keep of rows sharing a final URL the first,
 * then of those sharing a title the first, then at most N per host.  0.2
 * wrote that as three window functions over every candidate, so asking for
 * 10 rows sorted the whole table three times; at 100,000 articles a
 * labeller waited a minute.
 *
 * Here the candidates arrive in rank order from an index through a cursor,
 * and the three rules are applied as the rows stream by: the first row
 * seen with a final URL is the best of them, the first of those seen with
 * a title is the best of its title, and so on, so keeping the first and
 * remembering the key gives exactly what the windows gave.  The functions
 * are value-per-call: called from a target list (ProjectSet), a LIMIT above
 * stops the walk, so LIMIT 10 costs about ten rows' worth of work.
 *
 * uncertain's per_host is a preference, not a filter: a host's rows beyond
 * the first per_host are held back while other hosts' rows keep coming,
 * and follow, in rank order, once the walk has run out of candidates.  So
 * a database of one site still gets a full list to label (0.2 stopped at
 * three rows).  Holding rows back costs no memory: the stream walks the
 * candidates a second time, applying the same rules to the same rows in
 * the same order, and returns only the rows it held back the first time.
 * The second walk starts only when a caller asks for more rows than the
 * first gave, i.e. when fewer than k / per_host hosts have candidates.
 * recommend's one-per-host stays a filter: the user asked for it.
 *
 * The query texts name only objects of the extension whose bodies are
 * bound when the extension script creates them (a view, a function with a
 * SQL-standard body): no operator or function here is looked up on the
 * caller's search_path.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/guc.h"
#include "utils/portal.h"

PG_FUNCTION_INFO_V1(pglearn_uncertain_stored);
PG_FUNCTION_INFO_V1(pglearn_recommend_stored);

/* the candidates in rank order; columns as read below */
#define UNCERTAIN_QUERY \
	"SELECT id, url, title, final_key, title_key, host, score" \
	"  FROM pglearn._uncertain_candidates ORDER BY distance, url"
#define RECOMMEND_QUERY \
	"SELECT id, url, title, final_key, title_key, host, score" \
	"  FROM pglearn._recommend_candidates($1, $2, $3, $4, $5)"
#define RECOMMEND_NARGS 5

enum
{
	COL_ID = 1,
	COL_URL,
	COL_TITLE,
	COL_FINAL_KEY,
	COL_TITLE_KEY,
	COL_HOST,
	COL_SCORE
};

/* the share of the candidates the cursor is planned for: a few rows */
#define FAST_START_FRACTION "0.0001"

/* rows fetched per cursor call: few at first (LIMIT 10 is the usual case) */
#define FIRST_BATCH 16
#define MAX_BATCH 1024

/* a set of strings with a count each: final URLs and titles seen, rows per host */
typedef struct SeenKey
{
	const char *key;
	uint32		hash;
	int32		count;
	char		status;
} SeenKey;

#define SH_PREFIX seen
#define SH_ELEMENT_TYPE SeenKey
#define SH_KEY_TYPE const char *
#define SH_KEY key
#define SH_HASH_KEY(tb, k) hash_bytes((const unsigned char *) (k), strlen(k))
#define SH_EQUAL(tb, a, b) (strcmp(a, b) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

typedef struct RankedStream
{
	char	   *cursor;			/* portal name */
	bool		cursor_open;
	TupleDesc	desc;			/* of the fetched rows */
	MemoryContext batch_context;	/* the buffered rows, reset per fetch */
	HeapTuple  *rows;
	uint64		nrows;
	uint64		next;
	long		batch;
	bool		exhausted;
	bool		limit_hosts;	/* at most per_host rows of a host */
	int32		per_host;
	bool		hold_back;		/* ... before the rest of each host's rows */
	bool		second_walk;	/* now returning the rows held back */
	const char *query;			/* for the second walk (it has no arguments) */
	seen_hash  *final_keys;
	seen_hash  *title_keys;
	seen_hash  *hosts;
	int32		null_host_rows; /* rows kept whose host is NULL */
	bool		held_back;		/* a row was over its host's cap */
	int64		rank;			/* rows returned so far */
	MemoryContext keys_context;
} RankedStream;

/*
 * Remember key; true if it was new.  The key is copied only when new, into
 * the stream's context, so the fetched batch can be reset.
 */
static SeenKey *
seen_key(RankedStream *stream, seen_hash *set, const char *key, bool *is_new)
{
	bool		found;
	SeenKey    *entry = seen_insert(set, key, &found);

	if (!found)
	{
		entry->key = MemoryContextStrdup(stream->keys_context, key);
		entry->count = 0;
	}
	*is_new = !found;
	return entry;
}

/* the three rules: is this candidate, next in rank order, kept? */
static bool
keep_candidate(RankedStream *stream, HeapTuple tuple)
{
	bool		isnull;
	bool		is_new;
	Datum		host;
	int32	   *count;
	bool		within_cap;

	seen_key(stream, stream->final_keys,
			 TextDatumGetCString(heap_getattr(tuple, COL_FINAL_KEY, stream->desc, &isnull)),
			 &is_new);
	if (!is_new)
		return false;
	seen_key(stream, stream->title_keys,
			 TextDatumGetCString(heap_getattr(tuple, COL_TITLE_KEY, stream->desc, &isnull)),
			 &is_new);
	if (!is_new)
		return false;
	if (!stream->limit_hosts)
		return true;

	/*
	 * The row is the host's count-th; the first walk keeps the first
	 * per_host of each host, the second walk the others.  NULL hosts form
	 * one group, as in a window's PARTITION BY.
	 */
	host = heap_getattr(tuple, COL_HOST, stream->desc, &isnull);
	if (isnull)
		count = &stream->null_host_rows;
	else
		count = &seen_key(stream, stream->hosts, TextDatumGetCString(host), &is_new)->count;
	within_cap = *count < stream->per_host;
	if (within_cap)
		(*count)++;
	else
		stream->held_back = true;
	return stream->second_walk ? !within_cap : within_cap;
}

/* Buffer the next batch of candidates; false when there are none left. */
static bool
fetch_batch(RankedStream *stream)
{
	Portal		portal;
	MemoryContext old;
	uint64		i;

	if (stream->exhausted)
		return false;
	MemoryContextReset(stream->batch_context);
	stream->rows = NULL;
	stream->nrows = stream->next = 0;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	portal = SPI_cursor_find(stream->cursor);
	if (portal == NULL)
		elog(ERROR, "cursor \"%s\" of a ranked stream is gone", stream->cursor);
	SPI_cursor_fetch(portal, true, stream->batch);

	old = MemoryContextSwitchTo(stream->batch_context);
	stream->nrows = SPI_processed;
	if (stream->nrows > 0)
		stream->rows = palloc(sizeof(HeapTuple) * stream->nrows);
	for (i = 0; i < stream->nrows; i++)
		stream->rows[i] = heap_copytuple(SPI_tuptable->vals[i]);
	MemoryContextSwitchTo(old);

	if (stream->nrows < (uint64) stream->batch)
	{
		stream->exhausted = true;
		SPI_cursor_close(portal);
		stream->cursor_open = false;
	}
	SPI_finish();
	stream->batch = Min(stream->batch * 2, MAX_BATCH);
	return stream->nrows > 0;
}

/* The caller stopped early (a LIMIT): close the cursor now. */
static void
close_stream(Datum arg)
{
	RankedStream *stream = (RankedStream *) DatumGetPointer(arg);
	Portal		portal;

	if (!stream->cursor_open)
		return;
	portal = GetPortalByName(stream->cursor);
	if (PortalIsValid(portal))
		SPI_cursor_close(portal);
	stream->cursor_open = false;
}

/*
 * Open a cursor on query (inside an SPI connection), planned for its first
 * few rows: the caller usually wants ten, and the rank order is an
 * index's.  A cursor plans for cursor_tuple_fraction (10%) of the rows,
 * which at a million rows picks hash joins and a sort of every candidate;
 * set it for this planning only, as a SET clause would.  No JIT either: it
 * is decided on the cost of reading every row, and compiling took 350 ms
 * where the ten rows take one.
 */
static Portal
open_cursor(const char *query, int nargs, Oid *argtypes, Datum *args, const char *nulls)
{
	SPIPlanPtr	plan;
	Portal		portal;
	int			guc_level;

	guc_level = NewGUCNestLevel();
	(void) set_config_option("cursor_tuple_fraction", FAST_START_FRACTION,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("jit", "off",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	plan = SPI_prepare_cursor(query, nargs, argtypes, CURSOR_OPT_FAST_PLAN);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	/* the query is planned here, when the cursor opens */
	portal = SPI_cursor_open(NULL, plan, args, nulls, true);
	if (portal == NULL)
		elog(ERROR, "SPI_cursor_open failed: %s", SPI_result_code_string(SPI_result));
	AtEOXact_GUC(true, guc_level);
	return portal;
}

/*
 * Set up the stream of the first call: query (with nargs arguments of
 * argtypes, values args), keeping at most per_host rows of a host when
 * limit_hosts.
 */
static void
open_stream(FunctionCallInfo fcinfo, FuncCallContext *funcctx, const char *query,
			int nargs, Oid *argtypes, Datum *args, const char *nulls,
			bool limit_hosts, int32 per_host, bool hold_back)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	RankedStream *stream;
	TupleDesc	result_desc;
	Portal		portal;
	MemoryContext old;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));

	old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
	if (get_call_result_type(fcinfo, NULL, &result_desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "a ranked stream must return a composite type");
	funcctx->tuple_desc = BlessTupleDesc(result_desc);

	stream = palloc0(sizeof(RankedStream));
	stream->limit_hosts = limit_hosts;
	stream->per_host = per_host;
	stream->hold_back = hold_back;
	stream->query = query;
	stream->batch = FIRST_BATCH;
	stream->keys_context = funcctx->multi_call_memory_ctx;
	stream->batch_context = AllocSetContextCreate(funcctx->multi_call_memory_ctx,
												  "pglearn ranked batch",
												  ALLOCSET_DEFAULT_SIZES);
	stream->final_keys = seen_create(funcctx->multi_call_memory_ctx, 256, NULL);
	stream->title_keys = seen_create(funcctx->multi_call_memory_ctx, 256, NULL);
	stream->hosts = seen_create(funcctx->multi_call_memory_ctx, 64, NULL);
	MemoryContextSwitchTo(old);

	/*
	 * The cursor is opened from the caller's context: the portal and the
	 * planner's work must not live in the multi-call context, which the
	 * stream's own allocations share.
	 */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/*
	 * Neither query can be planned on a distributed pglearn.examples
	 * (Citus): _local_only() says so, and why, instead of Citus's planner.
	 */
	if (SPI_execute(strcmp(query, UNCERTAIN_QUERY) == 0 ?
					"SELECT pglearn._local_only('uncertain(NULL, ...) and to_label')" :
					"SELECT pglearn._local_only('recommend()')",
					true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed");

	portal = open_cursor(query, nargs, argtypes, args, nulls);
	stream->cursor = MemoryContextStrdup(funcctx->multi_call_memory_ctx, portal->name);
	stream->cursor_open = true;
	old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
	stream->desc = CreateTupleDescCopy(portal->tupDesc);
	MemoryContextSwitchTo(old);
	SPI_finish();

	funcctx->user_fctx = stream;
	RegisterExprContextCallback(rsinfo->econtext, close_stream, PointerGetDatum(stream));
}


/*
 * The first walk is over and held rows back: walk the candidates again,
 * from the start, with the rules' memory cleared.  False if there is
 * nothing to walk again.
 */
static bool
start_second_walk(RankedStream *stream)
{
	Portal		portal;

	if (!stream->hold_back || stream->second_walk || !stream->held_back)
		return false;
	stream->second_walk = true;
	seen_reset(stream->final_keys);
	seen_reset(stream->title_keys);
	seen_reset(stream->hosts);
	stream->null_host_rows = 0;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	portal = open_cursor(stream->query, 0, NULL, NULL, NULL);
	stream->cursor = MemoryContextStrdup(stream->keys_context, portal->name);
	stream->cursor_open = true;
	SPI_finish();
	stream->exhausted = false;
	stream->batch = FIRST_BATCH;
	return true;
}

/* The next kept row of the stream, or DONE. */
static Datum
next_row(FunctionCallInfo fcinfo, FuncCallContext *funcctx)
{
	RankedStream *stream = funcctx->user_fctx;

	for (;;)
	{
		HeapTuple	tuple;

		CHECK_FOR_INTERRUPTS();
		if (stream->next >= stream->nrows && !fetch_batch(stream) &&
			!(start_second_walk(stream) && fetch_batch(stream)))
			break;
		tuple = stream->rows[stream->next++];
		if (keep_candidate(stream, tuple))
		{
			Datum		values[6];
			bool		nulls[6];

			stream->rank++;
			values[0] = Int64GetDatum(stream->rank);
			nulls[0] = false;
			values[1] = heap_getattr(tuple, COL_ID, stream->desc, &nulls[1]);
			values[2] = heap_getattr(tuple, COL_URL, stream->desc, &nulls[2]);
			values[3] = heap_getattr(tuple, COL_TITLE, stream->desc, &nulls[3]);
			values[4] = heap_getattr(tuple, COL_HOST, stream->desc, &nulls[4]);
			values[5] = heap_getattr(tuple, COL_SCORE, stream->desc, &nulls[5]);
			SRF_RETURN_NEXT(funcctx,
							HeapTupleGetDatum(heap_form_tuple(funcctx->tuple_desc, values, nulls)));
		}
	}
	/* the stream's memory goes with the call context: forget the callback */
	UnregisterExprContextCallback(((ReturnSetInfo *) fcinfo->resultinfo)->econtext,
								  close_stream, PointerGetDatum(stream));
	SRF_RETURN_DONE(funcctx);
}

/*
 * _uncertain_stored(per_host int4) returns setof (rank int8, id int8, url
 * text, title text, host text, score float8): pglearn._uncertain_candidates
 * by distance from 0.5; per_host NULL keeps every host's rows.
 */
Datum
pglearn_uncertain_stored(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;

	if (SRF_IS_FIRSTCALL())
	{
		if (!PG_ARGISNULL(0) && PG_GETARG_INT32(0) < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("per_host must be a positive integer, got %d", PG_GETARG_INT32(0))));
		funcctx = SRF_FIRSTCALL_INIT();
		open_stream(fcinfo, funcctx, UNCERTAIN_QUERY, 0, NULL, NULL, NULL,
					!PG_ARGISNULL(0), PG_ARGISNULL(0) ? 0 : PG_GETARG_INT32(0), true);
	}
	funcctx = SRF_PERCALL_SETUP();
	return next_row(fcinfo, funcctx);
}

/*
 * _recommend_stored(min_score float8, days int4, url_pattern text,
 * exclude_pattern text, og_type text, unique_by_host bool) returns the same
 * columns: pglearn._recommend_candidates(...) by score, one per host when
 * unique_by_host.  recommend() checks the arguments.
 */
Datum
pglearn_recommend_stored(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;

	if (SRF_IS_FIRSTCALL())
	{
		Oid			argtypes[RECOMMEND_NARGS] = {FLOAT8OID, INT4OID, TEXTOID, TEXTOID, TEXTOID};
		Datum		args[RECOMMEND_NARGS];
		char		nulls[RECOMMEND_NARGS];
		int			i;

		for (i = 0; i < RECOMMEND_NARGS; i++)
		{
			args[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
			nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
		}
		funcctx = SRF_FIRSTCALL_INIT();
		open_stream(fcinfo, funcctx, RECOMMEND_QUERY, RECOMMEND_NARGS, argtypes, args, nulls,
					!PG_ARGISNULL(5) && PG_GETARG_BOOL(5), 1, false);
	}
	funcctx = SRF_PERCALL_SETUP();
	return next_row(fcinfo, funcctx);
}
