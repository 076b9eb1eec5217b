"""Comparisons, the pieces every grading check is made of: read the answer, compare it, say what is wrong.

Reading. ``student_function`` finds a function in the student's module;
``as_array``, ``as_number`` and ``as_sequence`` turn what it returned into
float64 arrays of the expected shape, or raise ``WrongAnswer`` with a clear
sentence (None, a list of the wrong length, a transposed shape...). The
checks never let a wrong return type become a traceback of their own.

Comparing. ``compare_arrays`` (one array), ``compare_parts`` (several, e.g.
dW1, db1, dW2, db2) and ``compare_number`` use the relative error of the
gradient checker,

    rel = |a - n| / max(|a|, |n|, floor)

and, on failure, raise ``WrongAnswer`` whose message names the worst entry,

    W1[2, 0]: analytic 1.234e-02, numerical 2.468e-02, rel. error 3.3e-01

followed by the hints of ``diagnose``: wrong shape, all zeros, sign flipped,
a constant factor (missing 1/m, lambda vs lambda/2), only the bias entries
wrong, transposed, and any exercise-specific "variant" (a known wrong answer,
such as the gradient with the bias regularised or the labels shifted by one).

Gradients. ``compare_gradient`` compares the student's gradient with central
differences of the reference cost; on failure it also takes central
differences of the student's *own* cost: if the gradient agrees with those,
the cost is wrong, not backprop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..gradcheck import numerical_gradient, relative_error
from .exercise import WrongAnswer
from .grading.wire import Opaque

__all__ = [
    "H",
    "GRADIENT_RTOL",
    "GRADIENT_FLOOR",
    "VALUE_RTOL",
    "VARIANT_RTOL",
    "Part",
    "student_function",
    "describe",
    "as_array",
    "as_number",
    "as_sequence",
    "shape_hint",
    "entry_name",
    "relative_errors",
    "compare_parts",
    "compare_arrays",
    "compare_number",
    "diagnose",
    "factor_hint",
    "placement_hints",
    "numerical_gradients",
    "compare_gradient",
]

#: Step of the (Richardson-refined) central differences the gradient checks take of the reference cost.
H = 1e-3
#: Largest relative error a gradient may have against those central differences.
GRADIENT_RTOL = 1e-6
#: Entries smaller than this are compared on an absolute scale: |a - n| / GRADIENT_FLOOR, so the
#: tolerance there is 1e-9 absolute (the differences themselves are good to ~1e-11).
GRADIENT_FLOOR = 1e-3
#: Largest relative error of a value computed by a formula (cost, sigmoid, occlusion...).
VALUE_RTOL = 1e-9
#: How closely an answer must match a known wrong answer ("variant") for its hint to be given.
VARIANT_RTOL = 1e-5


@dataclass(frozen=True)
class Part:
    """One named array of an answer: its name (W1, b1, ...), the student's and the expected values.

    kind: "W" for weights, "b" for biases, None otherwise (used by the hints).
    """

    name: str
    analytic: np.ndarray
    expected: np.ndarray
    kind: str | None = None


# ----------------------------------------------------------------------------
# Reading the student's answer
# ----------------------------------------------------------------------------

def student_function(module, name):
    """The function ``name`` of the student's module; WrongAnswer if it is missing or not a function."""
    fn = getattr(module, name, None)
    if fn is None:
        raise WrongAnswer(f"{name}: your file has no function {name}(); keep the name and signature of the "
                          "assignment")
    if not callable(fn):
        raise WrongAnswer(f"{name}: expected a function, got {describe(fn)}")
    return fn


def describe(value):
    """A short description of a value: 'None', 'a list of 3 items', 'an array of shape (3, 5)', 'float 0.5'."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} (dtype {value.dtype})"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, Opaque):                 # what a student's child process could not send as data
        text = value.description()
        return text if len(text) <= 80 else text[:77] + "..."
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def shape_hint(expected, got, others=None):
    """A sentence on why ``got`` is not ``expected`` (transposed? a column instead of a vector?), or ''.

    others: {name: shape} of the other parts of the answer, to say "this has the shape of db1".
    """
    expected, got = tuple(expected), tuple(got)
    transposed = len(got) == 2 and got == expected[::-1] and got != expected
    other = next((name for name, shape in (others or {}).items() if tuple(shape) == got), None)
    if other is not None:                     # the order is the likelier slip; say both when both fit
        return (f" (that is the shape of {other}: are the results returned in the right order?"
                + (" Or is this one transposed?" if transposed else "") + ")")
    if transposed:
        return " (transposed? in handnet's layout W and dW have shape (n_in, n_out), rows are samples)"
    if int(np.prod(got)) == int(np.prod(expected)):
        if len(got) == 2 and 1 in got and len(expected) == 1:
            return f" (a column or row instead of a vector: return shape {expected}, e.g. with .ravel())"
        return " (the right number of entries in the wrong shape)"
    if len(expected) == 2 and len(got) == 2 and got[0] == expected[0] + 1 and got[1] == expected[1]:
        return " (one row too many: the bias belongs in b, not in an extra row of W)"
    return ""


def placement_hints(names, values, expected, floor=0.0, rtol=VARIANT_RTOL):
    """Sentences for parts of an answer that are right but misplaced, found by value; [] if none.

    names     the parts' names in the order asked for (dW1, db1, ...)
    values    what the student returned in those places (anything)
    expected  the right arrays, in the same order
    A part whose shape is not its own is compared with every other expected part (returned
    in the wrong place) and with its own transpose (transposed).
    """
    moved, transposed = [], []
    for i, (name, value) in enumerate(zip(names, values)):
        try:
            a = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):       # None, ragged lists...: as_array will say
            continue
        if a.shape == np.shape(expected[i]):
            continue
        other = next((names[j] for j, e in enumerate(expected) if j != i and _close(a, e, floor, rtol)), None)
        if other is not None:
            moved.append(f"what you return as {name} is {other}")
        elif a.ndim == 2 and _close(a, np.asarray(expected[i]).T, floor, rtol):
            transposed.append(name)
    hints = []
    if moved:
        hints.append(f"the right arrays in the wrong places: {'; '.join(moved)}. Return them in the order "
                     f"{', '.join(names)}.")
    if transposed:
        hints.append(f"{', '.join(transposed)} {'is' if len(transposed) == 1 else 'are'} transposed: in "
                     "handnet's layout dW = a_prev.T @ delta has the shape of W, (n_in, n_out).")
    return hints


def as_array(name, value, shape, others=None):
    """The student's ``value`` as a float64 array of shape ``shape``, else WrongAnswer saying why."""
    shape = tuple(shape)
    if value is None:
        raise WrongAnswer(f"{name}: got None, expected an array of shape {shape} (is a `return` missing?)")
    if isinstance(value, (str, bytes, dict, set)):
        raise WrongAnswer(f"{name}: expected an array of shape {shape}, got {describe(value)}")
    try:
        arr = np.asarray(value)
    except Exception:                         # noqa: BLE001 - ragged lists and the like
        raise WrongAnswer(f"{name}: expected an array of shape {shape}, got {describe(value)}") from None
    if arr.dtype.kind not in "iuf":
        raise WrongAnswer(f"{name}: expected an array of real numbers of shape {shape}, got "
                          f"{describe(value)}")
    arr = arr.astype(np.float64)              # a copy: the student's code cannot change it afterwards
    if arr.shape != shape:
        if arr.size == 1 and int(np.prod(shape)) == 1:
            return arr.reshape(shape)
        raise WrongAnswer(f"{name}: expected shape {shape}, got shape {arr.shape}"
                          f"{shape_hint(shape, arr.shape, others)}")
    return arr


def as_number(name, value):
    """The student's ``value`` as a Python float, else WrongAnswer (None, an array of several entries...)."""
    if value is None:
        raise WrongAnswer(f"{name}: got None, expected a number (is a `return` missing?)")
    if isinstance(value, (str, bytes, list, tuple, dict, set)) and not (
            isinstance(value, (list, tuple)) and len(value) == 1):
        raise WrongAnswer(f"{name}: expected a number, got {describe(value)}")
    try:
        arr = np.asarray(value)
    except Exception:                         # noqa: BLE001
        raise WrongAnswer(f"{name}: expected a number, got {describe(value)}") from None
    if arr.dtype.kind not in "iuf" or arr.size != 1:
        raise WrongAnswer(f"{name}: expected a number, got {describe(value)}")
    return float(arr.reshape(()))


def as_sequence(name, value, names):
    """The student's ``value`` as a tuple of len(names) items (a tuple or list), else WrongAnswer."""
    n = len(names)
    expected = f"({', '.join(names)})"
    if value is None:
        raise WrongAnswer(f"{name}: got None, expected {expected} (is a `return` missing?)")
    if not isinstance(value, (tuple, list)):
        raise WrongAnswer(f"{name}: expected a tuple {expected}, got {describe(value)}")
    if len(value) != n:
        raise WrongAnswer(f"{name}: expected {n} items {expected}, got {describe(value)}")
    return tuple(value)


# ----------------------------------------------------------------------------
# Comparing
# ----------------------------------------------------------------------------

def entry_name(name, index):
    """'W1[2, 0]' for name 'W1' and index (2, 0); the name alone for a 0-d entry."""
    index = tuple(int(i) for i in np.atleast_1d(index)) if np.ndim(index) else (int(index),)
    return f"{name}[{', '.join(map(str, index))}]" if index else name


def relative_errors(analytic, expected, floor=0.0):
    """|a - n| / max(|a|, |n|, floor) element-wise: handnet.gradcheck.relative_error, except that
    an entry where either value is nan or inf gets inf (a student's nan must fail, never pass)."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(expected, dtype=np.float64)
    finite = np.isfinite(a) & np.isfinite(n)
    rel = relative_error(np.where(finite, a, 0.0), np.where(finite, n, 0.0), floor)
    rel[~finite] = np.inf
    return rel


def _flat(arrays):
    return np.concatenate([np.asarray(x, dtype=np.float64).ravel() for x in arrays]) if arrays else np.zeros(0)


def _close(a, b, floor, rtol=VARIANT_RTOL):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and a.size > 0 and bool(np.all(relative_errors(a, b, floor) <= rtol))


def _worst(parts, floor):
    """(part, flat index, rel) of the worst entry over all parts."""
    best = None
    for part in parts:
        rel = relative_errors(part.analytic, part.expected, floor)
        if rel.size == 0:
            continue
        i = int(np.argmax(rel))
        if best is None or rel.flat[i] > best[2]:
            best = (part, i, float(rel.flat[i]))
    return best


def _describe_worst(part, i, rel, labels):
    index = np.unravel_index(i, np.shape(part.analytic)) if np.ndim(part.analytic) else ()
    a = np.asarray(part.analytic).flat[i] if np.ndim(part.analytic) else float(part.analytic)
    n = np.asarray(part.expected).flat[i] if np.ndim(part.expected) else float(part.expected)
    return (f"{entry_name(part.name, index)}: {labels[0]} {a:.3e}, {labels[1]} {n:.3e}, "
            f"rel. error {rel:.1e}")


def _variants(variants):
    return list(variants() if callable(variants) else variants)


def compare_parts(parts, what, rtol=GRADIENT_RTOL, floor=0.0, labels=("analytic", "numerical"),
                  variants=(), m=None, lam=None, advice=None, first_hints=None):
    """Compare several named arrays at once; return the largest relative error, or raise WrongAnswer.

    parts        [Part(name, analytic, expected, kind)], each analytic already of the expected shape
    what         what was compared and on which input, for the messages
    rtol, floor  pass when every |a - n| / max(|a|, |n|, floor) <= rtol
    labels       the words for the two values in the worst-entry line
    variants     [(hint, [arrays, one per part])] known wrong answers (or a function returning them,
                 called only on failure); the first one the answer matches gives its hint
    m, lam       the number of examples and lambda, to name factors like "missing 1/m"
    advice       {pattern: sentence} added to a generic hint: 'sign', 'factor', 'bias', 'zeros', 'weights'
    first_hints  a function returning hints to put before diagnose's (called only on failure)
    """
    worst = _worst(parts, floor)
    total = sum(int(np.size(p.analytic)) for p in parts)
    if worst is None or worst[2] <= rtol:
        rel = 0.0 if worst is None else worst[2]
        return rel
    bad = sum(int(np.sum(relative_errors(p.analytic, p.expected, floor) > rtol)) for p in parts)
    head = (f"{what}: {bad} of {total} entries differ by more than the tolerance ({rtol:.0e} relative); "
            "the worst:" if total > 1 else f"{what}: wrong (tolerance {rtol:.0e} relative):")
    lines = [head, "  " + _describe_worst(*worst, labels)]
    hints = list(first_hints() if first_hints is not None else [])
    for h in diagnose(parts, _variants(variants), m=m, lam=lam, rtol=rtol, floor=floor, advice=advice):
        if h not in hints:
            hints.append(h)
    lines += [f"hint: {h}" for h in hints]
    raise WrongAnswer("\n".join(lines))


def compare_arrays(name, analytic, expected, rtol=VALUE_RTOL, what=None, floor=0.0,
                   labels=("yours", "expected"), variants=(), m=None, lam=None, advice=None,
                   first_hints=None):
    """compare_parts for one array called ``name``: variants are [(hint, array)]."""
    vs = variants

    def one_part_variants():
        return [(hint, [arr]) for hint, arr in _variants(vs)]

    return compare_parts([Part(name, np.asarray(analytic, dtype=np.float64),
                               np.asarray(expected, dtype=np.float64))],
                         what or name, rtol=rtol, floor=floor, labels=labels, variants=one_part_variants,
                         m=m, lam=lam, advice=advice, first_hints=first_hints)


def compare_number(name, got, expected, rtol=VALUE_RTOL, what=None, variants=(), m=None, lam=None,
                   advice=None, first_hints=None):
    """compare_arrays for a single number: variants are [(hint, number)]."""
    return compare_arrays(name, np.float64(got), np.float64(expected), rtol=rtol, what=what,
                          labels=("yours", "expected"), variants=variants, m=m, lam=lam, advice=advice,
                          first_hints=first_hints)


# ----------------------------------------------------------------------------
# What went wrong
# ----------------------------------------------------------------------------

def _advice(advice, key):
    text = (advice or {}).get(key)
    return f" {text}" if text else ""


def factor_hint(c, m=None, lam=None, general=True):
    """A sentence for 'your values are c times the expected ones', or None when c is not telling.

    c ~ m: missing 1/m; c ~ 1/m: divided by m twice; c ~ 2 or 1/2: a factor 2 (lambda vs lambda/2
    when lambda > 0, 1/(2m) vs 1/m when there is an m, else just the factor). general: also describe any other c (for arrays; a single number is always
    some multiple of another, so there only the recognisable factors are named).
    """
    def near(x, target):
        return abs(x - target) <= 1e-4 * abs(target)

    sign = "" if c > 0 else "the sign is flipped and "
    c_abs = abs(c)
    if m and m > 1 and near(c_abs, m):
        return (f"{sign}your values are m = {m} times the expected ones: missing 1/m (divide the sum over "
                "the m examples by m)")
    if m and m > 1 and near(c_abs, 1.0 / m):
        return f"{sign}your values are 1/m = 1/{m} of the expected ones: divided by m twice?"
    if near(c_abs, 2.0) or near(c_abs, 0.5):
        which = "twice" if c_abs > 1 else "half"
        if lam:
            why = ": lambda vs lambda/2 (the penalty is lambda/(2m) sum(W^2), its gradient (lambda/m) W)?"
        elif m:
            why = ": a 1/2 too many or too few (1/(2m) vs 1/m)?"
        else:                                   # nothing here has an m: name no 1/m
            why = ": a factor 2 too many or too few"
        return f"{sign}your values are {which} the expected ones{why}"
    if general and np.isfinite(c) and c != 0:
        return f"{sign}your values are {c_abs:.4g} times the expected ones: a constant factor is wrong"
    return None


def _fit_factor(a, n):
    """c minimising |a - c n|, or None when n is all zero."""
    nn = float(n @ n)
    return None if nn == 0 else float(a @ n) / nn


def diagnose(parts, variants=(), m=None, lam=None, rtol=GRADIENT_RTOL, floor=0.0, advice=None):
    """The hints for a wrong answer (a list of sentences, most telling first; may be empty).

    parts     [Part(name, analytic, expected, kind)]
    variants  [(hint, [arrays, one per part])]: known wrong answers, tried in order
    Recognised, in this order: nan/inf; all zeros; a known variant; sign flipped (a = -n);
    a constant factor (a = c n: missing 1/m, lambda vs lambda/2, ...); only the bias entries
    (or only the weights) wrong; per wrong part: transposed (a = n.T), all zeros, sign, factor.
    """
    a, n = _flat([p.analytic for p in parts]), _flat([p.expected for p in parts])
    hints = []
    if not np.all(np.isfinite(a)):
        where = next(p for p in parts if not np.all(np.isfinite(p.analytic)))
        i = int(np.flatnonzero(~np.isfinite(np.asarray(where.analytic).ravel()))[0])
        index = np.unravel_index(i, np.shape(where.analytic)) if np.ndim(where.analytic) else ()
        return [f"your answer contains {np.asarray(where.analytic).flat[i]} (first at "
                f"{entry_name(where.name, index)}): a log of 0, an overflow in exp or a division by 0?"]
    if np.all(a == 0) and np.any(n != 0):
        return ["every entry is 0: is the result ever filled in (an accumulator returned before the sum, "
                "a loop that never runs)?" + _advice(advice, "zeros")]
    for hint, arrays in variants:
        if len(arrays) == len(parts) and all(_close(p.analytic, v, floor) for p, v in zip(parts, arrays)):
            return [hint]
    for hint, arrays in variants:            # the mistake made in some parts only (e.g. one bias)
        if len(arrays) != len(parts) or len(parts) == 1:
            continue
        right = [_close(p.analytic, p.expected, floor, rtol) for p in parts]
        like = [_close(p.analytic, v, floor) for p, v in zip(parts, arrays)]
        if not all(right) and all(r or v for r, v in zip(right, like)):
            names = ", ".join(p.name for p, r in zip(parts, right) if not r)
            return [f"{hint.rstrip('.')} (in {names}; the other parts are right)."]
    if _close(a, -n, floor):
        return ["sign flipped: every entry is -1 times the expected one." + _advice(advice, "sign")]
    c = _fit_factor(a, n)
    if c is not None and _close(a, c * n, floor) and abs(c - 1) > 1e-6:
        text = factor_hint(c, m, lam, general=a.size > 1)
        if text:
            return [text + "." + _advice(advice, "factor")]
    wrong = [p for p in parts if np.any(relative_errors(p.analytic, p.expected, floor) > rtol)]
    kinds = {p.kind for p in parts}
    if wrong and len(wrong) < len(parts):
        names = ", ".join(p.name for p in wrong)
        if {p.kind for p in wrong} == {"b"} and "W" in kinds:
            hints.append(f"only the bias entries are wrong ({names}); every weight entry is right."
                         + _advice(advice, "bias"))
        elif {p.kind for p in wrong} == {"W"} and "b" in kinds:
            hints.append(f"only the weight entries are wrong ({names}); every bias entry is right."
                         + _advice(advice, "weights"))
        else:
            hints.append(f"only {names} {'is' if len(wrong) == 1 else 'are'} wrong; the rest is right.")
    for p in wrong:
        pa, pn = np.asarray(p.analytic), np.asarray(p.expected)
        if pa.ndim == 2 and pa.shape[0] == pa.shape[1] and _close(pa, pn.T, floor):
            hints.append(f"{p.name} looks transposed: it equals the transpose of the expected "
                         "values (in handnet's layout dW = a_prev.T @ delta has shape (n_in, n_out)).")
        elif len(parts) > 1 and np.all(pa == 0) and np.any(pn != 0):
            hints.append(f"{p.name} is all zeros.")
        elif len(parts) > 1 and _close(pa, -pn, floor):
            hints.append(f"{p.name} has the sign flipped.")
        elif len(parts) > 1 and pa.size > 1:
            cp = _fit_factor(pa.ravel(), pn.ravel())
            if cp is not None and abs(cp - 1) > 1e-6 and _close(pa, cp * pn, floor):
                text = factor_hint(cp, m, lam)
                if text:
                    hints.append(f"{p.name}: {text}.")
    return hints


# ----------------------------------------------------------------------------
# Gradients
# ----------------------------------------------------------------------------

def numerical_gradients(f, arrays, h=H):
    """Central differences of f with respect to every entry of a list of arrays, refined once.

        D_h[i] = [f(.. + h e_i ..) - f(.. - h e_i ..)] / (2h)       error ~ h^2 f'''/6
        g[i]   = [4 D_h[i] - D_2h[i]] / 3                            error ~ h^4 f^(5)/30

    (one Richardson step: the h^2 terms cancel). With h = 1e-3 the error is ~1e-11, a hundred
    times below that of the plain central difference at its best step, so a correct gradient
    passes the checks' tolerance with a wide margin.

    f takes a list of arrays shaped like ``arrays`` (fresh copies each call) and returns a number.
    Returns a list of arrays of the same shapes.
    """
    shapes = [np.shape(x) for x in arrays]
    sizes = [int(np.prod(s)) for s in shapes]
    theta = _flat(arrays)

    def split(vector):
        out, start = [], 0
        for shape, size in zip(shapes, sizes):
            out.append(vector[start:start + size].reshape(shape).copy())
            start += size
        return out

    def f_flat(t):
        return float(f(split(t)))

    g = (4.0 * numerical_gradient(f_flat, theta, h=h) - numerical_gradient(f_flat, theta, h=2.0 * h)) / 3.0
    return split(g)


def compare_gradient(parts, params, reference_cost, student_cost, where, m, lam, variants=(), advice=None,
                   h=H, rtol=GRADIENT_RTOL, floor=GRADIENT_FLOOR):
    """Compare a student's gradient with central differences of the reference cost; a PASS message.

    parts           [(name, kind, analytic array)] the student's gradient, shapes already checked
    params          the parameter arrays at which it was computed, in the same order
    reference_cost  f(list of arrays) -> J, the correct cost
    student_cost    f(list of arrays) -> the student's own J (may raise; then its hint is skipped)
    where           the problem, for the messages ("the course's 3-5-3 debug network, m = 5, lambda = 0")
    variants        function returning [(hint, [arrays])], known wrong gradients (called on failure)

    On failure the hints begin with the cost-consistency test: if the gradient agrees
    with central differences of the student's own cost but not with the reference cost's,
    the cost is wrong, not backprop.
    """
    numerical = numerical_gradients(reference_cost, params, h)
    compared = [Part(name, np.asarray(a, dtype=np.float64), n, kind)
                for (name, kind, a), n in zip(parts, numerical)]

    def own_cost_hint():
        try:
            own = numerical_gradients(student_cost, params, h)
        except Exception:                     # noqa: BLE001 - the student's cost is not usable
            return []
        analytic = _flat([p.analytic for p in compared])
        own = _flat(own)
        if _close(analytic, own, floor, rtol=max(rtol * 10, 1e-5)) and not _close(own, _flat(numerical), floor):
            return ["your gradient matches your own cost, so your cost is wrong, not backprop: fix the "
                    "cost first (its check says how), then keep the gradient consistent with it."]
        return []

    rel = compare_parts(compared, f"gradient on {where}", rtol=rtol, floor=floor, variants=variants,
                        m=m, lam=lam, advice=advice, first_hints=own_cost_hint)
    total = sum(p.analytic.size for p in compared)
    return (f"all {total} entries agree with central differences of the cost (max rel. error {rel:.1e}, "
            f"tolerance {rtol:.0e}) on {where}")
