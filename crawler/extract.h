/*
 * extract.h: what the crawler keeps of an HTML page, and the libxml2
 * extraction that produces it.
 */
#ifndef PGLEARN_EXTRACT_H
#define PGLEARN_EXTRACT_H

#include <stddef.h>

/*
 * Caps on the short fields, in characters (code points), cut on a character
 * boundary: a <title> of 4 million characters is not a title, and every
 * later query of the table would carry it.  The body has --max-text.
 * og_image and favicon are URLs: one longer than PAGE_MAX_LINK_BYTES is
 * dropped rather than cut, since a cut URL names some other resource.
 */
#define PAGE_MAX_TITLE_CHARS 1000
#define PAGE_MAX_DESCRIPTION_CHARS 10000	/* description, og_description */
#define PAGE_MAX_OG_TYPE_CHARS 100
#define PAGE_MAX_LINK_BYTES 2048	/* og_image, favicon: store.h's MAX_URL_BYTES */

/* every field is malloc'd valid UTF-8 or NULL when the page lacks it */
typedef struct Page
{
	char	   *title;			/* <title>, else og:title; capped as above */
	char	   *description;	/* <meta name=description> */
	char	   *og_description;
	char	   *og_type;
	char	   *og_image;		/* absolute http(s) URL */
	char	   *favicon;		/* absolute http(s) URL */
	char	   *body;			/* main text (extract.c), whitespace collapsed, capped */
	char	   *final_url;		/* canonical link else effective URL, no utm_* */
} Page;

/*
 * Parse html (UTF-8, html_len bytes) fetched from effective_url and fill
 * *page.  body_max_chars caps the body text in characters, the PAGE_MAX_*
 * limits the other fields.  Returns 0, or
 * -1 when libxml2 produced no document at all (page left empty).
 */
int			extract_page(const char *html, size_t html_len, const char *effective_url,
						 size_t body_max_chars, Page *page);
void		page_free(Page *page);

#endif							/* PGLEARN_EXTRACT_H */
