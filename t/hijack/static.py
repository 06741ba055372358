#!/usr/bin/env python3
"""t/hijack/static.py: every SQL and plpgsql function of pglearn is pinned.

For each member of extension pglearn whose language is sql or plpgsql, one
of these must hold, else it is listed (JSON on stdout):

  - its proconfig holds search_path=pg_catalog, pg_temp (and no other
    search_path);
  - it has a SQL-standard body (prosqlbody IS NOT NULL): bound to its
    objects when it was created;
  - it is a procedure (a procedure that COMMITs cannot have a SET clause)
    and its body names everything PostgreSQL would look up at run time in
    full: every operator as OPERATOR(schema.op), every function
    schema-qualified, every type in DECLARE and after :: qualified (or a
    SQL keyword type such as integer), no relation unqualified, none of
    IN (...), BETWEEN, LIKE, NULLIF, IS DISTINCT FROM, CASE x WHEN (each
    looks up "="), and no EXECUTE.  The body is read with extract.py's lexer.

Usage: static.py DB [LABEL]   (with LABEL: a PASS/FAIL line for run.sh)
"""
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from extract import Lexer, NOT_CALLS  # noqa: E402

PINNED = "search_path=pg_catalog, pg_temp"
# type names the SQL grammar maps to pg_catalog itself
KEYWORD_TYPES = {"integer", "int", "bigint", "smallint", "boolean", "real", "double", "float",
                 "numeric", "decimal", "varchar", "char", "character", "timestamp", "time",
                 "interval", "bit", "dec", "national", "nchar"}
# keywords that are no function call even when "(" follows
NO_LOOKUP = (NOT_CALLS | {"coalesce", "greatest", "least", "loop", "exit", "continue", "foreach",
                          "raise", "notice", "warning", "perform", "commit", "rollback", "get",
                          "diagnostics", "strict", "found"}) - {"nullif"}


class Sink:
    def __init__(self):
        self.lists = []

    def string(self, s):
        pass

    def tokens(self, toks):
        self.lists.append(toks)


def unqualified_names(body):
    sink = Sink()
    Lexer(body, sink).run()
    problems = []
    for toks in sink.lists:
        n = len(toks)
        in_declare = False
        decl_start = True
        ctes = {toks[i][1] for i in range(n - 2)
                if toks[i][0] == "ident" and toks[i + 1] == ("ident", "as") and toks[i + 2] == ("punct", "(")}
        for i, (kind, val) in enumerate(toks):
            prev = toks[i - 1] if i else ("punct", ";")
            nxt = toks[i + 1] if i + 1 < n else ("punct", ";")
            if kind == "ident" and val == "declare":
                in_declare, decl_start = True, True
                continue
            if kind == "ident" and val == "begin":
                in_declare = False
            if in_declare:
                if val == ";":
                    decl_start = True
                    continue
                if decl_start and kind in ("ident", "qident"):
                    # name [CONSTANT] type ...
                    j = i + 1
                    if j < n and toks[j] == ("ident", "constant"):
                        j += 1
                    if j < n and toks[j][0] in ("ident", "qident") and toks[j][1] not in ("alias",):
                        t = toks[j][1]
                        qualified = j + 1 < n and toks[j + 1] == ("punct", ".")
                        if not qualified and t not in KEYWORD_TYPES:
                            problems.append("type %s in DECLARE" % t)
                    decl_start = False
                    continue
            if kind == "op":
                if not (i >= 3 and toks[i - 1] == ("punct", ".") and toks[i - 3] == ("punct", "(")
                        and i >= 4 and toks[i - 4] == ("ident", "operator")):
                    problems.append("operator %s" % val)
            elif kind == "ident":
                if prev == ("punct", "::") and nxt != ("punct", ".") and val not in KEYWORD_TYPES:
                    problems.append("type %s after ::" % val)
                elif nxt == ("punct", "(") and prev != ("punct", ".") and val not in NO_LOOKUP \
                        and prev != ("punct", "::"):
                    problems.append("function %s()" % val)
                elif val == "in" and nxt == ("punct", "("):
                    problems.append("IN (...) (looks up =)")
                elif val in ("between", "like", "ilike", "similar", "nullif"):
                    problems.append("%s (looks up an operator)" % val.upper())
                elif val == "distinct" and prev[1] in ("is", "not"):
                    problems.append("IS DISTINCT FROM (looks up =)")
                elif val == "case" and nxt != ("ident", "when"):
                    problems.append("CASE x WHEN (looks up =)")
                elif val == "execute":
                    problems.append("EXECUTE (dynamic SQL)")
                elif prev[0] == "ident" and prev[1] in ("from", "join", "update") and \
                        nxt not in (("punct", "("), ("punct", ".")) and val not in ctes and val not in NOT_CALLS:
                    problems.append("relation %s" % val)
    return sorted(set(problems))


def check(db):
    out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db], text=True,
                         capture_output=True, input="""
SET search_path = pg_catalog, pg_temp;
SELECT coalesce(json_agg(json_build_object('sig', p.oid::regprocedure::text, 'lang', l.lanname,
	'kind', p.prokind, 'config', p.proconfig, 'sqlbody', p.prosqlbody IS NOT NULL, 'src', p.prosrc)
	ORDER BY p.proname, p.oid), '[]')
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'pglearn'
 WHERE l.lanname IN ('sql', 'plpgsql');
""")
    if out.returncode:
        sys.exit("static.py: " + out.stderr)
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    failures, how = [], {}
    for r in rows:
        paths = [c for c in (r["config"] or []) if c.startswith("search_path=")]
        if r["sqlbody"]:
            how[r["sig"]] = "SQL-standard body"
            continue
        if paths == [PINNED]:
            how[r["sig"]] = "SET search_path"
            continue
        why = "no SET search_path = pg_catalog, pg_temp and no SQL-standard body"
        if paths:
            why = "search_path is %s, not pg_catalog, pg_temp" % paths[0][len("search_path="):]
        if r["kind"] == "p" and not paths:
            problems = unqualified_names(r["src"])
            if not problems:
                how[r["sig"]] = "procedure with every name qualified"
                continue
            why += "; a procedure, but its body leaves unqualified: " + ", ".join(problems)
        failures.append({"sig": r["sig"], "lang": r["lang"], "why": why})
    return {"checked": len(rows), "failures": failures, "how": how}


if __name__ == "__main__":
    d = check(sys.argv[1])
    if len(sys.argv) < 3:
        json.dump(d, sys.stdout, indent=1)
        print()
        sys.exit()
    # static.py DB LABEL: the PASS/FAIL line run.sh prints
    print("%s\tstatic, %s: every SQL and plpgsql function of pglearn (%d) fixes its search_path or has a "
          "SQL-standard body (%d do not)" % ("PASS" if not d["failures"] else "FAIL", sys.argv[2],
                                             d["checked"], len(d["failures"])))
    for f in d["failures"]:
        print("#   %s (%s): %s" % (f["sig"], f["lang"], f["why"]))
