"""The grading checks of the occlusion exercise: window positions, one-feature windows, stride and baseline."""

from __future__ import annotations

import numpy as np

from ..compare import as_array, compare_arrays, describe, student_function
from ..exercise import WrongAnswer
from ..problems import explain_problem


#: (D, window, stride) cases of the public run: one feature, overlap, a window cut off at the edge,
#: a stride that ends exactly, the whole input, a stride of 3.
WINDOW_CASES = ((8, 1, 1), (8, 3, 1), (8, 3, 2), (7, 3, 2), (5, 5, 1), (10, 4, 3))


def _starts(D, window, stride):
    """handnet's window positions (explain.occlusion.window_counts)."""
    from ...explain.occlusion import window_counts

    P = window_counts((D,), (window,), (stride,))[0]
    return [p * stride for p in range(P)]


def _choose(rng, values):
    """One of ``values`` (a non-empty sequence), drawn from ``rng``."""
    return values[int(rng.integers(len(values)))]


def _cut_off(rng, D):
    """(window, stride) whose last window sticks out past feature D - 1: (D - w) % s != 0, w >= s >= 2."""
    stride = _choose(rng, [s for s in (2, 3) if s <= D - 2])
    return _choose(rng, [w for w in range(stride, D) if (D - w) % stride]), stride


def _ends_exactly(rng, D):
    """(window, stride) whose last window ends at feature D - 1: (D - w) % s == 0, D > w >= s >= 2."""
    stride = _choose(rng, [s for s in (2, 3) if any((D - w) % s == 0 for w in range(s, D))])
    return _choose(rng, [w for w in range(stride, D) if (D - w) % stride == 0]), stride


def _overlapping(rng, D):
    """(window, 1) with 2 <= window < D: every feature covered by up to ``window`` windows."""
    return int(rng.integers(2, D)), 1


def _window_cases(seed):
    """(D, window, stride) cases. Every seed has one of each kind, only the numbers change: windows
    of one feature, overlapping windows, a last window cut off at the edge, a stride that ends
    exactly, and the whole input as one window."""
    if seed is None:
        return WINDOW_CASES
    rng = np.random.default_rng(seed)
    D = [int(rng.integers(4, 13)) for _ in range(5)]
    return ((D[0], 1, 1), (D[1], *_overlapping(rng, D[1])), (D[2], *_cut_off(rng, D[2])),
            (D[3], *_ends_exactly(rng, D[3])), (D[4], D[4], 1))


def check_window_starts(student, seed):
    fn = student_function(student, "window_starts")
    for D, w, s in _window_cases(seed):
        call = f"window_starts({D}, {w}, {s})"
        value = fn(D, w, s)
        expected = _starts(D, w, s)
        if value is None:
            raise WrongAnswer(f"{call}: got None, expected the list {expected} (is a `return` missing?)")
        try:
            got = [int(v) for v in np.asarray(value).ravel()] if not isinstance(value, (str, bytes)) else None
        except (TypeError, ValueError):
            got = None
        if got is None or np.ndim(value) != 1:
            raise WrongAnswer(f"{call}: expected a list of ints like {expected}, got {describe(value)}")
        if got != expected:
            known = [
                (list(range(0, D - w + 1, s)), "the last window, cut off at the edge, is missing: there are "
                 "ceil((D - window) / stride) + 1 positions (floor would leave the last features uncovered)."),
                (list(range(0, D, s)), "a window starts at every multiple of the stride below D, but the "
                 "positions end with the first window that reaches the end: ceil((D - window) / stride) + 1 "
                 "of them."),
                (list(range(0, D - w, s)), "the last position is missing: the starts go up to and including "
                 "the first one whose window reaches the end."),
            ]
            hint = next((text for starts, text in known if starts == got),
                        "the starts are 0, s, 2s, ... and there are ceil((D - window) / stride) + 1 of them.")
            raise WrongAnswer(f"{call}: got {got}, expected {expected}\nhint: {hint}")
    return f"right for {len(_window_cases(seed))} (D, window, stride) cases, including windows cut off at the edge"


def _occlusion_variant(problem, k, window, stride, baseline, starts, mean=True):
    """Occlusion computed window by window with given starts, mean or sum over the covering windows."""
    net = problem.net()
    X = problem.X
    N, D = X.shape
    y = net.predict_proba(X)[:, k]
    total, count = np.zeros((N, D)), np.zeros(D)
    for start in starts:
        cols = slice(start, min(start + window, D))
        covered = X.copy()
        covered[:, cols] = baseline
        total[:, cols] += (y - net.predict_proba(covered)[:, k])[:, None]
        count[cols] += 1
    if not mean:
        return total
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


def _check_occlusion(student, problem, cases):
    from ... import explain

    fn = student_function(student, "occlusion")
    net = problem.net()
    for k, window, stride, baseline in cases:
        what = (f"occlusion(..., k={k}, window={window}, stride={stride}, baseline={baseline:g}) "
                f"on {problem.description}")
        weights, biases, X, _ = problem.student_args()
        got = as_array(what, fn(weights, biases, X, k, window, stride, baseline), problem.X.shape)
        expected = explain.occlusion(net, problem.X, k, window=window, stride=stride, baseline=baseline)
        D = problem.X.shape[1]

        def variants(k=k, window=window, stride=stride, baseline=baseline):
            starts = _starts(D, window, stride)
            out = [("you summed the drops of the windows covering a feature: take their mean (divide by the "
                    "number of windows that cover it).",
                    _occlusion_variant(problem, k, window, stride, baseline, starts, mean=False)),
                   ("the last window, cut off at the edge, is missing: there are ceil((D - window) / stride) "
                    "+ 1 positions.",
                    _occlusion_variant(problem, k, window, stride, baseline, range(0, D - window + 1, stride)))]
            if baseline != 0:
                out.append(("covered features must be set to the baseline, not to 0.",
                            explain.occlusion(net, problem.X, k, window=window, stride=stride)))
            out += [(f"that is the occlusion of output {j}, not of output {k}: take column k of the "
                     "network's outputs (units are numbered 0..K-1).",
                     explain.occlusion(net, problem.X, j, window=window, stride=stride, baseline=baseline))
                    for j in range(problem.K) if j != k]
            return out

        compare_arrays("A", got, expected, rtol=1e-8, floor=1e-4, what=what, variants=variants,
                       advice={"sign": "The drop is y_k(x) - y_k(x with the window covered)."})
    return f"right for {len(cases)} settings on {problem.description}"


def check_occlusion_single(student, seed):
    problem = explain_problem(seed, (8, 5, 3), 1, inputs=(4, 9))
    k = 1 if seed is None else int(np.random.default_rng(seed).integers(1, problem.K))    # never unit 0
    return _check_occlusion(student, problem, [(k, 1, 1, 0.0)])


def _occlusion_cases(seed, problem):
    """(k, window, stride, baseline) cases. Every seed has a last window cut off at the edge (with a
    baseline other than 0), a stride that ends exactly (baseline 0) and overlapping windows (another
    baseline), on different output units, unit 0 and the last one among them: only the numbers
    change with the seed."""
    if seed is None:
        return [(0, 3, 1, 0.0), (2, 3, 2, 0.5), (1, 2, 2, -1.0)]
    rng = np.random.default_rng(seed + 1)
    D, K = problem.X.shape[1], problem.K
    units = [0, K - 1, int(rng.integers(K))]

    def baseline():
        return float(np.round(rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 1.0), 2))

    return [(units[0], *_cut_off(rng, D), baseline()), (units[1], *_ends_exactly(rng, D), 0.0),
            (units[2], *_overlapping(rng, D), baseline())]


def check_occlusion_windows(student, seed):
    problem = explain_problem(seed, (8, 5, 3), 1, inputs=(4, 9))
    return _check_occlusion(student, problem, _occlusion_cases(seed, problem))
