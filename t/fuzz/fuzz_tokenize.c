/*-------------------------------------------------------------------------
 *
 * fuzz_tokenize.c
 *	  libFuzzer target for tokenize.c: arbitrary bytes as text and as URL.
 *
 * Properties checked beyond "no crash, no sanitizer report": every token
 * is non-empty, carries its prefix, is valid UTF-8 and fits the documented
 * length cap.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenize.h"

/* the documented caps: words 64 bytes, hosts 255 bytes, after the prefix */
#define MAX_WORD_BYTES 64
#define MAX_HOST_BYTES 255

static int
valid_utf8(const unsigned char *s, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		unsigned char c = s[i];
		size_t		n;
		uint32_t	cp;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		else if ((c & 0xe0) == 0xc0)
			n = 2, cp = c & 0x1f;
		else if ((c & 0xf0) == 0xe0)
			n = 3, cp = c & 0x0f;
		else if ((c & 0xf8) == 0xf0)
			n = 4, cp = c & 0x07;
		else
			return 0;
		if (i + n > len)
			return 0;
		for (size_t k = 1; k < n; k++)
		{
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
			cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n;
	}
	return 1;
}

static int
check_token(void *arg, const char *token, size_t len)
{
	const char *prefix = arg;
	size_t		prefix_len = strlen(prefix);
	int			is_host = len >= 4 && (memcmp(token, "u:h:", 4) == 0 ||
									   memcmp(token, "u:s:", 4) == 0);
	size_t		cap = is_host ? 4 + MAX_HOST_BYTES :
		(memcmp(token, "u:p:", 4) == 0 ? 4 : prefix_len) + MAX_WORD_BYTES;

	if (len <= prefix_len || len > cap ||
		strncmp(token, prefix, prefix_len) != 0 ||
		!valid_utf8((const unsigned char *) token, len))
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void) tokenize_text("t:", (const char *) data, size, check_token, "t:");
	(void) tokenize_url((const char *) data, size, check_token, "u:");
	(void) murmurhash3_32(data, size, 0);
	return 0;
}
