/*
 * fetch.h: concurrent HTTP(S) downloads with libcurl's multi interface, every
 * connection checked against an address policy (address.h).
 */
#ifndef PGLEARN_FETCH_H
#define PGLEARN_FETCH_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "address.h"
#include "version.h"

#define PGLEARN_USER_AGENT "pglearn-crawler/" PGLEARN_VERSION

typedef struct FetchOptions
{
	int			jobs;			/* concurrent transfers in total */
	int			per_host;		/* concurrent transfers per scheme://host:port */
	long		delay_ms;		/* minimum gap between starts on one host */
	long		connect_timeout_ms;
	long		timeout_ms;		/* whole transfer, redirects included */
	long		max_redirects;
	size_t		max_body;		/* decoded bytes; more is an error */
	/*
	 * keep the first max_body bytes of a longer body (still flagged too_large)
	 * instead of refusing it from its Content-Length: robots.txt must be
	 * obeyed as far as it was read, not ignored for being long
	 */
	bool		keep_prefix;
	const char *user_agent;
	const char *accept;			/* Accept header value */
	/* optional: a longer delay for an origin (robots.txt Crawl-delay) */
	long		(*host_delay_ms) (const char *origin, void *arg);
	void	   *host_delay_arg;

	/*
	 * optional: asked before each redirect hop is requested (the URLs given
	 * to fetch_all are the caller's to check); false refuses the hop, and
	 * the transfer ends with FetchResult.refused_url naming it.
	 */
	bool		(*redirect_allowed) (const char *url, void *arg);
	void	   *redirect_arg;

	/*
	 * Which addresses may be connected to; NULL means public ones only.
	 * Checked on the address of every socket libcurl opens, for the first
	 * request and every redirect hop alike.
	 */
	const AddressPolicy *addresses;
} FetchOptions;

typedef struct FetchResult
{
	size_t		index;			/* position in the url array given to fetch_all */
	const char *url;			/* as requested */
	CURLcode	code;			/* CURLE_OK if a response arrived */
	long		http_status;	/* last response code, 0 if none */
	const char *error;			/* NULL if code == CURLE_OK */
	bool		too_large;		/* the body cap stopped the transfer */
	const char *body;			/* decoded body (NUL-terminated), may be "" */
	size_t		body_len;
	const char *content_type;	/* may be NULL */
	const char *effective_url;	/* after redirects; never NULL */
	const char *refused_url;	/* redirect target refused by redirect_allowed, or NULL */
	bool		address_refused;	/* error says which address was refused */
} FetchResult;

/* called once per finished transfer; everything in *res dies on return */
typedef void (*FetchDone) (const FetchResult *res, void *arg);

/*
 * Fetch urls[0..n) (absolute http/https URLs) and call done for each.  Stops
 * starting transfers once `interrupted` is set, but lets those in flight
 * finish, so each started URL gets exactly one callback.  Returns 0, or -1
 * if libcurl itself failed (message on stderr).
 */
int			fetch_all(const FetchOptions *opt, char *const *urls, size_t n,
					  FetchDone done, void *arg);

#endif							/* PGLEARN_FETCH_H */
