#!/usr/bin/env bash
# bench/features.sh: features() against its floors, today's code and the
# code before its fast path side by side in one run.
#
# A benchmark, not a test: no thresholds, it only reports (the targets of
# the issue are printed beside the ratios).  Writes the section
# "## Features" of bench/RESULTS.md and prints it.
#
# Two corpora from the SpamAssassin e-mails (t/lib/spam_corpus.sh):
#   short  450-byte windows of the bodies, the subject + " #i" as title and a
#          URL of its own per row (SHORT_COPIES copies, default 9: 54,414
#          rows, ~29 MB) -- short article texts, as the crawler stores them;
#          floor: SELECT sum(length(url) + length(title) + length(body))
#   bench  bench/train.sh's rows: the whole e-mails repeated COPIES times
#          (default 34: 205,564 rows, ~1.1 GB of body) with distinct URLs;
#          floor: SELECT sum(length(body)) (detoasting every body)
# and for each, serially: SELECT sum(nnz(features(url, title, body))) with
# the installed pglearn, and the same with the reference features() of
# t/features_ref (the code before the fast path, built here as a library
# of its own with the same compiler flags), whose fvecs are the same bits
# (t/features_ref/run.sh checks it; here the nnz sums are compared).
# Each statement runs ROUNDS times (default 3), the rounds interleaved
# (floor, new, old, floor, ...), each in a fresh session; the best wall
# time and the best backend CPU time (user + system from /proc) of each
# are reported, and the ratios are taken of those.
#
# Usage: bench/features.sh [COPIES (34)] [SHORT_COPIES (9)] [ROUNDS (3)]
# Uses the server of the PG* environment when PGHOST or PGPORT is set
# (pglearn installed there, a role that may create databases), otherwise a
# throwaway cluster (t/lib/cluster.sh).  PGLEARN_BENCH_NO_WRITE=1 prints
# the section and leaves RESULTS.md alone.  About 6 minutes on 2 cores at
# the defaults.
set -euo pipefail

cd "$(dirname "$0")/.."
TOP=$(pwd)
. t/lib/spam_corpus.sh
. t/lib/cluster.sh
. bench/lib.sh

COPIES=${1:-34}
SHORT_COPIES=${2:-9}
ROUNDS=${3:-3}
DB=pglearn_bench_features_$$
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pglearn-bench-features.XXXXXX")
chmod 755 "$WORK"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

csv=$(spam_corpus_csv)
cp "$csv" "$WORK/corpus.csv"
chmod 644 "$WORK/corpus.csv"
so=$(bash t/features_ref/build.sh "$WORK/ref")
bench_use_cluster

q() {
	PGOPTIONS=$SERIAL psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"
}

declare -A T C V				# best wall s, best CPU s, result
TICKS=$(getconf CLK_TCK)
# timed KEY SQL: one run in a fresh session, keeping the best times of KEY
timed() {
	local out wall cpu
	out=$(PGOPTIONS=$SERIAL psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" <<SQL
SELECT pg_backend_pid() AS bench_pid \gset
\setenv BENCH_PID :bench_pid
\! awk '{ print \$14 + \$15 }' /proc/\$BENCH_PID/stat >$WORK/cpu0
\timing on
$2;
\timing off
\! awk '{ print \$14 + \$15 }' /proc/\$BENCH_PID/stat >$WORK/cpu1
SQL
	) || {
		echo "failed: $2" >&2
		exit 1
	}
	wall=$(echo "$out" | awk '/^Time: / { ms = $2 } END { printf "%.3f", ms / 1000 }')
	cpu=$(awk -v t="$TICKS" 'NR == FNR { a = $1; next } { printf "%.2f", ($1 - a) / t }' "$WORK/cpu0" "$WORK/cpu1")
	V[$1]=$(echo "$out" | { grep -v '^Time: ' || true; } | tail -n 1)
	if [ -z "${T[$1]:-}" ] || awk -v a="$wall" -v b="${T[$1]}" 'BEGIN { exit !(a < b) }'; then T[$1]=$wall; fi
	if [ -z "${C[$1]:-}" ] || awk -v a="$cpu" -v b="${C[$1]}" 'BEGIN { exit !(a < b) }'; then C[$1]=$cpu; fi
	printf '%-12s %8s s wall %7s s cpu  %s\n' "$1" "$wall" "$cpu" "${V[$1]}" >&2
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}

echo "== loading: short texts ($SHORT_COPIES copies), bench rows ($COPIES copies)" >&2
psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB"
q <<SQL
CREATE EXTENSION pglearn;
CREATE FUNCTION ref_features(text, text, text, int4 DEFAULT 20, bool DEFAULT false)
	RETURNS pglearn.fvec AS '$so', 'pglearn_ref_features' LANGUAGE C IMMUTABLE;
CREATE TABLE mail (url text, title text, body text, label int4, split text);
\copy mail FROM '$WORK/corpus.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE short AS
	SELECT 'https://news' || (i % 50) || '.example/' || (ARRAY['news', 'tech', 'blog'])[1 + i % 3] || '/'
		   || substr(md5(m.url || i), 1, 10) || '-' || i AS url,
		   m.title || ' #' || i AS title,
		   substr(m.body, 1 + (i * 211) % greatest(length(m.body) - 450, 1), 450) AS body
	  FROM mail m, generate_series(1, $SHORT_COPIES) AS i;
CREATE TABLE big AS
	SELECT 'https://mail.example/' || md5(m.url || '/' || i) AS url, m.title, m.body, m.label
	  FROM mail m, generate_series(1, $COPIES) AS i;
VACUUM ANALYZE short;
VACUUM ANALYZE big;
SQL

short_rows=$(q -c "SELECT count(*) FROM short")
short_bytes=$(q -c "SELECT sum(octet_length(url) + octet_length(title) + octet_length(body)) FROM short")
big_rows=$(q -c "SELECT count(*) FROM big")
big_bytes=$(q -c "SELECT sum(octet_length(body)) FROM big")

for r in $(seq "$ROUNDS"); do
	echo "== round $r of $ROUNDS" >&2
	timed s_floor "SELECT sum(length(url) + length(title) + length(body)) FROM short"
	timed s_new "SELECT sum(pglearn.nnz(pglearn.features(url, title, body))) FROM short"
	timed s_old "SELECT sum(pglearn.nnz(ref_features(url, title, body))) FROM short"
	timed b_floor "SELECT sum(length(body)) FROM big"
	timed b_new "SELECT sum(pglearn.nnz(pglearn.features(url, title, body))) FROM big"
	timed b_old "SELECT sum(pglearn.nnz(ref_features(url, title, body))) FROM big"
done
same_short=$([ "${V[s_new]}" = "${V[s_old]}" ] && echo yes || echo NO)
same_big=$([ "${V[b_new]}" = "${V[b_old]}" ] && echo yes || echo NO)

rev=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$TOP" status --porcelain -- src 2>/dev/null | grep -q . && echo " (src/ with uncommitted changes)" || true)
pg_version=$(q -c "SHOW server_version")
cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
load=$(cut -d' ' -f1-3 /proc/loadavg)

section=$WORK/section.md
cat >"$section" <<EOF
## Features

\`bench/features.sh $COPIES $SHORT_COPIES $ROUNDS\` on $(date -u '+%Y-%m-%d %H:%M UTC') at $rev$dirty: $(nproc) CPUs ($cpu),
PostgreSQL $pg_version, the installed pglearn against the reference features() of t/features_ref
(the code before the fast path, built by t/features_ref/build.sh with pg_config's flags). The machine
was shared with other sessions' builds and tests (load average at the end: $load): the times are the
best of $ROUNDS interleaved rounds, each in a fresh session, and the ratios, taken within the run, are
what to read. CPU: user + system time of the backend.

- short: $short_rows rows, $short_bytes bytes of url + title + body (450-byte windows of the e-mails).
- bench: $big_rows rows, $big_bytes bytes of body (bench/train.sh's rows).
- Same nnz sums from both codes: short $same_short (${V[s_new]}), bench $same_big (${V[b_new]}).

| corpus | statement | wall (s) | CPU (s) | × floor, wall | × floor, CPU | target |
|---|---|---:|---:|---:|---:|---|
| short | floor: \`sum(length(url) + length(title) + length(body))\` | ${T[s_floor]} | ${C[s_floor]} | 1 | 1 | |
| short | \`sum(nnz(features(url, title, body)))\`, before | ${T[s_old]} | ${C[s_old]} | $(ratio "${T[s_old]}" "${T[s_floor]}") | $(ratio "${C[s_old]}" "${C[s_floor]}") | |
| short | **the same, now** | **${T[s_new]}** | ${C[s_new]} | **$(ratio "${T[s_new]}" "${T[s_floor]}")** | $(ratio "${C[s_new]}" "${C[s_floor]}") | ≤ 3 |
| bench | floor: \`sum(length(body))\` (detoast every body) | ${T[b_floor]} | ${C[b_floor]} | 1 | 1 | |
| bench | \`sum(nnz(features(url, title, body)))\`, before | ${T[b_old]} | ${C[b_old]} | $(ratio "${T[b_old]}" "${T[b_floor]}") | $(ratio "${C[b_old]}" "${C[b_floor]}") | |
| bench | **the same, now** | **${T[b_new]}** | ${C[b_new]} | **$(ratio "${T[b_new]}" "${T[b_floor]}")** | $(ratio "${C[b_new]}" "${C[b_floor]}") | ≤ 2.5 |

Speed-up, wall: short $(ratio "${T[s_old]}" "${T[s_new]}")x, bench $(ratio "${T[b_old]}" "${T[b_new]}")x.

EOF
cat "$section"
if [ -z "${PGLEARN_BENCH_NO_WRITE:-}" ]; then
	bench_write_section "$TOP/bench/RESULTS.md" "$section" "Features"
fi
