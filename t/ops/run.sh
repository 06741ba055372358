#!/usr/bin/env bash
# t/ops/run.sh: README's "Operations" section, block by block, as written.
#
# Each block under a "<!-- ops: NAME" marker is read from README.md and run
# by /bin/sh as the cluster's OS user, with two kinds of substitution only:
# paths under /var/lib/postgresql/ go to a temporary directory, and the
# failover block's host list becomes this test's two servers (plus the
# options a crawl of the loopback fixture needs).  Servers are started by
# the test (pg_ctl), since README leaves that to the platform.
#  - dump: pg_dump / createdb / pg_restore; the restored database has every
#    article, label and model and scores alike;
#  - archive + base backup + restore: a label and a model written after the
#    base backup come back through the WAL archive, and the restored server
#    opens for writes;
#  - failover: a standby (pg_basebackup -R) refuses the crawler's writes
#    with exit 2 and `check` calls it a standby with its replay lag; a crawl
#    through the multi-host connection string survives the primary's
#    shutdown and the standby's promotion in the middle (the crawler is
#    paused with SIGSTOP across the switch, so the test does not race it),
#    ending with exit 0 and every article on the new primary;
#  - check: the monitoring line on the primary.
# Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
TOP=$(pwd)
. t/lib/cluster.sh
. t/lib/tap.sh			# report, is, like, unlike, finish
. t/lib/readme.sh		# readme_block MARKER

BIN=${PGLEARN_BIN:-$TOP/crawler/pglearn}
work=$(mktemp -d /tmp/pglearn-ops.XXXXXX)
chmod 755 "$work"
server_pid=
crawl_pid=
extra_dirs=()
cleanup() {
	[ -n "$crawl_pid" ] && kill -CONT "$crawl_pid" 2>/dev/null && kill "$crawl_pid" 2>/dev/null
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	for d in "${extra_dirs[@]}"; do
		as_cluster_user "$PG_BINDIR/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
	done
	cluster_stop
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

q() {							# q PORT DATABASE SQL
	psql -X -qAt -v ON_ERROR_STOP=1 -h "$CLUSTER_DIR" -p "$1" -d "$2" -c "$3" 2>&1
}
# the block under "<!-- ops: NAME", with README's paths moved to $work
block() {
	readme_block "<!-- ops: $1" | sed "s|/var/lib/postgresql/|$work/pg/|g"
}
# run a README block as the cluster's OS user, against the server on PORT
run_block() {					# run_block NAME PORT
	block "$1" >"$work/$1.sh" || return 1
	(cd "$work" && as_cluster_user env PGHOST="$CLUSTER_DIR" PGPORT="$2" PGUSER="$PGUSER" \
		PATH="$PG_BINDIR:$PATH" /bin/sh -e "$work/$1.sh") >"$work/$1.out" 2>&1
}
# start a server on a copied data directory at a new port
start_server() {				# start_server DATADIR PORT
	extra_dirs+=("$1")
	as_cluster_user "$PG_BINDIR/pg_ctl" -D "$1" -o "-p $2" -l "$1.log" -w start >/dev/null
}
# wait (at most 30 s) until SQL on PORT prints WANTED
await() {						# await PORT DATABASE SQL WANTED
	local i
	for i in $(seq 300); do
		[ "$(q "$1" "$2" "$3")" = "$4" ] && return 0
		sleep 0.1
	done
	return 1
}
scores() {						# scores PORT DATABASE: every article's live score
	q "$1" "$2" "SELECT md5(string_agg(url || '=' || coalesce(label::text, '') || '=' ||
		round(pglearn.classify('default', url, title, pglearn.article_text(description, body))::numeric, 12), ',' ORDER BY url))
		FROM pglearn.examples"
}

# the cluster's OS user works here: it may not be able to enter the
# checkout (a clone under /root, or .ci/run's private directory)
cd "$work"
cluster_start || { echo "0 passed, 1 failed"; exit 1; }
P1=$PGPORT
mkdir -p "$work/pg/backup" "$work/pg/wal-archive"
[ "$(id -u)" = 0 ] && chown -R "$CLUSTER_OS_USER" "$work/pg"
createdb news
out=$(q "$P1" news "CREATE EXTENSION pglearn;
	INSERT INTO pglearn.examples (url, title, body, label)
	SELECT 'https://db.example.net/' || i, 'PostgreSQL vacuum ' || i, 'planner index vacuum wal replication ' || i, 1
	  FROM generate_series(1, 8) i
	UNION ALL
	SELECT 'https://sport.example.org/' || i, 'Football ' || i, 'goal match league striker ' || i, -1
	  FROM generate_series(1, 8) i
	UNION ALL
	SELECT 'https://mixed.example.com/' || i, 'Notes ' || i, 'vacuum goal ' || i, NULL
	  FROM generate_series(1, 8) i;
	-- as if crawled, so crawl --pending below has only the failover pages
	UPDATE pglearn.examples SET http_status = 200, fetched_at = now();" 2>&1) &&
	out=$(q "$P1" news "CALL pglearn.refresh()" 2>&1)
report $? "database news: pglearn, 24 articles, a model" "$out"
scores_news=$(scores "$P1" news)
like "$scores_news" "^[0-9a-f]{32}$" "every article of news scored (an md5 of urls, labels and scores)"

# --- dump -------------------------------------------------------------------------
run_block dump "$P1"
report $? "README's pg_dump / createdb / pg_restore block runs" "$(cat "$work/dump.out")"
is "$(scores "$P1" news_restored)" "$scores_news" "the restored database has every article and label and scores alike"
is "$(q "$P1" news_restored "SELECT count(*) FROM pglearn.models")" "$(q "$P1" news "SELECT count(*) FROM pglearn.models")" \
	"... and every model"

# --- WAL archive, base backup, restore ---------------------------------------------
block archive >>"$CLUSTER_DIR/data/postgresql.conf"
as_cluster_user "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w restart >/dev/null
is "$(q "$P1" news "SHOW archive_mode")" on "README's archive lines: archive_mode is on after a restart"
run_block "base backup" "$P1"
report $? "README's pg_basebackup line runs" "$(cat "$work/base backup.out")"
# after the backup: a new label and a new model, which only the archive has
q "$P1" news "SELECT pglearn.label('https://mixed.example.com/1', 1)" >/dev/null
q "$P1" news "SELECT pglearn.fit('after_backup')" >/dev/null
after=$(q "$P1" news "SELECT label FROM pglearn.examples WHERE url = 'https://mixed.example.com/1'")
# the segment holding them, completed now (pg_walfile_name of a segment's
# end names that segment)
wal=$(q "$P1" news "SELECT pg_walfile_name(pg_switch_wal())")
await "$P1" news "SELECT last_archived_wal >= '$wal' FROM pg_stat_archiver" t
report $? "the segment with the changes after the backup ($wal) is archived" "$(q "$P1" news "SELECT * FROM pg_stat_archiver")"
run_block restore "$P1"
report $? "README's restore block runs" "$(cat "$work/restore.out")"
P2=$(free_port)
start_server "$work/pg/restored" "$P2"
report $? "a server starts on the restored data directory" "$(tail -n 20 "$work/pg/restored.log" 2>/dev/null)"
await "$P2" news "SELECT NOT pg_is_in_recovery()" t
report $? "it replays the archive to its end and opens for writes" "$(tail -n 20 "$work/pg/restored.log")"
is "$(q "$P2" news "SELECT label FROM pglearn.examples WHERE url = 'https://mixed.example.com/1'")|$(q "$P2" news "SELECT count(*) FROM pglearn.models WHERE name = 'after_backup'")" \
	"$after|1" "the label and the model written after the base backup are restored from the archive"
scores_news=$(scores "$P1" news)
like "$scores_news" "^[0-9a-f]{32}$" "news scored after the new label"
is "$(scores "$P2" news)" "$scores_news" "the restored server scores every article like the original"
as_cluster_user "$PG_BINDIR/pg_ctl" -D "$work/pg/restored" -m fast -w stop >/dev/null

# --- failover -----------------------------------------------------------------------
python3 "$TOP/crawler/t/fixture_server.py" "$work/ports" &
server_pid=$!
for _ in $(seq 50); do [ -s "$work/ports" ] && break; sleep 0.1; done
read -r HTTP_PORT _ <"$work/ports"
P3=$(free_port)
as_cluster_user "$PG_BINDIR/pg_basebackup" -h "$CLUSTER_DIR" -p "$P1" -D "$work/pg/standby" -R -X stream -c fast >"$work/standby.out" 2>&1
report $? "pg_basebackup -R makes a standby" "$(cat "$work/standby.out")"
start_server "$work/pg/standby" "$P3"
await "$P3" news "SELECT pg_is_in_recovery()" t
report $? "the standby runs, in recovery" "$(tail -n 20 "$work/pg/standby.log")"

"$BIN" crawl --allow-cidr 127.0.0.1/32 --delay 0 --dbname "host=$CLUSTER_DIR port=$P3 dbname=news" \
	"http://127.0.0.1:$HTTP_PORT/page/standby1" >"$work/ro.out" 2>&1
rc=$?
is "$rc" 2 "crawl against the standby exits 2"
like "$(tr '\n' ' ' <"$work/ro.out")" "the database is read-only" "... and says the database is read-only"
out=$("$BIN" check --dbname "host=$CLUSTER_DIR port=$P3 dbname=news")
rc=$?
like "$rc|$out" "^0\|PGLEARN OK - pglearn [0-9.]+, standby \(nothing replayed yet\), .*\| standby=1 replay_lag=U " \
	"check on a new standby: OK, says standby, nothing replayed yet (perfdata U)"
q "$P1" news "SELECT pglearn.label('https://mixed.example.com/2', -1)" >/dev/null
await "$P3" news "SELECT label FROM pglearn.examples WHERE url = 'https://mixed.example.com/2'" -1
out=$("$BIN" check --dbname "host=$CLUSTER_DIR port=$P3 dbname=news")
rc=$?
like "$rc|$out" "^0\|PGLEARN OK - pglearn [0-9.]+, standby, replay lag [0-9.]+ s, .*\| standby=1 replay_lag=[0-9.]+s " \
	"check on the standby after a replayed label: says standby, replay lag as perfdata"
echo "# $out"

# a crawl through the multi-host string: 40 slow pages, batches of 4; the
# script execs the crawler, so its pid is the crawler's
n_urls=40
for i in $(seq "$n_urls"); do
	q "$P1" news "INSERT INTO pglearn.examples (url) VALUES ('http://127.0.0.1:$HTTP_PORT/slow?s=0.1&failover=$i')" >/dev/null
done
await "$P3" news "SELECT count(*) FROM pglearn.examples WHERE url LIKE '%failover=%'" "$n_urls"
block failover >"$work/failover.sh"
grep -q "host=db1,db2 dbname=news target_session_attrs=read-write" "$work/failover.sh"
report $? "README's failover line names both servers and target_session_attrs=read-write" "$(cat "$work/failover.sh")"
sed -i "s|host=db1,db2|host=$CLUSTER_DIR,$CLUSTER_DIR port=$P1,$P3|; s|^pglearn crawl |exec $BIN crawl --allow-cidr 127.0.0.1/32 --delay 0 --jobs 2 --per-host 2 --batch 4 --timeout 30 |" \
	"$work/failover.sh"
/bin/sh "$work/failover.sh" >"$work/failover.out" 2>&1 &
crawl_pid=$!
await "$P1" news "SELECT count(*) >= 8 FROM pglearn.examples WHERE url LIKE '%failover=%' AND fetched_at IS NOT NULL" t
report $? "the crawl is writing to the primary" "$(cat "$work/failover.out")"
# the switch, with the crawler paused so it cannot race it
kill -STOP "$crawl_pid"
before=$(q "$P1" news "SELECT count(*) FROM pglearn.examples WHERE url LIKE '%failover=%' AND fetched_at IS NOT NULL")
as_cluster_user "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -m fast -w stop >/dev/null
as_cluster_user "$PG_BINDIR/pg_ctl" -D "$work/pg/standby" -w promote >/dev/null
await "$P3" news "SELECT pg_is_in_recovery()" f
report $? "primary stopped mid-crawl ($before of $n_urls fetched), standby promoted" ""
kill -CONT "$crawl_pid"
wait "$crawl_pid"
rc=$?
crawl_pid=
is "$rc" 0 "the crawl through the multi-host string ends with exit 0"
like "$(tr '\n' ' ' <"$work/failover.out")" "lost the database connection.*reconnected, writing the batch again" "... after reconnecting to the new primary"
is "$(q "$P3" news "SELECT count(*) FILTER (WHERE fetched_at IS NOT NULL AND title = 'Slow page') || '/' || count(*)
	FROM pglearn.examples WHERE url LIKE '%failover=%'")" "$n_urls/$n_urls" "every article of the crawl is on the new primary"
out=$("$BIN" check --dbname "host=$CLUSTER_DIR port=$P3 dbname=news")
like "$out" "standby=0" "check on the promoted server: no longer a standby"

# --- check ---------------------------------------------------------------------------
block check >"$work/check.sh"
sed -i "s|^pglearn check |$BIN check |; s|--dbname 'dbname=news'|--dbname 'host=$CLUSTER_DIR port=$P3 dbname=news'|" "$work/check.sh"
out=$(/bin/sh "$work/check.sh")
rc=$?
like "$rc|$out" "^0\|PGLEARN OK - pglearn [0-9.]+, [0-9]+ examples, newest fetch " "README's check line: OK on the primary"
echo "# $out"

finish
