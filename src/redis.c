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
 * published() reads a list back as the front end sees it, and
 * redis_status() checks the connection for monitoring.
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
 * Time: sockets are non-blocking and every wait is pglearn's own, against
 * an absolute deadline: connecting (TCP or unix socket) must be done within
 * pglearn.redis_connect_timeout, and each exchange -- one command, or one
 * pipelined batch of up to REDIS_CHUNK commands, from its first byte sent
 * to its last reply read -- within pglearn.redis_command_timeout, so a
 * server that answers slowly byte by byte cannot stretch a wait.  A push
 * therefore takes at most connect_timeout + (exchanges) x command_timeout,
 * and once one push of a commit finds Redis unreachable, the commit does
 * not try that Redis again for its other lists.  Both timeouts are
 * superuser settings of at most REDIS_MAX_TIMEOUT_MS: the commit callback
 * holds the row locks of the lists it pushes, and its session, for as long
 * as Redis makes it wait.
 *
 * Interrupts: outside the commit callback (publish_pending(),
 * publish_status, published(), redis_status()) waits are on the latch and
 * the socket together and serve interrupts, so query cancel acts at once.
 * In the commit callback PostgreSQL holds interrupts and nothing may
 * ERROR, so the wait polls the socket in short slices and looks at the
 * flags the signal handlers set: a pending terminate or cancel ends the
 * wait at once, the rest of the publications stay pending for
 * publish_pending() (each with a WARNING), and PostgreSQL serves the
 * interrupt when the commit is done.
 *
 * Host names are resolved by getaddrinfo(), which no timeout bounds and no
 * signal interrupts: use an address or a name the resolver answers
 * locally.
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
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"
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
static char *redis_password_file = NULL;
static int	redis_connect_timeout = 1000;	/* ms */
static int	redis_command_timeout = 1000;	/* ms */
static char *redis_prefix = NULL;
static int	redis_ttl = 7 * 24 * 3600;	/* s; 0 = no expiry */

/* members per ZADD / HSET of the temporary keys, and commands per pipeline */
#define REDIS_CHUNK 1000

/* temporary keys expire if a push dies between writing and swapping them */
#define REDIS_TMP_TTL "3600"

/*
 * Largest pglearn.redis_connect_timeout and pglearn.redis_command_timeout.
 * A commit waits for Redis with its row locks held and its client waiting;
 * a Redis that has not answered a command in a minute is down, not slow.
 */
#define REDIS_MAX_TIMEOUT_MS (60 * 1000)

/*
 * The longest one poll() of the commit callback sleeps before it looks at
 * the interrupt flags again.  The signal that sets them also cuts poll()
 * short; this bounds only the race of a signal arriving between the look
 * and the poll().
 */
#define REDIS_POLL_SLICE_MS 100

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
	char		password[256];	/* from the URL or the password file; '' =
								 * no AUTH */
	int			db;
	char		where[MAXPGPATH + 16];
} RedisTarget;

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
 * How one step of talking to Redis ended.  Only interruptible waits (the
 * SQL functions) can also end in an ERROR, for a cancel or terminate.
 */
typedef enum RedisIo
{
	REDIS_IO_OK,
	REDIS_IO_FAILED,			/* connection or I/O failure: c->errstr */
	REDIS_IO_TIMEOUT,			/* the deadline passed */
	REDIS_IO_INTERRUPTED,		/* commit callback: cancel or terminate
								 * pending */
	REDIS_IO_REPLY_ERROR		/* Redis answered, with an error */
} RedisIo;

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
 * Outside the commit callback (publish_pending(), publish_status,
 * published(), redis_status()) waits are on the latch, so query cancel and
 * statement_timeout work while Redis is slow; the connection in use is
 * freed if that ERRORs.  False, the default, is the commit callback's
 * error-free waiting.
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
PG_FUNCTION_INFO_V1(pglearn_redis_status);


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
 *	 redis://[[user][:password]@]host[:port][/db]	(host may be [IPv6])
 *	 unix:///path/to/socket[?db=N]  or  /path/to/socket[?db=N]
 * user and password may be percent-encoded; "user@" names the ACL user of a
 * password that pglearn.redis_password_file holds.  Returns NULL on success, else
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
		return "Use redis://[[user][:password]@]host[:port][/db], unix:///path/to/socket or an absolute socket path.";
	rest = url + 8;

	/* user information ends at the last '@' (a password may contain '@') */
	at = strrchr(rest, '@');
	if (at != NULL)
	{
		const char *colon = memchr(rest, ':', at - rest);
		const char *user_end = colon != NULL ? colon : at;

		if (!decode_component(rest, user_end - rest, t->user, sizeof(t->user)) ||
			(colon != NULL &&
			 !decode_component(colon + 1, at - colon - 1, t->password, sizeof(t->password))))
			return "The user name or password is too long or has a malformed %-escape.";
		if (colon == NULL && t->user[0] == '\0')
			return "The part before '@' must be user, :password or user:password.";
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
	if (redis_url == NULL || redis_url[0] == '\0')
	{
		set_problem(p, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
					"pglearn.publish() needs a Redis server to publish to.",
					"A superuser sets it, e.g. ALTER SYSTEM SET pglearn.redis_url = 'redis://127.0.0.1:6379/0'; then SELECT pg_reload_conf().",
					"pglearn.redis_url is not set");
		return false;
	}
	problem = redis_parse_url(redis_url, t);
	if (problem != NULL)
	{
		set_problem(p, ERRCODE_INVALID_PARAMETER_VALUE, problem, NULL,
					"invalid value for parameter \"pglearn.redis_url\"");
		return false;
	}
	if (t->password[0] == '\0' &&
		redis_password_file != NULL && redis_password_file[0] != '\0' &&
		!read_password_file(redis_password_file, t, p))
	{
		explicit_bzero(t, sizeof(*t));
		return false;
	}
	return true;
}

/* The configured target, or an ERROR saying why there is none. */
static void
current_target(RedisTarget *t)
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


/* ----------------------------------------------------- talking to Redis */

static TimestampTz
deadline_after(int ms)
{
	return TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);
}

/* Why the commit callback stopped waiting, for its WARNING. */
static const char *
interrupt_reason(void)
{
	return ProcDiePending ? "the session is being terminated" : "the statement is being cancelled";
}

/*
 * Describes a step that did not end in REDIS_IO_OK (nor with an error
 * reply, which the caller quotes) in err.
 */
static void
describe_io(const redisContext *c, RedisIo io, int timeout_ms, const char *what,
			char *err, size_t errlen)
{
	if (io == REDIS_IO_TIMEOUT)
		snprintf(err, errlen, "%s timed out after %d ms", what, timeout_ms);
	else if (io == REDIS_IO_INTERRUPTED)
		snprintf(err, errlen, "%s interrupted: %s", what, interrupt_reason());
	else
		snprintf(err, errlen, "%s failed: %s", what,
				 c != NULL && c->errstr[0] ? c->errstr : "connection lost");
}

/*
 * Waits until c's socket is readable (or, for_write, writable), or until
 * deadline.
 *
 * Interruptible (the SQL functions): on the latch and the socket together;
 * interrupts are served by CHECK_FOR_INTERRUPTS, which may ERROR (callers
 * close the connection in PG_CATCH).
 *
 * Commit callback: CommitTransaction holds interrupts around the callbacks
 * and nothing may ERROR, so CHECK_FOR_INTERRUPTS would do nothing and the
 * latch machinery (which allocates and may ERROR) is not used.  Instead
 * plain poll() in slices of at most REDIS_POLL_SLICE_MS, looking between
 * slices at the flags the signal handlers set: a pending terminate
 * (pg_terminate_backend, shutdown) or cancel (pg_cancel_backend,
 * statement_timeout) returns REDIS_IO_INTERRUPTED, and PostgreSQL acts on
 * it once the commit is done.  The signal itself cuts poll() short (poll
 * is never restarted after a signal handler), so the reaction is at once,
 * the slice only covering a signal that arrives between the look at the
 * flags and the poll().  Allocates nothing, never ERRORs.
 */
static RedisIo
redis_wait(redisContext *c, bool for_write, TimestampTz deadline)
{
	for (;;)
	{
		long		remaining;

		if (!redis_interruptible && (ProcDiePending || QueryCancelPending))
			return REDIS_IO_INTERRUPTED;
		remaining = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
		if (remaining <= 0)
			return REDIS_IO_TIMEOUT;

		if (redis_interruptible)
		{
			int			rc;

			rc = WaitLatchOrSocket(MyLatch,
								   WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH |
								   (for_write ? WL_SOCKET_WRITEABLE : WL_SOCKET_READABLE),
								   c->fd, remaining, PG_WAIT_EXTENSION);
			if (rc & WL_LATCH_SET)
			{
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
			}
			if (rc & (WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE))
				return REDIS_IO_OK;
		}
		else
		{
			struct pollfd pfd;
			int			rc;

			pfd.fd = c->fd;
			pfd.events = for_write ? POLLOUT : POLLIN;
			pfd.revents = 0;
			pgstat_report_wait_start(PG_WAIT_EXTENSION);
			rc = poll(&pfd, 1, (int) Min(remaining, REDIS_POLL_SLICE_MS));
			pgstat_report_wait_end();
			/* POLLERR and POLLHUP too: the read or write then says what */
			if (rc > 0)
				return REDIS_IO_OK;
			if (rc < 0 && errno != EINTR)
			{
				c->err = REDIS_ERR_IO;
				snprintf(c->errstr, sizeof(c->errstr), "poll() failed: %m");
				return REDIS_IO_FAILED;
			}
		}
	}
}

/* Sends everything hiredis has buffered for c, by deadline. */
static RedisIo
redis_flush(redisContext *c, TimestampTz deadline)
{
	for (;;)
	{
		int			done = 0;
		RedisIo		io;

		if (redisBufferWrite(c, &done) == REDIS_ERR)
			return REDIS_IO_FAILED;
		if (done)
			return REDIS_IO_OK;
		if ((io = redis_wait(c, true, deadline)) != REDIS_IO_OK)
			return io;
	}
}

/*
 * Reads the next reply, by deadline; on REDIS_IO_OK *reply is set (the
 * caller frees it with freeReplyObject).
 */
static RedisIo
redis_read_reply(redisContext *c, redisReply **reply, TimestampTz deadline)
{
	*reply = NULL;
	for (;;)
	{
		void	   *r = NULL;
		RedisIo		io;

		if (redisGetReplyFromReader(c, &r) == REDIS_ERR)
			return REDIS_IO_FAILED;
		if (r != NULL)
		{
			*reply = (redisReply *) r;
			return REDIS_IO_OK;
		}
		if ((io = redis_wait(c, false, deadline)) != REDIS_IO_OK)
			return io;
		if (redisBufferRead(c) == REDIS_ERR)
			return REDIS_IO_FAILED;
	}
}

/*
 * Runs one command, sent and answered within timeout_ms.  REDIS_IO_OK if
 * Redis answered and not with an error; *reply_out (optional) receives the
 * reply, which the caller frees.  Otherwise err says what happened (an
 * error reply is quoted: it never holds the password).
 */
static RedisIo
redis_command(redisContext *c, int argc, const char **argv, const size_t *argvlen,
			  int timeout_ms, const char *what, redisReply **reply_out,
			  char *err, size_t errlen)
{
	TimestampTz deadline = deadline_after(timeout_ms);
	redisReply *reply = NULL;
	RedisIo		io;

	if (redisAppendCommandArgv(c, argc, argv, argvlen) != REDIS_OK)
		io = REDIS_IO_FAILED;
	else if ((io = redis_flush(c, deadline)) == REDIS_IO_OK)
		io = redis_read_reply(c, &reply, deadline);
	if (io != REDIS_IO_OK)
	{
		describe_io(c, io, timeout_ms, what, err, errlen);
		return io;
	}
	if (reply->type == REDIS_REPLY_ERROR)
	{
		snprintf(err, errlen, "%s failed: %s", what, reply->str ? reply->str : "error");
		freeReplyObject(reply);
		return REDIS_IO_REPLY_ERROR;
	}
	if (reply_out)
		*reply_out = reply;
	else
		freeReplyObject(reply);
	return REDIS_IO_OK;
}

static void
redis_close(redisContext *c)
{
	if (c == open_context)
		open_context = NULL;
	redisFree(c);
}

/*
 * Connects (a non-blocking connect, done within connect_ms), then
 * authenticates and selects the database (each within command_ms).
 * Returns the context, or NULL with *io_out and err saying why.
 * Error-free in PostgreSQL's sense: usable from the commit callback.
 */
static redisContext *
redis_open(const RedisTarget *t, int connect_ms, int command_ms, RedisIo *io_out,
		   char *err, size_t errlen)
{
	TimestampTz deadline = deadline_after(connect_ms);
	redisContext *c;
	RedisIo		io;
	int			so_error = 0;
	socklen_t	so_len = sizeof(so_error);

	if (t->unix_socket)
		c = redisConnectUnixNonBlock(t->path);
	else
		c = redisConnectNonBlock(t->host, t->port);
	if (c == NULL)
	{
		*io_out = REDIS_IO_FAILED;
		snprintf(err, errlen, "out of memory for a connection");
		return NULL;
	}
	open_context = c;
	if (c->err)
	{
		*io_out = REDIS_IO_FAILED;
		describe_io(c, REDIS_IO_FAILED, connect_ms, "connect", err, errlen);
		redis_close(c);
		return NULL;
	}

	/* the connect is done when the socket is writable; SO_ERROR says how */
	io = redis_wait(c, true, deadline);
	if (io == REDIS_IO_OK &&
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len) != 0)
		so_error = errno;
	if (io == REDIS_IO_OK && so_error != 0)
	{
		c->err = REDIS_ERR_IO;
		snprintf(c->errstr, sizeof(c->errstr), "%s", strerror(so_error));
		io = REDIS_IO_FAILED;
	}
	if (io != REDIS_IO_OK)
	{
		*io_out = io;
		describe_io(c, io, connect_ms, "connect", err, errlen);
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
		io = redis_command(c, argc, argv, argvlen, command_ms, "AUTH", NULL, err, errlen);
		if (io != REDIS_IO_OK)
		{
			*io_out = io;
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
		io = redis_command(c, 2, argv, argvlen, command_ms, "SELECT", NULL, err, errlen);
		if (io != REDIS_IO_OK)
		{
			*io_out = io;
			redis_close(c);
			return NULL;
		}
	}
	*io_out = REDIS_IO_OK;
	return c;
}

/*
 * Sends commands pipelined, REDIS_CHUNK at a time, and reads every reply;
 * each chunk is one exchange, sent and answered within timeout_ms.
 * REDIS_IO_OK, or the first problem (err says what) if the connection
 * failed or any command answered an error.
 */
static RedisIo
redis_pipeline(redisContext *c, const CommandList *cl, int timeout_ms, char *err, size_t errlen)
{
	RedisIo		result = REDIS_IO_OK;

	for (int start = 0; start < cl->n; start += REDIS_CHUNK)
	{
		int			end = Min(cl->n, start + REDIS_CHUNK);
		TimestampTz deadline = deadline_after(timeout_ms);
		RedisIo		io;

		for (int i = start; i < end; i++)
		{
			const RedisCommand *cmd = &cl->commands[i];

			if (redisAppendCommandArgv(c, cmd->argc, cmd->argv, cmd->argvlen) != REDIS_OK)
			{
				describe_io(c, REDIS_IO_FAILED, timeout_ms, "write", err, errlen);
				return REDIS_IO_FAILED;
			}
		}
		if ((io = redis_flush(c, deadline)) != REDIS_IO_OK)
		{
			describe_io(c, io, timeout_ms, cl->commands[start].argv[0], err, errlen);
			return io;
		}
		for (int i = start; i < end; i++)
		{
			redisReply *reply;

			if ((io = redis_read_reply(c, &reply, deadline)) != REDIS_IO_OK)
			{
				describe_io(c, io, timeout_ms, cl->commands[i].argv[0], err, errlen);
				return io;
			}
			if (reply->type == REDIS_REPLY_ERROR && result == REDIS_IO_OK)
			{
				snprintf(err, errlen, "%s failed: %s", cl->commands[i].argv[0],
						 reply->str ? reply->str : "error");
				result = REDIS_IO_REPLY_ERROR;
			}
			freeReplyObject(reply);
		}
		if (result != REDIS_IO_OK)
			return result;
	}
	return REDIS_IO_OK;
}

/*
 * Pushes one publication: connect, write the example hashes and the
 * temporary keys, then swap them in with the Lua script.  REDIS_IO_OK on
 * success (*installed false if Redis already held a newer version), else
 * what ended it, with err filled in.  Error-free in PostgreSQL's sense.
 */
static RedisIo
redis_push_publication(const ListPublication *pub, bool *installed, char *err, size_t errlen)
{
	redisContext *c;
	redisReply *reply = NULL;
	RedisIo		io;

	*installed = false;
	c = redis_open(&pub->target, pub->connect_timeout, pub->command_timeout, &io, err, errlen);
	if (c == NULL)
		return io;
	io = redis_pipeline(c, &pub->data, pub->command_timeout, err, errlen);
	if (io == REDIS_IO_OK)
		io = redis_command(c, pub->swap.argc, pub->swap.argv, pub->swap.argvlen,
						   pub->command_timeout, "EVAL", &reply, err, errlen);
	if (io == REDIS_IO_OK)
	{
		*installed = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
		freeReplyObject(reply);
	}
	redis_close(c);
	return io;
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
		RedisIo		io;

		c = redis_open(t, redis_connect_timeout, redis_command_timeout, &io, err, errlen);
		if (c != NULL &&
			redis_command(c, argc, argv, argvlen, redis_command_timeout, what, &r,
						  err, errlen) == REDIS_IO_OK)
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
	/*
	 * Every name and operator is schema-qualified: publish() runs with a
	 * fixed search_path, but publish_pending() and a caller of _redis_push
	 * need not, and an operator or function a user put earlier in the
	 * search_path (public.=(text, text), say) must never run in here.
	 */
	ret = SPI_execute_with_args(version < 0
								? "SELECT p.version FROM pglearn.publications p"
								" WHERE p.list OPERATOR(pg_catalog.=) $1"
								: "SELECT p.version FROM pglearn.publications p"
								" WHERE p.list OPERATOR(pg_catalog.=) $1"
								" AND p.version OPERATOR(pg_catalog.=) $2",
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

	/* ORDER BY uses int8's default btree operator class: no name lookup */
	ret = SPI_execute_with_args("SELECT x.m OPERATOR(pg_catalog.->>) 'id'::pg_catalog.text,"
								" x.m OPERATOR(pg_catalog.->>) 'url'::pg_catalog.text,"
								" x.m OPERATOR(pg_catalog.->>) 'final_url'::pg_catalog.text,"
								" x.m OPERATOR(pg_catalog.->>) 'title'::pg_catalog.text,"
								" x.m OPERATOR(pg_catalog.->>) 'description'::pg_catalog.text,"
								" x.m OPERATOR(pg_catalog.->>) 'og_image'::pg_catalog.text,"
								" x.m OPERATOR(pg_catalog.->>) 'score'::pg_catalog.text,"
								" x.m OPERATOR(pg_catalog.->>) 'label'::pg_catalog.text"
								"  FROM pglearn.publications p"
								" CROSS JOIN LATERAL pg_catalog.jsonb_array_elements(p.members)"
								"      WITH ORDINALITY AS x(m, n)"
								" WHERE p.list OPERATOR(pg_catalog.=) $1"
								"   AND p.version OPERATOR(pg_catalog.=) $2"
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

/* true if a and b are the same Redis server and database */
static bool
same_target(const RedisTarget *a, const RedisTarget *b)
{
	return a->unix_socket == b->unix_socket && a->db == b->db &&
		strcmp(a->where, b->where) == 0;
}

/*
 * Pushes this transaction's publications after commit.  Must not ERROR:
 * only hiredis calls on preformatted data, failures become WARNINGs.
 *
 * The wait is bounded twice over.  Once a push finds its Redis unreachable
 * (no connection, a timeout), the other lists for that Redis are not tried
 * in this commit, so a dead Redis costs one push's timeouts, not one per
 * list.  And once a terminate or cancel is pending, nothing more is tried:
 * PostgreSQL serves it when the commit is done.  Whatever is not pushed is
 * recorded in pglearn.publications for publish_pending().
 */
static void
push_pending(void)
{
	const RedisTarget *unreachable = NULL;
	char		err[256];

	for (const ListPublication *pub = pending; pub != NULL; pub = pub->next)
	{
		bool		installed;
		RedisIo		io;

		if (superseded_in_transaction(pub))
			continue;
		err[0] = '\0';
		if (ProcDiePending || QueryCancelPending)
		{
			io = REDIS_IO_INTERRUPTED;
			snprintf(err, sizeof(err), "not tried: %s", interrupt_reason());
		}
		else if (unreachable != NULL && same_target(unreachable, &pub->target))
		{
			io = REDIS_IO_FAILED;
			snprintf(err, sizeof(err), "not tried: Redis did not answer for an earlier list of this commit");
		}
		else
			io = redis_push_publication(pub, &installed, err, sizeof(err));
		if (io == REDIS_IO_FAILED || io == REDIS_IO_TIMEOUT)
			unreachable = &pub->target;
		if (io != REDIS_IO_OK)
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
		ok = redis_push_publication(pub, &installed, err, sizeof(err)) == REDIS_IO_OK;
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
	RedisProblem problem;
	char		err[256];
	char	   *message = NULL;
	redisReply *reply = NULL;

	InitMaterializedSRF(fcinfo, 0);
	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elements, &nulls, &n);

	if (redis_url == NULL || redis_url[0] == '\0')
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

	if (redis_url == NULL || redis_url[0] == '\0')
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

		reply = redis_query(&t, 1, argv, argvlen, "PING", err, sizeof(err));
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
							   &redis_url,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY,
							   check_redis_url, NULL, NULL);
	DefineCustomStringVariable("pglearn.redis_password_file",
							   "File holding the Redis password, used when pglearn.redis_url has none.",
							   "The file holds the password alone and must have no group or world access; a relative path is relative to the data directory; empty = none.",
							   &redis_password_file,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("pglearn.redis_connect_timeout",
							"Longest wait for a connection to Redis.",
							NULL,
							&redis_connect_timeout,
							1000, 1, REDIS_MAX_TIMEOUT_MS,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pglearn.redis_command_timeout",
							"Longest wait for Redis to take and answer one command, or one pipelined batch of commands.",
							"A commit that publishes waits at most the connect timeout plus this for each exchange with Redis.",
							&redis_command_timeout,
							1000, 1, REDIS_MAX_TIMEOUT_MS,
							PGC_SUSET,
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
