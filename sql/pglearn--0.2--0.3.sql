/* pglearn--0.2--0.3.sql: update from 0.2 to 0.3 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pglearn UPDATE TO '0.3'" to load this file. \quit

-- 0.3 is the security release.  Every SQL and plpgsql function of pglearn
-- now runs with a fixed search_path (pg_catalog, pg_temp) or, for the small
-- SQL functions that must stay inlinable, has a SQL-standard body that is
-- bound to its objects when it is created; pglearn's own objects are always
-- named pglearn.*.  Functions that change data or reach Redis are no longer
-- executable by PUBLIC (README "Security").

--
-- A fixed search_path for every SQL and plpgsql function
--
-- PostgreSQL resolves a function or operator call to the best match over
-- the whole search_path, so a better-matching overload planted in any
-- schema on the caller's path (concat_ws(text, text, text) against
-- concat_ws(text, VARIADIC "any"), or int8 % int4) beat pg_catalog's and ran
-- with the caller's rights: the superuser's, through fit() or through any
-- INSERT into pglearn.examples (the scoring trigger).  A plpgsql function
-- with SET search_path = pg_catalog, pg_temp sees pg_catalog and nothing
-- else (functions and operators are never looked up in pg_temp), and names
-- pglearn's own objects as pglearn.*.  These bodies are unchanged from 0.2;
-- the ones that change are replaced further down with the clause in place.
--

ALTER FUNCTION examples_touch() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION _fit_check_params(jsonb) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION _fit_search(jsonb) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION cross_validate(regclass, int4, jsonb) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION fit(text, regclass, jsonb) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION _live_model(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION _check_k(text, int4, bool) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION label(text, int4) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION supporting_features(text, int4, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION similar(text, int4) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION top_features(text, int4) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION publish(text, int4) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION publish_pending() SET search_path = pg_catalog, pg_temp;

-- The three small SQL functions get SQL-standard bodies instead: such a body
-- is parsed once, here, where the path is pglearn's own schema and
-- pg_catalog, and stored bound to the objects it names; callers' paths never
-- reach it, and the planner can still inline it (a SET clause would stop
-- that).  article_text() spells concat_ws(E'\n', description, body) out so
-- that it is immutable as declared (concat_ws is only stable) and so
-- inlinable into the scans that call it for every row.
CREATE OR REPLACE FUNCTION article_text(description text, body text) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	RETURN CASE WHEN description IS NULL THEN coalesce(body, '')
				WHEN body IS NULL THEN description
				ELSE description || E'\n' || body END;

CREATE OR REPLACE FUNCTION url_host(url text) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	RETURN pg_catalog.lower(pg_catalog.substring(url, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/:?#]+)'));

CREATE OR REPLACE FUNCTION _default_model() RETURNS text
	LANGUAGE sql STABLE PARALLEL SAFE
	RETURN coalesce(pg_catalog.current_setting('pglearn.default_model', true), 'default');

--
-- Stored models are valid models
--

-- The feature settings a stored model is scored with.  One models row with
-- {"hash_bits": 31} under the default model's name made every INSERT into
-- examples fail (the trigger scores with it); now such a row is refused
-- when it is stored.  Raises instead of returning false so the error says
-- which setting is wrong.
CREATE FUNCTION _check_model_params(params jsonb) RETURNS bool
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
	IF params IS NULL OR jsonb_typeof(params) <> 'object' THEN
		RAISE EXCEPTION 'model parameters must be a jsonb object'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('pglearn.models.params was %s.', coalesce(params::text, 'NULL'));
	END IF;
	IF params ? 'hash_bits' AND
	   (jsonb_typeof(params->'hash_bits') <> 'number' OR
		(params->>'hash_bits')::numeric NOT IN (SELECT generate_series(1, 30))) THEN
		RAISE EXCEPTION 'invalid model parameter "hash_bits": %', params->'hash_bits'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'hash_bits must be an integer between 1 and 30, as features() takes it.';
	END IF;
	IF params ? 'binary' AND jsonb_typeof(params->'binary') <> 'boolean' THEN
		RAISE EXCEPTION 'invalid model parameter "binary": %', params->'binary'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'binary must be true or false.';
	END IF;
	RETURN true;
END
$$;
COMMENT ON FUNCTION _check_model_params(jsonb) IS
	'internal: true for model parameters a stored model can be scored with (hash_bits 1..30, binary boolean); raises otherwise';

-- NOT VALID: a database updated from 0.2 may hold such rows already; they
-- stay (nothing is deleted), the trigger below survives them, and the
-- constraint is validated at once when there are none.
ALTER TABLE models ADD CONSTRAINT models_params_check
	CHECK (pglearn._check_model_params(params)) NOT VALID;
DO $$
BEGIN
	ALTER TABLE pglearn.models VALIDATE CONSTRAINT models_params_check;
EXCEPTION WHEN invalid_parameter_value OR check_violation THEN
	RAISE WARNING 'pglearn.models holds rows with invalid params; they are kept, new ones are refused'
		USING DETAIL = SQLERRM,
			  HINT = 'Delete or correct them, then ALTER TABLE pglearn.models VALIDATE CONSTRAINT models_params_check.';
END
$$;

--
-- Scoring never blocks an insert
--

-- The promise of 0.1, now kept against anything: a model that cannot be
-- scored with, a document over features()' limits, any other error becomes
-- a WARNING and a NULL score (an updated text must not keep the score of
-- the old one).  Cancel and termination still stop the statement
-- (WHEN OTHERS does not catch query_canceled).
CREATE OR REPLACE FUNCTION examples_score() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	model_name text := pglearn._default_model();
	problem text;
	problem_detail text;
	stored bool;
BEGIN
	IF model_name = '' OR NOT EXISTS (SELECT FROM pglearn.models WHERE name = model_name) THEN
		RETURN NEW;
	END IF;
	-- INSERT ... ON CONFLICT fires this for the proposed row even when the
	-- URL is stored and the row becomes an UPDATE; that UPDATE scores the
	-- merged row if it changes the text, so do not tokenize twice.  The
	-- table looked in is the one the trigger fires on: on Citus that is the
	-- shard of examples that holds this url, on the worker running this.
	IF TG_OP = 'INSERT' THEN
		EXECUTE pg_catalog.format('SELECT EXISTS (SELECT FROM %s WHERE url = $1)', TG_RELID::pg_catalog.regclass)
			INTO stored USING NEW.url;
		IF stored THEN
			RETURN NEW;
		END IF;
	END IF;
	BEGIN
		NEW.score := pglearn.classify(model_name, NEW.url, NEW.title,
									  pglearn.article_text(NEW.description, NEW.body));
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS problem = MESSAGE_TEXT, problem_detail = PG_EXCEPTION_DETAIL;
		RAISE WARNING 'could not score % with model "%": %', NEW.url, model_name, problem
			USING DETAIL = coalesce(nullif(problem_detail, ''), 'The row is stored without a score.'),
				  HINT = 'The row is stored with a NULL score; fix the model and run pglearn.rescore().';
		NEW.score := NULL;
	END;
	RETURN NEW;
END
$$;

--
-- updated_at: when the article changed, not its score
--

-- 0.1 touched updated_at on every UPDATE, so each rescore set it on every
-- row whose score changed and "recently updated" meant "recently scored"
-- (and a rescore paid a plpgsql call per row).  The trigger now fires for
-- updates of the article's own columns; a column added to examples later
-- joins this list if its changes are the article's.
DROP TRIGGER examples_touch ON examples;
CREATE TRIGGER examples_touch
	BEFORE UPDATE OF id, url, label, title, description, og_description, og_type, og_image,
		favicon, body, final_url, http_status, fetch_error, error_count, created_at, fetched_at
	ON examples FOR EACH ROW EXECUTE FUNCTION examples_touch();
COMMENT ON FUNCTION examples_touch() IS
	'trigger: sets examples.updated_at when an update names one of the article''s own columns (not score)';

--
-- Rescoring never deadlocks with labelling
--

-- 0.2 updated a batch with UPDATE ... FROM, which locks rows in whatever
-- order the join yields them; a transaction labelling several rows (pglearn
-- add, annotate) locks them in its own order, and the two deadlocked, the
-- loser's whole batch rolled back.  A batch now never waits: it locks the
-- rows whose score changes in id order (SKIP LOCKED), writes a score only
-- into the row version it was computed from (a row changed since the
-- statement's snapshot is left for a retry, so a score is never written
-- over newer text), and returns the ids it could not take.
DROP FUNCTION _rescore_batch(text, int8, int4);
CREATE FUNCTION _rescore_batch(name text, after_id int8, batch_size int4, retry int8[] DEFAULT NULL,
							   OUT last_id int8, OUT changed int8, OUT skipped int8[], OUT replaced tid[])
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	batch int8[] := retry;
BEGIN
	IF pglearn._distributed() THEN	-- on Citus: one UPDATE per shard, on the workers
		SELECT d.last_id, d.changed, '{}', '{}' INTO last_id, changed, skipped, replaced
		  FROM pglearn._rescore_distributed(name, after_id, batch_size, retry) d;
		RETURN;
	END IF;
	IF batch IS NULL THEN
		SELECT array_agg(b.id ORDER BY b.id) INTO batch
		  FROM (SELECT e.id FROM pglearn.examples e WHERE e.id > after_id ORDER BY e.id LIMIT batch_size) b;
	END IF;
	changed := 0;
	skipped := '{}';
	replaced := '{}';
	IF cardinality(batch) IS NULL OR cardinality(batch) = 0 THEN
		RETURN;
	END IF;
	last_id := batch[cardinality(batch)];
	-- score without locks, then lock only the rows whose score changes (a
	-- rescore with an unchanged model writes nothing); a locked version
	-- other than the one scored (xmin differs) is left for the retry
	WITH scored AS (
		SELECT x.id, x.seen_xmin, x.p
		  FROM (SELECT e.id, e.xmin AS seen_xmin, e.score,
					   pglearn.classify(name, e.url, e.title, pglearn.article_text(e.description, e.body)) AS p
				  FROM pglearn.examples e WHERE e.id = ANY (batch)
				OFFSET 0) x		-- classify each row once
		 WHERE x.score IS DISTINCT FROM x.p
	), locked AS MATERIALIZED (	-- every lock taken before the update
		SELECT e.id, e.xmin AS locked_xmin, e.ctid AS locked_ctid
		  FROM pglearn.examples e JOIN scored s ON s.id = e.id
		 ORDER BY e.id
		   FOR NO KEY UPDATE OF e SKIP LOCKED
	), updated AS (
		UPDATE pglearn.examples e SET score = s.p
		  FROM scored s JOIN locked l ON l.id = s.id AND l.locked_xmin = s.seen_xmin
		 WHERE e.id = s.id
		RETURNING e.id
	)
	SELECT (SELECT count(*) FROM updated),
		   ARRAY(SELECT s.id FROM scored s
				  WHERE NOT EXISTS (SELECT FROM updated u WHERE u.id = s.id) ORDER BY s.id),
		   ARRAY(SELECT l.locked_ctid FROM locked l JOIN updated u ON u.id = l.id)
	  INTO changed, skipped, replaced;
END
$$;
COMMENT ON FUNCTION _rescore_batch(text, int8, int4, int8[]) IS
	'internal: rescores the next batch of examples by id (or the ids in retry) without waiting for row locks; returns the last id, how many scores changed, the ids it could not lock and the row versions it replaced';

-- The room a committed batch's old row versions leave, reusable by the next
-- batch (src/reclaim.c says why refresh() needs it).  Executable by every
-- role that may run refresh(): it changes no row, and it refuses callers
-- without UPDATE on the table.
CREATE FUNCTION _reclaim_pages(rel regclass, versions tid[]) RETURNS int8
	AS 'MODULE_PATHNAME', 'pglearn_reclaim_pages'
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION _reclaim_pages(regclass, tid[]) IS
	'internal: prunes the pages of these row versions of rel and records their free space in its free space map; returns how many pages it looked at';

-- Waits for one row's lock, then rescores it: for refresh(), which calls it
-- right after a COMMIT, holding no other lock, so the wait cannot deadlock.
CREATE FUNCTION _rescore_wait(name text, row_id int8) RETURNS int8
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
	PERFORM FROM pglearn.examples e WHERE e.id = row_id FOR NO KEY UPDATE;
	RETURN (pglearn._rescore_batch(name, NULL, NULL, ARRAY[row_id])).changed;
END
$$;
COMMENT ON FUNCTION _rescore_wait(text, int8) IS
	'internal: waits for the lock on one example, then rescores it; returns 1 if its score changed';

CREATE OR REPLACE FUNCTION rescore(name text DEFAULT NULL, batch_size int4 DEFAULT 10000) RETURNS int8
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	model_name text := (pglearn._live_model(name)).model_name;
	after_id int8 := 0;
	b record;
	total int8 := 0;
	skipped int8[] := '{}';
BEGIN
	PERFORM pglearn._check_k('batch_size', batch_size);
	LOOP
		b := pglearn._rescore_batch(model_name, after_id, batch_size);
		EXIT WHEN b.last_id IS NULL;
		total := total + b.changed;
		skipped := skipped || b.skipped;
		after_id := b.last_id;
	END LOOP;
	-- rows other transactions held get one more try; a function cannot wait
	-- for them safely, since it holds every row it has rescored
	IF cardinality(skipped) > 0 THEN
		b := pglearn._rescore_batch(model_name, NULL, NULL, skipped);
		total := total + b.changed;
		skipped := b.skipped;
	END IF;
	IF cardinality(skipped) > 0 THEN
		RAISE NOTICE 'rescore skipped rows held by other transactions: %', cardinality(skipped)
			USING DETAIL = 'Those rows keep their previous scores.',
				  HINT = 'Run rescore() again when those transactions have ended; CALL pglearn.refresh() waits for them.';
	END IF;
	RETURN total;
END
$$;
COMMENT ON FUNCTION rescore(text, int4) IS
	'sets examples.score of every row from the newest model of name (default pglearn.default_model), batch_size rows per statement, never waiting for row locks (rows other transactions hold are retried once, then reported); returns how many scores changed';

-- The articles uncertain() would offer next, rescored: pglearn annotate
-- calls this between labels, where a full rescore (every row) would keep
-- the person waiting for minutes at a million rows.  The k candidates are
-- chosen by their stored scores and rescored with the newest model of name;
-- uncertain(NULL, ...) then ranks them by their new scores.  Candidates
-- without a score (stored before any model existed, or whose scoring
-- failed) are in no ranking yet: up to k of them are scored too, found
-- through an index that holds only them.
CREATE INDEX examples_unscored_idx ON examples (id)
	WHERE score IS NULL AND (label IS NULL OR label = 0) AND fetch_error IS NULL
	  AND (title <> '' OR body <> '');
CREATE FUNCTION rescore_candidates(name text DEFAULT NULL, k int4 DEFAULT 1000, per_host int4 DEFAULT 3)
	RETURNS int8
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	model_name text := (pglearn._live_model(name)).model_name;
BEGIN
	PERFORM pglearn._check_k('k', k);
	RETURN (pglearn._rescore_batch(model_name, NULL, NULL,
		ARRAY(SELECT c.id
				FROM (SELECT u.id FROM pglearn.uncertain(NULL, k, per_host) u
					  UNION
					  SELECT n.id
						FROM (SELECT e.id FROM pglearn.examples e
							   WHERE e.score IS NULL AND (e.label IS NULL OR e.label = 0)
								 AND e.fetch_error IS NULL AND (e.title <> '' OR e.body <> '')
							   ORDER BY e.id LIMIT k) n) c
			   ORDER BY c.id))).changed;
END
$$;
COMMENT ON FUNCTION rescore_candidates(text, int4, int4) IS
	'rescores, with the newest model of name (default pglearn.default_model), the k articles uncertain(NULL, k, per_host) ranks first by their stored scores and up to k articles that have no score yet; returns how many scores changed';

-- A procedure that commits cannot have a SET clause, so this body names
-- everything in full: the functions it calls (pglearn.*, which fix their
-- own search_path), its operators (OPERATOR(pg_catalog.+)) and the types of
-- its variables (pg_catalog.int8), which plpgsql resolves on the caller's
-- path when it compiles the body.  t/hijack checks that nothing is left.
CREATE OR REPLACE PROCEDURE refresh(name text DEFAULT NULL, params jsonb DEFAULT '{}', batch_size int4 DEFAULT 10000)
	LANGUAGE plpgsql AS
$$
DECLARE
	-- plpgsql looks these type names up on the caller's path too
	model_name pg_catalog.text := coalesce(name, pglearn._default_model());
	metrics pg_catalog.jsonb;
	after_id pg_catalog.int8 := 0;
	b pg_catalog.record;
	total pg_catalog.int8 := 0;
	skipped pg_catalog.int8[] := '{}';
	row_id pg_catalog.int8;
BEGIN
	PERFORM pglearn._check_k('batch_size', batch_size);
	-- fit() raises on failure, so a failed fit never rescores
	metrics := pglearn.fit(model_name, 'pglearn.examples', params);
	COMMIT;
	LOOP
		b := pglearn._rescore_batch(model_name, after_id, batch_size);
		EXIT WHEN b.last_id IS NULL;
		total := total OPERATOR(pg_catalog.+) b.changed;
		skipped := skipped OPERATOR(pg_catalog.||) b.skipped;
		after_id := b.last_id;
		COMMIT;
		-- the versions this batch replaced are dead now: their room goes to
		-- the next batch instead of new pages at the end of the table
		PERFORM pglearn._reclaim_pages('pglearn.examples'::pg_catalog.regclass, b.replaced);
	END LOOP;
	-- rows other transactions held: one at a time, each in a transaction of
	-- its own, waiting for the lock while holding none
	FOREACH row_id IN ARRAY skipped LOOP
		total := total OPERATOR(pg_catalog.+) pglearn._rescore_wait(model_name, row_id);
		COMMIT;
	END LOOP;
	RAISE NOTICE 'refresh: model "%" fitted on % rows (f1 %, accuracy %), % scores changed',
		model_name, metrics OPERATOR(pg_catalog.->) 'n', metrics OPERATOR(pg_catalog.->) 'f1',
		metrics OPERATOR(pg_catalog.->) 'accuracy', total;
END
$$;
COMMENT ON PROCEDURE refresh(text, jsonb, int4) IS
	'the scheduled job: fit the model (default pglearn.default_model) on pglearn.examples, commit, then rescore in batches, committing each, and finally the rows other transactions held, waiting for each; CALL outside a transaction block';

--
-- recommend() from an index, and 10 k candidates in int8
--

-- The articles a list may recommend, best first: scored above min_score,
-- not labelled -1, no failed fetch or non-2xx status, something to read,
-- created in the last days days (NULL: any time), and matching the list's
-- patterns and og:type.  A SQL-standard body: bound here, and inlined into
-- the query of _recommend_stored(), which walks examples_recommend_idx.
CREATE FUNCTION _recommend_candidates(min_score float8, days int4, url_pattern text,
									  exclude_pattern text, og_type text)
	RETURNS TABLE (id int8, url text, title text, final_key text, title_key text, host text,
				   score float8)
	LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT e.id, e.url, e.title, coalesce(e.final_url, e.url),
		   coalesce(nullif(btrim(e.title), ''), coalesce(e.final_url, e.url)),
		   pglearn.url_host(coalesce(e.final_url, e.url)), e.score
	  FROM pglearn.examples e
	 WHERE e.score > _recommend_candidates.min_score
	   AND e.label IS DISTINCT FROM -1 AND e.fetch_error IS NULL
	   AND (e.http_status IS NULL OR e.http_status BETWEEN 200 AND 299)
	   AND (e.title <> '' OR e.body <> '')
	   AND (_recommend_candidates.days IS NULL
			OR e.created_at >= now() - make_interval(days => _recommend_candidates.days))
	   AND coalesce(e.final_url, e.url) ~* _recommend_candidates.url_pattern
	   AND (_recommend_candidates.exclude_pattern IS NULL
			OR coalesce(e.final_url, e.url) !~* _recommend_candidates.exclude_pattern)
	   AND (_recommend_candidates.og_type IS NULL OR e.og_type = _recommend_candidates.og_type)
	 ORDER BY e.score DESC, e.url;
END;
COMMENT ON FUNCTION _recommend_candidates(float8, int4, text, text, text) IS
	'internal: the articles recommend() may take for a list, best score first, with their de-duplication keys';

CREATE INDEX examples_recommend_idx ON examples (score DESC, url)
	WHERE label IS DISTINCT FROM -1 AND fetch_error IS NULL
	  AND (http_status IS NULL OR http_status BETWEEN 200 AND 299)
	  AND (title <> '' OR body <> '');

CREATE FUNCTION _recommend_stored(min_score float8, days int4, url_pattern text,
								  exclude_pattern text, og_type text, unique_by_host bool,
								  OUT rank int8, OUT id int8, OUT url text, OUT title text,
								  OUT host text, OUT score float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'pglearn_recommend_stored'
	LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 100;
COMMENT ON FUNCTION _recommend_stored(float8, int4, text, text, text, bool) IS
	'internal: _recommend_candidates in rank order, one row per final URL, then per title, one per host if unique_by_host, one row per call so a LIMIT above it ends the walk';

-- recommend()'s diversity: greedy maximal marginal relevance, in C
CREATE FUNCTION _diverse_order(scores float8[], vectors fvec[], k int4, diverse float8) RETURNS int4[]
	AS 'MODULE_PATHNAME', 'pglearn_diverse_order'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION _diverse_order(float8[], fvec[], int4, float8) IS
	'internal: the 1-based positions of the min(k, n) candidates greedy maximal marginal relevance takes, in order: each the best (1 - diverse) * score - diverse * (its largest cosine with those taken)';

-- recommend() takes its candidates from _recommend_stored() (the windows of
-- 0.1 ranked every matching row first), and computes its pool of 10 k in
-- int8 (k => 2147483647 with diverse => 0.5 failed with "integer out of
-- range"), and orders them for diversity in C.  Otherwise as in 0.1.
CREATE OR REPLACE FUNCTION recommend(list text DEFAULT 'general', k int4 DEFAULT 10, days int4 DEFAULT 2,
						  min_score float8 DEFAULT 0.5, unique_by_host bool DEFAULT false,
						  diverse float8 DEFAULT 0)
	RETURNS TABLE (rank int8, id int8, url text, final_url text, title text, host text,
				   score float8, created_at timestamptz)
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	l pglearn.lists;
	pool int4;
	ids int8[];
	scores float8[];
	vectors pglearn.fvec[];
	chosen int4[] := '{}';
	n int4;
BEGIN
	SELECT * INTO l FROM pglearn.lists WHERE name = list;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'recommendation list "%" does not exist', list
			USING ERRCODE = 'undefined_object',
				  HINT = 'Lists are: ' || (SELECT string_agg(name, ', ' ORDER BY name) FROM pglearn.lists) || '.';
	END IF;
	PERFORM pglearn._check_k('k', k);
	PERFORM pglearn._check_k('days', days, true);
	IF diverse IS NULL OR diverse < 0 OR diverse > 1 THEN
		RAISE EXCEPTION 'diverse must be between 0 and 1, got %', coalesce(diverse::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = '0 ranks by score alone; larger values trade score for variety.';
	END IF;

	-- candidates, best first; diversity picks from the best 10 k of them
	-- (computed in int8: 10 k overflows int4 for k above 214748364)
	pool := CASE WHEN diverse > 0 THEN least(10::int8 * k, 2147483647) ELSE k END;
	SELECT array_agg(c.id ORDER BY c.rank), array_agg(c.score ORDER BY c.rank)
	  INTO ids, scores
	  FROM (SELECT (r.c).rank, (r.c).id, (r.c).score
			  FROM (SELECT pglearn._recommend_stored(min_score, days, l.url_pattern, l.exclude_pattern,
													 l.og_type, unique_by_host) AS c) r
			 LIMIT pool) c;
	n := coalesce(array_length(ids, 1), 0);

	IF diverse > 0 AND n > 0 THEN
		-- greedy maximal marginal relevance over the candidates' title and
		-- body features (src/diversity.c)
		SELECT array_agg(pglearn.features(NULL, e.title, pglearn.article_text(e.description, e.body)) ORDER BY o.n)
		  INTO vectors
		  FROM unnest(ids) WITH ORDINALITY AS o(id, n) JOIN pglearn.examples e ON e.id = o.id;
		chosen := pglearn._diverse_order(scores, vectors, k, diverse);
	ELSE
		SELECT coalesce(array_agg(g), '{}') INTO chosen FROM generate_series(1, least(k, n)) g;
	END IF;

	RETURN QUERY
	SELECT o.n, e.id, e.url, e.final_url, e.title, pglearn.url_host(coalesce(e.final_url, e.url)),
		   e.score, e.created_at
	  FROM unnest(chosen) WITH ORDINALITY AS o(i, n)
	  JOIN pglearn.examples e ON e.id = ids[o.i]
	 ORDER BY o.n;
END
$$;

--
-- Reports in one index scan: each row's host and crawl state, stored
--

-- label_stats and crawl_status grouped a million rows by a regular
-- expression over each URL (7 s); the host and the crawl state are now
-- computed once when a row is written, and indexes hold what the reports
-- read, so they are index-only scans (once VACUUM has set the visibility
-- map: README "Scale").  crawl_state is where
-- "gave up" (5 failed fetches in a row) is defined; crawl_status and the
-- crawler read it from here.  Adding stored columns rewrites the table
-- once, during ALTER EXTENSION UPDATE.
ALTER TABLE examples
	ADD COLUMN host text GENERATED ALWAYS AS (pglearn.url_host(coalesce(final_url, url))) STORED,
	ADD COLUMN crawl_state text GENERATED ALWAYS AS (
		CASE WHEN fetch_error IS NOT NULL AND error_count >= 5 THEN 'gave up'
			 WHEN fetch_error IS NOT NULL THEN 'failing'
			 WHEN fetched_at IS NOT NULL THEN 'fetched'
			 ELSE 'not fetched' END) STORED;
COMMENT ON COLUMN examples.host IS
	'url_host(coalesce(final_url, url)): the host reports and rankings group by (generated)';
COMMENT ON COLUMN examples.crawl_state IS
	'fetched, failing, gave up (after 5 failed fetches in a row) or not fetched (generated)';
-- one index per report, each read in its own order (a single wider index
-- lost to a sequential scan with hashing, 4x slower)
CREATE INDEX examples_host_label_idx ON examples (host, label);
CREATE INDEX examples_crawl_state_idx ON examples (crawl_state, host);

-- Same columns and rows as 0.1's; the counts are taken per (host, label)
-- in index order and summed, which is cheaper than counting with filters
-- row by row.
CREATE OR REPLACE VIEW label_stats AS
	WITH per_label AS (
		SELECT e.host, e.label, count(*) AS n FROM pglearn.examples e GROUP BY e.host, e.label
	)
	SELECT CASE WHEN grouping(host) = 1 THEN '(all)' ELSE coalesce(host, '(none)') END AS host,
		   coalesce(sum(n) FILTER (WHERE label = 1), 0)::int8 AS positive,
		   coalesce(sum(n) FILTER (WHERE label = -1), 0)::int8 AS negative,
		   coalesce(sum(n) FILTER (WHERE label IS NULL OR label = 0), 0)::int8 AS unlabelled,
		   coalesce(sum(n), 0)::int8 AS total
	  FROM per_label
	 GROUP BY GROUPING SETS ((), (host))
	 ORDER BY grouping(host) DESC, sum(n) DESC, 1;

-- One index range per state, grouped by host alone; newest and oldest fetch
-- from examples_fetched_at_idx (a row not fetched has none, by definition).
-- The index holds two low-cardinality keys and deduplicates to a few bytes
-- a row (with fetched_at included it could not, and was 20 times larger).
CREATE OR REPLACE VIEW crawl_status AS
	SELECT s.state, h.rows, h.hosts,
		   CASE WHEN s.state <> 'not fetched' THEN
				(SELECT max(e.fetched_at) FROM pglearn.examples e WHERE e.crawl_state = s.state) END AS newest_fetch,
		   CASE WHEN s.state <> 'not fetched' THEN
				(SELECT min(e.fetched_at) FROM pglearn.examples e WHERE e.crawl_state = s.state) END AS oldest_fetch,
		   h.top_hosts
	  FROM unnest(ARRAY['fetched', 'failing', 'gave up', 'not fetched']) WITH ORDINALITY AS s(state, ord),
		   LATERAL (SELECT sum(g.n)::int8 AS rows, count(g.host) AS hosts,
						   (array_agg(format('%s (%s)', coalesce(g.host, '(none)'), g.n)
									  ORDER BY g.n DESC, g.host))[1:5] AS top_hosts
					  FROM (SELECT e.host, count(*) AS n FROM pglearn.examples e
							 WHERE e.crawl_state = s.state GROUP BY e.host) g) h
	 WHERE h.rows IS NOT NULL
	 ORDER BY s.ord;

--
-- uncertain() and to_label from an index, at the caller's LIMIT
--

-- The candidates of margin sampling with their ranking keys: unlabelled,
-- no failed fetch, something to read, a stored score, and not a duplicate of
-- a labelled row (its url or final_url is a labelled row's url or
-- final_url, or its trimmed title a labelled row's).  Each duplicate test
-- is an index probe, so a candidate costs the same however many rows are
-- labelled.
CREATE VIEW _uncertain_candidates AS
	SELECT e.id, e.url, e.title, coalesce(e.final_url, e.url) AS final_key,
		   coalesce(nullif(btrim(e.title), ''), coalesce(e.final_url, e.url)) AS title_key,
		   pglearn.url_host(coalesce(e.final_url, e.url)) AS host, e.score,
		   abs(e.score - 0.5) AS distance
	  FROM pglearn.examples e
	 WHERE (e.label IS NULL OR e.label = 0) AND e.fetch_error IS NULL
	   AND (e.title <> '' OR e.body <> '') AND e.score IS NOT NULL
	   AND NOT EXISTS (SELECT FROM pglearn.examples l
					   WHERE l.url IN (e.url, e.final_url) AND l.label IN (-1, 1))
	   AND NOT EXISTS (SELECT FROM pglearn.examples l
					   WHERE l.final_url IN (e.url, e.final_url) AND l.label IN (-1, 1))
	   AND NOT EXISTS (SELECT FROM pglearn.examples l
					   WHERE btrim(l.title) = btrim(e.title) AND btrim(e.title) <> ''
						 AND l.label IN (-1, 1));
COMMENT ON VIEW _uncertain_candidates IS
	'internal: the unlabelled articles uncertain() ranks by stored score, with their de-duplication keys and distance from 0.5';

-- The candidates in rank order; the predicate is the view's, so the planner
-- walks this index for ORDER BY distance, url.  Scores are indexed now, so
-- a rescore's updates are no longer HOT (README "Scale" says what that
-- costs and which autovacuum settings keep the table from growing).
CREATE INDEX examples_uncertain_idx ON examples ((abs(score - 0.5)), url)
	WHERE (label IS NULL OR label = 0) AND fetch_error IS NULL
	  AND (title <> '' OR body <> '') AND score IS NOT NULL;
-- labelled titles, for the duplicate test (small: labelled rows only)
CREATE INDEX examples_labelled_title_idx ON examples (btrim(title)) WHERE label IN (-1, 1);

CREATE FUNCTION _uncertain_stored(per_host int4,
								  OUT rank int8, OUT id int8, OUT url text, OUT title text,
								  OUT host text, OUT score float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'pglearn_uncertain_stored'
	LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 100;
COMMENT ON FUNCTION _uncertain_stored(int4) IS
	'internal: _uncertain_candidates in rank order, one row per final URL, then per title, the first per_host of each host before the other rows of any host (NULL: no preference), one row per call so a LIMIT above it ends the walk';

-- With stored scores (model_name NULL) the rows come from
-- _uncertain_stored(), called in the target list so that LIMIT k stops it
-- after k rows.  With a model the rows are scored live, so every candidate
-- is scored and ranked: that path is unchanged from 0.1.
CREATE OR REPLACE FUNCTION uncertain(model_name text DEFAULT NULL, k int4 DEFAULT 10, per_host int4 DEFAULT 3)
	RETURNS TABLE (rank int8, id int8, url text, title text, host text, score float8)
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	live_model pglearn.model;
	hash_bits int4;
	use_binary bool;
BEGIN
	PERFORM pglearn._check_k('k', k, true);
	PERFORM pglearn._check_k('per_host', per_host, true);
	IF model_name IS NULL THEN
		RETURN QUERY
		SELECT (u.c).rank, (u.c).id, (u.c).url, (u.c).title, (u.c).host, (u.c).score
		  FROM (SELECT pglearn._uncertain_stored(per_host) AS c) u
		 LIMIT k;
		RETURN;
	END IF;
	SELECT l.model, l.hash_bits, l."binary" INTO live_model, hash_bits, use_binary
	  FROM pglearn._live_model(model_name) l;
	RETURN QUERY
	WITH labelled AS (
		SELECT e.url AS key FROM pglearn.examples e WHERE e.label IN (-1, 1)
		UNION SELECT e.final_url FROM pglearn.examples e WHERE e.label IN (-1, 1) AND e.final_url IS NOT NULL
	), labelled_titles AS (
		SELECT DISTINCT btrim(e.title) AS title FROM pglearn.examples e
		 WHERE e.label IN (-1, 1) AND btrim(e.title) <> ''
	), candidates AS MATERIALIZED (		-- score each row once
		SELECT e.id, e.url, e.title, coalesce(e.final_url, e.url) AS final_url,
			   nullif(btrim(e.title), '') AS title_key,
			   pglearn.url_host(coalesce(e.final_url, e.url)) AS host,
			   pglearn.classify(live_model, pglearn.features(e.url, e.title,
				   pglearn.article_text(e.description, e.body), hash_bits, use_binary)) AS p
		  FROM pglearn.examples e
		 WHERE (e.label IS NULL OR e.label = 0) AND e.fetch_error IS NULL
		   AND (e.title <> '' OR e.body <> '')		-- something to read
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
	-- a host's rows beyond per_host come after every other row (ranking.c)
	SELECT row_number() OVER (ORDER BY (h.n3 > per_host) IS TRUE, abs(h.p - 0.5), h.url),
		   h.id, h.url, h.title, h.host, h.p
	  FROM by_host h
	 ORDER BY (h.n3 > per_host) IS TRUE, abs(h.p - 0.5), h.url
	 LIMIT k;
END
$$;

-- The view takes the caller's LIMIT: _uncertain_stored() in a target list
-- is called once per row asked for.
CREATE OR REPLACE VIEW to_label AS
	SELECT (u.c).rank, (u.c).id, (u.c).url, (u.c).title, (u.c).host, (u.c).score
	  FROM (SELECT pglearn._uncertain_stored(3) AS c) u;

--
-- The crawler's write rules, owned here
--

-- pglearn crawl and pglearn add held these rules as SQL strings of their
-- own (crawler/store.c), and specs/crawl_label.spec raced a copy of them.
-- Now the command calls these functions and the spec races them.  The
-- crawl states are examples.crawl_state's, so "gave up" (5 failed fetches
-- in a row) is defined once, there.  SQL-standard bodies: every name is
-- bound when the extension script runs, whatever the caller's search_path.

-- A successful fetch replaces every fetched column and clears the error
-- count; it never names the label, so a label given meanwhile stays.
CREATE FUNCTION record_fetch(url text, title text, description text, og_description text,
							 og_type text, og_image text, favicon text, body text,
							 final_url text, http_status int4)
	RETURNS void
	LANGUAGE sql VOLATILE PARALLEL UNSAFE
BEGIN ATOMIC
	INSERT INTO pglearn.examples AS e
		(url, title, description, og_description, og_type, og_image, favicon, body,
		 final_url, http_status, fetch_error, error_count, fetched_at)
	VALUES (record_fetch.url, record_fetch.title, record_fetch.description, record_fetch.og_description,
			record_fetch.og_type, record_fetch.og_image, record_fetch.favicon, record_fetch.body,
			record_fetch.final_url, record_fetch.http_status, NULL, 0, now())
	ON CONFLICT (url) DO UPDATE SET
		title = EXCLUDED.title, description = EXCLUDED.description,
		og_description = EXCLUDED.og_description, og_type = EXCLUDED.og_type,
		og_image = EXCLUDED.og_image, favicon = EXCLUDED.favicon,
		body = EXCLUDED.body, final_url = EXCLUDED.final_url,
		http_status = EXCLUDED.http_status, fetch_error = NULL, error_count = 0,
		fetched_at = EXCLUDED.fetched_at;
END;
COMMENT ON FUNCTION record_fetch(text, text, text, text, text, text, text, text, text, int4) IS
	'the crawler''s write of a successful fetch: inserts the article or replaces its fetched columns and clears fetch_error and error_count; never changes the label';

-- A failed fetch counts the error; it replaces the stored status, error and
-- time only when the row has no good fetch, so a transient failure never
-- wipes good content.
CREATE FUNCTION record_fetch_error(url text, http_status int4, fetch_error text)
	RETURNS void
	LANGUAGE sql VOLATILE PARALLEL UNSAFE
BEGIN ATOMIC
	INSERT INTO pglearn.examples AS e (url, http_status, fetch_error, error_count, fetched_at)
	VALUES (record_fetch_error.url, record_fetch_error.http_status, record_fetch_error.fetch_error, 1, now())
	ON CONFLICT (url) DO UPDATE SET
		http_status = CASE WHEN e.crawl_state = 'fetched' THEN e.http_status ELSE EXCLUDED.http_status END,
		fetch_error = CASE WHEN e.crawl_state = 'fetched' THEN NULL ELSE EXCLUDED.fetch_error END,
		fetched_at = CASE WHEN e.crawl_state = 'fetched' THEN e.fetched_at ELSE EXCLUDED.fetched_at END,
		error_count = e.error_count + 1;
END;
COMMENT ON FUNCTION record_fetch_error(text, int4, text) IS
	'the crawler''s write of a failed fetch: counts the error, and records the status and error only when the article has no good fetch; never changes the label';

-- pglearn add: a new URL with its label (or none), or a new label (1 or -1)
-- for a stored one; true if inserted, false if relabelled, NULL if nothing
-- changed (the label was the same, or 0/NULL for a stored URL, which add
-- never uses to clear a label).
CREATE FUNCTION add(url text, label int4 DEFAULT NULL)
	RETURNS bool
	LANGUAGE sql VOLATILE PARALLEL UNSAFE
BEGIN ATOMIC
	INSERT INTO pglearn.examples AS e (url, label) VALUES (add.url, add.label)
	ON CONFLICT (url) DO UPDATE SET label = EXCLUDED.label
		WHERE EXCLUDED.label IN (-1, 1) AND e.label IS DISTINCT FROM EXCLUDED.label
	RETURNING (e.xmax = 0);
END;
COMMENT ON FUNCTION add(text, int4) IS
	'pglearn add''s write: inserts the URL with its label, or sets a stored URL''s label to 1 or -1; true if inserted, false if relabelled, NULL if nothing changed';

-- The URLs a crawl fetches: those never fetched or failing (pending), and
-- (stale_days >= 0) those fetched more than stale_days days ago; never one
-- the crawler gave up on.  By id, the order they were stored in.
CREATE FUNCTION urls_to_fetch(pending bool, stale_days int4 DEFAULT -1)
	RETURNS TABLE (id int8, url text)
	LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT e.id, e.url FROM pglearn.examples e
	 WHERE e.crawl_state <> 'gave up'
	   AND ((urls_to_fetch.pending AND e.crawl_state IN ('not fetched', 'failing'))
			OR (urls_to_fetch.stale_days >= 0
				AND e.fetched_at < now() - make_interval(days => urls_to_fetch.stale_days)))
	 ORDER BY e.id;
END;
COMMENT ON FUNCTION urls_to_fetch(bool, int4) IS
	'the stored URLs a crawl fetches: not fetched or failing (pending), and those fetched more than stale_days days ago (stale_days >= 0); never one given up on; by id';

-- Of these URLs, those a crawl need not fetch again: fetched, or given up.
CREATE FUNCTION known_urls(urls text[])
	RETURNS SETOF text
	LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
	SELECT e.url FROM pglearn.examples e
	 WHERE e.url = ANY (known_urls.urls) AND e.crawl_state IN ('fetched', 'gave up');
END;
COMMENT ON FUNCTION known_urls(text[]) IS
	'of the given URLs, those stored and fetched or given up on: a crawl from a feed skips them';

-- Does pglearn add --fetch need to fetch this URL (stored, not fetched or
-- failing)?
CREATE FUNCTION needs_fetch(url text)
	RETURNS bool
	LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
	SELECT EXISTS (SELECT FROM pglearn.examples e
					WHERE e.url = needs_fetch.url AND e.crawl_state IN ('not fetched', 'failing'));
END;
COMMENT ON FUNCTION needs_fetch(text) IS
	'true if the URL is stored and not fetched yet or failing (not given up): pglearn add fetches it';

--
-- Publication members: one composite type for SQL and C
--

-- publish() built each member as a jsonb object whose keys src/redis_publish.c
-- took apart by name, so a key renamed on one side published empty strings.
-- A member is now a row of this type: publish() makes it, the C reads its
-- fields by name, and a renamed field is an error on both sides.
CREATE TYPE publication_member AS (
	id			int8,
	url			text,
	final_url	text,
	title		text,
	description	text,
	og_image	text,
	score		float8,
	label		int4
);
COMMENT ON TYPE publication_member IS
	'one member of a published recommendation list, as publish() records it in publications.members and Redis receives it';

-- (the conversion of the stored members; ALTER ... USING takes no subquery.
-- Not a pg_temp function: Citus runs this script on its workers in a
-- prepared transaction, which cannot have touched temporary objects.)
CREATE FUNCTION pglearn._members_of(members jsonb) RETURNS publication_member[]
	LANGUAGE sql IMMUTABLE STRICT
	RETURN ARRAY(SELECT pg_catalog.jsonb_populate_record(NULL::pglearn.publication_member, m)
				   FROM pg_catalog.jsonb_array_elements(members) WITH ORDINALITY AS x(m, n) ORDER BY n);
DROP VIEW publish_status;
ALTER TABLE publications ALTER COLUMN members TYPE publication_member[]
	USING pglearn._members_of(members);
DROP FUNCTION pglearn._members_of(jsonb);
COMMENT ON COLUMN publications.members IS
	'the members of the last publish(), best first';

CREATE VIEW publish_status AS
	WITH v AS (
		SELECT * FROM pglearn._redis_versions(ARRAY(SELECT list FROM pglearn.publications))
	)
	SELECT p.list, p.version, p.requested_at, v.redis_version,
		   v.redis_version IS NULL OR v.redis_version < p.version AS stale,
		   coalesce(v.error, CASE WHEN v.redis_version IS NULL OR v.redis_version < p.version
								  THEN p.last_error END) AS error,
		   pg_catalog.cardinality(p.members) AS members, p.published_version, p.published_at
	  FROM pglearn.publications p LEFT JOIN v ON v.list = p.list
	 ORDER BY p.list;
COMMENT ON VIEW publish_status IS
	'every published list: the version recorded in the database against the one Redis holds; stale if Redis is behind (or unreachable: see error)';

CREATE OR REPLACE FUNCTION publish(list text, k int4 DEFAULT 100) RETURNS int4
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp AS
$$
#variable_conflict use_variable
DECLARE
	v int8;
BEGIN
	PERFORM pglearn._local_only('publish()');	-- it publishes recommend()'s list
	PERFORM pglearn._redis_check();
	-- The version is taken in DO UPDATE, after the row lock: of two
	-- publishers of one list, the one that commits later gets the higher
	-- version.  Microseconds since the epoch (and above the last version),
	-- so a recreated database still outbids what an older one left in Redis.
	WITH r AS (
		SELECT r.rank, r.id, r.url, r.final_url, r.title, e.description, e.og_image, r.score, e.label
		  FROM pglearn.recommend(list, k) r JOIN pglearn.examples e ON e.id = r.id
	)
	INSERT INTO pglearn.publications AS p (list, k, version, members, requested_at)
	SELECT list, k, (extract(epoch FROM clock_timestamp()) * 1000000)::int8,
		   ARRAY(SELECT ROW(r.id, r.url, r.final_url, r.title, r.description, r.og_image, r.score,
							r.label)::pglearn.publication_member
				   FROM r ORDER BY r.rank),
		   now()
	ON CONFLICT ON CONSTRAINT publications_pkey DO UPDATE
	   SET version = greatest(p.version + 1, (extract(epoch FROM clock_timestamp()) * 1000000)::int8),
		   k = EXCLUDED.k, members = EXCLUDED.members, requested_at = EXCLUDED.requested_at
	RETURNING p.version INTO v;
	RETURN pglearn._redis_queue(list, v);
END
$$;

--
-- Least privilege
--

-- Functions that change data or reach Redis are executable only by roles
-- granted them (README "Security" has the reader / labeller / admin
-- recipe).  Reading functions stay PUBLIC: they still need SELECT on the
-- tables, which nobody has by default.
REVOKE EXECUTE ON FUNCTION label(text, int4) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION fit(text, regclass, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION rescore(text, int4) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION rescore_candidates(text, int4, int4) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION record_fetch(text, text, text, text, text, text, text, text, text, int4) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION record_fetch_error(text, int4, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION add(text, int4) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION _rescore_batch(text, int8, int4, int8[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION _rescore_wait(text, int8) FROM PUBLIC;
REVOKE EXECUTE ON PROCEDURE refresh(text, jsonb, int4) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION publish(text, int4) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION publish_pending() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION _redis_check() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION _redis_queue(text, int8) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION _redis_push(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION _redis_versions(text[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION published(text) FROM PUBLIC;

-- BEGIN similar (src/similar.c; helper-owned section)

--
-- similar() through an index of the articles' features
--

-- 0.1's similar() computed features() for every stored article, 30 us
-- each: half a minute at a million rows.  examples_similar_idx lists, for
-- each hashed feature, the articles that have it and roughly with what
-- weight; _similar_ranked() reads the target's features from the rarest
-- on, bounds the cosine of every article found (and of those not found
-- yet) by what they can still share with the target, and scores only the
-- articles whose bound could still rank (src/similar.c has the argument).
-- The ranking is exactly 0.1's, ties by URL included.  The index costs a
-- features() and some 70 GIN keys per inserted or re-fetched article;
-- building it, one features() per stored article.

CREATE FUNCTION fvec_keys(fvec) RETURNS int8[]
	AS 'MODULE_PATHNAME', 'pglearn_fvec_keys'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fvec_keys(fvec) IS
	'GIN keys of a feature vector, in index order: index * 4 + the octave of its value (0: above 1/2, 1: above 1/4, 2: above 1/8, 3: at most 1/8)';

-- the vector similar() ranks by: default hash_bits, not binary
CREATE INDEX examples_similar_idx ON examples
	USING gin (pglearn.fvec_keys(pglearn.features(NULL, title, pglearn.article_text(description, body))));

CREATE FUNCTION _similar_ranked(target_id int8, final_key text, target fvec, k int4)
	RETURNS TABLE (id int8, url text, title text, label int4, score float8, similarity float8)
	AS 'MODULE_PATHNAME', 'pglearn_similar_ranked'
	LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION _similar_ranked(int8, text, fvec, int4) IS
	'internal: the k examples other than target_id and final URL final_key with the highest cosine of their title and body features with target (above 0), best first, ties by URL; through examples_similar_idx, or a full scan where it cannot be used';

CREATE OR REPLACE FUNCTION similar(article_url text, k int4 DEFAULT 10)
	RETURNS TABLE (id int8, url text, title text, label int4, score float8, similarity float8)
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	target record;
BEGIN
	PERFORM pglearn._check_k('k', k);
	SELECT e.id, coalesce(e.final_url, e.url) AS final_key, e.title, e.description, e.body INTO target
	  FROM pglearn.examples e WHERE e.url = article_url;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no article with URL %', quote_literal(article_url)
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN QUERY
	SELECT s.id, s.url, s.title, s.label, s.score, s.similarity
	  FROM pglearn._similar_ranked(target.id, target.final_key,
			   pglearn.features(NULL, target.title, pglearn.article_text(target.description, target.body)),
			   k) s;
END
$$;
COMMENT ON FUNCTION similar(text, int4) IS
	'the k stored articles nearest to a stored article by cosine similarity of title and body features, best first, ties by URL (through examples_similar_idx)';

-- END similar

-- BEGIN redis status (src/redis.c; helper-owned section)

-- For monitoring (pglearn check): does Redis answer PING, over the very
-- connection code publish() uses?  A C function reads pglearn.redis_url
-- and the password file itself, so a monitoring role needs neither the
-- setting nor the password.  No arguments, so STRICT would mean nothing.
CREATE FUNCTION pglearn.redis_status(OUT configured bool, OUT ok bool,
									 OUT latency_ms float8, OUT detail text)
	RETURNS record
	AS 'MODULE_PATHNAME', 'pglearn_redis_status'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION pglearn.redis_status() IS
	'whether Redis answers PING with the server''s pglearn.redis_* settings: configured (pglearn.redis_url is set), ok, latency_ms (connect to PING reply), detail (host:port or socket and what happened; never the password)';
REVOKE ALL ON FUNCTION pglearn.redis_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pglearn.redis_status() TO pg_monitor;

-- END redis status

-- BEGIN model format 2 (src/model.c, src/classify.c; helper-owned section)

--
-- The model describes itself
--

-- A model records the feature settings it was trained with (model format
-- 2): features()' hash_bits and binary, and which texts of an article went
-- into it ("fields": the url, the title, and the description and body
-- joined by article_text()).  Every function that scores an article under
-- a model by name computes its features with the model's own settings;
-- pglearn.models.params keeps what fit() was asked, for reading, and no
-- longer decides how a model is scored (0.2's classify(name, ...) read
-- hash_bits and binary out of it, and _live_model() and label_conflicts
-- each again, with the default 20 written out in each).  The defaults have
-- one definition, src/feature_settings.h; SQL reads it through
-- feature_settings().

CREATE FUNCTION feature_settings(OUT hash_bits int4, OUT "binary" bool, OUT fields text)
	RETURNS record
	AS 'MODULE_PATHNAME', 'pglearn_feature_settings_default'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION feature_settings() IS
	'the feature settings fit() records unless its params say otherwise: features()'' default hash_bits and binary, and the fields of an article they are computed from';

CREATE FUNCTION feature_settings(model, OUT hash_bits int4, OUT "binary" bool, OUT fields text)
	RETURNS record
	AS 'MODULE_PATHNAME', 'pglearn_model_feature_settings'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION feature_settings(model) IS
	'the feature settings a model was trained with, which scoring it by name uses (a format-1 model records none: the defaults)';

CREATE FUNCTION model_upgrade(model, hash_bits int4, "binary" bool) RETURNS model
	AS 'MODULE_PATHNAME', 'pglearn_model_upgrade'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION model_upgrade(model, int4, bool) IS
	'a format-1 model as format 2, recording that it was trained on features(url, title, article_text(description, body), hash_bits, binary); a format-2 model unchanged';

-- The newest model of a name, NULL if there is none: the one definition of
-- "the live model", for C (classify(name, ...)) and SQL (_live_model(),
-- label_conflicts) alike.  In C, so that the library scores by name in a
-- database not yet updated to its version (src/classify.c).
CREATE FUNCTION _newest_model(name text) RETURNS model
	AS 'MODULE_PATHNAME', 'pglearn_newest_model'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION _newest_model(text) IS
	'internal: the newest model stored under a name (the live one), NULL if there is none';

-- Same columns as 0.1's; the settings come from the model.
CREATE OR REPLACE FUNCTION _live_model(name text, OUT model_name text, OUT model model, OUT hash_bits int4, OUT "binary" bool)
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
	model_name := coalesce(name, pglearn._default_model());
	IF model_name = '' THEN
		RAISE EXCEPTION 'no model name given and pglearn.default_model is empty'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass a model name or SET pglearn.default_model.';
	END IF;
	model := pglearn._newest_model(model_name);
	IF model IS NULL THEN
		RAISE EXCEPTION 'model "%" does not exist', model_name
			USING ERRCODE = 'undefined_object',
				  HINT = format('Train it with SELECT pglearn.fit(%L); existing models are listed in pglearn.models.', model_name);
	END IF;
	SELECT s.hash_bits, s."binary" INTO hash_bits, "binary" FROM pglearn.feature_settings(model) s;
END
$$;
COMMENT ON FUNCTION _live_model(text) IS
	'internal: newest model of a name (NULL: pglearn.default_model) with the hash_bits and binary settings it records';

CREATE OR REPLACE VIEW label_conflicts AS
	WITH live AS (
		SELECT l.model, s.hash_bits, s."binary"
		  FROM (SELECT pglearn._newest_model(pglearn._default_model()) AS model) l
		 CROSS JOIN LATERAL pglearn.feature_settings(l.model) s
		 WHERE l.model IS NOT NULL
	), scored AS (
		SELECT e.id, e.url, e.title, e.label, pglearn.score(live.model, x.f) AS margin,
			   pglearn.classify(live.model, x.f) AS p
		  FROM live CROSS JOIN pglearn.examples e
		 CROSS JOIN LATERAL (SELECT pglearn.features(e.url, e.title, pglearn.article_text(e.description, e.body),
													 live.hash_bits, live."binary") AS f OFFSET 0) x
		 WHERE e.label IN (-1, 1)
	)
	SELECT id, url, title, label, p AS score, margin
	  FROM scored
	 WHERE (margin >= 0) <> (label = 1)
	 ORDER BY abs(margin) DESC, url;

-- hash_bits and binary as the model records them (0.1 showed params')
CREATE OR REPLACE VIEW model_summary AS
	SELECT m.name, m.id,
		   row_number() OVER (PARTITION BY m.name ORDER BY m.created_at DESC, m.id DESC) = 1 AS live,
		   m.created_at AS trained_at,
		   (i->>'n_pos')::int4 + (i->>'n_neg')::int4 AS rows,
		   (i->>'n_pos')::int4 AS n_pos, (i->>'n_neg')::int4 AS n_neg,
		   i->>'solver' AS solver, (i->>'C')::float8 AS c,
		   (m.metrics->>'k')::int4 AS k,
		   (m.metrics->>'accuracy')::float8 AS accuracy, (m.metrics->>'precision')::float8 AS precision,
		   (m.metrics->>'recall')::float8 AS recall, (m.metrics->>'f1')::float8 AS f1,
		   (m.metrics->>'roc_auc')::float8 AS roc_auc, (m.metrics->>'log_loss')::float8 AS log_loss,
		   (i->>'nnz')::int4 AS weights,
		   s.hash_bits, s."binary",
		   (m.metrics->>'fit_time_ms')::float8 AS fit_time_ms
	  FROM pglearn.models m CROSS JOIN LATERAL pglearn.model_info(m.model) i
	 CROSS JOIN LATERAL pglearn.feature_settings(m.model) s
	 ORDER BY m.name, m.created_at DESC, m.id DESC;

-- The feature settings fit() computes its vectors with and the model
-- records: those its params give, else the defaults.
CREATE FUNCTION _fit_features(params jsonb, OUT hash_bits int4, OUT "binary" bool)
	RETURNS record
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT coalesce((_fit_features.params->>'hash_bits')::int4, d.hash_bits),
		   coalesce((_fit_features.params->>'binary')::bool, d."binary")
	  FROM pglearn.feature_settings() d;
END;
COMMENT ON FUNCTION _fit_features(jsonb) IS
	'internal: the hash_bits and binary a fit with these parameters computes features with: the given ones, else feature_settings()';

-- fit()'s body text is article_text(), the scorers' own (one definition),
-- and its feature settings are _fit_features()'s.
CREATE OR REPLACE FUNCTION _fit_prepare(source regclass, k int4, params jsonb) RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	hash_bits int4 := (pglearn._fit_features(params)).hash_bits;
	use_binary bool := (pglearn._fit_features(params))."binary";
	seed text := coalesce(params->>'seed', '');
	missing text;
	body_expr text := 'body';
	n_pos bigint;
	n_neg bigint;
BEGIN
	IF k IS NULL OR k < 2 THEN
		RAISE EXCEPTION 'cross-validation needs k >= 2 folds, got %', k
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT string_agg(c, ', ') INTO missing
	  FROM unnest(ARRAY['url', 'title', 'body', 'label']) AS c
	 WHERE NOT EXISTS (SELECT FROM pg_attribute
						WHERE attrelid = source AND attname = c AND attnum > 0 AND NOT attisdropped);
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION 'source % lacks column(s) %', source, missing
			USING ERRCODE = 'undefined_column',
				  HINT = 'The source needs columns url, title, body and label, like pglearn.examples.';
	END IF;
	-- the descriptions are part of the text the old system learned from
	IF EXISTS (SELECT FROM pg_attribute WHERE attrelid = source AND attname = 'description'
			   AND attnum > 0 AND NOT attisdropped) THEN
		body_expr := 'pglearn.article_text(description::text, body::text)';
	END IF;

	IF to_regclass('pg_temp.pglearn_fit_data') IS NOT NULL THEN
		DROP TABLE pg_temp.pglearn_fit_data;
	END IF;
	-- source prints schema-qualified here unless it is a temporary table
	EXECUTE format(
		'CREATE TEMP TABLE pglearn_fit_data AS '
		'SELECT pglearn.features(url::text, title::text, %s, $1, $2) AS f, label::int4 AS label, '
		'       ((row_number() OVER (PARTITION BY label ORDER BY md5(url::text || $3), url::text) - 1) %% $4)::int4 AS fold '
		'  FROM %s WHERE label IN (-1, 1)', body_expr, source)
		USING hash_bits, use_binary, seed, k;

	SELECT count(*) FILTER (WHERE label = 1), count(*) FILTER (WHERE label = -1)
	  INTO n_pos, n_neg FROM pg_temp.pglearn_fit_data;
	IF n_pos = 0 OR n_neg = 0 THEN
		RAISE EXCEPTION 'fit needs labelled rows of both classes'
			USING ERRCODE = 'data_exception',
				  DETAIL = format('%s has %s rows labelled 1 and %s labelled -1.', source, n_pos, n_neg),
				  HINT = 'Label at least one interesting (1) and one uninteresting (-1) article.';
	END IF;
	IF n_pos + n_neg < k THEN
		RAISE EXCEPTION 'too few labelled rows (%) for %-fold cross-validation', n_pos + n_neg, k
			USING ERRCODE = 'data_exception',
				  HINT = 'Label more rows or pass a smaller "k".';
	END IF;
END
$$;

-- fit() hands train() the feature settings it computed the vectors with,
-- so the model records them (0.2 stripped them and wrote them into params
-- only).  params keeps them as before.  "C": "previous" reuses the C the
-- live model of this name was trained with (the C grid costs five
-- cross-validations; pglearn annotate refits this way between labels,
-- where it built the same choice from pglearn.models itself); with no model
-- of that name yet, the grid.
CREATE OR REPLACE FUNCTION fit(name text, source regclass DEFAULT 'pglearn.examples', params jsonb DEFAULT '{}')
	RETURNS jsonb
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	started timestamptz := clock_timestamp();
	k int4 := coalesce((params->>'k')::int4, 5);
	result jsonb;
	chosen_params jsonb;
	settings record;
	trained pglearn.model;
	live pglearn.model;			-- the model "C": "previous" refers to
BEGIN
	IF name IS NULL OR name = '' THEN
		RAISE EXCEPTION 'model name must not be empty'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF jsonb_typeof(params->'C') = 'string' AND params->>'C' = 'previous' THEN
		live := pglearn._newest_model(name);
		params := CASE WHEN live IS NULL THEN params - 'C'
					   ELSE params || jsonb_build_object('C', pglearn.model_info(live)->'C') END;
	END IF;
	PERFORM pglearn._fit_check_params(params);
	PERFORM pglearn._fit_prepare(source, k, params);
	IF params ? 'C' THEN
		result := pglearn._fit_search(params);
	ELSE
		result := pglearn._fit_search(params || '{"C": [0.01, 0.1, 1, 10, 100]}');
	END IF;

	settings := pglearn._fit_features(params);
	chosen_params := params || jsonb_build_object('C', result->'C', 'k', k,
		'hash_bits', settings.hash_bits, 'binary', settings."binary");
	SELECT pglearn.train(f, label, chosen_params - ARRAY['k', 'select_by'])
	  INTO trained FROM pg_temp.pglearn_fit_data;
	DROP TABLE pg_temp.pglearn_fit_data;

	result := result || jsonb_build_object(
		'solver', pglearn.model_info(trained)->'solver',
		'n_pos', pglearn.model_info(trained)->'n_pos',
		'n_neg', pglearn.model_info(trained)->'n_neg',
		'fit_time_ms', round(extract(epoch FROM clock_timestamp() - started) * 1000));
	INSERT INTO pglearn.models (name, model, params, metrics)
		VALUES (fit.name, trained, chosen_params, result);
	RETURN result;
END
$$;

-- Format-1 models become format 2 with the settings fit() kept for them in
-- params (the defaults where it kept none): by this trigger whenever one
-- arrives -- a dump of an older database restored into this version, say
-- -- and below for those stored before this update.  The one place that
-- still reads those keys of params.
CREATE FUNCTION models_upgrade() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	settings record;
BEGIN
	IF (pglearn.model_info(NEW.model)->>'format')::int4 < 2 THEN
		settings := pglearn._fit_features(NEW.params);
		NEW.model := pglearn.model_upgrade(NEW.model, settings.hash_bits, settings."binary");
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION models_upgrade() IS
	'trigger: stores a format-1 model as format 2, with the hash_bits and binary its params give (else the defaults)';
CREATE TRIGGER models_upgrade BEFORE INSERT OR UPDATE OF model, params ON models
	FOR EACH ROW EXECUTE FUNCTION models_upgrade();
COMMENT ON TRIGGER models_upgrade ON models IS
	'a format-1 model is stored as format 2, recording the feature settings its params give';

-- A row whose params give no valid settings (0.3 refuses such rows, but a
-- database updated from 0.2 may hold some) stays in format 1 and is scored
-- with the defaults; 0.2 could not score it at all.
DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT m.id FROM pglearn.models m
			  WHERE (pglearn.model_info(m.model)->>'format')::int4 < 2 ORDER BY m.id LOOP
		BEGIN
			UPDATE pglearn.models m SET model = m.model WHERE m.id = r.id;
		EXCEPTION WHEN invalid_parameter_value OR invalid_text_representation OR check_violation THEN
			RAISE WARNING 'pglearn.models row % keeps model format 1: its params give no valid feature settings', r.id
				USING DETAIL = SQLERRM,
					  HINT = 'It is scored with the default settings. Correct its params and UPDATE the row to convert it.';
		END;
	END LOOP;
END
$$;

-- END model format 2

-- BEGIN search (src/search.c)

--
-- Keyword search
--
-- search(query, k) finds articles by their words, as the system pglearn
-- replaces did, over url, title, description and body.  Its documents live
-- in a table of their own, search_documents, kept by a trigger on the
-- article's text columns, rather than in an index on examples: a rescore
-- updates every article's score, and a score is indexed, so each rescored
-- row gets a new version with new entries in every index of examples --
-- a GIN over each article's words would be rebuilt by every refresh().  In
-- search_documents a row changes only when its article's text does.  Rows
-- are keyed by url, the key examples is distributed by on Citus, so the
-- two tables can be co-located.
--
-- The words are features()' own (src/search.c says why), so Japanese is
-- found by character bigrams.  The table is not dumped: restoring
-- examples fires the trigger, which rebuilds it.

CREATE FUNCTION search_document(url text, title text, description text, body text) RETURNS tsvector
	AS 'MODULE_PATHNAME', 'pglearn_search_document'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION search_document(text, text, text, text) IS
	'the search document of an article: the words features() takes from title (weight A), description (B), url (C) and body (D), with positions; at most 240 kB of tsvector per field';

CREATE FUNCTION search_query(query text) RETURNS tsquery
	AS 'MODULE_PATHNAME', 'pglearn_search_query'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION search_query(text) IS
	'a web-search query (words, "phrases", or, -excluded) over search documents, with the words features() takes; empty when the query has no words';

-- No foreign key: one would make a plain TRUNCATE of examples an error.
-- The triggers below follow every insert, change of text or URL, delete
-- and truncate of examples instead.
CREATE TABLE search_documents (
	url			text PRIMARY KEY,
	document	tsvector NOT NULL
);
COMMENT ON TABLE search_documents IS
	'the search document of every article (search_document()), kept by the examples_search triggers; read by search()';
CREATE INDEX search_documents_document_idx ON search_documents USING gin (document);

-- SECURITY DEFINER: whoever may write articles keeps their search
-- documents current without any right on search_documents itself.  They
-- write only the document of the row being written.
CREATE FUNCTION examples_search() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
	IF TG_OP = 'UPDATE' AND OLD.url IS DISTINCT FROM NEW.url OR TG_OP = 'DELETE' THEN
		DELETE FROM pglearn.search_documents d WHERE d.url = OLD.url;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		INSERT INTO pglearn.search_documents AS d (url, document)
		VALUES (NEW.url, pglearn.search_document(NEW.url, NEW.title, NEW.description, NEW.body))
		ON CONFLICT (url) DO UPDATE SET document = EXCLUDED.document;
	END IF;
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION examples_search() FROM PUBLIC;
COMMENT ON FUNCTION examples_search() IS
	'trigger: keeps the search document of an inserted, deleted or re-texted article (url, title, description or body changed)';
CREATE TRIGGER examples_search_write AFTER INSERT OR DELETE ON examples
	FOR EACH ROW EXECUTE FUNCTION examples_search();
-- A rescore, a label or a re-fetch of the same text leaves the document alone.
CREATE TRIGGER examples_search_update AFTER UPDATE OF url, title, description, body ON examples
	FOR EACH ROW
	WHEN (OLD.url IS DISTINCT FROM NEW.url OR OLD.title IS DISTINCT FROM NEW.title
		  OR OLD.description IS DISTINCT FROM NEW.description OR OLD.body IS DISTINCT FROM NEW.body)
	EXECUTE FUNCTION examples_search();

CREATE FUNCTION examples_search_truncate() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
	TRUNCATE pglearn.search_documents;
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION examples_search_truncate() FROM PUBLIC;
COMMENT ON FUNCTION examples_search_truncate() IS
	'trigger: a truncate of examples empties search_documents too';
CREATE TRIGGER examples_search_truncate AFTER TRUNCATE ON examples
	FOR EACH STATEMENT EXECUTE FUNCTION examples_search_truncate();

-- a database updated from 0.2: one document per stored article
INSERT INTO search_documents (url, document)
SELECT e.url, search_document(e.url, e.title, e.description, e.body) FROM examples e;

CREATE FUNCTION search(query text, k int4 DEFAULT 10)
	RETURNS TABLE (id int8, url text, title text, label int4, score float8, rank float4)
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	q tsquery := pglearn.search_query(query);
BEGIN
	PERFORM pglearn._check_k('k', k);
	IF q IS NULL OR numnode(q) = 0 THEN
		RAISE EXCEPTION 'search query % has no words', coalesce(quote_literal(query), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Words are runs of letters and digits, and pairs of Chinese, Japanese or Korean characters; punctuation, quotes and "or" alone match nothing.',
				  HINT = 'Search for at least one word.';
	END IF;
	RETURN QUERY
	SELECT e.id, e.url, e.title, e.label, e.score, ts_rank_cd(d.document, q)
	  FROM pglearn.search_documents d
	  JOIN pglearn.examples e ON e.url = d.url
	 WHERE d.document @@ q
	   AND e.label IS DISTINCT FROM -1
	 ORDER BY 6 DESC, e.url
	 LIMIT k;
END
$$;
COMMENT ON FUNCTION search(text, int4) IS
	'the k articles best matching a web-search query (words, "phrases", or, -excluded) by ts_rank_cd, title above description above url above body, ties by URL; articles labelled -1 are left out';

-- END search

-- BEGIN crawl claims (crawler/crawl.c, crawler/store.c; helper-owned section)
--
-- Crawlers sharing the work: claims with a lease
--

-- Several `pglearn crawl --pending` (or --stale) processes, on one machine
-- or many, read urls_to_fetch() alike and fetched every URL once each.  Now
-- a crawler claims the URLs it fetches, a batch at a time, and a claim
-- lasts for a lease: a URL claimed and not yet expired is handed to nobody
-- else, and the claims of a crawler killed mid-batch expire, so its URLs
-- go to the next crawler that asks after the lease; nothing is lost.
--
-- The claims are a table of their own, keyed by url (examples is
-- distributed by url on Citus, and this table can be placed beside it);
-- examples itself is not written, so a claim never takes a row lock a
-- labeller would wait for.  Claims are made through the coordinator
-- serially: claim_urls() takes a transaction advisory lock before it looks,
-- so two claimers never see the same unclaimed URL (each sees the claims
-- the one before it committed).  The lock is held for one short statement
-- per batch of URLs, which is nothing beside fetching them.  FOR UPDATE
-- SKIP LOCKED on examples would do the same on one node, but Citus refuses
-- FOR UPDATE in a query over many shards, and it would make a labeller
-- wait.  The primary key is the last word: a URL claimed by some other
-- route meanwhile is taken only if that claim has expired (ON CONFLICT ...
-- WHERE), so a URL is never claimed twice at once, however claim_urls is
-- called.
--
-- A claim is not given back when its URL is fetched: a fetched URL is no
-- longer pending (and not stale for another day), and a URL that failed
-- must not be handed straight to another crawler, which would fetch it
-- again in the same round; it is tried again once its lease is over.
-- Expired claims are deleted by the next claim_urls().
CREATE TABLE crawl_claims (
	url			text PRIMARY KEY,
	claimed_until timestamptz NOT NULL,
	claimed_by	text NOT NULL
);
-- the expired claims claim_urls() deletes, found without a scan
CREATE INDEX crawl_claims_until_idx ON crawl_claims (claimed_until);
COMMENT ON TABLE crawl_claims IS
	'URLs a crawler has claimed to fetch, until claimed_until (claim_urls()); an expired claim counts as none';
COMMENT ON COLUMN crawl_claims.claimed_by IS
	'who claimed it: pglearn crawl says "HOST pid PID"';

-- The pending rows in id order, which claim_urls() walks: without it each
-- batch would step over every row fetched already.
CREATE INDEX examples_pending_idx ON examples (id) WHERE crawl_state IN ('not fetched', 'failing');

-- At most n of the URLs urls_to_fetch(pending, stale_days) gives, which no
-- unexpired claim holds, claimed for lease by claimed_by; by id.
CREATE FUNCTION claim_urls(pending bool, stale_days int4 DEFAULT -1, n int4 DEFAULT 100,
						   lease interval DEFAULT '10 minutes', claimed_by text DEFAULT NULL)
	RETURNS TABLE (id int8, url text)
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp AS
$$
#variable_conflict use_column
DECLARE
	claimant text := coalesce(claimed_by, session_user || ' pid ' || pg_backend_pid());
	t timestamptz;
BEGIN
	IF pending IS NULL OR stale_days IS NULL OR n IS NULL OR lease IS NULL THEN
		RAISE EXCEPTION 'claim_urls() needs pending, stale_days, n and lease'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF n < 1 OR n > 100000 THEN
		RAISE EXCEPTION 'n must be between 1 and 100000, not %', n
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'n is how many URLs one call claims.';
	END IF;
	IF lease <= interval '0' OR lease > interval '7 days' THEN
		RAISE EXCEPTION 'lease must be positive and at most 7 days, not %', lease
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A claim lasts for its lease; after that another crawler may take the URL.',
				  HINT = 'Give a lease longer than a batch of n URLs takes to fetch, such as ''10 minutes''.';
	END IF;
	IF claimant = '' OR length(claimant) > 200 THEN
		RAISE EXCEPTION 'claimed_by must be 1 to 200 characters'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- one claimer at a time (see above); the key is this table's oid
	PERFORM pg_advisory_xact_lock('pglearn.crawl_claims'::regclass::oid::int8);
	t := clock_timestamp();
	DELETE FROM pglearn.crawl_claims c WHERE c.claimed_until <= t;
	RETURN QUERY
	WITH candidates AS (
		(SELECT e.id, e.url FROM pglearn.examples e
		  WHERE claim_urls.pending AND e.crawl_state IN ('not fetched', 'failing')
			AND NOT EXISTS (SELECT FROM pglearn.crawl_claims c WHERE c.url = e.url)
		  ORDER BY e.id LIMIT claim_urls.n)
		UNION
		(SELECT e.id, e.url FROM pglearn.examples e
		  WHERE claim_urls.stale_days >= 0 AND e.crawl_state <> 'gave up'
			AND e.fetched_at < t - make_interval(days => claim_urls.stale_days)
			AND NOT EXISTS (SELECT FROM pglearn.crawl_claims c WHERE c.url = e.url)
		  ORDER BY e.id LIMIT claim_urls.n)
		ORDER BY 1 LIMIT claim_urls.n
	), claimed AS (
		INSERT INTO pglearn.crawl_claims AS c (url, claimed_until, claimed_by)
		SELECT k.url, t + claim_urls.lease, claimant FROM candidates k
		ON CONFLICT ON CONSTRAINT crawl_claims_pkey DO UPDATE
		   SET claimed_until = EXCLUDED.claimed_until, claimed_by = EXCLUDED.claimed_by
		 WHERE c.claimed_until <= t
		RETURNING c.url
	)
	SELECT k.id, k.url FROM candidates k JOIN claimed USING (url) ORDER BY k.id;
END
$$;
COMMENT ON FUNCTION claim_urls(bool, int4, int4, interval, text) IS
	'claims for lease at most n of the URLs urls_to_fetch(pending, stale_days) gives that no unexpired claim holds, and returns them by id: crawlers calling it concurrently never get the same URL, and a dead crawler''s URLs are handed out again after the lease';
REVOKE EXECUTE ON FUNCTION claim_urls(bool, int4, int4, interval, text) FROM PUBLIC;

-- A crawler that stops early (interrupted, or its database writes failed)
-- gives back the URLs it claimed and did not fetch, so others need not wait
-- for the lease.  Only claimed_by's own claims; returns how many.
CREATE FUNCTION release_claims(urls text[], claimed_by text)
	RETURNS int8
	LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE
BEGIN ATOMIC
	WITH released AS (
		DELETE FROM pglearn.crawl_claims c
		 WHERE c.url = ANY (release_claims.urls) AND c.claimed_by = release_claims.claimed_by
		RETURNING 1
	)
	SELECT count(*) FROM released;
END;
COMMENT ON FUNCTION release_claims(text[], text) IS
	'gives back those of the URLs that claimed_by holds claims on (claim_urls()), so another crawler may take them at once; returns how many';
REVOKE EXECUTE ON FUNCTION release_claims(text[], text) FROM PUBLIC;

-- END crawl claims

-- BEGIN distribute (Citus: README "Scaling out"; t/citus)
--
-- One database over many machines: Citus
--
-- On a Citus coordinator, distribute() makes examples a table hash-
-- distributed by url (crawled articles by the million live on the workers
-- and are scored there), the tables keyed by an article's url beside it on
-- the same workers (co-located, so a join on url stays on one node), and
-- the small tables (models, lists, publications) reference tables, copied
-- to every node, so everything that looks a model or a list up by name
-- answers on a worker too: the scoring trigger, classify(name, ...).
--
-- Citus requires every unique constraint of a distributed table to include
-- its distribution column.  The url was unique already; the primary key
-- on id alone becomes (id, url).  Ids still come from one sequence
-- (examples_id_seq, and on Citus each worker's own range of it), so they
-- stay unique and keep their meaning for Redis and the crawler; what the
-- key no longer refuses is an id given by hand that another url has.  id
-- leads the key, so lookups and batches by id keep their index.
ALTER TABLE examples DROP CONSTRAINT examples_pkey,
	ADD CONSTRAINT examples_pkey PRIMARY KEY (id, url);

-- Is pglearn.examples distributed by Citus?  Without Citus there is no
-- pg_dist_partition, so the catalog is read by name at run time.
CREATE FUNCTION _distributed() RETURNS bool
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	found bool;
BEGIN
	-- the catalog, not to_regclass(): a missing name logs at DEBUG1, which
	-- would show in every similar() and uncertain() of a DEBUG session
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_class c
					WHERE c.relname = 'pg_dist_partition'
					  AND c.relnamespace = 'pg_catalog'::pg_catalog.regnamespace) THEN
		RETURN false;
	END IF;
	EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1)'
		INTO found USING 'pglearn.examples'::pg_catalog.regclass;
	RETURN found;
END
$$;
COMMENT ON FUNCTION _distributed() IS
	'internal: true if pglearn.examples is a Citus distributed table (distribute())';

-- The functions that cannot run on a distributed examples call this first,
-- so the user reads why instead of a Citus planner error (the details say
-- why each one cannot; README "Scaling out" too).  src/ranking.c calls it
-- for the stored-score walks of uncertain(NULL, ...), to_label and
-- recommend(); publish() publishes recommend()'s list.
CREATE FUNCTION _local_only(what text) RETURNS bool
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
	IF pglearn._distributed() THEN
		RAISE EXCEPTION '% does not run on a distributed pglearn.examples', what
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = CASE
					WHEN what LIKE 'uncertain%' THEN
						'It walks the stored scores in rank order through one cursor over an index and leaves out rows whose URL, final URL or title a labelled row has: joins on columns other than url, which Citus cannot run across shards.'
					WHEN what = 'publish()' THEN
						'publish() publishes the list recommend() makes, which does not run distributed.'
					ELSE
						'It walks the stored scores in rank order through one cursor over an index, reading them through a SQL function with parameters, which Citus cannot plan over a distributed table.'
					END,
				  HINT = CASE WHEN what LIKE 'uncertain%'
							  THEN 'Name the model: pglearn.uncertain(''name'', k) scores on the workers and ranks the same rows.'
							  ELSE 'See README "Scaling out" for what runs on a distributed database.' END;
	END IF;
	RETURN true;
END
$$;
COMMENT ON FUNCTION _local_only(text) IS
	'internal: raises feature_not_supported, naming what, when pglearn.examples is distributed; else true';

-- Rescoring a batch on a distributed examples: one UPDATE that Citus sends
-- to every shard, so the rows are scored on the workers that hold them, in
-- parallel.  The model is looked up once, on the coordinator, and shipped
-- as a value: Citus refuses a STABLE function of a row's columns (as
-- classify(name, ...) is) in a multi-shard UPDATE, and classify(model,
-- features(...)) with the model's own settings is the same score, bit for
-- bit (t/citus compares every one).  Unlike _rescore_batch on one node it
-- waits for row locks (Citus runs no FOR UPDATE SKIP LOCKED over many
-- shards): a labeller holding a row delays the batch, and a deadlock
-- across nodes is broken by Citus's detector, which cancels one side.
CREATE FUNCTION _rescore_distributed(name text, after_id int8, batch_size int4, retry int8[],
									 OUT last_id int8, OUT changed int8)
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	batch int8[] := retry;
	live_model pglearn.model;
	hash_bits int4;
	use_binary bool;
BEGIN
	IF batch IS NULL THEN
		SELECT array_agg(b.id ORDER BY b.id) INTO batch
		  FROM (SELECT e.id FROM pglearn.examples e WHERE e.id > after_id ORDER BY e.id LIMIT batch_size) b;
	END IF;
	changed := 0;
	IF cardinality(batch) IS NULL OR cardinality(batch) = 0 THEN
		RETURN;
	END IF;
	last_id := batch[cardinality(batch)];
	SELECT l.model, l.hash_bits, l."binary" INTO live_model, hash_bits, use_binary
	  FROM pglearn._live_model(name) l;
	UPDATE pglearn.examples e SET score = s.p
	  FROM (SELECT x.url,
				   pglearn.classify(live_model, pglearn.features(x.url, x.title,
					   pglearn.article_text(x.description, x.body), hash_bits, use_binary)) AS p
			  FROM pglearn.examples x WHERE x.id = ANY (batch)) s
	 WHERE e.url = s.url AND e.id = ANY (batch) AND e.score IS DISTINCT FROM s.p;
	GET DIAGNOSTICS changed = ROW_COUNT;
END
$$;
COMMENT ON FUNCTION _rescore_distributed(text, int8, int4, int8[]) IS
	'internal: _rescore_batch on a distributed pglearn.examples: one UPDATE run on every shard, the model shipped from the coordinator';

CREATE FUNCTION distribute(shard_count int4 DEFAULT NULL)
	RETURNS TABLE (relation regclass, placement text)
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
	t record;
	coordinator bool;
	done regclass[] := '{}';
BEGIN
	PERFORM pglearn._check_k('shard_count', shard_count, true);
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
		RAISE EXCEPTION 'pglearn.distribute() needs Citus, which is not installed in this database'
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'There is no extension "citus" in database ' || pg_catalog.quote_ident(pg_catalog.current_database()) || '.',
				  HINT = 'Install Citus on every node, add citus to shared_preload_libraries, CREATE EXTENSION citus in this database on every node and add the workers (README "Scaling out").';
	END IF;
	EXECUTE 'SELECT pg_catalog.citus_is_coordinator()' INTO coordinator;
	IF NOT coordinator THEN
		RAISE EXCEPTION 'pglearn.distribute() must run on the Citus coordinator'
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'This node is a Citus worker: its tables are shards and copies the coordinator manages.',
				  HINT = 'Connect to the coordinator and call pglearn.distribute() there.';
	END IF;
	-- the scoring and updated_at triggers run on the shards: they read only
	-- the row being written, the shard holding it and the reference tables
	PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
	PERFORM pg_catalog.set_config('client_min_messages',
		CASE WHEN pg_catalog.current_setting('client_min_messages') IN ('debug5', 'debug4', 'debug3', 'debug2', 'debug1', 'log', 'notice')
			 THEN 'warning' ELSE pg_catalog.current_setting('client_min_messages') END, true);
	-- every table of the extension: examples hashed by url, the tables
	-- keyed by url beside it, the others copied to every node (reference
	-- tables first: examples' shards are created after them)
	FOR t IN
		SELECT c.oid::pg_catalog.regclass AS rel,
			   CASE WHEN c.oid = 'pglearn.examples'::pg_catalog.regclass THEN 1
					WHEN EXISTS (SELECT FROM pg_catalog.pg_constraint k
								  JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
								 WHERE k.conrelid = c.oid AND k.contype = 'p'
								   AND pg_catalog.cardinality(k.conkey) = 1 AND a.attname = 'url') THEN 2
					ELSE 0 END AS kind
		  FROM pg_catalog.pg_class c
		  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
			   AND d.objid = c.oid AND d.deptype = 'e'
		  JOIN pg_catalog.pg_extension x ON x.oid = d.refobjid AND x.extname = 'pglearn'
		 WHERE c.relkind IN ('r', 'p')
		 ORDER BY 2, c.oid::pg_catalog.regclass::text
	LOOP
		CONTINUE WHEN EXISTS (SELECT FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = t.rel);
		IF t.kind = 0 THEN
			PERFORM pg_catalog.create_reference_table(t.rel);
			relation := t.rel;
			placement := 'reference table';
		ELSIF t.kind = 1 THEN
			IF shard_count IS NULL THEN
				PERFORM pg_catalog.create_distributed_table(t.rel, 'url');
			ELSE
				PERFORM pg_catalog.create_distributed_table(t.rel, 'url', shard_count => shard_count);
			END IF;
			relation := t.rel;
			placement := 'distributed by url';
		ELSE
			PERFORM pg_catalog.create_distributed_table(t.rel, 'url', colocate_with => 'pglearn.examples');
			relation := t.rel;
			placement := 'distributed by url, co-located with pglearn.examples';
		END IF;
		done := done || t.rel;
		RETURN NEXT;
	END LOOP;
	-- the rows now live in the shards; the coordinator's copies go
	FOR t IN SELECT r.rel FROM pg_catalog.unnest(done) WITH ORDINALITY AS r(rel, n) ORDER BY r.n DESC LOOP
		PERFORM pg_catalog.truncate_local_data_after_distributing_table(t.rel);
	END LOOP;
END
$$;
COMMENT ON FUNCTION distribute(int4) IS
	'on a Citus coordinator: distributes pglearn.examples by url (shard_count shards, default citus.shard_count), the tables keyed by url co-located with it and the other tables as reference tables; returns what it did (nothing for tables already distributed)';
REVOKE EXECUTE ON FUNCTION distribute(int4) FROM PUBLIC;

-- END distribute
