/*-------------------------------------------------------------------------
 *
 * similar.c
 *	  similar(url, k) without scoring every stored article:
 *	  pglearn.fvec_keys(fvec) for the GIN index examples_similar_idx, and
 *	  pglearn._similar_ranked(), which ranks through it.
 *
 * similar() ranks the stored articles by the cosine of their features
 * features(NULL, title, article_text(description, body)) with the
 * target's (ties by URL), keeping similarity > 0.  0.1 computed those
 * features for every row, 30 us each: half a minute at a million rows.
 *
 * examples_similar_idx is a GIN index over fvec_keys() of exactly that
 * expression: for each feature index, the rows whose vector has it.
 * Feature values are positive, so a row shares no index with the target
 * iff its cosine is 0; the index finds the others.  Scoring all of those
 * would be exact but slow (common words are in most rows), so the rows are
 * found feature by feature, rarest first, and each row found carries an
 * upper bound on its cosine.  With q the target's vector, R the features
 * not read yet and F(d) those read that row d has, Cauchy-Schwarz gives
 *
 *		cos(q, d) <= sqrt(sum of q_f^2 over F(d) and R) / |q|
 *
 * and for a row not found yet (F(d) empty) sqrt(sum over R) / |q|.  Once k
 * rows are scored exactly, the k-th best similarity L prunes: feature
 * lists stop being read when the bound of unseen rows falls below L, and a
 * found row is scored (its features computed from its text, through the
 * index's own expression) only while its bound is not below L.  The result
 * is exact: every row that could rank is scored, with the same arithmetic
 * as cosine_similarity() (it is called).  Typically a few hundred rows are
 * scored and a few tens of thousands of index entries read.
 *
 * What it costs depends on the data: when the k-th nearest article is not
 * much alike, L is low, more lists are read and more rows scored, up to
 * every row sharing a feature (still exact, no slower per row than a full
 * scan).  A k beyond a twentieth of the table, a table the caller may not
 * read in full (no table-level SELECT, row-level security) and a missing,
 * invalid or different index all take the full scan of 0.1 instead,
 * through SPI, with the same results.
 *
 * Rarest first needs document frequencies: they come from ANALYZE's
 * statistics of the index expression (most common elements, the same the
 * planner uses); features not among them are rarer than those that are.
 * Without statistics the order is a guess and only the cost suffers.
 *
 * Index entries are read with the index AM's bitmap interface (TIDs only,
 * no heap access, a bitmap that is never lossy); a row is fetched like an
 * index scan fetches it (table_index_fetch_tuple(): the caller's snapshot,
 * HOT chains followed), so the rows are those a query would see.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation_d.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/tidbitmap.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
#include "utils/varlena.h"

#include "fvec.h"

PG_FUNCTION_INFO_V1(pglearn_fvec_keys);
PG_FUNCTION_INFO_V1(pglearn_similar_ranked);

/* fvec.c's cosine_similarity(), called so that the arithmetic is the same */
extern Datum pglearn_fvec_cosine(PG_FUNCTION_ARGS);

#define SIMILAR_INDEX_NAME	"examples_similar_idx"
#define SIMILAR_TABLE_NAME	"examples"

/*
 * Relative slack on every comparison of a bound with a similarity: the
 * bounds and the cosines are sums of a few thousand float4 products in
 * double, good to ~1e-13, so 1e-9 never prunes a row that could rank.
 */
#define BOUND_SLACK			1e-9

/*
 * Scoring a row (fetching it and computing its features from its text,
 * ~30 us for a short article) costs about as much as reading this many
 * index entries (~0.2 us each); it decides whether one more feature list
 * is worth reading for the rows it would prune.
 */
#define SCORE_COST_IN_ENTRIES	150.0

/* the full scan is taken for k beyond this share of the table */
#define INDEX_MAX_K_SHARE	0.05
#define INDEX_MIN_K_LIMIT	1000

/*
 * Memory the rows found may take, at least (work_mem if more): a row costs
 * one 24-byte hash entry and the hash table is between 45% and 90% full,
 * so 64 MB holds 1.3 million rows.  Beyond, the full scan is taken.
 */
#define MIN_CANDIDATE_MEMORY	(64.0 * 1024.0 * 1024.0)

/* rows scored per feature read while the k-th best is not good enough */
#define EARLY_SCORES_PER_ROUND	32

/*
 * fvec_keys(fvec) returns int4[]: the vector's indexes, ascending; for an
 * empty vector the empty array.
 */
Datum
pglearn_fvec_keys(PG_FUNCTION_ARGS)
{
	FVec	   *v = PG_GETARG_FVEC_P(0);
	Datum	   *elems = palloc(sizeof(Datum) * Max(v->nnz, 1));
	int			i;

	for (i = 0; i < v->nnz; i++)
		elems[i] = Int32GetDatum(v->indexes[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, v->nnz, INT4OID,
										  sizeof(int32), true, TYPALIGN_INT));
}

/* A row found through the index: its TID and the bound's ingredients. */
typedef struct Candidate
{
	uint64		tid;			/* block << 16 | offset (the hash key) */
	char		status;			/* simplehash's */
	bool		scored;			/* fetched: scored, excluded or not visible */
	double		mass;			/* sum of w_f over the features read it has */
} Candidate;

#define SH_PREFIX candidates
#define SH_ELEMENT_TYPE Candidate
#define SH_KEY_TYPE uint64
#define SH_KEY tid
#define SH_HASH_KEY(tb, key) murmurhash32((uint32) (key) ^ (uint32) ((key) >> 32))
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* One result: a row scored, with what similar() returns of it. */
typedef struct RankedRow
{
	double		similarity;
	text	   *url;
	int64		id;
	text	   *title;			/* NULL when the title is */
	int32		label;
	bool		label_null;
	float8		score;
	bool		score_null;
} RankedRow;

/* A target feature: its index, its share of |q|^2, its estimated list size. */
typedef struct TargetFeature
{
	int32		index;
	double		w;
	double		estimate;		/* rows; -1 when not among the statistics */
} TargetFeature;

/* Everything one call of _similar_ranked() works with. */
typedef struct Search
{
	/* the target */
	FVec	   *target;
	int64		target_id;
	text	   *target_final_key;
	int32		k;

	/* the table and the index */
	Relation	heap;
	Relation	index;
	AttrNumber	att_id,
				att_url,
				att_title,
				att_label,
				att_score,
				att_final_url;
	Oid			url_collation;
	Snapshot	snapshot;
	IndexScanDesc scan;
	StrategyNumber overlap_strategy;
	Oid			overlap_subtype;
	RegProcedure overlap_proc;
	long		bitmap_bytes;
	uint32		max_candidates; /* more rows found: give up the index */
	const char *abandoned;		/* why the index was given up, or NULL */

	/* scoring a row: fetch it, evaluate the index's features() on it */
	IndexFetchTableData *fetch;
	TupleTableSlot *slot;
	EState	   *estate;
	ExprState  *features;
	ExprContext *econtext;

	/* rows found, and the k best scored (a heap, worst on top) */
	candidates_hash *candidates;
	RankedRow	   *results;
	int			nresults;
	int			results_size;
	MemoryContext results_context;

	/* counters, for the DEBUG1 line */
	int64		entries_read;
	int64		rows_scored;
	int			lists_read;
} Search;

/* a better than b: higher similarity, then the lower URL */
static bool
result_better(const Search *search, const RankedRow *a, const RankedRow *b)
{
	if (a->similarity != b->similarity)
		return a->similarity > b->similarity;
	return varstr_cmp(VARDATA_ANY(a->url), VARSIZE_ANY_EXHDR(a->url),
					  VARDATA_ANY(b->url), VARSIZE_ANY_EXHDR(b->url),
					  search->url_collation) < 0;
}

static void
result_sift_down(Search *search, int i)
{
	RankedRow	   *r = search->results;
	int			n = search->nresults;

	for (;;)
	{
		int			worst = i;
		int			left = 2 * i + 1;
		int			right = left + 1;
		RankedRow		tmp;

		if (left < n && result_better(search, &r[worst], &r[left]))
			worst = left;
		if (right < n && result_better(search, &r[worst], &r[right]))
			worst = right;
		if (worst == i)
			return;
		tmp = r[i];
		r[i] = r[worst];
		r[worst] = tmp;
		i = worst;
	}
}

static void
result_sift_up(Search *search, int i)
{
	RankedRow	   *r = search->results;

	while (i > 0)
	{
		int			parent = (i - 1) / 2;
		RankedRow		tmp;

		if (!result_better(search, &r[parent], &r[i]))
			return;
		tmp = r[i];
		r[i] = r[parent];
		r[parent] = tmp;
		i = parent;
	}
}

/* The square of the k-th best similarity so far; 0 while fewer than k. */
static double
kth_best_squared(const Search *search)
{
	if (search->nresults < search->k)
		return 0.0;
	return search->results[0].similarity * search->results[0].similarity;
}

/*
 * May a row whose squared bound is bound2 still rank?  While fewer than k
 * rows are scored every row with a positive bound may.
 */
static bool
may_rank(const Search *search, double bound2)
{
	if (search->nresults < search->k)
		return bound2 > 0.0;
	return bound2 * (1.0 + BOUND_SLACK) >= kth_best_squared(search);
}

static text *
copy_text_datum(Datum d)
{
	return (text *) PG_DETOAST_DATUM_COPY(d);
}

/*
 * Fetch the row at tid as the caller's snapshot sees it and score it;
 * keep it if it ranks among the k best.  Rows that are not visible, the
 * target itself and rows with the target's final URL are skipped, as are
 * rows with similarity 0.
 */
static void
score_row(Search *search, Candidate *candidate)
{
	ItemPointerData tid;
	bool		call_again = false;
	bool		all_dead = false;
	bool		isnull;
	Datum		id;
	Datum		url;
	Datum		final_key;
	Datum		vector;
	double		similarity;
	RankedRow		result;
	MemoryContext old;

	candidate->scored = true;
	ItemPointerSet(&tid, (BlockNumber) (candidate->tid >> 16),
				   (OffsetNumber) (candidate->tid & 0xFFFF));
	if (!table_index_fetch_tuple(search->fetch, &tid, search->snapshot,
								 search->slot, &call_again, &all_dead))
		return;
	search->rows_scored++;

	id = slot_getattr(search->slot, search->att_id, &isnull);
	if (isnull || DatumGetInt64(id) == search->target_id)
		goto done;
	url = slot_getattr(search->slot, search->att_url, &isnull);
	if (isnull)
		goto done;
	final_key = slot_getattr(search->slot, search->att_final_url, &isnull);
	if (isnull)
		final_key = url;
	if (DatumGetBool(DirectFunctionCall2Coll(texteq, search->url_collation, final_key,
											 PointerGetDatum(search->target_final_key))))
		goto done;

	search->econtext->ecxt_scantuple = search->slot;
	vector = ExecEvalExprSwitchContext(search->features, search->econtext, &isnull);
	if (isnull)
		goto done;
	similarity = DatumGetFloat8(DirectFunctionCall2(pglearn_fvec_cosine,
													PointerGetDatum(search->target),
													vector));
	if (!(similarity > 0.0))
		goto done;

	/* compare before copying anything: most rows scored do not rank */
	if (search->nresults >= search->k)
	{
		bool		better;

		old = MemoryContextSwitchTo(search->econtext->ecxt_per_tuple_memory);
		result.similarity = similarity;
		result.url = DatumGetTextPP(url);
		better = result_better(search, &result, &search->results[0]);
		MemoryContextSwitchTo(old);
		if (!better)
			goto done;
	}

	old = MemoryContextSwitchTo(search->results_context);
	result.similarity = similarity;
	result.url = copy_text_datum(url);
	result.id = DatumGetInt64(id);
	result.title = NULL;
	{
		Datum		title = slot_getattr(search->slot, search->att_title, &isnull);

		if (!isnull)
			result.title = copy_text_datum(title);
	}
	result.label = DatumGetInt32(slot_getattr(search->slot, search->att_label, &result.label_null));
	result.score = DatumGetFloat8(slot_getattr(search->slot, search->att_score, &result.score_null));

	if (search->nresults < search->k)
	{
		if (search->nresults == search->results_size)
		{
			search->results_size *= 2;
			search->results = repalloc_huge(search->results,
											sizeof(RankedRow) * (Size) search->results_size);
		}
		search->results[search->nresults++] = result;
		result_sift_up(search, search->nresults - 1);
	}
	else
	{
		pfree(search->results[0].url);
		if (search->results[0].title)
			pfree(search->results[0].title);
		search->results[0] = result;
		result_sift_down(search, 0);
	}
	MemoryContextSwitchTo(old);

done:
	ResetExprContext(search->econtext);
	ExecClearTuple(search->slot);
}

/*
 * Read the index list of one feature: every row found gets w added to its
 * mass.  Only TIDs are read; the bitmap is sized never to go lossy.  If it
 * does anyway, or the rows found would take more memory than allowed,
 * search->abandoned says so and the caller gives up the index.
 * The index AM keeps what it allocates here until the next rescan or the
 * end of the scan, so all of it stays in the caller's (the search's)
 * context; the bitmap, the bulk of it, is freed right away.
 */
static void
read_feature_list(Search *search, const TargetFeature *feature)
{
	Datum		key_elem = Int32GetDatum(feature->index);
	ArrayType  *query = construct_array(&key_elem, 1, INT4OID, sizeof(int32), true, TYPALIGN_INT);
	ScanKeyData key;
	TIDBitmap  *bitmap;
	TBMIterator *iterator;
	TBMIterateResult *page;

	ScanKeyEntryInitialize(&key, 0, 1, search->overlap_strategy, search->overlap_subtype,
						   search->index->rd_indcollation[0], search->overlap_proc,
						   PointerGetDatum(query));
	index_rescan(search->scan, &key, 1, NULL, 0);
	bitmap = tbm_create(search->bitmap_bytes, NULL);
	index_getbitmap(search->scan, bitmap);

	iterator = tbm_begin_iterate(bitmap);
	while ((page = tbm_iterate(iterator)) != NULL)
	{
		int			i;

		CHECK_FOR_INTERRUPTS();
		if (page->ntuples < 0)
		{
			search->abandoned = "a bitmap went lossy";
			break;
		}
		for (i = 0; i < page->ntuples; i++)
		{
			uint64		tid = ((uint64) page->blockno << 16) | page->offsets[i];
			bool		found;
			Candidate  *candidate = candidates_insert(search->candidates, tid, &found);

			if (!found)
			{
				candidate->scored = false;
				candidate->mass = 0.0;
			}
			candidate->mass += feature->w;
		}
		search->entries_read += page->ntuples;
		if (search->candidates->members > search->max_candidates)
		{
			search->abandoned = "too many rows found";
			break;
		}
	}
	tbm_end_iterate(iterator);
	tbm_free(bitmap);
	search->lists_read++;
}

/* Order of reading: estimated list size ascending (unknown = rare), then w. */
static int
feature_order_cmp(const void *a, const void *b)
{
	const TargetFeature *fa = (const TargetFeature *) a;
	const TargetFeature *fb = (const TargetFeature *) b;

	if (fa->estimate != fb->estimate)
		return fa->estimate < fb->estimate ? -1 : 1;
	if (fa->w != fb->w)
		return fa->w < fb->w ? -1 : 1;
	return (fa->index > fb->index) - (fa->index < fb->index);
}

/*
 * Estimated list sizes from the statistics ANALYZE keeps of the index
 * expression (an int4[]): the most common elements with their frequencies
 * (sorted by element, so a binary search finds one).  A feature not among
 * them gets -1; *unknown_rows is the size assumed for such a list.
 */
static void
estimate_list_sizes(Search *search, TargetFeature *features, int n,
					double rows, double *unknown_rows)
{
	HeapTuple	stats;
	AttStatsSlot sslot;
	int			i;

	for (i = 0; i < n; i++)
		features[i].estimate = -1.0;
	*unknown_rows = rows * 0.01;

	stats = SearchSysCache3(STATRELATTINH,
							ObjectIdGetDatum(RelationGetRelid(search->index)),
							Int16GetDatum(1), BoolGetDatum(false));
	if (!HeapTupleIsValid(stats))
		return;
	if (get_attstatsslot(&sslot, stats, STATISTIC_KIND_MCELEM, InvalidOid,
						 ATTSTATSSLOT_VALUES | ATTSTATSSLOT_NUMBERS))
	{
		if (sslot.valuetype == INT4OID && sslot.nnumbers == sslot.nvalues + 3)
		{
			/* min frequency of the list, and a list not in it is rarer */
			*unknown_rows = rows * sslot.numbers[sslot.nvalues] / 2.0;
			for (i = 0; i < n; i++)
			{
				int			lo = 0,
							hi = sslot.nvalues;

				while (lo < hi)
				{
					int			mid = lo + (hi - lo) / 2;
					int32		value = DatumGetInt32(sslot.values[mid]);

					if (value < features[i].index)
						lo = mid + 1;
					else if (value > features[i].index)
						hi = mid;
					else
					{
						features[i].estimate = rows * sslot.numbers[mid];
						break;
					}
				}
			}
		}
		free_attstatsslot(&sslot);
	}
	ReleaseSysCache(stats);
}

/*
 * Score, best mass first, up to limit unscored rows that may still rank
 * given remaining (the share of |q|^2 in the lists not read yet).
 */
static void
score_best_candidates(Search *search, double remaining, int limit)
{
	Candidate **best = palloc(sizeof(Candidate *) * limit);
	int			nbest = 0;
	candidates_iterator it;
	Candidate  *candidate;
	int			i;

	/* the limit highest masses, by insertion into a short sorted array */
	candidates_start_iterate(search->candidates, &it);
	while ((candidate = candidates_iterate(search->candidates, &it)) != NULL)
	{
		int			j;

		if (candidate->scored || !may_rank(search, candidate->mass + remaining))
			continue;
		if (nbest == limit && candidate->mass <= best[nbest - 1]->mass)
			continue;
		j = (nbest < limit) ? nbest++ : nbest - 1;
		while (j > 0 && best[j - 1]->mass < candidate->mass)
		{
			best[j] = best[j - 1];
			j--;
		}
		best[j] = candidate;
	}
	for (i = 0; i < nbest; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (may_rank(search, best[i]->mass + remaining))
			score_row(search, best[i]);
	}
	pfree(best);
}

static int
candidate_mass_cmp(const void *a, const void *b)
{
	const Candidate *ca = *(Candidate *const *) a;
	const Candidate *cb = *(Candidate *const *) b;

	if (ca->mass != cb->mass)
		return ca->mass > cb->mass ? -1 : 1;
	return (ca->tid > cb->tid) - (ca->tid < cb->tid);
}

/*
 * Would reading the next list (share w, about list_rows entries) save
 * more than it costs?  It lowers the bound of every row without that
 * feature by w; count the unscored rows that would then be pruned.
 */
static bool
next_list_pays(Search *search, double remaining, double w, double list_rows,
			   double table_rows)
{
	candidates_iterator it;
	Candidate  *candidate;
	double		pruned = 0.0;
	double		without = 1.0 - Min(1.0, list_rows / Max(table_rows, 1.0));

	candidates_start_iterate(search->candidates, &it);
	while ((candidate = candidates_iterate(search->candidates, &it)) != NULL)
	{
		if (!candidate->scored &&
			may_rank(search, candidate->mass + remaining) &&
			!may_rank(search, candidate->mass + remaining - w))
			pruned += 1.0;
	}
	return pruned * without * SCORE_COST_IN_ENTRIES > list_rows;
}

/*
 * The search over the index (the file header says how).  Returns false if
 * it had to give up (search->abandoned says why); search->results then
 * means nothing.
 */
static bool
search_index(Search *search)
{
	FVec	   *q = search->target;
	float4	   *values = FVEC_VALUES(q);
	int			n = q->nnz;
	TargetFeature *features = palloc(sizeof(TargetFeature) * n);
	double	   *suffix = palloc(sizeof(double) * (n + 1));
	double		total = 0.0;
	double		table_rows;
	double		unknown_rows;
	Candidate **pending;
	int			npending = 0;
	candidates_iterator it;
	Candidate  *candidate;
	int			pos;
	int			i;

	for (i = 0; i < n; i++)
		total += (double) values[i] * values[i];
	for (i = 0; i < n; i++)
	{
		features[i].index = q->indexes[i];
		features[i].w = (double) values[i] * values[i] / total;
	}
	table_rows = search->heap->rd_rel->reltuples;
	if (table_rows < 0)
		table_rows = (double) RelationGetNumberOfBlocks(search->heap) * 50.0;
	estimate_list_sizes(search, features, n, table_rows, &unknown_rows);
	qsort(features, n, sizeof(TargetFeature), feature_order_cmp);

	/* suffix[pos]: the share of |q|^2 in the lists from pos on */
	suffix[n] = 0.0;
	for (pos = n - 1; pos >= 0; pos--)
		suffix[pos] = suffix[pos + 1] + features[pos].w;

	for (pos = 0; pos < n; pos++)
	{
		double		remaining = suffix[pos];

		CHECK_FOR_INTERRUPTS();
		/* rows not found yet are bounded by remaining alone */
		if (!may_rank(search, remaining))
		{
			double		list_rows = features[pos].estimate >= 0 ? features[pos].estimate : unknown_rows;

			if (!next_list_pays(search, remaining, features[pos].w, list_rows, table_rows))
				break;
		}
		read_feature_list(search, &features[pos]);
		if (search->abandoned)
			return false;
		remaining = suffix[pos + 1];
		/* raise the k-th best early, so that it starts to prune */
		if (may_rank(search, remaining))
			score_best_candidates(search, remaining,
								  Min(search->k, EARLY_SCORES_PER_ROUND));
	}

	/* then every row found that may still rank, best mass first */
	{
		double		remaining = suffix[pos];

		pending = palloc_extended(sizeof(Candidate *) * Max(search->candidates->members, 1),
								  MCXT_ALLOC_HUGE);
		candidates_start_iterate(search->candidates, &it);
		while ((candidate = candidates_iterate(search->candidates, &it)) != NULL)
			if (!candidate->scored && may_rank(search, candidate->mass + remaining))
				pending[npending++] = candidate;
		qsort(pending, npending, sizeof(Candidate *), candidate_mass_cmp);
		for (i = 0; i < npending; i++)
		{
			CHECK_FOR_INTERRUPTS();
			if (!may_rank(search, pending[i]->mass + remaining))
				break;			/* sorted by mass: no later one may either */
			score_row(search, pending[i]);
		}
	}
	elog(DEBUG1, "similar: through " SIMILAR_INDEX_NAME);
	elog(DEBUG2, "similar: %d of %d feature lists read, %lld index entries, %u rows found, %lld scored",
		 search->lists_read, n, (long long) search->entries_read,
		 search->candidates->members, (long long) search->rows_scored);
	return true;
}

/* The collation of a column of rel. */
static Oid
get_attcollation(Relation rel, AttrNumber attno)
{
	return TupleDescAttr(RelationGetDescr(rel), attno - 1)->attcollation;
}

/* The OID of <nsp>.<name>(argtypes); InvalidOid if there is none. */
static Oid
lookup_function(Oid nsp, const char *name, int nargs, const Oid *argtypes)
{
	List	   *qualified = list_make2(makeString(get_namespace_name(nsp)), makeString(pstrdup(name)));

	return LookupFuncName(qualified, nargs, argtypes, true);
}

/*
 * Is index the index the extension script created, over
 * fvec_keys(features(NULL, title, article_text(description, body)))?  The
 * expression is rebuilt here and compared with the index's, both as the
 * planner sees them (article_text() inlined, default arguments added).
 * If so, returns the features(...) part, for scoring rows.
 */
static Expr *
index_features_expression(Relation heap, Relation index, Oid nsp, Oid fvec_type)
{
	Form_pg_index form = index->rd_index;
	Oid			text_args[5] = {TEXTOID, TEXTOID, TEXTOID, INT4OID, BOOLOID};
	Oid			features_oid;
	Oid			article_text_oid;
	Oid			keys_oid;
	AttrNumber	att_title = get_attnum(RelationGetRelid(heap), "title");
	AttrNumber	att_description = get_attnum(RelationGetRelid(heap), "description");
	AttrNumber	att_body = get_attnum(RelationGetRelid(heap), "body");
	Var		   *title,
			   *description,
			   *body;
	FuncExpr   *article_text;
	FuncExpr   *features;
	FuncExpr   *keys;
	Node	   *expected;
	List	   *actual;

	if (index->rd_rel->relam != GIN_AM_OID || form->indrelid != RelationGetRelid(heap) ||
		!form->indisvalid || !form->indisready || !form->indislive ||
		form->indnatts != 1 || form->indkey.values[0] != 0 ||
		RelationGetIndexPredicate(index) != NIL)
		return NULL;
	if (att_title == InvalidAttrNumber || att_description == InvalidAttrNumber ||
		att_body == InvalidAttrNumber)
		return NULL;
	features_oid = lookup_function(nsp, "features", 5, text_args);
	article_text_oid = lookup_function(nsp, "article_text", 2, text_args);
	keys_oid = lookup_function(nsp, "fvec_keys", 1, &fvec_type);
	if (!OidIsValid(features_oid) || !OidIsValid(article_text_oid) || !OidIsValid(keys_oid))
		return NULL;

	title = makeVar(1, att_title, TEXTOID, -1, get_attcollation(heap, att_title), 0);
	description = makeVar(1, att_description, TEXTOID, -1, get_attcollation(heap, att_description), 0);
	body = makeVar(1, att_body, TEXTOID, -1, get_attcollation(heap, att_body), 0);
	article_text = makeFuncExpr(article_text_oid, TEXTOID, list_make2(description, body),
								DEFAULT_COLLATION_OID, DEFAULT_COLLATION_OID, COERCE_EXPLICIT_CALL);
	features = makeFuncExpr(features_oid, fvec_type,
							list_make3(makeNullConst(TEXTOID, -1, DEFAULT_COLLATION_OID),
									   title, article_text),
							InvalidOid, DEFAULT_COLLATION_OID, COERCE_EXPLICIT_CALL);
	keys = makeFuncExpr(keys_oid, INT4ARRAYOID, list_make1(features),
						InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	expected = eval_const_expressions(NULL, (Node *) keys);

	actual = RelationGetIndexExpressions(index);
	if (list_length(actual) != 1 || !equal(expected, linitial(actual)))
		return NULL;
	return (Expr *) linitial(((FuncExpr *) linitial(actual))->args);
}

/* The column's number if it exists with this type, else InvalidAttrNumber. */
static AttrNumber
column_of_type(Relation rel, const char *name, Oid type)
{
	AttrNumber	attno = get_attnum(RelationGetRelid(rel), name);

	if (attno == InvalidAttrNumber ||
		TupleDescAttr(RelationGetDescr(rel), attno - 1)->atttypid != type)
		return InvalidAttrNumber;
	return attno;
}

/*
 * Set up the index search; false if the index cannot be used (the caller
 * then scans the table).
 */
static bool
open_search(Search *search, Oid nsp, Oid fvec_type)
{
	Oid			heap_oid = get_relname_relid(SIMILAR_TABLE_NAME, nsp);
	Oid			index_oid = get_relname_relid(SIMILAR_INDEX_NAME, nsp);
	Expr	   *features;
	double		table_rows;
	Oid			lefttype;
	int			strategy;

	if (!OidIsValid(heap_oid) || !OidIsValid(index_oid) ||
		get_rel_relkind(index_oid) != RELKIND_INDEX)
	{
		search->abandoned = "no index " SIMILAR_INDEX_NAME;
		return false;
	}
	/* reading the heap directly: only for a caller who may read it all */
	if (pg_class_aclcheck(heap_oid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
	{
		search->abandoned = "no SELECT privilege on the table";
		return false;
	}
	if (check_enable_rls(heap_oid, InvalidOid, true) == RLS_ENABLED)
	{
		search->abandoned = "row-level security";
		return false;
	}

	search->heap = table_open(heap_oid, AccessShareLock);
	search->index = index_open(index_oid, AccessShareLock);

	table_rows = search->heap->rd_rel->reltuples;
	if ((double) search->k > Max(INDEX_MAX_K_SHARE * table_rows, INDEX_MIN_K_LIMIT))
	{
		search->abandoned = "k is a large share of the table";
		goto unusable;
	}

	search->att_id = column_of_type(search->heap, "id", INT8OID);
	search->att_url = column_of_type(search->heap, "url", TEXTOID);
	search->att_title = column_of_type(search->heap, "title", TEXTOID);
	search->att_label = column_of_type(search->heap, "label", INT4OID);
	search->att_score = column_of_type(search->heap, "score", FLOAT8OID);
	search->att_final_url = column_of_type(search->heap, "final_url", TEXTOID);
	if (search->att_id == InvalidAttrNumber || search->att_url == InvalidAttrNumber ||
		search->att_title == InvalidAttrNumber || search->att_label == InvalidAttrNumber ||
		search->att_score == InvalidAttrNumber || search->att_final_url == InvalidAttrNumber)
	{
		search->abandoned = "the table's columns are not as expected";
		goto unusable;
	}
	search->url_collation = get_attcollation(search->heap, search->att_url);

	features = index_features_expression(search->heap, search->index, nsp, fvec_type);
	if (features == NULL)
	{
		search->abandoned = "the index is not usable or not the expected one";
		goto unusable;
	}

	get_op_opfamily_properties(OID_ARRAY_OVERLAP_OP, search->index->rd_opfamily[0], false,
							   &strategy, &lefttype, &search->overlap_subtype);
	search->overlap_strategy = (StrategyNumber) strategy;
	search->overlap_proc = get_opcode(OID_ARRAY_OVERLAP_OP);

	search->snapshot = GetActiveSnapshot();
	search->scan = index_beginscan_bitmap(search->index, search->snapshot, 1);
	/* room for every heap page, so that no bitmap goes lossy */
	search->bitmap_bytes = Max((long) work_mem * 1024L,
							   (long) RelationGetNumberOfBlocks(search->heap) * 80L + 1024L * 1024L);

	/* the rows found may take work_mem, and at least MIN_CANDIDATE_MEMORY */
	search->max_candidates = (uint32) Min((double) PG_UINT32_MAX / 4,
										  Max((double) work_mem * 1024.0, MIN_CANDIDATE_MEMORY) /
										  (2.0 * sizeof(Candidate)));

	search->fetch = table_index_fetch_begin(search->heap);
	search->slot = table_slot_create(search->heap, NULL);
	search->estate = CreateExecutorState();
	search->features = ExecPrepareExpr(features, search->estate);
	search->econtext = GetPerTupleExprContext(search->estate);
	return true;

unusable:
	index_close(search->index, AccessShareLock);
	table_close(search->heap, AccessShareLock);
	search->index = NULL;
	search->heap = NULL;
	return false;
}

static void
close_search(Search *search)
{
	FreeExecutorState(search->estate);
	ExecDropSingleTupleTableSlot(search->slot);
	table_index_fetch_end(search->fetch);
	index_endscan(search->scan);
	index_close(search->index, NoLock);
	table_close(search->heap, NoLock);
}

static int
result_order_cmp(const void *a, const void *b, void *arg)
{
	const Search *search = (const Search *) arg;
	const RankedRow *ra = (const RankedRow *) a;
	const RankedRow *rb = (const RankedRow *) b;

	if (result_better(search, ra, rb))
		return -1;
	if (result_better(search, rb, ra))
		return 1;
	return 0;
}

/*
 * The full scan of 0.1, for when the index cannot be used: the same rows
 * in the same order, into the tuplestore.
 */
static void
full_scan(int64 target_id, text *final_key, FVec *target, int32 k,
		  Tuplestorestate *tupstore, TupleDesc tupdesc, Oid fvec_type)
{
	Oid			argtypes[4] = {INT8OID, TEXTOID, fvec_type, INT4OID};
	Datum		args[4];
	uint64		i;
	int			ret;

	args[0] = Int64GetDatum(target_id);
	args[1] = PointerGetDatum(final_key);
	args[2] = PointerGetDatum(target);
	args[3] = Int32GetDatum(k);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT s.id, s.url, s.title, s.label, s.score, s.similarity"
								"  FROM (SELECT e.id, e.url, e.title, e.label, e.score,"
								"               pglearn.cosine_similarity($3, pglearn.features(NULL, e.title,"
								"                   pglearn.article_text(e.description, e.body))) AS similarity"
								"          FROM pglearn.examples e"
								"         WHERE e.id OPERATOR(pg_catalog.<>) $1"
								"           AND coalesce(e.final_url, e.url) OPERATOR(pg_catalog.<>) $2"
								"        OFFSET 0) s"
								" WHERE s.similarity OPERATOR(pg_catalog.>) 0::pg_catalog.float8"
								" ORDER BY s.similarity DESC, s.url"
								" LIMIT $4",
								4, argtypes, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	for (i = 0; i < SPI_processed; i++)
	{
		Datum		values[6];
		bool		nulls[6];
		int			col;

		CHECK_FOR_INTERRUPTS();
		for (col = 0; col < 6; col++)
			values[col] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
										col + 1, &nulls[col]);
		tuplestore_putvalues(tupstore, tupdesc, values, nulls);
	}
	SPI_finish();
}

/*
 * _similar_ranked(target_id int8, final_key text, target fvec, k int4)
 * returns setof (id, url, title, label, score, similarity): the k rows of
 * pglearn.examples other than target_id and not with final URL final_key
 * with the highest cosine_similarity(target, their features) above 0,
 * best first, ties by URL.  Strict.
 */
Datum
pglearn_similar_ranked(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		target_id = PG_GETARG_INT64(0);
	text	   *final_key = PG_GETARG_TEXT_PP(1);
	FVec	   *target = PG_GETARG_FVEC_P(2);
	int32		k = PG_GETARG_INT32(3);
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
	Oid			fvec_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
											CStringGetDatum("fvec"),
											ObjectIdGetDatum(nsp));
	TupleDesc	tupdesc;
	Tuplestorestate *tupstore;
	MemoryContext caller_context = CurrentMemoryContext;
	MemoryContext work_context;
	Search		search;
	int			i;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("materialize mode required, but it is not allowed in this context")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (k < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be a positive integer, got %d", k)));

	MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	tupdesc = CreateTupleDescCopy(tupdesc);
	tupstore = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tupstore;
	rsinfo->setDesc = tupdesc;
	MemoryContextSwitchTo(caller_context);

	/* an article without features shares none: nothing is similar */
	if (target->nnz == 0)
		return (Datum) 0;

	work_context = AllocSetContextCreate(caller_context, "pglearn similar",
										 ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work_context);
	memset(&search, 0, sizeof(search));
	search.target = target;
	search.target_id = target_id;
	search.target_final_key = final_key;
	search.k = k;

	if (!open_search(&search, nsp, fvec_type))
	{
		elog(DEBUG1, "similar: full scan (%s)", search.abandoned);
		MemoryContextSwitchTo(caller_context);
		full_scan(target_id, final_key, target, k, tupstore, tupdesc, fvec_type);
		MemoryContextDelete(work_context);
		return (Datum) 0;
	}

	search.candidates = candidates_create(work_context, 1024, NULL);
	search.results_context = AllocSetContextCreate(work_context, "pglearn similar results",
												   ALLOCSET_DEFAULT_SIZES);
	search.results_size = Min(k, 64);
	search.results = MemoryContextAlloc(work_context, sizeof(RankedRow) * search.results_size);

	if (!search_index(&search))
	{
		elog(DEBUG1, "similar: full scan (%s)", search.abandoned);
		close_search(&search);
		MemoryContextSwitchTo(caller_context);
		full_scan(target_id, final_key, target, k, tupstore, tupdesc, fvec_type);
		MemoryContextDelete(work_context);
		return (Datum) 0;
	}
	close_search(&search);

	qsort_arg(search.results, search.nresults, sizeof(RankedRow), result_order_cmp, &search);
	for (i = 0; i < search.nresults; i++)
	{
		RankedRow	   *r = &search.results[i];
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		values[0] = Int64GetDatum(r->id);
		values[1] = PointerGetDatum(r->url);
		values[2] = PointerGetDatum(r->title);
		nulls[2] = (r->title == NULL);
		values[3] = Int32GetDatum(r->label);
		nulls[3] = r->label_null;
		values[4] = Float8GetDatum(r->score);
		nulls[4] = r->score_null;
		values[5] = Float8GetDatum(r->similarity);
		tuplestore_putvalues(tupstore, tupdesc, values, nulls);
	}

	MemoryContextSwitchTo(caller_context);
	MemoryContextDelete(work_context);
	return (Datum) 0;
}
