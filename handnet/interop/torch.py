"""PyTorch models in (an nn.Sequential, or a state_dict with activation names) and out.

torch's Linear computes y = x @ weight.T + bias with weight of shape
(out_features, in_features), so handnet's W_l is weight.T (n_in, n_out) and
b_l is bias. Converted modules, nested Sequentials flattened in order:

    Linear (bias=False is an exact zero bias), Sigmoid, Tanh, ReLU, Identity,
    Softmax(dim=-1 or dim=1) (the last axis of a batch of rows),
    Dropout (the identity at inference)

Anything else is refused by name; LogSoftmax gets its own sentence. torch is
not a dependency: a module is read through its children() and its weight and
bias tensors, and torch is imported only by to_torch.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .. import _validate as V
from ._chain import Activation, Dense, Skip, as_float64, build_mlp, unsupported

__all__ = ["from_torch", "to_torch"]

#: torch activation modules -> handnet's activation names.
MODULE_ACTIVATIONS = {"Sigmoid": "sigmoid", "Tanh": "tanh", "ReLU": "relu", "Identity": "identity",
                      "Softmax": "softmax"}
#: names accepted in the ``activations`` list of a state_dict.
STATE_DICT_ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity", "softmax")
SUPPORTED = ("nn.Sequential (nested ones flattened) of Linear, " + ", ".join(MODULE_ACTIVATIONS)
             + " (dim=-1 or 1) and Dropout modules")


def from_torch(module, activations=None):
    """A handnet MLP computing the same function as a torch model (float64 copies of its weights).

    from_torch(nn.Sequential(...))
    from_torch(state_dict, activations=["relu", "softmax"])   one name per Linear layer, in order

    Raises ValueError naming the first module handnet cannot represent.
    """
    if isinstance(module, Mapping):
        return build_mlp(_state_dict_steps(module, activations), "the state_dict")
    if not hasattr(module, "children"):
        raise TypeError(f"module: expected a torch nn.Sequential or a state_dict, got {type(module).__name__}")
    if activations is not None:
        raise ValueError("activations: only used with a state_dict; an nn.Sequential carries its own")
    return build_mlp(list(_module_steps(module, "")), f"the torch {type(module).__name__}")


def _module_steps(module, prefix):
    """Steps of a Sequential in order, nested Sequentials flattened; prefixes name them like torch does."""
    kind = type(module).__name__
    if kind != "Sequential":
        raise unsupported(f"the module {kind}", SUPPORTED)
    for name, child in module.named_children():
        where_name = f"{prefix}{name}"
        kind = type(child).__name__
        where = f"module {where_name!r} ({kind})"
        if kind == "Sequential":
            yield from _module_steps(child, where_name + ".")
        elif kind == "Linear":
            bias = None if child.bias is None else as_float64(_numpy(child.bias), where, "bias")
            yield Dense(where, as_float64(_numpy(child.weight), where, "weight").T, bias)
        elif kind == "Dropout":
            yield Skip(where)
        elif kind == "LogSoftmax":
            raise ValueError(f"{where}: LogSoftmax gives log-probabilities, which no handnet output layer "
                             "computes; replace it by Softmax(dim=-1) (its exp) to explain probabilities")
        elif kind in MODULE_ACTIVATIONS:
            if kind == "Softmax" and child.dim not in (-1, 1):
                raise ValueError(f"{where}: got Softmax(dim={child.dim}); handnet converts only a softmax over "
                                 "the features of each row, Softmax(dim=-1) or Softmax(dim=1)")
            yield Activation(where, MODULE_ACTIVATIONS[kind])
        else:
            raise unsupported(where, SUPPORTED)


def _state_dict_steps(state, activations):
    """Steps of a state_dict {"<prefix>.weight": (out, in), "<prefix>.bias": (out,)} plus one name per layer."""
    layers = {}
    for key, value in state.items():
        prefix, _, kind = str(key).rpartition(".")
        if kind not in ("weight", "bias"):
            raise ValueError(f"state_dict: entry {key!r} is neither a Linear weight nor a bias; handnet converts "
                             "state_dicts of Linear layers only")
        layers.setdefault(prefix, {})[kind] = value
    if activations is None or isinstance(activations, str) or len(activations) != len(layers):
        raise ValueError(f"activations: expected a list of {len(layers)} activation names, one per Linear layer "
                         f"({', '.join(layers)}), got {activations!r}"[:300])
    steps = []
    for (prefix, arrays), act in zip(layers.items(), activations):
        where = f"layer {prefix!r} of the state_dict"
        if "weight" not in arrays:
            raise ValueError(f"{where} has a bias but no weight")
        if act not in STATE_DICT_ACTIVATIONS:
            raise ValueError(f"activations: {act!r} for {where} is not supported; expected one of "
                             f"{STATE_DICT_ACTIVATIONS}")
        bias = as_float64(_numpy(arrays["bias"]), where, "bias") if "bias" in arrays else None
        steps.append(Dense(where, as_float64(_numpy(arrays["weight"]), where, "weight").T, bias, act))
    return steps


def _numpy(tensor):
    """A tensor's values as a NumPy array (detached, on the CPU, as float64: exact for float16,
    bfloat16 and float32 values, and NumPy has no bfloat16); arrays pass through."""
    if hasattr(tensor, "detach"):
        tensor = tensor.detach().cpu().double().numpy()
    return np.asarray(tensor)


def to_torch(net, dtype=None):
    """An nn.Sequential computing the same function as ``net`` (needs torch).

    Linear layers get weight = W_l.T and bias = b_l; dtype defaults to torch.float64,
    so the torch model equals handnet's to float64 rounding.
    """
    V.as_net(net, order="net, dtype")
    import torch
    from torch import nn

    dtype = torch.float64 if dtype is None else dtype
    modules = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "identity": nn.Identity,
               "softmax": lambda: nn.Softmax(dim=-1)}
    layers = []
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        linear = nn.Linear(*W.shape, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.as_tensor(W.T.copy(), dtype=dtype))
            linear.bias.copy_(torch.as_tensor(b.copy(), dtype=dtype))
        layers += [linear, modules[net.activation(l).name]()]
    return nn.Sequential(*layers)
