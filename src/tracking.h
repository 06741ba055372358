/*-------------------------------------------------------------------------
 *
 * tracking.h
 *	  Which URL query parameters are tracking parameters: the one rule the
 *	  extension's URL features (src/tokenize.c) and the crawler's stored
 *	  URLs (crawler/util.c, url_strip_tracking) both apply.
 *
 * utm_* (any suffix), gclid and fbclid, the key compared without regard
 * to ASCII case: they say which campaign or click led to the page, not
 * what the page is, so two URLs that differ only in them are one article.
 * Plain C, no server headers, so that the crawler includes it too.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_TRACKING_H
#define PGLEARN_TRACKING_H

#include <stdbool.h>
#include <stddef.h>

/* does the key key[0..len) equal, ignoring ASCII case, the lower-case word? */
static inline bool
tracking_key_is(const char *key, size_t len, const char *word, bool prefix)
{
	size_t		i;

	for (i = 0; word[i] != '\0'; i++)
	{
		unsigned char c;

		if (i >= len)
			return false;
		c = (unsigned char) key[i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != (unsigned char) word[i])
			return false;
	}
	return prefix || i == len;
}

/*
 * Is the query parameter param[0..len) -- "key" or "key=value", without
 * the separating '&' -- a tracking parameter?
 */
static inline bool
is_tracking_parameter(const char *param, size_t len)
{
	size_t		key_len = 0;

	while (key_len < len && param[key_len] != '=')
		key_len++;
	return tracking_key_is(param, key_len, "utm_", true) ||
		tracking_key_is(param, key_len, "gclid", false) ||
		tracking_key_is(param, key_len, "fbclid", false);
}

#endif							/* PGLEARN_TRACKING_H */
