#!/usr/bin/env bash
# bench/scale.sh: the active-learning, recommendation and report functions
# on one node with a million articles.  Builds pglearn.examples the way a
# crawler fills it (short article texts from the SpamAssassin corpus, 500
# hosts, 30 days of created_at, redirects, duplicate titles, failed fetches,
# rows without text), labels 2,000 and then 50,000 rows, runs CALL
# pglearn.refresh() and VACUUM ANALYZE after each, and times every query a
# user or `pglearn annotate` sends as a ratio to one serial full scan
# (SELECT count(*) FROM pglearn.examples) measured in the same run.
#
# A benchmark, not a test: no thresholds, it only reports (the targets the
# project set are printed beside the ratios).  Writes its subsection of
# "## Scale" in bench/RESULTS.md (SCALE_AS below) and prints it, and prints
# EXPLAIN (ANALYZE, BUFFERS) of the slowest query of each label count.
#
# Usage: bench/scale.sh [ROWS (default 1000000)] [TIMEOUT_S (default 120)]
#   ROWS       articles to build (e.g. 100000 for a quick run)
#   TIMEOUT_S  statement_timeout of every measured query; a query that hits
#              it is reported as "> TIMEOUT_S s (timeout)", never as a number
# Environment:
#   SCALE_REV=<git revision>  measure pglearn as of that commit of this
#              repository (git archive, built here), e.g. the baseline
#              before a change; default: the installed pglearn
#   SCALE_AS=<name>  the subsection "### <name>" of "## Scale" in
#              bench/RESULTS.md this run replaces (default "Latest"); the
#              other subsections stay, so a baseline stays beside new runs
#   SCALE_SETUP_TIMEOUT (default 3600 s) bounds each build step (load,
#              labels, refresh, VACUUM)
#   PGLEARN_BENCH_NO_WRITE=1  print the section, leave RESULTS.md alone
#   SCALE_KEEP=1  leave the throwaway cluster (and the benchmark database)
#              running at the end, for a look at plans and profiles; the
#              last lines say how to reach and stop it
#
# The server: with PGHOST or PGPORT set, that server as configured (the
# pglearn installed there; SCALE_REV is refused).  Otherwise a throwaway
# cluster (t/lib/cluster.sh, unix socket and 127.0.0.1 only) run from a
# private copy of the PostgreSQL installation (bin, lib, share: ~50 MB in
# the work directory; PostgreSQL finds lib/ and share/ relative to bin/)
# holding pglearn as installed when the run starts, or as built from
# SCALE_REV: other engineers reinstalling pglearn meanwhile change nothing
# in a run.  The cluster gets settings for the size (apply_settings below;
# RESULTS.md lists them).  On 2 cores with the default timeout, pglearn
# 0.3 as of 2358f13: 1,000,000 rows took 26 minutes (18 of them in the
# queries, six of which hit the timeout; the table ends at ~2.1 GB plus
# WAL under /tmp), 100,000 rows 12 minutes.
#
# What is timed, and how:
#   - each query in one session of its own (psql, unix socket), run up to 3
#     times in that session, the best run counted; a run that takes more
#     than a quarter of the timeout is not repeated.  Time = wall clock
#     between two clock_timestamp() calls in the session around the
#     statement (results fetched and discarded by psql).
#   - the floor: SELECT count(*) FROM pglearn.examples with
#     max_parallel_workers_per_gather = 0, best of 3, right before the
#     queries of each label count (and once more after them, to show drift).
#   - the queries with the server's settings (parallel query allowed).
#   - label() in a transaction that is rolled back, so every label count
#     keeps its labels.
#   - pglearn annotate's key press (crawler/annotate.c, the default model,
#     so it ranks by the stored scores): label(url, 1), then the refit of
#     its default --refit-every 1 (fit() with the C the model chose), then
#     rescore_candidates('default', 1000, NULL) (its --pool), then the next
#     article, SELECT ... FROM pglearn.uncertain(NULL, 1, NULL) ... LIMIT 1,
#     and supporting_features(that url, 5, 'default'); each write rolled
#     back.  Reported with and without the fit.
#   - the scoring trigger: rows/s of one INSERT ... SELECT ... ON CONFLICT
#     (url) DO UPDATE (the crawler's upsert) of 20,000 new articles, with
#     the refreshed model 'default' present and with pglearn.default_model
#     = '' (scoring off), each rolled back.
set -euo pipefail

cd "$(dirname "$0")/.."
TOP=$(pwd)
. t/lib/spam_corpus.sh
. t/lib/cluster.sh
. bench/lib.sh

ROWS=${1:-1000000}
TIMEOUT=${2:-120}
SETUP_TIMEOUT=${SCALE_SETUP_TIMEOUT:-3600}
case "$ROWS$TIMEOUT" in *[!0-9]*) echo "usage: bench/scale.sh [ROWS] [TIMEOUT_S]" >&2; exit 2 ;; esac
[ "$ROWS" -ge 1000 ] || { echo "bench/scale.sh: ROWS must be at least 1000" >&2; exit 2; }
[ "$TIMEOUT" -ge 1 ] || { echo "bench/scale.sh: TIMEOUT_S must be positive" >&2; exit 2; }
COMMAND="bench/scale.sh $*"
[ $# -eq 0 ] && COMMAND="bench/scale.sh"
LABELS_A=2000
LABELS_B=50000
INSERT_ROWS=20000
[ "$INSERT_ROWS" -gt "$ROWS" ] && INSERT_ROWS=$ROWS

DB=pglearn_bench_scale_$$
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pglearn-bench-scale.XXXXXX")
chmod 755 "$WORK"
T_START=$(date +%s.%N)

# Cleanup, bounded in time: a fast shutdown of our own cluster cancels any
# query still running (pg_ctl waits at most 60 s, then an immediate stop);
# on a server we do not own, the benchmark database is dropped WITH (FORCE).
db_created=
scale_cleanup() {
	local as=()
	set +e
	trap - INT TERM
	if [ -n "${SCALE_KEEP:-}" ] && [ -n "$own_cluster" ] && [ -n "${CLUSTER_DIR:-}" ] && [ -d "$CLUSTER_DIR/data" ]; then
		echo "== SCALE_KEEP: the cluster keeps running: PGHOST=$CLUSTER_DIR PGPORT=$PGPORT PGUSER=$PGUSER psql -d $DB" >&2
		echo "== stop it with: runuser -u $CLUSTER_OS_USER -- $PG_BINDIR/pg_ctl -D $CLUSTER_DIR/data stop; rm -rf $CLUSTER_DIR $WORK" >&2
		return
	fi
	if [ -n "$own_cluster" ] && [ -n "${CLUSTER_DIR:-}" ] && [ -d "$CLUSTER_DIR/data" ]; then
		[ "$(id -u)" = 0 ] && as=(runuser -u "$CLUSTER_OS_USER" --)
		timeout 90 "${as[@]}" "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -m fast -t 60 -w stop >/dev/null 2>&1 ||
			timeout 30 "${as[@]}" "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate -w stop >/dev/null 2>&1
		rm -rf "$CLUSTER_DIR"
	elif [ -n "$db_created" ]; then
		timeout 120 psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
	fi
	rm -rf "$WORK"
}
trap scale_cleanup EXIT
trap 'exit 130' INT TERM

# bg COMMAND...: run it and wait for it; bash defers a trapped signal until
# a foreground command ends, but not a wait, so INT and TERM reach the
# cleanup (which stops the server under the command) at once
bg() {
	local pid
	"$@" <&0 &
	pid=$!
	wait "$pid"
}
log() { printf '== [%6.0fs] %s\n' "$(awk -v a="$T_START" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
meta() { printf '%s\t%s\n' "$1" "$2" >>"$WORK/meta.tsv"; }
phase_time() { printf '%s\t%s\n' "$1" "$2" >>"$WORK/phases.tsv"; log "$1: $2 s"; }

csv=$(spam_corpus_csv)

# Settings for the size (own cluster only).  shared_buffers ~3 kB a row
# (256 MB .. 4 GB: the heap is ~1.3 kB a row after the load and up to twice
# that after a rescore); work_mem 64 MB so the window functions' sorts over
# a million rows can stay in memory; checkpoints spaced out during the
# load and the rescores; random_page_cost for SSD-backed storage;
# track_io_timing for EXPLAIN BUFFERS.  Autovacuum and JIT stay at their
# defaults, as users have them.  t/lib/cluster.sh already sets fsync = off,
# max_parallel_workers_per_gather = 2, max_parallel_workers = 4.
SB_MB=$((ROWS * 3 / 1000))
[ "$SB_MB" -lt 256 ] && SB_MB=256
[ "$SB_MB" -gt 4096 ] && SB_MB=4096
SETTINGS="shared_buffers = ${SB_MB}MB
effective_cache_size = 12GB
work_mem = 64MB
maintenance_work_mem = 1GB
max_wal_size = 16GB
checkpoint_timeout = 30min
random_page_cost = 1.1
track_io_timing = on"
apply_settings() {
	printf '%s\n' "$SETTINGS" >>"$CLUSTER_DIR/data/postgresql.conf"
	as_cluster_user "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -m fast -w restart >/dev/null ||
		{ tail -n 20 "$CLUSTER_DIR/server.log" >&2; exit 1; }
}

# A private copy of the PostgreSQL installation for our own cluster, with
# the pglearn this run measures (see the header)
SYS_BINDIR=$(pg_config --bindir)
SYS_SHAREDIR=$(pg_config --sharedir)
SYS_PKGLIBDIR=$(pg_config --pkglibdir)
EXT_SHAREDIR=$SYS_SHAREDIR
EXT_PKGLIBDIR=$SYS_PKGLIBDIR
SOURCE="the installed pglearn"
if [ -n "${PGHOST:-}${PGPORT:-}" ]; then
	[ -n "${SCALE_REV:-}" ] && { echo "bench/scale.sh: SCALE_REV needs the throwaway cluster (unset PGHOST/PGPORT)" >&2; exit 2; }
else
	PRIV=$WORK/pg
	for d in "$(dirname "$SYS_BINDIR")" "$SYS_PKGLIBDIR" "$SYS_SHAREDIR"; do
		[ -d "$PRIV$d" ] && continue
		mkdir -p "$PRIV$(dirname "$d")"
		cp -a "$d" "$PRIV$d"
	done
	if [ "$("$PRIV$SYS_BINDIR/pg_config" --sharedir)" != "$PRIV$SYS_SHAREDIR" ]; then
		[ -n "${SCALE_REV:-}" ] && { echo "bench/scale.sh: SCALE_REV needs a relocatable PostgreSQL build" >&2; exit 2; }
		echo "bench/scale.sh: this PostgreSQL build is not relocatable; using the shared installation" >&2
		rm -rf "$PRIV"
	else
		PG_BINDIR=$PRIV$SYS_BINDIR
		EXT_SHAREDIR=$PRIV$SYS_SHAREDIR
		EXT_PKGLIBDIR=$PRIV$SYS_PKGLIBDIR
		SOURCE="the installed pglearn, copied when the run started"
		if [ -n "${SCALE_REV:-}" ]; then
			rev=$(git -C "$TOP" rev-parse --verify --quiet "$SCALE_REV^{commit}") ||
				{ echo "bench/scale.sh: SCALE_REV=$SCALE_REV is not a commit here" >&2; exit 2; }
			log "building pglearn at $rev"
			mkdir "$WORK/src" "$WORK/dest"
			git -C "$TOP" archive "$rev" | tar -x -C "$WORK/src"
			{ make -C "$WORK/src" -s -j2 && make -C "$WORK/src" -s install DESTDIR="$WORK/dest"; } >"$WORK/build.log" 2>&1 ||
				{ tail -n 30 "$WORK/build.log" >&2; exit 1; }
			rm -rf "$EXT_SHAREDIR/extension/pglearn"* "$EXT_PKGLIBDIR/pglearn.so" "$EXT_PKGLIBDIR/bitcode/pglearn"*
			cp -a "$WORK/dest$SYS_SHAREDIR/extension/." "$EXT_SHAREDIR/extension/"
			cp -a "$WORK/dest$SYS_PKGLIBDIR/." "$EXT_PKGLIBDIR/"
			rm -rf "$WORK/src" "$WORK/dest"
			SOURCE="pglearn at $(git -C "$TOP" rev-parse --short "$rev") (SCALE_REV=$SCALE_REV, built from git archive)"
			meta scale_rev "$SCALE_REV"
		fi
	fi
fi
meta source "$SOURCE"

bench_use_cluster
if [ -n "$own_cluster" ]; then
	apply_settings
	meta settings "throwaway cluster (t/lib/cluster.sh: fsync off, max_parallel_workers_per_gather 2), $(printf '%s' "$SETTINGS" | tr '\n' ',' | sed 's/,/, /g')"
else
	meta settings "the server of the PG* environment, as configured"
fi

# q [psql args]: a build step in the benchmark database, bounded in time
q() {
	PGOPTIONS="-c client_min_messages=warning -c statement_timeout=${SETUP_TIMEOUT}s -c TimeZone=UTC" \
		bg psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"
}

# ---- the database and the extension -----------------------------------
psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB"
db_created=1
# another engineer may be reinstalling pglearn: retry CREATE EXTENSION
for try in $(seq 1 20); do
	if q -c "CREATE EXTENSION pglearn" 2>"$WORK/ext.err"; then
		break
	fi
	[ "$try" -eq 20 ] && { cat "$WORK/ext.err" >&2; exit 1; }
	echo "CREATE EXTENSION failed ($(head -n 1 "$WORK/ext.err")); retrying in 15 s" >&2
	sleep 15
done
fingerprint() {					# md5 of the extension's files the server uses
	cat "$EXT_SHAREDIR"/extension/pglearn* "$EXT_PKGLIBDIR/pglearn.so" 2>/dev/null | md5sum | cut -c 1-12
}
meta fingerprint_start "$(fingerprint)"
meta git_head "$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$TOP" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo ', with uncommitted changes')"
meta ext_version "$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'pglearn'")"
meta pg_version "$(q -c "SHOW server_version")"
meta jit "$(q -c "SHOW jit")"
meta cpu "$(nproc) CPUs ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1))"
meta command "$COMMAND"
meta rows_asked "$ROWS"
meta timeout "$TIMEOUT"
meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"

# ---- build the table ----------------------------------------------------
log "building $ROWS articles from $csv"
t=$(now)
q -v rows="$ROWS" <<SQL
SET TimeZone = 'UTC';
CREATE TABLE mail (url text, title text, body text, label int4, split text);
\copy mail FROM '$csv' WITH (FORMAT csv, HEADER true)
-- one row per e-mail: its subject, and its body text as a crawler would
-- have extracted it from a page: the headers dropped, HTML tags removed,
-- whitespace collapsed
-- (the first 6,000 characters: the windows below move within them; stored
-- uncompressed, so that substr() reads only the slice it needs)
CREATE TABLE msg (m int4, title text, slug text, label int4, text text, len int4);
ALTER TABLE msg ALTER COLUMN text SET STORAGE EXTERNAL;
INSERT INTO msg
	SELECT m, title, coalesce(nullif(left(btrim(regexp_replace(lower(title), '[^a-z0-9]+', '-', 'g'), '-'), 50), ''), 'post'),
		   label, text, length(text)
	  FROM (SELECT (row_number() OVER (ORDER BY url) - 1)::int4 AS m, coalesce(btrim(title), '') AS title, label,
				   left(btrim(regexp_replace(regexp_replace(coalesce(substring(body FROM '\r?\n\r?\n(.*)$'), body),
														'<[^>]*>', ' ', 'g'), '\s+', ' ', 'g')), 6000) AS text
			  FROM mail) t;
SELECT count(*) AS nmsg FROM msg \gset
ANALYZE msg;
-- 500 hosts; a few are the real sites the built-in lists match
CREATE TABLE hosts AS
	SELECT h, CASE h WHEN 3 THEN 'github.com' WHEN 7 THEN 'arxiv.org' WHEN 11 THEN 'www.youtube.com'
					 WHEN 17 THEN 'speakerdeck.com' WHEN 23 THEN 'twitter.com' WHEN 29 THEN 'connpass.com'
					 ELSE CASE h % 3 WHEN 0 THEN 'news' || h || '.example.com'
									 WHEN 1 THEN 'blog' || h || '.example.net'
									 ELSE 'www.site' || h || '.example.org' END END AS name
	  FROM generate_series(0, 499) h;
ANALYZE hosts;
-- (the build only: more memory for its sorts, no JIT for its one-off
-- expressions; the CTEs materialized so each expression runs once a row)
SET work_mem = '256MB';
SET jit = off;
-- created_at ends at the start of this hour; everything else is the same
-- every run (row i is e-mail (i - 1) % nmsg, copy (i - 1) / nmsg; the
-- uniform numbers u_* come from md5 of i)
SELECT date_trunc('hour', now()) AS t0 \gset
CREATE TABLE stage AS
WITH r AS (
	SELECT i, ((i - 1) % :nmsg)::int4 AS m, ((i - 1) / :nmsg)::int4 AS c, md5('a' || i) AS ha, md5('b' || i) AS hb
	  FROM generate_series(1, :rows) i
), u AS MATERIALIZED (
	SELECT i, m, c, ha,
		   ('x' || substr(ha, 1, 8))::bit(32)::int8::float8 / 4294967296 AS u_state,
		   ('x' || substr(ha, 9, 8))::bit(32)::int8::float8 / 4294967296 AS u_final,
		   ('x' || substr(ha, 17, 8))::bit(32)::int8::float8 / 4294967296 AS u_title,
		   ('x' || substr(ha, 25, 8))::bit(32)::int8::float8 / 4294967296 AS u_host,
		   ('x' || substr(hb, 1, 8))::bit(32)::int8::float8 / 4294967296 AS u_group,
		   ('x' || substr(hb, 9, 8))::bit(32)::int8::float8 / 4294967296 AS u_desc,
		   ('x' || substr(hb, 17, 8))::bit(32)::int8::float8 / 4294967296 AS u_og,
		   ('x' || substr(hb, 25, 8))::bit(32)::int8::float8 / 4294967296 AS u_time
	  FROM r
), v AS MATERIALIZED (
	SELECT u.*, hs.name AS host, msg.title AS mtitle, msg.text AS mtext, msg.len AS mlen, msg.label AS corpus_label, msg.slug,
		   -- 2% never fetched, 3% failed fetches, 1% fetched without text, 94% articles
		   CASE WHEN u_state < 0.02 THEN 'pending' WHEN u_state < 0.05 THEN 'failed'
				WHEN u_state < 0.06 THEN 'empty' ELSE 'ok' END AS state,
		   :'t0'::timestamptz - interval '30 days' + ((i - 1) + u_time) / :rows * interval '30 days' AS created_at,
		   -- the copy's window into the e-mail's text
		   CASE WHEN c = 0 THEN 0 ELSE (c * 211 + m) % greatest(msg.len - 600, 1) END AS off,
		   floor(u_group * :rows * 0.02)::int4 AS g
	  FROM u
	  JOIN msg USING (m)
	  -- host skew: host h has sqrt((h + 1) / 500) - sqrt(h / 500) of the rows (4.5% .. 0.1%)
	  JOIN hosts hs ON hs.h = least(499, floor(500 * u_host * u_host))::int4
), w AS MATERIALIZED (
	SELECT v.*,
		   CASE host
				WHEN 'github.com' THEN 'https://github.com/dev' || (i % 997) || '/' || slug || '-' || i
				WHEN 'arxiv.org' THEN 'https://arxiv.org/abs/2401.' || lpad(i::text, 7, '0')
				WHEN 'www.youtube.com' THEN 'https://www.youtube.com/watch?v=' || substr(ha, 1, 4) || i
				WHEN 'speakerdeck.com' THEN 'https://speakerdeck.com/speaker' || (i % 499) || '/' || slug || '-' || i
				WHEN 'twitter.com' THEN 'https://twitter.com/user' || (i % 1999) || '/status/' || (1700000000000000000 + i)
				WHEN 'connpass.com' THEN 'https://connpass.com/event/' || (100000 + i) || '/'
				ELSE 'https://' || host || '/' || (ARRAY['news', 'tech', 'world', 'blog', 'posts', 'articles', 'p'])[1 + i % 7]
					 || '/' || slug || '-' || i END AS url,
		   -- 5% keep the e-mail's subject as it is, the same title as other
		   -- copies (and as other e-mails of the thread); the others are
		   -- made unique (38% of the corpus's e-mails share their subject)
		   CASE WHEN u_title < 0.05 THEN mtitle ELSE mtitle || ' #' || i END AS t,
		   -- the window, from the first space on unless it starts the text
		   CASE WHEN off = 0 THEN substr(mtext, 1, 600)
				ELSE substr(substr(mtext, off + 1, 600), strpos(substr(mtext, off + 1, 600), ' ') + 1) END AS b0
	  FROM v
), x AS MATERIALIZED (
	SELECT w.*,
		   -- ... up to its last space unless it ends the text (the text's
		   -- whitespace is collapsed to single spaces)
		   CASE WHEN off + 600 < mlen AND strpos(b0, ' ') > 0
				THEN left(b0, length(b0) - strpos(reverse(b0), ' ')) ELSE b0 END AS b
	  FROM w
)
SELECT x.i, x.url, x.state, x.corpus_label, x.created_at,
	   CASE WHEN state = 'ok' THEN t END AS title,
	   CASE WHEN state = 'ok' AND u_desc < 0.4 THEN left(b, 160) END AS description,
	   CASE WHEN state = 'ok' THEN CASE WHEN u_og < 0.6 THEN 'article' WHEN u_og < 0.8 THEN 'website' END END AS og_type,
	   CASE WHEN state = 'ok' AND u_og < 0.6 THEN 'https://' || host || '/img/' || i || '.jpg' END AS og_image,
	   CASE WHEN state = 'ok' THEN 'https://' || host || '/favicon.ico' END AS favicon,
	   CASE WHEN state = 'ok' THEN b END AS body,
	   -- as the crawler stores it: the URL after redirects and rel=canonical
	   -- (the URL itself for 80% of fetched rows), none without a good fetch;
	   -- 14% a redirect of their own, 6% one shared by ~3 URLs
	   CASE WHEN state IN ('pending', 'failed') THEN NULL
			WHEN u_final < 0.80 THEN url
			WHEN u_final < 0.94 THEN 'https://' || host || '/a/' || substr(ha, 9, 6) || i
			ELSE 'https://' || (SELECT hg.name FROM hosts hg WHERE hg.h = g % 500) || '/story/' || g END AS final_url,
	   CASE WHEN state IN ('ok', 'empty') THEN 200
			WHEN state = 'failed' THEN (ARRAY[404, 503, NULL, NULL])[1 + i % 4] END AS http_status,
	   CASE WHEN state = 'failed' THEN (ARRAY['HTTP status 404', 'HTTP status 503', 'Timeout was reached',
										   'Could not resolve hostname'])[1 + i % 4] END AS fetch_error,
	   CASE WHEN state = 'failed' THEN 1 + (i / 4) % 5 ELSE 0 END AS error_count,
	   CASE WHEN state <> 'pending' THEN created_at + u_time * interval '20 minutes' END AS fetched_at,
	   -- the order articles get labelled in: the first 2,000, then 50,000
	   CASE WHEN state = 'ok' THEN row_number() OVER (PARTITION BY state = 'ok' ORDER BY md5('label' || i)) END AS lab_rank
  FROM x;
CREATE UNIQUE INDEX ON stage (i);
ANALYZE stage;
SQL
phase_time "build the staging table (COPY of the corpus, CREATE TABLE AS)" "$(since "$t")"

log "INSERT ... SELECT into pglearn.examples (scoring trigger on, no model yet)"
t=$(now)
q <<'SQL'
INSERT INTO pglearn.examples (url, title, description, og_type, og_image, favicon, body, final_url,
							  http_status, fetch_error, error_count, created_at, updated_at, fetched_at)
	SELECT url, title, description, og_type, og_image, favicon, body, final_url,
		   http_status, fetch_error, error_count, created_at, coalesce(fetched_at, created_at), fetched_at
	  FROM stage ORDER BY i;
SQL
phase_time "INSERT into pglearn.examples" "$(since "$t")"
t=$(now)
q -c "VACUUM ANALYZE pglearn.examples, pglearn.search_documents"
phase_time "VACUUM ANALYZE after the load" "$(since "$t")"

NROWS=$(q -c "SELECT count(*) FROM pglearn.examples")
TEXT_ROWS=$(q -c "SELECT count(*) FROM stage WHERE state = 'ok'")
[ "$LABELS_B" -ge "$TEXT_ROWS" ] && LABELS_B=$((TEXT_ROWS - 1))
[ "$LABELS_A" -ge "$LABELS_B" ] && LABELS_A=$((LABELS_B / 2))
meta rows "$NROWS"
meta labels_a "$LABELS_A"
meta labels_b "$LABELS_B"
meta insert_rows "$INSERT_ROWS"
# a stored article that is never labelled: for similar() and label()
PICK=$(q -c "SELECT url FROM stage WHERE lab_rank = $LABELS_B + 1")
meta pick "$PICK"
# search(): the first three title words of that article, as someone who
# half remembers a headline types them, and a word common in the corpus
# (the 30th most frequent in a 1% sample of the documents, after the
# function words; not "or", which search syntax reads as an operator)
SEARCH_WORDS=$(q -c "SELECT string_agg(w, ' ') FROM (SELECT w FROM regexp_split_to_table((SELECT title FROM pglearn.examples WHERE url = $(printf "'%s'" "${PICK//\'/\'\'}")), '[^[:alnum:]]+') WITH ORDINALITY AS t(w, n) WHERE w <> '' ORDER BY n LIMIT 3) s")
SEARCH_COMMON=$(q -c "SELECT word FROM ts_stat('SELECT document FROM pglearn.search_documents TABLESAMPLE SYSTEM (1) REPEATABLE (1)') WHERE word <> 'or' ORDER BY ndoc DESC, word OFFSET 29 LIMIT 1")
meta search_words "$SEARCH_WORDS"
meta search_common "$SEARCH_COMMON"

# the row mix, as stored
q -F $'\t' >"$WORK/mix.tsv" <<'SQL'
WITH e AS (SELECT * FROM pglearn.examples)
SELECT 'rows', count(*)::text FROM e
UNION ALL SELECT 'with title or body', count(*) FILTER (WHERE title <> '' OR body <> '')::text FROM e
UNION ALL SELECT 'not fetched (no text)', count(*) FILTER (WHERE fetched_at IS NULL)::text FROM e
UNION ALL SELECT 'failed fetch (fetch_error set, no text)', count(*) FILTER (WHERE fetch_error IS NOT NULL)::text FROM e
UNION ALL SELECT '... of them given up (error_count 5)', count(*) FILTER (WHERE error_count >= 5)::text FROM e
UNION ALL SELECT 'fetched, no title or body', count(*) FILTER (WHERE fetched_at IS NOT NULL AND fetch_error IS NULL AND title IS NULL AND body IS NULL)::text FROM e
UNION ALL SELECT 'final_url set', count(final_url)::text FROM e
UNION ALL SELECT 'final_url <> url', count(*) FILTER (WHERE final_url <> url)::text FROM e
UNION ALL SELECT 'final URLs shared by 2+ rows / rows on them', (SELECT count(*) || ' / ' || coalesce(sum(n), 0)
	FROM (SELECT count(*) AS n FROM e WHERE final_url IS NOT NULL GROUP BY final_url HAVING count(*) > 1) s)
UNION ALL SELECT 'titles shared by 2+ rows / rows with them', (SELECT count(*) || ' / ' || coalesce(sum(n), 0)
	FROM (SELECT count(*) AS n FROM e WHERE btrim(title) <> '' GROUP BY btrim(title) HAVING count(*) > 1) s)
UNION ALL SELECT 'hosts (url_host(coalesce(final_url, url)))', count(DISTINCT pglearn.url_host(coalesce(final_url, url)))::text FROM e
UNION ALL SELECT 'rows of the largest host', max(n)::text FROM (SELECT count(*) AS n FROM e GROUP BY pglearn.url_host(coalesce(final_url, url))) s
UNION ALL SELECT 'created in the last 2 days', count(*) FILTER (WHERE created_at >= now() - interval '2 days')::text FROM e
UNION ALL SELECT 'created_at span (days)', round(extract(epoch FROM max(created_at) - min(created_at)) / 86400, 1)::text FROM e
UNION ALL SELECT 'mean characters of title + description + body (rows with text)',
	round(avg(length(coalesce(title, '')) + length(pglearn.article_text(description, body))) FILTER (WHERE title <> '' OR body <> ''))::text FROM e
UNION ALL SELECT 'corpus labels of the text rows: +1 / -1', (SELECT count(*) FILTER (WHERE corpus_label = 1) || ' / ' || count(*) FILTER (WHERE corpus_label = -1) FROM stage WHERE state = 'ok');
SQL
cat "$WORK/mix.tsv" >&2

# ---- sizes -------------------------------------------------------------
# sizes SNAPSHOT: heap, TOAST, total and every index of the pglearn schema
sizes() {
	q -F $'\t' <<SQL >>"$WORK/sizes.tsv"
WITH n AS (SELECT count(*) AS n FROM pglearn.examples)
SELECT '$1', 'examples (heap)', 'examples', pg_relation_size('pglearn.examples'), n FROM n
UNION ALL
SELECT '$1', 'examples (TOAST)', 'examples', coalesce(pg_relation_size(c.reltoastrelid), 0), n
  FROM n, pg_class c WHERE c.oid = 'pglearn.examples'::regclass
UNION ALL
SELECT '$1', 'examples (total: heap, TOAST, indexes)', 'examples', pg_total_relation_size('pglearn.examples'), n FROM n
UNION ALL
SELECT '$1', 'search_documents (heap and TOAST)', 'search_documents',
	   pg_table_size('pglearn.search_documents'), (SELECT count(*) FROM pglearn.search_documents)
UNION ALL
(SELECT '$1', i.indexname, i.tablename, pg_relation_size(format('%I.%I', i.schemaname, i.indexname)::regclass),
		CASE WHEN i.tablename = 'examples' THEN n.n
			 ELSE (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', i.schemaname, i.tablename),
													   false, true, '')))[1]::text::int8 END
   FROM n, pg_indexes i WHERE i.schemaname = 'pglearn' ORDER BY i.tablename <> 'examples', i.tablename, i.indexname);
SQL
}
sizes "after load"

# ---- timing ------------------------------------------------------------
declare -A SQL SETUP TEARDOWN ENDING
# measure PHASE KEY OPTIONS: run SQL[KEY] up to 3 times in one session
measure() {
	local phase=$1 key=$2 opts=$3 quarter out best runs st detail r
	quarter=$(awk -v t="$TIMEOUT" 'BEGIN { print t / 4 }')
	{
		echo "SET statement_timeout = '${TIMEOUT}s';"
		for r in 1 2 3; do
			[ -n "${SETUP[$key]:-}" ] && echo "${SETUP[$key]}"
			echo 'SELECT clock_timestamp() AS bench_t0 \gset'
			echo "${SQL[$key]} ${ENDING[$key]:-\\g /dev/null}"
			echo '\if :ERROR'
			echo '\echo BENCH_ERR :SQLSTATE'
			[ -n "${TEARDOWN[$key]:-}" ] && echo "${TEARDOWN[$key]}"
			echo '\q'
			echo '\endif'
			echo "SELECT extract(epoch FROM clock_timestamp() - :'bench_t0'::timestamptz) AS bench_d,"
			echo "       clock_timestamp() - :'bench_t0'::timestamptz < interval '$quarter s' AS bench_again \\gset"
			echo '\echo BENCH_RUN :bench_d'
			[ "$key" = ann_next ] && echo "\\echo BENCH_URL :ann_url"
			[ -n "${TEARDOWN[$key]:-}" ] && echo "${TEARDOWN[$key]}"
			echo '\if :bench_again'
			echo '\else'
			echo '\q'
			echo '\endif'
		done
	} >"$WORK/m.sql"
	PGOPTIONS="$opts -c TimeZone=UTC" bg psql -X -q -At -d "$DB" -f "$WORK/m.sql" >"$WORK/m.out" 2>"$WORK/m.err" || true
	out=$(cat "$WORK/m.out")
	runs=$(echo "$out" | awk '$1 == "BENCH_RUN" { printf "%s%.4f", (n++ ? "," : ""), $2 }')
	best=$(echo "$out" | awk '$1 == "BENCH_RUN" { if (b == "" || $2 + 0 < b + 0) b = $2 } END { if (b != "") printf "%.4f", b }')
	st=ok
	detail=
	if [ -z "$best" ]; then
		if echo "$out" | grep -q '^BENCH_ERR 57014'; then
			st=timeout
		else
			st=error
			detail=$(grep -m 1 -E 'ERROR|error|no rows' "$WORK/m.err" | tr '\t' ' ' | cut -c 1-200 || true)
		fi
	fi
	if [ "$key" = ann_next ]; then
		ANN_URL=$(echo "$out" | sed -n 's/^BENCH_URL //p' | tail -n 1)
		# no row: \gset set nothing and psql echoed the name
		if [ "$ANN_URL" = ":ann_url" ]; then ANN_URL=; fi
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$phase" "$key" "$st" "$best" "$runs" "$detail" >>"$WORK/results.tsv"
	RESULT_STATUS[$phase.$key]=$st
	RESULT_BEST[$phase.$key]=$best
	case $st in
		ok) log "$phase $key: best ${best} s (runs $runs)" ;;
		timeout) log "$phase $key: > $TIMEOUT s (timeout)" ;;
		*) log "$phase $key: error: $detail" ;;
	esac
}
declare -A RESULT_STATUS RESULT_BEST
ANN_URL=

lit() { printf "'%s'" "${1//\'/\'\'}"; }	# a SQL string literal
QUERY_OPTS="-c client_min_messages=warning"

define_queries() {
	SQL[floor]="SELECT count(*) FROM pglearn.examples"
	SQL[uncertain]="SELECT * FROM pglearn.uncertain(NULL, 10)"
	SQL[to_label]="SELECT * FROM pglearn.to_label LIMIT 10"
	SQL[recommend]="SELECT * FROM pglearn.recommend('general', 10)"
	SQL[recommend_all]="SELECT * FROM pglearn.recommend('general', 10, days => NULL)"
	SQL[similar]="SELECT * FROM pglearn.similar($(lit "$PICK"), 10)"
	SQL[search]="SELECT * FROM pglearn.search($(lit "$SEARCH_WORDS"), 10)"
	SQL[search_common]="SELECT * FROM pglearn.search($(lit "$SEARCH_COMMON"), 10)"
	SQL[label]="SELECT pglearn.label($(lit "$PICK"), 1)"
	SETUP[label]="BEGIN;"
	TEARDOWN[label]="ROLLBACK;"
	SQL[label_stats]="SELECT * FROM pglearn.label_stats"
	SQL[crawl_status]="SELECT * FROM pglearn.crawl_status"
	# crawler/annotate.c next_candidate() with the stored scores (the
	# default model, rescore on): $1 the URLs skipped + 1, $2 per_host (NULL
	# without --per-host), $3 the URLs skipped in the session (none yet)
	SQL[ann_next]="SELECT u.url, u.title, u.score, NULL FROM pglearn.uncertain(NULL, 1::int4, NULL::int4) AS u WHERE u.url <> ALL ('{}'::text[]) ORDER BY u.rank LIMIT 1"
	ENDING[ann_next]='\gset ann_'
	# rescore_pool() after each refit between labels (--pool 1000), rolled back
	SQL[ann_pool]="SELECT pglearn.rescore_candidates('default', 1000::int4, NULL::int4)"
	SETUP[ann_pool]="BEGIN;"
	TEARDOWN[ann_pool]="ROLLBACK;"
}
# annotate's second and third statements, for the URL its first returned
define_annotate_rest() {
	local url=$1
	SQL[ann_why]="SELECT f.feature, f.contribution FROM pglearn.supporting_features($(lit "$url"), 5::int4, 'default') AS f"
	SQL[ann_label]="SELECT pglearn.label($(lit "$url"), 1::int4)"
	SETUP[ann_label]="BEGIN;"
	TEARDOWN[ann_label]="ROLLBACK;"
}
MEASURED="uncertain to_label recommend recommend_all similar search search_common label label_stats crawl_status ann_next ann_why ann_label ann_pool"

# explain PHASE KEY: EXPLAIN (ANALYZE, BUFFERS) of SQL[KEY] and, through
# auto_explain (log_nested_statements), the plans of the statements the
# plpgsql functions run.  A query that timed out is explained inside a
# transaction that first deletes all but every 100th row and is rolled
# back: the planner still sees the full table's statistics (same plan
# shape and estimates), the executor only 1% of the rows.
explain() {
	local phase=$1 key=$2 how=$3 f="$WORK/plan_$1.txt"
	{
		echo "SET statement_timeout = '${TIMEOUT}s';"
		echo "LOAD 'auto_explain';"
		echo "SET auto_explain.log_min_duration = 0;"
		echo "SET auto_explain.log_analyze = on;"
		echo "SET auto_explain.log_buffers = on;"
		echo "SET auto_explain.log_nested_statements = on;"
		[ -n "${SETUP[$key]:-}" ] && echo "${SETUP[$key]}"
		if [ "$how" = reduced ]; then
			[ -z "${SETUP[$key]:-}" ] && echo "BEGIN;"
			echo "DELETE FROM pglearn.examples WHERE id % 100 <> 0;"
		fi
		echo "SET client_min_messages = log;"
		echo "EXPLAIN (ANALYZE, BUFFERS) ${SQL[$key]};"
		echo "SET client_min_messages = warning;"
		if [ "$how" = reduced ] || [ -n "${TEARDOWN[$key]:-}" ]; then echo "ROLLBACK;"; fi
	} >"$WORK/e.sql"
	{
		echo "query: ${SQL[$key]}"
		if [ "$how" = reduced ]; then
			echo "(it timed out: explained over 1% of the rows, all others deleted in a transaction rolled back afterwards; the estimates are the full table's)"
		fi
		echo
	} >"$f"
	PGOPTIONS="$QUERY_OPTS -c TimeZone=UTC" bg psql -X -q -d "$DB" -f "$WORK/e.sql" >"$WORK/e.out" 2>"$WORK/e.err" || true
	if grep -q 'canceling statement due to statement timeout' "$WORK/e.err"; then
		echo "EXPLAIN ANALYZE timed out (> $TIMEOUT s)" >>"$f"
		return 1
	fi
	echo "EXPLAIN (ANALYZE, BUFFERS):" >>"$f"
	grep -v '^ *QUERY PLAN *$\|^-*$\|^([0-9]* rows\?)$' "$WORK/e.out" >>"$f" || true
	# the nested statements' plans, the trivial ones (argument checks,
	# the model lookup) and the top-level EXPLAIN itself left out
	python3 - "$WORK/e.err" >>"$f" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
# psql prefixes the messages of a script with "psql:FILE:LINE: "
parts = re.split(r'^(?:psql:[^\n]*?:[0-9]+: )?LOG:  duration: ', text, flags=re.M)
for p in parts[1:]:
    m = re.match(r'([0-9.]+) ms\s+plan:\n(.*)', p, flags=re.S)
    if not m:
        continue
    ms, body = float(m.group(1)), m.group(2).rstrip('\n')
    qt = re.search(r'^Query Text: (.*?)$', body, flags=re.M)
    if qt and qt.group(1).lstrip().upper().startswith('EXPLAIN'):
        continue
    if ms < 5:
        continue
    # the statement's text is the function's source: its first line only
    lines = body.split('\n')
    if lines[0].startswith('Query Text: '):
        i = 1
        while i < len(lines) and not re.match(r'^\S.*  \(cost=', lines[i]):
            i += 1
        first = lines[0][len('Query Text: '):].strip()
        lines = ['Query Text: ' + first + (' …' if i > 1 else '')] + lines[i:]
    print('\nnested statement (auto_explain), %.1f ms:' % ms)
    print('\n'.join(lines))
PY
	return 0
}
explain_slowest() {
	local phase=$1 k key= worst=-1 st
	for k in $MEASURED; do
		st=${RESULT_STATUS[$phase.$k]:-}
		if [ "$st" = timeout ]; then
			key=$k
			break
		elif [ "$st" = ok ] && awk -v a="${RESULT_BEST[$phase.$k]}" -v b="$worst" 'BEGIN { exit !(a > b) }'; then
			key=$k
			worst=${RESULT_BEST[$phase.$k]}
		fi
	done
	[ -n "$key" ] || return 0
	meta "slowest_$phase" "$key"
	local t0
	t0=$(now)
	if [ "${RESULT_STATUS[$phase.$key]}" = timeout ]; then
		explain "$phase" "$key" reduced || true
	elif ! explain "$phase" "$key" full; then
		explain "$phase" "$key" reduced || true
	fi
	phase_time "$phase: EXPLAIN of the slowest ($key)" "$(since "$t0")"
}

# ---- one label count -----------------------------------------------------
# run_phase PHASE LABELS: label the first LABELS rows of the labelling
# order, refresh, VACUUM ANALYZE, measure
run_phase() {
	local phase=$1 labels=$2 t c_opt
	log "$phase: labelling up to $labels rows"
	t=$(now)
	# one UPDATE, the end state label() would leave (it only sets the label)
	q -c "UPDATE pglearn.examples e SET label = s.corpus_label FROM stage s
		   WHERE s.url = e.url AND s.lab_rank <= $labels AND e.label IS DISTINCT FROM s.corpus_label"
	phase_time "$phase: labels (UPDATE)" "$(since "$t")"
	sizes "$phase: before refresh"

	log "$phase: CALL pglearn.refresh()"
	t=$(now)
	PGOPTIONS="-c client_min_messages=notice -c statement_timeout=${SETUP_TIMEOUT}s" \
		bg psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "CALL pglearn.refresh()" 2>"$WORK/refresh.err" ||
		{ cat "$WORK/refresh.err" >&2; exit 1; }
	local refresh_s fit_ms notice
	refresh_s=$(since "$t")
	notice=$(grep -m 1 'refresh:' "$WORK/refresh.err" | sed 's/^NOTICE: *//' || true)
	fit_ms=$(q -c "SELECT metrics->>'fit_time_ms' FROM pglearn.models WHERE name = 'default' ORDER BY id DESC LIMIT 1")
	C_CHOSEN=$(q -c "SELECT params->'C' FROM pglearn.models WHERE name = 'default' ORDER BY id DESC LIMIT 1")
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$phase" "$labels" "$refresh_s" "$fit_ms" "$C_CHOSEN" "$notice" >>"$WORK/refresh.tsv"
	phase_time "$phase: CALL refresh() (fit $fit_ms ms)" "$refresh_s"
	log "$phase: $notice"
	sizes "$phase: after refresh"
	t=$(now)
	q -c "VACUUM ANALYZE pglearn.examples"
	phase_time "$phase: VACUUM ANALYZE" "$(since "$t")"
	sizes "$phase: after VACUUM"

	log "$phase: queries (statement_timeout $TIMEOUT s)"
	t=$(now)
	define_queries
	measure "$phase" floor "$SERIAL"
	local k
	for k in uncertain to_label recommend recommend_all similar search search_common label label_stats crawl_status ann_next; do
		measure "$phase" "$k" "$QUERY_OPTS"
	done
	local url=$ANN_URL
	if [ -z "$url" ]; then
		url=$PICK
		meta "ann_url_$phase" "(At $labels labels annotate's first statement gave no URL (${RESULT_STATUS[$phase.ann_next]}): its other two were timed with $PICK.)"
	fi
	define_annotate_rest "$url"
	measure "$phase" ann_why "$QUERY_OPTS"
	measure "$phase" ann_label "$QUERY_OPTS"
	measure "$phase" ann_pool "$QUERY_OPTS"
	# the refit annotate runs after each label by default
	SQL[ann_refit]="SELECT pglearn.fit('default', 'pglearn.examples', jsonb_build_object('C', $C_CHOSEN))"
	SETUP[ann_refit]="BEGIN;"
	TEARDOWN[ann_refit]="ROLLBACK;"
	SQL[floor_after]=${SQL[floor]}
	measure "$phase" ann_refit "$QUERY_OPTS"
	measure "$phase" floor_after "$SERIAL"
	phase_time "$phase: queries" "$(since "$t")"

	# the scoring trigger
	t=$(now)
	local ins="INSERT INTO pglearn.examples AS e (url, title, description, og_type, og_image, favicon, body, final_url, http_status, fetch_error, error_count, fetched_at) SELECT url, title, description, og_type, og_image, favicon, body, final_url, http_status, NULL, 0, now() FROM newrows ON CONFLICT (url) DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description, og_type = EXCLUDED.og_type, og_image = EXCLUDED.og_image, favicon = EXCLUDED.favicon, body = EXCLUDED.body, final_url = EXCLUDED.final_url, http_status = EXCLUDED.http_status, fetch_error = NULL, error_count = 0, fetched_at = EXCLUDED.fetched_at"
	SQL[insert_scored]=$ins
	SETUP[insert_scored]="BEGIN;"
	TEARDOWN[insert_scored]="ROLLBACK;"
	SQL[insert_unscored]=$ins
	SETUP[insert_unscored]="BEGIN; SET LOCAL pglearn.default_model = '';"
	TEARDOWN[insert_unscored]="ROLLBACK;"
	measure "$phase" insert_scored "$QUERY_OPTS"
	measure "$phase" insert_unscored "$QUERY_OPTS"
	phase_time "$phase: scoring trigger inserts" "$(since "$t")"

	explain_slowest "$phase"
	# the rolled-back inserts (and a reduced EXPLAIN's delete) left dead rows
	t=$(now)
	q -c "VACUUM pglearn.examples"
	phase_time "$phase: VACUUM after the inserts" "$(since "$t")"
}

# the new articles of the insert-rate measurement: stored articles' text
# under new URLs
q -c "CREATE TABLE newrows AS SELECT url || '/v2' AS url, title, description, og_type, og_image, favicon, body,
		  final_url || '/v2' AS final_url, http_status FROM stage WHERE state = 'ok' ORDER BY i LIMIT $INSERT_ROWS"
q -c "ANALYZE newrows"

run_phase A "$LABELS_A"
run_phase B "$LABELS_B"

meta fingerprint_end "$(fingerprint)"
meta total_minutes "$(awk -v a="$T_START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", (b - a) / 60 }')"
meta load "$(cut -d ' ' -f 1-3 /proc/loadavg)"

# ---- the report ----------------------------------------------------------
# $WORK/intro.md: the section's heading and what every run does (replaced
# by each run); $WORK/run.md: this run's subsection "### $SCALE_AS";
# $WORK/plans.md: the slowest plans of both label counts (printed; the
# subsection keeps the one of the larger label count)
SCALE_AS=${SCALE_AS:-Latest}
meta subsection "$SCALE_AS"
python3 - "$WORK" <<'PY'
import os, sys
work = sys.argv[1]

def tsv(name):
    p = os.path.join(work, name)
    if not os.path.exists(p):
        return []
    return [l.rstrip('\n').split('\t') for l in open(p) if l.strip()]

meta = {}
for k, *v in tsv('meta.tsv'):
    meta[k] = v[0] if v else ''
res = {}
for phase, key, st, best, runs, *detail in tsv('results.tsv'):
    res[(phase, key)] = (st, float(best) if best else None, runs, detail[0] if detail else '')
T = int(meta['timeout'])
la, lb = int(meta['labels_a']), int(meta['labels_b'])

def get(phase, key):
    return res.get((phase, key), ('missing', None, '', ''))

def fmt(s):
    return '%.4f' % s if s < 0.1 else '%.3f' % s if s < 10 else '%.1f' % s

def secs(phase, key):
    st, best, runs, detail = get(phase, key)
    if st == 'ok':
        return fmt(best)
    if st == 'timeout':
        return '> %d s (timeout)' % T
    if st == 'missing':
        return 'not run'
    return 'error' + (' (%s)' % detail.replace('|', '\\|') if detail else '')

def floor(phase):
    st, best, _, _ = get(phase, 'floor')
    return best if st == 'ok' and best else None

def ratio(phase, key, target=None, value=None):
    f = floor(phase)
    if not f:
        return 'n/a'
    if value is None:
        st, value, _, _ = get(phase, key)
        if st == 'timeout':
            s = '> %.0fx' % (T / f)
            return '**%s**' % s if target is not None else s
        if st != 'ok':
            return 'n/a'
    r = value / f
    s = '%.2fx' % r if r < 10 else '%.0fx' % r
    if target is not None and r > target:
        s = '**%s**' % s
    return s

out = []
w = out.append
w('## Scale')
w('')
w('`bench/scale.sh [ROWS] [TIMEOUT_S]`: the active-learning, recommendation and report functions at a million articles '
  'on one node, each query as a ratio to one serial full scan of the table measured in the same run. '
  '`pglearn.examples` is built as a crawler fills it, from the SpamAssassin corpus (t/lib/spam_corpus.sh, 6046 e-mails) '
  'repeated with distinct URLs: row i is e-mail (i − 1) mod 6046, copy (i − 1) div 6046. Text: title = the subject plus " #i" '
  '(5% of rows keep the bare subject, shared with other copies of the e-mail and its thread: the duplicate titles); body = up to 600 characters of '
  'the e-mail\'s body text (headers dropped, HTML tags removed, whitespace collapsed): a window into its first 6,000 characters '
  'whose start moves with the copy, cut at spaces; 40% with a description (its first 160 characters). 500 hosts, skewed (the largest ~4.5% of the rows; '
  'github.com, arxiv.org, www.youtube.com, speakerdeck.com, twitter.com and connpass.com among them), URLs with a slug of the '
  'subject. created_at spread evenly over the 30 days before the run, rows inserted in that order; fetched_at minutes later. '
  'final_url as the crawler stores it (the URL after redirects and rel=canonical): the URL itself for 80% of the fetched rows, a '
  'redirect of its own for 14%, one shared by ~3 URLs (across hosts) for 6%. 2% never fetched and 3% failed fetches '
  '(fetch_error, error_count 1-5, no text); 1% fetched without text. Labels: the corpus labels (ham +1, spam −1) on the first '
  'rows with text in a fixed md5 order, 2,000 and then 50,000 (the 2,000 among them). The same table every run (only the '
  'timestamps move with the date). Loaded with one INSERT … SELECT from a staging table (the corpus COPYed in, expanded with '
  'CREATE TABLE AS) with the scoring trigger on and no model yet; labels set with one UPDATE (the end state `label()` leaves); '
  'then `CALL pglearn.refresh()` (fit + rescore) and `VACUUM ANALYZE` before the queries of each label count. '
  'Each query runs in a session of its own, up to 3 times in it, the best run counted (a run over a quarter of the timeout is '
  'not repeated), under a statement_timeout; a query that hits it shows as "> N s (timeout)". The floor: '
  '`SELECT count(*) FROM pglearn.examples` with max_parallel_workers_per_gather = 0, best of 3, right before the queries; '
  'the queries run with the server\'s settings (parallel query allowed). `label()` runs in a transaction that is rolled back. '
  'The `pglearn annotate` rows are the statements crawler/annotate.c sends per key press. Each subsection below is one run; '
  'a run replaces the subsection named by `SCALE_AS` (default "Latest") and leaves the others.')
w('')
open(os.path.join(work, 'intro.md'), 'w').write('\n'.join(out) + '\n')

out = []
w = out.append
w('### ' + meta['subsection'])
w('')
w('`%s%s` on %s: %s, PostgreSQL %s (jit %s), %s: extension %s, installed files md5 %s at the start, %s at the end '
  '(repository HEAD %s). statement_timeout %d s for every measured query. Whole run: %s minutes (load average at the end: %s).'
  % (('SCALE_REV=%s ' % meta['scale_rev']) if meta.get('scale_rev') else '', meta['command'], meta['date'], meta['cpu'],
     meta['pg_version'], meta['jit'], meta['source'], meta['ext_version'], meta['fingerprint_start'], meta['fingerprint_end'],
     meta['git_head'], T, meta['total_minutes'], meta['load']))
w('Server: %s.' % meta['settings'])
w('similar() and label() use a stored article that is never labelled: %s.' % meta['pick'])
w('search() looks for %s (the first title words of that article) and for %s (a common word of the corpus).' % (meta['search_words'], meta['search_common']))
w('')
w('| as stored | rows |')
w('|---|---:|')
for item, value in tsv('mix.tsv'):
    w('| %s | %s |' % (item, value))
w('')
rows = [
    ('uncertain', '`uncertain(NULL, 10)`', 1),
    ('to_label', '`SELECT * FROM to_label LIMIT 10`', 1),
    ('recommend', "`recommend('general', 10)`", 1),
    ('recommend_all', "`recommend('general', 10, days => NULL)`", 1),
    ('similar', '`similar(url, 10)`', 2),
    ('search', '`search(three title words, 10)`', 0.5),
    ('search_common', '`search(a common word, 10)`', 0.5),
    ('label', '`label(url, 1)` (rolled back)', 0.2),
    ('label_stats', '`SELECT * FROM label_stats`', 3),
    ('crawl_status', '`SELECT * FROM crawl_status`', 3),
    ('ann_label', 'annotate, a key press: `label(url, 1)` (rolled back)', None),
    ('ann_refit', "annotate: the refit after it (default `--refit-every 1`): `fit('default', …, {\"C\": the chosen C})`, rolled back", None),
    ('ann_pool', "annotate: then `rescore_candidates('default', 1000, NULL)` (`--pool 1000`), rolled back", None),
    ('ann_next', "annotate: the next article: `SELECT u.url, u.title, u.score, NULL FROM uncertain(NULL, 1, NULL) u WHERE u.url <> ALL ('{}') ORDER BY u.rank LIMIT 1`", None),
    ('ann_why', "annotate: `supporting_features(url, 5, 'default')` of it", None),
]
w('Bold: over the project\'s target.')
w('')
w('| query | target | %d labels: s | × floor | %d labels: s | × floor |' % (la, lb))
w('|---|---:|---:|---:|---:|---:|')
w('| **floor**: serial `SELECT count(*) FROM pglearn.examples` | | %s | 1 | %s | 1 |' % (secs('A', 'floor'), secs('B', 'floor')))
for key, name, target in rows:
    tgt = '≤ %gx' % target if target is not None else '(none set)'
    w('| %s | %s | %s | %s | %s | %s |' % (name, tgt, secs('A', key), ratio('A', key, target),
                                            secs('B', key), ratio('B', key, target)))
def ann_total(phase, keys):
    parts = [get(phase, k) for k in keys]
    if any(p[0] == 'timeout' for p in parts):
        return '> %d s (timeout)' % T, ratio(phase, [k for k, p in zip(keys, parts) if p[0] == 'timeout'][0])
    if any(p[0] != 'ok' for p in parts):
        return 'n/a', 'n/a'
    s = sum(p[1] for p in parts)
    return fmt(s), ratio(phase, None, None, s)
for keys, name in ((('ann_label', 'ann_pool', 'ann_next', 'ann_why'), '**annotate, key press to the next article, without the fit** (label, rescore_candidates, next, its features)'),
                   (('ann_label', 'ann_refit', 'ann_pool', 'ann_next', 'ann_why'), '**annotate, key press to the next article, with the refit** (all five)')):
    ta, tb = ann_total('A', keys), ann_total('B', keys)
    w('| %s | (none set) | %s | %s | %s | %s |' % (name, ta[0], ta[1], tb[0], tb[1]))
w('| floor again, after the queries | | %s | %s | %s | %s |' % (secs('A', 'floor_after'), ratio('A', 'floor_after'),
                                                            secs('B', 'floor_after'), ratio('B', 'floor_after')))
w('')
for k in ('ann_url_A', 'ann_url_B'):
    if k in meta:
        w(meta[k])
        w('')
n_ins = int(meta['insert_rows'])
w('**Scoring trigger**: one `INSERT … SELECT … ON CONFLICT (url) DO UPDATE` (the crawler\'s upsert) of %d new articles '
  '(stored articles\' text under new URLs), rolled back, best of 3.' % n_ins)
w('')
w('| | %d labels: s | rows/s | %d labels: s | rows/s |' % (la, lb))
w('|---|---:|---:|---:|---:|')
for key, name in (('insert_scored', "model 'default' present (every row scored)"),
                  ('insert_unscored', "`pglearn.default_model = ''` (scoring off)")):
    cells = []
    for phase in ('A', 'B'):
        st, best, _, _ = get(phase, key)
        cells += [secs(phase, key), '%.0f' % (n_ins / best) if st == 'ok' and best else 'n/a']
    w('| %s | %s |' % (name, ' | '.join(cells)))
w('')
w('**Refresh**: `CALL pglearn.refresh()` after labelling; fit = the stored model\'s `fit_time_ms` (features of the labelled '
  'rows, C from the grid by 5-fold cross-validation, the final training), rescore = the rest (every row scored, the changed '
  'scores written in batches of 10,000).')
w('')
w('| labels | CALL refresh() s | fit s | rescore s | C | refresh\'s notice |')
w('|---:|---:|---:|---:|---:|---|')
for phase, labels, total, fit_ms, c, notice in tsv('refresh.tsv'):
    fit_s = float(fit_ms) / 1000 if fit_ms else 0
    w('| %s | %.1f | %.1f | %.1f | %s | %s |' % (labels, float(total), fit_s, float(total) - fit_s, c,
                                                notice.replace('|', '\\|')))
w('')
sizes = tsv('sizes.tsv')
snaps, rels = [], []
for sn in sizes:
    if sn[0] not in snaps:
        snaps.append(sn[0])
    if sn[1] not in rels:
        rels.append(sn[1])
val = {(sn[0], sn[1]): (int(sn[3]), int(sn[4])) for sn in sizes}
names = {'A': '%d labels' % la, 'B': '%d labels' % lb}
def snapname(sn):
    for k, v in names.items():
        if sn.startswith(k + ':'):
            return v + sn[1:]
    return sn
w('**Sizes** in MB (pg_relation_size; the total is pg_total_relation_size; every index of the pglearn schema from pg_indexes), '
  'and bytes per row of its table at the end:')
w('')
w('| relation | ' + ' | '.join(snapname(sn) for sn in snaps) + ' | bytes/row at the end |')
w('|---|' + '---:|' * (len(snaps) + 1))
for r in rels:
    cells = ['%.1f' % (val[(sn, r)][0] / 1048576) if (sn, r) in val else '' for sn in snaps]
    last = val.get((snaps[-1], r))
    per = '%.0f' % (last[0] / last[1]) if last and last[1] else 'n/a'
    w('| %s | %s | %s |' % (r, ' | '.join(cells), per))
w('')
w('**Phase times**:')
w('')
w('| step | s |')
w('|---|---:|')
for step, sec in tsv('phases.tsv'):
    for k, v in names.items():
        if step.startswith(k + ':'):
            step = v + step[1:]
    w('| %s | %s |' % (step, sec))
w('')
plans = []
for phase in ('A', 'B'):
    key = meta.get('slowest_' + phase)
    p = os.path.join(work, 'plan_%s.txt' % phase)
    if key and os.path.exists(p):
        plans.append((phase, '**Slowest query at %s** (`%s`): EXPLAIN (ANALYZE, BUFFERS), and the plans of the statements '
                      'the function runs (auto_explain with log_nested_statements; those over 5 ms):' % (names[phase], key),
                      open(p).read().rstrip('\n')))
with open(os.path.join(work, 'plans.md'), 'w') as f:
    for phase, head, text in plans:
        f.write(head + '\n\n```\n' + text + '\n```\n\n')
# the subsection keeps the plan of the larger label count
for phase, head, text in plans:
    if phase == 'B':
        w(head)
        w('')
        w('```')
        w(text)
        w('```')
        w('')
if any(ph == 'A' for ph, _, _ in plans):
    w('(The slowest plan at %s is printed by the run, not kept here.)' % names['A'])
    w('')
open(os.path.join(work, 'run.md'), 'w').write('\n'.join(out).rstrip('\n') + '\n\n')
PY

cat "$WORK/intro.md" "$WORK/run.md" "$WORK/plans.md"
if [ -n "${PGLEARN_BENCH_NO_WRITE:-}" ]; then
	echo "== PGLEARN_BENCH_NO_WRITE set: bench/RESULTS.md left alone" >&2
else
	# the section: intro replaced, the subsection "### $SCALE_AS" replaced
	# or appended, other subsections kept; other sections untouched
	python3 - bench/RESULTS.md "$WORK/intro.md" "$WORK/run.md" "$SCALE_AS" <<'PY'
import os, re, sys
path, intro, run, name = sys.argv[1], open(sys.argv[2]).read(), open(sys.argv[3]).read(), sys.argv[4]
text = open(path).read() if os.path.exists(path) else '# Benchmark results\n'
m = re.search(r'^## Scale\n.*?(?=^## |\Z)', text, flags=re.S | re.M)
body = m.group(0) if m else ''
subs = []							# (heading, text) of the section's subsections
for s in re.finditer(r'^### (.*)\n.*?(?=^### |\Z)', body, flags=re.S | re.M):
    subs.append((s.group(1), s.group(0).rstrip('\n') + '\n'))
run = run.rstrip('\n') + '\n'
if any(h == name for h, _ in subs):
    subs = [(h, run if h == name else t) for h, t in subs]
else:
    subs.append((name, run))
section = intro.rstrip('\n') + '\n\n' + '\n'.join(t for _, t in subs)
if m:
    rest = text[m.end():]
    text = text[:m.start()] + section + ('\n' + rest if rest else '')
else:
    text = text.rstrip('\n') + '\n\n' + section
open(path, 'w').write(text)
PY
	echo "== wrote \"### $SCALE_AS\" in the section \"## Scale\" of bench/RESULTS.md" >&2
fi
