/*-------------------------------------------------------------------------
 *
 * redis_client.h
 *	  Talking to Redis within deadlines (src/redis_client.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_REDIS_CLIENT_H
#define PGLEARN_REDIS_CLIENT_H

#include <hiredis/hiredis.h>

#include "redis_url.h"

/* members per ZADD / HSET of a publication, and commands per pipeline */
#define REDIS_CHUNK 1000

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

/* building commands (palloc: inside a transaction, never after commit) */
extern RedisCommand *redis_add_command(CommandList *cl, int argc);
extern void redis_set_arg(RedisCommand *cmd, int i, const char *value);
extern void redis_add_command3(CommandList *cl, const char *arg0, const char *arg1,
							   const char *arg2);

/* error-free in PostgreSQL's sense: usable from the commit callback */
extern const char *redis_interrupt_reason(void);
extern redisContext *redis_open(const RedisTarget *t, int connect_ms, int command_ms,
								RedisIo *io_out, char *err, size_t errlen);
extern void redis_close(redisContext *c);
extern RedisIo redis_command(redisContext *c, int argc, const char **argv,
							 const size_t *argvlen, int timeout_ms, const char *what,
							 redisReply **reply_out, char *err, size_t errlen);
extern RedisIo redis_pipeline(redisContext *c, const CommandList *cl, int timeout_ms,
							  char *err, size_t errlen);

/* SQL functions only: waits that serve interrupts (cancel, timeouts) */
typedef RedisIo (*RedisSession) (void *arg);
extern RedisIo redis_interruptibly(RedisSession session, void *arg);
extern redisReply *redis_query(const RedisTarget *t, int connect_ms, int command_ms,
							   int argc, const char **argv, const size_t *argvlen,
							   const char *what, char *err, size_t errlen);

#endif							/* PGLEARN_REDIS_CLIENT_H */
