"""One-off export of the 8x8 digits data to ``datasets/digits.csv.gz``.

This script is kept for provenance only. It is the ONLY place in the
repository that uses scikit-learn: scikit-learn is not a dependency of
handnet, and ``handnet`` itself never imports it. To re-run it you need
scikit-learn installed by hand (``pip install scikit-learn``)::

    python datasets/export_digits.py

What it does
------------
``sklearn.datasets.load_digits()`` returns the UCI "Optical Recognition of
Handwritten Digits" test set that scikit-learn bundles: 1797 images of
8x8 integer pixel counts in 0..16 and a digit label in 0..9.  We write it
as a CSV with the header ``p0,p1,...,p63,label`` where pixel ``p{r*8 + c}``
is row ``r``, column ``c`` of the image (row-major), one image per line.

The gzip stream is written deterministically (header mtime = 0, no file
name stored, fixed compression level), so re-running the script with the
same zlib gives byte-identical output.  It prints the sha256 of the file,
which is recorded in ``datasets/README.md`` and ``handnet.datasets.DIGITS_SHA256``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits  # scikit-learn: used here and nowhere else

OUT = Path(__file__).resolve().parent / "digits.csv.gz"
N_PIXELS = 64  # 8 x 8


def digits_csv_text() -> str:
    """The digits table as CSV text: header line, then 1797 lines of 65 integers."""
    bunch = load_digits()
    images = np.asarray(bunch.images)  # (1797, 8, 8), float64 holding integers
    labels = np.asarray(bunch.target)  # (1797,), int

    pixels = images.reshape(len(images), N_PIXELS)  # row-major: p = row*8 + col
    assert np.array_equal(pixels, bunch.data), "images and data disagree"
    assert np.array_equal(pixels, np.round(pixels)), "pixels are not integers"
    assert pixels.min() >= 0 and pixels.max() <= 16, "pixels outside 0..16"
    assert set(np.unique(labels)) <= set(range(10)), "labels outside 0..9"

    table = np.column_stack([pixels.astype(np.int64), labels.astype(np.int64)])
    header = ",".join([f"p{i}" for i in range(N_PIXELS)] + ["label"])
    lines = [header] + [",".join(str(v) for v in row) for row in table.tolist()]
    return "\n".join(lines) + "\n"


def gzip_deterministic(data: bytes) -> bytes:
    """gzip ``data`` with mtime 0 and an empty file-name field in the header."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return buffer.getvalue()


def main() -> None:
    csv_bytes = digits_csv_text().encode("ascii")
    blob = gzip_deterministic(csv_bytes)
    OUT.write_bytes(blob)

    labels = np.loadtxt(io.StringIO(csv_bytes.decode("ascii")), delimiter=",", skiprows=1, dtype=np.int64)[:, -1]
    print(f"wrote {OUT} ({len(blob)} bytes)")
    print(f"sha256 (.csv.gz): {hashlib.sha256(blob).hexdigest()}")
    print(f"sha256 (.csv):    {hashlib.sha256(csv_bytes).hexdigest()}")
    print(f"rows: {len(labels)}")
    print("class counts:", {int(k): int(v) for k, v in zip(*np.unique(labels, return_counts=True))})


if __name__ == "__main__":
    main()
