/*
 * add_tsv.h: the line parser of `pglearn add` input (url or url<TAB>label),
 * kept free of I/O and of the database so it can be fuzzed on its own
 * (crawler/t/fuzz/fuzz_tsv.c).
 */
#ifndef PGLEARN_ADD_TSV_H
#define PGLEARN_ADD_TSV_H

#include <stddef.h>

/* label of a line that gives none (AddEntry.label uses the same value) */
#define ADD_NO_LABEL 2

typedef enum AddLineKind
{
	ADD_LINE_SKIP,				/* blank or #comment */
	ADD_LINE_ENTRY,				/* *url and *label are set */
	ADD_LINE_ERROR				/* *error is set */
} AddLineKind;

/* strip the line end and surrounding blanks in place */
char	   *trim_line(char *line);

/*
 * Parse one input line of len bytes (as getline returned it: NUL-terminated
 * at line[len], possibly with NUL bytes inside, which are an error).  The
 * line is modified in place; on ADD_LINE_ENTRY *url points into it (an
 * absolute http(s) URL of at most MAX_URL_BYTES bytes that url_normalize
 * accepts) and *label is 1, -1, 0 or ADD_NO_LABEL.  On ADD_LINE_ERROR
 * *error is a malloc'd message, valid UTF-8, without the FILE:LINE prefix.
 */
AddLineKind add_parse_line(char *line, size_t len, char **url, int *label, char **error);

#endif
