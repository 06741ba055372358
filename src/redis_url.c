/*-------------------------------------------------------------------------
 *
 * redis_url.c
 *	  Parsing pglearn.redis_url into a RedisTarget.
 *
 *	 redis://[[user][:password]@]host[:port][/db]	(host may be [IPv6])
 *	 unix:///path/to/socket[?db=N]  or  /path/to/socket[?db=N]
 *
 * Plain C with no allocation and no server headers, so that the backend
 * (the setting's check hook and every connection) and the fuzzer
 * (t/fuzz/fuzz_redis_url.c) run the same code.  Messages never quote the
 * URL: it may hold a password.
 *
 *-------------------------------------------------------------------------
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "redis_url.h"

/*
 * Percent-decodes s[0..len) into out; false if malformed, too long, or
 * holding %00 (which would end the C string early: a password cut at a
 * NUL would be sent to Redis as a different, shorter one).
 */
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
			hi = hex_digit_value((unsigned char) s[i + 1]);
			lo = hex_digit_value((unsigned char) s[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			c = hi * 16 + lo;
			if (c == 0)
				return false;
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
const char *
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
			return "The user name or password is too long or has a malformed %-escape (or %00).";
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
