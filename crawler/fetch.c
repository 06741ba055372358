/*
 * fetch.c: the download engine.  A bounded window of libcurl easy handles on
 * one multi handle (curl's 10-at-a-time.c pattern), with our own per-host
 * scheduler on top: at most per_host transfers and delay_ms between starts
 * for each scheme://host:port, round-robin over hosts so one big site cannot
 * starve the rest.  Owns the safety options of every transfer (protocols,
 * redirects, time-outs, body cap, no proxies), the address check on every
 * socket (address.c decides) and the hook that lets the caller refuse a
 * redirect hop.  Knows nothing about HTML, robots.txt or databases.
 *
 * The address check sits in libcurl's open-socket callback, so it sees the
 * address a socket is about to connect to, after name resolution, for the
 * first request and each redirect hop and each address happy eyeballs
 * tries: a name that resolves to a public address once and to 127.0.0.1
 * the next time (DNS rebinding) is refused the second time.  robots.txt and
 * feeds are fetched through fetch_all too, so the same check covers them.
 */
#include "fetch.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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
	/* the last address on_opensocket refused ("" if none) */
	char		refusal[ADDRESS_REASON_SIZE];
	bool		opened_after_refusal;	/* ... and a permitted one opened since */
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

/*
 * libcurl asks this for every socket it would open: each address of each
 * connection, redirect hops included.  Refusing one (CURL_SOCKET_BAD) makes
 * libcurl try the host's next address, and fail with CURLE_COULDNT_CONNECT
 * when none is left; the reason is kept for the row's fetch_error.
 */
static curl_socket_t
on_opensocket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
	Transfer   *t = clientp;
	int			socktype = address->socktype;
	curl_socket_t s;

	/* only outgoing connections: FTP's accept sockets are not ours to open */
	if (purpose != CURLSOCKTYPE_IPCXN)
	{
		snprintf(t->refusal, sizeof(t->refusal), "a listening socket is not a connection");
		t->opened_after_refusal = false;
		return CURL_SOCKET_BAD;
	}
	if (!address_permitted(t->opt->addresses, &address->addr, (socklen_t) address->addrlen,
						   t->refusal, sizeof(t->refusal)))
	{
		t->opened_after_refusal = false;
		return CURL_SOCKET_BAD;
	}
#ifdef SOCK_CLOEXEC
	/* a program we might exec must not inherit a connection */
	socktype |= SOCK_CLOEXEC;
#endif
	s = socket(address->family, socktype, address->protocol);
	if (s != CURL_SOCKET_BAD)
		t->opened_after_refusal = true;
	return s;
}

/*
 * fetch_error for a transfer that failed to connect after a refusal: the
 * reason, the redirect hop it happened on, and what to do about it.  When a
 * permitted address of the same host was tried after the refusal (a name with
 * private and public addresses), libcurl's own error comes first, since it
 * is about the last address tried.
 */
static const char *
refusal_text(Transfer *t, const char *curl_error, char *buf, size_t size)
{
	long		redirects = 0;
	char	   *url = NULL;
	char		hop[400];

	hop[0] = '\0';
	if (curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_COUNT, &redirects) == CURLE_OK && redirects > 0 &&
		curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url != NULL)
		snprintf(hop, sizeof(hop), ", redirected to %.200s", url);
	if (t->opened_after_refusal)
		snprintf(buf, size, "%.200s; also refused: %s%s (use --allow-private or --allow-cidr to crawl private networks)",
				 curl_error, t->refusal, hop);
	else
		snprintf(buf, size, "refused: %s%s (use --allow-private or --allow-cidr to crawl private networks)",
				 t->refusal, hop);
	return buf;
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

	/*
	 * Every socket's address is checked before it is opened.  "" turns off
	 * http_proxy, https_proxy and all_proxy from the environment: through a
	 * proxy the socket would go to the proxy, and the proxy would connect to
	 * 169.254.169.254 for us unchecked.
	 */
	SETOPT(h, CURLOPT_OPENSOCKETFUNCTION, on_opensocket);
	SETOPT(h, CURLOPT_OPENSOCKETDATA, (void *) t);
	SETOPT(h, CURLOPT_PROXY, "");
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
			char		refused_msg[1024];

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
			else if (res.code == CURLE_COULDNT_CONNECT && t->refusal[0])
			{
				res.error = refusal_text(t, t->errbuf[0] ? t->errbuf : curl_easy_strerror(res.code),
										 refused_msg, sizeof(refused_msg));
				res.address_refused = !t->opened_after_refusal;
			}
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
