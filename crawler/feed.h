/*
 * feed.h: article links from RSS 2.0, RSS 1.0 (RDF) and Atom feeds.
 */
#ifndef PGLEARN_FEED_H
#define PGLEARN_FEED_H

#include <stddef.h>

#include "util.h"

/* --max-feed-items default: links taken from one feed */
#define FEED_MAX_ITEMS_DEFAULT 1000

/*
 * Append the absolute http(s) links of the items of the feed in body
 * (fetched from feed_url) to *out, at most max_items of them; the items
 * after that are counted in *skipped (not read: an item there that would
 * have had no link is counted too).  Returns the number added, or -1 if the
 * body is not a feed libxml2 can read.
 */
int			feed_links(const char *body, size_t len, const char *feed_url, StrList *out,
					   size_t max_items, size_t *skipped);

#endif							/* PGLEARN_FEED_H */
