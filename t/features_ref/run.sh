#!/usr/bin/env bash
# t/features_ref/run.sh: features() gives bit for bit the fvecs of the code
# before its fast path.
#
# The reference is that code itself (ref_features.c, ref_tokenize.c: see
# ref_features.c), built by build.sh as a library of its own and loaded
# beside pglearn in a throwaway cluster.  Every check compares
# fvec_send(features(...)) with fvec_send(the reference's), byte for byte,
# over whole sets of inputs, and passes when no row differs:
#   - the SpamAssassin corpus (t/lib/spam_corpus.sh: 6,046 raw e-mails with
#     their subjects, some with non-ASCII text) at the default settings, in
#     binary mode, and at hash_bits 4 and 1, where three or more tokens
#     share a bucket and the sums take the old order;
#   - short windows of those e-mails (450 bytes, the texts of bench/features.sh);
#   - texts written to reach every path: NFKC-changing characters
#     (full-width Latin, ligatures, NBSP, combining marks composing with
#     ASCII, "<" + U+0338), CJK and Hangul, accented and Cyrillic words
#     around the 64-byte cut and the 256-byte run limit, long texts past
#     the 64 kB pieces with non-ASCII in them, and URLs (percent-encoding,
#     non-ASCII hosts, tracking parameters);
#   - in an SQL_ASCII database, where text may hold any bytes: ill-formed
#     UTF-8 of every kind, and the tokenizer's fuzz seeds (t/fuzz/corpus/tokenize);
#   - features(tsvector) over to_tsvector('simple', ...) of the corpus.
# Takes about a minute.  Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
. t/lib/tap.sh
. t/lib/cluster.sh
. t/lib/spam_corpus.sh

work=$(mktemp -d /tmp/pglearn-features-ref.XXXXXX)
chmod 755 "$work"
trap 'cluster_stop; rm -rf "$work"' EXIT

so=$(bash t/features_ref/build.sh "$work/ref" 2>"$work/build.log")
report $? "the reference features() builds" "$(cat "$work/build.log")"
[ -n "$so" ] || finish
csv=$(spam_corpus_csv) || { check "the SpamAssassin corpus is available" 1; finish; }
chmod 644 "$csv" 2>/dev/null
cp "$csv" "$work/corpus.csv" && chmod 644 "$work/corpus.csv"
cluster_start || { check "a cluster starts" 1; finish; }

q() {							# q DB SQL: one value
	PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2" 2>&1
}
setup() {						# setup DB: the extension and the reference functions
	psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" <<SQL
-- differ() reads a table t each check makes anew
SET check_function_bodies = off;
CREATE EXTENSION pglearn;
CREATE FUNCTION ref_features(text, text, text, int4 DEFAULT 20, bool DEFAULT false)
	RETURNS pglearn.fvec AS '$so', 'pglearn_ref_features' LANGUAGE C IMMUTABLE;
CREATE FUNCTION ref_features(tsvector, int4 DEFAULT 20, bool DEFAULT false)
	RETURNS pglearn.fvec AS '$so', 'pglearn_ref_features_tsvector' LANGUAGE C IMMUTABLE STRICT;
-- the rows of table t whose fvecs differ, and how many rows there are
CREATE FUNCTION differ(bits int4, is_binary bool, OUT differ int8, OUT total int8)
	LANGUAGE sql AS \$\$
	SELECT count(*) FILTER (WHERE pglearn.fvec_send(pglearn.features(url, title, body, bits, is_binary))
							   IS DISTINCT FROM pglearn.fvec_send(ref_features(url, title, body, bits, is_binary))),
		   count(*)
	  FROM t \$\$;
SQL
}
same() {						# same DB DESCRIPTION BITS BINARY: no row of t differs
	local got
	got=$(q "$1" "SELECT differ || ' of ' || total FROM differ($3, $4)")
	like "$got" '^0 of [1-9]' "$2"
}

psql -X -q -d postgres -c "CREATE DATABASE ref_utf8" &&
	psql -X -q -d postgres -c "CREATE DATABASE ref_ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
setup ref_utf8 >"$work/setup.log" 2>&1 && setup ref_ascii >>"$work/setup.log" 2>&1
report $? "the reference functions load beside pglearn" "$(cat "$work/setup.log")"

# the corpus, whole
q ref_utf8 "CREATE TABLE mail (url text, title text, body text, label int4, split text)" >/dev/null
psql -X -q -d ref_utf8 -c "\\copy mail FROM '$work/corpus.csv' WITH (FORMAT csv, HEADER true)"
q ref_utf8 "CREATE TABLE t AS SELECT 'https://mail.example/' || md5(url) || '?id=' || label AS url, title, body FROM mail" >/dev/null
same ref_utf8 "SpamAssassin corpus, defaults (2^20 buckets)" 20 false
same ref_utf8 "SpamAssassin corpus, binary" 20 true
same ref_utf8 "SpamAssassin corpus, hash_bits 4 (buckets of three and more tokens)" 4 false
same ref_utf8 "SpamAssassin corpus, hash_bits 1" 1 false
same ref_utf8 "SpamAssassin corpus, hash_bits 4, binary" 4 true
got=$(q ref_utf8 "SELECT count(*) FROM t WHERE body ~ '[^\\x01-\\x7f]'")
like "$got" '^[1-9][0-9]+$' "the corpus has bodies with non-ASCII text ($got)"

# short windows of it
q ref_utf8 "DROP TABLE t; CREATE TABLE t AS
	SELECT 'https://news' || (i % 50) || '.example/' || substr(md5(m.url || i), 1, 10) || '-' || i AS url,
		   m.title || ' #' || i AS title,
		   substr(m.body, 1 + (i * 211) % greatest(length(m.body) - 450, 1), 450) AS body
	  FROM mail m, generate_series(1, 3) i" >/dev/null
same ref_utf8 "450-byte windows of the corpus, defaults" 20 false
same ref_utf8 "450-byte windows of the corpus, hash_bits 6" 6 false

# texts written for the paths of the tokenizer and the normalisation
q ref_utf8 "DROP TABLE t; CREATE TABLE t (url text, title text, body text)" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d ref_utf8 >"$work/insert.log" 2>&1 <<'SQL'
INSERT INTO t VALUES
	('https://www.Example.COM/a/b?x=1&utm_source=z&q=caf%C3%A9', 'Hello World', 'Hello again, hello!'),
	('https://例え.テスト/パス/機械学習?検索=東京', '機械学習の本', '学習するPostgresで学習、本、犬'),
	('https://xn--r8jz45g.jp/', 'ＡＢＣ ﬁne ①②', 'full-width ＰｏｓｔｇｒｅＳＱＬ and ｶﾀｶﾅ, non breaking' || chr(160) || 'space'),
	('mailto:someone@example.org', 'e' || chr(769) || 'te', 'cafe' || chr(769) || ' na' || chr(776) || 'ive <' || chr(824) || ' =' || chr(824) || ' a<' || chr(824) || 'b'),
	('//cdn.example.co.jp:8080/x', 'Ελληνικά ΣΊΣΥΦΟΣ ς', 'Кириллица ПРИВЕТ мир, İstanbul ıi ß ẞ µ ſ'),
	('example.com:443/p?a=%ZZ&b=%e6%97%a5', '한국어 텍스트', '한국어 텍스트 ᄀᄁ ㄱㄴ 〆々〇 ・ ー'),
	('http://[::1]:80/a', repeat('é', 40), repeat('a', 63) || 'é ' || repeat('a', 64) || 'é ' || repeat('Ü', 33) || ' ' || repeat('x', 256) || ' ' || repeat('y', 257) || 'é'),
	('http://192.168.0.1/', repeat('ab ', 30), repeat('Straße ', 20) || repeat('déjà vu ', 40) || repeat('😀 emoji ', 5)),
	(NULL, NULL, 'only a body, ' || repeat('ǅ ǈ ǋ Ǳ ', 10)),
	('', '', ''),
	(NULL, NULL, NULL);
-- long texts: past the 64 kB pieces, with non-ASCII that NFKC keeps and
-- that it changes
INSERT INTO t
	SELECT 'https://long.example/' || n, 'long ' || n,
		   string_agg(CASE WHEN (g + n) % 97 = 0 THEN 'ｆｕｌｌ' WHEN g % 13 = 0 THEN 'naïve' WHEN g % 7 = 0 THEN 'word' || (g % 1000)
						   ELSE md5(g::text) END, CASE WHEN g % 11 = 0 THEN '. ' ELSE ' ' END)
	  FROM generate_series(1, 3) n, generate_series(1, 12000) g GROUP BY n;
INSERT INTO t SELECT NULL, NULL, repeat('日本語のテキスト、', 20000);
SQL
report $? "the written texts are stored" "$(cat "$work/insert.log")"
same ref_utf8 "written texts: NFKC, CJK, cuts, long texts, URLs; defaults" 20 false
same ref_utf8 "written texts, hash_bits 3" 3 false
same ref_utf8 "written texts, binary" 20 true

# any bytes, in SQL_ASCII
q ref_ascii "CREATE TABLE t (url text, title text, body text)" >/dev/null
for f in t/fuzz/corpus/tokenize/*; do
	hex=$(tr -d '\000' <"$f" | od -An -v -tx1 | tr -d ' \n')
	q ref_ascii "INSERT INTO t VALUES (convert_from('\\x$hex'::bytea, 'SQL_ASCII'), convert_from('\\x$hex'::bytea, 'SQL_ASCII'), convert_from('\\x$hex'::bytea, 'SQL_ASCII'))" >/dev/null
done
psql -X -q -v ON_ERROR_STOP=1 -d ref_ascii >"$work/insert.log" 2>&1 <<'SQL'
-- ill-formed UTF-8: stray continuation bytes, overlong forms, surrogates,
-- truncated sequences, bytes above F4, code points past U+10FFFF, next to
-- words, CJK and characters NFKC changes
INSERT INTO t
	SELECT convert_from(decode(u, 'hex'), 'SQL_ASCII'), convert_from(decode(b, 'hex'), 'SQL_ASCII'),
		   convert_from(decode(b || '20' || b || 'e6a99f' || b || 'efbca1' || b, 'hex'), 'SQL_ASCII')
	  FROM (VALUES ('68747470733a2f2f' || 'ff' || '2e636f6d2f61', '616263' || '80' || '646566'),
				   ('68747470733a2f2f6578616d706c652e636f6d2f' || 'c0af', 'c0af' || '776f7264'),
				   ('2f61' || 'eda080' || '62', 'eda080' || '78'),
				   ('2f' || 'e6a9', 'e6a9' || '41' || 'f09f98' || '42'),
				   ('2f' || 'f5808080', 'f4908080' || '61' || 'f88080808061'),
				   ('6578616d706c652e636f6d2f' || '25' || 'ff', '63616665cc81' || 'fe' || 'c3a9' || 'c2a0' || 'c2')) v(u, b);
INSERT INTO t
	SELECT NULL, NULL, convert_from(decode(string_agg(CASE WHEN g % 5 = 0 THEN 'c3' WHEN g % 7 = 0 THEN 'efbca1' ELSE to_hex(97 + g % 26) END, ''), 'hex'), 'SQL_ASCII')
	  FROM generate_series(1, 70000) g;
SQL
report $? "the ill-formed texts are stored" "$(cat "$work/insert.log")"
same ref_ascii "SQL_ASCII: any bytes (ill-formed UTF-8, the tokenizer's fuzz seeds)" 20 false
same ref_ascii "SQL_ASCII: any bytes, hash_bits 2" 2 false

# features(tsvector)
got=$(q ref_utf8 "SELECT count(*) FILTER (WHERE pglearn.fvec_send(pglearn.features(v, b, false)) IS DISTINCT FROM pglearn.fvec_send(ref_features(v, b, false))) || ' of ' || count(*)
	FROM (SELECT to_tsvector('simple', coalesce(title, '') || ' ' || body) AS v FROM mail) m, (VALUES (20), (3)) h(b)")
like "$got" '^0 of [1-9]' "features(tsvector) of the corpus, hash_bits 20 and 3"

finish
