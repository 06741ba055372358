/*
 * extract.c: turns a decoded HTML page into the columns of pglearn.examples
 * with libxml2's forgiving HTML parser.  Owns the rules for which elements
 * are visible text and which metadata wins.  Charset handling happens before
 * (charset.c): the parser always gets UTF-8 and is told to ignore <meta>
 * encodings, which would otherwise make it re-decode text already converted.
 */
#include "extract.h"
#include "util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

typedef struct ExtractState
{
	Page	   *page;
	char	   *og_title;
	char	   *canonical;		/* raw hrefs, resolved at the end */
	char	   *base_href;
	char	   *og_image;
	char	   *favicon;
	int			head_depth;		/* >0 while inside <head> */
	Buf			text;
	size_t		text_limit;		/* bytes; stop collecting beyond this */
} ExtractState;

static bool
name_is(const xmlNode *n, const char *name)
{
	return n->name && xmlStrcasecmp(n->name, (const xmlChar *) name) == 0;
}

/* elements whose content is never visible text */
static bool
is_hidden(const xmlNode *n)
{
	static const char *const hidden[] = {
		"script", "style", "template", "noscript", "iframe", "object",
		"svg", "math", "select", "textarea", "canvas", NULL
	};

	for (int i = 0; hidden[i]; i++)
		if (name_is(n, hidden[i]))
			return true;
	return false;
}

/* elements that separate words: "a<p>b" reads as "a b", "a<b>b</b>" as "ab" */
static bool
is_block(const xmlNode *n)
{
	static const char *const block[] = {
		"p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3",
		"h4", "h5", "h6", "table", "tr", "td", "th", "thead", "tbody", "tfoot",
		"caption", "section", "article", "header", "footer", "nav", "aside",
		"main", "blockquote", "pre", "hr", "form", "fieldset", "legend",
		"figure", "figcaption", "address", "details", "summary", "option",
		"body", "img", "input", "button", "label", NULL
	};

	for (int i = 0; block[i]; i++)
		if (name_is(n, block[i]))
			return true;
	return false;
}

/* malloc'd, whitespace-collapsed, sanitised copy; NULL if empty */
static char *
clean_text(const char *s)
{
	char	   *c;

	if (s == NULL)
		return NULL;
	c = utf8_sanitize(s, strlen(s));
	collapse_whitespace(c);
	if (c[0] == '\0')
	{
		free(c);
		return NULL;
	}
	return c;
}

static char *
attr(xmlNode *n, const char *name)
{
	xmlChar    *v = xmlGetProp(n, (const xmlChar *) name);
	char	   *res;

	if (v == NULL)
		return NULL;
	res = clean_text((const char *) v);
	xmlFree(v);
	return res;
}

/* replace *slot only if it is still empty; frees value otherwise */
static void
set_once(char **slot, char *value)
{
	if (*slot == NULL)
		*slot = value;
	else
		free(value);
}

/* true if the space-separated list contains token (ASCII case-insensitive) */
static bool
has_token(const char *list, const char *token)
{
	size_t		n = strlen(token);
	const char *p = list;

	while (*p)
	{
		while (*p == ' ')
			p++;
		const char *s = p;

		while (*p && *p != ' ')
			p++;
		if ((size_t) (p - s) == n)
		{
			char		tmp[64];

			if (n < sizeof(tmp))
			{
				memcpy(tmp, s, n);
				tmp[n] = '\0';
				if (ascii_ieq(tmp, token))
					return true;
			}
		}
	}
	return false;
}

static void
visit_meta(ExtractState *st, xmlNode *n)
{
	char	   *key = attr(n, "property");
	char	   *content;

	if (key == NULL)
		key = attr(n, "name");
	if (key == NULL)
		return;
	content = attr(n, "content");
	if (content == NULL)
	{
		free(key);
		return;
	}
	if (ascii_ieq(key, "description"))
		set_once(&st->page->description, content);
	else if (ascii_ieq(key, "og:description"))
		set_once(&st->page->og_description, content);
	else if (ascii_ieq(key, "og:type"))
		set_once(&st->page->og_type, content);
	else if (ascii_ieq(key, "og:title"))
		set_once(&st->og_title, content);
	else if (ascii_ieq(key, "og:image") || ascii_ieq(key, "og:image:url"))
		set_once(&st->og_image, content);
	else
		free(content);
	free(key);
}

static void
visit_link(ExtractState *st, xmlNode *n)
{
	char	   *rel = attr(n, "rel");
	char	   *href;

	if (rel == NULL)
		return;
	href = attr(n, "href");
	if (href)
	{
		if (has_token(rel, "canonical"))
			set_once(&st->canonical, href);
		else if (has_token(rel, "icon"))
			set_once(&st->favicon, href);
		else
			free(href);
	}
	free(rel);
}

static void
append_text(ExtractState *st, const char *s)
{
	if (st->head_depth > 0 || s == NULL || st->text.len >= st->text_limit)
		return;
	buf_appends(&st->text, s);
}

/* handle n on the way down; returns whether to descend into its children */
static bool
enter(ExtractState *st, xmlNode *n)
{
	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE)
	{
		append_text(st, (const char *) n->content);
		return false;
	}
	if (n->type != XML_ELEMENT_NODE)
		return false;
	if (name_is(n, "head"))
		st->head_depth++;
	if (name_is(n, "title"))
	{
		if (st->page->title == NULL)
		{
			xmlChar    *t = xmlNodeGetContent(n);

			if (t)
			{
				st->page->title = clean_text((const char *) t);
				xmlFree(t);
			}
		}
		return false;
	}
	if (name_is(n, "meta"))
		visit_meta(st, n);
	else if (name_is(n, "link"))
		visit_link(st, n);
	else if (name_is(n, "base"))
		set_once(&st->base_href, attr(n, "href"));
	if (is_hidden(n))
		return false;
	if (is_block(n))
		append_text(st, " ");
	return true;
}

static void
leave(ExtractState *st, xmlNode *n)
{
	if (n->type != XML_ELEMENT_NODE)
		return;
	if (name_is(n, "head") && st->head_depth > 0)
		st->head_depth--;
	if (is_block(n))
		append_text(st, " ");
}

/*
 * Cut *field to max_chars characters (and the blank the cut may leave at its
 * end); whitespace was collapsed before, so a cut never ends in a run.
 */
static void
cap_text(char **field, size_t max_chars)
{
	size_t		len;

	if (*field == NULL)
		return;
	utf8_truncate(*field, max_chars);
	len = strlen(*field);
	if (len > 0 && (*field)[len - 1] == ' ')
		(*field)[len - 1] = '\0';
	if ((*field)[0] == '\0')
	{
		free(*field);
		*field = NULL;
	}
}

/* a URL field over the limit is dropped: a prefix of a URL is another URL */
static void
cap_link(char **field)
{
	if (*field && strlen(*field) > PAGE_MAX_LINK_BYTES)
	{
		free(*field);
		*field = NULL;
	}
}

/* iterative pre-order walk: deep malformed documents cannot blow the stack */
static void
walk(ExtractState *st, xmlDoc *doc)
{
	xmlNode    *n = doc->children;

	while (n != NULL)
	{
		if (enter(st, n) && n->children)
		{
			n = n->children;
			continue;
		}
		for (;;)
		{
			leave(st, n);
			if (n->next)
			{
				n = n->next;
				break;
			}
			n = n->parent;
			if (n == NULL || n == (xmlNode *) doc)
			{
				n = NULL;
				break;
			}
		}
	}
}

int
extract_page(const char *html, size_t html_len, const char *effective_url,
			 size_t body_max_chars, Page *page)
{
	ExtractState st;
	xmlDoc	   *doc;
	const char *base;
	char	   *base_abs = NULL;
	char	   *final;

	memset(page, 0, sizeof(*page));
	if (html_len > (size_t) 0x7fffffff)
		html_len = 0x7fffffff;
	doc = htmlReadMemory(html, (int) html_len, effective_url, "UTF-8",
						 HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
						 HTML_PARSE_NOWARNING | HTML_PARSE_IGNORE_ENC |
						 HTML_PARSE_COMPACT);
	if (doc == NULL)
	{
		page->final_url = url_strip_tracking(effective_url);
		return -1;
	}

	memset(&st, 0, sizeof(st));
	st.page = page;
	buf_init(&st.text);
	/* a UTF-8 character is at most 4 bytes; stop collecting well past the cap */
	st.text_limit = body_max_chars * 4 + 1024;
	walk(&st, doc);
	xmlFreeDoc(doc);

	if (page->title == NULL)
	{
		page->title = st.og_title;
		st.og_title = NULL;
	}
	if (st.text.len)
	{
		char	   *body = utf8_sanitize(st.text.data, st.text.len);

		collapse_whitespace(body);
		utf8_truncate(body, body_max_chars);
		if (body[0])
			page->body = body;
		else
			free(body);
	}

	/* relative URLs resolve against <base href> if present */
	base = effective_url;
	if (st.base_href)
	{
		base_abs = url_resolve(effective_url, st.base_href);
		if (base_abs)
			base = base_abs;
	}
	if (st.og_image)
		page->og_image = url_resolve(base, st.og_image);
	if (st.favicon)
		page->favicon = url_resolve(base, st.favicon);
	final = st.canonical ? url_resolve(base, st.canonical) : NULL;
	page->final_url = url_strip_tracking(final ? final : effective_url);
	if (page->final_url == NULL)
		page->final_url = xstrdup(effective_url);

	cap_text(&page->title, PAGE_MAX_TITLE_CHARS);
	cap_text(&page->description, PAGE_MAX_DESCRIPTION_CHARS);
	cap_text(&page->og_description, PAGE_MAX_DESCRIPTION_CHARS);
	cap_text(&page->og_type, PAGE_MAX_OG_TYPE_CHARS);
	cap_link(&page->og_image);
	cap_link(&page->favicon);

	free(final);
	free(base_abs);
	free(st.og_title);
	free(st.canonical);
	free(st.base_href);
	free(st.og_image);
	free(st.favicon);
	buf_free(&st.text);
	return 0;
}

void
page_free(Page *page)
{
	free(page->title);
	free(page->description);
	free(page->og_description);
	free(page->og_type);
	free(page->og_image);
	free(page->favicon);
	free(page->body);
	free(page->final_url);
	memset(page, 0, sizeof(*page));
}
