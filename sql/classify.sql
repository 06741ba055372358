-- score(), classify(), predict(): values, calibration, the per-query model cache
\set SHOW_CONTEXT never

CREATE TABLE toy (f pglearn.fvec, label int4);
INSERT INTO toy VALUES
    ('{1:1,2:1}', 1), ('{1:1,3:1}', 1), ('{1:0.5,2:1}', 1),
    ('{2:0.5,4:1}', -1), ('{4:1,5:1}', -1), ('{4:1}', -1);
CREATE TABLE models AS
SELECT (SELECT pglearn.train(f, label) FROM toy) AS logreg,
       (SELECT pglearn.train(f, label, '{"solver": "svm"}') FROM toy) AS svm,
       (SELECT pglearn.train(f, label, '{"solver": "pa"}') FROM toy) AS pa;

-- the margin is the dot product with the weights plus the bias weight
SELECT abs(pglearn.score(logreg, '{1:1,4:2}') -
           (SELECT sum(w.weight * CASE w.index WHEN -1 THEN 1 WHEN 1 THEN 1 WHEN 4 THEN 2 ELSE 0 END)
            FROM pglearn.weights(logreg) w)) < 1e-6 AS margin_is_dot
FROM models;
-- an empty vector scores the bias alone; unknown features count for nothing
SELECT pglearn.score(logreg, '{}') = (SELECT weight FROM pglearn.weights(logreg) WHERE index = -1) AS bias_only,
       pglearn.score(logreg, '{1:1}') = pglearn.score(logreg, '{1:1,99:5,1000000:1}') AS unknown_ignored
FROM models;

-- logreg: probability is the sigmoid of the margin
SELECT bool_and(abs(pglearn.classify(logreg, f) - 1 / (1 + exp(-pglearn.score(logreg, f)))) < 1e-12) AS sigmoid
FROM models, toy;
-- svm and pa: Platt-calibrated, still ordered like the margin
SELECT bool_and((pglearn.classify(svm, f) > 0.5) = (label = 1)) AS svm_calibrated,
       bool_and((pglearn.classify(pa, f) > 0.5) = (label = 1)) AS pa_calibrated,
       bool_and(pglearn.classify(svm, f) BETWEEN 0 AND 1) AS svm_in_range
FROM models, toy;
SELECT label, pglearn.predict(logreg, f), pglearn.predict(svm, f), pglearn.predict(pa, f),
       round(pglearn.classify(logreg, f)::numeric, 3) AS p_logreg
FROM models, toy ORDER BY f::text;

-- extreme margins give 0 or 1, never NaN
SELECT pglearn.classify(logreg, '{1:1e30}'), pglearn.classify(logreg, '{4:1e30}') FROM models;
-- strict: NULL in, NULL out
SELECT pglearn.classify(NULL, '{1:1}'), pglearn.score(logreg, NULL), pglearn.predict(NULL, NULL) FROM models;

-- the cache is keyed by model id: alternating models row by row stays right
SELECT bool_and(CASE WHEN i % 2 = 0 THEN pglearn.score(CASE WHEN i % 2 = 0 THEN logreg ELSE svm END, f) = pglearn.score(logreg, f)
                     ELSE pglearn.score(CASE WHEN i % 2 = 0 THEN logreg ELSE svm END, f) = pglearn.score(svm, f) END) AS cache_ok
FROM models, toy, generate_series(1, 4) i;

-- a large model (2^20 buckets' worth of weights) stored in a table is toasted
CREATE TABLE wide AS
SELECT pglearn.features(NULL, 'title ' || i, 'body ' || CASE WHEN i % 3 = 0 THEN 'fizz' ELSE 'buzz' END || ' words ' || (i * 31)) AS f,
       CASE WHEN i % 3 = 0 THEN 1 ELSE -1 END AS label
FROM generate_series(1, 3000) i;
CREATE TABLE wide_model AS SELECT pglearn.train(f, label) AS m FROM wide;
SELECT (pglearn.model_info(m)->>'nnz')::int > 5000 AS large, pg_column_size(m) < (pglearn.model_info(m)->>'nnz')::int * 8 AS compressed_or_toasted
FROM wide_model;
SELECT count(*) FILTER (WHERE pglearn.predict((SELECT m FROM wide_model), f) = label)::float8 / count(*) > 0.9 AS fits_training
FROM wide;

DROP TABLE toy, models, wide, wide_model;
