"""The post's four readings of sensitivity maps, measured: lessons.sensitivity_analysis explains
each test and its threshold (fixed from the post's words before looking at the maps) and prints the
verdicts; this module holds the bookkeeping that applies them to every correctly classified test
digit of a class (and to the displayed digit) and collects the numbers.
"""

from __future__ import annotations

import numpy as np

import handnet as hn
from lessons._image_regions import enclosed_blank, is_diagonal, principal_axis, quadrant_shares, region_share


def hole_enrichment(S, X):
    """Reading 1 for each row: (share of S in the enclosed hole, hole's share of the pixels, has a hole)."""
    hole = enclosed_blank(X)
    return region_share(S, hole), hole.mean(axis=1), hole.any(axis=1)


def difference_maps(net, X, a, b):
    """d(y_a - y_b)/dx for each row, from one Jacobian.  X (N, D) -> (N, D)."""
    J = hn.explain.jacobian(net, X)
    return J[:, a] - J[:, b]


def normalised(D):
    """Each row divided by its total |value|, so that every digit weighs the same in a mean.  (N, D) -> (N, D).

    Without it, a mean over digits is the mean of the few unsure ones: a confident digit's
    output gradients are smaller by the saturation factor (often by 1e4 or more).
    """
    return D / np.sum(np.abs(D), axis=1, keepdims=True)


def class_rows(net, X, y, c):
    """The rows of class c that the network classifies correctly.  -> (n,) indices."""
    return np.flatnonzero((y == c) & (net.predict(X) == y))


def post_readings(net, X, y, shown):
    """Measure the four readings on the test set; `shown` (10,) is the displayed row of each class.

    Returns {"zero", "four-nine", "seven-nine", "five-six-eight"}: each a dict of numbers with
    "holds" (judged on all correctly classified test digits of the class) and "shown" (the same
    test on the displayed digit alone), and the class-mean difference maps {(a, b): (D,)}.
    """
    zeros = class_rows(net, X, y, 0)
    S0 = hn.explain.sensitivity(net, X[zeros], 0)
    share, area, has_hole = hole_enrichment(S0, X[zeros])
    ratio = share[has_hole] / area[has_hole]
    i = int(np.flatnonzero(zeros == shown[0])[0])
    out = {"zero": {"zeros": len(zeros), "with a hole": int(has_hole.sum()),
                    "median share of |dy0/dx| in hole": float(np.median(share[has_hole])),
                    "median share of pixels in hole": float(np.median(area[has_hole])),
                    "median ratio": float(np.median(ratio)),
                    "shown ratio": float(share[i] / area[i]) if has_hole[i] else float("nan"),
                    "holds": bool(np.median(ratio) > 1),
                    "shown": bool(has_hole[i] and share[i] > area[i])}}
    maps = {}
    for key, (a, b) in (("four-nine", (4, 9)), ("seven-nine", (7, 9))):
        rows = class_rows(net, X, y, a)
        D = normalised(difference_maps(net, X[rows], a, b))
        maps[(a, b)] = D.mean(axis=0)
        shares = quadrant_shares(np.abs(D).mean(axis=0))
        raw = quadrant_shares(np.abs(difference_maps(net, X[rows], a, b)).mean(axis=0))
        shown_shares = quadrant_shares(np.abs(difference_maps(net, X[shown[a]][None], a, b)[0]))
        out[key] = {"digits": len(rows), **{f"share {q}": v for q, v in shares.items()},
                    "largest": max(shares, key=shares.get),
                    "runner-up share": sorted(shares.values())[-2],
                    "largest without normalising": max(raw, key=raw.get),
                    "holds": max(shares, key=shares.get) == "top-left",
                    "shown": max(shown_shares, key=shown_shares.get) == "top-left"}
    fives = class_rows(net, X, y, 5)
    entry = {"digits": len(fives)}
    verdicts, shown_verdicts = [], []
    for b in (6, 8):
        D = normalised(difference_maps(net, X[fives], b, 5))      # adding ink here moves 5 towards b
        maps[(b, 5)] = D.mean(axis=0)
        angle, elongation = principal_axis(np.maximum(D.mean(axis=0), 0.0))
        shown_angle, shown_elong = principal_axis(np.maximum(difference_maps(net, X[shown[5]][None], b, 5)[0], 0))
        entry.update({f"angle to {b} (deg)": angle, f"elongation to {b}": elongation})
        verdicts.append(is_diagonal(angle, elongation))
        shown_verdicts.append(is_diagonal(shown_angle, shown_elong))
    entry.update({"holds": all(verdicts), "shown": all(shown_verdicts)})
    out["five-six-eight"] = entry
    return out, maps
