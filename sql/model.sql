-- model: text and binary I/O, round trips, introspection, malformed input
\set SHOW_CONTEXT never

CREATE TABLE toy (f pglearn.fvec, label int4);
INSERT INTO toy VALUES
    ('{1:1,2:1}', 1), ('{1:1,3:1}', 1), ('{1:0.5,2:1}', 1),
    ('{2:0.5,4:1}', -1), ('{4:1,5:1}', -1), ('{4:1}', -1),
    ('{6:1}', NULL), ('{7:1}', 0);
CREATE TABLE toy_model AS SELECT pglearn.train(f, label) AS m FROM toy;

SELECT jsonb_pretty(pglearn.model_info(m) - 'trained_at' - 'id') FROM toy_model;
SELECT index, round(weight::numeric, 4) AS weight FROM pglearn.weights((SELECT m FROM toy_model));

-- the id is a content hash: 16 hex digits, the same for equal content
SELECT pglearn.model_info(m)->>'id' ~ '^"?[0-9a-f]{16}"?$' AS id_is_hex FROM toy_model;

-- text output reads back bit-identical
SELECT m::text::pglearn.model OPERATOR(pglearn.=) m AS equal,
       m::text::pglearn.model::text = m::text AS text_identical,
       pglearn.model_send(m::text::pglearn.model) = pglearn.model_send(m) AS bytes_identical
FROM toy_model;
SELECT m::text ~ '^format=1 id=[0-9a-f]{16} solver=logreg trained_at="[0-9-]+ [0-9:.]+\+00" C=1 epsilon=0.01 bias=1 ' AS text_form
FROM toy_model;

-- trained_at is written in UTC whatever the session's time zone
SET TimeZone = 'Asia/Tokyo';
SELECT m::text::pglearn.model::text = m::text AS tz_independent FROM toy_model;
RESET TimeZone;

-- binary round trip through COPY
CREATE TEMP TABLE recv_target (m pglearn.model);
CREATE FUNCTION pg_temp.recv_model(payload bytea) RETURNS pglearn.model
LANGUAGE plpgsql AS $$
DECLARE
    path text := 'pglearn_regress_recv_' || pg_backend_pid();  -- in the data directory
    lo oid;
    result pglearn.model;
BEGIN
    lo := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
                           || '\x0001'::bytea || int4send(length(payload)) || payload
                           || '\xffff'::bytea);
    PERFORM lo_export(lo, path);
    PERFORM lo_unlink(lo);
    TRUNCATE recv_target;
    EXECUTE format('COPY recv_target FROM %L WITH (FORMAT binary)', path);
    SELECT recv_target.m INTO result FROM recv_target;
    RETURN result;
END
$$;
SELECT pg_temp.recv_model(pglearn.model_send(m)) OPERATOR(pglearn.=) m AS binary_round_trip,
       pg_temp.recv_model(pglearn.model_send(m))::text = m::text AS binary_text_identical
FROM toy_model;

-- malformed text
SELECT ''::pglearn.model;
SELECT 'hello'::pglearn.model;
SELECT replace(m::text, 'format=1', 'format=2')::pglearn.model FROM toy_model;
SELECT replace(m::text, 'format=1', 'format=x')::pglearn.model FROM toy_model;
SELECT regexp_replace(m::text, 'id=[0-9a-f]+', 'id=xyz')::pglearn.model FROM toy_model;
SELECT replace(m::text, 'solver=logreg', 'solver=forest')::pglearn.model FROM toy_model;
SELECT regexp_replace(m::text, 'trained_at="[^"]*"', 'trained_at="yesterday-ish"')::pglearn.model FROM toy_model;
SELECT regexp_replace(m::text, 'trained_at="[^"]*"', 'trained_at="infinity"')::pglearn.model FROM toy_model;
SELECT replace(m::text, ' C=1 ', ' C=-1 ')::pglearn.model FROM toy_model;
SELECT replace(m::text, ' C=1 ', ' C=2 ')::pglearn.model FROM toy_model;
SELECT replace(m::text, ' C=1 ', ' C=NaN ')::pglearn.model FROM toy_model;
SELECT replace(m::text, ' C=1 ', ' C= ')::pglearn.model FROM toy_model;
SELECT replace(m::text, ' epsilon=', ' eps=')::pglearn.model FROM toy_model;
SELECT replace(m::text, ' n_pos=3 ', ' n_pos=-3 ')::pglearn.model FROM toy_model;
SELECT regexp_replace(m::text, 'weights=.*', 'weights={1:NaN}')::pglearn.model FROM toy_model;
SELECT regexp_replace(m::text, 'weights=.*', 'weights={2:1,1:1}')::pglearn.model FROM toy_model;
SELECT regexp_replace(m::text, ' weights=.*', '')::pglearn.model FROM toy_model;
SELECT left(m::text, 60)::pglearn.model FROM toy_model;

-- malformed binary
SELECT pg_temp.recv_model('\x');
SELECT pg_temp.recv_model('\xdeadbeef');
SELECT pg_temp.recv_model('\x00000002' || substring(pglearn.model_send(m) from 5)) FROM toy_model;
SELECT pg_temp.recv_model(substring(pglearn.model_send(m) from 1 for 40)) FROM toy_model;
SELECT pg_temp.recv_model(substring(pglearn.model_send(m) from 1 for length(pglearn.model_send(m)) - 1)) FROM toy_model;
SELECT pg_temp.recv_model(pglearn.model_send(m) || '\x00'::bytea) FROM toy_model;
-- flip one bit of the last weight: the id no longer matches
SELECT pg_temp.recv_model(set_bit(pglearn.model_send(m), length(pglearn.model_send(m)) * 8 - 1,
                                  1 - get_bit(pglearn.model_send(m), length(pglearn.model_send(m)) * 8 - 1)))
FROM toy_model;
-- a trained_at that timestamptz cannot print is refused (the model could
-- not be dumped); the earliest and latest printable ones read back as text
SELECT pg_temp.recv_model(overlay(pglearn.model_send(m) placing '\x8000000000000001'::bytea from 17 for 8)) FROM toy_model;
SELECT pg_temp.recv_model(overlay(pglearn.model_send(m) placing '\xfd0f7cc1411f9fff'::bytea from 17 for 8)) FROM toy_model;
SELECT pg_temp.recv_model(overlay(pglearn.model_send(m) placing '\x7fffff5bb3b2a000'::bytea from 17 for 8)) FROM toy_model;
SELECT substring(x::text from 'trained_at="[^"]*"') AS earliest, x::text::pglearn.model::text = x::text AS reads_back
FROM (SELECT pg_temp.recv_model(overlay(pglearn.model_send(m) placing '\xfd0f7cc1411fa000'::bytea from 17 for 8)) AS x FROM toy_model) e;
SELECT substring(x::text from 'trained_at="[^"]*"') AS latest, x::text::pglearn.model::text = x::text AS reads_back
FROM (SELECT pg_temp.recv_model(overlay(pglearn.model_send(m) placing '\x7fffff5bb3b29fff'::bytea from 17 for 8)) AS x FROM toy_model) e;

-- survives storage in a table (toasted when large) and comparison
CREATE TEMP TABLE stored AS SELECT m FROM toy_model;
SELECT s.m OPERATOR(pglearn.=) t.m AS stored_equal FROM stored s, toy_model t;

DROP TABLE toy, toy_model;
