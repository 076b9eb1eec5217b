"""handnet.explain against PyTorch (torch.func) and Captum, timed side by side in one process.

    python benchmarks/bench_explain.py              # BLAS default threads, then 1 thread
    python benchmarks/bench_explain.py --quick      # a fast smoke run (fewer rounds, smaller d)
    python benchmarks/bench_explain.py --threads 1 --only a,c

Needs the `bench` extra for the comparisons (pip install -e ".[bench]": torch 2.13.0
and captum). Without torch the sections that compare with it are skipped with a
message; section d needs only numpy.

a  Jacobian (N, K, D) of 5000 inputs of 400 through a [400, 25, 10] sigmoid MLP:
   hn.explain.jacobian(net, X) against torch.func.vmap(torch.func.jacrev(f))(X)
   with the same weights.                                         goal: <= 0.6x torch
b  Input-Hessian diagonal d2 y_t / dx_j^2 for every j, t = predicted class:
   hn.explain.input_hessian_diag(net, X, t) against torch's double backward
   (one backward per feature, all rows at once) and torch.func
   (vmap over rows of diag(hessian(f_t))), at N = 200 rows, and against second
   central differences (2 forward passes per feature).          goal: >= 100x faster
c  Occlusion, 2x2 windows, stride 1, baseline 0, on the 1797 8x8 digits with a
   [64, 25, 10] network trained for 100 epochs, t = predicted class:
   hn.explain.occlusion against captum.attr.Occlusion, with Captum's default
   perturbations_per_eval=1 and with larger batches.              goal: <= 0.5x Captum
d  The analytic Jacobian against central finite differences (2 forward passes per
   input feature, all rows batched) at D = 64, 256, 1024, and an extrapolation to
   one 256 x 256 image with 13 outputs.                    goal: >= 100x at D = 1024

Every comparison first checks that both sides compute the same numbers, then
times them interleaved (A, B, A, B, ... order rotated each round) and prints the
median of the paired ratios and the ratio of the minima. Everything is float64
on the CPU; torch gets as many threads as numpy's BLAS has.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _timing as T  # noqa: E402
from _explain_reference import (  # noqa: E402
    Mismatch, captum_float64, captum_like_occlusion, check_close, explain_function,
    finite_difference_hessian_diag, finite_difference_jacobian, fmt_ratio, max_abs_diff,
    occlusion_semantics, optional_import, timed, torch_forward)

SECTIONS = ("a", "b", "c", "d")
GOALS = {
    "a": ("handnet / torch", "<= 0.6", lambda r: r <= 0.6),
    "b": ("torch / handnet", ">= 100", lambda r: r >= 100),
    "b_fd": ("finite differences / handnet", ">= 100", lambda r: r >= 100),
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
    # second differences at h = 1e-3 round to about 4 eps / h^2 = 9e-10, 1.4e-6 of the largest
    # value here (6.4e-4); measured 7e-10
    check_close("handnet vs finite differences", max_abs_diff(H_h, finite_difference_hessian_diag(
        net, X, t)), scale, 1e-5)

    funcs = {
        f"handnet {N_small}": lambda: hdiag(net, X, t),
        f"handnet {N_big}": lambda: hdiag(net, X_big, t_big),
        "torch double backward": torch_double_backward,
        "torch.func vmap(hessian)": torch_func,
        "finite differences": lambda: finite_difference_hessian_diag(net, X, t),
    }
    times, number = timed(funcs, args.repeats or (2 if args.quick else 5), seconds=0.3)
    h_small, h_big = f"handnet {N_small}", f"handnet {N_big}"
    per_row = {k: times[k] / (N_big if k == h_big else N_small) for k in times}
    rows, result = [], {}
    for name in ("torch double backward", "torch.func vmap(hessian)", "finite differences"):
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
    out["b_fd"] = {"ratio": result.pop("finite differences")["same_n"],
                   "label": f"b. Hessian diagonal, {N_small} x [400, 25, 10]: finite differences / handnet"}
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

    def captum(ppe, threads=None):
        """Captum's Occlusion with ppe window positions per forward call, on ``threads`` torch
        threads (None: as many as BLAS has, set in run_child)."""
        before = torch.get_num_threads()
        torch.set_num_threads(threads or before)
        try:
            return occ.attribute(Xt, sliding_window_shapes=(2, 2), strides=1, baselines=0, target=tt,
                                 perturbations_per_eval=ppe)
        finally:
            torch.set_num_threads(before)

    A_c = captum(1)
    print(f"  Captum returns {A_c.dtype}, but its sums pass through float32 (format_result: "
          "attrib.float() / counts),\n  so it agrees to about 1e-7 relative as it comes, and to "
          "1e-15 with that division in float64")
    check_close("handnet vs Captum as it comes (float32 result)",
                max_abs_diff(A_h, A_c.reshape(len(X), -1)), scale, 1e-6)
    A_c64 = captum_float64(lambda: captum(1))
    check_close("handnet vs Captum with its last division in float64",
                max_abs_diff(A_h, A_c64.reshape(len(X), -1)), scale, 1e-12)

    # Captum's settings: ppe, and one torch thread as well when torch has more (on a busy
    # 2-core machine OpenMP's second thread can cost more than it gives)
    settings = [(ppe, None) for ppe in (1, 4, 7, 49)]
    settings += [(ppe, 1) for ppe in (1, 4, 7)] if torch.get_num_threads() > 1 else []
    names = {s: f"Captum ppe={s[0]}" + (", 1 thread" if s[1] else "") for s in settings}
    funcs = {"handnet": lambda: occlusion(net, X, t, window=(2, 2), stride=1, image_shape=(8, 8))}
    for setting, name in names.items():
        funcs[name] = (lambda p, th: lambda: captum(p, th))(*setting)
    times, number = timed(funcs, args.repeats or (3 if args.quick else 7))
    result = {name: T.ratio(times, "handnet", name) for name in names.values()}
    rows = [[name, f"{np.median(times[name]) * 1e3:.1f} ms", fmt_ratio(result[name])] for name in result]
    rows.append(["handnet", f"{np.median(times['handnet']) * 1e3:.1f} ms", ""])
    print(T.table(rows, ["contender", "time (scale)", "handnet / contender"]))
    print("  ppe = perturbations_per_eval: window positions per forward call (ppe x 1797 rows);\n"
          "  1 is Captum's default, 49 puts all 49 positions in one call; the fastest setting is Captum's time.")
    best = min(result, key=lambda name: float(np.median(times[name])))
    out["c"] = {"ratio": result[best], "detail": result, "ratio_default": result["Captum ppe=1"],
                "label": f"c. Occlusion, 1797 digits: handnet / Captum (fastest: {best[7:]})"}


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
                    + [">= 100" if entry["D"] >= 1024 else "grows with D"])
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
