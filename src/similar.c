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
 * expression.  A key is a feature index and the octave of its value (above
 * 1/2, 1/4, 1/8 or not), so the index lists, for each feature, the rows
 * that have it, and roughly with what weight.
 * Feature values are positive, so a row shares no feature with the target
 * iff its cosine is 0; the index finds the others.  Scoring all of those
 * would be exact but slow (common words are in most rows), so the rows are
 * found feature by feature, rarest first, and each row found carries an
 * upper bound on its cosine.  With the target q and a row d both scaled to
 * length 1 (features() makes d so), R the target's features not read yet,
 * W(d) those read as a whole that d has, and L(d) those read level by
 * level that d has, with d_f at most hi_f and at least lo_f there:
 *
 *		cos(q, d) <= sum over L(d) of q_f hi_f
 *					 + sqrt(sum over W(d) and R of q_f^2) * sqrt(1 - sum over L(d) of lo_f^2)
 *
 * (Cauchy-Schwarz on what is not known level by level), and for a row not
 * found yet sqrt(sum over R of q_f^2).  Rare features are read whole (one
 * index scan each); a common one, whose list would otherwise put most rows
 * among the candidates, level by level (a scan per level), which bounds
 * its contribution row by row.  Once k rows are scored exactly, the k-th
 * best similarity prunes: lists stop being read when the bound of unseen
 * rows falls below it, and a found row is scored (fetched, its features
 * computed from its text through the index's own expression) only while
 * its bound is not below it.  The result is exact: every row that could
 * rank is scored, with cosine_similarity()'s arithmetic (it is called).
 * Once the rows not found yet cannot rank, a further list is read only
 * while the rows it prunes are worth more than reading it.
 *
 * What it costs depends on the data.  On bench/similar.sh's million
 * articles a typical target reads 15 of its 75 lists, some 50,000 index
 * entries, and scores 200 rows: about half a count(*) of the table.  When
 * many rows are nearly as alike as the k-th nearest, thousands are scored
 * (3-5 count(*)s); when the k-th nearest is not much alike (similarity
 * 0.5), every list is read, every row sharing a feature is found, and tens
 * of thousands scored (1-4 s against 0.1's 20 s); always exact.  A k beyond
 * a twentieth of the table, a table the caller may not read in full (no
 * table-level SELECT, row-level security), a missing, invalid or different
 * index, and more rows found than the memory allowed for them all take the
 * full scan of 0.1 instead, through SPI, with the same results.
 *
 * Rarest first needs document frequencies: they come from ANALYZE's
 * statistics of the index expression (most common elements, the same the
 * planner uses); features not among them are rarer than those that are.
 * Without statistics the order is a guess, every list is read whole, and
 * only the cost suffers.
 *
 * Index entries are read with the index AM's bitmap interface (TIDs only,
 * no heap access, a bitmap that is never lossy); a row is fetched like an
 * index scan fetches it (table_index_fetch_tuple(): the caller's snapshot,
 * HOT chains followed), so the rows are those a query would see.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

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
 * fvec_keys(): key = index * FVEC_KEY_LEVELS + level, where level l holds
 * the values v with LEVEL_TOP[l + 1] < v <= LEVEL_TOP[l], LEVEL_TOP[l] =
 * 2^-l: level 0 everything above 1/2, level 3 everything at most 1/8.  A
 * row's features() has length 1: a word of an article of 70 distinct
 * words weighs about 0.12, a common word up to 0.3, a word of a three-word
 * title 0.58.  Octaves are coarse enough that a feature's entries fall in
 * one or two levels, so that ANALYZE's most common elements still tell
 * which features are common, and fine enough to bound an entry within a
 * factor of two where Cauchy-Schwarz alone could only say "at most 1".
 * The thresholds are powers of two, compared exactly: the level is the
 * same on every platform (an IMMUTABLE function must be).
 */
#define FVEC_KEY_LEVELS		4
static const double LEVEL_TOP[FVEC_KEY_LEVELS] = {1.0, 0.5, 0.25, 0.125};

/*
 * Relative slack on the bounds: a stored row vector has length 1 only to
 * float4 precision (within 1e-7), so its entries are bounded with 1e-6 to
 * spare; bounds and cosines are sums of float4 products in double, good
 * to ~1e-13, and are compared with 1e-9 to spare.
 */
#define LEVEL_SLACK			1e-6
#define BOUND_SLACK			1e-9

/*
 * Scoring a row (fetching it and computing its features from its text,
 * ~30 us for a short article) costs about as much as reading this many
 * index entries (~0.2 us each); it decides whether one more feature list
 * is worth reading for the rows it would prune.
 */
#define SCORE_COST_IN_ENTRIES	150.0

/*
 * A feature is read level by level when ANALYZE counts it in at least this
 * share of the rows (one scan per level rather than one; worth it where
 * the list is long), else whole.
 */
#define BY_LEVEL_MIN_SHARE	0.01

/* the full scan is taken for k beyond this share of the table */
#define INDEX_MAX_K_SHARE	0.05
#define INDEX_MIN_K_LIMIT	1000

/*
 * Memory the rows found may take, at least (work_mem if more): 40 bytes a
 * slot, a slot per line pointer of the pages they are on, so 128 MB holds
 * 3.3 million slots.  Beyond, the full scan is taken.
 */
#define MIN_CANDIDATE_MEMORY	(128.0 * 1024.0 * 1024.0)

/* rows scored per feature read while the k-th best is not good enough */
#define EARLY_SCORES_PER_ROUND	32

/* The level of a value (its absolute value: features() has no negatives). */
static int
value_level(float4 value)
{
	double		v = fabs((double) value);
	int			level = 0;

	while (level + 1 < FVEC_KEY_LEVELS && v <= LEVEL_TOP[level + 1])
		level++;
	return level;
}

/*
 * fvec_keys(fvec) returns int8[]: index * 4 + level of each entry, in
 * index order; for an empty vector the empty array.
 */
Datum
pglearn_fvec_keys(PG_FUNCTION_ARGS)
{
	FVec	   *v = PG_GETARG_FVEC_P(0);
	float4	   *values = FVEC_VALUES(v);
	Datum	   *elems = palloc(sizeof(Datum) * Max(v->nnz, 1));
	int			i;

	for (i = 0; i < v->nnz; i++)
		elems[i] = Int64GetDatum((int64) v->indexes[i] * FVEC_KEY_LEVELS + value_level(values[i]));
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, v->nnz, INT8OID,
										  sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* A row found through the index: its bound's ingredients. */
typedef struct Candidate
{
	double		shared;			/* sum of q_f^2 over the features read it has */
	double		known;			/* sum of q_f hi_f over those read by level */
	double		mass;			/* sum of q_f^2 over those read whole */
	double		low;			/* sum of lo_f^2 over those read by level */
	bool		found;			/* in a list read (else this slot is unused) */
	bool		scored;			/* fetched: scored, excluded or not visible */
} Candidate;

/*
 * The rows found on one heap page, by line pointer: rows[offset - 1].  The
 * index's lists come in TID order, so the pages are visited in order too,
 * which keeps this cache-friendly where a hash table over a million rows
 * was not.
 */
typedef struct CandidatePage
{
	int			size;			/* slots allocated */
	int			used;			/* the highest line pointer found */
	Candidate	rows[FLEXIBLE_ARRAY_MEMBER];
} CandidatePage;

/*
 * A row found: where it is, for fetching it, and its slot (valid until its
 * page next grows, i.e. while no list is being read).
 */
typedef struct CandidateRef
{
	Candidate  *candidate;
	BlockNumber block;
	OffsetNumber offset;
} CandidateRef;

/* One row scored and kept: what similar() returns of it. */
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

/* A found row and its bound, for sorting. */
typedef struct BoundedCandidate
{
	double		bound;
	CandidateRef ref;
} BoundedCandidate;

/* A target feature: its index, its share of |q|^2, its estimated list size. */
typedef struct TargetFeature
{
	int32		index;
	double		q;				/* q_f / |q| */
	double		w;				/* its square */
	double		estimate;		/* rows; -1 when not among the statistics */
	bool		by_level;		/* read level by level, else whole */
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
	const char *abandoned;		/* why the index was given up, or NULL */

	/* scoring a row: fetch it, evaluate the index's features() on it */
	IndexFetchTableData *fetch;
	TupleTableSlot *slot;
	EState	   *estate;
	ExprState  *features;
	ExprContext *econtext;

	/* rows found by page, and the k best scored (a heap, worst on top) */
	CandidatePage **pages;
	BlockNumber npages;			/* of the directory */
	BlockNumber *touched;		/* the pages with rows found, in first-found order */
	uint32		ntouched;
	uint32		touched_size;
	uint64		members;		/* rows found */
	Size		candidate_bytes;
	Size		max_candidate_bytes;	/* more: give up the index */
	MemoryContext candidates_context;
	RankedRow  *results;
	int			nresults;
	int			results_size;
	MemoryContext results_context;

	/*
	 * The rows that shared most with the target (largest sum of q_f^2)
	 * among those found since the last early scoring, best first: a row's
	 * share only grows when a list finds it, so these are the best guesses
	 * at the nearest rows without walking all of them.
	 */
	BoundedCandidate promising[EARLY_SCORES_PER_ROUND];
	int			npromising;

	/* the rows found that may still rank, once collected (update_pending) */
	BoundedCandidate *pending;
	int64		npending;

	/* counters, for the DEBUG2 line */
	int64		entries_read;
	int64		rows_scored;
	int			scans;
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
	RankedRow  *r = search->results;
	int			n = search->nresults;

	for (;;)
	{
		int			worst = i;
		int			left = 2 * i + 1;
		int			right = left + 1;
		RankedRow	tmp;

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
	RankedRow  *r = search->results;

	while (i > 0)
	{
		int			parent = (i - 1) / 2;
		RankedRow	tmp;

		if (!result_better(search, &r[parent], &r[i]))
			return;
		tmp = r[i];
		r[i] = r[parent];
		r[parent] = tmp;
		i = parent;
	}
}

/*
 * May a row whose cosine is at most bound still rank?  While fewer than k
 * rows are scored every row with a positive bound may; then only one not
 * below the k-th best.
 */
static bool
may_rank(const Search *search, double bound)
{
	if (search->nresults < search->k)
		return bound > 0.0;
	return bound * (1.0 + BOUND_SLACK) >= search->results[0].similarity;
}

/*
 * The bound of a found row, given remaining, the share of |q|^2 in the
 * lists not read yet: the smaller of Cauchy-Schwarz over every feature it
 * may share and the file header's formula (both hold; where a feature's
 * level says little, the first is the tighter).
 */
static double
candidate_bound(const Candidate *candidate, double remaining)
{
	double		rest = 1.0 - candidate->low;
	double		by_level = candidate->known + sqrt((candidate->mass + remaining) * Max(rest, 0.0));
	double		cauchy_schwarz = sqrt(candidate->shared + remaining);

	return Min(by_level, cauchy_schwarz);
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
score_row(Search *search, const CandidateRef *ref)
{
	Candidate  *candidate = ref->candidate;
	ItemPointerData tid;
	bool		call_again = false;
	bool		all_dead = false;
	bool		isnull;
	Datum		id;
	Datum		url;
	Datum		final_key;
	Datum		vector;
	double		similarity;
	RankedRow	result;
	MemoryContext old;

	candidate->scored = true;
	ItemPointerSet(&tid, ref->block, ref->offset);
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
 * The found rows of heap page block, with room for line pointers up to
 * max_offset (zeroed slots: not found); NULL, with search->abandoned set,
 * when that would take more memory than allowed.
 */
static CandidatePage *
candidate_page(Search *search, BlockNumber block, OffsetNumber max_offset)
{
	CandidatePage *page;
	int			old_size;
	int			size;

	if (block >= search->npages)
	{
		/* a page added since the directory was sized (rows newer than ours) */
		BlockNumber npages = Max(block + 1, search->npages * 2);

		search->pages = repalloc_huge(search->pages, sizeof(CandidatePage *) * (Size) npages);
		memset(search->pages + search->npages, 0,
			   sizeof(CandidatePage *) * (Size) (npages - search->npages));
		search->npages = npages;
	}
	page = search->pages[block];
	old_size = page ? page->size : 0;
	if (max_offset <= old_size)
	{
		page->used = Max(page->used, max_offset);
		return page;
	}

	/* most pages have a row or two found: room for what is asked, rounded up */
	size = Max((int) TYPEALIGN(4, max_offset), 2 * old_size);
	size = Min(size, MaxHeapTuplesPerPage);
	search->candidate_bytes += (Size) (size - old_size) * sizeof(Candidate);
	if (search->candidate_bytes > search->max_candidate_bytes)
	{
		search->abandoned = "too many rows found";
		return NULL;
	}
	if (page == NULL)
	{
		page = MemoryContextAllocZero(search->candidates_context,
									  offsetof(CandidatePage, rows) + sizeof(Candidate) * size);
		if (search->ntouched == search->touched_size)
		{
			search->touched_size = Max(1024, search->touched_size * 2);
			search->touched = search->touched == NULL ?
				MemoryContextAlloc(search->candidates_context, sizeof(BlockNumber) * search->touched_size) :
				repalloc_huge(search->touched, sizeof(BlockNumber) * (Size) search->touched_size);
		}
		search->touched[search->ntouched++] = block;
	}
	else
	{
		page = repalloc(page, offsetof(CandidatePage, rows) + sizeof(Candidate) * size);
		memset(&page->rows[old_size], 0, sizeof(Candidate) * (size - old_size));
	}
	page->size = size;
	page->used = Max(page->used, max_offset);
	search->pages[block] = page;
	return page;
}

/* Remember the row if it is among the most promising (see Search). */
static inline void
offer_promising(Search *search, Candidate *candidate, BlockNumber block, OffsetNumber offset)
{
	BoundedCandidate *promising = search->promising;
	int			n = search->npromising;
	int			limit = Min(search->k, EARLY_SCORES_PER_ROUND);
	int			j;

	if (n == limit && candidate->shared <= promising[n - 1].bound)
		return;
	/* already there (found again, by another feature): move it up */
	for (j = 0; j < n; j++)
		if (promising[j].ref.block == block && promising[j].ref.offset == offset)
			break;
	if (j == n)
		j = (n < limit) ? search->npromising++ : n - 1;
	while (j > 0 && promising[j - 1].bound < candidate->shared)
	{
		promising[j] = promising[j - 1];
		j--;
	}
	promising[j].bound = candidate->shared;
	/* by TID: a page's slots move when it grows */
	promising[j].ref.candidate = NULL;
	promising[j].ref.block = block;
	promising[j].ref.offset = offset;
}

/*
 * One index scan for the rows with any of the nkeys keys; each row found
 * is updated by add(candidate, arg).  Only TIDs are read; the bitmap is
 * sized never to go lossy.  If it does anyway, or the rows found would
 * take more memory than allowed, search->abandoned says so and the caller
 * gives up the index.  The index AM keeps what it allocates here until
 * the next rescan or the end of the scan, so all of it stays in the
 * search's context; the bitmap, the bulk of it, is freed right away.
 */
typedef void (*AddFound) (Candidate *candidate, const TargetFeature *feature, int level);

static void
scan_keys(Search *search, Datum *keys, int nkeys, AddFound add,
		  const TargetFeature *feature, int level)
{
	ArrayType  *query = construct_array(keys, nkeys, INT8OID, sizeof(int64),
										FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	ScanKeyData key;
	TIDBitmap  *bitmap;
	TBMIterator *iterator;
	TBMIterateResult *page;
	CandidatePage *rows;

	ScanKeyEntryInitialize(&key, 0, 1, search->overlap_strategy, search->overlap_subtype,
						   search->index->rd_indcollation[0], search->overlap_proc,
						   PointerGetDatum(query));
	index_rescan(search->scan, &key, 1, NULL, 0);
	bitmap = tbm_create(search->bitmap_bytes, NULL);
	index_getbitmap(search->scan, bitmap);
	search->scans++;

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
		if (page->ntuples == 0)
			continue;
		rows = candidate_page(search, page->blockno, page->offsets[page->ntuples - 1]);
		if (rows == NULL)
			break;
		for (i = 0; i < page->ntuples; i++)
		{
			Candidate  *candidate = &rows->rows[page->offsets[i] - 1];

			if (!candidate->found)
			{
				candidate->found = true;
				search->members++;
			}
			add(candidate, feature, level);
			if (!candidate->scored)
				offer_promising(search, candidate, page->blockno, page->offsets[i]);
		}
		search->entries_read += page->ntuples;
	}
	tbm_end_iterate(iterator);
	tbm_free(bitmap);
	pfree(query);
}

/* a row with the feature, read whole */
static void
add_whole(Candidate *candidate, const TargetFeature *feature, int level)
{
	candidate->shared += feature->w;
	candidate->mass += feature->w;
}

/* a row with the feature at this level */
static void
add_at_level(Candidate *candidate, const TargetFeature *feature, int level)
{
	double		hi = LEVEL_TOP[level] * (1.0 + LEVEL_SLACK);
	double		lo = (level + 1 < FVEC_KEY_LEVELS) ? LEVEL_TOP[level + 1] * (1.0 - LEVEL_SLACK) : 0.0;

	candidate->shared += feature->w;
	/* a row's entries are positive: the target's sign decides which edge */
	candidate->known += feature->q * (feature->q >= 0.0 ? hi : lo);
	candidate->low += lo * lo;
}

/* Read the list of one feature, whole or level by level. */
static void
read_feature_list(Search *search, const TargetFeature *feature)
{
	Datum		keys[FVEC_KEY_LEVELS];
	int			level;

	for (level = 0; level < FVEC_KEY_LEVELS; level++)
		keys[level] = Int64GetDatum((int64) feature->index * FVEC_KEY_LEVELS + level);
	if (!feature->by_level)
		scan_keys(search, keys, FVEC_KEY_LEVELS, add_whole, feature, 0);
	else
	{
		for (level = 0; level < FVEC_KEY_LEVELS && !search->abandoned; level++)
			scan_keys(search, &keys[level], 1, add_at_level, feature, level);
	}
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
 * expression (an int8[]): the most common elements with their frequencies
 * (sorted by element, so a binary search finds one).  A feature's list is
 * the sum over its levels' keys.  A feature none of whose keys are among
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
		if (sslot.valuetype == INT8OID && sslot.nnumbers == sslot.nvalues + 3)
		{
			/* a key not among them is rarer than the rarest that is */
			*unknown_rows = rows * sslot.numbers[sslot.nvalues] / 2.0;
			for (i = 0; i < n; i++)
			{
				int64		first = (int64) features[i].index * FVEC_KEY_LEVELS;
				int			lo = 0,
							hi = sslot.nvalues;
				int			j;

				/* the first element at or above the feature's first key */
				while (lo < hi)
				{
					int			mid = lo + (hi - lo) / 2;

					if (DatumGetInt64(sslot.values[mid]) < first)
						lo = mid + 1;
					else
						hi = mid;
				}
				for (j = lo; j < sslot.nvalues &&
					 DatumGetInt64(sslot.values[j]) < first + FVEC_KEY_LEVELS; j++)
				{
					/* the levels not among them: half the rarest each */
					if (features[i].estimate < 0)
						features[i].estimate = FVEC_KEY_LEVELS * *unknown_rows;
					features[i].estimate += rows * sslot.numbers[j] - *unknown_rows;
				}
			}
		}
		free_attstatsslot(&sslot);
	}
	ReleaseSysCache(stats);
}


static int
bounded_candidate_cmp(const void *a, const void *b)
{
	const BoundedCandidate *ca = (const BoundedCandidate *) a;
	const BoundedCandidate *cb = (const BoundedCandidate *) b;

	if (ca->bound != cb->bound)
		return ca->bound > cb->bound ? -1 : 1;
	if (ca->ref.block != cb->ref.block)
		return ca->ref.block < cb->ref.block ? -1 : 1;
	return (ca->ref.offset > cb->ref.offset) - (ca->ref.offset < cb->ref.offset);
}

/* A walk over the rows found and not scored yet, page by page. */
typedef struct CandidateWalk
{
	uint32		page;			/* in search->touched */
	int			slot;
} CandidateWalk;

static void
start_walk(CandidateWalk *walk)
{
	walk->page = 0;
	walk->slot = -1;
}

/* The next unscored row found into *ref; false at the end. */
static bool
next_unscored(Search *search, CandidateWalk *walk, CandidateRef *ref)
{
	for (; walk->page < search->ntouched; walk->page++, walk->slot = -1)
	{
		BlockNumber block = search->touched[walk->page];
		CandidatePage *page = search->pages[block];

		while (++walk->slot < page->used)
		{
			Candidate  *candidate = &page->rows[walk->slot];

			if (candidate->found && !candidate->scored)
			{
				ref->candidate = candidate;
				ref->block = block;
				ref->offset = (OffsetNumber) (walk->slot + 1);
				return true;
			}
		}
	}
	return false;
}

/*
 * Score the most promising rows found since the last time that may still
 * rank, given remaining (the share of |q|^2 in the lists not read yet).
 * A row's bound never grows, so one that may not rank now never will.
 */
static void
score_promising(Search *search, double remaining)
{
	int			i;

	for (i = 0; i < search->npromising; i++)
	{
		CandidateRef *ref = &search->promising[i].ref;

		CHECK_FOR_INTERRUPTS();
		ref->candidate = &search->pages[ref->block]->rows[ref->offset - 1];
		if (!ref->candidate->scored && may_rank(search, candidate_bound(ref->candidate, remaining)))
			score_row(search, ref);
	}
	search->npromising = 0;
}

/*
 * The rows found and not scored that may still rank, given remaining:
 * collected by one walk over all rows found the first time (once the rows
 * not found yet can no longer rank), then only filtered, since a row found
 * later cannot rank (its bound is at most that of the rows not found) and
 * no bound grows.  Slots are looked up again each time: a page's slots
 * move when it grows.
 */
static void
update_pending(Search *search, double remaining)
{
	int64		kept = 0;
	int64		i;

	if (search->pending == NULL)
	{
		CandidateWalk walk;
		CandidateRef ref;
		int64		size = 1024;

		search->pending = palloc_extended(sizeof(BoundedCandidate) * size, MCXT_ALLOC_HUGE);
		start_walk(&walk);
		while (next_unscored(search, &walk, &ref))
		{
			double		bound = candidate_bound(ref.candidate, remaining);

			if (!may_rank(search, bound))
				continue;
			if (kept == size)
			{
				size *= 2;
				search->pending = repalloc_huge(search->pending, sizeof(BoundedCandidate) * size);
			}
			search->pending[kept].bound = bound;
			search->pending[kept].ref = ref;
			kept++;
		}
		search->npending = kept;
		return;
	}
	for (i = 0; i < search->npending; i++)
	{
		BoundedCandidate *p = &search->pending[i];
		Candidate  *candidate = &search->pages[p->ref.block]->rows[p->ref.offset - 1];

		if (candidate->scored)
			continue;
		p->bound = candidate_bound(candidate, remaining);
		if (!may_rank(search, p->bound))
			continue;
		p->ref.candidate = candidate;
		search->pending[kept++] = *p;
	}
	search->npending = kept;
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
	double		pruned_whole = 1.0; /* the share of the pending rows the last */
	double		pruned_by_level = 1.0;	/* list of each kind pruned */
	double	   *share = NULL;
	int64		pending_before = -1;
	int			pos;
	int64		i;

	for (i = 0; i < n; i++)
		total += (double) values[i] * values[i];
	if (total == 0.0)
		return true;			/* cosine_similarity() is 0 with every row */
	for (i = 0; i < n; i++)
	{
		features[i].index = q->indexes[i];
		features[i].q = (double) values[i] / sqrt(total);
		features[i].w = (double) values[i] * values[i] / total;
	}
	table_rows = search->heap->rd_rel->reltuples;
	if (table_rows < 0)
		table_rows = (double) RelationGetNumberOfBlocks(search->heap) * 50.0;
	estimate_list_sizes(search, features, n, table_rows, &unknown_rows);
	for (i = 0; i < n; i++)
		features[i].by_level = features[i].estimate >= BY_LEVEL_MIN_SHARE * table_rows;
	qsort(features, n, sizeof(TargetFeature), feature_order_cmp);

	/* suffix[pos]: the share of |q|^2 in the lists from pos on */
	suffix[n] = 0.0;
	for (pos = n - 1; pos >= 0; pos--)
		suffix[pos] = suffix[pos + 1] + features[pos].w;

	for (pos = 0; pos < n; pos++)
	{
		double		remaining = suffix[pos];

		CHECK_FOR_INTERRUPTS();
		/*
		 * Rows not found yet are bounded by sqrt(remaining).  Once they
		 * cannot rank, another list is read only if the rows it is likely
		 * to prune (they need not be scored) are worth more than reading
		 * it: the share of the pending rows the last list of its kind
		 * pruned (at first, all of them).
		 */
		if (!may_rank(search, sqrt(remaining)))
		{
			double		list_rows = features[pos].estimate >= 0 ? features[pos].estimate : unknown_rows;

			update_pending(search, remaining);
			share = features[pos].by_level ? &pruned_by_level : &pruned_whole;
			if ((double) search->npending * *share * SCORE_COST_IN_ENTRIES <= list_rows)
				break;
			pending_before = search->npending;
		}
		read_feature_list(search, &features[pos]);
		if (search->abandoned)
			return false;
		remaining = suffix[pos + 1];
		if (pending_before > 0)
		{
			update_pending(search, remaining);
			*share = (double) (pending_before - search->npending) / (double) pending_before;
			pending_before = -1;
		}
		elog(DEBUG3, "similar: list %d (estimate %.0f%s, w %.4f): %lld entries so far, %llu rows found, %lld scored, unseen bound %.4f, k-th best %.4f",
			 pos, features[pos].estimate, features[pos].by_level ? ", by level" : "", features[pos].w,
			 (long long) search->entries_read, (unsigned long long) search->members,
			 (long long) search->rows_scored, sqrt(remaining),
			 search->nresults >= search->k ? search->results[0].similarity : 0.0);

		/* raise the k-th best early, so that it starts to prune */
		if (may_rank(search, sqrt(remaining)))
			score_promising(search, remaining);
	}

	/* then every row found that may still rank, highest bound first */
	update_pending(search, suffix[pos]);
	qsort(search->pending, search->npending, sizeof(BoundedCandidate), bounded_candidate_cmp);
	for (i = 0; i < search->npending; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (!may_rank(search, search->pending[i].bound))
			break;				/* sorted by bound: no later one may either */
		score_row(search, &search->pending[i].ref);
	}
	elog(DEBUG1, "similar: through " SIMILAR_INDEX_NAME);
	elog(DEBUG2, "similar: %d of %d feature lists read (%d index scans), %lld index entries, %llu rows found, %lld scored",
		 search->lists_read, n, search->scans, (long long) search->entries_read,
		 (unsigned long long) search->members, (long long) search->rows_scored);
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
	keys = makeFuncExpr(keys_oid, INT8ARRAYOID, list_make1(features),
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

/* Is pglearn.examples distributed by Citus (pglearn._distributed())? */
static bool
examples_distributed(void)
{
	bool		distributed;
	bool		isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT pglearn._distributed()", true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute failed");
	distributed = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return distributed && !isnull;
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
	/*
	 * On Citus (pglearn.distribute()) this node's table is an empty shell and
	 * the rows are in the workers' shards: only a query reaches them.
	 */
	if (examples_distributed())
	{
		search->abandoned = "the table is distributed (Citus)";
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
	search->max_candidate_bytes = (Size) Max((double) work_mem * 1024.0, MIN_CANDIDATE_MEMORY);
	search->npages = Max(RelationGetNumberOfBlocks(search->heap), 1);

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

	InitMaterializedSRF(fcinfo, 0);
	tupstore = rsinfo->setResult;
	tupdesc = rsinfo->setDesc;
	if (k < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be a positive integer, got %d", k)));

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

	search.candidates_context = AllocSetContextCreate(work_context, "pglearn similar candidates",
													  ALLOCSET_DEFAULT_SIZES);
	search.pages = MemoryContextAllocExtended(work_context, sizeof(CandidatePage *) * (Size) search.npages,
											  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
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
