"""The training workspace's memory layout: where Fortran order and the transposed weight gradient pay.

    python benchmarks/bench_layout.py              # one BLAS thread (OPENBLAS_NUM_THREADS=1)
    python benchmarks/bench_layout.py --threads default

One full training step (backprop._cost_terms_and_gradient through a _workspace.Workspace, as
hn.train runs it) at several row counts, with the workspace forced to each of the four layouts:
C or Fortran order, dJ/dW as a^T delta or as (delta^T a)^T. Printed: each layout's time over
the C-order, a^T delta one (median of interleaved rounds, [min / min]). The thresholds
_workspace.F_ORDER_FROM and TRANSPOSED_GRADIENT_FROM come from this table. Before timing, the
script checks that the four layouts give the same gradient to rounding.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _timing as T  # noqa: E402

CASES = [(64, [784, 128, 10]), (128, [784, 128, 10]), (256, [784, 128, 10]), (512, [784, 128, 10]),
         (1024, [784, 128, 10]), (1797, [64, 32, 10]), (5000, [400, 25, 10]), (20000, [784, 128, 10])]
LAYOUTS = {"C": ("C", False), "C+(d^T a)^T": ("C", True), "F": ("F", False), "F+(d^T a)^T": ("F", True)}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", default="1", help="comma-separated BLAS thread settings (default 1)")
    p.add_argument("--repeats", type=int, default=7, help="rounds of interleaved timing")
    p.add_argument("--quick", action="store_true", help="the first four row counts only")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def run_child(args):
    import numpy as np

    import bench_train_step as B
    from handnet._workspace import Workspace
    from handnet.backprop import _cost_terms_and_gradient

    T.print_environment()
    rows = []
    for N, sizes in CASES[:4] if args.quick else CASES:
        net, X, Y = B.make_problem(N, sizes)
        steps, grads = {}, {}
        for name, (order, transposed) in LAYOUTS.items():
            ws = Workspace(net, N, order=order, transposed=transposed)
            Xo, g = np.asarray(X, order=order), np.empty(net.n_params)

            def step(Xo=Xo, ws=ws, g=g):
                _cost_terms_and_gradient(net, Xo, Y, 0.0, net.cost, out=g, ws=ws)
            step()
            steps[name], grads[name] = step, g.copy()
        scale = np.abs(grads["C"]).max()
        worst = max(float(np.abs(g - grads["C"]).max()) / scale for g in grads.values())
        assert worst < 1e-12, f"the layouts disagree by {worst:.1e}"
        number = T.calls_for(steps["C"], 0.05)
        times = T.interleaved_times(steps, args.repeats, number)
        rows.append([f"{N} x {sizes}"] + [f"{T.ratio(times, name, 'C')[0]:.2f} [{T.ratio(times, name, 'C')[1]:.2f}]"
                                          for name in LAYOUTS] + [f"{worst:.0e}"])
    print(T.table(rows, ["rows x layers"] + [f"{name} / C" for name in LAYOUTS] + ["max rel. diff"]))


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    return T.main_over_threads(__file__, argv, parse_args, run_child)


if __name__ == "__main__":
    sys.exit(main())
