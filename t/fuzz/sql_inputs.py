#!/usr/bin/env python3
"""Mutational fuzzing of pglearn's type input functions through SQL.

The fvec and model input functions need a running backend, so instead of
libFuzzer they are driven through psql: valid values are mutated (bytes
flipped, inserted, deleted, duplicated, spliced with hostile fragments) and
each mutant is cast to its type.  The contract checked by the caller: every
statement either succeeds or fails with an invalid-input class SQLSTATE,
and the server never crashes.

Usage: sql_inputs.py SEED COUNT MODEL_TEXT > statements.sql
"""
import random
import sys

FRAGMENTS = [
    "{", "}", ":", ",", "-", "NaN", "inf", "-Infinity", "1e39", "1e-50", "0x1p3",
    "2147483647", "2147483648", "-1", "99999999999999999999", " ", "\t", "\"",
    "format=", "id=", "weights=", "solver=", "trained_at=\"", "infinity", "e",
    "\u00e4", "\u6a5f", "\udfff".encode("utf-16", "surrogatepass").decode("utf-16", "ignore"),
]


def mutate(rng, text):
    chars = list(text)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(6)
        pos = rng.randrange(len(chars) + 1)
        if op == 0 and chars:
            del chars[min(pos, len(chars) - 1)]
        elif op == 1:
            chars[pos:pos] = list(rng.choice(FRAGMENTS))
        elif op == 2 and chars:
            i = min(pos, len(chars) - 1)
            chars[i] = chr(rng.randrange(1, 0x80))
        elif op == 3 and chars:
            end = min(len(chars), pos + rng.randint(1, 20))
            chars[pos:pos] = chars[pos:end] * rng.randint(1, 50)
        elif op == 4:
            chars = chars[:pos]
        else:
            chars[pos:pos] = list(str(rng.randint(-10**12, 10**12)))
    return "".join(chars)


def quote(text):
    return "'" + text.replace("'", "''") + "'"


def main():
    seed, count, model_text = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = random.Random(seed)
    fvecs = ["{}", "{0:1}", "{1:0.5,2:-3,2147483647:1e-45}", "{12:1,407:0.5,900000:3.4028235e38}"]
    print("\\set VERBOSITY verbose")
    print("\\set ON_ERROR_STOP off")
    for _ in range(count):
        if rng.random() < 0.5:
            print("SELECT %s::pglearn.fvec IS NOT NULL;" % quote(mutate(rng, rng.choice(fvecs))))
        else:
            print("SELECT %s::pglearn.model IS NOT NULL;" % quote(mutate(rng, model_text)))
    print("SELECT 'fuzz done';")


if __name__ == "__main__":
    main()
