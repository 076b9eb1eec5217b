"""Generated data with known answers: a delivery-time table of named fields, and sin on a grid.

Both are drawn from ``np.random.default_rng(seed)``, so the same seed always
gives the same numbers, and the right answer is known exactly:
``make_delivery_times`` (which fields the target depends on) and
``make_sine`` (``f = sin``, ``f' = cos``, ``f'' = -sin``). The lessons
``occlusion_and_saliency`` and ``sine_derivatives`` train networks on them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import _validate as V

__all__ = ["FieldData", "field_slices", "DELIVERY_FIELDS", "DELIVERY_TARGETS", "make_delivery_times",
           "make_sine"]


# --------------------------------------------------------------------------- #
# Generated data with known answers
# --------------------------------------------------------------------------- #


class FieldData(NamedTuple):
    """A generated table of named fields, together with the answer it was built from.

    Attributes
    ----------
    X : ndarray of float64, shape (N, D)
        The design matrix; every column is in ``[0, 1]``.
    y : ndarray of float64, shape (N,)
        The target, one value per row of ``X``.
    fields : list of (str, int)
        ``(name, width)`` of each field in column order: field ``k`` covers
        the ``width_k`` columns that follow field ``k - 1``, and the widths
        add up to ``D``. ``field_slices(fields)`` turns them into slices.
    relevant : tuple of str
        The names of the fields ``y`` truly depends on (in column order);
        ``y`` does not depend on any other column of ``X`` at all.
    description : str
        One paragraph saying how ``X`` and ``y`` were generated.
    """

    X: np.ndarray
    y: np.ndarray
    fields: list
    relevant: tuple
    description: str


def field_slices(fields) -> list[tuple[str, slice]]:
    """Where each named field sits in the columns of ``X``.

    Fields are laid side by side: with widths ``w_0, w_1, ...`` field ``k``
    is the columns ``s_k <= j < s_k + w_k`` where ``s_k = w_0 + ... + w_{k-1}``,
    so ``X[:, sl]`` is that field's ``(N, w_k)`` block and the last slice
    stops at ``D = sum_k w_k``.

    Parameters
    ----------
    fields : sequence of (name, width)
        At least one pair. Names must be non-empty, distinct strings; widths
        positive integers.

    Returns
    -------
    list of (str, slice)
        ``[(name_k, slice(s_k, s_k + w_k)), ...]`` in the order given.

    Examples
    --------
    >>> field_slices([("Hour", 2), ("Distance", 1)])
    [('Hour', slice(0, 2, None)), ('Distance', slice(2, 3, None))]
    """
    if isinstance(fields, (str, bytes, dict)) or not isinstance(fields, (list, tuple)):
        raise TypeError(f"fields: expected a list of (name, width) pairs, got {V._describe(fields)}")
    if len(fields) == 0:
        raise ValueError("fields: expected at least one (name, width) pair, got an empty list")
    out = []
    first_seen = {}
    start = 0
    for k, pair in enumerate(fields):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(f"fields[{k}]: expected a (name, width) pair, got {V._describe(pair)}")
        name, width = pair
        if not isinstance(name, str):
            raise TypeError(f"fields[{k}]: expected the name to be a str, got {V._describe(name)}")
        if not name.strip():
            raise ValueError(f"fields[{k}]: expected a non-empty name, got {name!r}")
        if name in first_seen:
            raise ValueError(f"fields[{k}]: expected distinct names, got {name!r} again "
                             f"(first at fields[{first_seen[name]}])")
        first_seen[name] = k
        width = V.as_positive_int(width, f"fields[{k}] width ({name!r})")
        out.append((name, slice(start, start + width)))
        start += width
    return out


#: The fields of ``make_delivery_times`` in column order, as ``(name, width)``: 11 fields, D = 16.
#: How each raw value is drawn and scaled is in ``make_delivery_times.__doc__``.
DELIVERY_FIELDS = (
    ("Store Number", 4),        # store id 0..15 in binary
    ("Market", 1),              # 1..6
    ("Order Protocol", 1),      # how the order came in, 1..7
    ("Hour", 2),                # time of day on a circle: sin, cos
    ("Weekday", 2),             # day of the week on a circle: sin, cos
    ("Total Items", 1),         # 1..20
    ("Subtotal", 1),            # dollars
    ("Distance", 1),            # km
    ("Busy Dashers", 1),        # couriers out on a delivery
    ("Idle Dashers", 1),        # couriers waiting for an order
    ("Outstanding Orders", 1),  # orders not yet picked up
)

_DELIVERY_RELEVANT = {
    "positive": ("Distance",),
    "nonlinear": ("Hour", "Total Items", "Busy Dashers", "Idle Dashers"),
}
_RUSH_HOUR = 18.5  # the centre of the dinner rush, in hours (18:30)

#: The noise-free delivery time in minutes for each control, in the raw units of the fields
#: (km: Distance, B: Busy Dashers, I: Idle Dashers, h: Hour, k: Total Items). The one written
#: statement of the formulas: the description, the docs and the tests read them from here
#: (the tests evaluate them on the raw values and compare with ``make_delivery_times``).
DELIVERY_TARGETS = {
    "positive": "10 + 4 * km",
    "nonlinear": "15 + 20 * B / (I + 20) + 15 * exp(4 * (cos(2 * pi * (h - 18.5) / 24) - 1))"
                 " + 15 * (1 - exp(-3 * (k - 1) / 19))",
}


def _delivery_columns(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw the raw order data independently per field and scale it: ``(n, 16)`` in ``[0, 1]``."""
    store = rng.integers(0, 16, n)                         # store id 0..15
    market = rng.integers(1, 7, n)                         # 1..6
    protocol = rng.integers(1, 8, n)                       # 1..7
    hour = 2 * np.pi * rng.uniform(0.0, 24.0, n) / 24      # time of day as an angle
    weekday = 2 * np.pi * rng.integers(0, 7, n) / 7        # day of the week as an angle
    items = rng.integers(1, 21, n)                         # 1..20
    subtotal = rng.uniform(5.0, 105.0, n)                  # dollars
    km = rng.uniform(0.0, 10.0, n)
    busy = rng.integers(0, 41, n)                          # 0..40
    idle = rng.integers(0, 41, n)                          # 0..40
    outstanding = rng.integers(0, 61, n)                   # 0..60

    bits = (store[:, None] >> np.array([3, 2, 1, 0])) & 1  # (n, 4), most significant bit first
    return np.column_stack([
        bits.astype(np.float64),
        (market - 1) / 5,
        (protocol - 1) / 6,
        (1 + np.sin(hour)) / 2, (1 + np.cos(hour)) / 2,
        (1 + np.sin(weekday)) / 2, (1 + np.cos(weekday)) / 2,
        (items - 1) / 19,
        (subtotal - 5) / 100,
        km / 10,
        busy / 40,
        idle / 40,
        outstanding / 60,
    ])


def _delivery_minutes(X: np.ndarray, control: str) -> np.ndarray:
    """``DELIVERY_TARGETS[control]`` evaluated on the scaled columns of ``X`` (N, 16) -> (N,) minutes.

    In scaled units km = 10 x_dist, B = 40 x_busy, I = 40 x_idle,
    (k - 1) / 19 = x_items, and the hour's angle t = 2 pi h / 24 enters through
    sin t = 2 x_sin - 1, cos t = 2 x_cos - 1, so cos(t - t_rush) is
    cos t cos t_rush + sin t sin t_rush. Only the control's relevant columns are read.
    """
    col = dict(field_slices(DELIVERY_FIELDS))
    if control == "positive":
        return 10.0 + 40.0 * X[:, col["Distance"]][:, 0]
    busy = X[:, col["Busy Dashers"]][:, 0]
    idle = X[:, col["Idle Dashers"]][:, 0]
    items = X[:, col["Total Items"]][:, 0]
    sin_t = 2 * X[:, col["Hour"]][:, 0] - 1
    cos_t = 2 * X[:, col["Hour"]][:, 1] - 1
    rush = 2 * np.pi * _RUSH_HOUR / 24
    cos_to_rush = cos_t * np.cos(rush) + sin_t * np.sin(rush)  # cos(t - t_rush)
    return (15.0
            + 20.0 * busy / (idle + 0.5)
            + 15.0 * np.exp(4.0 * (cos_to_rush - 1.0))
            + 15.0 * (1.0 - np.exp(-3.0 * items)))


def _delivery_description(control: str, n: int, noise: float) -> str:
    layout = ", ".join(f"{name} ({width})" for name, width in DELIVERY_FIELDS)
    relevant = " and ".join(_DELIVERY_RELEVANT[control])
    return (f"Synthetic food-delivery orders (control={control!r}, {n} rows, noise={noise:g} minutes), "
            f"generated by handnet.datasets.make_delivery_times, not collected from anyone. Each field "
            f"is drawn independently and uniformly over its range and scaled into [0, 1] by a fixed "
            f"rule; the fields and their widths are: {layout}. Here the delivery time depends on "
            f"{relevant} only: y = {DELIVERY_TARGETS[control]} + noise * e minutes, where km is the "
            f"distance, B and I the busy and idle dashers, h the hour of the order, k the total items, "
            f"and e ~ N(0, 1). Every other field is pure noise that y does not depend on.")


def make_delivery_times(n=2000, control="positive", seed=0, noise=2.0) -> FieldData:
    """A generated delivery-time table whose answer is known: which fields the target depends on.

    Each row is a made-up food-delivery order described by 11 named fields
    (``DELIVERY_FIELDS``) that fill ``D = 16`` columns; three fields span
    several columns (a 4-bit store number, and the hour and weekday as a
    point on a circle). Every field is drawn independently, uniformly over
    its range, with ``np.random.default_rng(seed)``, and scaled into
    ``[0, 1]`` by a fixed rule that does not look at the data:

    ::

        field               width  raw value, drawn uniformly    column(s) of X
        Store Number          4    store s in 0..15             the 4 bits of s, most significant first
        Market                1    m in 1..6                    (m - 1) / 5
        Order Protocol        1    p in 1..7                    (p - 1) / 6
        Hour                  2    h in [0, 24) hours           (1 + sin t) / 2, (1 + cos t) / 2;  t = 2 pi h / 24
        Weekday               2    d in 0..6 (Monday = 0)       (1 + sin u) / 2, (1 + cos u) / 2;  u = 2 pi d / 7
        Total Items           1    k in 1..20                   (k - 1) / 19
        Subtotal              1    v in [5, 105) dollars        (v - 5) / 100
        Distance              1    km in [0, 10)                km / 10
        Busy Dashers          1    B in 0..40 (delivering)      B / 40
        Idle Dashers          1    I in 0..40 (waiting)         I / 40
        Outstanding Orders    1    O in 0..60                   O / 60

    The target is the delivery time in minutes,
    ``y = DELIVERY_TARGETS[control] + noise * e`` with ``e ~ N(0, 1)`` per row:

    * ``control="positive"``: only Distance matters (4 minutes per km), so a
      sound attribution method must rank it first; the ten other fields are
      independent noise.
    * ``control="nonlinear"``: four fields matter, none of them linearly: busy
      against idle dashers, a dinner-rush bump around 18:30 in the hour, and a
      saturating effect of the number of items. The other seven fields are
      independent noise.

    ``y`` is not clipped. The same ``seed`` gives the same ``X`` for both
    controls (the noise ``e`` is drawn after ``X``), so the two targets
    can be compared on identical orders.

    Parameters
    ----------
    n : int >= 1
        ``N``, the number of rows.
    control : {"positive", "nonlinear"}
        Which target to build (see above).
    seed : int >= 0, None or numpy Generator
        Seed of ``np.random.default_rng``; the same seed gives the same data.
    noise : float >= 0
        Standard deviation of the Gaussian noise added to ``y``, in minutes.
        At the default 2.0 a network can still explain over 90% of the
        variance of ``y`` on held-out rows (``noise=0`` gives the exact formula).

    Returns
    -------
    FieldData
        ``X`` ``(N, 16)`` float64 in ``[0, 1]``; ``y`` ``(N,)`` float64
        minutes; ``fields`` (a fresh list of ``DELIVERY_FIELDS``);
        ``relevant`` (``("Distance",)`` or ``("Hour", "Total Items",
        "Busy Dashers", "Idle Dashers")``); ``description``.

    A network that learns either control (R^2 > 0.9 on held-out rows) is
    trained in ``lessons/occlusion_and_saliency.py`` (``train_control``).
    """
    n = V.as_positive_int(n, "n")
    if not isinstance(control, str):
        raise TypeError(f"control: expected 'positive' or 'nonlinear', got {V._describe(control)}")
    if control not in _DELIVERY_RELEVANT:
        raise ValueError(f"control: expected 'positive' or 'nonlinear', got {control!r}")
    seed = V.as_seed(seed, "seed")
    noise = V.as_nonnegative(noise, "noise")

    rng = np.random.default_rng(seed)
    X = _delivery_columns(rng, n)                       # (N, 16), every column in [0, 1]
    e = rng.standard_normal(n)                          # (N,)
    y = _with_noise(_delivery_minutes(X, control), noise, e)   # (N,) minutes
    return FieldData(X=X, y=y, fields=list(DELIVERY_FIELDS), relevant=_DELIVERY_RELEVANT[control],
                     description=_delivery_description(control, n, noise))


def make_sine(n=200, low=-2 * np.pi, high=2 * np.pi, noise=0.0, seed=0):
    """``sin`` sampled on an even grid: the data of the derivative lessons.

    ``x_i = low + i (high - low) / (n - 1)`` for ``i = 0 .. n-1`` (``np.linspace``),
    and ``y_i = sin(x_i) + noise * e_i`` with ``e_i ~ N(0, 1)`` drawn from
    ``np.random.default_rng(seed)``. A network ``f`` fitted to it can be
    compared, point by point, with the known answers ``f ~ sin``,
    ``f' ~ cos`` and ``f'' ~ -sin``.

    Parameters
    ----------
    n : int >= 2
        Number of grid points, both ends included.
    low, high : float, low < high
        The ends of the grid (default two full periods, ``[-2 pi, 2 pi]``).
    noise : float >= 0
        Standard deviation of the Gaussian noise on ``y``; 0 (default) gives
        ``y = sin(X)`` exactly.
    seed : int >= 0, None or numpy Generator
        Seed of the noise; the same seed gives the same ``y``.

    Returns
    -------
    X : ndarray of float64, shape (n, 1)
        The grid, increasing.
    y : ndarray of float64, shape (n, 1)
        ``sin(X) + noise * e``.

    A network fitted to it, and its derivatives compared with ``cos`` and
    ``-sin``, is in ``lessons/sine_derivatives.py`` (``fit_tanh``).
    """
    n = V.as_positive_int(n, "n")
    if n < 2:
        raise ValueError(f"n: expected an integer >= 2 (a grid needs both ends), got {n}")
    low = V.as_number(low, "low")
    high = V.as_number(high, "high")
    if not low < high:
        raise ValueError(f"high: expected a number greater than low ({low!r}), got {high!r}")
    with np.errstate(over="ignore"):
        width = high - low
    if not np.isfinite(width):
        raise ValueError(f"high: expected high - low to fit in float64 (the grid's width), got "
                         f"high={high!r} and low={low!r}, whose difference overflows")
    noise = V.as_nonnegative(noise, "noise")
    seed = V.as_seed(seed, "seed")

    rng = np.random.default_rng(seed)
    X = np.linspace(low, high, n)[:, None]              # (n, 1)
    y = _with_noise(np.sin(X), noise, rng.standard_normal((n, 1)))  # (n, 1)
    return X, y


def _with_noise(y: np.ndarray, noise: float, e: np.ndarray) -> np.ndarray:
    """``y + noise * e``, or a ValueError naming ``noise`` if that leaves float64 (noise near 1e308)."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = y + noise * e
    if not np.all(np.isfinite(out)):
        raise ValueError(f"noise: expected a standard deviation small enough for y + noise * e to "
                         f"fit in float64, got {noise!r}")
    return out
