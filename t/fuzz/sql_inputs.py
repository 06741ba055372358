#!/usr/bin/env python3
"""Mutational fuzzing of pglearn's type input functions through SQL.

The fvec and model input functions need a running backend, so instead of
libFuzzer they are driven through psql: valid values are mutated (bytes
flipped, inserted, deleted, duplicated, spliced with hostile fragments) and
each mutant is cast to its type (text input) or read by binary COPY
(receive functions; see recv() in sql_inputs.sh).  The contract checked by the caller: every
statement either succeeds or fails with an invalid-input class SQLSTATE,
and the server never crashes.

Usage: sql_inputs.py SEED COUNT MODEL_TEXT FVEC_SEND_HEX MODEL_SEND_HEX > statements.sql
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


def mutate_bytes(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(5)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 1:
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 2:
            del data[pos:pos + rng.randint(1, 8)]
        elif op == 3:
            data = data[:pos]
        else:
            # plausible-looking integers where counts and lengths live
            data[pos:pos + 4] = rng.choice([b"\x00\x00\x00\x00", b"\xff\xff\xff\xff",
                                            b"\x7f\xff\xff\xff", b"\x00\x00\x00\x02",
                                            b"\x7f\xc0\x00\x00"])
    return bytes(data)


def quote(text):
    return "'" + text.replace("'", "''") + "'"


def main():
    seed, count, model_text = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    fvec_binary, model_binary = bytes.fromhex(sys.argv[4]), bytes.fromhex(sys.argv[5])
    rng = random.Random(seed)
    fvecs = ["{}", "{0:1}", "{1:0.5,2:-3,2147483647:1e-45}", "{12:1,407:0.5,900000:3.4028235e38}"]
    print("\\set VERBOSITY verbose")
    print("\\set ON_ERROR_STOP off")
    for _ in range(count):
        r = rng.random()
        if r < 0.35:
            print("SELECT %s::pglearn.fvec IS NOT NULL;" % quote(mutate(rng, rng.choice(fvecs))))
        elif r < 0.7:
            print("SELECT %s::pglearn.model IS NOT NULL;" % quote(mutate(rng, model_text)))
        elif r < 0.85:
            print("SELECT pg_temp.recv('fvec', '\\x%s');" % mutate_bytes(rng, fvec_binary).hex())
        else:
            print("SELECT pg_temp.recv('model', '\\x%s');" % mutate_bytes(rng, model_binary).hex())
    print("SELECT 'fuzz done';")


if __name__ == "__main__":
    main()
