/*-------------------------------------------------------------------------
 *
 * redis.c
 *	  Publishing recommendation lists to Redis, only after commit.
 *
 * Owns: the pglearn.redis_* settings and their URL parser, the hiredis
 * connection and commands, and the transaction callbacks that push the
 * publications pglearn.publish() queued once their transaction has
 * committed.  Does not own what is published: publish() (SQL) runs
 * recommend() and records the members in pglearn.publications; this file
 * reads that row.  publish_pending() and publish_status (SQL) use the
 * functions at the end to re-push a list and to read Redis's versions;
 * published() reads a list back as the front end sees it.
 *
 * Key layout (prefix = pglearn.redis_prefix):
 *	 <prefix>list:<name>		sorted set, member url, score = model score
 *	 <prefix>list:<name>:ids	hash url -> example id, replaced with the list
 *	 <prefix>example:<id>		hash id, url, final_url, title, description,
 *								og_image, score, label ('' for NULL); TTL
 *								pglearn.redis_ttl
 *	 <prefix>version:<name>	the version of the list Redis holds
 *
 * The rule that shapes this file: XACT_EVENT_COMMIT callbacks run after
 * the commit record is written, so an ERROR there becomes a PANIC.  All
 * work that can fail in PostgreSQL's sense (SPI, palloc, parsing the URL,
 * formatting keys and arguments) happens when publish() runs, inside the
 * transaction.  The commit callback only hands those preformatted argument
 * vectors to hiredis, which allocates with malloc and reports failure by
 * return value, and turns any failure into a WARNING (as PostgreSQL's own
 * post-commit cleanup does; a WARNING does not abort anything).  No
 * PG_TRY there: there is nothing that could throw to catch.  The queued
 * publications live in a context under
 * TopTransactionContext: PostgreSQL deletes that context after the
 * XACT_EVENT_COMMIT and ABORT callbacks have run, so the callback reads
 * them in place and allocates nothing.
 *
 * Ordering: the commit callback runs while the transaction still holds
 * its locks, including the row lock publish() took on the list's
 * pglearn.publications row, so a second publisher of the same list waits
 * until the first one's push is done.  Versions make the outcome right in
 * every other interleaving (publish_pending() racing a commit, a push that
 * timed out on the client but completed on the server): the Lua script
 * installs a list only if its version is higher than the one Redis holds.
 *
 * Time: every connection uses redisConnectWithTimeout (or the unix socket
 * variant) and then redisSetTimeout, so each read and write is bounded by
 * pglearn.redis_command_timeout; a failed or timed-out step ends the push.
 * Outside the commit callback (publish_pending(), publish_status) replies
 * are awaited with WaitLatchOrSocket, so query cancel acts at once; in the
 * callback interrupts are held anyway and the timeouts are the bound.
 * Host names are resolved by getaddrinfo(), which no timeout bounds: use
 * an address or a name the resolver answers locally.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <sys/time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "redis.h"

/* settings */
static char *redis_url = NULL;
static int	redis_connect_timeout = 1000;	/* ms */
static int	redis_command_timeout = 1000;	/* ms */
static char *redis_prefix = NULL;
static int	redis_ttl = 7 * 24 * 3600;	/* s; 0 = no expiry */

/* members per ZADD / HSET of the temporary keys, and commands per pipeline */
#define REDIS_CHUNK 1000

/* temporary keys expire if a push dies between writing and swapping them */
#define REDIS_TMP_TTL "3600"

/*
 * Where to connect, parsed from pglearn.redis_url.  "where" (host:port or
 * the socket path) is what messages name; the password never leaves here.
 */
typedef struct RedisTarget
{
	bool		unix_socket;
	char		host[256];
	int			port;
	char		path[MAXPGPATH];
	char		user[128];		/* ACL user; '' = AUTH with the password only */
	char		password[256];	/* '' = no AUTH */
	int			db;
	char		where[MAXPGPATH + 16];
} RedisTarget;

/* one Redis command as hiredis's argv interface wants it */
typedef struct RedisCommand
{
	int			argc;
	const char **argv;
	size_t	   *argvlen;
} RedisCommand;

/* a growable array of commands (palloc'd) */
typedef struct CommandList
{
	RedisCommand *commands;
	int			n;
	int			size;
} CommandList;

/*
 * One publication of one list, ready to send: every byte the push needs
 * is here, so sending allocates nothing from PostgreSQL.
 */
typedef struct ListPublication
{
	struct ListPublication *next;
	SubTransactionId subid;		/* subtransaction that queued it */
	char	   *list;
	int64		version;
	int			nmembers;
	RedisTarget target;
	int			connect_timeout;
	int			command_timeout;
	CommandList data;			/* example hashes, temporary zset and id hash */
	RedisCommand swap;			/* EVAL that installs the new list */
} ListPublication;

/* this transaction's queued publications, in queue order */
static ListPublication *pending = NULL;
static MemoryContext pending_context = NULL;
static bool callbacks_registered = false;

/*
 * Outside the commit callback (publish_pending(), publish_status) replies
 * are awaited on the latch, so query cancel and statement_timeout work
 * while Redis is slow; the connection in use is freed if that ERRORs.
 */
static bool redis_interruptible = false;
static redisContext *open_context = NULL;

/*
 * Installs the temporary zset and id hash as the list if this version is
 * newer than the one Redis holds, else drops them.  An empty publication
 * (no temporary keys) deletes the list.  RENAME keeps the source's TTL, so
 * PERSIST the result.  Returns 1 if installed, 0 if superseded.
 *	 KEYS: tmp zset, tmp ids, list, list ids, version;  ARGV: version
 */
static const char swap_script[] =
"local v = tonumber(redis.call('GET', KEYS[5]))\n"
"if v and v >= tonumber(ARGV[1]) then\n"
"  redis.call('DEL', KEYS[1], KEYS[2])\n"
"  return 0\n"
"end\n"
"if redis.call('EXISTS', KEYS[1]) == 1 then\n"
"  redis.call('RENAME', KEYS[1], KEYS[3])\n"
"  redis.call('PERSIST', KEYS[3])\n"
"  redis.call('RENAME', KEYS[2], KEYS[4])\n"
"  redis.call('PERSIST', KEYS[4])\n"
"else\n"
"  redis.call('DEL', KEYS[3], KEYS[4])\n"
"end\n"
"redis.call('SET', KEYS[5], ARGV[1])\n"
"return 1\n";

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
PG_FUNCTION_INFO_V1(pglearn_redis_queue);
PG_FUNCTION_INFO_V1(pglearn_redis_push);
PG_FUNCTION_INFO_V1(pglearn_redis_versions);
PG_FUNCTION_INFO_V1(pglearn_redis_published);


/* ---------------------------------------------------------------- URL */

static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s[0..len) into out; false if malformed or too long. */
static bool
decode_component(const char *s, size_t len, char *out, size_t outsize)
{
	size_t		o = 0;

	for (size_t i = 0; i < len; i++)
	{
		int			c = (unsigned char) s[i];

		if (c == '%')
		{
			int			hi,
						lo;

			if (i + 2 >= len)
				return false;
			hi = hex_value((unsigned char) s[i + 1]);
			lo = hex_value((unsigned char) s[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			c = hi * 16 + lo;
			i += 2;
		}
		if (o + 1 >= outsize)
			return false;
		out[o++] = (char) c;
	}
	out[o] = '\0';
	return true;
}

/* Parses a non-negative decimal of at most max; false if it is not one. */
static bool
parse_number(const char *s, size_t len, long max, long *value)
{
	long		v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
		if (v > max)
			return false;
	}
	*value = v;
	return true;
}

/*
 * Parses a Redis URL into *t:
 *	 redis://[[user]:password@]host[:port][/db]	(host may be [IPv6])
 *	 unix:///path/to/socket[?db=N]  or  /path/to/socket[?db=N]
 * user and password may be percent-encoded.  Returns NULL on success, else
 * a sentence for errdetail that never quotes the URL (it may hold a
 * password).  Allocates nothing.
 */
static const char *
redis_parse_url(const char *url, RedisTarget *t)
{
	const char *rest;
	const char *at;
	const char *host;
	const char *p;
	long		number;

	memset(t, 0, sizeof(*t));
	t->port = 6379;

	if (url == NULL || url[0] == '\0')
		return "pglearn.redis_url is not set.";

	if (strncmp(url, "unix://", 7) == 0 || url[0] == '/')
	{
		const char *path = url[0] == '/' ? url : url + 7;
		const char *query = strchr(path, '?');
		size_t		len = query ? (size_t) (query - path) : strlen(path);

		if (path[0] != '/')
			return "A unix socket path must be absolute, as in unix:///run/redis/redis.sock.";
		if (len >= sizeof(t->path))
			return "The unix socket path is too long.";
		memcpy(t->path, path, len);
		t->path[len] = '\0';
		if (query != NULL)
		{
			if (strncmp(query, "?db=", 4) != 0 ||
				!parse_number(query + 4, strlen(query + 4), INT_MAX, &number))
				return "The only query a socket URL takes is ?db=N.";
			t->db = (int) number;
		}
		t->unix_socket = true;
		snprintf(t->where, sizeof(t->where), "%s", t->path);
		return NULL;
	}

	if (strncmp(url, "redis://", 8) != 0)
		return "Use redis://[[user]:password@]host[:port][/db], unix:///path/to/socket or an absolute socket path.";
	rest = url + 8;

	/* user information ends at the last '@' (a password may contain '@') */
	at = strrchr(rest, '@');
	if (at != NULL)
	{
		const char *colon = memchr(rest, ':', at - rest);

		if (colon == NULL)
			return "The part before '@' must be :password or user:password.";
		if (!decode_component(rest, colon - rest, t->user, sizeof(t->user)) ||
			!decode_component(colon + 1, at - colon - 1, t->password, sizeof(t->password)))
			return "The user name or password is too long or has a malformed %-escape.";
		host = at + 1;
	}
	else
		host = rest;

	if (host[0] == '[')
	{
		const char *close = strchr(host, ']');

		if (close == NULL || close - host - 1 <= 0 || (size_t) (close - host - 1) >= sizeof(t->host))
			return "An IPv6 host must be written [address].";
		memcpy(t->host, host + 1, close - host - 1);
		p = close + 1;
	}
	else
	{
		size_t		len = strcspn(host, ":/");

		if (len == 0)
			return "The URL names no host.";
		if (len >= sizeof(t->host))
			return "The host name is too long.";
		memcpy(t->host, host, len);
		p = host + len;
	}

	if (*p == ':')
	{
		size_t		len = strcspn(p + 1, "/");

		if (!parse_number(p + 1, len, 65535, &number) || number == 0)
			return "The port must be a number from 1 to 65535.";
		t->port = (int) number;
		p += 1 + len;
	}
	if (*p == '/')
	{
		p++;
		if (*p != '\0')
		{
			if (!parse_number(p, strlen(p), INT_MAX, &number))
				return "The path of the URL must be a database number.";
			t->db = (int) number;
		}
	}
	else if (*p != '\0')
		return "Unexpected text after the host.";

	snprintf(t->where, sizeof(t->where), strchr(t->host, ':') ? "[%s]:%d" : "%s:%d",
			 t->host, t->port);
	return NULL;
}

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

/* The configured target, or an ERROR if there is none. */
static void
current_target(RedisTarget *t)
{
	const char *problem;

	if (redis_url == NULL || redis_url[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pglearn.redis_url is not set"),
				 errdetail("pglearn.publish() needs a Redis server to publish to."),
				 errhint("A superuser sets it, e.g. ALTER SYSTEM SET pglearn.redis_url = 'redis://127.0.0.1:6379/0'; then SELECT pg_reload_conf().")));
	problem = redis_parse_url(redis_url, t);
	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for parameter \"pglearn.redis_url\""),
				 errdetail("%s", problem)));
}


/* ----------------------------------------------------- talking to Redis */

static struct timeval
ms_to_timeval(int ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}

/*
 * Describes a failed context in err: hiredis says "Resource temporarily
 * unavailable" for a read or write that hit the socket timeout.
 */
static void
describe_context_error(const redisContext *c, int timeout_ms, const char *what,
					   char *err, size_t errlen)
{
	if (strstr(c->errstr, "temporarily unavailable") != NULL ||
		strstr(c->errstr, "timed out") != NULL)
		snprintf(err, errlen, "%s timed out after %d ms", what, timeout_ms);
	else
		snprintf(err, errlen, "%s failed: %s", what, c->errstr[0] ? c->errstr : "connection lost");
}

/*
 * Reads the next reply, at most timeout_ms per wait.  In the commit
 * callback this is hiredis's blocking read (bounded by the socket
 * timeouts); elsewhere it waits on the latch and the socket together and
 * serves interrupts, which may ERROR.  Returns REDIS_OK with *reply set,
 * or REDIS_ERR with c->err set.
 */
static int
redis_get_reply(redisContext *c, void **reply, int timeout_ms)
{
	int			done = 0;

	if (!redis_interruptible)
		return redisGetReply(c, reply);

	*reply = NULL;
	do
	{
		if (redisBufferWrite(c, &done) == REDIS_ERR)
			return REDIS_ERR;
	} while (!done);

	for (;;)
	{
		TimestampTz start;
		long		remaining = timeout_ms;

		if (redisGetReplyFromReader(c, reply) == REDIS_ERR)
			return REDIS_ERR;
		if (*reply != NULL)
			return REDIS_OK;

		start = GetCurrentTimestamp();
		for (;;)
		{
			int			rc;

			rc = WaitLatchOrSocket(MyLatch,
								   WL_LATCH_SET | WL_SOCKET_READABLE | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								   c->fd, remaining, PG_WAIT_EXTENSION);
			if (rc & WL_LATCH_SET)
			{
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
			}
			if (rc & WL_SOCKET_READABLE)
				break;
			remaining = timeout_ms - (long) TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
			if (remaining <= 0)
			{
				c->err = REDIS_ERR_IO;
				snprintf(c->errstr, sizeof(c->errstr), "timed out");
				return REDIS_ERR;
			}
		}
		if (redisBufferRead(c) == REDIS_ERR)
			return REDIS_ERR;
	}
}

/*
 * Runs one command synchronously; true if Redis answered and not with an
 * error.  *reply_out (optional) receives the reply, which the caller frees.
 */
static bool
redis_command(redisContext *c, int argc, const char **argv, const size_t *argvlen,
			  int timeout_ms, const char *what, redisReply **reply_out,
			  char *err, size_t errlen)
{
	void	   *r = NULL;
	redisReply *reply;

	if (redisAppendCommandArgv(c, argc, argv, argvlen) != REDIS_OK ||
		redis_get_reply(c, &r, timeout_ms) != REDIS_OK)
		r = NULL;
	reply = (redisReply *) r;
	if (reply == NULL)
	{
		describe_context_error(c, timeout_ms, what, err, errlen);
		return false;
	}
	if (reply->type == REDIS_REPLY_ERROR)
	{
		snprintf(err, errlen, "%s failed: %s", what, reply->str ? reply->str : "error");
		freeReplyObject(reply);
		return false;
	}
	if (reply_out)
		*reply_out = reply;
	else
		freeReplyObject(reply);
	return true;
}

static void
redis_close(redisContext *c)
{
	if (c == open_context)
		open_context = NULL;
	redisFree(c);
}

/*
 * Connects, sets the command timeout, authenticates and selects the
 * database.  Returns the context, or NULL with err filled in.  Error-free
 * in PostgreSQL's sense: usable from the commit callback.
 */
static redisContext *
redis_open(const RedisTarget *t, int connect_ms, int command_ms, char *err, size_t errlen)
{
	redisContext *c;

	if (t->unix_socket)
		c = redisConnectUnixWithTimeout(t->path, ms_to_timeval(connect_ms));
	else
		c = redisConnectWithTimeout(t->host, t->port, ms_to_timeval(connect_ms));
	if (c == NULL)
	{
		snprintf(err, errlen, "out of memory for a connection");
		return NULL;
	}
	open_context = c;
	if (c->err)
	{
		describe_context_error(c, connect_ms, "connect", err, errlen);
		redis_close(c);
		return NULL;
	}
	if (redisSetTimeout(c, ms_to_timeval(command_ms)) != REDIS_OK)
	{
		describe_context_error(c, command_ms, "setting the timeout", err, errlen);
		redis_close(c);
		return NULL;
	}
	if (t->password[0] != '\0')
	{
		const char *argv[3];
		size_t		argvlen[3];
		int			argc = 0;

		argv[argc] = "AUTH";
		argvlen[argc++] = 4;
		if (t->user[0] != '\0')
		{
			argv[argc] = t->user;
			argvlen[argc++] = strlen(t->user);
		}
		argv[argc] = t->password;
		argvlen[argc++] = strlen(t->password);
		if (!redis_command(c, argc, argv, argvlen, command_ms, "AUTH", NULL, err, errlen))
		{
			redis_close(c);
			return NULL;
		}
	}
	if (t->db != 0)
	{
		char		db[16];
		const char *argv[2];
		size_t		argvlen[2];

		snprintf(db, sizeof(db), "%d", t->db);
		argv[0] = "SELECT";
		argvlen[0] = 6;
		argv[1] = db;
		argvlen[1] = strlen(db);
		if (!redis_command(c, 2, argv, argvlen, command_ms, "SELECT", NULL, err, errlen))
		{
			redis_close(c);
			return NULL;
		}
	}
	return c;
}

/*
 * Sends commands pipelined, REDIS_CHUNK at a time, and reads every reply.
 * False, with the first problem in err, if the connection failed or any
 * command answered an error.
 */
static bool
redis_pipeline(redisContext *c, const CommandList *cl, int timeout_ms, char *err, size_t errlen)
{
	bool		ok = true;

	for (int start = 0; start < cl->n; start += REDIS_CHUNK)
	{
		int			end = Min(cl->n, start + REDIS_CHUNK);

		for (int i = start; i < end; i++)
		{
			const RedisCommand *cmd = &cl->commands[i];

			if (redisAppendCommandArgv(c, cmd->argc, cmd->argv, cmd->argvlen) != REDIS_OK)
			{
				describe_context_error(c, timeout_ms, "write", err, errlen);
				return false;
			}
		}
		for (int i = start; i < end; i++)
		{
			void	   *r = NULL;
			redisReply *reply;

			if (redis_get_reply(c, &r, timeout_ms) != REDIS_OK || r == NULL)
			{
				describe_context_error(c, timeout_ms, cl->commands[i].argv[0], err, errlen);
				return false;
			}
			reply = (redisReply *) r;
			if (reply->type == REDIS_REPLY_ERROR && ok)
			{
				snprintf(err, errlen, "%s failed: %s", cl->commands[i].argv[0],
						 reply->str ? reply->str : "error");
				ok = false;
			}
			freeReplyObject(reply);
		}
		if (!ok)
			return false;
	}
	return true;
}

/*
 * Pushes one publication: connect, write the example hashes and the
 * temporary keys, then swap them in with the Lua script.  Returns true on
 * success (*installed false if Redis already held a newer version), else
 * false with err filled in.  Error-free in PostgreSQL's sense.
 */
static bool
redis_push_publication(const ListPublication *pub, bool *installed, char *err, size_t errlen)
{
	redisContext *c;
	redisReply *reply = NULL;
	bool		ok;

	*installed = false;
	c = redis_open(&pub->target, pub->connect_timeout, pub->command_timeout, err, errlen);
	if (c == NULL)
		return false;
	ok = redis_pipeline(c, &pub->data, pub->command_timeout, err, errlen);
	if (ok)
		ok = redis_command(c, pub->swap.argc, pub->swap.argv, pub->swap.argvlen,
						   pub->command_timeout, "EVAL", &reply, err, errlen);
	if (ok)
	{
		*installed = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
		freeReplyObject(reply);
	}
	redis_close(c);
	return ok;
}


/*
 * Runs one command on a connection of its own, waiting on the latch so
 * query cancel and statement_timeout act at once.  Returns the reply (the
 * caller frees it), or NULL with err filled in; an ERROR only for an
 * interrupt, after closing the connection.  Not for the commit callback.
 */
static redisReply *
redis_query(const RedisTarget *t, int argc, const char **argv, const size_t *argvlen,
			const char *what, char *err, size_t errlen)
{
	redisReply *volatile reply = NULL;

	err[0] = '\0';
	redis_interruptible = true;
	PG_TRY();
	{
		redisContext *c;
		redisReply *r = NULL;

		c = redis_open(t, redis_connect_timeout, redis_command_timeout, err, errlen);
		if (c != NULL &&
			redis_command(c, argc, argv, argvlen, redis_command_timeout, what, &r, err, errlen))
			reply = r;
		if (c != NULL)
			redis_close(c);
	}
	PG_CATCH();
	{
		redis_interruptible = false;
		if (open_context != NULL)
			redis_close(open_context);
		PG_RE_THROW();
	}
	PG_END_TRY();
	redis_interruptible = false;
	return reply;
}


/* ------------------------------------------------ building publications */

static RedisCommand *
add_command(CommandList *cl, int argc)
{
	RedisCommand *cmd;

	if (cl->n == cl->size)
	{
		cl->size = cl->size == 0 ? 64 : cl->size * 2;
		cl->commands = cl->commands == NULL
			? palloc(cl->size * sizeof(RedisCommand))
			: repalloc(cl->commands, cl->size * sizeof(RedisCommand));
	}
	cmd = &cl->commands[cl->n++];
	cmd->argc = argc;
	cmd->argv = palloc(argc * sizeof(char *));
	cmd->argvlen = palloc(argc * sizeof(size_t));
	return cmd;
}

static void
set_arg(RedisCommand *cmd, int i, const char *value)
{
	Assert(i < cmd->argc);
	cmd->argv[i] = value;
	cmd->argvlen[i] = strlen(value);
}

/* appends a command of three arguments, e.g. EXPIRE key seconds */
static void
add_command3(CommandList *cl, const char *arg0, const char *arg1, const char *arg2)
{
	RedisCommand *cmd = add_command(cl, 3);

	set_arg(cmd, 0, arg0);
	set_arg(cmd, 1, arg1);
	set_arg(cmd, 2, arg2);
}

/* SPI_getvalue of a column, '' for NULL */
static char *
column_text(HeapTuple tuple, TupleDesc desc, int column)
{
	char	   *value = SPI_getvalue(tuple, desc, column);

	return value ? value : "";
}

/*
 * Builds the publication of a list from its row in pglearn.publications,
 * at the given version or (version < 0) the current one, with the current
 * settings.  Allocates everything in CurrentMemoryContext; errors if the
 * row is missing.
 */
static ListPublication *
build_publication(const char *list, int64 version)
{
	MemoryContext target_context = CurrentMemoryContext;
	ListPublication *pub;
	Oid			argtypes[2] = {TEXTOID, INT8OID};
	Datum		values[2];
	SPITupleTable *tuptable;
	char	   *prefix;
	char	   *tmp_key;
	char	   *tmp_ids_key;
	char	   *ttl;
	int			ret;
	bool		isnull;

	pub = palloc0(sizeof(ListPublication));
	current_target(&pub->target);
	pub->list = pstrdup(list);
	pub->connect_timeout = redis_connect_timeout;
	pub->command_timeout = redis_command_timeout;
	prefix = pstrdup(redis_prefix ? redis_prefix : "");
	ttl = psprintf("%d", redis_ttl);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	values[0] = CStringGetTextDatum(list);
	values[1] = Int64GetDatum(version);
	ret = SPI_execute_with_args(version < 0
								? "SELECT version FROM pglearn.publications WHERE list = $1"
								: "SELECT version FROM pglearn.publications WHERE list = $1 AND version = $2",
								version < 0 ? 1 : 2, argtypes, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading pglearn.publications failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no publication of list \"%s\" is recorded", list),
				 errhint("pglearn.publish() records one.")));
	pub->version = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	values[1] = Int64GetDatum(pub->version);

	ret = SPI_execute_with_args("SELECT m->>'id', m->>'url', m->>'final_url', m->>'title', m->>'description',"
								"       m->>'og_image', m->>'score', m->>'label'"
								"  FROM pglearn.publications p"
								" CROSS JOIN LATERAL jsonb_array_elements(p.members) WITH ORDINALITY AS x(m, n)"
								" WHERE p.list = $1 AND p.version = $2"
								" ORDER BY x.n",
								2, argtypes, values, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading pglearn.publications failed: %s", SPI_result_code_string(ret));
	tuptable = SPI_tuptable;

	/* everything the push reads goes into the caller's context */
	MemoryContextSwitchTo(target_context);
	pub->nmembers = (int) SPI_processed;
	tmp_key = psprintf("%slist:%s:tmp:%lld:%d", prefix, list, (long long) pub->version, MyProcPid);
	tmp_ids_key = psprintf("%slist:%s:ids:tmp:%lld:%d", prefix, list, (long long) pub->version, MyProcPid);

	{
		static const char *const fields[] = {"id", "url", "final_url", "title", "description",
		"og_image", "score", "label"};
		char	  **ids = palloc(Max(pub->nmembers, 1) * sizeof(char *));
		char	  **urls = palloc(Max(pub->nmembers, 1) * sizeof(char *));
		char	  **scores = palloc(Max(pub->nmembers, 1) * sizeof(char *));
		RedisCommand *cmd;

		for (int i = 0; i < pub->nmembers; i++)
		{
			HeapTuple	tuple = tuptable->vals[i];
			char	   *key;

			CHECK_FOR_INTERRUPTS();
			ids[i] = column_text(tuple, tuptable->tupdesc, 1);
			urls[i] = column_text(tuple, tuptable->tupdesc, 2);
			scores[i] = column_text(tuple, tuptable->tupdesc, 7);
			key = psprintf("%sexample:%s", prefix, ids[i]);
			cmd = add_command(&pub->data, 2 + 2 * lengthof(fields));
			set_arg(cmd, 0, "HSET");
			set_arg(cmd, 1, key);
			for (int f = 0; f < (int) lengthof(fields); f++)
			{
				set_arg(cmd, 2 + 2 * f, fields[f]);
				set_arg(cmd, 3 + 2 * f, column_text(tuple, tuptable->tupdesc, f + 1));
			}
			if (redis_ttl > 0)
				add_command3(&pub->data, "EXPIRE", key, ttl);
		}

		/* leftovers of an earlier attempt by a backend with the same pid */
		add_command3(&pub->data, "DEL", tmp_key, tmp_ids_key);

		for (int start = 0; start < pub->nmembers; start += REDIS_CHUNK)
		{
			int			n = Min(REDIS_CHUNK, pub->nmembers - start);
			RedisCommand *zadd = add_command(&pub->data, 2 + 2 * n);
			RedisCommand *hset = add_command(&pub->data, 2 + 2 * n);

			set_arg(zadd, 0, "ZADD");
			set_arg(zadd, 1, tmp_key);
			set_arg(hset, 0, "HSET");
			set_arg(hset, 1, tmp_ids_key);
			for (int i = 0; i < n; i++)
			{
				set_arg(zadd, 2 + 2 * i, scores[start + i]);
				set_arg(zadd, 3 + 2 * i, urls[start + i]);
				set_arg(hset, 2 + 2 * i, urls[start + i]);
				set_arg(hset, 3 + 2 * i, ids[start + i]);
			}
		}
		if (pub->nmembers > 0)
		{
			add_command3(&pub->data, "EXPIRE", tmp_key, REDIS_TMP_TTL);
			add_command3(&pub->data, "EXPIRE", tmp_ids_key, REDIS_TMP_TTL);
		}
	}

	/* EVAL script 5 tmp tmp_ids list list_ids version_key version */
	pub->swap.argc = 9;
	pub->swap.argv = palloc(9 * sizeof(char *));
	pub->swap.argvlen = palloc(9 * sizeof(size_t));
	set_arg(&pub->swap, 0, "EVAL");
	set_arg(&pub->swap, 1, swap_script);
	set_arg(&pub->swap, 2, "5");
	set_arg(&pub->swap, 3, tmp_key);
	set_arg(&pub->swap, 4, tmp_ids_key);
	set_arg(&pub->swap, 5, psprintf("%slist:%s", prefix, list));
	set_arg(&pub->swap, 6, psprintf("%slist:%s:ids", prefix, list));
	set_arg(&pub->swap, 7, psprintf("%sversion:%s", prefix, list));
	set_arg(&pub->swap, 8, psprintf("%lld", (long long) pub->version));

	SPI_finish();
	return pub;
}


/* ------------------------------------------------ transaction callbacks */

/* true if a later publication of the same list is queued after pub */
static bool
superseded_in_transaction(const ListPublication *pub)
{
	for (const ListPublication *later = pub->next; later != NULL; later = later->next)
		if (strcmp(later->list, pub->list) == 0)
			return true;
	return false;
}

/*
 * Pushes this transaction's publications after commit.  Must not ERROR:
 * only hiredis calls on preformatted data, failures become WARNINGs.
 */
static void
push_pending(void)
{
	char		err[256];

	for (const ListPublication *pub = pending; pub != NULL; pub = pub->next)
	{
		bool		installed;

		if (superseded_in_transaction(pub))
			continue;
		err[0] = '\0';
		if (!redis_push_publication(pub, &installed, err, sizeof(err)))
			ereport(WARNING,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not publish list \"%s\" to Redis at %s: %s",
							pub->list, pub->target.where, err),
					 errdetail("The transaction committed; version %lld of the list is recorded in pglearn.publications.",
							   (long long) pub->version),
					 errhint("SELECT pglearn.publish_pending() publishes it once Redis answers.")));
	}
}

static void
redis_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_PREPARE:
			if (pending != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot prepare a transaction with pending Redis publications"),
						 errdetail("pglearn.publish() writes to Redis when its transaction commits, and COMMIT PREPARED runs no extension code."),
						 errhint("Call pglearn.publish() in a transaction that is committed directly.")));
			break;
		case XACT_EVENT_COMMIT:
			if (pending != NULL)
				push_pending();
			pending = NULL;
			pending_context = NULL; /* deleted with TopTransactionContext */
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			pending = NULL;
			pending_context = NULL;
			break;
		default:
			break;
	}
}

/*
 * ROLLBACK TO SAVEPOINT drops what the subtransaction queued (and what its
 * committed children passed up to it); RELEASE passes it to the parent.
 */
static void
redis_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	ListPublication **link;
	ListPublication *pub;

	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		link = &pending;
		while ((pub = *link) != NULL)
		{
			if (pub->subid == mySubid)
				*link = pub->next;	/* freed with the transaction */
			else
				link = &pub->next;
		}
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (pub = pending; pub != NULL; pub = pub->next)
			if (pub->subid == mySubid)
				pub->subid = parentSubid;
	}
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

	current_target(&t);
	explicit_bzero(&t, sizeof(t));
	PG_RETURN_VOID();
}

/*
 * _redis_queue(list text, version int8) -> int4: queues the publication
 * recorded in pglearn.publications for (list, version) for the end of the
 * transaction; returns its number of members.
 */
Datum
pglearn_redis_queue(PG_FUNCTION_ARGS)
{
	char	   *list = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int64		version = PG_GETARG_INT64(1);
	MemoryContext old;
	ListPublication *pub;
	ListPublication **link;

	if (IsInParallelMode())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("cannot publish to Redis during a parallel operation")));
	if (!callbacks_registered)
	{
		RegisterXactCallback(redis_xact_callback, NULL);
		RegisterSubXactCallback(redis_subxact_callback, NULL);
		callbacks_registered = true;
	}
	if (pending_context == NULL)
		pending_context = AllocSetContextCreate(TopTransactionContext,
												"pglearn Redis publications",
												ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(pending_context);
	pub = build_publication(list, version);
	MemoryContextSwitchTo(old);
	pub->subid = GetCurrentSubTransactionId();

	for (link = &pending; *link != NULL; link = &(*link)->next)
		;
	*link = pub;
	PG_RETURN_INT32(pub->nmembers);
}

/*
 * _redis_push(list text) -> text: pushes the list's current publication
 * now, synchronously.  Returns NULL on success (also when Redis already
 * held a newer version), else the problem (naming host:port, never the
 * password).  For publish_pending().
 */
Datum
pglearn_redis_push(PG_FUNCTION_ARGS)
{
	char	   *list = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ListPublication *pub = build_publication(list, -1);
	char		err[256];
	bool		installed;
	bool		ok;

	err[0] = '\0';
	redis_interruptible = true;
	PG_TRY();
	{
		ok = redis_push_publication(pub, &installed, err, sizeof(err));
	}
	PG_CATCH();
	{
		/* query cancel while waiting for Redis: drop the connection */
		redis_interruptible = false;
		if (open_context != NULL)
			redis_close(open_context);
		PG_RE_THROW();
	}
	PG_END_TRY();
	redis_interruptible = false;
	if (ok)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s: %s", pub->target.where, err)));
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
	const char *problem = NULL;
	char		err[256];
	char	   *message = NULL;
	redisReply *reply = NULL;

	InitMaterializedSRF(fcinfo, 0);
	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elements, &nulls, &n);

	if (redis_url == NULL || redis_url[0] == '\0')
		message = pstrdup("pglearn.redis_url is not set");
	else if ((problem = redis_parse_url(redis_url, &t)) != NULL)
		message = psprintf("pglearn.redis_url is invalid: %s", problem);
	else if (n > 0)
	{
		const char **argv = palloc((n + 1) * sizeof(char *));
		size_t	   *argvlen = palloc((n + 1) * sizeof(size_t));
		int			argc = 1;

		argv[0] = "MGET";
		argvlen[0] = 4;
		for (int i = 0; i < n; i++)
		{
			char	   *key = psprintf("%sversion:%s", redis_prefix ? redis_prefix : "",
									   nulls[i] ? "" : TextDatumGetCString(elements[i]));

			argv[argc] = key;
			argvlen[argc++] = strlen(key);
		}
		reply = redis_query(&t, argc, argv, argvlen, "MGET", err, sizeof(err));
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
	const char *prefix = redis_prefix ? redis_prefix : "";
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

	current_target(&t);
	InitMaterializedSRF(fcinfo, 0);

	argv[0] = "EVAL";
	argv[1] = read_script;
	argv[2] = "3";
	argv[3] = psprintf("%sversion:%s", prefix, list);
	argv[4] = psprintf("%slist:%s", prefix, list);
	argv[5] = psprintf("%slist:%s:ids", prefix, list);
	for (int i = 0; i < 6; i++)
		argvlen[i] = strlen(argv[i]);
	reply = redis_query(&t, 6, argv, argvlen, "EVAL", err, sizeof(err));
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


/* ------------------------------------------------------------ settings */

void
pglearn_redis_init(void)
{
	DefineCustomStringVariable("pglearn.redis_url",
							   "Redis server that pglearn.publish() writes to.",
							   "redis://[[user]:password@]host[:port][/db], unix:///path/to/socket[?db=N] or an absolute socket path; empty = no Redis.",
							   &redis_url,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY,
							   check_redis_url, NULL, NULL);
	DefineCustomIntVariable("pglearn.redis_connect_timeout",
							"Longest wait for a connection to Redis.",
							NULL,
							&redis_connect_timeout,
							1000, 1, 3600 * 1000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pglearn.redis_command_timeout",
							"Longest wait for Redis to accept or answer one command.",
							NULL,
							&redis_command_timeout,
							1000, 1, 3600 * 1000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomStringVariable("pglearn.redis_prefix",
							   "Prefix of every Redis key pglearn writes.",
							   NULL,
							   &redis_prefix,
							   "pglearn:",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("pglearn.redis_ttl",
							"Time to live of the per-article Redis hashes; 0 = no expiry.",
							NULL,
							&redis_ttl,
							7 * 24 * 3600, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
}
