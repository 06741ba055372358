#!/usr/bin/env python3
"""Binary COPY files with hostile pglearn values, for t/hostile/run.sh.

  copy_binary.py fvec-nnz N OUT       one fvec claiming N entries, with none
  copy_binary.py fvec-nan OUT         one fvec {1:NaN} in binary form
  copy_binary.py model-version IN OUT a model copied out by COPY ... BINARY,
                                      with its format version set to 3
  copy_binary.py model-tamper IN OUT  the same model with its last weight changed
  copy_binary.py model-bc100000 IN OUT
                                      the same model "trained in 100000 BC"
                                      (before what timestamptz can print)

The PGCOPY layout: 11-byte signature, int32 flags, int32 extension length,
then per row int16 field count and per field int32 length + bytes; -1 ends.
"""
import struct
import sys

HEADER = b"PGCOPY\n\xff\r\n\0" + struct.pack("!ii", 0, 0)
TRAILER = struct.pack("!h", -1)


def one_field(data):
    return HEADER + struct.pack("!hi", 1, len(data)) + data + TRAILER


def main():
    mode = sys.argv[1]
    if mode == "fvec-nnz":
        data, out = struct.pack("!i", int(sys.argv[2])), sys.argv[3]
    elif mode == "fvec-nan":
        data, out = struct.pack("!iif", 1, 1, float("nan")), sys.argv[2]
    else:
        raw = bytearray(open(sys.argv[2], "rb").read())
        # the field starts after header (19), field count (2) and length (4)
        start = len(HEADER) + 2 + 4
        length = struct.unpack("!i", raw[start - 4:start])[0]
        if mode == "model-version":
            raw[start:start + 4] = struct.pack("!i", 3)
        elif mode == "model-tamper":
            end = start + length
            (w,) = struct.unpack("!f", raw[end - 4:end])
            raw[end - 4:end] = struct.pack("!f", w + 1.0)
        elif mode == "model-bc100000":
            # trained_at (int64 microseconds since 2000-01-01) at offset 16
            us = -(100000 + 2000) * 365 * 86400 * 1000000
            raw[start + 16:start + 24] = struct.pack("!q", us)
        else:
            sys.exit("unknown mode " + mode)
        open(sys.argv[3], "wb").write(bytes(raw))
        return
    open(out, "wb").write(one_field(data))


if __name__ == "__main__":
    main()
