"""The references bench_explain.py checks handnet against before timing anything, and its
small helpers (optional imports, timing with pauses, ratio cells).

The same network in torch, the comparison that refuses to time two sides that
disagree, Captum's Occlusion written as a plain loop (and Captum with its last
division in float64), the awkward occlusion cases, and central finite differences.
"""

from __future__ import annotations

import importlib
import itertools
import math

import _timing as T

# ----------------------------------------------------------------------------
# Optional imports
# ----------------------------------------------------------------------------

def optional_import(name):
    try:
        return importlib.import_module(name), None
    except Exception as exc:  # ImportError, or a broken install
        return None, f"{type(exc).__name__}: {exc}"


def explain_function(name):
    """hn.explain.<name>, or None with a message if it is not (yet) there."""
    mod, err = optional_import("handnet.explain")
    if mod is None:
        print(f"  handnet.explain not importable ({err}): skipped")
        return None
    fn = getattr(mod, name, None)
    if fn is None:
        print(f"  handnet.explain.{name} does not exist: skipped")
    return fn


def fmt_ratio(r):
    med, mn = r
    return f"{med:.3g} [{mn:.3g}]"


def timed(funcs, repeats, seconds=0.25):
    """Interleaved times with each contender called often enough to fill ~``seconds`` per round.

    Before each contender's block _timing pauses (the previous contender's BLAS and OpenMP
    threads stop spinning) and makes one untimed call (its own threads wake up); a contender
    slow enough to fill a round with one call is not warmed twice."""
    number = {name: T.calls_for(f, seconds) for name, f in funcs.items()}   # one call each: a warm-up
    warm = {name: int(n > 1) for name, n in number.items()}
    return T.interleaved_times(funcs, repeats, number, warmup=0, warm=warm), number


# ----------------------------------------------------------------------------
# The same network in torch
# ----------------------------------------------------------------------------

def torch_forward(net):
    """f(x): (..., D) -> (..., K), the network ``net`` written in torch with copies of its weights.

    handnet's W_l has shape (n_in, n_out) and z = a @ W + b, so no transpose is needed.
    """
    import numpy as np
    import torch

    acts = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
            "identity": lambda z: z, "softmax": lambda z: torch.softmax(z, dim=-1)}
    Ws = [torch.tensor(np.array(W)) for W in net.weights]
    bs = [torch.tensor(np.array(b)) for b in net.biases]
    fs = [acts[net.activation(l).name] for l in range(net.n_layers)]

    def f(x):
        a = x
        for W, b, act in zip(Ws, bs, fs):
            a = act(a @ W + b)
        return a

    return f


def max_abs_diff(a, b):
    import numpy as np

    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b)))


def check_close(name, diff, scale, rtol):
    """Assert diff <= rtol * scale (scale: the largest |value|), printing the outcome."""
    ok = diff <= rtol * max(scale, 1e-300)
    print(f"  check {name}: max |diff| = {diff:.2e} (largest |value| {scale:.2e}, "
          f"tolerance {rtol:.0e} x that): {'same numbers' if ok else 'MISMATCH'}")
    if not ok:
        raise Mismatch(f"{name}: the two sides disagree (max |diff| {diff:.3e}); not timing them")


class Mismatch(Exception):
    """Two implementations that should agree do not: the section is not timed."""



# ----------------------------------------------------------------------------
# Occlusion as Captum defines it: a slow, obviously correct reference
# ----------------------------------------------------------------------------

def captum_like_occlusion(f, X, target, window, stride=1, baseline=0.0, image_shape=None):
    """Occlusion attributions (N, D) as captum.attr.Occlusion computes them, by a plain loop.

    f            numpy function (N, D) -> (N, K)
    target       int or (N,) ints
    window       int or tuple (one size per axis of image_shape, or of (D,))
    stride       int or tuple like window
    baseline     scalar or (D,) / (1, D) array: the value a covered feature gets
    image_shape  None (one axis of D features) or e.g. (8, 8)

    Along each axis of size n the window starts at 0, s, 2s, ... : ceil((n - w)/s) + 1
    starts, the last window cut off at the edge. A feature's attribution is the
    mean, over the windows covering it, of f(x)[t] - f(x with the window set to the
    baseline)[t]. A feature no window covers gets 0/0 = nan (Captum refuses such
    a stride: see benchmarks/README.md).
    """
    import numpy as np

    X = np.asarray(X, dtype=float)
    N, D = X.shape
    shape = tuple(image_shape) if image_shape is not None else (D,)
    window = tuple(window) if np.ndim(window) else (int(window),) * len(shape)
    stride = tuple(stride) if np.ndim(stride) else (int(stride),) * len(shape)
    base = np.broadcast_to(np.asarray(baseline, dtype=float).reshape(-1), (D,))
    t = np.broadcast_to(np.asarray(target), (N,))
    rows = np.arange(N)
    y = f(X)[rows, t]
    starts = [range(0, (math.ceil((n - w) / s) + 1) * s, s) for n, w, s in zip(shape, window, stride)]
    total, count = np.zeros((N, D)), np.zeros(D)
    for corner in itertools.product(*starts):
        covered = np.zeros(shape, dtype=bool)
        covered[tuple(slice(c, c + w) for c, w in zip(corner, window))] = True
        covered = covered.reshape(-1)
        Xo = X.copy()
        Xo[:, covered] = base[covered]
        drop = y - f(Xo)[rows, t]
        total[:, covered] += drop[:, None]
        count[covered] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


def captum_float64(fn):
    """Run fn() with Captum's final division kept in float64.

    captum 0.9.0 divides the summed drops by the window counts as
    ``single_attrib.float() / weight`` (feature_ablation.format_result), so
    Occlusion returns float32 even for a float64 model. For the exact check
    only, this swaps in the same division without the cast.
    """
    import captum.attr._core.feature_ablation as fa

    original = fa.format_result

    def format_result(total_attrib, weights, is_inputs_tuple, use_weights):
        if use_weights:
            attrib = tuple(a / w.to(a.dtype) for a, w in zip(total_attrib, weights))
        else:
            attrib = tuple(total_attrib)
        return fa._format_output(is_inputs_tuple, attrib)

    fa.format_result = format_result
    try:
        return fn()
    finally:
        fa.format_result = original



def occlusion_semantics(occlusion, torch, captum_attr):
    """handnet, the numpy reference and Captum (float64 division) on the awkward cases."""
    import numpy as np

    import handnet as hn

    rng = np.random.default_rng(4)
    net2, net1 = hn.MLP([64, 5, 3], seed=1, init="normal"), hn.MLP([10, 5, 3], seed=2, init="normal")
    X2, X1 = rng.uniform(size=(6, 64)), rng.uniform(size=(5, 10))
    b1 = rng.uniform(size=10)
    t2, t1 = rng.integers(0, 3, size=6), rng.integers(0, 3, size=5)
    cases = [  # name, net, X, target, window, stride, baseline (numpy), image_shape, baseline (torch)
        ("8x8, window (2, 2), stride 1, baseline 0, t = 1", net2, X2, 1, (2, 2), 1, 0.0, (8, 8), 0.0),
        ("8x8, window (3, 3), stride (2, 3), baseline 0, t = 2", net2, X2, 2, (3, 3), (2, 3), 0.0, (8, 8), 0.0),
        ("8x8, window (3, 3), stride (2, 3), baseline 0.3, t per row", net2, X2, t2, (3, 3), (2, 3), 0.3,
         (8, 8), 0.3),
        ("10 features, window 3, stride 2, baseline (10,), t = 0", net1, X1, 0, (3,), 2, b1, None, "1d"),
        ("10 features, window 3, stride 2, baseline (1, 10), t per row", net1, X1, t1, (3,), 2,
         b1.reshape(1, 10), None, "2d"),
    ]
    rows = []
    for name, net, X, target, window, stride, base, shape, tbase in cases:
        A_h = occlusion(net, X, target, window=window if len(window) > 1 else window[0], stride=stride,
                        baseline=base, image_shape=shape)
        A_r = captum_like_occlusion(net.predict_proba, X, target, window, stride, base, shape)
        row = [name, f"{max_abs_diff(A_h, A_r):.1e}"]
        if torch is not None and captum_attr is not None:
            f = torch_forward(net)
            xt = torch.tensor(X.reshape((-1,) + (shape or (X.shape[1],))))
            tb = {"1d": torch.tensor(b1), "2d": torch.tensor(b1).reshape(1, 10)}.get(tbase, tbase)
            tt = int(target) if np.ndim(target) == 0 else torch.tensor(target)
            A_c = captum_float64(lambda: captum_attr.Occlusion(lambda x: f(x.reshape(x.shape[0], -1))).attribute(
                xt, sliding_window_shapes=window, strides=stride, baselines=tb, target=tt))
            row.append(f"{max_abs_diff(A_h, A_c.reshape(len(X), -1)):.1e}")
        else:
            row.append("(no captum)")
        rows.append(row)
    print(T.table(rows, ["occlusion case", "max |handnet - reference|", "max |handnet - Captum|"]))
    worst = max(float(c) for r in rows for c in r[1:] if not c.startswith("("))
    if worst > 1e-12:
        raise Mismatch(f"occlusion semantics: handnet differs from the reference or Captum by {worst:.1e}")

    # A stride larger than the window leaves features no window covers.
    A_h = occlusion(net1, X1, 0, window=2, stride=3)
    print(f"  window 2, stride 3 on 10 features (features 2, 5, 8 covered by no window): handnet gives "
          f"{np.array2string(A_h[0, [2, 5, 8]], precision=3)} there", end="")
    if torch is not None and captum_attr is not None:
        f = torch_forward(net1)
        try:
            captum_attr.Occlusion(f).attribute(torch.tensor(X1), sliding_window_shapes=(2,), strides=3,
                                               baselines=0, target=0)
            print("; Captum accepts it")
        except AssertionError as exc:
            print(f";\n  Captum refuses it: AssertionError: {exc}")
    else:
        print()


def shifted_outputs(net, X, h, features):
    """For each feature j: (j, f(X with column j + h), f(X with column j - h)), all rows at once."""
    Xw = X.copy()
    for j in features:
        xj = Xw[:, j].copy()
        Xw[:, j] = xj + h
        fp = net.predict_proba(Xw)
        Xw[:, j] = xj - h
        fm = net.predict_proba(Xw)
        Xw[:, j] = xj
        yield j, fp, fm


def finite_difference_jacobian(net, X, h=1e-5, features=None):
    """Central differences (N, K, D): two forward passes of all rows per input feature."""
    import numpy as np

    N, D = X.shape
    J = np.zeros((N, net.layer_sizes[-1], D))
    for j, fp, fm in shifted_outputs(net, X, h, range(D) if features is None else features):
        J[:, :, j] = (fp - fm) / (2 * h)
    return J


def finite_difference_hessian_diag(net, X, t, h=1e-3):
    """Second central differences (N, D), two forward passes of all rows per input feature:

        d2 y_t / dx_j^2 ~ (y_t(x + h e_j) - 2 y_t(x) + y_t(x - h e_j)) / h^2

    Its error is about h^2/12 |d4 y_t / dx_j^4| from the truncation plus 4 eps |y_t| / h^2
    from the rounding: about 1e-9 for outputs in (0, 1) at h = 1e-3."""
    import numpy as np

    N, D = X.shape
    rows = np.arange(N)
    y = net.predict_proba(X)[rows, t]
    H = np.zeros((N, D))
    for j, fp, fm in shifted_outputs(net, X, h, range(D)):
        H[:, j] = (fp[rows, t] - 2.0 * y + fm[rows, t]) / (h * h)
    return H
