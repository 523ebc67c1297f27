#!/usr/bin/env python3
"""Writes npz seeds for fuzz_npz that reach the header paths one stored and
one deflated float32 member do not: other dtypes and byte orders, Fortran
order, 0-d and 4-d shapes, version 2 headers, a member larger than a header
read, many members. Standard library
only (zipfile, struct), so it runs without NumPy.
    python3 tests/fuzz/make_npz_seeds.py tests/fuzz/corpus/npz"""
import struct
import sys
import zipfile


def npy(descr, shape, payload, fortran=False, version=1):
    shape_text = "(" + ",".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
    header = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape_text}, }}"
    fixed = 10 if version == 1 else 12
    pad = (-(fixed + len(header) + 1)) % 64
    header = (header + " " * pad + "\n").encode("latin1")
    size = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + size + header + payload


def write(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in members:
            z.writestr(name, data)


def main(out):
    f32 = struct.pack("<6f", *range(6))
    write(f"{out}/seed_dtypes.npz", [
        ("f64.npy", npy("<f8", (2, 3), struct.pack("<6d", *range(6)))),
        ("i64.npy", npy("<i8", (3,), struct.pack("<3q", 1, -2, 3))),
        ("i32.npy", npy("<i4", (2, 2), struct.pack("<4i", 1, 2, 3, 4))),
        ("u8.npy", npy("|u1", (4,), bytes([0, 1, 254, 255]))),
        ("b1.npy", npy("|b1", (2,), bytes([0, 1]))),
        ("f16.npy", npy("<f2", (2,), struct.pack("<2e", 0.5, -2.0))),
        ("be.npy", npy(">f4", (2, 3), struct.pack(">6f", *range(6)))),
    ])
    write(f"{out}/seed_layouts.npz", [
        ("fortran.npy", npy("<f4", (2, 3), f32, fortran=True)),
        ("scalar0d.npy", npy("<f4", (), struct.pack("<f", 7.0))),
        ("conv.weight.npy", npy("<f4", (1, 2, 3, 1), f32)),
        ("empty.npy", npy("<f4", (0, 3), b"")),
        ("v2.npy", npy("<f4", (6,), f32, version=2)),
    ], zipfile.ZIP_DEFLATED)
    # Larger than a header read: its size is checked before it is inflated.
    write(f"{out}/seed_large.npz", [("big.npy", npy("<f4", (64, 512), bytes(4 * 64 * 512)))],
          zipfile.ZIP_DEFLATED)
    write(f"{out}/seed_many.npz",
          [(f"features.{i}.block.0.weight.npy", npy("<f4", (i % 3 + 1,), struct.pack("<f", i) * (i % 3 + 1)))
           for i in range(24)])


if __name__ == "__main__":
    main(sys.argv[1])
