/*
 * charset.c: charset detection (header, BOM, <meta>) and conversion to valid
 * UTF-8 with iconv.  Owns the table that maps web encoding labels to the
 * names glibc's iconv knows.  Does not parse HTML beyond the <meta> prescan.
 */
#include "charset.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

/*
 * Web labels to iconv names.  Shift_JIS pages really are Windows-31J (CP932)
 * in practice (NEC/IBM extensions such as circled digits), and ISO-8859-1 /
 * ASCII labels really mean windows-1252, as the WHATWG Encoding standard
 * says; decoding them as labelled would lose characters.
 */
static const struct
{
	const char *label;
	const char *iconv_name;
}			charset_aliases[] =
{
	{"utf-8", "UTF-8"},
	{"utf8", "UTF-8"},
	{"unicode-1-1-utf-8", "UTF-8"},
	{"shift_jis", "CP932"},
	{"shift-jis", "CP932"},
	{"sjis", "CP932"},
	{"x-sjis", "CP932"},
	{"ms_kanji", "CP932"},
	{"csshiftjis", "CP932"},
	{"windows-31j", "CP932"},
	{"cp932", "CP932"},
	{"ms932", "CP932"},
	{"euc-jp", "EUC-JP-MS"},
	{"x-euc-jp", "EUC-JP-MS"},
	{"eucjp", "EUC-JP-MS"},
	{"cseucpkdfmtjapanese", "EUC-JP-MS"},
	{"iso-2022-jp", "ISO-2022-JP"},
	{"csiso2022jp", "ISO-2022-JP"},
	{"iso-8859-1", "WINDOWS-1252"},
	{"iso8859-1", "WINDOWS-1252"},
	{"latin1", "WINDOWS-1252"},
	{"l1", "WINDOWS-1252"},
	{"us-ascii", "WINDOWS-1252"},
	{"ascii", "WINDOWS-1252"},
	{"windows-1252", "WINDOWS-1252"},
	{"cp1252", "WINDOWS-1252"},
	{"x-cp1252", "WINDOWS-1252"},
	{"utf-16le", "UTF-16LE"},
	{"utf-16be", "UTF-16BE"},
	{"utf-16", "UTF-16LE"},
	{"gb2312", "GBK"},
	{"gbk", "GBK"},
	{"gb18030", "GB18030"},
	{"big5", "BIG5-HKSCS"},
	{"euc-kr", "CP949"},
	{"ks_c_5601-1987", "CP949"},
	{"koi8-r", "KOI8-R"},
	{"windows-1251", "WINDOWS-1251"},
};

const char *
charset_canonical(const char *label)
{
	for (size_t i = 0; i < sizeof(charset_aliases) / sizeof(charset_aliases[0]); i++)
		if (ascii_ieq(label, charset_aliases[i].label))
			return charset_aliases[i].iconv_name;
	return NULL;
}

/* copy a charset token (letters, digits, - _ . : ) starting at p; NULL if empty */
static char *
read_token(const char *p, const char *end)
{
	const char *s;

	while (p < end && (isspace((unsigned char) *p) || *p == '"' || *p == '\''))
		p++;
	s = p;
	while (p < end && (isalnum((unsigned char) *p) || *p == '-' || *p == '_' ||
					   *p == '.' || *p == ':'))
		p++;
	if (p == s || p - s > 40)
		return NULL;
	return xstrndup(s, p - s);
}

/* charset= parameter of a Content-Type value */
static char *
header_charset(const char *content_type)
{
	const char *p;
	size_t		n;

	if (content_type == NULL)
		return NULL;
	n = strlen(content_type);
	p = ascii_strcasestr_n(content_type, n, "charset");
	if (p == NULL)
		return NULL;
	p += 7;
	while (*p == ' ')
		p++;
	if (*p != '=')
		return NULL;
	return read_token(p + 1, content_type + n);
}

/* <meta ... charset=X ...> within the first 4 KiB (covers both meta forms) */
static char *
meta_charset(const char *body, size_t len)
{
	const char *end = body + (len < 4096 ? len : 4096);
	const char *p = body;

	while (p < end)
	{
		const char *tag = ascii_strcasestr_n(p, end - p, "<meta");
		const char *close;
		const char *cs;

		if (tag == NULL)
			return NULL;
		close = memchr(tag, '>', end - tag);
		if (close == NULL)
			close = end;
		cs = ascii_strcasestr_n(tag, close - tag, "charset");
		if (cs)
		{
			const char *q = cs + 7;

			while (q < close && isspace((unsigned char) *q))
				q++;
			if (q < close && *q == '=')
			{
				char	   *tok = read_token(q + 1, close);

				if (tok)
					return tok;
			}
		}
		p = close;
	}
	return NULL;
}

/* iconv body to UTF-8, replacing undecodable bytes with U+FFFD */
static char *
convert(iconv_t cd, const char *body, size_t len, size_t *out_len)
{
	size_t		cap = len * 3 + 16;
	char	   *out = xmalloc(cap);
	size_t		used = 0;
	char	   *in = (char *) body;
	size_t		inleft = len;
	char	   *raw;
	char	   *clean;

	for (;;)
	{
		char	   *op = out + used;
		size_t		oleft = cap - used - 4;	/* room for one U+FFFD */
		size_t		r;

		if (inleft > 0)
			r = iconv(cd, &in, &inleft, &op, &oleft);
		else
			r = iconv(cd, NULL, NULL, &op, &oleft);	/* flush shift state */
		used = op - out;
		if (r != (size_t) -1)
		{
			if (inleft == 0)
				break;
			continue;
		}
		if (errno == E2BIG)
		{
			cap *= 2;
			out = xrealloc(out, cap);
			continue;
		}
		/* EILSEQ, EINVAL (truncated at the end) or anything else */
		memcpy(out + used, "\xEF\xBF\xBD", 3);
		used += 3;
		if (errno != EILSEQ || inleft == 0)
			break;
		in++;
		inleft--;
		if (inleft == 0)
			break;
	}
	raw = out;
	/* iconv output is UTF-8, but still drop NUL/control bytes it may carry */
	clean = utf8_sanitize(raw, used);
	free(raw);
	if (out_len)
		*out_len = strlen(clean);
	return clean;
}

char *
charset_decode(const char *content_type, const char *body, size_t len,
			   size_t *out_len, char **charset)
{
	char	   *label = header_charset(content_type);
	const char *name = NULL;
	const unsigned char *u = (const unsigned char *) body;
	char	   *res;

	if (label)
		name = charset_canonical(label);
	if (name == NULL && label)
	{
		/* an unknown but real iconv name (say "iso-8859-15") still works */
		iconv_t		cd = iconv_open("UTF-8", label);

		if (cd != (iconv_t) -1)
		{
			iconv_close(cd);
			name = label;
		}
	}
	if (name == NULL)
	{
		if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
			name = "UTF-8";
		else if (len >= 2 && u[0] == 0xFF && u[1] == 0xFE)
			name = "UTF-16LE";
		else if (len >= 2 && u[0] == 0xFE && u[1] == 0xFF)
			name = "UTF-16BE";
	}
	if (name == NULL)
	{
		free(label);
		label = meta_charset(body, len);
		if (label)
		{
			name = charset_canonical(label);
			/* a meta tag that could be read as ASCII cannot mean UTF-16 */
			if (name && strncmp(name, "UTF-16", 6) == 0)
				name = "UTF-8";
		}
	}
	if (name == NULL)
		name = "UTF-8";

	/* byte order marks are not text */
	if (strcmp(name, "UTF-8") == 0 && len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
	{
		body += 3;
		len -= 3;
	}
	else if (strncmp(name, "UTF-16", 6) == 0 && len >= 2 &&
			 ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
	{
		name = (u[0] == 0xFF) ? "UTF-16LE" : "UTF-16BE";
		body += 2;
		len -= 2;
	}

	if (strcmp(name, "UTF-8") == 0)
	{
		res = utf8_sanitize(body, len);
		if (out_len)
			*out_len = strlen(res);
	}
	else
	{
		iconv_t		cd = iconv_open("UTF-8", name);

		if (cd == (iconv_t) -1 && strcmp(name, "EUC-JP-MS") == 0)
		{
			name = "EUC-JP";
			cd = iconv_open("UTF-8", name);
		}
		if (cd == (iconv_t) -1)
		{
			name = "UTF-8";
			res = utf8_sanitize(body, len);
			if (out_len)
				*out_len = strlen(res);
		}
		else
		{
			res = convert(cd, body, len, out_len);
			iconv_close(cd);
		}
	}
	if (charset)
		*charset = xstrdup(name);
	free(label);
	return res;
}
