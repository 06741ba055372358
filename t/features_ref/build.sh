#!/usr/bin/env bash
# t/features_ref/build.sh DIR: build the reference features() (the code
# before the fast path: ref_features.c, ref_tokenize.c) as
# DIR/pglearn_features_ref.so, with the compiler and flags PGXS builds
# pglearn with (pg_config), and print its path.  Used by t/features_ref/run.sh
# and bench/features.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$here/../../src
out=$1
mkdir -p "$out"
cc=$(pg_config --cc)
cflags="$(pg_config --cflags) $(pg_config --cflags_sl)"
for f in ref_features ref_tokenize; do
	# shellcheck disable=SC2086
	$cc $cflags -I"$here" -iquote "$src" -I"$(pg_config --includedir-server)" \
		-c "$here/$f.c" -o "$out/$f.o"
done
# shellcheck disable=SC2086
$cc $cflags -shared -o "$out/pglearn_features_ref.so" "$out/ref_features.o" "$out/ref_tokenize.o" \
	-Wl,--version-script="$here/ref.map" -lm
chmod -R a+rX "$out"
echo "$out/pglearn_features_ref.so"
