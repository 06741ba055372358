/* pglearn--0.1.sql: active learning inside PostgreSQL */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pglearn" to load this file. \quit

--
-- Types
--

-- fvec: sparse feature vector, {index:value,...} with sorted unique indexes
CREATE TYPE fvec;

CREATE FUNCTION fvec_in(cstring) RETURNS fvec
	AS 'MODULE_PATHNAME', 'pglearn_fvec_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fvec_out(fvec) RETURNS cstring
	AS 'MODULE_PATHNAME', 'pglearn_fvec_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fvec_recv(internal) RETURNS fvec
	AS 'MODULE_PATHNAME', 'pglearn_fvec_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fvec_send(fvec) RETURNS bytea
	AS 'MODULE_PATHNAME', 'pglearn_fvec_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE fvec (
	INPUT = fvec_in,
	OUTPUT = fvec_out,
	RECEIVE = fvec_recv,
	SEND = fvec_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = int4,
	STORAGE = extended
);
COMMENT ON TYPE fvec IS 'sparse feature vector: sorted unique int4 indexes with float4 values';

CREATE FUNCTION nnz(fvec) RETURNS int4
	AS 'MODULE_PATHNAME', 'pglearn_fvec_nnz'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION nnz(fvec) IS 'number of stored (non-zero) entries of a feature vector';

CREATE FUNCTION cosine_similarity(fvec, fvec) RETURNS float8
	AS 'MODULE_PATHNAME', 'pglearn_fvec_cosine'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cosine_similarity(fvec, fvec) IS 'cosine of the angle between two feature vectors (0 if either is empty)';

CREATE FUNCTION fvec_eq(fvec, fvec) RETURNS bool
	AS 'MODULE_PATHNAME', 'pglearn_fvec_eq'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR = (
	LEFTARG = fvec, RIGHTARG = fvec, PROCEDURE = fvec_eq,
	COMMUTATOR = =, RESTRICT = eqsel, JOIN = eqjoinsel
);
COMMENT ON OPERATOR =(fvec, fvec) IS 'same indexes with bitwise identical values';

-- model: a trained linear classifier
CREATE TYPE model;

CREATE FUNCTION model_in(cstring) RETURNS model
	AS 'MODULE_PATHNAME', 'pglearn_model_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION model_out(model) RETURNS cstring
	AS 'MODULE_PATHNAME', 'pglearn_model_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION model_recv(internal) RETURNS model
	AS 'MODULE_PATHNAME', 'pglearn_model_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION model_send(model) RETURNS bytea
	AS 'MODULE_PATHNAME', 'pglearn_model_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE model (
	INPUT = model_in,
	OUTPUT = model_out,
	RECEIVE = model_recv,
	SEND = model_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE model IS 'trained linear binary classifier: header, hyper-parameters and sparse weights';

CREATE FUNCTION model_eq(model, model) RETURNS bool
	AS 'MODULE_PATHNAME', 'pglearn_model_eq'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR = (
	LEFTARG = model, RIGHTARG = model, PROCEDURE = model_eq,
	COMMUTATOR = =, RESTRICT = eqsel, JOIN = eqjoinsel
);
COMMENT ON OPERATOR =(model, model) IS 'identical models (same parameters and weights), whenever trained';

CREATE FUNCTION model_info(model) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'pglearn_model_info'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION model_info(model) IS 'header of a model (id, solver, hyper-parameters, counts) as jsonb, without weights';

CREATE FUNCTION weights(model, OUT index int4, OUT weight float8) RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'pglearn_model_weights'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION weights(model) IS 'non-zero weights of a model by feature index; the bias weight has index -1';

--
-- Features
--

CREATE FUNCTION features(url text, title text, body text,
						 hash_bits int4 DEFAULT 20, "binary" bool DEFAULT false)
	RETURNS fvec
	AS 'MODULE_PATHNAME', 'pglearn_features'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION features(text, text, text, int4, bool) IS
	'hashed feature vector of an article: u: URL host, suffixes and path words, t: title, b: body; log(1+tf), L2-normalised (binary: 0/1 indicators plus bias, unnormalised)';

CREATE FUNCTION features(document tsvector,
						 hash_bits int4 DEFAULT 20, "binary" bool DEFAULT false)
	RETURNS fvec
	AS 'MODULE_PATHNAME', 'pglearn_features_tsvector'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION features(tsvector, int4, bool) IS
	'hashed feature vector of a tsvector''s lexemes (tf = number of positions), for any text search configuration';

CREATE FUNCTION feature_names(url text, title text, body text,
							  hash_bits int4 DEFAULT 20, "binary" bool DEFAULT false,
							  OUT feature text, OUT index int4, OUT value float4)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'pglearn_feature_names'
	LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 200;
COMMENT ON FUNCTION feature_names(text, text, text, int4, bool) IS
	'the features of an article by name, with their hashed index and final value';

--
-- Training
--

CREATE FUNCTION train_transfn(internal, fvec, int4) RETURNS internal
	AS 'MODULE_PATHNAME', 'pglearn_train_transfn'
	LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION train_transfn(internal, fvec, int4, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME', 'pglearn_train_transfn'
	LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION train_combinefn(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'pglearn_train_combinefn'
	LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION train_serialfn(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'pglearn_train_serialfn'
	LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION train_deserialfn(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'pglearn_train_deserialfn'
	LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION train_finalfn(internal) RETURNS model
	AS 'MODULE_PATHNAME', 'pglearn_train_finalfn'
	LANGUAGE C PARALLEL SAFE;

CREATE AGGREGATE train(fvec, int4) (
	SFUNC = train_transfn,
	STYPE = internal,
	FINALFUNC = train_finalfn,
	COMBINEFUNC = train_combinefn,
	SERIALFUNC = train_serialfn,
	DESERIALFUNC = train_deserialfn,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE train(fvec, int4) IS
	'train a linear classifier (default: L2 logistic regression) on (features, label) rows; labels +1/-1, NULL and 0 skipped';

CREATE AGGREGATE train(fvec, int4, jsonb) (
	SFUNC = train_transfn,
	STYPE = internal,
	FINALFUNC = train_finalfn,
	COMBINEFUNC = train_combinefn,
	SERIALFUNC = train_serialfn,
	DESERIALFUNC = train_deserialfn,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE train(fvec, int4, jsonb) IS
	'train a linear classifier with parameters: solver (logreg, svm, pa), C, epsilon, max_iter, class_weight, bias, seed, epochs';

--
-- Scoring
--

CREATE FUNCTION score(model, fvec) RETURNS float8
	AS 'MODULE_PATHNAME', 'pglearn_score'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION score(model, fvec) IS 'margin w.x + b of a feature vector (positive means +1)';

CREATE FUNCTION classify(model, fvec) RETURNS float8
	AS 'MODULE_PATHNAME', 'pglearn_classify'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION classify(model, fvec) IS
	'probability of +1: sigmoid of the margin for logreg, Platt-calibrated sigmoid for svm and pa';

CREATE FUNCTION predict(model, fvec) RETURNS int4
	AS 'MODULE_PATHNAME', 'pglearn_predict'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION predict(model, fvec) IS 'predicted label, +1 or -1 (the sign of the margin; 0 counts as +1)';

--
-- Evaluation
--

CREATE FUNCTION evaluate_transfn(internal, float8, int4) RETURNS internal
	AS 'MODULE_PATHNAME', 'pglearn_evaluate_transfn'
	LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION evaluate_combinefn(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'pglearn_evaluate_combinefn'
	LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION evaluate_serialfn(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'pglearn_evaluate_serialfn'
	LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION evaluate_deserialfn(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'pglearn_evaluate_deserialfn'
	LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION evaluate_finalfn(internal) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'pglearn_evaluate_finalfn'
	LANGUAGE C PARALLEL SAFE;

CREATE AGGREGATE evaluate(float8, int4) (
	SFUNC = evaluate_transfn,
	STYPE = internal,
	FINALFUNC = evaluate_finalfn,
	COMBINEFUNC = evaluate_combinefn,
	SERIALFUNC = evaluate_serialfn,
	DESERIALFUNC = evaluate_deserialfn,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE evaluate(float8, int4) IS
	'quality of probabilities against labels +1/-1: n, accuracy, precision, recall, f1, roc_auc, log_loss, confusion matrix';

--
-- Tables
--

CREATE TABLE examples (
	id				bigserial PRIMARY KEY,
	url				text NOT NULL UNIQUE,
	label			int4 CHECK (label IN (-1, 0, 1)),
	title			text,
	description		text,
	og_description	text,
	og_type			text,
	og_image		text,
	favicon			text,
	body			text,
	final_url		text,
	http_status		int4,
	fetch_error		text,
	error_count		int4 NOT NULL DEFAULT 0,
	score			float8,
	created_at		timestamptz NOT NULL DEFAULT now(),
	updated_at		timestamptz NOT NULL DEFAULT now(),
	fetched_at		timestamptz
);
COMMENT ON TABLE examples IS 'articles: URL, label (+1 interesting, -1 not, 0/NULL unlabelled), fetched page fields and model score';
CREATE INDEX examples_label_idx ON examples (label);
CREATE INDEX examples_final_url_idx ON examples (final_url);
CREATE INDEX examples_fetched_at_idx ON examples (fetched_at);

CREATE FUNCTION examples_touch() RETURNS trigger
	LANGUAGE plpgsql AS
$$
BEGIN
	NEW.updated_at := now();
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION examples_touch() IS 'trigger: keeps examples.updated_at current';
CREATE TRIGGER examples_touch BEFORE UPDATE ON examples
	FOR EACH ROW EXECUTE FUNCTION examples_touch();

CREATE TABLE models (
	id				bigserial PRIMARY KEY,
	name			text NOT NULL CHECK (name <> ''),
	model			model NOT NULL,
	params			jsonb NOT NULL DEFAULT '{}',
	metrics			jsonb,
	created_at		timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE models IS 'trained models by name; every fit adds a row, the newest row of a name is the live model';
CREATE INDEX models_name_created_idx ON models (name, created_at DESC, id DESC);

SELECT pg_catalog.pg_extension_config_dump('examples', '');
SELECT pg_catalog.pg_extension_config_dump('examples_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('models', '');
SELECT pg_catalog.pg_extension_config_dump('models_id_seq', '');

CREATE FUNCTION classify(name text, url text, title text, body text) RETURNS float8
	AS 'MODULE_PATHNAME', 'pglearn_classify_named'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION classify(text, text, text, text) IS
	'probability of +1 for an article under the newest stored model of that name (features as the model was fitted)';

--
-- Fitting stored models
--

-- Keys fit() and cross_validate() understand beside train()'s own.
CREATE FUNCTION _fit_check_params(params jsonb) RETURNS void
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS
$$
DECLARE
	key text;
	valid text[] := ARRAY['solver', 'C', 'epsilon', 'max_iter', 'epochs', 'class_weight',
						  'bias', 'seed', 'k', 'hash_bits', 'binary', 'select_by'];
BEGIN
	IF params IS NULL OR jsonb_typeof(params) <> 'object' THEN
		RAISE EXCEPTION 'fit parameters must be a jsonb object'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'For example ''{"C": [0.1, 1, 10], "k": 5}''.';
	END IF;
	FOR key IN SELECT jsonb_object_keys(params) LOOP
		IF NOT key = ANY (valid) THEN
			RAISE EXCEPTION 'unknown fit parameter "%"', key
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Valid parameters are: ' || array_to_string(valid, ', ') || '.';
		END IF;
	END LOOP;
	IF params ? 'select_by' AND NOT (params->>'select_by') = ANY (ARRAY['f1', 'log_loss', 'roc_auc', 'accuracy']) THEN
		RAISE EXCEPTION 'invalid fit parameter "select_by": %', params->'select_by'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Choose C by "f1" (the default), "log_loss", "roc_auc" or "accuracy".';
	END IF;
	IF params ? 'C' AND jsonb_typeof(params->'C') = 'array' AND jsonb_array_length(params->'C') = 0 THEN
		RAISE EXCEPTION 'invalid fit parameter "C": the grid is empty'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
END
$$;

COMMENT ON FUNCTION _fit_check_params(jsonb) IS 'internal: validates fit() and cross_validate() parameters';

-- Materialise the labelled rows of source as pg_temp.pglearn_fit_data(f,
-- label, fold), with stratified folds that depend only on the URLs (and the
-- seed), so the same data always gives the same folds.
CREATE FUNCTION _fit_prepare(source regclass, k int4, params jsonb) RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS
$$
DECLARE
	hash_bits int4 := coalesce((params->>'hash_bits')::int4, 20);
	use_binary bool := coalesce((params->>'binary')::bool, false);
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
		body_expr := 'concat_ws(E''\n'', description::text, body::text)';
	END IF;

	IF to_regclass('pg_temp.pglearn_fit_data') IS NOT NULL THEN
		DROP TABLE pg_temp.pglearn_fit_data;
	END IF;
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

COMMENT ON FUNCTION _fit_prepare(regclass, int4, jsonb) IS 'internal: the labelled rows of a source with features and folds, as pg_temp.pglearn_fit_data';

-- Cross-validate every C of the grid over pg_temp.pglearn_fit_data; the
-- result holds the metrics of the chosen C and the whole grid.
CREATE FUNCTION _fit_search(params jsonb) RETURNS jsonb
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS
$$
DECLARE
	k int4 := coalesce((params->>'k')::int4, 5);
	select_by text := coalesce(params->>'select_by', 'f1');
	train_params jsonb := params - ARRAY['k', 'hash_bits', 'binary', 'select_by'];
	grid float8[];
	c float8;
	i int4;
	fold_models pglearn.model[];
	metrics jsonb;
	best jsonb;
	best_value float8;
	value float8;
	results jsonb := '[]';
BEGIN
	IF jsonb_typeof(params->'C') = 'array' THEN
		SELECT array_agg(x::float8 ORDER BY ordinality) INTO grid
		  FROM jsonb_array_elements_text(params->'C') WITH ORDINALITY AS g(x, ordinality);
	ELSE
		grid := ARRAY[coalesce((params->>'C')::float8, 1.0)];
	END IF;

	FOREACH c IN ARRAY grid LOOP
		fold_models := '{}';
		FOR i IN 0 .. k - 1 LOOP
			fold_models := fold_models || (SELECT pglearn.train(d.f, d.label, train_params || jsonb_build_object('C', c))
											 FROM pg_temp.pglearn_fit_data d WHERE d.fold <> i);
		END LOOP;
		-- rows sorted by fold reach classify() one model at a time, so each
		-- fold's model is decoded once
		SELECT pglearn.evaluate(p, label) INTO metrics
		  FROM (SELECT pglearn.classify(fold_models[s.fold + 1], s.f) AS p, s.label
				  FROM (SELECT * FROM pg_temp.pglearn_fit_data ORDER BY fold) s) scored;
		metrics := jsonb_build_object('C', c) || metrics;
		results := results || jsonb_build_array(metrics);
		value := (metrics->>select_by)::float8;
		IF value IS NOT NULL AND
		   (best_value IS NULL OR
			(select_by = 'log_loss' AND value < best_value) OR
			(select_by <> 'log_loss' AND value > best_value)) THEN
			best_value := value;
			best := metrics;
		END IF;
	END LOOP;
	IF best IS NULL THEN
		best := results->0;
	END IF;
	RETURN best || jsonb_build_object('k', k, 'select_by', select_by, 'grid', results);
END
$$;

COMMENT ON FUNCTION _fit_search(jsonb) IS 'internal: cross-validates each C of the grid over pg_temp.pglearn_fit_data';

CREATE FUNCTION cross_validate(source regclass DEFAULT 'pglearn.examples', k int4 DEFAULT 5,
							   params jsonb DEFAULT '{}')
	RETURNS jsonb
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS
$$
DECLARE
	result jsonb;
BEGIN
	PERFORM pglearn._fit_check_params(params);
	PERFORM pglearn._fit_prepare(source, k, params);
	result := pglearn._fit_search(params || jsonb_build_object('k', k));
	DROP TABLE pg_temp.pglearn_fit_data;
	RETURN result;
END
$$;
COMMENT ON FUNCTION cross_validate(regclass, int4, jsonb) IS
	'k-fold cross-validation (stratified, deterministic folds) of train() on the labelled rows of source; with "C": [..] searches the grid';

CREATE FUNCTION fit(name text, source regclass DEFAULT 'pglearn.examples', params jsonb DEFAULT '{}')
	RETURNS jsonb
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS
$$
DECLARE
	started timestamptz := clock_timestamp();
	k int4 := coalesce((params->>'k')::int4, 5);
	result jsonb;
	chosen_params jsonb;
	trained pglearn.model;
BEGIN
	IF name IS NULL OR name = '' THEN
		RAISE EXCEPTION 'model name must not be empty'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM pglearn._fit_check_params(params);
	PERFORM pglearn._fit_prepare(source, k, params);
	result := pglearn._fit_search(params);

	chosen_params := params || jsonb_build_object('C', result->'C', 'k', k,
		'hash_bits', coalesce((params->>'hash_bits')::int4, 20),
		'binary', coalesce((params->>'binary')::bool, false));
	SELECT pglearn.train(f, label, chosen_params - ARRAY['k', 'hash_bits', 'binary', 'select_by'])
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
COMMENT ON FUNCTION fit(text, regclass, jsonb) IS
	'train a model on the labelled rows of source, cross-validate it (choosing C from a grid), store it in pglearn.models under name, return its metrics';
