#!/usr/bin/env python3
"""Writes the first N two-object Fashion-MNIST scenes of models/data/fashion-pairs-test/images.u8.npy as grey PNG files
(scene-0000.png, ...), cycling through the 1,000 scenes when N is larger, with nothing but the standard library
(the .npy is uint8 [1000,1,64,64], C order). Inputs for trying and timing batch mode and the cluster.

    python3 scripts/cluster/scene-pngs.py 1000 /tmp/scenes
"""
import ast
import os
import struct
import sys
import zlib

repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
count, out = int(sys.argv[1]), sys.argv[2]
with open(os.path.join(repo, "models", "data", "fashion-pairs-test", "images.u8.npy"), "rb") as f:
    raw = f.read()
header_length = struct.unpack("<H", raw[8:10])[0]
header = ast.literal_eval(raw[10:10 + header_length].decode("latin1"))
assert header["descr"] == "|u1" and not header["fortran_order"], header
n, _, h, w = header["shape"]
data = raw[10 + header_length:]


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


os.makedirs(out, exist_ok=True)
for i in range(count):
    pixels = data[(i % n) * h * w:((i % n) + 1) * h * w]
    rows = b"".join(b"\x00" + pixels[y * w:(y + 1) * w] for y in range(h))  # filter type 0 per row
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
    with open(os.path.join(out, "scene-%04d.png" % i), "wb") as f:
        f.write(png)
