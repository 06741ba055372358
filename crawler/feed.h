/*
 * feed.h: article links from RSS 2.0, RSS 1.0 (RDF) and Atom feeds.
 */
#ifndef PGLEARN_FEED_H
#define PGLEARN_FEED_H

#include <stddef.h>

#include "util.h"

/*
 * Append the absolute http(s) links of the items of the feed in body
 * (fetched from feed_url) to *out.  Returns the number added, or -1 if the
 * body is not a feed libxml2 can read.
 */
int			feed_links(const char *body, size_t len, const char *feed_url, StrList *out);

#endif							/* PGLEARN_FEED_H */
