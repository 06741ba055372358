/*
 * extract_test.c: unit test of extract.c's main-content rules, no network.
 * Every page under t/pages/ (NAME.html) is extracted as if fetched from
 * http://fixture.example/NAME.html and its body compared with NAME.txt, the
 * main text written by hand for that layout (whitespace collapsed on both
 * sides); NAME.title, when present, is the expected title.  Then properties
 * of the rules on small inline pages: title and description stay as before,
 * a page that has text never gets an empty body, a page without layout keeps
 * the whole-page text, --max-text still caps the body.
 *
 * Usage: extract_test PAGES_DIR.  Prints "ok N - ..." / "not ok N - ..."
 * and exits 1 if any failed; crawler/t/extract_test.sh builds and runs it.
 */
#include "../extract.h"
#include "../../t/lib/tap.h"
#include "../util.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* expected and got, as TAP comments, when they differ */
static void
is(const char *got, const char *expected, const char *fmt,...)
{
	va_list		ap;
	char		desc[512];
	bool		ok = (got == NULL && expected == NULL) ||
		(got && expected && strcmp(got, expected) == 0);

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	okf(ok, "%s", desc);
	if (!ok)
	{
		printf("#   got:      '%s'\n", got ? got : "(null)");
		printf("#   expected: '%s'\n", expected ? expected : "(null)");
	}
}

/* whole file, malloc'd and NUL-terminated; NULL if it cannot be read */
static char *
slurp(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	Buf			b;
	char		chunk[8192];
	size_t		n;

	if (f == NULL)
		return NULL;
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	if (len)
		*len = b.len;
	return buf_steal(&b);
}

static char *
collapsed(char *s)
{
	if (s)
		collapse_whitespace(s);
	return s;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* every NAME.html of dir against NAME.txt (and NAME.title) */
static void
fixture_pages(const char *dir)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	StrList		names;

	strlist_init(&names);
	if (d == NULL)
	{
		okf(false, "open %s", dir);
		return;
	}
	while ((e = readdir(d)) != NULL)
	{
		size_t		n = strlen(e->d_name);

		if (n > 5 && strcmp(e->d_name + n - 5, ".html") == 0)
			strlist_push(&names, xstrndup(e->d_name, n - 5));
	}
	closedir(d);
	qsort(names.items, names.len, sizeof(char *), by_name);
	okf(names.len >= 8, "%zu fixture pages in %s", names.len, dir);
	for (size_t i = 0; i < names.len; i++)
	{
		char		path[4096];
		char		url[512];
		char	   *html;
		char	   *expected;
		char	   *title;
		size_t		len;
		Page		page;

		snprintf(path, sizeof(path), "%s/%s.html", dir, names.items[i]);
		html = slurp(path, &len);
		snprintf(path, sizeof(path), "%s/%s.txt", dir, names.items[i]);
		expected = collapsed(slurp(path, NULL));
		snprintf(path, sizeof(path), "%s/%s.title", dir, names.items[i]);
		title = collapsed(slurp(path, NULL));
		snprintf(url, sizeof(url), "http://fixture.example/%s.html", names.items[i]);
		if (html == NULL || expected == NULL)
		{
			okf(false, "%s: read %s.html and %s.txt", names.items[i], names.items[i], names.items[i]);
			free(html);
			free(expected);
			free(title);
			continue;
		}
		okf(extract_page(html, len, url, 100000, &page) == 0, "%s: parsed", names.items[i]);
		is(page.body, expected, "%s: body is the main text", names.items[i]);
		if (title)
			is(page.title, title, "%s: title as before", names.items[i]);
		page_free(&page);
		free(html);
		free(expected);
		free(title);
	}
	strlist_free(&names);
}

/* body of an inline page */
static char *
body_of(const char *html, size_t max_chars)
{
	Page		page;
	char	   *body;

	extract_page(html, strlen(html), "http://fixture.example/inline.html", max_chars, &page);
	body = page.body;
	page.body = NULL;
	page_free(&page);
	return body;
}

static void
check_body(const char *html, const char *expected, const char *desc)
{
	char	   *body = body_of(html, 100000);

	is(body, expected, "%s", desc);
	free(body);
}

static void
properties(void)
{
	Page		page;
	const char *meta =
		"<html><head><title> The  title </title><meta name=description content=\"The description\">"
		"<meta property=og:description content=\"OG\"></head><body><header><h1>Site</h1></header>"
		"<nav><a href=/>Home</a> | <a href=/about>About</a></nav><article><p>An article long enough to "
		"be the main content of this page, with commas, and words.</p></article>"
		"<footer>(c) local site</footer></body></html>";
	char		many[4096];

	extract_page(meta, strlen(meta), "http://fixture.example/meta.html", 100000, &page);
	is(page.title, "The title", "title is <title>, as before");
	is(page.description, "The description", "description is <meta name=description>, as before");
	is(page.og_description, "OG", "og:description as before");
	is(page.body, "An article long enough to be the main content of this page, with commas, and words.",
	   "navigation, header and footer are not in the body");
	page_free(&page);

	/* the pages crawler/t/run.sh has always expected: no layout, all text kept */
	check_body("<html><body><h1>Heading</h1><p>visible    text\n here</p><div>second<b>bold</b> block</div>"
			   "<script>SECRET</script><p>日本語の本文です。</p></body></html>",
			   "Heading visible text here secondbold block 日本語の本文です。",
			   "a page without layout keeps its whole visible text");
	check_body("<p>body of s1</p>", "body of s1", "a fragment keeps its text");
	check_body("<html><body><nav><a href=/a>Alpha</a> <a href=/b>Beta</a></nav></body></html>",
			   "Alpha Beta", "a page that is only navigation keeps it (never an empty body)");
	check_body("<html><body><h1>Reading list</h1><ul><li><a href=/1>Vacuum explained</a></li>"
			   "<li><a href=/2>Indexes in depth</a></li></ul></body></html>",
			   "Reading list Vacuum explained Indexes in depth",
			   "a heading over a link list keeps the list (main text under 25 characters)");
	check_body("<html><body><nav>x</nav></body></html>", "x", "a page with text never has an empty body");
	check_body("<html><body>  </body></html>", NULL, "a page without text has no body");

	/* hidden and consent elements */
	check_body("<html><body><div class=\"cookie-notice\">We use cookies to improve your experience. Accept all</div>"
			   "<main><p>The only paragraph that a reader of this page came for, really.</p>"
			   "<div style=\"display: none\">Hidden text that nobody sees on the page</div>"
			   "<p hidden>Also hidden from every reader of the page</p></main></body></html>",
			   "The only paragraph that a reader of this page came for, really.",
			   "cookie notice and hidden elements dropped, <main> kept");
	check_body("<html><body><main><p>Intro text of the article, long enough to count here.</p>"
			   "<ul><li><a href=/x>Related one</a></li><li><a href=/y>Related two</a></li></ul>"
			   "<ul><li>A list item that is text, not links, about vacuum</li><li>and <a href=/z>one</a> link</li></ul>"
			   "</main></body></html>",
			   "Intro text of the article, long enough to count here. A list item that is text, not links, about vacuum and one link",
			   "a list of links is dropped, a list of text with a link kept");
	check_body("<html><body><main><h1>Main heading</h1><div>The main text of the page, in divs, not in an article.</div></main>"
			   "<div class=row><article><p>A promotion card that is an article, long enough to count.</p></article></div></body></html>",
			   "Main heading The main text of the page, in divs, not in an article.",
			   "an <article> outside <main> does not replace it");
	check_body("<html><body><article><header><h1>Headline</h1><p>By Ana</p></header><p>Article text that is "
			   "long enough to be the article of the page.</p><aside><p>A note in the article.</p></aside>"
			   "<footer><a href=/t/1>tag one</a> <a href=/t/2>tag two</a> (c) x</footer></article>"
			   "<aside><p>The site's sidebar paragraph, not the article.</p></aside></body></html>",
			   "Headline By Ana Article text that is long enough to be the article of the page. A note in the article.",
			   "an article's header and aside are the article's; its tag footer and the page's aside are not");

	/* no article, no main: the posts of a thread score alike, so their common parent wins */
	check_body("<html><body><div class=l><div class=col><a href=/a>Index</a> <a href=/b>Search</a></div>"
			   "<div class=thread>"
			   "<div class=p><div class=i><div class=t>First post of the thread, asking which oil to use, and when to use it.</div></div></div>"
			   "<div class=p><div class=i><div class=t>Second post, an answer: wet oil in winter, wax in summer, and a rag.</div></div></div>"
			   "<div class=p><div class=i><div class=t>Third post, agreeing, adding that a chain checker tells wear early.</div></div></div>"
			   "<div class=p><div class=i><div class=t>Fourth post, thanking both, with the oil bought and the chain cleaned.</div></div></div>"
			   "</div><div class=col2><p>Some other column of a dozen words, about nothing at all here.</p></div></div></body></html>",
			   "First post of the thread, asking which oil to use, and when to use it. "
			   "Second post, an answer: wet oil in winter, wax in summer, and a rag. "
			   "Third post, agreeing, adding that a chain checker tells wear early. "
			   "Fourth post, thanking both, with the oil bought and the chain cleaned.",
			   "several candidates that score alike: their nearest common ancestor");

	/* --max-text caps the main content as it capped the whole text */
	snprintf(many, sizeof(many), "<html><body><nav><a href=/>Home</a><a href=/a>About</a></nav><main><p>%s</p></main></body></html>",
			 "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma");
	{
		char	   *body = body_of(many, 11);

		is(body, "alpha beta ", "--max-text caps the main content as it capped the whole text (11 characters)");
		free(body);
	}
}

int
main(int argc, char **argv)
{
	/* line-buffered, so a sanitizer report at exit loses no line */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2)
	{
		fprintf(stderr, "usage: %s PAGES_DIR\n", argv[0]);
		return 2;
	}
	fixture_pages(argv[1]);
	properties();
	return tap_finish();
}
