/*
 * util.h: small shared helpers of the pglearn command -- checked allocation,
 * a growable byte buffer, a string set, UTF-8 sanitising, URL helpers,
 * a monotonic clock and the process-wide interrupt flag.
 *
 * Nothing here knows about HTTP, HTML or the database.
 */
#ifndef PGLEARN_UTIL_H
#define PGLEARN_UTIL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Set by the SIGINT/SIGTERM handler, or by the store worker thread when the
 * database is gone; loops stop starting new work.  A lock-free atomic is
 * safe both in a signal handler and across threads (sig_atomic_t is not).
 */
extern atomic_int interrupted;

/* exit codes shared by all subcommands */
#define EXIT_ALL_OK		0
#define EXIT_SOME_FAILED	1
#define EXIT_USAGE		2

/* allocation that never returns NULL: prints and exits(2) instead */
void	   *xmalloc(size_t n);
void	   *xrealloc(void *p, size_t n);
char	   *xstrdup(const char *s);
char	   *xstrndup(const char *s, size_t n);

/* a growable byte buffer; data is always NUL-terminated */
typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Buf;

void		buf_init(Buf *b);
void		buf_free(Buf *b);
void		buf_reset(Buf *b);
void		buf_append(Buf *b, const char *s, size_t n);
void		buf_appends(Buf *b, const char *s);
void		buf_appendc(Buf *b, char c);
/* hand the data to the caller (who frees it) and reset the buffer */
char	   *buf_steal(Buf *b);

/* a map from strings (copied) to caller-owned pointers (open addressing) */
typedef struct StrMap
{
	char	  **keys;
	void	  **values;
	size_t		cap;
	size_t		count;
} StrMap;

void		strmap_init(StrMap *m);
/* frees the keys only; values belong to the caller */
void		strmap_free(StrMap *m);
/* the value put for key, NULL if none (or if NULL was put) */
void	   *strmap_get(const StrMap *m, const char *key);
void		strmap_put(StrMap *m, const char *key, void *value);

/* a set of strings (copied): a StrMap, so the two share one table */
typedef struct StrSet
{
	StrMap		map;
} StrSet;

void		strset_init(StrSet *s);
void		strset_free(StrSet *s);
/* true if added, false if it was already there */
bool		strset_add(StrSet *s, const char *key);
bool		strset_contains(const StrSet *s, const char *key);

/* a growable array of owned strings */
typedef struct StrList
{
	char	  **items;
	size_t		len;
	size_t		cap;
} StrList;

void		strlist_init(StrList *l);
void		strlist_free(StrList *l);
/* takes ownership of s */
void		strlist_push(StrList *l, char *s);

/*
 * Return a malloc'd copy of s[0..n) that is valid UTF-8: invalid or
 * truncated sequences, overlongs and surrogates become U+FFFD, NUL bytes and
 * other C0 controls except tab/newline/CR are dropped.  Postgres refuses NUL
 * and invalid UTF-8, and one bad row must not cost a batch.
 */
char	   *utf8_sanitize(const char *s, size_t n);
/* true if s[0..n) is valid UTF-8 without NUL */
bool		utf8_valid(const char *s, size_t n);

/* collapse runs of whitespace to one space and trim, in place */
void		collapse_whitespace(char *s);

/* cut s in place to at most max_chars code points (on a character boundary) */
void		utf8_truncate(char *s, size_t max_chars);

/*
 * URL helpers (libcurl's URL API underneath).
 * url_normalize: parse an absolute http/https URL and return its normalised
 * form (malloc'd), or NULL if it is not one.
 * url_resolve: resolve ref against base; NULL unless the result is http(s).
 * url_strip_tracking: remove the tracking parameters (src/tracking.h: utm_*,
 * gclid, fbclid, in any case) and the
 * fragment; returns a malloc'd URL or NULL.
 * url_origin: "scheme://host:port" of an http(s) URL, malloc'd, or NULL.
 * url_path_query: path plus "?query" of a URL (for robots.txt), malloc'd.
 */
char	   *url_normalize(const char *url);
char	   *url_resolve(const char *base, const char *ref);
char	   *url_strip_tracking(const char *url);
char	   *url_origin(const char *url);
char	   *url_path_query(const char *url);

/* monotonic milliseconds */
int64_t		now_ms(void);

/* case-insensitive ASCII helpers */
bool		ascii_ieq(const char *a, const char *b);
const char *ascii_strcasestr_n(const char *hay, size_t n, const char *needle);

#endif							/* PGLEARN_UTIL_H */
