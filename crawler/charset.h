/*
 * charset.h: finding a page's character encoding and converting it to UTF-8.
 *
 * Order of evidence: the HTTP Content-Type charset, then a byte order mark,
 * then <meta charset> / <meta http-equiv="Content-Type"> in the first 4 KiB,
 * else UTF-8.  Conversion uses glibc iconv; bytes that do not decode become
 * U+FFFD, so the result is always valid UTF-8 without NUL bytes.
 */
#ifndef PGLEARN_CHARSET_H
#define PGLEARN_CHARSET_H

#include <stddef.h>

/*
 * Decode body[0..len) to UTF-8.  content_type may be NULL.  Returns a
 * malloc'd NUL-terminated string (length in *out_len if not NULL) and, if
 * charset is not NULL, stores a malloc'd name of the encoding actually used.
 */
char	   *charset_decode(const char *content_type, const char *body, size_t len,
						   size_t *out_len, char **charset);

/* The iconv name we use for a label found in a page, or NULL if unknown. */
const char *charset_canonical(const char *label);

#endif							/* PGLEARN_CHARSET_H */
