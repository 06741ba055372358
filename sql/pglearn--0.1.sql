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
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION train_transfn(internal, fvec, int4, jsonb) RETURNS internal
	AS 'MODULE_PATHNAME', 'pglearn_train_transfn'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION train_combinefn(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'pglearn_train_combinefn'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION train_serialfn(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'pglearn_train_serialfn'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION train_deserialfn(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'pglearn_train_deserialfn'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- volatile only because the model records when it was trained
CREATE FUNCTION train_finalfn(internal) RETURNS model
	AS 'MODULE_PATHNAME', 'pglearn_train_finalfn'
	LANGUAGE C VOLATILE PARALLEL SAFE;

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
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION evaluate_combinefn(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'pglearn_evaluate_combinefn'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION evaluate_serialfn(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'pglearn_evaluate_serialfn'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION evaluate_deserialfn(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'pglearn_evaluate_deserialfn'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION evaluate_finalfn(internal) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'pglearn_evaluate_finalfn'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;

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

--
-- Active learning, recommendations and reports
--

-- The text the features of an article are computed from, as fit() does for
-- sources with a description column (see _fit_prepare): every scorer below
-- uses it, so stored scores equal what fit()'s model sees.
CREATE FUNCTION article_text(description text, body text) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT concat_ws(E'\n', description, body) $$;
COMMENT ON FUNCTION article_text(text, text) IS
	'the body text features are computed from: description and body joined by a newline, as fit() does';

CREATE FUNCTION url_host(url text) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT lower(substring(url FROM '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/:?#]+)')) $$;
COMMENT ON FUNCTION url_host(text) IS
	'lower-cased host of a URL, without user info or port; NULL if the text has no scheme://host';

-- The setting, readable before the module is loaded (a session that has not
-- called any C function of pglearn yet sees no definition, only placeholders).
CREATE FUNCTION _default_model() RETURNS text
	LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT coalesce(current_setting('pglearn.default_model', true), 'default') $$;
COMMENT ON FUNCTION _default_model() IS 'internal: the value of pglearn.default_model ('''' = none)';

-- The newest model of a name (NULL: pglearn.default_model) with the feature
-- settings it was fitted with; an unknown name is an error.
CREATE FUNCTION _live_model(name text, OUT model_name text, OUT model model, OUT hash_bits int4, OUT "binary" bool)
	LANGUAGE plpgsql STABLE PARALLEL SAFE AS
$$
BEGIN
	model_name := coalesce(name, pglearn._default_model());
	IF model_name = '' THEN
		RAISE EXCEPTION 'no model name given and pglearn.default_model is empty'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass a model name or SET pglearn.default_model.';
	END IF;
	SELECT m.model, coalesce((m.params->>'hash_bits')::int4, 20), coalesce((m.params->>'binary')::bool, false)
	  INTO model, hash_bits, "binary"
	  FROM pglearn.models m WHERE m.name = model_name
	 ORDER BY m.created_at DESC, m.id DESC LIMIT 1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'model "%" does not exist', model_name
			USING ERRCODE = 'undefined_object',
				  HINT = format('Train it with SELECT pglearn.fit(%L); existing models are listed in pglearn.models.', model_name);
	END IF;
END
$$;
COMMENT ON FUNCTION _live_model(text) IS 'internal: newest model of a name (NULL: pglearn.default_model) with its hash_bits and binary settings';

CREATE FUNCTION _check_k(what text, k int4, nullable bool DEFAULT false) RETURNS void
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS
$$
BEGIN
	IF (k IS NULL AND NOT nullable) OR k < 1 THEN
		RAISE EXCEPTION '% must be a positive integer, got %', what, coalesce(k::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
END
$$;
COMMENT ON FUNCTION _check_k(text, int4, bool) IS 'internal: rejects a non-positive (or NULL) count argument';

--
-- Scores stay current
--

-- Scores inserted and re-fetched rows with the newest model named by
-- pglearn.default_model.  No such model (or the setting empty): the score is
-- left alone, never an error, so the crawler can always insert.
CREATE FUNCTION examples_score() RETURNS trigger
	LANGUAGE plpgsql AS
$$
DECLARE
	model_name text := pglearn._default_model();
BEGIN
	IF model_name = '' OR NOT EXISTS (SELECT FROM pglearn.models WHERE name = model_name) THEN
		RETURN NEW;
	END IF;
	-- INSERT ... ON CONFLICT fires this for the proposed row even when the
	-- URL is stored and the row becomes an UPDATE; that UPDATE scores the
	-- merged row if it changes the text, so do not tokenize twice
	IF TG_OP = 'INSERT' AND EXISTS (SELECT FROM pglearn.examples WHERE url = NEW.url) THEN
		RETURN NEW;
	END IF;
	NEW.score := pglearn.classify(model_name, NEW.url, NEW.title,
								  pglearn.article_text(NEW.description, NEW.body));
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION examples_score() IS
	'trigger: scores inserted and re-fetched examples with the model named by pglearn.default_model, if it exists';
CREATE TRIGGER examples_score BEFORE INSERT OR UPDATE OF url, title, description, body ON examples
	FOR EACH ROW EXECUTE FUNCTION examples_score();
COMMENT ON TRIGGER examples_score ON examples IS
	'scores rows as they are inserted or re-fetched, so the crawler only inserts';

-- One batch of rescore: rows with after_id < id, at most batch_size of them.
-- Returns the last id looked at (NULL when there was none) and how many
-- scores changed.
CREATE FUNCTION _rescore_batch(name text, after_id int8, batch_size int4,
							   OUT last_id int8, OUT changed int8)
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS
$$
BEGIN
	SELECT max(id) INTO last_id
	  FROM (SELECT id FROM pglearn.examples WHERE id > after_id ORDER BY id LIMIT batch_size) b;
	IF last_id IS NULL THEN
		changed := 0;
		RETURN;
	END IF;
	UPDATE pglearn.examples e
	   SET score = s.p
	  FROM (SELECT id, pglearn.classify(name, url, title, pglearn.article_text(description, body)) AS p
			  FROM pglearn.examples WHERE id > after_id AND id <= last_id) s
	 WHERE e.id = s.id AND e.score IS DISTINCT FROM s.p;
	GET DIAGNOSTICS changed = ROW_COUNT;
END
$$;
COMMENT ON FUNCTION _rescore_batch(text, int8, int4) IS 'internal: rescores one batch of examples by id';

CREATE FUNCTION rescore(name text DEFAULT NULL, batch_size int4 DEFAULT 10000) RETURNS int8
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS
$$
DECLARE
	model_name text := (pglearn._live_model(name)).model_name;
	after_id int8 := 0;
	b record;
	total int8 := 0;
BEGIN
	PERFORM pglearn._check_k('batch_size', batch_size);
	LOOP
		b := pglearn._rescore_batch(model_name, after_id, batch_size);
		EXIT WHEN b.last_id IS NULL;
		total := total + b.changed;
		after_id := b.last_id;
	END LOOP;
	RETURN total;
END
$$;
COMMENT ON FUNCTION rescore(text, int4) IS
	'sets examples.score of every row from the newest model of name (default pglearn.default_model), batch_size rows per statement; returns how many scores changed';

CREATE PROCEDURE refresh(name text DEFAULT NULL, params jsonb DEFAULT '{}', batch_size int4 DEFAULT 10000)
	LANGUAGE plpgsql AS
$$
DECLARE
	model_name text := coalesce(name, pglearn._default_model());
	metrics jsonb;
	after_id int8 := 0;
	b record;
	total int8 := 0;
BEGIN
	PERFORM pglearn._check_k('batch_size', batch_size);
	-- fit() raises on failure, so a failed fit never rescores
	metrics := pglearn.fit(model_name, 'pglearn.examples', params);
	COMMIT;
	LOOP
		b := pglearn._rescore_batch(model_name, after_id, batch_size);
		EXIT WHEN b.last_id IS NULL;
		total := total + b.changed;
		after_id := b.last_id;
		COMMIT;
	END LOOP;
	RAISE NOTICE 'refresh: model "%" fitted on % rows (f1 %, accuracy %), % scores changed',
		model_name, metrics->'n', metrics->'f1', metrics->'accuracy', total;
END
$$;
COMMENT ON PROCEDURE refresh(text, jsonb, int4) IS
	'the scheduled job: fit the model (default pglearn.default_model) on pglearn.examples, commit, then rescore in batches, committing each; CALL outside a transaction block';

--
-- Labelling
--

CREATE FUNCTION label(url text, label int4) RETURNS int8
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS
$$
DECLARE
	row_id int8;
BEGIN
	IF url IS NULL OR url !~* '^https?://[^/?#\s]+[^\s]*$' THEN
		RAISE EXCEPTION 'invalid article URL: %', coalesce(quote_literal(url), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Give an absolute http:// or https:// URL without spaces.';
	END IF;
	-- the crawler's limit too; longer keys would also overflow the url index
	IF octet_length(url) > 2048 THEN
		RAISE EXCEPTION 'article URL too long (% bytes)', octet_length(url)
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'URLs are at most 2048 bytes.';
	END IF;
	IF label IS NULL OR label NOT IN (-1, 0, 1) THEN
		RAISE EXCEPTION 'invalid label %', coalesce(label::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Labels are 1 (interesting), -1 (not interesting) and 0 (unlabelled).';
	END IF;
	INSERT INTO pglearn.examples AS e (url, label) VALUES (label.url, label.label)
		ON CONFLICT ON CONSTRAINT examples_url_key DO UPDATE SET label = EXCLUDED.label
	RETURNING e.id INTO row_id;
	RETURN row_id;
END
$$;
COMMENT ON FUNCTION label(text, int4) IS
	'labels an article (1, -1, or 0 to unlabel), adding it if new; returns its id';

-- Unlabelled rows with a title or body and no failed fetch, ranked by how
-- unsure the model is (|p - 0.5| ascending, ties by URL), without rows that
-- duplicate a labelled row (same url, final_url or title), one row per final
-- URL and per title, at most per_host rows per host.
CREATE FUNCTION uncertain(model_name text DEFAULT NULL, k int4 DEFAULT 10, per_host int4 DEFAULT 3)
	RETURNS TABLE (rank int8, id int8, url text, title text, host text, score float8)
	LANGUAGE plpgsql STABLE PARALLEL SAFE AS
$$
DECLARE
	live_model pglearn.model;
	hash_bits int4;
	use_binary bool;
BEGIN
	PERFORM pglearn._check_k('k', k, true);
	PERFORM pglearn._check_k('per_host', per_host, true);
	IF model_name IS NOT NULL THEN
		SELECT l.model, l.hash_bits, l."binary" INTO live_model, hash_bits, use_binary
		  FROM pglearn._live_model(model_name) l;
	END IF;
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
			   CASE WHEN live_model IS NULL THEN e.score
					ELSE pglearn.classify(live_model, pglearn.features(e.url, e.title,
						pglearn.article_text(e.description, e.body), hash_bits, use_binary)) END AS p
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
	SELECT row_number() OVER (ORDER BY abs(h.p - 0.5), h.url), h.id, h.url, h.title, h.host, h.p
	  FROM by_host h
	 WHERE per_host IS NULL OR h.n3 <= per_host
	 ORDER BY abs(h.p - 0.5), h.url
	 LIMIT k;
END
$$;
COMMENT ON FUNCTION uncertain(text, int4, int4) IS
	'the k unlabelled articles the model is least sure of (margin sampling), without duplicates of labelled rows, at most per_host per host; model_name NULL uses the stored scores';

CREATE VIEW to_label AS
	SELECT * FROM uncertain(NULL, NULL, 3);
COMMENT ON VIEW to_label IS
	'every unlabelled article by stored score, most uncertain first (rank), without duplicates of labelled rows, at most 3 per host';

-- The features of a stored article that push its score the way it goes,
-- strongest first: what a labeller sees beside the article.
CREATE FUNCTION supporting_features(url text, k int4 DEFAULT 5, model_name text DEFAULT NULL)
	RETURNS TABLE (feature text, value float4, weight float8, contribution float8)
	LANGUAGE plpgsql STABLE PARALLEL SAFE AS
$$
DECLARE
	live record;
	article record;
	margin float8;
BEGIN
	PERFORM pglearn._check_k('k', k);
	live := pglearn._live_model(model_name);
	SELECT e.url, e.title, pglearn.article_text(e.description, e.body) AS body INTO article
	  FROM pglearn.examples e WHERE e.url = supporting_features.url;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no article with URL %', quote_literal(url)
			USING ERRCODE = 'no_data_found';
	END IF;
	margin := pglearn.score(live.model, pglearn.features(article.url, article.title, article.body,
														  live.hash_bits, live."binary"));
	RETURN QUERY
	SELECT n.feature, n.value, w.weight, n.value * w.weight AS contribution
	  FROM pglearn.feature_names(article.url, article.title, article.body, live.hash_bits, live."binary") n
	  JOIN pglearn.weights(live.model) w ON w.index = n.index
	 WHERE sign(n.value * w.weight) = CASE WHEN margin >= 0 THEN 1 ELSE -1 END
	 ORDER BY abs(n.value * w.weight) DESC, n.feature
	 LIMIT k;
END
$$;
COMMENT ON FUNCTION supporting_features(text, int4, text) IS
	'the k features of a stored article that contribute most in the direction of its score (value x weight), under a model (default pglearn.default_model)';

--
-- Recommendations
--

CREATE TABLE lists (
	name			text PRIMARY KEY CHECK (name ~ '^[a-z0-9_-]+$'),
	url_pattern		text NOT NULL DEFAULT '.' CHECK ('' ~ url_pattern IS NOT NULL),
	og_type			text,
	exclude_pattern	text CHECK (exclude_pattern IS NULL OR '' ~ exclude_pattern IS NOT NULL),
	enabled			bool NOT NULL DEFAULT true,
	description		text,
	builtin			bool NOT NULL DEFAULT false
);
COMMENT ON TABLE lists IS
	'recommendation lists: articles whose final URL matches url_pattern (case-insensitive regex) and not exclude_pattern, and whose og:type is og_type if set';

INSERT INTO lists (name, url_pattern, og_type, exclude_pattern, description, builtin) VALUES
	('general', '.', NULL, '^https?://(www\.|mobile\.)?(twitter|x)\.com/',
	 'every article', true),
	('article', '.', 'article', '^https?://(www\.|mobile\.)?(twitter|x)\.com/',
	 'pages that declare og:type article', true),
	('github', '^https?://(www\.)?github\.com/[^/?#]+/[^/?#]+/?$', NULL, '^https?://(www\.)?github\.com/(orgs|topics|settings|marketplace|sponsors|features|about)/',
	 'GitHub repository top pages', true),
	('slide', '^https?://((www\.)?slideshare\.net/|speakerdeck\.com/|docs\.google\.com/presentation/d/)', NULL, NULL,
	 'slides: SlideShare, Speaker Deck, Google Slides', true),
	('arxiv', '^https?://(arxiv\.org/abs/|openreview\.net/forum\?id=)', NULL, NULL,
	 'papers: arXiv abstracts, OpenReview forums', true),
	('video', '^https?://((www\.|m\.)?youtube\.com/watch\?|youtu\.be/|(www\.)?vimeo\.com/[0-9]|(www\.)?videolectures\.net/)', NULL, NULL,
	 'videos: YouTube, Vimeo, VideoLectures.NET', true),
	('event', '^https?://([a-z0-9-]+\.)?connpass\.com/event/[0-9]+|^https?://techplay\.jp/event/[0-9]+', NULL, NULL,
	 'events: connpass, TECH PLAY', true);

-- pg_dump keeps the lists users add; the seven built-in rows come back with
-- CREATE EXTENSION (so edits to them are not dumped, as with PostGIS's
-- spatial_ref_sys).
SELECT pg_catalog.pg_extension_config_dump('lists', 'WHERE NOT builtin');

CREATE FUNCTION recommend(list text DEFAULT 'general', k int4 DEFAULT 10, days int4 DEFAULT 2,
						  min_score float8 DEFAULT 0.5, unique_by_host bool DEFAULT false,
						  diverse float8 DEFAULT 0)
	RETURNS TABLE (rank int8, id int8, url text, final_url text, title text, host text,
				   score float8, created_at timestamptz)
	LANGUAGE plpgsql STABLE PARALLEL SAFE AS
$$
DECLARE
	l pglearn.lists;
	pool int4;
	ids int8[];
	scores float8[];
	vectors pglearn.fvec[];
	chosen int4[] := '{}';
	taken bool[];
	nearest float8[];
	n int4;
	best int4;
	best_value float8;
	value float8;
	i int4;
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
	pool := CASE WHEN diverse > 0 THEN 10 * k ELSE k END;
	SELECT array_agg(c.id ORDER BY c.score DESC, c.url), array_agg(c.score ORDER BY c.score DESC, c.url)
	  INTO ids, scores
	  FROM (SELECT h.* FROM (
				SELECT t.*, row_number() OVER (PARTITION BY t.host ORDER BY t.score DESC, t.url) AS n3
				  FROM (SELECT f.*, row_number() OVER (PARTITION BY coalesce(f.title_key, f.final_key) ORDER BY f.score DESC, f.url) AS n2
						  FROM (SELECT e.id, e.url, e.score, coalesce(e.final_url, e.url) AS final_key,
									   nullif(btrim(e.title), '') AS title_key,
									   pglearn.url_host(coalesce(e.final_url, e.url)) AS host,
									   row_number() OVER (PARTITION BY coalesce(e.final_url, e.url) ORDER BY e.score DESC, e.url) AS n1
								  FROM pglearn.examples e
								 WHERE e.score > min_score
								   AND e.label IS DISTINCT FROM -1
								   AND e.fetch_error IS NULL
								   AND (e.http_status IS NULL OR e.http_status BETWEEN 200 AND 299)
								   AND (e.title <> '' OR e.body <> '')
								   AND (days IS NULL OR e.created_at >= now() - make_interval(days => days))
								   AND coalesce(e.final_url, e.url) ~* l.url_pattern
								   AND (l.exclude_pattern IS NULL OR coalesce(e.final_url, e.url) !~* l.exclude_pattern)
								   AND (l.og_type IS NULL OR e.og_type = l.og_type)) f
						 WHERE f.n1 = 1) t
				 WHERE t.n2 = 1) h
			 WHERE NOT unique_by_host OR h.n3 = 1
			 ORDER BY h.score DESC, h.url
			 LIMIT pool) c;
	n := coalesce(array_length(ids, 1), 0);

	IF diverse > 0 AND n > 0 THEN
		-- greedy maximal marginal relevance: each step takes the candidate
		-- with the best (1 - diverse) * score - diverse * (its largest
		-- cosine similarity to the articles already taken)
		SELECT array_agg(pglearn.features(NULL, e.title, pglearn.article_text(e.description, e.body)) ORDER BY o.n)
		  INTO vectors
		  FROM unnest(ids) WITH ORDINALITY AS o(id, n) JOIN pglearn.examples e ON e.id = o.id;
		taken := array_fill(false, ARRAY[n]);
		nearest := array_fill(0::float8, ARRAY[n]);
		WHILE coalesce(array_length(chosen, 1), 0) < least(k, n) LOOP
			best := NULL;
			FOR i IN 1 .. n LOOP
				CONTINUE WHEN taken[i];
				value := (1 - diverse) * scores[i] - diverse * nearest[i];
				IF best IS NULL OR value > best_value THEN
					best := i;
					best_value := value;
				END IF;
			END LOOP;
			taken[best] := true;
			chosen := chosen || best;
			FOR i IN 1 .. n LOOP
				CONTINUE WHEN taken[i];
				nearest[i] := greatest(nearest[i], pglearn.cosine_similarity(vectors[best], vectors[i]));
			END LOOP;
		END LOOP;
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
COMMENT ON FUNCTION recommend(text, int4, int4, float8, bool, float8) IS
	'top k articles of a list by stored score: created in the last days days, score > min_score, not labelled -1, one per final URL and title, optionally one per host, optionally diversified (greedy MMR over fvec cosine, weight diverse)';

CREATE VIEW recommendations AS
	SELECT l.name AS list, r.*
	  FROM lists l CROSS JOIN LATERAL recommend(l.name) r
	 WHERE l.enabled;
COMMENT ON VIEW recommendations IS
	'recommend(list) with its defaults for every enabled list';

CREATE FUNCTION similar(article_url text, k int4 DEFAULT 10)
	RETURNS TABLE (id int8, url text, title text, label int4, score float8, similarity float8)
	LANGUAGE plpgsql STABLE PARALLEL SAFE AS
$$
DECLARE
	target record;
	v pglearn.fvec;
BEGIN
	PERFORM pglearn._check_k('k', k);
	SELECT e.id, coalesce(e.final_url, e.url) AS final_key, e.title, e.description, e.body INTO target
	  FROM pglearn.examples e WHERE e.url = article_url;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no article with URL %', quote_literal(article_url)
			USING ERRCODE = 'no_data_found';
	END IF;
	v := pglearn.features(NULL, target.title, pglearn.article_text(target.description, target.body));
	RETURN QUERY
	SELECT s.id, s.url, s.title, s.label, s.score, s.similarity
	  FROM (SELECT e.id, e.url, e.title, e.label, e.score,
				   pglearn.cosine_similarity(v, pglearn.features(NULL, e.title,
					   pglearn.article_text(e.description, e.body))) AS similarity
			  FROM pglearn.examples e
			 WHERE e.id <> target.id AND coalesce(e.final_url, e.url) <> target.final_key
			OFFSET 0) s		-- compute each similarity once
	 WHERE s.similarity > 0
	 ORDER BY s.similarity DESC, s.url
	 LIMIT k;
END
$$;
COMMENT ON FUNCTION similar(text, int4) IS
	'the k stored articles nearest to a stored article by cosine similarity of title and body features (a full scan)';

--
-- Reports
--

CREATE VIEW label_stats AS
	SELECT CASE WHEN grouping(host) = 1 THEN '(all)' ELSE coalesce(host, '(none)') END AS host,
		   count(*) FILTER (WHERE label = 1) AS positive,
		   count(*) FILTER (WHERE label = -1) AS negative,
		   count(*) FILTER (WHERE label IS NULL OR label = 0) AS unlabelled,
		   count(*) AS total
	  FROM (SELECT url_host(coalesce(final_url, url)) AS host, label FROM examples) e
	 GROUP BY GROUPING SETS ((), (host))
	 ORDER BY grouping(host) DESC, count(*) DESC, 1;
COMMENT ON VIEW label_stats IS
	'articles per label, in all ("(all)") and per host, most articles first';

CREATE VIEW model_summary AS
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
		   (m.params->>'hash_bits')::int4 AS hash_bits, (m.params->>'binary')::bool AS "binary",
		   (m.metrics->>'fit_time_ms')::float8 AS fit_time_ms
	  FROM models m CROSS JOIN LATERAL model_info(m.model) i
	 ORDER BY m.name, m.created_at DESC, m.id DESC;
COMMENT ON VIEW model_summary IS
	'every stored model: when, on how many rows, solver, C and its cross-validated metrics; live marks the newest of each name';

CREATE FUNCTION top_features(name text DEFAULT NULL, k int4 DEFAULT 20)
	RETURNS TABLE (weight float8, feature text, index int4, also text[])
	LANGUAGE plpgsql STABLE PARALLEL SAFE AS
$$
DECLARE
	live record;
BEGIN
	PERFORM pglearn._check_k('k', k);
	live := pglearn._live_model(name);
	RETURN QUERY
	WITH top AS (
		(SELECT w.index, w.weight FROM pglearn.weights(live.model) w
		  WHERE w.index >= 0 AND w.weight > 0 ORDER BY w.weight DESC, w.index LIMIT k)
		UNION ALL
		(SELECT w.index, w.weight FROM pglearn.weights(live.model) w
		  WHERE w.index >= 0 AND w.weight < 0 ORDER BY w.weight, w.index LIMIT k)
	), names AS (
		-- the model only knows its features by hashed index: the names come
		-- back from the labelled articles it was trained on
		SELECT n.index, n.feature, count(*) AS rows
		  FROM pglearn.examples e
		 CROSS JOIN LATERAL pglearn.feature_names(e.url, e.title, pglearn.article_text(e.description, e.body),
												  live.hash_bits, live."binary") n
		 WHERE e.label IN (-1, 1) AND n.index IN (SELECT t.index FROM top t)
		 GROUP BY n.index, n.feature
	), ranked AS (
		SELECT n.index, array_agg(n.feature ORDER BY n.rows DESC, n.feature) AS features
		  FROM names n GROUP BY n.index
	)
	SELECT t.weight, r.features[1], t.index, coalesce(r.features[2:], '{}')
	  FROM top t LEFT JOIN ranked r ON r.index = t.index
	 ORDER BY t.weight DESC, t.index;
END
$$;
COMMENT ON FUNCTION top_features(text, int4) IS
	'the k most positive and k most negative weights of a model (default pglearn.default_model) with feature names recovered from the labelled examples; also lists other names hashed to the same index';

CREATE VIEW label_conflicts AS
	WITH live AS (
		SELECT m.model, coalesce((m.params->>'hash_bits')::int4, 20) AS hash_bits,
			   coalesce((m.params->>'binary')::bool, false) AS "binary"
		  FROM models m WHERE m.name = _default_model()
		 ORDER BY m.created_at DESC, m.id DESC LIMIT 1
	), scored AS (
		SELECT e.id, e.url, e.title, e.label, score(live.model, x.f) AS margin, classify(live.model, x.f) AS p
		  FROM live CROSS JOIN examples e
		 CROSS JOIN LATERAL (SELECT features(e.url, e.title, article_text(e.description, e.body),
											 live.hash_bits, live."binary") AS f OFFSET 0) x
		 WHERE e.label IN (-1, 1)
	)
	SELECT id, url, title, label, p AS score, margin
	  FROM scored
	 WHERE (margin >= 0) <> (label = 1)
	 ORDER BY abs(margin) DESC, url;
COMMENT ON VIEW label_conflicts IS
	'labelled articles the model named by pglearn.default_model gets wrong, most confidently wrong first';

CREATE VIEW crawl_status AS
	WITH e AS (
		SELECT CASE WHEN fetch_error IS NOT NULL AND error_count >= 5 THEN 'gave up'
					WHEN fetch_error IS NOT NULL THEN 'failing'
					WHEN fetched_at IS NOT NULL THEN 'fetched'
					ELSE 'not fetched' END AS state,
			   url_host(coalesce(final_url, url)) AS host, fetched_at
		  FROM examples
	), hosts AS (
		SELECT state, host, count(*) AS rows FROM e GROUP BY state, host
	)
	SELECT s.state, s.rows, s.hosts, s.newest_fetch, s.oldest_fetch,
		   (SELECT array_agg(format('%s (%s)', coalesce(h.host, '(none)'), h.rows) ORDER BY h.rows DESC, h.host)
			  FROM (SELECT * FROM hosts h WHERE h.state = s.state ORDER BY h.rows DESC, h.host LIMIT 5) h) AS top_hosts
	  FROM (SELECT state, count(*) AS rows, count(DISTINCT host) AS hosts,
				   max(fetched_at) AS newest_fetch, min(fetched_at) AS oldest_fetch
			  FROM e GROUP BY state) s
	 ORDER BY array_position(ARRAY['fetched', 'failing', 'gave up', 'not fetched'], s.state);
COMMENT ON VIEW crawl_status IS
	'examples by fetch state (fetched, failing, gave up after 5 errors, not fetched) with row and host counts, fetch times and the 5 hosts with most rows in that state';

--
-- Publishing to Redis (src/redis.c)
--

-- One row per published list: what the last publish() recorded, at which
-- version, and what publish_pending() last confirmed.  The commit
-- callback that writes to Redis cannot write here; publish_status asks
-- Redis instead.
CREATE TABLE publications (
	list				text PRIMARY KEY,
	k					int4 NOT NULL,
	version				int8 NOT NULL,
	members				jsonb NOT NULL,
	requested_at		timestamptz NOT NULL,
	published_version	int8,
	published_at		timestamptz,
	last_error			text
);
COMMENT ON TABLE publications IS
	'recommendation lists published to Redis: the members and version of the last publish(), and what publish_pending() last confirmed or failed with';
SELECT pg_catalog.pg_extension_config_dump('publications', '');

CREATE FUNCTION _redis_check() RETURNS void
	AS 'MODULE_PATHNAME', 'pglearn_redis_check'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION _redis_check() IS
	'internal: an error with a hint if pglearn.redis_url is unset or invalid';

CREATE FUNCTION _redis_queue(list text, version int8) RETURNS int4
	AS 'MODULE_PATHNAME', 'pglearn_redis_queue'
	LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION _redis_queue(text, int8) IS
	'internal: queue the publication recorded for (list, version) to be written to Redis when the transaction commits; returns its number of members';

CREATE FUNCTION _redis_push(list text) RETURNS text
	AS 'MODULE_PATHNAME', 'pglearn_redis_push'
	LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION _redis_push(text) IS
	'internal: write the recorded publication of a list to Redis now; NULL on success, else the problem';

CREATE FUNCTION _redis_versions(lists text[])
	RETURNS TABLE (list text, redis_version int8, error text)
	AS 'MODULE_PATHNAME', 'pglearn_redis_versions'
	LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION _redis_versions(text[]) IS
	'internal: the version of each list Redis holds (one MGET); if Redis cannot be read, NULL versions and the problem in error';

CREATE FUNCTION publish(list text, k int4 DEFAULT 100) RETURNS int4
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS
$$
#variable_conflict use_variable
DECLARE
	v int8;
BEGIN
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
		   coalesce(jsonb_agg(jsonb_build_object('id', r.id, 'url', r.url, 'final_url', r.final_url,
												 'title', r.title, 'description', r.description,
												 'og_image', r.og_image, 'score', r.score, 'label', r.label)
							  ORDER BY r.rank), '[]'),
		   now()
	  FROM r
	ON CONFLICT ON CONSTRAINT publications_pkey DO UPDATE
	   SET version = greatest(p.version + 1, (extract(epoch FROM clock_timestamp()) * 1000000)::int8),
		   k = EXCLUDED.k, members = EXCLUDED.members, requested_at = EXCLUDED.requested_at
	RETURNING p.version INTO v;
	RETURN pglearn._redis_queue(list, v);
END
$$;
COMMENT ON FUNCTION publish(text, int4) IS
	'record the top k of recommend(list) in publications and write them to Redis when the transaction commits (a sorted set of URLs by score and a hash per article); returns the number of members';

CREATE VIEW publish_status AS
	WITH v AS (
		SELECT * FROM pglearn._redis_versions(ARRAY(SELECT list FROM pglearn.publications))
	)
	SELECT p.list, p.version, p.requested_at, v.redis_version,
		   v.redis_version IS NULL OR v.redis_version < p.version AS stale,
		   coalesce(v.error, CASE WHEN v.redis_version IS NULL OR v.redis_version < p.version
								  THEN p.last_error END) AS error,
		   jsonb_array_length(p.members) AS members, p.published_version, p.published_at
	  FROM pglearn.publications p LEFT JOIN v ON v.list = p.list
	 ORDER BY p.list;
COMMENT ON VIEW publish_status IS
	'every published list: the version recorded in the database against the one Redis holds; stale if Redis is behind (or unreachable: see error)';

CREATE FUNCTION publish_pending() RETURNS int4
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS
$$
DECLARE
	r record;
	problem text;
	caught_up int4 := 0;
BEGIN
	PERFORM pglearn._redis_check();
	-- lists being published right now are skipped: their publisher pushes them
	FOR r IN
		SELECT p.list, p.version, v.redis_version, v.error
		  FROM pglearn.publications p
		  LEFT JOIN pglearn._redis_versions(ARRAY(SELECT list FROM pglearn.publications)) v ON v.list = p.list
		 ORDER BY p.list
		   FOR UPDATE OF p SKIP LOCKED
	LOOP
		IF r.error IS NULL AND r.redis_version >= r.version THEN
			UPDATE pglearn.publications
			   SET published_version = r.version, published_at = now(), last_error = NULL
			 WHERE list = r.list AND published_version IS DISTINCT FROM r.version;
			CONTINUE;
		END IF;
		problem := coalesce(r.error, pglearn._redis_push(r.list));
		IF problem IS NULL THEN
			UPDATE pglearn.publications
			   SET published_version = r.version, published_at = now(), last_error = NULL
			 WHERE list = r.list;
			caught_up := caught_up + 1;
		ELSE
			RAISE WARNING 'could not publish list "%" to Redis: %', r.list, problem;
			UPDATE pglearn.publications SET last_error = problem WHERE list = r.list;
		END IF;
	END LOOP;
	RETURN caught_up;
END
$$;
COMMENT ON FUNCTION publish_pending() IS
	'write to Redis every recorded publication Redis is behind on (after an outage); returns how many lists it caught up';
