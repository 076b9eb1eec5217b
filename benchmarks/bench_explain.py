"""handnet.explain against PyTorch (torch.func) and Captum, timed side by side in one process.

    python benchmarks/bench_explain.py              # BLAS default threads, then 1 thread
    python benchmarks/bench_explain.py --quick      # a fast smoke run (fewer rounds, smaller d)
    python benchmarks/bench_explain.py --threads 1 --only a,c

Needs the `bench` extra for the comparisons (pip install -e ".[bench]": torch 2.13.0
and captum). Without torch the sections that compare with it are skipped with a
message; section d needs only numpy.

a  Jacobian (N, K, D) of 5000 inputs of 400 through a [400, 25, 10] sigmoid MLP:
   hn.explain.jacobian(net, X) against torch.func.vmap(torch.func.jacrev(f))(X)
   with the same weights.                                         goal: <= 1.2x torch
b  Input-Hessian diagonal d2 y_t / dx_j^2 for every j, t = predicted class:
   hn.explain.input_hessian_diag(net, X, t) against torch's double backward
   (one backward per feature, all rows at once) and torch.func
   (vmap over rows of diag(hessian(f_t))), at N = 200 rows.       goal: >= 20x faster
c  Occlusion, 2x2 windows, stride 1, baseline 0, on the 1797 8x8 digits with a
   [64, 25, 10] network trained for 100 epochs, t = predicted class:
   hn.explain.occlusion against captum.attr.Occlusion, with Captum's default
   perturbations_per_eval=1 and with larger batches.              goal: <= 0.5x Captum
d  The analytic Jacobian against central finite differences (2 forward passes per
   input feature, all rows batched) at D = 64, 256, 1024, and an extrapolation to
   one 256 x 256 image with 13 outputs.

Every comparison first checks that both sides compute the same numbers, then
times them interleaved (A, B, A, B, ... order rotated each round) and prints the
median of the paired ratios and the ratio of the minima. Everything is float64
on the CPU; torch gets as many threads as numpy's BLAS has.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _timing as T  # noqa: E402

SECTIONS = ("a", "b", "c", "d")
GOALS = {
    "a": ("handnet / torch", "<= 1.2", lambda r: r <= 1.2),
    "b": ("torch / handnet", ">= 20", lambda r: r >= 20),
    "c": ("handnet / Captum (best)", "<= 0.5", lambda r: r <= 0.5),
}
INSTALL_HINT = 'install the bench extra: pip install -e ".[bench]"'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds and sizes: a smoke run")
    p.add_argument("--threads", default=None,
                   help="comma-separated BLAS thread settings ('default' = OPENBLAS_NUM_THREADS "
                        "unset); default 'default,1'")
    p.add_argument("--only", default=",".join(SECTIONS), help="sections to run, e.g. 'a,c' (default all)")
    p.add_argument("--repeats", type=int, default=None, help="timed rounds per comparison")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


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


def fmt_ratio(r):
    med, mn = r
    return f"{med:.3g} [{mn:.3g}]"


def timed(funcs, repeats, seconds=0.25):
    """Interleaved times with each contender called often enough to fill ~``seconds`` per round."""
    number = {name: T.calls_for(f, seconds) for name, f in funcs.items()}
    return T.interleaved_times(funcs, repeats, number, warmup=0), number


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


# ----------------------------------------------------------------------------
# Sections
# ----------------------------------------------------------------------------

def section_a(args, torch, out):
    import numpy as np

    import handnet as hn

    print("\n== a. Jacobian (N, K, D): 5000 x [400, 25, 10], sigmoid ==")
    jacobian = explain_function("jacobian")
    if jacobian is None or torch is None:
        if torch is None:
            print(f"  torch not installed: skipped ({INSTALL_HINT})")
        return
    from torch.func import jacrev, vmap

    N = 1000 if args.quick else 5000
    net = hn.MLP([400, 25, 10], seed=0)
    X = np.random.default_rng(0).uniform(0.0, 1.0, size=(N, 400))
    Xt = torch.tensor(X)
    f = torch_forward(net)
    torch_jac = vmap(jacrev(f))

    J_h = jacobian(net, X)
    with torch.no_grad():
        J_t = torch_jac(Xt)
    print(f"  shapes: handnet {J_h.shape}, torch {tuple(J_t.shape)}")
    check_close("handnet vs torch", max_abs_diff(J_h, J_t), float(np.abs(J_h).max()), 1e-12)
    del J_h, J_t

    funcs = {"handnet": lambda: jacobian(net, X), "torch": lambda: torch_jac(Xt)}
    times, number = timed(funcs, args.repeats or (3 if args.quick else 9))
    r = T.ratio(times, "handnet", "torch")
    rows = [[f"{N} x [400, 25, 10]", f"{np.median(times['handnet']) * 1e3:.0f} ms",
             f"{np.median(times['torch']) * 1e3:.0f} ms", fmt_ratio(r)]]
    print(T.table(rows, ["size", "handnet (scale)", "torch (scale)", "handnet / torch"]))
    print("  torch: torch.func.vmap(torch.func.jacrev(f))(X), f the same network in torch.")
    out["a"] = {"ratio": r, "label": f"a. Jacobian {N} x [400, 25, 10]: handnet / torch"}


def section_b(args, torch, out):
    import numpy as np

    import handnet as hn

    print("\n== b. Input-Hessian diagonal d2 y_t / dx_j^2 (N, D): [400, 25, 10], t = predicted class ==")
    hdiag = explain_function("input_hessian_diag")
    if hdiag is None or torch is None:
        if torch is None:
            print(f"  torch not installed: skipped ({INSTALL_HINT})")
        return
    from torch.func import hessian, vmap

    N_small, N_big = (100, 1000) if args.quick else (200, 5000)
    net = hn.MLP([400, 25, 10], seed=0)
    X_big = np.random.default_rng(1).uniform(0.0, 1.0, size=(N_big, 400))
    X = X_big[:N_small].copy()
    t_big = net.predict(X_big)
    t = t_big[:N_small].copy()
    Xt, tt = torch.tensor(X), torch.tensor(t)
    E = torch.nn.functional.one_hot(tt, 10).to(torch.float64)
    f = torch_forward(net)
    D = X.shape[1]

    def torch_double_backward():
        """One backward per feature j, all rows at once: d/dx of sum_n g[n, j]."""
        x = Xt.clone().requires_grad_(True)
        g, = torch.autograd.grad(f(x).gather(1, tt[:, None]).sum(), x, create_graph=True)
        H = torch.empty_like(Xt)
        for j in range(D):
            h, = torch.autograd.grad(g[:, j].sum(), x, retain_graph=True)
            H[:, j] = h[:, j]
        return H

    def f_target(x, e):
        return torch.dot(f(x), e)

    vmap_hessian_diag = vmap(lambda x, e: torch.diagonal(hessian(f_target)(x, e)))

    def torch_func():
        return vmap_hessian_diag(Xt, E)

    H_h = hdiag(net, X, t)
    H_loop = torch_double_backward()
    H_func = torch_func()
    scale = float(np.abs(H_h).max())
    check_close("handnet vs torch double backward", max_abs_diff(H_h, H_loop), scale, 1e-12)
    check_close("handnet vs torch.func vmap(hessian)", max_abs_diff(H_h, H_func), scale, 1e-12)
    check_close(f"handnet on {N_big} rows vs on the first {N_small}",
                max_abs_diff(hdiag(net, X_big, t_big)[:N_small], H_h), scale, 1e-12)

    funcs = {
        f"handnet {N_small}": lambda: hdiag(net, X, t),
        f"handnet {N_big}": lambda: hdiag(net, X_big, t_big),
        "torch double backward": torch_double_backward,
        "torch.func vmap(hessian)": torch_func,
    }
    times, number = timed(funcs, args.repeats or (2 if args.quick else 5), seconds=0.3)
    h_small, h_big = f"handnet {N_small}", f"handnet {N_big}"
    per_row = {k: times[k] / (N_big if k == h_big else N_small) for k in times}
    rows, result = [], {}
    for name in ("torch double backward", "torch.func vmap(hessian)"):
        same_n = T.ratio(times, name, h_small)
        big = T.ratio(per_row, name, h_big)
        result[name] = {"same_n": same_n, "per_row_vs_big": big}
        rows.append([name, f"{np.median(times[name]) / N_small * 1e6:.0f} us",
                     fmt_ratio(same_n), fmt_ratio(big)])
    rows.append([h_small, f"{np.median(times[h_small]) / N_small * 1e6:.2f} us", "1", ""])
    rows.append([h_big, f"{np.median(times[h_big]) / N_big * 1e6:.2f} us", "", "1"])
    print(T.table(rows, ["contender", "per row (scale)", f"time / handnet, both {N_small} rows",
                         f"per row / handnet's per row at {N_big}"]))
    print(f"  torch double backward: g = grad(sum_n y_t, x, create_graph=True), then for each of the {D}\n"
          f"  features j, grad(g[:, j].sum(), x)[:, j]; all {N_small} rows in each backward.\n"
          f"  torch.func: vmap over rows of diagonal(hessian(x -> f(x) . e_t)) (forward-over-reverse).\n"
          f"  torch runs on {N_small} rows only (it is slow); handnet on {N_small} and {N_big}.")
    fastest = min(result, key=lambda k: result[k]["same_n"][0])
    r = result[fastest]["same_n"]
    out["b"] = {"ratio": r, "detail": result,
                "label": f"b. Hessian diagonal, {N_small} x [400, 25, 10]: torch ({fastest}) / handnet"}


def section_c(args, torch, captum_attr, out):
    import numpy as np

    import handnet as hn

    print("\n== c. Occlusion on the 8x8 digits: window (2, 2), stride 1, baseline 0, t = predicted class ==")
    occlusion = explain_function("occlusion")
    if occlusion is None:
        return
    X, y = hn.datasets.load_digits()
    net = hn.MLP([64, 25, 10], seed=0)
    hn.train(net, X, y, epochs=100, progress=False)
    t = net.predict(X)
    print(f"  {X.shape[0]} digits, [64, 25, 10] trained 100 epochs (training accuracy "
          f"{hn.accuracy(y, t):.3f}); {7 * 7} window positions")

    A_h = occlusion(net, X, t, window=(2, 2), stride=1, image_shape=(8, 8))
    scale = float(np.abs(A_h).max())
    sub = slice(0, 200)
    A_ref = captum_like_occlusion(net.predict_proba, X[sub], t[sub], (2, 2), 1, 0.0, (8, 8))
    check_close("handnet vs the numpy reference (first 200 rows)", max_abs_diff(A_h[sub], A_ref), scale, 1e-12)
    occlusion_semantics(occlusion, torch, captum_attr)
    if torch is None or captum_attr is None:
        why = "torch" if torch is None else "captum"
        print(f"  {why} not installed: Captum comparison skipped ({INSTALL_HINT})")
        return

    f = torch_forward(net)

    def model(x):
        return f(x.reshape(x.shape[0], -1))

    Xt = torch.tensor(X.reshape(-1, 8, 8))
    tt = torch.tensor(t)
    occ = captum_attr.Occlusion(model)

    def captum(ppe):
        return occ.attribute(Xt, sliding_window_shapes=(2, 2), strides=1, baselines=0, target=tt,
                             perturbations_per_eval=ppe)

    A_c = captum(1)
    print(f"  Captum returns {A_c.dtype}, but its sums pass through float32 (format_result: "
          "attrib.float() / counts),\n  so it agrees to about 1e-7 relative as it comes, and to "
          "1e-15 with that division in float64")
    check_close("handnet vs Captum as it comes (float32 result)",
                max_abs_diff(A_h, A_c.reshape(len(X), -1)), scale, 1e-6)
    A_c64 = captum_float64(lambda: captum(1))
    check_close("handnet vs Captum with its last division in float64",
                max_abs_diff(A_h, A_c64.reshape(len(X), -1)), scale, 1e-12)

    ppes = (1, 4, 7, 49)
    funcs = {"handnet": lambda: occlusion(net, X, t, window=(2, 2), stride=1, image_shape=(8, 8))}
    for ppe in ppes:
        funcs[f"Captum ppe={ppe}"] = (lambda p: lambda: captum(p))(ppe)
    times, number = timed(funcs, args.repeats or (3 if args.quick else 7))
    rows, result = [], {}
    for ppe in ppes:
        name = f"Captum ppe={ppe}"
        result[ppe] = T.ratio(times, "handnet", name)
        rows.append([name, f"{np.median(times[name]) * 1e3:.1f} ms", fmt_ratio(result[ppe])])
    rows.append(["handnet", f"{np.median(times['handnet']) * 1e3:.1f} ms", ""])
    print(T.table(rows, ["contender", "time (scale)", "handnet / contender"]))
    print("  ppe = perturbations_per_eval: window positions per forward call (ppe x 1797 rows);\n"
          "  1 is Captum's default, 49 puts all 49 positions in one call; the best is taken as Captum's time.")
    best = min(ppes, key=lambda p: float(np.median(times[f"Captum ppe={p}"])))
    out["c"] = {"ratio": result[best], "detail": {str(k): v for k, v in result.items()},
                "ratio_default": result[1],
                "label": f"c. Occlusion, 1797 digits: handnet / Captum (best: ppe={best})"}


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


def finite_difference_jacobian(net, X, h=1e-5, features=None):
    """Central differences (N, K, D): two forward passes of all rows per input feature."""
    import numpy as np

    N, D = X.shape
    features = range(D) if features is None else features
    K = net.layer_sizes[-1]
    J = np.zeros((N, K, D))
    Xw = X.copy()
    for j in features:
        xj = Xw[:, j].copy()
        Xw[:, j] = xj + h
        fp = net.predict_proba(Xw)
        Xw[:, j] = xj - h
        fm = net.predict_proba(Xw)
        Xw[:, j] = xj
        J[:, :, j] = (fp - fm) / (2 * h)
    return J


def section_d(args, out):
    import numpy as np

    import handnet as hn

    print("\n== d. Analytic Jacobian vs central finite differences (numpy, h = 1e-5) ==")
    jacobian = explain_function("jacobian")
    if jacobian is None:
        return
    N = 200
    sizes = (64, 256) if args.quick else (64, 256, 1024)
    rows, result = [], []
    for D in sizes:
        net = hn.MLP([D, 25, 10], seed=0)
        X = np.random.default_rng(2).uniform(0.0, 1.0, size=(N, D))
        J = jacobian(net, X)
        diff = max_abs_diff(J, finite_difference_jacobian(net, X))
        if diff > 1e-8:
            raise Mismatch(f"finite differences disagree with the analytic Jacobian at D = {D} by {diff:.2e}")
        funcs = {"analytic": lambda: jacobian(net, X), "finite diff": lambda: finite_difference_jacobian(net, X)}
        times, number = timed(funcs, args.repeats or (2 if args.quick else 3 if D >= 1024 else 5), seconds=0.2)
        r = T.ratio(times, "finite diff", "analytic")
        result.append({"D": D, "ratio": r, "max_abs_diff": diff})
        rows.append([f"{N} x [{D}, 25, 10]", f"{np.median(times['analytic']) * 1e3:.2f} ms",
                     f"{np.median(times['finite diff']) * 1e3:.0f} ms", fmt_ratio(r), f"{diff:.1e}"])
    print(T.table(rows, ["size", "analytic (scale)", "finite diff (scale)", "finite diff / analytic",
                         "max |FD - analytic|"]))

    # One 256 x 256 image, 13 outputs: the analytic Jacobian is timed whole; the finite
    # differences over a few of the 65536 features, and that loop is scaled up.
    D, K, m = 256 * 256, 13, (64 if args.quick else 512)
    net = hn.MLP([D, 25, K], seed=0)
    x = np.random.default_rng(3).uniform(0.0, 1.0, size=(1, D))
    J = jacobian(net, x)
    J_fd = finite_difference_jacobian(net, x, features=range(m))
    diff = max_abs_diff(J[:, :, :m], J_fd[:, :, :m])
    funcs = {"analytic": lambda: jacobian(net, x),
             "finite diff, m features": lambda: finite_difference_jacobian(net, x, features=range(m))}
    times, number = timed(funcs, args.repeats or (2 if args.quick else 5), seconds=0.3)
    t_an = times["analytic"]
    t_fd = times["finite diff, m features"] * (D / m)
    ratio_img = (float(np.median(t_fd / t_an)), float(t_fd.min() / t_an.min()))
    print(f"  one 256 x 256 image, [65536, 25, 13] (hidden size 25 assumed): analytic Jacobian "
          f"{np.median(t_an) * 1e3:.1f} ms (measured);\n  finite differences over the first {m} of the "
          f"{D} features {np.median(times['finite diff, m features']):.2f} s (measured, max |diff| "
          f"{diff:.1e}),\n  scaled to all {D}: {np.median(t_fd):.0f} s = {np.median(t_fd) / 3600:.2f} h "
          f"-- an EXTRAPOLATION, not a measurement;\n  finite diff / analytic = {fmt_ratio(ratio_img)} "
          "(extrapolated numerator, measured denominator)")
    out["d"] = {"sizes": result, "image_256": {"ratio": ratio_img, "fd_seconds": float(np.median(t_fd)),
                                               "analytic_seconds": float(np.median(t_an)), "m": m}}


# ----------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------

def run_child(args):
    env = T.environment()                          # imports numpy (and BLAS) before torch
    T.print_environment(env)
    print("load average before the run: " + " ".join(f"{x:.2f}" for x in os.getloadavg())
          + f" (on {os.cpu_count()} cores; other jobs slow multi-threaded runs most)")
    torch, err = optional_import("torch")
    captum_attr = None
    if torch is None:
        print(f"torch: not installed ({err}); {INSTALL_HINT}")
    else:
        torch.set_default_dtype(torch.float64)
        threads = env["blas_threads"] or os.cpu_count()
        torch.set_num_threads(int(threads))
        captum_attr, err = optional_import("captum.attr")
        captum_version = importlib.import_module("captum").__version__ if captum_attr else f"not installed ({err})"
        print(f"torch {torch.__version__} ({torch.get_num_threads()} threads, matched to BLAS), "
              f"captum {captum_version}")
    hn_mod, _ = optional_import("handnet")
    print(f"handnet {getattr(hn_mod, '__version__', '?')} from {os.path.dirname(hn_mod.__file__)}")
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    out = {"env": env}
    t0 = time.perf_counter()
    runs = {"a": lambda: section_a(args, torch, out), "b": lambda: section_b(args, torch, out),
            "c": lambda: section_c(args, torch, captum_attr, out), "d": lambda: section_d(args, out)}
    for name in SECTIONS:
        if name in sections:
            try:
                runs[name]()
            except Mismatch as exc:
                print(f"  MISMATCH in section {name}: {exc}")
                out.setdefault("mismatch", {})[name] = str(exc)
    print(f"\nmedian of paired ratios [ratio of minima]; times in brackets '(scale)' are medians, for "
          f"scale only.  ({time.perf_counter() - t0:.0f} s)")
    T.emit_result(out)


def summary(results):
    """One table: each ratio (rows) under each thread setting (columns)."""
    def cell(res, get):
        try:
            return get(res)
        except (KeyError, TypeError):
            return "-"

    rows = []
    for k, (what, goal, met) in GOALS.items():
        labels = [res[k]["label"] for _, res in results if res and k in res]
        if labels:
            rows.append([labels[0]] + [cell(res, lambda r: f"{fmt_ratio(r[k]['ratio'])} "
                                                        f"{'met' if met(r[k]['ratio'][0]) else 'NOT met'}")
                                       for _, res in results] + [goal])
    d_sizes = next((res["d"]["sizes"] for _, res in results if res and "d" in res), [])
    for i, entry in enumerate(d_sizes):
        rows.append([f"d. finite diff / analytic Jacobian, 200 x [{entry['D']}, 25, 10]"]
                    + [cell(res, lambda r: fmt_ratio(r["d"]["sizes"][i]["ratio"])) for _, res in results]
                    + ["grows with D"])
    if d_sizes:
        rows.append(["d. the same, one 256 x 256 image, 13 outputs (FD EXTRAPOLATED)"]
                    + [cell(res, lambda r: f"{r['d']['image_256']['ratio'][0]:.3g} "
                                           f"({r['d']['image_256']['fd_seconds'] / 3600:.2f} h vs "
                                           f"{r['d']['image_256']['analytic_seconds'] * 1e3:.0f} ms)")
                       for _, res in results] + [""])
    for (th, _), res in results:
        for k, msg in ((res or {}).get("mismatch") or {}).items():
            rows.append([f"{k}. MISMATCH (threads={th}): {msg}"])
    if rows:
        width = len(results) + 2
        rows = [r + [""] * (width - len(r)) for r in rows]
        print("\n== summary: median of paired ratios [ratio of minima] ==")
        print(T.table(rows, ["ratio"] + [f"threads={th}" for (th, _), _ in results] + ["goal"]))


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    return T.main_over_threads(__file__, argv, parse_args, run_child, summary)


if __name__ == "__main__":
    sys.exit(main())
