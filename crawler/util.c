/*
 * util.c: checked allocation, buffers, string sets, UTF-8 sanitising,
 * whitespace collapsing, URL helpers on libcurl's URL API, a monotonic clock.
 *
 * Owns no global state except the interrupt flag, which main.c's signal
 * handler sets.
 */
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "../src/tracking.h"

/* only a lock-free atomic may be touched from a signal handler */
#if ATOMIC_INT_LOCK_FREE != 2
#error "atomic_int is not always lock-free on this platform"
#endif
atomic_int interrupted = 0;

static void
out_of_memory(size_t n)
{
	fprintf(stderr, "pglearn: out of memory (%zu bytes)\n", n);
	exit(EXIT_USAGE);
}

void *
xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (p == NULL)
		out_of_memory(n);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void	   *q = realloc(p, n ? n : 1);

	if (q == NULL)
		out_of_memory(n);
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char	   *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* ---- Buf ---- */

void
buf_init(Buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
buf_free(Buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_reset(Buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static void
buf_reserve(Buf *b, size_t extra)
{
	size_t		need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	size_t		cap = b->cap ? b->cap : 256;

	while (cap < need)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void
buf_append(Buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_appends(Buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_appendc(Buf *b, char c)
{
	buf_append(b, &c, 1);
}

char *
buf_steal(Buf *b)
{
	char	   *p = b->data ? b->data : xstrdup("");

	buf_init(b);
	return p;
}

/* ---- string hashing, shared by StrMap and StrSet ---- */

static uint64_t
hash_str(const char *s)
{
	/* FNV-1a: any decent spread will do for a set of URLs */
	uint64_t	h = UINT64_C(1469598103934665603);

	for (; *s; s++)
	{
		h ^= (unsigned char) *s;
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static size_t
slot_find(char **slots, size_t cap, const char *key)
{
	size_t		i = hash_str(key) & (cap - 1);

	while (slots[i] && strcmp(slots[i], key) != 0)
		i = (i + 1) & (cap - 1);
	return i;
}

/* ---- StrMap ---- */

void
strmap_init(StrMap *m)
{
	m->cap = 64;
	m->count = 0;
	m->keys = xmalloc(m->cap * sizeof(char *));
	m->values = xmalloc(m->cap * sizeof(void *));
	memset(m->keys, 0, m->cap * sizeof(char *));
}

void
strmap_free(StrMap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->values);
	m->keys = NULL;
	m->values = NULL;
	m->cap = m->count = 0;
}

void *
strmap_get(const StrMap *m, const char *key)
{
	size_t		i = slot_find(m->keys, m->cap, key);

	return m->keys[i] ? m->values[i] : NULL;
}

void
strmap_put(StrMap *m, const char *key, void *value)
{
	size_t		i;

	if ((m->count + 1) * 2 > m->cap)
	{
		size_t		ncap = m->cap * 2;
		char	  **nk = xmalloc(ncap * sizeof(char *));
		void	  **nv = xmalloc(ncap * sizeof(void *));

		memset(nk, 0, ncap * sizeof(char *));
		for (size_t j = 0; j < m->cap; j++)
			if (m->keys[j])
			{
				size_t		k = slot_find(nk, ncap, m->keys[j]);

				nk[k] = m->keys[j];
				nv[k] = m->values[j];
			}
		free(m->keys);
		free(m->values);
		m->keys = nk;
		m->values = nv;
		m->cap = ncap;
	}
	i = slot_find(m->keys, m->cap, key);
	if (m->keys[i] == NULL)
	{
		m->keys[i] = xstrdup(key);
		m->count++;
	}
	m->values[i] = value;
}

/* ---- StrSet: a StrMap whose values only say "present" ---- */

static char strset_present;

void
strset_init(StrSet *s)
{
	strmap_init(&s->map);
}

void
strset_free(StrSet *s)
{
	strmap_free(&s->map);
}

bool
strset_add(StrSet *s, const char *key)
{
	if (strmap_get(&s->map, key) != NULL)
		return false;
	strmap_put(&s->map, key, &strset_present);
	return true;
}

bool
strset_contains(const StrSet *s, const char *key)
{
	return strmap_get(&s->map, key) != NULL;
}

/* ---- StrList ---- */

void
strlist_init(StrList *l)
{
	l->items = NULL;
	l->len = l->cap = 0;
}

void
strlist_free(StrList *l)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->items[i]);
	free(l->items);
	strlist_init(l);
}

void
strlist_push(StrList *l, char *s)
{
	if (l->len == l->cap)
	{
		l->cap = l->cap ? l->cap * 2 : 16;
		l->items = xrealloc(l->items, l->cap * sizeof(char *));
	}
	l->items[l->len++] = s;
}

/* ---- UTF-8 ---- */

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if the
 * bytes there are not one.  Rejects overlongs, surrogates and > U+10FFFF.
 */
static size_t
utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF)
	{
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && s[1] < 0xA0)
			return 0;			/* overlong */
		if (c == 0xED && s[1] >= 0xA0)
			return 0;			/* surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4)
	{
		if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
			(s[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && s[1] < 0x90)
			return 0;			/* overlong */
		if (c == 0xF4 && s[1] >= 0x90)
			return 0;			/* > U+10FFFF */
		return 4;
	}
	return 0;
}

char *
utf8_sanitize(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *) str;
	Buf			b;
	size_t		i = 0;

	buf_init(&b);
	buf_append(&b, "", 0);
	while (i < n)
	{
		size_t		l = utf8_seq_len(s + i, n - i);

		if (l == 0)
		{
			buf_append(&b, "\xEF\xBF\xBD", 3);
			i++;
			continue;
		}
		if (l == 1 && (s[i] < 0x20 || s[i] == 0x7F) &&
			s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
		{
			i++;				/* NUL and other controls carry no text */
			continue;
		}
		buf_append(&b, (const char *) s + i, l);
		i += l;
	}
	return buf_steal(&b);
}

bool
utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t		i = 0;

	while (i < n)
	{
		size_t		l = utf8_seq_len(s + i, n - i);

		if (l == 0 || s[i] == 0)
			return false;
		i += l;
	}
	return true;
}

void
collapse_whitespace(char *s)
{
	char	   *w = s;
	bool		space = false;

	for (char *r = s; *r; r++)
	{
		unsigned char c = (unsigned char) *r;

		/* ASCII whitespace plus U+00A0 (NBSP, C2 A0) */
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')
		{
			space = true;
			continue;
		}
		if (c == 0xC2 && (unsigned char) r[1] == 0xA0)
		{
			space = true;
			r++;
			continue;
		}
		if (space && w != s)
			*w++ = ' ';
		space = false;
		*w++ = *r;
	}
	*w = '\0';
}

void
utf8_truncate(char *s, size_t max_chars)
{
	size_t		chars = 0;

	for (char *p = s; *p; p++)
	{
		if (((unsigned char) *p & 0xC0) != 0x80)
		{
			if (chars == max_chars)
			{
				*p = '\0';
				return;
			}
			chars++;
		}
	}
}

/* ---- URLs ---- */

static bool
scheme_is_http(CURLU *h)
{
	char	   *scheme = NULL;
	bool		ok;

	if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		return false;
	ok = ascii_ieq(scheme, "http") || ascii_ieq(scheme, "https");
	curl_free(scheme);
	return ok;
}

static bool
has_host(CURLU *h)
{
	char	   *host = NULL;
	bool		ok;

	if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		return false;
	ok = host[0] != '\0';
	curl_free(host);
	return ok;
}

/* percent-encode spaces and trim surrounding whitespace of an href */
static char *
clean_ref(const char *ref)
{
	Buf			b;
	size_t		n;

	while (*ref && isspace((unsigned char) *ref))
		ref++;
	n = strlen(ref);
	while (n > 0 && isspace((unsigned char) ref[n - 1]))
		n--;
	buf_init(&b);
	buf_append(&b, "", 0);
	for (size_t i = 0; i < n; i++)
	{
		if (ref[i] == ' ')
			buf_appends(&b, "%20");
		else if (ref[i] == '\t' || ref[i] == '\n' || ref[i] == '\r')
			continue;
		else
			buf_appendc(&b, ref[i]);
	}
	return buf_steal(&b);
}

static char *
url_get_owned(CURLU *h)
{
	char	   *u = NULL;
	char	   *res;

	if (curl_url_get(h, CURLUPART_URL, &u, 0) != CURLUE_OK)
		return NULL;
	res = xstrdup(u);
	curl_free(u);
	return res;
}

char *
url_normalize(const char *url)
{
	CURLU	   *h;
	char	   *res = NULL;

	if (!utf8_valid(url, strlen(url)))
		return NULL;
	h = curl_url();
	if (h == NULL)
		out_of_memory(0);
	if (curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
		scheme_is_http(h) && has_host(h))
		res = url_get_owned(h);
	curl_url_cleanup(h);
	return res;
}

char *
url_resolve(const char *base, const char *ref)
{
	CURLU	   *h;
	char	   *clean;
	char	   *res = NULL;

	if (ref == NULL || base == NULL)
		return NULL;
	clean = clean_ref(ref);
	if (clean[0] == '\0' || !utf8_valid(clean, strlen(clean)))
	{
		free(clean);
		return NULL;
	}
	h = curl_url();
	if (h == NULL)
		out_of_memory(0);
	/* setting a relative URL on a handle holding base resolves it */
	if (curl_url_set(h, CURLUPART_URL, base, 0) == CURLUE_OK &&
		curl_url_set(h, CURLUPART_URL, clean, 0) == CURLUE_OK &&
		scheme_is_http(h) && has_host(h))
		res = url_get_owned(h);
	curl_url_cleanup(h);
	free(clean);
	return res;
}

char *
url_strip_tracking(const char *url)
{
	CURLU	   *h;
	char	   *query = NULL;
	char	   *res = NULL;
	CURLUcode	rc;

	h = curl_url();
	if (h == NULL)
		out_of_memory(0);
	if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK || !scheme_is_http(h))
	{
		curl_url_cleanup(h);
		return NULL;
	}
	if (curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK)
	{
		curl_url_cleanup(h);
		return NULL;
	}
	if (curl_url_get(h, CURLUPART_QUERY, &query, 0) == CURLUE_OK && query)
	{
		Buf			kept;
		const char *p = query;

		buf_init(&kept);
		while (*p)
		{
			const char *amp = strchr(p, '&');
			size_t		n = amp ? (size_t) (amp - p) : strlen(p);

			if (n > 0 && !is_tracking_parameter(p, n))
			{
				if (kept.len)
					buf_appendc(&kept, '&');
				buf_append(&kept, p, n);
			}
			p += n;
			if (*p == '&')
				p++;
		}
		rc = curl_url_set(h, CURLUPART_QUERY, kept.len ? kept.data : NULL, 0);
		buf_free(&kept);
		curl_free(query);
		if (rc != CURLUE_OK)
		{
			curl_url_cleanup(h);
			return NULL;		/* callers fall back to the unstripped URL */
		}
	}
	res = url_get_owned(h);
	curl_url_cleanup(h);
	return res;
}

char *
url_origin(const char *url)
{
	CURLU	   *h;
	char	   *scheme = NULL,
			   *host = NULL,
			   *port = NULL;
	char	   *res = NULL;

	h = curl_url();
	if (h == NULL)
		out_of_memory(0);
	if (curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
		curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
		curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
		curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
	{
		Buf			b;

		buf_init(&b);
		buf_appends(&b, scheme);
		buf_appends(&b, "://");
		for (char *c = host; *c; c++)
			buf_appendc(&b, (char) tolower((unsigned char) *c));
		buf_appendc(&b, ':');
		buf_appends(&b, port);
		res = buf_steal(&b);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(h);
	return res;
}

char *
url_path_query(const char *url)
{
	CURLU	   *h;
	char	   *path = NULL,
			   *query = NULL;
	Buf			b;

	h = curl_url();
	if (h == NULL)
		out_of_memory(0);
	buf_init(&b);
	if (curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
		curl_url_get(h, CURLUPART_PATH, &path, 0) == CURLUE_OK)
	{
		buf_appends(&b, path[0] ? path : "/");
		if (curl_url_get(h, CURLUPART_QUERY, &query, 0) == CURLUE_OK && query)
		{
			buf_appendc(&b, '?');
			buf_appends(&b, query);
		}
	}
	else
		buf_appends(&b, "/");
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(h);
	return buf_steal(&b);
}

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
ascii_ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (tolower((unsigned char) *a) != tolower((unsigned char) *b))
			return false;
	return *a == *b;
}

const char *
ascii_strcasestr_n(const char *hay, size_t n, const char *needle)
{
	size_t		m = strlen(needle);

	if (m == 0)
		return hay;
	for (size_t i = 0; i + m <= n; i++)
	{
		size_t		j = 0;

		while (j < m && tolower((unsigned char) hay[i + j]) == tolower((unsigned char) needle[j]))
			j++;
		if (j == m)
			return hay + i;
	}
	return NULL;
}
