-- Security: fixed search_path, least privilege, stored models that can be
-- scored with, scoring that never blocks an insert, recommend()'s pool.
\set SHOW_CONTEXT never
TRUNCATE pglearn.examples, pglearn.models RESTART IDENTITY CASCADE;

--
-- Every SQL and plpgsql routine of the extension fixes its search_path, or
-- has a SQL-standard body (bound when it was created).  The one exception
-- is refresh(): a procedure that commits cannot have a SET clause, so it
-- names everything in full (t/hijack checks it does).  A new function
-- without either shows up here.
--
SELECT p.oid::regprocedure AS routine, l.lanname, p.proconfig
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'pglearn'
  JOIN pg_language l ON l.oid = p.prolang
 WHERE l.lanname IN ('sql', 'plpgsql')
   AND p.prosqlbody IS NULL
   AND p.proconfig IS DISTINCT FROM ARRAY['search_path=pg_catalog, pg_temp']
 ORDER BY 1;

-- the SQL-standard bodies are still inlined into the queries that call them
EXPLAIN (COSTS OFF, VERBOSE)
SELECT pglearn.url_host(url), pglearn.article_text(description, body) FROM pglearn.examples;

-- article_text() is concat_ws(E'\n', description, body), spelled out
SELECT d, b, pglearn.article_text(d, b) = concat_ws(E'\n', d, b) AS same
  FROM (VALUES (NULL, NULL), ('d', NULL), (NULL, 'b'), ('d', 'b'), ('', ''), ('', NULL)) v(d, b);

--
-- What PUBLIC may execute: nothing that changes data or reaches Redis
--
SELECT p.oid::regprocedure AS routine,
	   has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'pglearn'
 WHERE NOT has_function_privilege('public', p.oid, 'EXECUTE')
 ORDER BY 1;

CREATE ROLE pglearn_test_nobody;
GRANT USAGE ON SCHEMA pglearn TO pglearn_test_nobody;
SET ROLE pglearn_test_nobody;
\set VERBOSITY terse
SELECT pglearn.label('https://example.com/a', 1);
SELECT pglearn.fit('x');
SELECT pglearn.publish('general');
SELECT * FROM pglearn.published('general');
SELECT pglearn.rescore();
CALL pglearn.refresh();
-- reading functions stay executable; the tables are not readable
SELECT pglearn.url_host('https://Example.com/x');
SELECT * FROM pglearn.uncertain();
\set VERBOSITY default
RESET ROLE;
REVOKE USAGE ON SCHEMA pglearn FROM pglearn_test_nobody;
DROP ROLE pglearn_test_nobody;

--
-- A stored model's params must be usable for scoring
--
INSERT INTO pglearn.examples (url, title, body, label)
SELECT format('https://%s.example/%s', CASE WHEN i % 2 = 0 THEN 'db' ELSE 'sport' END, i),
	   CASE WHEN i % 2 = 0 THEN 'postgres index vacuum' ELSE 'football match goal' END,
	   CASE WHEN i % 2 = 0 THEN 'query planner btree' ELSE 'league striker referee' END,
	   CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END
  FROM generate_series(1, 20) i;
SELECT pglearn.fit('default', params => '{"C": 1}') ? 'f1' AS fitted;
INSERT INTO pglearn.models (name, model, params)
SELECT 'default', model, '{"hash_bits": 31}' FROM pglearn.models WHERE name = 'default';
INSERT INTO pglearn.models (name, model, params)
SELECT 'default', model, '{"hash_bits": 2.5}' FROM pglearn.models WHERE name = 'default';
INSERT INTO pglearn.models (name, model, params)
SELECT 'default', model, '{"hash_bits": "20"}' FROM pglearn.models WHERE name = 'default';
INSERT INTO pglearn.models (name, model, params)
SELECT 'default', model, '{"binary": "yes"}' FROM pglearn.models WHERE name = 'default';
INSERT INTO pglearn.models (name, model, params)
SELECT 'default', model, '[]' FROM pglearn.models WHERE name = 'default';
UPDATE pglearn.models SET params = params || '{"hash_bits": 0}';
-- valid ones are taken
INSERT INTO pglearn.models (name, model, params)
SELECT 'copy', model, '{"hash_bits": 20, "binary": false, "C": 1}' FROM pglearn.models WHERE name = 'default';
SELECT name, params FROM pglearn.models ORDER BY id;

--
-- Scoring never blocks an insert, and params can no longer make a model
-- unscorable: a models row whose params give no valid settings (here one
-- stored before the check existed) is scored with the settings its model
-- records (model format 2), as 0.2 could not
--
ALTER TABLE pglearn.models DROP CONSTRAINT models_params_check;
INSERT INTO pglearn.models (name, model, params)
SELECT 'default', model, '{"hash_bits": 31}' FROM pglearn.models WHERE name = 'default';
INSERT INTO pglearn.examples (url, title, body) VALUES ('https://db.example/new', 'postgres', 'vacuum');
SELECT url, score = pglearn.classify((SELECT model FROM pglearn.models WHERE name = 'default' ORDER BY id DESC LIMIT 1),
									 pglearn.features(url, title, body)) AS scored_as_the_model_says
FROM pglearn.examples WHERE url = 'https://db.example/new';
-- a re-fetch of a scored row does not keep the old text's score
DELETE FROM pglearn.models WHERE params->>'hash_bits' = '31';
UPDATE pglearn.examples SET body = 'vacuum analyze' WHERE url = 'https://db.example/new';
SELECT url, score > 0.5 AS positive FROM pglearn.examples WHERE url = 'https://db.example/new';
INSERT INTO pglearn.models (name, model, params)
SELECT 'default', model, '{"hash_bits": 31}' FROM pglearn.models WHERE name = 'default';
UPDATE pglearn.examples SET body = 'vacuum freeze' WHERE url = 'https://db.example/new';
SELECT url, score = pglearn.classify((SELECT model FROM pglearn.models WHERE name = 'default' ORDER BY id DESC LIMIT 1),
									 pglearn.features(url, title, body)) AS scored_as_the_model_says
FROM pglearn.examples WHERE url = 'https://db.example/new';
DELETE FROM pglearn.models WHERE params->>'hash_bits' = '31';
ALTER TABLE pglearn.models ADD CONSTRAINT models_params_check
	CHECK (pglearn._check_model_params(params));

--
-- recommend(): a k whose 10 k overflows int4
--
UPDATE pglearn.examples SET created_at = now();
SELECT pglearn.rescore() AS rescored;
-- with the model unchanged a rescore writes nothing and locks nothing: no
-- row gets a new version (ctid) or a new locker (xmax)
CREATE TEMP TABLE before_rescore AS SELECT id, ctid AS row_version, xmax AS row_xmax FROM pglearn.examples;
SELECT pglearn.rescore() AS rescored_again;
SELECT count(*) AS rows_written_or_locked
  FROM pglearn.examples e JOIN before_rescore b ON b.id = e.id
 WHERE e.ctid <> b.row_version OR e.xmax <> b.row_xmax;
SELECT count(*) FROM pglearn.recommend(k => 2147483647, diverse => 0.5, min_score => 0);
SELECT rank, url FROM pglearn.recommend(k => 2147483647, diverse => 0.5) ORDER BY rank LIMIT 3;
SELECT count(*) FROM pglearn.recommend(k => 2147483647, min_score => 0);
