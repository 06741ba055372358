#!/usr/bin/env bash
# t/fuzz/run.sh: build every libFuzzer target (t/fuzz/fuzz_NAME.c and the
# crawler's crawler/t/fuzz/fuzz_NAME.c), replay its
# saved regression inputs (t/fuzz/regressions/NAME/), then fuzz it from its
# seed corpus (t/fuzz/corpus/NAME/) for FUZZ_SECONDS (default 15).  A crash
# leaves its input in t/fuzz/crashes/ to be fixed and kept as a regression.
# Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-15}
build=$(mktemp -d /tmp/pglearn-fuzz.XXXXXX)
trap 'rm -rf "$build"' EXIT
passed=0
failed=0

# what each target is built from besides itself
sources_for() {
	case "$1" in
		tokenize) echo src/tokenize.c ;;
		fvec) echo src/fvec_parse.c ;;
		model) echo src/model_parse.c src/fvec_parse.c ;;
		parsers) echo crawler/charset.c crawler/extract.c crawler/feed.c crawler/robots.c crawler/util.c ;;
		tsv) echo crawler/add_tsv.c crawler/util.c ;;
		address) echo crawler/address.c ;;
		redis_url) echo src/redis_url.c ;;
	esac
}
flags_for() {
	case "$1" in
		address) echo "-iquote crawler" ;;
		parsers) echo "-I$(pg_config --includedir) $(xml2-config --cflags) $(curl-config --cflags)" ;;
		tsv) echo "-I$(pg_config --includedir) $(curl-config --cflags)" ;;
	esac
}
libs_for() {
	case "$1" in
		parsers) echo "$(curl-config --libs) $(xml2-config --libs)" ;;
		tsv) echo "$(curl-config --libs)" ;;
	esac
}

# the extension's targets, the crawler's address classifier (t/fuzz/fuzz_address.c),
# and the crawler's own (HTML, charsets, feeds, robots.txt, add's TSV)
for target in t/fuzz/fuzz_*.c crawler/t/fuzz/fuzz_*.c; do
	name=$(basename "$target" .c)
	name=${name#fuzz_}
	binary="$build/$name"
	if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-iquote src $(flags_for "$name") \
		"$target" $(sources_for "$name") -o "$binary" $(libs_for "$name"); then
		echo "not ok - $name: build failed"
		failed=$((failed + 1))
		continue
	fi
	if [ -d "t/fuzz/regressions/$name" ] && ls "t/fuzz/regressions/$name"/* >/dev/null 2>&1; then
		if "$binary" -runs=0 "t/fuzz/regressions/$name"/* >"$build/$name.replay.log" 2>&1; then
			echo "ok - $name: regression inputs replay clean"
			passed=$((passed + 1))
		else
			tail -n 30 "$build/$name.replay.log"
			echo "not ok - $name: a regression input fails again"
			failed=$((failed + 1))
		fi
	fi
	mkdir -p "$build/corpus-$name" t/fuzz/crashes
	if "$binary" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix=t/fuzz/crashes/"$name"- \
		"$build/corpus-$name" "t/fuzz/corpus/$name" >"$build/$name.log" 2>&1; then
		runs=$(grep -oE 'Done [0-9]+ runs' "$build/$name.log" | tail -n 1)
		echo "ok - $name: ${runs:-fuzzed} in ${seconds}s, no crash"
		passed=$((passed + 1))
	else
		tail -n 40 "$build/$name.log"
		echo "not ok - $name: crash found, input in t/fuzz/crashes/"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
