-- search(): keyword search over url, title, description and body, through
-- search_documents, kept by the examples_search triggers
\set SHOW_CONTEXT never
TRUNCATE pglearn.examples, pglearn.models RESTART IDENTITY CASCADE;

--
-- search_document(): the words features() takes, by field
--
-- title A, description B, url C (without its scheme), body D; positions run on across fields
SELECT pglearn.search_document('https://www.example.org/db/Vacuum?id=7', 'Vacuum Tuning', 'A guide', 'Vacuum reclaims space.');
-- NULL fields are empty; nothing at all gives the empty tsvector
SELECT pglearn.search_document(NULL, 'Only title', NULL, NULL),
       pglearn.search_document(NULL, NULL, NULL, NULL) = ''::tsvector AS empty;
-- NFKC and the built-in lower case: full-width Latin, a ligature, Greek capitals
SELECT pglearn.search_document(NULL, 'ＰｏｓｔｇｒｅＳＱＬ ﬁle ΑΘΗΝΑ', NULL, NULL);
-- Japanese: overlapping character bigrams, the tokens features() has
SELECT pglearn.search_document(NULL, NULL, NULL, '索引を作る');
SELECT ARRAY(SELECT lexeme FROM unnest(pglearn.search_document(NULL, 'Vacuum データベース', NULL, NULL)) ORDER BY 1) =
       ARRAY(SELECT DISTINCT substr(feature, 3) FROM pglearn.feature_names(NULL, 'Vacuum データベース', NULL) ORDER BY 1)
       AS same_tokens_as_features;
-- a field stops at 240 kB of tsvector: a huge body of distinct words is stored, its tail unsearchable
SELECT length(d) AS words, length(d) < 200000 AS bounded, d @@ 'w1'::tsquery AS head_found, d @@ 'w199999'::tsquery AS tail_found
  FROM (SELECT pglearn.search_document(NULL, 'huge', NULL, string_agg('w' || i, ' ')) d
		  FROM generate_series(1, 200000) i) s;

--
-- search_query(): web-search syntax with the same words
--
SELECT pglearn.search_query('vacuum index');					-- all words
SELECT pglearn.search_query('"index only scan" vacuum');		-- a phrase
SELECT pglearn.search_query('vacuum or analyze index');			-- or binds tighter than and
SELECT pglearn.search_query('vacuum -football -"world cup"');	-- excluded words and phrases
SELECT pglearn.search_query('e-mail ＶＡＣＵＵＭ データベース');		-- one word, several tokens: a phrase
SELECT pglearn.search_query('or vacuum or'), pglearn.search_query('"or"');	-- a dangling or; a quoted one is a word
SELECT numnode(pglearn.search_query('?! -- ""')) AS no_words, pglearn.search_query(NULL) IS NULL AS strict;
SELECT pglearn.search_query(repeat('word ', 820));				-- 4100 bytes: too long

--
-- search() over stored articles
--
INSERT INTO pglearn.examples (url, label, title, description, body) VALUES
	('https://db.example/vacuum', 1, 'Vacuum tuning', 'autovacuum settings', 'How vacuum reclaims space in the heap.'),
	('https://db.example/index', NULL, 'Index types', 'B-tree, GIN', 'A GIN index speeds up vacuum-free search.'),
	('https://db.example/vacuum-full', 0, 'Rewriting tables', NULL, 'Vacuum full rewrites the table; plain vacuum does not.'),
	('https://sport.example/cup', -1, 'World cup', 'football', 'The vacuum of the midfield cost them the cup.'),
	('https://sport.example/goal', NULL, 'A goal', 'football', 'Late goal in the cup final.'),
	('https://jp.example/a', NULL, 'データベースの索引', NULL, '索引を作るとデータベースの検索が速くなる'),
	('https://db.example/tie-b', NULL, 'Analyze', NULL, 'statistics'),
	('https://db.example/tie-a', NULL, 'Analyze', NULL, 'statistics');

-- title words rank above body words; the article labelled -1 is left out; 0 and NULL stay
SELECT url, label, rank FROM pglearn.search('vacuum');
-- ties by URL
SELECT url, rank FROM pglearn.search('analyze statistics');
SELECT url FROM pglearn.search('vacuum -heap');
SELECT url FROM pglearn.search('"plain vacuum"');
SELECT url FROM pglearn.search('"vacuum plain"');
SELECT url FROM pglearn.search('goal or gin');
SELECT url FROM pglearn.search('データベース 索引');
SELECT url FROM pglearn.search('db example index');				-- url words count
SELECT url FROM pglearn.search('vacuum', 2);
SELECT count(*) FROM pglearn.search('https');					-- the scheme is not a word
-- bad input
SELECT * FROM pglearn.search('vacuum', 0);
SELECT * FROM pglearn.search('"" -');
SELECT * FROM pglearn.search(NULL);

--
-- The documents follow the articles' text, and only their text
--
SELECT count(*) AS documents FROM pglearn.search_documents;
CREATE TEMP TABLE before AS SELECT url, ctid::text AS version FROM pglearn.search_documents;
-- a score or a label change, or a re-fetch of the same text, leaves every document as it was
UPDATE pglearn.examples SET score = 0.25;
UPDATE pglearn.examples SET label = 1 WHERE url = 'https://sport.example/goal';
UPDATE pglearn.examples SET body = body, fetched_at = now();
SELECT count(*) AS rewritten FROM pglearn.search_documents d JOIN before b USING (url) WHERE d.ctid::text <> b.version;
-- a new text is searchable at once
UPDATE pglearn.examples SET body = 'Penalty shootout drama.' WHERE url = 'https://sport.example/goal';
SELECT url FROM pglearn.search('penalty');
SELECT count(*) FROM pglearn.search('late goal');
-- the crawler's upsert: a new article, then its re-fetch with new text
SELECT pglearn.record_fetch('https://new.example/a', 'Crawled page', NULL, NULL, NULL, NULL, NULL, 'first text', NULL, 200);
SELECT pglearn.record_fetch('https://new.example/a', 'Crawled page', NULL, NULL, NULL, NULL, NULL, 'second text', NULL, 200);
SELECT url FROM pglearn.search('second'), (SELECT count(*) AS first_found FROM pglearn.search('first')) f;
-- a changed URL and a deleted article take their document along
UPDATE pglearn.examples SET url = 'https://db.example/index-types' WHERE url = 'https://db.example/index';
SELECT url FROM pglearn.search('gin');
DELETE FROM pglearn.examples WHERE url = 'https://jp.example/a';
SELECT count(*) FROM pglearn.search_documents WHERE url = 'https://jp.example/a';
SELECT count(*) = (SELECT count(*) FROM pglearn.examples) AS one_document_per_article FROM pglearn.search_documents;

-- whoever may write articles keeps their documents current without rights on search_documents
CREATE ROLE search_writer;
GRANT USAGE ON SCHEMA pglearn TO search_writer;
GRANT INSERT, UPDATE, SELECT ON pglearn.examples TO search_writer;
GRANT SELECT ON pglearn.models TO search_writer;
GRANT USAGE ON SEQUENCE pglearn.examples_id_seq TO search_writer;
SET ROLE search_writer;
INSERT INTO pglearn.examples (url, title) VALUES ('https://w.example/1', 'Written by a writer');
SELECT count(*) FROM pglearn.search_documents;					-- no right to read it
RESET ROLE;
SELECT url FROM pglearn.search('writer');
DELETE FROM pglearn.examples WHERE url = 'https://w.example/1';
REVOKE ALL ON pglearn.examples, pglearn.models, pglearn.examples_id_seq FROM search_writer;
REVOKE ALL ON SCHEMA pglearn FROM search_writer;
DROP ROLE search_writer;

--
-- The plan: candidates come from the GIN index, not from a scan of every document
--
INSERT INTO pglearn.examples (url, title, body)
SELECT 'https://bulk.example/' || i, 'Bulk article ' || i, 'common words for every article number ' || i
  FROM generate_series(1, 10000) i;
-- (VACUUM moves GIN's pending list of fresh entries into the index proper)
VACUUM ANALYZE pglearn.search_documents;
EXPLAIN (COSTS OFF)
SELECT d.url FROM pglearn.search_documents d WHERE d.document @@ pglearn.search_query('penalty shootout');
SELECT url FROM pglearn.search('penalty shootout');

-- a plain TRUNCATE of examples works and empties the documents too
TRUNCATE pglearn.examples;
SELECT count(*) AS documents_left FROM pglearn.search_documents;

-- the only SECURITY DEFINER routines of pglearn: these triggers, with a fixed search_path, not executable by PUBLIC
SELECT p.oid::regprocedure AS routine, p.proconfig, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'pglearn'
 WHERE p.prosecdef
 ORDER BY 1;
