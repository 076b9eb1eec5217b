"""Checks at the API boundary.

Every public function passes its arguments through these helpers, so a bad
input is a ValueError/TypeError that names the argument, what it got and what
was expected — never a numpy traceback from deep inside, never a silent NaN.
"""

from __future__ import annotations

import numbers

import numpy as np

#: The largest magnitude accepted in any array handnet computes with (inputs X,
#: targets Y, baselines, parameters, attributions). float64 overflows past
#: 1.8e308 = 10^308.3, and the forward pass multiplies an input by weights,
#: sums n_in such products per unit and layer, and the quadratic cost squares
#: the result: with |x| <= 1e100 the products of weights and layer sizes along
#: the network still have a factor of 1e54 before the square overflows
#: (1e154^2 = 1e308). Real data are nowhere near it (pixels are <= 255, money
#: <= 1e13); a 1e308 is a sentinel or a bug, and letting it in would end in
#: "overflow encountered in matmul" and an inf deep inside.
MAX_ABS = 1e100

#: Integer labels are exact in float64 up to 2^53; beyond that two labels can be the same float.
MAX_LABEL = 2 ** 53


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:120]


def _index_text(where):
    return str(where if len(where) != 1 else where[0])


def _pandas_extension_values(value, name):
    """A pandas object holding nullable dtypes (Int64, Float64, boolean, from df.convert_dtypes())
    as float64 numbers; None for anything else. Missing values (pd.NA) are refused by name.

    pandas is not imported: an object from pandas already brought it in.
    """
    if not type(value).__module__.startswith("pandas") or not hasattr(value, "isna"):
        return None
    dtypes = list(value.dtypes) if hasattr(value, "columns") else [getattr(value, "dtype", None)]
    if all(isinstance(d, np.dtype) for d in dtypes):
        return None                                     # plain numpy columns: np.asarray handles them
    kinds = [getattr(d, "kind", "O") for d in dtypes]
    if any(k not in "biuf" for k in kinds):
        bad = dtypes[next(i for i, k in enumerate(kinds) if k not in "biuf")]
        raise TypeError(f"{name}: expected numbers, got a column of dtype {bad}")
    missing = np.asarray(value.isna())
    if missing.any():
        where = tuple(int(i) for i in np.argwhere(missing)[0])
        raise ValueError(f"{name}: expected numbers, got a missing value (pd.NA) at index {_index_text(where)}; "
                         "drop or fill the missing values first (dropna() or fillna(...))")
    return value.to_numpy(dtype=np.float64)


def as_real_array(value, name, *, ndim=None, limit=MAX_ABS, finite=True):
    """Convert to a float64 ndarray, rejecting non-numeric, complex, non-finite data and
    numbers beyond ``limit`` in magnitude (MAX_ABS, see there; None for no limit).

    finite=False lets nan and inf (and any magnitude) through, for values that are
    judged rather than computed with (a gradient under check fails on them).
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name}: expected a numeric array, got {_describe(value)}")
    converted = _pandas_extension_values(value, name)
    try:
        arr = np.asarray(value) if converted is None else converted
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name}: expected a numeric array, got {type(value).__name__} ({exc})") from None
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        if arr.dtype.kind == "c":
            raise TypeError(f"{name}: expected real numbers, got complex dtype {arr.dtype}")
        raise TypeError(f"{name}: expected a numeric array, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got {arr.ndim}-D with shape {arr.shape}")
    # Checked in the array's own dtype, before the cast: a float128 beyond float64's range
    # would otherwise become inf with an "overflow encountered in cast" warning.
    if not finite:
        with np.errstate(over="ignore"):
            return arr.astype(np.float64, copy=False)
    if arr.dtype.kind != "f" or arr.size == 0:
        return arr.astype(np.float64, copy=False)        # integers are finite and within MAX_ABS
    # The common case in two reductions and no temporary (a NaN propagates into min and max):
    # large inputs (hn.train's X) are checked at the speed of reading them once
    lo, hi = arr.min(), arr.max()
    if np.isfinite(lo) and np.isfinite(hi) and (limit is None or max(-float(lo), float(hi)) <= limit):
        return arr.astype(np.float64, copy=False)
    bad = ~np.isfinite(arr)
    if np.any(bad):
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name}: expected finite numbers, got {arr[where]} at index {_index_text(where)}")
    if limit is not None and float(np.finfo(arr.dtype).max) > limit:
        # (float16 and float32 cannot exceed it)
        big = np.abs(arr) > limit
        if np.any(big):
            where = tuple(int(i) for i in np.argwhere(big)[0])
            raise ValueError(f"{name}: expected numbers of magnitude at most {limit:.0e}, got "
                             f"{np.format_float_scientific(arr[where], precision=3, trim='-')} "
                             f"at index {_index_text(where)}; handnet computes in float64, where products "
                             "and squares of such numbers overflow: rescale the data "
                             "(e.g. hn.datasets.minmax_normalise)")
    return arr.astype(np.float64, copy=False)


def as_inputs(X, n_features, name="X"):
    """X as a finite float64 matrix of shape (N, n_features) with N >= 1.

    A single 1-D sample of length n_features is NOT silently promoted: the
    error says to pass X[None, :] or X.reshape(1, -1).
    """
    arr = as_real_array(X, name)
    if arr.ndim != 2:
        hint = " (for one sample use x.reshape(1, -1))" if arr.ndim == 1 else ""
        raise ValueError(f"{name}: expected a 2-D array of shape (N, {n_features}), "
                         f"got shape {arr.shape}{hint}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one row, got an empty array of shape {arr.shape}")
    if arr.shape[1] != n_features:
        raise ValueError(f"{name}: expected {n_features} columns (the network's input size), "
                         f"got shape {arr.shape}")
    return arr


def as_labels(y, n_classes=None, name="Y"):
    """Integer class labels 0..n_classes-1 as an int64 vector (n_classes None: any label >= 0).

    Accepts integer dtypes and floats holding whole numbers.
    """
    arr = as_real_array(y, name, ndim=1)
    frac = arr != np.round(arr)
    if np.any(frac):
        i = int(np.argmax(frac))
        raise ValueError(f"{name}: expected integer class labels{_label_range(n_classes)}, "
                         f"got the fractional value {arr[i]} at index {i}")
    top = MAX_LABEL if n_classes is None else n_classes
    bad = (arr < 0) | (arr >= top)
    if np.any(bad):
        i = int(np.argmax(bad))
        hint = (" (labels 1..K as in the course data? use hn.one_hot(y, K, base=1))"
                if arr[i] == n_classes and np.min(arr) >= 1 else "")
        raise ValueError(f"{name}: expected integer class labels{_label_range(n_classes)}, "
                         f"got {arr[i]:g} at index {i}{hint}")
    return arr.astype(np.int64)


def _label_range(n_classes):
    return f" in 0..{n_classes - 1}" if n_classes is not None else " >= 0 (class numbers 0..K-1)"


def one_hot_matrix(labels, n_classes):
    """E[i, labels[i]] = 1, else 0.  (N,) ints -> (N, n_classes) float64."""
    E = np.zeros((labels.shape[0], n_classes))
    E[np.arange(labels.shape[0]), labels] = 1.0
    return E


def as_targets(Y, n_outputs, n_rows, output="sigmoid", name="Y"):
    """Targets as a float64 matrix (N, K) matching the network's K outputs.

    - (N, K) arrays are used as they are (one-hot, probabilities or real values);
    - (N,) integer labels 0..K-1 are one-hot encoded when K > 1;
    - (N,) values are a column when K == 1 (binary labels, or regression targets).
    Sigmoid and softmax outputs need targets in [0, 1].
    """
    arr = as_real_array(Y, name)
    column = arr.ndim == 1 and n_outputs == 1      # (N,) values for a single output unit
    if arr.ndim == 1:
        if arr.shape[0] != n_rows:
            raise ValueError(f"{name}: expected {n_rows} labels (one per row of X), got {arr.shape[0]}")
        if n_outputs == 1:
            arr = arr.reshape(-1, 1)
        else:
            arr = one_hot_matrix(as_labels(arr, n_outputs, name), n_outputs)
    elif arr.ndim == 2:
        if arr.shape[0] != n_rows:
            raise ValueError(f"{name}: expected {n_rows} rows (one per row of X), got shape {arr.shape}")
        if arr.shape[1] != n_outputs:
            raise ValueError(f"{name}: expected {n_outputs} columns (the network's output size), "
                             f"got shape {arr.shape}")
    else:
        raise ValueError(f"{name}: expected labels of shape ({n_rows},) or targets of shape "
                         f"({n_rows}, {n_outputs}), got shape {arr.shape}")
    if output in ("sigmoid", "softmax") and (np.any(arr < 0) or np.any(arr > 1)):
        i = tuple(int(v) for v in np.argwhere((arr < 0) | (arr > 1))[0])
        where = i[0] if column else i       # the index in the Y the caller passed
        raise ValueError(f"{name}: a {output} output needs targets in [0, 1], got {arr[i]:g} "
                         f"at index {where}")
    return arr


def as_nonnegative(value, name):
    v = as_number(value, name)
    if v < 0:
        raise ValueError(f"{name}: expected a number >= 0, got {value!r}")
    return v


def as_positive(value, name):
    v = as_number(value, name)
    if not v > 0:
        raise ValueError(f"{name}: expected a number > 0, got {value!r}")
    return v


def as_number(value, name):
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name}: expected a real number, got {_describe(value)}")
    try:
        v = float(value)
    except OverflowError:                 # an int too large for a float, e.g. 10**400
        raise ValueError(f"{name}: expected a finite number, got an integer of "
                         f"{len(str(abs(int(value))))} digits") from None
    if not np.isfinite(v):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    return v


def is_integer(value):
    """True for Python and NumPy integers, False for bools (True is not the index 1)."""
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def as_positive_int(value, name, *, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)                # 100.0 is taken as 100; 0.0 and -2.0 fail below
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name}: expected a positive integer, got {_describe(value)}")
    if value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def as_seed(value, name="seed"):
    if value is None:
        return None
    if isinstance(value, np.random.Generator):
        return value
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)) or value < 0:
        raise TypeError(f"{name}: expected a non-negative integer, None or a numpy Generator, "
                        f"got {_describe(value)}")
    return int(value)


def as_int(value, name, *, minimum=None):
    """A Python int (bools and floats refused), optionally at least ``minimum``, within int64."""
    if not is_integer(value):
        raise TypeError(f"{name}: expected an int, got {_describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value}")
    if abs(value) > np.iinfo(np.int64).max // 2:
        raise ValueError(f"{name}: expected an int of a sensible size (|{name}| < 2**62), got {value}")
    return value


def as_bool(value, name):
    """True or False only: 'yes', 1 or an array is refused rather than read as a truth value."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {_describe(value)}")
    return bool(value)


def as_choice(value, choices, name):
    """One of ``choices`` (strings, or None if listed), compared without ever asking an
    array for its truth value."""
    if not (value is None or isinstance(value, str)) or value not in choices:
        raise ValueError(f"{name}: expected one of {choices}, got {_describe(value)}")
    return value


def as_net(net, order="net, X, Y"):
    """The network argument of a public function: a handnet MLP, else a TypeError that says
    what came instead and in which order the arguments go (swapped arguments are common)."""
    from .network import MLP            # here: network imports this module

    if not isinstance(net, MLP):
        hint = f"arguments in the order {order}" if "," in order else f"the one argument is {order}"
        raise TypeError(f"net: expected a handnet MLP, got {type(net).__name__} ({hint})")
    return net


def as_image_shape(image_shape, D, name="image_shape", ndim=None):
    """The axes the D features form, e.g. (8, 8): positive ints whose product is D.

    An int n means (n,). ``ndim`` (if given) is the number of axes required, e.g. 2
    for a picture. The caller decides what None means (it differs per use).
    """
    if is_integer(image_shape):
        image_shape = (image_shape,)
    axes = "(height, width)" if ndim == 2 else "a tuple of positive ints like (8, 8)"
    if isinstance(image_shape, (str, bytes)) or not isinstance(image_shape, (tuple, list, np.ndarray)) \
            or not len(image_shape) or not all(is_integer(n) for n in image_shape):
        raise TypeError(f"{name}: expected {axes}, got {_describe(image_shape)}")
    shape = tuple(int(n) for n in image_shape)
    if ndim is not None and len(shape) != ndim:
        raise TypeError(f"{name}: expected {ndim} sizes {axes}, got {image_shape!r}")
    if any(n < 1 for n in shape):
        raise ValueError(f"{name}: expected positive sizes, got {shape}")
    if int(np.prod(shape)) != D:
        raise ValueError(f"{name}: {' x '.join(map(str, shape))} = {int(np.prod(shape))} features, "
                         f"but there are D = {D}; the sizes must multiply to D")
    return shape


def as_axis_sizes(value, name, shape):
    """One positive size per axis of ``shape`` (a window or a stride); an int serves every axis."""
    d = len(shape)
    if is_integer(value):
        value = (value,) * d
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)) \
            or not all(is_integer(v) for v in value):
        raise TypeError(f"{name}: expected an int or a tuple of {d} ints, got {_describe(value)}")
    if len(value) != d:
        raise ValueError(f"{name}: expected {d} size(s), one per axis of the input shape {shape}, "
                         f"got {tuple(value)}")
    if any(v <= 0 for v in value):
        raise ValueError(f"{name}: expected positive sizes, got {tuple(value)}")
    return tuple(int(v) for v in value)


def as_window(window, shape, name="window"):
    """A window that fits inside ``shape``: one positive size per axis, none larger than the axis."""
    window = as_axis_sizes(window, name, shape)
    for a, (w, n) in enumerate(zip(window, shape)):
        if w > n:
            raise ValueError(f"{name}: a {' x '.join(map(str, window))} window does not fit in the "
                             f"{' x '.join(map(str, shape))} input (axis {a}: {w} > {n})")
    return window
