#!/usr/bin/env bash
# t/hostile/run.sh: the bad-input catalogue (issue 6, item 5).
#
# Feeds hostile inputs to the SQL API and to the `pglearn` command and
# asserts each one's outcome: an ERROR with a given SQLSTATE and message, or
# a documented graceful result -- never a crash, a hang, an out-of-memory
# kill or invalid data stored.  Each test is one call of a helper below with
# AREA, INPUT and OUTCOME; "ok N - AREA: INPUT -> OUTCOME" is printed, and
# with HOSTILE_MARKDOWN=FILE the same three columns are written to FILE as the
# markdown table of bench/RESULTS.md ("## Hostile inputs"); the last test
# fails when that table and this script disagree, so it is never edited by hand.
#
# Needs a running cluster in PG* (superuser), python3, curl; creates and drops
# its own databases pglearn_hostile_<pid> (UTF8), ..._ascii (SQL_ASCII) and
# ..._latin1 (LATIN1)
# and serves its pages from t/hostile/server.py on 127.0.0.1.  PGLEARN_BIN
# names the crawler binary (default crawler/pglearn-asan, built here; any
# sanitizer report fails the run).  About a minute on 2 cores.
# Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
TOP=$(pwd)

db=pglearn_hostile_$$
db_ascii=${db}_ascii
db_latin1=${db}_latin1
# the tests send UTF-8 whatever the locale; psql would pick SQL_ASCII under C
export PGCLIENTENCODING=UTF8
work=$(mktemp -d /tmp/pglearn-hostile.XXXXXX)
server_pid=
sentinel_pid=
markdown=$work/catalogue.md
started=$(date +%s)

sentinel=hostile_sentinel_$$
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	if [ -n "$sentinel_pid" ]; then
		kill "$sentinel_pid" 2>/dev/null
		# its backend sleeps on after psql is gone and would block dropdb
		psql -X -q -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '$sentinel'" >/dev/null 2>&1
	fi
	dropdb --if-exists "$db" >/dev/null 2>&1
	dropdb --if-exists "$db_ascii" >/dev/null 2>&1
	dropdb --if-exists "$db_latin1" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

n=0
passed=0
failed=0
printf '| # | area | hostile input | expected outcome |\n|---|---|---|---|\n' >"$markdown"

# record AREA INPUT OUTCOME STATUS [DETAIL]: one catalogue line
record() {
	n=$((n + 1))
	if [ "$4" = 0 ]; then
		echo "ok $n - $1: $2 -> $3"
		passed=$((passed + 1))
	else
		echo "not ok $n - $1: $2 -> $3"
		[ -n "${5:-}" ] && printf '%s\n' "$5" | head -n 8 | sed 's/^/#   /' | cut -c1-300
		failed=$((failed + 1))
	fi
	if [ -z "${NOT_IN_CATALOGUE:-}" ]; then
		# pipes would split a cell, and "<div>" is HTML to a markdown viewer
		local input=${2//|/\\|} outcome=${3//|/\\|}
		input=${input//</"&lt;"}
		outcome=${outcome//</"&lt;"}
		printf '| %d | %s | %s | %s |\n' "$n" "$1" "$input" "$outcome" >>"$markdown"
	fi
}

# psql with verbose errors ("ERROR:  22023: message"), one script from stdin
run_sql() {						# run_sql DB SQL
	printf '%s\n' '\set VERBOSITY verbose' "$2" |
		psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" 2>&1
}

# expect_error AREA INPUT SQLSTATE FRAGMENT SQL [DB]
expect_error() {
	local out status=1
	out=$(run_sql "${6:-$db}" "$5")
	if grep -qF "ERROR:  $3: " <<<"$out" && grep -qF -- "$4" <<<"$out"; then
		status=0
	fi
	record "$1" "$2" "ERROR $3 \"$4\"" "$status" "$out"
}

# expect_value AREA INPUT OUTCOME EXPECTED SQL [DB]: the output equals EXPECTED
expect_value() {
	local out status=1
	out=$(run_sql "${6:-$db}" "$5")
	[ "$out" = "$4" ] && status=0
	record "$1" "$2" "$3" "$status" "expected: $4"$'\n'"got: $out"
}

# check AREA INPUT OUTCOME COMMAND...: the command succeeds
check() {
	local status=0
	"${@:4}" >"$work/check.out" 2>&1 || status=1
	record "$1" "$2" "$3" "$status" "$(cat "$work/check.out")"
}

# --- setup -------------------------------------------------------------------

BIN=${PGLEARN_BIN:-}
if [ -z "$BIN" ]; then
	make -s -C crawler pglearn pglearn-asan >"$work/build.log" 2>&1 || { cat "$work/build.log"; echo "0 passed, 1 failed"; exit 1; }
	BIN=$TOP/crawler/pglearn-asan
fi
# the plain build for the 50 MB page: under ASan it takes 10 s and 460 MB
PLAIN_BIN=$TOP/crawler/pglearn
[ -x "$PLAIN_BIN" ] || PLAIN_BIN=$BIN
export ASAN_OPTIONS="exitcode=99:detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=99"
crawler_log=$work/crawler.log
: >"$crawler_log"

createdb "$db" && psql -X -q -d "$db" -c "CREATE EXTENSION pglearn" &&
	createdb -E SQL_ASCII --lc-collate=C --lc-ctype=C -T template0 "$db_ascii" &&
	psql -X -q -d "$db_ascii" -c "CREATE EXTENSION pglearn" &&
	createdb -E LATIN1 --lc-collate=C --lc-ctype=C -T template0 "$db_latin1" &&
	psql -X -q -d "$db_latin1" -c "CREATE EXTENSION pglearn" ||
	{ echo "0 passed, 1 failed"; exit 1; }

python3 t/hostile/server.py "$work/port" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port" 2>/dev/null)
[ -n "$port" ] || { echo "hostile server did not start"; echo "0 passed, 1 failed"; exit 1; }
site=http://127.0.0.1:$port

# A session that lives through the whole run: any backend crash makes the
# postmaster end every session, so it still being there at the end proves none.
PGAPPNAME=$sentinel psql -X -q -d "$db" -c "SELECT pg_sleep(3600)" >/dev/null 2>&1 &
sentinel_pid=$!

# labelled rows for fit/recommend: two topics, 12 rows each
run_sql "$db" "INSERT INTO pglearn.examples (url, title, body, label, score)
	SELECT 'https://h' || i % 3 || '.example/' || i, 'title ' || i,
	       CASE WHEN i % 2 = 0 THEN 'postgres vacuum index planner' ELSE 'football match goal league' END,
	       CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END, 0.9
	FROM generate_series(1, 24) i;
	SELECT pglearn.fit('m');" >/dev/null || { echo "setup fit failed"; echo "0 passed, 1 failed"; exit 1; }
train2="FROM (VALUES ('{1:1}'::pglearn.fvec, 1), ('{2:1}'::pglearn.fvec, -1)) v(f, l)"

# --- SQL: fvec ------------------------------------------------------------------

expect_value "SQL fvec" "text fvec of 10M entries (~90 MB), built with string_agg" "accepted, nnz 10000000 (limit FVEC_MAX_NNZ = 64M)" 10000000 \
	"SELECT pglearn.nnz(('{' || string_agg(i || ':1', ',') || '}')::pglearn.fvec) FROM generate_series(0, 9999999) i"
python3 t/hostile/copy_binary.py fvec-nnz 67108865 "$work/fvec_nnz.copy"
expect_error "SQL fvec" "binary fvec (COPY BINARY) claiming FVEC_MAX_NNZ + 1 entries" 22P03 "entry count 67108865 out of range" \
	"CREATE TEMP TABLE t (v pglearn.fvec); \\copy t FROM '$work/fvec_nnz.copy' WITH (FORMAT binary)"
python3 t/hostile/copy_binary.py fvec-nnz 5 "$work/fvec_trunc.copy"
expect_error "SQL fvec" "binary fvec claiming 5 entries with no entry bytes" 22P03 "expected 40 bytes of entries, got 0" \
	"CREATE TEMP TABLE t (v pglearn.fvec); \\copy t FROM '$work/fvec_trunc.copy' WITH (FORMAT binary)"
python3 t/hostile/copy_binary.py fvec-nan "$work/fvec_nan.copy"
expect_error "SQL fvec" "binary fvec with a NaN value" 22P03 "not finite" \
	"CREATE TEMP TABLE t (v pglearn.fvec); \\copy t FROM '$work/fvec_nan.copy' WITH (FORMAT binary)"
expect_error "SQL fvec" "text fvec {1:NaN}" 22003 "not a finite float4" "SELECT '{1:NaN}'::pglearn.fvec"
expect_error "SQL fvec" "text fvec {1:-Infinity}" 22003 "not a finite float4" "SELECT '{1:-Infinity}'::pglearn.fvec"
expect_error "SQL fvec" "text fvec value 1e39 (overflows float4)" 22003 "not a finite float4" "SELECT '{1:1e39}'::pglearn.fvec"
expect_error "SQL fvec" "text fvec index 3000000000 (over int4)" 22003 "fvec index out of range" "SELECT '{3000000000:1}'::pglearn.fvec"
expect_error "SQL fvec" "text fvec with a negative index" 22P02 "Expected a non-negative integer index" "SELECT '{-1:1}'::pglearn.fvec"
expect_error "SQL fvec" "text fvec with a duplicate index" 22P02 "Index 1 appears twice" "SELECT '{1:1,1:2}'::pglearn.fvec"

# --- SQL: huge text -------------------------------------------------------------

expect_error "SQL text" "a 1 GB text value (repeat('x', 2^30))" 54000 "requested length too large" \
	"SELECT length(repeat('x', 1024 * 1024 * 1024))"
expect_value "SQL features" "features() of a ~290 MB body" "works, 3 distinct features, in seconds" 3 \
	"SELECT pglearn.nnz(pglearn.features(NULL, NULL, repeat('lorem ipsum dolor ', 16000000)))"
t1=$(date +%s%N)
out=$(run_sql "$db" "SET statement_timeout = '1s'; SELECT pglearn.nnz(pglearn.features(NULL, NULL, repeat('lorem ipsum dolor ', 16000000)))")
t2=$(date +%s%N)
ms=$(((t2 - t1) / 1000000))
status=1
grep -qF "ERROR:  57014: canceling statement due to statement timeout" <<<"$out" && [ "$ms" -lt 5000 ] && status=0
record "SQL features" "the same ~290 MB body under statement_timeout = 1s" "ERROR 57014 \"canceling statement due to statement timeout\" within 5 s" "$status" "$out"
echo "# cancelled after $ms ms"
expect_value "SQL features" "features() of a body of 1M distinct words" "works, every word a feature (hash_bits 30)" t \
	"SELECT pglearn.nnz(pglearn.features(NULL, NULL, string_agg('w' || i, ' '), 30)) > 990000 FROM generate_series(1, 1000000) i"
expect_value "SQL features" "URL whose host is 100 KB of 50k labels (a.a.a...com)" "works in milliseconds: no host tokens (over 253 bytes)" 0 \
	"SET statement_timeout = '2s'; SELECT pglearn.nnz(pglearn.features('http://' || repeat('a.', 50000) || 'com/', NULL, NULL))"
expect_error "SQL train" "a training set over pglearn.max_train_memory (1MB here)" 54000 "training set exceeds pglearn.max_train_memory" \
	"SET pglearn.max_train_memory = '1MB';
	 SELECT pglearn.train(pglearn.features(NULL, NULL, 'w' || i || ' x' || (i % 7)), CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END) FROM generate_series(1, 50000) i"
expect_error "SQL features" "hash_bits 31" 22023 "hash_bits must be between 1 and 30" "SELECT pglearn.features('a', 'b', 'c', 31)"

# --- SQL: NUL bytes ---------------------------------------------------------------

printf 'https://nul.example/1\tbefore\\0after\n' >"$work/nul.tsv"
expect_error "SQL COPY" "TSV with a \\0 escape (a NUL byte) into examples.body" 22021 "invalid byte sequence for encoding \"UTF8\": 0x00" \
	"\\copy pglearn.examples (url, body) FROM '$work/nul.tsv'"
expect_value "SQL COPY" "(after the NUL COPY) rows stored" "none" 0 \
	"SELECT count(*) FROM pglearn.examples WHERE url = 'https://nul.example/1'"

# --- SQL: labels ------------------------------------------------------------------

expect_error "SQL train" "label 2" 22023 "invalid label 2" "SELECT pglearn.train(f, 2) FROM (VALUES ('{1:1}'::pglearn.fvec)) v(f)"
expect_error "SQL evaluate" "label 3" 22023 "invalid label 3" "SELECT pglearn.evaluate(0.5, 3)"
expect_error "SQL evaluate" "probability NaN" 22023 "probability NaN is not between 0 and 1" "SELECT pglearn.evaluate('NaN', 1)"
expect_error "SQL label()" "label 2" 22023 "invalid label 2" "SELECT pglearn.label('https://a.example/x', 2)"
expect_error "SQL label()" "label NULL" 22023 "invalid label NULL" "SELECT pglearn.label('https://a.example/x', NULL)"
expect_error "SQL examples" "INSERT with label 5" 23514 "examples_label_check" \
	"INSERT INTO pglearn.examples (url, label) VALUES ('https://a.example/y', 5)"
for url in 'file:///etc/passwd' 'ftp://127.0.0.1/x' 'javascript:alert(1)' 'data:text/html,<b>x</b>'; do
	expect_error "SQL label()" "URL $url" 22023 "invalid article URL" "SELECT pglearn.label('$url', 1)"
done
expect_error "SQL label()" "URL of 100 KB (random, incompressible)" 22023 "article URL too long" \
	"SELECT pglearn.label('https://a.example/' || string_agg(md5(i::text), ''), 1) FROM generate_series(1, 3200) i"

# --- SQL: training parameters -------------------------------------------------------

expect_error "SQL train" "C = -1" 22023 "invalid train parameter \"C\": must be positive" "SELECT pglearn.train(f, l, '{\"C\": -1}') $train2"
expect_error "SQL train" "C = \"NaN\"" 22023 "invalid train parameter \"C\": expected a number" "SELECT pglearn.train(f, l, '{\"C\": \"NaN\"}') $train2"
expect_error "SQL train" "C = 1e400 (not a float8)" 22003 "out of range for type double precision" "SELECT pglearn.train(f, l, '{\"C\": 1e400}') $train2"
expect_error "SQL train" "params a JSON array" 22023 "parameters must be a jsonb object" "SELECT pglearn.train(f, l, '[1, 2]') $train2"
expect_error "SQL train" "unknown parameter" 22023 "unknown train parameter \"bogus\"" "SELECT pglearn.train(f, l, '{\"bogus\": 1}') $train2"
expect_value "SQL train" "only empty fvecs ({})" "a model with no weights; classify gives 0.5" "0|0.5" \
	"SELECT (pglearn.model_info(m) ->> 'nnz') || '|' || pglearn.classify(m, '{}') FROM (SELECT pglearn.train(f, l) m FROM (VALUES ('{}'::pglearn.fvec, 1), ('{}'::pglearn.fvec, -1)) v(f, l)) s"
expect_error "SQL train" "no labelled row (all label 0)" 22000 "cannot train a model without labelled rows" "SELECT pglearn.train('{1:1}'::pglearn.fvec, 0)"
expect_error "SQL fit" "C grid containing 0" 22023 "must be positive" "SELECT pglearn.fit('m2', params => '{\"C\": [1, 0]}')"
expect_error "SQL fit" "C = -1" 22023 "must be positive" "SELECT pglearn.fit('m2', params => '{\"C\": -1}')"
expect_error "SQL fit" "C = \"NaN\"" 22023 "expected a number" "SELECT pglearn.fit('m2', params => '{\"C\": \"NaN\"}')"
expect_error "SQL fit" "params a JSON string" 22023 "fit parameters must be a jsonb object" "SELECT pglearn.fit('m2', params => '\"str\"')"
expect_error "SQL fit" "k = 1" 22023 "cross-validation needs k >= 2 folds" "SELECT pglearn.fit('m2', params => '{\"k\": 1}')"
expect_error "SQL fit" "k = 1000000 (more folds than rows)" 22000 "too few labelled rows (24) for 1000000-fold cross-validation" "SELECT pglearn.fit('m2', params => '{\"k\": 1000000}')"
expect_value "SQL fit" "(after the failed fits) models named m2" "none stored" 0 "SELECT count(*) FROM pglearn.models WHERE name = 'm2'"

# --- SQL: models --------------------------------------------------------------------

model_sql="(SELECT model FROM pglearn.models WHERE name = 'm' ORDER BY id DESC LIMIT 1)"
expect_error "SQL model" "text model of format version 3" 22P02 "unsupported model format version 3" \
	"SELECT replace($model_sql::text, 'format=2 ', 'format=3 ')::pglearn.model"
expect_error "SQL model" "text model with C edited (id no longer matches)" 22P02 "id does not match its content" \
	"SELECT regexp_replace($model_sql::text, ' C=[^ ]+ ', ' C=7 ')::pglearn.model"
run_sql "$db" "\\copy (SELECT model FROM pglearn.models WHERE name = 'm' ORDER BY id DESC LIMIT 1) TO '$work/model.copy' WITH (FORMAT binary)" >/dev/null
python3 t/hostile/copy_binary.py model-version "$work/model.copy" "$work/model_v3.copy"
python3 t/hostile/copy_binary.py model-tamper "$work/model.copy" "$work/model_tamper.copy"
python3 t/hostile/copy_binary.py model-bc100000 "$work/model.copy" "$work/model_bc.copy"
expect_error "SQL model" "binary model of format version 3" 22P03 "unsupported model format version 3" \
	"CREATE TEMP TABLE t (m pglearn.model); \\copy t FROM '$work/model_v3.copy' WITH (FORMAT binary)"
expect_error "SQL model" "binary model with a weight changed" 22P03 "id does not match its content" \
	"CREATE TEMP TABLE t (m pglearn.model); \\copy t FROM '$work/model_tamper.copy' WITH (FORMAT binary)"
expect_error "SQL model" "binary model trained in 100000 BC (unprintable, so undumpable)" 22P03 "trained_at is out of range" \
	"CREATE TEMP TABLE t (m pglearn.model); \\copy t FROM '$work/model_bc.copy' WITH (FORMAT binary)"

# --- SQL: names and k ---------------------------------------------------------------

expect_error "SQL classify" "classify('nosuch', ...)" 42704 "model \"nosuch\" does not exist" "SELECT pglearn.classify('nosuch', 'u', 't', 'b')"
expect_error "SQL reports" "top_features('nosuch')" 42704 "model \"nosuch\" does not exist" "SELECT * FROM pglearn.top_features('nosuch')"
expect_error "SQL labelling" "uncertain('nosuch')" 42704 "model \"nosuch\" does not exist" "SELECT * FROM pglearn.uncertain('nosuch')"
expect_error "SQL recommend" "recommend('nosuch')" 42704 "recommendation list \"nosuch\" does not exist" "SELECT * FROM pglearn.recommend('nosuch')"
expect_error "SQL recommend" "k = 0" 22023 "k must be a positive integer, got 0" "SELECT * FROM pglearn.recommend('general', 0)"
expect_error "SQL recommend" "k = -5" 22023 "k must be a positive integer, got -5" "SELECT * FROM pglearn.recommend('general', -5)"
expect_value "SQL recommend" "k = 2147483647, days NULL" "works: the 12 positive rows" 12 \
	"SELECT count(*) FROM pglearn.recommend('general', 2147483647, NULL)"
expect_error "SQL labelling" "uncertain k = 0" 22023 "k must be a positive integer, got 0" "SELECT * FROM pglearn.uncertain(NULL, 0)"
expect_error "SQL reports" "top_features k = 0" 22023 "k must be a positive integer, got 0" "SELECT * FROM pglearn.top_features('m', 0)"
expect_error "SQL labelling" "supporting_features of an unknown URL" P0002 "no article with URL" \
	"SELECT * FROM pglearn.supporting_features('https://none.example/', 3, 'm')"
expect_error "SQL similar" "similar() of an unknown URL" P0002 "no article with URL" "SELECT * FROM pglearn.similar('https://none.example/', 5)"

# --- SQL: security (search_path, privileges, limits, stored models) ------------------

# a role that may create in public plants an overload that beats pg_catalog's
# concat_ws(text, VARIADIC "any") and an int8 % int4; the superuser, with
# public first on its path, fits, inserts (the trigger), labels and reads
run_sql "$db" "CREATE ROLE hostile_planter; GRANT CREATE ON SCHEMA public TO hostile_planter;
	CREATE SEQUENCE public.hostile_hits; GRANT USAGE ON SEQUENCE public.hostile_hits TO PUBLIC;
	SET ROLE hostile_planter;
	CREATE FUNCTION public.concat_ws(text, text, text) RETURNS text LANGUAGE sql
		AS 'SELECT nextval(''public.hostile_hits'')::text';
	CREATE FUNCTION public.hostile_mod(int8, int4) RETURNS int8 LANGUAGE sql
		AS 'SELECT nextval(''public.hostile_hits'')';
	CREATE OPERATOR public.% (LEFTARG = int8, RIGHTARG = int4, FUNCTION = public.hostile_mod);
	RESET ROLE;" >/dev/null
out=$(run_sql "$db" "SET search_path = public, pglearn;
	DO \$\$ BEGIN
		PERFORM pglearn.fit('hostile', params => '{\"C\": 1}');
		INSERT INTO pglearn.examples (url, title, description, body) VALUES ('https://planted.example/1', 't', 'd', 'b');
		PERFORM pglearn.label('https://planted.example/1', 0);
		PERFORM count(*) FROM pglearn.to_label;
	END \$\$;
	SELECT is_called FROM public.hostile_hits;")
status=1; [ "$(tail -n 1 <<<"$out")" = f ] && status=0
record "SQL search_path" "overloads of concat_ws and int8 % int4 planted in public; a superuser with public first runs fit, an INSERT (the trigger), label, to_label" \
	"none of them runs: the hit counter stays untouched" "$status" "$out"
run_sql "$db" "DROP OPERATOR public.% (int8, int4); DROP FUNCTION public.hostile_mod(int8, int4), public.concat_ws(text, text, text);
	DROP SEQUENCE public.hostile_hits; REVOKE CREATE ON SCHEMA public FROM hostile_planter; DROP ROLE hostile_planter;
	DELETE FROM pglearn.models WHERE name = 'hostile'; DELETE FROM pglearn.examples WHERE url = 'https://planted.example/1'" >/dev/null
run_sql "$db" "CREATE ROLE hostile_user; GRANT USAGE ON SCHEMA pglearn TO hostile_user" >/dev/null
expect_error "SQL privileges" "label() by a role granted nothing" 42501 "permission denied for function label" \
	"SET ROLE hostile_user; SELECT pglearn.label('https://x.example/', 1)"
expect_error "SQL privileges" "published() (reads Redis with the server's URL) by a role granted nothing" 42501 "permission denied for function published" \
	"SET ROLE hostile_user; SELECT * FROM pglearn.published('general')"
expect_error "SQL limits" "SET pglearn.max_train_memory = '1TB' by a plain role" 42501 "permission denied to set parameter \"pglearn.max_train_memory\"" \
	"SELECT pglearn.nnz('{}'); SET ROLE hostile_user; SET pglearn.max_train_memory = '1TB'"
expect_error "SQL limits" "SET pglearn.redis_command_timeout = 40 s by a plain role" 42501 "permission denied to set parameter \"pglearn.redis_command_timeout\"" \
	"SELECT pglearn.nnz('{}'); SET ROLE hostile_user; SET pglearn.redis_command_timeout = 40000"
run_sql "$db" "REVOKE USAGE ON SCHEMA pglearn FROM hostile_user; DROP ROLE hostile_user" >/dev/null
expect_error "SQL features" "a body of 1.1M distinct words (over the distinct-token bound)" 54000 "distinct" \
	"SELECT pglearn.nnz(pglearn.features(NULL, NULL, (SELECT string_agg('w' || i, ' ') FROM generate_series(1, 1100000) i), 30))"
expect_error "SQL models" "a models row with params {\"hash_bits\": 31} under the default model's name" 22023 "invalid model parameter \"hash_bits\": 31" \
	"INSERT INTO pglearn.models (name, model, params) SELECT 'default', model, '{\"hash_bits\": 31}' FROM pglearn.models WHERE name = 'm'"
out=$(run_sql "$db" "ALTER TABLE pglearn.models DROP CONSTRAINT models_params_check;
	INSERT INTO pglearn.models (name, model, params) SELECT 'default', model, '{\"hash_bits\": 31}' FROM pglearn.models WHERE name = 'm';
	INSERT INTO pglearn.examples (url, title) VALUES ('https://blocked.example/', 'x');
	SELECT score IS NOT NULL FROM pglearn.examples WHERE url = 'https://blocked.example/';")
status=1
! grep -q '^WARNING' <<<"$out" && [ "$(tail -n 1 <<<"$out")" = t ] && status=0
record "SQL trigger" "an INSERT while the default model's row has unusable params (stored before 0.3's check)" \
	"the row is stored and scored with the settings its model records (format 2): params cannot stop scoring" "$status" "$out"
run_sql "$db" "DELETE FROM pglearn.models WHERE name = 'default'; DELETE FROM pglearn.examples WHERE url = 'https://blocked.example/';
	ALTER TABLE pglearn.models ADD CONSTRAINT models_params_check CHECK (pglearn._check_model_params(params))" >/dev/null
expect_value "SQL recommend" "k = 2147483647 with diverse 0.5 (10 k overflows int4)" "works: the 12 positive rows" 12 \
	"SELECT count(*) FROM pglearn.recommend('general', 2147483647, NULL, diverse => 0.5)"

# --- SQL: a SQL_ASCII database with bytes that are not UTF-8 ------------------------

bad="convert_from(decode('c328a0a1ff80e282', 'hex'), 'SQL_ASCII')"
expect_value "SQL_ASCII db" "features() of text invalid in UTF-8" "works: invalid bytes separate words" 2 \
	"SELECT pglearn.nnz(pglearn.features(NULL, 'ok' || $bad || 'fine', NULL))" "$db_ascii"
expect_value "SQL_ASCII db" "label() of a URL with bytes invalid in UTF-8" "accepted (the database takes any bytes)" t \
	"SELECT pglearn.label('$site/ok-bad-' || $bad, 1) > 0" "$db_ascii"
expect_value "SQL_ASCII db" "fit() and classify() over titles and bodies with invalid UTF-8" "works, probability in [0, 1]" $'t\nt' \
	"INSERT INTO pglearn.examples (url, title, body, label)
	   SELECT '$site/ok-ascii-' || i, 'caf' || $bad || i, $bad || CASE WHEN i % 2 = 0 THEN ' good words' ELSE ' bad words' END,
	          CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END FROM generate_series(1, 20) i;
	 SELECT pglearn.fit('m') IS NOT NULL;
	 SELECT pglearn.classify('m', 'https://x.example/', $bad, $bad || ' good') BETWEEN 0 AND 1" "$db_ascii"

# --- SQL: a LATIN1 database ----------------------------------------------------------

utf8_features=$(run_sql "$db" "SELECT pglearn.features('https://ex.example/Café', 'Café NAÏVE', 'déjà vu')")
expect_value "LATIN1 db" "features() of accented Latin-1 text" "the same fvec as in a UTF8 database (text converted to UTF-8 first)" "$utf8_features" \
	"SELECT pglearn.features('https://ex.example/Café', 'Café NAÏVE', 'déjà vu')" "$db_latin1"
expect_value "LATIN1 db" "feature_names() whose NFKC form leaves Latin-1 (µ becomes Greek mu)" "works: the name escaped as \\u03BC" 't:\u03BC' \
	"SELECT feature FROM pglearn.feature_names(NULL, 'µ', NULL)" "$db_latin1"

# --- command line: pglearn add ------------------------------------------------------

# add_expect INPUT OUTCOME STATUS FRAGMENT TSV-FILE: exit status and stderr
add_expect() {
	local rc=0
	"$BIN" add -d "$db" --no-fetch -q "$5" >"$work/add.out" 2>&1 || rc=$?
	cat "$work/add.out" >>"$crawler_log"
	local status=1
	[ "$rc" = "$3" ] && { [ -z "$4" ] || grep -qF -- "$4" "$work/add.out"; } && status=0
	record "CLI add" "$1" "$2" "$status" "exit $rc: $(head -c 600 "$work/add.out")"
}
printf '%s/ok-a\t2\n' "$site" >"$work/a.tsv"
add_expect "TSV label 2" "exit 2, \"invalid label\", nothing imported" 2 'invalid label "2"' "$work/a.tsv"
printf '%s/ok-a\tyes\n' "$site" >"$work/a.tsv"
add_expect "TSV label 'yes'" "exit 2, \"invalid label\"" 2 'invalid label "yes"' "$work/a.tsv"
printf '%s/ok-a\t1.5\n' "$site" >"$work/a.tsv"
add_expect "TSV label 1.5" "exit 2, \"invalid label\"" 2 'invalid label "1.5"' "$work/a.tsv"
printf '%s/ok-a\t1\textra\tcolumns\n' "$site" >"$work/a.tsv"
add_expect "TSV line with embedded tabs (4 columns)" "exit 2, \"found more columns\"" 2 "found more columns" "$work/a.tsv"
printf '%s/ok-\rcr\t1\n' "$site" >"$work/a.tsv"
add_expect "TSV URL with an embedded CR" "exit 2, \"not an http(s) URL\"" 2 "not an http(s) URL" "$work/a.tsv"
printf '%s/ok-nul\0tail\t1\n' "$site" >"$work/a.tsv"
add_expect "TSV line with a NUL byte" "exit 2, \"NUL byte in line\"" 2 "NUL byte in line" "$work/a.tsv"
{ printf '%s/' "$site"; head -c 10000000 /dev/zero | tr '\0' b; printf '\t1\n'; } >"$work/a.tsv"
add_expect "TSV line of 10 MB" "exit 2, \"at most 2048 bytes\", message cut short" 2 "at most 2048 bytes" "$work/a.tsv"
status=1
[ "$(wc -c <"$work/add.out")" -lt 1000 ] && status=0
record "CLI add" "(the 10 MB line) error message size" "under 1000 bytes" "$status" "$(wc -c <"$work/add.out") bytes"
rc=0; "$BIN" add -d "$db" --no-fetch "$work/no-such-file.tsv" >"$work/add.out" 2>&1 || rc=$?
status=1; [ "$rc" = 2 ] && grep -qF "cannot open $work/no-such-file.tsv" "$work/add.out" && status=0
record "CLI add" "a file that does not exist" "exit 2, \"cannot open\"" "$status" "exit $rc: $(cat "$work/add.out")"
printf 'file:///etc/passwd\t1\nftp://127.0.0.1/x\t1\njavascript:alert(1)\t-1\ndata:text/html,hi\t1\n%s/ok-good\t1\n' "$site" >"$work/a.tsv"
add_expect "file:, ftp:, javascript:, data: URLs and one good line" "exit 2, 4 bad lines, nothing imported" 2 "4 bad lines, nothing imported" "$work/a.tsv"
expect_value "CLI add" "(after the refused imports) rows of the hostile site" "none" 0 \
	"SELECT count(*) FROM pglearn.examples WHERE url LIKE '$site/%'"
printf '%s/ok-crlf1\t1\r\n%s/ok-crlf2\t-1\r\n' "$site" "$site" >"$work/a.tsv"
add_expect "TSV with CRLF line ends" "exit 0, labels 1 and -1 stored" 0 "" "$work/a.tsv"
expect_value "CLI add" "(the CRLF file) stored labels" "1 and -1, URLs without CR" "1,-1" \
	"SELECT string_agg(label::text, ',' ORDER BY url) FROM pglearn.examples WHERE url IN ('$site/ok-crlf1', '$site/ok-crlf2')"

# --- command line: pglearn crawl ------------------------------------------------------

# crawl_page PATH [OPTION]...: crawl one page of the hostile site into $db
crawl_page() {
	local path=$1
	shift
	"$BIN" crawl -d "$db" -q --ignore-robots --allow-cidr 127.0.0.1/32 "$@" "$site/$path" >>"$crawler_log" 2>&1
}
# row_is AREA INPUT OUTCOME URL-PATH EXPECTED SQL-EXPR: one stored row's columns
row_is() {
	expect_value "$1" "$2" "$3" "$5" "SELECT $6 FROM pglearn.examples WHERE url = '$site/$4'"
}

rc=0; "$BIN" crawl -d "$db" -q --ignore-robots 'file:///etc/passwd' 'ftp://127.0.0.1/x' 'javascript:alert(1)' 'data:text/html,<b>x</b>' >"$work/c.out" 2>&1 || rc=$?
cat "$work/c.out" >>"$crawler_log"
status=1; [ "$rc" = 1 ] && [ "$(grep -c 'not an http(s) URL' "$work/c.out")" = 4 ] && status=0
record "CLI crawl" "file:, ftp:, javascript:, data: URLs" "exit 1, each skipped as \"not an http(s) URL\", no row" "$status" "exit $rc: $(cat "$work/c.out")"
rc=0; "$BIN" crawl -d "$db" -q --ignore-robots "$site/ok-$(head -c 100000 /dev/zero | tr '\0' a)" >"$work/c.out" 2>&1 || rc=$?
cat "$work/c.out" >>"$crawler_log"
status=1; [ "$rc" = 1 ] && grep -qF "not an http(s) URL of at most 2048 bytes" "$work/c.out" && status=0
record "CLI crawl" "a URL of 100 KB" "exit 1, skipped as \"at most 2048 bytes\"" "$status" "exit $rc: $(head -c 400 "$work/c.out")"

{ printf '%s/ok-' "$site"; head -c 10000000 /dev/zero | tr '\0' c; printf '\n%s/ok-file\n' "$site"; } >"$work/urls.txt"
rc=0; "$BIN" crawl -d "$db" -q --ignore-robots --allow-cidr 127.0.0.1/32 --file "$work/urls.txt" >"$work/c.out" 2>&1 || rc=$?
cat "$work/c.out" >>"$crawler_log"
status=1
[ "$rc" = 1 ] && grep -qF "at most 2048 bytes" "$work/c.out" && [ "$(wc -c <"$work/c.out")" -lt 1000 ] &&
	[ "$(run_sql "$db" "SELECT title FROM pglearn.examples WHERE url = '$site/ok-file'")" = "Fine page" ] && status=0
record "CLI crawl" "--file with a 10 MB line, then a good URL" "exit 1, the long one skipped with a short message, the good one fetched" "$status" "exit $rc: $(head -c 400 "$work/c.out")"

crawl_page nul.html
row_is "CLI crawl" "page with NUL bytes in title and body" "stored, NULs dropped" nul.html "NULtitle|beforeafter nulwords" "title || '|' || body"
crawl_page bogus-charset.html
row_is "CLI crawl" "page declaring charset=x-no-such-charset-42 with Latin-1 bytes" "stored as UTF-8, undecodable bytes U+FFFD" bogus-charset.html \
	"200||true" "http_status || '|' || coalesce(fetch_error, '') || '|' || (body LIKE '%'|| U&'\\FFFD' || '%')"
crawl_page bad-utf8.html
row_is "CLI crawl" "page declared UTF-8 with overlong, surrogate and truncated sequences" "stored, each bad sequence U+FFFD" bad-utf8.html \
	"t" "title LIKE 'bad ' || U&'\\FFFD' || '( utf8%' AND body LIKE 'over%long%truncated'"
crawl_page controls.html
row_is "CLI crawl" "title with ESC sequences, BEL, BS and other C0 controls" "stored without control characters" controls.html \
	"esc [31mred[0m bell|false" "title || '|' || (title || body ~ '[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]')"
crawl_page bomb.html --max-body 1M
row_is "CLI crawl" "gzip bomb: 20 MB of zeros sent as ~20 KB with Content-Encoding: gzip" "stopped at --max-body 1M: fetch_error \"body too large\", no body" bomb.html \
	"body too large (over 1048576 bytes)|true" "fetch_error || '|' || (body IS NULL)"
crawl_page endless --max-body 1M
row_is "CLI crawl" "chunked body that never ends" "stopped at --max-body: \"body too large\"" endless \
	"body too large (over 1048576 bytes)" "fetch_error"
t1=$(date +%s)
crawl_page trickle --timeout 2
t2=$(date +%s)
row_is "CLI crawl" "body trickling one byte per 0.5 s (--timeout 2)" "\"Operation timed out\" after ~2 s" trickle \
	"t" "fetch_error LIKE 'Operation timed out after 2%' AND $((t2 - t1)) < 10"
# first with the default --max-body: a failed fetch never replaces a good one
crawl_page oneline.html
row_is "CLI crawl" "page that is one 50 MB line, default --max-body 5M" "\"body too large\", nothing stored" oneline.html \
	"body too large (over 5242880 bytes)|true" "fetch_error || '|' || (body IS NULL)"
"$PLAIN_BIN" crawl -d "$db" -q --ignore-robots --allow-cidr 127.0.0.1/32 --max-body 64M "$site/oneline.html" >>"$crawler_log" 2>&1
row_is "CLI crawl" "the same 50 MB line with --max-body 64M" "stored, body cut to --max-text 100000 characters" oneline.html \
	"One line|100000" "title || '|' || length(body)"
crawl_page nested.html
row_is "CLI crawl" "100k nested <div>s" "stored with its title; libxml2 stops at depth 256, so no body text" nested.html \
	"Nested|200|true" "title || '|' || http_status || '|' || (fetch_error IS NULL)"
crawl_page links.html
row_is "CLI crawl" "page with 100k links" "stored, body cut to 100000 characters, links not followed" links.html \
	"Links|100000|0" "title || '|' || length(body) || '|' || (SELECT count(*) FROM pglearn.examples WHERE url LIKE '$site/l/%')"

# feed_expect FEED DESCRIPTION OUTCOME STATUS FRAGMENT
feed_expect() {
	local rc=0
	"$BIN" crawl -d "$db" --ignore-robots --allow-cidr 127.0.0.1/32 --feed "$site/$1" >"$work/f.out" 2>&1 || rc=$?
	cat "$work/f.out" >>"$crawler_log"
	local status=1
	[ "$rc" = "$4" ] && grep -qF -- "$5" "$work/f.out" && status=0
	record "CLI feed" "$2" "$3" "$status" "exit $rc: $(cat "$work/f.out")"
}
feed_expect empty.rss "RSS 2.0 feed with no items" "exit 0, 0 URLs" 0 "0 URLs, 0 fetched"
feed_expect empty.atom "Atom feed with no entries" "exit 0, 0 URLs" 0 "0 URLs, 0 fetched"
feed_expect zero.rss "zero-byte feed" "exit 1, \"not an RSS or Atom feed\"" 1 "not an RSS or Atom feed"
feed_expect notxml.rss "feed that is not XML (text and bytes FF FE)" "exit 1, \"not an RSS or Atom feed\"" 1 "not an RSS or Atom feed"
feed_expect billion.rss "RSS with billion-laughs nested entities in a DOCTYPE" "exit 0 at once, entities not expanded" 0 "0 URLs, 0 fetched"

# a 10 MB robots.txt: only the first 512 KiB count, so its first rule applies
# and the one at the end is never read
"$BIN" crawl -d "$db" -q --allow-cidr 127.0.0.1/32 "$site/secret" "$site/ok-late" >>"$crawler_log" 2>&1
expect_value "CLI crawl" "robots.txt of 10 MB (Disallow at the top, another at 10 MB)" "read up to 512 KiB: the first rule applies, the last is ignored" \
	"disallowed by robots.txt|fetched" \
	"SELECT string_agg(coalesce(fetch_error, 'fetched'), '|' ORDER BY url DESC) FROM pglearn.examples WHERE url IN ('$site/secret', '$site/ok-late')"

# the SQL_ASCII database: a stored URL that is not UTF-8 must not stop --pending
rc=0; "$BIN" crawl -d "$db_ascii" -q --ignore-robots --allow-cidr 127.0.0.1/32 --delay 0 --pending >"$work/p.out" 2>&1 || rc=$?
cat "$work/p.out" >>"$crawler_log"
status=1
[ "$rc" = 1 ] && grep -qF "not an http(s) URL" "$work/p.out" &&
	[ "$(run_sql "$db_ascii" "SELECT count(*) FROM pglearn.examples WHERE url LIKE '$site/ok-ascii-%' AND title = 'Fine page'")" = 20 ] && status=0
record "CLI crawl" "--pending in a SQL_ASCII database holding a URL invalid in UTF-8" "that URL skipped as invalid (exit 1), the 20 others fetched" "$status" "exit $rc: $(cat "$work/p.out")"
"$BIN" crawl -d "$db_ascii" -q --ignore-robots --allow-cidr 127.0.0.1/32 "$site/bad-utf8.html" >>"$crawler_log" 2>&1
expect_value "SQL_ASCII db" "crawl of a page with invalid UTF-8 into a SQL_ASCII database" "stored as valid UTF-8" t \
	"SELECT title IS NOT NULL AND convert_from(convert_to(title || body, 'SQL_ASCII'), 'UTF8') IS NOT NULL FROM pglearn.examples WHERE url = '$site/bad-utf8.html'" "$db_ascii"

# a LATIN1 database cannot hold Japanese: that row alone is refused
rc=0; "$BIN" crawl -d "$db_latin1" -q --ignore-robots --allow-cidr 127.0.0.1/32 "$site/ja.html" "$site/ok-latin1" >"$work/l.out" 2>&1 || rc=$?
cat "$work/l.out" >>"$crawler_log"
status=1
[ "$rc" = 1 ] && grep -qF "cannot store $site/ja.html" "$work/l.out" &&
	[ "$(run_sql "$db_latin1" "SELECT string_agg(url, ' ') FROM pglearn.examples WHERE url LIKE '$site/%'")" = "$site/ok-latin1" ] && status=0
record "LATIN1 db" "crawl of a Japanese page and a plain one in one batch" "the Japanese row refused by the database and named (exit 1); the other stored" "$status" "exit $rc: $(cat "$work/l.out")"

# --- command line: the crawler stays out of private networks ---------------------------

rc=0; "$BIN" crawl -d "$db" -q --ignore-robots "$site/ok-private" >"$work/priv.out" 2>&1 || rc=$?
cat "$work/priv.out" >>"$crawler_log"
expect_value "CLI crawl" "a 127.0.0.1 URL without --allow-private or --allow-cidr" "refused: the row's fetch_error says loopback, nothing fetched (exit 1)" \
	"$rc|true|false" "SELECT '$rc|' || (fetch_error LIKE 'refused: 127.0.0.1 is a loopback address%') || '|' || (title IS NOT NULL) FROM pglearn.examples WHERE url = '$site/ok-private'"
crawl_page to-metadata
expect_value "CLI crawl" "127.0.0.1 allowed, the page redirects to http://127.0.0.2/ (a metadata service's stand-in)" \
	"the redirect is refused; nothing of the target stored" "true|false" \
	"SELECT (fetch_error LIKE 'refused: 127.0.0.2 is a loopback address%') || '|' || (title IS NOT NULL OR body IS NOT NULL) FROM pglearn.examples WHERE url = '$site/to-metadata'"
crawl_page huge-title.html
row_is "CLI crawl" "a page with a 2,000,000-character title" "stored with the title cut to 1000 characters" huge-title.html 1000 "length(title)"
"$BIN" crawl -d "$db" -q --ignore-robots --allow-cidr 127.0.0.1/32 --delay 0 --feed "$site/big-feed.xml" >>"$crawler_log" 2>&1
expect_value "CLI crawl" "a feed of 5000 items" "the first 1000 (--max-feed-items) added, the rest skipped" 1000 \
	"SELECT count(*) FROM pglearn.examples WHERE url LIKE '$site/ok-feed-%'"

# --- the whole run -------------------------------------------------------------------

status=1
! grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$crawler_log" && status=0
record "CLI" "every pglearn run above" "no AddressSanitizer/UBSan/LeakSanitizer report" "$status" "$(grep -E -A5 'Sanitizer|runtime error' "$crawler_log" | head -20)"
check "server" "everything above" "no backend crashed (a session opened at the start is still there)" \
	test "$(psql -X -At -d "$db" -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$sentinel'")" = 1
check "storage" "every page the crawler stored in the SQL_ASCII database" "valid UTF-8 (convert_from(..., 'UTF8') accepts every text column)" \
	test "$(run_sql "$db_ascii" "SELECT count(*) FROM pglearn.examples WHERE fetched_at IS NOT NULL AND fetch_error IS NULL AND convert_from(convert_to(concat(url, title, body, description, final_url, fetch_error), 'SQL_ASCII'), 'UTF8') IS NULL")" = 0

echo "# trickle: $((t2 - t1)) s"

# The table in bench/RESULTS.md is this run's catalogue: regenerate it with
# HOSTILE_MARKDOWN=FILE when a test is added or reworded.
[ -n "${HOSTILE_MARKDOWN:-}" ] && cp "$markdown" "$HOSTILE_MARKDOWN"
sed -n '/^## Hostile inputs/,/^## /p' bench/RESULTS.md | grep '^|' >"$work/results_table.md"
NOT_IN_CATALOGUE=1 check "catalogue" "the table in bench/RESULTS.md, section \"Hostile inputs\"" "identical to this run's catalogue" \
	diff "$work/results_table.md" "$markdown"

echo "# $(($(date +%s) - started)) s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
