#!/usr/bin/env bash
# t/setup/run.sh: README's install and set-up steps work as written, in a
# new shell and a new session.
#
#  - `pglearn` is found by a login shell with a clean environment
#    (env -i bash -lc) after `make install`, and says the version of
#    pglearn.control: Debian keeps $(pg_config --bindir) off PATH, so make
#    install links the command into /usr/local/bin.  Needs the install that
#    t/run_all.sh (or README's `make install`) made.
#  - `make install` / `make uninstall` into a staging DESTDIR: the link is
#    made and removed, uninstall leaves no file behind, and an existing
#    /usr/local/bin/pglearn that is not ours is left alone by both.
#  - "Publishing to Redis / Setting it up": the postgresql.conf lines and the
#    ALTER SYSTEM block, read from README.md (their URL replaced by a
#    throwaway redis-server's socket), each make redis_status() answer in a
#    new session; the ALTER SYSTEM block without its LOAD is refused, which
#    is why the README has it.
# Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
TOP=$(pwd)
. t/lib/cluster.sh
. t/lib/tap.sh			# report, is, like, unlike, finish
. t/lib/readme.sh		# readme_block MARKER

work=$(mktemp -d /tmp/pglearn-setup.XXXXXX)
chmod 755 "$work"
cleanup() {
	redis_stop
	cluster_stop
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


VERSION=$(sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" pglearn.control)
BINDIR=$(pg_config --bindir)

# --- the installed command, from a new login shell ----------------------------
# stdout only: a profile's own complaints on stderr are not the command's
out=$(cd / && env -i bash -lc 'pglearn --version' 2>/dev/null)
case "$out" in "pglearn $VERSION ("*) status=0 ;; *) status=1 ;; esac
report $status "env -i bash -lc 'pglearn --version' says pglearn $VERSION" "got: $out"
out=$(cd / && env -i bash -lc 'command -v pglearn' 2>/dev/null)
if [ -w /usr/local/bin ] && [ "$BINDIR" != /usr/local/bin ]; then
	is "$out|$(readlink /usr/local/bin/pglearn)" "/usr/local/bin/pglearn|$BINDIR/pglearn" \
		"the login shell finds /usr/local/bin/pglearn, a link to $BINDIR/pglearn"
fi

# --- make install / uninstall into a staging directory ------------------------
stage=$work/stage
mkdir -p "$stage/usr/local/bin"
out=$(make -s install DESTDIR="$stage" 2>&1)
report $? "make install DESTDIR=... runs" "$out"
is "$(readlink "$stage/usr/local/bin/pglearn")" "$BINDIR/pglearn" "install links LINKDIR/pglearn to the installed command"
report "$([ -x "$stage$BINDIR/pglearn" ] && [ -f "$stage$(pg_config --sharedir)/extension/pglearn.control" ]; echo $?)" \
	"install put the command and the extension into DESTDIR" "$(cd "$stage" && find . | head -20)"
out=$(make -s uninstall DESTDIR="$stage" 2>&1)
report $? "make uninstall DESTDIR=... runs" "$out"
left=$(cd "$stage" && find . ! -type d)
is "$left" "" "uninstall removes everything install added, the link included"

printf '#!/bin/sh\necho another pglearn\n' >"$stage/usr/local/bin/pglearn"
out=$(make -s -C crawler install DESTDIR="$stage" 2>&1)
is "$(cat "$stage/usr/local/bin/pglearn" | tail -n 1)|$(echo "$out" | grep -c 'exists and is not a link')" \
	"echo another pglearn|1" "install leaves another /usr/local/bin/pglearn alone, and says so"
make -s -C crawler uninstall DESTDIR="$stage" >/dev/null 2>&1
is "$(tail -n 1 "$stage/usr/local/bin/pglearn" 2>&1)|$([ -e "$stage$BINDIR/pglearn" ]; echo $?)" "echo another pglearn|1" \
	"uninstall removes our command but not another's file"
rm -rf "$stage/usr/local"
out=$(make -s -C crawler install DESTDIR="$stage" 2>&1)
report "$([ $? = 0 ] && echo "$out" | grep -q "is not writable; run $BINDIR/pglearn or add $BINDIR to PATH"; echo $?)" \
	"without a writable /usr/local/bin, install still installs and says where the command is" "$out"
make -s -C crawler uninstall DESTDIR="$stage" >/dev/null 2>&1

# --- Redis set-up, as README has it --------------------------------------------
cluster_start || { echo "0 passed, 1 failed"; finish; }
psql -X -q -c "CREATE EXTENSION pglearn" >/dev/null || { echo "0 passed, 1 failed"; finish; }
socket=$work/redis/redis.sock
redis_start "$work/redis" 700
report "$([ -S "$socket" ]; echo $?)" "redis-server on a unix socket only the server's OS user may use" "$(cat "$work/redis/redis.log")"

readme_url='unix:///run/redis/redis-server.sock'
readme_block "<!-- redis conf" >"$work/redis.conf.readme"
readme_block "<!-- redis setup" >"$work/redis-setup.sql.readme"
for f in redis.conf redis-setup.sql; do
	grep -qF "$readme_url" "$work/$f.readme"
	report $? "README's $f block names $readme_url (replaced by the test's socket)" "$(cat "$work/$f.readme")"
	sed "s|$readme_url|unix://$socket|" "$work/$f.readme" >"$work/$f"
done
status_sql="SELECT ok || '|' || detail FROM pglearn.redis_status()"
# pg_reload_conf() only signals the postmaster: wait until new sessions see
# the setting (at most 10 s)
await_preload() {
	for _ in $(seq 100); do
		[ "$(psql -X -At -c "SHOW session_preload_libraries" 2>/dev/null)" = pglearn ] && return
		sleep 0.1
	done
}

# without LOAD first, ALTER SYSTEM refuses the setting (why README loads it)
out=$(grep -v "^LOAD 'pglearn';" "$work/redis-setup.sql" | psql -X -q -v ON_ERROR_STOP=1 2>&1)
report "$([ $? != 0 ] && echo "$out" | grep -q 'unrecognized configuration parameter "pglearn.redis_url"'; echo $?)" \
	"without LOAD 'pglearn', ALTER SYSTEM SET pglearn.redis_url is refused in a new session" "$out"
# the block as written, in a new session; then another new session
out=$(psql -X -q -v ON_ERROR_STOP=1 -f "$work/redis-setup.sql" 2>&1)
report $? "README's ALTER SYSTEM block runs in a new session" "$out"
await_preload
out=$(psql -X -At -c "SHOW session_preload_libraries" -c "$status_sql" 2>&1)
is "$out" "pglearn"$'\n'"true|redis $socket: PING ok" "a new session then loads pglearn and reaches Redis"

# the postgresql.conf lines instead
psql -X -q -c "ALTER SYSTEM RESET ALL" -c "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 100); do
	[ -z "$(psql -X -At -c "SHOW session_preload_libraries" 2>/dev/null)" ] && break
	sleep 0.1
done
cat "$work/redis.conf" >>"$CLUSTER_DIR/data/postgresql.conf"
psql -X -q -c "SELECT pg_reload_conf()" >/dev/null
await_preload
out=$(psql -X -At -c "SHOW session_preload_libraries" -c "$status_sql" 2>&1)
is "$out" "pglearn"$'\n'"true|redis $socket: PING ok" "README's postgresql.conf lines, after a reload: a new session reaches Redis"

finish
