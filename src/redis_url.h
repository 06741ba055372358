/*-------------------------------------------------------------------------
 *
 * redis_url.h
 *	  The Redis URL grammar of pglearn.redis_url (src/redis_url.c).
 *
 * Plain C, no server headers: the parser is fuzzed on its own
 * (t/fuzz/fuzz_redis_url.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_REDIS_URL_H
#define PGLEARN_REDIS_URL_H

#include <stdbool.h>

/* longest unix socket path, as PostgreSQL's MAXPGPATH */
#define REDIS_PATH_MAX 1024

/*
 * Where to connect, parsed from pglearn.redis_url.  "where" (host:port or
 * the socket path) is what messages name; the password never leaves the
 * extension.
 */
typedef struct RedisTarget
{
	bool		unix_socket;
	char		host[256];
	int			port;
	char		path[REDIS_PATH_MAX];
	char		user[128];		/* ACL user; '' = AUTH with the password only */
	char		password[256];	/* from the URL or the password file; '' =
								 * no AUTH */
	int			db;
	char		where[REDIS_PATH_MAX + 16];
} RedisTarget;

/*
 * Parses url into *t; NULL on success, else a sentence for errdetail that
 * never quotes the URL.  Allocates nothing.
 */
extern const char *redis_parse_url(const char *url, RedisTarget *t);

#endif							/* PGLEARN_REDIS_URL_H */
