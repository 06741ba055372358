/*
 * fuzz_tsv.c: libFuzzer target over the TSV import of `pglearn add`
 * (add_parse_line in add_tsv.c).  The input is split into lines the way
 * getline() splits a file, so NUL bytes, CR, tabs and very long lines reach
 * the parser as they would from a hostile file.  Beyond "no crash", it checks
 * the promises main.c and store.c rely on: an accepted line yields a short,
 * valid-UTF-8 http(s) URL without control characters and a known label, and
 * every error message is valid UTF-8 and short however long the line was.
 */
#include "../../add_tsv.h"
#include "../../store.h"
#include "../../util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void
check_line(const uint8_t *data, size_t len)
{
	char	   *line = xmalloc(len + 1);
	char	   *url;
	char	   *error;
	int			label;

	memcpy(line, data, len);
	line[len] = '\0';
	switch (add_parse_line(line, len, &url, &label, &error))
	{
		case ADD_LINE_SKIP:
			break;
		case ADD_LINE_ENTRY:
			if (url == NULL || url < line || url > line + len)
				abort();
			if (strlen(url) > MAX_URL_BYTES || !utf8_valid(url, strlen(url)))
				abort();
			if (strncasecmp(url, "http", 4) != 0)
				abort();		/* stored as given, so the scheme may be upper case */
			for (const unsigned char *p = (const unsigned char *) url; *p; p++)
				if (*p < 0x20 || *p == 0x7f)
					abort();	/* no tab, CR, LF or other control reaches SQL */
			if (label != 1 && label != -1 && label != 0 && label != ADD_NO_LABEL)
				abort();
			break;
		case ADD_LINE_ERROR:
			if (error == NULL || !utf8_valid(error, strlen(error)) || strlen(error) > 1024)
				abort();
			free(error);
			break;
		default:
			abort();
	}
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		start = 0;

	/* getline keeps the '\n' in the line; the last line may lack one */
	for (size_t i = 0; i < size; i++)
		if (data[i] == '\n')
		{
			check_line(data + start, i + 1 - start);
			start = i + 1;
		}
	if (start < size)
		check_line(data + start, size - start);
	return 0;
}
