-- Reports: label_stats, model_summary, top_features(), label_conflicts, crawl_status
\set SHOW_CONTEXT never
TRUNCATE pglearn.examples, pglearn.models RESTART IDENTITY CASCADE;

-- empty tables
SELECT * FROM pglearn.label_stats;
SELECT * FROM pglearn.model_summary;
SELECT * FROM pglearn.label_conflicts;
SELECT * FROM pglearn.crawl_status;
SELECT * FROM pglearn.top_features();

-- a single class: counted, but no model can be fitted
INSERT INTO pglearn.examples (url, title, body, label) VALUES
	('https://db.example.com/1', 'Vacuum', 'vacuum', 1),
	('https://db.example.com/2', 'Index', 'index', 1),
	('https://DB.Example.com:8443/3', 'WAL', 'wal', 1),
	('https://user@other.example/4', 'Other', NULL, NULL),
	('not a url', 'Nothing', NULL, 0);
SELECT * FROM pglearn.label_stats;
SELECT pglearn.fit('default');
SELECT count(*) AS models FROM pglearn.model_summary;
TRUNCATE pglearn.examples RESTART IDENTITY;

--
-- a corpus with two wrong labels and Japanese articles
--
INSERT INTO pglearn.examples (url, title, body, label)
SELECT format('https://%s/post/%s', CASE WHEN i % 2 = 0 THEN 'db.example.com' ELSE 'sports.example.org' END, i),
       CASE WHEN i % 2 = 0 THEN 'Tuning PostgreSQL ' || i ELSE 'Match report ' || i END,
       CASE WHEN i % 2 = 0
            THEN 'index vacuum query planner sql ' || (ARRAY['btree', 'wal', 'replication', 'join'])[1 + i % 4]
            ELSE 'goal keeper striker league ' || (ARRAY['penalty', 'derby', 'transfer', 'coach'])[1 + i % 4] END,
       CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END
FROM generate_series(1, 40) i;
INSERT INTO pglearn.examples (url, title, body, label) VALUES
	('https://blog.example.jp/1', 'データベースの索引', 'データベース 索引 vacuum', 1),
	('https://blog.example.jp/2', 'サッカーの試合', 'サッカー 試合 goal', -1),
	-- mislabelled: a database article marked not interesting, and a match
	-- report marked interesting
	('https://db.example.com/wrong', 'Tuning PostgreSQL', 'index vacuum query planner sql wal btree', -1),
	('https://sports.example.org/wrong', 'Derby', 'goal keeper', 1);
SELECT * FROM pglearn.label_stats;

-- two fits of one name, one of another: history, and which one is live
SELECT (pglearn.fit('default'))->'n' AS n;
SELECT (pglearn.fit('default', params => '{"C": [0.25, 0.5], "solver": "svm", "k": 4}'))->'C' AS c;
SELECT (pglearn.fit('small', params => '{"hash_bits": 4, "binary": true}'))->'n' AS n;
SELECT name, id, live, rows, n_pos, n_neg, solver, c, k, round(accuracy::numeric, 3) AS accuracy,
       round(f1::numeric, 3) AS f1, round(roc_auc::numeric, 3) AS roc_auc, log_loss > 0 AS log_loss,
       weights > 0 AS weights, hash_bits, "binary", trained_at IS NOT NULL AS trained, fit_time_ms >= 0 AS timed
FROM pglearn.model_summary;
SELECT (SELECT accuracy FROM pglearn.model_summary WHERE id = 1) = (metrics->>'accuracy')::float8 AS same_as_stored
FROM pglearn.models WHERE id = 1;

-- top_features: the strongest weights of the live model, by name
SELECT round(weight::numeric, 3) AS weight, feature, also FROM pglearn.top_features('default', 3);
-- each name is one that hashes to that index
SELECT bool_and(EXISTS (SELECT FROM pglearn.examples e,
                        pglearn.feature_names(e.url, e.title, e.body) n
                        WHERE n.feature = t.feature AND n.index = t.index)) AS names_match
FROM pglearn.top_features(k => 10) t;
SELECT count(*) FILTER (WHERE weight > 0) AS positive, count(*) FILTER (WHERE weight < 0) AS negative
FROM pglearn.top_features(NULL, 5);
-- the Japanese bigrams get their names back too
SELECT feature FROM pglearn.top_features('default', 100) WHERE feature ~ '[ぁ-んァ-ン一-龥]' ORDER BY feature;
-- 16 buckets: many features share an index; the most frequent name is
-- shown and the others listed
SELECT count(*) > 0 AS collisions FROM pglearn.top_features('small', 3) WHERE cardinality(also) > 0;
SELECT bool_or(feature = 'BIAS' OR 'BIAS' = ANY (also)) AS bias_token FROM pglearn.top_features('small', 20);
-- a model trained elsewhere: indexes no labelled example has keep no name
CREATE TABLE elsewhere (url text, title text, body text, label int4);
INSERT INTO elsewhere SELECT 'https://x.example/' || i, 'zebra ' || i, CASE WHEN i % 2 = 0 THEN 'zebra giraffe' ELSE 'aardvark' END,
                             CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END FROM generate_series(1, 10) i;
SELECT (pglearn.fit('elsewhere', 'elsewhere'))->'n' AS n;
SELECT count(*) FILTER (WHERE feature IS NULL) AS unnamed, count(*) AS n FROM pglearn.top_features('elsewhere', 2);
\set VERBOSITY terse
SELECT * FROM pglearn.top_features('default', 0);
SELECT * FROM pglearn.top_features('nope');
\set VERBOSITY default

-- label_conflicts: labelled rows the live default model gets wrong,
-- most confident first
SELECT url, label, score > 0.5 AS predicted_interesting, round(abs(margin)::numeric, 3) > 0 AS margin
FROM pglearn.label_conflicts;
SELECT array_agg(url ORDER BY abs(margin) DESC, url) = (SELECT array_agg(url) FROM pglearn.label_conflicts) AS ordered,
       bool_and(sign(margin) <> label) AS all_wrong
FROM pglearn.label_conflicts;
-- another model, by setting the default for the session
SET pglearn.default_model = 'small';
SELECT count(*) AS conflicts,
       count(*) = (SELECT count(*) FROM pglearn.examples e, pglearn.models m
                    WHERE m.name = 'small' AND e.label <> pglearn.predict(m.model, pglearn.features(e.url, e.title, e.body, 4, true)))
         AS as_predict_says
FROM pglearn.label_conflicts;
SET pglearn.default_model = 'nothing';
SELECT count(*) AS no_model_no_rows FROM pglearn.label_conflicts;
RESET pglearn.default_model;
-- fixing the labels empties the report
UPDATE pglearn.examples SET label = -label WHERE url LIKE '%/wrong';
SELECT (pglearn.fit('default'))->'accuracy' AS accuracy;
SELECT count(*) AS conflicts FROM pglearn.label_conflicts;

-- crawl_status: rows by fetch state
UPDATE pglearn.examples SET fetched_at = '2026-01-01 12:00+00', http_status = 200 WHERE url LIKE 'https://db.%';
UPDATE pglearn.examples SET fetched_at = '2026-01-02 12:00+00', http_status = 503, fetch_error = 'HTTP 503', error_count = 2
 WHERE url LIKE 'https://sports.%' AND url ~ '/post/[0-9]*[13579]$' AND url !~ '/post/1[0-9]$';
UPDATE pglearn.examples SET fetched_at = '2026-01-03 12:00+00', fetch_error = 'timeout', error_count = 5
 WHERE url = 'https://sports.example.org/post/11';
SELECT state, rows, hosts, newest_fetch, oldest_fetch, top_hosts FROM pglearn.crawl_status;
SELECT sum(rows) = (SELECT count(*) FROM pglearn.examples) AS every_row_once FROM pglearn.crawl_status;

DROP TABLE elsewhere;
TRUNCATE pglearn.examples, pglearn.models RESTART IDENTITY CASCADE;
