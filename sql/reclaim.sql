-- Rescoring without doubling the table, and rescoring only the candidates:
-- refresh() hands each committed batch's replaced row versions to
-- _reclaim_pages() (src/reclaim.c), so the next batch reuses their room;
-- rescore_candidates() rescores the articles uncertain() offers next.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
TRUNCATE pglearn.examples, pglearn.models RESTART IDENTITY CASCADE;

-- 3,000 articles of two topics, about 700 bytes each (some ten to a page);
-- inserted with no model, so none has a score yet
INSERT INTO pglearn.examples (url, title, body, label)
SELECT format('https://%s.example.com/%s', CASE WHEN i % 2 = 0 THEN 'db' ELSE 'sport' END, i),
	   CASE WHEN i % 2 = 0 THEN 'Tuning the planner ' ELSE 'Match report ' END || i,
	   repeat(CASE WHEN i % 2 = 0 THEN 'index vacuum planner query ' ELSE 'goal striker league match ' END
			  || md5(i::text) || ' ', 12),
	   CASE WHEN i <= 200 THEN CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END END
  FROM generate_series(1, 3000) i;
VACUUM pglearn.examples;
SELECT pg_relation_size('pglearn.examples') AS size_before \gset

-- refresh: every row gets a score (3,000 non-HOT updates, in 30 batches)
CALL pglearn.refresh('default', '{"C": 1}', 100);
SELECT count(*) FILTER (WHERE score IS NULL) AS unscored, count(*) AS scored FROM pglearn.examples;
-- about one batch more than before (a whole second copy without the reclaim)
SELECT pg_relation_size('pglearn.examples') < 1.25 * :size_before AS grew_by_less_than_a_quarter,
	   pg_relation_size('pglearn.examples') > :size_before AS grew;

-- the same updates in one transaction (rescore(), a function: no batch is
-- committed before the next) cannot reuse anything: the contrast
VACUUM pglearn.examples;
SELECT pg_relation_size('pglearn.examples') AS size_before \gset
UPDATE pglearn.examples SET score = NULL;
SELECT pglearn.rescore('default', 100);
SELECT pg_relation_size('pglearn.examples') > 1.5 * :size_before AS one_transaction_grows;

-- a rescore changes scores, not updated_at; a label does
UPDATE pglearn.examples SET updated_at = timestamptz '2026-01-01' WHERE id <= 2;
UPDATE pglearn.examples SET score = NULL WHERE id <= 2;
SELECT pglearn.rescore('default');
SELECT id, updated_at = timestamptz '2026-01-01' AS untouched, score IS NOT NULL AS scored
  FROM pglearn.examples WHERE id <= 2 ORDER BY id;
UPDATE pglearn.examples SET label = 1 WHERE id = 2;
SELECT id, updated_at > timestamptz '2026-01-01' AS touched FROM pglearn.examples WHERE id <= 2 ORDER BY id;

-- _reclaim_pages: a hint, never a change a query can see
BEGIN;
SELECT count(*), sum(score) AS sum_before FROM pglearn.examples \gset
SELECT pglearn._reclaim_pages('pglearn.examples', ARRAY(SELECT ctid FROM pglearn.examples)) > 0 AS looked;
SELECT count(*) = :count AND sum(score) = :sum_before AS unchanged FROM pglearn.examples;
COMMIT;
SELECT pglearn._reclaim_pages('pglearn.examples', '{}');
SELECT pglearn._reclaim_pages('pglearn.examples', ARRAY[NULL, '(999999,1)']::tid[]);	-- past the end: ignored
SELECT pglearn._reclaim_pages('pglearn.examples', '{{"(0,1)"}}');
SELECT pglearn._reclaim_pages('pglearn.label_stats', '{}');
SELECT pglearn._reclaim_pages('pglearn.examples_pkey', '{}');
CREATE ROLE reclaim_reader;
GRANT USAGE ON SCHEMA pglearn TO reclaim_reader;
GRANT SELECT ON pglearn.examples TO reclaim_reader;
SET ROLE reclaim_reader;
SELECT pglearn._reclaim_pages('pglearn.examples', '{}');
RESET ROLE;
DROP OWNED BY reclaim_reader;
DROP ROLE reclaim_reader;

-- rescore_candidates: a new model; only the candidates get its scores
SELECT pglearn.fit('default', 'pglearn.examples', '{"C": 100}') IS NOT NULL AS refitted;
CREATE TEMP TABLE old_scores AS SELECT id, score FROM pglearn.examples;
CREATE TEMP TABLE pool AS SELECT id FROM pglearn.uncertain(NULL, 25, NULL);
SELECT pglearn.rescore_candidates(NULL, 25, NULL) AS changed;
-- the 25 now hold the new model's scores, every other row its old one
SELECT count(*) FILTER (WHERE p.id IS NOT NULL AND e.score = pglearn.classify('default', e.url, e.title, e.body)) AS pool_current,
	   count(*) FILTER (WHERE p.id IS NULL AND e.score = o.score) AS others_kept,
	   count(*) AS total
  FROM pglearn.examples e JOIN old_scores o USING (id) LEFT JOIN pool p USING (id);
-- rows without a score are in no ranking: up to k of them are scored too
UPDATE pglearn.examples SET score = NULL WHERE id IN (2001, 2002, 2003);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT e.id FROM pglearn.examples e
 WHERE e.score IS NULL AND (e.label IS NULL OR e.label = 0) AND e.fetch_error IS NULL
   AND (e.title <> '' OR e.body <> '') ORDER BY e.id LIMIT 2;
RESET enable_seqscan;
SELECT pglearn.rescore_candidates(NULL, 2, NULL) >= 2 AS changed_at_least_two;
SELECT array_agg(id ORDER BY id) AS still_unscored FROM pglearn.examples WHERE score IS NULL;
SELECT pglearn.rescore_candidates(NULL, 2, NULL) >= 1 AS the_third_next;
SELECT count(*) AS none_left FROM pglearn.examples WHERE score IS NULL;

-- the pool is uncertain(NULL, k, per_host)'s first k rows: per_host only
-- orders them (a host's rows beyond it come last), so k rows are rescored
-- however few the hosts (2 here); bad k and unknown models
SELECT pglearn.fit('default', 'pglearn.examples', '{"C": 10}') IS NOT NULL AS refitted;
SELECT pglearn.rescore_candidates(NULL, 10, 1) AS one_a_host, pglearn.rescore_candidates() AS three_a_host;
SELECT pglearn.rescore_candidates(NULL, 0);
SELECT pglearn.rescore_candidates('no_such_model', 10);
