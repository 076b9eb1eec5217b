"""handnet gradcheck: compare backpropagation's gradient with central differences."""

from __future__ import annotations

import numpy as np

import handnet as hn

from ..gradcheck import DEFAULT_H, DEFAULT_THRESHOLD
from ._common import (DEFAULT_LAYERS, DIGITS_CLASSES, DIGITS_INPUTS, EXIT_FAILED, EXIT_OK,
                      add_activation_options, add_command, check_memory)

DEFAULT_SAMPLES = 20
DEFAULT_L2 = 1.0

DESCRIPTION = f"""\
Check backpropagation's gradient against central differences.

Each parameter theta_i is nudged by +h and -h and the cost recomputed:
  numerical_i = [J(theta + h e_i) - J(theta - h e_i)] / (2h)
The check passes when every entry's relative error
  |analytic - numerical| / max(|analytic|, |numerical|)
is at most the threshold. The cost includes L2 regularisation (--l2), so
the regularisation term of the gradient is checked too.

The network is a saved model (--model) or a fresh one (--layers, --hidden,
--output, --init, --seed). The data are the first --samples rows of the
shipped digits when the network takes 64 inputs, otherwise standard-normal
inputs drawn from --seed; labels are random in 0..K-1 when the output size K
is not 10. Exit status 0 when the check passes, {EXIT_FAILED} when it fails."""

EPILOG = """\
examples:
  handnet gradcheck
  handnet gradcheck --model handnet-output/model.npz --subset 50 --directional
  handnet gradcheck --layers 5 4 3 --hidden tanh --output softmax --samples 8
  handnet gradcheck --l2 0 --h 1e-4 --threshold 1e-7"""


def register(commands):
    """Add ``handnet gradcheck`` to the subcommands."""
    check = add_command(commands, "gradcheck", run, description=DESCRIPTION, epilog=EPILOG,
                        help="check backpropagation's gradient against central differences")
    net_opts = check.add_argument_group("network (a saved model, or a fresh one)")
    net_opts.add_argument("--model", metavar="PATH",
                          help="check a saved model (a .npz written by handnet train or hn.save); "
                               "without it a fresh network is built from the options below")
    net_opts.add_argument("--layers", type=int, nargs="+", metavar="N", default=None,
                          help="layer sizes of the fresh network, input first "
                               "(default: %s)" % " ".join(map(str, DEFAULT_LAYERS)))
    add_activation_options(net_opts, hidden=None, output=None, init=None)
    net_opts.add_argument("--seed", type=int, default=0,
                          help="random seed of the fresh network's weights, of random inputs and labels, "
                               "of --subset and of --directional (default: %(default)s)")
    how = check.add_argument_group("the check")
    how.add_argument("--samples", type=int, default=DEFAULT_SAMPLES, metavar="N",
                     help="number of samples the cost is averaged over: the first N digits for a "
                          "network with 64 inputs, else N standard-normal rows (default: %(default)s)")
    how.add_argument("--l2", type=float, default=DEFAULT_L2, metavar="LAMBDA",
                     help="L2 regularisation strength in the cost; nonzero so the regularisation "
                          "gradient is checked too (default: %(default)s)")
    how.add_argument("--h", type=float, default=DEFAULT_H,
                     help="step of the central differences; 1e-5..1e-4 balances truncation and "
                          "rounding error in float64 (default: %(default)s)")
    how.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, metavar="T",
                     help="largest relative error that passes (default: %(default)s)")
    how.add_argument("--subset", type=int, default=None, metavar="K",
                     help="check at most K random entries of each parameter array, for big networks "
                          "(default: every entry)")
    how.add_argument("--directional", action="store_true",
                     help="also compare the gradient along one random direction v: g.v against "
                          "[J(theta + h v) - J(theta - h v)] / 2h, which checks every entry at once")



def run(args):
    """Build or load the network, check its gradient, print the report."""
    fresh = {"--layers": args.layers, "--hidden": args.hidden, "--output": args.output, "--init": args.init}
    if args.model is not None:
        given = [name for name, value in fresh.items() if value is not None]
        if given:
            args.parser.error(f"--model loads a saved network; {', '.join(given)} describe a fresh one: "
                              "give one or the other")
        net = hn.load(args.model)
        check_memory(net.layer_sizes, args.samples, ("--model", "--samples"))
        source = f"the model {args.model}"
    else:
        check_memory(args.layers or DEFAULT_LAYERS, args.samples)
        net = hn.MLP(args.layers if args.layers is not None else DEFAULT_LAYERS,
                     hidden=args.hidden or "sigmoid", output=args.output or "sigmoid",
                     seed=args.seed, init=args.init or "glorot")
        source = f"a fresh network (seed {args.seed})"
    X, labels, data = gradcheck_data(net, args.samples, args.seed)
    subset = "every entry" if args.subset is None else f"at most {args.subset} entries per array"
    print(f"checking {source}:\n{net.summary()}")
    print(f"on {data}; l2 {args.l2:g}, h {args.h:g}, threshold {args.threshold:g}, {subset}")
    report = hn.check_gradient(net, X, labels, l2=args.l2, h=args.h, threshold=args.threshold,
                               subset=args.subset, directional=args.directional, seed=args.seed)
    print(report)
    return EXIT_OK if report.passed else EXIT_FAILED


def gradcheck_data(net, samples, seed):
    """(X, labels, description): the first ``samples`` digits for 64 inputs, else random rows."""
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"--samples: expected a positive integer, got {samples!r}")
    n_in, K = net.layer_sizes[0], net.layer_sizes[-1]
    rng = np.random.default_rng(seed)
    n_labels = max(K, 2)                    # one sigmoid output: binary labels 0/1
    if n_in == DIGITS_INPUTS:
        X, y = hn.datasets.load_digits()
        if samples > len(X):
            raise ValueError(f"--samples: the shipped digits have {len(X)} rows, got {samples}")
        if K == DIGITS_CLASSES:
            return X[:samples], y[:samples], f"the first {samples} shipped digits"
        return (X[:samples], rng.integers(0, n_labels, samples),
                f"the first {samples} shipped digits with random labels 0..{n_labels - 1}")
    X = rng.standard_normal((samples, n_in))
    return (X, rng.integers(0, n_labels, samples),
            f"{samples} standard-normal rows (seed {seed}) with random labels 0..{n_labels - 1}")
