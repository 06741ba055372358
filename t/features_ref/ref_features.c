/*-------------------------------------------------------------------------
 *
 * ref_features.c
 *	  The reference for t/features_ref: features() as it was before its fast
 *	  path (src/features.c at 6f3c6aa), kept unchanged but for names.
 *
 * Built with ref_tokenize.c (src/tokenize.c of the same commit) into
 * pglearn_features_ref.so, which t/features_ref/run.sh loads next to
 * pglearn as pglearn_ref_features(url, title, body, hash_bits, binary) and
 * pglearn_ref_features_tsvector(tsvector, hash_bits, binary), to check
 * that today's features() gives the very same fvecs, bit for bit, and for
 * bench/features.sh to time the two in one run.  Do not "improve" this
 * file: its worth is that it is the old code.  Changes from the original:
 * the SQL function names, feature_names() and the search documents' entry
 * point left out, the two fvec.c functions it calls copied in, and this
 * comment.  The original's header comment (the
 * definition of the features) is in src/features.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/namespace.h"
#include "common/unicode_norm.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "tsearch/ts_type.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "feature_settings.h"
#include "fvec.h"
#include "ref_tokenize.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(pglearn_ref_features);
PG_FUNCTION_INFO_V1(pglearn_ref_features_tsvector);

/*
 * fvec_allocate() and fvec_from_pairs() of src/fvec.c at 6f3c6aa (global
 * here as there; ref.map keeps them inside this library)
 */
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

/* Bytes of text normalised at a time (the piece ends at a separator). */
#define FEATURES_CHUNK_SIZE		(64 * 1024)

/* The bias token of binary features. */
#define FEATURES_BIAS_TOKEN		"BIAS"

/*
 * The most distinct tokens one document may have: those of url, title and
 * body together (the bias token of binary features aside), or the lexemes
 * of a tsvector.
 *
 * The memory features() and feature_names() need grows with the number of
 * distinct tokens, not with the length of the text: each costs a hash
 * table entry, its bytes, a bucket and a vector entry, 90 to 150 bytes.
 * Without a limit a text of distinct made-up words cost 4 to 11 times its
 * length (17 for feature_names()), gigabytes for a large text.  At the
 * limit features() needs about 95 MB beyond its input for short tokens and
 * 155 MB for 64-byte ones, feature_names() 110 and 170 MB (measured on
 * PostgreSQL 15; t/memory.sh checks it).  Counting tokens rather than bytes
 * keeps the limit a property of the document alone, the same on every
 * server whatever its settings, as an IMMUTABLE function needs.
 *
 * Why 2^20: it is the default hash space, so a document with more distinct
 * tokens would fill most of the default buckets by itself, and real text
 * stays far below it.  Debian's manual pages (117 MB) as one document have
 * 73,129 distinct tokens, Perl's library and documentation (10 MB) 47,539:
 * words repeat.  CJK text gives a token per character bigram, but bigrams
 * repeat too; the crawler keeps at most 5 MB of body, 1.7 million CJK
 * characters, and for the limit to bite more than 60% of their bigrams
 * would have to be distinct.  Generated data (lists of numbers, hex or
 * base64 identifiers) is what reaches it.
 */
#define FEATURES_MAX_TOKENS		(1 << 20)

/* One distinct token and how often it occurred. */
typedef struct TokenEntry
{
	char	   *bytes;			/* NULL for an empty slot */
	int32		len;
	uint32		hash;			/* murmurhash3_32(bytes, len, 0) */
	int64		count;
} TokenEntry;

/* Open-addressing hash table of distinct tokens (linear probing). */
typedef struct TokenTable
{
	TokenEntry *entries;
	uint32		capacity;		/* a power of two */
	uint32		used;
	uint32		max_used;		/* FEATURES_MAX_TOKENS, + 1 for the bias */
	char	   *arena;			/* where the next token's bytes go */
	size_t		arena_free;		/* bytes left there */
} TokenTable;

/*
 * Token bytes are carved out of blocks of this size rather than palloc'd
 * one by one: a chunk header and power-of-two rounding would more than
 * double the memory of short tokens, and the bytes are freed all at once
 * with the context anyway.
 */
#define FEATURES_ARENA_BLOCK	(64 * 1024)

static void
token_table_init(TokenTable *table)
{
	table->capacity = 256;
	table->used = 0;
	table->max_used = FEATURES_MAX_TOKENS;
	table->entries = palloc0(sizeof(TokenEntry) * table->capacity);
	table->arena = NULL;
	table->arena_free = 0;
}

/* Room for size bytes of token text (a lexeme may exceed a block). */
static char *
token_table_bytes(TokenTable *table, size_t size)
{
	char	   *result;

	if (size > table->arena_free)
	{
		size_t		block = Max(size, FEATURES_ARENA_BLOCK);

		table->arena = palloc(block);
		table->arena_free = block;
	}
	result = table->arena;
	table->arena += size;
	table->arena_free -= size;
	return result;
}

static void
too_many_tokens(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("document has more than %d distinct tokens", FEATURES_MAX_TOKENS),
			 errdetail("A document's url, title and body together may have at most %d distinct tokens (words, character bigrams, URL parts), and a tsvector at most %d lexemes; the limit bounds the memory features() and feature_names() need.",
					   FEATURES_MAX_TOKENS, FEATURES_MAX_TOKENS),
			 errhint("Strip what is not prose (word lists, encoded data, generated identifiers) or split the text into several documents.")));
}

static void
token_table_grow(TokenTable *table)
{
	TokenEntry *old = table->entries;
	uint32		old_capacity = table->capacity;
	uint32		i;

	StaticAssertStmt(FEATURES_MAX_TOKENS + 1 <= FVEC_MAX_NNZ,
					 "an fvec must hold a bucket per distinct token");
	table->capacity *= 2;
	table->entries = MemoryContextAllocExtended(CurrentMemoryContext,
												sizeof(TokenEntry) * (Size) table->capacity,
												MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	for (i = 0; i < old_capacity; i++)
	{
		uint32		mask = table->capacity - 1;
		uint32		slot;

		if (old[i].bytes == NULL)
			continue;
		slot = old[i].hash & mask;
		while (table->entries[slot].bytes != NULL)
			slot = (slot + 1) & mask;
		table->entries[slot] = old[i];
	}
	pfree(old);
}

/* Count 'count' occurrences of the token; copies the bytes when new. */
static void
token_table_add(TokenTable *table, const char *bytes, size_t len, int64 count)
{
	uint32		hash = murmurhash3_32(bytes, len, 0);
	uint32		mask = table->capacity - 1;
	uint32		slot = hash & mask;
	TokenEntry *entry;

	for (;;)
	{
		entry = &table->entries[slot];
		if (entry->bytes == NULL)
			break;
		if (entry->hash == hash && entry->len == (int32) len &&
			memcmp(entry->bytes, bytes, len) == 0)
		{
			entry->count += count;
			return;
		}
		slot = (slot + 1) & mask;
	}

	/* a new token */
	if (table->used >= table->max_used)
		too_many_tokens();

	/*
	 * Keep the load factor at most one half, so probes stay short; the
	 * bias token past the limit may exceed it (by one entry), rather than
	 * double the table for one entry.
	 */
	if ((table->used + 1) * 2 > table->capacity && table->used < FEATURES_MAX_TOKENS)
	{
		token_table_grow(table);
		mask = table->capacity - 1;
		slot = hash & mask;
		while (table->entries[slot].bytes != NULL)
			slot = (slot + 1) & mask;
		entry = &table->entries[slot];
	}
	entry->bytes = token_table_bytes(table, len + 1);
	memcpy(entry->bytes, bytes, len);
	entry->bytes[len] = '\0';
	entry->len = (int32) len;
	entry->hash = hash;
	entry->count = count;
	table->used++;
}

/* tokenize.c callback: count the token; long texts must stay cancellable. */
static int
collect_token(void *arg, const char *token, size_t len)
{
	CHECK_FOR_INTERRUPTS();
	token_table_add((TokenTable *) arg, token, len, 1);
	return 0;
}

/*
 * Return s[0..len) in UTF-8, setting *out_len.  The result is s itself
 * when no conversion is needed (UTF-8 and SQL_ASCII databases; SQL_ASCII
 * bytes are read as UTF-8 and whatever is not valid UTF-8 is skipped).
 */
static const char *
text_to_utf8(const char *s, size_t len, size_t *out_len)
{
	int			encoding = GetDatabaseEncoding();
	char	   *converted;

	*out_len = len;
	if (encoding == PG_UTF8 || encoding == PG_SQL_ASCII || len == 0)
		return s;
	converted = (char *) pg_do_encoding_conversion((unsigned char *) s,
												   (int) len, encoding, PG_UTF8);
	if (converted != s)
		*out_len = strlen(converted);
	return converted;
}

/*
 * NFKC of UTF-8 s[0..len), as palloc'd UTF-8 (or s itself when it is
 * plain ASCII, which NFKC leaves alone).  Ill-formed bytes become spaces,
 * which is what the tokenizer makes of them anyway.
 */
static const char *
normalize_nfkc(const char *s, size_t len, size_t *out_len)
{
	pg_wchar   *input;
	pg_wchar   *normalized;
	size_t		n = 0;
	size_t		pos = 0;
	size_t		i;
	char	   *result;
	char	   *p;

	for (i = 0; i < len; i++)
		if ((unsigned char) s[i] >= 0x80)
			break;
	if (i == len)
	{
		*out_len = len;
		return s;
	}

	input = MemoryContextAllocExtended(CurrentMemoryContext,
									   sizeof(pg_wchar) * (len + 1),
									   MCXT_ALLOC_HUGE);
	while (pos < len)
	{
		int32_t		cp = tokenize_utf8_next(s, len, &pos);

		input[n++] = (cp <= 0) ? ' ' : (pg_wchar) cp;
	}
	input[n] = 0;

	normalized = unicode_normalize(UNICODE_NFKC, input);
	pfree(input);

	for (n = 0; normalized[n] != 0; n++)
		;
	result = MemoryContextAllocExtended(CurrentMemoryContext, n * 4 + 1,
										MCXT_ALLOC_HUGE);
	p = result;
	for (i = 0; i < n; i++)
	{
		unicode_to_utf8(normalized[i], (unsigned char *) p);
		p += pg_utf_mblen((unsigned char *) p);
	}
	*p = '\0';
	pfree(normalized);
	*out_len = p - result;
	return result;
}

/*
 * The tokens of a title or body, normalised piece by piece, handed to
 * callback in text order: the one definition of "the words of a text",
 * which features() and search documents (search.c) share.  A nonzero
 * return from the callback stops the walk.
 */
static void
features_text_tokens(text *t, const char *prefix,
					 token_callback callback, void *arg)
{
	size_t		len;
	const char *s = text_to_utf8(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &len);
	size_t		pos = 0;
	MemoryContext piece_context;
	MemoryContext old_context;
	bool		stopped;

	piece_context = AllocSetContextCreate(CurrentMemoryContext,
										  "pglearn features piece",
										  ALLOCSET_DEFAULT_SIZES);
	while (pos < len)
	{
		size_t		end = pos + FEATURES_CHUNK_SIZE;
		const char *normalized;
		size_t		normalized_len;

		if (end >= len)
			end = len;
		else
		{
			/* an ASCII non-alphanumeric byte is never inside a character */
			while (end < len &&
				   !((unsigned char) s[end] < 0x80 &&
					 !((s[end] >= '0' && s[end] <= '9') ||
					   (s[end] >= 'a' && s[end] <= 'z') ||
					   (s[end] >= 'A' && s[end] <= 'Z'))))
				end++;
		}

		old_context = MemoryContextSwitchTo(piece_context);
		normalized = normalize_nfkc(s + pos, end - pos, &normalized_len);
		MemoryContextSwitchTo(old_context);

		stopped = tokenize_text(prefix, normalized, normalized_len,
								callback, arg) != 0;
		MemoryContextReset(piece_context);
		if (stopped)
			break;
		pos = end;
	}
	MemoryContextDelete(piece_context);
}

/* Tokens of a title or body into the document's table. */
static void
add_text_tokens(TokenTable *table, text *t, const char *prefix)
{
	features_text_tokens(t, prefix, collect_token, table);
}

/* Tokens of a URL (short enough to normalise at once). */
static void
add_url_tokens(TokenTable *table, text *t)
{
	size_t		len;
	const char *s = text_to_utf8(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &len);

	s = normalize_nfkc(s, len, &len);
	tokenize_url(s, len, collect_token, table);
}

/* A bucket and its value while the vector is assembled. */
typedef struct Bucket
{
	int32		index;
	double		value;
} Bucket;

static int
bucket_cmp(const void *a, const void *b)
{
	int32		ia = ((const Bucket *) a)->index;
	int32		ib = ((const Bucket *) b)->index;

	return (ia > ib) - (ia < ib);
}

/*
 * The fvec of a token table under the value rules in the file header,
 * allocated in result_context.
 */
static FVec *
build_fvec(TokenTable *table, int hash_bits, bool binary,
		   MemoryContext result_context)
{
	uint32		mask = ((uint32) 1 << hash_bits) - 1;
	Bucket	   *buckets;
	int32	   *indexes;
	float4	   *values;
	int			n = 0;
	int			nbuckets = 0;
	uint32		i;
	double		sum_squares = 0.0;
	MemoryContext old_context;
	FVec	   *result;

	if (binary)
	{
		/* the bias is not the document's: it may go past the limit */
		table->max_used = FEATURES_MAX_TOKENS + 1;
		token_table_add(table, FEATURES_BIAS_TOKEN,
						strlen(FEATURES_BIAS_TOKEN), 1);
	}

	if (table->used == 0)
	{
		old_context = MemoryContextSwitchTo(result_context);
		result = fvec_allocate(0);
		MemoryContextSwitchTo(old_context);
		return result;
	}

	buckets = MemoryContextAllocExtended(CurrentMemoryContext,
										 sizeof(Bucket) * (Size) table->used,
										 MCXT_ALLOC_HUGE);
	for (i = 0; i < table->capacity; i++)
	{
		TokenEntry *entry = &table->entries[i];

		if (entry->bytes == NULL)
			continue;
		buckets[n].index = (int32) (entry->hash & mask);
		buckets[n].value = binary ? 1.0 : log(1.0 + (double) entry->count);
		n++;
	}

	/* sum colliding tokens (in double, before rounding to float4) */
	qsort(buckets, n, sizeof(Bucket), bucket_cmp);
	for (i = 0; i < (uint32) n; i++)
	{
		if (nbuckets > 0 && buckets[nbuckets - 1].index == buckets[i].index)
			buckets[nbuckets - 1].value += buckets[i].value;
		else
			buckets[nbuckets++] = buckets[i];
	}

	indexes = MemoryContextAllocExtended(CurrentMemoryContext,
										 sizeof(int32) * (Size) nbuckets,
										 MCXT_ALLOC_HUGE);
	values = MemoryContextAllocExtended(CurrentMemoryContext,
										sizeof(float4) * (Size) nbuckets,
										MCXT_ALLOC_HUGE);
	if (!binary)
	{
		for (i = 0; i < (uint32) nbuckets; i++)
			sum_squares += buckets[i].value * buckets[i].value;
	}
	for (i = 0; i < (uint32) nbuckets; i++)
	{
		indexes[i] = buckets[i].index;
		/* binary: a bucket is present or not, whatever collided in it */
		values[i] = binary ? 1.0f : (float4) (buckets[i].value / sqrt(sum_squares));
	}

	old_context = MemoryContextSwitchTo(result_context);
	result = fvec_from_pairs(indexes, values, nbuckets);
	MemoryContextSwitchTo(old_context);
	return result;
}

static void
features_check_hash_bits(int32 hash_bits)
{
	if (hash_bits < FEATURES_MIN_HASH_BITS || hash_bits > FEATURES_MAX_HASH_BITS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hash_bits must be between %d and %d",
						FEATURES_MIN_HASH_BITS, FEATURES_MAX_HASH_BITS),
				 errdetail("The value given was %d.", hash_bits),
				 errhint("The default of %d gives about a million buckets; use the same value for training and scoring.",
						 FEATURES_DEFAULT_HASH_BITS)));
}

static int
check_hash_bits(FunctionCallInfo fcinfo, int argno)
{
	int32		hash_bits;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("hash_bits must not be null")));
	hash_bits = PG_GETARG_INT32(argno);
	features_check_hash_bits(hash_bits);
	return hash_bits;
}

static bool
check_binary(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("binary must not be null")));
	return PG_GETARG_BOOL(argno);
}

/* Count the tokens of (url, title, body) arguments 0..2 into table. */
static void
collect_article_tokens(FunctionCallInfo fcinfo, TokenTable *table)
{
	if (!PG_ARGISNULL(0))
		add_url_tokens(table, PG_GETARG_TEXT_PP(0));
	if (!PG_ARGISNULL(1))
		add_text_tokens(table, PG_GETARG_TEXT_PP(1), "t:");
	if (!PG_ARGISNULL(2))
		add_text_tokens(table, PG_GETARG_TEXT_PP(2), "b:");
}

/*
 * features(url text, title text, body text, hash_bits int4, binary bool)
 * returns fvec.  Not strict: NULL url, title or body count as empty.
 */
Datum
pglearn_ref_features(PG_FUNCTION_ARGS)
{
	int			hash_bits = check_hash_bits(fcinfo, 3);
	bool		binary = check_binary(fcinfo, 4);
	MemoryContext caller_context = CurrentMemoryContext;
	MemoryContext work_context;
	TokenTable	table;
	FVec	   *result;

	work_context = AllocSetContextCreate(CurrentMemoryContext,
										 "pglearn features",
										 ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work_context);

	token_table_init(&table);
	collect_article_tokens(fcinfo, &table);
	result = build_fvec(&table, hash_bits, binary, caller_context);

	MemoryContextSwitchTo(caller_context);
	MemoryContextDelete(work_context);
	PG_RETURN_FVEC_P(result);
}

/*
 * features(document tsvector, hash_bits int4, binary bool) returns fvec.
 * Strict.
 */
Datum
pglearn_ref_features_tsvector(PG_FUNCTION_ARGS)
{
	TSVector	document = PG_GETARG_TSVECTOR(0);
	int			hash_bits = check_hash_bits(fcinfo, 1);
	bool		binary = check_binary(fcinfo, 2);
	MemoryContext caller_context = CurrentMemoryContext;
	MemoryContext work_context;
	WordEntry  *entries = ARRPTR(document);
	char	   *lexemes = STRPTR(document);
	TokenTable	table;
	FVec	   *result;
	int32		i;

	work_context = AllocSetContextCreate(CurrentMemoryContext,
										 "pglearn features",
										 ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work_context);

	token_table_init(&table);
	for (i = 0; i < document->size; i++)
	{
		size_t		len;
		const char *lexeme = text_to_utf8(lexemes + entries[i].pos,
										  entries[i].len, &len);
		int			positions = POSDATALEN(document, &entries[i]);

		CHECK_FOR_INTERRUPTS();
		/* a stripped lexeme has no positions but occurs at least once */
		token_table_add(&table, lexeme, len, positions > 0 ? positions : 1);
	}
	result = build_fvec(&table, hash_bits, binary, caller_context);

	MemoryContextSwitchTo(caller_context);
	MemoryContextDelete(work_context);
	PG_RETURN_FVEC_P(result);
}
