#!/usr/bin/env bash
# t/hijack/run.sh: pglearn's SQL cannot be hijacked through the search_path.
#
# PostgreSQL resolves a function, operator, type or relation name over the
# caller's whole search_path, and a better-matching overload anywhere on it
# beats pg_catalog's (concat_ws(text, text, text) against concat_ws(text,
# VARIADIC "any"), bigint % integer, numeric * integer, float8 > integer);
# with pg_catalog listed after another schema even exact copies win.  A role
# with CREATE on a schema on the superuser's path then runs its code as the
# superuser through any pglearn function that does not fix its search_path.
#
# On a throwaway cluster (t/lib/cluster.sh) this suite:
#   1. creates the extension (HIJACK_EXTVERSION=0.2 tests an older version),
#      loads labelled articles, fits the default model, publishes a list to
#      a throwaway redis-server on a unix socket only (no TCP port);
#   2. reads pglearn's install and update scripts and the SQL its C code
#      sends to SPI (extract.py) and, as an unprivileged role with CREATE on
#      schema public, plants look-alikes in public of every function,
#      aggregate, operator, type and relation they name (plant.py: generated,
#      not a hand list); each records that it ran (a sequence, which no
#      rollback undoes, and WARNING "HIJACK ...");
#   3. as the superuser calls every function of the extension (found in
#      pg_proc/pg_depend, arguments from a table by type: calls.py), reads
#      every view, inserts and updates pglearn.examples, first with public
#      off the path (the baseline), then with search_path = public, pglearn
#      and public, pg_catalog, pglearn, each run in its own copy of the
#      database; and creates the extension at 0.1 and updates it with each
#      hostile path;
#   4. asserts that no planted object ever ran, that every call ends as it
#      does in the baseline, and that enough of them succeed; and, statically
#      (static.py), that every SQL and plpgsql function of pglearn has SET
#      search_path = pg_catalog, pg_temp or a SQL-standard body (a procedure
#      that commits cannot have SET: it must name everything in full).
#
# Runs as root (the cluster then belongs to an unprivileged OS user) or as
# an ordinary user; needs python3 and redis-server, and the installed
# pglearn (make install).  Everything listens on 127.0.0.1 or a unix socket.
# HIJACK_EXTVERSION=0.2 creates that version instead of the default one;
# HIJACK_DIAG=N prints N diagnostic lines per failure (60); HIJACK_KEEP=DIR
# keeps the generated SQL, the psql logs and the results there.
# Prints "ok N - ..." / "not ok N - ..." and ends with "N passed, N failed";
# exits non-zero if anything failed.  About 15 s on 2 cores (30 s against a
# pglearn whose functions do not fix their path: the planted code then runs
# some 190000 times).
set -uo pipefail
cd "$(dirname "$0")/../.."
. t/lib/cluster.sh
. t/lib/tap.sh			# report STATUS DESCRIPTION [DIAGNOSTIC]
TAP_DIAG_LINES=${HIJACK_DIAG:-60}

HJ=t/hijack
WORK=$(mktemp -d /tmp/pglearn-hijack.XXXXXX)
chmod 755 "$WORK"
VERSION=${HIJACK_EXTVERSION:-}
ATTACKER=hijack_attacker
BASE=hijack_base
started=$(date +%s)

cleanup() {
	if [ -f "$WORK/redis.pid" ]; then
		kill "$(cat "$WORK/redis.pid")" 2>/dev/null
		sleep 0.2
	fi
	cluster_stop
	if [ -n "${HIJACK_KEEP:-}" ]; then
		mkdir -p "$HIJACK_KEEP" && cp -r "$WORK"/. "$HIJACK_KEEP"/ 2>/dev/null
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# the PASS/FAIL lines (and "#" diagnostics) the python helpers print
records() {
	local line status desc
	while IFS= read -r line; do
		case $line in
		PASS$'\t'* | FAIL$'\t'*)
			status=${line%%$'\t'*}
			desc=${line#*$'\t'}
			n=$((n + 1))
			if [ "$status" = PASS ]; then
				passed=$((passed + 1))
				echo "ok $n - $desc"
			else
				failed=$((failed + 1))
				echo "not ok $n - $desc"
			fi
			;;
		'#'*)
			[ "$status" = FAIL ] && printf '%s\n' "$line" | cut -c1-1000
			;;
		esac
	done
}
bail() {						# bail DESCRIPTION [DIAGNOSTIC]: the rest cannot run
	report 1 "$1" "${2:-}"
	echo "$passed passed, $failed failed"
	exit 1
}
sql() {							# sql DB [psql options...]: a script from stdin, as the superuser
	local db=$1
	shift
	{ echo "SET search_path = pg_catalog, pg_temp;"; cat; } | psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@" 2>&1
}
elapsed() { echo $(($(date +%s) - $1)); }

# --- a cluster, redis on a unix socket, the database ---------------------------

cluster_start || bail "start a throwaway cluster"
echo "# cluster on $PGHOST (port $PGPORT), work directory $WORK"
redis-server --port 0 --unixsocket "$WORK/redis.sock" --unixsocketperm 777 --save '' --appendonly no \
	--daemonize yes --dir "$WORK" --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log" >/dev/null 2>&1 ||
	bail "start redis-server on a unix socket"
for _ in $(seq 100); do
	redis-cli -s "$WORK/redis.sock" ping 2>/dev/null | grep -q PONG && break
	sleep 0.05
done
REDIS="unix://$WORK/redis.sock"

version_clause=
[ -n "$VERSION" ] && version_clause="VERSION '$VERSION'"
createdb "$BASE" || bail "createdb $BASE"
out=$(sql "$BASE" <<SQL
CREATE EXTENSION pglearn $version_clause;
LOAD 'pglearn';
SET pglearn.redis_url = '$REDIS?db=0';
INSERT INTO pglearn.examples (url, title, description, body, label, http_status, fetched_at)
SELECT format('https://%s/post/%s', CASE WHEN i % 2 = 0 THEN 'db.example.com' ELSE 'sports.example.org' END, i),
	   CASE WHEN i % 2 = 0 THEN 'Tuning PostgreSQL part ' || i ELSE 'Match report ' || i END,
	   CASE WHEN i % 3 = 0 THEN 'Part ' || i || ' of the series' END,
	   CASE WHEN i % 2 = 0 THEN 'index vacuum planner ' || (i % 7) ELSE 'goal striker league ' || (i % 5) END,
	   CASE WHEN i % 10 = 0 THEN NULL WHEN i % 2 = 0 THEN 1 ELSE -1 END, 200, now()
  FROM generate_series(1, 60) i;
INSERT INTO pglearn.examples (url, title, body, http_status, fetched_at)
SELECT 'https://news.example/unlabelled/' || i, 'Vacuum news ' || i, 'vacuum planner goal ' || i, 200, now()
  FROM generate_series(1, 10) i;
SELECT pglearn.fit('default') IS NOT NULL;
SELECT pglearn.rescore() >= 0;
SELECT pglearn.publish('general', 5) > 0;
SELECT extversion FROM pg_extension WHERE extname = 'pglearn';
SQL
) || bail "set up $BASE: extension, articles, fit, publish" "$out"
extversion=$(printf '%s\n' "$out" | tail -n 1)
default_version=$(sql "$BASE" <<<"SELECT default_version FROM pg_available_extensions WHERE name = 'pglearn'")
echo "# pglearn $extversion (default version $default_version), 70 articles, model \"default\", list \"general\" published"

# --- what the scripts call, and the look-alikes --------------------------------

t0=$(date +%s)
selftest=$(python3 $HJ/extract.py --self-test 2>&1)
python3 $HJ/extract.py sql/pglearn--*.sql src/*.c >"$WORK/extract.json" 2>"$WORK/extract.err"
status=$?
desc=$(python3 - "$WORK/extract.json" <<'PY' 2>/dev/null
import json, sys
d = json.load(open(sys.argv[1]))
spi = sum(s.get("spi_strings", 0) for s in d["sources"])
print("%d files (%d SPI strings): %d names called, %d binary and %d prefix operator symbols, %d relation names"
      % (len(d["sources"]), spi, len(d["calls"]), len(d["binary_operators"]), len(d["prefix_operators"]), len(d["relations"])))
PY
)
[ "$status" = 0 ] && [ -n "$desc" ] && grep -q 'self-test ok' <<<"$selftest" || status=1
report "$status" "extract.py reads the scripts: $desc" "$selftest $(cat "$WORK/extract.err")"

python3 $HJ/calls.py samples "$BASE" "$WORK/samples.json" 2>"$WORK/samples.err" ||
	bail "sample values from $BASE" "$(cat "$WORK/samples.err")"
python3 $HJ/plant.py "$WORK/extract.json" "$BASE" "$WORK/plant.sql" "$WORK/plant.json" >"$WORK/plant.counts" 2>"$WORK/plant.err" ||
	bail "plant.py generates the look-alikes" "$(cat "$WORK/plant.err")"
sql "$BASE" >/dev/null <<SQL || bail "create role $ATTACKER"
CREATE ROLE $ATTACKER LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
SQL

plant_into() {					# plant_into DB: as the attacker, the generated look-alikes
	sql "$1" >/dev/null <<<"GRANT CREATE ON SCHEMA public TO $ATTACKER;" || return 1
	psql -X -q -d "$1" -U "$ATTACKER" -v ON_ERROR_STOP=0 -v ON_ERROR_ROLLBACK=on -1 \
		-f "$WORK/plant.sql" >/dev/null 2>"$WORK/plant-$1.err"
	! grep -q 'ERROR' "$WORK/plant-$1.err"
}
t1=$(date +%s)
plant_into "$BASE"
status=$?
plant_s=$(elapsed "$t1")
counts=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
c = d["counts"]
print("%d functions, %d aggregates, %d operators, %d types (domains), %d relations (views); %d left out"
      % (c["functions"], c["aggregates"], c["operators"], c["types"], c["relations"], len(d["skipped"])))' "$WORK/plant.json")
report "$status" "$ATTACKER (CREATE on schema public only) plants $counts in ${plant_s} s" \
	"$(grep -A2 ERROR "$WORK/plant-$BASE.err" | head -20)"
echo "# generated and planted in $(elapsed "$t0") s; left out: $(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
win = [s["name"] for s in d["skipped"] if s["why"].startswith("window")]
lit = sorted({s["name"].split("(")[0] for s in d["skipped"] if s["why"].startswith("the scripts")})
print("window functions %s; o(T, T) where the scripts apply o to a literal that is not valid T input and pg_catalog has no o(T, T), %d of them, for %s"
      % (", ".join(win) or "none", len(d["skipped"]) - len(win), " ".join(lit)))' "$WORK/plant.json")"

# the recorder itself works: planted objects called by their full names
createdb -T "$BASE" hijack_control || bail "createdb hijack_control"
controls=$(python3 -c 'import json, sys; print(";\n".join(json.load(open(sys.argv[1]))["controls"] + ["SELECT public.hijack_mark($$control$$)"]) + ";")' "$WORK/plant.json")
ncontrols=$(grep -c '^SELECT' <<<"$controls")
out=$(sql hijack_control <<SQL
SELECT last_value FROM public.hijack_seq;
$controls
SELECT last_value FROM public.hijack_seq;
SQL
)
before=$(grep -E '^[0-9]+$' <<<"$out" | head -n 1)
after=$(grep -E '^[0-9]+$' <<<"$out" | tail -n 1)
warnings=$(grep -c 'WARNING:  HIJACK' <<<"$out")
status=1
[ -n "$before" ] && [ $((after - before)) = "$ncontrols" ] && [ "$warnings" = "$ncontrols" ] && status=0
report "$status" "control: $ncontrols planted objects called by their full names are counted ($((after - before)) by the sequence, $warnings warnings)" "$controls
$out"

# --- every function of the extension, three times ------------------------------

python3 $HJ/calls.py gen "$BASE" "$WORK/samples.json" "pglearn" "$REDIS?db=1" "$WORK/calls.sql" "$WORK/calls.json" 2>"$WORK/gen.err" ||
	bail "calls.py generates the calls" "$(cat "$WORK/gen.err")"
read -r ncalls nfuncs nviews nskipped unknown <<<"$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(len(d["calls"]), d["functions"], d["views"], len(d["skipped"]),
      "; ".join("%s: %s" % (u["sig"], ", ".join(u["types"])) for u in d["unknown"]).replace(" ", "_") or "-")' "$WORK/calls.json")"
status=0
[ "$unknown" != - ] && status=1
report "$status" "every argument type of the extension's $nfuncs functions has a sample value ($ncalls calls and reads of $nviews views; $nskipped functions skipped: internal or trigger)" \
	"no sample value for: ${unknown//_/ } -- add the type to sample() in t/hijack/calls.py"
min_ok=$((ncalls * 4 / 5))

# run_calls NAME DB PATH REDISDB: one run of every call
run_calls() {
	createdb -T "$BASE" "$2" || return 1
	python3 $HJ/calls.py gen "$BASE" "$WORK/samples.json" "$3" "$REDIS?db=$4" "$WORK/calls-$1.sql" "$WORK/calls-$1.json" || return 1
	local t=$(date +%s)
	psql -X -q -d "$2" -v ON_ERROR_STOP=0 -f "$WORK/calls-$1.sql" >/dev/null 2>"$WORK/log-$1.txt"
	python3 $HJ/calls.py report "$WORK/log-$1.txt" "$WORK/calls-$1.json" "$WORK/result-$1.json" || return 1
	echo "# $1: search_path = $3, $(elapsed "$t") s"
}
run_calls baseline hijack_baseline "pglearn" 1 || bail "run the calls with public off the path"
records < <(python3 $HJ/calls.py verdict "baseline (search_path = pglearn: public off the path)" "$WORK/result-baseline.json" - "$min_ok")
run_calls public_first hijack_public "public, pglearn" 2 || bail "run the calls with public first"
records < <(python3 $HJ/calls.py verdict "search_path = public, pglearn" "$WORK/result-public_first.json" "$WORK/result-baseline.json" "$min_ok")
run_calls before_catalog hijack_public_catalog "public, pg_catalog, pglearn" 3 || bail "run the calls with public before pg_catalog"
records < <(python3 $HJ/calls.py verdict "search_path = public, pg_catalog, pglearn" "$WORK/result-before_catalog.json" "$WORK/result-baseline.json" "$min_ok")

# --- CREATE EXTENSION at 0.1 and ALTER EXTENSION UPDATE under a hostile path --------

target=${VERSION:-$default_version}
i=0
for path in "public, pglearn" "public, pg_catalog, pglearn"; do
	i=$((i + 1))
	db=hijack_update_$i
	createdb "$db" || bail "createdb $db"
	plant_into "$db" || { report 1 "plant into $db" "$(head "$WORK/plant-$db.err")"; continue; }
	out=$(psql -X -q -At -d "$db" -v ON_ERROR_STOP=1 2>&1 <<SQL
\\set SHOW_CONTEXT always
SET search_path = pg_catalog;
SELECT 'seq ' || last_value FROM public.hijack_seq;
SET search_path = $path;
CREATE EXTENSION pglearn VERSION '0.1';
ALTER EXTENSION pglearn UPDATE TO '$target';
SET search_path = pg_catalog;
SELECT 'seq ' || last_value FROM public.hijack_seq;
SELECT 'version ' || extversion FROM pg_extension WHERE extname = 'pglearn';
SQL
)
	rc=$?
	before=$(grep '^seq ' <<<"$out" | head -n 1)
	after=$(grep '^seq ' <<<"$out" | tail -n 1)
	runs=$((${after#seq } - ${before#seq }))
	warnings=$(grep -c 'HIJACK' <<<"$out")
	status=1
	[ "$rc" = 0 ] && [ "$runs" = 0 ] && [ "$warnings" = 0 ] && grep -qx "version $target" <<<"$out" && status=0
	report "$status" "update path, search_path = $path: CREATE EXTENSION pglearn VERSION '0.1', ALTER EXTENSION UPDATE TO '$target': no planted object ran ($runs by the sequence, $warnings warnings)" \
		"$(grep -E 'HIJACK|ERROR|CONTEXT|version' <<<"$out" | sort | uniq -c | sort -rn | head -30)"
	records < <(python3 $HJ/static.py "$db" "updated database ($path)" 2>&1 || echo "FAIL	static.py ran on $db")
done

# --- static: every SQL and plpgsql function is pinned ---------------------------

records < <(python3 $HJ/static.py "$BASE" "fresh CREATE EXTENSION" 2>&1 || echo "FAIL	static.py ran on $BASE")

echo "# $(elapsed "$started") s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
