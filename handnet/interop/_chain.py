"""One home for turning a framework's layer list into an MLP.

Every converter reads its framework's model into the same small vocabulary, a
list of steps in the order the data flows through them:

    Dense(where, W (n_in, n_out), b (n_out,) or None, activation or None)
    Activation(where, name)           a separate activation layer
    Skip(where)                       a layer that is the identity at inference (Dropout, InputLayer)

and ``build_mlp`` folds the steps into the network

    a_0 = x,   a_l = f_l(a_{l-1} @ W_l + b_l),   f_l = the activation that follows Dense l

checking on the way that the steps form such a chain. ``where`` is the
sentence fragment that names the layer in an error ("layer 3 'conv' (Conv2D)").
Activation names are handnet's (sigmoid, tanh, relu, identity, softmax); each
converter translates its framework's names with a table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from ..network import MLP

__all__ = ["Dense", "Activation", "Skip", "build_mlp", "as_float64", "unsupported"]


@dataclass
class Dense:
    where: str
    W: np.ndarray                 # (n_in, n_out), handnet's layout
    b: np.ndarray | None          # (n_out,), None for a layer without bias (b = 0 exactly)
    activation: str | None = None


@dataclass
class Activation:
    where: str
    name: str


@dataclass
class Skip:
    where: str


def unsupported(where, supported):
    """The ValueError for a layer handnet cannot represent: it names the layer and what is supported."""
    return ValueError(f"{where} is not supported: handnet converts {supported}; nothing is dropped "
                      "silently, so the model cannot be converted")


def as_float64(array, where, what):
    """A float64 copy of a weight array (float32 values are exact in float64); finite or ValueError."""
    arr = np.array(array, dtype=np.float64, copy=True)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{where}: its {what} holds NaN or infinite values")
    return arr


def build_mlp(steps, source):
    """MLP from a list of Dense / Activation / Skip steps (see the module docstring).

    ``source`` names the model in errors ("the torch module"). Raises ValueError
    when the steps are not a chain of Dense layers with one activation after each.
    """
    layers = []                                  # [Dense], activations folded in
    for step in steps:
        if isinstance(step, Skip):
            continue
        if isinstance(step, Dense):
            _check_dense(step, layers)
            layers.append(Dense(step.where, step.W, step.b, None))
            step_activation, step_where = step.activation, step.where
        else:
            step_activation, step_where = step.name, step.where
            if not layers:
                raise ValueError(f"{step.where} comes before any Dense/Linear layer; handnet's network "
                                 "starts with a weight layer")
        if step_activation in (None, "identity"):
            continue
        if layers[-1].activation is not None:
            raise ValueError(f"{step_where}: a second activation ({step_activation}) right after "
                             f"{layers[-1].activation} in {layers[-1].where}; handnet applies one "
                             "activation per weight layer")
        layers[-1].activation = step_activation
    if not layers:
        raise ValueError(f"{source} has no Dense/Linear layer to convert")
    names = [layer.activation or "identity" for layer in layers]
    for layer, name in zip(layers[:-1], names[:-1]):
        if name not in HIDDEN_ACTIVATIONS:
            raise ValueError(f"{layer.where}: the activation {name!r} is only possible on the output layer "
                             f"in handnet; a hidden layer takes one of {HIDDEN_ACTIVATIONS}")
    if names[-1] not in OUTPUT_ACTIVATIONS:
        raise ValueError(f"{layers[-1].where}: the output layer's activation {names[-1]!r} is not one "
                         f"handnet's output layer has; expected one of {OUTPUT_ACTIVATIONS}")
    sizes = [layers[0].W.shape[0]] + [layer.W.shape[1] for layer in layers]
    try:
        net = MLP(sizes, hidden=names[:-1], output=names[-1])
    except ValueError as exc:
        raise ValueError(f"{layers[-1].where}: {exc}") from None
    for l, layer in enumerate(layers):
        net.weights[l] = layer.W
        net.biases[l] = np.zeros(layer.W.shape[1]) if layer.b is None else layer.b
    return net


def _check_dense(step, layers):
    W, b = step.W, step.b
    if W.ndim != 2 or W.size == 0:
        raise ValueError(f"{step.where}: expected a 2-D weight matrix, got shape {W.shape}")
    if b is not None and b.shape != (W.shape[1],):
        raise ValueError(f"{step.where}: bias of shape {b.shape} does not fit weights {W.shape} "
                         f"(expected ({W.shape[1]},))")
    if layers and layers[-1].W.shape[1] != W.shape[0]:
        raise ValueError(f"{step.where} takes {W.shape[0]} inputs but {layers[-1].where} gives "
                         f"{layers[-1].W.shape[1]}; the layers do not connect")
