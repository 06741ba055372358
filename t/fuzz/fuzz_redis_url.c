/*-------------------------------------------------------------------------
 *
 * fuzz_redis_url.c
 *	  libFuzzer target for the pglearn.redis_url parser (src/redis_url.c).
 *
 * Beyond "no crash, no sanitizer report":
 *	- an accepted URL gives a target within its buffers: strings ended,
 *	  port 1..65535, db >= 0, an absolute socket path for unix sockets, a
 *	  "where" naming the host and port or the path;
 *	- the target written back as a URL (user and password %-encoded, the
 *	  host bracketed where it must be) parses to the very same target;
 *	- a rejected URL gets a sentence that is not part of the input (the
 *	  messages are fixed texts: they cannot quote a password).
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_url.h"

static int
ended(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void
check_target(const RedisTarget *t)
{
	if (!ended(t->host, sizeof(t->host)) || !ended(t->path, sizeof(t->path)) ||
		!ended(t->user, sizeof(t->user)) || !ended(t->password, sizeof(t->password)) ||
		!ended(t->where, sizeof(t->where)) || t->db < 0 || t->where[0] == '\0')
		abort();
	if (t->unix_socket)
	{
		if (t->path[0] != '/' || strcmp(t->where, t->path) != 0)
			abort();
	}
	else if (t->port < 1 || t->port > 65535 || t->host[0] == '\0')
		abort();
}

static size_t
append(char *out, size_t o, size_t cap, const char *s)
{
	size_t		n = strlen(s);

	if (o + n >= cap)
		abort();
	memcpy(out + o, s, n);
	out[o + n] = '\0';
	return o + n;
}

static size_t
append_encoded(char *out, size_t o, size_t cap, const char *s)
{
	char		hex[4];

	for (; *s; s++)
	{
		snprintf(hex, sizeof(hex), "%%%02X", (unsigned char) *s);
		o = append(out, o, cap, hex);
	}
	return o;
}

/* the URL of a target, in the forms the parser reads */
static void
write_url(const RedisTarget *t, char *out, size_t cap)
{
	char		number[32];
	size_t		o = 0;

	out[0] = '\0';
	if (t->unix_socket)
	{
		o = append(out, o, cap, "unix://");
		o = append(out, o, cap, t->path);
		snprintf(number, sizeof(number), "?db=%d", t->db);
		append(out, o, cap, number);
		return;
	}
	o = append(out, o, cap, "redis://");
	if (t->user[0] != '\0' || t->password[0] != '\0')
	{
		o = append_encoded(out, o, cap, t->user);
		if (t->password[0] != '\0')
		{
			o = append(out, o, cap, ":");
			o = append_encoded(out, o, cap, t->password);
		}
		o = append(out, o, cap, "@");
	}
	if (strpbrk(t->host, ":/") != NULL || t->host[0] == '[')
	{
		o = append(out, o, cap, "[");
		o = append(out, o, cap, t->host);
		o = append(out, o, cap, "]");
	}
	else
		o = append(out, o, cap, t->host);
	snprintf(number, sizeof(number), ":%d/%d", t->port, t->db);
	append(out, o, cap, number);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *url = malloc(size + 1);
	char	   *again = malloc(4 * size + 64);
	RedisTarget t;
	RedisTarget t2;
	const char *problem;

	memcpy(url, data, size);
	url[size] = '\0';
	problem = redis_parse_url(url, &t);
	if (problem == NULL)
	{
		check_target(&t);
		write_url(&t, again, 4 * size + 64);
		if (redis_parse_url(again, &t2) != NULL || memcmp(&t, &t2, sizeof(t)) != 0)
			abort();
	}
	else if (problem[0] == '\0' || (problem >= url && problem <= url + size))
		abort();
	free(url);
	free(again);
	return 0;
}
