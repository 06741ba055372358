#!/usr/bin/env bash
# t/cron/run.sh: README's "Scheduling" recipes, as written, on a cluster set
# up like Debian's default one.
#
# The cluster gets Debian's pg_hba.conf (peer on the unix socket,
# scram-sha-256 on 127.0.0.1 and ::1, no password for anyone), so the test
# talks to it as the cluster's OS user over the socket.  Then:
#  1. the pg_cron recipe without its cron.use_background_workers line: a
#     `* * * * *` job calling refresh() fails to connect (what a reader of
#     the old recipe saw; it shows the cluster asks connections for a
#     password);
#  2. the recipe's postgresql.conf lines and SQL block, read from README.md
#     under "<!-- pg_cron recipe" (the schedule changed to `* * * * *`, so
#     the wait is at most about a minute): the job succeeds and refresh()
#     leaves a model;
#  3. the cron(8) recipe under "<!-- cron(8) recipe": each job line's
#     command, run once by /bin/sh with the file's settings in an otherwise
#     empty environment (as cron runs it) plus PGHOST/PGPORT, since the
#     throwaway cluster is not at the default socket.  It needs the
#     installed `pglearn` (make install) on the file's PATH.
# Each pg_cron wait is bounded (WAIT_S, 75 s); t/run_all.sh runs this suite
# in the background beside the others.  Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
. t/lib/cluster.sh
. t/lib/tap.sh			# report STATUS DESCRIPTION [DIAGNOSTIC], finish
. t/lib/readme.sh		# readme_block MARKER

WAIT_S=${WAIT_S:-75}
work=$(mktemp -d /tmp/pglearn-cron.XXXXXX)
chmod 755 "$work"
trap 'cluster_stop; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

if [ ! -f "$(pg_config --pkglibdir)/pg_cron.so" ]; then
	echo "# skipped: pg_cron is not installed (Debian postgresql-15-cron; t/lib/cluster.sh install_packages)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

# psql as the cluster's OS user over the socket: Debian's peer rule
sql() {						# sql DATABASE SQL: tuples only, errors to stdout
	as_cluster_user psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2" 2>&1
}
restart() {
	as_cluster_user "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w restart >/dev/null
}
# wait_run: wait (at most WAIT_S seconds) for a run of job pglearn-refresh
# to finish; prints "status|return_message" of the newest finished run, or
# nothing.  Each phase starts with a new pg_cron (and so no runs yet).
wait_run() {
	local got="" i
	for i in $(seq "$WAIT_S"); do
		got=$(sql news "SELECT d.status || '|' || coalesce(d.return_message, '')
			FROM cron.job_run_details d JOIN cron.job j USING (jobid)
			WHERE j.jobname = 'pglearn-refresh' AND d.status IN ('succeeded', 'failed')
			ORDER BY d.runid DESC LIMIT 1")
		[ -n "$got" ] && break
		sleep 1
	done
	printf '%s' "$got"
}

readme_block "<!-- pg_cron recipe" >"$work/cron.conf" || { echo "0 passed, 1 failed"; exit 1; }
python3 - "$README_MD" >"$work/cron.sql" <<'PY' || { echo "0 passed, 1 failed"; exit 1; }
# the SQL block that follows the pg_cron recipe's conf block
import sys
text = open(sys.argv[1], encoding="utf-8").read()
start = text.index("<!-- pg_cron recipe")
begin = text.index("```sql\n", start) + len("```sql\n")
print(text[begin:text.index("```", begin)], end="")
PY
readme_block "<!-- cron(8) recipe" >"$work/crontab" || { echo "0 passed, 1 failed"; exit 1; }
grep -q "^cron.use_background_workers = on" "$work/cron.conf"
report $? "README's pg_cron recipe sets cron.use_background_workers" "$(cat "$work/cron.conf")"
grep -q "'15 \* \* \* \*'" "$work/cron.sql"
report $? "README's SQL schedules the job at '15 * * * *'" "$(cat "$work/cron.sql")"
sed "s/'15 \* \* \* \*'/'* * * * *'/" "$work/cron.sql" >"$work/cron-every-minute.sql"

# the cluster's OS user works here: it may not be able to enter the
# checkout (a clone under /root, or .ci/run's private directory)
cd "$work"
cluster_start || { echo "0 passed, 1 failed"; exit 1; }
# Debian's default pg_hba.conf (postgresql-common's, for PostgreSQL 15)
cat >"$CLUSTER_DIR/data/pg_hba.conf" <<'HBA'
local   all             postgres                                peer
local   all             all                                     peer
host    all             all             127.0.0.1/32            scram-sha-256
host    all             all             ::1/128                 scram-sha-256
local   replication     all                                     peer
host    replication     all             127.0.0.1/32            scram-sha-256
host    replication     all             ::1/128                 scram-sha-256
HBA
restart || { cat "$CLUSTER_DIR/server.log"; echo "0 passed, 1 failed"; exit 1; }
out=$(psql -X -At -h 127.0.0.1 -d postgres -w -c 'SELECT 1' 2>&1)
echo "$out" | grep -q "password"
report $? "the cluster asks TCP connections to 127.0.0.1 for a password, as Debian's does" "$out"

# the database the recipe names, with pglearn and a small labelled set
as_cluster_user createdb news
out=$(sql news "CREATE EXTENSION pglearn;
	INSERT INTO pglearn.examples (url, title, body, label)
	SELECT 'https://db.example.net/' || i, 'PostgreSQL vacuum ' || i, 'planner index vacuum wal replication', 1
	  FROM generate_series(1, 6) i
	UNION ALL
	SELECT 'https://sport.example.org/' || i, 'Football ' || i, 'goal match league striker', -1
	  FROM generate_series(1, 6) i;")
report $? "database news with pglearn and 12 labelled articles" "$out"

# --- 1. the recipe without cron.use_background_workers ----------------------
grep -v "^cron.use_background_workers" "$work/cron.conf" >>"$CLUSTER_DIR/data/postgresql.conf"
restart || { cat "$CLUSTER_DIR/server.log"; echo "0 passed, 1 failed"; exit 1; }
out=$(as_cluster_user psql -X -q -v ON_ERROR_STOP=1 -d news -f "$work/cron-every-minute.sql" 2>&1)
report $? "README's SQL block runs (schedule '* * * * *')" "$out"
got=$(wait_run)
case "$got" in failed\|*connection*) status=0 ;; *) status=1 ;; esac
report $status "without cron.use_background_workers the job fails to connect ($got)" "got: $got"

# --- 2. the recipe as written --------------------------------------------------
sed -i '/^shared_preload_libraries = .pg_cron./,$d' "$CLUSTER_DIR/data/postgresql.conf"
cat "$work/cron.conf" >>"$CLUSTER_DIR/data/postgresql.conf"
restart || { cat "$CLUSTER_DIR/server.log"; echo "0 passed, 1 failed"; exit 1; }
is_on=$(sql news "SHOW cron.use_background_workers")
report "$([ "$is_on" = on ]; echo $?)" "after a restart with README's lines, cron.use_background_workers is on" "got: $is_on"
models_before=$(sql news "SELECT count(*) FROM pglearn.models WHERE name = 'default'")
# from the start: no extension, no job, then README's SQL block
sql news "DROP EXTENSION pg_cron" >/dev/null
out=$(as_cluster_user psql -X -q -v ON_ERROR_STOP=1 -d news -f "$work/cron-every-minute.sql" 2>&1)
report $? "README's SQL block runs again on the cluster with README's lines" "$out"
got=$(wait_run)
case "$got" in succeeded\|CALL) status=0 ;; *) status=1 ;; esac
report $status "with README's lines the job CALL pglearn.refresh('default') succeeds ($got)" \
	"got: $got"$'\n'"$(tail -n 20 "$CLUSTER_DIR/server.log")"
models_after=$(sql news "SELECT count(*) FROM pglearn.models WHERE name = 'default'")
report "$([ "$models_after" -gt "$models_before" ]; echo $?)" "refresh() run by pg_cron stored a model (models: $models_before -> $models_after)" ""
scored=$(sql news "SELECT count(*) FROM pglearn.examples WHERE score IS NULL")
report "$([ "$scored" = 0 ]; echo $?)" "... and scored every article" "unscored: $scored"
sql news "SELECT cron.unschedule('pglearn-refresh')" >/dev/null

# --- 3. the cron(8) recipe: each job line's command, once ----------------------
env_lines=()
commands=()
while IFS= read -r line; do
	case "$line" in
		"" | "#"*) ;;
		[A-Za-z_]*=*) env_lines+=("$line") ;;
		*)
			# minute hour day month weekday user command
			cmd=$(printf '%s\n' "$line" | sed -E 's/^([^ ]+ +){6}//')
			commands+=("$cmd")
			;;
	esac
done <"$work/crontab"
report "$([ "${#commands[@]}" = 2 ] && [ "${#env_lines[@]}" -ge 1 ]; echo $?)" \
	"README's cron(8) file has 2 job lines and its settings (${env_lines[*]})" "$(cat "$work/crontab")"
# two articles the crawl must visit (on loopback, so refused: the crawl
# records that, which is how the test sees it ran) and one more label, so
# refresh fits a new model
sql news "INSERT INTO pglearn.examples (url) VALUES ('http://127.0.0.1:1/pending-a'), ('http://127.0.0.1:1/pending-b');
	INSERT INTO pglearn.examples (url, title, body, http_status, fetched_at)
	VALUES ('http://127.0.0.1:1/stale', 'Stale', 'fetched long ago', 200, now() - interval '8 days')" >/dev/null
models_before=$(sql news "SELECT count(*) FROM pglearn.models WHERE name = 'default'")
i=0
for cmd in "${commands[@]}"; do
	i=$((i + 1))
	out=$(cd / && as_cluster_user env -i HOME=/ LOGNAME="$PGUSER" SHELL=/bin/sh "${env_lines[@]}" \
		PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" /bin/sh -c "$cmd" 2>&1)
	status=$?
	# 0, or 1 when some pages failed (loopback is refused here); 127 would be
	# a command not on the file's PATH, 2 a database error
	report "$([ "$status" -le 1 ]; echo $?)" "cron(8) job $i runs as written (exit $status): $cmd" "$out"
done
got=$(sql news "SELECT count(*) FROM pglearn.examples WHERE url LIKE 'http://127.0.0.1:1/pending-%' AND fetch_error LIKE 'refused: 127.0.0.1 is a loopback address%'")
report "$([ "$got" = 2 ]; echo $?)" "job 1's crawl --pending visited the pending articles (and refused loopback)" "got: $got"
models_after=$(sql news "SELECT count(*) FROM pglearn.models WHERE name = 'default'")
report "$([ "$models_after" = $((models_before + 1)) ]; echo $?)" "job 1's psql CALL pglearn.refresh('default') fitted a model" "models: $models_before -> $models_after"
# --stale 7 re-fetches the 8-day-old article (refused: loopback), which
# records a failed attempt without wiping its good fetch
got=$(sql news "SELECT error_count || '|' || title FROM pglearn.examples WHERE url = 'http://127.0.0.1:1/stale'")
report "$([ "$got" = "1|Stale" ]; echo $?)" "job 2's crawl --stale 7 tried the article fetched 8 days ago" "error_count|title: $got"

finish
