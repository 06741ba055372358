#!/usr/bin/env bash
# t/roles/run.sh: README's roles recipe, as written, and what each role can
# and cannot do.
#
# Runs the SQL block under "<!-- roles recipe" in README.md and the example
# login roles after it, exactly as they stand there, then works as those
# roles: the crawler role runs `pglearn add` and `pglearn crawl`, a labeller
# runs `pglearn annotate` (which refits and rescores), a reader reads every
# view, the admin refreshes and publishes to a throwaway Redis, and a
# pg_monitor role runs `pglearn check`.  Each role is also shown refused what
# it is not given.  Starts its own cluster, redis-server (unix socket) and an
# HTTP server on 127.0.0.1 for the crawl.  Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
TOP=$(pwd)
. t/lib/cluster.sh
. t/lib/tap.sh			# report, is, like, unlike, finish

BIN=${PGLEARN_BIN:-$TOP/crawler/pglearn}
work=$(mktemp -d /tmp/pglearn-roles.XXXXXX)
chmod 755 "$work"
http_pid=
cleanup() {
	[ -n "$http_pid" ] && kill "$http_pid" 2>/dev/null
	redis_stop
	cluster_stop
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


as() {							# as ROLE SQL: psql as ROLE, tuples only
	psql -X -q -At -v ON_ERROR_STOP=1 -U "$1" -d roles -c "$2" 2>&1
}
# refused ROLE SQL DESCRIPTION: SQL fails with "permission denied"
refused() {
	local out
	out=$(as "$1" "$2")
	like "$out" "permission denied" "$1 may not: $3"
}

cluster_start || { echo "0 passed, 1 failed"; exit 1; }
createdb roles || { echo "0 passed, 1 failed"; exit 1; }
psql -X -q -d roles -c "CREATE EXTENSION pglearn" || { echo "0 passed, 1 failed"; exit 1; }

# --- the recipe, as README.md has it ---------------------------------------------

readme_block() {				# readme_block MARKER: the first ```sql block after MARKER
	python3 - "$1" <<'PY'
import sys
text = open("README.md").read()
start = text.index(sys.argv[1])
begin = text.index("```sql\n", start) + len("```sql\n")
print(text[begin:text.index("```", begin)], end="")
PY
}
readme_block "<!-- roles recipe" >"$work/recipe.sql"
readme_block "Then, for example:" >"$work/logins.sql"
out=$(psql -X -q -v ON_ERROR_STOP=1 -d roles -f "$work/recipe.sql" 2>&1)
report $? "README's roles recipe runs as written" "$out"
out=$(psql -X -q -v ON_ERROR_STOP=1 -d roles -f "$work/logins.sql" 2>&1)
report $? "README's example login roles run as written" "$out"
for r in crawler alice dashboard ops nagios; do
	is "$(as "$r" 'SELECT current_user')" "$r" "$r can log in"
done

# Redis on a unix socket, for the admin's publish and check
socket=$work/redis/redis.sock
redis_start "$work/redis" 777 ||
	{ cat "$work/redis/redis.log"; echo "redis-server did not start"; echo "0 passed, 1 failed"; exit 1; }
# README's set-up: LOAD defines pglearn's settings in this session first,
# and pglearn is loaded at session start so its settings are never plain
# placeholders that any role could read
out=$(psql -X -q -v ON_ERROR_STOP=1 -d roles -c "LOAD 'pglearn'" \
	-c "ALTER SYSTEM SET pglearn.redis_url = 'unix://$socket'" \
	-c "ALTER SYSTEM SET session_preload_libraries = 'pglearn'" -c "SELECT pg_reload_conf()" 2>&1)
report $? "README's Redis set-up (LOAD, then ALTER SYSTEM) works in a new session" "$out"

# pages for the crawl, on 127.0.0.1
mkdir -p "$work/site"
for i in 1 2 3; do
	printf '<html><head><title>Crawled page %s</title></head><body><p>vacuum planner index %s</p></body></html>\n' \
		"$i" "$i" >"$work/site/p$i.html"
done
printf 'User-agent: *\nAllow: /\n' >"$work/site/robots.txt"
port=$(free_port)
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/site" >"$work/http.log" 2>&1 &
http_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/robots.txt" >/dev/null && break; sleep 0.1; done
site=http://127.0.0.1:$port

# --- the crawler role: pglearn add, pglearn crawl ---------------------------------

{
	for i in $(seq 1 6); do printf 'https://db.example/%s\t1\n' "$i"; done
	for i in $(seq 1 6); do printf 'https://sport.example/%s\t-1\n' "$i"; done
	for i in $(seq 7 9); do printf 'https://db.example/%s\n' "$i"; done
} >"$work/add.tsv"
out=$(PGUSER=crawler "$BIN" add --no-fetch -d roles "$work/add.tsv" 2>&1)
report $? "crawler: pglearn add --no-fetch stores labelled and new URLs" "$out"
is "$(as "$PGUSER" "SELECT count(*) FILTER (WHERE label = 1) || '/' || count(*) FILTER (WHERE label = -1) || '/' || count(*) FROM pglearn.examples")" \
	"6/6/15" "... 6 positive, 6 negative, 15 rows"
as "$PGUSER" "UPDATE pglearn.examples SET title = CASE WHEN url LIKE '%db.%' THEN 'postgres vacuum index ' ELSE 'football goal match ' END || id,
	body = CASE WHEN url LIKE '%db.%' THEN 'planner btree wal' ELSE 'league striker referee' END" >/dev/null
out=$(PGUSER=crawler "$BIN" crawl -q -d roles --allow-private --delay 0 "$site/p1.html" "$site/p2.html" "$site/p3.html" 2>&1)
report $? "crawler: pglearn crawl (127.0.0.1 allowed) stores the pages" "$out"
is "$(as "$PGUSER" "SELECT count(*) FROM pglearn.examples WHERE url LIKE '$site/%' AND title LIKE 'Crawled page %' AND fetch_error IS NULL")" 3 \
	"... all three, fetched"
refused crawler "DELETE FROM pglearn.examples" "delete examples"
refused crawler "UPDATE pglearn.lists SET enabled = false" "edit lists"
refused crawler "SELECT pglearn.publish('general')" "publish"
refused crawler "CALL pglearn.refresh()" "call refresh"
refused crawler "DELETE FROM pglearn.models" "delete models"

# --- a labeller: pglearn annotate, which fits and rescores ------------------------

out=$(as alice "SELECT (pglearn.fit('default'))->>'n'")
is "$out" 12 "alice: fit() on the 12 labelled rows"
out=$(printf 'pe' | PGUSER=alice "$BIN" annotate -d roles --refit-every 1 2>&1)
report $? "alice: pglearn annotate labels one article (p) and exits (e), refitting and rescoring" "$out"
is "$(as "$PGUSER" "SELECT count(*) FROM pglearn.examples WHERE label = 1")" 7 "... the label is stored"
is "$(as "$PGUSER" "SELECT count(*) FROM pglearn.models")" 2 "... and annotate refitted after the label (models: 1 -> 2)"
is "$(as "$PGUSER" "SELECT count(*) FROM pglearn.examples WHERE score IS NULL AND (title <> '' OR body <> '')")" 0 \
	"... and every row with text is scored"
refused alice "SELECT pglearn.publish('general')" "publish"
refused alice "DELETE FROM pglearn.examples" "delete examples"

# --- a reader: every view and the reading functions --------------------------------

for view in to_label recommendations label_stats model_summary label_conflicts crawl_status; do
	out=$(as dashboard "SELECT count(*) FROM pglearn.$view")
	like "$out" "^[0-9]+$" "dashboard reads pglearn.$view"
done
like "$(as dashboard "SELECT count(*) FROM pglearn.uncertain('default', 5)")" "^[0-9]+$" "dashboard calls uncertain()"
like "$(as dashboard "SELECT count(*) FROM pglearn.similar('https://db.example/1', 3)")" "^[0-9]+$" "dashboard calls similar()"
like "$(as dashboard "SELECT round(pglearn.classify('default', 'https://x/', 'vacuum', 'index')::numeric, 1)")" "^0\.[0-9]$|^1\.0$" \
	"dashboard calls classify()"
refused dashboard "SELECT pglearn.label('https://db.example/9', 1)" "label"
refused dashboard "INSERT INTO pglearn.examples (url) VALUES ('https://new.example/')" "insert examples"
refused dashboard "SELECT pglearn.fit('mine')" "fit"
refused dashboard "SELECT * FROM pglearn.published('general')" "read Redis through published()"
refused dashboard "SELECT * FROM pglearn.publish_status" "read Redis through publish_status"
is "$(as dashboard "SELECT current_setting('pglearn.redis_url')" | grep -c "redis.sock")" 0 "dashboard cannot read pglearn.redis_url"

# --- the admin: refresh, publish ----------------------------------------------------

out=$(as ops "CALL pglearn.refresh()")
like "$out" "refresh: model \"default\" fitted" "ops: CALL pglearn.refresh()"
as ops "UPDATE pglearn.examples SET created_at = now()" >/dev/null
is "$(as ops "SELECT pglearn.publish('general', 5) > 0")" t "ops: publish('general', 5)"
like "$(as ops "SELECT count(*) FROM pglearn.published('general')")" "^[1-5]$" "ops: published() reads the list back from Redis"
is "$(as ops "SELECT stale FROM pglearn.publish_status WHERE list = 'general'")" f "ops: publish_status says Redis is current"
refused ops "ALTER SYSTEM SET pglearn.max_train_memory = '1TB'" "lift a limit (ALTER SYSTEM)"
refused ops "SET pglearn.max_train_memory = '1TB'" "lift the training memory bound (SET)"
refused ops "SET pglearn.redis_command_timeout = 3600000" "lift a Redis time-out (SET)"

# --- monitoring: pglearn check as a pg_monitor role ---------------------------------

out=$(PGUSER=nagios "$BIN" check -d roles --age-warning 1000 --age-critical 2000 2>&1)
rc=$?
like "$rc|$out" "^0\|PGLEARN OK" "nagios (pg_monitor + reader): pglearn check is OK"
like "$out" "redis ok|Redis ok|redis.*ok" "... and reports Redis answering"
is "$(printf '%s' "$out" | grep -c "unix://")" 0 "... without showing the URL"

finish
