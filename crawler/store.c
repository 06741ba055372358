/*
 * store.c: the crawler's only contact with the database.  Owns the SQL of
 * the upsert rules, the batching (one transaction per batch, so a crash loses
 * at most the batch in flight) and the fallback of writing rows one by one
 * when a batch fails, so one bad row costs only itself.  All statements are
 * prepared and parameterised; every result is checked and cleared.
 *
 * The rules are the extension's functions (pglearn.record_fetch,
 * record_fetch_error, add, needs_fetch, claim_urls, release_claims,
 * known_urls):
 *  - a successful fetch always replaces the fetched columns and clears
 *    fetch_error/error_count;
 *  - a failed fetch replaces http_status/fetch_error/fetched_at only when the
 *    stored row has no good fetch, and always increments error_count, so a
 *    transient failure never wipes good content;
 *  - crawl never names the label column; add changes it only for +1/-1;
 *  - --pending/--stale URLs are claimed (claim_urls), so crawlers sharing a
 *    table never get the same URL while its lease holds.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXTOID 25
#define INT4OID 23

/*
 * The write rules are the extension's (pglearn.record_fetch and the others
 * below, in the update script's "The crawler's write rules"): this file
 * only calls them, so a race test or another client runs the same rules.
 */
static const char *const upsert_ok_sql =
"SELECT pglearn.record_fetch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

static const char *const upsert_fail_sql =
"SELECT pglearn.record_fetch_error($1, $2, $3)";

/* a row unless nothing changed: true if inserted, false if relabelled */
static const char *const add_sql =
"SELECT a FROM pglearn.add($1, $2) AS a WHERE a IS NOT NULL";

static const char *const needs_fetch_sql =
"SELECT 1 WHERE pglearn.needs_fetch($1)";

static void
row_free(StoreRow *r)
{
	free(r->url);
	free(r->error);
	page_free(&r->page);
}

/* run a parameterless command; false (message printed) unless it succeeded */
static bool
exec_simple(PGconn *conn, const char *sql)
{
	PGresult   *res = PQexec(conn, sql);
	bool		ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
		PQresultStatus(res) == PGRES_TUPLES_OK;

	if (!ok)
		fprintf(stderr, "pglearn: %s: %s", sql, PQerrorMessage(conn));
	PQclear(res);
	return ok;
}

static bool
prepare(PGconn *conn, const char *name, const char *sql, int nparams, const Oid *types)
{
	PGresult   *res = PQprepare(conn, name, sql, nparams, types);
	bool		ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		fprintf(stderr, "pglearn: cannot prepare %s: %s", name, PQerrorMessage(conn));
	PQclear(res);
	return ok;
}

/* prepare our statements on a (new) connection */
static bool
prepare_all(PGconn *conn)
{
	static const Oid ok_types[] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4OID};
	static const Oid fail_types[] = {TEXTOID, INT4OID, TEXTOID};
	static const Oid add_types[] = {TEXTOID, INT4OID};
	static const Oid url_types[] = {TEXTOID};

	/* a hung server must not hang a cron job forever; keep a user's own limit */
	if (!exec_simple(conn, "SELECT set_config('statement_timeout', '5min', false)"
					 " WHERE current_setting('statement_timeout') = '0'"))
		return false;
	return prepare(conn, "upsert_ok", upsert_ok_sql, 10, ok_types) &&
		prepare(conn, "upsert_fail", upsert_fail_sql, 3, fail_types) &&
		prepare(conn, "add", add_sql, 2, add_types) &&
		prepare(conn, "needs_fetch", needs_fetch_sql, 1, url_types);
}

/*
 * A SQL_ASCII database holds any bytes, and the server refuses to send a UTF8
 * client a result holding one value that is not UTF-8: one such URL (label()
 * accepts it there) would stop every --pending crawl.  Take the bytes as
 * stored instead: every URL read is validated as UTF-8 before use
 * (url_normalize), and everything written is valid UTF-8 already.
 */
static bool
take_sql_ascii_as_stored(PGconn *conn)
{
	const char *server_encoding = PQparameterStatus(conn, "server_encoding");

	if (server_encoding == NULL || strcmp(server_encoding, "SQL_ASCII") != 0)
		return true;
	return PQsetClientEncoding(conn, "SQL_ASCII") == 0;
}

int
store_open(Store *s, const char *conninfo, int batch_size)
{
	/* keywords before dbname are defaults that a conninfo in --dbname overrides */
	const char *keys[] = {"connect_timeout", "dbname", "fallback_application_name", "client_encoding", NULL};
	const char *vals[] = {"10", conninfo, "pglearn", "UTF8", NULL};
	PGresult   *res;
	bool		exists;

	memset(s, 0, sizeof(*s));
	s->batch_size = batch_size > 0 ? batch_size : 50;
	s->rows = xmalloc(s->batch_size * sizeof(StoreRow));
	/* expand_dbname=1: --dbname may be a conninfo string or a URI */
	s->conn = PQconnectdbParams(keys, vals, 1);
	if (s->conn == NULL)
	{
		fprintf(stderr, "pglearn: out of memory connecting to the database\n");
		return -1;
	}
	if (PQstatus(s->conn) != CONNECTION_OK)
	{
		fprintf(stderr, "pglearn: cannot connect to the database: %s", PQerrorMessage(s->conn));
		return -1;
	}
	if (!take_sql_ascii_as_stored(s->conn))
	{
		fprintf(stderr, "pglearn: %s", PQerrorMessage(s->conn));
		return -1;
	}
	res = PQexec(s->conn, "SELECT to_regclass('pglearn.examples') IS NOT NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		fprintf(stderr, "pglearn: %s", PQerrorMessage(s->conn));
		PQclear(res);
		return -1;
	}
	exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!exists)
	{
		fprintf(stderr, "pglearn: table pglearn.examples does not exist in database \"%s\"\n"
				"hint: run CREATE EXTENSION pglearn there first\n", PQdb(s->conn));
		return -1;
	}
	if (!prepare_all(s->conn))
		return -1;
	return 0;
}

void
store_close(Store *s)
{
	for (size_t i = 0; i < s->nrows; i++)
		row_free(&s->rows[i]);
	free(s->rows);
	s->rows = NULL;
	s->nrows = 0;
	if (s->conn)
		PQfinish(s->conn);
	s->conn = NULL;
}

/*
 * Write one row with the prepared upserts; false with the error in
 * s->conn and its SQLSTATE in s->sqlstate.
 */
static bool
write_row(Store *s, const StoreRow *r)
{
	PGconn	   *conn = s->conn;
	char		status[24];
	const char *status_param = NULL;
	PGresult   *res;
	bool		ok;

	if (r->http_status > 0)
	{
		snprintf(status, sizeof(status), "%ld", r->http_status);
		status_param = status;
	}
	if (r->ok)
	{
		const char *params[10] = {
			r->url, r->page.title, r->page.description, r->page.og_description,
			r->page.og_type, r->page.og_image, r->page.favicon, r->page.body,
			r->page.final_url, status_param
		};

		res = PQexecPrepared(conn, "upsert_ok", 10, params, NULL, NULL, 0);
	}
	else
	{
		const char *params[3] = {r->url, status_param, r->error};

		res = PQexecPrepared(conn, "upsert_fail", 3, params, NULL, NULL, 0);
	}
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
	{
		const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		snprintf(s->sqlstate, sizeof(s->sqlstate), "%s", sqlstate ? sqlstate : "");
		snprintf(s->error, sizeof(s->error), "%s", PQerrorMessage(conn));
	}
	PQclear(res);
	return ok;
}

/* one transaction for the whole batch; false if anything failed (rolled back) */
static bool
write_batch(Store *s)
{
	bool		ok = exec_simple(s->conn, "BEGIN");

	s->sqlstate[0] = '\0';
	for (size_t i = 0; ok && i < s->nrows; i++)
		if (!write_row(s, &s->rows[i]))
			ok = false;
	if (ok && exec_simple(s->conn, "COMMIT"))
		return true;
	if (PQstatus(s->conn) == CONNECTION_OK)
	{
		PGresult   *res = PQexec(s->conn, "ROLLBACK");

		PQclear(res);
	}
	return false;
}

/*
 * After a lost connection: reconnect once and prepare again.  The batch in
 * flight was rolled back by the server, so writing it again is safe.
 */
static bool
reconnect(Store *s, const char *retrying)
{
	fprintf(stderr, "pglearn: lost the database connection: %s", PQerrorMessage(s->conn));
	PQreset(s->conn);
	if (PQstatus(s->conn) != CONNECTION_OK || !take_sql_ascii_as_stored(s->conn) || !prepare_all(s->conn))
	{
		fprintf(stderr, "pglearn: cannot reconnect: %s", PQerrorMessage(s->conn));
		return false;
	}
	fprintf(stderr, "pglearn: reconnected, %s\n", retrying);
	return true;
}

int
store_flush(Store *s)
{
	if (s->nrows == 0)
		return 0;
	if (write_batch(s))
		s->written += s->nrows;
	else if (PQstatus(s->conn) != CONNECTION_OK && reconnect(s, "writing the batch again") && write_batch(s))
		s->written += s->nrows;
	else
	{
		/* the batch failed as a whole: retry each row on its own */
		if (PQstatus(s->conn) != CONNECTION_OK)
		{
			fprintf(stderr, "pglearn: giving up, the database connection is gone: %s",
					PQerrorMessage(s->conn));
			return -1;
		}

		/*
		 * A read-only server (a standby, default_transaction_read_only)
		 * refuses every row alike, now and for the rest of the crawl: stop
		 * rather than fetch pages that cannot be stored.
		 */
		if (strcmp(s->sqlstate, "25006") == 0)
		{
			fprintf(stderr, "pglearn: giving up, the database is read-only (a standby? connect to the primary,"
					" e.g. with target_session_attrs=read-write): %s", s->error);
			return -1;
		}
		for (size_t i = 0; i < s->nrows; i++)
		{
			if (write_row(s, &s->rows[i]))
				s->written++;
			else
			{
				if (PQstatus(s->conn) != CONNECTION_OK)
				{
					fprintf(stderr, "pglearn: lost the database connection: %s", PQerrorMessage(s->conn));
					return -1;
				}
				fprintf(stderr, "pglearn: cannot store %s: %s", s->rows[i].url, PQerrorMessage(s->conn));
				s->rejected++;
			}
		}
	}
	for (size_t i = 0; i < s->nrows; i++)
		row_free(&s->rows[i]);
	s->nrows = 0;
	return 0;
}

int
store_put(Store *s, StoreRow *row)
{
	/* a full batch here means its flush failed: the database is gone */
	if (s->nrows >= (size_t) s->batch_size)
	{
		row_free(row);
		memset(row, 0, sizeof(*row));
		return -1;
	}
	s->rows[s->nrows++] = *row;
	memset(row, 0, sizeof(*row));
	if (s->nrows >= (size_t) s->batch_size)
		return store_flush(s);
	return 0;
}

/*
 * A text[] literal of urls[from..to): every element quoted, '"' and '\\'
 * escaped.  The caller frees the buffer.
 */
static void
text_array(Buf *arr, char *const *urls, size_t from, size_t to)
{
	buf_init(arr);
	buf_appendc(arr, '{');
	for (size_t j = from; j < to; j++)
	{
		if (j > from)
			buf_appendc(arr, ',');
		buf_appendc(arr, '"');
		for (const char *c = urls[j]; *c; c++)
		{
			if (*c == '"' || *c == '\\')
				buf_appendc(arr, '\\');
			buf_appendc(arr, *c);
		}
		buf_appendc(arr, '"');
	}
	buf_appendc(arr, '}');
}

/*
 * One parameterised statement outside a batch; after a lost connection,
 * reconnect once and run it again.  A claim whose answer was lost with the
 * connection stays ours until its lease ends, and is then handed out again:
 * it costs a wait, never a URL.
 */
static PGresult *
exec_params_retry(Store *s, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res = PQexecParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQstatus(s->conn) != CONNECTION_OK)
	{
		PQclear(res);
		if (!reconnect(s, "asking again"))
			return NULL;
		res = PQexecParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	}
	return res;
}

int
store_claim_urls(Store *s, bool pending, int stale_days, int n, long lease_ms,
				 const char *claimed_by, StrList *out)
{
	char		days[16];
	char		count[16];
	char		lease[48];
	const char *params[5] = {pending ? "t" : "f", days, count, lease, claimed_by};
	PGresult   *res;

	snprintf(days, sizeof(days), "%d", stale_days);
	snprintf(count, sizeof(count), "%d", n);
	snprintf(lease, sizeof(lease), "%ld milliseconds", lease_ms);
	res = exec_params_retry(s,
							"SELECT c.url FROM pglearn.claim_urls($1::bool, $2::int4, $3::int4,"
							" $4::interval, $5::text) AS c ORDER BY c.id",
							5, params);
	if (res == NULL)
		return -1;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		fprintf(stderr, "pglearn: cannot claim URLs to crawl: %s", PQerrorMessage(s->conn));
		PQclear(res);
		return -1;
	}
	for (int i = 0; i < PQntuples(res); i++)
		strlist_push(out, xstrdup(PQgetvalue(res, i, 0)));
	PQclear(res);
	return 0;
}

long
store_release_claims(Store *s, char *const *urls, size_t n, const char *claimed_by)
{
	long		released = 0;
	size_t		i = 0;

	/* one array parameter per 1000 URLs keeps statements small */
	while (i < n)
	{
		size_t		end = i + 1000 < n ? i + 1000 : n;
		Buf			arr;
		const char *params[2];
		PGresult   *res;

		text_array(&arr, urls, i, end);
		params[0] = arr.data;
		params[1] = claimed_by;
		res = exec_params_retry(s, "SELECT pglearn.release_claims($1::text[], $2::text)", 2, params);
		buf_free(&arr);
		if (res == NULL)
			return -1;
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			fprintf(stderr, "pglearn: cannot give back claimed URLs: %s", PQerrorMessage(s->conn));
			PQclear(res);
			return -1;
		}
		released += atol(PQgetvalue(res, 0, 0));
		PQclear(res);
		i = end;
	}
	return released;
}

int
store_known_urls(Store *s, char *const *urls, size_t n, StrSet *done)
{
	size_t		i = 0;

	/* one array parameter per 1000 URLs keeps statements small */
	while (i < n)
	{
		size_t		end = i + 1000 < n ? i + 1000 : n;
		Buf			arr;
		const char *params[1];
		PGresult   *res;

		text_array(&arr, urls, i, end);
		params[0] = arr.data;
		res = PQexecParams(s->conn,
						   "SELECT u FROM pglearn.known_urls($1::text[]) AS u",
						   1, NULL, params, NULL, NULL, 0);
		buf_free(&arr);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			fprintf(stderr, "pglearn: cannot look up known URLs: %s", PQerrorMessage(s->conn));
			PQclear(res);
			return -1;
		}
		for (int r = 0; r < PQntuples(res); r++)
			strset_add(done, PQgetvalue(res, r, 0));
		PQclear(res);
		i = end;
	}
	return 0;
}

int
store_add_entries(Store *s, const AddEntry *entries, size_t n,
				  AddStats *stats, StrList *to_fetch)
{
	size_t		i = 0;

	memset(stats, 0, sizeof(*stats));
	while (i < n)
	{
		size_t		end = i + s->batch_size < n ? i + s->batch_size : n;

		if (!exec_simple(s->conn, "BEGIN"))
			return -1;
		for (size_t j = i; j < end; j++)
		{
			const AddEntry *e = &entries[j];
			char		label[8];
			const char *params[2] = {e->url, NULL};
			PGresult   *res;

			if (e->label != 2)
			{
				snprintf(label, sizeof(label), "%d", e->label);
				params[1] = label;
			}
			res = PQexecPrepared(s->conn, "add", 2, params, NULL, NULL, 0);
			if (PQresultStatus(res) != PGRES_TUPLES_OK)
			{
				fprintf(stderr, "pglearn: line %d: cannot store %s: %s", e->line, e->url,
						PQerrorMessage(s->conn));
				PQclear(res);
				res = PQexec(s->conn, "ROLLBACK");
				PQclear(res);
				return -1;
			}
			if (PQntuples(res) == 0)
				stats->unchanged++;
			else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
				stats->inserted++;
			else
				stats->relabelled++;
			PQclear(res);

			if (to_fetch)
			{
				res = PQexecPrepared(s->conn, "needs_fetch", 1, params, NULL, NULL, 0);
				if (PQresultStatus(res) != PGRES_TUPLES_OK)
				{
					fprintf(stderr, "pglearn: %s", PQerrorMessage(s->conn));
					PQclear(res);
					res = PQexec(s->conn, "ROLLBACK");
					PQclear(res);
					return -1;
				}
				if (PQntuples(res) > 0)
					strlist_push(to_fetch, xstrdup(e->url));
				PQclear(res);
			}
		}
		if (!exec_simple(s->conn, "COMMIT"))
			return -1;
		i = end;
	}
	return 0;
}
