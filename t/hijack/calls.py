#!/usr/bin/env python3
"""t/hijack/calls.py: call every function of pglearn, and read what happened.

  calls.py samples DB OUT.json
      Sample values taken from the database (before anything is planted): a
      stored article's URL, two feature vectors, the default model, the
      version of the recorded publication.

  calls.py gen DB SAMPLES.json PATH REDIS_URL OUT.sql OUT.json
      A psql script that, with search_path = PATH, calls every function that
      is a member of extension pglearn (pg_proc joined to pg_depend), once
      with every argument and once more with only those without a default;
      aggregates as aggregates over two rows, procedures with CALL; reads
      every view of the extension; INSERTs and UPDATEs pglearn.examples (the
      scoring trigger).  Arguments come from SAMPLES by type (and, for text
      and integers, by parameter name); a function taking `internal` is a
      support function and is skipped, one returning `trigger` is exercised
      by the INSERT and UPDATE.  An argument type the table below does not
      know is reported in OUT.json ("unknown"), and run.sh fails on it, so
      the list cannot go stale silently.  Every statement of the harness is
      fully qualified (pg_catalog types, OPERATOR(pg_catalog.=)), so that
      what the planted objects catch is pglearn's own SQL.

  calls.py report LOG CALLS.json OUT.json
      Reads psql's stderr of a run of that script: per call, whether it
      failed (and its SQLSTATE), and every "HIJACK" warning with the
      pglearn functions on its CONTEXT stack.
"""
import json
import re
import subprocess
import sys

SAFE = "SET search_path = pg_catalog, pg_temp;\n"


def psql(db, script):
    out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db],
                         input=SAFE + script, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("calls.py: query failed: " + out.stderr)
    return out.stdout


def lit(s):
    return "'" + s.replace("'", "''") + "'"


def samples(db):
    row = psql(db, """
SELECT json_build_object(
	'url', (SELECT url FROM pglearn.examples WHERE label = 1 ORDER BY id LIMIT 1),
	'fvec', (SELECT pglearn.features(url, title, body)::text FROM pglearn.examples WHERE label = 1 ORDER BY id LIMIT 1),
	'fvec2', (SELECT pglearn.features(url, title, body)::text FROM pglearn.examples WHERE label = -1 ORDER BY id LIMIT 1),
	'model', (SELECT model::text FROM pglearn.models WHERE name = 'default' ORDER BY id DESC LIMIT 1),
	'version', (SELECT version FROM pglearn.publications WHERE list = 'general'),
	'row_id', (SELECT min(id) FROM pglearn.examples))
""").strip().splitlines()[-1]
    return json.loads(row)


# --- the sample table: (type, parameter name) -> SQL, and a second value
#     for the second row of an aggregate

def sample(typ, argname, s, fn, second=False):
    """SQL for a value of typ for parameter argname of function fn (a dict),
    or None if the type is not in the table."""
    argname = (argname or "").lower()
    if typ == "text":
        v = {"url": s["url"], "article_url": s["url"], "name": "default", "model_name": "default",
             "list": "general", "what": "k", "title": "Tuning the planner",
             "description": "About vacuum", "body": "index vacuum planner"}.get(argname, "hijack sample")
        return lit(v) + "::pg_catalog.text"
    if typ == "integer":
        # an aggregate's integer is a label (train, evaluate): 1, then -1
        other = (-1 if second else 1) if fn["kind"] == "a" else 5
        v = {"label": -1 if second else 1, "hash_bits": 20, "k": 5, "per_host": 3, "days": 30,
             "batch_size": 100}.get(argname, other)
        return "'%d'::pg_catalog.int4" % v
    if typ == "bigint":
        v = {"after_id": 0, "version": s["version"] or 1, "row_id": s["row_id"]}.get(argname, 1)
        return "'%d'::pg_catalog.int8" % v
    if typ == "double precision":
        v = {"diverse": 0.5, "min_score": 0.1}.get(argname, 0.2 if second else 0.8)
        return "'%s'::pg_catalog.float8" % v
    if typ == "boolean":
        return "'true'::pg_catalog.bool" if argname == "nullable" else "'false'::pg_catalog.bool"
    if typ == "jsonb":
        return "'{}'::pg_catalog.jsonb"
    if typ == "regclass":
        return "'pglearn.examples'::pg_catalog.regclass"
    if typ == "interval":
        return "'10 minutes'::pg_catalog.interval"
    if typ == "tsvector":
        return "'planner:1 vacuum:2,3'::pg_catalog.tsvector"
    if typ == "text[]":
        return "'{general}'::pg_catalog.text[]"
    if typ == "bigint[]":
        return "'{%d}'::pg_catalog.int8[]" % s["row_id"]
    if typ == "tid[]":
        return "'{\"(0,1)\"}'::pg_catalog.tid[]"
    if typ == "double precision[]":
        return "'{0.9,0.8}'::pg_catalog.float8[]"
    if typ == "pglearn.fvec[]":
        return "pg_catalog.array_fill(%s::pglearn.fvec, ARRAY[2])" % lit(s["fvec"])
    if typ == "pglearn.fvec":
        return lit(s["fvec2"] if second else s["fvec"]) + "::pglearn.fvec"
    if typ == "pglearn.model":
        return lit(s["model"]) + "::pglearn.model"
    if typ == "cstring":
        # the input function of a pglearn type reads that type's text
        text = {"pglearn.fvec": s["fvec"], "pglearn.model": s["model"]}.get(fn["ret"])
        return None if text is None else lit(text) + "::pg_catalog.cstring"
    return None


def members(db):
    out = psql(db, """
SELECT coalesce(json_agg(json_build_object(
	'oid', p.oid, 'sig', p.oid::regprocedure::text, 'name', p.proname, 'kind', p.prokind,
	'nargs', p.pronargs, 'ndefaults', p.pronargdefaults,
	'args', coalesce((SELECT json_agg(format_type(t, NULL) ORDER BY o)
						FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, o)), '[]'),
	'argnames', coalesce(to_json(p.proargnames), '[]'), 'argmodes', to_json(p.proargmodes),
	'ret', format_type(p.prorettype, NULL), 'retset', p.proretset,
	'outs', p.proargmodes IS NOT NULL AND p.proargmodes && ARRAY['o', 't']::"char"[],
	'lang', l.lanname) ORDER BY p.proname, p.oid), '[]')
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'pglearn';
SELECT coalesce(json_agg(c.relname ORDER BY c.relname), '[]')
  FROM pg_class c JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
  JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'pglearn'
 WHERE c.relkind IN ('v', 'm');
""").strip().splitlines()
    return json.loads(out[-2]), json.loads(out[-1])


def input_names(f):
    """Names of the input parameters (proargnames also lists OUT ones)."""
    names, modes = f["argnames"], f["argmodes"]
    if not names:
        return [None] * f["nargs"]
    if not modes:
        return names[:f["nargs"]]
    return [n for n, m in zip(names, modes) if m in ("i", "b", "v")]


def gen(db, s, path, redis_url):
    funcs, views = members(db)
    calls, skipped, unknown = [], [], []
    for f in funcs:
        if "internal" in f["args"]:
            skipped.append({"sig": f["sig"], "why": "takes internal (an aggregate's support function)"})
            continue
        if f["ret"] == "trigger":
            skipped.append({"sig": f["sig"], "why": "a trigger function: run by the INSERT and UPDATE below"})
            continue
        names = input_names(f)
        vals, vals2, missing = [], [], []
        for t, n in zip(f["args"], names):
            v = sample(t, n, s, f)
            if v is None:
                missing.append(t)
            vals.append(v)
            vals2.append(sample(t, n, s, f, second=True))
        if missing:
            unknown.append({"sig": f["sig"], "types": sorted(set(missing))})
            continue
        qname = "pglearn.%s" % ('"%s"' % f["name"] if not re.fullmatch(r"[a-z_][a-z0-9_]*", f["name"]) else f["name"])
        variants = [len(vals)]
        if f["ndefaults"]:
            variants.append(len(vals) - f["ndefaults"])
        for nargs in variants:
            args = ", ".join(vals[:nargs])
            if f["kind"] == "a":
                cols = ", ".join("a%d" % i for i in range(nargs))
                sql = "SELECT %s(%s) FROM (VALUES (%s), (%s)) v(%s)" % (
                    qname, ", ".join("v.a%d" % i for i in range(nargs)), args,
                    ", ".join(vals2[:nargs]), cols)
            elif f["kind"] == "p":
                sql = "CALL %s(%s)" % (qname, args)
            elif f["retset"] or f["outs"]:
                sql = "SELECT * FROM %s(%s)" % (qname, args)
            else:
                sql = "SELECT %s(%s)" % (qname, args)
            label = "%s with %d of %d arguments" % (f["sig"], nargs, f["nargs"]) if nargs != f["nargs"] else f["sig"]
            calls.append({"label": label, "function": f["sig"], "sql": sql})
    for v in views:
        calls.append({"label": "view pglearn.%s" % v, "function": "view " + v,
                      "sql": "SELECT * FROM pglearn.%s" % v})
    # the scoring trigger: an insert, an upsert, an update of the text
    calls.append({"label": "INSERT INTO pglearn.examples (trigger)", "function": "trigger examples_score",
                  "sql": "INSERT INTO pglearn.examples (url, title, description, body) VALUES "
                         "('https://hijack.example/new'::pg_catalog.text, 'Vacuum and the planner'::pg_catalog.text, "
                         "'A post'::pg_catalog.text, 'index vacuum planner'::pg_catalog.text)"})
    calls.append({"label": "INSERT ... ON CONFLICT DO UPDATE on pglearn.examples (trigger)",
                  "function": "trigger examples_score",
                  "sql": "INSERT INTO pglearn.examples (url, title, body) VALUES "
                         "('https://hijack.example/new'::pg_catalog.text, 'Vacuum, again'::pg_catalog.text, "
                         "'vacuum freeze'::pg_catalog.text) ON CONFLICT (url) DO UPDATE SET body = EXCLUDED.body"})
    calls.append({"label": "UPDATE pglearn.examples SET title (trigger)", "function": "trigger examples_score",
                  "sql": "UPDATE pglearn.examples SET title = 'Retitled'::pg_catalog.text "
                         "WHERE id OPERATOR(pg_catalog.=) '%d'::pg_catalog.int8" % s["row_id"]})

    lines = ["\\set VERBOSITY default", "\\set SHOW_CONTEXT always", "\\o /dev/null",
             SAFE.strip(),
             "LOAD 'pglearn';",
             "SET client_min_messages = warning;",
             "SET max_parallel_workers_per_gather = 0;",
             "SET statement_timeout = '60s';",
             "SET pglearn.redis_url = %s;" % lit(redis_url)]
    lines += ["SELECT last_value AS hj_seq FROM public.hijack_seq \\gset", "\\warn @@SEQ 0 :hj_seq"]
    for i, c in enumerate(calls, 1):
        lines += ["SET search_path = %s;" % path,
                  "\\warn @@CALL %d" % i,
                  c["sql"] + ";",
                  "\\warn @@DONE %d :ERROR :SQLSTATE" % i,
                  "SET search_path = pg_catalog, pg_temp;",
                  "SELECT last_value AS hj_seq FROM public.hijack_seq \\gset",
                  "\\warn @@SEQ %d :hj_seq" % i]
    return "\n".join(lines) + "\n", {"calls": calls, "skipped": skipped, "unknown": unknown,
                                     "functions": len(funcs), "views": len(views)}


def report(log, calls):
    res = {i: {"label": c["label"], "function": c["function"], "error": None, "sqlstate": None,
               "message": None, "hijacks": [], "seq": None, "done": False}
           for i, c in enumerate(calls["calls"], 1)}
    cur = None
    lines = open(log, encoding="utf-8", errors="replace").read().splitlines()
    i = 0
    seq_before = None
    first_seq = None
    while i < len(lines):
        line = lines[i]
        m = re.match(r"@@CALL (\d+)$", line)
        if m:
            cur = res[int(m.group(1))]
            i += 1
            continue
        m = re.match(r"@@DONE (\d+) (\S+) (\S*)$", line)
        if m:
            r = res[int(m.group(1))]
            r["done"] = True
            r["error"] = m.group(2) == "true"
            r["sqlstate"] = m.group(3) if r["error"] else None
            cur = None
            i += 1
            continue
        m = re.match(r"@@SEQ (\d+) (\d+)$", line)
        if m:
            if int(m.group(1)) == 0:
                first_seq = int(m.group(2))
            else:
                res[int(m.group(1))]["seq"] = int(m.group(2))
            i += 1
            continue
        m = re.match(r"(?:psql:[^:]*:\d+: )?WARNING:  HIJACK (.*) ran as (.*)$", line)
        if m and cur is not None:
            obj, role = m.group(1), m.group(2)
            ctx = []
            j = i + 1
            while j < len(lines) and not re.match(r"(@@|psql:|WARNING:|ERROR:|NOTICE:)", lines[j]):
                ctx.append(lines[j])
                j += 1
            # the frames under the planted one: PL/pgSQL and SQL functions
            # (names print unqualified when their schema is on the path)
            chain = []
            for c in ctx:
                fm = re.search(r'(?:PL/pgSQL function|SQL function) "?([A-Za-z_0-9."]+)"?(\([^)]*\))?', c)
                if fm and not fm.group(1).startswith("public."):
                    chain.append(fm.group(1) + (fm.group(2) or "()"))
            cur["hijacks"].append({"object": obj, "role": role, "via": chain})
            i = j
            continue
        m = re.match(r"(?:psql:[^:]*:\d+: )?ERROR:  (.*)$", line)
        if m and cur is not None and cur["message"] is None:
            cur["message"] = m.group(1)
        i += 1
    # hijacks counted by the sequence: the rise over each call
    prev = first_seq
    for k in sorted(res):
        r = res[k]
        r["seq_delta"] = None if (r["seq"] is None or prev is None) else r["seq"] - prev
        if r["seq"] is not None:
            prev = r["seq"]
    return res


def verdict(name, res, baseline=None, min_ok=None):
    """PASS/FAIL lines (with "#   " diagnostics) for one run of the calls."""
    out = []
    calls = [res[k] for k in sorted(res, key=int)]
    done = [c for c in calls if c["done"]]
    ok = [c for c in done if not c["error"]]
    diag = []
    if len(done) != len(calls):
        diag.append("only %d of %d calls reached their end marker" % (len(done), len(calls)))
    if min_ok is not None:
        good = len(done) == len(calls) and len(ok) >= min_ok
        if not good:
            for c in calls:
                if c["error"]:
                    diag.append("%s: %s %s" % (c["label"], c["sqlstate"], c["message"]))
        out.append(("PASS" if good else "FAIL",
                    "%s: %d calls made, %d succeeded (at least %d must)" % (name, len(calls), len(ok), min_ok), diag))
    # hijacks: the sequence and the warnings
    runs = sum(c["seq_delta"] or 0 for c in calls)
    warned = sum(len(c["hijacks"]) for c in calls)
    diag = []
    hit = [c for c in calls if c["hijacks"] or c["seq_delta"]]
    if hit:
        entry = list(dict.fromkeys(c["function"] for c in hit))
        diag.append("planted code ran in %d calls, through %d entry points: %s"
                    % (len(hit), len(entry), ", ".join(e.split("(")[0].replace("pglearn.", "") for e in entry)))
        total = {}
        for c in hit:
            for h in c["hijacks"]:
                total[h["object"]] = total.get(h["object"], 0) + 1
        diag.append("%d planted objects ran (as %s):" % (len(total), ", ".join(sorted({h["role"] for c in hit for h in c["hijacks"]}))))
        for o, k in sorted(total.items(), key=lambda x: (-x[1], x[0])):
            diag.append("    %6dx %s" % (k, o))
        diag.append("per call (innermost pglearn function last):")
    for c in hit:
        objs = {}
        for h in c["hijacks"]:
            via = " <- ".join(dict.fromkeys(reversed(h["via"]))) if h["via"] else "no pglearn frame: the harness itself?"
            key = (h["object"], via)
            objs[key] = objs.get(key, 0) + 1
        diag.append("%s: %d runs (sequence +%s)" % (c["label"], len(c["hijacks"]), c["seq_delta"]))
        for (o, via), k in sorted(objs.items(), key=lambda x: -x[1])[:6]:
            diag.append("    %dx %s, via %s" % (k, o, via))
        if len(objs) > 6:
            diag.append("    ... and %d more" % (len(objs) - 6))
    out.append(("PASS" if runs == 0 and warned == 0 else "FAIL",
                "%s: no planted object ran (%d runs by the sequence, %d HIJACK warnings, in %d of %d calls)"
                % (name, runs, warned, len(hit), len(calls)), diag))
    if baseline is not None:
        diag = []
        base = {c["label"]: c for c in baseline.values()}
        for c in calls:
            b = base.get(c["label"])
            if b is None or not b["done"]:
                continue
            if (b["error"], b["sqlstate"]) != (c["error"], c["sqlstate"]):
                diag.append("%s: %s with public off the path, %s here%s" % (
                    c["label"], "ok" if not b["error"] else "ERROR " + str(b["sqlstate"]),
                    "ok" if not c["error"] else "ERROR " + str(c["sqlstate"]),
                    ": " + c["message"] if c["message"] else ""))
        out.append(("PASS" if not diag else "FAIL",
                    "%s: every call ends as it does with public off the path (%d differ)" % (name, len(diag)), diag))
    return out


LIMIT = int(__import__("os").environ.get("HIJACK_DIAG", "60"))


def print_verdict(lines):
    for status, desc, diag in lines:
        print("%s\t%s" % (status, desc))
        for d in diag[:LIMIT]:
            print("#   " + d)
        if len(diag) > LIMIT:
            print("#   ... and %d more lines (HIJACK_DIAG=N shows N)" % (len(diag) - LIMIT))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "samples":
        json.dump(samples(sys.argv[2]), open(sys.argv[3], "w"))
    elif cmd == "gen":
        db, sfile, path, redis_url, out_sql, out_json = sys.argv[2:8]
        script, info = gen(db, json.load(open(sfile)), path, redis_url)
        open(out_sql, "w").write(script)
        json.dump(info, open(out_json, "w"), indent=1)
    elif cmd == "report":
        log, cfile, out = sys.argv[2:5]
        json.dump(report(log, json.load(open(cfile))), open(out, "w"), indent=1)
    elif cmd == "verdict":
        # verdict NAME RESULT.json [BASELINE.json|-] [MIN_OK]
        name, rfile = sys.argv[2:4]
        bfile = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] != "-" else None
        min_ok = int(sys.argv[5]) if len(sys.argv) > 5 else None
        print_verdict(verdict(name, json.load(open(rfile)), json.load(open(bfile)) if bfile else None, min_ok))
    else:
        sys.exit("usage: calls.py samples|gen|report|verdict ...")
