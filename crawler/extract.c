/*
 * extract.c: turns a decoded HTML page into the columns of pglearn.examples
 * with libxml2's forgiving HTML parser.  Owns the rules for which elements
 * are visible text, which of that text is the page's main content, and which
 * metadata wins.  Charset handling happens before (charset.c): the parser
 * always gets UTF-8 and is told to ignore <meta> encodings, which would
 * otherwise make it re-decode text already converted.
 *
 * Main content (the body column).  A model learns from every word it is
 * given: navigation, footers, sidebars and cookie banners are the same on
 * every page of a site, so they teach it the site's chrome ("home", "about")
 * instead of the article's topic, and their link lists name other articles.
 * So the body is the article's text, chosen in readability's way, in order:
 *
 *  1. Dropped wherever they are: <nav>, <menu>, <dialog>; [role=navigation,
 *     banner, contentinfo, complementary, search, menu, menubar, toolbar,
 *     dialog, alertdialog]; [hidden], [aria-hidden=true], inline
 *     display:none/visibility:hidden (not visible); elements whose class or
 *     id names a cookie/consent banner (cookie, consent, gdpr) or site chrome
 *     (nav, menu, breadcrumb, sidebar, masthead, footer, header, profile, share,
 *     social, related, pagination...) unless a word of it says content
 *     (article, content, entry, main, post, story, body, text: "entry-header"
 *     is the article's, "postprofile" is not); <header> and <footer>
 *     outside any <article>/<aside>/<main>/<nav>/<section> (HTML-AAM: only
 *     those are the page's banner and contentinfo; an article's own header
 *     holds its headline and byline) and <aside> outside an <article> (the
 *     page's sidebar; inside an article it is the article's note).
 *  2. Link lists: a container (div, section, header, footer, aside, ul, ol,
 *     dl, table, tr, td, li, form, span; not p, whose links are words of a
 *     sentence) whose text is more than half link text and that holds two
 *     links or more, or is one link and nothing else ("Read more", a teaser
 *     card, an author's name).  Judged bottom-up, on counts that include the
 *     lists already dropped inside it: a column with a menu and a paragraph
 *     keeps the paragraph, a footer with a list of tags and "(c) site" goes.
 *  3. The root of the main content, among what is left: the one <article>
 *     (or the one holding more than half of all articles' text, the others
 *     being teasers), if it is inside <main> or there is none; else <main>
 *     or [role=main]; else, with several
 *     articles (a forum thread, a list of posts), their nearest common
 *     ancestor; else the best-scoring container, readability's way: every
 *     paragraph (p, pre, td, blockquote, a div without blocks) of 25
 *     characters or more scores 1 + its commas + 1 per 100 characters (at
 *     most 3) for its parent, half that for its grandparent and 1/(3 level)
 *     above, up to 5 levels; a container starts from its tag (div +5,
 *     lists -3, headings -5) and its class/id (+-25); the score is scaled
 *     by 1 - link density; the best one is taken (or, when three of the
 *     next four score within a quarter of it, as the posts of a thread do,
 *     their nearest common ancestor) with those of its siblings that score
 *     at least a fifth of it, and its siblings that are plain paragraphs.
 *  4. If that leaves fewer than 25 characters (nothing, or a heading over a
 *     list of links), the body is the whole page's visible text, as before:
 *     a page that has text never gets an empty body, and a page that is
 *     only a link list keeps its links.
 *
 * Boilerplate that repeats across the pages of one host is not learned here:
 * a page is extracted alone, so its body does not depend on which other
 * pages a run happened to fetch, or in which order; what the structural
 * rules above leave of a site's chrome is the same on every page of the
 * site, which a per-host rule in the database could weigh later.
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
enter(void *arg, xmlNode *n)
{
	ExtractState *st = arg;

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
leave(void *arg, xmlNode *n)
{
	ExtractState *st = arg;

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

/*
 * Iterative pre-order walk over the children of parent (not parent itself):
 * deep malformed documents cannot blow the stack.  enter() says whether to
 * descend into a node; leave() is called once for every node entered, after
 * its children.
 */
typedef bool (*EnterFn) (void *arg, xmlNode *n);
typedef void (*LeaveFn) (void *arg, xmlNode *n);

static void
walk_children(xmlNode *parent, EnterFn enter_fn, LeaveFn leave_fn, void *arg)
{
	xmlNode    *n = parent->children;

	while (n != NULL)
	{
		if (enter_fn(arg, n) && n->children)
		{
			n = n->children;
			continue;
		}
		for (;;)
		{
			leave_fn(arg, n);
			if (n->next)
			{
				n = n->next;
				break;
			}
			n = n->parent;
			if (n == NULL || n == parent)
			{
				n = NULL;
				break;
			}
		}
	}
}

/* ---- main content (the rules are in the header comment) ---- */

/* what the main-content pass knows of one element; n->_private points here */
typedef struct NodeInfo
{
	size_t		text;			/* non-blank characters of kept visible text */
	size_t		link_text;		/* of which inside <a href> */
	size_t		commas;
	unsigned	links;			/* <a href> kept inside (itself included) */
	/*
	 * The same, counting the link lists dropped inside too (rule 2).  Until
	 * the element is left they hold only what those lists held.
	 */
	size_t		all_text;
	size_t		all_link_text;
	unsigned	all_links;
	double		score;			/* readability: paragraphs' weight */
	bool		scored;			/* score holds its tag/class start */
	bool		dropped;		/* boilerplate, or a link list */
	bool		has_block;		/* has a block child (not a paragraph itself) */
	bool		on_path;		/* ancestor of the common ancestor so far */
	xmlNode    *node;
} NodeInfo;

typedef struct ContentState
{
	NodeInfo   *info;			/* one per element of the document */
	size_t		count;			/* handed out so far */
	size_t		elements;
	int			link_depth;		/* >0 inside <a href> */
	int			article_depth;	/* >0 inside <article> */
	int			section_depth;	/* >0 inside article/aside/main/nav/section */
	xmlNode    *main;			/* first <main> or [role=main] with text */
	xmlNode   **articles;		/* outermost kept <article>s, document order */
	size_t		narticles;
	size_t		articles_cap;
	Buf			text;
	size_t		text_limit;
} ContentState;

static NodeInfo *
info_of(const xmlNode *n)
{
	return n && n->type == XML_ELEMENT_NODE ? (NodeInfo *) n->_private : NULL;
}

static bool
name_in(const xmlNode *n, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (name_is(n, names[i]))
			return true;
	return false;
}

/* lower-cased attribute value (malloc'd) or NULL */
static char *
attr_lower(xmlNode *n, const char *name)
{
	char	   *v = attr(n, name);

	for (char *p = v; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	return v;
}

static bool
contains_any(const char *s, const char *const *words)
{
	for (int i = 0; s && words[i]; i++)
		if (strstr(s, words[i]))
			return true;
	return false;
}

/* true if s has one of words as a whole word (split on what is not a letter or digit) */
static bool
contains_word(const char *s, const char *const *words)
{
	while (s && *s)
	{
		size_t		n = 0;

		while (*s && !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
			s++;
		while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9'))
			n++;
		for (int i = 0; n > 0 && words[i]; i++)
			if (strlen(words[i]) == n && strncmp(s, words[i], n) == 0)
				return true;
		s += n;
	}
	return false;
}

/* class and id, lower-cased, as one string; NULL if neither */
static char *
class_and_id(xmlNode *n)
{
	char	   *c = attr_lower(n, "class");
	char	   *id = attr_lower(n, "id");
	Buf			b;

	if (c == NULL && id == NULL)
		return NULL;
	buf_init(&b);
	if (c)
		buf_appends(&b, c);
	buf_appendc(&b, ' ');
	if (id)
		buf_appends(&b, id);
	free(c);
	free(id);
	return buf_steal(&b);
}

static const char *const consent_words[] = {"cookie", "consent", "gdpr", NULL};
static const char *const chrome_words[] = {
	"nav", "menu", "breadcrumb", "sidebar", "side-bar", "masthead", "footer",
	"header", "banner", "share", "sharing", "social", "related", "pagination",
	"pager", "popup", "modal", "newsletter", "subscribe", "sponsor", "advert",
	"promo", "widget", "toolbar", "skip-link", "skiplink", "profile", NULL
};
static const char *const content_words[] = {
	"article", "content", "entry", "main", "post", "story", "body", "text", NULL
};

/* readability's class/id weight of a candidate container */
static int
class_weight(xmlNode *n)
{
	static const char *const positive[] = {
		"article", "body", "content", "entry", "main", "page", "post", "text",
		"blog", "story", NULL
	};
	static const char *const negative[] = {
		"comment", "meta", "footer", "footnote", "masthead", "media", "promo",
		"related", "scroll", "share", "shoutbox", "sidebar", "sponsor",
		"shopping", "tags", "tool", "widget", NULL
	};
	char	   *ci = n->properties ? class_and_id(n) : NULL;
	int			w = 0;

	if (ci == NULL)
		return 0;
	if (contains_any(ci, negative))
		w -= 25;
	if (contains_any(ci, positive))
		w += 25;
	free(ci);
	return w;
}

/* elements whose class names may be trusted less than their tag */
static bool
is_structural(const xmlNode *n)
{
	static const char *const structural[] = {"html", "body", "main", "article", NULL};

	return name_in(n, structural);
}

/* rule 1: boilerplate wherever it is, given the enclosing context */
static bool
is_boilerplate(ContentState *cs, xmlNode *n)
{
	static const char *const roles[] = {
		"navigation", "banner", "contentinfo", "complementary", "search", "menu",
		"menubar", "toolbar", "dialog", "alertdialog", NULL
	};
	char	   *v;
	bool		drop = false;

	if (name_is(n, "html") || name_is(n, "body"))
		return false;
	if (name_is(n, "nav") || name_is(n, "menu") || name_is(n, "dialog"))
		return true;
	if ((name_is(n, "header") || name_is(n, "footer")) && cs->section_depth == 0)
		return true;
	if (name_is(n, "aside") && cs->article_depth == 0)
		return true;
	/* most elements have no attributes at all: nothing more to look at */
	if (n->properties == NULL)
		return false;
	if (xmlHasProp(n, (const xmlChar *) "hidden"))
		return true;
	if ((v = attr_lower(n, "aria-hidden")) != NULL)
	{
		drop = strcmp(v, "true") == 0;
		free(v);
		if (drop)
			return true;
	}
	if ((v = attr_lower(n, "role")) != NULL)
	{
		for (int i = 0; roles[i] && !drop; i++)
			drop = has_token(v, roles[i]);
		free(v);
		if (drop)
			return true;
	}
	if ((v = attr_lower(n, "style")) != NULL)
	{
		char	   *w = v;

		/* "display : none" reads as "display:none" */
		for (char *r = v; *r; r++)
			if (*r != ' ')
				*w++ = *r;
		*w = '\0';
		drop = strstr(v, "display:none") || strstr(v, "visibility:hidden");
		free(v);
		if (drop)
			return true;
	}
	if (is_structural(n))
		return false;
	if ((v = class_and_id(n)) != NULL)
	{
		drop = contains_any(v, consent_words) ||
			(contains_any(v, chrome_words) && !contains_word(v, content_words));
		free(v);
	}
	return drop;
}

/* rule 2 applies to these */
static bool
is_link_container(const xmlNode *n)
{
	static const char *const containers[] = {
		"div", "section", "header", "footer", "aside", "ul", "ol", "dl", "table",
		"tbody", "tr", "td", "li", "form", "span", "center", "font", NULL
	};

	return name_in(n, containers);
}

/* elements that make their parent a container rather than a paragraph */
static bool
is_block_child(const xmlNode *n)
{
	static const char *const blocks[] = {
		"p", "div", "section", "article", "table", "ul", "ol", "dl", "pre",
		"blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "form", "header",
		"footer", "nav", "aside", "main", "figure", "hr", NULL
	};

	return name_in(n, blocks);
}

/* readability's start score of a container, by its tag and class/id */
static void
score_start(xmlNode *n, NodeInfo *ni)
{
	static const char *const plus5[] = {"div", NULL};
	static const char *const plus3[] = {"pre", "td", "blockquote", NULL};
	static const char *const minus3[] = {
		"address", "ol", "ul", "dl", "dd", "dt", "li", "form", NULL
	};
	static const char *const minus5[] = {"h1", "h2", "h3", "h4", "h5", "h6", "th", NULL};

	if (ni->scored)
		return;
	ni->scored = true;
	ni->score = class_weight(n);
	if (name_in(n, plus5))
		ni->score += 5;
	else if (name_in(n, plus3))
		ni->score += 3;
	else if (name_in(n, minus3))
		ni->score -= 3;
	else if (name_in(n, minus5))
		ni->score -= 5;
}

/* non-blank code points of s, and its commas (also 、 and ，) */
static void
count_text(const unsigned char *s, size_t *chars, size_t *commas)
{
	for (; *s; s++)
	{
		if ((*s & 0xC0) == 0x80 || *s == ' ' || *s == '\t' || *s == '\n' ||
			*s == '\r' || *s == '\f' || *s == '\v')
			continue;
		(*chars)++;
		if (*s == ',')
			(*commas)++;
		else if (s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x81)
			(*commas)++;
		else if (s[0] == 0xEF && s[1] == 0xBC && s[2] == 0x8C)
			(*commas)++;
	}
}

static bool
is_link(xmlNode *n)
{
	return name_is(n, "a") && xmlHasProp(n, (const xmlChar *) "href");
}

/* first pass: every element gets its NodeInfo */
static bool
count_enter(void *arg, xmlNode *n)
{
	if (n->type != XML_ELEMENT_NODE)
		return false;
	(*(size_t *) arg)++;
	return true;
}

static void
no_leave(void *arg, xmlNode *n)
{
	(void) arg;
	(void) n;
}

static bool
is_sectioning(const xmlNode *n)
{
	static const char *const sectioning[] = {"article", "aside", "main", "nav", "section", NULL};

	return name_in(n, sectioning);
}

/*
 * Second pass, on the way down: rule 1 (boilerplate in its context), which
 * elements hold blocks, and the text of kept text nodes.
 */
static bool
mark_enter(void *arg, xmlNode *n)
{
	ContentState *cs = arg;
	NodeInfo   *ni;
	NodeInfo   *parent = info_of(n->parent);

	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE)
	{
		if (parent && n->content)
		{
			size_t		chars = 0;

			count_text(n->content, &chars, &parent->commas);
			parent->text += chars;
			if (cs->link_depth > 0)
				parent->link_text += chars;
		}
		return false;
	}
	if (n->type != XML_ELEMENT_NODE || cs->count >= cs->elements)
		return false;
	ni = &cs->info[cs->count++];
	memset(ni, 0, sizeof(*ni));
	n->_private = ni;
	ni->node = n;
	if (name_is(n, "head") || is_hidden(n))
		ni->dropped = true;
	else if (is_boilerplate(cs, n))
		ni->dropped = true;
	if (ni->dropped)
		return false;
	if (parent && is_block_child(n))
		parent->has_block = true;
	if (is_link(n))
		cs->link_depth++;
	if (name_is(n, "article"))
		cs->article_depth++;
	if (is_sectioning(n))
		cs->section_depth++;
	return true;
}

static bool
has_token_attr(xmlNode *n, const char *name, const char *token)
{
	char	   *v = attr(n, name);
	bool		res = v && has_token(v, token);

	free(v);
	return res;
}

/* true if anc is node or one of its ancestors */
static bool
is_ancestor(const xmlNode *anc, const xmlNode *node)
{
	for (; node; node = node->parent)
		if (node == anc)
			return true;
	return false;
}

/*
 * Rule 2, on the counts that include the link lists already dropped inside:
 * a footer that is a copyright line beside a dropped list of tags is still
 * a link list.
 */
static bool
link_list(const xmlNode *n, const NodeInfo *ni)
{
	if (!is_link_container(n) || ni->all_links == 0)
		return false;
	if (ni->all_link_text == ni->all_text && ni->all_links == 1)
		return true;
	return ni->all_links >= 2 && ni->all_link_text * 2 > ni->all_text;
}

/*
 * The same pass on the way up: undo the context counters, add each kept
 * element's counts to its parent, drop link lists (rule 2), score paragraphs
 * for their ancestors, remember <main> and the outermost articles.
 */
static void
tally_leave(void *arg, xmlNode *n)
{
	ContentState *cs = arg;
	NodeInfo   *ni = info_of(n);
	NodeInfo   *parent;

	if (ni == NULL || ni->dropped)
		return;
	if (is_link(n))
		cs->link_depth--;
	if (name_is(n, "article"))
		cs->article_depth--;
	if (is_sectioning(n))
		cs->section_depth--;
	/* the children are tallied: gross = net + what dropped lists held */
	ni->all_text += ni->text;
	ni->all_link_text += ni->link_text;
	ni->all_links += ni->links;
	if (is_link(n))
	{
		ni->link_text = ni->text;
		ni->all_link_text = ni->all_text;
		ni->links++;
		ni->all_links++;
	}
	parent = info_of(n->parent);
	if (parent)
	{
		parent->all_text += ni->all_text - ni->text;
		parent->all_link_text += ni->all_link_text - ni->link_text;
		parent->all_links += ni->all_links - ni->links;
	}
	if (link_list(n, ni))
	{
		/* the parent's gross counts hold all of it, its net ones nothing */
		ni->dropped = true;
		if (parent)
		{
			parent->all_text += ni->text;
			parent->all_link_text += ni->link_text;
			parent->all_links += ni->links;
		}
		return;
	}
	if (parent)
	{
		parent->text += ni->text;
		parent->link_text += ni->link_text;
		parent->commas += ni->commas;
		parent->links += ni->links;
	}
	if (ni->text == 0)
		return;
	if ((name_is(n, "main") || has_token_attr(n, "role", "main")) && cs->main == NULL)
		cs->main = n;
	if (name_is(n, "article"))
	{
		/* an article inside another one replaces nothing: drop inner ones */
		while (cs->narticles > 0 && is_ancestor(n, cs->articles[cs->narticles - 1]))
			cs->narticles--;
		if (cs->narticles == cs->articles_cap)
		{
			cs->articles_cap = cs->articles_cap ? cs->articles_cap * 2 : 8;
			cs->articles = xrealloc(cs->articles, cs->articles_cap * sizeof(xmlNode *));
		}
		cs->articles[cs->narticles++] = n;
	}
	/* a paragraph scores for its ancestors */
	if ((name_is(n, "p") || name_is(n, "pre") || name_is(n, "td") ||
		 name_is(n, "blockquote") ||
		 ((name_is(n, "div") || name_is(n, "section")) && !ni->has_block)) &&
		ni->text >= 25)
	{
		double		s = 1.0 + (double) ni->commas + (double) (ni->text / 100 < 3 ? ni->text / 100 : 3);
		xmlNode    *a = n->parent;

		for (int level = 0; level < 5 && a && a->type == XML_ELEMENT_NODE; level++, a = a->parent)
		{
			NodeInfo   *ai = info_of(a);

			if (ai == NULL || name_is(a, "html"))
				break;
			score_start(a, ai);
			ai->score += level == 0 ? s : level == 1 ? s / 2 : s / (level * 3);
		}
	}
}
static double
final_score(const NodeInfo *ni)
{
	return ni->score * (1.0 - (ni->text ? (double) ni->link_text / (double) ni->text : 0.0));
}

static void
content_append(ContentState *cs, const char *s)
{
	if (s && cs->text.len < cs->text_limit)
		buf_appends(&cs->text, s);
}

/* the text of the kept part of a subtree, blocks separating words */
static bool
emit_enter(void *arg, xmlNode *n)
{
	ContentState *cs = arg;
	NodeInfo   *ni;

	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE)
	{
		content_append(cs, (const char *) n->content);
		return false;
	}
	if (n->type != XML_ELEMENT_NODE)
		return false;
	ni = info_of(n);
	if (ni == NULL || ni->dropped)
		return false;
	if (is_block(n))
		content_append(cs, " ");
	return true;
}

static void
emit_leave(void *arg, xmlNode *n)
{
	NodeInfo   *ni = info_of(n);

	/* a dropped element separates what was on either side of it */
	if (n->type == XML_ELEMENT_NODE && (is_block(n) || ni == NULL || ni->dropped))
		content_append(arg, " ");
}

static void
emit(ContentState *cs, xmlNode *n)
{
	if (emit_enter(cs, n))
		walk_children(n, emit_enter, emit_leave, cs);
	emit_leave(cs, n);
}

/* the kept candidates with the best final scores (rule 3's last resort) */
#define TOP_CANDIDATES 5
typedef struct BestState
{
	xmlNode    *top[TOP_CANDIDATES];	/* best first */
	double		score[TOP_CANDIDATES];
	int			n;
} BestState;

static bool
best_enter(void *arg, xmlNode *n)
{
	BestState  *bs = arg;
	NodeInfo   *ni = info_of(n);
	double		s;
	int			i;

	if (ni == NULL || ni->dropped)
		return false;
	if (!ni->scored)
		return true;
	s = final_score(ni);
	for (i = bs->n; i > 0 && bs->score[i - 1] < s; i--)
		if (i < TOP_CANDIDATES)
		{
			bs->top[i] = bs->top[i - 1];
			bs->score[i] = bs->score[i - 1];
		}
	if (i < TOP_CANDIDATES)
	{
		bs->top[i] = n;
		bs->score[i] = s;
		if (bs->n < TOP_CANDIDATES)
			bs->n++;
	}
	return true;
}

/*
 * The best candidate, or, when three or more of the runners-up score within
 * a quarter of it (the posts of a thread, the entries of a list), their
 * nearest ancestor that holds three of them (Readability.js does the same).
 */
static xmlNode *
best_candidate(const BestState *bs)
{
	int			close = 0;

	for (int i = 1; i < bs->n; i++)
		if (bs->score[i] >= bs->score[0] * 0.75)
			close++;
	if (close < 3)
		return bs->top[0];
	for (xmlNode *a = bs->top[0]->parent; a && a->type == XML_ELEMENT_NODE; a = a->parent)
	{
		int			held = 0;

		for (int i = 1; i < bs->n; i++)
			if (bs->score[i] >= bs->score[0] * 0.75 && is_ancestor(a, bs->top[i]))
				held++;
		if (held >= 3)
			return a;
	}
	return bs->top[0];
}

/* a sibling of the best candidate that belongs to the same content */
static bool
sibling_joins(xmlNode *s, double threshold)
{
	NodeInfo   *ni = info_of(s);
	double		density;

	if (ni == NULL || ni->dropped || ni->text == 0)
		return false;
	if (ni->scored && final_score(ni) >= threshold)
		return true;
	if (!name_is(s, "p"))
		return false;
	density = (double) ni->link_text / (double) ni->text;
	return (ni->text >= 80 && density < 0.25) || (ni->text >= 25 && ni->link_text == 0);
}

/* rule 3: emit the main content of the page below body into cs->text */
static void
choose_content(ContentState *cs, xmlNode *body)
{
	size_t		total = 0;
	xmlNode    *best = NULL;

	for (size_t i = 0; i < cs->narticles; i++)
	{
		total += info_of(cs->articles[i])->text;
		if (best == NULL || info_of(cs->articles[i])->text > info_of(best)->text)
			best = cs->articles[i];
	}
	/* an article outside <main> is not the page's (a card in a footer row) */
	if (best && (cs->narticles == 1 || info_of(best)->text * 2 > total) &&
		(cs->main == NULL || is_ancestor(cs->main, best)))
	{
		emit(cs, best);
		return;
	}
	if (cs->main)
	{
		emit(cs, cs->main);
		return;
	}
	if (cs->narticles >= 2)
	{
		xmlNode    *common = cs->articles[0];

		for (xmlNode *a = common; a; a = a->parent)
			if (info_of(a))
				info_of(a)->on_path = true;
		for (size_t i = 1; i < cs->narticles; i++)
		{
			xmlNode    *a = cs->articles[i];

			while (a && !(info_of(a) && info_of(a)->on_path))
				a = a->parent;
			if (a)
				common = a;
		}
		emit(cs, common);
		return;
	}
	{
		BestState	bs;
		xmlNode    *top;
		double		threshold;

		memset(&bs, 0, sizeof(bs));
		walk_children(body, best_enter, no_leave, &bs);
		if (bs.n == 0 || bs.score[0] <= 0.0)
		{
			emit(cs, body);
			return;
		}
		top = best_candidate(&bs);
		if (top == body || top->parent == NULL || top->parent->type != XML_ELEMENT_NODE)
		{
			emit(cs, top);
			return;
		}
		threshold = final_score(info_of(top)) * 0.2 > 10.0 ? final_score(info_of(top)) * 0.2 : 10.0;
		for (xmlNode *s = top->parent->children; s; s = s->next)
			if (s == top || (s->type == XML_ELEMENT_NODE && sibling_joins(s, threshold)))
				emit(cs, s);
	}
}

/* rule 4: main content shorter than this gives way to the whole page */
#define MIN_CONTENT_CHARS 25

static size_t
text_chars(const char *s)
{
	size_t		chars = 0;
	size_t		commas = 0;

	if (s)
		count_text((const unsigned char *) s, &chars, &commas);
	return chars;
}

/*
 * The main content of doc (rules 1-3 of the header comment) as collapsed,
 * sanitised text, malloc'd; NULL when the rules leave no text.
 */
static char *
main_content(xmlDoc *doc, size_t text_limit)
{
	ContentState cs;
	xmlNode    *root = xmlDocGetRootElement(doc);
	xmlNode    *body = root;
	char	   *text = NULL;

	if (root == NULL)
		return NULL;
	for (xmlNode *c = root->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && name_is(c, "body"))
		{
			body = c;
			break;
		}
	memset(&cs, 0, sizeof(cs));
	walk_children((xmlNode *) doc, count_enter, no_leave, &cs.elements);
	if (cs.elements == 0)
		return NULL;
	cs.info = xmalloc(cs.elements * sizeof(NodeInfo));
	cs.text_limit = text_limit;
	buf_init(&cs.text);
	walk_children((xmlNode *) doc, mark_enter, tally_leave, &cs);
	if (info_of(body) && !info_of(body)->dropped)
		choose_content(&cs, body);
	if (cs.text.len)
	{
		text = utf8_sanitize(cs.text.data, cs.text.len);
		collapse_whitespace(text);
		if (text[0] == '\0')
		{
			free(text);
			text = NULL;
		}
	}
	/* the document outlives this pass: leave no pointer into freed memory */
	for (size_t i = 0; i < cs.count; i++)
		cs.info[i].node->_private = NULL;
	buf_free(&cs.text);
	free(cs.articles);
	free(cs.info);
	return text;
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
	char	   *content;

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
	walk_children((xmlNode *) doc, enter, leave, &st);
	content = main_content(doc, st.text_limit);
	xmlFreeDoc(doc);

	if (page->title == NULL)
	{
		page->title = st.og_title;
		st.og_title = NULL;
	}
	if (content && text_chars(content) < MIN_CONTENT_CHARS &&
		text_chars(st.text.data) > text_chars(content))
	{
		/* a heading over a link list, or less: the whole page's text */
		free(content);
		content = NULL;
	}
	if (content)
	{
		/* main_content's text is sanitised and collapsed already */
		utf8_truncate(content, body_max_chars);
		page->body = content;
	}
	else if (st.text.len)
	{
		/* no main content found: the whole page's visible text */
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
