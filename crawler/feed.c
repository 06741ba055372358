/*
 * feed.c: reads RSS/Atom documents with libxml2's XML parser and returns the
 * item links.  The parser runs without network access, DTD loading or entity
 * substitution, so a hostile feed cannot read files or fetch URLs (XXE).
 * A feed may list any number of items; only the first max_items with a
 * link are taken, so one feed cannot queue 100,000 fetches.
 * Owns nothing else: fetching the feed is crawl.c's job through fetch.c.
 */
#include "feed.h"

#include <stdbool.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

static bool
local_is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->name &&
		xmlStrcmp(n->name, (const xmlChar *) name) == 0;
}

static int
add_link(StrList *out, const char *base, const xmlChar *href)
{
	char	   *abs;

	if (href == NULL)
		return 0;
	abs = url_resolve(base, (const char *) href);
	if (abs == NULL)
		return 0;
	strlist_push(out, abs);
	return 1;
}

/* RSS <item><link>text</link></item>; also RDF items */
static int
item_link(xmlNode *item, const char *base, StrList *out)
{
	for (xmlNode *c = item->children; c; c = c->next)
		if (local_is(c, "link"))
		{
			xmlChar    *t = xmlNodeGetContent(c);
			int			r = add_link(out, base, t);

			xmlFree(t);
			if (r)
				return r;
		}
	/* some feeds only carry <guid isPermaLink="true"> */
	for (xmlNode *c = item->children; c; c = c->next)
		if (local_is(c, "guid"))
		{
			xmlChar    *perma = xmlGetProp(c, (const xmlChar *) "isPermaLink");
			int			r = 0;

			if (perma == NULL || xmlStrcasecmp(perma, (const xmlChar *) "true") == 0)
			{
				xmlChar    *t = xmlNodeGetContent(c);

				r = add_link(out, base, t);
				xmlFree(t);
			}
			xmlFree(perma);
			if (r)
				return r;
		}
	return 0;
}

/* Atom <entry><link rel="alternate" href=".."/></entry>; no rel = alternate */
static int
entry_link(xmlNode *entry, const char *base, StrList *out)
{
	for (xmlNode *c = entry->children; c; c = c->next)
		if (local_is(c, "link"))
		{
			xmlChar    *rel = xmlGetProp(c, (const xmlChar *) "rel");
			int			r = 0;

			if (rel == NULL || xmlStrcmp(rel, (const xmlChar *) "alternate") == 0)
			{
				xmlChar    *href = xmlGetProp(c, (const xmlChar *) "href");

				r = add_link(out, base, href);
				xmlFree(href);
			}
			xmlFree(rel);
			if (r)
				return r;
		}
	return 0;
}

/* iterative walk over the whole tree; items may sit at different depths */
int
feed_links(const char *body, size_t len, const char *feed_url, StrList *out,
		   size_t max_items, size_t *skipped)
{
	xmlDoc	   *doc;
	xmlNode    *root;
	xmlNode    *n;
	int			added = 0;

	*skipped = 0;
	if (len > 0x7fffffff)
		return -1;
	doc = xmlReadMemory(body, (int) len, feed_url, NULL,
						XML_PARSE_NONET | XML_PARSE_RECOVER | XML_PARSE_NOERROR |
						XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (doc == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	if (root == NULL || !(local_is(root, "rss") || local_is(root, "feed") || local_is(root, "RDF")))
	{
		xmlFreeDoc(doc);
		return -1;
	}
	n = root;
	while (n)
	{
		bool		descend = true;

		if (local_is(n, "item") || local_is(n, "entry"))
		{
			if ((size_t) added >= max_items)
				(*skipped)++;
			else if (local_is(n, "item"))
				added += item_link(n, feed_url, out);
			else
				added += entry_link(n, feed_url, out);
			descend = false;
		}
		if (descend && n->children)
		{
			n = n->children;
			continue;
		}
		while (n && n != root && n->next == NULL)
			n = n->parent;
		if (n == NULL || n == root)
			break;
		n = n->next;
	}
	xmlFreeDoc(doc);
	return added;
}
