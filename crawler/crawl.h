/*
 * crawl.h: the `crawl` pipeline shared by `pglearn crawl` and `pglearn add`:
 * feeds -> robots.txt -> pages -> charset/extract -> store.
 */
#ifndef PGLEARN_CRAWL_H
#define PGLEARN_CRAWL_H

#include <stdbool.h>
#include <stddef.h>

#include "fetch.h"
#include "store.h"
#include "util.h"

typedef struct CrawlConfig
{
	FetchOptions fetch;
	size_t		max_text;		/* body text cap in characters */
	size_t		max_feed_items; /* links taken from one feed */
	bool		ignore_robots;
	bool		quiet;
	bool		verbose;
	const char *command;		/* "crawl" or "add", for messages */
} CrawlConfig;

/*
 * Crawl urls (already collected; invalid or duplicate ones are reported and
 * skipped) plus the items of feeds, writing every outcome through store.
 * Returns the exit status: 0 all fetched, 1 some failed or interrupted,
 * 2 database or libcurl failure.
 */
int			crawl_run(const CrawlConfig *cfg, Store *store, StrList *urls, StrList *feeds);

#endif							/* PGLEARN_CRAWL_H */
