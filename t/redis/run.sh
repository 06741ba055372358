#!/usr/bin/env bash
# t/redis/run.sh: pglearn.publish() against real Redis servers.
#
# Starts its own redis-server on 127.0.0.1 at free ports (one open, also
# listening on a unix socket; one with requirepass), creates its own
# database on the cluster the PG* variables name (a superuser; without
# PGHOST it starts a throwaway cluster from t/lib/cluster.sh), runs the
# checks, and stops and drops everything on exit, failure included.
# The PREPARE TRANSACTION check needs max_prepared_transactions > 0: when
# the cluster has 0, it starts a second throwaway cluster configured so.
# Also: the limits a plain role cannot lift (the Redis timeouts) and that
# pg_terminate_backend / pg_cancel_backend end a commit-time push stalled
# on a stopped Redis; SPI under a hostile search_path; redis_status() over
# TCP, a unix socket, a password in the URL, pglearn.redis_password_file
# and an ACL user; and `pglearn check` as a pg_monitor role.
# Prints "ok N - ..." / "not ok N - ..." and ends with "N passed, N failed";
# exits non-zero if anything failed.
set -uo pipefail

cd "$(dirname "$0")/../.."
. t/lib/cluster.sh
. t/lib/tap.sh			# report, is, like, unlike

DB=pglearn_redis_$$
ROLE=pglearn_redis_reader_$$
PLAIN=pglearn_redis_plain_$$
MONITOR=pglearn_redis_monitor_$$
PASSWORD='s3cr3t-Pw'
RDIR=$(mktemp -d /tmp/pglearn-redis.XXXXXX)
chmod 755 "$RDIR"
OWN_CLUSTER=no

cleanup() {
	local f
	for f in "$RDIR"/*.pid; do
		[ -f "$f" ] || continue
		kill -CONT "$(cat "$f")" 2>/dev/null
		kill "$(cat "$f")" 2>/dev/null
	done
	sleep 0.2
	dropdb --if-exists "$DB" >/dev/null 2>&1
	psql -X -q -d postgres -c "DROP ROLE IF EXISTS $ROLE" -c "DROP ROLE IF EXISTS $PLAIN" \
		-c "DROP ROLE IF EXISTS $MONITOR" >/dev/null 2>&1
	[ "$OWN_CLUSTER" = yes ] && cluster_stop
	rm -rf "$RDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${PGHOST:-}" ]; then
	cluster_start || { echo "0 passed, 1 failed"; exit 1; }
	OWN_CLUSTER=yes
fi

# ---------------------------------------------------------------- helpers

sql() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$DB" "$@" 2>&1; }
rc() { redis-cli -h 127.0.0.1 -p "$RPORT" --raw "$@" 2>&1; }
rcb() { redis-cli -h 127.0.0.1 -p "$BPORT" --raw -a "$PASSWORD" --no-auth-warning "$@" 2>&1; }
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }

start_redis() {					# start_redis NAME PORT [redis-server options]
	local name=$1 port=$2
	shift 2
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
		--dir "$RDIR" --pidfile "$RDIR/$name.pid" --logfile "$RDIR/$name.log" "$@" || return 1
	for _ in $(seq 100); do
		redis-cli -h 127.0.0.1 -p "$port" ping 2>&1 | grep -qE 'PONG|NOAUTH' && return 0
		sleep 0.05
	done
	return 1
}
stop_redis() {					# stop_redis NAME
	local pid
	pid=$(cat "$RDIR/$1.pid" 2>/dev/null) || return 0
	kill -CONT "$pid" 2>/dev/null
	kill "$pid" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	rm -f "$RDIR/$1.pid"
}

# Does the Redis list equal recommend(list, k)?  Same URLs in the same
# order, scores equal as float8.  Prints "t" or a diff.
compare_list() {				# compare_list LIST K [KEYPREFIX]
	rc ZREVRANGE "${3:-pglearn:}list:$1" 0 -1 WITHSCORES >"$RDIR/zrange.out"
	sql -v list="$1" -v k="$2" <<SQL
CREATE TEMP TABLE x (n serial, l text);
\\copy x (l) FROM '$RDIR/zrange.out'
WITH red AS (SELECT (a.n + 1) / 2 AS rank, a.l AS url, b.l::float8 AS score
			   FROM x a JOIN x b ON b.n = a.n + 1 WHERE a.n % 2 = 1 AND a.l <> ''),
	 rec AS (SELECT rank, url, score FROM pglearn.recommend(:'list', :k))
SELECT CASE WHEN count(*) = count(*) FILTER (WHERE red.url = rec.url AND red.score = rec.score)
			THEN 't' ELSE string_agg(format('%s: redis %s %s, sql %s %s', rank, red.url, red.score, rec.url, rec.score), E'\\n') END
  FROM rec FULL JOIN red USING (rank);
SQL
}

# ---------------------------------------------------------------- setup

RPORT=$(free_port)
BPORT=$(free_port)
SOCKET=$RDIR/redis.sock
start_redis open "$RPORT" --unixsocket "$SOCKET" --unixsocketperm 777 || { echo "could not start redis-server"; echo "0 passed, 1 failed"; exit 1; }
start_redis auth "$BPORT" --requirepass "$PASSWORD" || { echo "could not start redis-server"; echo "0 passed, 1 failed"; exit 1; }
echo "# redis on 127.0.0.1:$RPORT (and $SOCKET), password-protected on 127.0.0.1:$BPORT"

createdb "$DB" || { echo "0 passed, 1 failed"; exit 1; }
setup=$(sql <<SQL
CREATE EXTENSION pglearn;
CREATE ROLE $ROLE NOLOGIN;
SQL
)
[ -n "$setup" ] && echo "$setup" | sed 's/^/# setup: /'

sql <<'SQL' >/dev/null
INSERT INTO pglearn.examples (url, title, description, body, og_image, score, http_status, fetched_at)
SELECT 'https://news.example/' || g, 'Article ' || g, 'About ' || g, 'body ' || g,
	   'https://img.example/' || g || '.png', 0.8 + g / 1000.0, 200, now()
  FROM generate_series(1, 50) g;
INSERT INTO pglearn.examples (url, title, body, score, http_status, fetched_at, label)
SELECT v.url || g, v.title || g, 'body', 0.6 + g / 100.0 + v.o / 1000.0, 200, now(), CASE WHEN g = 1 THEN 1 END
  FROM generate_series(1, 5) g,
	   (VALUES ('https://github.com/org/repo', 'repo ', 1), ('https://speakerdeck.com/u/talk', 'talk ', 2),
			   ('https://arxiv.org/abs/2401.0000', 'paper ', 3), ('https://www.youtube.com/watch?v=', 'video ', 4)) v(url, title, o);
SQL

# ---------------------------------------------------------------- configuration

out=$(sql -c "SELECT pglearn.publish('general')")
like "$out" 'ERROR: +pglearn.redis_url is not set' "unset redis_url: publish() is an error"
like "$out" 'HINT: .*pglearn.redis_url' "unset redis_url: the error has a hint"
out=$(sql -c "SELECT * FROM pglearn.published('general')")
like "$out" 'ERROR: +pglearn.redis_url is not set' "unset redis_url: published() is an error"

# As the README says to: pglearn is loaded at session start, so that
# pglearn.redis_url is never an unprotected placeholder.
sql -c "ALTER DATABASE $DB SET session_preload_libraries = 'pglearn'" >/dev/null
out=$(sql -c "ALTER DATABASE $DB SET pglearn.redis_url = 'redis://:$PASSWORD@127.0.0.1:$BPORT/0'")
like "$out" 'ERROR: .*with a password cannot be stored per database' "ALTER DATABASE SET of a URL with a password is refused"
unlike "$out" "$PASSWORD" "the refusal does not quote the password"
sql -c "ALTER DATABASE $DB SET pglearn.redis_url = 'redis://127.0.0.1:$RPORT/0'" >/dev/null

out=$(sql -c "SET pglearn.redis_url = 'redis://:hunter2-pw@127.0.0.1:notaport/0'")
like "$out" 'invalid value for parameter "pglearn.redis_url"' "a malformed URL is rejected when set"
unlike "$out" 'hunter2' "the rejection does not quote the URL (no password)"
out=$(sql -c "SET pglearn.redis_url = 'redis://:hunter2%00pw@127.0.0.1:6379/0'")
like "$out" 'malformed %-escape \(or %00\)' "a password with %00 is rejected, not cut short at the NUL"

out=$(sql -c "SET ROLE $ROLE" -c "SHOW pglearn.redis_url")
like "$out" 'ERROR: +must be superuser' "SHOW pglearn.redis_url as a non-superuser fails"
out=$(sql -c "SET ROLE $ROLE" -c "SELECT count(*) FROM pg_settings WHERE name = 'pglearn.redis_url'")
is "$out" "0" "pg_settings hides pglearn.redis_url from a non-superuser"
out=$(sql -c "SET ROLE $ROLE" -c "SET pglearn.redis_url = 'redis://127.0.0.1:1/0'")
like "$out" 'ERROR: +permission denied' "a non-superuser cannot set pglearn.redis_url"

# ---------------------------------------------------------------- commit, rollback, savepoints

out=$(sql -c "SELECT pglearn.publish('general', 10)")
is "$out" "10" "publish('general', 10) queues 10 members"
is "$(compare_list general 10)" "t" "commit: the sorted set equals recommend('general', 10), scores included"
ids=$(sql -c "SELECT string_agg(id::text, ' ') FROM pglearn.recommend('general', 10)")
missing=0
for id in $ids; do [ "$(rc EXISTS "pglearn:example:$id")" = 1 ] || missing=$((missing + 1)); done
is "$missing" "0" "commit: every member has its example hash"
id=$(sql -c "SELECT id FROM pglearn.examples WHERE url = 'https://news.example/50'")
is "$(rc HMGET "pglearn:example:$id" url title description og_image label | tr '\n' '|')" \
	"https://news.example/50|Article 50|About 50|https://img.example/50.png||" "commit: the hash holds the article's fields (NULL label as '')"
is "$(rc HGET pglearn:list:general:ids https://news.example/50)" "$id" "commit: list:general:ids maps a member URL to its id"
ttl=$(rc TTL "pglearn:example:$id")
like "$ttl" '^(60[0-9]{4})$' "example hashes expire after pglearn.redis_ttl (7 days)"
is "$(rc TTL pglearn:list:general)" "-1" "the list itself does not expire"
is "$(rc KEYS 'pglearn:list:general:*tmp*')" "" "no temporary keys are left"
is "$(sql -c "SELECT stale FROM pglearn.publish_status WHERE list = 'general'")" "f" "publish_status: general is not stale"

sql -c "BEGIN" -c "SELECT pglearn.publish('github')" -c "ROLLBACK" >/dev/null
is "$(rc EXISTS pglearn:list:github)" "0" "rollback: the list is not written"
is "$(sql -c "SELECT count(*) FROM pglearn.publications WHERE list = 'github'")" "0" "rollback: no publication recorded"

sql -c "BEGIN" -c "SAVEPOINT s" -c "SELECT pglearn.publish('slide')" -c "ROLLBACK TO SAVEPOINT s" -c "COMMIT" >/dev/null
is "$(rc EXISTS pglearn:list:slide)" "0" "ROLLBACK TO SAVEPOINT drops the publication queued after the savepoint"

sql -c "BEGIN" -c "SELECT pglearn.publish('arxiv', 5)" -c "SAVEPOINT s" -c "SELECT pglearn.publish('arxiv', 2)" \
	-c "SAVEPOINT t" -c "RELEASE SAVEPOINT t" -c "ROLLBACK TO SAVEPOINT s" -c "COMMIT" >/dev/null
is "$(rc ZCARD pglearn:list:arxiv)" "5" "ROLLBACK TO SAVEPOINT keeps the publication queued before it"

sql -c "BEGIN" -c "SAVEPOINT s" -c "SELECT pglearn.publish('video', 4)" -c "RELEASE SAVEPOINT s" \
	-c "SELECT pglearn.publish('video', 2)" -c "COMMIT" >/dev/null
is "$(rc ZCARD pglearn:list:video)" "2" "RELEASE keeps a publication; the last publish() of a list in a transaction wins"

out=$(sql -c "SELECT pglearn.publish('event')")
is "$out" "0" "a list with no recommendations publishes 0 members"
# the members are rows of pglearn.publication_member, read by field name:
# a field renamed on the SQL side stops the publication, loudly
out=$(sql -c "BEGIN" -c "ALTER TYPE pglearn.publication_member RENAME ATTRIBUTE url TO link" \
	-c "SELECT pglearn.publish('general', 3)" -c "ROLLBACK")
like "$out" 'column x\.url does not exist' "a member field renamed in SQL is an error at publish(), not an empty value in Redis"
is "$(sql -c "SELECT attname FROM pg_attribute WHERE attrelid = 'pglearn.publication_member'::regclass AND attnum = 2")" "url" "... and the rename was rolled back"
is "$(rc EXISTS pglearn:list:event):$(rc EXISTS pglearn:version:event)" "0:1" "an empty list is absent from Redis, its version recorded"

out=$(sql -c "SELECT pglearn.publish('nosuchlist')")
like "$out" 'recommendation list "nosuchlist" does not exist' "an unknown list is recommend()'s error"

# ---------------------------------------------------------------- versions: an older publication never wins

before=$(rc ZCARD pglearn:list:general)
rc SET pglearn:version:general 9999999999999999 >/dev/null
sql -c "SELECT pglearn.publish('general', 3)" >/dev/null
is "$(rc ZCARD pglearn:list:general)" "$before" "Redis holding a newer version: the older publication is dropped, the list kept"
is "$(rc KEYS 'pglearn:list:general:*tmp*')" "" "the dropped publication's temporary keys are deleted"
rc DEL pglearn:version:general >/dev/null
is "$(sql -c "SELECT stale FROM pglearn.publish_status WHERE list = 'general'")" "t" "publish_status: general is stale once Redis lost its version"
is "$(sql -c "SELECT pglearn.publish_pending()")" "1" "publish_pending() catches up the one stale list"
is "$(rc ZCARD pglearn:list:general)" "3" "publish_pending() wrote the recorded publication"

# ---------------------------------------------------------------- two sessions publishing one list

# specs/publish_race.spec: every interleaving of two publishers (and
# publish_pending()) leaves Redis with the last committed list; run here
# because the isolation schedule of `make installcheck` has no Redis.
mkdir -p "$RDIR/isolation"
if "$(pg_config --pkglibdir)/pgxs/src/test/isolation/pg_isolation_regress" --use-existing \
	--dbname="$DB" --inputdir=. --outputdir="$RDIR/isolation" publish_race >"$RDIR/isolation/run.log" 2>&1; then
	report 0 "isolation: publish racing publish ends with the last committed list (specs/publish_race.spec)"
else
	report 1 "isolation: publish racing publish ends with the last committed list (specs/publish_race.spec)" \
		"$(cat "$RDIR/isolation/regression.diffs" 2>/dev/null || cat "$RDIR/isolation/run.log")"
fi
sql -c "SELECT pglearn.publish('general', 3)" >/dev/null
is "$(rc ZCARD pglearn:list:general)" "3" "after the race, publish() still writes general (k = 3)"
is "$(rc GET pglearn:version:general)" "$(sql -c "SELECT version FROM pglearn.publications WHERE list = 'general'")" \
	"Redis holds the version the database recorded last"

# published(): the list read back as the front end sees it
out=$(sql -c "SELECT string_agg(format('%s %s %s', p.rank, p.url, p.score), ',' ORDER BY p.rank) FROM pglearn.published('general') p")
values=$(rc ZREVRANGE pglearn:list:general 0 -1 WITHSCORES | paste -d' ' - - |
	awk '{printf "%s(%d, $$%s$$, %s::float8)", (NR > 1 ? "," : ""), NR, $1, $2}')
is "$out" "$(sql -c "SELECT string_agg(format('%s %s %s', n, u, s), ',' ORDER BY n) FROM (VALUES $values) v(n, u, s)")" \
	"published('general'): ranks, URLs and scores as ZREVRANGE has them"
is "$(sql -c "SELECT count(*) FILTER (WHERE e.id = p.example_id) || '/' || count(*) FROM pglearn.published('general') p JOIN pglearn.examples e USING (url)")" \
	"3/3" "published('general'): each member's example id"
is "$(sql -c "SELECT DISTINCT p.version = x.version FROM pglearn.published('general') p, pglearn.publications x WHERE x.list = 'general'")" \
	"t" "published('general'): the version Redis holds"
is "$(sql -c "SELECT count(*) FROM pglearn.published('no-such-list')")" "0" "published() of a list Redis does not hold: no rows"

# ---------------------------------------------------------------- outages

stop_redis open
out=$(sql -c "SELECT pglearn.publish('general', 5)" 2>&1)
status=$?
is "$status" "0" "Redis down: publish and commit succeed"
like "$out" "WARNING: +could not publish list \"general\" to Redis at 127.0.0.1:$RPORT" "Redis down: a WARNING names host:port"
is "$(sql -c "SELECT cardinality(members) FROM pglearn.publications WHERE list = 'general'")" "5" "Redis down: the publication is committed in the database"
out=$(sql -c "SELECT stale, error IS NOT NULL FROM pglearn.publish_status WHERE list = 'general'")
is "$out" "t|t" "Redis down: publish_status shows general stale, with the error"
out=$(sql -c "SELECT pglearn.publish_pending()")
like "$out" 'WARNING: .*could not publish' "Redis down: publish_pending() warns"
out=$(sql -v VERBOSITY=verbose -c "SELECT * FROM pglearn.published('general')")
like "$out" "ERROR: +08006: could not read list \"general\" from Redis at 127.0.0.1:$RPORT" \
	"Redis down: published() is an error (08006) naming host:port"
start_redis open "$RPORT" --unixsocket "$SOCKET" --unixsocketperm 777
out=$(sql -c "SELECT pglearn.publish_pending()")
is "$out" "4" "Redis back (empty): publish_pending() republishes all 4 published lists"
is "$(compare_list general 5)" "t" "after catch-up general equals recommend('general', 5)"
is "$(sql -c "SELECT count(*) FILTER (WHERE stale) || '/' || count(*) FROM pglearn.publish_status")" \
	"0/$(sql -c "SELECT count(*) FROM pglearn.publications")" "publish_status: nothing stale after catch-up"
is "$(sql -c "SELECT count(*) FROM pglearn.publications WHERE published_version = version AND last_error IS NULL") " \
	"$(sql -c "SELECT count(*) FROM pglearn.publications") " "publish_pending() recorded published_version and cleared last_error"

pid=$(cat "$RDIR/open.pid")
kill -STOP "$pid"
t0=$(now)
out=$(sql -c "SET pglearn.redis_connect_timeout = 500" -c "SET pglearn.redis_command_timeout = 500" \
	-c "SELECT pglearn.publish('general', 4)" 2>&1)
status=$?
t1=$(now)
secs=$(elapsed "$t0" "$t1")
is "$status" "0" "paused Redis: publish and commit succeed"
like "$out" 'WARNING: .*timed out after 500 ms' "paused Redis: a WARNING says the command timed out"
like "$secs" '^(0|1|2)\.' "paused Redis: the backend returns within the timeouts (${secs}s for 500 ms + 500 ms)"
is "$(sql -c "SELECT cardinality(members) FROM pglearn.publications WHERE list = 'general'")" "4" "paused Redis: the publication is committed"
t0=$(now)
out=$(sql -c "SET pglearn.redis_command_timeout = 3000" -c "SET statement_timeout = '200ms'" -c "SELECT * FROM pglearn.publish_status")
secs=$(elapsed "$t0" "$(now)")
like "$out" 'canceling statement due to statement timeout' "paused Redis: statement_timeout cancels publish_status"
like "$secs" '^0\.' "paused Redis: the cancel is served while waiting (${secs}s with a 200 ms statement_timeout, 3 s command timeout)"
t0=$(now)
out=$(sql -c "SET pglearn.redis_command_timeout = 3000" -c "SET statement_timeout = '200ms'" -c "SELECT * FROM pglearn.published('general')")
secs=$(elapsed "$t0" "$(now)")
like "$out" 'canceling statement due to statement timeout' "paused Redis: statement_timeout cancels published()"
like "$secs" '^0\.' "paused Redis: published() is cancelled while waiting (${secs}s)"
out=$(sql -c "SET pglearn.redis_command_timeout = 300" -c "SELECT * FROM pglearn.published('general')")
like "$out" 'DETAIL: +EVAL timed out after 300 ms' "paused Redis: published() gives up after pglearn.redis_command_timeout"
kill -CONT "$pid"
is "$(sql -c "SELECT pglearn.publish_pending()")" "1" "resumed Redis: publish_pending() catches up"
is "$(rc ZCARD pglearn:list:general)" "4" "resumed Redis: general has the committed 4 members"

# Redis answering errors: an article key of the wrong type
id=$(sql -c "SELECT id FROM pglearn.recommend('general', 1)")
rc DEL "pglearn:example:$id" >/dev/null
rc SET "pglearn:example:$id" "not a hash" >/dev/null
before=$(rc GET pglearn:version:general)
out=$(sql -c "SELECT pglearn.publish('general', 6)" 2>&1)
status=$?
is "$status" "0" "Redis answering an error: publish and commit succeed"
like "$out" 'WARNING: .*HSET failed: WRONGTYPE' "Redis answering an error: the WARNING quotes Redis's error"
is "$(rc GET pglearn:version:general):$(rc ZCARD pglearn:list:general)" "$before:4" "Redis answering an error: the old list stays whole"
out=$(sql -c "SELECT pglearn.publish_pending()" -c "SELECT stale, error FROM pglearn.publish_status WHERE list = 'general'")
like "$out" 't\|.*WRONGTYPE' "Redis answering an error: publish_status shows it stale with the error publish_pending() met"
rc DEL "pglearn:example:$id" >/dev/null
is "$(sql -c "SELECT pglearn.publish_pending()")" "1" "error cleared: publish_pending() catches up"
is "$(rc ZCARD pglearn:list:general)" "6" "error cleared: general has the committed 6 members"

# ---------------------------------------------------------------- settings, socket, password

sql -c "SET pglearn.redis_prefix = 'other:'" -c "SET pglearn.redis_ttl = 0" -c "SELECT pglearn.publish('github', 3)" >/dev/null
is "$(rc ZCARD other:list:github)" "3" "pglearn.redis_prefix names the keys"
is "$(sql -c "SET pglearn.redis_prefix = 'other:'" -c "SELECT count(*) FROM pglearn.published('github')")" "3" \
	"published() reads under pglearn.redis_prefix"
id=$(sql -c "SELECT id FROM pglearn.recommend('github', 1)")
is "$(rc TTL "other:example:$id")" "-1" "pglearn.redis_ttl = 0: example hashes do not expire"

sql -c "SET pglearn.redis_url = 'unix://$SOCKET?db=2'" -c "SELECT pglearn.publish('slide', 2)" >/dev/null
is "$(rc -n 2 ZCARD pglearn:list:slide)" "2" "unix socket URL with ?db=2 writes to database 2"

sql -c "SET pglearn.redis_url = 'redis://:$PASSWORD@127.0.0.1:$BPORT/1'" -c "SELECT pglearn.publish('general', 6)" >/dev/null
is "$(rcb -n 1 ZCARD pglearn:list:general)" "6" "password-protected Redis: publish with the right password"
sql -c "SET pglearn.redis_url = 'redis://default:$PASSWORD@127.0.0.1:$BPORT/1'" -c "SELECT pglearn.publish('general', 2)" >/dev/null
is "$(rcb -n 1 ZCARD pglearn:list:general)" "2" "password-protected Redis: user:password (ACL) form"
is "$(sql -c "SET pglearn.redis_url = 'redis://:$PASSWORD@127.0.0.1:$BPORT/1'" -c "SELECT count(*) FROM pglearn.published('general')")" "2" \
	"password-protected Redis: published() authenticates"
out=$(sql -c "SET pglearn.redis_url = 'redis://:wrong-Pw-123@127.0.0.1:$BPORT/1'" -c "SELECT pglearn.publish('general', 3)" 2>&1)
status=$?
is "$status" "0" "wrong password: the transaction still commits"
like "$out" "WARNING: .*127.0.0.1:$BPORT.*AUTH failed" "wrong password: a WARNING says AUTH failed at host:port"
unlike "$out" "wrong-Pw-123|$PASSWORD" "wrong password: the message holds no password"
is "$(rcb -n 1 ZCARD pglearn:list:general)" "2" "wrong password: Redis unchanged"
out=$(sql -c "SET pglearn.redis_url = 'redis://127.0.0.1:$BPORT/1'" -c "SELECT pglearn.publish('general', 3)" 2>&1)
like "$out" 'WARNING: .*NOAUTH' "no password for a protected Redis: a WARNING"

# ---------------------------------------------------------------- 10,000 members

sql <<'SQL' >/dev/null
INSERT INTO pglearn.lists (name, url_pattern) VALUES ('big', '^https://big\.example/');
INSERT INTO pglearn.examples (url, title, description, body, score, http_status, fetched_at)
SELECT 'https://big.example/' || g, 'Big ' || g, 'description ' || g, 'body', 0.5 + g / 100000.0, 200, now()
  FROM generate_series(1, 10000) g;
SQL
t0=$(now)
out=$(sql -c "SELECT pglearn.publish('big', 10000)")
secs=$(elapsed "$t0" "$(now)")
is "$out" "10000" "publish('big', 10000) queues 10,000 members (${secs}s with commit)"
is "$(rc ZCARD pglearn:list:big)" "10000" "10,000-member list: ZCARD 10000"
is "$(compare_list big 10000)" "t" "10,000-member list equals recommend('big', 10000)"
is "$(rc HLEN pglearn:list:big:ids)" "10000" "10,000-member list: ids hash complete"
is "$(sql -c "SELECT count(*) || ' ' || count(DISTINCT url) || ' ' || count(example_id) || ' ' || bool_and(rank = r) FROM (SELECT *, row_number() OVER (ORDER BY score DESC, url DESC) r FROM pglearn.published('big')) p")" \
	"10000 10000 10000 true" "10,000-member list: published() returns every member with its id, best first"
id=$(sql -c "SELECT id FROM pglearn.examples WHERE url = 'https://big.example/1'")
is "$(rc HGET "pglearn:example:$id" description)" "description 1" "10,000-member list: the last member's hash"

# ---------------------------------------------------------------- limits a plain role cannot lift

# A publisher that is not a superuser: the grants of the README's admin
# role, enough to publish.
sql <<SQL >/dev/null
CREATE ROLE $PLAIN LOGIN;
GRANT USAGE ON SCHEMA pglearn TO $PLAIN;
GRANT SELECT ON ALL TABLES IN SCHEMA pglearn TO $PLAIN;
GRANT INSERT, UPDATE, DELETE ON pglearn.publications TO $PLAIN;
GRANT EXECUTE ON FUNCTION pglearn.publish(text, int4), pglearn.publish_pending(), pglearn.published(text),
	pglearn._redis_check(), pglearn._redis_queue(text, int8), pglearn._redis_push(text),
	pglearn._redis_versions(text[]) TO $PLAIN;
SQL
psql_plain() { psql -X -qAt -U "$PLAIN" -d "$DB" "$@" 2>&1; }
for setting in redis_connect_timeout redis_command_timeout redis_password_file redis_url; do
	out=$(psql_plain -v VERBOSITY=verbose -c "SET pglearn.$setting = '40s'")
	like "$out" "ERROR: +42501: permission denied to set parameter \"pglearn.$setting\"" \
		"a plain role cannot SET pglearn.$setting (42501)"
done
out=$(psql_plain -c "SELECT pglearn.publish('general', 3)")
is "$out" "3" "the plain role publishes"

# Terminate while the commit-time push waits for a stopped Redis.  The
# superuser gives the role the longest timeouts there are (a minute each):
# only pg_terminate_backend can end the wait sooner, and the assertions
# are about that, not about time: the backend is gone while Redis is still
# stopped, and it said why it stopped waiting.
sql -c "ALTER ROLE $PLAIN SET pglearn.redis_connect_timeout = '60s'" \
	-c "ALTER ROLE $PLAIN SET pglearn.redis_command_timeout = '60s'" >/dev/null
is "$(psql_plain -c "SHOW pglearn.redis_command_timeout")" "1min" "ALTER ROLE … SET by a superuser gives the role a longer timeout"
redis_stopped() { [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" = T ]; }
wait_for() {					# wait_for SECONDS COMMAND...: until COMMAND succeeds
	local i
	for i in $(seq $(($1 * 10))); do
		"${@:2}" && return 0
		sleep 0.1
	done
	return 1
}
stalled_pid() {					# the plain role's backend waiting in the push
	sql -c "SELECT pid FROM pg_stat_activity WHERE usename = '$PLAIN' AND wait_event_type = 'Extension' AND query LIKE '%publish(%'"
}
backend_gone() { [ "$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE pid = $1")" = 0 ]; }
has_stalled() { [ -n "$(stalled_pid)" ]; }

rpid=$(cat "$RDIR/open.pid")
kill -STOP "$rpid"
psql_plain -c "SELECT pglearn.publish('general', 7)" >"$RDIR/terminate.out" &
client=$!
if wait_for 20 has_stalled; then
	bpid=$(stalled_pid)
	report 0 "stopped Redis: the plain role's commit waits in the push (wait event Extension)"
	sql -c "SELECT pg_terminate_backend($bpid)" >/dev/null
	wait_for 40 backend_gone "$bpid"
	gone=$?
	redis_stopped "$rpid"
	still_stopped=$?
	is "$gone:$still_stopped" "0:0" "pg_terminate_backend ends the commit-time wait: the backend is gone while Redis is still stopped"
	wait "$client"
	out=$(cat "$RDIR/terminate.out")
	like "$out" "WARNING: +could not publish list \"general\" to Redis at 127.0.0.1:$RPORT: HSET interrupted: the session is being terminated" \
		"terminated: the WARNING says the wait ended for the terminate, not a timeout"
	# psql sees the FATAL only if it is still reading when the backend dies:
	# the commit's result can reach it first (seen under load), and then the
	# backend ends at its next interrupt check, with nobody left to tell
	status=1
	if grep -qE 'FATAL: +terminating connection due to administrator command' <<<"$out" || backend_gone "$bpid"; then
		status=0
	fi
	report "$status" "terminated: the session ends (FATAL to the client, or the backend gone)" "$out"
else
	report 1 "stopped Redis: the plain role's commit waits in the push (wait event Extension)" "$(sql -c "SELECT usename, state, wait_event_type, wait_event, query FROM pg_stat_activity")"
	wait "$client"
fi
is "$(sql -c "SELECT cardinality(members) FROM pglearn.publications WHERE list = 'general'")" "7" \
	"terminated: the publication is committed, and pending"

# Cancel in the same place: the statement's wait ends, the session goes on.
psql_plain -c "SELECT pglearn.publish('general', 8)" -c "SELECT 'still here'" >"$RDIR/cancel.out" &
client=$!
if wait_for 20 has_stalled; then
	bpid=$(stalled_pid)
	sql -c "SELECT pg_cancel_backend($bpid)" >/dev/null
	client_done() { ! kill -0 "$client" 2>/dev/null; }
	wait_for 40 client_done
	done_status=$?
	redis_stopped "$rpid"
	is "$done_status:$?" "0:0" "pg_cancel_backend ends the commit-time wait while Redis is still stopped"
	wait "$client"
	out=$(cat "$RDIR/cancel.out")
	like "$out" "HSET interrupted: the statement is being cancelled" "cancelled: the WARNING says so"
	like "$out" "still here" "cancelled: the session goes on"
else
	report 1 "stopped Redis: the cancelled commit waits in the push"
	wait "$client"
fi
kill -CONT "$rpid"
is "$(sql -c "SELECT stale FROM pglearn.publish_status WHERE list = 'general'")" "t" "after the interrupts general is stale"
stale=$(sql -c "SELECT count(*) FROM pglearn.publish_status WHERE stale")
is "$(psql_plain -c "SELECT pglearn.publish_pending()")" "$stale" "publish_pending() (as the plain role) publishes the $stale stale lists, general among them"
is "$(compare_list general 8)" "t" "general equals recommend('general', 8)"
sql -c "ALTER ROLE $PLAIN RESET ALL" >/dev/null

# ---------------------------------------------------------------- SQL in C under a hostile search_path

# publish_pending() and _redis_push() read pglearn.publications with SPI:
# with operators and functions of the same names planted in public and
# public searched first, nothing planted runs.
out=$(sql <<'SQL'
CREATE FUNCTION public.hijack_texteq(text, text) RETURNS bool LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: ='; END $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.hijack_texteq);
CREATE FUNCTION public.hijack_int8eq(int8, int8) RETURNS bool LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: int8 ='; END $$;
CREATE OPERATOR public.= (LEFTARG = int8, RIGHTARG = int8, FUNCTION = public.hijack_int8eq);
CREATE FUNCTION public.hijack_field(jsonb, text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: ->>'; END $$;
CREATE OPERATOR public.->> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = public.hijack_field);
CREATE FUNCTION public.jsonb_array_elements(jsonb) RETURNS SETOF jsonb LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: jsonb_array_elements'; END $$;
SET search_path = public, pg_catalog;
SELECT 'planted: ' || (SELECT count(*) FROM pg_operator WHERE oprnamespace = 'public'::regnamespace);
SELECT coalesce(pglearn._redis_push('general'), 'pushed');
SELECT count(*) FROM pglearn.published('general');
RESET search_path;
DROP OPERATOR public.= (text, text), public.= (int8, int8), public.->> (jsonb, text);
DROP FUNCTION public.hijack_texteq(text, text), public.hijack_int8eq(int8, int8), public.hijack_field(jsonb, text),
	public.jsonb_array_elements(jsonb);
SQL
)
is "$out" "planted: 3
pushed
8" "_redis_push() and published() with public.=, public.->> and public.jsonb_array_elements() first on the path: none runs"

# ---------------------------------------------------------------- redis_status(), the password file

status() {						# status [-c SET ...]: redis_status() as configured|ok|latency?|detail
	sql "$@" -c "SELECT format('%s|%s|%s|%s', configured, ok, latency_ms IS NOT NULL, detail) FROM pglearn.redis_status()"
}
is "$(status -c "SET pglearn.redis_url = ''")" "f||f|pglearn.redis_url is not set" "redis_status(): not configured"
is "$(status)" "t|t|t|redis 127.0.0.1:$RPORT: PING ok" "redis_status(): TCP, PING ok, with its latency"
is "$(status -c "SET pglearn.redis_url = 'unix://$SOCKET?db=2'")" "t|t|t|redis $SOCKET: PING ok" "redis_status(): unix socket URL"
is "$(status -c "SET pglearn.redis_url = 'redis://:$PASSWORD@127.0.0.1:$BPORT/1'")" "t|t|t|redis 127.0.0.1:$BPORT: PING ok" \
	"redis_status(): password in the URL (and the detail without it)"
out=$(status -c "SET pglearn.redis_url = 'redis://:wrong-Pw-123@127.0.0.1:$BPORT/1'")
like "$out" "^t\|f\|f\|redis 127.0.0.1:$BPORT: AUTH failed: WRONGPASS" "redis_status(): a wrong password is ok = false, Redis's error in detail"
unlike "$out" "wrong-Pw-123|$PASSWORD" "redis_status(): the detail holds no password"
is "$(status -c "SET pglearn.redis_url = 'redis://127.0.0.1:1/0'")" "t|f|f|redis 127.0.0.1:1: connect failed: Connection refused" \
	"redis_status(): nothing listening is ok = false, with the reason"
ACLPW='acl-Pw-77'
rcb ACL SETUSER pglearn_acl on ">$ACLPW" '~*' '&*' '+@all' >/dev/null
is "$(status -c "SET pglearn.redis_url = 'redis://pglearn_acl:$ACLPW@127.0.0.1:$BPORT/1'")" "t|t|t|redis 127.0.0.1:$BPORT: PING ok" \
	"redis_status(): an ACL user with its password in the URL"

# The password file must be readable by the server's operating system user
# and by no one else.
SERVER_OS_USER=$(stat -c %U "$(sql -c "SHOW data_directory")")
pwfile() {						# pwfile NAME MODE CONTENT: a file the server can read
	printf '%s' "$3" >"$RDIR/$1"
	chmod "$2" "$RDIR/$1"
	[ "$(id -u)" = 0 ] && chown "$SERVER_OS_USER" "$RDIR/$1"
	echo "$RDIR/$1"
}
if [ "$(id -u)" = 0 ] || [ "$SERVER_OS_USER" = "$(id -un)" ]; then
	PWF=$(pwfile redis.pw 600 "$PASSWORD
")
	ACLF=$(pwfile acl.pw 600 "$ACLPW")
	USE_FILE="SET pglearn.redis_url = 'redis://127.0.0.1:$BPORT/1'"
	is "$(status -c "$USE_FILE" -c "SET pglearn.redis_password_file = '$PWF'")" "t|t|t|redis 127.0.0.1:$BPORT: PING ok" \
		"redis_status(): the password from pglearn.redis_password_file (0600, one line)"
	out=$(sql -c "$USE_FILE" -c "SET pglearn.redis_password_file = '$PWF'" -c "SELECT pglearn.publish('github', 4)" \
		-c "SELECT count(*) FROM pglearn.published('github')" -c "SELECT stale FROM pglearn.publish_status WHERE list = 'github'" 2>&1)
	is "$out" "4
4
f" "password file: publish(), published() and publish_status all authenticate with it"
	is "$(rcb -n 1 ZCARD pglearn:list:github)" "4" "password file: the list is in the protected Redis"
	is "$(status -c "SET pglearn.redis_url = 'redis://pglearn_acl@127.0.0.1:$BPORT/1'" -c "SET pglearn.redis_password_file = '$ACLF'")" \
		"t|t|t|redis 127.0.0.1:$BPORT: PING ok" "redis_status(): an ACL user in the URL, its password in the file (no newline)"
	is "$(status -c "SET pglearn.redis_url = 'redis://:$PASSWORD@127.0.0.1:$BPORT/1'" -c "SET pglearn.redis_password_file = '$ACLF'")" \
		"t|t|t|redis 127.0.0.1:$BPORT: PING ok" "a password in the URL wins over the file"

	chmod 640 "$PWF"
	out=$(sql -v VERBOSITY=verbose -c "$USE_FILE" -c "SET pglearn.redis_password_file = '$PWF'" -c "SELECT pglearn.publish('github', 2)")
	like "$out" "ERROR: +F0000: pglearn.redis_password_file \"$PWF\" has group or world access" \
		"a group-readable password file: publish() is an error (F0000) naming the file"
	like "$out" 'HINT: +Remove the group and world permissions, e.g. chmod 0600' "… with a hint saying what to do"
	unlike "$out" "$PASSWORD" "… and without the password"
	out=$(status -c "$USE_FILE" -c "SET pglearn.redis_password_file = '$PWF'")
	like "$out" "^t\|f\|f\|pglearn.redis_password_file \"$PWF\" has group or world access: " "redis_status(): the group-readable file is ok = false, said why"
	chmod 604 "$PWF"
	like "$(status -c "$USE_FILE" -c "SET pglearn.redis_password_file = '$PWF'")" "has group or world access" "a world-readable password file is refused too"
	chmod 600 "$PWF"
	like "$(status -c "$USE_FILE" -c "SET pglearn.redis_password_file = '$RDIR/missing.pw'")" \
		"^t\|f\|f\|could not open pglearn.redis_password_file \"$RDIR/missing.pw\": No such file" "redis_status(): a missing password file"
	TWO=$(pwfile two.pw 600 "pglearn_acl $ACLPW
second line")
	out=$(status -c "$USE_FILE" -c "SET pglearn.redis_password_file = '$TWO'")
	like "$out" "holds more than a password" "a password file of two lines is refused"
	unlike "$out" "$ACLPW" "… without quoting it"
	EMPTY=$(pwfile empty.pw 600 "")
	like "$(status -c "$USE_FILE" -c "SET pglearn.redis_password_file = '$EMPTY'")" "\"$EMPTY\" is empty" "an empty password file is refused"

	# ---------------------------------------------------------------- pglearn check as a monitoring role

	# pg_monitor, USAGE on the schema and SELECT on the two columns check
	# reads; EXECUTE on redis_status() comes with pg_monitor
	CHECK=./crawler/pglearn
	[ -x "$CHECK" ] || CHECK=pglearn
	sql <<SQL >/dev/null
CREATE ROLE $MONITOR LOGIN IN ROLE pg_monitor;
GRANT USAGE ON SCHEMA pglearn TO $MONITOR;
GRANT SELECT (fetched_at, fetch_error) ON pglearn.examples TO $MONITOR;
ALTER DATABASE $DB SET pglearn.redis_url = 'redis://127.0.0.1:$BPORT/1';
ALTER DATABASE $DB SET pglearn.redis_password_file = '$PWF';
SQL
	out=$("$CHECK" check -d "dbname=$DB user=$MONITOR" 2>&1)
	status=$?
	like "$out" '^PGLEARN (OK|WARNING) - .*redis ok \([0-9.]+ ms\).*\| .*redis=1 redis_latency=[0-9.]+ms' \
		"pglearn check as a pg_monitor role: redis ok (password from the file), with perfdata"
	is "$status" "0" "pglearn check as a pg_monitor role: OK (exit 0)"
	unlike "$out" "$PASSWORD" "pglearn check: no password in its output"
	kill -STOP "$(cat "$RDIR/auth.pid")"
	out=$("$CHECK" check -d "dbname=$DB user=$MONITOR" --redis-timeout 5 2>&1)
	status=$?
	kill -CONT "$(cat "$RDIR/auth.pid")"
	like "$out" "^PGLEARN WARNING - .*redis 127.0.0.1:$BPORT: AUTH timed out after 1000 ms.*redis=0" \
		"pglearn check, Redis stopped: WARNING, the server's own timeout and where"
	is "$status" "1" "pglearn check, Redis stopped: exit 1"
	sql -c "ALTER DATABASE $DB SET pglearn.redis_url = 'redis://127.0.0.1:1/0'" >/dev/null
	out=$("$CHECK" check -d "dbname=$DB user=$MONITOR" --redis-critical 2>&1)
	status=$?
	like "$out" "^PGLEARN CRITICAL - .*redis 127.0.0.1:1: connect failed: Connection refused.*redis=0" \
		"pglearn check --redis-critical, nothing listening: CRITICAL with the reason"
	is "$status" "2" "pglearn check --redis-critical: exit 2"
	chmod 644 "$PWF"
	sql -c "ALTER DATABASE $DB SET pglearn.redis_url = 'redis://127.0.0.1:$BPORT/1'" >/dev/null
	out=$("$CHECK" check -d "dbname=$DB user=$MONITOR" 2>&1)
	like "$out" "^PGLEARN WARNING - .*pglearn.redis_password_file \"$PWF\" has group or world access" \
		"pglearn check: a readable password file is a WARNING that says so"
	unlike "$out" "$PASSWORD" "… without the password"
	chmod 600 "$PWF"
	sql -c "ALTER DATABASE $DB RESET pglearn.redis_password_file" \
		-c "ALTER DATABASE $DB SET pglearn.redis_url = 'redis://127.0.0.1:$RPORT/0'" >/dev/null
	out=$("$CHECK" check -d "dbname=$DB user=$MONITOR" 2>&1)
	like "$out" 'redis ok .*redis=1' "pglearn check as a pg_monitor role: the open Redis again"
else
	report 0 "password file and check tests # skip: the server runs as $SERVER_OS_USER and we cannot give it a file"
fi

# ---------------------------------------------------------------- PREPARE TRANSACTION

prepare_checks() {				# run in a database with the extension, Redis set
	local out
	out=$(sql -c "BEGIN" -c "SELECT pglearn.publish('general', 2)" -c "PREPARE TRANSACTION 'pglearn_redis_$$'")
	like "$out" 'cannot prepare a transaction with pending Redis publications' "PREPARE TRANSACTION with a pending publication is refused"
	out=$(sql -c "SELECT count(*) FROM pg_prepared_xacts WHERE gid = 'pglearn_redis_$$'")
	is "$out" "0" "the refused transaction is not prepared"
	out=$(sql -c "BEGIN" -c "SELECT pglearn.publish('general', 2)" -c "ROLLBACK" -c "BEGIN" -c "SELECT 1" \
		-c "PREPARE TRANSACTION 'pglearn_redis_$$'" -c "ROLLBACK PREPARED 'pglearn_redis_$$'")
	unlike "$out" 'ERROR' "a transaction without pending publications still prepares"
}
if [ "$(sql -c "SHOW max_prepared_transactions")" != 0 ]; then
	prepare_checks
else
	# a second throwaway cluster that allows prepared transactions
	(
		trap 'cluster_stop' EXIT
		CLUSTER_DIR=
		cluster_start >/dev/null || exit 1
		echo "max_prepared_transactions = 2" >>"$CLUSTER_DIR/data/postgresql.conf"
		as_cluster_user "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w restart >/dev/null || exit 1
		DB=postgres
		sql -c "CREATE EXTENSION pglearn" >/dev/null
		sql -c "ALTER DATABASE postgres SET pglearn.redis_url = 'redis://127.0.0.1:$RPORT/5'" >/dev/null
		prepare_checks
		echo "SUBCOUNT $passed $failed $n"
	) >"$RDIR/prepare.out" 2>&1
	grep -v '^SUBCOUNT' "$RDIR/prepare.out"
	sub=$(grep '^SUBCOUNT' "$RDIR/prepare.out")
	if [ -n "$sub" ]; then
		read -r _ passed failed n <<<"$sub"
	else
		report 1 "PREPARE TRANSACTION checks (second cluster did not start)"
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
