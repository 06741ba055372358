#!/usr/bin/env bash
# bench/train.sh: wall times of feature extraction, training and scoring on
# the SpamAssassin corpus repeated to >= 200k rows, against floors measured
# in the same run (count(*), sum(length(body)), to_tsvector) and against
# LIBLINEAR's command line on the very same feature vectors.
#
# A benchmark, not a test: no thresholds, it only reports.  Writes the
# section "## Training and scoring" of bench/RESULTS.md (up to the
# "### Scoring cost and model size" subsection that bench/score.sh owns)
# and prints the same table.
#
# Usage: bench/train.sh [COPIES (default 34: 34 x 6046 = 205,564 rows)]
# Uses the server of the PG* environment when PGHOST or PGPORT is set (it
# needs pglearn installed there and a superuser or a role that may create
# databases), otherwise starts a throwaway cluster with t/lib/cluster.sh.
# Takes about 7 minutes on 2 cores; needs ~1.5 GB free in ${TMPDIR:-/tmp}
# for the libsvm file.
set -euo pipefail

cd "$(dirname "$0")/.."
TOP=$(pwd)
. t/lib/spam_corpus.sh
. t/lib/cluster.sh
. bench/lib.sh

COPIES=${1:-34}
DB=pglearn_bench_train_$$
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pglearn-bench-train.XXXXXX")
chmod 755 "$WORK"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

csv=$(spam_corpus_csv)
bench_use_cluster

q() {							# q [psql args]: run in the benchmark database
	PGOPTIONS=$SERIAL psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"
}

declare -A T C V				# T[key]: wall seconds, C[key]: CPU seconds, V[key]: result
TICKS=$(getconf CLK_TCK)
# timed KEY SETTINGS SQL: one statement in a fresh session; wall time as
# psql's \timing reports it, CPU time (user + system) of the backend from
# /proc (the leader only, for parallel plans), so that other load on the
# machine shows as wall time above CPU time
timed() {
	local out
	out=$(PGOPTIONS=$2 psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" <<SQL
SELECT pg_backend_pid() AS bench_pid \gset
\setenv BENCH_PID :bench_pid
\! awk '{ print \$14 + \$15 }' /proc/\$BENCH_PID/stat >$WORK/cpu0
\timing on
$3;
\timing off
\! awk '{ print \$14 + \$15 }' /proc/\$BENCH_PID/stat >$WORK/cpu1
SQL
	) || {
		echo "failed: $3" >&2
		exit 1
	}
	T[$1]=$(echo "$out" | awk '/^Time: / { ms = $2 } END { printf "%.2f", ms / 1000 }')
	C[$1]=$(awk -v t="$TICKS" 'NR == FNR { a = $1; next } { printf "%.2f", ($1 - a) / t }' "$WORK/cpu0" "$WORK/cpu1")
	V[$1]=$(echo "$out" | { grep -v '^Time: ' || true; } | tail -n 1)
	printf '%-14s %9s s wall %9s s cpu  %s\n' "$1" "${T[$1]}" "${C[$1]}" "${V[$1]}" >&2
}
wall() {						# wall KEY COMMAND...: wall and CPU time of a command
	local key=$1 TIMEFORMAT='%R %U %S'
	shift
	{ time "$@" 2>"$WORK/stderr"; } 2>"$WORK/time" || { cat "$WORK/stderr" >&2; exit 1; }
	T[$key]=$(awk '{ printf "%.2f", $1 }' "$WORK/time")
	C[$key]=$(awk '{ printf "%.2f", $2 + $3 }' "$WORK/time")
	printf '%-14s %9s s wall %9s s cpu\n' "$key" "${T[$key]}" "${C[$key]}" >&2
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}

echo "== loading $COPIES copies of $csv into $DB" >&2
psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB"
q <<SQL
CREATE EXTENSION pglearn;
CREATE TABLE mail (url text, title text, body text, label int4, split text);
\copy mail FROM '$csv' WITH (FORMAT csv, HEADER true)
-- every copy gets distinct URLs with a path word of its own, as distinct
-- pages would have; title and body are the corpus's
CREATE TABLE big AS
	SELECT 'https://mail.example/' || md5(m.url || '/' || i) AS url, m.title, m.body, m.label
	  FROM mail m, generate_series(1, $COPIES) AS i;
VACUUM ANALYZE big;
SQL

# (a) floors: visiting the rows, reading (detoasting) every body
timed count "$SERIAL" "SELECT count(*) FROM big"
timed length "$SERIAL" "SELECT sum(length(body)) FROM big"
# (b) feature extraction alone
timed features "$SERIAL" "SELECT sum(pglearn.nnz(pglearn.features(url, title, body))) FROM big"
# the fvecs every later step uses (parallel, to save time; not a headline number)
timed fv_table "$PARALLEL" "CREATE TABLE fv AS SELECT url, label, pglearn.features(url, title, body) AS f FROM big"
q -c "VACUUM ANALYZE fv"
# (c) training end to end over the precomputed fvecs: scan, solve, build the model
timed train "$SERIAL" "CREATE TABLE mdl AS SELECT pglearn.train(f, label) AS m FROM fv"
timed train_par "$PARALLEL" "CREATE TABLE mdl_par AS SELECT pglearn.train(f, label) AS m FROM fv"
q -c "ANALYZE mdl"
model_info=$(q -c "SELECT pglearn.model_info(m) - 'id' - 'trained_at' FROM mdl")
model_nnz=$(q -c "SELECT pglearn.model_info(m)->>'nnz' FROM mdl")
same_model=$(q -c "SELECT (SELECT m FROM mdl) OPERATOR(pglearn.=) (SELECT m FROM mdl_par)")

# (d) LIBLINEAR on the same fvecs: libsvm text, 1-based indexes, the
# values as fvec_out prints them; the file is read by liblinear-train
echo "== exporting libsvm" >&2
export_svm() {
	q -c "COPY (SELECT label, f FROM fv) TO STDOUT WITH (DELIMITER ' ')" |
		awk '{
			printf "%s", ($1 > 0 ? "+1" : "-1")
			v = $2; gsub(/[{}]/, "", v)
			k = split(v, p, ",")
			for (i = 1; i <= k; i++) { split(p[i], kv, ":"); printf " %d:%s", kv[1] + 1, kv[2] }
			printf "\n"
		}' >"$WORK/all.svm"
}
wall export export_svm
svm_bytes=$(stat -c %s "$WORK/all.svm")
echo "== liblinear-train" >&2
wall liblinear liblinear-train -s 0 -c 1 -B 1 "$WORK/all.svm" "$WORK/model.txt" >"$WORK/ll.log"
# the same with a tolerance so loose that it stops at w = 0: reading the
# file plus one gradient, an upper bound of LIBLINEAR's reading time
wall liblinear_read liblinear-train -q -s 0 -c 1 -B 1 -e 1e9 "$WORK/all.svm" "$WORK/model0.txt"
ll_iters=$(grep -c '^iter' "$WORK/ll.log" || true)
ll_nnz=$(awk 'f && $1 + 0 != 0 { n++ } /^w$/ { f = 1 } END { print n + 0 }' "$WORK/model.txt")

# (e) scoring over all rows: features + classify, the model decoded once;
# then classify alone over the precomputed fvecs
score_sql="SELECT sum(pglearn.classify((SELECT m FROM mdl), pglearn.features(url, title, body))) FROM big"
timed score "$SERIAL" "$score_sql"
timed classify_fv "$SERIAL" "SELECT sum(pglearn.classify((SELECT m FROM mdl), f)) FROM fv"
# (f) the same with two parallel workers
par_plan=$(PGOPTIONS=$PARALLEL psql -X -q -At -d "$DB" -c "EXPLAIN $score_sql" | grep -c 'Workers Planned: 2' || true)
timed score_par "$PARALLEL" "$score_sql"
# (g) the scoring floor: to_tsvector over the same text
timed tsvector "$SERIAL" "SELECT sum(length(to_tsvector('simple', coalesce(title, '') || ' ' || body))) FROM big"

# facts
rows=$(q -c "SELECT count(*) FROM big")
body_bytes=$(q -c "SELECT sum(octet_length(body)) FROM big")
nnz_total=${V[features]}
pg_version=$(q -c "SHOW server_version")
ext_version=$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'pglearn'")
jit=$(q -c "SHOW jit")
ll_version=$(dpkg-query -W -f '${Version}' liblinear-tools 2>/dev/null || echo unknown)
cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
today=$(date -u '+%Y-%m-%d %H:%M UTC')

r_train=$(ratio "${T[train]}" "${T[liblinear]}")
r_train_cpu=$(ratio "${C[train]}" "${C[liblinear]}")
r_train_solve=$(ratio "${T[train]}" "$(awk -v a="${T[liblinear]}" -v b="${T[liblinear_read]}" 'BEGIN { print a - b }')")
r_score=$(ratio "${T[score]}" "${T[tsvector]}")
r_score_cpu=$(ratio "${C[score]}" "${C[tsvector]}")
r_score_par=$(ratio "${T[score_par]}" "${T[tsvector]}")
r_feat=$(ratio "${T[features]}" "${T[length]}")
r_feat_cpu=$(ratio "${C[features]}" "${C[length]}")
per_row() { awk -v t="$1" -v n="$rows" 'BEGIN { printf "%.1f", t * 1e6 / n }'; }
row() {							# row STEP KEY DESCRIPTION [bold]
	local w=${T[$2]} c=${C[$2]:-}
	[ -n "${4:-}" ] && w="**$w**"
	echo "| $1 | $3 | $w | $c | $(per_row "${T[$2]}") |"
}
load=$(cut -d ' ' -f 1-3 /proc/loadavg)

section=$WORK/section.md
cat >"$section" <<MD
## Training and scoring

\`bench/train.sh $COPIES\` on $today: $(nproc) CPUs ($cpu), PostgreSQL $pg_version
(jit $jit), pglearn $ext_version, LIBLINEAR $ll_version (Debian liblinear-tools).
Data: the SpamAssassin corpus (t/lib/spam_corpus.sh) repeated $COPIES times with distinct
URLs: $rows rows, $body_bytes bytes of body text, $nnz_total fvec entries
(default \`pglearn.features(url, title, body)\`, 2^20 buckets). One run of each step. Wall:
the statement's time as psql's \\timing reports it (LIBLINEAR, export: of the process). CPU:
user + system time of the backend (parallel: of the leader only; LIBLINEAR: of the process).
Serial unless marked parallel (max_parallel_workers_per_gather=2, parallel costs zeroed).
Where wall is well above CPU, other work on the machine took the CPU (load average at the end:
$load).

| step | what | wall (s) | CPU (s) | wall µs/row |
|---|---|---:|---:|---:|
$(row "(a)" count "\`SELECT count(*)\`")
$(row "(a)" length "\`SELECT sum(length(body))\` (detoast every body)")
$(row "(b)" features "feature extraction: \`sum(nnz(features(url, title, body)))\`" b)
$(row setup fv_table "\`CREATE TABLE fv AS SELECT …, features(…)\`, parallel")
$(row "(c)" train "**train** end to end over fvecs (\`CREATE TABLE AS SELECT train(f, label)\`)" b)
$(row "(c)" train_par "train, parallel (partial aggregates combined)")
$(row "(d)" export "export fvecs to libsvm text ($svm_bytes bytes; psql + awk, not in any ratio)")
$(row "(d)" liblinear "**\`liblinear-train -s 0 -c 1 -B 1\`**, reading the file included" b)
$(row "(d)" liblinear_read "the same with \`-e 1e9\` (stops at w = 0: ≈ reading the file)")
$(row "(e)" score "**score**: \`sum(classify((SELECT m FROM mdl), features(url, title, body)))\`" b)
$(row "(e)" classify_fv "classify alone over the precomputed fvecs")
$(row "(f)" score_par "score, parallel ($( [ "$par_plan" -gt 0 ] && echo "2 workers planned" || echo "NOT parallel"))")
$(row "(g)" tsvector "**floor**: \`sum(length(to_tsvector('simple', title \|\| ' ' \|\| body)))\`" b)

| ratio | wall | CPU | target |
|---|---:|---:|---|
| train / liblinear-train (file reading included) | $r_train | $r_train_cpu | ≤ 2 |
| train / liblinear-train minus its \`-e 1e9\` run (solving only) | $r_train_solve | | (for information) |
| score with features / to_tsvector | $r_score | $r_score_cpu | ≤ 1 (no slower) |
| parallel score / serial to_tsvector | $r_score_par | | (for information) |
| feature extraction / sum(length(body)) | $r_feat | $r_feat_cpu | (for information) |

Model: $model_nnz non-zero weights; LIBLINEAR's model has $ll_nnz non-zero weights (bias included)
after $ll_iters Newton iterations. Parallel training gives the same model as serial: $same_model.
Model header: \`$model_info\`

MD
cat "$section"

# our section ends where score.sh's subsection begins
bench_write_section bench/RESULTS.md "$section" "Training and scoring" "### Scoring cost and model size"
echo "== wrote bench/RESULTS.md" >&2
