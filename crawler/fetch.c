/*
 * fetch.c: the download engine.  A bounded window of libcurl easy handles on
 * one multi handle (curl's 10-at-a-time.c pattern), with our own per-host
 * scheduler on top: at most per_host transfers and delay_ms between starts
 * for each scheme://host:port, round-robin over hosts so one big site cannot
 * starve the rest.  Owns the safety options of every transfer (protocols,
 * redirects, time-outs, body cap) and the hook that lets the caller refuse a
 * redirect hop.  Knows nothing about HTML, robots.txt or databases.
 */
#include "fetch.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Host
{
	size_t	   *queue;			/* url indexes waiting */
	size_t		head;
	size_t		len;
	size_t		cap;
	int			active;
	long		delay_ms;		/* between starts on this host */
	int64_t		next_start;		/* monotonic ms */
} Host;

typedef struct Transfer
{
	CURL	   *easy;
	size_t		index;
	Host	   *host;
	Buf			body;
	size_t		max_body;
	bool		too_large;
	int			slot;			/* position in the in-flight array */
	const FetchOptions *opt;
	char	   *refused_url;	/* a redirect target opt->redirect_allowed refused */
	char		errbuf[CURL_ERROR_SIZE];
} Transfer;

/*
 * The write callback counts decoded bytes (libcurl hands us data after
 * Content-Encoding is undone), so a small gzip bomb cannot grow past the cap;
 * libcurl 7.88's CURLOPT_MAXFILESIZE only checks a declared Content-Length.
 * Returning less than given aborts with CURLE_WRITE_ERROR.
 */
static size_t
on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	Transfer   *t = userdata;
	size_t		n = size * nmemb;

	if (n > t->max_body - t->body.len)
	{
		if (t->opt->keep_prefix)
			buf_append(&t->body, ptr, t->max_body - t->body.len);
		t->too_large = true;
		return 0;
	}
	buf_append(&t->body, ptr, n);
	return n;
}

/*
 * libcurl calls this before every request of a transfer, redirect hops
 * included, with the hop's URL as the effective URL: the one place to refuse
 * a redirect target before it is requested (robots.txt of another host).
 */
static int
on_prerequest(void *clientp, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	Transfer   *t = clientp;
	long		redirects = 0;
	char	   *url = NULL;

	(void) primary_ip;
	(void) local_ip;
	(void) primary_port;
	(void) local_port;
	if (curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_COUNT, &redirects) != CURLE_OK ||
		redirects == 0)
		return CURL_PREREQFUNC_OK;
	if (curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK || url == NULL)
		return CURL_PREREQFUNC_ABORT;
	if (t->opt->redirect_allowed(url, t->opt->redirect_arg))
		return CURL_PREREQFUNC_OK;
	free(t->refused_url);
	t->refused_url = xstrdup(url);
	return CURL_PREREQFUNC_ABORT;
}

#define SETOPT(h, opt, val) \
	do { \
		CURLcode rc_ = curl_easy_setopt((h), (opt), (val)); \
		if (rc_ != CURLE_OK) \
		{ \
			fprintf(stderr, "pglearn: curl_easy_setopt(%s): %s\n", #opt, curl_easy_strerror(rc_)); \
			return -1; \
		} \
	} while (0)

static int
setup_easy(Transfer *t, const FetchOptions *opt, const char *url,
		   struct curl_slist *headers)
{
	CURL	   *h = t->easy;

	SETOPT(h, CURLOPT_URL, url);
	SETOPT(h, CURLOPT_PRIVATE, (void *) t);
	SETOPT(h, CURLOPT_WRITEFUNCTION, on_write);
	SETOPT(h, CURLOPT_WRITEDATA, (void *) t);
	SETOPT(h, CURLOPT_ERRORBUFFER, t->errbuf);
	/* no file://, ftp://, gopher://... from input or from a Location header */
	SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SETOPT(h, CURLOPT_FOLLOWLOCATION, 1L);
	SETOPT(h, CURLOPT_MAXREDIRS, opt->max_redirects);
	SETOPT(h, CURLOPT_AUTOREFERER, 1L);
	SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, opt->connect_timeout_ms);
	SETOPT(h, CURLOPT_TIMEOUT_MS, opt->timeout_ms);
	/* "" = every encoding this libcurl can decode (gzip, deflate, br, zstd) */
	SETOPT(h, CURLOPT_ACCEPT_ENCODING, "");
	/* rejects early when Content-Length is declared; on_write does the rest */
	if (!opt->keep_prefix)
		SETOPT(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) opt->max_body);
	SETOPT(h, CURLOPT_USERAGENT, opt->user_agent);
	SETOPT(h, CURLOPT_HTTPHEADER, headers);
	/* signals would interrupt our own SIGINT handling; DNS uses threads */
	SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	/* some sites set a cookie and redirect; keep it within one transfer */
	SETOPT(h, CURLOPT_COOKIEFILE, "");
	if (opt->redirect_allowed)
	{
		SETOPT(h, CURLOPT_PREREQFUNCTION, on_prerequest);
		SETOPT(h, CURLOPT_PREREQDATA, (void *) t);
	}
	return 0;
}

static void
host_push(Host *h, size_t index)
{
	if (h->head + h->len == h->cap)
	{
		if (h->head > 0)
		{
			memmove(h->queue, h->queue + h->head, h->len * sizeof(size_t));
			h->head = 0;
		}
		else
		{
			h->cap = h->cap ? h->cap * 2 : 4;
			h->queue = xrealloc(h->queue, h->cap * sizeof(size_t));
		}
	}
	h->queue[h->head + h->len++] = index;
}

int
fetch_all(const FetchOptions *opt, char *const *urls, size_t n,
		  FetchDone done, void *arg)
{
	CURLM	   *multi;
	StrMap		host_map;
	Host	  **live;			/* hosts with queued urls */
	size_t		nlive = 0;
	size_t		cursor = 0;
	Host	  **all_hosts;
	size_t		nhosts = 0;
	int			active = 0;
	Transfer  **inflight;		/* [jobs]; libcurl 7.88 cannot list handles */
	int			result = 0;
	struct curl_slist *headers = NULL;
	struct curl_slist *tmp;
	Buf			accept;

	if (n == 0)
		return 0;

	multi = curl_multi_init();
	if (multi == NULL)
	{
		fprintf(stderr, "pglearn: curl_multi_init failed\n");
		return -1;
	}
	if (curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long) opt->jobs) != CURLM_OK)
	{
		fprintf(stderr, "pglearn: curl_multi_setopt failed\n");
		curl_multi_cleanup(multi);
		return -1;
	}
	buf_init(&accept);
	buf_appends(&accept, "Accept: ");
	buf_appends(&accept, opt->accept);
	tmp = curl_slist_append(headers, accept.data);
	buf_free(&accept);
	if (tmp == NULL)
	{
		fprintf(stderr, "pglearn: out of memory\n");
		curl_multi_cleanup(multi);
		return -1;
	}
	headers = tmp;

	/* group urls by origin, keeping input order within each host */
	strmap_init(&host_map);
	all_hosts = xmalloc(n * sizeof(Host *));
	live = xmalloc(n * sizeof(Host *));
	inflight = xmalloc(opt->jobs * sizeof(Transfer *));
	memset(inflight, 0, opt->jobs * sizeof(Transfer *));
	for (size_t i = 0; i < n; i++)
	{
		char	   *origin = url_origin(urls[i]);
		const char *key = origin ? origin : "";
		Host	   *h = strmap_get(&host_map, key);

		if (h == NULL)
		{
			h = xmalloc(sizeof(Host));
			memset(h, 0, sizeof(Host));
			h->delay_ms = opt->delay_ms;
			if (opt->host_delay_ms && origin)
			{
				long		d = opt->host_delay_ms(origin, opt->host_delay_arg);

				if (d > h->delay_ms)
					h->delay_ms = d;
			}
			strmap_put(&host_map, key, h);
			all_hosts[nhosts++] = h;
			live[nlive++] = h;
		}
		host_push(h, i);
		free(origin);
	}

	for (;;)
	{
		int64_t		now = now_ms();
		long		wait_ms = 200;	/* also how soon we notice SIGINT */
		int			running;
		CURLMcode	mc;
		CURLMsg    *msg;
		int			msgs_left;
		bool		finished_any;

		/* start what the window, the host caps and the delays allow */
		while (!interrupted && active < opt->jobs && nlive > 0)
		{
			Host	   *pick = NULL;
			size_t		pick_pos = 0;

			for (size_t k = 0; k < nlive; k++)
			{
				size_t		pos = (cursor + k) % nlive;
				Host	   *h = live[pos];

				if (h->active >= opt->per_host)
					continue;
				if (h->next_start > now)
				{
					if (h->next_start - now < wait_ms)
						wait_ms = (long) (h->next_start - now);
					continue;
				}
				pick = h;
				pick_pos = pos;
				break;
			}
			if (pick == NULL)
				break;

			size_t		index = pick->queue[pick->head++];
			Transfer   *t;

			pick->len--;
			pick->active++;
			pick->next_start = now + pick->delay_ms;
			if (pick->len == 0)
				live[pick_pos] = live[--nlive];		/* host drained */
			cursor = nlive ? (pick_pos + 1) % nlive : 0;

			t = xmalloc(sizeof(Transfer));
			memset(t, 0, sizeof(Transfer));
			t->index = index;
			t->host = pick;
			t->opt = opt;
			t->max_body = opt->max_body;
			buf_init(&t->body);
			t->easy = curl_easy_init();
			if (t->easy == NULL || setup_easy(t, opt, urls[index], headers) != 0)
			{
				fprintf(stderr, "pglearn: cannot set up a transfer for %s\n", urls[index]);
				if (t->easy)
					curl_easy_cleanup(t->easy);
				free(t);
				result = -1;
				goto out;
			}
			mc = curl_multi_add_handle(multi, t->easy);
			if (mc != CURLM_OK)
			{
				fprintf(stderr, "pglearn: curl_multi_add_handle: %s\n", curl_multi_strerror(mc));
				curl_easy_cleanup(t->easy);
				free(t);
				result = -1;
				goto out;
			}
			for (int s = 0; s < opt->jobs; s++)
				if (inflight[s] == NULL)
				{
					inflight[s] = t;
					t->slot = s;
					break;
				}
			active++;
		}

		if (active == 0 && (nlive == 0 || interrupted))
			break;

		mc = curl_multi_perform(multi, &running);
		if (mc != CURLM_OK)
		{
			fprintf(stderr, "pglearn: curl_multi_perform: %s\n", curl_multi_strerror(mc));
			result = -1;
			goto out;
		}

		finished_any = false;
		while ((msg = curl_multi_info_read(multi, &msgs_left)) != NULL)
		{
			Transfer   *t = NULL;
			FetchResult res;
			char	   *effective = NULL;
			char	   *ctype = NULL;
			long		status = 0;
			char		too_large_msg[64];

			if (msg->msg != CURLMSG_DONE)
				continue;
			if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &t) != CURLE_OK || t == NULL)
			{
				fprintf(stderr, "pglearn: lost track of a transfer\n");
				result = -1;
				goto out;
			}
			memset(&res, 0, sizeof(res));
			res.index = t->index;
			res.url = urls[t->index];
			res.code = msg->data.result;
			if (curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
				status = 0;
			if (curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &effective) != CURLE_OK || effective == NULL)
				effective = (char *) res.url;
			if (curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ctype) != CURLE_OK)
				ctype = NULL;
			res.http_status = status;
			res.effective_url = effective;
			res.content_type = ctype;
			res.too_large = t->too_large || res.code == CURLE_FILESIZE_EXCEEDED;
			res.refused_url = t->refused_url;
			if (res.refused_url)
				res.error = "redirect refused";
			else if (res.too_large)
			{
				snprintf(too_large_msg, sizeof(too_large_msg),
						 "body too large (over %zu bytes)", opt->max_body);
				res.error = too_large_msg;
			}
			else if (res.code != CURLE_OK)
				res.error = t->errbuf[0] ? t->errbuf : curl_easy_strerror(res.code);
			res.body = t->body.data ? t->body.data : "";
			res.body_len = t->body.len;

			done(&res, arg);

			mc = curl_multi_remove_handle(multi, t->easy);
			if (mc != CURLM_OK)
				fprintf(stderr, "pglearn: curl_multi_remove_handle: %s\n", curl_multi_strerror(mc));
			curl_easy_cleanup(t->easy);
			t->host->active--;
			inflight[t->slot] = NULL;
			buf_free(&t->body);
			free(t->refused_url);
			free(t);
			active--;
			finished_any = true;
		}

		/* refill freed slots at once rather than after the next wake-up */
		if (finished_any && nlive > 0 && !interrupted)
			continue;

		if (active > 0 || nlive > 0)
		{
			if (wait_ms < 0)
				wait_ms = 0;
			mc = curl_multi_poll(multi, NULL, 0, (int) wait_ms, NULL);
			if (mc != CURLM_OK)
			{
				fprintf(stderr, "pglearn: curl_multi_poll: %s\n", curl_multi_strerror(mc));
				result = -1;
				goto out;
			}
		}
	}

out:
	/* on a libcurl failure, abandon transfers still attached */
	if (result != 0)
	{
		for (int s = 0; s < opt->jobs; s++)
		{
			Transfer   *t = inflight[s];

			if (t == NULL)
				continue;
			curl_multi_remove_handle(multi, t->easy);
			curl_easy_cleanup(t->easy);
			buf_free(&t->body);
			free(t->refused_url);
			free(t);
		}
	}
	free(inflight);
	for (size_t i = 0; i < nhosts; i++)
	{
		free(all_hosts[i]->queue);
		free(all_hosts[i]);
	}
	free(all_hosts);
	free(live);
	strmap_free(&host_map);
	curl_slist_free_all(headers);
	curl_multi_cleanup(multi);
	return result;
}
