/*-------------------------------------------------------------------------
 *
 * features.c
 *	  Feature extraction: pglearn.features() and pglearn.feature_names().
 *
 * This file owns the definition of an article's feature vector: which
 * tokens it has (through tokenize.c), how a token becomes an index, and the
 * value of each index.  The fvec type itself is fvec.c's; training and
 * scoring do not care how vectors were made.
 *
 * features(url, title, body, hash_bits, binary) is defined as follows.
 *
 * 1. Text.  Each of url, title and body (NULL means empty) is converted
 *	  from the database encoding to UTF-8 and normalised to NFKC with
 *	  PostgreSQL's own Unicode tables, so full-width Latin ("ＡＢＣ") and
 *	  digits, half-width katakana and ligatures become their plain forms.
 *	  Long texts are normalised in pieces of about 64kB, cut just before an
 *	  ASCII character that is not a letter or digit; NFKC never composes
 *	  across such a character and the tokenizer treats it as a separator,
 *	  so the result is the same as for the whole text at once.
 *
 * 2. Tokens (tokenize.c has the exact rules).  The url gives "u:h:<host>",
 *	  "u:s:<host suffix>" and "u:p:<path or query word>"; the title gives
 *	  "t:<word>" and the body "b:<word>".  Words are maximal runs of letters
 *	  and digits of space-separated scripts, lower-cased by a built-in table
 *	  (not the server locale) and cut at 64 bytes; runs of Han, kana and
 *	  Hangul give overlapping character bigrams (one character alone gives
 *	  a unigram).  The same text gives the same tokens on every server.
 *	  Percent-decoded URL words are not NFKC-normalised (they are decoded
 *	  after normalisation).
 *
 * 3. Index.  index = murmurhash3_32(token bytes in UTF-8, seed 0) masked
 *	  to the low hash_bits bits (1..30; default 20, about a million
 *	  buckets).  Distinct tokens may share an index.
 *
 * 4. Value, default.  Every distinct token with count tf contributes
 *	  log(1 + tf) to its bucket (colliding tokens add up), then the vector
 *	  is divided by its Euclidean norm so its L2 norm is 1.  Computed in
 *	  double precision, stored as float4.  No tokens gives the empty fvec.
 *
 * 5. Value, binary.  The indicator features of the system pglearn
 *	  replaces: the token "BIAS" is added to every article (it is hashed
 *	  like any other token, so the bias gets a bucket of its own unless it
 *	  collides), and every bucket holding at least one token is 1, however
 *	  many tokens and repetitions it holds.  No normalisation.  Empty input
 *	  gives the BIAS bucket alone.
 *
 * features(tsvector, hash_bits, binary) uses the lexemes as tokens as
 * they are (no prefix, no case mapping or normalisation, only conversion
 * to UTF-8), with tf = number of positions (1 for a stripped lexeme); the
 * value rules are the same.  The text search configuration decides words,
 * stemming and stop words.
 *
 * feature_names() shows the tokens of features(url, title, body) with
 * their index and the final value of that index, for explanation and
 * debugging.  In a database whose encoding lacks a character of a token
 * name, that character is shown as \uXXXX.
 *
 * A document may have at most FEATURES_MAX_TOKENS (2^20) distinct tokens,
 * a tsvector as many lexemes; more is an error (54000), which bounds the
 * memory both functions need whatever the input.  All scratch memory lives
 * in a private context deleted before returning, and the token loops check
 * for interrupts, so a huge body can be cancelled.
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

#include "featurize.h"
#include "fvec.h"
#include "tokenize.h"

PG_FUNCTION_INFO_V1(pglearn_features);
PG_FUNCTION_INFO_V1(pglearn_features_tsvector);
PG_FUNCTION_INFO_V1(pglearn_feature_names);

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
void
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

void
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
pglearn_features(PG_FUNCTION_ARGS)
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
pglearn_features_tsvector(PG_FUNCTION_ARGS)
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

/* Sort order of feature_names(): by index, then by token bytes. */
typedef struct NamedFeature
{
	TokenEntry *entry;
	int32		index;
} NamedFeature;

static int
named_feature_cmp(const void *a, const void *b)
{
	const NamedFeature *fa = (const NamedFeature *) a;
	const NamedFeature *fb = (const NamedFeature *) b;
	int			c;

	if (fa->index != fb->index)
		return (fa->index > fb->index) - (fa->index < fb->index);
	c = memcmp(fa->entry->bytes, fb->entry->bytes,
			   Min(fa->entry->len, fb->entry->len));
	if (c != 0)
		return c;
	return (fa->entry->len > fb->entry->len) - (fa->entry->len < fb->entry->len);
}

/* The value stored at index in v (0 if absent). */
static float4
fvec_value_at(const FVec *v, int32 index)
{
	int			lo = 0;
	int			hi = v->nnz;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (v->indexes[mid] < index)
			lo = mid + 1;
		else if (v->indexes[mid] > index)
			hi = mid;
		else
			return FVEC_VALUES(v)[mid];
	}
	return 0.0f;
}

/*
 * A token (valid UTF-8) as text in the database encoding.  A debugging
 * function should not fail on a name it made itself, so characters the
 * database encoding lacks (NFKC turns µ into Greek μ, which LATIN1 has
 * not) are written as \uXXXX or \UXXXXXXXX instead of raising a
 * conversion error.
 */
static text *
feature_name_text(const char *name, int len, Oid conversion_proc)
{
	int			encoding = GetDatabaseEncoding();
	StringInfoData buf;
	int			pos = 0;

	if (encoding == PG_UTF8 || encoding == PG_SQL_ASCII ||
		!OidIsValid(conversion_proc))
		return cstring_to_text(pg_any_to_server(name, len, PG_UTF8));

	initStringInfo(&buf);
	while (pos < len)
	{
		unsigned char *source = (unsigned char *) name + pos;
		int			char_len = pg_utf_mblen(source);
		unsigned char converted[4 * MAX_CONVERSION_GROWTH + 1];

		if (pos + char_len > len)
			elog(ERROR, "truncated UTF-8 in feature name");
		if (pg_do_encoding_conversion_buf(conversion_proc, PG_UTF8, encoding,
										  source, char_len,
										  converted, sizeof(converted),
										  true) == char_len)
			appendStringInfoString(&buf, (char *) converted);
		else
		{
			pg_wchar	cp = utf8_to_unicode(source);

			appendStringInfo(&buf, cp > 0xFFFF ? "\\U%08X" : "\\u%04X", cp);
		}
		pos += char_len;
	}
	return cstring_to_text_with_len(buf.data, buf.len);
}

/*
 * feature_names(url, title, body, hash_bits, binary, OUT feature text,
 * OUT index int4, OUT value float4) returns one row per distinct token of
 * features(url, title, body, hash_bits, binary), ordered by index and then
 * token bytes.  value is the final value of the token's bucket, so tokens
 * that collide show the same (shared) value.  Token names are converted
 * back to the database encoding.
 */
Datum
pglearn_feature_names(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			hash_bits = check_hash_bits(fcinfo, 3);
	bool		binary = check_binary(fcinfo, 4);
	uint32		mask = ((uint32) 1 << hash_bits) - 1;
	TupleDesc	tupdesc;
	Tuplestorestate *tupstore;
	MemoryContext caller_context = CurrentMemoryContext;
	MemoryContext work_context;
	MemoryContext row_context;
	TokenTable	table;
	FVec	   *vector;
	NamedFeature *named;
	Oid			conversion_proc = InvalidOid;
	uint32		n = 0;
	uint32		i;

	InitMaterializedSRF(fcinfo, 0);
	tupstore = rsinfo->setResult;
	tupdesc = rsinfo->setDesc;

	work_context = AllocSetContextCreate(caller_context,
										 "pglearn feature_names",
										 ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work_context);

	token_table_init(&table);
	collect_article_tokens(fcinfo, &table);
	vector = build_fvec(&table, hash_bits, binary, work_context);

	named = MemoryContextAllocExtended(work_context,
									   sizeof(NamedFeature) * ((Size) table.used + 1),
									   MCXT_ALLOC_HUGE);
	for (i = 0; i < table.capacity; i++)
	{
		if (table.entries[i].bytes == NULL)
			continue;
		named[n].entry = &table.entries[i];
		named[n].index = (int32) (table.entries[i].hash & mask);
		n++;
	}
	qsort(named, n, sizeof(NamedFeature), named_feature_cmp);

	if (GetDatabaseEncoding() != PG_UTF8 && GetDatabaseEncoding() != PG_SQL_ASCII)
		conversion_proc = FindDefaultConversionProc(PG_UTF8, GetDatabaseEncoding());

	/* a row's name text is garbage once the tuplestore has copied it */
	row_context = AllocSetContextCreate(work_context,
										"pglearn feature_names row",
										ALLOCSET_SMALL_SIZES);
	for (i = 0; i < n; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		CHECK_FOR_INTERRUPTS();
		MemoryContextSwitchTo(row_context);
		values[0] = PointerGetDatum(feature_name_text(named[i].entry->bytes,
													  named[i].entry->len,
													  conversion_proc));
		values[1] = Int32GetDatum(named[i].index);
		values[2] = Float4GetDatum(fvec_value_at(vector, named[i].index));
		tuplestore_putvalues(tupstore, tupdesc, values, nulls);
		MemoryContextReset(row_context);
	}

	MemoryContextSwitchTo(caller_context);
	MemoryContextDelete(work_context);
	return (Datum) 0;
}
