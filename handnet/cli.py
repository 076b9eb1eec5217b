"""The ``handnet`` command: train on the shipped digits, check backprop's gradient, explain a model.

    handnet train [options]        train, print the results, save model/history/plots
    handnet gradcheck [options]    compare backprop with central differences
    handnet explain [options]      which pixels a digit model's outputs depend on: CSV and PNGs
    handnet exercises [NAME]       the classroom exercises and their points
    handnet assign NAME -o DIR     write a student's copy of an exercise
    handnet validate [NAME ...]    references pass every check, untouched copies fail every one
    handnet check FILE ...         a student's self-check: a table and FILE.results.json
    handnet grade DIR --seed N     grade a folder of submissions: grades.csv and a JSON per student
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
import os
import sys
import time

import numpy as np

from . import __version__
from .activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from .gradcheck import DEFAULT_H, DEFAULT_THRESHOLD
from .network import INITS
from .training import DEFAULTS, TrainingDiverged

__all__ = ["main", "build_parser"]

PROG = "handnet"
DIGITS_INPUTS = 64     # 8 x 8 pixels
DIGITS_CLASSES = 10
DEFAULT_LAYERS = [DIGITS_INPUTS, 25, DIGITS_CLASSES]
DEFAULT_OUT = "handnet-output"
DEFAULT_TEST_SIZE = 0.2
DEFAULT_SAMPLES = 20
DEFAULT_GRADCHECK_L2 = 1.0
DIGITS_IMAGE_SHAPE = (8, 8)
EXPLAIN_METHODS = ("sensitivity", "gradxinput", "occlusion", "regions", "jacobian")
DEFAULT_EXPLAIN_OUT = os.path.join(DEFAULT_OUT, "explain")
DEFAULT_EXPLAIN_ROWS = range(8)
DEFAULT_WINDOW = (2, 2)
DEFAULT_STRIDE = 1
DEFAULT_BASELINE = 0.0
MAX_GRID_ROWS = 24          # rows drawn in METHOD.png (the CSV has every row)
MAX_JACOBIAN_PNGS = 8       # jacobian-rowR.png files written (the CSV has every row)

EXIT_OK, EXIT_FAILED, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130

DESCRIPTION = """\
handnet trains small neural networks written by hand in NumPy, for learning
and teaching how they work: the forward pass, backpropagation and gradient
descent are each a few readable lines of numpy, with nothing hidden.

From the shell you can train a multilayer perceptron on the 1797 shipped
8x8 handwritten digits, check backpropagation against numerical
derivatives, and see which pixels a trained model's outputs depend on.
For classrooms: hand out gradient-check exercises, let students check
their work, and grade a folder of submissions. Everything else is in
Python: import handnet as hn."""

EPILOG = """\
examples:
  handnet train                              train 64-25-10 on the digits, write handnet-output/
  handnet train --layers 64 50 10 --epochs 1000 --out run2
  handnet gradcheck                          check the gradient of a fresh 64-25-10 network
  handnet gradcheck --model handnet-output/model.npz
  handnet explain --model handnet-output/model.npz --method sensitivity
  handnet exercises                          list the classroom exercises
  handnet assign sigmoid -o hw1              write the student's copy into hw1/
  handnet check hw1/sigmoid.py               a student's self-check
  handnet grade submissions --seed 7         grade one subfolder per student

Run 'handnet COMMAND --help' for every option of a command."""

TRAIN_DESCRIPTION = f"""\
Train a multilayer perceptron on the shipped 8x8 handwritten digits.

The 1797 digits are split (seeded and stratified, so every digit keeps its
share) into a training set and a held-out test set. The network is trained
by gradient descent on the training set only; the test set measures how
well it generalises. handnet prints the architecture, the final training
cost and the held-out accuracy, then writes into the output folder:

  model.npz       the trained network (load it with hn.load)
  history.csv     cost and accuracy per epoch, training and held-out
  loss.png        the learning curves
  confusion.png   the confusion matrix on the held-out digits

Ctrl-C stops training cleanly: the network learnt so far is still saved
(exit status {EXIT_INTERRUPTED})."""

TRAIN_EPILOG = """\
examples:
  handnet train
  handnet train --layers 64 50 10 --epochs 1000 --lr 1.5 --l2 0.5 --out run2
  handnet train --hidden relu --output softmax --batch-size 32 --momentum 0.9 --lr 0.1
  handnet train --epochs 30 --no-progress --out /tmp/quick"""

GRADCHECK_DESCRIPTION = f"""\
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

GRADCHECK_EPILOG = """\
examples:
  handnet gradcheck
  handnet gradcheck --model handnet-output/model.npz --subset 50 --directional
  handnet gradcheck --layers 5 4 3 --hidden tanh --output softmax --samples 8
  handnet gradcheck --l2 0 --h 1e-4 --threshold 1e-7"""


EXPLAIN_DESCRIPTION = f"""\
Explain a saved digit model: which pixels do its outputs depend on?

The model (--model, a .npz from handnet train or hn.save) must take the 64
pixels of the shipped 8x8 digits; the explained inputs are --rows of those
1797 digits. For other data use the Python API (hn.explain). Methods:

  sensitivity  |d y_t / d x_i|: how strongly the explained output y_t reacts
               when pixel i is nudged. Backprop carried to the input.
  gradxinput   x_i * d y_t / d x_i, gradient times input: the signed share of
               each pixel that is actually inked; red pushes y_t up, blue down.
  occlusion    set a --window of pixels to --baseline, slide it by --stride,
               and record how much y_t drops (averaged over the windows that
               cover each pixel): no derivatives, just the covered images.
  regions      one map per class from the weights alone, W_L.T ... W_1.T with
               the nonlinearities ignored: the region each class "looks at".
               The same for every input, so --rows and --target do not apply.
  jacobian     d y_k / d x_i for every output k, not only the target: one map
               per output for each row, so --target does not apply.

y_t is the output unit --target (default: each row's predicted class), the
output activation a_L. Files written to the output folder (--out):

  METHOD.csv   one row per explained digit: row, label, target, x0..x63
               (regions: class, x0..x63; jacobian, long: row, output,
               feature, value)
  METHOD.png   each digit next to its map (at most the first {MAX_GRID_ROWS} rows);
               regions.png: a panel per class; jacobian-rowR.png: a panel per
               output for each row R (at most the first {MAX_JACOBIAN_PNGS} rows)"""

EXPLAIN_EPILOG = """\
examples:
  handnet explain --model handnet-output/model.npz --method sensitivity
  handnet explain --model handnet-output/model.npz --method gradxinput --rows 0:20 --target 3
  handnet explain --model handnet-output/model.npz --method occlusion --window 3 3 --rows 3 5 7
  handnet explain --model handnet-output/model.npz --method regions
  handnet explain --model handnet-output/model.npz --method jacobian --rows 0 --out /tmp/why"""


EXERCISES_DESCRIPTION = """\
List the classroom exercises: each is a module whose solution parts the
student writes, scored by checks worth points. With a NAME, show that
exercise's task, the functions to write and the points of each check."""

EXERCISES_EPILOG = """\
examples:
  handnet exercises
  handnet exercises sigmoid"""

ASSIGN_DESCRIPTION = """\
Write the student's copy of an exercise into a folder:

  NAME.py     the reference module with every solution part replaced by
              raise NotImplementedError("<function>: write this part");
              signatures, docstrings and given helpers are kept
  README.md   the task with its equations, the functions to write, the
              points per check and the self-check command

A file already in the folder with other content (a student's work) is
never overwritten: the command stops and writes nothing, unless --force,
which first renames the old file to FILE.bak."""

ASSIGN_EPILOG = """\
examples:
  handnet assign sigmoid -o hw1
  handnet assign backprop -o hw2 --force"""

VALIDATE_DESCRIPTION = f"""\
Check the teacher's side of the exercises (all of them, or those named):
every check must PASS on the reference solution and be TODO on a fresh
student copy (written to a temporary folder), for the public run and for
the hidden variants --seed. The student copy must also define the same
functions with the same docstrings. Prints a table and what is wrong;
exit status {EXIT_FAILED} if anything is off."""

VALIDATE_EPILOG = """\
examples:
  handnet validate
  handnet validate sigmoid --seed 1 2 3"""

CHECK_DESCRIPTION = f"""\
Check your solution: run every check of the exercise your file is for (its
first line, '# handnet exercise: NAME', says which), each in its own
process with a time limit, so a crash or an endless loop only fails that
check. Your file is loaded from its path, never from the installed handnet.

Prints a table (exercise, check, PASS/FAIL/TODO, points, time), explains
every failure (the worst entry, a hint, or the line of your code that
raised), and writes FILE.results.json next to the file, shaped like
Gradescope's results.json. TODO means 'not written yet' (0 points).
Exit status 0 when every check passes, {EXIT_FAILED} otherwise."""

CHECK_EPILOG = """\
examples:
  handnet check sigmoid.py
  handnet check sigmoid.py --seed 3          other shapes and values, as when graded
  handnet check sigmoid.py cost.py --timeout 60"""

GRADE_DESCRIPTION = """\
Grade a folder of submissions, one subfolder per student. Every .py file
in a student's folder whose first line is '# handnet exercise: NAME' is
run through that exercise's checks, each in its own process, on the
hidden variant --seed: shapes and values drawn from the seed at grading
time, so hard-coded public answers do not pass (a gradient check needs no
answer key). A student without a file for an exercise that others
submitted gets 0 points and FAIL "no file submitted" on its checks.

Writes to --out: grades.csv (student, exercise, check, status, score,
max_score) and STUDENT.json per student (shaped like Gradescope's
results.json); prints a summary per student."""

GRADE_EPILOG = """\
examples:
  handnet grade submissions --seed 7
  handnet grade submissions --seed 7 --out grades-hw1 --timeout 60 --jobs 4"""

DEFAULT_GRADES_OUT = os.path.join(DEFAULT_OUT, "grades")
DEFAULT_CHECK_TIMEOUT = 30.0     # = handnet.exercises.runner.DEFAULT_TIMEOUT (not imported: keeps startup light)
DEFAULT_VALIDATE_SEEDS = (1, 2)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the line breaks of descriptions and examples; wraps option help normally."""

    def __init__(self, prog):
        super().__init__(prog, max_help_position=32)

    def _format_action(self, action):
        # List the commands themselves, without argparse's extra 'COMMAND' line above them.
        if isinstance(action, argparse._SubParsersAction):
            return "".join(self._format_action(sub) for sub in action._get_subactions())
        return super()._format_action(action)


def _test_size(text):
    """'0.2' -> 0.2 (a fraction), '360' -> 360 (a count)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction like 0.2 or a count like 360, got {text!r}")


def build_parser():
    """The argparse parser of the ``handnet`` command (with its subcommands)."""
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=_HelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="print handnet's version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands", required=True)

    # -- train ---------------------------------------------------------------
    train = commands.add_parser(
        "train", help="train a network on the shipped digits; save the model, history and plots",
        description=TRAIN_DESCRIPTION, epilog=TRAIN_EPILOG, formatter_class=_HelpFormatter)
    net_opts = train.add_argument_group("network")
    net_opts.add_argument("--layers", type=int, nargs="+", metavar="N", default=list(DEFAULT_LAYERS),
                          help="layer sizes, input first: 64 (the pixels), any hidden layers, then 10 "
                               "outputs (one per digit) (default: %s)" % " ".join(map(str, DEFAULT_LAYERS)))
    _add_activation_options(net_opts, hidden="sigmoid", output="sigmoid", init="glorot")
    opt = train.add_argument_group("training")
    opt.add_argument("--epochs", type=int, default=DEFAULTS["epochs"], metavar="E",
                     help="passes over the training set (default: %(default)s)")
    opt.add_argument("--lr", type=float, default=DEFAULTS["lr"], metavar="RATE",
                     help="learning rate, the step size of gradient descent (default: %(default)s)")
    opt.add_argument("--l2", type=float, default=DEFAULTS["l2"], metavar="LAMBDA",
                     help="L2 regularisation strength lambda: adds (lambda/2m) * sum of squared weights "
                          "to the cost; 0 turns it off (default: %(default)s)")
    opt.add_argument("--batch-size", type=int, default=None, metavar="B",
                     help="minibatch size: update after every B samples, reshuffled each epoch "
                          "(default: the whole training set per step, full-batch gradient descent)")
    opt.add_argument("--momentum", type=float, default=DEFAULTS["momentum"], metavar="MU",
                     help="momentum mu in [0, 1): v <- mu v - lr grad, theta <- theta + v; 0 is plain "
                          "gradient descent (default: %(default)s)")
    opt.add_argument("--seed", type=int, default=0,
                     help="random seed of the train/test split, the initial weights and the minibatch "
                          "order; the same seed gives the same run (default: %(default)s)")
    opt.add_argument("--test-size", type=_test_size, default=DEFAULT_TEST_SIZE, metavar="F",
                     help="held-out share of the digits: a fraction in (0, 1) or a number of samples "
                          "(default: %(default)s)")
    out = train.add_argument_group("output")
    out.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                     help="folder for model.npz, history.csv, loss.png and confusion.png; created if "
                          "needed, existing files are replaced (default: %(default)s)")
    out.add_argument("--no-progress", action="store_true",
                     help="do not show the progress bar (it is only shown on a terminal anyway)")
    train.set_defaults(run=_run_train)

    # -- gradcheck -----------------------------------------------------------
    check = commands.add_parser(
        "gradcheck", help="check backpropagation's gradient against central differences",
        description=GRADCHECK_DESCRIPTION, epilog=GRADCHECK_EPILOG, formatter_class=_HelpFormatter)
    net_opts = check.add_argument_group("network (a saved model, or a fresh one)")
    net_opts.add_argument("--model", metavar="PATH",
                          help="check a saved model (a .npz written by handnet train or hn.save); "
                               "without it a fresh network is built from the options below")
    net_opts.add_argument("--layers", type=int, nargs="+", metavar="N", default=None,
                          help="layer sizes of the fresh network, input first "
                               "(default: %s)" % " ".join(map(str, DEFAULT_LAYERS)))
    _add_activation_options(net_opts, hidden=None, output=None, init=None)
    net_opts.add_argument("--seed", type=int, default=0,
                          help="random seed of the fresh network's weights, of random inputs and labels, "
                               "of --subset and of --directional (default: %(default)s)")
    how = check.add_argument_group("the check")
    how.add_argument("--samples", type=int, default=DEFAULT_SAMPLES, metavar="N",
                     help="number of samples the cost is averaged over: the first N digits for a "
                          "network with 64 inputs, else N standard-normal rows (default: %(default)s)")
    how.add_argument("--l2", type=float, default=DEFAULT_GRADCHECK_L2, metavar="LAMBDA",
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
    check.set_defaults(run=_run_gradcheck, parser=check)

    # -- explain -------------------------------------------------------------
    explain = commands.add_parser(
        "explain", help="explain a saved digit model: which pixels its outputs depend on (CSV and PNGs)",
        description=EXPLAIN_DESCRIPTION, epilog=EXPLAIN_EPILOG, formatter_class=_HelpFormatter)
    what = explain.add_argument_group("what to explain")
    what.add_argument("--model", required=True, metavar="PATH",
                      help="the model to explain: a .npz written by handnet train or hn.save, with 64 "
                           "inputs (the digits' pixels)")
    what.add_argument("--method", required=True, metavar="METHOD",
                      help="how to explain it: %s (each is described above)" % ", ".join(EXPLAIN_METHODS))
    what.add_argument("--rows", nargs="+", metavar="ROWS", default=None,
                      help="which of the 1797 shipped digits to explain: a range START:STOP (0:8 is rows "
                           "0 to 7) and/or row numbers (3 5 7) (default: 0:8)")
    what.add_argument("--target", type=int, default=None, metavar="CLASS",
                      help="the output unit to explain, 0..K-1, the same for every row "
                           "(default: each row's predicted class)")
    occ = explain.add_argument_group("occlusion")
    occ.add_argument("--window", type=int, nargs="+", metavar="N", default=None,
                     help="height and width in pixels of the patch that is covered; one number for a "
                          "square (default: %d %d)" % DEFAULT_WINDOW)
    occ.add_argument("--stride", type=int, default=None, metavar="S",
                     help="how many pixels the window moves per step (default: %d)" % DEFAULT_STRIDE)
    occ.add_argument("--baseline", type=float, default=None, metavar="VALUE",
                     help="the value covered pixels are set to; 0 is blank paper "
                          "(default: %g)" % DEFAULT_BASELINE)
    out = explain.add_argument_group("image and output")
    out.add_argument("--image-shape", type=int, nargs=2, metavar=("H", "W"), default=None,
                     help="how the 64 inputs form an image, row by row; H x W must be 64 "
                          "(default: %d %d)" % DIGITS_IMAGE_SHAPE)
    out.add_argument("--out", default=DEFAULT_EXPLAIN_OUT, metavar="DIR",
                     help="folder for METHOD.csv and the PNGs; created if needed, existing files are "
                          "replaced (default: %(default)s)")
    explain.set_defaults(run=_run_explain)

    # -- exercises, assign, validate, check, grade -----------------------------
    exercises = commands.add_parser(
        "exercises", help="list the classroom exercises and their points",
        description=EXERCISES_DESCRIPTION, epilog=EXERCISES_EPILOG, formatter_class=_HelpFormatter)
    exercises.add_argument("name", nargs="?", metavar="NAME", help="show this exercise's task and checks")
    exercises.set_defaults(run=_run_exercises)

    assign = commands.add_parser(
        "assign", help="write the student's copy of an exercise (stub module and README)",
        description=ASSIGN_DESCRIPTION, epilog=ASSIGN_EPILOG, formatter_class=_HelpFormatter)
    assign.add_argument("name", metavar="NAME", help="the exercise (see 'handnet exercises')")
    assign.add_argument("-o", "--out", required=True, metavar="DIR",
                        help="the folder to write NAME.py and README.md into; created if needed")
    assign.add_argument("--force", action="store_true",
                        help="replace files that differ from the student's copy (the old ones are kept as "
                             "FILE.bak)")
    assign.set_defaults(run=_run_assign)

    validate = commands.add_parser(
        "validate", help="check that every reference passes and every untouched copy is TODO",
        description=VALIDATE_DESCRIPTION, epilog=VALIDATE_EPILOG, formatter_class=_HelpFormatter)
    validate.add_argument("names", nargs="*", metavar="NAME", help="the exercises to validate (default: all)")
    validate.add_argument("--seed", type=int, nargs="+", default=list(DEFAULT_VALIDATE_SEEDS), metavar="N",
                          help="the hidden variants tried besides the public run (default: %s)"
                               % " ".join(map(str, DEFAULT_VALIDATE_SEEDS)))
    _add_run_options(validate)
    validate.set_defaults(run=_run_validate)

    check_cmd = commands.add_parser(
        "check", help="check a solution file: a table of PASS/FAIL/TODO and FILE.results.json",
        description=CHECK_DESCRIPTION, epilog=CHECK_EPILOG, formatter_class=_HelpFormatter)
    check_cmd.add_argument("files", nargs="+", metavar="FILE",
                           help="your solution file(s), e.g. sigmoid.py written by 'handnet assign'")
    check_cmd.add_argument("--seed", type=int, default=None, metavar="N",
                           help="run a hidden variant: other shapes and values drawn from N "
                                "(default: the public run with fixed inputs)")
    _add_run_options(check_cmd)
    check_cmd.set_defaults(run=_run_check)

    grade = commands.add_parser(
        "grade", help="grade a folder of submissions: grades.csv and a JSON per student",
        description=GRADE_DESCRIPTION, epilog=GRADE_EPILOG, formatter_class=_HelpFormatter)
    grade.add_argument("folder", metavar="DIR", help="the submissions: one subfolder per student")
    grade.add_argument("--seed", type=int, required=True, metavar="N",
                       help="the hidden variant every check runs on; pick it at grading time")
    grade.add_argument("--out", default=DEFAULT_GRADES_OUT, metavar="DIR",
                       help="folder for grades.csv and STUDENT.json; created if needed, existing files are "
                            "replaced (default: %(default)s)")
    _add_run_options(grade)
    grade.add_argument("--no-progress", action="store_true", help="no progress bar")
    grade.set_defaults(run=_run_grade)
    return parser


def _add_activation_options(group, hidden, output, init):
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


def _add_run_options(parser):
    """--timeout and --jobs, shared by the commands that run checks."""
    group = parser.add_argument_group("running the checks")
    group.add_argument("--timeout", type=float, default=DEFAULT_CHECK_TIMEOUT, metavar="SECONDS",
                       help="time limit of each check, process start included; a check that takes "
                            "longer FAILs (an infinite loop?) (default: %(default)g)")
    group.add_argument("--jobs", type=int, default=None, metavar="N",
                       help="checks run at the same time, each in its own process (default: the number "
                            "of CPUs)")


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
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _error(exc):
    message = " ".join(str(exc).split()) or type(exc).__name__
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return EXIT_ERROR


# ----------------------------------------------------------------------------
# handnet train
# ----------------------------------------------------------------------------

def _run_train(args):
    import handnet as hn

    from . import plots

    layers = args.layers
    if layers[0] != DIGITS_INPUTS:
        raise ValueError(f"--layers: the digits have {DIGITS_INPUTS} pixels, so the first size must be "
                         f"{DIGITS_INPUTS}; got {' '.join(map(str, layers))}")
    if len(layers) < 2 or layers[-1] != DIGITS_CLASSES:
        raise ValueError(f"--layers: the digits have {DIGITS_CLASSES} classes, so the last size must be "
                         f"{DIGITS_CLASSES}; got {' '.join(map(str, layers))}")
    out_dir = args.out
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ValueError(f"--out: {out_dir!r} exists and is not a folder")
    net = hn.MLP(layers, hidden=args.hidden, output=args.output, seed=args.seed, init=args.init)
    X, y = hn.datasets.load_digits()
    X_train, X_test, y_train, y_test = hn.datasets.train_test_split(
        X, y, test_size=args.test_size, seed=args.seed, stratify=True)
    os.makedirs(out_dir, exist_ok=True)  # fail now, not after training, if it cannot be created

    print(net.summary())
    batch = "full batch" if args.batch_size is None else f"batch size {args.batch_size}"
    print(f"training on {len(X_train)} digits, holding out {len(X_test)}: {args.epochs} epochs, "
          f"lr {args.lr:g}, l2 {args.l2:g}, {batch}, momentum {args.momentum:g}, seed {args.seed}")
    start = time.perf_counter()
    history = hn.train(net, X_train, y_train, epochs=args.epochs, lr=args.lr, l2=args.l2,
                       batch_size=args.batch_size, momentum=args.momentum, seed=args.seed,
                       validation=(X_test, y_test), progress=not args.no_progress)
    elapsed = time.perf_counter() - start
    interrupted = bool(history.attrs.get("interrupted", False))
    if len(history) == 0:
        print("training was interrupted before the first epoch; nothing to save", file=sys.stderr)
        return EXIT_INTERRUPTED
    last = history.iloc[-1]
    epochs_done = int(last["epoch"])
    if interrupted:
        print(f"training interrupted after epoch {epochs_done} of {args.epochs}; saving the network "
              "as it is now")
    line = f"final training cost: {last['cost']:.4g} after {epochs_done} epochs ({elapsed:.1f} s)"
    if "accuracy" in history.columns:
        line += f", training accuracy {100 * last['accuracy']:.1f}%"
    print(line)
    predicted = net.predict(X_test)
    accuracy = hn.accuracy(y_test, predicted)
    correct = int(round(accuracy * len(y_test)))
    print(f"held-out accuracy: {100 * accuracy:.1f}% ({correct} of {len(y_test)} test digits)")

    paths = _write_outputs(out_dir, net, history, hn.confusion_matrix(y_test, predicted), plots, hn)
    print(f"wrote {len(paths)} files to {out_dir}{os.sep}")
    for path in paths:
        print(f"  {path}")
    return EXIT_INTERRUPTED if interrupted else EXIT_OK


def _write_outputs(out_dir, net, history, cm, plots, hn):
    """model.npz, history.csv, loss.png, confusion.png (each written atomically); their paths."""
    from .io import atomic_write

    model = hn.save(net, os.path.join(out_dir, "model.npz"))
    csv = history.to_csv(index=False).encode("utf-8")
    history_path = atomic_write(os.path.join(out_dir, "history.csv"), lambda fh: fh.write(csv))
    loss = os.path.join(out_dir, "loss.png")
    plots.plot_history(history, loss)
    confusion = os.path.join(out_dir, "confusion.png")
    plots.plot_confusion_matrix(cm, confusion)
    return [model, history_path, loss, confusion]


# ----------------------------------------------------------------------------
# handnet gradcheck
# ----------------------------------------------------------------------------

def _run_gradcheck(args):
    import handnet as hn

    fresh = {"--layers": args.layers, "--hidden": args.hidden, "--output": args.output, "--init": args.init}
    if args.model is not None:
        given = [name for name, value in fresh.items() if value is not None]
        if given:
            args.parser.error(f"--model loads a saved network; {', '.join(given)} describe a fresh one: "
                              "give one or the other")
        net = hn.load(args.model)
        source = f"the model {args.model}"
    else:
        net = hn.MLP(args.layers if args.layers is not None else DEFAULT_LAYERS,
                     hidden=args.hidden or "sigmoid", output=args.output or "sigmoid",
                     seed=args.seed, init=args.init or "glorot")
        source = f"a fresh network (seed {args.seed})"
    X, labels, data = _gradcheck_data(net, args.samples, args.seed)
    subset = "every entry" if args.subset is None else f"at most {args.subset} entries per array"
    print(f"checking {source}:\n{net.summary()}")
    print(f"on {data}; l2 {args.l2:g}, h {args.h:g}, threshold {args.threshold:g}, {subset}")
    report = hn.check_gradient(net, X, labels, l2=args.l2, h=args.h, threshold=args.threshold,
                               subset=args.subset, directional=args.directional, seed=args.seed)
    print(report)
    return EXIT_OK if report.passed else EXIT_FAILED


def _gradcheck_data(net, samples, seed):
    """(X, labels, description): the first ``samples`` digits for 64 inputs, else random rows."""
    from .datasets import load_digits

    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"--samples: expected a positive integer, got {samples!r}")
    n_in, K = net.layer_sizes[0], net.layer_sizes[-1]
    rng = np.random.default_rng(seed)
    n_labels = max(K, 2)                    # one sigmoid output: binary labels 0/1
    if n_in == DIGITS_INPUTS:
        X, y = load_digits()
        if samples > len(X):
            raise ValueError(f"--samples: the shipped digits have {len(X)} rows, got {samples}")
        if K == DIGITS_CLASSES:
            return X[:samples], y[:samples], f"the first {samples} shipped digits"
        return (X[:samples], rng.integers(0, n_labels, samples),
                f"the first {samples} shipped digits with random labels 0..{n_labels - 1}")
    X = rng.standard_normal((samples, n_in))
    return (X, rng.integers(0, n_labels, samples),
            f"{samples} standard-normal rows (seed {seed}) with random labels 0..{n_labels - 1}")


# ----------------------------------------------------------------------------
# handnet explain
# ----------------------------------------------------------------------------

#: Per method: what the PNG's colour bar shows and the figure's title.
_EXPLAIN_LABELS = {
    "sensitivity": ("value / max", "Sensitivity |d y_t / d x_i|"),
    "gradxinput": ("value / max", "Gradient x input  x_i * d y_t / d x_i"),
    "occlusion": ("value / max", "Occlusion: the drop of y_t when windows covering the pixel are blanked"),
}


def _run_explain(args):
    import difflib

    import handnet as hn

    from . import explain

    method = args.method
    if method not in EXPLAIN_METHODS:
        close = difflib.get_close_matches(method, EXPLAIN_METHODS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"--method: expected one of {', '.join(EXPLAIN_METHODS)}, got {method!r}{hint}")
    occlusion_only = {"--window": args.window, "--stride": args.stride, "--baseline": args.baseline}
    given = [name for name, value in occlusion_only.items() if value is not None]
    if given and method != "occlusion":
        raise ValueError(f"{', '.join(given)}: only used by --method occlusion, not {method}")
    if method == "regions":
        given = [name for name, value in (("--rows", args.rows), ("--target", args.target)) if value is not None]
        if given:
            raise ValueError(f"{', '.join(given)}: --method regions maps every class from the weights alone, "
                             "for no particular input; leave out --rows and --target")
    if method == "jacobian" and args.target is not None:
        raise ValueError("--target: --method jacobian explains every output unit; leave out --target")
    out_dir = args.out
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ValueError(f"--out: {out_dir!r} exists and is not a folder")

    net = hn.load(args.model)
    n_in, K = net.layer_sizes[0], net.layer_sizes[-1]
    if n_in != DIGITS_INPUTS:
        raise ValueError(f"--model: {args.model} takes {n_in} inputs, but from the command line handnet "
                         f"explains only models of the shipped 8x8 digits ({DIGITS_INPUTS} inputs); for "
                         "other data use the Python API, e.g. hn.explain.sensitivity(net, X)")
    shape = _explain_image_shape(args.image_shape)
    if args.target is not None and not 0 <= args.target < K:
        raise ValueError(f"--target: expected an output unit in 0..{K - 1} (the model has {K} outputs), "
                         f"got {args.target}")
    X, y = hn.datasets.load_digits()
    rows = _explain_rows(args.rows, len(X))
    window = stride = baseline = None
    if method == "occlusion":
        window = _explain_window(args.window, shape)
        stride = DEFAULT_STRIDE if args.stride is None else args.stride
        if stride < 1:
            raise ValueError(f"--stride: expected a positive number of pixels, got {stride}")
        baseline = DEFAULT_BASELINE if args.baseline is None else args.baseline
        if not np.isfinite(baseline):
            raise ValueError(f"--baseline: expected a finite number, got {args.baseline}")

    print(net)
    if method == "regions":
        print(f"region maps of {args.model}: one per class ({K}), from the weights alone")
        paths = _explain_regions(net, shape, out_dir, explain)
    else:
        Xr, labels = X[rows], y[rows]
        print(f"explaining {_describe_rows(rows)} of the shipped digits with {method}"
              + ("" if method == "jacobian" else
                 f", target {'the predicted class' if args.target is None else args.target}")
              + (f", window {window[0]} x {window[1]}, stride {stride}, baseline {baseline:g}"
                 if method == "occlusion" else ""))
        if method == "jacobian":
            paths = _explain_jacobian(net, Xr, rows, labels, shape, out_dir, explain)
        else:
            targets = explain.resolve_targets(net, Xr, args.target)
            if method == "sensitivity":
                A = explain.sensitivity(net, Xr, targets)
            elif method == "gradxinput":
                A = explain.gradient_x_input(net, Xr, targets)
            else:
                A = explain.occlusion(net, Xr, targets, window, stride=stride, baseline=baseline,
                                         image_shape=shape)
            paths = _explain_maps(method, A, Xr, rows, labels, targets, shape, out_dir)
    print(f"wrote {len(paths)} files to {out_dir}{os.sep}")
    for path in paths:
        print(f"  {path}")
    return EXIT_OK


def _explain_image_shape(image_shape):
    if image_shape is None:
        return DIGITS_IMAGE_SHAPE
    h, w = image_shape
    if h < 1 or w < 1 or h * w != DIGITS_INPUTS:
        raise ValueError(f"--image-shape: expected two positive sizes H W with H x W = {DIGITS_INPUTS} "
                         f"(the digits' pixels), got {h} {w}")
    return (h, w)


def _explain_rows(tokens, n):
    """['0:8'] -> [0..7]; ['3', '5', '7'] -> [3, 5, 7]; ranges and numbers may be mixed."""
    if tokens is None:
        return np.array(DEFAULT_EXPLAIN_ROWS)
    rows = []
    for token in tokens:
        try:
            if ":" in token:
                start, stop = token.split(":")
                start = int(start) if start.strip() else 0
                stop = int(stop) if stop.strip() else n
                if start >= stop:
                    raise ValueError(f"--rows: the range {token} is empty; START:STOP means START, "
                                     "START+1, ..., STOP-1")
                picked = list(range(start, stop))
            else:
                picked = [int(token)]
        except ValueError as exc:
            if str(exc).startswith("--rows"):
                raise
            raise ValueError(f"--rows: expected row numbers (3 5 7) or ranges START:STOP (0:8), "
                             f"got {token!r}") from None
        bad = [r for r in picked if not 0 <= r < n]
        if bad:
            raise ValueError(f"--rows: the shipped digits have {n} rows, 0..{n - 1}; got {bad[0]} "
                             f"(from {token!r})")
        rows.extend(picked)
    return np.array(rows, dtype=np.int64)


def _explain_window(window, shape):
    h, w = shape
    if window is None:
        window = DEFAULT_WINDOW
    if len(window) == 1:
        window = (window[0], window[0])
    if len(window) != 2:
        raise ValueError(f"--window: expected a height and a width (or one number for a square), got "
                         f"{' '.join(map(str, window))}")
    wh, ww = window
    if wh < 1 or ww < 1:
        raise ValueError(f"--window: expected positive sizes, got {wh} {ww}")
    if wh > h or ww > w:
        raise ValueError(f"--window: a {wh} x {ww} window does not fit in the {h} x {w} image")
    return (wh, ww)


def _describe_rows(rows):
    if len(rows) == 1:
        return f"row {rows[0]}"
    if np.array_equal(rows, np.arange(rows[0], rows[0] + len(rows))):
        return f"rows {rows[0]} to {rows[-1]}"
    listed = ", ".join(map(str, rows[:10])) + (", ..." if len(rows) > 10 else "")
    return f"{len(rows)} rows ({listed})"


def _write_csv(path, frame):
    from .io import atomic_write

    data = frame.to_csv(index=False).encode("utf-8")
    return atomic_write(path, lambda fh: fh.write(data))


def _feature_columns():
    return [f"x{j}" for j in range(DIGITS_INPUTS)]


def _explain_maps(method, A, Xr, rows, labels, targets, shape, out_dir):
    """METHOD.csv (row, label, target, x0..x63) and METHOD.png (each digit next to its map)."""
    import pandas as pd

    from .explain.plots import _plot_row_maps

    table = pd.DataFrame(A, columns=_feature_columns())
    table.insert(0, "row", rows)
    table.insert(1, "label", labels)
    table.insert(2, "target", targets)
    csv = _write_csv(os.path.join(out_dir, f"{method}.csv"), table)
    shown = min(len(rows), MAX_GRID_ROWS)
    cbar_label, title = _EXPLAIN_LABELS[method]
    title += ("\neach map scaled to its own largest |value| (max); the numbers are in "
              f"{method}.csv")
    if shown < len(rows):
        title += f"; the first {shown} of {len(rows)} rows"
    png = os.path.join(out_dir, f"{method}.png")
    _plot_row_maps(A[:shown], Xr[:shown], shape,
                   titles=[f"target {t}" for t in targets[:shown]],
                   image_titles=[f"row {r}: digit {d}" for r, d in zip(rows[:shown], labels[:shown])],
                   title=title, cbar_label=cbar_label, path=png)
    if shown < len(rows):
        print(f"{method}.png shows the first {shown} of the {len(rows)} rows; {method}.csv has them all")
    return [csv, png]


def _explain_regions(net, shape, out_dir, explain):
    """regions.csv (class, x0..x63) and regions.png (a panel per class)."""
    import pandas as pd

    from .explain.plots import plot_class_maps

    maps = explain.region_maps(net)
    table = pd.DataFrame(maps, columns=_feature_columns())
    table.insert(0, "class", np.arange(len(maps)))
    csv = _write_csv(os.path.join(out_dir, "regions.csv"), table)
    png = os.path.join(out_dir, "regions.png")
    plot_class_maps(maps, shape, title="Region maps  e_c W_L.T ... W_1.T (the weights alone)", path=png)
    return [csv, png]


def _explain_jacobian(net, Xr, rows, labels, shape, out_dir, explain):
    """jacobian.csv (long: row, output, feature, value) and jacobian-rowR.png per row."""
    import pandas as pd

    from .explain.plots import plot_class_maps

    J = explain.jacobian(net, Xr)                          # (N, K, D)
    N, K, D = J.shape
    table = pd.DataFrame({"row": np.repeat(rows, K * D),
                          "output": np.tile(np.repeat(np.arange(K), D), N),
                          "feature": np.tile(np.arange(D), N * K),
                          "value": J.ravel()})
    paths = [_write_csv(os.path.join(out_dir, "jacobian.csv"), table)]
    shown = min(N, MAX_JACOBIAN_PNGS)
    for i in range(shown):
        png = os.path.join(out_dir, f"jacobian-row{rows[i]}.png")
        if png in paths:                                      # a row asked for twice
            continue
        plot_class_maps(J[i], shape, titles=[f"output {k}" for k in range(K)],
                        title=f"Jacobian d y_k / d x of row {rows[i]} (digit {labels[i]})", path=png)
        paths.append(png)
    if shown < N:
        print(f"jacobian-rowR.png written for the first {shown} of the {N} rows; jacobian.csv has them all")
    return paths


# ----------------------------------------------------------------------------
# handnet exercises, assign, validate, check, grade
# ----------------------------------------------------------------------------
# handnet.exercises is imported inside these functions only, so the other commands
# (and `import handnet`) never load the exercises and their checks.

def _run_options(args):
    """(timeout, jobs) from --timeout and --jobs, with one-line errors."""
    timeout, jobs = args.timeout, args.jobs
    if not (timeout > 0 and np.isfinite(timeout)):
        raise ValueError(f"--timeout: expected a positive number of seconds, got {timeout:g}")
    if jobs is not None and jobs < 1:
        raise ValueError(f"--jobs: expected a positive number of checks at once, got {jobs}")
    return timeout, jobs


def _exercise_named(name):
    import difflib

    from .exercises import EXERCISES

    if name not in EXERCISES:
        close = difflib.get_close_matches(name, list(EXERCISES), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"no exercise named {name!r}{hint}; expected one of {', '.join(EXERCISES) or '(none)'} "
                         "(see 'handnet exercises')")
    return EXERCISES[name]


def _seed_option(seed, name="--seed"):
    if seed is not None and seed < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {seed}")
    return seed


def _run_exercises(args):
    from .exercises import EXERCISES
    from .exercises.report import format_points

    if args.name is not None:
        exercise = _exercise_named(args.name)
        print(f"{exercise.name}: {exercise.title}  ({format_points(exercise.max_score, exercise.max_score)} points)")
        print(f"functions to write: {', '.join(exercise.functions)}")
        print(f"reference solution: {exercise.reference_path()}\n")
        if exercise.statement.strip():
            print(exercise.statement.strip() + "\n")
        print("checks:")
        width = max(len(c.name) for c in exercise.checks) if exercise.checks else 0
        for check in exercise.checks:
            print(f"  {check.name.ljust(width)}  {check.points:g} points")
        print(f"\nhandnet assign {exercise.name} -o DIR   writes the student's copy")
        return EXIT_OK
    if not EXERCISES:
        print("no exercises are registered")
        return EXIT_OK
    rows = [(e.name, e.title, str(len(e.checks)), f"{e.max_score:g}") for e in EXERCISES.values()]
    header = ("exercise", "title", "checks", "points")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(c.rjust(w) if i >= 2 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip())
    total = sum(e.max_score for e in EXERCISES.values())
    print(f"{len(EXERCISES)} exercises, {total:g} points in all")
    print("'handnet exercises NAME' shows the task; 'handnet assign NAME -o DIR' writes the student's copy")
    return EXIT_OK


def _run_assign(args):
    from .exercises.assign import write_assignment

    exercise = _exercise_named(args.name)
    written, backups = write_assignment(exercise.name, args.out, force=args.force)
    print(f"wrote the student's copy of {exercise.name!r} ({exercise.title}) to {args.out}{os.sep}")
    for path in written:
        print(f"  {path}")
    for backup in backups:
        print(f"kept the file it replaced as {backup}")
    print(f"the student writes {', '.join(exercise.functions)} in {exercise.name}.py, then runs:")
    print(f"  handnet check {exercise.name}.py")
    return EXIT_OK


def _run_validate(args):
    from .exercises.assign import validate

    timeout, jobs = _run_options(args)
    seeds = [_seed_option(seed) for seed in dict.fromkeys(args.seed)]
    names = [_exercise_named(name).name for name in dict.fromkeys(args.names)] or None
    validations = validate(names, seeds=seeds, timeout=timeout, jobs=jobs, progress=None)
    header = ("exercise", "copy", "run", "PASS", "FAIL", "TODO", "expected", "result")
    rows = []
    for v in validations:
        for copy, seed, counts, n, ok in v.rows:
            rows.append((v.exercise, copy, "public" if seed is None else f"seed {seed}",
                         str(counts["PASS"]), str(counts["FAIL"]), str(counts["TODO"]),
                         f"{n} {'PASS' if copy == 'reference' else 'TODO'}", "ok" if ok else "WRONG"))
        if not v.rows:
            rows.append((v.exercise, "-", "-", "-", "-", "-", "-", "WRONG"))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(c.rjust(w) if 3 <= i <= 5 else c.ljust(w)
                        for i, (c, w) in enumerate(zip(row, widths))).rstrip())
    bad = [v for v in validations if not v.ok]
    for v in bad:
        print(f"\n{v.exercise}:")
        for problem in v.problems:
            print(f"  {problem}")
    runs = "the public run" + "".join(f", seed {s}" for s in seeds)
    if bad:
        print(f"\n{len(bad)} of {len(validations)} exercises are not valid ({runs})")
        return EXIT_FAILED
    which = f"all {len(validations)} exercises" if len(validations) > 1 else f"'{validations[0].exercise}' is"
    print(f"{which} valid: references PASS and student copies TODO on {runs}")
    return EXIT_OK


def _run_check(args):
    from .exercises import report, runner

    timeout, jobs = _run_options(args)
    seed = _seed_option(args.seed)
    files = list(dict.fromkeys(args.files))
    exercises = [runner.exercise_for_file(path) for path in files]      # every file is fine before any runs
    run = "the public run" if seed is None else f"hidden variant seed {seed}"
    everything_passed = True
    for path, exercise in zip(files, exercises):
        print(f"checking {path}: exercise {exercise.name!r} ({exercise.title}), {run}, "
              f"{len(exercise.checks)} checks, each in its own process")
        results = runner.run_file(path, seed=seed, timeout=timeout, jobs=jobs)
        print(report.format_results(results))
        title = f"{os.path.basename(path)}, " + ("public run" if seed is None else f"seed {seed}")
        written = report.write_results_json(results, report.results_path_for(path), title=title)
        print(f"wrote {written}")
        everything_passed &= all(r.passed for r in results)
        if len(files) > 1:
            print()
    return EXIT_OK if everything_passed else EXIT_FAILED


def _run_grade(args):
    from .exercises import grade as grading

    timeout, jobs = _run_options(args)
    seed = _seed_option(args.seed)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise ValueError(f"--out: {args.out!r} exists and is not a folder")
    found, _ = grading.find_submissions(args.folder)
    n_files = sum(len(files) for files in found.values())
    print(f"grading {len(found)} students, {n_files} files in {args.folder} on seed {seed} "
          f"(each check in its own process, time limit {timeout:g}s)")
    grades = grading.grade(args.folder, seed, out_dir=args.out, timeout=timeout, jobs=jobs,
                           progress=False if args.no_progress else None)
    for note in grades.notes:
        print(f"note: {note}")
    print(grading.format_summary(grades))
    print(f"wrote {len(grades.paths)} files to {args.out}{os.sep}")
    for path in grades.paths[:3]:
        print(f"  {path}")
    if len(grades.paths) > 3:
        print(f"  ... and {len(grades.paths) - 3} more")
    return EXIT_OK
