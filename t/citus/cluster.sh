# t/citus/cluster.sh: a throwaway Citus cluster for the Citus suite and bench/citus.sh (sourced).
#
# citus_ensure_installed: Citus 13.2 in the PostgreSQL the PATH's pg_config names, built
# from ../shared/vendor/citus (see its build.sh) when it is absent and we are root; returns
# non-zero with CITUS_SKIP_REASON set when it cannot be had.
#
# citus_start: a coordinator and CITUS_WORKERS (default 2) workers, each its own data
# directory under one temporary directory, owned by the unprivileged user of t/lib/cluster.sh,
# listening on 127.0.0.1 at a free port and on a unix socket there, with citus preloaded; the
# workers are registered with the coordinator in database $CITUS_DB (created, with the citus
# extension, on every node).  Sets CITUS_DIR, CITUS_COORD_PORT, CITUS_WORKER_PORTS (array) and
# exports PGHOST (the socket directory), PGPORT (the coordinator), PGUSER.  citus_stop stops
# every node and removes the directory; callers trap it on EXIT.
#
# Needs t/lib/cluster.sh sourced first (PG_BINDIR, free_port, as_cluster_user).

CITUS_WORKERS=${CITUS_WORKERS:-2}
CITUS_DB=${CITUS_DB:-pglearn_citus}

citus_ensure_installed() {
	local libdir sharedir vendor
	libdir=$(pg_config --pkglibdir)
	sharedir=$(pg_config --sharedir)
	if [ -f "$libdir/citus.so" ] && [ -f "$sharedir/extension/citus.control" ]; then
		return 0
	fi
	# next to this checkout, or next to the checkout it was cloned from
	# (.ci/run tests a fresh clone in a private temporary directory)
	local top origin
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	vendor=$top/../shared/vendor/citus
	origin=$(git -C "$top" config --get remote.origin.url 2>/dev/null || true)
	if [ ! -f "$vendor/build.sh" ] && [ -n "$origin" ] && [ -f "$origin/../shared/vendor/citus/build.sh" ]; then
		vendor=$(cd "$origin/../shared/vendor/citus" && pwd)
	fi
	if [ ! -f "$vendor/build.sh" ]; then
		CITUS_SKIP_REASON="Citus is not installed and its source is not at $vendor"
		return 1
	fi
	if [ "$(id -u)" != 0 ]; then
		CITUS_SKIP_REASON="Citus is not installed and building it needs root"
		return 1
	fi
	# its build dependencies, only for this suite
	local p missing=""
	for p in liblz4-dev libzstd-dev libkrb5-dev; do
		dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 ||
			{ CITUS_SKIP_REASON="could not install Citus's build dependencies:$missing"; return 1; }
	fi
	echo "# building Citus from $vendor" >&2
	bash "$vendor/build.sh" >"/tmp/pglearn-citus-build.$$.log" 2>&1 ||
		{ tail -20 "/tmp/pglearn-citus-build.$$.log" >&2
		  CITUS_SKIP_REASON="building Citus from $vendor failed"; return 1; }
	rm -f "/tmp/pglearn-citus-build.$$.log"
	[ -f "$libdir/citus.so" ] || { CITUS_SKIP_REASON="Citus built but $libdir/citus.so is missing"; return 1; }
}

# _citus_node NAME PORT: initdb and start one node
_citus_node() {
	local name=$1 port=$2 dir=$CITUS_DIR/$1
	as_cluster_user "$PG_BINDIR/initdb" -D "$dir" -U "$PGUSER" --auth=trust \
		--encoding=UTF8 --locale=C.UTF-8 >"$CITUS_DIR/$name.initdb.log" 2>&1 ||
		{ cat "$CITUS_DIR/$name.initdb.log" >&2; return 1; }
	cat >>"$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$CITUS_DIR'
shared_preload_libraries = 'citus'
fsync = off
max_connections = 100
max_worker_processes = 16
max_parallel_workers_per_gather = 0
shared_buffers = 128MB
citus.log_distributed_deadlock_detection = off
CONF
	as_cluster_user "$PG_BINDIR/pg_ctl" -D "$dir" -l "$CITUS_DIR/$name.log" -w start >/dev/null ||
		{ cat "$CITUS_DIR/$name.log" >&2; return 1; }
}

citus_start() {
	local i port
	if [ "$(id -u)" = 0 ]; then
		id "$CLUSTER_OS_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$CLUSTER_OS_USER"
		PGUSER=$CLUSTER_OS_USER
	else
		PGUSER=$(id -un)
	fi
	export PGUSER
	CITUS_DIR=$(mktemp -d /tmp/pglearn-citus.XXXXXX)
	chmod 755 "$CITUS_DIR"
	[ "$(id -u)" = 0 ] && chown "$CLUSTER_OS_USER" "$CITUS_DIR"
	CITUS_COORD_PORT=$(free_port)
	_citus_node coordinator "$CITUS_COORD_PORT" || return 1
	CITUS_WORKER_PORTS=()
	for i in $(seq "$CITUS_WORKERS"); do
		port=$(free_port)
		CITUS_WORKER_PORTS+=("$port")
		_citus_node "worker$i" "$port" || return 1
	done
	export PGHOST=$CITUS_DIR PGPORT=$CITUS_COORD_PORT
	for port in "$CITUS_COORD_PORT" "${CITUS_WORKER_PORTS[@]}"; do
		psql -X -q -p "$port" -d postgres -c "CREATE DATABASE $CITUS_DB" >/dev/null &&
			psql -X -q -p "$port" -d "$CITUS_DB" -c "CREATE EXTENSION citus" >/dev/null || return 1
	done
	psql -X -q -v ON_ERROR_STOP=1 -d "$CITUS_DB" \
		-c "SELECT citus_set_coordinator_host('127.0.0.1', $CITUS_COORD_PORT)" >/dev/null || return 1
	for port in "${CITUS_WORKER_PORTS[@]}"; do
		psql -X -q -v ON_ERROR_STOP=1 -d "$CITUS_DB" \
			-c "SELECT citus_add_node('127.0.0.1', $port)" >/dev/null || return 1
	done
}

citus_stop() {
	local d
	if [ -n "${CITUS_DIR:-}" ] && [ -d "$CITUS_DIR" ]; then
		for d in "$CITUS_DIR"/coordinator "$CITUS_DIR"/worker*; do
			[ -f "$d/postmaster.pid" ] &&
				as_cluster_user "$PG_BINDIR/pg_ctl" -D "$d" -m fast -w stop >/dev/null 2>&1
		done
		rm -rf "$CITUS_DIR"
	fi
	CITUS_DIR=
}
