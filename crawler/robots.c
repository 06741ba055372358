/*
 * robots.c: parsing robots.txt and answering "may we fetch this URL".
 * Owns the group selection (our product token, else "*") and RFC 9309
 * matching: longest matching path pattern wins, Allow wins a tie, "*" matches
 * any run of characters and a trailing "$" anchors the end.  Fetching the
 * files is main.c's job (through fetch.c).
 */
#include "robots.h"
#include "util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct Rule
{
	char	   *pattern;
	bool		allow;
} Rule;

typedef enum
{
	ROBOTS_ALLOW_ALL,
	ROBOTS_DISALLOW_ALL,
	ROBOTS_RULES
} RobotsMode;

typedef struct HostRules
{
	RobotsMode	mode;
	Rule	   *rules;
	size_t		nrules;
	long		crawl_delay_ms;
} HostRules;

struct RobotsCache
{
	StrMap		hosts;			/* origin -> HostRules* */
	HostRules **all;
	size_t		nall;
	size_t		capall;
};

RobotsCache *
robots_new(void)
{
	RobotsCache *rc = xmalloc(sizeof(RobotsCache));

	strmap_init(&rc->hosts);
	rc->all = NULL;
	rc->nall = rc->capall = 0;
	return rc;
}

void
robots_free(RobotsCache *rc)
{
	if (rc == NULL)
		return;
	for (size_t i = 0; i < rc->nall; i++)
	{
		for (size_t j = 0; j < rc->all[i]->nrules; j++)
			free(rc->all[i]->rules[j].pattern);
		free(rc->all[i]->rules);
		free(rc->all[i]);
	}
	free(rc->all);
	strmap_free(&rc->hosts);
	free(rc);
}

/* does a User-agent value name us?  "*" is handled by the caller */
static bool
agent_matches(const char *value)
{
	return ascii_ieq(value, PGLEARN_ROBOTS_AGENT) || ascii_ieq(value, "pglearn");
}

static void
add_rule(Rule **rules, size_t *n, size_t *cap, const char *pattern, bool allow)
{
	if (*n == *cap)
	{
		*cap = *cap ? *cap * 2 : 8;
		*rules = xrealloc(*rules, *cap * sizeof(Rule));
	}
	(*rules)[*n].pattern = xstrdup(pattern);
	(*rules)[*n].allow = allow;
	(*n)++;
}

/*
 * Parse body into the rules that apply to us: those of groups naming our
 * token if any, else those of "*" groups.
 */
static void
parse_rules(HostRules *hr, const char *body, size_t len)
{
	Rule	   *mine = NULL,
			   *star = NULL;
	size_t		nmine = 0,
				cmine = 0,
				nstar = 0,
				cstar = 0;
	bool		group_mine = false,
				group_star = false;
	bool		in_agents = false;	/* previous line was a User-agent line */
	bool		saw_mine = false;
	long		delay_mine = 0,
				delay_star = 0;
	const char *p = body;
	const char *end = body + len;

	while (p < end)
	{
		const char *eol = memchr(p, '\n', end - p);
		const char *lend = eol ? eol : end;
		const char *hash = memchr(p, '#', lend - p);
		const char *colon;
		char	   *field,
				   *value;

		if (hash)
			lend = hash;
		colon = memchr(p, ':', lend - p);
		if (colon)
		{
			field = xstrndup(p, colon - p);
			value = xstrndup(colon + 1, lend - colon - 1);
			collapse_whitespace(field);
			collapse_whitespace(value);
			/* a value is one token: "Disallow: /a b" keeps "/a" */
			char	   *sp = strchr(value, ' ');

			if (sp)
				*sp = '\0';
			if (ascii_ieq(field, "user-agent"))
			{
				if (!in_agents)
					group_mine = group_star = false;
				in_agents = true;
				if (strcmp(value, "*") == 0)
					group_star = true;
				else if (agent_matches(value))
					group_mine = saw_mine = true;
			}
			else if (ascii_ieq(field, "allow") || ascii_ieq(field, "disallow"))
			{
				bool		allow = ascii_ieq(field, "allow");

				in_agents = false;
				/* "Disallow:" with no path allows everything: no rule */
				if (value[0] != '\0')
				{
					if (group_mine)
						add_rule(&mine, &nmine, &cmine, value, allow);
					if (group_star)
						add_rule(&star, &nstar, &cstar, value, allow);
				}
			}
			else if (ascii_ieq(field, "crawl-delay"))
			{
				/* not in RFC 9309, but widely used: seconds, fractions allowed */
				double		secs = atof(value);
				long		ms = secs > 60 ? 60000 : secs > 0 ? (long) (secs * 1000) : 0;

				in_agents = false;
				if (group_mine)
					delay_mine = ms;
				if (group_star)
					delay_star = ms;
			}
			else
				in_agents = false;	/* sitemap and others end the agent list */
			free(field);
			free(value);
		}
		p = eol ? eol + 1 : end;
	}

	hr->crawl_delay_ms = saw_mine ? delay_mine : delay_star;
	if (saw_mine)
	{
		hr->rules = mine;
		hr->nrules = nmine;
		for (size_t i = 0; i < nstar; i++)
			free(star[i].pattern);
		free(star);
	}
	else
	{
		hr->rules = star;
		hr->nrules = nstar;
		for (size_t i = 0; i < nmine; i++)
			free(mine[i].pattern);
		free(mine);
	}
	hr->mode = ROBOTS_RULES;
}

void
robots_store(RobotsCache *rc, const char *origin, long http_status,
			 const char *body, size_t len)
{
	HostRules  *hr;

	if (strmap_get(&rc->hosts, origin))
		return;
	hr = xmalloc(sizeof(HostRules));
	memset(hr, 0, sizeof(HostRules));
	if (http_status >= 200 && http_status < 300)
		parse_rules(hr, body, len);
	else if (http_status >= 500)
		hr->mode = ROBOTS_DISALLOW_ALL;
	else
		hr->mode = ROBOTS_ALLOW_ALL;
	strmap_put(&rc->hosts, origin, hr);
	if (rc->nall == rc->capall)
	{
		rc->capall = rc->capall ? rc->capall * 2 : 16;
		rc->all = xrealloc(rc->all, rc->capall * sizeof(HostRules *));
	}
	rc->all[rc->nall++] = hr;
}

/* does path match a robots pattern?  Patterns match prefixes of the path. */
static bool
pattern_match(const char *pat, const char *path)
{
	for (;;)
	{
		if (*pat == '\0')
			return true;		/* prefix match */
		if (*pat == '$' && pat[1] == '\0')
			return *path == '\0';
		if (*pat == '*')
		{
			while (*pat == '*')
				pat++;
			if (*pat == '\0')
				return true;
			for (const char *s = path;; s++)
			{
				if (pattern_match(pat, s))
					return true;
				if (*s == '\0')
					return false;
			}
		}
		if (*path == '\0' || *pat != *path)
			return false;
		pat++;
		path++;
	}
}

long
robots_crawl_delay_ms(const RobotsCache *rc, const char *origin)
{
	HostRules  *hr;

	if (rc == NULL)
		return 0;
	hr = strmap_get(&rc->hosts, origin);
	return hr ? hr->crawl_delay_ms : 0;
}

bool
robots_allowed(const RobotsCache *rc, const char *url)
{
	char	   *origin;
	HostRules  *hr;
	char	   *path;
	long		best_len = -1;
	bool		best_allow = true;

	if (rc == NULL)
		return true;
	origin = url_origin(url);
	if (origin == NULL)
		return true;
	hr = strmap_get(&rc->hosts, origin);
	free(origin);
	if (hr == NULL || hr->mode == ROBOTS_ALLOW_ALL)
		return true;
	if (hr->mode == ROBOTS_DISALLOW_ALL)
		return false;
	path = url_path_query(url);
	if (strcmp(path, "/robots.txt") == 0)
	{
		free(path);
		return true;
	}
	for (size_t i = 0; i < hr->nrules; i++)
	{
		const Rule *r = &hr->rules[i];
		long		l = (long) strlen(r->pattern);

		if (!pattern_match(r->pattern, path))
			continue;
		if (l > best_len || (l == best_len && r->allow))
		{
			best_len = l;
			best_allow = r->allow;
		}
	}
	free(path);
	return best_allow;
}

bool
robots_known(const RobotsCache *rc, const char *origin)
{
	return rc != NULL && strmap_get(&rc->hosts, origin) != NULL;
}
