/*
 * add_tsv.c: the line parser of `pglearn add` input.  main.c reads the lines
 * and reports errors with FILE:LINE; everything about what a line may hold
 * is decided here, without I/O, so the fuzzer exercises the real code.
 */
#include "add_tsv.h"
#include "store.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
trim_line(char *line)
{
	size_t		n = strlen(line);

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
		line[--n] = '\0';
	while (*line == ' ')
		line++;
	return line;
}

/* parse "1", "+1", "-1", "0"; 0 for anything else */
static int
parse_label(const char *s, int *label)
{
	if (strcmp(s, "1") == 0 || strcmp(s, "+1") == 0)
		*label = 1;
	else if (strcmp(s, "-1") == 0)
		*label = -1;
	else if (strcmp(s, "0") == 0)
		*label = 0;
	else
		return 0;
	return 1;
}

/*
 * A message quoting at most max bytes of s: the input may be megabytes long
 * and in any encoding, while the message must stay short and valid UTF-8.
 */
static char *
message_quoting(const char *fmt, const char *s, size_t max)
{
	size_t		n = strlen(s);
	char	   *shown = utf8_sanitize(s, n > max ? max : n);
	char	   *msg;
	int			len = snprintf(NULL, 0, fmt, shown);

	msg = xmalloc((size_t) len + 1);
	snprintf(msg, (size_t) len + 1, fmt, shown);
	free(shown);
	return msg;
}

AddLineKind
add_parse_line(char *line, size_t len, char **url, int *label, char **error)
{
	char	   *l;
	char	   *tab;
	char	   *label_text = NULL;
	char	   *norm;

	*url = NULL;
	*label = ADD_NO_LABEL;
	*error = NULL;
	if (strlen(line) < len)
	{
		*error = xstrdup("NUL byte in line");
		return ADD_LINE_ERROR;
	}
	l = trim_line(line);
	if (l[0] == '\0' || l[0] == '#')
		return ADD_LINE_SKIP;
	tab = strchr(l, '\t');
	if (tab)
	{
		*tab = '\0';
		l = trim_line(l);
		label_text = trim_line(tab + 1);
		if (strchr(label_text, '\t'))
		{
			*error = xstrdup("expected url<TAB>label, found more columns");
			return ADD_LINE_ERROR;
		}
	}
	if (label_text && !parse_label(label_text, label))
	{
		*error = message_quoting("invalid label \"%s\" (expected 1, -1 or 0)", label_text, 40);
		return ADD_LINE_ERROR;
	}
	if (strlen(l) > MAX_URL_BYTES || (norm = url_normalize(l)) == NULL)
	{
		char		fmt[80];

		snprintf(fmt, sizeof(fmt), "not an http(s) URL of at most %d bytes: \"%%s\"", MAX_URL_BYTES);
		*error = message_quoting(fmt, l, 200);
		return ADD_LINE_ERROR;
	}
	free(norm);
	*url = l;
	return ADD_LINE_ENTRY;
}
