/*-------------------------------------------------------------------------
 *
 * tokenize.h
 *	  Turning URLs and text into feature tokens; the fixed feature hash.
 *
 * Plain C with no PostgreSQL headers: input is already-normalised UTF-8
 * (the caller applies NFKC), output is a stream of tokens handed to a
 * callback.  Nothing here depends on the server locale, so the same text
 * gives the same tokens on every server.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_TOKENIZE_H
#define PGLEARN_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Receives one token (not NUL-terminated, valid UTF-8, only valid during
 * the call); returns nonzero to stop early.  The tokenizer holds no
 * resources, so a callback may also leave by longjmp (ereport).
 */
typedef int (*token_callback) (void *arg, const char *token, size_t len);

/*
 * Emit tokens of free text, each prefixed with 'prefix' (e.g. "t:", at most
 * 32 bytes).  Words of space-separated scripts are lower-cased (cut at 64
 * bytes; runs over 256 bytes skipped); runs of Han, Hiragana, Katakana and
 * Hangul become overlapping character bigrams (a run of one character
 * becomes a unigram).  Invalid UTF-8 bytes are skipped and separate words.
 * Returns 0, the callback's nonzero value if it stopped early, or -1 if the
 * prefix is too long.  The exact rules are in tokenize.c.
 */
extern int	tokenize_text(const char *prefix, const char *text, size_t len,
						  token_callback callback, void *arg);

/*
 * Emit tokens of a URL: "u:h:<host>", "u:s:<suffix>" for each proper host
 * suffix ("u:s:co.jp", "u:s:jp"), and "u:p:<word>" for the words of the
 * path and query (query keys and values, skipping utm_*, fbclid and gclid
 * parameters).  Returns 0 or the callback's nonzero value.
 */
extern int	tokenize_url(const char *url, size_t len,
						 token_callback callback, void *arg);

/*
 * Decode the UTF-8 character at s[*pos] (*pos < len) and advance *pos past
 * it.  Returns the code point, or -1 for an ill-formed byte (then *pos
 * advances by one byte only), or -2 if *pos >= len.
 */
extern int32_t tokenize_utf8_next(const char *s, size_t len, size_t *pos);

/* Character class used by tokenize_text: 0 separator, 1 word, 2 CJK. */
extern int	tokenize_char_class(uint32_t cp);

/* The built-in, locale-independent lower-case mapping of one code point. */
extern uint32_t tokenize_lower(uint32_t cp);

/*
 * MurmurHash3 x86_32, the feature hash (seed 0 for feature indexes).
 * By Austin Appleby (public domain), written byte-order free.  Inline:
 * features.c hashes every token, most of them a few bytes long.
 */
static inline uint32_t
murmurhash3_32(const void *key, size_t len, uint32_t seed)
{
	const unsigned char *data = (const unsigned char *) key;
	const uint32_t c1 = 0xcc9e2d51;
	const uint32_t c2 = 0x1b873593;
	size_t		nblocks = len / 4;
	uint32_t	h = seed;
	uint32_t	k;
	size_t		i;
	const unsigned char *tail;

	for (i = 0; i < nblocks; i++)
	{
		const unsigned char *b = data + i * 4;

		/* blocks are read little-endian, as on the reference x86 */
		k = (uint32_t) b[0] | ((uint32_t) b[1] << 8) |
			((uint32_t) b[2] << 16) | ((uint32_t) b[3] << 24);
		k *= c1;
		k = (k << 15) | (k >> 17);
		k *= c2;
		h ^= k;
		h = (h << 13) | (h >> 19);
		h = h * 5 + 0xe6546b64;
	}

	tail = data + nblocks * 4;
	k = 0;
	switch (len & 3)
	{
		case 3:
			k ^= (uint32_t) tail[2] << 16;
			/* FALLTHROUGH */
		case 2:
			k ^= (uint32_t) tail[1] << 8;
			/* FALLTHROUGH */
		case 1:
			k ^= tail[0];
			k *= c1;
			k = (k << 15) | (k >> 17);
			k *= c2;
			h ^= k;
	}

	/* the reference mixes in the length modulo 2^32 */
	h ^= (uint32_t) len;
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

#endif							/* PGLEARN_TOKENIZE_H */
