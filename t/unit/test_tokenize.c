/*-------------------------------------------------------------------------
 *
 * test_tokenize.c
 *	  Standalone unit test of tokenize.c: token rules and the feature hash.
 *
 * Plain C, no PostgreSQL.  Build and run:
 *
 *	cc -Wall -Wextra -fsanitize=address,undefined -iquote src \
 *		t/unit/test_tokenize.c src/tokenize.c -o /tmp/test_tokenize
 *	/tmp/test_tokenize
 *
 * (-iquote, not -I: src/features.h would shadow the C library's
 * <features.h>.)  Prints TAP and exits nonzero if any case fails.  NFKC
 * is the caller's job, so full-width folding is tested in the SQL
 * regression test.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenize.h"
#include "../lib/tap.h"

#define MAX_TOKENS_TEXT 8192

/* Tokens joined with '|', as the callback saw them. */
typedef struct Collected
{
	char		text[MAX_TOKENS_TEXT];
	size_t		len;
	int			count;
	int			stop_after;		/* return 1 after this many tokens; 0 never */
} Collected;

static int
collect(void *arg, const char *token, size_t len)
{
	Collected  *c = (Collected *) arg;

	if (c->count > 0 && c->len + 1 < sizeof(c->text))
		c->text[c->len++] = '|';
	if (c->len + len < sizeof(c->text))
	{
		memcpy(c->text + c->len, token, len);
		c->len += len;
	}
	c->text[c->len] = '\0';
	c->count++;
	return (c->stop_after > 0 && c->count >= c->stop_after) ? 1 : 0;
}

static void
check_tokens(const char *description, const char *got, const char *expected)
{
	ok(strcmp(got, expected) == 0, description);
	if (strcmp(got, expected) != 0)
		printf("#   got:      \"%s\"\n#   expected: \"%s\"\n", got, expected);
}

static void
check_text(const char *description, const char *input, size_t len,
		   const char *expected)
{
	Collected	c;

	memset(&c, 0, sizeof(c));
	tokenize_text("t:", input, len, collect, &c);
	check_tokens(description, c.text, expected);
}

static void
check_url(const char *description, const char *url, const char *expected)
{
	Collected	c;

	memset(&c, 0, sizeof(c));
	tokenize_url(url, strlen(url), collect, &c);
	check_tokens(description, c.text, expected);
}

#define TEXT(description, input, expected) \
	check_text(description, input, sizeof(input) - 1, expected)

static void
check_hash(const char *description, const char *key, size_t len,
		   uint32_t seed, uint32_t expected)
{
	uint32_t	got = murmurhash3_32(key, len, seed);

	ok(got == expected, description);
	if (got != expected)
		printf("#   got 0x%08x, expected 0x%08x\n", got, expected);
}

static void
test_murmur(void)
{
	/* published MurmurHash3 x86_32 test vectors */
	check_hash("murmur3 \"\" seed 0 is 0", "", 0, 0, 0);
	check_hash("murmur3 \"\" seed 1", "", 0, 1, 0x514e28b7);
	check_hash("murmur3 \"\" seed 0xffffffff", "", 0, 0xffffffff, 0x81f16f39);
	check_hash("murmur3 four zero bytes", "\0\0\0\0", 4, 0, 0x2362f9de);
	check_hash("murmur3 \"hello\"", "hello", 5, 0, 0x248bfa47);
	check_hash("murmur3 \"abc\" (3-byte tail)", "abc", 3, 0, 0xb3dd93fa);
	check_hash("murmur3 \"aaaa\" seed 0x9747b28c", "aaaa", 4, 0x9747b28c, 0x5a97808a);
	check_hash("murmur3 \"Hello, world!\" seed 0x9747b28c", "Hello, world!", 13,
			   0x9747b28c, 0x24884cba);
	check_hash("murmur3 quick brown fox",
			   "The quick brown fox jumps over the lazy dog", 43, 0, 0x2e4ff723);
}

static void
test_text(void)
{
	Collected	c;
	char		input[600];
	char		expected[600];
	int			rc;

	TEXT("ASCII words, punctuation splits, digits kept",
		 "Hello, World! don't e-mail 3.14 snake_case",
		 "t:hello|t:world|t:don|t:t|t:e|t:mail|t:3|t:14|t:snake|t:case");
	TEXT("Latin-1 upper case: Ä -> ä, É -> é, ß stays",
		 "ÄPFEL Straße ÉCOLE Ørsted",
		 "t:äpfel|t:straße|t:école|t:ørsted");
	TEXT("Latin Extended-A/B and Vietnamese",
		 "ŁÓDŹ ŒUVRE Čapek ƠN Ǆ",
		 "t:łódź|t:œuvre|t:čapek|t:ơn|t:ǆ");
	TEXT("Greek lower-casing, final sigma folded to σ",
		 "ΣΟΦΊΑ Σοφός",
		 "t:σοφία|t:σοφόσ");
	TEXT("Cyrillic lower-casing incl. Ё",
		 "МОСКВА Ёлка Її",
		 "t:москва|t:ёлка|t:її");
	TEXT("Japanese: overlapping Han bigrams",
		 "機械学習",
		 "t:機械|t:械学|t:学習");
	TEXT("Japanese: one character alone is a unigram",
		 "学 習。本",
		 "t:学|t:習|t:本");
	TEXT("Japanese: kana with prolonged sound mark, middle dot separates",
		 "ラーメン・テスト",
		 "t:ラー|t:ーメ|t:メン|t:テス|t:スト");
	TEXT("Japanese: Han and kana form one run",
		 "学習する",
		 "t:学習|t:習す|t:する");
	TEXT("mixed scripts: a script change ends the word",
		 "Postgresで学習",
		 "t:postgres|t:で学|t:学習");
	TEXT("mixed scripts: digits next to Han",
		 "2024年の春",
		 "t:2024|t:年の|t:の春");
	TEXT("Hangul bigrams",
		 "한국어 처리",
		 "t:한국|t:국어|t:처리");
	TEXT("invalid UTF-8: stray, truncated and overlong bytes skipped",
		 "ab\xff" "cd \xc3 ef\xc0\xaf" "gh \xe6\x97" "z",
		 "t:ab|t:cd|t:ef|t:gh|t:z");
	TEXT("invalid UTF-8: surrogates and > U+10FFFF skipped",
		 "a\xed\xa0\x80" "b \xf4\x90\x80\x80" "c",
		 "t:a|t:b|t:c");
	TEXT("empty input gives no tokens", "", "");
	TEXT("separators only give no tokens", " ,.;!? \t\n・。", "");

	/* 70 a's: cut to 64 */
	memset(input, 'a', 70);
	input[70] = '\0';
	memset(expected, 0, sizeof(expected));
	memcpy(expected, "t:", 2);
	memset(expected + 2, 'a', 64);
	check_text("a 70-byte word is cut to 64 bytes", input, 70, expected);

	/* 33 é (66 bytes): cut at a character boundary to 32 é (64 bytes) */
	memset(input, 0, sizeof(input));
	memset(expected, 0, sizeof(expected));
	memcpy(expected, "t:", 2);
	for (int i = 0; i < 33; i++)
		memcpy(input + 2 * i, "\xc3\xa9", 2);
	for (int i = 0; i < 32; i++)
		memcpy(expected + 2 + 2 * i, "\xc3\xa9", 2);
	check_text("a word is cut at a character boundary", input, 66, expected);

	/* a 300-byte run is skipped, its neighbours are not */
	memset(input, 0, sizeof(input));
	memcpy(input, "x ", 2);
	memset(input + 2, 'q', 300);
	memcpy(input + 302, " y", 2);
	check_text("a run over 256 bytes is skipped", input, 304, "t:x|t:y");

	/* exactly 256 bytes is still a word (cut to 64) */
	memset(input, 'r', 256);
	memset(expected, 0, sizeof(expected));
	memcpy(expected, "t:", 2);
	memset(expected + 2, 'r', 64);
	check_text("a run of exactly 256 bytes is kept (cut)", input, 256, expected);

	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	rc = tokenize_text("b:", "one two three", 13, collect, &c);
	ok(rc == 1 && strcmp(c.text, "b:one|b:two") == 0,
	   "a nonzero callback result stops tokenizing and is returned");

	memset(&c, 0, sizeof(c));
	rc = tokenize_text("0123456789012345678901234567890123456789", "x", 1,
					   collect, &c);
	ok(rc == -1 && c.count == 0, "a prefix over 32 bytes is refused");
}

static void
test_url(void)
{
	check_url("URL: scheme, userinfo, port, path, query, utm_*, fragment",
			  "https://user:pw@News.Example.CO.JP:8080/path/To_page.html"
			  "?utm_source=x&q=hello+world&UTM_Medium=y&id=42#frag",
			  "u:h:news.example.co.jp|u:s:example.co.jp|u:s:co.jp|u:s:jp|"
			  "u:p:path|u:p:to|u:p:page|u:p:html|u:p:q|u:p:hello|u:p:world|"
			  "u:p:id|u:p:42");
	check_url("URL: IDN punycode host stays punycode",
			  "http://xn--bcher-kva.example/",
			  "u:h:xn--bcher-kva.example|u:s:example");
	check_url("URL: Unicode host is lower-cased",
			  "http://BÜCHER.Example/",
			  "u:h:bücher.example|u:s:example");
	check_url("URL: leading www. removed, host:port without scheme",
			  "www.example.com:8080/a",
			  "u:h:example.com|u:s:com|u:p:a");
	check_url("URL: www. kept when no dot would remain",
			  "https://www.com/",
			  "u:h:www.com|u:s:com");
	check_url("URL: percent-encoded Japanese path gives bigrams",
			  "https://example.com/%E6%97%A5%E6%9C%AC%E8%AA%9E/100%",
			  "u:h:example.com|u:s:com|u:p:日本|u:p:本語|u:p:100");
	check_url("URL: fbclid, gclid skipped; ';' separates; trailing dot",
			  "http://Example.COM./a?fbclid=abc&gclid=x;page=2",
			  "u:h:example.com|u:s:com|u:p:a|u:p:page|u:p:2");
	check_url("URL: an IPv4 host has no suffixes",
			  "http://192.168.0.1/x", "u:h:192.168.0.1|u:p:x");
	check_url("URL: an IPv6 host has no suffixes",
			  "http://[::1]:80/y", "u:h:[::1]|u:p:y");
	check_url("URL: IPv6 literal with port",
			  "http://[2001:DB8::1]:8080/y",
			  "u:h:[2001:db8::1]|u:p:y");
	check_url("URL: mailto has no host", "mailto:Foo@bar.com",
			  "u:p:foo|u:p:bar|u:p:com");
	check_url("URL: bare path", "/just/a/path", "u:p:just|u:p:a|u:p:path");
	check_url("URL: host without scheme or path", " example.com\n",
			  "u:h:example.com|u:s:com");
	check_url("URL: empty, blank and host-less URLs give nothing",
			  "", "");
	check_url("URL: blank", "  \t ", "");
	check_url("URL: scheme only", "http://", "");
	check_url("URL: query without path", "https://a.b.example?x=1#y=2",
			  "u:h:a.b.example|u:s:b.example|u:s:example|u:p:x|u:p:1");
}

static void
test_tables(void)
{
	ok(tokenize_lower(0x0130) == 'i', "lower: İ -> i");
	ok(tokenize_lower(0x0131) == 0x0131, "lower: dotless ı stays");
	ok(tokenize_lower(0x1E9E) == 0x00DF, "lower: ẞ -> ß");
	ok(tokenize_lower(0x03A9) == 0x03C9 && tokenize_lower(0x0416) == 0x0436,
	   "lower: Ω -> ω, Ж -> ж");
	ok(tokenize_lower(0x0178) == 0x00FF && tokenize_lower(0x00DE) == 0x00FE,
	   "lower: Ÿ -> ÿ, Þ -> þ");
	ok(tokenize_lower(0x00D7) == 0x00D7 && tokenize_char_class(0x00D7) == 0,
	   "× is a separator and has no case");
	ok(tokenize_char_class(0x30FB) == 0 && tokenize_char_class(0x30FC) == 2,
	   "class: ・ separates, ー is CJK");
	ok(tokenize_char_class(0x00E9) == 1 && tokenize_char_class(0x4E00) == 2 &&
	   tokenize_char_class(0x20BB7) == 2 && tokenize_char_class(0x1F600) == 0,
	   "class: é word, 一 and 𠮷 CJK, emoji separator");
}

int
main(void)
{
	test_murmur();
	test_text();
	test_url();
	test_tables();
	return tap_finish();
}
