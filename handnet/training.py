"""Training by gradient descent, with optional minibatches and momentum.

    v     <- mu v - lr dJ/dtheta           momentum_step   (mu = 0: plain gradient descent)
    theta <- theta + v

Full-batch by default: each epoch is one forward and one backward pass over
all of X, and that same pass gives the cost and accuracy recorded for the
parameters it was computed at, so the history costs nothing extra.

The history records, for each epoch, the data loss on the training set
(``loss``) and on the validation set (``val_loss``) -- the same quantity, so
the two curves compare -- and apart from them the L2 penalty and the
regularised J = loss + penalty (``cost``), which is what the steps descend.
A run that is not learning (no new low of J, or accuracy at chance, for
STALL_EPOCHS epochs) gets one TrainingWarning naming the likely cause.

Ctrl-C stops cleanly: the network is left with the parameters of the last
completed epoch (the last row of the history), and the history so far is
returned with ``history.attrs["interrupted"] = True``.
"""

from __future__ import annotations

import signal
import sys
import threading
import warnings

import numpy as np
import pandas as pd

from . import _validate as V
from ._system import blas_threads_for_rows
from ._epochs import evaluate, full_batch_epochs, minibatch_epochs
from ._workspace import WorkspaceCache
from .costs import prepare, resolve_cost
from .metrics import labels_from_targets

__all__ = ["train", "momentum_step", "TrainingDiverged", "TrainingWarning", "DEFAULTS", "STALL_EPOCHS",
           "HISTORIES"]

#: hn.train's defaults. With them a [64, 25, 10] sigmoid network reaches >= 95%
#: validation accuracy on the shipped digits (tests/test_training.py checks it).
DEFAULTS = {"epochs": 500, "lr": 2.0, "l2": 0.0, "momentum": 0.0}

#: train(history=...): "exact" records each epoch's loss and accuracy from a forward pass over
#: all of X at the epoch's end parameters; "running" (minibatches) records the mean of the
#: epoch's minibatch losses and accuracies instead (what Keras and most PyTorch loops print),
#: which skips that pass. Full-batch training has the exact numbers for free either way.
HISTORIES = ("exact", "running")

#: train warns when, for this many epochs, the training accuracy has stayed at
#: chance, or (for STALL_EPOCHS / (1 - momentum) epochs) the cost has made no
#: new low while above half its first value.
STALL_EPOCHS = 20


class TrainingDiverged(FloatingPointError):
    """The cost became inf or NaN (learning rate too large). ``.history`` holds the rows so far."""

    def __init__(self, message, history):
        super().__init__(message)
        self.history = history


class TrainingWarning(UserWarning):
    """Training runs but is not learning (the cost is stuck, or accuracy is at chance)."""


def momentum_step(theta, velocity, grad, lr, mu, work=None):
    """v <- mu v - lr g;  theta <- theta + v  (in place; theta changes in one operation).

    mu = 0 is plain gradient descent, theta <- theta - lr g: v stays 0 and is not touched.
    ``work`` (P,) receives lr g (it may be grad itself, when the caller is done with it).
    """
    step = np.multiply(grad, lr, out=work)
    if mu == 0:
        np.subtract(theta, step, out=theta)      # = theta + (0 v - lr g), the same number
        return
    velocity *= mu
    velocity -= step
    np.add(theta, velocity, out=theta)


# ----------------------------------------------------------------------------
# The history
# ----------------------------------------------------------------------------

class _History:
    """The rows of a training history and the DataFrame they make.

    Row e describes the parameters after e epochs: loss (J_data on the training set), accuracy,
    val_loss and val_accuracy (the same on the validation set, no penalty), penalty
    ((lambda/(2m)) sum W^2, m = training rows) and cost (J = loss + penalty, what descent minimises).
    """

    def __init__(self, **settings):
        self.rows = []
        self.settings = settings           # lr, l2, batch_size, momentum, cost: the frame's attrs

    def record(self, epoch, fit, val_fit=None):
        """Append the row for ``epoch``; TrainingDiverged if the cost is inf or NaN."""
        cost = fit.loss + fit.penalty
        if not np.isfinite(cost):
            raise TrainingDiverged(self._diverged(epoch, fit), self.frame())
        row = {"epoch": epoch, "loss": fit.loss}
        if fit.accuracy is not None:
            row["accuracy"] = fit.accuracy
        if val_fit is not None:
            row["val_loss"] = val_fit.loss
            if val_fit.accuracy is not None:
                row["val_accuracy"] = val_fit.accuracy
        row["penalty"] = fit.penalty
        row["cost"] = cost
        self.rows.append(row)
        return row

    @property
    def last_epoch(self):
        return self.rows[-1]["epoch"] if self.rows else 0

    def column(self, name, last):
        """The ``last`` most recent values of a column."""
        return np.array([row[name] for row in self.rows[-last:]])

    def _diverged(self, epoch, fit):
        where = f"at epoch {epoch}; the network was reset to epoch {self.last_epoch}"
        if not np.isfinite(fit.penalty):
            return (f"training diverged: the L2 penalty became {fit.penalty} {where}. l2={self.settings['l2']:g} "
                    "is too large for these weights: try a smaller l2.")
        return (f"training diverged: the cost became {fit.loss + fit.penalty} {where} with "
                f"lr={self.settings['lr']:g}. Try a smaller lr.")

    def frame(self, interrupted=False):
        history = pd.DataFrame(self.rows)
        history.attrs.update(interrupted=interrupted, **self.settings)
        return history


def _stuck(history, chance, lr, mu, stretch=STALL_EPOCHS):
    """Why training looks stuck after the history's last row, or None.

    Stuck, either:
    - the cost has made no new low in the last stretch / (1 - mu) epochs (momentum carries a step
      on for about 1/(1 - mu) steps, so its cost may rise for a while and come back) while still
      above half its first value (a run that has converged is not stuck); or
    - (classifiers) training accuracy has been within 2 points of ``chance`` (the share of the
      most common class) in each of the last ``stretch`` epochs.
    The likely cause: steps too large when the cost went up in some of the last ``stretch``
    epochs, steps too small when it only went down.
    """
    costs = history.column("cost", len(history.rows))
    window = int(round(stretch / (1 - mu)))
    no_new_low = (len(costs) > window and np.min(costs[-window:]) >= np.min(costs[:-window]) > costs[0] / 2)
    at_chance = (len(costs) > stretch and "accuracy" in history.rows[-1]
                 and bool(np.all(history.column("accuracy", stretch + 1) <= chance + 0.02)))
    if not (no_new_low or at_chance):
        return None
    what = (f"the cost has made no new low (still above half its first value) for {window} epochs"
            if no_new_low else
            f"training accuracy has stayed at chance ({chance:.0%}, the most common class) for {stretch} epochs")
    rises = int(np.sum(np.diff(costs[-(stretch + 1):]) > 0))
    if rises:
        step = f"lr={lr:g}" + (f" with momentum={mu:g} (steps up to lr/(1 - momentum) = {lr / (1 - mu):g} "
                               "times the gradient)" if mu else "")
        cause = (f"the cost rose in {rises} of the last {stretch}, so the steps are probably too large: {step}; "
                 f"try lr={lr / 10:g}")
    else:
        cause = f"the cost only went down, so the steps may be too small: lr={lr:g} (or the inputs need scaling)"
    return f"training looks stuck at epoch {history.last_epoch}: {what}; {cause}"


def _check_l2(l2, lr, mu, m):
    """Refuse a penalty whose weight decay alone diverges: each step multiplies W by about
    (1 - lr*l2/m), and with momentum mu that iteration is stable only for lr*l2/m < 2(1 + mu)."""
    decay = lr * (l2 / m)
    if decay >= 2 * (1 + mu):
        raise ValueError(f"l2: {l2!r} is too large for lr={lr:g} and {m} rows: lr*l2/m = {decay:.3g} >= "
                         f"2(1 + momentum) = {2 * (1 + mu):g}, so the penalty alone makes the weights "
                         f"oscillate and grow; use l2 < {2 * (1 + mu) * m / lr:.3g}")


def train(net, X, Y, epochs=DEFAULTS["epochs"], lr=DEFAULTS["lr"], l2=DEFAULTS["l2"], batch_size=None,
          momentum=DEFAULTS["momentum"], seed=0, validation=None, progress=True, cost=None,
          callback=None, history="exact"):
    """Train ``net`` in place; return the history as a pandas DataFrame.

    X (m, n_0); Y (m, K) targets or (m,) integer labels; epochs >= 1; lr > 0;
    l2 = lambda >= 0; batch_size None for full-batch gradient descent, else the
    minibatch size (rows reshuffled each epoch with np.random.default_rng(seed));
    momentum mu in [0, 1); validation (X_val, Y_val) adds val_loss/val_accuracy;
    progress shows a tqdm bar (only on a terminal); callback(epoch, net, row)
    is called after each recorded epoch; history "exact" (default) or "running"
    (minibatches only: the mean over each epoch's batches, which skips a pass over X; see
    HISTORIES).

    History columns (row e: the parameters after e epochs; the network ends with the last row's):
        epoch
        loss           J_data: the data term of the cost on the training set
        accuracy       on the training set (classifiers)
        val_loss       J_data on the validation set (no penalty: compare it with loss)
        val_accuracy   on the validation set (classifiers)
        penalty        (lambda / (2m)) sum W^2, m = training rows
        cost           J = loss + penalty, the quantity gradient descent minimises

    A TrainingWarning (once) says when training looks stuck: accuracy at chance
    for STALL_EPOCHS epochs, or no new low of the cost (still above half its
    first value) for STALL_EPOCHS / (1 - momentum) epochs; it names the likely
    cause. TrainingDiverged is raised when the cost becomes inf or NaN; an l2
    whose weight decay alone diverges (lr*l2/m >= 2(1 + momentum)) is refused.

    BLAS threads: a step with fewer than ONE_THREAD_BELOW multiply-adds (digits-size) runs on
    one BLAS thread, larger ones on every core, unless OPENBLAS_NUM_THREADS (or OMP_/MKL_)
    is set (handnet._system.blas_threads_for).

    Ctrl-C is caught and training stops at the end of the current step; a
    second Ctrl-C stops at once and rolls back to the last recorded epoch.
    """
    V.as_net(net)
    cost_name = resolve_cost(net, cost)
    X, Y, l2 = prepare(net, X, Y, l2)
    epochs = V.as_positive_int(epochs, "epochs")
    lr = V.as_positive(lr, "lr")
    batch_size = V.as_positive_int(batch_size, "batch_size", allow_none=True)
    mu = V.as_nonnegative(momentum, "momentum")
    if mu >= 1:
        raise ValueError(f"momentum: expected a number in [0, 1), got {momentum!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback: expected a function callback(epoch, net, row) or None, "
                        f"got {V._describe(callback)}")
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise TypeError("validation: expected a pair (X_val, Y_val), "
                            f"got {type(validation).__name__}")
        Xv, Yv, _ = prepare(net, validation[0], validation[1], l2, names=("validation[0]", "validation[1]"))
    m = X.shape[0]
    _check_l2(l2, lr, mu, m)
    rng = np.random.default_rng(V.as_seed(seed))
    running = V.as_choice(history, HISTORIES, "history") == "running"
    classifier = net.output.name != "identity"
    labels = labels_from_targets(Y) if classifier else None
    chance = float(np.max(np.bincount(labels))) / m if classifier else None

    theta = net.params
    velocity = np.zeros_like(theta)

    def step(grad):
        momentum_step(theta, velocity, grad, lr, mu, work=grad)   # the gradient is used up

    history_cache = WorkspaceCache(net)         # the exact history's and validation's chunks
    labels_v = labels_from_targets(Yv) if validation is not None and classifier else None
    stop = _InterruptFlag()
    if batch_size is None or batch_size >= m:
        epochs_run = full_batch_epochs(net, X, Y, labels, l2, cost_name, step)
    else:
        epochs_run = minibatch_epochs(net, X, Y, labels, l2, cost_name, step, batch_size, rng, stop, running,
                                       history_cache)
    records = _History(lr=lr, l2=l2, batch_size=batch_size, momentum=mu, cost=cost_name,
                       history=history)
    snapshot = theta.copy()          # the parameters described by the last history row
    bar = _progress_bar(epochs, progress)
    interrupted = warned = False
    rows = m if batch_size is None else min(batch_size, m)
    try:
        with stop, np.errstate(over="ignore", invalid="ignore"), blas_threads_for_rows(net, rows, 3):   # a step: 3 products per layer
            for epoch, fit in epochs_run:
                val_fit = (evaluate(net, Xv, Yv, labels_v, 0.0, cost_name, history_cache)
                           if validation is not None else None)
                row = records.record(epoch, fit, val_fit)
                snapshot[...] = theta
                if callback is not None:
                    callback(epoch, net, row)
                _tick(bar, row)
                if not warned and (reason := _stuck(records, chance, lr, mu)):
                    warnings.warn(reason, TrainingWarning, stacklevel=2)
                    warned = True
                if epoch == epochs or stop.requested:
                    break
    except KeyboardInterrupt:                    # a second Ctrl-C, or outside the main thread
        interrupted = True
    finally:
        theta[...] = snapshot                    # the one rollback: undoes steps no row describes
        epochs_run.close()
        if bar is not None:
            bar.close()
    interrupted = interrupted or stop.requested
    if interrupted:
        print(f"interrupted: the network holds the parameters after epoch {records.last_epoch}; "
              "returning the history so far", file=sys.stderr)
    return records.frame(interrupted)


class _InterruptFlag:
    """While active, Ctrl-C (SIGINT) sets ``requested`` instead of raising KeyboardInterrupt.

    The first Ctrl-C puts the previous handler back, so a second one interrupts at once.
    Only the main thread can own signal handlers; elsewhere this does nothing.
    """

    def __enter__(self):
        self.requested = False
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            self._previous = signal.default_int_handler if previous is None else previous
            signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        self.requested = True
        self._restore()

    def _restore(self):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def __exit__(self, *exc):
        self._restore()
        return False


def _progress_bar(epochs, progress):
    if not progress:
        return None
    from tqdm.auto import tqdm  # imported here: `import handnet` stays light

    return tqdm(total=epochs, desc="training", unit="epoch", disable=None, leave=False)


def _tick(bar, row):
    if bar is None:
        return
    bar.update(1)
    if row["epoch"] % 10 == 0:
        bar.set_postfix({k: f"{v:.4g}" for k, v in row.items() if k != "epoch"}, refresh=False)
