/*
 * crawl.c: one crawl run.  Validates and de-duplicates the input URLs,
 * expands feeds into item links, consults robots.txt once per host, fetches
 * the pages, turns each response into a StoreRow (charset.c, extract.c) and
 * hands it to store.c.  Owns progress output and the summary line; the
 * per-transfer mechanics live in fetch.c.
 *
 * Addresses: fetch.c refuses to connect to anything but public addresses
 * unless the FetchOptions' policy allows it; such a URL fails with the
 * reason as its fetch_error and is counted in the summary.  A robots.txt
 * whose host is refused counts as "no response" (allow), and the page fetch
 * then records the refusal.
 *
 * Redirects: every hop is checked against its host's robots.txt before it
 * is requested (fetch.c's redirect hook).  A hop to a host whose robots.txt
 * this run has not read yet is refused for now; after the pass, those hosts'
 * robots.txt files are fetched and the refused URLs fetched again, so a URL
 * that redirects to a new host costs its first hop twice.  At most
 * max_redirects + 1 passes; in the last one an unknown host is allowed.
 *
 * Claims (--pending, --stale): the URLs to fetch from the table are claimed
 * a batch at a time through pglearn.claim_urls(), which hands a URL to one
 * crawler only until the claim's lease runs out; each batch is fetched and
 * committed before the next is claimed, so any number of crawlers share the
 * table's URLs and one that dies loses nothing (claim_and_crawl()).  The
 * robots.txt cache lives for the whole run, so every origin's is read once,
 * whichever batch first names it.
 *
 * Threads: the main thread only drives libcurl.  Finished pages go through a
 * bounded queue to one worker thread that decodes, extracts and writes them,
 * so parsing and database round trips overlap the network instead of
 * stalling every transfer.  The worker alone touches the Store and the
 * CrawlState counters while pages are being fetched; the queue bound keeps
 * memory in check when the database is slower than the network.
 */
#include "crawl.h"
#include "charset.h"
#include "extract.h"
#include "feed.h"
#include "robots.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct CrawlState
{
	const CrawlConfig *cfg;
	Store	   *store;
	size_t		total;
	size_t		done;
	size_t		fetched;
	size_t		failed;
	size_t		refused;		/* failed at an address the policy refused */
	bool		fatal;			/* the database went away */
	size_t		claimed;		/* URLs claimed from the table */
	StrSet	   *batch_stored;	/* claimed batch: URLs recorded (stored) */
	bool		progress;		/* stderr is a terminal and not --quiet */
	int64_t		started;
	int64_t		last_progress;
} CrawlState;

static void
show_progress(CrawlState *cs, bool force)
{
	int64_t		now = now_ms();
	double		secs;

	if (!cs->progress || (!force && now - cs->last_progress < 250))
		return;
	cs->last_progress = now;
	secs = (now - cs->started) / 1000.0;
	fprintf(stderr, "\r%zu/%zu done, %zu failed, %.1f pages/s   ",
			cs->done, cs->total, cs->failed, secs > 0 ? cs->done / secs : 0.0);
	fflush(stderr);
}

static void
record(CrawlState *cs, StoreRow *row)
{
	cs->done++;
	if (row->ok)
		cs->fetched++;
	else
		cs->failed++;
	if (cs->cfg->verbose)
	{
		if (cs->progress)
			fputs("\r\033[K", stderr);
		if (row->ok)
			fprintf(stderr, "ok %ld %s\n", row->http_status, row->url);
		else
			fprintf(stderr, "failed %s: %s\n", row->url, row->error);
	}
	if (cs->batch_stored)
		strset_add(cs->batch_stored, row->url);
	if (store_put(cs->store, row) != 0)
	{
		cs->fatal = true;
		interrupted = 1;		/* stop starting transfers; nothing can be stored */
	}
	show_progress(cs, false);
}

static bool
html_like(const char *content_type)
{
	if (content_type == NULL)
		return true;
	while (*content_type == ' ')
		content_type++;
	return ascii_strcasestr_n(content_type, strlen(content_type), "text/html") == content_type ||
		ascii_strcasestr_n(content_type, strlen(content_type), "application/xhtml+xml") == content_type ||
		ascii_strcasestr_n(content_type, strlen(content_type), "text/plain") == content_type;
}

static char *
failure_text(const char *fmt, const char *arg)
{
	char		buf[1024];

	snprintf(buf, sizeof(buf), fmt, arg);
	return utf8_sanitize(buf, strlen(buf));
}

/* a finished transfer, copied out of fetch.c's buffers for the worker */
typedef struct Finished
{
	char	   *url;
	long		http_status;
	char	   *error;			/* NULL if the transfer succeeded */
	char	   *content_type;
	char	   *effective_url;
	char	   *body;
	size_t		body_len;
	bool		address_refused;
} Finished;

#define QUEUE_CAP 64

typedef struct WorkQueue
{
	pthread_mutex_t mu;
	pthread_cond_t not_empty;
	pthread_cond_t not_full;
	Finished   *items[QUEUE_CAP];
	size_t		head;
	size_t		len;
	bool		closed;
	CrawlState *cs;
	struct RedirectCheck *redirects;	/* NULL with --ignore-robots */
} WorkQueue;

/*
 * Redirect hops checked against robots.txt (main thread only: the fetch.c
 * hook and on_page both run there).
 */
typedef struct RedirectCheck
{
	RobotsCache *robots;
	bool		last_pass;		/* allow hosts whose robots.txt is unknown */
	StrSet		asked;			/* origins whose robots.txt was wanted */
	StrList		missing;		/* ... not fetched yet */
	StrList		retry;			/* URLs to fetch again once they are */
	size_t		disallowed;		/* URLs stopped at a disallowed hop */
} RedirectCheck;

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void
finished_free(Finished *f)
{
	free(f->url);
	free(f->error);
	free(f->content_type);
	free(f->effective_url);
	free(f->body);
	free(f);
}

/* turn one finished transfer into a row for the store (worker thread) */
static void
process_page(CrawlState *cs, const Finished *r)
{
	StoreRow	row;

	memset(&row, 0, sizeof(row));
	row.url = xstrdup(r->url);
	row.http_status = r->http_status;
	if (r->address_refused)
		cs->refused++;
	if (r->error)
		row.error = failure_text("%s", r->error);
	else if (r->http_status < 200 || r->http_status >= 300)
	{
		char		status[32];

		snprintf(status, sizeof(status), "%ld", r->http_status);
		row.error = failure_text("HTTP status %s", status);
	}
	else if (!html_like(r->content_type))
		row.error = failure_text("unsupported content type: %s", r->content_type);
	else
	{
		size_t		len;
		char	   *text = charset_decode(r->content_type, r->body, r->body_len, &len, NULL);

		extract_page(text, len, r->effective_url, cs->cfg->max_text, &row.page);
		free(text);
		/* an over-long canonical URL would not fit the index; keep ours */
		if (row.page.final_url == NULL || strlen(row.page.final_url) > MAX_URL_BYTES ||
			!utf8_valid(row.page.final_url, strlen(row.page.final_url)))
		{
			free(row.page.final_url);
			row.page.final_url = xstrdup(r->url);
		}
		row.ok = true;
	}
	record(cs, &row);
}

static void *
worker_main(void *arg)
{
	WorkQueue  *q = arg;

	for (;;)
	{
		Finished   *f;

		pthread_mutex_lock(&q->mu);
		while (q->len == 0 && !q->closed)
			pthread_cond_wait(&q->not_empty, &q->mu);
		if (q->len == 0)
		{
			pthread_mutex_unlock(&q->mu);
			return NULL;		/* closed and drained */
		}
		f = q->items[q->head];
		q->head = (q->head + 1) % QUEUE_CAP;
		q->len--;
		pthread_cond_signal(&q->not_full);
		pthread_mutex_unlock(&q->mu);

		process_page(q->cs, f);
		finished_free(f);
	}
}

/* fetch.c redirect hook (main thread): may this hop be requested now? */
static bool
redirect_allowed(const char *url, void *arg)
{
	RedirectCheck *rc = arg;
	char	   *origin = url_origin(url);
	bool		ok;

	if (origin == NULL)
		return true;			/* not http(s): libcurl refuses it anyway */
	if (robots_known(rc->robots, origin))
		ok = robots_allowed(rc->robots, url);
	else if (rc->last_pass)
		ok = true;
	else
	{
		if (strset_add(&rc->asked, origin))
			strlist_push(&rc->missing, xstrdup(origin));
		ok = false;
	}
	free(origin);
	return ok;
}

/* fetch.c callback (main thread): copy the result and queue it */
static void
on_page(const FetchResult *r, void *arg)
{
	WorkQueue  *q = arg;
	Finished   *f;
	char	   *refused = NULL;

	if (r->refused_url && q->redirects)
	{
		char	   *origin = url_origin(r->refused_url);
		bool		known = origin && robots_known(q->redirects->robots, origin);

		free(origin);
		if (!known)
		{
			/* refused only until that host's robots.txt is read */
			strlist_push(&q->redirects->retry, xstrdup(r->url));
			return;
		}
		q->redirects->disallowed++;
		refused = failure_text("disallowed by robots.txt (redirect to %.400s)", r->refused_url);
	}

	f = xmalloc(sizeof(Finished));
	f->url = xstrdup(r->url);
	f->http_status = r->http_status;
	f->error = refused ? refused : dup_or_null(r->error);
	f->content_type = dup_or_null(r->content_type);
	f->effective_url = xstrdup(r->effective_url);
	f->body = xmalloc(r->body_len + 1);
	memcpy(f->body, r->body, r->body_len);
	f->body[r->body_len] = '\0';
	f->body_len = r->body_len;
	f->address_refused = r->address_refused && refused == NULL;

	pthread_mutex_lock(&q->mu);
	while (q->len == QUEUE_CAP)
		pthread_cond_wait(&q->not_full, &q->mu);
	q->items[(q->head + q->len) % QUEUE_CAP] = f;
	q->len++;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
}

/* ---- feeds ---- */

typedef struct FeedState
{
	StrList    *found;
	size_t		max_items;		/* per feed */
	size_t		failed;
	size_t		over_cap;		/* items skipped past max_items */
} FeedState;

static void
on_feed(const FetchResult *r, void *arg)
{
	FeedState  *fs = arg;
	int			n = -1;
	size_t		skipped = 0;

	if (r->error == NULL && r->http_status >= 200 && r->http_status < 300)
		n = feed_links(r->body, r->body_len, r->effective_url, fs->found, fs->max_items, &skipped);
	if (skipped > 0)
	{
		fs->over_cap += skipped;
		fprintf(stderr, "pglearn: feed %s: only the first %zu items taken, %zu more skipped (--max-feed-items)\n",
				r->url, fs->max_items, skipped);
	}
	if (n < 0)
	{
		fs->failed++;
		fprintf(stderr, "pglearn: feed %s: %s\n", r->url,
				r->error ? r->error :
				(r->http_status < 200 || r->http_status >= 300) ? "bad HTTP status" :
				"not an RSS or Atom feed");
	}
}

/* ---- robots.txt ---- */

static long
robots_delay(const char *origin, void *arg)
{
	return robots_crawl_delay_ms((const RobotsCache *) arg, origin);
}

typedef struct RobotsState
{
	RobotsCache *cache;
	StrList    *origins;		/* parallel to the robots URLs */
} RobotsState;

static void
on_robots(const FetchResult *r, void *arg)
{
	RobotsState *rs = arg;
	long		status = r->http_status;

	/* a huge robots.txt still counts: use the part we read */
	if (r->error && !r->too_large)
		status = 0;
	robots_store(rs->cache, rs->origins->items[r->index], status, r->body, r->body_len);
}

/* read origin + "/robots.txt" of each of origins into robots; -1 if libcurl failed */
static int
fetch_robots(const CrawlConfig *cfg, RobotsCache *robots, StrList *origins)
{
	StrList		robots_urls;
	RobotsState rs;
	FetchOptions fo = cfg->fetch;
	int			r;

	strlist_init(&robots_urls);
	for (size_t i = 0; i < origins->len; i++)
	{
		Buf			b;

		buf_init(&b);
		buf_appends(&b, origins->items[i]);
		buf_appends(&b, "/robots.txt");
		strlist_push(&robots_urls, buf_steal(&b));
	}
	rs.cache = robots;
	rs.origins = origins;
	fo.accept = "text/plain, */*;q=0.1";
	if (fo.max_body > 512 * 1024)
		fo.max_body = 512 * 1024;
	fo.keep_prefix = true;
	r = fetch_all(&fo, robots_urls.items, robots_urls.len, on_robots, &rs);
	strlist_free(&robots_urls);
	return r;
}

/*
 * Validate and de-duplicate input into *out: URLs that are not http(s) or
 * too long are reported and counted in *invalid, URLs in *seen (given
 * before, or fetched earlier in this run) are dropped.  input's strings stay
 * the caller's.
 */
static void
take_urls(StrList *input, StrSet *seen, StrList *out, size_t *invalid)
{
	for (size_t i = 0; i < input->len; i++)
	{
		const char *u = input->items[i];
		char	   *norm;

		if (strlen(u) > MAX_URL_BYTES || (norm = url_normalize(u)) == NULL)
		{
			char	   *shown = utf8_sanitize(u, strlen(u) > 200 ? 200 : strlen(u));

			fprintf(stderr, "pglearn: skipping \"%s\": not an http(s) URL of at most %d bytes\n",
					shown, MAX_URL_BYTES);
			free(shown);
			(*invalid)++;
			continue;
		}
		free(norm);
		if (strset_add(seen, u))
			strlist_push(out, xstrdup(u));
	}
}

/*
 * Fetch urls (valid and distinct) and hand every outcome to record():
 * robots.txt of the origins *robots does not know yet (the cache lives for
 * the whole run, so each origin's is read once), the rows robots.txt
 * disallows, then the pages, in passes while redirects lead to hosts whose
 * robots.txt was not read yet.  *robots is created on first use (left NULL
 * with --ignore-robots).  Sets cs->fatal when libcurl or the database fails.
 */
static void
crawl_pages(CrawlState *cs, RobotsCache **robots_p, StrList *urls, size_t *disallowed)
{
	const CrawlConfig *cfg = cs->cfg;
	RobotsCache *robots = *robots_p;
	StrList		allowed;

	strlist_init(&allowed);

	/* robots.txt, one fetch per origin and run */
	if (!cfg->ignore_robots && urls->len > 0 && !interrupted && !cs->fatal)
	{
		StrSet		origin_seen;
		StrList		origins;

		if (robots == NULL)
			robots = *robots_p = robots_new();
		strset_init(&origin_seen);
		strlist_init(&origins);
		for (size_t i = 0; i < urls->len; i++)
		{
			char	   *o = url_origin(urls->items[i]);

			if (o && !robots_known(robots, o) && strset_add(&origin_seen, o))
				strlist_push(&origins, o);
			else
				free(o);
		}
		if (origins.len > 0 && fetch_robots(cfg, robots, &origins) != 0)
			cs->fatal = true;
		strset_free(&origin_seen);
		strlist_free(&origins);
	}

	for (size_t i = 0; i < urls->len; i++)
	{
		if (robots && !robots_allowed(robots, urls->items[i]))
		{
			StoreRow	row;

			memset(&row, 0, sizeof(row));
			row.url = xstrdup(urls->items[i]);
			row.error = xstrdup("disallowed by robots.txt");
			(*disallowed)++;
			record(cs, &row);
		}
		else
			strlist_push(&allowed, xstrdup(urls->items[i]));
	}

	if (!cs->fatal && !interrupted && allowed.len > 0)
	{
		FetchOptions fo = cfg->fetch;

		fo.accept = "text/html, application/xhtml+xml, */*;q=0.5";
		if (robots)
		{
			fo.host_delay_ms = robots_delay;
			fo.host_delay_arg = robots;
		}
		WorkQueue	q;
		pthread_t	worker;
		int			err;
		bool		fetch_failed = false;
		RedirectCheck rc;
		StrList		pass_urls = allowed;

		memset(&q, 0, sizeof(q));
		q.cs = cs;
		memset(&rc, 0, sizeof(rc));
		strset_init(&rc.asked);
		strlist_init(&rc.missing);
		strlist_init(&rc.retry);
		strlist_init(&allowed);	/* its URLs move to pass_urls */
		if (robots)
		{
			rc.robots = robots;
			fo.redirect_allowed = redirect_allowed;
			fo.redirect_arg = &rc;
			q.redirects = &rc;
		}
		if ((err = pthread_mutex_init(&q.mu, NULL)) != 0 ||
			(err = pthread_cond_init(&q.not_empty, NULL)) != 0 ||
			(err = pthread_cond_init(&q.not_full, NULL)) != 0 ||
			(err = pthread_create(&worker, NULL, worker_main, &q)) != 0)
		{
			fprintf(stderr, "pglearn: cannot start the worker thread: %s\n", strerror(err));
			exit(EXIT_USAGE);
		}
		for (long pass = 0;; pass++)
		{
			rc.last_pass = pass >= cfg->fetch.max_redirects;
			if (fetch_all(&fo, pass_urls.items, pass_urls.len, on_page, &q) != 0)
			{
				fetch_failed = true;
				break;
			}
			if (rc.retry.len == 0 || interrupted)
				break;
			/* the hosts redirected to: read their robots.txt, then try again */
			if (fetch_robots(cfg, robots, &rc.missing) != 0)
			{
				fetch_failed = true;
				break;
			}
			strlist_free(&rc.missing);
			strlist_init(&rc.missing);
			strlist_free(&pass_urls);
			pass_urls = rc.retry;
			strlist_init(&rc.retry);
		}
		strlist_free(&pass_urls);
		pthread_mutex_lock(&q.mu);
		q.closed = true;
		pthread_cond_signal(&q.not_empty);
		pthread_mutex_unlock(&q.mu);
		if ((err = pthread_join(worker, NULL)) != 0)
		{
			fprintf(stderr, "pglearn: cannot join the worker thread: %s\n", strerror(err));
			exit(EXIT_USAGE);
		}
		pthread_cond_destroy(&q.not_full);
		pthread_cond_destroy(&q.not_empty);
		pthread_mutex_destroy(&q.mu);
		*disallowed += rc.disallowed;
		strset_free(&rc.asked);
		strlist_free(&rc.missing);
		strlist_free(&rc.retry);
		if (fetch_failed)
			cs->fatal = true;
	}
	strlist_free(&allowed);
}

/*
 * --pending/--stale: claim a batch of URLs (pglearn.claim_urls), fetch and
 * store it, and claim the next, until no unclaimed URL is left.  Each batch
 * is committed before the next claim, so a crawler killed mid-batch leaves
 * only the URLs of that batch it had not committed, still claimed: another
 * crawler takes them once the lease runs out.  A URL this run has handled
 * already (claimed again after its lease, as a --stale 0 or a failing URL
 * can be in a long run) is not fetched twice.  Interrupted, the crawler
 * gives back the URLs of its batch that it did not store, so nobody waits
 * for their lease.
 */
static void
claim_and_crawl(CrawlState *cs, RobotsCache **robots, StrSet *seen,
				size_t *invalid, size_t *disallowed)
{
	const CrawlConfig *cfg = cs->cfg;
	bool		warned = false;

	while (!interrupted && !cs->fatal)
	{
		StrList		claimed;
		StrList		batch;
		StrSet		stored;
		int64_t		claimed_at = now_ms();

		strlist_init(&claimed);
		if (store_claim_urls(cs->store, cfg->claim_pending, cfg->claim_stale_days, cfg->claim_size,
							 cfg->lease_ms, cfg->claimant, &claimed) != 0)
		{
			cs->fatal = true;
			strlist_free(&claimed);
			break;
		}
		if (claimed.len == 0)
		{
			strlist_free(&claimed);
			break;				/* nothing left that nobody holds */
		}
		cs->claimed += claimed.len;
		strlist_init(&batch);
		take_urls(&claimed, seen, &batch, invalid);
		cs->total += batch.len;

		strset_init(&stored);
		cs->batch_stored = &stored;
		if (batch.len > 0)
			crawl_pages(cs, robots, &batch, disallowed);
		/* committed before the next claim: what is claimed is what may be lost */
		if (store_flush(cs->store) != 0)
			cs->fatal = true;
		cs->batch_stored = NULL;

		if (interrupted && !cs->fatal)
		{
			StrList		unstored;
			long		released;

			strlist_init(&unstored);
			for (size_t i = 0; i < batch.len; i++)
				if (!strset_contains(&stored, batch.items[i]))
					strlist_push(&unstored, xstrdup(batch.items[i]));
			released = store_release_claims(cs->store, unstored.items, unstored.len, cfg->claimant);
			if (released > 0 && !cfg->quiet)
				fprintf(stderr, "pglearn %s: gave back %ld claimed URLs not fetched\n",
						cfg->command, released);
			strlist_free(&unstored);
		}
		if (!warned && now_ms() - claimed_at > cfg->lease_ms)
		{
			fprintf(stderr, "pglearn %s: a batch of %zu claimed URLs took %.1f s, longer than its lease"
					" (--lease %.1f s): another crawler may have fetched some of them too"
					" (raise --lease or lower --claim-size)\n",
					cfg->command, claimed.len, (now_ms() - claimed_at) / 1000.0, cfg->lease_ms / 1000.0);
			warned = true;
		}
		strset_free(&stored);
		strlist_free(&batch);
		strlist_free(&claimed);
	}
	if (cfg->verbose)
		fprintf(stderr, "pglearn %s: %zu URLs claimed as %s\n", cfg->command, cs->claimed, cfg->claimant);
}

int
crawl_run(const CrawlConfig *cfg, Store *store, StrList *input, StrList *feeds)
{
	CrawlState	cs;
	StrSet		seen;
	StrList		urls;
	size_t		invalid = 0;
	size_t		feed_failed = 0;
	size_t		feed_known = 0;	/* feed items skipped as already fetched */
	size_t		feed_over_cap = 0;	/* feed items past --max-feed-items */
	size_t		disallowed = 0;
	RobotsCache *robots = NULL;
	int			status;
	double		secs;

	memset(&cs, 0, sizeof(cs));
	cs.cfg = cfg;
	cs.store = store;
	cs.started = now_ms();
	cs.progress = !cfg->quiet && isatty(STDERR_FILENO);
	strset_init(&seen);
	strlist_init(&urls);

	/*
	 * Feeds first: their items join the input, except those already fetched
	 * well (or given up on), so polling a feed does not re-fetch old items.
	 */
	if (feeds && feeds->len > 0 && !interrupted)
	{
		StrList		items;
		FeedState	fs = {&items, cfg->max_feed_items, 0, 0};
		FetchOptions fo = cfg->fetch;
		StrSet		known;

		strlist_init(&items);
		strset_init(&known);
		fo.accept = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1";
		if (fetch_all(&fo, feeds->items, feeds->len, on_feed, &fs) != 0)
			cs.fatal = true;
		feed_failed = fs.failed;
		feed_over_cap = fs.over_cap;
		if (!cs.fatal && items.len > 0 &&
			store_known_urls(store, items.items, items.len, &known) != 0)
			cs.fatal = true;
		for (size_t i = 0; i < items.len; i++)
		{
			if (strset_contains(&known, items.items[i]))
			{
				feed_known++;
				free(items.items[i]);
			}
			else
				strlist_push(input, items.items[i]);
		}
		free(items.items);
		strset_free(&known);
	}

	/* the URLs given (and the feeds' items), then those claimed */
	take_urls(input, &seen, &urls, &invalid);
	cs.total = urls.len;
	if (urls.len > 0)
		crawl_pages(&cs, &robots, &urls, &disallowed);
	if (cfg->claim)
	{
		/* no batch transaction may be open while claiming */
		if (!cs.fatal && store_flush(store) != 0)
			cs.fatal = true;
		if (!cs.fatal)
			claim_and_crawl(&cs, &robots, &seen, &invalid, &disallowed);
	}
	if (store_flush(store) != 0)
		cs.fatal = true;

	show_progress(&cs, true);
	if (cs.progress)
		fputs("\r\033[K", stderr);
	secs = (now_ms() - cs.started) / 1000.0;
	if (!cfg->quiet)
		fprintf(stderr,
				"pglearn %s: %zu URLs, %zu fetched, %zu failed (%zu disallowed by robots.txt,"
				" %zu at refused addresses), %zu invalid, %zu feed errors, %zu feed items already fetched,"
				" %zu feed items over --max-feed-items,"
				" %zu rows written, %zu rejected by the database in %.2f s (%.1f pages/s)%s\n",
				cfg->command, cs.total, cs.fetched, cs.failed, disallowed, cs.refused, invalid,
				feed_failed, feed_known, feed_over_cap, store->written, store->rejected, secs,
				secs > 0 ? cs.done / secs : 0.0,
				interrupted && !cs.fatal ? ", interrupted" : "");

	/*
	 * Exit 2 when nothing could be stored although there was something to
	 * store: every write refused (permission denied, a trigger or policy
	 * refusing every row) is a database error, not a few failed pages.
	 */
	if (!cs.fatal && store->written == 0 && store->rejected > 0)
	{
		fprintf(stderr, "pglearn %s: the database refused every write (%zu rows); nothing was stored\n",
				cfg->command, store->rejected);
		cs.fatal = true;
	}

	if (cs.fatal)
		status = EXIT_USAGE;
	else if (cs.failed || invalid || feed_failed || store->rejected || interrupted ||
			 cs.done < cs.total)
		status = EXIT_SOME_FAILED;
	else
		status = EXIT_ALL_OK;

	robots_free(robots);
	strset_free(&seen);
	strlist_free(&urls);
	return status;
}
