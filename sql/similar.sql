-- similar(): the nearest articles through examples_similar_idx, exactly as
-- 0.1's full scan ranks them
\set SHOW_CONTEXT never
TRUNCATE pglearn.examples, pglearn.models RESTART IDENTITY CASCADE;

--
-- fvec_keys(): the indexes of a vector, for GIN
--
-- index * 4 + the octave of the value: 0 above 1/2, 1 above 1/4, 2 above 1/8, 3 the rest
SELECT pglearn.fvec_keys('{3:0.5,17:1,18:0.5000001,19:0.125,20:0.1249,21:-0.3,1073741823:0.01}');
SELECT pglearn.fvec_keys('{}'), pglearn.fvec_keys(NULL) IS NULL AS strict;
SELECT ARRAY(SELECT (k / 4)::int4 FROM unnest(pglearn.fvec_keys(pglearn.features(NULL, 'Vacuum', 'index vacuum'))) k) =
       ARRAY(SELECT DISTINCT index FROM pglearn.feature_names(NULL, 'Vacuum', 'index vacuum') ORDER BY 1) AS keys_are_feature_indexes;

-- the index is over the very vector similar() ranks by
SELECT indexdef FROM pg_indexes WHERE schemaname = 'pglearn' AND indexname = 'examples_similar_idx';

--
-- 0.1's definition, the reference
--
CREATE FUNCTION pg_temp.similar_full_scan(article_url text, k int4)
	RETURNS TABLE (id int8, url text, title text, label int4, score float8, similarity float8)
	LANGUAGE plpgsql STABLE AS
$$
DECLARE
	target record;
	v pglearn.fvec;
BEGIN
	SELECT e.id, coalesce(e.final_url, e.url) AS final_key, e.title, e.description, e.body INTO target
	  FROM pglearn.examples e WHERE e.url = article_url;
	v := pglearn.features(NULL, target.title, pglearn.article_text(target.description, target.body));
	RETURN QUERY
	SELECT s.id, s.url, s.title, s.label, s.score, s.similarity
	  FROM (SELECT e.id, e.url, e.title, e.label, e.score,
				   pglearn.cosine_similarity(v, pglearn.features(NULL, e.title,
					   pglearn.article_text(e.description, e.body))) AS similarity
			  FROM pglearn.examples e
			 WHERE e.id <> target.id AND coalesce(e.final_url, e.url) <> target.final_key
			OFFSET 0) s
	 WHERE s.similarity > 0
	 ORDER BY s.similarity DESC, s.url
	 LIMIT k;
END
$$;
-- either, as an array of its rows as text (float8 prints exactly)
CREATE FUNCTION pg_temp.ranked(article_url text, k int4, full_scan bool) RETURNS text[]
	LANGUAGE sql STABLE AS
$$
	SELECT coalesce(array_agg(format('%L|%L|%L|%L|%L|%L', s.id, s.url, s.title, s.label, s.score, s.similarity) ORDER BY s.n), '{}')
	  FROM (SELECT r.*, row_number() OVER () AS n
			  FROM pglearn.similar(article_url, k) r WHERE NOT full_scan
			UNION ALL
			SELECT r.*, row_number() OVER () AS n
			  FROM pg_temp.similar_full_scan(article_url, k) r WHERE full_scan) s
$$;

--
-- Articles: 40 words, each article a run of some of them (so neighbours
-- share more or fewer words), common words in most, titles of 8 kinds,
-- exact copies (ties, broken by URL), copies behind one final URL, rows
-- without text, text in title or description only, labels and scores.
--
CREATE TEMP TABLE words AS
	SELECT ARRAY['vacuum', 'index', 'planner', 'replication', 'wal', 'join', 'btree', 'sql',
				 'query', 'table', 'lock', 'snapshot', 'tuple', 'page', 'buffer', 'checkpoint',
				 'goal', 'striker', 'league', 'derby', 'coach', 'penalty', 'transfer', 'keeper',
				 'データベース', '索引', 'バキューム', '勉強会', 'the', 'a', 'of', 'and',
				 'to', 'in', 'is', 'it', 'for', 'on', 'with', 'as'] AS w;
INSERT INTO pglearn.examples (url, final_url, title, description, body, label, score)
SELECT format('https://site%s.example/a/%s', i % 7, i),
	   CASE WHEN i % 50 = 7 THEN format('https://site%s.example/a/%s', (i - 1) % 7, i - 1) END,
	   CASE WHEN i % 40 = 3 THEN NULL ELSE initcap(w[1 + i % 8]) || ' notes ' || (i % 5) END,
	   CASE WHEN i % 3 = 0 THEN array_to_string(w[1 + (i * 7) % 30 : 3 + (i * 7) % 30], ' ') END,
	   CASE WHEN i % 40 IN (3, 4) THEN NULL
			ELSE array_to_string(w[1 + (i * 13) % 28 : 1 + (i * 13) % 28 + i % 9], ' ') || ' ' ||
				 array_to_string(w[29 : 29 + i % 12], ' ') || repeat(' the', i % 4) END,
	   (ARRAY[NULL, 1, -1, 0])[1 + i % 4],
	   round(((i * 37) % 100) / 100.0, 2)
  FROM generate_series(1, 200) i, words;
-- exact copies of article 20 (ties) and an empty page
INSERT INTO pglearn.examples (url, title, description, body)
SELECT format('https://copy.example/%s', c), e.title, e.description, e.body
  FROM pglearn.examples e, generate_series(1, 3) c WHERE e.url = 'https://site6.example/a/20';
INSERT INTO pglearn.examples (url, title, body) VALUES ('https://empty.example/', '', '');
ANALYZE pglearn.examples;
SELECT count(*) AS rows, count(*) FILTER (WHERE pglearn.nnz(pglearn.features(NULL, title, pglearn.article_text(description, body))) = 0) AS without_words,
	   count(*) FILTER (WHERE final_url IS NOT NULL) AS redirected
  FROM pglearn.examples;

-- a few by hand: the copies tie at the top, ordered by URL
SELECT url, title, round(similarity::numeric, 4) AS similarity FROM pglearn.similar('https://site6.example/a/20', 5);
-- the same article behind another URL (same final URL) is not its
-- neighbour, though the two share words
SELECT pglearn.cosine_similarity(pglearn.features(NULL, a.title, pglearn.article_text(a.description, a.body)),
								 pglearn.features(NULL, b.title, pglearn.article_text(b.description, b.body))) > 0 AS share_words,
	   b.final_url = a.url AS same_final_url
  FROM pglearn.examples a, pglearn.examples b
 WHERE a.url = 'https://site6.example/a/6' AND b.url = 'https://site0.example/a/7';
SELECT count(*) AS redirect_excluded FROM pglearn.similar('https://site6.example/a/6', 500) WHERE url = 'https://site0.example/a/7';
SELECT count(*) AS reference_agrees FROM pg_temp.similar_full_scan('https://site6.example/a/6', 500) WHERE url = 'https://site0.example/a/7';
-- no words, no neighbours; words in the description alone are enough
SELECT count(*) FROM pglearn.similar('https://empty.example/');
SELECT count(*) FROM pglearn.similar('https://site3.example/a/3');

-- every article, k = 1, 4 and 30: the same rows, values and order as 0.1
-- (whose first k of 30 are its k: the order is total)
SELECT count(*) AS articles, count(*) FILTER (WHERE n1 = r[1:1] AND n4 = r[1:4] AND n30 = r) AS same,
	   count(*) FILTER (WHERE cardinality(r) = 30) AS with_30_neighbours,
	   count(*) FILTER (WHERE cardinality(r) = 0) AS without_neighbours
  FROM (SELECT pg_temp.ranked(e.url, 30, true) AS r, pg_temp.ranked(e.url, 1, false) AS n1,
			   pg_temp.ranked(e.url, 4, false) AS n4, pg_temp.ranked(e.url, 30, false) AS n30
		  FROM pglearn.examples e) s;

-- through the index (DEBUG1 says how the rows were ranked)
SET client_min_messages = debug1;
SELECT count(*) FROM pglearn.similar('https://site2.example/a/100', 10);
-- a k beyond a twentieth of the table (and 1000): the full scan
SELECT count(*) FROM pglearn.similar('https://site2.example/a/100', 1001);
RESET client_min_messages;
SELECT pg_temp.ranked('https://site2.example/a/100', 1001, false) = pg_temp.ranked('https://site2.example/a/100', 1001, true) AS same_full_scan;

--
-- The rows a query would see
--
BEGIN;
-- deleted, inserted (GIN's pending list), re-titled (a new row version)
DELETE FROM pglearn.examples WHERE url = (SELECT url FROM pglearn.similar('https://site2.example/a/100', 1));
INSERT INTO pglearn.examples (url, title, body)
SELECT 'https://new.example/1', title, body FROM pglearn.examples WHERE url = 'https://site2.example/a/100';
UPDATE pglearn.examples SET title = 'Vacuum vacuum vacuum' WHERE url = 'https://site1.example/a/8';
-- HOT: a column outside every index; the index still points at the old
-- version, the row is found through its HOT chain
UPDATE pglearn.examples SET favicon = 'https://copy.example/favicon.ico' WHERE url = 'https://copy.example/3';
SELECT pg_stat_get_xact_tuples_hot_updated('pglearn.examples'::regclass) AS hot_updated;
SELECT url, round(similarity::numeric, 4) AS similarity FROM pglearn.similar('https://site2.example/a/100', 3);
SELECT url, round(similarity::numeric, 4) AS similarity FROM pglearn.similar('https://site6.example/a/20', 3);
SELECT count(*) AS cases, count(*) FILTER (WHERE pg_temp.ranked(e.url, 10, false) = pg_temp.ranked(e.url, 10, true)) AS same
  FROM pglearn.examples e WHERE e.id % 4 = 0 OR e.url LIKE 'https://new.example/%';
ROLLBACK;

-- without statistics the lists are read in another order: the same rows
BEGIN;
DELETE FROM pg_statistic WHERE starelid = 'pglearn.examples_similar_idx'::regclass;
SELECT count(*) AS cases, count(*) FILTER (WHERE pg_temp.ranked(e.url, 4, false) = pg_temp.ranked(e.url, 4, true)) AS same
  FROM pglearn.examples e WHERE e.id % 4 = 1;
ROLLBACK;

-- without the index, or with another one of that name: the full scan
BEGIN;
DROP INDEX pglearn.examples_similar_idx;
SET LOCAL client_min_messages = debug1;
SELECT count(*) FROM pglearn.similar('https://site2.example/a/100', 10);
RESET client_min_messages;
SELECT count(*) AS cases, count(*) FILTER (WHERE pg_temp.ranked(e.url, 4, false) = pg_temp.ranked(e.url, 4, true)) AS same
  FROM pglearn.examples e WHERE e.id % 10 = 0;
CREATE INDEX examples_similar_idx ON pglearn.examples
	USING gin (pglearn.fvec_keys(pglearn.features(url, title, body)));
SET LOCAL client_min_messages = debug1;
SELECT count(*) FROM pglearn.similar('https://site2.example/a/100', 10);
RESET client_min_messages;
SELECT pg_temp.ranked('https://site2.example/a/100', 10, false) = pg_temp.ranked('https://site2.example/a/100', 10, true) AS same;
ROLLBACK;

--
-- Privileges and row-level security: the index is read only for a caller
-- who may read the whole table; else the full scan, as that caller
--
CREATE ROLE pglearn_test_reader;
GRANT USAGE ON SCHEMA pglearn TO pglearn_test_reader;
SET ROLE pglearn_test_reader;
\set VERBOSITY terse
SELECT count(*) FROM pglearn.similar('https://site2.example/a/100');
SELECT count(*) FROM pglearn._similar_ranked(1, 'x', '{1:1}', 10);
\set VERBOSITY default
RESET ROLE;
GRANT SELECT ON pglearn.examples TO pglearn_test_reader;
ALTER TABLE pglearn.examples ENABLE ROW LEVEL SECURITY;
CREATE POLICY pglearn_test_site2 ON pglearn.examples FOR SELECT TO pglearn_test_reader
	USING (url NOT LIKE 'https://copy.example/%');
SET ROLE pglearn_test_reader;
SET client_min_messages = debug1;
SELECT url FROM pglearn.similar('https://site6.example/a/20', 3);
RESET client_min_messages;
SELECT pg_temp.ranked('https://site6.example/a/20', 10, false) = pg_temp.ranked('https://site6.example/a/20', 10, true) AS same_as_reader;
RESET ROLE;
DROP POLICY pglearn_test_site2 ON pglearn.examples;
ALTER TABLE pglearn.examples DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON pglearn.examples FROM pglearn_test_reader;
REVOKE USAGE ON SCHEMA pglearn FROM pglearn_test_reader;
DROP ROLE pglearn_test_reader;

-- errors are 0.1's
\set VERBOSITY terse
SELECT * FROM pglearn.similar('https://nowhere.example/');
SELECT * FROM pglearn.similar('https://site2.example/a/100', 0);
SELECT * FROM pglearn.similar('https://site2.example/a/100', NULL);
SELECT * FROM pglearn._similar_ranked(1, 'x', '{1:1}', 0);
\set VERBOSITY default

TRUNCATE pglearn.examples, pglearn.models RESTART IDENTITY CASCADE;
