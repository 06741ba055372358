-- fit(), cross_validate(), classify(name, ...), the models and examples tables
\set SHOW_CONTEXT never

-- 60 articles: database ones are interesting, sports ones are not; a few
-- unlabelled rows must not be learned from
INSERT INTO pglearn.examples (url, title, body, label)
SELECT format('https://%s/post/%s', CASE WHEN i % 2 = 0 THEN 'db.example.com' ELSE 'sports.example.org' END, i),
       CASE WHEN i % 2 = 0 THEN 'Tuning PostgreSQL ' || i ELSE 'Match report ' || i END,
       CASE WHEN i % 2 = 0
            THEN 'index vacuum query planner sql ' || (ARRAY['btree', 'wal', 'replication', 'join'])[1 + i % 4]
            ELSE 'goal keeper striker league ' || (ARRAY['penalty', 'derby', 'transfer', 'coach'])[1 + i % 4] END,
       CASE WHEN i <= 60 THEN CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END ELSE NULL END
FROM generate_series(1, 66) i;

SELECT label, count(*) FROM pglearn.examples GROUP BY label ORDER BY label;

-- the label column accepts only -1, 0, 1 and NULL
\set VERBOSITY terse
INSERT INTO pglearn.examples (url, label) VALUES ('https://x.example/', 2);
\set VERBOSITY default
-- urls are unique
INSERT INTO pglearn.examples (url) VALUES ('https://db.example.com/post/2');
-- updated_at follows updates
SELECT updated_at = created_at AS untouched FROM pglearn.examples WHERE id = 1;
UPDATE pglearn.examples SET score = 0.5 WHERE id = 1;
SELECT updated_at >= created_at AS touched FROM pglearn.examples WHERE id = 1;

-- fit: cross-validated metrics, stored with the model
SELECT jsonb_pretty(m - 'fit_time_ms' - 'log_loss' - 'grid') FROM pglearn.fit('news') m;
SELECT name, params, metrics ? 'fit_time_ms' AS timed, (metrics->>'log_loss')::float8 < 0.69 AS better_than_chance
FROM pglearn.models;

-- classify(name, ...) uses the stored model with its feature settings
SELECT round(pglearn.classify('news', 'https://db.example.com/new', 'PostgreSQL index tips', 'vacuum btree planner')::numeric, 2) > 0.5 AS db_interesting,
       round(pglearn.classify('news', 'https://sports.example.org/x', 'Derby day', 'striker goal')::numeric, 2) < 0.5 AS sports_not,
       pglearn.classify('news', NULL, NULL, NULL) BETWEEN 0 AND 1 AS empty_ok;
SELECT pglearn.classify('news', url, title, body) = pglearn.classify(m.model, pglearn.features(url, title, body)) AS same_as_model
FROM pglearn.examples, (SELECT model FROM pglearn.models WHERE name = 'news') m
WHERE pglearn.examples.id = 2;
SELECT pglearn.classify('nope', 'https://a.example/', 'a', 'b');
SELECT pglearn.classify(NULL, 'https://a.example/', 'a', 'b');

-- a grid of C, chosen by F1 unless told otherwise (ties: the lower log
-- loss, here the largest C); history is kept and the newest model of a
-- name is the live one
SELECT m->'C' AS chosen, m->'select_by' AS select_by, jsonb_array_length(m->'grid') AS tried
FROM pglearn.fit('news', params => '{"C": [0.01, 1, 100]}') m;
SELECT m->'select_by' AS select_by, jsonb_array_length(m->'grid') AS tried
FROM pglearn.fit('news', params => '{"C": [0.01, 1, 100], "select_by": "log_loss", "solver": "svm", "k": 3}') m;
SELECT name, params->'solver' AS solver, params->'k' AS k FROM pglearn.models ORDER BY created_at, id;
SELECT pglearn.model_info(model)->>'solver' AS live_solver FROM pglearn.models WHERE name = 'news'
ORDER BY created_at DESC, id DESC LIMIT 1;
-- "C": "previous": the C of the live model of the name (its solver from
-- params, as always), no grid; with no model of the name yet, the grid
SELECT pglearn.model_info(pglearn._newest_model('news'))->'C' AS live_c;
SELECT m->'C' AS chosen, jsonb_array_length(m->'grid') AS tried
FROM pglearn.fit('news', params => '{"C": "previous", "solver": "svm"}') m;
SELECT params->'C' AS stored_c FROM pglearn.models WHERE name = 'news' ORDER BY created_at DESC, id DESC LIMIT 1;
SELECT m->'C' AS chosen, jsonb_array_length(m->'grid') AS tried
FROM pglearn.fit('news_first', params => '{"C": "previous"}') m;
DELETE FROM pglearn.models WHERE name = 'news_first';
-- binary features and a smaller hash space are remembered for classify(name)
SELECT m->'n_pos' AS n_pos FROM pglearn.fit('news_binary', params => '{"binary": true, "hash_bits": 12}') m;
SELECT params->'binary' AS binary, params->'hash_bits' AS hash_bits FROM pglearn.models WHERE name = 'news_binary';
SELECT pglearn.classify('news_binary', url, title, body) =
       pglearn.classify(m.model, pglearn.features(url, title, body, 12, true)) AS uses_settings
FROM pglearn.examples, (SELECT model FROM pglearn.models WHERE name = 'news_binary') m
WHERE pglearn.examples.id = 2;
-- the model records them (model format 2), and that is where classify(name)
-- and every other scorer by name reads them: params only say what fit()
-- was asked
SELECT s.* FROM pglearn.models m CROSS JOIN LATERAL pglearn.feature_settings(m.model) s
WHERE m.name = 'news_binary';
UPDATE pglearn.models SET params = params || '{"hash_bits": 20, "binary": false}' WHERE name = 'news_binary';
SELECT pglearn.classify('news_binary', url, title, body) =
       pglearn.classify(m.model, pglearn.features(url, title, body, 12, true)) AS model_settings_win
FROM pglearn.examples, (SELECT model FROM pglearn.models WHERE name = 'news_binary') m
WHERE pglearn.examples.id = 2;
UPDATE pglearn.models SET params = params || '{"hash_bits": 12, "binary": true}' WHERE name = 'news_binary';
-- a format-1 model arriving in pglearn.models (a dump of a 0.2 database
-- restored, say) is stored as format 2 with the settings its params give
INSERT INTO pglearn.models (name, model, params) VALUES ('old_format',
	'format=1 id=9f86842e741513cc solver=logreg trained_at="2026-11-25 20:25:21.473534+00" C=1 epsilon=0.01 bias=1 weight_pos=1 weight_neg=1 platt_a=-1 platt_b=0 bias_weight=-0.017231680843113488 max_iter=1000 iterations=2 converged=1 n_pos=3 n_neg=3 n_features=5 weights={1:0.6956038,2:0.40991494,3:0.27948278,4:-0.87036395,5:-0.24980022}',
	'{"hash_bits": 12, "binary": true}');
SELECT pglearn.model_info(m.model)->'format' AS format, s.*
FROM pglearn.models m CROSS JOIN LATERAL pglearn.feature_settings(m.model) s WHERE m.name = 'old_format';
DELETE FROM pglearn.models WHERE name = 'old_format';

-- same data, same folds, same numbers
SELECT pglearn.cross_validate(k => 4) - 'grid' = pglearn.cross_validate(k => 4) - 'grid' AS deterministic;
SELECT (pglearn.cross_validate(k => 4))->'n' AS n;

-- any table or view with url, title, body and label can be the source
CREATE TABLE my_articles AS SELECT url, title, body, label FROM pglearn.examples;
SELECT m->'n' AS n FROM pglearn.fit('mine', 'my_articles') m;
CREATE VIEW my_view AS SELECT url, title AS heading, body, label FROM pglearn.examples;
SELECT pglearn.fit('bad', 'my_view');
SELECT pglearn.fit('bad', 'no_such_table');

-- errors
SELECT pglearn.fit('');
SELECT pglearn.fit(NULL);
SELECT pglearn.fit('bad', params => '{"folds": 3}');
SELECT pglearn.fit('bad', params => '{"select_by": "vibes"}');
SELECT pglearn.fit('bad', params => '{"C": []}');
SELECT pglearn.fit('bad', params => '{"C": -1}');
SELECT pglearn.fit('bad', params => '{"k": 1}');
SELECT pglearn.fit('bad', params => '"C"');
SELECT pglearn.cross_validate(k => 1000);
DELETE FROM my_articles WHERE label = -1;
SELECT pglearn.fit('bad', 'my_articles');
TRUNCATE my_articles;
SELECT pglearn.fit('bad', 'my_articles');
SELECT count(*) AS failed_fits_stored FROM pglearn.models WHERE name = 'bad';

DROP VIEW my_view;
DROP TABLE my_articles;
