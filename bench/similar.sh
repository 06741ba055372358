#!/usr/bin/env bash
# bench/similar.sh: similar(url, k) at a million articles, against one
# serial full scan (SELECT count(*) FROM pglearn.examples) measured in the
# same run, with 0.2's definition (every row's features computed and
# compared) beside it.
#
# Builds pglearn.examples from the SpamAssassin corpus the way a crawler
# fills it (short articles: an e-mail's subject as the title, a window of
# 90 words of its text as the body, 40% with a description, 500 hosts,
# redirects, failed fetches and pages without text; the corpus repeated,
# every copy with a window of its own), then:
#   1. at CHECK_ROWS rows: similar() and 0.2's definition on CHECK_TARGETS
#      random stored URLs (k = 10, 1 and 50 in turn): the same rows, values
#      and order, compared exactly;
#   2. at ROWS rows: examples_similar_idx built (dropped for the load), its
#      build time and size; the floor; similar() on TARGETS random
#      articles with text (first run and best of 3 each, and what it read:
#      its DEBUG2 line); 0.2's definition on OLD_TARGETS of them, and their
#      results compared with similar()'s; the floor again;
#   3. the cost on writes: rows/s of one INSERT ... SELECT of 20,000 new
#      articles, rolled back, with and without the index, with no model
#      (scoring trigger idle) and with a fitted default model (the trigger
#      scores every row).
#
# A benchmark, not a test: no thresholds, it only reports (the project's
# target, similar() within 2x the floor, is printed beside the ratios).
# Writes the section "## Similar" of bench/RESULTS.md and prints it;
# PGLEARN_BENCH_NO_WRITE=1 prints it and leaves RESULTS.md alone.
#
# Usage: bench/similar.sh [ROWS (1000000)] [TARGETS (100)] [CHECK_ROWS (50000)] [CHECK_TARGETS (300)]
# Environment: OLD_TARGETS (3): how many targets 0.2's definition is timed
# on at ROWS rows (each is a full scan, ~30 s at a million rows).
# Uses the server of the PG* environment when PGHOST or PGPORT is set,
# otherwise a throwaway cluster (t/lib/cluster.sh: unix socket and
# 127.0.0.1 only) with shared_buffers sized for ROWS.  About 25 minutes on
# 2 cores at the defaults, half of it the exactness check (0.2's
# definition is a full scan per target).
set -euo pipefail

cd "$(dirname "$0")/.."
TOP=$(pwd)
. t/lib/spam_corpus.sh
. t/lib/cluster.sh
. bench/lib.sh

ROWS=${1:-1000000}
TARGETS=${2:-100}
CHECK_ROWS=${3:-50000}
CHECK_TARGETS=${4:-300}
OLD_TARGETS=${OLD_TARGETS:-3}
INSERT_ROWS=20000
case "$ROWS$TARGETS$CHECK_ROWS$CHECK_TARGETS$OLD_TARGETS" in *[!0-9]*)
	echo "usage: bench/similar.sh [ROWS] [TARGETS] [CHECK_ROWS] [CHECK_TARGETS]" >&2; exit 2 ;;
esac
[ "$CHECK_ROWS" -le "$ROWS" ] || { echo "bench/similar.sh: CHECK_ROWS must not exceed ROWS" >&2; exit 2; }
COMMAND="bench/similar.sh $*"
[ $# -eq 0 ] && COMMAND="bench/similar.sh"

DB=pglearn_bench_similar_$$
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pglearn-bench-similar.XXXXXX")
chmod 755 "$WORK"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
T_START=$(date +%s)
log() { echo "== [$(($(date +%s) - T_START)) s] $*" >&2; }

csv=$(spam_corpus_csv)
bench_use_cluster
SETTINGS="the server of the PG* environment, as configured"
if [ -n "$own_cluster" ]; then
	# ~2.5 kB of shared_buffers a row: the table, its indexes and the GIN
	# index stay cached, as on a server sized for its data
	SB_MB=$((ROWS * 25 / 10000))
	[ "$SB_MB" -lt 256 ] && SB_MB=256
	[ "$SB_MB" -gt 4096 ] && SB_MB=4096
	cat >>"$CLUSTER_DIR/data/postgresql.conf" <<CONF
shared_buffers = ${SB_MB}MB
maintenance_work_mem = 1GB
max_wal_size = 16GB
checkpoint_timeout = 30min
CONF
	as_cluster_user "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -m fast -w restart >/dev/null ||
		{ tail -n 20 "$CLUSTER_DIR/server.log" >&2; exit 1; }
	SETTINGS="throwaway cluster (t/lib/cluster.sh, fsync off), shared_buffers ${SB_MB}MB, maintenance_work_mem 1GB, work_mem and the rest at their defaults"
fi

# q [psql args]: a statement in the benchmark database, serial
q() {
	PGOPTIONS="$SERIAL" psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"
}

psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB"
# another engineer may be reinstalling pglearn: retry CREATE EXTENSION
for try in $(seq 1 20); do
	q -c "CREATE EXTENSION pglearn" 2>"$WORK/ext.err" && break
	[ "$try" -eq 20 ] && { cat "$WORK/ext.err" >&2; exit 1; }
	echo "CREATE EXTENSION failed ($(head -n 1 "$WORK/ext.err")); retrying in 15 s" >&2
	sleep 15
done
INDEX_DEF=$(q -c "SELECT indexdef FROM pg_indexes WHERE schemaname = 'pglearn' AND indexname = 'examples_similar_idx'")
[ -n "$INDEX_DEF" ] || { echo "bench/similar.sh: the installed pglearn has no examples_similar_idx" >&2; exit 1; }

# 0.2's similar() under another name: the body of the released 0.1 script
# (0.2 did not change it; 0.3 fixed its search_path, as here)
sed -n '/^CREATE FUNCTION similar(article_url text/,/^\$\$;/p' sql/pglearn--0.1.sql |
	sed -e 's/^CREATE FUNCTION similar(/CREATE FUNCTION public.similar_0_2(/' \
		-e 's/LANGUAGE plpgsql STABLE PARALLEL SAFE AS/LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS/' \
		>"$WORK/similar_0_2.sql"
grep -q 'SET search_path' "$WORK/similar_0_2.sql" || { echo "bench/similar.sh: could not extract 0.1's similar()" >&2; exit 1; }

log "corpus and helpers"
q <<SQL
\i $WORK/similar_0_2.sql
-- seconds of the fastest of runs executions of a statement, and of the first
CREATE FUNCTION public.bench_time(statement text, runs int4, OUT first float8, OUT best float8)
	LANGUAGE plpgsql AS
\$\$
DECLARE
	t0 timestamptz;
	d float8;
BEGIN
	FOR i IN 1 .. runs LOOP
		t0 := clock_timestamp();
		EXECUTE statement;
		d := extract(epoch FROM clock_timestamp() - t0);
		IF i = 1 THEN first := d; END IF;
		best := least(best, d);
	END LOOP;
END
\$\$;
-- a row set as one text array (float8 prints exactly), for comparisons
CREATE FUNCTION public.rows_of(statement text) RETURNS text[]
	LANGUAGE plpgsql AS
\$\$
DECLARE
	result text[];
BEGIN
	EXECUTE format('SELECT coalesce(array_agg(format(%L, s.id, s.url, s.title, s.label, s.score, s.similarity) ORDER BY s.n), %L)
					  FROM (SELECT r.*, row_number() OVER () AS n FROM (%s) r) s',
				   '%L|%L|%L|%L|%L|%L', '{}', statement) INTO result;
	RETURN result;
END
\$\$;

CREATE TABLE mail (url text, title text, body text, label int4, split text);
\copy mail FROM '$csv' WITH (FORMAT csv, HEADER true)
-- an e-mail as a crawler would have extracted a page: the subject, and
-- the words of the body without the headers and the HTML tags
CREATE TABLE msg AS
	SELECT (row_number() OVER (ORDER BY url) - 1)::int4 AS m, coalesce(btrim(title), '') AS title, label,
		   regexp_split_to_array(btrim(regexp_replace(regexp_replace(
			   coalesce(substring(body FROM '\r?\n\r?\n(.*)$'), body), '<[^>]*>', ' ', 'g'), '\s+', ' ', 'g')), ' ') AS words
	  FROM mail;
CREATE UNIQUE INDEX ON msg (m);
CREATE TABLE hosts AS
	SELECT h, CASE h % 3 WHEN 0 THEN 'news' || h || '.example.com' WHEN 1 THEN 'blog' || h || '.example.net'
						 ELSE 'www.site' || h || '.example.org' END AS name
	  FROM generate_series(0, 499) h;
CREATE UNIQUE INDEX ON hosts (h);
ANALYZE msg, hosts;

-- articles lo .. hi of total: article i is e-mail (i - 1) % (e-mails),
-- copy (i - 1) / (e-mails), with a window of 90 words of its own (the
-- first copy the first 90); the same every run (uniform numbers from
-- hashint8 of i)
CREATE FUNCTION public.articles(lo int8, hi int8, total int8)
	RETURNS TABLE (url text, title text, description text, body text, final_url text,
				   http_status int4, fetch_error text, error_count int4, fetched_at timestamptz,
				   corpus_label int4)
	LANGUAGE sql STABLE AS
\$\$
	WITH n AS (SELECT count(*)::int4 AS nmsg FROM msg),
	r AS (
		SELECT i, ((i - 1) % n.nmsg)::int4 AS m, ((i - 1) / n.nmsg)::int4 AS c,
			   (hashint8(i) & 2147483647) / 2147483648.0 AS u_state,
			   (hashint8(i + 1000000000000) & 2147483647) / 2147483648.0 AS u_host,
			   (hashint8(i + 2000000000000) & 2147483647) / 2147483648.0 AS u_final,
			   (hashint8(i + 3000000000000) & 2147483647) / 2147483648.0 AS u_title,
			   (hashint8(i + 4000000000000) & 2147483647) / 2147483648.0 AS u_desc,
			   (hashint8(i + 5000000000000) & 2147483647) / 2147483648.0 AS u_group
		  FROM n, generate_series(lo, hi) i
	), a AS (
		SELECT r.*, hs.name AS host, msg.title AS subject, msg.label AS corpus_label,
			   CASE WHEN u_state < 0.02 THEN 'pending' WHEN u_state < 0.05 THEN 'failed'
					WHEN u_state < 0.06 THEN 'empty' ELSE 'ok' END AS state,
			   array_to_string(msg.words[1 + CASE WHEN c = 0 THEN 0 ELSE (c * 211 + m) % greatest(cardinality(msg.words) - 90, 1) END
										 : 90 + CASE WHEN c = 0 THEN 0 ELSE (c * 211 + m) % greatest(cardinality(msg.words) - 90, 1) END], ' ') AS text_window,
			   'https://' || hs.name || '/p/' || i AS page_url
		  FROM r
		  JOIN msg USING (m)
		  -- host skew: host h has sqrt((h + 1) / 500) - sqrt(h / 500) of the rows
		  JOIN hosts hs ON hs.h = least(499, floor(500 * u_host * u_host))::int4
	)
	SELECT a.page_url,
		   CASE WHEN state = 'ok' THEN CASE WHEN u_title < 0.05 THEN subject ELSE subject || ' #' || (c + 1) END END,
		   CASE WHEN state = 'ok' AND u_desc < 0.4 THEN left(text_window, 160) END,
		   CASE WHEN state = 'ok' THEN text_window END,
		   -- the URL after redirects: itself for 80% of fetched rows, 14% a
		   -- redirect of their own, 6% one shared by ~3 URLs
		   CASE WHEN state IN ('pending', 'failed') THEN NULL
				WHEN u_final < 0.80 THEN page_url
				WHEN u_final < 0.94 THEN 'https://' || host || '/a/' || i
				ELSE 'https://story.example/' || floor(u_group * total * 0.02)::int8 END,
		   CASE WHEN state IN ('ok', 'empty') THEN 200 WHEN state = 'failed' THEN 404 END,
		   CASE WHEN state = 'failed' THEN 'HTTP status 404' END,
		   CASE WHEN state = 'failed' THEN 1 ELSE 0 END,
		   CASE WHEN state <> 'pending' THEN now() END,
		   corpus_label
	  FROM a
\$\$;
SQL

insert_articles() {				# insert_articles LO HI
	q -c "INSERT INTO pglearn.examples (url, title, description, body, final_url, http_status, fetch_error, error_count, fetched_at)
		  SELECT url, title, description, body, final_url, http_status, fetch_error, error_count, fetched_at
			FROM public.articles($1, $2, $ROWS)"
}

# ---- 1. exactness at CHECK_ROWS rows -------------------------------------
log "loading $CHECK_ROWS articles (index in place)"
insert_articles 1 "$CHECK_ROWS"
q -c "VACUUM ANALYZE pglearn.examples"
log "exactness: similar() against 0.2's definition on $CHECK_TARGETS targets"
t=$(date +%s)
q -F $'\t' >"$WORK/check.tsv" <<SQL
CREATE TEMP TABLE check_targets AS
	SELECT url, (ARRAY[10, 1, 50])[1 + (row_number() OVER (ORDER BY md5('check' || id)) % 3)::int4] AS k
	  FROM pglearn.examples ORDER BY md5('check' || id) LIMIT $CHECK_TARGETS;
CREATE TEMP TABLE check_results AS
	SELECT url, k, public.rows_of(format('SELECT * FROM pglearn.similar(%L, %s)', url, k)) AS new,
		   public.rows_of(format('SELECT * FROM public.similar_0_2(%L, %s)', url, k)) AS old
	  FROM check_targets;
SELECT count(*), count(*) FILTER (WHERE new = old), count(*) FILTER (WHERE cardinality(old) > 0),
	   coalesce(sum(cardinality(old)), 0)
  FROM check_results;
SQL
CHECK_SECONDS=$(($(date +%s) - t))
IFS=$'\t' read -r CHECK_N CHECK_SAME CHECK_WITH CHECK_ROWS_COMPARED <"$WORK/check.tsv"
log "exactness: $CHECK_SAME of $CHECK_N targets the same ($CHECK_WITH with neighbours, $CHECK_ROWS_COMPARED rows compared)"

# ---- 2. at ROWS rows -----------------------------------------------------
log "loading articles $((CHECK_ROWS + 1)) .. $ROWS (the similar index dropped for the load)"
q -c "DROP INDEX pglearn.examples_similar_idx"
t=$(date +%s)
[ "$ROWS" -gt "$CHECK_ROWS" ] && insert_articles $((CHECK_ROWS + 1)) "$ROWS"
LOAD_SECONDS=$(($(date +%s) - t))
q -c "VACUUM ANALYZE pglearn.examples"
log "building examples_similar_idx"
BUILD_SECONDS=$(q <<SQL | tail -n 1
SELECT clock_timestamp() AS t0 \gset
$INDEX_DEF;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 1);
SQL
)
t=$(date +%s)
q -c "ANALYZE pglearn.examples"
ANALYZE_SECONDS=$(($(date +%s) - t))
q -F $'\t' >"$WORK/sizes.tsv" <<'SQL'
SELECT count(*), count(*) FILTER (WHERE title <> '' OR body <> ''),
	   pg_relation_size('pglearn.examples_similar_idx'), pg_table_size('pglearn.examples'),
	   pg_indexes_size('pglearn.examples') - pg_relation_size('pglearn.examples_similar_idx'),
	   round(avg(length(coalesce(title, '')) + length(pglearn.article_text(description, body))) FILTER (WHERE title <> '' OR body <> ''))
  FROM pglearn.examples;
SQL
IFS=$'\t' read -r NROWS TEXT_ROWS INDEX_BYTES TABLE_BYTES OTHER_INDEX_BYTES MEAN_CHARS <"$WORK/sizes.tsv"
log "$NROWS rows; index $INDEX_BYTES bytes, built in $BUILD_SECONDS s"

floor() {
	q -c "SELECT best FROM public.bench_time('SELECT count(*) FROM pglearn.examples', 5)"
}
# warm the caches the way a running server has them
q -c "SELECT count(*) FROM pglearn.examples" >/dev/null
FLOOR1=$(floor)
log "floor: $FLOOR1 s"

log "similar() on $TARGETS targets"
q <<SQL
CREATE TABLE public.targets AS
	SELECT row_number() OVER (ORDER BY md5('target' || id)) AS n, url
	  FROM pglearn.examples WHERE title <> '' OR body <> '' ORDER BY md5('target' || id) LIMIT $TARGETS;
CREATE TABLE public.timings AS
	SELECT t.n, t.url, (public.bench_time(format('SELECT count(*) FROM pglearn.similar(%L)', t.url), 3)).*
	  FROM public.targets t;
SQL
# what each read, from its DEBUG2 line (a pass of its own, untimed)
q -c "SET client_min_messages = debug2" \
	-c "SELECT count(*) FROM public.targets t, LATERAL (SELECT count(*) FROM pglearn.similar(t.url)) s" \
	2>&1 >/dev/null | grep 'similar: [0-9]' >"$WORK/debug.txt" || true
FLOOR2=$(floor)

log "0.2's definition on $OLD_TARGETS targets"
q -F $'\t' >"$WORK/old.tsv" <<SQL
CREATE TABLE public.old_timings AS
	SELECT t.n, t.url, (public.bench_time(format('SELECT count(*) FROM public.similar_0_2(%L)', t.url), 1)).best AS old,
		   public.rows_of(format('SELECT * FROM public.similar_0_2(%L)', t.url)) =
		   public.rows_of(format('SELECT * FROM pglearn.similar(%L)', t.url)) AS same
	  FROM public.targets t WHERE t.n <= $OLD_TARGETS;
SELECT o.n, round(o.old::numeric, 2), round(t.best::numeric, 4), o.same FROM public.old_timings o JOIN public.timings t USING (n) ORDER BY o.n;
SQL
FLOOR3=$(floor)
log "floor after: $FLOOR2, $FLOOR3 s"

# the floor of the run: the median of the three measurements
FLOOR=$(printf '%s\n' "$FLOOR1" "$FLOOR2" "$FLOOR3" | sort -g | sed -n 2p)
q -F $'\t' >"$WORK/dist.tsv" <<SQL
SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY best)::numeric, 4),
	   round(percentile_cont(0.9) WITHIN GROUP (ORDER BY best)::numeric, 4),
	   round(percentile_cont(0.95) WITHIN GROUP (ORDER BY best)::numeric, 4),
	   round(max(best)::numeric, 4),
	   round(percentile_cont(0.5) WITHIN GROUP (ORDER BY first)::numeric, 4),
	   round(max(first)::numeric, 4),
	   count(*) FILTER (WHERE best <= 2 * $FLOOR), count(*)
  FROM public.timings;
SQL
IFS=$'\t' read -r NEW_P50 NEW_P90 NEW_P95 NEW_MAX FIRST_P50 FIRST_MAX NEW_WITHIN NEW_N <"$WORK/dist.tsv"
OLD_MEDIAN=$(q -c "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY old)::numeric, 2) FROM public.old_timings")
OLD_SAME=$(q -c "SELECT count(*) FILTER (WHERE same) || ' of ' || count(*) FROM public.old_timings")
ratio() { awk -v a="$1" -v b="$FLOOR" 'BEGIN { printf "%.2f", a / b }'; }
# lists read, index entries, rows found, rows scored: median and max
READ_STATS=$(python3 - "$WORK/debug.txt" <<'PY'
import re, statistics, sys
rows = [tuple(int(x) for x in re.search(r'(\d+) of (\d+) feature lists read \((\d+) index scans\), (\d+) index entries, (\d+) rows found, (\d+) scored', l).groups())
        for l in open(sys.argv[1]) if 'feature lists read' in l]
if not rows:
    print('n/a'); sys.exit()
def col(i): return [r[i] for r in rows]
def fmt(i): return '%s (max %s)' % (format(int(statistics.median(col(i))), ','), format(max(col(i)), ','))
print('lists read %s of a median %s features per target; index entries %s; rows found %s; rows scored %s (medians over %d targets)'
      % (fmt(0), format(int(statistics.median(col(1))), ','), fmt(3), fmt(4), fmt(5), len(rows)))
PY
)

# ---- 3. the cost on writes -------------------------------------------------
# insert_rate: rows/s of INSERT ... SELECT of the next INSERT_ROWS articles,
# rolled back; with "drop" the index is dropped first in the same
# transaction.  The pending list of the GIN index is emptied before each.
insert_rate() {
	local drop=${1:-}
	q -c "SELECT gin_clean_pending_list('pglearn.examples_similar_idx')" >/dev/null
	q <<SQL | tail -n 1
BEGIN;
${drop:+DROP INDEX pglearn.examples_similar_idx;}
SELECT clock_timestamp() AS t0 \gset
INSERT INTO pglearn.examples (url, title, description, body, final_url, http_status, fetch_error, error_count, fetched_at)
	SELECT url || '?n', title, description, body, final_url, http_status, fetch_error, error_count, fetched_at
	  FROM public.articles($((ROWS + 1)), $((ROWS + INSERT_ROWS)), $ROWS);
SELECT round($INSERT_ROWS / extract(epoch FROM clock_timestamp() - :'t0'::timestamptz));
ROLLBACK;
SQL
}
log "insert rate, no model"
RATE_IDX=$(insert_rate)
RATE_NOIDX=$(insert_rate drop)
log "insert rate: $RATE_IDX rows/s with the index, $RATE_NOIDX without; fitting a model"
q <<'SQL' >/dev/null
-- 2,000 labelled rows (article i, row i, has e-mail (i - 1) % (e-mails)
-- and its label), the default model
UPDATE pglearn.examples e SET label = msg.label
  FROM msg, (SELECT e2.id FROM pglearn.examples e2 WHERE e2.title <> '' ORDER BY md5('label' || e2.id) LIMIT 2000) l
 WHERE e.id = l.id AND msg.m = (e.id - 1) % (SELECT count(*) FROM msg);
SELECT pglearn.fit('default', 'pglearn.examples', '{"C": 10}');
SQL
RATE_IDX_MODEL=$(insert_rate)
RATE_NOIDX_MODEL=$(insert_rate drop)
log "insert rate with a model: $RATE_IDX_MODEL rows/s with the index, $RATE_NOIDX_MODEL without"

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", 100 * (1 - a / b) }'; }
pg_version=$(q -c "SHOW server_version")
ext_version=$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'pglearn'")
cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
today=$(date -u '+%Y-%m-%d %H:%M UTC')
git_head=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)

section=$WORK/section.md
cat >"$section" <<MD
## Similar

\`$COMMAND\` on $today (git $git_head): $(nproc) CPUs ($cpu), PostgreSQL $pg_version, pglearn
$ext_version; $SETTINGS. $NROWS articles ($TEXT_ROWS with text, $MEAN_CHARS characters of title and
text on average), built from the SpamAssassin corpus (an e-mail's subject and a window of 90 words of
its text per article, the corpus repeated with a window of its own per copy). All timings serial
(\`max_parallel_workers_per_gather = 0\`), wall clock inside the server.

Floor: \`SELECT count(*) FROM pglearn.examples\`, best of 5: $FLOOR1 s before the queries, $FLOOR2 and
$FLOOR3 s after; ratios below are to the median, $FLOOR s. Target: similar() within 2x.

| similar(url) (k = 10) | seconds | ratio to the floor |
|---|---:|---:|
| 0.2's definition, median of $OLD_TARGETS targets | $OLD_MEDIAN | $(ratio "$OLD_MEDIAN") |
| 0.3, median of $NEW_N random articles (best of 3) | $NEW_P50 | $(ratio "$NEW_P50") |
| 0.3, 90th percentile | $NEW_P90 | $(ratio "$NEW_P90") |
| 0.3, 95th percentile | $NEW_P95 | $(ratio "$NEW_P95") |
| 0.3, slowest | $NEW_MAX | $(ratio "$NEW_MAX") |
| 0.3, first run of each: median / slowest | $FIRST_P50 / $FIRST_MAX | $(ratio "$FIRST_P50") / $(ratio "$FIRST_MAX") |

$NEW_WITHIN of $NEW_N targets within 2x the floor. What 0.3 read per target: $READ_STATS.
0.2's results equal 0.3's on $OLD_SAME of the targets it was timed on.

Exactness at $CHECK_ROWS rows: similar() and 0.2's definition gave the same rows, values (float8
compared exactly) and order for $CHECK_SAME of $CHECK_N random stored URLs (k = 10, 1, 50 in turn;
$CHECK_WITH of them with neighbours, $CHECK_ROWS_COMPARED rows compared; ${CHECK_SECONDS} s).

examples_similar_idx at $NROWS rows: $INDEX_BYTES bytes, $(awk -v a="$INDEX_BYTES" -v b="$NROWS" 'BEGIN { printf "%.0f", a / b }') bytes a row (the table
$TABLE_BYTES bytes, its other indexes $OTHER_INDEX_BYTES); built in $BUILD_SECONDS s (CREATE INDEX after the load;
ALTER EXTENSION UPDATE to 0.3 builds it the same way); ANALYZE of the table ${ANALYZE_SECONDS} s with it.

| INSERT of $INSERT_ROWS new articles (rows/s) | with the index | without | cost of the index |
|---|---:|---:|---:|
| no model (the scoring trigger returns at once) | $RATE_IDX | $RATE_NOIDX | $(pct "$RATE_IDX" "$RATE_NOIDX") |
| default model (the trigger scores every row) | $RATE_IDX_MODEL | $RATE_NOIDX_MODEL | $(pct "$RATE_IDX_MODEL" "$RATE_NOIDX_MODEL") |

MD
cat "$section"
if [ "${PGLEARN_BENCH_NO_WRITE:-}" != 1 ]; then
	bench_write_section bench/RESULTS.md "$section" "Similar"
	log "wrote bench/RESULTS.md"
fi
