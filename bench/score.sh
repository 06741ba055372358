#!/usr/bin/env bash
# bench/score.sh: does the size of the model change the per-row cost of
# scoring?  classify(model, fvec) over the same N precomputed fvecs with a
# tiny model (trained on 10 rows) and a large one (trained on all rows),
# the model passed once per query as a scalar subquery.  classify() decodes
# a model once per query (cached by model id), so the per-row cost should
# be about the same; the one-row query shows the one-time decoding cost.
#
# A benchmark, not a test: no thresholds, it only reports.  Writes the
# subsection "### Scoring cost and model size" of bench/RESULTS.md (inside
# "## Training and scoring") and prints it.
#
# Usage: bench/score.sh [COPIES (default 34: 34 x 6046 = 205,564 rows)] [RUNS (default 5)]
# Uses the server of the PG* environment when PGHOST or PGPORT is set,
# otherwise starts a throwaway cluster with t/lib/cluster.sh.  Takes about
# 3 minutes on 2 cores.
set -euo pipefail

cd "$(dirname "$0")/.."
. t/lib/spam_corpus.sh
. t/lib/cluster.sh
. bench/lib.sh

COPIES=${1:-34}
RUNS=${2:-5}
DB=pglearn_bench_score_$$
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pglearn-bench-score.XXXXXX")
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

csv=$(spam_corpus_csv)
bench_use_cluster

q() {
	PGOPTIONS=$SERIAL psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"
}
TICKS=$(getconf CLK_TCK)
# seconds SETTINGS SQL: "WALL CPU" of one statement in a fresh session: wall
# as psql's \timing reports it, CPU (user + system) of the backend from /proc
seconds() {
	local out
	out=$(PGOPTIONS=$1 psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" <<SQL
SELECT pg_backend_pid() AS bench_pid \gset
\setenv BENCH_PID :bench_pid
\! awk '{ print \$14 + \$15 }' /proc/\$BENCH_PID/stat >$WORK/cpu0
\timing on
$2;
\timing off
\! awk '{ print \$14 + \$15 }' /proc/\$BENCH_PID/stat >$WORK/cpu1
SQL
	)
	printf '%s %s\n' "$(echo "$out" | awk '/^Time: / { ms = $2 } END { printf "%.3f", ms / 1000 }')" \
		"$(awk -v t="$TICKS" 'NR == FNR { a = $1; next } { printf "%.2f", ($1 - a) / t }' "$WORK/cpu0" "$WORK/cpu1")"
}
median() {						# median of the arguments
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

echo "== loading $COPIES copies of $csv into $DB" >&2
psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB"
q <<SQL
CREATE EXTENSION pglearn;
CREATE TABLE mail (url text, title text, body text, label int4, split text);
\copy mail FROM '$csv' WITH (FORMAT csv, HEADER true)
-- distinct URLs with four path words of their own per row, so that the
-- model trained on all rows fills much of the 2^20 hash space
CREATE TABLE big AS
	SELECT 'https://mail.example/' || md5(m.url || '/a' || i) || '/' || md5(m.url || '/b' || i) || '/'
			|| md5(m.url || '/c' || i) || '/' || md5(m.url || '/d' || i) AS url,
		   m.title, m.body, m.label
	  FROM mail m, generate_series(1, $COPIES) AS i;
SQL
echo "== features" >&2
PGOPTIONS=$PARALLEL psql -X -q -v ON_ERROR_STOP=1 -d "$DB" \
	-c "CREATE TABLE fv AS SELECT url, label, pglearn.features(url, title, body) AS f FROM big"
echo "== training" >&2
q <<'SQL'
VACUUM ANALYZE fv;
CREATE TABLE models (name text PRIMARY KEY, m pglearn.model);
-- tiny: 10 rows, 5 of each class
INSERT INTO models
	SELECT 'tiny', pglearn.train(f, label)
	  FROM ((SELECT f, label FROM fv WHERE label = 1 ORDER BY url LIMIT 5)
			UNION ALL
			(SELECT f, label FROM fv WHERE label = -1 ORDER BY url LIMIT 5)) t;
-- four unique URL words per row need just over the default 1GB bound
SET pglearn.max_train_memory = '4GB';
INSERT INTO models SELECT 'large', pglearn.train(f, label) FROM fv;
VACUUM ANALYZE models;
SQL

rows=$(q -c "SELECT count(*) FROM fv")
nnz_total=$(q -c "SELECT sum(pglearn.nnz(f)) FROM fv")
declare -A NNZ BYTES
for m in tiny large; do
	NNZ[$m]=$(q -c "SELECT pglearn.model_info(m)->>'nnz' FROM models WHERE name = '$m'")
	BYTES[$m]=$(q -c "SELECT pg_column_size(m) FROM models WHERE name = '$m'")
	echo "model $m: ${NNZ[$m]} weights, ${BYTES[$m]} bytes stored" >&2
done

# the queries; the model comes from a scalar subquery (an InitPlan), so
# each query reads it once and classify() decodes it once
floor_sql="SELECT sum(pglearn.nnz(f)) FROM fv"
score_sql() { echo "SELECT sum(pglearn.classify((SELECT m FROM models WHERE name = '$1'), f)) FROM fv"; }
one_sql() { echo "SELECT pglearn.classify((SELECT m FROM models WHERE name = '$1'), f) FROM fv LIMIT 1"; }

declare -A RUN CPU MED MEDC
for r in $(seq 1 "$RUNS"); do
	for k in floor tiny large one_tiny one_large; do
		case $k in
		floor) sql=$floor_sql ;;
		tiny | large) sql=$(score_sql "$k") ;;
		one_*) sql=$(one_sql "${k#one_}") ;;
		esac
		read -r w c < <(seconds "$SERIAL" "$sql")
		RUN[$k]="${RUN[$k]:-} $w"
		CPU[$k]="${CPU[$k]:-} $c"
		echo "run $r $k: $w s wall, $c s cpu" >&2
	done
done
for k in floor tiny large one_tiny one_large; do
	# shellcheck disable=SC2086
	MED[$k]=$(median ${RUN[$k]})
	# shellcheck disable=SC2086
	MEDC[$k]=$(median ${CPU[$k]})
done
per_row() {						# per_row TOTAL FLOOR: µs per row above the floor
	awk -v t="$1" -v f="$2" -v n="$rows" 'BEGIN { printf "%.2f", (t - f) * 1e6 / n }'
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}
pr_tiny=$(per_row "${MED[tiny]}" "${MED[floor]}")
pr_large=$(per_row "${MED[large]}" "${MED[floor]}")
prc_tiny=$(per_row "${MEDC[tiny]}" "${MEDC[floor]}")
prc_large=$(per_row "${MEDC[large]}" "${MEDC[floor]}")
pr_ratio=$(ratio "$pr_large" "$pr_tiny")
# the fastest run of each, less disturbed by other load on the machine
minimum() { printf '%s\n' "$@" | sort -g | head -n 1; }
# shellcheck disable=SC2086
prm_tiny=$(per_row "$(minimum ${RUN[tiny]})" "$(minimum ${RUN[floor]})")
# shellcheck disable=SC2086
prm_large=$(per_row "$(minimum ${RUN[large]})" "$(minimum ${RUN[floor]})")
prm_ratio=$(ratio "$prm_large" "$prm_tiny")
prc_ratio=$(ratio "$prc_large" "$prc_tiny")

pg_version=$(q -c "SHOW server_version")
ext_version=$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'pglearn'")
cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
today=$(date -u '+%Y-%m-%d %H:%M UTC')

section=$WORK/section.md
cat >"$section" <<MD
### Scoring cost and model size

\`bench/score.sh $COPIES $RUNS\` on $today: $(nproc) CPUs ($cpu), PostgreSQL $pg_version, pglearn
$ext_version. $rows precomputed fvecs ($nnz_total entries; the corpus repeated $COPIES times, every
row with four URL path words of its own so that the large model is large). Serial; median of
$RUNS runs of each statement (wall: psql \\timing; CPU: user + system of the backend). The model is a scalar subquery
\`(SELECT m FROM models WHERE name = …)\` (an InitPlan) over a table column: both models are stored
out of line (TOAST), and classify() reads the model's header (a slice of its first chunk) for
every row to check the cached id.

| model | weights | bytes stored | wall (s) | CPU (s) | wall µs/row above floor | CPU µs/row above floor | one-row query wall (s) |
|---|---:|---:|---:|---:|---:|---:|---:|
| tiny (10 rows) | ${NNZ[tiny]} | ${BYTES[tiny]} | ${MED[tiny]} | ${MEDC[tiny]} | $pr_tiny | $prc_tiny | ${MED[one_tiny]} |
| large (all rows) | ${NNZ[large]} | ${BYTES[large]} | ${MED[large]} | ${MEDC[large]} | $pr_large | $prc_large | ${MED[one_large]} |
| floor: \`sum(nnz(f))\` | | | ${MED[floor]} | ${MEDC[floor]} | | | |

Wall and CPU are over all $rows rows: \`sum(classify(model, f))\`. Per-row cost large / tiny:
$pr_ratio (wall), $prc_ratio (CPU); from the fastest run of each (wall): tiny $prm_tiny µs/row, large
$prm_large µs/row, ratio $prm_ratio. The one-row query (\`… LIMIT 1\`) is dominated by reading
and decoding the model once. Wall times of the runs (s): tiny${RUN[tiny]}; large${RUN[large]};
floor${RUN[floor]}; one-row tiny${RUN[one_tiny]}, large${RUN[one_large]}.

MD
cat "$section"

results=bench/RESULTS.md
[ -f "$results" ] || printf '# Benchmark results\n\n' >"$results"
# replace our subsection (up to the next "## " or "### " heading); else put
# it at the end of "## Training and scoring"; else append both headings
python3 - "$results" "$section" <<'PY'
import re, sys
path, sec = sys.argv[1], open(sys.argv[2]).read()
text = open(path).read()
m = re.search(r'^### Scoring cost and model size\n.*?(?=^## |^### |\Z)', text, flags=re.S | re.M)
if m:
    text = text[:m.start()] + sec + text[m.end():]
else:
    p = re.search(r'^## Training and scoring\n.*?(?=^## |\Z)', text, flags=re.S | re.M)
    if p:
        body = text[p.start():p.end()].rstrip('\n') + '\n\n'
        text = text[:p.start()] + body + sec + text[p.end():]
    else:
        text = text.rstrip('\n') + '\n\n## Training and scoring\n\n' + sec
open(path, 'w').write(text)
PY
echo "== wrote $results" >&2
