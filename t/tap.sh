#!/usr/bin/env bash
# t/tap.sh: run pglearn's TAP tests (t/*.pl) with PostgreSQL::Test::Cluster.
#
# The test framework runs initdb and postgres itself, which refuse root, so
# under root the tests run as the unprivileged cluster user in a temporary
# directory, from a copy of the files they read.  PGLEARN_TAP_TESTS names
# some of them (default t/*.pl).  Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
. t/lib/cluster.sh

PGXS_DIR=$(dirname "$(pg_config --pgxs)")/../..
export PERL5LIB="$PGXS_DIR/src/test/perl"
export PATH="$(pg_config --bindir):$PATH"
export PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress"
export TESTDIR=$(mktemp -d /tmp/pglearn-tap.XXXXXX)
trap 'rm -rf "$TESTDIR"' EXIT
unset PGHOST PGPORT PGUSER PGDATABASE
if [ "$(id -u)" = 0 ]; then
	id "$CLUSTER_OS_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$CLUSTER_OS_USER"
	chown "$CLUSTER_OS_USER" "$TESTDIR"
fi
chmod 755 "$TESTDIR"

# The tests run as the cluster user, who may not be able to read the
# checkout (a clone under /root is mode 0700): they run from a copy of
# what they read, in $TESTDIR.
tree=$TESTDIR/tree
mkdir -p "$tree/crawler/t"
cp -r t sql "$tree/"
cp crawler/pglearn "$tree/crawler/"
cp crawler/t/fixture_server.py "$tree/crawler/t/"
[ "$(id -u)" = 0 ] && chown -R "$CLUSTER_OS_USER" "$tree"
(cd "$tree" && as_cluster_user env PERL5LIB="$PERL5LIB" PATH="$PATH" PG_REGRESS="$PG_REGRESS" TESTDIR="$TESTDIR" \
	prove -v ${PGLEARN_TAP_TESTS:-t/*.pl}) >"$TESTDIR/prove.log" 2>&1
status=$?
cat "$TESTDIR/prove.log"
if [ "$status" != 0 ]; then
	for log in "$TESTDIR"/tmp_check/log/*; do
		[ -f "$log" ] && { echo "== $log"; tail -n 50 "$log"; }
	done
fi
passed=$(grep -cE '^ok [0-9]+' "$TESTDIR/prove.log" || true)
failed=$(grep -cE '^not ok [0-9]+' "$TESTDIR/prove.log" || true)
[ "$status" != 0 ] && [ "$failed" = 0 ] && failed=1
echo "$passed passed, $failed failed"
[ "$status" = 0 ]
