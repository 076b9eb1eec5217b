"""handnet train: train a network on shipped digits (8x8, or MNIST 28x28 / 20x20); save the model,
history and plots."""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import handnet as hn

from ..training import DEFAULTS, TrainingWarning
from ._common import (DATA, DEFAULT_HIDDEN, DEFAULT_OUT, DIGITS_CLASSES, EXIT_INTERRUPTED, EXIT_OK,
                      add_activation_options, add_command, check_memory, output_folder, print_written,
                      write_csv)

DEFAULT_TEST_SIZE = 0.2

DESCRIPTION = f"""\
Train a multilayer perceptron on shipped handwritten digits (--data):

  digits    {DATA["digits"].description} (the default)
  mnist     {DATA["mnist"].description}
  mnist20   {DATA["mnist20"].description}

The digits are split (seeded and stratified, so every digit keeps its
share) into a training set and a validation set. The network is trained by
gradient descent on the training set only; the validation set, never
trained on, measures how well it generalises. handnet prints the
architecture, the final training loss and the validation accuracy, then
writes into the output folder:

  model.npz       the trained network (load it with hn.load)
  history.csv     per epoch: loss and accuracy on the training set, val_loss
                  and val_accuracy on the validation set (the data loss, the
                  same quantity on both), penalty (the L2 term) and cost
                  (J = loss + penalty, what gradient descent minimises)
  loss.png        the learning curves
  confusion.png   the confusion matrix on the validation digits

A run that is not learning (the cost stuck, or accuracy at chance) prints
one warning line with the likely cause.

Ctrl-C stops training cleanly: the network learnt so far is still saved
(exit status {EXIT_INTERRUPTED}).

Threads: small problems (the 8x8 digits) train on one BLAS thread, which
is faster than two there, above all on a busy machine; larger ones use
every core. Set OPENBLAS_NUM_THREADS (or OMP_NUM_THREADS / MKL_NUM_THREADS)
to choose yourself, e.g. OPENBLAS_NUM_THREADS=1 when other programs keep
the cores busy."""

EPILOG = """\
examples:
  handnet train
  handnet train --layers 64 50 10 --epochs 1000 --lr 1.5 --l2 0.5 --out run2
  handnet train --data mnist20 --layers 400 25 10 --epochs 300 --out mnist20
  handnet train --hidden relu --output softmax --batch-size 32 --momentum 0.9 --lr 0.1
  handnet train --epochs 30 --no-progress --out /tmp/quick"""

def test_size(text):
    """'0.2' -> 0.2 (a fraction), '360' -> 360 (a count)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction like 0.2 or a count like 360, got {text!r}")


def register(commands):
    """Add ``handnet train`` to the subcommands."""
    train = add_command(commands, "train", run, description=DESCRIPTION, epilog=EPILOG,
                        help="train a network on the shipped digits; save the model, history and plots")
    train.add_argument("--data", choices=list(DATA), default="digits",
                       help="which digits: the 8x8 UCI digits, MNIST at 28x28, or MNIST at 20x20 "
                            "(default: %(default)s)")
    net_opts = train.add_argument_group("network")
    net_opts.add_argument("--layers", type=int, nargs="+", metavar="N", default=None,
                          help="layer sizes, input first: the number of pixels (64, 784 or 400 for "
                               f"--data digits, mnist, mnist20), any hidden layers, then {DIGITS_CLASSES} "
                               f"outputs (one per digit) (default: pixels {DEFAULT_HIDDEN} {DIGITS_CLASSES})")
    add_activation_options(net_opts, hidden="sigmoid", output="sigmoid", init="glorot")
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
    opt.add_argument("--test-size", type=test_size, default=DEFAULT_TEST_SIZE, metavar="F",
                     help="share of the digits held out for validation: a fraction in (0, 1) or a number of samples "
                          "(default: %(default)s)")
    out = train.add_argument_group("output")
    out.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                     help="folder for model.npz, history.csv, loss.png and confusion.png; created if "
                          "needed, existing files are replaced (default: %(default)s)")
    out.add_argument("--no-progress", action="store_true",
                     help="do not show the progress bar (it is only shown on a terminal anyway)")



def run(args):
    """Train, report, and write model.npz, history.csv, loss.png and confusion.png."""
    data = DATA[args.data]
    layers = default_layers(data) if args.layers is None else args.layers
    if layers[0] != data.n_inputs:
        raise ValueError(f"--layers: --data {args.data} has {data.n_inputs} inputs "
                         f"({data.image_shape[0]}x{data.image_shape[1]} pixels), so the first size must be "
                         f"{data.n_inputs}; got {layers[0]} (--layers {' '.join(map(str, layers))})")
    if len(layers) < 2 or layers[-1] != DIGITS_CLASSES:
        raise ValueError(f"--layers: the digits have {DIGITS_CLASSES} classes, so the last size must be "
                         f"{DIGITS_CLASSES}; got {' '.join(map(str, layers))}")
    out_dir = output_folder(args.out)
    X, y = data.load()
    check_memory(layers, len(X), ("--layers", "--layers"))
    net = hn.MLP(layers, hidden=args.hidden, output=args.output, seed=args.seed, init=args.init)
    X_train, X_test, y_train, y_test = hn.datasets.train_test_split(
        X, y, test_size=args.test_size, seed=args.seed, stratify=True)
    os.makedirs(out_dir, exist_ok=True)  # fail now, not after training, if it cannot be created

    print(net.summary())
    batch = "full batch" if args.batch_size is None else f"batch size {args.batch_size}"
    if args.data != "digits":
        print(f"data: {data.description}")
    print(f"training on {len(X_train)} digits, validating on {len(X_test)}: {args.epochs} epochs, "
          f"lr {args.lr:g}, l2 {args.l2:g}, {batch}, momentum {args.momentum:g}, seed {args.seed}")
    start = time.perf_counter()
    with warnings.catch_warnings():         # a TrainingWarning is one line on stderr, not a traceback
        warnings.simplefilter("always", TrainingWarning)
        warnings.showwarning = print_training_warning
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
    line = f"final training loss: {last['loss']:.4g} after {epochs_done} epochs ({elapsed:.1f} s)"
    if "accuracy" in history.columns:
        line += f", training accuracy {100 * last['accuracy']:.1f}%"
    if last["penalty"] > 0:
        line += f"; with the L2 penalty J = {last['cost']:.4g}"
    print(line)
    predicted = net.predict(X_test)
    accuracy = hn.accuracy(y_test, predicted)
    correct = int(round(accuracy * len(y_test)))
    print(f"validation loss: {last['val_loss']:.4g}, validation accuracy: {100 * accuracy:.1f}% "
          f"({correct} of {len(y_test)} validation digits)")

    print_written(write_outputs(out_dir, net, history, hn.confusion_matrix(y_test, predicted)), out_dir)
    return EXIT_INTERRUPTED if interrupted else EXIT_OK


def default_layers(data):
    """pixels, one hidden layer, one output per digit: [64, 25, 10] for the 8x8 digits."""
    return [data.n_inputs, DEFAULT_HIDDEN, DIGITS_CLASSES]


def print_training_warning(message, category, *_args, **_kwargs):
    """warnings.showwarning for the command line: 'warning: <message>' on one line of stderr."""
    print(f"warning: {message}", file=sys.stderr)


def write_outputs(out_dir, net, history, cm):
    """model.npz, history.csv, loss.png, confusion.png (each written atomically); their paths."""
    model = hn.save(net, os.path.join(out_dir, "model.npz"))
    history_path = write_csv(os.path.join(out_dir, "history.csv"), history)
    loss = os.path.join(out_dir, "loss.png")
    hn.plots.plot_history(history, loss)
    confusion = os.path.join(out_dir, "confusion.png")
    hn.plots.plot_confusion_matrix(cm, confusion)
    return [model, history_path, loss, confusion]
