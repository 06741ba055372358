#!/usr/bin/env bash
# bench/load.sh: scoring throughput and latency under load.  N pgbench
# clients score random stored e-mails with classify(name, url, title, body)
# (the newest stored model of that name, looked up once per statement and
# decoded when it is not in the backend's model cache), first alone (the
# baseline), then for the same time while
#   (a) `pglearn crawl` inserts pages from the fixture HTTP server
#       (crawler/t/fixture_server.py on 127.0.0.1) into the same
#       pglearn.examples, each row scored by the examples_score trigger with
#       pglearn.default_model = 'news', and
#   (b) a loop refits 'news' (pglearn.fit, C cycling through 0.5, 1, 2 so
#       that every fit stores a different model) while the scorers read it.
# Reports TPS, average and p99 latency (from pgbench --log per-transaction
# latencies), failed transactions and aborted clients, ERROR/FATAL/PANIC/
# "terminated by signal" lines in the server log during each run, fits
# completed, pages crawled (and how many of them the trigger scored), and
# the machine's CPU use.
#
# A benchmark, not a test: no thresholds, it only reports.  Writes the
# section "## Load" of bench/RESULTS.md (up to its "### Memory" subsection,
# which records the test t/memory.sh) and prints it.
#
# Usage: bench/load.sh [SECONDS (default 60)] [CLIENTS (default 8)] [THREADS (default 2)]
# Uses the server of the PG* environment when PGHOST or PGPORT is set
# (pglearn installed there, a role that may create databases; set
# PGLEARN_SERVER_LOG to the server's log file to have it searched for
# errors), otherwise starts a throwaway cluster with t/lib/cluster.sh.
# The crawler is $(pg_config --bindir)/pglearn when installed, else
# crawler/pglearn (built here).  PGLEARN_BENCH_NO_WRITE=1: print the
# section, leave RESULTS.md alone.  Takes about 2 x SECONDS + 30 s.
set -euo pipefail

cd "$(dirname "$0")/.."
TOP=$(pwd)
. t/lib/spam_corpus.sh
. t/lib/cluster.sh
. bench/lib.sh

SECS=${1:-60}
CLIENTS=${2:-8}
THREADS=${3:-2}
DB=pglearn_bench_load_$$
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pglearn-bench-load.XXXXXX")
chmod 755 "$WORK"
bg_pids=()
server_pid=
cleanup() {
	local p
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
	wait 2>/dev/null || true
	bench_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM

csv=$(spam_corpus_csv)
bench_use_cluster
if [ -n "$own_cluster" ]; then
	SERVER_LOG=$CLUSTER_DIR/server.log
else
	SERVER_LOG=${PGLEARN_SERVER_LOG:-}
fi
[ -n "$SERVER_LOG" ] && [ ! -r "$SERVER_LOG" ] && SERVER_LOG=

CRAWLER=$(pg_config --bindir)/pglearn
if [ ! -x "$CRAWLER" ]; then
	make -s -C crawler pglearn >&2
	CRAWLER=$TOP/crawler/pglearn
fi

q() {
	psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"
}

echo "== loading $csv into $DB" >&2
psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB"
q <<SQL
SET client_min_messages = warning;
CREATE EXTENSION pglearn;
CREATE TEMP TABLE mail (url text, title text, body text, label int4, split text);
\copy mail FROM '$csv' WITH (FORMAT csv, HEADER true)
-- labels on the train split only; the test split stays unlabelled
INSERT INTO pglearn.examples (url, title, body, label)
	SELECT url, title, body, CASE WHEN split = 'train' THEN label END FROM mail ORDER BY url;
VACUUM ANALYZE pglearn.examples;
SQL
echo "== fit('news')" >&2
fit0_ms=$(q -c "SELECT pglearn.fit('news') ->> 'fit_time_ms'")
# every new session of this database (the crawler's) scores with 'news'
q -c "ALTER DATABASE $DB SET pglearn.default_model = 'news'"
corpus_rows=$(q -c "SELECT count(*) FROM pglearn.examples")
max_id=$(q -c "SELECT max(id) FROM pglearn.examples")
labelled=$(q -c "SELECT count(*) FROM pglearn.examples WHERE label IS NOT NULL")
model_nnz=$(q -c "SELECT pglearn.model_info(model)->>'nnz' FROM pglearn.models LIMIT 1")
model_bytes=$(q -c "SELECT pg_column_size(model) FROM pglearn.models LIMIT 1")

cat >"$WORK/classify.sql" <<'SQL'
\set id random(1, :max_id)
SELECT pglearn.classify('news', url, title, body) FROM pglearn.examples WHERE id = :id;
SQL

python3 crawler/t/fixture_server.py "$WORK/ports" >"$WORK/fixture.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [ -s "$WORK/ports" ] && break; sleep 0.1; done
read -r HTTP_PORT _ <"$WORK/ports"

cpu_snapshot() {				# "busy total" jiffies of the whole machine
	awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}
declare -A R					# R[phase.key]: results

# crawl_loop END: rounds of 200 fresh URLs until END (epoch seconds)
crawl_loop() {
	local end=$1 r=0 ok=0 bad=0 i
	while [ "$(date +%s)" -lt "$end" ]; do
		r=$((r + 1))
		for i in $(seq 1 200); do echo "http://127.0.0.1:$HTTP_PORT/bench/$i?load=$r"; done >"$WORK/urls.txt"
		if PGDATABASE=$DB "$CRAWLER" crawl --allow-cidr 127.0.0.1/32 --quiet --jobs 8 --per-host 8 --delay 0 --file "$WORK/urls.txt" \
			>>"$WORK/crawl.log" 2>&1; then
			ok=$((ok + 1))
		else
			bad=$((bad + 1))
		fi
	done
	echo "$r $ok $bad" >"$WORK/crawl.count"
}
# fit_loop END: refit 'news' until END, C cycling so each fit's model differs
fit_loop() {
	local end=$1 n=0 bad=0 c
	local cs=(0.5 1 2)
	while [ "$(date +%s)" -lt "$end" ]; do
		c=${cs[$(((n + bad) % 3))]}
		if psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" \
			-c "SELECT pglearn.fit('news', params => '{\"C\": $c}') ->> 'fit_time_ms'" >>"$WORK/fit.log" 2>&1; then
			n=$((n + 1))
		else
			bad=$((bad + 1))
		fi
	done
	echo "$n $bad" >"$WORK/fit.count"
}

# run PHASE: pgbench for SECS seconds, with the background load if PHASE is "load"
run() {
	local phase=$1 log_off=0 c0 c1 t0 t1 end status
	[ -n "$SERVER_LOG" ] && log_off=$(stat -c %s "$SERVER_LOG")
	models0=$(q -c "SELECT count(*) FROM pglearn.models")
	rows0=$(q -c "SELECT count(*) FROM pglearn.examples")
	read -r c0 t0 < <(cpu_snapshot)
	if [ "$phase" = load ]; then
		end=$(($(date +%s) + SECS))
		bg_pids=()
		crawl_loop "$end" &
		bg_pids+=($!)
		fit_loop "$end" &
		bg_pids+=($!)
	fi
	echo "== $phase: pgbench -c $CLIENTS -j $THREADS -T $SECS" >&2
	status=0
	(cd "$WORK" && pgbench -n -M prepared -c "$CLIENTS" -j "$THREADS" -T "$SECS" -D max_id="$max_id" \
		--log --log-prefix="$WORK/$phase" -f "$WORK/classify.sql" "$DB") >"$WORK/$phase.out" 2>&1 || status=$?
	local b0=$SECONDS
	if [ "$phase" = load ]; then
		wait "${bg_pids[@]}"
		bg_pids=()
	fi
	R[$phase.overrun]=$((SECONDS - b0))
	read -r c1 t1 < <(cpu_snapshot)
	cat "$WORK/$phase.out" >&2
	R[$phase.status]=$status
	R[$phase.tps]=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$WORK/$phase.out" |
		awk '{ printf "%.1f", $1 }')
	R[$phase.xacts]=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK/$phase.out")
	R[$phase.failed]=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$WORK/$phase.out")
	R[$phase.aborted]=$(grep -c 'aborted' "$WORK/$phase.out" || true)
	# per-transaction log: client xact latency_us script epoch us
	cat "$WORK/$phase".* | awk '{ print $3 }' | sort -n >"$WORK/$phase.lat"
	R[$phase.avg]=$(awk '{ s += $1 } END { printf "%.2f", s / NR / 1000 }' "$WORK/$phase.lat")
	R[$phase.p50]=$(awk '{ a[NR] = $1 } END { i = int(NR * 0.50); if (i < NR * 0.50) i++; printf "%.2f", a[i] / 1000 }' "$WORK/$phase.lat")
	R[$phase.p99]=$(awk '{ a[NR] = $1 } END { i = int(NR * 0.99); if (i < NR * 0.99) i++; printf "%.2f", a[i] / 1000 }' "$WORK/$phase.lat")
	R[$phase.max]=$(tail -n 1 "$WORK/$phase.lat" | awk '{ printf "%.2f", $1 / 1000 }')
	R[$phase.logged]=$(wc -l <"$WORK/$phase.lat")
	R[$phase.cpu]=$(awk -v b0="$c0" -v t0="$t0" -v b1="$c1" -v t1="$t1" 'BEGIN { printf "%.0f", 100 * (b1 - b0) / (t1 - t0) }')
	if [ -n "$SERVER_LOG" ]; then
		tail -c +$((log_off + 1)) "$SERVER_LOG" >"$WORK/$phase.serverlog"
		R[$phase.errors]=$(grep -cE 'ERROR|FATAL|PANIC|terminated by signal' "$WORK/$phase.serverlog" || true)
		grep -E 'ERROR|FATAL|PANIC|terminated by signal' "$WORK/$phase.serverlog" | head -n 20 >&2 || true
	else
		R[$phase.errors]="n/a (no server log)"
	fi
	R[$phase.models]=$(($(q -c "SELECT count(*) FROM pglearn.models") - models0))
	R[$phase.rows]=$(($(q -c "SELECT count(*) FROM pglearn.examples") - rows0))
}

run baseline
run load

read -r rounds crawl_ok crawl_bad <"$WORK/crawl.count"
read -r fits fit_bad <"$WORK/fit.count"
crawled=$(q -c "SELECT count(*) FROM pglearn.examples WHERE url LIKE 'http://127.0.0.1:$HTTP_PORT/bench/%' AND http_status = 200")
scored=$(q -c "SELECT count(*) FROM pglearn.examples WHERE url LIKE 'http://127.0.0.1:$HTTP_PORT/bench/%' AND http_status = 200 AND score IS NOT NULL")
crawl_errors=$(grep -ciE 'error|fail' "$WORK/crawl.log" || true)
fit_ms=$(awk '/^[0-9]+$/ { s += $1; n++ } END { if (n) printf "%.0f", s / n; else print "n/a" }' "$WORK/fit.log")
crawl_rate=$(awk -v n="$crawled" -v t="$SECS" 'BEGIN { printf "%.1f", n / t }')
echo "crawler: $rounds rounds ($crawl_ok ok, $crawl_bad failed), $crawled pages stored, $scored scored" >&2
echo "fit: $fits completed, $fit_bad failed" >&2
head -n 20 "$WORK/crawl.log" >&2
{ grep -vE '^[0-9]+$' "$WORK/fit.log" || true; } | head -n 20 >&2

pg_version=$(q -c "SHOW server_version")
ext_version=$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'pglearn'")
cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
today=$(date -u '+%Y-%m-%d %H:%M UTC')
errors_note() {
	[ -z "$SERVER_LOG" ] && { echo "n/a"; return; }
	echo "${R[$1.errors]}"
}

section=$WORK/section.md
cat >"$section" <<MD
## Load

\`bench/load.sh $SECS $CLIENTS $THREADS\` on $today: $(nproc) CPUs ($cpu), PostgreSQL $pg_version,
pglearn $ext_version$([ -n "$own_cluster" ] && echo ", a throwaway cluster from t/lib/cluster.sh (fsync off, shared_buffers 256MB)").
Data: the SpamAssassin corpus (t/lib/spam_corpus.sh) in \`pglearn.examples\`, $corpus_rows rows, $labelled
labelled (the train split); \`fit('news')\` stores a model of $model_nnz weights ($model_bytes bytes).
Scorers: \`pgbench -n -M prepared -c $CLIENTS -j $THREADS -T $SECS\`, one statement per transaction,
\`SELECT pglearn.classify('news', url, title, body) FROM pglearn.examples WHERE id = :id\` with a random id
of the corpus rows (\`classify(name, …)\` looks the newest 'news' model up once per statement and decodes it only when its id is not among the backend's two cached models,
then tokenizes the e-mail). **baseline**: pgbench alone. **load**: the same run while, for the same $SECS s,
(a) \`pglearn crawl --jobs 8 --per-host 8 --delay 0\` inserts rounds of 200 fresh URLs from
\`crawler/t/fixture_server.py\` (~12 KB pages, 127.0.0.1) into the same table, every row scored by the
\`examples_score\` trigger with \`pglearn.default_model = 'news'\`, and (b) a loop runs
\`pglearn.fit('news', params => '{"C": c}')\` back to back, c cycling 0.5, 1, 2, so every fit stores a
different newest model under the scorers. Latencies from pgbench's per-transaction log (\`--log\`).

| run | TPS | transactions | avg latency (ms) | p50 (ms) | p99 (ms) | max (ms) | failed transactions | aborted clients | server log ERROR/FATAL/PANIC/signal | machine CPU busy |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| baseline | ${R[baseline.tps]} | ${R[baseline.xacts]} | ${R[baseline.avg]} | ${R[baseline.p50]} | ${R[baseline.p99]} | ${R[baseline.max]} | ${R[baseline.failed]:-?} | ${R[baseline.aborted]} | $(errors_note baseline) | ${R[baseline.cpu]}% |
| load | ${R[load.tps]} | ${R[load.xacts]} | ${R[load.avg]} | ${R[load.p50]} | ${R[load.p99]} | ${R[load.max]} | ${R[load.failed]:-?} | ${R[load.aborted]} | $(errors_note load) | ${R[load.cpu]}% |

Background work during the load run: **$fits fits completed** ($fit_bad failed; ${R[load.models]} models
stored; $fit_ms ms per fit on average, against $fit0_ms ms for the first fit on the idle server), **$crawled pages
crawled** and stored with HTTP 200 in $rounds crawl rounds (~$crawl_rate pages/s; $crawl_bad rounds exited non-zero;
$crawl_errors error lines in the crawler's output), $scored of them scored by the trigger.
pgbench exit status: baseline ${R[baseline.status]}, load ${R[load.status]}. The background loops finish the
fit or crawl round in progress at the deadline: ${R[load.overrun]} s after pgbench ended.
TPS under load / baseline: $(awk -v a="${R[load.tps]}" -v b="${R[baseline.tps]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }');
the scorers, the crawler, the Python fixture server and fit share the same $(nproc) CPUs.

MD
cat "$section"

[ -n "${PGLEARN_BENCH_NO_WRITE:-}" ] && exit 0	# a trial run: print only
# our section ends where its "### Memory" subsection (t/memory.sh) begins
bench_write_section bench/RESULTS.md "$section" "Load" "### Memory"
echo "== wrote bench/RESULTS.md" >&2
