"""hn.train against PyTorch float64 and the numpy GEMM floor: full batch per epoch, and minibatches.

    python benchmarks/bench_train_torch.py                 # default threads, then one
    python benchmarks/bench_train_torch.py --threads 1     # one BLAS/torch thread (a loaded machine)
    python benchmarks/bench_train_torch.py --quick         # a smoke run: small sizes, few rounds

Full batch (1797 x [64, 32, 10] digits-size, 5000 x [400, 25, 10], 20000 x [784, 128, 10];
sigmoid hidden and output, cross-entropy, lr 2, E epochs, time per epoch):

hn.train      hn.train(net, X, y, epochs=E, progress=False) / (E + 1): E steps and the final
              evaluation, the history (loss, accuracy, penalty, cost per epoch) included.
torch f64     the same loop in PyTorch float64 on the CPU: the same initial weights, the same
              equations (sigmoid, sum over units of binary cross-entropy from the logits, / m),
              full batch, plain SGD; each epoch records the cost and accuracy from its forward
              pass, and one last forward pass scores the final weights, as hn.train does.
GEMM floor    the five matrix products of one step on numpy C-order arrays (bench_train_step).

Minibatches (60000 x [784, 128, 10], MNIST-sized random data, 2 epochs, batch 64 and 256,
lr 0.5): both loops draw the same permutations (np.random.default_rng(0).permutation per
epoch) and both record the full-data cost and accuracy before training and after each epoch.

Before timing, every comparison checks the numbers agree: the full-batch histories and final
weights, and the minibatch histories and final weights, of handnet and torch (printed as the
largest relative difference). Times: interleaved rounds with a pause and a warm-up call before
each contender's block (_timing.interleaved_times); ratios are medians of back-to-back pairs,
[min / min] in brackets. Goals: hn.train / torch <= 1.0, hn.train / floor <= 1.2 at the two
large full-batch sizes; minibatch hn.train / torch <= 1.0.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _timing as T  # noqa: E402

FULL_SIZES = [(1797, [64, 32, 10]), (5000, [400, 25, 10]), (20000, [784, 128, 10])]
MINIBATCH = (60000, [784, 128, 10])
BATCHES = (64, 256)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes and few rounds: a smoke run")
    p.add_argument("--threads", default=None, help="comma-separated BLAS thread settings; default 'default,1'")
    p.add_argument("--repeats", type=int, default=None, help="rounds of interleaved timing")
    p.add_argument("--skip-minibatch", action="store_true", help="only the full-batch comparison")
    p.add_argument("--skip-full-batch", action="store_true", help="only the minibatch comparison")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def torch_loop(net, X, y, epochs, lr, batch_size=None, seed=0):
    """A closure running the torch float64 loop from net's weights; returns (history, weights).

    history: [(cost, accuracy)] before training and after each epoch, like hn.train's rows."""
    import numpy as np
    import torch

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    Yt = torch.nn.functional.one_hot(yt, net.layer_sizes[-1]).double()
    start = [(torch.from_numpy(W.copy()), torch.from_numpy(b.copy())) for W, b in zip(net.weights, net.biases)]
    m = X.shape[0]

    def logits(params, x):
        a = x
        for l, (W, b) in enumerate(params):
            z = torch.addmm(b, a, W)
            a = torch.sigmoid(z) if l < len(params) - 1 else z
        return z

    def cost(z, Y):
        return torch.nn.functional.binary_cross_entropy_with_logits(z, Y, reduction="sum") / z.shape[0]

    def record(z, history):
        history.append((float(cost(z, Yt)), float((z.argmax(1) == yt).double().mean())))

    def run():
        params = [(W.clone().requires_grad_(), b.clone().requires_grad_()) for W, b in start]
        flat = [p for pair in params for p in pair]
        history = []
        rng = np.random.default_rng(seed)
        for epoch in range(epochs + 1):
            if batch_size is None:
                z = logits(params, Xt)                   # the epoch's one pass: history and gradient
                with torch.no_grad():
                    record(z, history)
                if epoch == epochs:
                    break
                loss = cost(z, Yt)
                grads = torch.autograd.grad(loss, flat)
                with torch.no_grad():
                    for p, g in zip(flat, grads):
                        p -= lr * g
                continue
            with torch.no_grad():
                record(logits(params, Xt), history)    # the full-data history pass
            if epoch == epochs:
                break
            order = torch.from_numpy(rng.permutation(m))
            for s in range(0, m, batch_size):
                rows = order[s:s + batch_size]
                grads = torch.autograd.grad(cost(logits(params, Xt[rows]), Yt[rows]), flat)
                with torch.no_grad():
                    for p, g in zip(flat, grads):
                        p -= lr * g
        return history, [p.detach().numpy() for p in flat]

    return run


def handnet_loop(net, X, y, epochs, lr, batch_size=None, seed=0):
    """A closure running hn.train from net's weights; returns (history, weights) like torch_loop."""
    import handnet as hn

    def run():
        work = net.copy()
        h = hn.train(work, X, y, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, progress=False)
        weights = [a for W, b in zip(work.weights, work.biases) for a in (W, b)]
        return list(zip(h["cost"], h["accuracy"])), weights

    return run


def check_agree(hn_run, torch_run, what):
    """Both loops' histories and final weights agree; the largest relative difference, printed."""
    import numpy as np

    (h1, w1), (h2, w2) = hn_run(), torch_run()
    h1, h2 = np.array(h1), np.array(h2)
    worst_h = float(np.max(np.abs(h1 - h2) / np.maximum(np.abs(h2), 1e-300)))
    worst_w = max(float(np.max(np.abs(a - b)) / np.max(np.abs(b))) for a, b in zip(w1, w2))
    print(f"{what}: handnet and torch agree: history within {worst_h:.1e}, weights within {worst_w:.1e} "
          "(relative)")
    # Rounding alone separates the two (different summation orders); 1e-9 leaves room for the
    # growth of rounding differences over many steps, and catches any different equation.
    assert worst_h < 1e-9 and worst_w < 1e-9, f"{what}: handnet and torch disagree"
    return worst_h, worst_w


def fmt(pair):
    return f"{pair[0]:.2f}x [{pair[1]:.2f}x]"


def run_child(args):
    import numpy as np
    import torch

    import bench_train_step as B

    env = T.environment()
    T.print_environment(env)
    threads = env["blas_threads"] or 1
    torch.set_num_threads(threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); hn.train picks its BLAS threads per "
          "step size (handnet._system.blas_threads_for) unless OPENBLAS_NUM_THREADS is set")
    results = {"env": env, "full": [], "minibatch": []}
    for N, sizes in [] if args.skip_full_batch else FULL_SIZES[:2] if args.quick else FULL_SIZES:
        net, X, y = B.make_data(N, sizes)
        epochs = 3 if args.quick else 10 if N <= 5000 else 4
        hn_run, torch_run = handnet_loop(net, X, y, epochs, 2.0), torch_loop(net, X, y, epochs, 2.0)
        agree = check_agree(hn_run, torch_run, f"{N} x {sizes}, {epochs} full-batch epochs")
        floor = B.gemm_floor(*B.make_problem(N, sizes))
        number = T.calls_for(floor, 0.05)
        times = T.interleaved_times({"hn.train": hn_run, "torch": torch_run, "floor": floor},
                                    args.repeats or (3 if args.quick else 9),
                                    {"hn.train": 1, "torch": 1, "floor": number})
        times["hn.train"] = times["hn.train"] / (epochs + 1)
        times["torch"] = times["torch"] / (epochs + 1)
        entry = {"N": N, "layers": sizes, "epochs": epochs, "agree": agree,
                 "train/torch": T.ratio(times, "hn.train", "torch"),
                 "train/floor": T.ratio(times, "hn.train", "floor"),
                 "torch/floor": T.ratio(times, "torch", "floor"),
                 "train_ms": float(np.median(times["hn.train"]) * 1e3),
                 "torch_ms": float(np.median(times["torch"]) * 1e3)}
        print(T.table([["hn.train per epoch / torch f64", fmt(entry["train/torch"]), "<= 1.0"],
                       ["hn.train per epoch / GEMM floor", fmt(entry["train/floor"]), "<= 1.2"],
                       ["torch f64 per epoch / GEMM floor", fmt(entry["torch/floor"]), ""]],
                      ["ratio", "median [min]", "goal"]))
        print(f"hn.train {entry['train_ms']:.1f} ms/epoch, torch {entry['torch_ms']:.1f} ms/epoch\n")
        results["full"].append(entry)
    if not args.skip_minibatch:
        N, sizes = (6000, [784, 128, 10]) if args.quick else MINIBATCH
        net, X, y = B.make_data(N, sizes)
        for batch in BATCHES:
            hn_run = handnet_loop(net, X, y, 2, 0.5, batch_size=batch)
            torch_run = torch_loop(net, X, y, 2, 0.5, batch_size=batch)
            agree = check_agree(hn_run, torch_run, f"{N} x {sizes}, batch {batch}, 2 epochs")
            times = T.interleaved_times({"hn.train": hn_run, "torch": torch_run},
                                        args.repeats or (2 if args.quick else 5), 1, warmup=0, warm=0)
            entry = {"N": N, "layers": sizes, "batch": batch, "agree": agree,
                     "train/torch": T.ratio(times, "hn.train", "torch"),
                     "train_s": float(np.median(times["hn.train"])), "torch_s": float(np.median(times["torch"]))}
            print(T.table([[f"2 epochs, batch {batch}: hn.train / torch f64", fmt(entry["train/torch"]), "<= 1.0"]],
                          ["ratio", "median [min]", "goal"]))
            print(f"hn.train {entry['train_s']:.2f} s, torch {entry['torch_s']:.2f} s\n")
            results["minibatch"].append(entry)
    T.emit_result(results)


def summary(results):
    rows = []
    for _, res in results:
        t = res["env"]["blas_threads"]
        for e in res["full"]:
            rows.append([t, f"{e['N']} x {e['layers']} full batch", fmt(e["train/torch"]), fmt(e["train/floor"])])
        for e in res["minibatch"]:
            rows.append([t, f"{e['N']} x {e['layers']} batch {e['batch']}", fmt(e["train/torch"]), "-"])
    print("\n== summary: median ratio [min ratio] ==")
    print(T.table(rows, ["BLAS threads", "workload", "hn.train / torch f64", "hn.train / GEMM floor"]))


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    return T.main_over_threads(__file__, argv, parse_args, run_child, summary)


if __name__ == "__main__":
    sys.exit(main())
