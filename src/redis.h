/*-------------------------------------------------------------------------
 *
 * redis.h
 *	  pglearn's Redis settings and the server they name (src/redis.c),
 *	  shared by the publication side (src/redis_publish.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_REDIS_H
#define PGLEARN_REDIS_H

#include "redis_url.h"

/* the pglearn.redis_* settings */
extern char *pglearn_redis_url;
extern char *pglearn_redis_password_file;
extern int	pglearn_redis_connect_timeout;
extern int	pglearn_redis_command_timeout;
extern char *pglearn_redis_prefix;
extern int	pglearn_redis_ttl;

/* Defines the pglearn.redis_* settings; called once from _PG_init. */
extern void pglearn_redis_init(void);

/*
 * The configured server: pglearn.redis_url parsed, with the password of
 * pglearn.redis_password_file when the URL has none; an ERROR saying why
 * if there is none.  The caller wipes *t (explicit_bzero) when done.
 */
extern void redis_current_target(RedisTarget *t);

#endif							/* PGLEARN_REDIS_H */
