/*
 * annotate.c: `pglearn annotate`, the labelling loop of active learning.
 *
 * Shows the unlabelled article the model is least sure of
 * (pglearn.uncertain), the features pushing its score
 * (pglearn.supporting_features), reads one key, writes the label with
 * pglearn.label() and refits the model with pglearn.fit() every N labels.
 * Ranking, scoring and learning all stay in the database; this file owns
 * only the terminal, the browser launch and the order of the statements.
 *
 * Keys come either from a terminal, put in non-canonical mode so no Enter is
 * needed (the old mode is restored on every exit path and on SIGINT, SIGTERM
 * and SIGTSTP), or from a pipe or file, one key per byte with whitespace
 * ignored -- which is how the tests drive it.
 *
 * No model yet: the named model is fitted first from the rows already
 * labelled (`pglearn add` with url<TAB>1 / url<TAB>-1 lines gives some).  If
 * that fit fails (one class only, fewer rows than folds) the server's reason
 * and hint are shown and the exit status is 1.
 *
 * Exit status: 0 after 'e', end of input, --limit or nothing left to label;
 * 1 no model and none can be fitted yet; 2 usage or database error.
 */
/* posix_spawn's POSIX_SPAWN_SETSID and environ are GNU extensions */
#define _GNU_SOURCE

#include "annotate.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <libpq-fe.h>

/* longest title shown, in characters: one or two terminal lines */
#define TITLE_CHARS 160
#define URL_CHARS	300

typedef struct Annotate
{
	PGconn	   *conn;
	char	   *model;			/* model name (malloc'd) */
	const char *params;			/* fit() parameters, jsonb text */
	bool		rescore;		/* refits also rescore examples.score */
	long		pool;			/* candidates rescored between labels */
	long		unlabelled;		/* candidates when the session began, less our labels */
	bool		pool_only;		/* a refit since the last full rescore rescored
								 * only its pool */
	long		per_host;		/* 0: no cap */
	long		features;		/* supporting features shown; 0: none */
	long		refit_every;	/* 0: only when the session ends */
	long		limit;			/* labels before stopping; 0: no limit */
	bool		open;			/* launch the browser on each article */
	bool		tty;			/* keys from a terminal */
	StrList		skipped;		/* URLs not to show again this session */
	long		labelled;
	long		positive;
	long		negative;
	long		since_fit;		/* labels the stored model has not seen */
	long		fits;
} Annotate;

/* one article to label */
typedef struct Candidate
{
	char	   *url;
	char	   *title;			/* NULL when the page had none */
	double		score;			/* probability of +1 under the model */
	long		left;			/* candidates left, this one included */
	bool		left_exact;		/* left counts candidates, not unlabelled rows */
} Candidate;

static void
usage_annotate(FILE *f)
{
	fprintf(f,
			"Usage: pglearn annotate [OPTION]...\n"
			"Label the unlabelled articles the model is least sure of, one key each:\n"
			"  p positive (1), n negative (-1), s skip, h help, e exit.\n"
			"Keys need no Enter on a terminal; piped input is read one key per byte,\n"
			"whitespace ignored.  The model is refitted after every N labels and its\n"
			"cross-validated metrics shown.  A model that does not exist yet is fitted\n"
			"first from the labelled rows.\n"
			"\n"
			"  -d, --dbname=CONNINFO      conninfo string or postgresql:// URI (default: PG* env)\n"
			"  -m, --model=NAME           model to use and refit (default: the setting\n"
			"                             pglearn.default_model, else \"default\")\n"
			"      --params=JSON          fit() parameters for refits (default {})\n"
			"      --refit-every=N        refit after every N labels (default 1; 0: only at the end)\n"
			"      --no-rescore           do not rescore pglearn.examples after a refit of the\n"
			"                             default model (the one examples.score belongs to)\n"
			"      --pool=N               between labels, rescore only the N articles the stored\n"
			"                             scores rank most uncertain (default 1000); the whole\n"
			"                             table is rescored when the session ends\n"
			"      --per-host=N           at most N candidates per host (default: no cap)\n"
			"      --features=K           supporting features shown (default 5; 0: none)\n"
			"      --limit=N              stop after N labels\n"
			"      --open                 open each article in $BROWSER or xdg-open\n"
			"  -h, --help                 this help\n"
			"\n"
			"Exit status: 0 done (e, end of input, --limit, nothing left), 1 no model and\n"
			"too few labels to fit one, 2 usage or database error.\n");
}

static void
usage_keys(void)
{
	printf("  p  positive: interesting (label 1)\n"
		   "  n  negative: not interesting (label -1)\n"
		   "  s  skip: leave unlabelled, not shown again in this session\n"
		   "  h  this help\n"
		   "  e  exit (end of input too; Ctrl-C exits at once, without the final refit)\n");
}

/* ---- terminal ---- */

static struct termios saved_termios;
/* set while the terminal is in our mode and saved_termios must be restored */
static volatile sig_atomic_t terminal_changed;

/* async-signal-safe: called from the signal handler and atexit */
static void
terminal_restore(void)
{
	if (terminal_changed)
	{
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
		terminal_changed = 0;
	}
}

/* single keys without Enter and without echo; signals (Ctrl-C) still work */
static bool
terminal_single_keys(void)
{
	struct termios t = saved_termios;

	t.c_lflag &= ~(ICANON | ECHO);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) != 0)
		return false;
	terminal_changed = 1;
	return true;
}

static void on_annotate_signal(int sig);

static void
install_handler(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_annotate_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/*
 * SIGINT/SIGTERM: give the terminal back, then die of the signal as if we
 * had no handler (labels are committed one by one; a refit in progress is
 * rolled back by the server).  SIGTSTP: give the terminal back, stop, and
 * take single-key mode again when continued.
 */
static void
on_annotate_signal(int sig)
{
	int			saved_errno = errno;
	bool		was_changed = terminal_changed;
	sigset_t	set;

	terminal_restore();
	sigemptyset(&set);
	sigaddset(&set, sig);
	if (sig == SIGTSTP)
	{
		signal(SIGTSTP, SIG_DFL);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(SIGTSTP);
		/* continued */
		install_handler(SIGTSTP);
		if (was_changed)
			terminal_single_keys();
		errno = saved_errno;
		return;
	}
	if (write(STDOUT_FILENO, "\n", 1) < 0)
	{
		/* nothing to do about it in a signal handler */
	}
	signal(sig, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}

/*
 * The next key: a byte that is not whitespace, or EOF at the end of input
 * (Ctrl-D on a terminal).  UTF-8 continuation bytes are dropped so a
 * non-ASCII key is reported once, not once per byte.
 */
static int
read_key(const Annotate *a)
{
	for (;;)
	{
		unsigned char c;
		ssize_t		n = read(STDIN_FILENO, &c, 1);

		if (n == 0)
			return EOF;
		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			fprintf(stderr, "pglearn annotate: cannot read the keys: %s\n", strerror(errno));
			return EOF;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		if (c >= 0x80 && c <= 0xbf)
			continue;
		if (a->tty && c == 0x04)
			return EOF;
		return c;
	}
}

/* ---- output ---- */

/*
 * A copy of s for one terminal line: control characters (C0, DEL, C1)
 * become spaces, so a page title cannot move the cursor or send escape
 * sequences to the terminal; cut to max_chars characters.  s is UTF-8.
 */
static char *
printable(const char *s, size_t max_chars)
{
	char	   *out = xmalloc(strlen(s) + 4);
	char	   *o = out;
	size_t		before;

	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (*p < 0x20 || *p == 0x7f)
			*o++ = ' ';
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		{
			*o++ = ' ';
			p++;
		}
		else
			*o++ = (char) *p;
	}
	*o = '\0';
	before = strlen(out);
	utf8_truncate(out, max_chars);
	if (strlen(out) < before)
		strcat(out, "...");
	return out;
}

/* print a failed statement's error: primary message, then detail and hint */
static void
report_error(PGconn *conn, const PGresult *res, const char *what)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;

	fflush(stdout);
	if (primary == NULL)
	{
		fprintf(stderr, "pglearn annotate: %s: %s", what, PQerrorMessage(conn));
		return;
	}
	fprintf(stderr, "pglearn annotate: %s: %s\n", what, primary);
	if (detail)
		fprintf(stderr, "detail: %s\n", detail);
	if (hint)
		fprintf(stderr, "hint: %s\n", hint);
}

/*
 * Run a statement whose parameters are all text.  Returns the result when it
 * succeeded (caller clears it); else prints the error and returns NULL.
 * After NULL, PQstatus(conn) tells a lost database from a refused statement.
 */
static PGresult *
query(Annotate *a, const char *what, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res = PQexecParams(a->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	report_error(a->conn, res, what);
	PQclear(res);
	return NULL;
}

static bool
connection_lost(const Annotate *a)
{
	return PQstatus(a->conn) != CONNECTION_OK;
}

/* a jsonb number as text, printed with 3 decimals; "-" for NULL */
static void
print_metric(const char *name, const PGresult *res, int col)
{
	if (PQgetisnull(res, 0, col))
		printf("%s -", name);
	else
		printf("%s %.3f", name, strtod(PQgetvalue(res, 0, col), NULL));
}

/* ---- database steps ---- */

/*
 * Rescores the candidates the next articles come from: the a->pool
 * articles the stored scores rank most uncertain (pglearn.rescore_candidates).
 * A full rescore reads every row (minutes at a million rows); between two
 * key presses this keeps the ranking current where it matters, and the
 * session's last refit rescores the whole table.
 */
static bool
rescore_pool(Annotate *a)
{
	char		pool[24];
	char		per_host[24];
	const char *params[3] = {a->model, pool, NULL};
	PGresult   *res;

	snprintf(pool, sizeof(pool), "%ld", a->pool);
	if (a->per_host > 0)
	{
		snprintf(per_host, sizeof(per_host), "%ld", a->per_host);
		params[2] = per_host;
	}
	res = query(a, "rescore failed",
				"SELECT pglearn.rescore_candidates($1, $2::int4, $3::int4)", 3, params);
	if (res == NULL)
		return false;
	printf(" (%s of the %ld most uncertain rescored)", PQgetvalue(res, 0, 0), a->pool);
	PQclear(res);
	return true;
}

/*
 * Rescores every row with the model (the end of a session whose refits
 * rescored only the pool), printing how many scores changed.
 */
static bool
rescore_all(Annotate *a)
{
	const char *params[1] = {a->model};
	PGresult   *res;

	printf("rescoring every article with \"%s\" ... ", a->model);
	fflush(stdout);
	res = query(a, "rescore failed", "SELECT pglearn.rescore($1)", 1, params);
	if (res == NULL)
		return false;
	printf("%s scores changed\n", PQgetvalue(res, 0, 0));
	PQclear(res);
	a->pool_only = false;
	return true;
}

/*
 * Fit the model on pglearn.examples (autocommit: the new row in
 * pglearn.models is the live model at once), rescore the stored scores when
 * they belong to this model, and print one line of cross-validated metrics.
 *
 * between_labels: a refit while the person waits for the next article.
 * Unless --params names "C", it asks fit() for "C": "previous", the C the
 * live model of this name chose, instead of fit()'s default grid (five
 * cross-validations); the first fit and the one at the end of the session
 * search the grid.
 */
static bool
refit(Annotate *a, bool between_labels)
{
	const char *params[3] = {a->model, a->params, between_labels ? "true" : "false"};
	PGresult   *res;

	/* a fit can take a while: say what we wait for */
	printf("fitting \"%s\" ... ", a->model);
	fflush(stdout);
	res = PQexecParams(a->conn,
					   "SELECT m->>'n', m->>'accuracy', m->>'f1', m->>'roc_auc'"
					   "  FROM pglearn.fit($1, 'pglearn.examples',"
					   "       CASE WHEN $3::bool AND NOT $2::jsonb ? 'C'"
					   "            THEN $2::jsonb || '{\"C\": \"previous\"}' ELSE $2::jsonb END) AS m",
					   3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		printf("failed\n");
		report_error(a->conn, res, "cannot fit the model");
		PQclear(res);
		return false;
	}
	printf("n %s, ", PQgetisnull(res, 0, 0) ? "-" : PQgetvalue(res, 0, 0));
	print_metric("accuracy", res, 1);
	printf(", ");
	print_metric("f1", res, 2);
	printf(", ");
	print_metric("roc_auc", res, 3);
	PQclear(res);
	a->fits++;
	a->since_fit = 0;

	if (a->rescore && between_labels)
	{
		if (!rescore_pool(a))
			return false;
		a->pool_only = true;	/* the rest waits for the end of the session */
	}
	else if (a->rescore)
	{
		res = query(a, "rescore failed", "SELECT pglearn.rescore($1)", 1, params);
		if (res == NULL)
			return false;
		printf(" (%s scores changed)", PQgetvalue(res, 0, 0));
		PQclear(res);
		a->pool_only = false;
	}
	printf("\n");
	return true;
}

/* the skipped URLs as a text[] literal */
static char *
skipped_array(const Annotate *a)
{
	Buf			b;

	buf_init(&b);
	buf_appendc(&b, '{');
	for (size_t i = 0; i < a->skipped.len; i++)
	{
		if (i > 0)
			buf_appendc(&b, ',');
		buf_appendc(&b, '"');
		for (const char *c = a->skipped.items[i]; *c; c++)
		{
			if (*c == '"' || *c == '\\')
				buf_appendc(&b, '\\');
			buf_appendc(&b, *c);
		}
		buf_appendc(&b, '"');
	}
	buf_appendc(&b, '}');
	return buf_steal(&b);
}

/*
 * The most uncertain article not skipped in this session.  When this
 * session keeps the stored scores current (a->rescore: the model is
 * pglearn.default_model, whose scores the trigger and our rescores keep),
 * the stored scores rank them, as the to_label view does: the database
 * walks an index and stops after skipped + 1 rows, so the next article
 * costs milliseconds at a million rows.  Otherwise every candidate is
 * scored live by the newest model of a->model, which reads the whole
 * table.  Returns 1 with *c filled (caller frees), 0 when nothing is left,
 * -1 on a database error (printed).
 */
static int
next_candidate(Annotate *a, Candidate *c)
{
	char		per_host[24];
	char		k[24];
	char	   *skipped = skipped_array(a);
	PGresult   *res;

	per_host[0] = '\0';
	if (a->per_host > 0)
		snprintf(per_host, sizeof(per_host), "%ld", a->per_host);
	if (a->rescore)
	{
		const char *params[3] = {k, per_host[0] ? per_host : NULL, skipped};

		snprintf(k, sizeof(k), "%zu", a->skipped.len + 1);
		res = query(a, "cannot choose the next article",
					"SELECT u.url, u.title, u.score, NULL"
					"  FROM pglearn.uncertain(NULL, $1::int4, $2::int4) AS u"
					" WHERE u.url <> ALL ($3::text[])"
					" ORDER BY u.rank LIMIT 1",
					3, params);
	}
	else
	{
		const char *params[3] = {a->model, per_host[0] ? per_host : NULL, skipped};

		/* k NULL: rank them all, then drop the skipped ones before the LIMIT */
		res = query(a, "cannot choose the next article",
					"SELECT u.url, u.title, u.score, count(*) OVER ()"
					"  FROM pglearn.uncertain($1, NULL, $2::int4) AS u"
					" WHERE u.url <> ALL ($3::text[])"
					" ORDER BY u.rank LIMIT 1",
					3, params);
	}
	free(skipped);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0)
	{
		PQclear(res);
		return 0;
	}
	c->url = xstrdup(PQgetvalue(res, 0, 0));
	c->title = PQgetisnull(res, 0, 1) ? NULL : xstrdup(PQgetvalue(res, 0, 1));
	c->score = strtod(PQgetvalue(res, 0, 2), NULL);
	/* counting every candidate again would read a million index entries */
	c->left = a->rescore ? a->unlabelled : strtol(PQgetvalue(res, 0, 3), NULL, 10);
	c->left_exact = !a->rescore;
	PQclear(res);
	return 1;
}

static void
candidate_free(Candidate *c)
{
	free(c->url);
	free(c->title);
	c->url = c->title = NULL;
}

/* the article and, strongest first, the features that push its score */
static void
show_candidate(Annotate *a, const Candidate *c)
{
	char	   *url = printable(c->url, URL_CHARS);

	/* counting the de-duplicated candidates would read the whole table */
	printf("\nscore %.3f  %s  (%ld %s)\n", c->score, url, c->left,
		   c->left_exact ? "to label" : "unlabelled");
	free(url);
	if (c->title && c->title[0])
	{
		char	   *title = printable(c->title, TITLE_CHARS);

		printf("  %s\n", title);
		free(title);
	}
	if (a->features > 0)
	{
		char		k[24];
		const char *params[3] = {c->url, k, a->model};
		PGresult   *res;

		snprintf(k, sizeof(k), "%ld", a->features);
		res = query(a, "cannot read the supporting features",
					"SELECT f.feature, f.contribution"
					"  FROM pglearn.supporting_features($1, $2::int4, $3) AS f",
					3, params);
		if (res == NULL)
			return;
		if (PQntuples(res) > 0)
		{
			printf("  features:");
			for (int i = 0; i < PQntuples(res); i++)
			{
				char	   *feature = printable(PQgetvalue(res, i, 0), 60);

				printf("%s %s %+.3f", i > 0 ? "," : "", feature,
					   strtod(PQgetvalue(res, i, 1), NULL));
				free(feature);
			}
			printf("\n");
		}
		PQclear(res);
	}
}

/*
 * Open url in $BROWSER (a program, no arguments) or xdg-open.  No shell is
 * involved: the URL is one argv element, so nothing in it is interpreted.
 * posix_spawnp() starts the browser in a session of its own with /dev/null
 * as its standard streams, so it never reads our keys nor writes over our
 * prompt, and without the database socket (db_fd); it reports a browser
 * that cannot be run.  Browsers that have exited are reaped before the
 * next one starts (reap_browsers), so none stays a zombie for long.  Only
 * http(s) URLs are opened: a row's URL could start with "-" (an option to
 * the browser) or name file:// or javascript: if it was inserted by hand
 * rather than by label() or crawl.
 */
static void
reap_browsers(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void
open_in_browser(const char *url, int db_fd)
{
	const char *browser = getenv("BROWSER");
	char	   *argv[3];
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	pid_t		pid;
	int			err;

	if (browser == NULL || browser[0] == '\0')
		browser = "xdg-open";
	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
	{
		fprintf(stderr, "pglearn annotate: not opening a URL that is not http(s)\n");
		return;
	}
	reap_browsers();
	argv[0] = (char *) browser;
	argv[1] = (char *) url;
	argv[2] = NULL;
	if ((err = posix_spawn_file_actions_init(&actions)) != 0)
	{
		fprintf(stderr, "pglearn annotate: cannot run %s: %s\n", browser, strerror(err));
		return;
	}
	if ((err = posix_spawnattr_init(&attr)) != 0)
	{
		posix_spawn_file_actions_destroy(&actions);
		fprintf(stderr, "pglearn annotate: cannot run %s: %s\n", browser, strerror(err));
		return;
	}
	if ((db_fd <= STDERR_FILENO ||
		 (err = posix_spawn_file_actions_addclose(&actions, db_fd)) == 0) &&
		(err = posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)) == 0 &&
		(err = posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0)) == 0 &&
		(err = posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0)) == 0 &&
		(err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID)) == 0)
	{
		fflush(stdout);
		fflush(stderr);
		err = posix_spawnp(&pid, browser, &actions, &attr, argv, environ);
	}
	if (err != 0)
		fprintf(stderr, "pglearn annotate: cannot run %s: %s\n", browser, strerror(err));
	posix_spawn_file_actions_destroy(&actions);
	posix_spawnattr_destroy(&attr);
}

/* store the label; false on a database error (printed) */
static bool
store_label(Annotate *a, const char *url, int label)
{
	const char *params[2] = {url, label > 0 ? "1" : "-1"};
	PGresult   *res = query(a, "cannot store the label",
							"SELECT pglearn.label($1, $2::int4)", 2, params);

	if (res == NULL)
		return false;
	PQclear(res);
	a->labelled++;
	if (a->unlabelled > 0)
		a->unlabelled--;
	a->since_fit++;
	if (label > 0)
		a->positive++;
	else
		a->negative++;
	printf("labelled %s\n", label > 0 ? "positive (1)" : "negative (-1)");
	return true;
}

/* the key loop; returns the exit status */
static int
annotate_loop(Annotate *a)
{
	for (;;)
	{
		Candidate	c;
		int			r;
		bool		next = false;

		if (a->limit > 0 && a->labelled >= a->limit)
		{
			printf("\n%ld labels given (--limit)\n", a->labelled);
			return EXIT_ALL_OK;
		}
		r = next_candidate(a, &c);
		if (r < 0)
			return EXIT_USAGE;
		if (r == 0)
		{
			printf("\nnothing left to label%s\n",
				   a->skipped.len > 0 ? " (but the articles skipped in this session)" : "");
			return EXIT_ALL_OK;
		}
		show_candidate(a, &c);
		if (connection_lost(a))
		{
			candidate_free(&c);
			return EXIT_USAGE;
		}
		if (a->open)
			open_in_browser(c.url, PQsocket(a->conn));

		while (!next)
		{
			int			key;

			/*
			 * Keys typed while we were busy (a refit) were meant for an older
			 * article; drop them before the prompt shows, not after.
			 */
			if (a->tty)
				tcflush(STDIN_FILENO, TCIFLUSH);
			printf("[p]ositive [n]egative [s]kip [h]elp [e]xit? ");
			fflush(stdout);
			key = read_key(a);
			if (key == EOF)
			{
				printf("\n");
				candidate_free(&c);
				return EXIT_ALL_OK;
			}
			if (isprint(key))
				printf("%c\n", key);
			else
				printf("\\x%02x\n", key);
			switch (tolower(key))
			{
				case 'p':
				case 'n':
					if (!store_label(a, c.url, tolower(key) == 'p' ? 1 : -1))
					{
						if (connection_lost(a))
						{
							candidate_free(&c);
							return EXIT_USAGE;
						}
						/* refused (e.g. a URL label() rejects): do not offer it again */
						strlist_push(&a->skipped, xstrdup(c.url));
					}
					else if (a->refit_every > 0 && a->since_fit >= a->refit_every &&
							 !refit(a, true) && connection_lost(a))
					{
						candidate_free(&c);
						return EXIT_USAGE;
					}
					next = true;
					break;
				case 's':
					strlist_push(&a->skipped, xstrdup(c.url));
					printf("skipped\n");
					next = true;
					break;
				case 'h':
					usage_keys();
					break;
				case 'e':
					candidate_free(&c);
					return EXIT_ALL_OK;
				default:
					if (isprint(key))
						printf("unknown key \"%c\" (h for help)\n", key);
					else
						printf("unknown key \\x%02x (h for help)\n", key);
					/* the flush before the next prompt drops the rest of an escape sequence */
					break;
			}
		}
		candidate_free(&c);
	}
}

/* ---- setup ---- */

static bool
parse_count(const char *s, long min, long max, long *out)
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

static int
bad_option(const char *fmt, const char *arg)
{
	fprintf(stderr, "pglearn annotate: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry \"pglearn annotate --help\".\n");
	return EXIT_USAGE;
}

/*
 * Connect, check the extension, settle the model name and make sure the
 * model exists (fitting it when it does not).  Returns -1 when ready, else
 * the exit status.
 */
static int
annotate_prepare(Annotate *a, const char *conninfo, const char *model)
{
	const char *keys[] = {"connect_timeout", "dbname", "fallback_application_name", "client_encoding", NULL};
	const char *vals[] = {"10", conninfo, "pglearn annotate", "UTF8", NULL};
	const char *params[1];
	PGresult   *res;
	bool		found;
	char	   *default_model;

	a->conn = PQconnectdbParams(keys, vals, 1);
	if (a->conn == NULL || PQstatus(a->conn) != CONNECTION_OK)
	{
		fprintf(stderr, "pglearn annotate: cannot connect to the database: %s",
				a->conn ? PQerrorMessage(a->conn) : "out of memory\n");
		return EXIT_USAGE;
	}
	res = query(a, "cannot look for the extension",
				"SELECT to_regprocedure('pglearn.uncertain(text,int4,int4)') IS NOT NULL"
				"   AND to_regprocedure('pglearn.label(text,int4)') IS NOT NULL",
				0, NULL);
	if (res == NULL)
		return EXIT_USAGE;
	found = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!found)
	{
		fprintf(stderr, "pglearn annotate: the pglearn extension is not installed in database \"%s\"\n"
				"hint: run CREATE EXTENSION pglearn there first\n", PQdb(a->conn));
		return EXIT_USAGE;
	}

	/* a typo in --params should stop us now, not at the first refit */
	params[0] = a->params;
	res = query(a, "bad --params", "SELECT jsonb_typeof($1::jsonb) = 'object'", 1, params);
	if (res == NULL)
		return EXIT_USAGE;
	found = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!found)
		return bad_option("--params must be a JSON object, not \"%s\"", a->params);

	/* as pglearn._default_model(): the setting, else 'default'; '' = none */
	res = query(a, "cannot read pglearn.default_model",
				"SELECT coalesce(current_setting('pglearn.default_model', true), 'default')",
				0, NULL);
	if (res == NULL)
		return EXIT_USAGE;
	default_model = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (model == NULL && default_model[0] == '\0')
	{
		free(default_model);
		return bad_option("%s", "pglearn.default_model is empty: name a model with --model");
	}
	a->model = xstrdup(model ? model : default_model);
	/* examples.score belongs to the default model (its trigger scores with it) */
	a->rescore = a->rescore && strcmp(a->model, default_model) == 0;
	free(default_model);

	params[0] = a->model;
	res = query(a, "cannot read pglearn.models",
				"SELECT EXISTS (SELECT FROM pglearn.models WHERE name = $1)", 1, params);
	if (res == NULL)
		return EXIT_USAGE;
	found = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!found)
	{
		printf("model \"%s\" does not exist yet: fitting it on the labelled articles\n", a->model);
		if (!refit(a, false))
		{
			if (connection_lost(a))
				return EXIT_USAGE;
			fprintf(stderr, "pglearn annotate: no model to rank articles with; label some articles"
					" of both kinds first (pglearn add FILE, lines url<TAB>1 and url<TAB>-1)\n");
			return EXIT_SOME_FAILED;
		}
	}
	else if (a->rescore)
	{
		/*
		 * The articles are ranked by their stored scores (next_candidate):
		 * bring the candidates up to this model, for rows inserted before it
		 * existed or scored by an older fit.  Only the pool, not every row:
		 * a full rescore is the session's last step.
		 */
		printf("rescoring with \"%s\" ...", a->model);
		fflush(stdout);
		if (!rescore_pool(a))
			return EXIT_USAGE;
		printf("\n");
	}
	if (a->rescore)
	{
		/* once: the index-only count is too slow for every key press */
		res = query(a, "cannot count the articles to label",
					"SELECT count(*) FROM pglearn.examples e"
					" WHERE (e.label IS NULL OR e.label = 0) AND e.fetch_error IS NULL"
					"   AND (e.title <> '' OR e.body <> '') AND e.score IS NOT NULL", 0, NULL);
		if (res == NULL)
			return EXIT_USAGE;
		a->unlabelled = strtol(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
	}
	return -1;
}

int
annotate_main(int argc, char **argv)
{
	enum
	{
		OPT_PARAMS = 256,
		OPT_REFIT_EVERY,
		OPT_NO_RESCORE,
		OPT_POOL,
		OPT_PER_HOST,
		OPT_FEATURES,
		OPT_LIMIT,
		OPT_OPEN
	};
	static const struct option opts[] = {
		{"dbname", required_argument, NULL, 'd'},
		{"model", required_argument, NULL, 'm'},
		{"params", required_argument, NULL, OPT_PARAMS},
		{"refit-every", required_argument, NULL, OPT_REFIT_EVERY},
		{"no-rescore", no_argument, NULL, OPT_NO_RESCORE},
		{"pool", required_argument, NULL, OPT_POOL},
		{"per-host", required_argument, NULL, OPT_PER_HOST},
		{"features", required_argument, NULL, OPT_FEATURES},
		{"limit", required_argument, NULL, OPT_LIMIT},
		{"open", no_argument, NULL, OPT_OPEN},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	Annotate	a;
	const char *conninfo = NULL;
	const char *model = NULL;
	int			c;
	int			r;

	memset(&a, 0, sizeof(a));
	a.params = "{}";
	a.rescore = true;
	a.features = 5;
	a.refit_every = 1;
	a.pool = 1000;
	strlist_init(&a.skipped);

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:m:h", opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				conninfo = optarg;
				break;
			case 'm':
				if (optarg[0] == '\0')
					return bad_option("%s", "--model must not be empty");
				model = optarg;
				break;
			case OPT_PARAMS:
				a.params = optarg;
				break;
			case OPT_REFIT_EVERY:
				if (!parse_count(optarg, 0, 1000000, &a.refit_every))
					return bad_option("--refit-every must be 0..1000000, not \"%s\"", optarg);
				break;
			case OPT_NO_RESCORE:
				a.rescore = false;
				break;
			case OPT_POOL:
				if (!parse_count(optarg, 1, 1000000, &a.pool))
					return bad_option("--pool must be 1..1000000, not \"%s\"", optarg);
				break;
			case OPT_PER_HOST:
				if (!parse_count(optarg, 1, 1000000, &a.per_host))
					return bad_option("--per-host must be 1..1000000, not \"%s\"", optarg);
				break;
			case OPT_FEATURES:
				if (!parse_count(optarg, 0, 1000, &a.features))
					return bad_option("--features must be 0..1000, not \"%s\"", optarg);
				break;
			case OPT_LIMIT:
				if (!parse_count(optarg, 1, 100000000, &a.limit))
					return bad_option("--limit must be a positive number, not \"%s\"", optarg);
				break;
			case OPT_OPEN:
				a.open = true;
				break;
			case 'h':
				usage_annotate(stdout);
				return EXIT_ALL_OK;
			case ':':
				return bad_option("option \"%s\" needs a value", argv[optind - 1]);
			default:
				return bad_option("unknown option \"%s\"", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad_option("unexpected argument \"%s\"", argv[optind]);

	/* prompts end without a newline; each line must show before we block */
	setvbuf(stdout, NULL, _IOLBF, 0);

	r = annotate_prepare(&a, conninfo, model);
	if (r < 0)
	{
		/* ours, not the crawler's "finish the transfers in flight" handler */
		install_handler(SIGINT);
		install_handler(SIGTERM);
		a.tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_termios) == 0;
		if (a.tty)
		{
			atexit(terminal_restore);
			install_handler(SIGTSTP);
			if (!terminal_single_keys())
				fprintf(stderr, "pglearn annotate: cannot set the terminal mode: %s (end each key with Enter)\n",
						strerror(errno));
		}
		r = annotate_loop(&a);
		terminal_restore();
		/* labels the stored model has not learned from yet */
		if (r == EXIT_ALL_OK && a.since_fit > 0 && !refit(&a, false) && connection_lost(&a))
			r = EXIT_USAGE;
		/* refits between labels rescored only their pool: now every row */
		if (r == EXIT_ALL_OK && a.rescore && a.pool_only && !rescore_all(&a) && connection_lost(&a))
			r = EXIT_USAGE;
		printf("%ld labelled (%ld positive, %ld negative), %zu skipped, %ld refit%s\n",
			   a.labelled, a.positive, a.negative, a.skipped.len, a.fits, a.fits == 1 ? "" : "s");
	}
	if (r == EXIT_USAGE && a.conn && connection_lost(&a))
		fprintf(stderr, "pglearn annotate: the database connection is gone\n");
	PQfinish(a.conn);
	free(a.model);
	strlist_free(&a.skipped);
	return r;
}
