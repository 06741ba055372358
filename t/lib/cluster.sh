# t/lib/cluster.sh: throwaway PostgreSQL (and Redis) for the demo and tests.
#
# Sourced, not run.  PostgreSQL refuses to run as root, so when we are root
# the cluster belongs to an unprivileged user (created if missing).  It lives
# in a temporary directory, listens only on a unix socket in that directory
# and on 127.0.0.1 at a free port, and cluster_stop removes it; callers
# install `trap cluster_stop EXIT` so that happens on failure too.
#
# After cluster_start: PGHOST, PGPORT, PGUSER, PGDATABASE point at it.

PG_BINDIR=${PG_BINDIR:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}
CLUSTER_OS_USER=${CLUSTER_OS_USER:-pglearn_cluster}

# Install the Debian packages we need, when we are allowed to.
install_packages() {
	local packages="postgresql-15 postgresql-server-dev-15 libpq-dev libcurl4-openssl-dev
		libxml2-dev libhiredis-dev redis-server postgresql-15-cron liblinear-tools libipc-run-perl make gcc clang libclang-rt-14-dev python3 curl
		ca-certificates"
	local missing=""
	for p in $packages; do
		dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
	done
	command -v npm >/dev/null 2>&1 || missing="$missing npm"
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing packages:$missing (run as root to install them)" >&2
		return 1
	fi
	echo "installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends $missing >/dev/null
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Run a command as the cluster's OS user (or as ourselves when not root).
as_cluster_user() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u "$CLUSTER_OS_USER" -- "$@"
	else
		"$@"
	fi
}

cluster_start() {
	if [ "$(id -u)" = 0 ]; then
		id "$CLUSTER_OS_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$CLUSTER_OS_USER"
		PGUSER=$CLUSTER_OS_USER
	else
		PGUSER=$(id -un)
	fi
	CLUSTER_DIR=$(mktemp -d /tmp/pglearn-cluster.XXXXXX)
	chmod 755 "$CLUSTER_DIR"
	[ "$(id -u)" = 0 ] && chown "$CLUSTER_OS_USER" "$CLUSTER_DIR"
	PGPORT=$(free_port)
	as_cluster_user "$PG_BINDIR/initdb" -D "$CLUSTER_DIR/data" -U "$PGUSER" --auth=trust \
		--encoding=UTF8 --locale=C.UTF-8 >"$CLUSTER_DIR/initdb.log" 2>&1 ||
		{ cat "$CLUSTER_DIR/initdb.log" >&2; return 1; }
	cat >>"$CLUSTER_DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$CLUSTER_DIR'
fsync = off
max_worker_processes = 8
max_parallel_workers = 4
max_parallel_workers_per_gather = 2
shared_buffers = 256MB
CONF
	as_cluster_user "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w start >/dev/null ||
		{ cat "$CLUSTER_DIR/server.log" >&2; return 1; }
	export PGHOST=$CLUSTER_DIR PGPORT PGUSER PGDATABASE=postgres
	export CLUSTER_DIR
}

# A throwaway Redis on a unix socket only (no TCP), run by the cluster's OS
# user: redis_start DIR PERM puts its socket at DIR/redis.sock (DIR created
# and given to that user) with permissions PERM, and its log at
# DIR/redis.log; redis_stop stops it.  The pid is read from Redis's own
# pidfile: the runuser wrapper's pid ($!) is not Redis's, and killing the
# wrapper left Redis running after the suite.
redis_start() {
	local dir=$1 perm=$2
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown "$CLUSTER_OS_USER" "$dir"
	REDIS_DIR=$dir
	as_cluster_user redis-server --port 0 --unixsocket "$dir/redis.sock" --unixsocketperm "$perm" \
		--save '' --appendonly no --daemonize no --pidfile "$dir/redis.pid" >"$dir/redis.log" 2>&1 &
	for _ in $(seq 50); do
		[ -S "$dir/redis.sock" ] && [ -s "$dir/redis.pid" ] && return 0
		sleep 0.1
	done
	return 1
}

redis_stop() {
	if [ -n "${REDIS_DIR:-}" ] && [ -s "$REDIS_DIR/redis.pid" ]; then
		kill "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null
	fi
	REDIS_DIR=
}

cluster_stop() {
	if [ -n "${CLUSTER_DIR:-}" ] && [ -d "$CLUSTER_DIR/data" ]; then
		as_cluster_user "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
		rm -rf "$CLUSTER_DIR"
	fi
	CLUSTER_DIR=
}
