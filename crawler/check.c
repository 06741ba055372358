/*
 * check.c: `pglearn check`, one line in monitoring-plugin format
 * ("PGLEARN OK - ... | perfdata") and exit 0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN (bad options).  Checks: the database answers, the extension is
 * installed (and is this command's version, else WARNING), age of the
 * newest good fetch, share of failed fetches in the last day, and Redis
 * answers PING when pglearn.redis_url is set.  A server in recovery is
 * reported as "standby" with its replay lag as perfdata, since its data are
 * only as fresh as the replay.  A state other than OK names the option whose
 * threshold tripped, so the line says what to change or look at.
 *
 * Redis is checked by the server, with pglearn.redis_status(): the very
 * code publish() connects with (URL, password file, timeouts), so check
 * neither needs to read pglearn.redis_url (which holds the password, if
 * any) nor parses it a second time.  What it needs: pg_monitor, USAGE on
 * schema pglearn and SELECT on pglearn.examples (fetched_at, fetch_error);
 * pg_monitor may execute redis_status().
 */
#include "check.h"
#include "util.h"
#include "version.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

enum
{
	STATE_OK = 0,
	STATE_WARNING = 1,
	STATE_CRITICAL = 2,
	STATE_UNKNOWN = 3
};

static const char *const state_names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

typedef struct CheckArgs
{
	const char *dbname;
	double		age_warning_h;
	double		age_critical_h;
	double		failed_warning_pct;
	double		failed_critical_pct;
	long		redis_timeout_ms;	/* statement_timeout of redis_status() */
	bool		redis_critical;
} CheckArgs;

static void
usage_check(FILE *f)
{
	fprintf(f,
			"Usage: pglearn check [OPTION]...\n"
			"Print one monitoring-plugin line and exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n"
			"\n"
			"  -d, --dbname=CONNINFO        conninfo string or URI (default: PG* env)\n"
			"      --age-warning=HOURS      newest good fetch older than this: WARNING (48)\n"
			"      --age-critical=HOURS     ... CRITICAL (168)\n"
			"      --failed-warning=PCT     failed share of last day's fetches: WARNING (20)\n"
			"      --failed-critical=PCT    ... CRITICAL (50)\n"
			"      --redis-timeout=SEC      longest wait for the server's Redis check (2)\n"
			"      --redis-critical         Redis down is CRITICAL (default WARNING)\n"
			"  -h, --help                   this help\n");
}

static bool
parse_double(const char *s, double *out)
{
	char	   *end;

	errno = 0;
	*out = strtod(s, &end);
	return !(errno || end == s || *end != '\0' || !(*out >= 0));
}

typedef struct Report
{
	int			state;
	Buf			text;
	Buf			perf;
} Report;

static void
report_add(Report *r, int state, const char *text)
{
	if (state > r->state)
		r->state = state;
	if (r->text.len)
		buf_appends(&r->text, ", ");
	buf_appends(&r->text, text);
}

static int
finish(Report *r)
{
	printf("PGLEARN %s - %s", state_names[r->state], r->text.data ? r->text.data : "");
	if (r->perf.len)
		printf(" |%s", r->perf.data);
	printf("\n");
	buf_free(&r->text);
	buf_free(&r->perf);
	return r->state;
}

/*
 * The age in hours with enough digits that a small threshold is visible:
 * "0.0 h" next to "over --age-warning 0.001 h" would look like a bug.
 * Writes into buf (at least 32 bytes) and returns it.
 */
static const char *
format_hours(double seconds, char *buf)
{
	double		h = seconds / 3600;

	if (h >= 0.1)
		snprintf(buf, 32, "%.1f h", h);
	else
		snprintf(buf, 32, "%.0f s", seconds);
	return buf;
}

/*
 * A server in recovery (a hot standby, or one restoring from an archive)
 * answers the checks from replayed data: say so, with the replay lag (the
 * age of the last replayed transaction; empty until one has been replayed)
 * as perfdata.  The lag itself is not judged: an idle primary makes it grow
 * without anything being wrong.
 */
static void
check_recovery(PGconn *conn, Report *r)
{
	PGresult   *res;

	res = PQexec(conn,
				 "SELECT pg_catalog.pg_is_in_recovery(),"
				 " extract(epoch FROM pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.pg_last_xact_replay_timestamp())");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		strcmp(PQgetvalue(res, 0, 0), "t") == 0)
	{
		char		line[128];

		if (PQgetisnull(res, 0, 1))
		{
			report_add(r, STATE_OK, "standby (nothing replayed yet)");
			buf_appends(&r->perf, " standby=1 replay_lag=U");
		}
		else
		{
			double		lag = atof(PQgetvalue(res, 0, 1));

			snprintf(line, sizeof(line), "standby, replay lag %.1f s", lag);
			report_add(r, STATE_OK, line);
			snprintf(line, sizeof(line), " standby=1 replay_lag=%.3fs", lag);
			buf_appends(&r->perf, line);
		}
	}
	else if (PQresultStatus(res) == PGRES_TUPLES_OK)
		buf_appends(&r->perf, " standby=0");
	PQclear(res);
}

/*
 * Asks the server whether Redis answers, with pglearn.redis_status() under
 * a statement_timeout of timeout_ms (the server's own
 * pglearn.redis_*_timeout bound it too).  Adds the result to r unless
 * Redis is not configured.
 */
static void
check_redis(PGconn *conn, const CheckArgs *a, Report *r)
{
	int			down = a->redis_critical ? STATE_CRITICAL : STATE_WARNING;
	char		timeout[32];
	const char *params[1] = {timeout};
	char		line[512];
	PGresult   *res;

	snprintf(timeout, sizeof(timeout), "%ld", a->redis_timeout_ms);
	res = PQexecParams(conn, "SELECT pg_catalog.set_config('statement_timeout', $1, false)",
					   1, NULL, params, NULL, NULL, 0);
	PQclear(res);

	res = PQexec(conn, "SELECT configured, ok, latency_ms, detail FROM pglearn.redis_status()");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		char	   *msg = xstrdup(PQerrorMessage(conn));

		collapse_whitespace(msg);
		if (sqlstate && strcmp(sqlstate, "57014") == 0)
			snprintf(line, sizeof(line), "redis: no answer within %.1f s", a->redis_timeout_ms / 1000.0);
		else if (sqlstate && strcmp(sqlstate, "42883") == 0)
			snprintf(line, sizeof(line), "redis not checked: pglearn.redis_status() is missing (ALTER EXTENSION pglearn UPDATE)");
		else
			snprintf(line, sizeof(line), "redis not checked: %s", msg);
		free(msg);
		report_add(r, down, line);
		buf_appends(&r->perf, " redis=0");
	}
	else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
	{
		bool		up = strcmp(PQgetvalue(res, 0, 1), "t") == 0;

		if (up)
		{
			double		ms = atof(PQgetvalue(res, 0, 2));
			char		perf[64];

			snprintf(line, sizeof(line), "redis ok (%.1f ms)", ms);
			report_add(r, STATE_OK, line);
			snprintf(perf, sizeof(perf), " redis=1 redis_latency=%.3fms", ms);
			buf_appends(&r->perf, perf);
		}
		else
		{
			snprintf(line, sizeof(line), "%s", PQgetvalue(res, 0, 3));
			report_add(r, down, line);
			buf_appends(&r->perf, " redis=0");
		}
	}
	PQclear(res);
}

int
check_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dbname", required_argument, NULL, 'd'},
		{"age-warning", required_argument, NULL, 1},
		{"age-critical", required_argument, NULL, 2},
		{"failed-warning", required_argument, NULL, 3},
		{"failed-critical", required_argument, NULL, 4},
		{"redis-timeout", required_argument, NULL, 5},
		{"redis-critical", no_argument, NULL, 6},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	CheckArgs	a = {NULL, 48, 168, 20, 50, 2000, false};
	Report		r;
	int			c;
	double		v;
	const char *keys[] = {"dbname", "fallback_application_name", "connect_timeout", NULL};
	const char *vals[] = {NULL, "pglearn check", "10", NULL};
	PGconn	   *conn;
	PGresult   *res;
	char		line[512];

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:h", opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				a.dbname = optarg;
				break;
			case 1:
			case 2:
			case 3:
			case 4:
			case 5:
				if (!parse_double(optarg, &v))
				{
					printf("PGLEARN UNKNOWN - bad value \"%s\" for %s\n", optarg, argv[optind - 1]);
					return STATE_UNKNOWN;
				}
				if (c == 1)
					a.age_warning_h = v;
				else if (c == 2)
					a.age_critical_h = v;
				else if (c == 3)
					a.failed_warning_pct = v;
				else if (c == 4)
					a.failed_critical_pct = v;
				else
					a.redis_timeout_ms = (long) (v * 1000) > 0 ? (long) (v * 1000) : 1;
				break;
			case 6:
				a.redis_critical = true;
				break;
			case 'h':
				usage_check(stdout);
				return STATE_OK;
			default:
				printf("PGLEARN UNKNOWN - bad option \"%s\" (see pglearn check --help)\n", argv[optind - 1]);
				return STATE_UNKNOWN;
		}
	}
	if (optind < argc)
	{
		printf("PGLEARN UNKNOWN - unexpected argument \"%s\"\n", argv[optind]);
		return STATE_UNKNOWN;
	}

	memset(&r, 0, sizeof(r));
	buf_init(&r.text);
	buf_init(&r.perf);

	vals[0] = a.dbname;
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		char	   *msg = conn ? xstrdup(PQerrorMessage(conn)) : xstrdup("out of memory");

		collapse_whitespace(msg);
		snprintf(line, sizeof(line), "database unreachable: %s", msg);
		free(msg);
		report_add(&r, STATE_CRITICAL, line);
		PQfinish(conn);
		return finish(&r);
	}

	res = PQexec(conn, "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pglearn'");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) == 0)
	{
		report_add(&r, STATE_CRITICAL, PQresultStatus(res) == PGRES_TUPLES_OK ?
				   "extension pglearn is not installed" : "cannot read pg_extension");
		PQclear(res);
		PQfinish(conn);
		return finish(&r);
	}
	if (strcmp(PQgetvalue(res, 0, 0), PGLEARN_VERSION) == 0)
	{
		snprintf(line, sizeof(line), "pglearn %s", PQgetvalue(res, 0, 0));
		report_add(&r, STATE_OK, line);
	}
	else
	{
		/* an older extension lacks what this command calls (redis_status()) */
		snprintf(line, sizeof(line),
				 "extension pglearn %s but this command is %s (ALTER EXTENSION pglearn UPDATE, or install the matching command)",
				 PQgetvalue(res, 0, 0), PGLEARN_VERSION);
		report_add(&r, STATE_WARNING, line);
	}
	PQclear(res);

	check_recovery(conn, &r);

	res = PQexec(conn,
				 "SELECT count(*),"
				 " extract(epoch FROM now() - max(fetched_at) FILTER (WHERE fetch_error IS NULL)),"
				 " count(*) FILTER (WHERE fetched_at > now() - interval '1 day'),"
				 " count(*) FILTER (WHERE fetched_at > now() - interval '1 day' AND fetch_error IS NOT NULL)"
				 " FROM pglearn.examples");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		char	   *msg = xstrdup(PQerrorMessage(conn));

		collapse_whitespace(msg);
		snprintf(line, sizeof(line), "cannot read pglearn.examples: %s", msg);
		free(msg);
		report_add(&r, STATE_CRITICAL, line);
		PQclear(res);
		PQfinish(conn);
		return finish(&r);
	}
	else
	{
		long		examples = atol(PQgetvalue(res, 0, 0));
		bool		never = PQgetisnull(res, 0, 1);
		double		age = never ? 0 : atof(PQgetvalue(res, 0, 1));
		long		recent = atol(PQgetvalue(res, 0, 2));
		long		recent_failed = atol(PQgetvalue(res, 0, 3));
		double		pct = recent > 0 ? 100.0 * recent_failed / recent : 0;
		int			state;
		char		perf[256];
		char		hours[32];

		snprintf(line, sizeof(line), "%ld examples", examples);
		report_add(&r, STATE_OK, line);
		snprintf(perf, sizeof(perf), " examples=%ld", examples);
		buf_appends(&r.perf, perf);

		if (never)
			report_add(&r, STATE_WARNING, "no successful fetch yet");
		else
		{
			state = age > a.age_critical_h * 3600 ? STATE_CRITICAL :
				age > a.age_warning_h * 3600 ? STATE_WARNING : STATE_OK;
			if (state == STATE_OK)
				snprintf(line, sizeof(line), "newest fetch %s ago", format_hours(age, hours));
			else
				snprintf(line, sizeof(line), "newest fetch %s ago (over --age-%s %g h)",
						 format_hours(age, hours), state == STATE_CRITICAL ? "critical" : "warning",
						 state == STATE_CRITICAL ? a.age_critical_h : a.age_warning_h);
			report_add(&r, state, line);
			snprintf(perf, sizeof(perf), " fetch_age=%.0fs;%.0f;%.0f", age,
					 a.age_warning_h * 3600, a.age_critical_h * 3600);
			buf_appends(&r.perf, perf);
		}

		state = pct > a.failed_critical_pct ? STATE_CRITICAL :
			pct > a.failed_warning_pct ? STATE_WARNING : STATE_OK;
		if (state == STATE_OK)
			snprintf(line, sizeof(line), "%.1f%% of %ld fetches in the last day failed", pct, recent);
		else
			snprintf(line, sizeof(line), "%.1f%% of %ld fetches in the last day failed (over --failed-%s %g%%)",
					 pct, recent, state == STATE_CRITICAL ? "critical" : "warning",
					 state == STATE_CRITICAL ? a.failed_critical_pct : a.failed_warning_pct);
		report_add(&r, state, line);
		snprintf(perf, sizeof(perf), " failed=%.1f%%;%g;%g fetches_1d=%ld",
				 pct, a.failed_warning_pct, a.failed_critical_pct, recent);
		buf_appends(&r.perf, perf);

	}
	PQclear(res);
	check_redis(conn, &a, &r);
	PQfinish(conn);
	return finish(&r);
}
