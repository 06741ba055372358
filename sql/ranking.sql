-- uncertain(NULL, k), to_label and recommend() from indexes, at the
-- caller's LIMIT (src/ranking.c): the same rows, in the same order, as
-- 0.2's window functions; the plans walk examples_uncertain_idx and
-- examples_recommend_idx; a LIMIT ends the walk and closes its cursor.
\set SHOW_CONTEXT never
TRUNCATE pglearn.examples, pglearn.models RESTART IDENTITY CASCADE;

-- 0.2's definition over stored scores, kept here as the reference, with
-- 0.3's per_host rule
CREATE FUNCTION uncertain_reference(k int4, per_host int4)
	RETURNS TABLE (rank int8, id int8, url text, title text, host text, score float8)
	LANGUAGE sql STABLE AS
$$
	WITH labelled AS (
		SELECT e.url AS key FROM pglearn.examples e WHERE e.label IN (-1, 1)
		UNION SELECT e.final_url FROM pglearn.examples e WHERE e.label IN (-1, 1) AND e.final_url IS NOT NULL
	), labelled_titles AS (
		SELECT DISTINCT btrim(e.title) AS title FROM pglearn.examples e
		 WHERE e.label IN (-1, 1) AND btrim(e.title) <> ''
	), candidates AS MATERIALIZED (
		SELECT e.id, e.url, e.title, coalesce(e.final_url, e.url) AS final_url,
			   nullif(btrim(e.title), '') AS title_key,
			   pglearn.url_host(coalesce(e.final_url, e.url)) AS host, e.score AS p
		  FROM pglearn.examples e
		 WHERE (e.label IS NULL OR e.label = 0) AND e.fetch_error IS NULL
		   AND (e.title <> '' OR e.body <> '')
		   AND NOT EXISTS (SELECT FROM labelled l WHERE l.key IN (e.url, e.final_url))
		   AND NOT EXISTS (SELECT FROM labelled_titles t WHERE t.title = btrim(e.title))
	), by_final_url AS (
		SELECT c.*, row_number() OVER (PARTITION BY c.final_url ORDER BY abs(c.p - 0.5), c.url) AS n
		  FROM candidates c WHERE c.p IS NOT NULL
	), by_title AS (
		SELECT f.*, row_number() OVER (PARTITION BY coalesce(f.title_key, f.final_url) ORDER BY abs(f.p - 0.5), f.url) AS n2
		  FROM by_final_url f WHERE f.n = 1
	), by_host AS (
		SELECT t.*, row_number() OVER (PARTITION BY t.host ORDER BY abs(t.p - 0.5), t.url) AS n3
		  FROM by_title t WHERE t.n2 = 1
	)
	-- 0.3: a host's rows beyond per_host follow every other row, instead of
	-- being dropped (so one site alone still fills the list)
	SELECT row_number() OVER (ORDER BY (h.n3 > per_host) IS TRUE, abs(h.p - 0.5), h.url),
		   h.id, h.url, h.title, h.host, h.p
	  FROM by_host h
	 ORDER BY (h.n3 > per_host) IS TRUE, abs(h.p - 0.5), h.url
	 LIMIT k
$$;

-- 0.2's recommend() candidates (before diversity), as the reference
CREATE FUNCTION recommend_reference(list text, k int4, days int4, min_score float8, unique_by_host bool)
	RETURNS TABLE (id int8, url text, score float8)
	LANGUAGE sql STABLE AS
$$
	SELECT c.id, c.url, c.score FROM (
		SELECT h.* FROM (
			SELECT t.*, row_number() OVER (PARTITION BY t.host ORDER BY t.score DESC, t.url) AS n3
			  FROM (SELECT f.*, row_number() OVER (PARTITION BY coalesce(f.title_key, f.final_key) ORDER BY f.score DESC, f.url) AS n2
					  FROM (SELECT e.id, e.url, e.score, coalesce(e.final_url, e.url) AS final_key,
								   nullif(btrim(e.title), '') AS title_key,
								   pglearn.url_host(coalesce(e.final_url, e.url)) AS host,
								   row_number() OVER (PARTITION BY coalesce(e.final_url, e.url) ORDER BY e.score DESC, e.url) AS n1
							  FROM pglearn.examples e, pglearn.lists l
							 WHERE l.name = list
							   AND e.score > min_score
							   AND e.label IS DISTINCT FROM -1
							   AND e.fetch_error IS NULL
							   AND (e.http_status IS NULL OR e.http_status BETWEEN 200 AND 299)
							   AND (e.title <> '' OR e.body <> '')
							   AND (days IS NULL OR e.created_at >= now() - make_interval(days => days))
							   AND coalesce(e.final_url, e.url) ~* l.url_pattern
							   AND (l.exclude_pattern IS NULL OR coalesce(e.final_url, e.url) !~* l.exclude_pattern)
							   AND (l.og_type IS NULL OR e.og_type = l.og_type)) f
					 WHERE f.n1 = 1) t
			 WHERE t.n2 = 1) h
		 WHERE NOT unique_by_host OR h.n3 = 1
		 ORDER BY h.score DESC, h.url
		 LIMIT k) c
$$;

-- 3000 rows built to collide: 40 hosts (one NULL-host URL form), shared
-- final URLs, repeated and blank titles, tied scores, NULL scores, failed
-- fetches, rows without text, and labelled rows whose url, final_url or
-- title other rows repeat
SELECT setseed(0.42);
INSERT INTO pglearn.examples (url, final_url, title, body, label, score, fetch_error,
							  created_at, http_status, og_type)
SELECT CASE WHEN i % 97 = 0 THEN 'http:/no-host/' || i
			ELSE format('https://h%s.example/%s', (random() * 39)::int, i) END,
	   CASE WHEN random() < 0.3 THEN format('https://h%s.example/final/%s', (random() * 39)::int, (random() * 300)::int) END,
	   CASE WHEN random() < 0.1 THEN '  ' WHEN random() < 0.05 THEN NULL
			ELSE 'title ' || (random() * 800)::int || CASE WHEN random() < 0.2 THEN '  ' ELSE '' END END,
	   CASE WHEN random() < 0.05 THEN '' ELSE 'body' END,
	   CASE WHEN random() < 0.1 THEN (ARRAY[-1, 1])[1 + (random() > 0.5)::int]
			WHEN random() < 0.05 THEN 0 END,
	   CASE WHEN random() < 0.05 THEN NULL WHEN random() < 0.2 THEN round((random())::numeric, 2)::float8
			ELSE random() END,
	   CASE WHEN random() < 0.05 THEN 'HTTP 500' END,
	   now() - make_interval(hours => (random() * 24 * 5)::int),
	   CASE WHEN random() < 0.05 THEN 404 WHEN random() < 0.5 THEN 200 END,
	   CASE WHEN random() < 0.3 THEN 'article' END
  FROM generate_series(1, 3000) i;
-- a list that only some hosts match
INSERT INTO pglearn.lists (name, url_pattern, exclude_pattern, description)
VALUES ('some-hosts', '^https://h[1-9]\.example/', '/final/1', 'hosts h1 to h9, not final URLs under /final/1');
ANALYZE pglearn.examples;

-- the same rows in the same order as the reference, for several k and
-- per_host (and no limit)
SELECT k, per_host,
	   (SELECT array_agg(u.id ORDER BY u.rank) FROM pglearn.uncertain(NULL, k, per_host) u) =
	   (SELECT array_agg(r.id ORDER BY r.rank) FROM uncertain_reference(k, per_host) r) AS same_rows,
	   (SELECT count(*) FROM pglearn.uncertain(NULL, k, per_host)) AS n
  FROM (VALUES (1, 3), (10, 3), (10, 1), (50, NULL), (200, 2), (NULL, 3), (NULL, NULL), (NULL, 1)) v(k, per_host)
 ORDER BY k NULLS LAST, per_host NULLS LAST;
-- every column, not just the ids
SELECT count(*) AS differing_rows
  FROM (SELECT * FROM pglearn.uncertain(NULL, NULL, 3)
		EXCEPT ALL SELECT * FROM uncertain_reference(NULL, 3)) d;

-- recommend() without diversity: the same rows as the reference, for
-- several lists, k, days, min_score and unique_by_host
SELECT list, k, days, min_score, unique_by_host,
	   (SELECT array_agg(r.id ORDER BY r.rank) FROM pglearn.recommend(list, k, days, min_score, unique_by_host) r) IS NOT DISTINCT FROM
	   (SELECT array_agg(x.id ORDER BY x.score DESC, x.url) FROM recommend_reference(list, k, days, min_score, unique_by_host) x) AS same_rows,
	   (SELECT count(*) FROM pglearn.recommend(list, k, days, min_score, unique_by_host)) AS n
  FROM (VALUES ('general', 10, 2, 0.5, false), ('general', 10, NULL, 0.5, false), ('general', 300, NULL, 0.2, false),
			   ('general', 50, 3, 0.5, true), ('article', 20, NULL, 0.5, false), ('some-hosts', 100, NULL, 0.1, false),
			   ('some-hosts', 100, 1, 0.1, true), ('general', 2000, NULL, 0.0, false)) v(list, k, days, min_score, unique_by_host)
 ORDER BY list, k, days NULLS LAST, unique_by_host;
-- every column of a long list, ranks included
SELECT count(*) AS differing_rows
  FROM (SELECT r.rank, r.id, r.score FROM pglearn.recommend('general', 2000, NULL, 0.0) r
		EXCEPT SELECT row_number() OVER (ORDER BY x.score DESC, x.url), x.id, x.score
				 FROM recommend_reference('general', 2000, NULL, 0.0, false) x) d;

-- to_label's first rows are uncertain(NULL, k)'s
SELECT (SELECT array_agg(t.id ORDER BY t.rank) FROM (SELECT * FROM pglearn.to_label LIMIT 10) t) =
	   (SELECT array_agg(u.id ORDER BY u.rank) FROM pglearn.uncertain(NULL, 10) u) AS to_label_first_rows;
SELECT (SELECT count(*) FROM pglearn.to_label) = (SELECT count(*) FROM uncertain_reference(NULL, 3)) AS to_label_all_rows;

-- the plan: the candidates come from the index in rank order, and the view
-- evaluates its function in a target list, so the LIMIT stops it (after a
-- VACUUM, as the plans at scale are: an index-only scan is costed by the
-- share of all-visible pages, and autovacuum may or may not have run yet)
VACUUM ANALYZE pglearn.examples;
SET enable_seqscan = off;		-- a 3000-row table would be read whole
EXPLAIN (COSTS OFF) SELECT id, url, score FROM pglearn._uncertain_candidates ORDER BY distance, url LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM pglearn._recommend_candidates(0.5, 2, '.', NULL, NULL) LIMIT 10;
-- the reports read their own index only
EXPLAIN (COSTS OFF) SELECT * FROM pglearn.label_stats;
EXPLAIN (COSTS OFF) SELECT * FROM pglearn.crawl_status;
RESET enable_seqscan;
-- and give what 0.2's definitions gave (which grouped by url_host() row by row)
SELECT (SELECT count(*) FROM (
		  SELECT * FROM pglearn.label_stats
		  EXCEPT ALL
		  SELECT CASE WHEN grouping(host) = 1 THEN '(all)' ELSE coalesce(host, '(none)') END,
				 count(*) FILTER (WHERE label = 1), count(*) FILTER (WHERE label = -1),
				 count(*) FILTER (WHERE label IS NULL OR label = 0), count(*)
			FROM (SELECT pglearn.url_host(coalesce(final_url, url)) AS host, label FROM pglearn.examples) e
		   GROUP BY GROUPING SETS ((), (host))) d) AS label_stats_differ,
	   (SELECT array_agg(ARRAY[state, rows::text, hosts::text] ORDER BY state) FROM pglearn.crawl_status) AS crawl_status;
-- every column of crawl_status, against a plain GROUP BY of every row
-- (with fetch times: some rows fetched, one failing row fetched before)
BEGIN;
UPDATE pglearn.examples SET fetched_at = timestamptz '2026-01-01' + id * interval '1 hour'
 WHERE id % 3 = 0 AND (fetch_error IS NULL OR id % 2 = 0);
WITH reference AS (
	SELECT s.state, sum(s.n)::int8 AS rows, count(s.host) AS hosts, max(s.newest) AS newest_fetch,
		   min(s.oldest) AS oldest_fetch,
		   (array_agg(format('%s (%s)', coalesce(s.host, '(none)'), s.n) ORDER BY s.n DESC, s.host))[1:5] AS top_hosts
	  FROM (SELECT e.crawl_state AS state, e.host, count(*) AS n, max(e.fetched_at) AS newest, min(e.fetched_at) AS oldest
			  FROM pglearn.examples e GROUP BY 1, 2) s
	 GROUP BY s.state
)
SELECT (SELECT count(*) FROM (SELECT * FROM pglearn.crawl_status EXCEPT ALL SELECT * FROM reference) d) +
	   (SELECT count(*) FROM (SELECT * FROM reference EXCEPT ALL SELECT * FROM pglearn.crawl_status) d) AS crawl_status_differs,
	   (SELECT count(*) FROM pglearn.crawl_status WHERE newest_fetch IS NOT NULL) AS states_with_fetches;
ROLLBACK;
EXPLAIN (COSTS OFF) SELECT * FROM pglearn.to_label LIMIT 10;
-- the streams plan their cursors for a few rows and without JIT; the
-- session's own settings are untouched
SET cursor_tuple_fraction = 0.5;
SET jit = on;
SELECT count(*) FROM pglearn.to_label;
SELECT count(*) FROM pglearn.recommend(k => 5);
SHOW cursor_tuple_fraction;
SHOW jit;
RESET cursor_tuple_fraction;
RESET jit;

-- a LIMIT that stops the walk closes its cursor at once (an open cursor
-- shows as the memory context of its portal: one while the walk goes on)
CREATE VIEW open_cursors AS
	SELECT count(*) AS open_cursors FROM pg_backend_memory_contexts
	 WHERE name = 'PortalContext' AND ident LIKE '<unnamed portal %>';
SELECT (SELECT open_cursors FROM open_cursors) AS during_walk, (u.c).rank
  FROM (SELECT pglearn._uncertain_stored(3) AS c) u LIMIT 2;
BEGIN;
SELECT count(*) FROM (SELECT * FROM pglearn.to_label LIMIT 3) t;
SELECT count(*) FROM pglearn.uncertain(NULL, 2);
SELECT open_cursors AS after_limit FROM open_cursors;
COMMIT;
DROP VIEW open_cursors;

-- per_host must be positive or NULL
\set VERBOSITY terse
SELECT * FROM pglearn._uncertain_stored(0);
SELECT * FROM pglearn.uncertain(NULL, 5, 0);
\set VERBOSITY default

DROP FUNCTION uncertain_reference(int4, int4);
DROP FUNCTION recommend_reference(text, int4, int4, float8, bool);
DELETE FROM pglearn.lists WHERE name = 'some-hosts';
TRUNCATE pglearn.examples RESTART IDENTITY;

--
-- per_host is a preference: a host's rows beyond it follow the others
--
-- one site alone: to_label lists every candidate, in rank order
INSERT INTO pglearn.examples (url, title, score) VALUES
	('https://one.example/1', 'one 1', 0.50), ('https://one.example/2', 'one 2', 0.45),
	('https://one.example/3', 'one 3', 0.40), ('https://one.example/4', 'one 4', 0.35),
	('https://one.example/5', 'one 5', 0.30);
SELECT rank, url FROM pglearn.to_label;
SELECT rank, url FROM pglearn.to_label LIMIT 4;
-- with another host: its row comes before one.example's fourth, then the held rows in rank order
INSERT INTO pglearn.examples (url, title, score) VALUES ('https://two.example/1', 'two 1', 0.20);
SELECT rank, url, host FROM pglearn.uncertain(NULL, NULL, 3);
SELECT rank, url FROM pglearn.uncertain(NULL, NULL, 1);
-- per_host NULL: rank order alone
SELECT rank, url FROM pglearn.uncertain(NULL, NULL, NULL);
-- a live model ranks by the same rule: fitted and rescored, its order is the stored one
UPDATE pglearn.examples SET body = CASE WHEN url LIKE '%one.example%' THEN 'database index vacuum' ELSE 'football goal' END;
INSERT INTO pglearn.examples (url, label, title, body) VALUES
	('https://l.example/p1', 1, 'db', 'database index planner'), ('https://l.example/p2', 1, 'db 2', 'vacuum index'),
	('https://l.example/n1', -1, 'fb', 'football match goal'), ('https://l.example/n2', -1, 'fb 2', 'goal keeper');
SELECT pglearn.fit('per_host_model', params => '{"C": 1, "k": 2}') IS NOT NULL AS fitted;
SELECT pglearn.rescore('per_host_model') > 0 AS rescored;
SELECT (SELECT array_agg(url ORDER BY rank) FROM pglearn.uncertain('per_host_model', NULL, 1)) =
	   (SELECT array_agg(url ORDER BY rank) FROM pglearn.uncertain(NULL, NULL, 1)) AS live_order_is_stored_order,
	   (SELECT count(*) FROM pglearn.uncertain('per_host_model', NULL, 1)) AS rows;
TRUNCATE pglearn.examples, pglearn.models RESTART IDENTITY;
