/*
 * fuzz_parsers.c: libFuzzer target over everything that reads bytes from the
 * network: charset detection/conversion, HTML extraction, feed parsing and
 * robots.txt matching.  Not part of `make test`; run with `make fuzz`.
 * The first input byte picks the Content-Type the page claims.  Beyond "no
 * crash": decoded text, title and body are valid UTF-8, the field caps
 * of extract.h and --max-text hold, a feed gives at most max_items links.
 */
#include "../../charset.h"
#include "../../extract.h"
#include "../../feed.h"
#include "../../robots.h"
#include "../../util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* code points of a valid UTF-8 string */
static size_t
utf8_chars(const char *s)
{
	size_t		n = 0;

	for (; s && *s; s++)
		if (((unsigned char) *s & 0xC0) != 0x80)
			n++;
	return n;
}

static const char *const content_types[] = {
	NULL, "text/html", "text/html; charset=Shift_JIS", "text/html; charset=EUC-JP",
	"text/html; charset=ISO-2022-JP", "text/html; charset=windows-1252",
	"text/html; charset=utf-16", "text/html; charset=\"bogus-charset\"",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *ctype;
	char	   *text;
	size_t		len;
	Page		page;
	StrList		links;
	RobotsCache *rc;

	if (size < 1)
		return 0;
	ctype = content_types[data[0] % (sizeof(content_types) / sizeof(content_types[0]))];
	data++;
	size--;

	text = charset_decode(ctype, (const char *) data, size, &len, NULL);
	if (!utf8_valid(text, len))
		abort();				/* the promise store.c relies on */
	extract_page(text, len, "http://example.com/a/b?c=d", 1000, &page);
	if (page.body && !utf8_valid(page.body, strlen(page.body)))
		abort();
	if (page.title && !utf8_valid(page.title, strlen(page.title)))
		abort();
	/* the caps of extract.h hold whatever the page says */
	if (utf8_chars(page.title) > PAGE_MAX_TITLE_CHARS ||
		utf8_chars(page.description) > PAGE_MAX_DESCRIPTION_CHARS ||
		utf8_chars(page.og_description) > PAGE_MAX_DESCRIPTION_CHARS ||
		utf8_chars(page.og_type) > PAGE_MAX_OG_TYPE_CHARS ||
		(page.og_image && strlen(page.og_image) > PAGE_MAX_LINK_BYTES) ||
		(page.favicon && strlen(page.favicon) > PAGE_MAX_LINK_BYTES) ||
		utf8_chars(page.body) > 1000)
		abort();
	page_free(&page);
	free(text);

	strlist_init(&links);
	{
		size_t		skipped;

		feed_links((const char *) data, size, "http://example.com/feed", &links, 3, &skipped);
		if (links.len > 3)
			abort();
	}
	strlist_free(&links);

	rc = robots_new();
	robots_store(rc, "http://example.com:80", 200, (const char *) data, size);
	(void) robots_allowed(rc, "http://example.com/some/path.html?q=1");
	(void) robots_allowed(rc, "http://example.com/");
	robots_free(rc);
	return 0;
}
