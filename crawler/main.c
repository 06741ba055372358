/*
 * main.c: the `pglearn` command line.  Owns argument parsing, --help texts,
 * signal handling, library initialisation and the `crawl` and `add`
 * subcommands' input reading; the work itself is in crawl.c, store.c,
 * check.c and annotate.c (which parses its own options).
 *
 * Exit status: 0 everything fetched, 1 some URLs failed (or interrupted),
 * 2 usage or database error.  `check` uses the monitoring-plugin codes.
 */
#include "add_tsv.h"
#include "address.h"
#include "annotate.h"
#include "check.h"
#include "crawl.h"
#include "feed.h"
#include "store.h"
#include "util.h"
#include "version.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

static void
on_signal(int sig)
{
	static const char msg[] = "\npglearn: interrupted, finishing the transfers in flight (again to abort)\n";

	if (interrupted)
	{
		/* second signal: stop now */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	interrupted = 1;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
	{
		/* nothing useful to do in a signal handler */
	}
}

/*
 * libxml2 reports broken pages and feeds (even encoding errors, which
 * XML_PARSE_NOERROR does not cover) on stderr; bad input is normal for a
 * crawler and already shows in the row, so keep stderr for our own lines.
 */
static void
ignore_xml_generic(void *ctx, const char *msg,...)
{
	(void) ctx;
	(void) msg;
}

static void
ignore_xml_structured(void *ctx, xmlErrorPtr error)
{
	(void) ctx;
	(void) error;
}

static void
usage_main(FILE *f)
{
	fprintf(f,
			"pglearn fills pglearn.examples: crawls pages, imports labelled URLs, checks health,\n"
			"and asks you for labels.\n"
			"\n"
			"Usage:\n"
			"  pglearn crawl [OPTION]... [URL|-]...   fetch pages into pglearn.examples\n"
			"  pglearn add [OPTION]... [FILE|-]        import TSV url[<TAB>label], then crawl\n"
			"  pglearn check [OPTION]...               one-line health check for monitoring\n"
			"  pglearn annotate [OPTION]...            label the articles the model is least sure of\n"
			"  pglearn --help | --version\n"
			"\n"
			"Run \"pglearn COMMAND --help\" for the options of a command.  The database\n"
			"connection comes from the PG* environment variables or --dbname.\n");
}

static void
usage_fetch_options(FILE *f)
{
	fprintf(f,
			"Connection:\n"
			"  -d, --dbname=CONNINFO      conninfo string or postgresql:// URI (default: PG* env)\n"
			"Fetching:\n"
			"  -j, --jobs=N               concurrent transfers (default 16)\n"
			"      --per-host=N           concurrent transfers per host (default 2)\n"
			"      --delay=MS             gap between request starts per host (default 250)\n"
			"      --connect-timeout=SEC  connect time-out (default 10)\n"
			"      --timeout=SEC          total time-out per page, redirects included (default 30)\n"
			"      --max-redirects=N      redirect limit (default 5)\n"
			"      --max-body=BYTES       largest decoded body, suffix k/M (default 5M)\n"
			"      --max-text=CHARS       body text kept per page (default 100000)\n"
			"      --batch=N              rows per transaction (default 50)\n"
			"      --ignore-robots        do not read robots.txt\n"
			"      --user-agent=STRING    (default \"" PGLEARN_USER_AGENT "\")\n"
			"Addresses (checked on every connection, redirects included):\n"
			"      --allow-cidr=CIDR      also connect to this range, e.g. 10.1.2.0/24 or\n"
			"                             127.0.0.1/32 (repeatable)\n"
			"      --allow-private        connect to any address: loopback, private,\n"
			"                             link-local (cloud metadata) and the rest\n"
			"  By default only public addresses are connected to; loopback, private\n"
			"  (RFC 1918, fc00::/7), link-local, carrier-grade NAT, multicast, reserved,\n"
			"  documentation and benchmarking ranges, and IPv6 forms embedding such an\n"
			"  IPv4 address, are refused.  Proxy variables (http_proxy...) are ignored.\n"
			"Output:\n"
			"  -q, --quiet                no progress and no summary line\n"
			"  -v, --verbose              one line per URL on stderr\n"
			"  -h, --help                 this help\n");
}

static void
usage_crawl(FILE *f)
{
	fprintf(f,
			"Usage: pglearn crawl [OPTION]... [URL|-]...\n"
			"Fetch pages and upsert them into pglearn.examples.  Labels are never changed;\n"
			"a failed fetch never overwrites a good one.\n"
			"\n"
			"Input (combinable):\n"
			"  URL...                     URLs as arguments; \"-\" reads URLs from stdin\n"
			"  -f, --file=FILE            URLs from FILE, one per line (TSV: first column)\n"
			"      --feed=URL             items of an RSS 2.0/1.0 or Atom feed (repeatable)\n"
			"      --pending              rows never fetched or failed fewer than 5 times\n"
			"      --stale=DAYS           rows fetched more than DAYS days ago (fewer than 5 failures)\n"
			"      --max-feed-items=N     links taken from each feed (default %d)\n"
			"Sharing --pending/--stale with other crawlers (claims in the database):\n"
			"      --claim-size=N         URLs claimed per batch (default %d)\n"
			"      --lease=SEC            a claim lasts SEC seconds; a crawler that dies\n"
			"                             holds its batch that long (default %d)\n"
			"\n", FEED_MAX_ITEMS_DEFAULT, CLAIM_SIZE_DEFAULT, LEASE_SECONDS_DEFAULT);
	usage_fetch_options(f);
	fprintf(f, "\nExit status: 0 all fetched, 1 some failed, 2 usage or database error.\n");
}

static void
usage_add(FILE *f)
{
	fprintf(f,
			"Usage: pglearn add [OPTION]... [FILE|-]\n"
			"Import TSV lines \"url\" or \"url<TAB>label\" (label 1, -1 or 0; blank lines and\n"
			"lines starting with # are skipped) from FILE or stdin.  New URLs are inserted;\n"
			"an existing row's label changes only for an explicit 1 or -1.  Then the URLs\n"
			"not yet fetched successfully are crawled.  Any bad line stops the import\n"
			"before anything is written.\n"
			"\n"
			"      --no-fetch             only import, do not crawl\n");
	usage_fetch_options(f);
	fprintf(f, "\nExit status: 0 all fetched, 1 some failed, 2 usage or database error.\n");
}

/* ---- option parsing helpers ---- */

static bool
parse_long(const char *s, long min, long max, long *out)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* seconds, fractions allowed, to milliseconds */
static bool
parse_seconds(const char *s, long *ms)
{
	char	   *end;
	double		v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !(v > 0) || v > 86400)
		return false;
	*ms = (long) (v * 1000 + 0.5);
	if (*ms < 1)
		*ms = 1;
	return true;
}

static bool
parse_size(const char *s, size_t *out)
{
	char	   *end;
	unsigned long long v;
	unsigned long long mult = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return false;
	if (*end == 'k' || *end == 'K')
		mult = 1024, end++;
	else if (*end == 'm' || *end == 'M')
		mult = 1024 * 1024, end++;
	else if (*end == 'g' || *end == 'G')
		mult = 1024ULL * 1024 * 1024, end++;
	if (*end != '\0' || v == 0 || v > (1ULL << 40) / mult)
		return false;
	*out = (size_t) (v * mult);
	return true;
}

enum
{
	OPT_PER_HOST = 256,
	OPT_DELAY,
	OPT_CONNECT_TIMEOUT,
	OPT_TIMEOUT,
	OPT_MAX_REDIRECTS,
	OPT_MAX_BODY,
	OPT_MAX_TEXT,
	OPT_BATCH,
	OPT_IGNORE_ROBOTS,
	OPT_USER_AGENT,
	OPT_FEED,
	OPT_PENDING,
	OPT_STALE,
	OPT_NO_FETCH,
	OPT_ALLOW_PRIVATE,
	OPT_ALLOW_CIDR,
	OPT_MAX_FEED_ITEMS,
	OPT_CLAIM_SIZE,
	OPT_LEASE
};

static const struct option long_options[] = {
	{"dbname", required_argument, NULL, 'd'},
	{"jobs", required_argument, NULL, 'j'},
	{"per-host", required_argument, NULL, OPT_PER_HOST},
	{"delay", required_argument, NULL, OPT_DELAY},
	{"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"max-redirects", required_argument, NULL, OPT_MAX_REDIRECTS},
	{"max-body", required_argument, NULL, OPT_MAX_BODY},
	{"max-text", required_argument, NULL, OPT_MAX_TEXT},
	{"batch", required_argument, NULL, OPT_BATCH},
	{"ignore-robots", no_argument, NULL, OPT_IGNORE_ROBOTS},
	{"user-agent", required_argument, NULL, OPT_USER_AGENT},
	{"allow-private", no_argument, NULL, OPT_ALLOW_PRIVATE},
	{"allow-cidr", required_argument, NULL, OPT_ALLOW_CIDR},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	/* crawl only */
	{"file", required_argument, NULL, 'f'},
	{"feed", required_argument, NULL, OPT_FEED},
	{"pending", no_argument, NULL, OPT_PENDING},
	{"stale", required_argument, NULL, OPT_STALE},
	{"max-feed-items", required_argument, NULL, OPT_MAX_FEED_ITEMS},
	{"claim-size", required_argument, NULL, OPT_CLAIM_SIZE},
	{"lease", required_argument, NULL, OPT_LEASE},
	/* add only */
	{"no-fetch", no_argument, NULL, OPT_NO_FETCH},
	{NULL, 0, NULL, 0}
};

typedef struct Args
{
	CrawlConfig crawl;
	const char *dbname;
	long		batch;
	const char *file;
	StrList		feeds;
	bool		pending;
	long		stale_days;		/* -1: off */
	bool		no_fetch;
	bool		claim_option;	/* --claim-size or --lease given */
	char		claimant[200];	/* claimed_by of this run (claim_urls takes up to 200) */
	AddressPolicy addresses;	/* crawl.fetch.addresses points here */
} Args;

/* what parse_args allocated; safe after any return of it */
static void
args_free(Args *a)
{
	strlist_free(&a->feeds);
	address_policy_free(&a->addresses);
	a->crawl.fetch.addresses = NULL;
}

static void
bad_usage(const char *command, const char *fmt, const char *arg)
{
	fprintf(stderr, "pglearn %s: ", command);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry \"pglearn %s --help\".\n", command);
}

/* returns -1 on a usage error (printed), 1 if --help was shown, 0 otherwise */
static int
parse_args(const char *command, int argc, char **argv, Args *a)
{
	bool		is_crawl = strcmp(command, "crawl") == 0;
	int			c;
	long		v;

	memset(a, 0, sizeof(*a));
	a->crawl.command = command;
	a->crawl.fetch.jobs = 16;
	a->crawl.fetch.per_host = 2;
	a->crawl.fetch.delay_ms = 250;
	a->crawl.fetch.connect_timeout_ms = 10000;
	a->crawl.fetch.timeout_ms = 30000;
	a->crawl.fetch.max_redirects = 5;
	a->crawl.fetch.max_body = 5 * 1024 * 1024;
	a->crawl.fetch.user_agent = PGLEARN_USER_AGENT;
	a->crawl.max_text = 100000;
	a->crawl.max_feed_items = FEED_MAX_ITEMS_DEFAULT;
	a->crawl.claim_size = CLAIM_SIZE_DEFAULT;
	a->crawl.lease_ms = LEASE_SECONDS_DEFAULT * 1000L;
	a->crawl.fetch.addresses = &a->addresses;
	a->batch = 50;
	a->stale_days = -1;
	strlist_init(&a->feeds);

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:j:f:qvh", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				a->dbname = optarg;
				break;
			case 'j':
				if (!parse_long(optarg, 1, 1000, &v))
					return bad_usage(command, "--jobs must be 1..1000, not \"%s\"", optarg), -1;
				a->crawl.fetch.jobs = (int) v;
				break;
			case OPT_PER_HOST:
				if (!parse_long(optarg, 1, 1000, &v))
					return bad_usage(command, "--per-host must be 1..1000, not \"%s\"", optarg), -1;
				a->crawl.fetch.per_host = (int) v;
				break;
			case OPT_DELAY:
				if (!parse_long(optarg, 0, 3600000, &v))
					return bad_usage(command, "--delay must be 0..3600000 ms, not \"%s\"", optarg), -1;
				a->crawl.fetch.delay_ms = v;
				break;
			case OPT_CONNECT_TIMEOUT:
				if (!parse_seconds(optarg, &a->crawl.fetch.connect_timeout_ms))
					return bad_usage(command, "--connect-timeout must be positive seconds, not \"%s\"", optarg), -1;
				break;
			case OPT_TIMEOUT:
				if (!parse_seconds(optarg, &a->crawl.fetch.timeout_ms))
					return bad_usage(command, "--timeout must be positive seconds, not \"%s\"", optarg), -1;
				break;
			case OPT_MAX_REDIRECTS:
				if (!parse_long(optarg, 0, 50, &v))
					return bad_usage(command, "--max-redirects must be 0..50, not \"%s\"", optarg), -1;
				a->crawl.fetch.max_redirects = v;
				break;
			case OPT_MAX_BODY:
				if (!parse_size(optarg, &a->crawl.fetch.max_body))
					return bad_usage(command, "--max-body must be a size such as 65536, 512k or 5M, not \"%s\"", optarg), -1;
				break;
			case OPT_MAX_TEXT:
				if (!parse_long(optarg, 1, 100000000, &v))
					return bad_usage(command, "--max-text must be 1..100000000, not \"%s\"", optarg), -1;
				a->crawl.max_text = (size_t) v;
				break;
			case OPT_BATCH:
				if (!parse_long(optarg, 1, 100000, &v))
					return bad_usage(command, "--batch must be 1..100000, not \"%s\"", optarg), -1;
				a->batch = v;
				break;
			case OPT_IGNORE_ROBOTS:
				a->crawl.ignore_robots = true;
				break;
			case OPT_USER_AGENT:
				a->crawl.fetch.user_agent = optarg;
				break;
			case OPT_ALLOW_PRIVATE:
				a->addresses.allow_all = true;
				break;
			case OPT_ALLOW_CIDR:
				{
					char		err[256];

					if (!address_policy_add(&a->addresses, optarg, err, sizeof(err)))
						return bad_usage(command, "--allow-cidr: %s", err), -1;
				}
				break;
			case OPT_MAX_FEED_ITEMS:
				if (!is_crawl)
					return bad_usage(command, "unknown option \"%s\"", "--max-feed-items"), -1;
				if (!parse_long(optarg, 1, 10000000, &v))
					return bad_usage(command, "--max-feed-items must be 1..10000000, not \"%s\"", optarg), -1;
				a->crawl.max_feed_items = (size_t) v;
				break;
			case 'q':
				a->crawl.quiet = true;
				break;
			case 'v':
				a->crawl.verbose = true;
				break;
			case 'h':
				if (is_crawl)
					usage_crawl(stdout);
				else
					usage_add(stdout);
				return 1;
			case 'f':
				if (!is_crawl)
					return bad_usage(command, "unknown option \"%s\"", "--file"), -1;
				a->file = optarg;
				break;
			case OPT_FEED:
				if (!is_crawl)
					return bad_usage(command, "unknown option \"%s\"", "--feed"), -1;
				{
					char	   *norm = url_normalize(optarg);

					if (norm == NULL)
						return bad_usage(command, "--feed needs an http(s) URL, not \"%s\"", optarg), -1;
					free(norm);
				}
				strlist_push(&a->feeds, xstrdup(optarg));
				break;
			case OPT_PENDING:
				if (!is_crawl)
					return bad_usage(command, "unknown option \"%s\"", "--pending"), -1;
				a->pending = true;
				break;
			case OPT_STALE:
				if (!is_crawl)
					return bad_usage(command, "unknown option \"%s\"", "--stale"), -1;
				if (!parse_long(optarg, 0, 100000, &a->stale_days))
					return bad_usage(command, "--stale must be 0..100000 days, not \"%s\"", optarg), -1;
				break;
			case OPT_CLAIM_SIZE:
				if (!is_crawl)
					return bad_usage(command, "unknown option \"%s\"", "--claim-size"), -1;
				if (!parse_long(optarg, 1, 100000, &v))
					return bad_usage(command, "--claim-size must be 1..100000, not \"%s\"", optarg), -1;
				a->crawl.claim_size = (int) v;
				a->claim_option = true;
				break;
			case OPT_LEASE:
				if (!is_crawl)
					return bad_usage(command, "unknown option \"%s\"", "--lease"), -1;
				if (!parse_seconds(optarg, &a->crawl.lease_ms))
					return bad_usage(command, "--lease must be positive seconds, at most 86400, not \"%s\"", optarg), -1;
				a->claim_option = true;
				break;
			case OPT_NO_FETCH:
				if (is_crawl)
					return bad_usage(command, "unknown option \"%s\"", "--no-fetch"), -1;
				a->no_fetch = true;
				break;
			case ':':
				return bad_usage(command, "option \"%s\" needs a value", argv[optind - 1]), -1;
			default:
				return bad_usage(command, "unknown option \"%s\"", argv[optind - 1]), -1;
		}
	}
	return 0;
}

/* ---- input ---- */

/* URLs from a file or stdin: first TSV column, blanks and #comments skipped */
static int
read_url_lines(FILE *f, const char *name, StrList *out)
{
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		n;

	while ((n = getline(&line, &cap, f)) >= 0)
	{
		char	   *l = trim_line(line);
		char	   *tab = strchr(l, '\t');

		if (tab)
		{
			*tab = '\0';
			l = trim_line(l);
		}
		if (l[0] == '\0' || l[0] == '#')
			continue;
		strlist_push(out, xstrdup(l));
	}
	free(line);
	if (ferror(f))
	{
		fprintf(stderr, "pglearn: cannot read %s: %s\n", name, strerror(errno));
		return -1;
	}
	return 0;
}

static int
read_url_file(const char *path, StrList *out)
{
	FILE	   *f;
	int			r;

	if (strcmp(path, "-") == 0)
		return read_url_lines(stdin, "stdin", out);
	f = fopen(path, "r");
	if (f == NULL)
	{
		fprintf(stderr, "pglearn: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	r = read_url_lines(f, path, out);
	fclose(f);
	return r;
}

/* ---- subcommands ---- */

static int
crawl_main(int argc, char **argv)
{
	Args		a;
	StrList		urls;
	Store		store;
	int			r;
	bool		stdin_used = false;

	r = parse_args("crawl", argc, argv, &a);
	if (r != 0)
	{
		args_free(&a);
		return r > 0 ? EXIT_ALL_OK : EXIT_USAGE;
	}
	strlist_init(&urls);
	for (int i = optind; i < argc; i++)
	{
		if (strcmp(argv[i], "-") == 0)
		{
			if (!stdin_used && read_url_file("-", &urls) != 0)
				goto usage_fail;
			stdin_used = true;
		}
		else
			strlist_push(&urls, xstrdup(argv[i]));
	}
	if (a.file && read_url_file(a.file, &urls) != 0)
		goto usage_fail;
	if (urls.len == 0 && a.feeds.len == 0 && !a.pending && a.stale_days < 0)
	{
		bad_usage("crawl", "%s", "nothing to crawl: give URLs, -, --file, --feed, --pending or --stale");
		goto usage_fail;
	}

	if (a.claim_option && !a.pending && a.stale_days < 0)
	{
		bad_usage("crawl", "%s", "--claim-size and --lease are for --pending and --stale");
		goto usage_fail;
	}
	if (a.pending || a.stale_days >= 0)
	{
		char		host[256];

		/* who holds a claim, for pglearn.crawl_claims readers and release */
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "unknown-host");
		host[sizeof(host) - 1] = '\0';
		snprintf(a.claimant, sizeof(a.claimant), "%.150s pid %ld", host, (long) getpid());
		a.crawl.claim = true;
		a.crawl.claim_pending = a.pending;
		a.crawl.claim_stale_days = (int) a.stale_days;
		a.crawl.claimant = a.claimant;
	}

	if (store_open(&store, a.dbname, (int) a.batch) != 0)
	{
		store_close(&store);
		goto usage_fail;
	}
	r = crawl_run(&a.crawl, &store, &urls, &a.feeds);
	store_close(&store);
	strlist_free(&urls);
	args_free(&a);
	return r;

usage_fail:
	strlist_free(&urls);
	args_free(&a);
	return EXIT_USAGE;
}

static int
add_main(int argc, char **argv)
{
	Args		a;
	const char *path = "-";
	FILE	   *f;
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;
	int			lineno = 0;
	int			errors = 0;
	AddEntry   *entries = NULL;
	size_t		nentries = 0,
				centries = 0;
	Store		store;
	AddStats	stats;
	StrList		to_fetch;
	int			r;

	r = parse_args("add", argc, argv, &a);
	if (r != 0)
	{
		args_free(&a);
		return r > 0 ? EXIT_ALL_OK : EXIT_USAGE;
	}
	if (argc - optind > 1)
	{
		bad_usage("add", "%s", "at most one input file");
		args_free(&a);
		return EXIT_USAGE;
	}
	if (optind < argc)
		path = argv[optind];
	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (f == NULL)
	{
		fprintf(stderr, "pglearn add: cannot open %s: %s\n", path, strerror(errno));
		args_free(&a);
		return EXIT_USAGE;
	}

	/* validate everything first: a bad line must not leave half an import */
	while ((len = getline(&line, &cap, f)) >= 0)
	{
		char	   *url;
		int			label;
		char	   *error;

		lineno++;
		switch (add_parse_line(line, (size_t) len, &url, &label, &error))
		{
			case ADD_LINE_SKIP:
				continue;
			case ADD_LINE_ERROR:
				fprintf(stderr, "pglearn add: %s:%d: %s\n", path, lineno, error);
				free(error);
				errors++;
				continue;
			case ADD_LINE_ENTRY:
				break;
		}
		if (nentries == centries)
		{
			centries = centries ? centries * 2 : 64;
			entries = xrealloc(entries, centries * sizeof(AddEntry));
		}
		entries[nentries].url = xstrdup(url);
		entries[nentries].label = label;
		entries[nentries].line = lineno;
		nentries++;
	}
	free(line);
	if (ferror(f))
	{
		fprintf(stderr, "pglearn add: cannot read %s: %s\n", path, strerror(errno));
		errors++;
	}
	if (f != stdin)
		fclose(f);

	r = EXIT_USAGE;
	strlist_init(&to_fetch);
	if (errors > 0)
	{
		fprintf(stderr, "pglearn add: %d bad line%s, nothing imported\n", errors, errors == 1 ? "" : "s");
		goto done;
	}
	if (store_open(&store, a.dbname, (int) a.batch) != 0)
	{
		store_close(&store);
		goto done;
	}
	if (store_add_entries(&store, entries, nentries, &stats, a.no_fetch ? NULL : &to_fetch) != 0)
	{
		store_close(&store);
		goto done;
	}
	if (!a.crawl.quiet)
		fprintf(stderr, "pglearn add: %zu URLs: %zu new, %zu relabelled, %zu unchanged\n",
				nentries, stats.inserted, stats.relabelled, stats.unchanged);
	r = EXIT_ALL_OK;
	if (!a.no_fetch && to_fetch.len > 0)
		r = crawl_run(&a.crawl, &store, &to_fetch, NULL);
	store_close(&store);

done:
	for (size_t i = 0; i < nentries; i++)
		free(entries[i].url);
	free(entries);
	strlist_free(&to_fetch);
	args_free(&a);
	return r;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	int			r;
	CURLcode	cc;

	if (argc < 2)
	{
		usage_main(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
		strcmp(argv[1], "help") == 0)
	{
		usage_main(stdout);
		return EXIT_ALL_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
	{
		curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

		printf("pglearn %s (libcurl %s, libxml2 %s, libpq %d)\n", PGLEARN_VERSION,
			   cv ? cv->version : "?", xmlParserVersion, PQlibVersion());
		return EXIT_ALL_OK;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
	{
		fprintf(stderr, "pglearn: sigaction: %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	/* a closed pipe on stdout/stderr must not kill us mid-batch */
	signal(SIGPIPE, SIG_IGN);

	cc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (cc != CURLE_OK)
	{
		fprintf(stderr, "pglearn: curl_global_init: %s\n", curl_easy_strerror(cc));
		return EXIT_USAGE;
	}
	LIBXML_TEST_VERSION;
	xmlInitParser();
	/* the handlers are per thread: set ours and the default for new threads */
	xmlSetGenericErrorFunc(NULL, ignore_xml_generic);
	xmlSetStructuredErrorFunc(NULL, ignore_xml_structured);
	xmlThrDefSetGenericErrorFunc(NULL, ignore_xml_generic);
	xmlThrDefSetStructuredErrorFunc(NULL, ignore_xml_structured);

	if (strcmp(argv[1], "crawl") == 0)
		r = crawl_main(argc - 1, argv + 1);
	else if (strcmp(argv[1], "add") == 0)
		r = add_main(argc - 1, argv + 1);
	else if (strcmp(argv[1], "check") == 0)
		r = check_main(argc - 1, argv + 1);
	else if (strcmp(argv[1], "annotate") == 0)
		r = annotate_main(argc - 1, argv + 1);
	else
	{
		fprintf(stderr, "pglearn: unknown command \"%s\"\n", argv[1]);
		usage_main(stderr);
		r = EXIT_USAGE;
	}

	xmlCleanupParser();
	curl_global_cleanup();
	return r;
}
