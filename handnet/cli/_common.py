"""What every handnet command shares: the program name, exit statuses, help layout, option groups."""

from __future__ import annotations

import argparse
import os

from .._system import check_allocation
from ..io import atomic_write
from ..activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from ..network import INITS

PROG = "handnet"
DEFAULT_OUT = "handnet-output"
DIGITS_INPUTS = 64     # 8 x 8 pixels
DIGITS_CLASSES = 10
DIGITS_IMAGE_SHAPE = (8, 8)
DEFAULT_LAYERS = [DIGITS_INPUTS, 25, DIGITS_CLASSES]

EXIT_OK, EXIT_FAILED, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the line breaks of descriptions and examples; wraps option help normally."""

    def __init__(self, prog):
        super().__init__(prog, max_help_position=32)

    def _format_action(self, action):
        # List the commands themselves, without argparse's extra 'COMMAND' line above them.
        if isinstance(action, argparse._SubParsersAction):
            return "".join(self._format_action(sub) for sub in action._get_subactions())
        return super()._format_action(action)


def add_command(commands, name, run, *, help, description, epilog):
    """One subcommand with handnet's help layout; ``run(args)`` returns the exit status."""
    parser = commands.add_parser(name, help=help, description=description, epilog=epilog,
                                 formatter_class=HelpFormatter)
    parser.set_defaults(run=run, parser=parser)
    return parser


def add_activation_options(group, hidden, output, init):
    """--hidden/--output/--init; defaults of None mean 'sigmoid, sigmoid, glorot unless --model'."""
    group.add_argument("--hidden", choices=HIDDEN_ACTIVATIONS, default=hidden,
                       help="activation of the hidden layers (default: sigmoid)")
    group.add_argument("--output", choices=OUTPUT_ACTIVATIONS, default=output,
                       help="activation of the output layer; the cost follows it: cross-entropy for "
                            "sigmoid, softmax cross-entropy for softmax, squared error for identity "
                            "(default: sigmoid)")
    group.add_argument("--init", choices=INITS, default=init,
                       help="initial weights: glorot U(-r, r) with r = sqrt(6 / (n_in + n_out)), "
                            "uniform U(-0.12, 0.12), or normal N(0, 1); biases start at 0 "
                            "(default: glorot)")


def output_folder(path, option="--out"):
    """Refuse an --out that exists and is not a folder, before any work is done."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"{option}: {path!r} exists and is not a folder")
    return path


def write_csv(path, frame):
    """A DataFrame as CSV, written atomically; returns the path."""
    data = frame.to_csv(index=False).encode("utf-8")
    return atomic_write(path, lambda fh: fh.write(data))


def print_written(paths, folder):
    print(f"wrote {len(paths)} files to {folder}{os.sep}")
    for path in paths:
        print(f"  {path}")


def check_memory(layers, rows, options=("--layers", "--samples")):
    """Refuse a network or a data set larger than this machine's memory before anything is
    allocated (numpy would raise MemoryError, or with overcommit start and be killed).

    Training or checking a network of sizes n_0..n_L on m rows holds about
      4 P   numbers for the parameters (params, gradient, velocity, a working copy),
            P = sum_l (n_{l-1} + 1) n_l
      3 m sum_l n_l   for the forward and backward pass (z_l, a_l, delta_l of every layer)
    of 8 bytes each. The option named is the one whose part is larger.
    """
    P = sum((n_in + 1) * n_out for n_in, n_out in zip(layers[:-1], layers[1:]))
    per_rows = 3 * rows * sum(layers)
    option = options[0] if 4 * P >= per_rows else options[1]
    what = (f"a {'-'.join(map(str, layers))} network ({P:,} parameters) on {rows:,} rows")
    check_allocation(8 * (4 * P + per_rows), option, what)
