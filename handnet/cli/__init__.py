"""The ``handnet`` command: train on the shipped digits, check backprop's gradient, explain a model.

    handnet train [options]        train, print the results, save model/history/plots
    handnet gradcheck [options]    compare backprop with central differences
    handnet explain [options]      which pixels a digit model's outputs depend on: CSV and PNGs
    handnet convert IN OUT.npz     save a Keras .keras/.h5 model as a handnet model file
    handnet exercises [NAME]       the classroom exercises and their points
    handnet assign NAME -o DIR     write a student's copy of an exercise
    handnet validate [NAME ...]    references pass every check, untouched copies fail every one
    handnet check FILE ...         a student's self-check: a table and FILE.results.json
    handnet grade DIR --seed N     grade a folder of submissions: grades.csv and a JSON per student
    handnet gradescope NAME... --seed N -o DIR   a Gradescope autograder (autograder.zip)
    handnet lessons [NAME]         list the lessons, run one, or write them as notebooks (--notebook)
    python -m handnet ...           the same

``main(argv)`` is the whole program and returns the exit status, so it can
be called (and tested) in-process: 0 success; 1 a gradient check failed (or,
for check and validate, a check did not end as it should);
2 a usage error or a bad value (printed as one line ``handnet: error: ...``,
no traceback); 130 training interrupted with Ctrl-C (what was learnt so far
is still saved).
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from ..training import TrainingDiverged
from . import classroom, convert, explain, gradcheck, lessons, train
from ._common import EXIT_ERROR, EXIT_INTERRUPTED, PROG, HelpFormatter

__all__ = ["main", "build_parser"]

#: The command families, in the order ``handnet --help`` lists their commands. Each module
#: owns its commands' help, options and implementation, and adds them with register().
FAMILIES = (train, gradcheck, explain, convert, classroom, lessons)

DESCRIPTION = """\
handnet trains small neural networks written by hand in NumPy, for learning
and teaching how they work: the forward pass, backpropagation and gradient
descent are each a few readable lines of numpy, with nothing hidden.

From the shell you can train a multilayer perceptron on the 1797 shipped
8x8 handwritten digits, check backpropagation against numerical
derivatives, and see which pixels a trained model's outputs depend on.
For classrooms: hand out gradient-check exercises (as .py files or Jupyter
notebooks), let students check their work, and grade a folder of
submissions, here or on Gradescope. The lessons run as scripts or notebooks.
Everything else is in Python: import handnet as hn."""

EPILOG = """\
examples:
  handnet train                              train 64-25-10 on the digits, write handnet-output/
  handnet train --layers 64 50 10 --epochs 1000 --out run2
  handnet gradcheck                          check the gradient of a fresh 64-25-10 network
  handnet gradcheck --model handnet-output/model.npz
  handnet explain --model handnet-output/model.npz --method sensitivity
  handnet convert model.keras model.npz      a Keras model as a handnet model file
  handnet exercises                          list the classroom exercises
  handnet assign sigmoid -o hw1              write the student's copy into hw1/
  handnet check hw1/sigmoid.py               a student's self-check
  handnet grade submissions --seed 7         grade one subfolder per student
  handnet gradescope sigmoid --seed 7 -o gs  a Gradescope autograder for the sigmoid exercise
  handnet lessons                            list the lessons (stories in code, in teaching order)
  handnet lessons variance_identity --notebook -o notebooks   one lesson as a Jupyter notebook

Run 'handnet COMMAND --help' for every option of a command."""


def build_parser():
    """The argparse parser of the ``handnet`` command (with its subcommands)."""
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="print handnet's version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands", required=True)
    for family in FAMILIES:
        family.register(commands)
    return parser


def main(argv=None) -> int:
    """Run the handnet command with ``argv`` (default: sys.argv[1:]); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:            # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_ERROR)
    try:
        return args.run(args)
    except SystemExit as exc:            # parser.error() from a command's own checks
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    except (ValueError, TypeError, OSError, TrainingDiverged) as exc:
        return _error(exc)
    except MemoryError as exc:           # what check_memory could not foresee
        return _error(f"out of memory{': ' + str(exc) if str(exc) else ''}; try smaller --layers, "
                      "--samples or --batch-size")
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _error(exc):
    message = " ".join(str(exc).split()) or type(exc).__name__
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return EXIT_ERROR
