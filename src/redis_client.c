/*-------------------------------------------------------------------------
 *
 * redis_client.c
 *	  Talking to Redis: connecting, authenticating, one command or a
 *	  pipeline of them, each against an absolute deadline.
 *
 * Sockets are non-blocking and every wait is ours: connecting (TCP or unix
 * socket) must be done within the connect timeout, and each exchange --
 * one command, or one pipelined batch of up to REDIS_CHUNK commands, from
 * its first byte sent to its last reply read -- within the command
 * timeout, so a server that answers slowly byte by byte cannot stretch a
 * wait.
 *
 * Two ways of waiting.  By default the commit callback's: it runs after
 * the commit record is written, PostgreSQL holds interrupts around it, and
 * nothing may ERROR, so the wait polls the socket in short slices and
 * looks at the flags the signal handlers set (a pending terminate or
 * cancel ends it), and nothing here allocates from PostgreSQL.  Inside
 * redis_interruptibly() (the SQL functions) waits are on the latch and the
 * socket together and serve interrupts, so query cancel acts at once.
 *
 * Host names are resolved by getaddrinfo(), which no timeout bounds and no
 * signal interrupts: use an address or a name the resolver answers
 * locally.  No message here quotes a password.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <poll.h>
#include <sys/socket.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/timestamp.h"

#include "redis_client.h"

/*
 * The longest one poll() of the commit callback sleeps before it looks at
 * the interrupt flags again.  The signal that sets them also cuts poll()
 * short; this bounds only the race of a signal arriving between the look
 * and the poll().
 */
#define REDIS_POLL_SLICE_MS 100

/*
 * True inside redis_interruptibly(); false, the default, is the commit
 * callback's error-free waiting.  open_context is the connection in use,
 * closed if an interruptible wait ERRORs.
 */
static bool redis_interruptible = false;
static redisContext *open_context = NULL;

RedisCommand *
redis_add_command(CommandList *cl, int argc)
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

void
redis_set_arg(RedisCommand *cmd, int i, const char *value)
{
	Assert(i < cmd->argc);
	cmd->argv[i] = value;
	cmd->argvlen[i] = strlen(value);
}

/* appends a command of three arguments, e.g. EXPIRE key seconds */
void
redis_add_command3(CommandList *cl, const char *arg0, const char *arg1, const char *arg2)
{
	RedisCommand *cmd = redis_add_command(cl, 3);

	redis_set_arg(cmd, 0, arg0);
	redis_set_arg(cmd, 1, arg1);
	redis_set_arg(cmd, 2, arg2);
}

static TimestampTz
deadline_after(int ms)
{
	return TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);
}

/* Why the commit callback stopped waiting, for its WARNING. */
const char *
redis_interrupt_reason(void)
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
		snprintf(err, errlen, "%s interrupted: %s", what, redis_interrupt_reason());
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
RedisIo
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

void
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
redisContext *
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
RedisIo
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
 * Runs session(arg) with waits that serve interrupts: on the latch, so
 * query cancel and statement_timeout act at once.  If one ERRORs, the
 * connection in use is closed before the error goes on.  For the SQL
 * functions, never for the commit callback.
 */
RedisIo
redis_interruptibly(RedisSession session, void *arg)
{
	RedisIo		io;

	redis_interruptible = true;
	PG_TRY();
	{
		io = session(arg);
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
	return io;
}

typedef struct QueryCall
{
	const RedisTarget *target;
	int			connect_ms;
	int			command_ms;
	int			argc;
	const char **argv;
	const size_t *argvlen;
	const char *what;
	char	   *err;
	size_t		errlen;
	redisReply *reply;
} QueryCall;

static RedisIo
query_session(void *arg)
{
	QueryCall  *q = (QueryCall *) arg;
	redisContext *c;
	RedisIo		io;

	c = redis_open(q->target, q->connect_ms, q->command_ms, &io, q->err, q->errlen);
	if (c == NULL)
		return io;
	io = redis_command(c, q->argc, q->argv, q->argvlen, q->command_ms, q->what, &q->reply,
					   q->err, q->errlen);
	redis_close(c);
	return io;
}

/*
 * Runs one command on a connection of its own, interruptibly.  Returns the
 * reply (the caller frees it), or NULL with err filled in; an ERROR only
 * for an interrupt, after closing the connection.
 */
redisReply *
redis_query(const RedisTarget *t, int connect_ms, int command_ms,
			int argc, const char **argv, const size_t *argvlen,
			const char *what, char *err, size_t errlen)
{
	QueryCall	q = {t, connect_ms, command_ms, argc, argv, argvlen, what, err, errlen, NULL};

	err[0] = '\0';
	if (redis_interruptibly(query_session, &q) != REDIS_IO_OK)
		return NULL;
	return q.reply;
}
