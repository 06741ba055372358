/*
 * robots.h: robots.txt rules (RFC 9309), cached per scheme://host:port for
 * one run of the crawler.
 */
#ifndef PGLEARN_ROBOTS_H
#define PGLEARN_ROBOTS_H

#include <stdbool.h>
#include <stddef.h>

/* the product token we look for in User-agent lines */
#define PGLEARN_ROBOTS_AGENT "pglearn-crawler"

typedef struct RobotsCache RobotsCache;

RobotsCache *robots_new(void);
void		robots_free(RobotsCache *rc);

/*
 * Record what fetching origin + "/robots.txt" gave: http_status 0 means no
 * response (network error), which we treat as "allow" because the page fetch
 * will then fail with the real error; 4xx means no rules; 5xx means
 * "disallow everything for now" as RFC 9309 asks; 2xx bodies are parsed.
 */
void		robots_store(RobotsCache *rc, const char *origin, long http_status,
						 const char *body, size_t len);

/* Crawl-delay of origin's chosen group in ms (capped at 60 s), 0 if none */
long		robots_crawl_delay_ms(const RobotsCache *rc, const char *origin);

/* true if url may be fetched; origins never stored are allowed */
bool		robots_allowed(const RobotsCache *rc, const char *url);

/* true once robots_store has recorded origin ("scheme://host:port") */
bool		robots_known(const RobotsCache *rc, const char *origin);

#endif							/* PGLEARN_ROBOTS_H */
