"""The cost of a full gradient check, per parameter, in units of one cost evaluation.

    python benchmarks/bench_gradcheck.py            # BLAS default threads, then 1 thread
    python benchmarks/bench_gradcheck.py --quick    # a fast smoke run (one batch size, one round)
    python benchmarks/bench_gradcheck.py --threads 1

hn.check_gradient(net, X, y) of a [400, 25, 10] sigmoid network checks every one
of its P = 10285 parameters by central differences: two cost evaluations per
parameter, 2P in all, each a forward pass over the batch plus the cost. So the
per-parameter time can be no less than 2 cost evaluations; the printed multiple
says how close the checker gets to that, on batches of 10 and 50 rows.

Measured in the same process, round by round: each full check is bracketed by
short interleaved timings of the small contenders, and compared with them:

check           one hn.check_gradient(net, X, y) (the full check, report included)
cost eval       one evaluation as the checker does it, without the parameter
                write: net.forward_pass(X, check=False) + costs.data_cost(...)
param write     net.params[...] = theta, which the checker's J(theta) does
                before every evaluation (a copy of all P parameters)
gradient        one backprop gradient (backprop._cost_and_gradient), for scale
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _timing as T  # noqa: E402

LAYERS = [400, 25, 10]
BATCHES = (10, 50)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="one batch size, one round: a smoke run")
    p.add_argument("--threads", default=None,
                   help="comma-separated BLAS thread settings ('default' = OPENBLAS_NUM_THREADS "
                        "unset); default 'default,1'")
    p.add_argument("--repeats", type=int, default=None, help="rounds (full checks) per batch size")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def make_batch(n_rows, seed=0):
    import numpy as np

    import handnet as hn
    from handnet.costs import prepare

    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, size=(n_rows, LAYERS[0]))
    y = rng.integers(0, LAYERS[-1], size=n_rows)
    net = hn.MLP(LAYERS, seed=seed)
    Xp, Yp, _ = prepare(net, X, y, 0.0)
    return net, X, y, Xp, Yp


def run_child(args):
    import numpy as np

    import handnet as hn
    from handnet.backprop import _cost_and_gradient
    from handnet.costs import data_cost

    env = T.environment()
    T.print_environment(env)
    results = {"env": env, "batches": []}
    rows = []
    for n_rows in (BATCHES[:1] if args.quick else BATCHES):
        net, X, y, Xp, Yp = make_batch(n_rows)
        P = net.n_params
        work = net.copy()
        theta = net.params.copy()
        cost_name = net.cost
        grad = np.empty(P)

        def cost_eval():
            zs, acts = work.forward_pass(Xp, check=False)
            return data_cost(cost_name, zs[-1], acts[-1], Yp)

        def param_write():
            work.params[...] = theta

        def gradient():
            _cost_and_gradient(work, Xp, Yp, 0.0, cost_name, out=grad)

        report = {}

        def check():
            report["r"] = hn.check_gradient(net, X, y)

        n_small = T.calls_for(cost_eval, 0.05)
        rounds = args.repeats or (1 if args.quick else 5)
        small = {"cost eval": cost_eval, "param write": param_write, "gradient": gradient}
        t_check, t_small = [], {name: [] for name in small}
        for r in range(rounds + (0 if args.quick else 1)):        # the first full round warms up
            before = T.interleaved_times(small, 3, n_small, warmup=0)
            t0 = time.perf_counter()
            check()
            dt = time.perf_counter() - t0
            after = T.interleaved_times(small, 3, n_small, warmup=0)
            if r == 0 and not args.quick:
                continue
            t_check.append(dt)                                     # each check is compared with the
            for name in small:                                     # small timings right around it
                t_small[name].append(np.median(np.concatenate([before[name], after[name]])))
        times = {"check": np.array(t_check), **{name: np.array(t) for name, t in t_small.items()}}
        assert report["r"].passed, str(report["r"])
        per_param = times["check"] / P
        multiple = per_param / times["cost eval"]
        entry = {
            "rows": n_rows, "P": P,
            "check_s": float(np.median(times["check"])),
            "per_param_us": float(np.median(per_param) * 1e6),
            "per_param/cost_eval": (float(np.median(multiple)), float(multiple.min())),
            "param_write/cost_eval": T.ratio(times, "param write", "cost eval"),
            "gradient/cost_eval": T.ratio(times, "gradient", "cost eval"),
            "cost_eval_us": float(np.median(times["cost eval"]) * 1e6),
            "max_rel_error": report["r"].max_rel_error,
        }
        results["batches"].append(entry)
        rows.append([f"{n_rows} x {LAYERS}", f"{P}", f"{entry['check_s']:.2f} s",
                     f"{entry['per_param_us']:.1f} us", f"{entry['cost_eval_us']:.1f} us",
                     f"{entry['per_param/cost_eval'][0]:.2f} [{entry['per_param/cost_eval'][1]:.2f}]",
                     f"{entry['param_write/cost_eval'][0]:.2f}", f"{entry['gradient/cost_eval'][0]:.2f}",
                     f"{entry['max_rel_error']:.1e}"])
    print(T.table(rows, ["batch", "P", "full check", "per param", "1 cost eval",
                         "per param / cost eval", "param write / eval", "gradient / eval",
                         "max rel. error"]))
    print("per param / cost eval: the ideal is 2.00 (two evaluations per parameter); median [min] over "
          "rounds,\neach check against the cost evaluations timed just before and after it. "
          "Absolute times are for scale only.")
    T.emit_result(results)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    return T.main_over_threads(__file__, argv, parse_args, run_child)


if __name__ == "__main__":
    sys.exit(main())
