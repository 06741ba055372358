/*
 * store.h: writing crawl results and labels to pglearn.examples with libpq.
 */
#ifndef PGLEARN_STORE_H
#define PGLEARN_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "extract.h"
#include "util.h"

/* longest URL we accept: btree index entries are limited to ~2.7 kB */
#define MAX_URL_BYTES 2048

/* one fetch outcome waiting to be written */
typedef struct StoreRow
{
	char	   *url;
	bool		ok;
	long		http_status;	/* 0: no response */
	char	   *error;			/* failure text, NULL when ok */
	Page		page;			/* filled when ok */
} StoreRow;

typedef struct Store
{
	PGconn	   *conn;
	int			batch_size;
	StoreRow   *rows;
	size_t		nrows;
	size_t		written;		/* rows committed */
	size_t		rejected;		/* rows the database refused one by one */
	char		sqlstate[6];	/* of the last failed write, "" if none */
	char		error[256];		/* its message (a ROLLBACK clears the connection's) */
} Store;

/*
 * Connect (conninfo may be NULL: PG* environment), check the table exists
 * and prepare statements.  Returns 0, or -1 with a message on stderr.
 */
int			store_open(Store *s, const char *conninfo, int batch_size);
void		store_close(Store *s);

/* queue a row (ownership moves to the store); writes when the batch is full */
int			store_put(Store *s, StoreRow *row);
/* write what is queued in one transaction; -1 if the database is gone */
int			store_flush(Store *s);

/*
 * Claim at most n of the URLs to crawl from the table (pglearn.claim_urls):
 * pending (never fetched or failing, not given up) and/or stale (fetched
 * more than stale_days ago; <0 = off), that no other crawler's unexpired
 * claim holds, for lease_ms milliseconds, in the name of claimed_by.
 * Appends them to *out (by id).  Runs outside any batch transaction (none
 * may be open: flush first).  Returns 0, or -1 with a message on stderr.
 */
int			store_claim_urls(Store *s, bool pending, int stale_days, int n, long lease_ms,
							 const char *claimed_by, StrList *out);

/*
 * Give back claimed_by's claims on urls[0..n) (pglearn.release_claims), so
 * another crawler may take them before the lease ends.  Returns the number
 * released, or -1 with a message on stderr.
 */
long		store_release_claims(Store *s, char *const *urls, size_t n, const char *claimed_by);

/*
 * Add to *done those of urls[0..n) whose row already holds a good fetch or
 * has failed 5 times: feed items are crawled once, not on every poll.
 */
int			store_known_urls(Store *s, char *const *urls, size_t n, StrSet *done);

/* one line of `pglearn add` input; label 2 means "no label given" */
typedef struct AddEntry
{
	char	   *url;
	int			label;
	int			line;
} AddEntry;

typedef struct AddStats
{
	size_t		inserted;
	size_t		relabelled;
	size_t		unchanged;
} AddStats;

/*
 * Upsert entries: new URLs are inserted (label as given, NULL when absent);
 * an existing row's label changes only for an explicit +1/-1.  URLs whose
 * row still needs a successful fetch are appended to *to_fetch.
 */
int			store_add_entries(Store *s, const AddEntry *entries, size_t n,
							  AddStats *stats, StrList *to_fetch);

#endif							/* PGLEARN_STORE_H */
