#!/usr/bin/env bash
# t/fuzz/sql_inputs.sh: mutational fuzzing of the fvec and model input
# functions through SQL (see sql_inputs.py), against the cluster in PG*.
# Passes when every mutant is accepted or rejected with an invalid-input
# SQLSTATE (class 22, or 54000 for size limits) and the server survives.
# Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
count=${FUZZ_SQL_COUNT:-4000}
seed=${FUZZ_SQL_SEED:-$(date +%s)}
db=pglearn_fuzz_$$
work=$(mktemp -d /tmp/pglearn-sqlfuzz.XXXXXX)
trap 'dropdb --if-exists "$db" >/dev/null 2>&1; rm -rf "$work"' EXIT
createdb "$db" || { echo "0 passed, 1 failed"; exit 1; }
psql -X -q -d "$db" -c "CREATE EXTENSION pglearn" || { echo "0 passed, 1 failed"; exit 1; }
# a model of format 2, with feature settings (format 1 is format 2 without
# them: t/fuzz/corpus/model has seeds of both for the parser's own target)
model=$(psql -X -A -t -d "$db" -c "SELECT pglearn.train(f, l, '{\"hash_bits\": 12, \"binary\": true}')::text FROM (VALUES ('{1:1,5:0.5}'::pglearn.fvec, 1), ('{2:1,5:0.25}', -1)) v(f, l)")
fvec_hex=$(psql -X -A -t -d "$db" -c "SELECT encode(pglearn.fvec_send('{1:1,7:0.5,900000:-2}'), 'hex')")
model_hex=$(psql -X -A -t -d "$db" -c "SELECT encode(pglearn.model_send('$model'), 'hex')")

# recv(type, bytes): read one value of the type from a binary COPY file
# holding the bytes, so the receive function sees exactly those bytes
cat >"$work/statements.sql" <<'SQL'
CREATE TEMP TABLE recv_fvec (v pglearn.fvec);
CREATE TEMP TABLE recv_model (v pglearn.model);
CREATE FUNCTION pg_temp.recv(type text, payload bytea) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE
    path text := 'pglearn_fuzz_recv_' || pg_backend_pid();
    lo oid;
BEGIN
    lo := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
                           || '\x0001'::bytea || int4send(length(payload)) || payload || '\xffff'::bytea);
    PERFORM lo_export(lo, path);
    PERFORM lo_unlink(lo);
    EXECUTE format('TRUNCATE recv_%s; COPY recv_%s FROM %L WITH (FORMAT binary)', type, type, path);
    RETURN true;
END
$$;
SQL
echo "seed $seed, $count mutants"
python3 t/fuzz/sql_inputs.py "$seed" "$count" "$model" "$fvec_hex" "$model_hex" >>"$work/statements.sql"
psql -X -q -d "$db" -f "$work/statements.sql" >"$work/out.log" 2>"$work/err.log"

passed=0
failed=0
check() {						# check DESCRIPTION COMMAND...
	if "${@:2}"; then
		echo "ok - $1"
		passed=$((passed + 1))
	else
		echo "not ok - $1"
		failed=$((failed + 1))
	fi
}
check "psql ran every statement" grep -aq "fuzz done" "$work/out.log"
check "the server is still up" psql -X -q -d "$db" -c "SELECT 1" -o /dev/null
bad=$(grep -aE '^psql:.*ERROR:' "$work/err.log" | grep -avE 'ERROR:  (22[0-9A-Z]{3}|54000):' | head -5)
check "every rejection is an invalid-input error (22xxx or 54000)" test -z "$bad"
[ -n "$bad" ] && echo "$bad"
accepted=$(grep -acE '^ t$' "$work/out.log" || true)
rejected=$(grep -acE '^psql:.*ERROR:' "$work/err.log" || true)
echo "accepted $accepted, rejected $rejected"
check "accepted and rejected add up to every mutant" test "$((accepted + rejected))" = "$count"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
