"""Writes the .npy fixtures that NpyFileTests reads, with NumPy as the independent reference.

Run from this folder with Debian's NumPy (1.24): /usr/bin/python3 make_fixtures.py
Values are exact in float32 so the tests can compare with ==.
"""
import numpy as np

# Read cases, and byte-exact references for NpyFile.Write (np.save writes v1.0, C order, '<f4').
np.save("f32_2x3.npy", (np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(2, 3))
np.save("f32_1x2x3x4.npy", np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4) / 4 - 3)
np.save("f32_scalar.npy", np.array(2.5, dtype=np.float32))
np.save("f32_empty.npy", np.zeros((0,), dtype=np.float32))
np.save("f32_3.npy", np.array([1.0, -2.0, 0.25], dtype=np.float32))

# Newer header versions: 4-byte header length (v2.0), UTF-8 header (v3.0).
for version in [(2, 0), (3, 0)]:
    with open("f32_2x3_v%d.npy" % version[0], "wb") as f:
        np.lib.format.write_array(f, (np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(2, 3), version=version)

# Files NpyFile.Read must refuse.
np.save("f64_2x3.npy", np.arange(6, dtype=np.float64).reshape(2, 3))
np.save("f32_fortran_2x3.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
np.save("f32_bigendian_2x3.npy", np.arange(6, dtype=">f4").reshape(2, 3))
