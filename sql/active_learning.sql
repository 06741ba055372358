-- Active learning: the scoring trigger and pglearn.default_model, rescore(),
-- refresh(), label(), uncertain(), to_label, supporting_features()
\set SHOW_CONTEXT never
TRUNCATE pglearn.examples, pglearn.models RESTART IDENTITY CASCADE;

-- the setting is readable before the module is loaded, and is 'default'
SELECT pglearn._default_model();
SELECT pglearn.nnz('{}');
SHOW pglearn.default_model;

-- empty tables: nothing to label, no error
SELECT * FROM pglearn.to_label;
SELECT * FROM pglearn.uncertain();
-- but naming a model that does not exist is an error
SELECT * FROM pglearn.uncertain('nope');
SELECT pglearn.rescore();
SELECT pglearn.rescore('nope');

-- no model yet: inserts and re-fetches are never blocked, rows stay unscored
INSERT INTO pglearn.examples (url, title, body) VALUES ('https://early.example/1', 'Early bird', 'no model yet');
INSERT INTO pglearn.examples (url, title, body) VALUES ('https://early.example/1', 'Early bird', 'fetched again')
	ON CONFLICT (url) DO UPDATE SET body = EXCLUDED.body;
SET pglearn.default_model = '';
INSERT INTO pglearn.examples (url, title) VALUES ('https://early.example/2', 'Scoring off');
SET pglearn.default_model = 'not_fitted_yet';
COPY pglearn.examples (url, title) FROM stdin;
https://early.example/3	Bulk load
\.
RESET pglearn.default_model;
SELECT url, body, score FROM pglearn.examples ORDER BY id;

--
-- label(): validated upsert, returns the row id
--
SELECT pglearn.label('https://early.example/1', 1) AS id_of_existing;
SELECT pglearn.label('https://early.example/1', -1) AS same_id;
SELECT pglearn.label('https://new.example/a?b=1#c', 1) AS new_id;
SELECT url, label, title, body FROM pglearn.examples WHERE id IN (1, 4) ORDER BY id;
SELECT pglearn.label('https://new.example/a?b=1#c', 0) AS unlabelled;
SELECT label FROM pglearn.examples WHERE id = 4;
\set VERBOSITY terse
SELECT pglearn.label('https://new.example/a?b=1#c', 2);
SELECT pglearn.label('https://new.example/a?b=1#c', NULL);
SELECT pglearn.label(NULL, 1);
SELECT pglearn.label('', 1);
SELECT pglearn.label('new.example/a', 1);
SELECT pglearn.label('ftp://new.example/a', 1);
SELECT pglearn.label('https://new.example/a b', 1);
\set VERBOSITY default
SELECT pglearn.label('https://new.example/', 7);
TRUNCATE pglearn.examples RESTART IDENTITY;

--
-- a corpus: database articles are interesting, sports ones are not
--
INSERT INTO pglearn.examples (url, title, body, label)
SELECT format('https://%s/post/%s', CASE WHEN i % 2 = 0 THEN 'db.example.com' ELSE 'sports.example.org' END, i),
       CASE WHEN i % 2 = 0 THEN 'Tuning PostgreSQL ' || i ELSE 'Match report ' || i END,
       CASE WHEN i % 2 = 0
            THEN 'index vacuum query planner sql ' || (ARRAY['btree', 'wal', 'replication', 'join'])[1 + i % 4]
            ELSE 'goal keeper striker league ' || (ARRAY['penalty', 'derby', 'transfer', 'coach'])[1 + i % 4] END,
       CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END
FROM generate_series(1, 40) i;
SELECT (pglearn.fit('default'))->'accuracy' AS cv_accuracy;

-- the trigger scores a new row with the live model, from the same text fit()
-- learns from (description and body)
INSERT INTO pglearn.examples (url, title, description, body) VALUES
	('https://blog.example.net/pg', 'PostgreSQL planner notes', 'vacuum and wal', 'btree index query'),
	('https://blog.example.net/cup', 'Cup final', NULL, 'striker penalty derby goal');
SELECT url, round(score::numeric, 3) AS score, score > 0.5 AS interesting
FROM pglearn.examples WHERE url LIKE 'https://blog.%' ORDER BY url;
SELECT e.score = pglearn.classify(m.model, pglearn.features(e.url, e.title, concat_ws(E'\n', e.description, e.body))) AS same_as_fit
FROM pglearn.examples e, (SELECT model FROM pglearn.models WHERE name = 'default') m
WHERE e.url = 'https://blog.example.net/pg';
-- the crawler's upsert of a stored URL scores the merged row
INSERT INTO pglearn.examples (url, title, body) VALUES ('https://blog.example.net/pg', 'Derby report', 'striker goal league')
	ON CONFLICT (url) DO UPDATE SET title = EXCLUDED.title, body = EXCLUDED.body;
SELECT e.score = pglearn.classify('default', e.url, e.title, pglearn.article_text(e.description, e.body)) AS rescored,
       e.score < 0.5 AS now_sports
FROM pglearn.examples e WHERE e.url = 'https://blog.example.net/pg';
-- label() (like add's upsert) changes the label only, and scores nothing
UPDATE pglearn.examples SET score = -1 WHERE url = 'https://blog.example.net/pg';
SELECT pglearn.label('https://blog.example.net/pg', 1) > 0 AS labelled;
SELECT label, score FROM pglearn.examples WHERE url = 'https://blog.example.net/pg';
UPDATE pglearn.examples SET title = 'PostgreSQL planner notes', body = 'btree index query', label = NULL
WHERE url = 'https://blog.example.net/pg';
-- re-fetching (new title, description or body) rescores; labelling does not
UPDATE pglearn.examples SET score = -1 WHERE url = 'https://blog.example.net/cup';
UPDATE pglearn.examples SET label = 1 WHERE url = 'https://blog.example.net/cup';
SELECT score FROM pglearn.examples WHERE url = 'https://blog.example.net/cup';
UPDATE pglearn.examples SET description = 'sql replication' WHERE url = 'https://blog.example.net/cup';
SELECT score BETWEEN 0 AND 1 AS rescored FROM pglearn.examples WHERE url = 'https://blog.example.net/cup';
UPDATE pglearn.examples SET label = NULL WHERE url = 'https://blog.example.net/cup';

--
-- rescore(): every row, in batches; returns how many scores changed
--
UPDATE pglearn.examples SET score = NULL;
SELECT pglearn.rescore() AS changed;
SELECT pglearn.rescore() AS changed_again;
SELECT count(*) AS unscored FROM pglearn.examples WHERE score IS NULL;
CREATE TEMP TABLE scores_before AS SELECT id, score FROM pglearn.examples;
UPDATE pglearn.examples SET score = NULL WHERE id % 3 = 0;
SELECT pglearn.rescore('default', batch_size => 4) AS changed_in_batches_of_4;
SELECT count(*) AS same FROM pglearn.examples e JOIN scores_before b USING (id) WHERE e.score = b.score;
SELECT bool_and(score = pglearn.classify('default', url, title, pglearn.article_text(description, body))) AS all_current
FROM pglearn.examples;
\set VERBOSITY terse
SELECT pglearn.rescore('default', 0);
SET pglearn.default_model = '';
SELECT pglearn.rescore();
RESET pglearn.default_model;
\set VERBOSITY default

--
-- refresh(): the scheduled job (fit, commit, rescore in committed batches)
--
UPDATE pglearn.examples SET score = 0.123;
CALL pglearn.refresh(params => '{"C": [0.1, 10]}', batch_size => 7);
SELECT count(*) AS models, count(*) FILTER (WHERE params->'C' = '0.1' OR params->'C' = '10') AS from_grid
FROM pglearn.models WHERE name = 'default';
SELECT bool_and(score = pglearn.classify('default', url, title, pglearn.article_text(description, body))) AS all_current
FROM pglearn.examples;
-- a failed fit rescores nothing
UPDATE pglearn.examples SET score = 0.123;
CALL pglearn.refresh(params => '{"folds": 3}');
SELECT count(*) AS untouched FROM pglearn.examples WHERE score = 0.123;
-- it commits, so it cannot run inside a transaction block
\set VERBOSITY terse
BEGIN;
CALL pglearn.refresh();
ROLLBACK;
\set VERBOSITY default
SELECT count(*) AS models FROM pglearn.models WHERE name = 'default';
-- back to C = 1 for what follows
SELECT (pglearn.fit('default', params => '{"C": 1}'))->'C' AS c;
SELECT pglearn.rescore() AS rescored;

--
-- uncertain(): margin sampling over unlabelled rows
--
INSERT INTO pglearn.examples (url, final_url, title, body) VALUES
	-- clear cases
	('https://a.example/db', NULL, 'Vacuum tuning', 'index vacuum query planner sql wal'),
	('https://a.example/football', NULL, 'League news', 'goal keeper striker league derby'),
	-- mixed: the model is unsure
	('https://a.example/mixed1', NULL, 'Stadium database', 'vacuum striker'),
	('https://a.example/mixed2', NULL, 'Query the league', 'query league goal sql'),
	('https://b.example/mixed3', NULL, 'Derby replication', 'replication derby'),
	('https://c.example/mixed4', NULL, 'Planner coach', 'planner coach'),
	-- duplicates of labelled rows: same title, url as a labelled final_url, ...
	('https://d.example/copy', NULL, 'Tuning PostgreSQL 2', 'vacuum striker'),
	('https://d.example/redirect', 'https://db.example.com/post/4', 'Other title', 'vacuum striker'),
	-- ... and two rows that are one article (same final URL, same title)
	('https://e.example/x?utm=1', 'https://e.example/x', 'Keeper sql', 'keeper sql'),
	('https://e.example/x?utm=2', 'https://e.example/x', 'Keeper sql again', 'keeper sql'),
	('https://f.example/1', NULL, 'Same story', 'vacuum goal'),
	('https://f.example/2', NULL, 'Same story', 'vacuum goal'),
	-- a failed fetch is not offered, nor a row with nothing to read
	('https://g.example/broken', NULL, 'Broken', 'vacuum striker'),
	('https://g.example/sql/vacuum/striker', NULL, NULL, NULL);
UPDATE pglearn.examples SET final_url = 'https://a.example/db' WHERE url = 'https://db.example.com/post/6';
UPDATE pglearn.examples SET fetch_error = 'timeout' WHERE url = 'https://g.example/broken';
-- the labelled row https://db.example.com/post/6 now has final URL
-- https://a.example/db, so that unlabelled row is a duplicate too
SELECT rank, url, title, host, round(score::numeric, 3) AS score, round(abs(score - 0.5)::numeric, 3) AS margin
FROM pglearn.uncertain('default', 20, NULL);
-- the answer matches a plain ORDER BY over the rows that are no duplicates
CREATE TEMP TABLE mixed (url) AS VALUES ('https://a.example/football'), ('https://a.example/mixed1'),
	('https://a.example/mixed2'), ('https://b.example/mixed3'), ('https://c.example/mixed4');
SELECT array_agg(url ORDER BY abs(p - 0.5), url) AS plain_order,
       array_agg(url ORDER BY abs(p - 0.5), url) =
       (SELECT array_agg(u.url ORDER BY rank) FROM pglearn.uncertain('default', 20, NULL) u
         WHERE u.url IN (SELECT url FROM mixed)) AS same
FROM (SELECT url, pglearn.classify('default', url, title, body) AS p FROM pglearn.examples
      WHERE url IN (SELECT url FROM mixed)) s;
-- at most per_host rows per host (default 3), k rows
SELECT rank, host, url FROM pglearn.uncertain('default', 4, 1);
SELECT host, count(*) FROM pglearn.uncertain('default', 100) GROUP BY host ORDER BY host;
SELECT count(*) FROM pglearn.uncertain('default', 2);

-- to_label: the same, from the stored scores (the trigger kept them current)
SELECT rank, url, round(score::numeric, 3) AS score FROM pglearn.to_label;
SELECT array_agg(url ORDER BY rank) = (SELECT array_agg(url ORDER BY rank) FROM pglearn.uncertain('default', NULL, 3)) AS same_as_live
FROM pglearn.to_label;
-- unscored rows are not offered; ties are broken by URL
UPDATE pglearn.examples SET score = NULL WHERE url = 'https://c.example/mixed4';
UPDATE pglearn.examples SET score = 0.5 WHERE url IN ('https://b.example/mixed3', 'https://a.example/mixed2', 'https://a.example/mixed1');
-- the other row of the same final URL is now the less certain one
UPDATE pglearn.examples SET score = 0.99 WHERE url = 'https://e.example/x?utm=2';
SELECT rank, url, round(score::numeric, 3) AS score FROM pglearn.uncertain(k => 5);

-- labelling a row removes it and its duplicates
SELECT pglearn.label('https://f.example/2', -1) > 0 AS labelled;
SELECT url FROM pglearn.to_label WHERE url LIKE 'https://f.example/%';

-- errors
\set VERBOSITY terse
SELECT * FROM pglearn.uncertain('default', 0);
SELECT * FROM pglearn.uncertain('default', 5, 0);
SELECT * FROM pglearn.uncertain('default', -1, NULL);
\set VERBOSITY default
SELECT * FROM pglearn.uncertain('no_such_model', 5);

--
-- supporting_features(): what pushes an article's score, strongest first
--
SELECT feature, round(value::numeric, 3) AS value, weight > 0 AS positive, contribution > 0 AS supports
FROM pglearn.supporting_features('https://a.example/db', 3);
SELECT bool_and(contribution < 0) AS all_negative, count(*) AS n
FROM pglearn.supporting_features('https://a.example/football');
SELECT bool_and(abs(contribution - value * weight) < 1e-9) AS consistent
FROM pglearn.supporting_features('https://a.example/db', 100, 'default');
-- what an annotator asks for: the next article and why
SELECT u.url, array(SELECT feature FROM pglearn.supporting_features(u.url, 2, 'default')) AS why
FROM pglearn.uncertain('default', 1) u;
\set VERBOSITY terse
SELECT * FROM pglearn.supporting_features('https://nowhere.example/', 3);
SELECT * FROM pglearn.supporting_features('https://a.example/db', 0);
SELECT * FROM pglearn.supporting_features('https://a.example/db', 3, 'nope');
\set VERBOSITY default

-- everything labelled: nothing left to ask
UPDATE pglearn.examples SET label = 1 WHERE label IS NULL OR label = 0;
SELECT count(*) AS to_label FROM pglearn.to_label;

DROP TABLE scores_before, mixed;
TRUNCATE pglearn.examples, pglearn.models RESTART IDENTITY CASCADE;
