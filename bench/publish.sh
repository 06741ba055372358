#!/usr/bin/env bash
# bench/publish.sh: what does publishing a recommendation list to Redis
# cost next to computing it?  In the same run, RUNS times each:
#   recommend   SELECT count(*) FROM pglearn.recommend('bench', K)
#   publish     BEGIN; SELECT pglearn.publish('bench', K);  (recommend +
#               recording the members in pglearn.publications + preparing
#               the Redis commands; nothing is sent yet)
#   commit      COMMIT;  (the commit callback writes K example hashes, the
#               sorted set and the id hash, then swaps the list in)
#   total       publish + commit, as one autocommit statement sees it
# against a redis-server of its own on 127.0.0.1 (no persistence).
#
# A benchmark, not a test: no thresholds, it only reports.  Writes the
# section "## Redis publish" of bench/RESULTS.md and prints it.
#
# Usage: bench/publish.sh [K (default 1000)] [RUNS (default 11)] [ROWS (default 20000)]
# Uses the server of the PG* environment when PGHOST or PGPORT is set,
# otherwise starts a throwaway cluster with t/lib/cluster.sh.  Takes well
# under a minute.
set -euo pipefail

cd "$(dirname "$0")/.."
. t/lib/cluster.sh
. bench/lib.sh

K=${1:-1000}
RUNS=${2:-11}
ROWS=${3:-20000}
DB=pglearn_bench_publish_$$
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pglearn-bench-publish.XXXXXX")
chmod 755 "$WORK"
cleanup() {
	[ -f "$WORK/redis.pid" ] && kill "$(cat "$WORK/redis.pid")" 2>/dev/null
	bench_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_use_cluster

RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
	--dir "$WORK" --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log"
for _ in $(seq 100); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.05; done

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
# \timing of each statement, in seconds, one line each
timings() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c '\timing on' "$@" |
	awk '/^Time: / { printf "%.4f\n", $2 / 1000 }'; }
median() {
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

echo "== $ROWS articles into $DB, redis on 127.0.0.1:$RPORT" >&2
psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB"
q -c "CREATE EXTENSION pglearn"
q -c "ALTER DATABASE $DB SET pglearn.redis_url = 'redis://127.0.0.1:$RPORT/0'"
# articles shaped like crawled ones: title, a 150-character description,
# an og:image and a 2 KB body; every other one in the list
q <<SQL
INSERT INTO pglearn.lists (name, url_pattern) VALUES ('bench', '^https://news[0-9]*\.example/a/[0-9]*[02468]$');
INSERT INTO pglearn.examples (url, title, description, og_image, body, score, http_status, fetched_at)
SELECT format('https://news%s.example/a/%s', g % 50, g), 'Article number ' || g || ' about databases',
	   left(repeat(md5(g::text), 5), 150), format('https://img.example/%s.png', g),
	   repeat('lorem ipsum dolor sit amet ', 80), 0.5 + random() / 2, 200, now()
  FROM generate_series(1, $ROWS) g;
ANALYZE pglearn.examples;
SQL
# warm up (plan caches, the library, Redis)
q -c "SELECT pglearn.publish('bench', $K)" >/dev/null

rec=()
pub=()
com=()
tot=()
for r in $(seq "$RUNS"); do
	rec+=("$(timings -c "SELECT count(*) FROM pglearn.recommend('bench', $K)")")
	mapfile -t t < <(timings -c "BEGIN" -c "SELECT pglearn.publish('bench', $K)" -c "COMMIT")
	pub+=("${t[1]}")
	com+=("${t[2]}")
	tot+=("$(timings -c "SELECT pglearn.publish('bench', $K)")")
	echo "== run $r: recommend ${rec[-1]} s, publish ${pub[-1]} s, commit ${com[-1]} s, total ${tot[-1]} s" >&2
done
members=$(redis-cli -p "$RPORT" ZCARD pglearn:list:bench)
hashes=$(redis-cli -p "$RPORT" --scan --pattern 'pglearn:example:*' | wc -l)
[ "$members" = "$K" ] || { echo "expected $K members in Redis, found $members" >&2; exit 1; }

mr=$(median "${rec[@]}")
mp=$(median "${pub[@]}")
mc=$(median "${com[@]}")
mt=$(median "${tot[@]}")
minimum() { printf '%s\n' "$@" | sort -g | head -1; }
nr=$(minimum "${rec[@]}")
np=$(minimum "${pub[@]}")
nc=$(minimum "${com[@]}")
nt=$(minimum "${tot[@]}")
ratio=$(python3 -c "print('%.2f' % ($mt / $mr))")
ratio_min=$(python3 -c "print('%.2f' % ($nt / $nr))")
push_ms=$(python3 -c "print('%.1f' % ($mc * 1000))")
push_share=$(python3 -c "print('%.0f' % (100 * $mc / $mr))")
row() { printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5"; }
cpus=$(nproc)
pgver=$(q -c "SHOW server_version" | awk '{ print $1 }')
redisver=$(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p')

section=$WORK/section.md
{
	echo "## Redis publish"
	echo
	echo "\`bench/publish.sh $K $RUNS $ROWS\` on $(date -u +%Y-%m-%d) ($cpus CPUs, PostgreSQL $pgver, Redis $redisver on"
	echo "127.0.0.1 without persistence, hiredis 0.14). $ROWS articles (150-character description, 2 KB body);"
	echo "list \`bench\` selects half of them, \`recommend('bench', $K)\` returns $K. Seconds as psql's \\timing"
	echo "reports them (client round trip included); median of $RUNS runs."
	echo
	echo "| run | recommend | publish (in transaction) | commit (Redis push) | publish + commit (autocommit) |"
	echo "|---|---|---|---|---|"
	for i in $(seq 0 $((RUNS - 1))); do
		row $((i + 1)) "${rec[$i]}" "${pub[$i]}" "${com[$i]}" "${tot[$i]}"
	done
	row "**median**" "**$mr**" "**$mp**" "**$mc**" "**$mt**"
	row "minimum" "$nr" "$np" "$nc" "$nt"
	echo
	echo "Publishing $K members, commit included, costs ${ratio}x the \`recommend\` query alone by the medians"
	echo "(${ratio_min}x by the minimums); the Redis push itself (the commit) takes ${push_ms} ms, ${push_share}% of the"
	echo "\`recommend\` query. The machine is shared, so single runs vary by about 2x; the per-run columns"
	echo "come from back-to-back statements. \`publish\` inside the"
	echo "transaction runs \`recommend\`, stores the members as jsonb in \`pglearn.publications\` and preformats the"
	echo "commands; the commit callback then connects, pipelines $K \`HSET\` + $K \`EXPIRE\` (the article hashes),"
	echo "the \`ZADD\`/\`HSET\` of the temporary keys and one \`EVAL\` that swaps them in. Redis held $members"
	echo "members and $hashes article hashes at the end."
	echo
} >"$section"
cat "$section"

bench_write_section bench/RESULTS.md "$section" "Redis publish"
echo "== wrote bench/RESULTS.md" >&2
