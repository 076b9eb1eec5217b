"""One full-batch training step of handnet against the GEMM floor and a naive notebook step.

    python benchmarks/bench_train_step.py                # the full run (a few minutes)
    python benchmarks/bench_train_step.py --quick        # a fast smoke run
    python benchmarks/bench_train_step.py --threads 1 --malloc default --phases

Each (BLAS threads, malloc) setting runs in its own subprocess, because both are
read when the process starts: --threads takes 'default' (OPENBLAS_NUM_THREADS
unset) and/or numbers, --malloc takes 'default' (glibc as it comes) and/or
'retain' (freed memory stays in the process; see _timing.MALLOC_RETAIN).

Contenders, timed interleaved in one process (see _timing.py):

handnet step   what hn.train does per full-batch epoch: one
               backprop._cost_terms_and_gradient(..., out=grad, ws=workspace) (forward
               pass, cost, output delta, backward recursion, parameter gradients, all
               into one reused _workspace.Workspace) then training.momentum_step (the
               parameter update). lr = 0, so the parameters, and so the arithmetic,
               are the same in every round.
GEMM floor     only the five matrix products such a step cannot avoid, on the same
               arrays and shapes, into preallocated outputs:
               forward X @ W1, a1 @ W2; backward a1.T @ d2, d2 @ W2.T, X.T @ d1.
lean step      a reference: the same step as one tight NumPy function with
               preallocated buffers, everything in place, the output layer's
               exp(-|z|) shared by sigmoid and cost; what unstructured NumPy costs.
hn.train       hn.train(net, X, Y, epochs=E, progress=False) / (E + 1) (E steps and
               a final evaluation): the real loop, history and checks included.
naive step     naive_notebook.train_step (np.vectorize sigmoid, ones columns,
               np.delete); only at the first size. Its cost and gradient are first
               checked against handnet's (a correctness check, not a timing).

Ratios: median over rounds of back-to-back pairs, [min / min] in brackets.
Goals: handnet / floor <= 1.3, naive / handnet >= 20 at 5000 x [400, 25, 10].
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _timing as T  # noqa: E402

SIZES = [(5000, [400, 25, 10]), (20000, [784, 128, 10])]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="few rounds, the small size, default threads and malloc: a smoke run")
    p.add_argument("--threads", default=None,
                   help="comma-separated BLAS thread settings ('default' = OPENBLAS_NUM_THREADS "
                        "unset); default 'default,1'")
    p.add_argument("--malloc", default=None,
                   help="comma-separated malloc settings, 'default' and/or 'retain'; "
                        "default 'default,retain'")
    p.add_argument("--l2", type=float, default=0.0, help="lambda for the timed steps (default 0)")
    p.add_argument("--repeats", type=int, default=None, help="rounds of interleaved timing")
    p.add_argument("--phases", action="store_true", help="also time each phase of handnet's step")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


# ----------------------------------------------------------------------------
# The problem and the contenders
# ----------------------------------------------------------------------------

def make_data(N, sizes, seed=0):
    """A fresh sigmoid net, random inputs in [0, 1] (N, n_0) and random labels (N,) of K classes."""
    import numpy as np

    import handnet as hn

    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, size=(N, sizes[0]))
    y = rng.integers(0, sizes[-1], size=N)
    return hn.MLP(sizes, hidden="sigmoid", output="sigmoid", seed=seed), X, y


def make_problem(N, sizes, seed=0):
    """make_data with the labels one-hot (N, K), as handnet's step takes them."""
    from handnet.costs import prepare

    net, X, y = make_data(N, sizes, seed)
    X, Y, _ = prepare(net, X, y, 0.0)
    return net, X, Y


def handnet_step(net, X, Y, l2, lr=0.0, mu=0.0):
    """The per-epoch work of hn.train's full-batch loop, as a closure."""
    import numpy as np

    from handnet._workspace import Workspace
    from handnet.backprop import _cost_terms_and_gradient
    from handnet.training import momentum_step

    theta = net.params
    grad = np.empty_like(theta)
    velocity = np.zeros_like(theta)
    cost_name = net.cost
    ws = Workspace(net, X.shape[0])       # like hn.train: one workspace for every step

    def step():
        _cost_terms_and_gradient(net, X, Y, l2, cost_name, out=grad, ws=ws)
        momentum_step(theta, velocity, grad, lr, mu, work=grad)

    return step


def gemm_floor(net, X, Y):
    """The five matrix products of a [n_0, n_1, n_2] step, on handnet's own arrays."""
    import numpy as np

    from handnet.backprop import backpropagate
    from handnet.costs import output_delta

    assert net.n_layers == 2, "the floor is written for one hidden layer"
    W1, W2 = net.weights
    zs, acts = net.forward_pass(X, check=False)
    d2 = output_delta(net.cost, net.output, zs[-1], acts[-1], Y)
    (d1, d2), _ = backpropagate(net, zs, acts, d2)
    a1 = acts[1]
    z1, z2 = np.empty_like(zs[0]), np.empty_like(zs[1])
    e1 = np.empty_like(a1)
    gW1, gW2 = np.empty_like(W1), np.empty_like(W2)

    def floor():
        np.matmul(X, W1, out=z1)          # forward, layer 1
        np.matmul(a1, W2, out=z2)         # forward, layer 2
        np.matmul(a1.T, d2, out=gW2)      # dJ/dW2
        np.matmul(d2, W2.T, out=e1)       # the error carried back to layer 1
        np.matmul(X.T, d1, out=gW1)       # dJ/dW1

    return floor


def lean_step(net, X, Y, l2, lr=0.0):
    """A reference: the same step (sigmoid + cross-entropy, one hidden layer) as one tight function.

    Works on its own copy of the parameters and its own buffers, allocated once.
    Same formulas as handnet (stable sigmoid, softplus cost), so the same numbers.
    """
    import numpy as np

    W1, W2 = (W.copy() for W in net.weights)
    b1, b2 = (b.copy() for b in net.biases)
    m, (n1, n2) = X.shape[0], (W1.shape[1], W2.shape[1])
    ones = np.ones(m)
    B = SimpleNamespace(z1=np.empty((m, n1)), a1=np.empty((m, n1)), e1=np.empty((m, n1)),
                        z2=np.empty((m, n2)), h=np.empty((m, n2)), e2=np.empty((m, n2)),
                        t2=np.empty((m, n2)), s2=np.empty((m, n2)),
                        pos1=np.empty((m, n1), dtype=bool), pos2=np.empty((m, n2), dtype=bool),
                        gW1=np.empty_like(W1), gW2=np.empty_like(W2), gb1=np.empty(n1), gb2=np.empty(n2))

    def exp_minus_abs(z, e):              # e = exp(-|z|)
        np.exp(np.negative(np.abs(z, out=e), out=e), out=e)

    def sigmoid_from(z, e, pos, out):     # out = max(e, [z >= 0]) / (1 + e); e is used up
        np.maximum(e, np.greater_equal(z, 0.0, out=pos), out=out)
        e += 1.0
        out /= e

    def step():
        np.matmul(X, W1, out=B.z1)
        B.z1 += b1
        exp_minus_abs(B.z1, B.e1)
        sigmoid_from(B.z1, B.e1, B.pos1, B.a1)
        np.matmul(B.a1, W2, out=B.z2)
        B.z2 += b2
        exp_minus_abs(B.z2, B.e2)
        np.log1p(B.e2, out=B.s2)          # softplus(z) - y z, from the same exp(-|z|)
        B.s2 += np.maximum(B.z2, 0.0, out=B.t2)
        B.s2 -= np.multiply(Y, B.z2, out=B.t2)
        J = float(np.sum(B.s2)) / m
        if l2:
            J += l2 / (2 * m) * (np.vdot(W1, W1) + np.vdot(W2, W2))
        sigmoid_from(B.z2, B.e2, B.pos2, B.h)
        d2 = B.h
        d2 -= Y
        d2 /= m
        np.matmul(B.a1.T, d2, out=B.gW2)
        np.matmul(ones, d2, out=B.gb2)
        d1 = np.matmul(d2, W2.T, out=B.e1)
        np.subtract(1.0, B.a1, out=B.z1)  # 1 - a1 (z1 is no longer needed)
        B.z1 *= B.a1
        d1 *= B.z1
        np.matmul(X.T, d1, out=B.gW1)
        np.matmul(ones, d1, out=B.gb1)
        for W, gW, b, gb in ((W1, B.gW1, b1, B.gb1), (W2, B.gW2, b2, B.gb2)):
            if l2:
                gW += (l2 / m) * W
            W -= lr * gW
            b -= lr * gb
        return J

    return step


def train_epochs(net, X, Y, l2, epochs):
    """hn.train for ``epochs`` full-batch epochs on a copy of net, from the same start each call."""
    import handnet as hn

    work = net.copy()
    start = work.params.copy()

    def run():
        work.params[...] = start
        hn.train(work, X, Y, epochs=epochs, l2=l2, progress=False)

    return run


def naive_step(net, X, Y, l2, lr=2.0):
    import naive_notebook as nb

    theta1, theta2 = nb.thetas_from_handnet(net)

    def step():
        nb.train_step(theta1, theta2, X, Y, l2, lr)   # thetas not carried over: same work each call

    return step


def check_naive_matches(net, X, Y):
    """Assert the notebook's cost and gradient equal handnet's at l2 = 0 and l2 = 1."""
    import numpy as np

    import handnet as hn
    import naive_notebook as nb

    theta1, theta2 = nb.thetas_from_handnet(net)
    worst = 0.0
    for l2 in (0.0, 1.0):
        J, g1, g2 = nb.nn_cost_function(theta1, theta2, X, Y, l2)
        Jh, gh = hn.cost_and_gradient(net, X, Y, l2=l2)
        (dW1, dW2), (db1, db2) = net.unflatten(gh)
        np.testing.assert_allclose(J, Jh, rtol=1e-10)
        for naive, ours in ((g1, np.vstack([db1, dW1])), (g2, np.vstack([db2, dW2]))):
            scale = np.abs(ours).max()
            np.testing.assert_allclose(naive, ours, rtol=1e-8, atol=1e-12 * scale)
            worst = max(worst, float(np.max(np.abs(naive - ours)) / scale))
    return worst


def check_lean_matches(net, X, Y, l2):
    """Assert the lean reference computes handnet's cost (it is timed as the same step)."""
    import numpy as np

    import handnet as hn

    J = lean_step(net, X, Y, l2)()
    np.testing.assert_allclose(J, hn.cost(net, X, Y, l2=l2), rtol=1e-12)


# ----------------------------------------------------------------------------
# Phases: where handnet's step spends its time
# ----------------------------------------------------------------------------

def instrumented_step(net, X, Y, l2, acc):
    """handnet's step rebuilt from its public pieces, adding each phase's time to ``acc``.

    The same calls, in the same order, as backprop._cost_and_gradient + momentum_step.
    """
    import numpy as np

    from handnet.backprop import bias_gradient, hidden_delta, weight_gradient
    from handnet.costs import data_cost, l2_penalty, output_delta
    from handnet.network import layer_preactivation
    from handnet.training import momentum_step

    m = X.shape[0]
    grad = np.empty(net.n_params)
    velocity = np.zeros_like(grad)
    weights, biases = list(net.weights), list(net.biases)
    L = net.n_layers

    def tick(name, t0):
        t = time.perf_counter()
        acc[name] = acc.get(name, 0.0) + t - t0
        return t

    def step():
        t = time.perf_counter()
        a, zs, acts = X, [], [X]
        for l in range(L):
            z = layer_preactivation(a, weights[l], biases[l])
            t = tick("forward: a @ W + b", t)
            a = net.activation(l).f(z)
            t = tick("forward: activation f(z)", t)
            zs.append(z)
            acts.append(a)
        data_cost(net.cost, zs[-1], acts[-1], Y) + l2_penalty(weights, l2, m)
        t = tick("cost J", t)
        deltas = [None] * L
        deltas[-1] = output_delta(net.cost, net.output, zs[-1], acts[-1], Y)
        t = tick("output delta", t)
        for l in range(L - 2, -1, -1):
            deltas[l] = hidden_delta(deltas[l + 1], weights[l + 1], zs[l], acts[l + 1], net.activation(l))
        t = tick("hidden deltas (delta @ W.T * f')", t)
        grad_W, grad_b = net.unflatten(grad)
        for l in range(L):
            weight_gradient(acts[l], deltas[l], out=grad_W[l])
            if l2:
                grad_W[l] += (l2 / m) * weights[l]
        t = tick("weight gradients a.T @ delta", t)
        for l in range(L):
            bias_gradient(deltas[l], out=grad_b[l])
        t = tick("bias gradients 1^T delta", t)
        momentum_step(net.params, velocity, grad, 0.0, 0.0)
        t = tick("update", t)
        del zs, acts, deltas, a, z
        tick("freeing the step's arrays", t)

    return step


def phase_table(net, X, Y, l2, floor, rounds):
    """Rows [phase, time / GEMM floor], phases and floor timed alternately."""
    acc = {}
    step = instrumented_step(net, X, Y, l2, acc)
    step()
    floor()
    acc.clear()
    t_floor = 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        floor()
        t_floor += time.perf_counter() - t0
        step()
    rows = [[name, f"{t / t_floor:.3f}"] for name, t in acc.items()]
    rows.append(["sum of the phases", f"{sum(acc.values()) / t_floor:.3f}"])
    return rows, {name: t / t_floor for name, t in acc.items()}


# ----------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------

def fmt(pair):
    med, mn = pair
    return f"{med:.2f}x [{mn:.2f}x]"


def faults_per_call(f, calls=5):
    f()
    before = T.page_faults()
    for _ in range(calls):
        f()
    return (T.page_faults() - before) / calls


def run_child(args):
    import numpy as np

    env = T.environment()
    T.print_environment(env)
    results = {"env": env, "sizes": []}
    sizes = SIZES[:1] if args.quick else SIZES
    for i, (N, layers) in enumerate(sizes):
        net, X, Y = make_problem(N, layers)
        print(f"\n== {N} x {layers}: sigmoid + cross-entropy, l2 = {args.l2:g} ==")
        check_lean_matches(net, X, Y, args.l2)
        step = handnet_step(net, X, Y, args.l2)
        floor = gemm_floor(net, X, Y)
        lean = lean_step(net, X, Y, args.l2)
        epochs = 3 if args.quick else 20 if N <= 5000 else 5
        train = train_epochs(net, X, Y, args.l2, epochs)
        repeats = args.repeats or (5 if args.quick else 41 if N <= 5000 else 15)
        number = T.calls_for(floor, 0.02 if args.quick else 0.06)
        times = T.interleaved_times({"handnet step": step, "GEMM floor": floor, "lean step": lean,
                                     "hn.train": train}, repeats,
                                    {"handnet step": number, "GEMM floor": number, "lean step": number,
                                     "hn.train": 1})
        times["hn.train"] = times["hn.train"] / (epochs + 1)
        entry = {"N": N, "layers": layers,
                 "handnet/floor": T.ratio(times, "handnet step", "GEMM floor"),
                 "lean/floor": T.ratio(times, "lean step", "GEMM floor"),
                 "train/floor": T.ratio(times, "hn.train", "GEMM floor"),
                 "faults/step": faults_per_call(step),
                 "floor_ms": float(np.median(times["GEMM floor"]) * 1e3)}
        rows = [
            ["handnet step / GEMM floor", fmt(entry["handnet/floor"]), "<= 1.3"],
            ["lean step / GEMM floor", fmt(entry["lean/floor"]), ""],
            [f"hn.train per epoch / GEMM floor (E={epochs})", fmt(entry["train/floor"]), ""],
        ]
        if i == 0:
            worst = check_naive_matches(net.copy(), X, Y)
            print(f"naive notebook cost and gradient == handnet's (max rel. difference {worst:.1e})")
            naive = naive_step(net, X, Y, args.l2)
            nt = T.interleaved_times({"naive step": naive, "handnet step": step}, 3 if args.quick else 15,
                                     {"naive step": 1, "handnet step": number})
            entry["naive/handnet"] = T.ratio(nt, "naive step", "handnet step")
            rows.append(["naive notebook step / handnet step", fmt(entry["naive/handnet"]), ">= 20"])
        print(T.table(rows, ["ratio", "median [min]", "goal"]))
        print(f"{repeats} interleaved rounds of {number} call(s); handnet's step: "
              f"{entry['faults/step']:.0f} page faults; GEMM floor {entry['floor_ms']:.1f} ms (scale only)")
        if args.phases:
            rows, entry["phases/floor"] = phase_table(net, X, Y, args.l2, floor, max(repeats, 10))
            print(T.table(rows, ["phase of handnet's step", "time / GEMM floor"]))
        results["sizes"].append(entry)
    T.emit_result(results)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.child:
        run_child(args)
        return 0
    threads = (args.threads or ("default" if args.quick else "default,1")).split(",")
    mallocs = (args.malloc or ("default" if args.quick else "default,retain")).split(",")
    settings = list(itertools.product([t.strip() for t in threads], [m.strip() for m in mallocs]))
    results = T.run_settings(os.path.abspath(__file__), settings,
                             T.strip_options(argv, ("--threads", "--malloc")))
    print("\n== summary: median ratio [min ratio] ==")
    rows = []
    for (_, malloc), res in results:
        for e in res["sizes"]:
            rows.append([f"{res['env']['blas_threads']}", malloc, f"{e['N']} x {e['layers']}",
                         fmt(e["handnet/floor"]), fmt(e["lean/floor"]), fmt(e["train/floor"]),
                         fmt(e["naive/handnet"]) if "naive/handnet" in e else "-", f"{e['faults/step']:.0f}"])
    print(T.table(rows, ["BLAS threads", "malloc", "size", "handnet/floor", "lean/floor", "train/floor",
                         "naive/handnet", "faults/step"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
