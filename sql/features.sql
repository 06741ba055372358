--
-- features: tokens, hashing and values of pglearn.features() and
-- pglearn.feature_names().  Expected indexes were checked against an
-- independent MurmurHash3 implementation, values against log(1+tf)/norm.
--
-- float4 values of feature_names() print with 6 significant digits; fvec
-- text always prints the shortest exact float4.
SET extra_float_digits = 0;

-- English: words are lower-cased, punctuation separates, tf counts
SELECT * FROM pglearn.feature_names(NULL, 'Hello World', 'Hello again, hello!');

-- the lexeme-free hash of a known vector: murmur3("hello") = 0x248bfa47,
-- whose low 20 bits are 784967
SELECT pglearn.features(to_tsvector('simple', 'hello'));

-- Japanese: overlapping character bigrams, per field prefix
SELECT * FROM pglearn.feature_names(NULL, '機械学習', '機械学習の本');

-- one CJK character alone is a unigram; 、 separates
SELECT feature FROM pglearn.feature_names(NULL, '本、犬', NULL) ORDER BY feature COLLATE "C";

-- mixed scripts: a change of script ends a word; digits next to Han
SELECT feature FROM pglearn.feature_names(NULL, 'Postgresで学習する', NULL) ORDER BY feature COLLATE "C";
SELECT feature FROM pglearn.feature_names(NULL, '2024年の春', NULL) ORDER BY feature COLLATE "C";

-- Greek and Cyrillic lower-casing; Ä and decomposed A + U+0308 both give ä
SELECT feature FROM pglearn.feature_names(NULL, 'ΣΟΦΊΑ Москва ÄPFEL', NULL) ORDER BY feature COLLATE "C";
SELECT pglearn.features(NULL, 'ÄPFEL', NULL)::text = pglearn.features(NULL, 'äpfel', NULL)::text AS same,
	   pglearn.features(NULL, U&'A\0308PFEL', NULL)::text = pglearn.features(NULL, 'äpfel', NULL)::text AS same_decomposed;

-- NFKC: full-width Latin and digits fold to ASCII, half-width katakana to
-- full-width (with the voiced mark composed)
SELECT feature FROM pglearn.feature_names(NULL, 'ＰｏｓｔｇｒｅＳＱＬ　１５ ﾃﾞｰﾀ', NULL) ORDER BY feature COLLATE "C";
SELECT pglearn.features(NULL, 'ＰｏｓｔｇｒｅＳＱＬ　１５', NULL)::text =
	   pglearn.features(NULL, 'postgresql 15', NULL)::text AS full_width_folded;

-- URL: userinfo and port dropped, host suffixes, path words (a raw Unicode
-- path gives bigrams), utm_* parameters and the fragment skipped
SELECT * FROM pglearn.feature_names(
	'https://user:secret@News.Example.co.jp:8443/Tech/機械学習?utm_source=twitter&utm_medium=social&page=2#comments',
	NULL, NULL);

-- URL: percent-encoded path words are decoded
SELECT feature FROM pglearn.feature_names(
	'https://ja.wikipedia.org/wiki/%E6%A9%9F%E6%A2%B0%E5%AD%A6%E7%BF%92', NULL, NULL)
ORDER BY feature COLLATE "C";

-- URL: IDN hosts are kept as written (punycode stays punycode, Unicode is
-- NFKC-folded and lower-cased)
SELECT feature FROM pglearn.feature_names('http://xn--r8jz45g.jp/', NULL, NULL) ORDER BY feature COLLATE "C";
SELECT feature FROM pglearn.feature_names('http://例え.ＪＰ/', NULL, NULL) ORDER BY feature COLLATE "C";

-- URL: scheme, "www.", a port and fbclid do not change the features
-- (fvecs are compared as text: the = operator is not on the search_path)
SELECT pglearn.features('https://www.example.com/a?fbclid=XYZ', NULL, NULL)::text =
	   pglearn.features('http://example.com:80/a', NULL, NULL)::text AS same_site;

-- URL: an IP address has no suffixes; mailto has no host
SELECT feature FROM pglearn.feature_names('http://192.168.0.1:8080/x', NULL, NULL) ORDER BY feature COLLATE "C";
SELECT feature FROM pglearn.feature_names('mailto:someone@example.org', NULL, NULL) ORDER BY feature COLLATE "C";

-- NULL and empty fields are empty; no tokens give the empty fvec
SELECT pglearn.features(NULL, NULL, NULL) AS all_null,
	   pglearn.features('', '', '') AS all_empty,
	   pglearn.features(' ', '!!!', '、。') AS separators_only;
SELECT pglearn.features(NULL, 'x', NULL)::text = pglearn.features('', 'x', '')::text AS null_is_empty;
SELECT count(*) FROM pglearn.feature_names(NULL, NULL, NULL);

-- one token: a vector of norm 1 whatever its count (also exercises the
-- piecewise normalisation of a 500kB body)
SELECT pglearn.features(NULL, NULL, repeat('word ', 100000));
SELECT feature, value FROM pglearn.feature_names(NULL, NULL, repeat('機械学習 ', 20000))
ORDER BY feature COLLATE "C";

-- a word across the 64kB piece boundary of normalisation stays whole
SELECT feature, value
FROM pglearn.feature_names(NULL, NULL, repeat('Ａ ', 16383) || 'ｌｏｎｇ')
ORDER BY feature COLLATE "C";

-- a word is cut at 64 bytes; a run over 256 bytes is not a word
SELECT feature, length(feature) FROM pglearn.feature_names(NULL, repeat('x', 70), NULL);
SELECT pglearn.features(NULL, repeat('y', 300), NULL);

-- binary: indicators of distinct tokens plus BIAS, no normalisation
SELECT pglearn.features(NULL, 'hello hello world', NULL, 20, true);
SELECT * FROM pglearn.feature_names(NULL, 'hello hello world', NULL, 20, true);
SELECT pglearn.features(NULL, NULL, NULL, 20, true) AS bias_only;

-- hash_bits 4: t:c and t:x collide in bucket 3; their log(1+tf) values are
-- summed before normalising, and both rows show the bucket's value
SELECT * FROM pglearn.feature_names(NULL, 'a c x x', NULL, 4);
SELECT pglearn.features(NULL, 'a c x x', NULL, 4) AS collided;
-- ... and binary keeps a collided bucket at 1 (BIAS is bucket 15)
SELECT pglearn.features(NULL, 'a c x x', NULL, 4, true) AS collided_binary;
SELECT * FROM pglearn.feature_names(NULL, 'a c x x', NULL, 4, true);

-- hash_bits bounds and NULL settings
SELECT pglearn.features(NULL, 'x', NULL, 1);
SELECT pglearn.features(NULL, 'x', NULL, 30);
SELECT pglearn.features(NULL, 'x', NULL, 0);
SELECT pglearn.features(NULL, 'x', NULL, 31);
SELECT pglearn.features(NULL, 'x', NULL, NULL);
SELECT pglearn.features(NULL, 'x', NULL, 20, NULL);
SELECT * FROM pglearn.feature_names(NULL, 'x', NULL, -1);
SELECT pglearn.features(to_tsvector('simple', 'x'), 40);

-- tsvector: lexemes as they are, tf = number of positions
SELECT pglearn.features(to_tsvector('english', 'The cats are running; cats run'));
SELECT pglearn.features(to_tsvector('simple', 'Hello hello World'));
SELECT pglearn.features(strip(to_tsvector('simple', 'Hello hello World'))) AS stripped;
SELECT pglearn.features('hello:1,2 world'::tsvector) AS literal;
SELECT pglearn.features(to_tsvector('simple', 'Hello hello World'), 20, true) AS binary;
SELECT pglearn.features(''::tsvector) AS empty,
	   pglearn.features(''::tsvector, 20, true) AS empty_binary,
	   pglearn.features(NULL::tsvector) IS NULL AS strict;

-- a realistic article: the vector has L2 norm 1 (summing each bucket once,
-- whatever collided in it), and feature_names agrees with features()
CREATE TEMP TABLE article AS
SELECT 'https://www.postgresql.org/docs/15/textsearch-intro.html?utm_campaign=docs' AS url,
	   'PostgreSQL: Documentation: 15: 12.1. Introduction' AS title,
	   'Full Text Searching (or just text search) provides the capability to identify natural-language documents that satisfy a query, and optionally to sort them by relevance to the query. 全文検索は、問い合わせを満たす自然言語の文書を識別します。' AS body;
SELECT count(*) AS buckets,
	   round(sqrt(sum(value::float8 * value::float8))::numeric, 6) AS norm
FROM (SELECT DISTINCT n.index, n.value
	  FROM article, pglearn.feature_names(url, title, body) n) d;
SELECT count(*) AS tokens FROM article, pglearn.feature_names(url, title, body);
SET extra_float_digits = 1;
SELECT pglearn.features(url, title, body)::text =
	   (SELECT '{' || string_agg(index || ':' || value, ',' ORDER BY index) || '}'
		FROM (SELECT DISTINCT index, value
			  FROM pglearn.feature_names(url, title, body)) d) AS names_agree
FROM article;
SET extra_float_digits = 0;
SELECT feature, index, value FROM article, pglearn.feature_names(url, title, body)
WHERE feature LIKE 'u:%' OR feature LIKE 't:%'
ORDER BY feature COLLATE "C";
DROP TABLE article;
