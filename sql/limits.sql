-- Limits a user cannot lift, and lookups a user cannot hijack: every
-- pglearn setting that bounds resources or reaches another server is a
-- superuser's; features() refuses a document with more than 2^20 distinct
-- tokens; the model lookup of classify(name, ...) runs no user operator.
\set SHOW_CONTEXT never

-- SQLSTATE and message of a statement, or 'ok'
CREATE FUNCTION pg_temp.outcome(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE statement;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

CREATE ROLE regress_pglearn_plain;
GRANT USAGE ON SCHEMA pglearn TO regress_pglearn_plain;
SET ROLE regress_pglearn_plain;

-- Before pglearn is loaded in a session its settings are placeholders that
-- anyone may SET; loading the library throws a user's value away.
SET pglearn.redis_command_timeout = '40s';
SELECT pglearn.nnz(pglearn.features(NULL, NULL, 'loads pglearn'));
SHOW pglearn.redis_command_timeout;

-- Once loaded, SET, SET LOCAL, set_config() and ALTER ROLE ... SET of each
-- are refused (42501)
SELECT s.name, pg_temp.outcome(format('SET %s = %L', s.name, s.value)) AS "SET",
	   pg_temp.outcome(format('SET LOCAL %s = %L', s.name, s.value)) AS "SET LOCAL",
	   pg_temp.outcome(format('SELECT pg_catalog.set_config(%L, %L, false)', s.name, s.value)) AS "set_config",
	   pg_temp.outcome(format('ALTER ROLE regress_pglearn_plain SET %s = %L', s.name, s.value)) AS "ALTER ROLE SET"
  FROM (VALUES ('pglearn.max_train_memory', '1TB'),
			   ('pglearn.redis_connect_timeout', '40s'),
			   ('pglearn.redis_command_timeout', '40s'),
			   ('pglearn.redis_url', 'redis://127.0.0.1:1/0'),
			   ('pglearn.redis_password_file', '/etc/passwd'),
			   ('pglearn.redis_prefix', 'x:'),
			   ('pglearn.redis_ttl', '0')) s(name, value)
 ORDER BY 1;

-- the settings as a user sees them; pglearn.default_model, which bounds
-- nothing, stays the user's own
SELECT name, context FROM pg_settings WHERE name LIKE 'pglearn.%' ORDER BY 1;
SET pglearn.default_model = 'mine';
SHOW pglearn.default_model;
RESET pglearn.default_model;
RESET ROLE;

-- the Redis timeouts have a maximum of a minute, even for a superuser
SELECT name, setting, unit, min_val, max_val, context
  FROM pg_settings WHERE name LIKE 'pglearn.redis\_%timeout' ORDER BY 1;
SET pglearn.redis_command_timeout = '61s';
SET pglearn.redis_connect_timeout = '1h';
SET pglearn.redis_command_timeout = '60s';
RESET pglearn.redis_command_timeout;

--
-- features() and feature_names(): at most 2^20 distinct tokens a document
--
CREATE TEMP TABLE doc AS
SELECT string_agg(g::text, ' ') AS body FROM generate_series(1, 1048576) g;
GRANT SELECT ON doc TO regress_pglearn_plain;
SET ROLE regress_pglearn_plain;
-- exactly at the limit: accepted, and the bias of binary features is extra
SELECT pglearn.nnz(pglearn.features(NULL, NULL, body)) > 500000 AS at_limit,
	   pglearn.nnz(pglearn.features(NULL, NULL, body, 20, true)) > 500000 AS at_limit_binary
  FROM doc;
-- one token more (the URL's host) is refused, before the memory is spent
SELECT pglearn.features('https://example.com/', NULL, body) FROM doc;
SELECT count(*) FROM doc, pglearn.feature_names(NULL, 'one more', body);
-- the session goes on
SELECT pglearn.nnz(pglearn.features('https://example.com/', 'ordinary', 'an ordinary document'));
RESET ROLE;
DROP TABLE doc;

--
-- classify(name, ...) looks the model up with pg_catalog's operators only,
-- whatever the caller's search_path: a user's public.= never runs in it
--
CREATE TEMP TABLE toy AS
SELECT pglearn.features(NULL, t, NULL) AS f, l
  FROM (VALUES ('postgres vacuum index', 1), ('lottery prize winner', -1),
			   ('postgres planner', 1), ('cheap prize pills', -1)) v(t, l);
INSERT INTO pglearn.models (name, model) SELECT 'regress_limits', pglearn.train(f, l) FROM toy;
CREATE FUNCTION public.regress_hijacked_texteq(text, text) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'hijacked: public.= ran';
END
$$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.regress_hijacked_texteq);
SET search_path = public, pg_catalog;
-- the planted operator is the one an unqualified = finds now
SELECT 'a'::text = 'a'::text;
SELECT pglearn.classify('regress_limits', NULL, 'postgres vacuum', NULL) > 0.5 AS ham,
	   pglearn.classify('regress_limits', NULL, 'lottery prize', NULL) < 0.5 AS spam;
RESET search_path;
DROP OPERATOR public.= (text, text);
DROP FUNCTION public.regress_hijacked_texteq(text, text);
DELETE FROM pglearn.models WHERE name = 'regress_limits';
DROP TABLE toy;

REVOKE USAGE ON SCHEMA pglearn FROM regress_pglearn_plain;
DROP ROLE regress_pglearn_plain;
