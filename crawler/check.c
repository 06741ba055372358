/*
 * check.c: `pglearn check`, one line in monitoring-plugin format
 * ("PGLEARN OK - ... | perfdata") and exit 0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN (bad options).  Checks: the database answers, the extension is
 * installed, age of the newest good fetch, share of failed fetches in the
 * last day, and Redis answers PING when pglearn.redis_url is set.
 */
#include "check.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>
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
	long		redis_timeout_ms;
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
			"      --redis-timeout=SEC      connect/command time-out for Redis (2)\n"
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
 * redis://[[user]:password@]host[:port][/db]; returns false (reason in msg)
 * if Redis does not answer PING within the time-out.
 */
static bool
redis_ping(const char *url, long timeout_ms, char *msg, size_t msglen)
{
	char	   *copy,
			   *p,
			   *at,
			   *slash,
			   *colon;
	char	   *password = NULL;
	char	   *host;
	int			port = 6379;
	int			db = 0;
	struct timeval tv;
	redisContext *c;
	redisReply *reply;
	bool		ok = false;

	if (strncmp(url, "redis://", 8) != 0)
	{
		snprintf(msg, msglen, "pglearn.redis_url is not a redis:// URL");
		return false;
	}
	copy = xstrdup(url + 8);
	p = copy;
	at = strrchr(p, '@');
	if (at)
	{
		*at = '\0';
		colon = strchr(p, ':');
		password = colon ? colon + 1 : p;
		p = at + 1;
	}
	slash = strchr(p, '/');
	if (slash)
	{
		*slash = '\0';
		if (slash[1])
			db = atoi(slash + 1);
	}
	colon = strrchr(p, ':');
	if (colon && p[0] != '[')
	{
		*colon = '\0';
		port = atoi(colon + 1);
	}
	host = p[0] ? p : "127.0.0.1";

	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	/* connect time-out only bounds the connect; commands need their own */
	c = redisConnectWithTimeout(host, port, tv);
	if (c == NULL)
	{
		snprintf(msg, msglen, "redis: out of memory");
		free(copy);
		return false;
	}
	if (c->err)
	{
		snprintf(msg, msglen, "redis %s:%d: %s", host, port, c->errstr);
		goto out;
	}
	if (redisSetTimeout(c, tv) != REDIS_OK)
	{
		snprintf(msg, msglen, "redis: cannot set time-out");
		goto out;
	}
	if (password && password[0])
	{
		reply = redisCommand(c, "AUTH %s", password);
		if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
		{
			snprintf(msg, msglen, "redis AUTH failed: %s", reply ? reply->str : c->errstr);
			if (reply)
				freeReplyObject(reply);
			goto out;
		}
		freeReplyObject(reply);
	}
	if (db != 0)
	{
		reply = redisCommand(c, "SELECT %d", db);
		if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
		{
			snprintf(msg, msglen, "redis SELECT failed: %s", reply ? reply->str : c->errstr);
			if (reply)
				freeReplyObject(reply);
			goto out;
		}
		freeReplyObject(reply);
	}
	reply = redisCommand(c, "PING");
	if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
		snprintf(msg, msglen, "redis PING failed: %s", reply ? reply->str : c->errstr);
	else
	{
		ok = true;
		snprintf(msg, msglen, "redis ok");
	}
	if (reply)
		freeReplyObject(reply);
out:
	redisFree(c);
	free(copy);
	return ok;
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
	snprintf(line, sizeof(line), "pglearn %s", PQgetvalue(res, 0, 0));
	report_add(&r, STATE_OK, line);
	PQclear(res);

	res = PQexec(conn,
				 "SELECT count(*),"
				 " extract(epoch FROM now() - max(fetched_at) FILTER (WHERE fetch_error IS NULL)),"
				 " count(*) FILTER (WHERE fetched_at > now() - interval '1 day'),"
				 " count(*) FILTER (WHERE fetched_at > now() - interval '1 day' AND fetch_error IS NOT NULL),"
				 " current_setting('pglearn.redis_url', true)"
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
		const char *redis_url = PQgetisnull(res, 0, 4) ? "" : PQgetvalue(res, 0, 4);
		int			state;
		char		perf[256];

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
			snprintf(line, sizeof(line), "newest fetch %.1f h ago", age / 3600);
			report_add(&r, state, line);
			snprintf(perf, sizeof(perf), " fetch_age=%.0fs;%.0f;%.0f", age,
					 a.age_warning_h * 3600, a.age_critical_h * 3600);
			buf_appends(&r.perf, perf);
		}

		state = pct > a.failed_critical_pct ? STATE_CRITICAL :
			pct > a.failed_warning_pct ? STATE_WARNING : STATE_OK;
		snprintf(line, sizeof(line), "%.1f%% of %ld fetches in the last day failed", pct, recent);
		report_add(&r, state, line);
		snprintf(perf, sizeof(perf), " failed=%.1f%%;%g;%g fetches_1d=%ld",
				 pct, a.failed_warning_pct, a.failed_critical_pct, recent);
		buf_appends(&r.perf, perf);

		if (redis_url[0])
		{
			char		msg[256];
			bool		up = redis_ping(redis_url, a.redis_timeout_ms, msg, sizeof(msg));

			report_add(&r, up ? STATE_OK : (a.redis_critical ? STATE_CRITICAL : STATE_WARNING), msg);
			buf_appends(&r.perf, up ? " redis=1" : " redis=0");
		}
	}
	PQclear(res);
	PQfinish(conn);
	return finish(&r);
}
