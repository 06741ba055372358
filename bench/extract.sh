#!/bin/bash
# bench/extract.sh: what main-content extraction (crawler/extract.c) does to
# accuracy.  The SpamAssassin e-mails (t/lib/spam_corpus.sh) become the
# articles of 8 sites, each with its own layout around them (4 layouts: HTML5
# header/nav/main/article/aside/footer; div soup with a cookie banner, menu,
# sidebar and footer by class names only; a table layout; bare divs without
# names or <p>), its navigation, a sidebar of the site's 5 previous article
# titles and an "about" paragraph, and a footer.  Sites are chosen by a hash
# of the URL, not by label, so the layout carries no label: it is noise, as
# on a real site.  The pages are served from 127.0.0.1 and crawled twice into
# one database by two builds of HEAD's crawler that differ only in
# crawler/extract.c: the one before main-content extraction (BASE) and
# HEAD's.  Then, in the same run, on the corpus's train/test split: test
# accuracy, F1 and log loss of pglearn.train (C = 1) on 20, 50, 200, 1000
# random train rows (SEEDS seeds, the same rows for every variant) and on all
# of them, and of pglearn.fit() (its default C grid) on 200 and on all train
# rows; for the e-mails themselves (no page around them), the whole-page
# text (BASE) and the main text (HEAD).  Also how much of each article the
# body kept and how many bodies carry the footer/sidebar text.
# Not a test.  Throwaway cluster unless PGHOST/PGPORT is set.
# Writes bench/RESULTS.md, section "## Main content".  About 1.5 minutes.
#
# Usage: bench/extract.sh [SEEDS (default 10)]
set -eu

seeds=${1:-10}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
. "$here/lib.sh"
. "$root/t/lib/cluster.sh"
. "$root/t/lib/spam_corpus.sh"
# the last commit whose crawler/extract.c kept the whole page's text
BASE=${EXTRACT_BASE:-6e3efcce69b35ece0bb580652fa959d9d804d3ce}
HEAD_REV=$(git -C "$root" rev-parse --short HEAD)

WORK=$(mktemp -d /tmp/pglearn-extract-bench.XXXXXX)
DB=extract_bench_$$
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	bench_cleanup
}
trap cleanup EXIT
bench_use_cluster
q() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

csv=$(spam_corpus_csv)

# ---- two crawlers: HEAD's crawler/, and the same with BASE's extract.c ----
for v in before after; do
	mkdir -p "$WORK/$v"
	git -C "$root" archive HEAD crawler src/tracking.h pglearn.control | tar -x -C "$WORK/$v"
	if [ "$v" = before ]; then
		git -C "$root" show "$BASE:crawler/extract.c" >"$WORK/$v/crawler/extract.c"
		git -C "$root" show "$BASE:crawler/extract.h" >"$WORK/$v/crawler/extract.h"
	fi
	make -s -C "$WORK/$v/crawler" pglearn >/dev/null
done

# ---- the sites: every e-mail an article page ----
python3 - "$csv" "$WORK/site" "$WORK/pages.csv" <<'PY'
import csv, hashlib, html, os, re, sys

csv.field_size_limit(1 << 30)
src, site, out = sys.argv[1], sys.argv[2], sys.argv[3]
SITES = [
    ("Harbour Notes", ["News", "Boats", "Weather", "Events", "Contact"]),
    ("The Daily Tide", ["World", "Business", "Sport", "Culture", "Opinion"]),
    ("Allotment Society", ["Plots", "Seeds", "Meetings", "Join", "Links"]),
    ("Tom's page", ["Home", "About", "Photos", "Links", "Guestbook"]),
    ("Backstube Berta", ["Rezepte", "Kurse", "Shop", "Blog", "Kontakt"]),
    ("Canal Cyclists", ["Rides", "Routes", "Repairs", "Forum", "Members"]),
    ("Pg Admins", ["Docs", "Howto", "Releases", "Jobs", "Community"]),
    ("City Library", ["Catalogue", "Opening hours", "Children", "Archive", "Help"]),
]
ABOUT = [
    "This site is written by volunteers in their spare time and has no advertising of any kind.",
    "Independent local journalism since 1921, owned by its readers and free to read for everyone.",
    "Our society looks after ninety plots by the river and welcomes new members every spring.",
    "I am a retired teacher who writes about cycling, gardening and the odd computer problem.",
    "Handgemachtes Brot aus dem Holzofen, jeden Samstag frisch auf dem Wochenmarkt.",
    "A club for people who ride bicycles along the canal, whatever the weather and whatever the bike.",
    "Notes from people who run databases for a living, written after things broke at night.",
    "The library is open six days a week and lends books, music and tools to everyone in town.",
]
e = html.escape

def article_html(text, with_p):
    paras = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    if with_p:
        return "\n".join("<p>%s</p>" % "<br>\n".join(e(l) for l in p.splitlines()) for p in paras)
    return "<br><br>\n".join("<br>\n".join(e(l) for l in p.splitlines()) for p in paras)

def page(k, name, sections, about, recent, title, body):
    nav = "".join('<li><a href="/site%d/%s.html">%s</a></li>' % (k, s.lower(), e(s)) for s in sections)
    rec = "".join('<li><a href="%s">%s</a></li>' % (u, e(t or "(no subject)")) for u, t in recent)
    foot = "(c) local site %s. All rights reserved. Powered by a site builder." % e(name)
    layout = k % 4
    head = "<title>%s - %s</title>" % (e(title), e(name))
    if layout == 0:
        b = ('<header><a href="/site%d/">%s</a><nav><ul>%s</ul></nav></header><main><article><h1>%s</h1>%s</article></main>'
             '<aside><h2>Recent posts</h2><ul>%s</ul><h2>About</h2><p>%s</p></aside><footer><p>%s</p>'
             '<a href="/site%d/privacy.html">Privacy</a> <a href="/site%d/terms.html">Terms</a></footer>'
             % (k, e(name), nav, e(title), article_html(body, True), rec, e(about), foot, k, k))
    elif layout == 1:
        b = ('<div class="cookie-notice">We use cookies to give you the best experience on our website. '
             '<a href="/site%d/privacy.html">Learn more</a> <button>Accept</button></div>'
             '<div id="header"><h1>%s</h1><div id="menu"><ul>%s</ul></div></div><div id="container">'
             '<div id="content"><div class="post"><h2>%s</h2><div class="entry">%s</div></div></div>'
             '<div id="sidebar"><h3>Recent posts</h3><ul>%s</ul><h3>About</h3><p>%s</p></div></div>'
             '<div id="footer">%s <a href="/site%d/contact.html">Contact</a></div>'
             % (k, e(name), nav, e(title), article_html(body, True), rec, e(about), foot, k))
    elif layout == 2:
        links = "<br>".join('<a href="/site%d/%s.html">%s</a>' % (k, s.lower(), e(s)) for s in sections)
        recl = "<br>".join('<a href="%s">%s</a>' % (u, e(t or "(no subject)")) for u, t in recent)
        b = ('<table width="100%%"><tr><td colspan="2"><font size="+2">%s</font></td></tr><tr>'
             '<td width="160" valign="top">%s<br><br><b>Recent</b><br>%s<br><br>%s</td>'
             '<td valign="top"><h2>%s</h2>%s</td></tr><tr><td colspan="2">%s</td></tr></table>'
             % (e(name), links, recl, e(about), e(title), article_html(body, True), foot))
    else:
        links = " | ".join('<a href="/site%d/%s.html">%s</a>' % (k, s.lower(), e(s)) for s in sections)
        recl = " ".join('<a href="%s">%s</a>' % (u, e(t or "(no subject)")) for u, t in recent)
        b = ('<div>%s</div><div>%s</div><div><b>%s</b><br>%s</div><div>Recent: %s</div>'
             '<div>%s</div><div>%s</div>'
             % (e(name), links, e(title), article_html(body, False), recl, e(about), foot))
    return "<!DOCTYPE html><html><head><meta charset=\"utf-8\">%s</head><body>%s</body></html>" % (head, b)

with open(out + ".about", "w", encoding="utf-8") as a:
    a.write("\n".join(ABOUT) + "\n")
recent = {k: [] for k in range(len(SITES))}
with open(src, newline="") as f, open(out, "w", newline="") as o:
    w = csv.writer(o)
    w.writerow(["url", "mail_title", "mail_body", "label", "split", "site"])
    for row in csv.DictReader(f):
        key = row["url"].rsplit("/", 1)[1]
        k = int(hashlib.md5(("site" + key).encode()).hexdigest(), 16) % len(SITES)
        name, sections = SITES[k]
        path = "site%d/%s.html" % (k, key)
        os.makedirs(os.path.join(site, "site%d" % k), exist_ok=True)
        with open(os.path.join(site, path), "w", encoding="utf-8") as p:
            p.write(page(k, name, sections, ABOUT[k], recent[k][-5:], row["title"], row["body"]))
        recent[k].append(("/" + path, row["title"]))
        w.writerow(["/" + path, row["title"], row["body"], row["label"], row["split"], k])
PY

python3 -u -m http.server -b 127.0.0.1 -d "$WORK/site" 0 >"$WORK/server.log" 2>&1 &
server_pid=$!
port=
for _ in $(seq 100); do
	port=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$WORK/server.log")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "page server did not start" >&2; exit 1; }
site="http://127.0.0.1:$port"

psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB" >/dev/null
q -c "CREATE EXTENSION pglearn" >/dev/null
q <<SQL
CREATE TABLE pages (path text PRIMARY KEY, mail_title text, mail_body text, label int4, split text, site int4);
\copy pages FROM '$WORK/pages.csv' WITH (FORMAT csv, HEADER true)
SQL
sed "s|^/|$site/|" <(q -c "SELECT path FROM pages ORDER BY path") >"$WORK/urls.txt"

# ---- crawl the same pages with each build ----
declare -A secs
for v in before after; do
	q -c "TRUNCATE pglearn.examples" >/dev/null
	t0=$(date +%s.%N)
	"$WORK/$v/crawler/pglearn" crawl --allow-cidr 127.0.0.1/32 --quiet --jobs 8 --per-host 8 --delay 0 \
		--dbname "$DB" --file "$WORK/urls.txt" || { echo "crawl ($v) failed" >&2; exit 1; }
	secs[$v]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	q -c "CREATE TABLE page_$v AS SELECT substr(url, length('$site') + 1) AS path, title, body
		FROM pglearn.examples WHERE fetch_error IS NULL"
done
n_before=$(q -c "SELECT count(*) FROM page_before")
n_after=$(q -c "SELECT count(*) FROM page_after")
n_pages=$(q -c "SELECT count(*) FROM pages")
[ "$n_before" = "$n_pages" ] && [ "$n_after" = "$n_pages" ] ||
	{ echo "crawled $n_before / $n_after of $n_pages pages" >&2; exit 1; }

# ---- what the bodies hold ----
q -F $'\t' -c "SELECT 'before', path, body FROM page_before UNION ALL SELECT 'after', path, body FROM page_after" >"$WORK/bodies.tsv"
python3 - "$WORK/pages.csv" "$WORK/bodies.tsv" >"$WORK/kept.txt" <<'PY'
import csv, re, sys
csv.field_size_limit(1 << 30)
words = lambda s: set(re.findall(r"\w+", s.lower()))
about = open(sys.argv[1] + ".about", encoding="utf-8").read().splitlines()
mail = {}
with open(sys.argv[1], newline="") as f:
    for r in csv.DictReader(f):
        mail[r["url"]] = (words(r["mail_body"]), int(r["site"]))
stats = {}
for line in open(sys.argv[2], encoding="utf-8"):
    v, path, body = line.rstrip("\n").split("\t", 2)
    art, site = mail[path]
    s = stats.setdefault(v, [0, 0.0, 0, 0, 0])
    s[0] += 1
    s[1] += len(art & words(body)) / max(1, len(art))
    s[2] += "(c) local site" in body
    s[3] += about[site] in body
    s[4] += len(body)
    layout = stats.setdefault((v, site % 4), [0, 0])
    layout[0] += 1
    layout[1] += "(c) local site" in body
for v in ("before", "after"):
    n, recall, foot, side, chars = stats[v]
    print("%s %.4f %.4f %.4f %.0f" % (v, recall / n, foot / n, side / n, chars / n))
names = ("HTML5 landmarks", "class-named divs", "table layout", "bare divs")
print("footer " + ", ".join("%s %.2f" % (names[k], stats[("after", k)][1] / stats[("after", k)][0]) for k in range(4)))
PY

# ---- accuracy, same rows for every variant ----
q <<SQL >/dev/null
CREATE TABLE variant_rows AS
	SELECT 'mail' AS variant, '$site' || p.path AS url, p.mail_title AS title, p.mail_body AS body, p.label, p.split FROM pages p
	UNION ALL SELECT 'before', '$site' || p.path, b.title, b.body, p.label, p.split FROM pages p JOIN page_before b USING (path)
	UNION ALL SELECT 'after', '$site' || p.path, a.title, a.body, p.label, p.split FROM pages p JOIN page_after a USING (path);
-- rows are drawn by their path, so every run (whatever the server's port) draws the same ones
CREATE TABLE feat AS SELECT variant, url, substr(url, length('$site') + 1) AS path, label, split,
	pglearn.features(url, title, body) AS f FROM variant_rows;
CREATE TABLE results (variant text, n int4, seed int4, accuracy float8, f1 float8, log_loss float8);
DO \$\$
DECLARE
	v text;
	n int4;
	s int4;
BEGIN
	FOREACH v IN ARRAY ARRAY['mail', 'before', 'after'] LOOP
		FOREACH n IN ARRAY ARRAY[20, 50, 200, 1000, 0] LOOP
			FOR s IN 1..CASE WHEN n = 0 THEN 1 ELSE $seeds END LOOP
				INSERT INTO results
				SELECT v, n, s, (e->>'accuracy')::float8, (e->>'f1')::float8, (e->>'log_loss')::float8
				FROM (SELECT pglearn.evaluate(pglearn.classify(m.m, t.f), t.label) AS e
					  FROM feat t,
						   (SELECT pglearn.train(x.f, x.label) AS m
							  FROM (SELECT f, label FROM feat
									 WHERE variant = v AND split = 'train'
									 ORDER BY md5(s || path) LIMIT CASE WHEN n = 0 THEN NULL ELSE n END) x) m
					 WHERE t.variant = v AND t.split = 'test') r;
			END LOOP;
		END LOOP;
	END LOOP;
END
\$\$;
SQL

# fit(): its own C grid by cross-validation, on 200 random train rows (every seed) and on all
for v in mail before after; do
	q -c "CREATE VIEW fit_${v}_all AS SELECT url, title, body, label FROM variant_rows WHERE variant = '$v' AND split = 'train'" >/dev/null
	for s in $(seq 1 "$seeds") all; do
		if [ "$s" = all ]; then
			n=0; view=fit_${v}_all; seed=1
		else
			n=200; view=fit_${v}_200_$s; seed=$s
			q -c "CREATE VIEW $view AS SELECT url, title, body, label FROM variant_rows
				WHERE variant = '$v' AND split = 'train' ORDER BY md5($s || substr(url, length('$site') + 1)) LIMIT 200" >/dev/null
		fi
		q -c "SELECT pglearn.fit('$view', '$view')" >/dev/null
		q -c "INSERT INTO results SELECT 'fit_$v', $n, $seed,
			(e->>'accuracy')::float8, (e->>'f1')::float8, (e->>'log_loss')::float8
			FROM (SELECT pglearn.evaluate(pglearn.classify('$view', url, title, body), label) AS e
				  FROM variant_rows WHERE variant = '$v' AND split = 'test') r" >/dev/null
	done
done
fitc=$(q -c "SELECT string_agg(DISTINCT params->>'C', ', ') FROM pglearn.models")

# ---- the section ----
date_run=$(date -u +%Y-%m-%d)
cpus=$(nproc)
pgver=$(q -c "SHOW server_version" | cut -d' ' -f1)
read -r _ rb fb sb cb < <(grep '^before' "$WORK/kept.txt")
read -r _ ra fa sa ca < <(grep '^after' "$WORK/kept.txt")
ntrain=$(q -c "SELECT count(*) FROM pages WHERE split = 'train'")
ntest=$(q -c "SELECT count(*) FROM pages WHERE split = 'test'")
table=$(q -F '|' -c "
	WITH m AS (
		SELECT regexp_replace(variant, '^fit_', '') AS v, variant LIKE 'fit_%' AS fit, n,
			   avg(accuracy) AS acc, avg(f1) AS f1, avg(log_loss) AS ll
		FROM results GROUP BY variant, n)
	SELECT CASE WHEN a.fit THEN 'fit()' ELSE 'train, C = 1' END,
		   CASE WHEN a.n = 0 THEN 'all $ntrain' ELSE a.n::text END,
		   to_char(ml.acc, '0.0000'), to_char(b.acc, '0.0000'), to_char(a.acc, '0.0000'),
		   to_char(a.acc - b.acc, 'SG0.0000'),
		   to_char(b.f1, '0.0000') || ' → ' || to_char(a.f1, '0.0000'),
		   to_char(b.ll, '0.0000') || ' → ' || to_char(a.ll, '0.0000')
	FROM m a JOIN m b ON b.v = 'before' AND b.fit = a.fit AND b.n = a.n
			 JOIN m ml ON ml.v = 'mail' AND ml.fit = a.fit AND ml.n = a.n
	WHERE a.v = 'after'
	ORDER BY a.fit, a.n = 0, a.n" | sed 's/|/ | /g; s/^/| /; s/$/ |/; s/  */ /g')
# paired: the same train rows before and after
pairs() {
	q -c "SELECT count(*) FILTER (WHERE a.accuracy > b.accuracy) || ' better, ' ||
			count(*) FILTER (WHERE a.accuracy = b.accuracy) || ' equal, ' ||
			count(*) FILTER (WHERE a.accuracy < b.accuracy) || ' worse'
		FROM results a JOIN results b ON b.variant = '$2' AND b.n = a.n AND b.seed = a.seed
		WHERE a.variant = '$1'"
}
better=$(pairs after before)
better_fit=$(pairs fit_after fit_before)

cat >"$WORK/section.md" <<EOF
## Main content

\`bench/extract.sh $seeds\` on $date_run at $HEAD_REV ($cpus CPUs, PostgreSQL $pgver).
The SpamAssassin e-mails (t/lib/spam_corpus.sh, $ntrain train, $ntest test) as the articles of 8 sites
of 4 layouts (HTML5 landmarks; class-named divs with a cookie banner; a table layout; bare divs), each page
with its site's navigation, a sidebar of the site's 5 previous article titles and an "about" paragraph,
and a footer; site chosen by a hash of the URL (not the label). Served from 127.0.0.1 and crawled by two
builds of the same crawler that differ only in crawler/extract.c: **before** = $(git -C "$root" rev-parse --short "$BASE")'s
(the whole page's visible text), **after** = main-content extraction. **e-mail** = the e-mail's own
subject and text under the same URL, no page around it (the ceiling). Test accuracy on the test split;
train = \`pglearn.train\`, C = 1, on n random train rows (the same rows for all three), mean of $seeds seeds
(1 for all rows); fit() = \`pglearn.fit()\` with its default C grid (5-fold cv F1; it chose C = $fitc), on
200 random rows (the same $seeds draws) and on all.

| model | n | e-mail | before | after | after − before | F1 before → after | log loss before → after |
|---|---|---|---|---|---|---|---|
$table

Pairs (the same train rows) where after beats before in test accuracy: train $better; fit() $better_fit.
What the bodies hold (mean over the $n_pages pages): share of the e-mail's distinct words kept $rb → $ra;
bodies with the footer's "(c) local site" $fb → $fa; bodies with the sidebar's "about" paragraph $sb → $sa;
length $cb → $ca characters. After, bodies with the footer by layout: $(sed -n 's/^footer //p' "$WORK/kept.txt"). Crawl time, 8 transfers: $(printf '%s' "${secs[before]}") s before, $(printf '%s' "${secs[after]}") s after (one run each,
same server; a rough view of extraction's cost, not a benchmark of it).
EOF
cat "$WORK/section.md"
bench_write_section "$here/RESULTS.md" "$WORK/section.md" "Main content"
