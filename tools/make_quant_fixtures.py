#!/usr/bin/env python3
"""Writes tests/fixtures/quant/ggml_ref.bin: rows of floats and what ggml's reference quantizers
make of them, so tests/quant_kernels_test.cpp can check that our QuantizeRow writes the same bytes
llama.cpp would write, and that DequantizeRow reads them back to the same floats.

ggml's reference code (ggml/src/ggml-quants.c) is compiled from a llama.cpp source tree, e.g. the
one vendored in the llama-cpp-python source package:

    pip download --no-deps --no-binary :all: llama-cpp-python && tar xzf llama_cpp_python-*.tar.gz
    python tools/make_quant_fixtures.py --ggml-src llama_cpp_python-*/vendor/llama.cpp/ggml

It is built with the default x86-64 flags (no FMA), as ggml-base is in a llama.cpp build. The
32-element formats are also cross-checked against the numpy quantizers of the `gguf` package.

File format (little endian): b"G3NQFIX1", u32 rows, u32 cols, f32[rows*cols] inputs, u32 ntypes,
then per type: u32 name length, name, u32 byte count, bytes, u64 FNV-1a hash of the dequantized
f32 values (ggml's dequantize_row_*).
"""
import argparse
import ctypes
import os
import struct
import subprocess
import tempfile

import numpy as np

# (our DType name, ggml function suffix, block elements, block bytes)
TYPES = [
    ("Q4_0", "q4_0", 32, 18),
    ("Q4_1", "q4_1", 32, 20),
    ("Q5_0", "q5_0", 32, 22),
    ("Q5_1", "q5_1", 32, 24),
    ("Q8_0", "q8_0", 32, 34),
    ("Q4_K", "q4_K", 256, 144),
    ("Q5_K", "q5_K", 256, 176),
    ("Q6_K", "q6_K", 256, 210),
    ("Q8_K", "q8_K", 256, 292),
]
COLS = 512


def make_inputs() -> np.ndarray:
    """Rows that reach the quantizers' corner cases: all-zero, constant and tiny blocks, outliers,
    one-signed data, and plain gaussian weights at a typical scale."""
    rng = np.random.default_rng(20250611)
    rows = []
    rows.append(rng.normal(0, 0.02, COLS))                      # typical weights
    rows.append(rng.normal(0, 1.0, COLS))                       # unit scale
    r = rng.normal(0, 0.05, COLS)
    r[rng.integers(0, COLS, 12)] *= 40                          # outliers
    rows.append(r)
    rows.append(np.abs(rng.normal(0.3, 0.2, COLS)))             # positive only (min = 0 path)
    rows.append(-np.abs(rng.standard_cauchy(COLS)).clip(0, 50))  # negative, heavy-tailed
    r = rng.uniform(-1, 1, COLS)
    r[:32] = 0.0                                                # a zero 32-block
    r[32:64] = -0.0                                             # negative zeros: ggml's d is -0
    r[256:512] = 0.0                                            # a zero super-block
    r[64:96] = 0.25                                             # a constant block
    r[96:128] = 1e-20                                           # below fp16 range
    r[128:160] = rng.normal(0, 1e-6, 32)                        # tiny but representable
    rows.append(r)
    rows.append(rng.normal(0, 1.0, COLS) * np.linspace(0.01, 3, COLS))  # ramped scale
    rows.append(np.round(rng.normal(0, 4, COLS)))               # integers (ties in rounding)
    return np.stack(rows).astype(np.float32)


def build_ggml(ggml_src: str, out_dir: str) -> ctypes.CDLL:
    lib = os.path.join(out_dir, "libggml_quants_ref.so")
    src = os.path.join(ggml_src, "src", "ggml-quants.c")
    # The reference (de)quantizers call nothing from the rest of ggml; these stubs only satisfy
    # the loader for the functions in the same file that do.
    stubs = os.path.join(out_dir, "stubs.c")
    with open(stubs, "w") as f:
        f.write("#include <stdlib.h>\n#include <stddef.h>\n"
                "void ggml_abort(const char* f, int l, const char* m, ...) { abort(); }\n"
                "size_t ggml_row_size(int t, long n) { abort(); }\n"
                "const char* ggml_type_name(int t) { abort(); }\n"
                "size_t ggml_type_size(int t) { abort(); }\n")
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-I", os.path.join(ggml_src, "include"), "-I",
                    os.path.join(ggml_src, "src"), src, stubs, "-o", lib, "-lm"], check=True)
    return ctypes.CDLL(lib)


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ggml-src", required=True, help="llama.cpp's ggml directory (has src/ggml-quants.c)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "quant",
                                                  "ggml_ref.bin"))
    args = ap.parse_args()

    x = make_inputs()
    rows, cols = x.shape
    try:
        import gguf  # optional cross-check of the 32-element formats
        from gguf import quants as gq
    except ImportError:
        gguf = None

    with tempfile.TemporaryDirectory() as tmp:
        lib = build_ggml(args.ggml_src, tmp)
        out = bytearray(b"G3NQFIX1" + struct.pack("<II", rows, cols) + x.tobytes())
        out += struct.pack("<I", len(TYPES))
        for name, fn, be, bb in TYPES:
            nbytes = rows * cols // be * bb
            q = (ctypes.c_uint8 * nbytes)()  # zeroed: Q8_K leaves bsums of all-zero blocks unset
            quant = getattr(lib, f"quantize_row_{fn}_ref")
            quant.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
            row_bytes = cols // be * bb
            for r in range(rows):
                quant(x[r].ctypes.data, ctypes.addressof(q) + r * row_bytes, cols)
            qb = bytes(q)
            deq = np.zeros(rows * cols, dtype=np.float32)
            dq = getattr(lib, f"dequantize_row_{fn}")
            dq.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
            dq(ctypes.addressof(q), deq.ctypes.data, rows * cols)
            if gguf is not None and be == 32:
                qt = getattr(gguf.GGMLQuantizationType, name)
                theirs = gq.quantize(x, qt).reshape(-1, bb)
                mine = np.frombuffer(qb, np.uint8).reshape(-1, bb)
                # numpy keeps the sign of an all-zero block's scale where C's scan starts from +0.
                zero = (x.reshape(-1, be) == 0).all(axis=1)
                assert ((theirs == mine).all(axis=1) | zero).all(), f"gguf's numpy {name} disagrees with ggml"
            out += struct.pack("<I", len(name)) + name.encode() + struct.pack("<I", nbytes) + qb
            out += struct.pack("<Q", fnv1a64(deq.tobytes()))
            print(f"{name}: {nbytes} bytes, dequant hash {fnv1a64(deq.tobytes()):016x}")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "wb") as f:
        f.write(out)
    print(f"wrote {args.out} ({len(out)} bytes)")


if __name__ == "__main__":
    main()
