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

-- the feature settings: train() records those its params give (model
-- format 2); told none, it cannot know how the vectors were made and writes
-- format 1, which records none and is scored by name with the defaults
SELECT * FROM pglearn.feature_settings((SELECT m FROM toy_model));
SELECT * FROM pglearn.feature_settings();
CREATE TABLE toy_set AS SELECT pglearn.train(f, label, '{"hash_bits": 20, "binary": false}') AS m FROM toy;
SELECT m::text ~ '^format=2 id=[0-9a-f]{16} solver=logreg .* n_features=5 hash_bits=20 binary=false fields=url,title,description\+body weights=\{' AS text_form,
       pglearn.model_info(m)->'format' AS format, pglearn.model_info(m)->'hash_bits' AS hash_bits,
       pglearn.model_info(m)->'binary' AS "binary", pglearn.model_info(m)->'fields' AS fields,
       m::text::pglearn.model::text = m::text AS text_identical,
       pglearn.model_send(m::text::pglearn.model) = pglearn.model_send(m) AS bytes_identical
FROM toy_set;
-- they are content: the id differs, the weights are the same
SELECT s.m OPERATOR(pglearn.=) t.m AS equal, pglearn.model_info(s.m)->'id' <> pglearn.model_info(t.m)->'id' AS other_id,
       (SELECT array_agg(w ORDER BY index) FROM pglearn.weights(s.m) w) =
       (SELECT array_agg(w ORDER BY index) FROM pglearn.weights(t.m) w) AS same_weights
FROM toy_set s, toy_model t;
CREATE TABLE toy_binary AS SELECT pglearn.train(f, label, '{"hash_bits": 12, "binary": true}') AS m FROM toy;
SELECT s.*, pglearn.model_info(b.m)->'format' AS format, b.m::text::pglearn.model::text = b.m::text AS reads_back
FROM toy_binary b CROSS JOIN LATERAL pglearn.feature_settings(b.m) s;
-- one given, the other is the default
SELECT s.* FROM (SELECT pglearn.train(f, label, '{"binary": true}') AS m FROM toy) b
CROSS JOIN LATERAL pglearn.feature_settings(b.m) s;
SELECT pglearn.train(f, label, '{"hash_bits": 31}') FROM toy;
SELECT pglearn.train(f, label, '{"hash_bits": 0}') FROM toy;
SELECT pglearn.train(f, label, '{"binary": "yes"}') FROM toy;

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
SELECT pg_temp.recv_model(pglearn.model_send(m)) OPERATOR(pglearn.=) m AS binary_round_trip,
       pg_temp.recv_model(pglearn.model_send(m))::text = m::text AS binary_text_identical,
       length(pglearn.model_send(m)) - length(pglearn.model_send((SELECT m FROM toy_model))) AS settings_bytes
FROM toy_set;

-- malformed text
SELECT ''::pglearn.model;
SELECT 'hello'::pglearn.model;
SELECT replace(m::text, 'format=1', 'format=3')::pglearn.model FROM toy_model;
SELECT replace(m::text, 'format=1', 'format=0')::pglearn.model FROM toy_model;
-- format 2 has the settings after n_features, format 1 has none
SELECT replace(m::text, 'format=1', 'format=2')::pglearn.model FROM toy_model;
SELECT replace(m::text, 'format=2', 'format=1')::pglearn.model FROM toy_set;
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
-- each setting is checked, and is content (the id covers it)
SELECT replace(m::text, ' hash_bits=20', '')::pglearn.model FROM toy_set;
SELECT replace(m::text, ' hash_bits=20', ' hash_bits=0')::pglearn.model FROM toy_set;
SELECT replace(m::text, ' hash_bits=20', ' hash_bits=31')::pglearn.model FROM toy_set;
SELECT replace(m::text, ' hash_bits=20', ' hash_bits=99999')::pglearn.model FROM toy_set;
SELECT replace(m::text, ' hash_bits=20', ' hash_bits=12')::pglearn.model FROM toy_set;
SELECT replace(m::text, ' binary=false', ' binary=0')::pglearn.model FROM toy_set;
SELECT replace(m::text, ' binary=false', ' binary=true')::pglearn.model FROM toy_set;
SELECT replace(m::text, 'fields=url,title,description+body', 'fields=url,title,body')::pglearn.model FROM toy_set;

-- malformed binary
SELECT pg_temp.recv_model('\x');
SELECT pg_temp.recv_model('\xdeadbeef');
SELECT pg_temp.recv_model('\x00000003' || substring(pglearn.model_send(m) from 5)) FROM toy_model;
SELECT pg_temp.recv_model('\x00000002' || substring(pglearn.model_send(m) from 5)) FROM toy_model;
-- format 2's settings are three int32 after n_features (bytes 113 to 124):
-- hash_bits, binary, fields
SELECT substring(pglearn.model_send(m) from 113 for 12) AS settings FROM toy_binary;
SELECT pg_temp.recv_model(overlay(pglearn.model_send(m) placing '\x00000000'::bytea from 113 for 4)) FROM toy_set;
SELECT pg_temp.recv_model(overlay(pglearn.model_send(m) placing '\x0000001f'::bytea from 113 for 4)) FROM toy_set;
SELECT pg_temp.recv_model(overlay(pglearn.model_send(m) placing '\x00010014'::bytea from 113 for 4)) FROM toy_set;
SELECT pg_temp.recv_model(overlay(pglearn.model_send(m) placing '\x00000002'::bytea from 117 for 4)) FROM toy_set;
SELECT pg_temp.recv_model(overlay(pglearn.model_send(m) placing '\x00000002'::bytea from 121 for 4)) FROM toy_set;
SELECT pg_temp.recv_model(overlay(pglearn.model_send(m) placing '\x00000001'::bytea from 117 for 4)) FROM toy_set;
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

--
-- Format 1 as 0.2 wrote it (the toy model, t/fuzz/corpus/model/logreg_format1.txt):
-- read, printed and sent as it is, the model a train() told no settings
-- writes, and converted by model_upgrade()
--
CREATE TEMP TABLE old_model AS SELECT 'format=1 id=9f86842e741513cc solver=logreg trained_at="2026-11-25 20:25:21.473534+00" C=1 epsilon=0.01 bias=1 weight_pos=1 weight_neg=1 platt_a=-1 platt_b=0 bias_weight=-0.017231680843113488 max_iter=1000 iterations=2 converged=1 n_pos=3 n_neg=3 n_features=5 weights={1:0.6956038,2:0.40991494,3:0.27948278,4:-0.87036395,5:-0.24980022}'::pglearn.model AS m;
SELECT o.m::text::pglearn.model::text = o.m::text AS text_identical,
       pg_temp.recv_model(pglearn.model_send(o.m))::text = o.m::text AS binary_identical,
       length(pglearn.model_send(o.m)) AS binary_length,
       o.m OPERATOR(pglearn.=) t.m AS what_train_writes,
       pglearn.model_info(t.m)->>'id' AS id
FROM old_model o, toy_model t;
-- model_upgrade(): format 2 with the settings given, a new id, the same
-- weights and scores; the settings train() records give train()'s model;
-- a format-2 model is left as it is
SELECT pglearn.model_info(u)->'format' AS format, s.*,
       pglearn.model_info(u)->>'id' <> '9f86842e741513cc' AS new_id,
       u::text::pglearn.model::text = u::text AS reads_back,
       (SELECT bool_and(pglearn.score(u, f) = pglearn.score(o.m, f)) FROM toy) AS same_scores
FROM old_model o CROSS JOIN LATERAL pglearn.model_upgrade(o.m, 12, true) u
CROSS JOIN LATERAL pglearn.feature_settings(u) s;
SELECT pglearn.model_upgrade(o.m, 20, false) OPERATOR(pglearn.=) s.m AS upgrade_is_train,
       pglearn.model_upgrade(b.m, 20, false)::text = b.m::text AS format_2_unchanged
FROM old_model o, toy_set s, toy_binary b;
SELECT pglearn.model_upgrade(m, 31, false) FROM old_model;

DROP TABLE toy, toy_model, toy_set, toy_binary;
