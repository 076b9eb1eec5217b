"""Argument checks of the sqrt_estimation lesson: what counts as a valid x (plumbing; the lesson
keeps the arithmetic it teaches). A bad x raises ValueError naming x, what it got and what it expected."""

import math
import numbers

import numpy as np


def _describe(x):
    return f"{type(x).__name__} {x!r}"[:100]


def as_scalar_or_array(x):
    """Validate x (real, finite, >= 0). Returns ("int", int) | ("float", float) | ("array", ndarray)."""
    if isinstance(x, np.ndarray) and x.ndim == 0:
        x = x[()]
    if isinstance(x, (bool, np.bool_)):
        raise ValueError(f"x: expected a real number >= 0, got {_describe(x)}")
    if isinstance(x, numbers.Integral):
        if x < 0:
            raise ValueError(f"x: expected a real number >= 0, got the negative value {x}")
        return "int", int(x)
    if isinstance(x, numbers.Real):
        value = float(x)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"x: expected a finite real number >= 0, got {x!r}")
        return "float", value
    if isinstance(x, (str, bytes)) or x is None or not isinstance(x, (list, tuple, np.ndarray)):
        raise ValueError(f"x: expected a real number >= 0 or an array of them, got {_describe(x)}")
    try:
        arr = np.asarray(x)
        if arr.dtype.kind not in "iuf":
            if arr.dtype.kind in "bcSUV":
                raise TypeError(arr.dtype)
            arr = arr.astype(np.float64)          # e.g. a list mixing ints and floats
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"x: expected real numbers >= 0, got {_describe(x)}") from None
    if arr.dtype.kind == "f":
        arr = arr.astype(np.float64, copy=False)
        bad = ~np.isfinite(arr) | (arr < 0)
    else:
        bad = arr < 0
    if np.any(bad):
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"x: expected finite real numbers >= 0, got {arr[where]} at index "
                         f"{where[0] if len(where) == 1 else where}")
    return "array", arr
