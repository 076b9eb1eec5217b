"""Training by gradient descent, with optional minibatches and momentum.

    v     <- mu v - lr dJ/dtheta           momentum_step   (mu = 0: plain gradient descent)
    theta <- theta + v

Full-batch by default: each epoch is one forward and one backward pass over
all of X, and that same pass gives the cost and accuracy recorded for the
parameters it was computed at, so the history costs nothing extra.

Ctrl-C stops cleanly: the network is left with the parameters of the last
completed epoch (the last row of the history), and the history so far is
returned with ``history.attrs["interrupted"] = True``.
"""

from __future__ import annotations

import signal
import sys
import threading

import numpy as np
import pandas as pd

from . import _validate as V
from .backprop import _cost_and_gradient
from .costs import prepare, regularised_cost, resolve_cost
from .metrics import accuracy_from_output

__all__ = ["train", "momentum_step", "TrainingDiverged", "DEFAULTS"]

#: hn.train's defaults. With them a [64, 25, 10] sigmoid network reaches >= 95%
#: held-out accuracy on the shipped digits (tests/test_training.py checks it).
DEFAULTS = {"epochs": 500, "lr": 2.0, "l2": 0.0, "momentum": 0.0}


class TrainingDiverged(FloatingPointError):
    """The cost became inf or NaN (learning rate too large). ``.history`` holds the rows so far."""

    def __init__(self, message, history):
        super().__init__(message)
        self.history = history


def momentum_step(theta, velocity, grad, lr, mu):
    """v <- mu v - lr g;  theta <- theta + v  (in place; theta changes in one operation)."""
    velocity *= mu
    velocity -= lr * grad
    np.add(theta, velocity, out=theta)


def _evaluate(net, X, Y, l2, cost_name):
    """(J, accuracy) of the current parameters on (X, Y): one forward pass."""
    zs, acts = net.forward_pass(X, check=False)
    return regularised_cost(net, zs, acts, Y, l2, cost_name), accuracy_from_output(acts[-1], Y)


def train(net, X, Y, epochs=DEFAULTS["epochs"], lr=DEFAULTS["lr"], l2=DEFAULTS["l2"], batch_size=None,
          momentum=DEFAULTS["momentum"], seed=0, validation=None, progress=True, cost=None,
          callback=None):
    """Train ``net`` in place; return the history as a pandas DataFrame.

    X (m, n_0); Y (m, K) targets or (m,) integer labels; epochs >= 1; lr > 0;
    l2 = lambda >= 0; batch_size None for full-batch gradient descent, else the
    minibatch size (rows reshuffled each epoch with np.random.default_rng(seed));
    momentum mu in [0, 1); validation (X_val, Y_val) adds val_cost/val_accuracy;
    progress shows a tqdm bar (only on a terminal); callback(epoch, net, row)
    is called after each recorded epoch.

    History columns: epoch (0 = before training), cost (the regularised J),
    accuracy (classifiers), val_cost, val_accuracy. Row e describes the
    parameters after e epochs, and the network ends with the last row's.

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
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise TypeError("validation: expected a pair (X_val, Y_val), "
                            f"got {type(validation).__name__}")
        Xv, Yv, _ = prepare(net, validation[0], validation[1], l2, names=("validation[0]", "validation[1]"))
    rng = np.random.default_rng(V.as_seed(seed))
    m = X.shape[0]
    full_batch = batch_size is None or batch_size >= m
    classifier = net.output.name != "identity"

    theta = net.params
    velocity = np.zeros_like(theta)
    grad = np.empty_like(theta)
    snapshot = theta.copy()          # the parameters described by the last history row
    rows = []

    def record(epoch, J, acc):
        if not np.isfinite(J):
            theta[...] = snapshot
            raise TrainingDiverged(
                f"training diverged: the cost became {J} at epoch {epoch} with lr={lr:g}; the network "
                f"was reset to epoch {rows[-1]['epoch'] if rows else 0}. Try a smaller lr.",
                _history(rows, False, lr, l2, batch_size, mu, cost_name))
        row = {"epoch": epoch, "cost": J}
        if classifier:
            row["accuracy"] = acc
        if validation is not None:
            Jv, accv = _evaluate(net, Xv, Yv, l2, cost_name)
            row["val_cost"] = Jv
            if classifier:
                row["val_accuracy"] = accv
        snapshot[...] = theta
        rows.append(row)
        if callback is not None:
            callback(epoch, net, row)

    bar = _progress_bar(epochs, progress)
    stop = _InterruptFlag()
    interrupted = False
    try:
        with stop, np.errstate(over="ignore", invalid="ignore"):
            if full_batch:
                done = 0
                while done < epochs and not stop.requested:
                    J, _, out = _cost_and_gradient(net, X, Y, l2, cost_name, out=grad)   # at theta_done
                    record(done, J, accuracy_from_output(out, Y) if classifier else None)
                    momentum_step(theta, velocity, grad, lr, mu)                            # -> theta_{done+1}
                    done += 1
                    _tick(bar, rows[-1])
                record(done, *_evaluate(net, X, Y, l2, cost_name))
            else:
                record(0, *_evaluate(net, X, Y, l2, cost_name))
                for epoch in range(1, epochs + 1):
                    order = rng.permutation(m)
                    for start in range(0, m, batch_size):
                        batch = order[start:start + batch_size]
                        _cost_and_gradient(net, X[batch], Y[batch], l2 * len(batch) / m, cost_name, out=grad)
                        momentum_step(theta, velocity, grad, lr, mu)
                        if stop.requested:
                            break
                    if stop.requested:           # a part-finished epoch is rolled back
                        theta[...] = snapshot
                        break
                    record(epoch, *_evaluate(net, X, Y, l2, cost_name))
                    _tick(bar, rows[-1])
    except KeyboardInterrupt:                    # a second Ctrl-C, or outside the main thread
        theta[...] = snapshot
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
    interrupted = interrupted or stop.requested
    if interrupted:
        print(f"interrupted: the network holds the parameters after epoch {rows[-1]['epoch'] if rows else 0}; "
              "returning the history so far", file=sys.stderr)
    return _history(rows, interrupted, lr, l2, batch_size, mu, cost_name)


def _history(rows, interrupted, lr, l2, batch_size, mu, cost_name):
    history = pd.DataFrame(rows)
    history.attrs.update(interrupted=interrupted, lr=lr, l2=l2, batch_size=batch_size, momentum=mu,
                         cost=cost_name)
    return history


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
