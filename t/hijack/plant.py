#!/usr/bin/env python3
"""t/hijack/plant.py: the attacker's look-alikes, generated from the scripts.

Reads what extract.py found in pglearn's scripts (calls, operators,
relations, identifiers) and asks the database (as the superuser, before
anything is planted) what those names are in pg_catalog and in pglearn:
function and aggregate signatures, operators, implicit casts, base types,
relations.  Writes the SQL an unprivileged role with CREATE on schema
public runs to plant, in public:

  functions   for every called name that pg_catalog has (or that pglearn has
              and a script calls unqualified): every combination of argument
              types of each arity seen at a call site or declared in
              pg_catalog (arity 1-2 over TYPES, 3 over TYPES_3; longer ones
              one type throughout, or text and one type alternating as in
              jsonb_build_object), VARIADIC T[] versions of variadic ones,
              the named-argument forms seen at call sites (make_interval(days
              => ...)), and exact copies of every pg_catalog signature --
              each only where some pg_catalog signature would accept those
              arguments too, so that it competes for real calls;
  aggregates  the same for aggregate names (count(*), max, string_agg, ...),
              so that ORDER BY, FILTER and OVER still parse;
  operators   for every symbol used (binary, and prefix where pg_catalog
              has prefix ones): every pair over TYPES and exact copies;
  types       a domain over each pg_catalog base type the scripts name
              (int4, jsonb, text, ...) whose CHECK records;
  relations   a view named after each pg_catalog relation the scripts read
              (pg_attribute) and after each relation of pglearn (examples,
              models, ...), whose scan records.

Window functions are left out: only C can define one.  So are combinations
of polymorphic types only (anyelement, anyarray): they can only tie with
pg_catalog's polymorphic signatures (an "is not unique" error), never win.
So is o(T, T) for an operator that pg_catalog lacks on (T, T) when the
scripts apply it to a literal that is not valid input of T (jsonb ->> 'k'):
PostgreSQL would pick it for "x o 'literal'" (an unknown operand is taken
as the other's type) and then fail to read the literal, so it can never
run, only turn the calls around it into errors that hide what comes after.

Each planted object, when it runs, raises WARNING "HIJACK <object> ran as
<role>" and takes nextval('public.hijack_seq'): the sequence survives the
victim's rollback.  Then, as a careful attacker's would, it returns what
pg_catalog's object returns for the same arguments (functions and
operators call it, one-argument aggregates collect their rows and hand them
to it), so that the victim goes on and every later hijack on its way is
recorded too; where that fails, or for other aggregates, it returns NULL
of the type the best-matching pg_catalog signature returns.

Usage: plant.py EXTRACT.json DB OUT.sql SUMMARY.json   (PG* name the server)
"""
import itertools
import json
import subprocess
import sys

# argument types of the generated combinations (format_type spelling)
TYPES = ["text", "smallint", "integer", "bigint", "numeric", "real", "double precision",
         "jsonb", "boolean", "timestamp with time zone", "interval", "name", "oid",
         "regclass", "text[]", "integer[]", "bigint[]", "double precision[]",
         "anyelement", "anyarray"]
# the smaller set for arity 3 and up
TYPES_3 = ["text", "integer", "bigint", "numeric", "double precision", "jsonb", "boolean",
           "timestamp with time zone", "anyelement", "text[]"]

POLY_ELEM = {"anyelement", "anynonarray", "anyenum"}
POLY_ARRAY = {"anyarray"}
COMPAT_ELEM = {"anycompatible", "anycompatiblenonarray"}
COMPAT_ARRAY = {"anycompatiblearray"}
POLY_OTHER = {"anyrange", "anymultirange", "anycompatiblerange", "anycompatiblemultirange", '"any"'}
POLY = POLY_ELEM | POLY_ARRAY | COMPAT_ELEM | COMPAT_ARRAY | POLY_OTHER
# types plpgsql cannot take or that an unprivileged role cannot name
UNUSABLE = {"internal", "cstring", '"any"', "language_handler", "fdw_handler", "index_am_handler",
            "tsm_handler", "table_am_handler", "trigger", "event_trigger", "pg_ddl_command",
            "unknown", "void", '"char"[]'}


def psql_json(db, script):
    out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db],
                         input="SET search_path = pg_catalog, pg_temp;\n" + script,
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("plant.py: catalog query failed: " + out.stderr)
    lines = [l for l in out.stdout.splitlines() if l.strip()]
    return json.loads(lines[-1]) if lines and lines[-1] != "" else None


def catalog(db, ex):
    names = sorted(ex["calls"])
    symbols = sorted(set(ex["binary_operators"]) | set(ex["prefix_operators"]))
    arr = lambda xs: "ARRAY[" + ",".join("$q$%s$q$" % x for x in xs) + "]::text[]" if xs else "ARRAY[]::text[]"
    funcs = psql_json(db, """
SELECT coalesce(json_agg(json_build_object(
	'oid', p.oid, 'schema', n.nspname, 'name', p.proname, 'kind', p.prokind,
	'nargs', p.pronargs, 'ndefaults', p.pronargdefaults,
	'args', coalesce((SELECT json_agg(format_type(t, NULL) ORDER BY o)
						FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, o)), '[]'),
	'variadic', CASE WHEN p.provariadic <> 0 THEN format_type(p.provariadic, NULL) END,
	'ret', format_type(p.prorettype, NULL), 'retset', p.proretset,
	'outs', coalesce((SELECT json_agg(json_build_array(coalesce(p.proargnames[o], 'column' || o), format_type(t, NULL)) ORDER BY o)
						FROM unnest(p.proallargtypes, p.proargmodes) WITH ORDINALITY u(t, m, o) WHERE m IN ('o', 't')), '[]'),
	'arguments', pg_get_function_arguments(p.oid), 'result', pg_get_function_result(p.oid),
	'member', EXISTS (SELECT FROM pg_depend d JOIN pg_extension x ON x.oid = d.refobjid
					   WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
						 AND x.extname = 'pglearn'))
	ORDER BY n.nspname, p.proname, p.oid), '[]')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('pg_catalog', 'pglearn') AND p.proname = ANY (%s)
""" % arr(names))
    ops = psql_json(db, """
SELECT coalesce(json_agg(json_build_object('name', oprname, 'kind', oprkind,
	'left', CASE WHEN oprleft <> 0 THEN format_type(oprleft, NULL) END,
	'right', format_type(oprright, NULL), 'ret', format_type(oprresult, NULL)) ORDER BY oid), '[]')
  FROM pg_operator WHERE oprnamespace = 'pg_catalog'::regnamespace AND oprname = ANY (%s)
""" % arr(symbols))
    casts = psql_json(db, """
SELECT json_agg(json_build_array(format_type(castsource, NULL), format_type(casttarget, NULL)))
  FROM pg_cast WHERE castcontext = 'i'
""")
    types = psql_json(db, """
SELECT coalesce(json_agg(json_build_array(typname, format_type(oid, NULL)) ORDER BY typname), '[]')
  FROM pg_type WHERE typnamespace = 'pg_catalog'::regnamespace AND typtype IN ('b', 'e', 'r', 'm')
   AND typcategory <> 'P' AND typname = ANY (%s)
""" % arr(ex["identifiers"]))
    rels = psql_json(db, """
SELECT coalesce(json_agg(json_build_object('schema', n.nspname, 'name', c.relname,
	'columns', (SELECT json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod),
											   a.atttypid IN (SELECT oid FROM pg_type WHERE typnamespace = 'pg_catalog'::regnamespace))
								ORDER BY a.attnum)
				  FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))
	ORDER BY n.nspname, c.relname), '[]')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f')
   AND ((n.nspname = 'pg_catalog' AND c.relname = ANY (%s))
		OR (n.nspname = 'pglearn' AND EXISTS (SELECT FROM pg_depend d JOIN pg_extension x ON x.oid = d.refobjid
											   WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
												 AND d.deptype = 'e' AND x.extname = 'pglearn')))
""" % arr(ex["relations"]))
    # which literal operands are not valid input of which type
    pairs = [(op, lit) for op, lit in ex["literal_operands"]]
    lits = sorted({lit for _, lit in pairs})
    concrete = [t for t in TYPES if t not in POLY]
    invalid = psql_json(db, """
CREATE FUNCTION pg_temp.hj_valid(v text, t text) RETURNS bool LANGUAGE plpgsql AS $f$
BEGIN
	EXECUTE format('SELECT %%L::%%s', v, t);
	RETURN true;
EXCEPTION WHEN OTHERS THEN
	RETURN false;
END
$f$;
SELECT coalesce(json_agg(json_build_array(t, v)), '[]')
  FROM unnest(%s) v, unnest(%s) t WHERE NOT pg_temp.hj_valid(v, t);
""" % (arr(lits), arr(concrete)))
    return funcs, ops, casts, types, rels, invalid


class Planter:
    def __init__(self, casts):
        self.implicit = {(a, b) for a, b in casts}
        self.sql = []
        self.keys = set()
        self.n = 0
        self.counts = {"functions": 0, "aggregates": 0, "operators": 0, "types": 0, "relations": 0}
        self.per_name = {}
        self.skipped = []
        self.controls = []      # statements that call planted objects by their full names

    # --- type matching ---------------------------------------------------

    def position_score(self, decl, given):
        if decl == given:
            return 3
        if decl in POLY:
            is_array = given.endswith("[]") or given == "anyarray"
            if decl in POLY_ARRAY | COMPAT_ARRAY:
                return 1 if is_array or given == "anyelement" else -100
            if decl in ("anynonarray", "anycompatiblenonarray"):
                return 1 if not is_array else -100
            if decl in POLY_OTHER and decl != '"any"':
                return 0 if given == "anyelement" else -100     # ranges: none in TYPES
            return 1
        if (given, decl) in self.implicit:
            return 2
        if given in ("anyelement", "anyarray"):
            return 0
        return -100

    def best(self, candidates, combo):
        """The candidate (args list) matching combo best, or None."""
        best, best_score = None, None
        for c in candidates:
            decl = c["expanded"]
            if len(decl) != len(combo):
                continue
            score = sum(self.position_score(d, g) for d, g in zip(decl, combo))
            if score < -50:
                continue
            if best_score is None or score > best_score:
                best, best_score = c, score
        return best

    @staticmethod
    def resolve(ret, decl, combo):
        """ret with the polymorphic types bound from combo, or None."""
        if ret not in POLY:
            return ret
        for elem_kinds, array_kinds in ((POLY_ELEM, POLY_ARRAY), (COMPAT_ELEM, COMPAT_ARRAY)):
            if ret not in elem_kinds | array_kinds:
                continue
            elem = None
            for d, g in zip(decl, combo):
                if d in elem_kinds:
                    elem = "anyelement" if g in ("anyelement", "anyarray") else g
                elif d in array_kinds:
                    if g.endswith("[]"):
                        elem = g[:-2]
                    elif g in ("anyarray", "anyelement"):
                        elem = "anyelement"
                if elem:
                    break
            if elem is None:
                return None
            if ret in elem_kinds:
                return elem
            if elem == "anyelement":
                return "anyarray"
            return None if elem.endswith("[]") else elem + "[]"
        return None

    # --- emitting ----------------------------------------------------------

    @staticmethod
    def body(label, returns_set, delegate=None):
        """Record, then (as an attacker would, to go unnoticed) return what
        pg_catalog's own object returns: delegate is that call, e.g.
        "pg_catalog.concat_ws($1, $2, $3)"; if it fails, NULL."""
        record = ("\tRAISE WARNING 'HIJACK % ran as %', " + literal(label) + ", current_user;\n"
                  "\tPERFORM nextval('public.hijack_seq');\n")
        if delegate is None:
            tail = "\tRETURN" + ("" if returns_set else " NULL") + ";\n"
        elif returns_set:
            tail = ("\tBEGIN\n\t\tRETURN QUERY SELECT * FROM " + delegate + ";\n"
                    "\tEXCEPTION WHEN OTHERS THEN\n\t\tRETURN;\n\tEND;\n")
        else:
            tail = ("\tBEGIN\n\t\tRETURN " + delegate + ";\n"
                    "\tEXCEPTION WHEN OTHERS THEN\n\t\tRETURN NULL;\n\tEND;\n")
        return ("LANGUAGE plpgsql SET search_path = pg_catalog AS $hj$\nBEGIN\n" + record + tail + "END\n$hj$;")

    @staticmethod
    def call_of(name, n, variadic=False, names=None):
        """pg_catalog.name($1, ..., $n), the last one VARIADIC if asked."""
        args = ["$%d" % (i + 1) for i in range(n)]
        if names:
            args = ["%s => %s" % (quote(x), a) for x, a in zip(names, args)]
        if variadic and args:
            args[-1] = "VARIADIC " + args[-1]
        return "pg_catalog.%s(%s)" % (quote(name), ", ".join(args))

    @staticmethod
    def usable(types):
        return all(t not in UNUSABLE and not t.startswith("pglearn.") for t in types)

    def function(self, name, params, sig, ret, retset=False, outs=(), delegate=None):
        """params: the parameter list as written ("type", "name type",
        "VARIADIC type"); sig: the input types PostgreSQL keys it by."""
        key = ("f", name, tuple(sig))
        if key in self.keys:
            return False
        self.keys.add(key)
        outs = list(outs)
        all_params = list(params) + ["OUT %s %s" % (quote(o), t) for o, t in outs]
        if len(outs) > 1:
            result = "SETOF record" if retset else "record"
        else:
            result = ("SETOF " if retset else "") + ret
        label = "function public.%s(%s)" % (name, ", ".join(params))
        self.sql.append("CREATE FUNCTION public.%s(%s) RETURNS %s\n%s"
                        % (quote(name), ", ".join(all_params), result,
                           self.body(label, retset or len(outs) > 1,
                                     delegate if (retset or len(outs) <= 1) else None)))
        self.counts["functions"] += 1
        self.per_name[name] = self.per_name.get(name, 0) + 1
        if not self.controls and not outs and not any(t in POLY for t in sig) and \
                not any(x.startswith("VARIADIC") for x in params):
            self.controls.append("SELECT public.%s(%s)" % (quote(name), ", ".join("NULL::%s" % t for t in sig)))
        return True

    def copy_function(self, c):
        key = ("f", c["name"], tuple(c["args"]))
        if key in self.keys:
            return
        self.keys.add(key)
        label = "function public.%s(%s)" % (c["name"], ", ".join(c["args"]))
        returns_set = c["retset"] or c["result"].startswith("TABLE") or len(c["outs"]) > 0
        self.sql.append("CREATE FUNCTION public.%s(%s) RETURNS %s\n%s"
                        % (quote(c["name"]), c["arguments"], c["result"],
                           self.body(label, returns_set,
                                     None if (returns_set and not c["retset"]) or c["schema"] != "pg_catalog"
                                     else self.call_of(c["name"], len(c["args"]), bool(c["variadic"])))))
        self.counts["functions"] += 1
        self.per_name[c["name"]] = self.per_name.get(c["name"], 0) + 1

    def aggregate(self, name, args, ret):
        """A look-alike aggregate.  With one argument that is not an array it
        is transparent: the transition function (which records, for every
        row) collects the values and the final function hands them to
        pg_catalog's aggregate; count(*) counts.  Others return NULL."""
        key = ("f", name, tuple(args))
        if key in self.keys:
            return
        self.keys.add(key)
        self.n += 1
        sfunc, ffunc = "hj_sfunc_%d" % self.n, "hj_ffunc_%d" % self.n
        label = "aggregate public.%s(%s)" % (name, ", ".join(args) if args else "*")
        record = ("\tRAISE WARNING 'HIJACK % ran as %', " + literal(label) + ", current_user;\n"
                  "\tPERFORM nextval('public.hijack_seq');\n")
        head = "LANGUAGE plpgsql SET search_path = pg_catalog AS $hj$\nBEGIN\n"
        if not args:
            # count(*) and its kind: the state counts the rows
            self.sql.append("CREATE FUNCTION public.%s(bigint) RETURNS bigint\n%s%s\tRETURN $1 + 1;\nEND\n$hj$;"
                            % (sfunc, head, record))
            self.sql.append("CREATE AGGREGATE public.%s(*) (SFUNC = public.%s, STYPE = bigint, INITCOND = '0');"
                            % (quote(name), sfunc))
        elif len(args) == 1 and not args[0].endswith("[]") and args[0] not in POLY:
            stype = args[0] + "[]"
            self.sql.append("CREATE FUNCTION public.%s(%s, %s) RETURNS %s\n%s%s\tRETURN $1 || $2;\nEND\n$hj$;"
                            % (sfunc, stype, args[0], stype, head, record))
            self.sql.append("CREATE FUNCTION public.%s(%s) RETURNS %s\n%s"
                            "\tBEGIN\n\t\tRETURN (SELECT pg_catalog.%s(x) FROM pg_catalog.unnest($1) x);\n"
                            "\tEXCEPTION WHEN OTHERS THEN\n\t\tRETURN NULL;\n\tEND;\nEND\n$hj$;"
                            % (ffunc, stype, ret, head, quote(name)))
            self.sql.append("CREATE AGGREGATE public.%s(%s) (SFUNC = public.%s, STYPE = %s, FINALFUNC = public.%s, INITCOND = '{}');"
                            % (quote(name), args[0], sfunc, stype, ffunc))
        else:
            self.sql.append("CREATE FUNCTION public.%s(%s) RETURNS %s\n%s"
                            % (sfunc, ", ".join([ret] + list(args)), ret, self.body(label, False)))
            self.sql.append("CREATE AGGREGATE public.%s(%s) (SFUNC = public.%s, STYPE = %s);"
                            % (quote(name), ", ".join(args), sfunc, ret))
        self.counts["aggregates"] += 1
        self.per_name[name] = self.per_name.get(name, 0) + 1

    def operator(self, symbol, left, right, ret):
        key = ("o", symbol, left, right)
        if key in self.keys:
            return
        self.keys.add(key)
        self.n += 1
        fn = "hj_op_%d" % self.n
        label = "operator public.%s(%s, %s)" % (symbol, left or "NONE", right)
        args = [t for t in (left, right) if t]
        delegate = ("$1 OPERATOR(pg_catalog.%s) $2" % symbol) if left else ("OPERATOR(pg_catalog.%s) $1" % symbol)
        self.sql.append("CREATE FUNCTION public.%s(%s) RETURNS %s\n%s"
                        % (fn, ", ".join(args), ret, self.body(label, False, delegate)))
        self.sql.append("CREATE OPERATOR public.%s (%sRIGHTARG = %s, FUNCTION = public.%s);"
                        % (symbol, "LEFTARG = %s, " % left if left else "", right, fn))
        self.counts["operators"] += 1
        self.per_name[symbol] = self.per_name.get(symbol, 0) + 1
        if len(self.controls) == 1 and left and left not in POLY and right not in POLY:
            self.controls.append("SELECT NULL::%s OPERATOR(public.%s) NULL::%s" % (left, symbol, right))


def quote(ident):
    return '"' + ident.replace('"', '""') + '"'


def literal(text):
    return "'" + text.replace("'", "''") + "'"


def expand(c):
    """Argument lists a call of c can have: the declared ones, fewer when it
    has defaults, the variadic element spelled out 1 to 3 times."""
    args = c["args"]
    out = [args]
    for k in range(1, c["ndefaults"] + 1):
        out.append(args[:len(args) - k])
    if c["variadic"]:
        fixed = args[:-1]
        elem = c["variadic"]
        for extra in (1, 2, 3):
            out.append(fixed + [elem] * extra)
    return out


def plant(ex, db):
    funcs, ops, casts, types, rels, invalid = catalog(db, ex)
    invalid = {(t, v) for t, v in invalid}
    p = Planter(casts)
    by_name = {}
    for f in funcs:
        by_name.setdefault(f["name"], []).append(f)

    for name, info in sorted(ex["calls"].items()):
        cands = by_name.get(name, [])
        pgc = [c for c in cands if c["schema"] == "pg_catalog"]
        if not pgc:
            # a pglearn name: a look-alike only matters where a script calls it unqualified
            if not info["unqualified"] or not cands:
                continue
            pgc = cands
        if all(c["kind"] == "w" for c in pgc):
            p.skipped.append({"name": name, "why": "window function (only C can define one)"})
            continue
        pgc = [c for c in pgc if c["kind"] != "w"]
        expanded = []
        for c in pgc:
            for e in expand(c):
                d = dict(c)
                d["expanded"] = e
                expanded.append(d)
        is_agg = any(c["kind"] == "a" for c in pgc)
        arities = set(info["arities"]) | {len(e["expanded"]) for e in expanded if len(e["expanded"]) <= 3}

        def emit(combo, names=None):
            if combo and all(t in POLY for t in combo):
                return      # can only tie with pg_catalog's polymorphic signatures
            b = p.best(expanded, list(combo))
            if b is None:
                return
            ret = Planter.resolve(b["ret"], b["expanded"], list(combo))
            if ret is None or not p.usable([ret]):
                if any(t in POLY for t in combo):
                    return
                ret = "text"
            outs = []
            if len(b["outs"]) > 1:
                for o, t in b["outs"]:
                    rt = Planter.resolve(t, b["expanded"], list(combo))
                    if rt is None or not p.usable([rt]):
                        return
                    outs.append((o, rt))
            if is_agg:
                if b["kind"] != "a":
                    return
                p.aggregate(name, list(combo), ret)
            else:
                params = list(combo) if names is None else ["%s %s" % (quote(n), t) for n, t in zip(names, combo)]
                p.function(name, params, list(combo), ret, b["retset"], outs,
                           delegate=Planter.call_of(name, len(combo), names=names) if b["schema"] == "pg_catalog" else None)

        for a in sorted(arities):
            if a == 0:
                if is_agg:
                    if any(c["kind"] == "a" and c["nargs"] == 0 and c["ret"] == "bigint" for c in pgc):
                        p.aggregate(name, [], "bigint")
                else:
                    emit(())
                continue
            if a <= 2:
                for combo in itertools.product(TYPES, repeat=a):
                    emit(combo)
            elif a == 3:
                for combo in itertools.product(TYPES_3, repeat=a):
                    emit(combo)
            else:
                for t in TYPES_3:
                    emit((t,) * a)
                    if a % 2 == 0:
                        emit(("text", t) * (a // 2))
        for named in info["named"]:
            for combo in itertools.product(TYPES if len(named) == 1 else TYPES_3, repeat=len(named)):
                emit(combo, names=named)
        if not is_agg:
            for c in pgc:
                if c["variadic"] and c["kind"] == "f":
                    fixed = c["args"][:-1]
                    if not p.usable(fixed):
                        continue
                    for t in TYPES_3:
                        if t in POLY or t.endswith("[]"):
                            continue
                        combo = fixed + [t]
                        b = p.best(expanded, combo) or dict(c, expanded=c["args"])
                        ret = Planter.resolve(b["ret"], b["expanded"], combo) or "text"
                        if not p.usable([ret]):
                            ret = "text"
                        p.function(name, fixed + ["VARIADIC %s[]" % t], fixed + [t + "[]"], ret, c["retset"],
                                   delegate=Planter.call_of(name, len(fixed) + 1, variadic=True))
        # exact copies of pg_catalog's own signatures
        for c in pgc:
            if c["schema"] != "pg_catalog" or not p.usable(c["args"]) or not p.usable([c["ret"]]) or \
                    not p.usable([t for _, t in c["outs"]]):
                continue
            if c["kind"] == "a":
                if "anyenum" not in c["args"]:      # CREATE AGGREGATE refuses a plpgsql anyenum transition
                    p.aggregate(name, c["args"], c["ret"])
            elif c["kind"] == "f":
                p.copy_function(c)

    # operators
    by_sym = {}
    for o in ops:
        by_sym.setdefault(o["name"], []).append(o)
    literal_ops = {}
    for op, lit in ex["literal_operands"]:
        literal_ops.setdefault(op, set()).add(lit)
    for symbol in sorted(set(ex["binary_operators"]) | set(ex["prefix_operators"])):
        cands = by_sym.get(symbol, [])
        binary = [dict(o, expanded=[o["left"], o["right"]]) for o in cands if o["kind"] == "b"]
        prefix = [dict(o, expanded=[o["right"]]) for o in cands if o["kind"] == "l"]
        exact = {(o["left"], o["right"]) for o in cands}
        if binary:
            for left, right in itertools.product(TYPES, repeat=2):
                if left in POLY and right in POLY:
                    continue
                if left == right and (left, right) not in exact and left not in POLY and \
                        any((left, lit) in invalid for lit in literal_ops.get(symbol, ())):
                    p.skipped.append({"name": "%s(%s, %s)" % (symbol, left, right),
                                      "why": "the scripts apply it to a literal that is not valid %s input" % left})
                    continue
                b = p.best(binary, [left, right])
                if b is None:
                    continue
                ret = Planter.resolve(b["ret"], b["expanded"], [left, right])
                if ret is None or not p.usable([ret]):
                    if left in POLY or right in POLY:
                        continue
                    ret = "text"
                p.operator(symbol, left, right, ret)
            for o in binary:
                if p.usable([o["left"], o["right"], o["ret"]]):
                    p.operator(symbol, o["left"], o["right"], o["ret"])
        if prefix:
            for t in TYPES:
                if t in POLY:
                    continue
                b = p.best(prefix, [t])
                if b is None:
                    continue
                ret = Planter.resolve(b["ret"], b["expanded"], [t])
                if ret is None:
                    continue
                p.operator(symbol, None, t, ret)
            for o in prefix:
                if p.usable([o["right"], o["ret"]]):
                    p.operator(symbol, None, o["right"], o["ret"])

    # relations: views that record when they are scanned
    for r in rels:
        label = "relation public.%s" % r["name"]
        mark = "(SELECT public.hijack_mark(%s))" % literal(label)
        if r["schema"] == "pg_catalog":
            # a view cannot have a column of a pseudo-type (attmissingval anyarray)
            cols = ", ".join("%s%s" % (quote(a), "::text AS " + quote(a) if t in POLY else "")
                             for a, t, ok in r["columns"])
            p.sql.append("CREATE VIEW public.%s AS SELECT %s FROM pg_catalog.%s WHERE %s;"
                         % (quote(r["name"]), cols, quote(r["name"]), mark))
        else:
            cols = ", ".join("NULL::%s AS %s" % (t if ok else "text", quote(a)) for a, t, ok in r["columns"])
            p.sql.append("CREATE VIEW public.%s AS SELECT %s WHERE NOT %s;" % (quote(r["name"]), cols, mark))
        p.counts["relations"] += 1
        p.per_name["relation " + r["name"]] = 1
    # types: domains whose CHECK records (created last: the statements above
    # name pg_catalog's types)
    for typname, formatted in types:
        p.sql.append("CREATE DOMAIN public.%s AS pg_catalog.%s CHECK (public.hijack_mark(%s));"
                     % (quote(typname), quote(typname), literal("type public." + typname)))
        p.counts["types"] += 1
        p.per_name["type " + typname] = 1

    head = ["SET search_path = pg_catalog;",
            "CREATE SEQUENCE public.hijack_seq;",
            "SELECT nextval('public.hijack_seq');      -- from here on, last_value - 1 runs",
            "CREATE FUNCTION public.hijack_mark(what text) RETURNS bool\n"
            "LANGUAGE plpgsql SET search_path = pg_catalog AS $hj$\nBEGIN\n"
            "\tRAISE WARNING 'HIJACK % ran as %', what, current_user;\n"
            "\tPERFORM nextval('public.hijack_seq');\n\tRETURN true;\nEND\n$hj$;"]
    return head + p.sql, p


if __name__ == "__main__":
    ex_file, db, out_sql, out_summary = sys.argv[1:5]
    ex = json.load(open(ex_file))
    sql, p = plant(ex, db)
    with open(out_sql, "w") as f:
        f.write("\n".join(sql) + "\n")
    summary = {"counts": p.counts, "per_name": p.per_name, "skipped": p.skipped, "controls": p.controls,
               "statements": len(sql)}
    with open(out_summary, "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps(p.counts))
