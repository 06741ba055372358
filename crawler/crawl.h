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

/*
 * Claims: 100 URLs a batch keep a 16-transfer window busy and are fetched in
 * seconds at the default per-host limits; a lease of 10 minutes outlasts
 * such a batch even on a slow host, and is how long the batch of a crawler
 * that died waits before another crawler takes it.
 */
#define CLAIM_SIZE_DEFAULT 100
#define LEASE_SECONDS_DEFAULT 600

typedef struct CrawlConfig
{
	FetchOptions fetch;
	size_t		max_text;		/* body text cap in characters */
	size_t		max_feed_items; /* links taken from one feed */
	bool		ignore_robots;
	bool		quiet;
	bool		verbose;
	const char *command;		/* "crawl" or "add", for messages */

	/*
	 * --pending/--stale: after the URLs given, claim URLs from the table a
	 * batch at a time (pglearn.claim_urls) until none is left unclaimed, so
	 * that any number of crawlers share them; crawl.c says how.
	 */
	bool		claim;
	bool		claim_pending;
	int			claim_stale_days;	/* -1: not stale ones */
	int			claim_size;		/* URLs per claim (--claim-size) */
	long		lease_ms;		/* how long a claim lasts (--lease) */
	const char *claimant;		/* claimed_by: "HOST pid PID" */
} CrawlConfig;

/*
 * Crawl urls (already collected; invalid or duplicate ones are reported and
 * skipped) plus the items of feeds, then (cfg->claim) the URLs claimed from
 * the table, writing every outcome through store.
 * Returns the exit status: 0 all fetched, 1 some failed or interrupted,
 * 2 database or libcurl failure.
 */
int			crawl_run(const CrawlConfig *cfg, Store *store, StrList *urls, StrList *feeds);

#endif							/* PGLEARN_CRAWL_H */
