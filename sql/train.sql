-- train(): solvers, parameters, labels, determinism, parallel plans, limits
\set SHOW_CONTEXT never

CREATE TABLE toy (f pglearn.fvec, label int4);
INSERT INTO toy VALUES
    ('{1:1,2:1}', 1), ('{1:1,3:1}', 1), ('{1:0.5,2:1}', 1),
    ('{2:0.5,4:1}', -1), ('{4:1,5:1}', -1), ('{4:1}', -1),
    ('{6:1}', NULL), ('{7:1}', 0);

-- every solver separates the toy data; unlabelled rows are not counted
SELECT solver,
       pglearn.model_info(m)->>'n_pos' AS n_pos,
       pglearn.model_info(m)->>'n_neg' AS n_neg,
       pglearn.model_info(m)->>'converged' AS converged,
       (SELECT bool_and(pglearn.predict(m, f) = label) FROM toy WHERE label IN (-1, 1)) AS separates
FROM (SELECT s AS solver, (SELECT pglearn.train(f, label, jsonb_build_object('solver', s)) FROM toy) AS m
      FROM unnest(ARRAY['logreg', 'svm', 'pa']) s) models;

-- defaults as LIBLINEAR's: logreg epsilon 0.01, svm 0.1; pa runs epochs
SELECT pglearn.model_info(pglearn.train(f, label, '{"solver": "svm"}'))->'epsilon' FROM toy;
SELECT pglearn.model_info(pglearn.train(f, label, '{"solver": "pa", "epochs": 3}'))->'max_iter' FROM toy;

-- same input, same model, whatever the row order
SELECT (SELECT pglearn.train(f, label) FROM toy) OPERATOR(pglearn.=) (SELECT pglearn.train(f, label ORDER BY random()) FROM toy) AS logreg_same,
       (SELECT pglearn.train(f, label, '{"solver": "pa"}') FROM toy) OPERATOR(pglearn.=)
       (SELECT pglearn.train(f, label, '{"solver": "pa"}' ORDER BY f::text DESC) FROM toy) AS pa_same;
-- a different seed shuffles the online solver differently
SELECT (SELECT pglearn.train(f, label, '{"solver": "pa", "seed": 1}') FROM toy) OPERATOR(pglearn.=)
       (SELECT pglearn.train(f, label, '{"solver": "pa", "seed": 2}') FROM toy) AS seeds_equal;

-- parameters are recorded in the model
SELECT pglearn.model_info(pglearn.train(f, label, '{"C": 0.5, "bias": 0, "class_weight": {"1": 2, "-1": 1}}'))
       - ARRAY['id', 'trained_at', 'iterations', 'platt_a', 'platt_b'] FROM toy;
SELECT pglearn.model_info(pglearn.train(f, label, '{"class_weight": "balanced"}')) -> 'weight_pos' AS balanced_pos
FROM (SELECT * FROM toy UNION ALL SELECT '{1:1}', 1) t;
-- bias 0: no intercept weight
SELECT count(*) FILTER (WHERE index = -1) AS bias_rows FROM pglearn.weights((SELECT pglearn.train(f, label, '{"bias": 0}') FROM toy));

-- labels
SELECT pglearn.train(f, l) FROM (VALUES ('{1:1}'::pglearn.fvec, 2)) v(f, l);
SELECT pglearn.train(f, l) FROM (VALUES ('{1:1}'::pglearn.fvec, -5)) v(f, l);
SELECT pglearn.train(f, label) FROM toy WHERE false;
SELECT pglearn.train(f, label) FROM toy WHERE label IS NULL OR label = 0;
-- one class only still trains (fit() refuses it, train() leaves it to you)
SELECT pglearn.predict(pglearn.train(f, label), '{9:1}') FROM toy WHERE label = 1;
-- a NULL fvec is skipped like an unlabelled row
SELECT pglearn.model_info(pglearn.train(f, label))->'n_pos' FROM (SELECT * FROM toy UNION ALL SELECT NULL, 1) t;

-- feature indexes anywhere in the int4 range (not only hashed ones)
SELECT pglearn.model_info(m)->'n_features' AS n_features, pglearn.predict(m, '{2000000000:1}') AS predicted
FROM (SELECT pglearn.train(f, l) AS m
      FROM (VALUES ('{1:1,2000000000:1}'::pglearn.fvec, 1), ('{5:1,1500000000:1}', -1)) v(f, l)) t;

-- bad parameters name the valid ones
SELECT pglearn.train(f, label, '{"Cee": 1}') FROM toy;
SELECT pglearn.train(f, label, '[1, 2]') FROM toy;
SELECT pglearn.train(f, label, '{"solver": "forest"}') FROM toy;
SELECT pglearn.train(f, label, '{"solver": 1}') FROM toy;
SELECT pglearn.train(f, label, '{"C": -1}') FROM toy;
SELECT pglearn.train(f, label, '{"C": 0}') FROM toy;
SELECT pglearn.train(f, label, '{"C": "big"}') FROM toy;
SELECT pglearn.train(f, label, '{"C": [1, 10]}') FROM toy;
SELECT pglearn.train(f, label, '{"epsilon": 0}') FROM toy;
SELECT pglearn.train(f, label, '{"max_iter": 0}') FROM toy;
SELECT pglearn.train(f, label, '{"max_iter": 1.5}') FROM toy;
SELECT pglearn.train(f, label, '{"class_weight": "heavy"}') FROM toy;
SELECT pglearn.train(f, label, '{"class_weight": {"2": 1}}') FROM toy;
SELECT pglearn.train(f, label, '{"class_weight": {"1": 0}}') FROM toy;
SELECT pglearn.train(f, label, '{"bias": -1}') FROM toy;
SELECT pglearn.train(f, label, '{"epochs": 5}') FROM toy;
SELECT pglearn.train(f, label, '{"solver": "pa", "max_iter": 5}') FROM toy;
SELECT pglearn.train(f, label, '{"seed": -1}') FROM toy;
SELECT pglearn.train(f, label, CASE WHEN label = 1 THEN '{"C": 1}'::jsonb ELSE '{"C": 2}' END) FROM toy;

-- a larger set: 20k rows, 40 features out of 2000 each, label from a hidden rule
CREATE TABLE big AS
SELECT pglearn.features(NULL, NULL,
         (SELECT string_agg('w' || ((i * 7919 + j * 104729) % 2000), ' ') FROM generate_series(1, 40) j),
         16) AS f,
       CASE WHEN (i * 7919) % 2000 < 1000 THEN 1 ELSE -1 END AS label
FROM generate_series(1, 20000) i;
ANALYZE big;

-- a parallel plan computes partial states in workers and combines them ...
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT pglearn.train(f, label) FROM big;
CREATE TEMP TABLE parallel_models AS
SELECT (SELECT pglearn.train(f, label) FROM big) AS logreg,
       (SELECT pglearn.train(f, label, '{"solver": "svm"}') FROM big) AS svm,
       (SELECT pglearn.train(f, label, '{"solver": "pa"}') FROM big) AS pa;
-- ... and gives exactly the serial plan's model
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT pglearn.train(f, label) FROM big;
SELECT logreg OPERATOR(pglearn.=) (SELECT pglearn.train(f, label) FROM big) AS logreg_equal,
       svm OPERATOR(pglearn.=) (SELECT pglearn.train(f, label, '{"solver": "svm"}') FROM big) AS svm_equal,
       pa OPERATOR(pglearn.=) (SELECT pglearn.train(f, label, '{"solver": "pa"}') FROM big) AS pa_equal,
       pglearn.model_info(logreg)->>'n_pos' AS n_pos
FROM parallel_models;
RESET max_parallel_workers_per_gather;

-- the training set's memory is bounded
SET pglearn.max_train_memory = '1MB';
SELECT pglearn.train(f, label) FROM big;
RESET pglearn.max_train_memory;
SET pglearn.max_train_memory = 100;

-- a long training is cancelled promptly by statement_timeout
RESET pglearn.max_train_memory;
SET statement_timeout = '300ms';
SELECT pglearn.train(f, label, '{"solver": "pa", "epochs": 1000000}') FROM big;
RESET statement_timeout;

DROP TABLE toy, big;
