/*-------------------------------------------------------------------------
 *
 * redis.c
 *	  pglearn's Redis settings, the server they name, and the SQL
 *	  functions that read Redis: _redis_check(), _redis_versions(),
 *	  published() and redis_status().
 *
 * The other parts of Redis support: src/redis_url.c parses
 * pglearn.redis_url (plain C, fuzzed), src/redis_client.c talks to Redis
 * within deadlines, src/redis_publish.c queues publications and pushes
 * them after commit.  publish_pending() and publish_status (SQL) use
 * _redis_push() and _redis_versions() to re-push a list and to read
 * Redis's versions; published() reads a list back as the front end sees
 * it, and redis_status() checks the connection for monitoring.
 *
 * Key layout (prefix = pglearn.redis_prefix):
 *	 <prefix>list:<name>		sorted set, member url, score = model score
 *	 <prefix>list:<name>:ids	hash url -> example id, replaced with the list
 *	 <prefix>example:<id>		hash id, url, final_url, title, description,
 *								og_image, score, label ('' for NULL); TTL
 *								pglearn.redis_ttl
 *	 <prefix>version:<name>	the version of the list Redis holds
 *
 * Time: both timeouts are superuser settings of at most
 * REDIS_MAX_TIMEOUT_MS: the commit callback holds the row locks of the
 * lists it pushes, and its session, for as long as Redis makes it wait.
 *
 * Secrets: the Redis password comes from pglearn.redis_url or, when the URL
 * has none, from the file pglearn.redis_password_file names (so it need
 * never be a setting, which PostgreSQL logs when it changes).  No message
 * quotes the URL or the file's content; they name host:port or the socket
 * path.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "storage/fd.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "redis.h"
#include "redis_client.h"

/* settings */
char	   *pglearn_redis_url = NULL;
char	   *pglearn_redis_password_file = NULL;
int			pglearn_redis_connect_timeout = 1000;	/* ms */
int			pglearn_redis_command_timeout = 1000;	/* ms */
char	   *pglearn_redis_prefix = NULL;
int			pglearn_redis_ttl = 7 * 24 * 3600;	/* s; 0 = no expiry */

/*
 * Largest pglearn.redis_connect_timeout and pglearn.redis_command_timeout.
 * A commit waits for Redis with its row locks held and its client waiting;
 * a Redis that has not answered a command in a minute is down, not slow.
 */
#define REDIS_MAX_TIMEOUT_MS (60 * 1000)

/*
 * Why the configured target cannot be used, for an ERROR or for a status
 * column: message (an errmsg), detail and hint (sentences, or '').  Never
 * holds the URL or the password.
 */
typedef struct RedisProblem
{
	int			sqlerrcode;
	char		message[MAXPGPATH + 128];
	char		detail[256];
	char		hint[256];
} RedisProblem;

/*
 * Reads a list as the front end sees it, in one atomic step: the version,
 * then url, score, example id for each member by descending score (the
 * id is false if the ids hash lacks the url).
 *	 KEYS: version, list, list ids
 */
static const char read_script[] =
"local out = {redis.call('GET', KEYS[1])}\n"
"local z = redis.call('ZREVRANGE', KEYS[2], 0, -1, 'WITHSCORES')\n"
"for i = 1, #z, 2 do\n"
"  out[#out + 1] = z[i]\n"
"  out[#out + 1] = z[i + 1]\n"
"  out[#out + 1] = redis.call('HGET', KEYS[3], z[i])\n"
"end\n"
"return out\n";

PG_FUNCTION_INFO_V1(pglearn_redis_check);
PG_FUNCTION_INFO_V1(pglearn_redis_versions);
PG_FUNCTION_INFO_V1(pglearn_redis_published);
PG_FUNCTION_INFO_V1(pglearn_redis_status);


/* ------------------------------------------------------ the server */

/*
 * GUC check hook: reject a malformed URL when it is set, without quoting
 * it (GUC_check_errmsg replaces the default message, which would).
 */
static bool
check_redis_url(char **newval, void **extra, GucSource source)
{
	RedisTarget t;
	const char *problem;
	bool		has_password;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	problem = redis_parse_url(*newval, &t);
	has_password = t.password[0] != '\0';
	explicit_bzero(&t, sizeof(t));
	if (problem != NULL)
	{
		GUC_check_errmsg("invalid value for parameter \"pglearn.redis_url\"");
		GUC_check_errdetail("%s", problem);
		return false;
	}

	/*
	 * ALTER DATABASE / ROLE ... SET and CREATE FUNCTION ... SET (validated
	 * as PGC_S_TEST) store the value in catalogs every user can read.
	 */
	if (has_password &&
		(source == PGC_S_TEST || source == PGC_S_DATABASE || source == PGC_S_USER ||
		 source == PGC_S_DATABASE_USER))
	{
		GUC_check_errmsg("a pglearn.redis_url with a password cannot be stored per database, role or function");
		GUC_check_errdetail("Those settings are stored in catalogs every user can read.");
		GUC_check_errhint("Set it in postgresql.conf or with ALTER SYSTEM, and load pglearn at session start (session_preload_libraries).");
		return false;
	}
	return true;
}

/* Fills in *p; the sentences must not hold the URL or the password. */
static void
set_problem(RedisProblem *p, int sqlerrcode, const char *detail, const char *hint,
			const char *fmt,...) pg_attribute_printf(5, 6);

static void
set_problem(RedisProblem *p, int sqlerrcode, const char *detail, const char *hint,
			const char *fmt,...)
{
	va_list		args;

	p->sqlerrcode = sqlerrcode;
	va_start(args, fmt);
	vsnprintf(p->message, sizeof(p->message), fmt, args);
	va_end(args);
	snprintf(p->detail, sizeof(p->detail), "%s", detail ? detail : "");
	snprintf(p->hint, sizeof(p->hint), "%s", hint ? hint : "");
}

/*
 * Reads the password from pglearn.redis_password_file into t->password.
 *
 * The file is a secret, so it must be a regular file without group or
 * world access, as libpq requires of ~/.pgpass and the server of its SSL
 * key; unlike libpq, which warns and ignores the file, this is an error:
 * a password that cannot be used should not be half-accepted.  The file
 * holds the password alone: its content less one trailing line end
 * ("\n" or "\r\n").  An ACL user goes in the URL (redis://user@host).  A
 * relative path is relative to the data directory.  Returns false with *p
 * filled in; no message quotes the file's content.
 */
static bool
read_password_file(const char *path, RedisTarget *t, RedisProblem *p)
{
	FILE	   *file;
	struct stat st;
	char		buf[sizeof(t->password) + 2];	/* the longest password, \r\n */
	size_t		len;
	bool		ok = false;

	file = AllocateFile(path, "r");
	if (file == NULL)
	{
		set_problem(p, ERRCODE_CONFIG_FILE_ERROR, NULL,
					"Check the path (a relative one is relative to the data directory) and that the server's operating system user can read the file.",
					"could not open pglearn.redis_password_file \"%s\": %m", path);
		return false;
	}
	if (fstat(fileno(file), &st) != 0)
		set_problem(p, ERRCODE_CONFIG_FILE_ERROR, NULL, NULL,
					"could not stat pglearn.redis_password_file \"%s\": %m", path);
	else if (!S_ISREG(st.st_mode))
		set_problem(p, ERRCODE_CONFIG_FILE_ERROR, NULL, NULL,
					"pglearn.redis_password_file \"%s\" is not a regular file", path);
	else if (st.st_mode & (S_IRWXG | S_IRWXO))
		set_problem(p, ERRCODE_CONFIG_FILE_ERROR,
					"The file holds the Redis password, so no one but the server's operating system user may be able to read it.",
					"Remove the group and world permissions, e.g. chmod 0600 (u=rw or less).",
					"pglearn.redis_password_file \"%s\" has group or world access", path);
	else
	{
		len = fread(buf, 1, sizeof(buf), file);
		if (ferror(file))
			set_problem(p, ERRCODE_CONFIG_FILE_ERROR, NULL, NULL,
						"could not read pglearn.redis_password_file \"%s\": %m", path);
		else
		{
			if (len > 0 && buf[len - 1] == '\n')
				len--;
			if (len > 0 && buf[len - 1] == '\r')
				len--;
			if (len == 0)
				set_problem(p, ERRCODE_CONFIG_FILE_ERROR,
							"The file must hold the Redis password.", NULL,
							"pglearn.redis_password_file \"%s\" is empty", path);
			else if (memchr(buf, '\n', len) != NULL || memchr(buf, '\r', len) != NULL ||
					 memchr(buf, '\0', len) != NULL)
				set_problem(p, ERRCODE_CONFIG_FILE_ERROR,
							"The file must hold the password alone, on one line; an ACL user name goes in pglearn.redis_url (redis://user@host:port/db).", NULL,
							"pglearn.redis_password_file \"%s\" holds more than a password", path);
			else if (len >= sizeof(t->password))
				set_problem(p, ERRCODE_CONFIG_FILE_ERROR, NULL, NULL,
							"the password in pglearn.redis_password_file \"%s\" is longer than %d bytes",
							path, (int) sizeof(t->password) - 1);
			else
			{
				memcpy(t->password, buf, len);
				t->password[len] = '\0';
				ok = true;
			}
		}
	}
	explicit_bzero(buf, sizeof(buf));
	FreeFile(file);
	return ok;
}

/*
 * The configured target: pglearn.redis_url parsed, and the password from
 * pglearn.redis_password_file when the URL has none (a password in the URL
 * wins, as it did before the file existed).  Returns false with *p filled
 * in if Redis is not configured or cannot be used as configured.  The
 * caller wipes *t when done with it.
 */
static bool
resolve_target(RedisTarget *t, RedisProblem *p)
{
	const char *problem;

	memset(t, 0, sizeof(*t));
	if (pglearn_redis_url == NULL || pglearn_redis_url[0] == '\0')
	{
		set_problem(p, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
					"pglearn.publish() needs a Redis server to publish to.",
					"A superuser sets it, e.g. ALTER SYSTEM SET pglearn.redis_url = 'redis://127.0.0.1:6379/0'; then SELECT pg_reload_conf().",
					"pglearn.redis_url is not set");
		return false;
	}
	problem = redis_parse_url(pglearn_redis_url, t);
	if (problem != NULL)
	{
		set_problem(p, ERRCODE_INVALID_PARAMETER_VALUE, problem, NULL,
					"invalid value for parameter \"pglearn.redis_url\"");
		return false;
	}
	if (t->password[0] == '\0' &&
		pglearn_redis_password_file != NULL && pglearn_redis_password_file[0] != '\0' &&
		!read_password_file(pglearn_redis_password_file, t, p))
	{
		explicit_bzero(t, sizeof(*t));
		return false;
	}
	return true;
}

/* The configured target, or an ERROR saying why there is none. */
void
redis_current_target(RedisTarget *t)
{
	RedisProblem p;

	if (!resolve_target(t, &p))
		ereport(ERROR,
				(errcode(p.sqlerrcode),
				 errmsg_internal("%s", p.message),
				 p.detail[0] ? errdetail_internal("%s", p.detail) : 0,
				 p.hint[0] ? errhint("%s", p.hint) : 0));
}

/* A problem as one line for a status column: message, then the detail. */
static char *
problem_text(const RedisProblem *p)
{
	return p->detail[0] ? psprintf("%s: %s", p->message, p->detail) : pstrdup(p->message);
}


/* ------------------------------------------------------ SQL functions */

/*
 * _redis_check() -> void: an ERROR with a hint if pglearn.redis_url is
 * unset or invalid.  publish() calls it before doing any work.
 */
Datum
pglearn_redis_check(PG_FUNCTION_ARGS)
{
	RedisTarget t;

	redis_current_target(&t);
	explicit_bzero(&t, sizeof(t));
	PG_RETURN_VOID();
}

/* true if a reply is a string holding a whole decimal int64 */
static bool
reply_int64(const redisReply *r, int64 *value)
{
	char	   *end;
	long long	v;

	if (r->type != REDIS_REPLY_STRING || r->len == 0)
		return false;
	errno = 0;
	v = strtoll(r->str, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*value = (int64) v;
	return true;
}

/*
 * _redis_versions(lists text[]) -> setof (list text, redis_version int8,
 * error text): the version of each list Redis holds (NULL if none), read
 * with one MGET.  If Redis cannot be read, every row has a NULL version
 * and the problem in error; never an ERROR for an outage.
 */
Datum
pglearn_redis_versions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0);
	Datum	   *elements;
	bool	   *nulls;
	int			n;
	RedisTarget t;
	RedisProblem problem;
	char		err[256];
	char	   *message = NULL;
	redisReply *reply = NULL;

	InitMaterializedSRF(fcinfo, 0);
	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elements, &nulls, &n);

	if (pglearn_redis_url == NULL || pglearn_redis_url[0] == '\0')
		message = pstrdup("pglearn.redis_url is not set");
	else if (!resolve_target(&t, &problem))
		message = problem_text(&problem);
	else if (n > 0)
	{
		const char **argv = palloc((n + 1) * sizeof(char *));
		size_t	   *argvlen = palloc((n + 1) * sizeof(size_t));
		int			argc = 1;

		argv[0] = "MGET";
		argvlen[0] = 4;
		for (int i = 0; i < n; i++)
		{
			char	   *key = psprintf("%sversion:%s", pglearn_redis_prefix ? pglearn_redis_prefix : "",
									   nulls[i] ? "" : TextDatumGetCString(elements[i]));

			argv[argc] = key;
			argvlen[argc++] = strlen(key);
		}
		reply = redis_query(&t, pglearn_redis_connect_timeout, pglearn_redis_command_timeout, argc, argv, argvlen, "MGET", err, sizeof(err));
		if (reply == NULL)
			message = psprintf("%s: %s", t.where, err);
		else if (reply->type != REDIS_REPLY_ARRAY || reply->elements != (size_t) n)
			message = psprintf("%s: unexpected reply to MGET", t.where);
	}

	for (int i = 0; i < n; i++)
	{
		Datum		values[3];
		bool		isnull[3] = {nulls[i], true, message == NULL};

		values[0] = elements[i];
		values[1] = (Datum) 0;
		values[2] = message ? CStringGetTextDatum(message) : (Datum) 0;
		if (message == NULL && reply != NULL)
		{
			redisReply *r = reply->element[i];
			int64		version;

			if (reply_int64(r, &version))
			{
				values[1] = Int64GetDatum(version);
				isnull[1] = false;
			}
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	}
	if (reply != NULL)
		freeReplyObject(reply);
	explicit_bzero(&t, sizeof(t));
	PG_RETURN_NULL();
}


/*
 * published(list text) -> setof (rank int4, url text, score float8,
 * example_id int8, version int8): the list as Redis holds it now, which is
 * what the front end reads; no rows if Redis holds no such list.  Unlike
 * publish_status, an unreachable Redis is an ERROR here: there is nothing
 * to report but the failure.
 */
Datum
pglearn_redis_published(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *list = text_to_cstring(PG_GETARG_TEXT_PP(0));
	const char *prefix = pglearn_redis_prefix ? pglearn_redis_prefix : "";
	const char *argv[6];
	size_t		argvlen[6];
	RedisTarget t;
	redisReply *reply;
	char		err[256];
	int			nmembers;
	char	  **urls;
	double	   *scores;
	int64	   *ids;
	bool	   *id_known;
	int64		version = 0;
	bool		version_known = false;
	bool		malformed = false;

	redis_current_target(&t);
	InitMaterializedSRF(fcinfo, 0);

	argv[0] = "EVAL";
	argv[1] = read_script;
	argv[2] = "3";
	argv[3] = psprintf("%sversion:%s", prefix, list);
	argv[4] = psprintf("%slist:%s", prefix, list);
	argv[5] = psprintf("%slist:%s:ids", prefix, list);
	for (int i = 0; i < 6; i++)
		argvlen[i] = strlen(argv[i]);
	reply = redis_query(&t, pglearn_redis_connect_timeout, pglearn_redis_command_timeout, 6, argv, argvlen, "EVAL", err, sizeof(err));
	if (reply == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not read list \"%s\" from Redis at %s", list, t.where),
				 errdetail("%s", err)));

	/* copy out of hiredis's malloc'd reply before anything can ERROR */
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 3 != 1)
	{
		freeReplyObject(reply);
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("unexpected reply from Redis at %s while reading list \"%s\"", t.where, list)));
	}
	nmembers = (int) (reply->elements / 3);
	urls = palloc(Max(nmembers, 1) * sizeof(char *));
	scores = palloc(Max(nmembers, 1) * sizeof(double));
	ids = palloc(Max(nmembers, 1) * sizeof(int64));
	id_known = palloc(Max(nmembers, 1) * sizeof(bool));
	version_known = reply_int64(reply->element[0], &version);
	for (int i = 0; i < nmembers; i++)
	{
		redisReply *url = reply->element[1 + 3 * i];
		redisReply *score = reply->element[2 + 3 * i];
		if (url->type != REDIS_REPLY_STRING || score->type != REDIS_REPLY_STRING)
		{
			malformed = true;
			break;
		}
		urls[i] = pnstrdup(url->str, url->len);
		scores[i] = strtod(score->str, NULL);
		id_known[i] = reply_int64(reply->element[3 + 3 * i], &ids[i]);
	}
	freeReplyObject(reply);
	explicit_bzero(&t, sizeof(t));
	if (malformed)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("unexpected reply from Redis while reading list \"%s\"", list)));

	for (int i = 0; i < nmembers; i++)
	{
		Datum		values[5];
		bool		isnull[5] = {false, false, false, !id_known[i], !version_known};

		values[0] = Int32GetDatum(i + 1);
		values[1] = CStringGetTextDatum(urls[i]);
		values[2] = Float8GetDatum(scores[i]);
		values[3] = Int64GetDatum(id_known[i] ? ids[i] : 0);
		values[4] = Int64GetDatum(version);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	}
	PG_RETURN_NULL();
}


/*
 * redis_status(OUT configured bool, OUT ok bool, OUT latency_ms float8,
 * OUT detail text): does Redis answer PING, over the very code publish()
 * connects with (URL, password file, timeouts, AUTH, SELECT)?  For
 * monitoring: granted to pg_monitor, and the password never leaves this
 * file.  configured is false, ok and latency_ms NULL, when
 * pglearn.redis_url is empty.  latency_ms is the time from the start of
 * the connect to the PING reply, NULL without one.  detail names
 * host:port or the socket path and what happened.  A setting that cannot
 * be used or an outage is a row with ok false; an ERROR only for a cancel
 * (statement_timeout, say) while waiting.
 */
Datum
pglearn_redis_status(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, true, true, false};
	RedisTarget t;
	RedisProblem problem;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	if (pglearn_redis_url == NULL || pglearn_redis_url[0] == '\0')
	{
		values[0] = BoolGetDatum(false);
		values[3] = CStringGetTextDatum("pglearn.redis_url is not set");
	}
	else if (!resolve_target(&t, &problem))
	{
		values[0] = BoolGetDatum(true);
		values[1] = BoolGetDatum(false);
		nulls[1] = false;
		values[3] = CStringGetTextDatum(problem_text(&problem));
	}
	else
	{
		const char *argv[1] = {"PING"};
		size_t		argvlen[1] = {4};
		TimestampTz start = GetCurrentTimestamp();
		redisReply *reply;
		char		err[256];
		bool		ok;

		reply = redis_query(&t, pglearn_redis_connect_timeout, pglearn_redis_command_timeout, 1, argv, argvlen, "PING", err, sizeof(err));
		ok = reply != NULL;
		values[0] = BoolGetDatum(true);
		values[1] = BoolGetDatum(ok);
		nulls[1] = false;
		if (ok)
		{
			long		secs;
			int			usecs;

			TimestampDifference(start, GetCurrentTimestamp(), &secs, &usecs);
			values[2] = Float8GetDatum(secs * 1000.0 + usecs / 1000.0);
			nulls[2] = false;
			freeReplyObject(reply);
			values[3] = CStringGetTextDatum(psprintf("redis %s: PING ok", t.where));
		}
		else
			values[3] = CStringGetTextDatum(psprintf("redis %s: %s", t.where, err));
		explicit_bzero(&t, sizeof(t));
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}


/* ------------------------------------------------------------ settings */

void
pglearn_redis_init(void)
{
	/*
	 * Every pglearn.redis_* setting is a superuser's: they name a server
	 * the backend connects to (and what it writes there), or bound how long
	 * a commit waits for it with its locks held.
	 */
	DefineCustomStringVariable("pglearn.redis_url",
							   "Redis server that pglearn.publish() writes to.",
							   "redis://[[user][:password]@]host[:port][/db], unix:///path/to/socket[?db=N] or an absolute socket path; empty = no Redis.",
							   &pglearn_redis_url,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY,
							   check_redis_url, NULL, NULL);
	DefineCustomStringVariable("pglearn.redis_password_file",
							   "File holding the Redis password, used when pglearn.redis_url has none.",
							   "The file holds the password alone and must have no group or world access; a relative path is relative to the data directory; empty = none.",
							   &pglearn_redis_password_file,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("pglearn.redis_connect_timeout",
							"Longest wait for a connection to Redis.",
							NULL,
							&pglearn_redis_connect_timeout,
							1000, 1, REDIS_MAX_TIMEOUT_MS,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pglearn.redis_command_timeout",
							"Longest wait for Redis to take and answer one command, or one pipelined batch of commands.",
							"A commit that publishes waits at most the connect timeout plus this for each exchange with Redis.",
							&pglearn_redis_command_timeout,
							1000, 1, REDIS_MAX_TIMEOUT_MS,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomStringVariable("pglearn.redis_prefix",
							   "Prefix of every Redis key pglearn writes.",
							   NULL,
							   &pglearn_redis_prefix,
							   "pglearn:",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("pglearn.redis_ttl",
							"Time to live of the per-article Redis hashes; 0 = no expiry.",
							NULL,
							&pglearn_redis_ttl,
							7 * 24 * 3600, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
}
