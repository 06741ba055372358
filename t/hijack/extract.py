#!/usr/bin/env python3
"""t/hijack/extract.py: what pglearn's SQL calls by name, read from the scripts.

Lexes the install and update scripts (sql/pglearn--*.sql) and the SQL strings
passed to SPI in src/*.c, and prints as JSON every function name called (with
the argument counts and named arguments seen at its call sites, and whether a
call was schema-qualified), every operator symbol used (binary or prefix), and
the operators implied by SQL syntax (IN and NULLIF mean "=", BETWEEN ">=" and
"<=", LIKE "~~", ...).  run.sh keeps the names PostgreSQL resolves through the
search path and plants look-alikes for them (plant.py).

The lexer follows PostgreSQL's: comments are skipped, dollar-quoted bodies are
lexed as SQL, and so is a string literal that looks like SQL (an identifier
followed by "(" or an upper-case SELECT/FROM/WHERE in it): the fragments
EXECUTE and format() assemble, with format's %% read as % and %s, %I, %L as an
identifier.  It over-approximates on purpose: a name that is not a function is
dropped later because no such function exists.

Usage: extract.py [--self-test] FILE...   (*.c files: only SPI_* arguments)
"""
import json
import re
import sys

OP_CHARS = set("+-*/<>=~!@#%^&|`?")
# SQL keywords that are never function names even when "(" follows them
NOT_CALLS = {
    "select", "from", "where", "and", "or", "not", "in", "exists", "values", "as",
    "on", "using", "returns", "table", "over", "filter", "within", "any", "some",
    "all", "array", "row", "if", "elsif", "when", "then", "else", "case", "return",
    "query", "loop", "while", "union", "except", "intersect", "by", "into", "is",
    "cast", "partition", "with", "join", "lateral", "grouping", "sets", "set",
    "function", "procedure", "aggregate", "operator", "type", "view", "trigger",
    "index", "default", "check", "unique", "primary", "key", "references",
    "constraint", "conflict", "do", "update", "insert", "delete", "limit", "offset",
    "materialized", "order", "group", "having", "distinct", "execute", "perform",
    "raise", "foreach", "for", "begin", "end", "declare", "language", "create",
    "alter", "drop", "replace", "comment", "grant", "revoke", "null", "true",
    "false", "bigserial", "serial", "numeric", "decimal", "varchar", "char",
    "character", "timestamp", "timestamptz", "time", "interval", "float", "int",
    "integer", "bigint", "smallint", "boolean", "bool", "text", "jsonb", "json",
    "double", "precision", "real", "bit", "varying", "int2", "int4", "int8",
    "float4", "float8", "regclass", "sfunc", "stype", "finalfunc", "combinefunc",
    "serialfunc", "deserialfunc", "input", "output", "receive", "send",
    "internallength", "alignment", "storage", "parallel", "leftarg", "rightarg",
    "commutator", "restrict", "procedure", "setof", "out", "inout", "variadic",
    "rows", "call", "returning", "dollar",
}
# keywords after which an operator is a prefix operator
RESERVED = {
    "select", "where", "and", "or", "not", "then", "else", "when", "return", "case",
    "by", "on", "in", "is", "between", "like", "ilike", "having", "limit", "offset",
    "distinct", "all", "any", "some", "elsif", "if", "while", "exit", "continue",
    "using", "set", "values", "from", "as", "into", "returning", "default",
}
# keywords before a name that is being defined or aliased, not called
DEFINES = {"function", "procedure", "aggregate", "table", "type", "as", "into", "view", "index", "exists"}
# special syntax that the parser turns into an ordinary function call
SPECIAL_CALLS = {
    "extract": "extract", "substring": "substring", "position": "position",
    "overlay": "overlay", "trim": "btrim", "normalize": "normalize",
    "collation": "pg_collation_for", "treat": None,
}
# keywords that imply an operator looked up by name
KEYWORD_OPS = {
    "in": ["="], "nullif": ["="], "between": [">=", "<="], "like": ["~~"],
    "ilike": ["~~*"], "similar": ["~"],
}


class Lexer:
    """Tokens of one SQL text: (kind, value) with kind in ident, qident,
    op, num, str, param, punct."""

    def __init__(self, text, out):
        self.t = text
        self.out = out          # Collector

    def run(self):
        t, i, n = self.t, 0, len(self.t)
        toks = []
        while i < n:
            c = t[i]
            if c.isspace():
                i += 1
            elif t.startswith("--", i):
                j = t.find("\n", i)
                i = n if j < 0 else j + 1
            elif t.startswith("/*", i):
                depth, i = 1, i + 2
                while i < n and depth:
                    if t.startswith("/*", i):
                        depth, i = depth + 1, i + 2
                    elif t.startswith("*/", i):
                        depth, i = depth - 1, i + 2
                    else:
                        i += 1
            elif c == "$" and re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", t[i:]):
                tag = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", t[i:]).group(0)
                j = t.find(tag, i + len(tag))
                if j < 0:
                    j = n
                body = t[i + len(tag):j]
                Lexer(body, self.out).run()
                toks.append(("str", ""))
                i = j + len(tag)
            elif c == "$" and i + 1 < n and t[i + 1].isdigit():
                j = i + 1
                while j < n and t[j].isdigit():
                    j += 1
                toks.append(("param", t[i:j]))
                i = j
            elif c in "'" or (c in "eEuU" and i + 1 < n and t[i + 1] == "'" and
                              (i == 0 or not (t[i - 1].isalnum() or t[i - 1] == "_"))):
                escapes = c in "eE"
                if c != "'":
                    i += 1
                j, buf = i + 1, []
                while j < n:
                    if escapes and t[j] == "\\" and j + 1 < n:
                        buf.append(t[j:j + 2])
                        j += 2
                    elif t[j] == "'" and j + 1 < n and t[j + 1] == "'":
                        buf.append("'")
                        j += 2
                    elif t[j] == "'":
                        break
                    else:
                        buf.append(t[j])
                        j += 1
                s = "".join(buf)
                self.out.string(s)
                toks.append(("str", s))
                i = j + 1
            elif c == '"':
                j = t.find('"', i + 1)
                while j >= 0 and j + 1 < n and t[j + 1] == '"':
                    j = t.find('"', j + 2)
                if j < 0:
                    j = n
                toks.append(("qident", t[i + 1:j].replace('""', '"')))
                i = j + 1
            elif c.isalpha() or c == "_":
                j = i
                while j < n and (t[j].isalnum() or t[j] in "_$"):
                    j += 1
                toks.append(("ident", t[i:j].lower()))
                i = j
            elif c.isdigit() or (c == "." and i + 1 < n and t[i + 1].isdigit()):
                m = re.match(r"\d*\.?\d+(?:[eE][+-]?\d+)?|\d+\.", t[i:])
                toks.append(("num", m.group(0)))
                i += len(m.group(0))
            elif c in OP_CHARS:
                j = i
                while j < n and t[j] in OP_CHARS and not t.startswith("--", j) and not t.startswith("/*", j):
                    j += 1
                op = t[i:j]
                # PostgreSQL's rule: a multi-character operator cannot end in
                # + or - unless it contains one of ~ ! @ # % ^ & | ` ?
                while len(op) > 1 and op[-1] in "+-" and not set(op) & set("~!@#%^&|`?"):
                    op = op[:-1]
                toks.append(("op", op))
                i += len(op)
            elif c == ":" and t.startswith("::", i):
                toks.append(("punct", "::"))
                i += 2
            elif c == ":" and t.startswith(":=", i):
                toks.append(("punct", ":="))
                i += 2
            elif t.startswith("..", i):
                toks.append(("punct", ".."))
                i += 2
            else:
                toks.append(("punct", c))
                i += 1
        self.out.tokens(toks)


class Collector:
    def __init__(self):
        self.calls = {}         # name -> {"arities": set, "named": set of tuples, "unqualified": bool}
        self.binary = set()
        self.prefix = set()
        self.relations = set()  # names after FROM, JOIN, UPDATE, INTO, TABLE
        self.idents = set()     # every identifier: the type names among them
        self.literal_operands = set()   # (operator, 'literal') pairs

    def call(self, name, arity, named, qualified):
        e = self.calls.setdefault(name, {"arities": set(), "named": set(), "unqualified": False})
        e["arities"].add(arity)
        if named:
            e["named"].add(tuple(named))
        if not qualified:
            e["unqualified"] = True

    def string(self, s):
        """A literal that looks like SQL is lexed as SQL too."""
        if re.search(r"[A-Za-z_][A-Za-z0-9_]*\s*\(", s) or re.search(r"\b(SELECT|FROM|WHERE)\b", s):
            s = s.replace("%%", "\x00")
            s = re.sub(r"%[-0-9$]*[sIL]", " x ", s)
            s = s.replace("\x00", "%")
            Lexer(s, self).run()

    def tokens(self, toks):
        n = len(toks)
        for i, (kind, val) in enumerate(toks):
            prev = toks[i - 1] if i > 0 else ("punct", "(")
            if kind == "op":
                # after an operand (identifier, literal, ")" or "]") an
                # operator is binary; elsewhere it is a prefix operator
                operand = prev[0] in ("ident", "qident", "num", "str", "param") or prev[1] in (")", "]")
                if prev[0] == "ident" and prev[1] in RESERVED:
                    operand = False
                if operand:
                    self.binary.add(val)
                    if prev[0] == "str":
                        self.literal_operands.add((val, prev[1]))
                    if i + 1 < n and toks[i + 1][0] == "str":
                        self.literal_operands.add((val, toks[i + 1][1]))
                else:
                    self.prefix.add(val)
                # (the plpgsql directive #variable_conflict is no operator,
                # but a stray entry only plants a few more look-alikes)
            elif kind == "ident":
                self.idents.add(val)
                if prev[0] == "ident" and prev[1] in ("from", "join", "update", "into", "table", "only") and \
                        not (i + 1 < n and toks[i + 1][1] in ("(", ".")):
                    self.relations.add(val)
                if prev == ("punct", ".") and i > 2 and toks[i - 3][0] == "ident" and \
                        toks[i - 3][1] in ("from", "join", "update", "into", "table", "only"):
                    self.relations.add(val)      # FROM schema.rel
                if val in KEYWORD_OPS:
                    if val == "in" and prev[1] == "not":
                        self.binary.add("<>")
                    elif val in ("like", "ilike") and prev[1] == "not":
                        self.binary.add("!" + KEYWORD_OPS[val][0])
                    else:
                        self.binary.update(KEYWORD_OPS[val])
                if val == "distinct" and (prev[1] == "is" or (prev[1] == "not" and i > 1 and toks[i - 2][1] == "is")):
                    self.binary.add("=")     # IS [NOT] DISTINCT FROM
                if val == "case" and i + 1 < n and toks[i + 1][1] != "when":
                    self.binary.add("=")     # CASE x WHEN y: x = y
                if i + 1 < n and toks[i + 1] == ("punct", "("):
                    qualified = prev == ("punct", ".")      # pglearn.f(...): noted, but bound to pglearn
                    if val in NOT_CALLS and not qualified:
                        continue
                    if prev[0] == "ident" and prev[1] in DEFINES:
                        continue     # CREATE FUNCTION f(...), COMMENT ON FUNCTION f(...), AS alias(...)
                    if prev == ("punct", "::"):
                        continue     # x::numeric(10, 2) is a type modifier
                    arity, named, star = self.arguments(toks, i + 1)
                    name = SPECIAL_CALLS.get(val, val) if not qualified else val
                    if name is None:
                        continue
                    self.call(name, arity, named, qualified)
            elif kind == "qident" and i + 1 < n and toks[i + 1] == ("punct", "("):
                qualified = prev == ("punct", ".")
                if prev == ("punct", "::"):
                    continue
                arity, named, star = self.arguments(toks, i + 1)
                self.call(val, arity, named, qualified)

    @staticmethod
    def arguments(toks, open_index):
        """Argument count, named arguments and "*" of the call whose "(" is
        at open_index; FROM, FOR and PLACING separate arguments as in
        extract(x FROM y); an ORDER BY inside an aggregate's parentheses
        ends the arguments."""
        depth, i, arity, named, seen, star = 0, open_index, 0, [], False, False
        ended = False
        while i < len(toks):
            kind, val = toks[i]
            if val in ("(", "["):
                depth += 1
                if depth > 1:
                    seen = True
            elif val in (")", "]"):
                depth -= 1
                if depth == 0:
                    break
            elif depth == 1 and not ended:
                if val == ",":
                    arity += 1
                    seen = False
                elif kind == "ident" and val in ("from", "placing", "for") and seen:
                    arity += 1
                    seen = False
                elif kind == "ident" and val == "order" and i + 1 < len(toks) and toks[i + 1][1] == "by":
                    ended = True
                elif kind == "op" and val == "=>" and i > 0 and toks[i - 1][0] in ("ident", "qident"):
                    named.append(toks[i - 1][1])
                elif kind == "op" and val == "*" and toks[i - 1][1] == "(" and toks[i + 1][1] == ")":
                    star = True
                else:
                    seen = True
            i += 1
        if seen or arity:
            arity += 1
        if star:
            arity = 0
        return arity, named, star


def c_sql_strings(text):
    """The SQL a C file hands to SPI: the string literals in the arguments of
    each SPI_execute*/SPI_exec/SPI_prepare*/SPI_cursor_open* call, adjacent
    literals joined as the C compiler joins them."""
    out = []
    for m in re.finditer(r"\bSPI_(?:execute\w*|exec|prepare\w*|cursor_open\w*|cursor_parse_open\w*)\s*\(", text):
        i, depth = m.end(), 1
        start = i
        while i < len(text) and depth:
            if text[i] == '"':
                j = i + 1
                while text[j] != '"':
                    j += 2 if text[j] == "\\" else 1
                i = j + 1
                continue
            if text[i] == "(":
                depth += 1
            elif text[i] == ")":
                depth -= 1
            i += 1
        args = text[start:i - 1]
        # runs of adjacent literals
        for run in re.finditer(r'(?:"(?:[^"\\]|\\.)*"\s*)+', args):
            lits = re.findall(r'"((?:[^"\\]|\\.)*)"', run.group(0))
            s = "".join(lits)
            s = bytes(s, "utf-8").decode("unicode_escape")
            if re.search(r"\b(SELECT|INSERT|UPDATE|DELETE|WITH|CALL)\b", s, re.I):
                out.append(s)
    return out


def extract(files):
    col = Collector()
    sources = []
    for f in files:
        text = open(f, encoding="utf-8").read()
        if f.endswith(".c"):
            strings = c_sql_strings(text)
            for s in strings:
                Lexer(s, col).run()
            sources.append({"file": f, "spi_strings": len(strings)})
        else:
            Lexer(text, col).run()
            sources.append({"file": f})
    return {
        "sources": sources,
        "calls": {k: {"arities": sorted(v["arities"]), "named": sorted(list(x) for x in v["named"]),
                      "unqualified": v["unqualified"]}
                  for k, v in sorted(col.calls.items())},
        "binary_operators": sorted(col.binary),
        "prefix_operators": sorted(col.prefix),
        "literal_operands": sorted([op, lit] for op, lit in col.literal_operands),
        "relations": sorted(col.relations),
        "identifiers": sorted(col.idents),
    }


def self_test():
    col = Collector()
    Lexer("""SELECT concat_ws(E'\\n', a, b), x % 3, m->>'id', count(*) FILTER (WHERE l IN (1)),
             array_agg(y ORDER BY z), make_interval(days => d), extract(epoch FROM now()) -- f(1, 2)
             , 'concat_ws(E''\\n'', a::text, b::text)', format('(%%s %% $4)', q), - w, substring(u FROM 'x')""", col).run()
    assert col.calls["concat_ws"]["arities"] == {3}, col.calls["concat_ws"]
    assert col.calls["count"]["arities"] == {0}
    assert col.calls["array_agg"]["arities"] == {1}
    assert col.calls["make_interval"]["named"] == {("days",)}
    assert col.calls["extract"]["arities"] == {2}
    assert col.calls["substring"]["arities"] == {2}
    assert "f" not in col.calls
    assert {"%", "->>", "="} <= col.binary, col.binary
    assert "-" in col.prefix
    assert ("->>", "id") in col.literal_operands
    col = Collector()
    Lexer("SELECT 1 FROM pg_attribute a JOIN pglearn.examples e ON true WHERE k::int4 > 0", col).run()
    assert col.relations == {"pg_attribute", "examples"}, col.relations
    assert "int4" in col.idents
    print("extract.py self-test ok")


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--self-test":
        self_test()
        sys.exit(0)
    json.dump(extract(args), sys.stdout, indent=1)
    print()
