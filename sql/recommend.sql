-- Recommendations: lists, recommend(), the recommendations view, similar()
\set SHOW_CONTEXT never
TRUNCATE pglearn.examples, pglearn.models RESTART IDENTITY CASCADE;

SELECT name, url_pattern, og_type, exclude_pattern, enabled, builtin FROM pglearn.lists ORDER BY name;

-- empty tables: empty lists, no error
SELECT * FROM pglearn.recommend();
SELECT count(*) FROM pglearn.recommendations;

-- the seeded patterns sort URLs as the old system did
CREATE TEMP TABLE urls (url) AS VALUES
	('https://github.com/postgres/postgres'), ('https://github.com/postgres/postgres/'),
	('https://github.com/postgres/postgres/pulls'), ('https://github.com/postgres'),
	('https://github.com/orgs/postgres'), ('https://www.slideshare.net/someone/pg-talk'),
	('https://speakerdeck.com/someone/pg-talk'), ('https://docs.google.com/presentation/d/abc/edit'),
	('https://docs.google.com/document/d/abc/edit'), ('https://arxiv.org/abs/2101.00001'),
	('https://arxiv.org/pdf/2101.00001'), ('https://openreview.net/forum?id=abc'),
	('https://www.youtube.com/watch?v=abc'), ('https://youtu.be/abc'), ('https://www.youtube.com/@channel'),
	('https://vimeo.com/12345'), ('https://videolectures.net/icml2010/'), ('https://connpass.com/event/123/'),
	('https://pgcon.connpass.com/event/456/'), ('https://connpass.com/user/x'), ('https://techplay.jp/event/789'),
	('https://twitter.com/someone/status/1'), ('https://x.com/someone/status/1'), ('https://example.com/post');
SELECT u.url, coalesce(string_agg(l.name, ', ' ORDER BY l.name), '-') AS lists
FROM urls u LEFT JOIN pglearn.lists l
  ON u.url ~* l.url_pattern AND (l.exclude_pattern IS NULL OR u.url !~* l.exclude_pattern) AND l.og_type IS NULL
GROUP BY u.url ORDER BY u.url;

-- lists are editable; bad names and regular expressions are refused
INSERT INTO pglearn.lists (name, url_pattern, description) VALUES ('postgres', 'postgres', 'anything about PostgreSQL');
\set VERBOSITY terse
INSERT INTO pglearn.lists (name, url_pattern) VALUES ('broken', '(');
INSERT INTO pglearn.lists (name, url_pattern, exclude_pattern) VALUES ('broken', '.', '[');
INSERT INTO pglearn.lists (name) VALUES ('Bad Name');
\set VERBOSITY default

--
-- a model, and articles scored by the trigger as they arrive
--
INSERT INTO pglearn.examples (url, title, body, label, created_at)
SELECT format('https://%s/post/%s', CASE WHEN i % 2 = 0 THEN 'db.example.com' ELSE 'sports.example.org' END, i),
       CASE WHEN i % 2 = 0 THEN 'Tuning PostgreSQL ' || i ELSE 'Match report ' || i END,
       CASE WHEN i % 2 = 0
            THEN 'index vacuum query planner sql ' || (ARRAY['btree', 'wal', 'replication', 'join'])[1 + i % 4]
            ELSE 'goal keeper striker league ' || (ARRAY['penalty', 'derby', 'transfer', 'coach'])[1 + i % 4] END,
       CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END,
       now() - interval '10 days'
FROM generate_series(1, 40) i;
SELECT (pglearn.fit('default'))->'accuracy' AS cv_accuracy;

INSERT INTO pglearn.examples (url, final_url, title, body, og_type, label, created_at, http_status, fetch_error) VALUES
	('https://github.com/postgres/postgres', NULL, 'postgres/postgres: the PostgreSQL source', 'sql planner vacuum index wal replication', NULL, NULL, now(), 200, NULL),
	('https://github.com/postgres/postgres/pulls', NULL, 'Pull requests', 'sql planner vacuum index', NULL, NULL, now(), 200, NULL),
	('https://speakerdeck.com/someone/pg-tuning', NULL, 'PostgreSQL tuning slides', 'vacuum planner btree sql', NULL, NULL, now(), 200, NULL),
	('https://arxiv.org/abs/2401.00001', NULL, 'Learned query optimisers', 'query planner sql join index', NULL, NULL, now(), NULL, NULL),
	('https://www.youtube.com/watch?v=pg', NULL, 'Vacuum explained', 'vacuum wal btree index', NULL, NULL, now(), 200, NULL),
	('https://connpass.com/event/1234/', NULL, 'PostgreSQL勉強会 #42', 'sql index vacuum 勉強会', NULL, NULL, now(), 200, NULL),
	('https://blog.example.jp/a', NULL, 'データベースの索引とバキューム', 'index vacuum sql planner データベース', 'article', NULL, now(), 200, NULL),
	('https://blog.example.jp/b', NULL, 'データベースの索引とバキューム入門', 'index vacuum sql planner データベース', 'article', NULL, now(), 200, NULL),
	-- the same article again (same final URL; same title)
	('https://blog.example.jp/a?utm_source=feed', 'https://blog.example.jp/a', 'データベースの索引', 'index vacuum sql planner', 'article', NULL, now(), 200, NULL),
	('https://mirror.example.net/a', NULL, 'データベースの索引とバキューム', 'index vacuum sql planner', NULL, NULL, now(), 200, NULL),
	-- not interesting, rejected, failed, too old, elsewhere
	('https://sports.example.org/new', NULL, 'Derby tonight', 'goal striker derby league', NULL, NULL, now(), 200, NULL),
	('https://db.example.com/rejected', NULL, 'Tuning PostgreSQL again', 'index vacuum query planner sql', NULL, -1, now(), 200, NULL),
	('https://db.example.com/liked', NULL, 'Replication slots', 'replication wal sql', NULL, 1, now(), 200, NULL),
	('https://db.example.com/gone', NULL, 'Gone', 'index vacuum query planner sql', NULL, NULL, now(), 404, 'HTTP 404'),
	('https://db.example.com/old', NULL, 'Old news on vacuum', 'index vacuum query planner sql', NULL, NULL, now() - interval '5 days', 200, NULL),
	('https://twitter.com/someone/status/1', NULL, 'A tweet on sql', 'index vacuum sql planner', NULL, NULL, now(), 200, NULL),
	-- not fetched yet: nothing to show but the URL
	('https://db.example.com/sql/vacuum/index', NULL, NULL, NULL, NULL, NULL, now(), NULL, NULL);
SELECT count(*) FILTER (WHERE score IS NOT NULL) AS scored, count(*) AS rows FROM pglearn.examples;
SELECT score > 0.5 AS unfetched_scores_high FROM pglearn.examples WHERE url = 'https://db.example.com/sql/vacuum/index';

-- the general list: best first, one row per article
SELECT rank, url, title, host, score > 0.5 AS above FROM pglearn.recommend('general', 20);
-- the same, checked against its definition
SELECT array_agg(url ORDER BY score DESC, url) = (SELECT array_agg(url ORDER BY rank) FROM pglearn.recommend('general', 20)) AS by_score
FROM pglearn.recommend('general', 20);
-- other lists, windows, thresholds
SELECT rank, url FROM pglearn.recommend('article');
SELECT rank, url FROM pglearn.recommend('github');
SELECT rank, url FROM pglearn.recommend('event');
SELECT rank, url FROM pglearn.recommend('postgres');
-- (the training rows came before the model: unscored, never recommended)
SELECT count(*) AS two_days, (SELECT count(*) FROM pglearn.recommend('general', 100, 7)) AS seven_days,
       (SELECT count(*) FROM pglearn.recommend('general', 100, NULL)) AS all_time
FROM pglearn.recommend('general', 100);
SELECT count(*) AS above_0_9 FROM pglearn.recommend('general', 100, min_score => 0.9);
SELECT bool_and(score > 0.6) AS all_above FROM pglearn.recommend('general', 100, min_score => 0.6);
SELECT rank, host FROM pglearn.recommend('general', 100, unique_by_host => true);
-- ties are broken by URL
UPDATE pglearn.examples SET score = 0.8 WHERE url IN ('https://speakerdeck.com/someone/pg-tuning', 'https://arxiv.org/abs/2401.00001');
SELECT rank, url, score FROM pglearn.recommend('general', 100, min_score => 0.79) WHERE score = 0.8;
SELECT pglearn.rescore() AS rescored;

-- diversity: greedy MMR over title and body features.  The slides and the
-- repository page share most words; with diversity the second pick is the
-- best trade of score against similarity to the first
SELECT rank, url FROM pglearn.recommend('general', 3);
SELECT rank, url FROM pglearn.recommend('general', 3, diverse => 0.5);
CREATE TEMP TABLE candidates AS
SELECT url, score, pglearn.features(NULL, title, pglearn.article_text(description, body)) AS f
FROM pglearn.examples WHERE url IN (SELECT url FROM pglearn.recommend('general', 30));
SELECT c.url = (SELECT url FROM pglearn.recommend('general', 3, diverse => 0.5) WHERE rank = 2) AS second_pick_is_mmr
FROM candidates c, (SELECT * FROM candidates ORDER BY score DESC, url LIMIT 1) first
WHERE c.url <> first.url
ORDER BY 0.5 * c.score - 0.5 * pglearn.cosine_similarity(first.f, c.f) DESC, c.url LIMIT 1;
-- the picks are less alike than the plain top 3
SELECT (SELECT avg(pglearn.cosine_similarity(a.f, b.f)) FROM candidates a, candidates b
         WHERE a.url < b.url AND a.url IN (SELECT url FROM pglearn.recommend('general', 3, diverse => 0.5))
           AND b.url IN (SELECT url FROM pglearn.recommend('general', 3, diverse => 0.5))) <
       (SELECT avg(pglearn.cosine_similarity(a.f, b.f)) FROM candidates a, candidates b
         WHERE a.url < b.url AND a.url IN (SELECT url FROM pglearn.recommend('general', 3))
           AND b.url IN (SELECT url FROM pglearn.recommend('general', 3))) AS less_alike;
-- diverse = 0 is the plain ranking; any weight keeps the best article first
SELECT (SELECT array_agg(url ORDER BY rank) FROM pglearn.recommend('general', 5, diverse => 0)) =
       (SELECT array_agg(url ORDER BY rank) FROM pglearn.recommend('general', 5)) AS plain,
       (SELECT url FROM pglearn.recommend('general', 5, diverse => 0.9) WHERE rank = 1) =
       (SELECT url FROM pglearn.recommend('general', 5) WHERE rank = 1) AS same_first;
SELECT count(*) FROM pglearn.recommend('general', 100, diverse => 0.3);
-- _diverse_order (C) takes what 0.1's plpgsql loop took, for every weight
CREATE FUNCTION diverse_reference(scores float8[], vectors pglearn.fvec[], k int4, diverse float8)
	RETURNS int4[] LANGUAGE plpgsql AS
$$
DECLARE
	n int4 := coalesce(array_length(scores, 1), 0);
	chosen int4[] := '{}';
	taken bool[] := array_fill(false, ARRAY[n]);
	nearest float8[] := array_fill(0::float8, ARRAY[n]);
	best int4;
	best_value float8;
	value float8;
BEGIN
	WHILE coalesce(array_length(chosen, 1), 0) < least(k, n) LOOP
		best := NULL;
		FOR i IN 1 .. n LOOP
			CONTINUE WHEN taken[i];
			value := (1 - diverse) * scores[i] - diverse * nearest[i];
			IF best IS NULL OR value > best_value THEN
				best := i;
				best_value := value;
			END IF;
		END LOOP;
		taken[best] := true;
		chosen := chosen || best;
		FOR i IN 1 .. n LOOP
			CONTINUE WHEN taken[i];
			nearest[i] := greatest(nearest[i], pglearn.cosine_similarity(vectors[best], vectors[i]));
		END LOOP;
	END LOOP;
	RETURN chosen;
END
$$;
WITH c AS (
	SELECT array_agg(e.score ORDER BY e.score DESC, e.url) AS scores,
		   array_agg(pglearn.features(NULL, e.title, pglearn.article_text(e.description, e.body)) ORDER BY e.score DESC, e.url) AS vectors
	  FROM pglearn.examples e WHERE e.score IS NOT NULL
)
SELECT d, k, cardinality(pglearn._diverse_order(c.scores, c.vectors, k, d)) AS taken,
	   pglearn._diverse_order(c.scores, c.vectors, k, d) = diverse_reference(c.scores, c.vectors, k, d) AS same
  FROM c, unnest(ARRAY[0.01, 0.3, 0.5, 0.9, 1.0]::float8[]) d, unnest(ARRAY[1, 5, 1000]) k
 ORDER BY d, k;
DROP FUNCTION diverse_reference(float8[], pglearn.fvec[], int4, float8);
SELECT pglearn._diverse_order('{}', '{}', 3, 0.5) AS none;
\set VERBOSITY terse
SELECT pglearn._diverse_order('{1, 2}', ARRAY['{1:1}']::pglearn.fvec[], 3, 0.5);
SELECT pglearn._diverse_order('{1}', ARRAY[NULL]::pglearn.fvec[], 3, 0.5);
SELECT pglearn._diverse_order('{1}', ARRAY['{1:1}']::pglearn.fvec[], 0, 0.5);
SELECT pglearn._diverse_order('{1}', ARRAY['{1:1}']::pglearn.fvec[], 3, 'NaN');
\set VERBOSITY default

-- the view: every enabled list with the defaults
SELECT list, count(*) FROM pglearn.recommendations GROUP BY list ORDER BY list;
UPDATE pglearn.lists SET enabled = false WHERE name IN ('general', 'postgres');
SELECT list, count(*) FROM pglearn.recommendations GROUP BY list ORDER BY list;
-- a disabled list can still be asked for by name
SELECT count(*) FROM pglearn.recommend('postgres');
UPDATE pglearn.lists SET enabled = true WHERE name = 'general';

-- errors
SELECT * FROM pglearn.recommend('nope');
\set VERBOSITY terse
SELECT * FROM pglearn.recommend(NULL);
SELECT * FROM pglearn.recommend('general', 0);
SELECT * FROM pglearn.recommend('general', 10, 0);
SELECT * FROM pglearn.recommend('general', 10, diverse => 1.5);
SELECT * FROM pglearn.recommend('general', 10, diverse => NULL);
\set VERBOSITY default

--
-- similar(): nearest articles by cosine of title and body features
--
SELECT url, title, round(similarity::numeric, 3) AS similarity FROM pglearn.similar('https://blog.example.jp/a', 3);
SELECT url, round(similarity::numeric, 3) AS similarity FROM pglearn.similar('https://sports.example.org/new', 2);
-- an article without words has no neighbours
INSERT INTO pglearn.examples (url) VALUES ('https://empty.example/');
SELECT count(*) FROM pglearn.similar('https://empty.example/');
\set VERBOSITY terse
SELECT * FROM pglearn.similar('https://nowhere.example/');
SELECT * FROM pglearn.similar('https://blog.example.jp/a', 0);
\set VERBOSITY default

DROP TABLE urls, candidates;
DELETE FROM pglearn.lists WHERE NOT builtin;
UPDATE pglearn.lists SET enabled = true;
TRUNCATE pglearn.examples, pglearn.models RESTART IDENTITY CASCADE;
