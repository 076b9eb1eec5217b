"""The epochs of hn.train, one generator per mode: each yields (epoch, Fit of the parameters
after that many epochs), then steps. Full batch: one pass over X per epoch gives both the fit and
the gradient. Minibatches: the batches of an epoch, then an exact pass over X in chunks (or the
running mean of the batches' own fits). All passes run through reused workspaces (_workspace).
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

from ._workspace import HISTORY_CHUNK, WorkspaceCache
from .backprop import _cost_terms_and_gradient
from .costs import data_cost, l2_penalty
from .network import classes_from_output

__all__ = ["Fit", "evaluate", "full_batch_epochs", "minibatch_epochs"]


class Fit(NamedTuple):
    """How well the current parameters fit one data set: J = loss + penalty."""

    loss: float          # J_data, the data term of the cost (cross-entropy or quadratic)
    penalty: float       # (lambda / (2m)) sum W^2 for the training set; 0 for validation data
    accuracy: float      # fraction of rows classified right; None for regression


def _correct(output, labels):
    """How many rows of the output activations (r, K) predict their label (r,)."""
    return int(np.count_nonzero(classes_from_output(output) == labels))


def evaluate(net, X, Y, labels, l2, cost_name, cache):
    """The Fit of the current parameters on (X, Y): a forward pass in chunks of HISTORY_CHUNK
    rows through the workspaces of ``cache``; labels (m,) for classifiers, else None."""
    m = X.shape[0]
    loss, correct = 0.0, 0
    for start in range(0, m, HISTORY_CHUNK):
        rows = slice(start, start + HISTORY_CHUNK)
        ws = cache.get(len(X[rows]))
        zs, acts = net.forward_pass(X[rows], check=False, out=(ws.zs, ws.acts), work=ws.deltas)
        loss += data_cost(cost_name, zs[-1], acts[-1], Y[rows], m=m)
        if labels is not None:
            correct += _correct(acts[-1], labels[rows])
    return Fit(loss, l2_penalty(net.weights, l2, m), None if labels is None else correct / m)


def full_batch_epochs(net, X, Y, labels, l2, cost_name, step):
    """Full-batch gradient descent: one pass over all of X gives the fit of theta_e (yielded) and
    the gradient for the step to theta_{e+1}. One workspace serves every epoch; X is copied
    once into the workspace's memory order (the first layer's two products are then as fast as
    the others'; the copy is one pass over X, each epoch makes several)."""
    grad = np.empty(net.n_params)
    ws = WorkspaceCache(net).get(X.shape[0])
    X = np.asarray(X, order=ws.order)
    for epoch in itertools.count():
        terms, _, output = _cost_terms_and_gradient(net, X, Y, l2, cost_name, out=grad, ws=ws)
        yield epoch, Fit(terms[0], terms[1], None if labels is None else _correct(output, labels) / len(labels))
        step(grad)


def minibatch_epochs(net, X, Y, labels, l2, cost_name, step, batch_size, rng, stop, running, history_cache):
    """Minibatch descent: each epoch visits the rows in a new random order, batch_size at a time;
    a batch of b rows uses lambda * b / m, so the penalty's gradient is (lambda/m) W as in full batch.
    Each batch is gathered into a reused workspace (no copy of X). Epoch 0 and, unless
    ``running``, every epoch are described by an exact pass (_evaluate); with ``running`` an
    epoch's row is the mean of its minibatches' losses and accuracies, each computed before the
    batch's step, and the penalty at the epoch's end.
    Returns early (mid-epoch) when ``stop`` is requested; train then rolls that epoch back."""
    m = X.shape[0]
    grad = np.empty(net.n_params)
    batches = WorkspaceCache(net, gather=True)
    yield 0, evaluate(net, X, Y, labels, l2, cost_name, history_cache)
    for epoch in itertools.count(1):
        order = rng.permutation(m)
        loss, correct = 0.0, 0
        for start in range(0, m, batch_size):
            batch = order[start:start + batch_size]
            ws = batches.get(len(batch))
            xb, yb = ws.gather(X, Y, batch)
            (batch_loss, _), _, output = _cost_terms_and_gradient(net, xb, yb, l2 * len(batch) / m, cost_name,
                                                                  out=grad, ws=ws)
            if running:
                loss += batch_loss * len(batch) / m
                correct += 0 if labels is None else _correct(output, labels[batch])
            step(grad)
            if stop.requested:
                return
        if running:
            yield epoch, Fit(loss, l2_penalty(net.weights, l2, m), None if labels is None else correct / m)
        else:
            yield epoch, evaluate(net, X, Y, labels, l2, cost_name, history_cache)
