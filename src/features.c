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

#include "access/xact.h"
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
 * distinct tokens, not with the length of the text: each costs a table
 * entry and two to four slots, its bytes, a sort key and a bucket, and a
 * vector entry (these figures were measured with the table before 0.3,
 * which took somewhat more per token).
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

/*
 * The distinct tokens of a document, in the order they first occurred,
 * with their counts; an open-addressing hash table (linear probing) finds
 * them.  A slot holds the high half of the token's probe hash in its high
 * half and the entry number + 1 in its low half, so most probes that do
 * not match are told apart without touching the entry.
 */
typedef struct TokenEntry
{
	size_t		offset;			/* of its bytes in the table's arena */
	uint32		len;
	uint32		hash;			/* murmurhash3_32(bytes, len, 0) */
	int64		count;
	uint64		probe;			/* probe_hash(bytes, len) */
} TokenEntry;

typedef struct TokenTable
{
	TokenEntry *entries;		/* the distinct tokens, first seen first */
	uint32		used;
	uint32		entries_size;	/* entries allocated */
	uint32		max_used;		/* FEATURES_MAX_TOKENS, + 1 for the bias */
	uint64	   *slots;			/* probe tag << 32 | (entry + 1); 0 is empty */
	uint32		capacity;		/* slots in use, a power of two */
	uint32		slots_size;		/* slots allocated */
	char	   *arena;			/* the tokens' bytes, one after another */
	size_t		arena_used;
	size_t		arena_size;
	uint64	   *sort_keys;		/* build_fvec's scratch: 2 * sort_size */
	uint32		sort_size;
	MemoryContext context;		/* where all of the above lives */
} TokenTable;

/* Slots to start with; the table doubles when it gets half full. */
#define FEATURES_INITIAL_SLOTS	256

/*
 * features() keeps its table between calls, in a context of its own, so
 * that a short text costs no allocation but its result: a table is reset
 * in O(initial slots), not rebuilt.  Up to this many bytes of it are kept;
 * a bigger one (a long document) is freed when the call ends, or when the
 * transaction aborts if the call ended in an error.
 */
#define FEATURES_SCRATCH_KEEP	(2 * 1024 * 1024)

static TokenTable scratch_table;

/* An empty table whose memory lives in context. */
static void
token_table_init(TokenTable *table, MemoryContext context)
{
	memset(table, 0, sizeof(TokenTable));
	table->context = context;
	table->entries_size = FEATURES_INITIAL_SLOTS / 2;
	table->entries = MemoryContextAlloc(context, sizeof(TokenEntry) * table->entries_size);
	table->slots_size = FEATURES_INITIAL_SLOTS;
	table->slots = MemoryContextAlloc(context, sizeof(uint64) * table->slots_size);
	table->arena_size = 4096;
	table->arena = MemoryContextAlloc(context, table->arena_size);
	table->capacity = FEATURES_INITIAL_SLOTS;
	table->max_used = FEATURES_MAX_TOKENS;
	memset(table->slots, 0, sizeof(uint64) * table->capacity);
}

/* Empty the table, keeping what it has allocated. */
static void
token_table_reset(TokenTable *table)
{
	table->used = 0;
	table->arena_used = 0;
	table->capacity = FEATURES_INITIAL_SLOTS;
	table->max_used = FEATURES_MAX_TOKENS;
	memset(table->slots, 0, sizeof(uint64) * table->capacity);
}

static MemoryContext text_context = NULL;

/*
 * An aborted call leaves its table and texts behind (a long document's may
 * be large): give their memory back when the (sub)transaction aborts, so it
 * is not held until the next call.  Registered once per backend.
 */
static void
features_forget(void)
{
	if (scratch_table.context != NULL &&
		MemoryContextMemAllocated(scratch_table.context, false) > FEATURES_SCRATCH_KEEP)
	{
		MemoryContextReset(scratch_table.context);
		scratch_table.entries = NULL;	/* scratch_table_get re-creates it */
	}
	if (text_context != NULL)
		MemoryContextReset(text_context);
}

static void
features_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		features_forget();
}

static void
features_subxact_callback(SubXactEvent event, SubTransactionId subid,
						  SubTransactionId parent_subid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		features_forget();
}

/*
 * features()' table, empty.  Whatever a previous call left (its tokens, or
 * a half-built state if it ended in an error) is discarded here.
 */
static TokenTable *
scratch_table_get(void)
{
	if (scratch_table.context == NULL)
	{
		MemoryContext context = AllocSetContextCreate(TopMemoryContext,
													  "pglearn features scratch",
													  ALLOCSET_DEFAULT_SIZES);

		RegisterXactCallback(features_xact_callback, NULL);
		RegisterSubXactCallback(features_subxact_callback, NULL);
		token_table_init(&scratch_table, context);
	}
	else if (scratch_table.entries == NULL)
		token_table_init(&scratch_table, scratch_table.context);
	else if (MemoryContextMemAllocated(scratch_table.context, false) > FEATURES_SCRATCH_KEEP)
	{
		MemoryContextReset(scratch_table.context);
		token_table_init(&scratch_table, scratch_table.context);
	}
	else
		token_table_reset(&scratch_table);
	return &scratch_table;
}

/* After a call: give back the memory of a long document's table. */
static void
scratch_table_release(void)
{
	if (MemoryContextMemAllocated(scratch_table.context, false) > FEATURES_SCRATCH_KEEP)
	{
		MemoryContextReset(scratch_table.context);
		scratch_table.entries = NULL;
	}
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

/* Double the slots and put every entry back. */
static void
token_table_grow(TokenTable *table)
{
	uint32		mask;
	uint32		i;

	StaticAssertStmt(FEATURES_MAX_TOKENS + 1 <= FVEC_MAX_NNZ,
					 "an fvec must hold a bucket per distinct token");
	table->capacity *= 2;
	if (table->capacity > table->slots_size)
	{
		pfree(table->slots);
		table->slots = MemoryContextAllocExtended(table->context,
												  sizeof(uint64) * (Size) table->capacity,
												  MCXT_ALLOC_HUGE);
		table->slots_size = table->capacity;
	}
	memset(table->slots, 0, sizeof(uint64) * (Size) table->capacity);
	mask = table->capacity - 1;
	for (i = 0; i < table->used; i++)
	{
		uint64		probe = table->entries[i].probe;
		uint32		slot = (uint32) probe & mask;

		while (table->slots[slot] != 0)
			slot = (slot + 1) & mask;
		table->slots[slot] = (probe & UINT64CONST(0xFFFFFFFF00000000)) | (i + 1);
	}
}

/* A token not in the table yet, whose probe ended at the empty slot. */
static pg_noinline void
token_table_insert(TokenTable *table, const char *bytes, size_t len,
				   uint64 probe, int64 count, uint32 slot)
{
	TokenEntry *entry;

	if (table->used >= table->max_used)
		too_many_tokens();

	/*
	 * Keep the load factor at most one half, so probes stay short; the
	 * bias token past the limit may exceed it (by one entry), rather than
	 * double the table for one entry.
	 */
	if ((table->used + 1) * 2 > table->capacity && table->used < FEATURES_MAX_TOKENS)
	{
		uint32		mask;

		token_table_grow(table);
		mask = table->capacity - 1;
		slot = (uint32) probe & mask;
		while (table->slots[slot] != 0)
			slot = (slot + 1) & mask;
	}
	if (table->used == table->entries_size)
	{
		table->entries_size *= 2;
		table->entries = repalloc_huge(table->entries,
									   sizeof(TokenEntry) * (Size) table->entries_size);
	}
	/* NUL-terminated: feature_names() passes them on as C strings */
	if (len + 1 > table->arena_size - table->arena_used)
	{
		table->arena_size = Max(table->arena_size * 2, table->arena_used + len + 1);
		table->arena = repalloc_huge(table->arena, table->arena_size);
	}
	memcpy(table->arena + table->arena_used, bytes, len);
	table->arena[table->arena_used + len] = '\0';
	entry = &table->entries[table->used];
	entry->offset = table->arena_used;
	entry->len = (uint32) len;
	entry->hash = murmurhash3_32(bytes, len, 0);
	entry->count = count;
	entry->probe = probe;
	table->arena_used += len + 1;
	table->used++;
	table->slots[slot] = (probe & UINT64CONST(0xFFFFFFFF00000000)) | table->used;
}

/*
 * The hash the table probes with: not the feature hash, which only a new
 * token needs (token_table_insert), but one that takes 8 bytes per
 * multiplication, as a repeated token costs only this.  Its high half goes
 * into the slot.
 */
static inline uint64
load64(const char *p)
{
	uint64		w;

	memcpy(&w, p, 8);
	return w;
}

static inline uint32
load32(const char *p)
{
	uint32		w;

	memcpy(&w, p, 4);
	return w;
}

static inline uint64
probe_mix(uint64 a, uint64 b)
{
	uint64		h = (a ^ UINT64CONST(0x9E3779B97F4A7C15)) * UINT64CONST(0xFF51AFD7ED558CCD);

	h ^= b * UINT64CONST(0xC4CEB9FE1A85EC53);
	h ^= h >> 29;
	h *= UINT64CONST(0xBF58476D1CE4E5B9);
	h ^= h >> 32;
	return h;
}

/*
 * Tokens up to 16 bytes (nearly all) are read as two overlapping words
 * without a loop; longer ones 8 bytes at a time.
 */
static inline uint64
probe_hash(const char *bytes, size_t len)
{
	uint64		a;
	uint64		b;

	if (len >= 8)
	{
		if (len <= 16)
		{
			a = load64(bytes);
			b = load64(bytes + len - 8);
		}
		else
		{
			size_t		i;

			a = 0;
			b = load64(bytes + len - 8);
			for (i = 0; i + 8 < len; i += 8)
				a = (a ^ load64(bytes + i)) * UINT64CONST(0x94D049BB133111EB) + (a >> 31);
		}
	}
	else if (len >= 4)
	{
		a = load32(bytes);
		b = load32(bytes + len - 4);
	}
	else if (len > 0)
	{
		a = (unsigned char) bytes[0] | ((uint64) (unsigned char) bytes[len >> 1] << 8) |
			((uint64) (unsigned char) bytes[len - 1] << 16);
		b = 0;
	}
	else
		a = b = 0;
	return probe_mix(a, b ^ len);
}

/* Are a[0..len) and b[0..len) the same bytes?  Inline for short tokens. */
static inline bool
same_bytes(const char *a, const char *b, size_t len)
{
	if (len >= 8 && len <= 16)
		return ((load64(a) ^ load64(b)) |
				(load64(a + len - 8) ^ load64(b + len - 8))) == 0;
	if (len >= 4 && len < 8)
		return ((load32(a) ^ load32(b)) |
				(load32(a + len - 4) ^ load32(b + len - 4))) == 0;
	return memcmp(a, b, len) == 0;
}

/* Count 'count' occurrences of the token; copies the bytes when new. */
static inline void
token_table_add(TokenTable *table, const char *bytes, size_t len, int64 count)
{
	uint64		hash = probe_hash(bytes, len);
	uint32		tag = (uint32) (hash >> 32);
	uint32		mask = table->capacity - 1;
	uint32		slot = (uint32) hash & mask;
	uint64		s;

	while ((s = table->slots[slot]) != 0)
	{
		if ((uint32) (s >> 32) == tag)
		{
			TokenEntry *entry = &table->entries[(uint32) s - 1];

			if (entry->len == len &&
				same_bytes(table->arena + entry->offset, bytes, len))
			{
				entry->count += count;
				return;
			}
		}
		slot = (slot + 1) & mask;
	}
	token_table_insert(table, bytes, len, hash, count, slot);
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

/* Is s[0..len) plain ASCII?  Eight bytes at a time. */
static bool
all_ascii(const char *s, size_t len)
{
	size_t		i = 0;
	uint64		bits = 0;

	for (; i + 8 <= len; i += 8)
	{
		uint64		word;

		memcpy(&word, s + i, 8);
		bits |= word;
	}
	for (; i < len; i++)
		bits |= (unsigned char) s[i];
	return (bits & UINT64CONST(0x8080808080808080)) == 0;
}

/*
 * Is UTF-8 s[0..len) NFKC already, so that normalising it would change
 * nothing?  Asks PostgreSQL's quick check (UAX #15: YES means the text is
 * normalised) with the code points normalize_nfkc() would give it, but
 * only for the runs of non-ASCII bytes: an ASCII character is a starter
 * (canonical class 0) whose quick-check value is YES, so the check of the
 * whole text restarts after every one of them, and checking each run on
 * its own gives the same answer.  false also for MAYBE.
 */
static bool
nfkc_quick_check_yes(const char *s, size_t len)
{
	pg_wchar	stack_buffer[256 + 1];
	size_t		pos = 0;

	while (pos < len)
	{
		size_t		run_start;
		size_t		run_end;
		pg_wchar   *input;
		size_t		n = 0;
		UnicodeNormalizationQC check;

		while (pos < len && (unsigned char) s[pos] < 0x80)
			pos++;
		if (pos == len)
			break;
		run_start = pos;
		run_end = pos;
		while (run_end < len && (unsigned char) s[run_end] >= 0x80)
			run_end++;

		/* a run of k bytes is at most k characters */
		input = run_end - run_start < lengthof(stack_buffer) ? stack_buffer :
			MemoryContextAllocExtended(CurrentMemoryContext,
									   sizeof(pg_wchar) * (run_end - run_start + 1),
									   MCXT_ALLOC_HUGE);
		while (pos < run_end)
		{
			int32_t		cp = tokenize_utf8_next(s, run_end, &pos);

			input[n++] = (cp <= 0) ? ' ' : (pg_wchar) cp;
		}
		input[n] = 0;
		check = unicode_is_normalized_quickcheck(UNICODE_NFKC, input);
		if (input != stack_buffer)
			pfree(input);
		if (check != UNICODE_NORM_QC_YES)
			return false;
	}
	return true;
}

/*
 * NFKC of UTF-8 s[0..len), as palloc'd UTF-8, or s itself when it is plain
 * ASCII, which NFKC leaves alone.  Ill-formed bytes become spaces, which is
 * what the text tokenizer makes of them anyway.  With quick_check, s itself
 * also when it passes nfkc_quick_check_yes(): for text only, whose
 * tokenizer skips ill-formed bytes like spaces (in a URL a space and an
 * ill-formed byte differ: a host with the latter gives no host tokens).
 */
static const char *
normalize_nfkc(const char *s, size_t len, size_t *out_len, bool quick_check)
{
	pg_wchar   *input;
	pg_wchar   *normalized;
	size_t		n = 0;
	size_t		pos = 0;
	size_t		i;
	char	   *result;
	char	   *p;

	*out_len = len;
	if (all_ascii(s, len) || (quick_check && nfkc_quick_check_yes(s, len)))
		return s;

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
 *
 * Plain ASCII text, which NFKC leaves alone, is tokenized at once: pieces
 * end at separators, so tokenizing them one by one gives the same tokens.
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

	if (all_ascii(s, len))
	{
		tokenize_text(prefix, s, len, callback, arg);
		return;
	}

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
		normalized = normalize_nfkc(s + pos, end - pos, &normalized_len, true);
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

	s = normalize_nfkc(s, len, &len, false);
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
 * log(1 + tf) of the small counts, which are nearly all of them, computed
 * once with the very expression token_weight() uses for the others, so
 * the values are the same bits.  (x is volatile so that the compiler does
 * not fold the logarithms at build time, possibly rounding differently.)
 */
#define FEATURES_WEIGHT_CACHE	64
static double weight_cache[FEATURES_WEIGHT_CACHE];
static bool weight_cache_ready = false;

static void
weight_cache_fill(void)
{
	int			k;

	for (k = 0; k < FEATURES_WEIGHT_CACHE; k++)
	{
		volatile double x = 1.0 + (double) k;

		weight_cache[k] = log(x);
	}
	weight_cache_ready = true;
}

/* The value rule of the file header: log(1 + tf). */
static inline double
token_weight(int64 count)
{
	if (count < FEATURES_WEIGHT_CACHE)
		return weight_cache[count];
	return log(1.0 + (double) count);
}

/* Insertion sort of keys[0..n), fast when they are nearly in order. */
static void
insertion_sort_keys(uint64 *keys, uint32 n)
{
	uint32		i;

	for (i = 1; i < n; i++)
	{
		uint64		key = keys[i];
		uint32		j = i;

		while (j > 0 && keys[j - 1] > key)
		{
			keys[j] = keys[j - 1];
			j--;
		}
		keys[j] = key;
	}
}

/* Up to this many keys, sort_keys() distributes them by their top bits. */
#define FEATURES_SORT_SPREAD_MAX	4096

/*
 * Sort n keys (bucket index << 32 | entry number); tmp has room for n
 * more.  Returns the array holding the sorted keys: keys or tmp.
 *
 * Indexes are hash values, spread evenly over 2^hash_bits.  Up to a few
 * thousand keys are distributed over about n ranges by their top bits (a
 * counting pass and a copy) and then insertion-sorted, which leaves each
 * about where it was: linear time on average with no per-digit passes.
 * More keys take an LSD radix sort on the index's bytes.
 */
static uint64 *
sort_keys(uint64 *keys, uint64 *tmp, uint32 n, int hash_bits)
{
	uint64	   *src = keys;
	uint64	   *dst = tmp;
	uint32		i;
	int			p;

	if (n <= 16)
	{
		insertion_sort_keys(keys, n);
		return keys;
	}
	if (n <= FEATURES_SORT_SPREAD_MAX)
	{
		uint32		counts[FEATURES_SORT_SPREAD_MAX + 1];
		int			bits = 0;
		int			shift;
		uint32		sum = 0;

		while (((uint32) 1 << bits) < n && bits < hash_bits)
			bits++;
		shift = 32 + hash_bits - bits;
		memset(counts, 0, sizeof(uint32) * ((Size) 1 << bits));
		for (i = 0; i < n; i++)
			counts[keys[i] >> shift]++;
		for (i = 0; i < ((uint32) 1 << bits); i++)
		{
			uint32		k = counts[i];

			counts[i] = sum;
			sum += k;
		}
		for (i = 0; i < n; i++)
			tmp[counts[keys[i] >> shift]++] = keys[i];
		insertion_sort_keys(tmp, n);
		return tmp;
	}

	{
		uint32		counts[4][256];
		int			passes = (hash_bits + 7) / 8;

		memset(counts, 0, sizeof(uint32) * 256 * passes);
		for (i = 0; i < n; i++)
		{
			uint32		index = (uint32) (keys[i] >> 32);

			for (p = 0; p < passes; p++)
				counts[p][(index >> (8 * p)) & 0xFF]++;
		}
		for (p = 0; p < passes; p++)
		{
			uint32	   *c = counts[p];
			uint32		sum = 0;
			uint64	   *swap;
			int			d;

			/* every key has the same digit here: nothing to move */
			if (c[(src[0] >> (32 + 8 * p)) & 0xFF] == n)
				continue;
			for (d = 0; d < 256; d++)
			{
				uint32		k = c[d];

				c[d] = sum;
				sum += k;
			}
			for (i = 0; i < n; i++)
				dst[c[(src[i] >> (32 + 8 * p)) & 0xFF]++] = src[i];
			swap = src;
			src = dst;
			dst = swap;
		}
	}
	return src;
}

/*
 * The buckets of the table, summed, the way features() before 0.3 summed
 * them: in the order pg_qsort() leaves the tokens of the old hash table
 * (256 slots, doubled by rehashing in slot order before the insertion that
 * would fill more than half, linear probing), which it took in slot order.
 * Where three or more tokens share a bucket, the order of the additions can
 * change the last bit of the sum; build_fvec() comes here then, so that
 * features() gives the same bits as it always did.  Rare at the default
 * hash_bits (and it costs only time).  Returns the number of buckets.
 */
static uint32
buckets_in_old_order(TokenTable *table, uint32 mask, Bucket *buckets)
{
	uint32		capacity = FEATURES_INITIAL_SLOTS;
	uint32	   *slots = palloc0(sizeof(uint32) * capacity);
	uint32		used;
	uint32		n = 0;
	uint32		nbuckets = 0;
	uint32		i;

	for (used = 0; used < table->used; used++)
	{
		uint32		slot;

		if ((used + 1) * 2 > capacity && used < FEATURES_MAX_TOKENS)
		{
			uint32		new_capacity = capacity * 2;
			uint32	   *new_slots = MemoryContextAllocExtended(CurrentMemoryContext,
															   sizeof(uint32) * (Size) new_capacity,
															   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);

			for (i = 0; i < capacity; i++)
			{
				if (slots[i] == 0)
					continue;
				slot = table->entries[slots[i] - 1].hash & (new_capacity - 1);
				while (new_slots[slot] != 0)
					slot = (slot + 1) & (new_capacity - 1);
				new_slots[slot] = slots[i];
			}
			pfree(slots);
			slots = new_slots;
			capacity = new_capacity;
		}
		slot = table->entries[used].hash & (capacity - 1);
		while (slots[slot] != 0)
			slot = (slot + 1) & (capacity - 1);
		slots[slot] = used + 1;
	}

	for (i = 0; i < capacity; i++)
	{
		TokenEntry *entry;

		if (slots[i] == 0)
			continue;
		entry = &table->entries[slots[i] - 1];
		buckets[n].index = (int32) (entry->hash & mask);
		buckets[n].value = token_weight(entry->count);
		n++;
	}
	pfree(slots);

	qsort(buckets, n, sizeof(Bucket), bucket_cmp);
	for (i = 0; i < n; i++)
	{
		if (nbuckets > 0 && buckets[nbuckets - 1].index == buckets[i].index)
			buckets[nbuckets - 1].value += buckets[i].value;
		else
			buckets[nbuckets++] = buckets[i];
	}
	return nbuckets;
}

/*
 * The fvec of a token table under the value rules in the file header,
 * allocated in result_context.
 *
 * The buckets' values are summed in double before rounding to float4, and
 * the norm is the sum of their squares in index order, as they always
 * were.  Two tokens in a bucket add up to the same bits in either order;
 * for three or more, buckets_in_old_order() repeats the old order.
 */
static FVec *
build_fvec(TokenTable *table, int hash_bits, bool binary,
		   MemoryContext result_context)
{
	uint32		mask = ((uint32) 1 << hash_bits) - 1;
	Bucket	   *buckets;
	uint64	   *keys;
	uint64	   *sorted;
	uint32		n;
	uint32		nbuckets = 0;
	uint32		run = 0;
	uint32		nnz = 0;
	uint32		i;
	double		sum_squares = 0.0;
	double		norm;
	float4	   *values;
	MemoryContext old_context;
	FVec	   *result;

	if (!weight_cache_ready)
		weight_cache_fill();

	if (binary)
	{
		/* the bias is not the document's: it may go past the limit */
		table->max_used = FEATURES_MAX_TOKENS + 1;
		token_table_add(table, FEATURES_BIAS_TOKEN,
						strlen(FEATURES_BIAS_TOKEN), 1);
	}

	n = table->used;
	if (n == 0)
	{
		old_context = MemoryContextSwitchTo(result_context);
		result = fvec_allocate(0);
		MemoryContextSwitchTo(old_context);
		return result;
	}

	/* room for the keys, their sorting copy and the buckets */
	if (table->sort_size < n)
	{
		if (table->sort_keys != NULL)
			pfree(table->sort_keys);
		table->sort_size = Max(n, 2 * table->sort_size);
		table->sort_keys = MemoryContextAllocExtended(table->context,
													  (sizeof(uint64) * 2 + sizeof(Bucket)) * (Size) table->sort_size,
													  MCXT_ALLOC_HUGE);
	}
	keys = table->sort_keys;
	buckets = (Bucket *) (keys + 2 * (Size) table->sort_size);

	for (i = 0; i < n; i++)
		keys[i] = ((uint64) (table->entries[i].hash & mask) << 32) | i;
	sorted = sort_keys(keys, keys + table->sort_size, n, hash_bits);

	/* sum colliding tokens (in double, before rounding to float4) */
	for (i = 0; i < n; i++)
	{
		int32		index = (int32) (sorted[i] >> 32);
		double		value = binary ? 1.0 :
			token_weight(table->entries[(uint32) sorted[i]].count);

		if (nbuckets > 0 && buckets[nbuckets - 1].index == index)
		{
			/* binary: a bucket is present or not, whatever collided in it */
			if (++run > 2 && !binary)
			{
				nbuckets = buckets_in_old_order(table, mask, buckets);
				break;
			}
			buckets[nbuckets - 1].value += value;
		}
		else
		{
			buckets[nbuckets].index = index;
			buckets[nbuckets].value = value;
			nbuckets++;
			run = 1;
		}
	}

	if (!binary)
	{
		for (i = 0; i < nbuckets; i++)
			sum_squares += buckets[i].value * buckets[i].value;
	}
	norm = sqrt(sum_squares);

	/*
	 * A value that rounds to zero is dropped (as fvec_from_pairs() did);
	 * none does in practice (a bucket's value is at least log 2 over a norm
	 * of at most 2^10 * log 2^31), so the vector is made for all buckets
	 * and remade only if one did.
	 */
	old_context = MemoryContextSwitchTo(result_context);
	result = fvec_allocate((int) nbuckets);
	MemoryContextSwitchTo(old_context);
	values = FVEC_VALUES(result);
	for (i = 0; i < nbuckets; i++)
	{
		float4		value = binary ? 1.0f : (float4) (buckets[i].value / norm);

		result->indexes[i] = buckets[i].index;
		values[i] = value;
		if (value != 0.0f)
			nnz++;
	}
	if (nnz < nbuckets)
	{
		FVec	   *all = result;
		float4	   *all_values = values;

		old_context = MemoryContextSwitchTo(result_context);
		result = fvec_allocate((int) nnz);
		MemoryContextSwitchTo(old_context);
		values = FVEC_VALUES(result);
		nnz = 0;
		for (i = 0; i < nbuckets; i++)
		{
			if (all_values[i] == 0.0f)
				continue;
			result->indexes[nnz] = all->indexes[i];
			values[nnz] = all_values[i];
			nnz++;
		}
		pfree(all);
	}
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
 * Where features() detoasts and converts its texts (text_context): reset
 * when it returns (and when a transaction aborts, features_forget), so that
 * a caller calling it in a long-lived context, as C callers may, keeps
 * nothing of the texts.
 */
static MemoryContext
text_context_get(void)
{
	if (text_context == NULL)
		text_context = AllocSetContextCreate(TopMemoryContext,
											 "pglearn features texts",
											 ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(text_context);
	return text_context;
}

/*
 * features(url text, title text, body text, hash_bits int4, binary bool)
 * returns fvec.  Not strict: NULL url, title or body count as empty.
 *
 * The token table is kept between calls (scratch_table_get), and the texts
 * are read in a context of their own, so a short article costs no
 * allocation but its result.
 */
Datum
pglearn_features(PG_FUNCTION_ARGS)
{
	int			hash_bits = check_hash_bits(fcinfo, 3);
	bool		binary = check_binary(fcinfo, 4);
	MemoryContext caller_context = CurrentMemoryContext;
	TokenTable *table = scratch_table_get();
	FVec	   *result;

	MemoryContextSwitchTo(text_context_get());
	collect_article_tokens(fcinfo, table);
	MemoryContextSwitchTo(caller_context);
	result = build_fvec(table, hash_bits, binary, caller_context);
	MemoryContextReset(text_context);
	scratch_table_release();
	PG_RETURN_FVEC_P(result);
}

/*
 * features(document tsvector, hash_bits int4, binary bool) returns fvec.
 * Strict.
 */
Datum
pglearn_features_tsvector(PG_FUNCTION_ARGS)
{
	int			hash_bits = check_hash_bits(fcinfo, 1);
	bool		binary = check_binary(fcinfo, 2);
	MemoryContext caller_context = CurrentMemoryContext;
	TokenTable *table = scratch_table_get();
	TSVector	document;
	WordEntry  *entries;
	char	   *lexemes;
	FVec	   *result;
	int32		i;

	MemoryContextSwitchTo(text_context_get());
	document = PG_GETARG_TSVECTOR(0);
	entries = ARRPTR(document);
	lexemes = STRPTR(document);
	for (i = 0; i < document->size; i++)
	{
		size_t		len;
		const char *lexeme = text_to_utf8(lexemes + entries[i].pos,
										  entries[i].len, &len);
		int			positions = POSDATALEN(document, &entries[i]);

		CHECK_FOR_INTERRUPTS();
		/* a stripped lexeme has no positions but occurs at least once */
		token_table_add(table, lexeme, len, positions > 0 ? positions : 1);
	}
	MemoryContextSwitchTo(caller_context);
	result = build_fvec(table, hash_bits, binary, caller_context);
	MemoryContextReset(text_context);
	scratch_table_release();
	PG_RETURN_FVEC_P(result);
}

/* Sort order of feature_names(): by index, then by token bytes. */
typedef struct NamedFeature
{
	const char *bytes;
	uint32		len;
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
	c = memcmp(fa->bytes, fb->bytes, Min(fa->len, fb->len));
	if (c != 0)
		return c;
	return (fa->len > fb->len) - (fa->len < fb->len);
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

	token_table_init(&table, work_context);
	collect_article_tokens(fcinfo, &table);
	vector = build_fvec(&table, hash_bits, binary, work_context);

	named = MemoryContextAllocExtended(work_context,
									   sizeof(NamedFeature) * ((Size) table.used + 1),
									   MCXT_ALLOC_HUGE);
	for (i = 0; i < table.used; i++)
	{
		named[n].bytes = table.arena + table.entries[i].offset;
		named[n].len = table.entries[i].len;
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
		values[0] = PointerGetDatum(feature_name_text(named[i].bytes,
													  (int) named[i].len,
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
