#!/usr/bin/env bash
# t/cassert.sh: the pg_regress and isolation suites (make installcheck)
# against a PostgreSQL 15 built from source with --enable-cassert.
#
# Debian's postgresql-15 is built without assertions, so this script builds
# one of its own from the Debian source package postgresql-15, fetched with
# `apt-get source --download-only` from the archives the machine's apt
# already uses (a deb-src twin of each apt source, in a private apt state
# directory: the system's apt lists are not touched).  Only its upstream
# .orig tarball is used; it carries the generated parser and catalog files,
# so neither bison, flex nor the Debian packaging are needed.  configure
# --enable-cassert --without-icu --without-readline --without-zlib
# --without-llvm, CFLAGS=-O0 (compiling is the cost; the suites run in
# seconds either way), and only the pieces installcheck needs are built: the
# server, plpgsql, snowball, the encoding conversions, timezone data, libpq,
# initdb, pg_ctl, psql, pg_config, pg_regress, pg_isolation_regress, and the
# PGXS files and server headers, installed into a prefix in a temporary
# directory.  The extension (not the crawler) is built from a copy of this
# tree's Makefile, pglearn.control, src/, sql/, expected/ and specs/, so the
# main build's objects stay as they are, and installed into that prefix;
# pglearn's own Assert()s are compiled in too.  A throwaway cluster of those
# binaries (t/lib/cluster.sh, owned by an unprivileged user when we are
# root) runs `make installcheck`: the same REGRESS and ISOLATION tests with
# the same expected outputs as the regular run.

# Checks: one per pg_regress / isolation test; no assertion failure ("TRAP:")
# and no server process killed by a signal; no WARNING at all in the server
# log (resource and reference leaks, memory context corruption found by
# MEMORY_CONTEXT_CHECKING, a non-empty SPI stack, ... are WARNINGs) but
# those the suites raise on purpose, which are in their expected output.  The server log's assertion, crash and
# WARNING lines are printed when a check fails.
#
# Run as root on a new Debian 12 machine: it installs its build packages
# with apt-get.  As an ordinary user it needs them already (and the source
# download works unprivileged).  Needs no running cluster; starts and stops
# its own.  Every phase's time is printed; measured 2026-11-25 on 2 idle
# cores (PostgreSQL 15.18): download 2 s, unpack 4 s, configure 13 s, the
# server 54 s, the rest 7 s, install 2 s, pglearn 1 s, installcheck 5 s,
# 89 s in all, cleanup included; 130-170 s with two other processes busy.
#
# PGLEARN_CASSERT_PG=DIR keeps the assert-enabled PostgreSQL in DIR and
# reuses it on the next run (the build is skipped when DIR holds a
# finished one with the same options); DIR must be readable by the cluster's
# user (not under /root).  PGLEARN_CASSERT_PGOPTIONS passes server settings
# to the test sessions, e.g. "-c debug_discard_caches=1" (measured: about
# 35 minutes for the suite, recommend alone 17, all passing; so not part of
# the default run).
#
# Prints "ok N - ..." / "not ok N - ..." lines, ends with "N passed, N
# failed" and exits non-zero if anything failed.  Clusters and temporary
# directories are removed whatever happens.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
umask 022				# the cluster's user must read the prefix

PG_SOURCE_PACKAGE=postgresql-15
PG_CONFIGURE_OPTS="--enable-cassert --without-icu --without-readline --without-zlib --without-llvm"
PG_BUILD_CFLAGS=-O0
# built in this order, then installed; src/backend first, on its own
PG_BUILD_DIRS="src/timezone src/backend/snowball src/backend/utils/mb/conversion_procs
	src/interfaces/libpq src/fe_utils src/bin/initdb src/bin/pg_ctl src/bin/psql src/bin/pg_config
	src/pl/plpgsql src/test/regress src/test/isolation"
PG_INSTALL_DIRS="src/backend src/timezone src/backend/snowball src/backend/utils/mb/conversion_procs
	src/include src/port src/common src/interfaces/libpq src/bin/initdb src/bin/pg_ctl src/bin/psql
	src/bin/pg_config src/pl/plpgsql src/makefiles src/test/regress src/test/isolation config"
BUILD_PACKAGES="gcc libc6-dev make bzip2 libhiredis-dev python3"
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

. t/lib/cluster.sh			# cluster_start, cluster_stop, as_cluster_user
. t/lib/tap.sh				# check DESCRIPTION STATUS, finish
# t/run_all.sh exports its own cluster's CLUSTER_DIR: cluster_stop must
# never see that one
CLUSTER_DIR=

# The source tree (8,000 files, 180 MB built) lives in memory when it can:
# on a disk mounted with online discard, removing it took 20 s.
tmp=/tmp
if [ -d /dev/shm ] && [ -w /dev/shm ] &&
	[ "$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')" -gt $((1024 * 1024)) ] 2>/dev/null; then
	tmp=/dev/shm
fi
WORK=$(mktemp -d "$tmp/pglearn-cassert.XXXXXX") || exit 2
chmod 755 "$WORK"
cleanup() {
	cluster_stop
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bail() {						# a step every later check depends on failed
	check "$1" 1
	finish
}
started=$(date +%s)
phase_start=$started
phases=
phase() {						# phase NAME: time since the last phase
	local now
	now=$(date +%s)
	echo "# $1: $((now - phase_start)) s"
	phases="$phases, $1 $((now - phase_start)) s"
	phase_start=$now
}
show_log() {					# show_log FILE: its last lines, as comments
	tail -n "${2:-40}" "$1" | sed 's/^/#   /'
}

# --- build packages, like t/lib/cluster.sh's install_packages
missing=
for p in $BUILD_PACKAGES; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		bail "build packages installed (missing:$missing; run as root to install them)"
	fi
	echo "# installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends $missing >"$WORK/apt-install.log" 2>&1 ||
		{ show_log "$WORK/apt-install.log"; bail "install build packages:$missing"; }
fi
phase "packages"

# --- the assert-enabled PostgreSQL
stamp="$PG_SOURCE_PACKAGE $PG_CONFIGURE_OPTS CFLAGS=$PG_BUILD_CFLAGS"
if [ -n "${PGLEARN_CASSERT_PG:-}" ]; then
	mkdir -p "$PGLEARN_CASSERT_PG" || bail "create PGLEARN_CASSERT_PG=$PGLEARN_CASSERT_PG"
	PREFIX=$(cd "$PGLEARN_CASSERT_PG" && pwd)
	# only ever an empty directory or one of our own builds
	[ -f "$PREFIX/.stamp" ] || [ -z "$(ls -A "$PREFIX")" ] ||
		bail "PGLEARN_CASSERT_PG=$PREFIX is empty or a build of this script"
else
	PREFIX=$WORK/pg
fi

fetch_source() {				# the .orig tarball into $WORK/src: sets TARBALL
	local apt=$WORK/apt f v
	mkdir -p "$apt/sources" "$apt/lists/partial" "$apt/cache/archives/partial" "$WORK/src"
	# a deb-src twin of every apt source of the machine
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && sed -E 's/^Types:.*/Types: deb-src/' "$f" >"$apt/sources/$(basename "$f")"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] && sed -nE 's/^[[:space:]]*deb[[:space:]]+/deb-src /p' "$f" >>"$apt/sources/twins.list"
	done
	local opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt/sources"
		-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o APT::Sandbox::User="$(id -un)")
	# some sources may have no source index: use whatever answered
	apt-get "${opts[@]}" update >"$WORK/apt-src.log" 2>&1
	# newest version first; an archive may list a version whose files it
	# does not serve (seen: the security archive's), so try the next one
	for v in $(apt-cache "${opts[@]}" showsrc "$PG_SOURCE_PACKAGE" 2>/dev/null |
		sed -n 's/^Version: //p' | sort -u -r -V); do
		rm -f "$WORK/src/"*
		if (cd "$WORK/src" && apt-get "${opts[@]}" source --download-only "$PG_SOURCE_PACKAGE=$v") >>"$WORK/apt-src.log" 2>&1; then
			TARBALL=$(ls "$WORK/src/"*.orig.tar.* 2>/dev/null | head -n 1)
			[ -n "$TARBALL" ] && return 0
		fi
		echo "# $PG_SOURCE_PACKAGE $v: download failed, trying an older version"
	done
	return 1
}

build_pg() {					# configure, build and install into $PREFIX
	local src d
	fetch_source || { show_log "$WORK/apt-src.log"; return 1; }
	echo "# source: $(basename "$TARBALL") ($(du -h "$TARBALL" | cut -f1))"
	phase "download the source (apt source index and tarball)"
	tar -xf "$TARBALL" -C "$WORK" --exclude='postgresql-*/doc' || return 1
	src=$(ls -d "$WORK"/postgresql-*/ | head -n 1)
	src=${src%/}
	phase "unpack"

	(cd "$src" && ./configure --prefix="$PREFIX" $PG_CONFIGURE_OPTS CFLAGS="$PG_BUILD_CFLAGS") >"$WORK/configure.log" 2>&1 ||
		{ show_log "$WORK/configure.log"; return 1; }
	phase "configure"

	# generated headers once, serially (two makes racing on them collide)
	make -s -C "$src/src/backend" generated-headers >"$WORK/build.log" 2>&1 &&
		make -s -j"$JOBS" -C "$src/src/backend" >>"$WORK/build.log" 2>&1 ||
		{ show_log "$WORK/build.log"; return 1; }
	phase "build the server"
	for d in $PG_BUILD_DIRS; do
		make -s -j"$JOBS" -C "$src/$d" >>"$WORK/build.log" 2>&1 ||
			{ show_log "$WORK/build.log"; return 1; }
	done
	phase "build the client programs and test drivers"

	rm -f "$PREFIX/.stamp"
	for d in $PG_INSTALL_DIRS; do
		make -s -C "$src/$d" install >>"$WORK/install.log" 2>&1 ||
			{ show_log "$WORK/install.log"; return 1; }
	done
	make -s -C "$src/src" install-local >>"$WORK/install.log" 2>&1 ||
		{ show_log "$WORK/install.log"; return 1; }
	echo "$stamp" >"$PREFIX/.stamp"
	phase "install"
}

if [ -x "$PREFIX/bin/pg_config" ] && [ "$(cat "$PREFIX/.stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "# reusing the build in $PREFIX"
else
	build_pg || bail "build PostgreSQL ($PG_SOURCE_PACKAGE) with --enable-cassert"
fi
PG_CONFIG=$PREFIX/bin/pg_config
echo "# $("$PG_CONFIG" --version), configure: $("$PG_CONFIG" --configure)"
"$PG_CONFIG" --configure | grep -q -- "--enable-cassert"
check "PostgreSQL built with --enable-cassert" $?

# --- pglearn, from a copy of the tree (the main build's objects stay)
mkdir -p "$WORK/pglearn" &&
	cp -a Makefile pglearn.control src sql expected specs "$WORK/pglearn/" &&
	rm -f "$WORK/pglearn"/src/*.o "$WORK/pglearn"/src/*.bc "$WORK/pglearn"/*.so ||
	bail "copy the extension's sources"
# -o: take the crawler's targets (wired into all and install) as done; the
# suites need only the extension
make -s -C "$WORK/pglearn" PG_CONFIG="$PG_CONFIG" -o crawler-all -o crawler-install install \
	>"$WORK/pglearn-build.log" 2>&1
status=$?
grep -i "warning" "$WORK/pglearn-build.log" | sed 's/^/# /' && echo "# (build produced warnings)"
[ "$status" = 0 ] || show_log "$WORK/pglearn-build.log"
check "pglearn builds and installs against it" "$status"
[ "$status" = 0 ] || finish
phase "build pglearn"

# --- a throwaway cluster of those binaries, make installcheck
PG_BINDIR=$PREFIX/bin
cluster_start >"$WORK/cluster.log" 2>&1 || { show_log "$WORK/cluster.log"; bail "start a cluster of the assert-enabled server"; }
da=$("$PG_BINDIR/psql" -X -At -c "SHOW debug_assertions" 2>&1)
check "the cluster runs with debug_assertions = $da" "$([ "$da" = on ]; echo $?)"

# make installcheck runs pg_regress and then pg_isolation_regress in one
# recipe, so a failed pg_regress would skip the isolation tests: run the
# two halves one after the other
status=0
: >"$WORK/installcheck.log"
for half in ISOLATION= REGRESS=; do
	PGOPTIONS=${PGLEARN_CASSERT_PGOPTIONS:-} \
		make -C "$WORK/pglearn" PG_CONFIG="$PG_CONFIG" installcheck "$half" >>"$WORK/installcheck.log" 2>&1 ||
		status=1
done
sed 's/^/# /' "$WORK/installcheck.log" | grep -E '^# (test | +)?[a-z_0-9]+ +\.\.\. |tests? (passed|failed)'
ntests=0
while read -r name result; do
	ntests=$((ntests + 1))
	check "installcheck under assertions: $name" "$([ "$result" = ok ]; echo $?)"
done < <(sed -nE 's/^(test | +)?([a-z_0-9]+) +\.\.\. +(ok|FAILED|failed).*/\2 \3/p' "$WORK/installcheck.log")
# as many results as the Makefile lists tests
want=$(make -s -C "$WORK/pglearn" PG_CONFIG="$PG_CONFIG" --eval 'print-tests: ; @echo $(REGRESS) $(ISOLATION)' print-tests | wc -w)
if [ "$status" != 0 ] || [ "$ntests" != "$want" ]; then
	show_log "$WORK/installcheck.log"
	for d in regression.diffs output_iso/regression.diffs; do
		[ -f "$WORK/pglearn/$d" ] && head -n 200 "$WORK/pglearn/$d" | sed 's/^/#   /'
	done
fi
check "make installcheck (pg_regress, then isolation) exits 0 with all $want tests run ($ntests)" \
	"$([ "$status" = 0 ] && [ "$want" -gt 0 ] && [ "$ntests" = "$want" ]; echo $?)"
phase "installcheck"

# --- the server log
log=$CLUSTER_DIR/server.log
as_cluster_user "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" status >/dev/null 2>&1
check "the server is still running after the suites" $?
traps=$(grep -cE 'TRAP: |terminated by signal|server process .* was terminated' "$log")
[ "$traps" = 0 ] || grep -E -B2 -A30 'TRAP: |terminated by signal' "$log" | head -n 120 | sed 's/^/#   /'
check "no failed assertion (TRAP) and no crashed backend in the server log" "$traps"
# A WARNING the suites raise on purpose is in their expected output, checked
# by hand (e.g. the scoring trigger's "could not score"); any other is a
# finding.
grep -h '^WARNING:  ' expected/*.out | sort -u >"$WORK/expected_warnings"
grep 'WARNING: ' "$log" | sed 's/^.*WARNING:  /WARNING:  /' | grep -vxFf "$WORK/expected_warnings" >"$WORK/unexpected_warnings"
warnings=$(grep -c '' "$WORK/unexpected_warnings")
[ "$warnings" = 0 ] || head -n 20 "$WORK/unexpected_warnings" | sed 's/^/#   /'
check "no WARNING but the suites' expected ones (leaks, unclosed resources, memory context corruption) in the server log ($warnings)" "$warnings"

echo "# phases${phases#,}; total $(($(date +%s) - started)) s"
finish
