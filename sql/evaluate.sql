-- evaluate(): metrics checked by hand
\set SHOW_CONTEXT never

-- tp: 0.9, 0.5; fp: 0.8; fn: 0.3; tn: 0.1.  accuracy 3/5, precision 2/3,
-- recall 2/3, F1 2/3; AUC: 4 of 6 (positive, negative) pairs ordered
-- right; log loss -(ln .9 + ln .2 + ln .3 + ln .9 + ln .5) / 5 = 0.743456
CREATE TABLE scored (p float8, label int4);
INSERT INTO scored VALUES (0.9, 1), (0.8, -1), (0.3, 1), (0.1, -1), (0.5, 1), (0.7, NULL), (0.2, 0), (NULL, 1);
SELECT jsonb_pretty(pglearn.evaluate(p, label)) FROM scored;
SELECT round((pglearn.evaluate(p, label)->>'log_loss')::numeric, 6) AS log_loss,
       round((pglearn.evaluate(p, label)->>'roc_auc')::numeric, 6) AS roc_auc
FROM scored;

-- ties count one half in the AUC
SELECT pglearn.evaluate(p, l)->'roc_auc' FROM (VALUES (0.5, 1), (0.5, -1)) v(p, l);
-- perfect ranking, and the worst one
SELECT pglearn.evaluate(p, l)->'roc_auc' FROM (VALUES (0.9, 1), (0.1, -1), (0.8, 1)) v(p, l);
SELECT pglearn.evaluate(p, l)->'roc_auc' FROM (VALUES (0.1, 1), (0.9, -1)) v(p, l);
-- one class: AUC undefined (null); no positive prediction: precision null, F1 0
SELECT pglearn.evaluate(p, l) FROM (VALUES (0.2, 1), (0.4, 1)) v(p, l);
-- log loss clips certainty so a confident mistake is finite
SELECT (pglearn.evaluate(p, l)->>'log_loss')::float8 BETWEEN 34.5 AND 34.6 AS clipped
FROM (VALUES (0.0::float8, 1)) v(p, l);
-- no rows: NULL, like sum()
SELECT pglearn.evaluate(p, label) FROM scored WHERE false;

-- bad input
SELECT pglearn.evaluate(p, l) FROM (VALUES (0.5, 2)) v(p, l);
SELECT pglearn.evaluate(p, l) FROM (VALUES (1.5, 1)) v(p, l);
SELECT pglearn.evaluate(p, l) FROM (VALUES (-0.1, 1)) v(p, l);
SELECT pglearn.evaluate(p, l) FROM (VALUES ('NaN'::float8, 1)) v(p, l);

-- parallel and serial plans agree
CREATE TABLE many AS
SELECT ((i * 7919) % 1000) / 1000.0 AS p, CASE WHEN (i * 7919) % 1000 + (i % 300) > 600 THEN 1 ELSE -1 END AS label
FROM generate_series(1, 50000) i;
ANALYZE many;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT pglearn.evaluate(p, label) FROM many;
CREATE TEMP TABLE parallel_result AS SELECT pglearn.evaluate(p, label) AS r FROM many;
SET max_parallel_workers_per_gather = 0;
SELECT r = (SELECT pglearn.evaluate(p, label) FROM many) AS same, r->'n' AS n FROM parallel_result;

DROP TABLE scored, many;
