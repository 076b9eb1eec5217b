"""Keras models in: ``.keras`` files, legacy HDF5 ``.h5`` files and live models, without Keras.

A Keras 3 ``.keras`` file is a zip archive holding

    config.json        {"class_name": "Sequential" | "Functional", "config": {"layers": [...], ...}}
    model.weights.h5   layers/<layer name>/vars/0, 1, ...   (Dense: 0 = kernel (n_in, n_out), 1 = bias)

and a legacy ``.h5`` model (model.save("m.h5"), what most tutorials still write) is one HDF5 file:

    attribute model_config                 the same JSON
    model_weights/<layer name>             attribute weight_names: the layer's arrays in order,
                                           paths relative to that group (".../kernel", ".../bias")

A Dense kernel is already handnet's (n_in, n_out) layout. Both are read with
h5py (pip install 'handnet[keras]'); Keras itself is never imported. A live
model is read through its own get_config() and each layer's get_weights().

Converted: Sequential models and functional models that are a single chain
(input -> layer -> ... -> output), made of Dense layers (with or without bias;
no bias is an exact zero bias), Activation layers, InputLayer (flat inputs
only) and Dropout (the identity at inference). Activations: linear, sigmoid,
tanh, relu, softmax. Anything else is refused by name.
"""

from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np

from .._system import check_allocation
from ._chain import Activation, Dense, Skip, as_float64, build_mlp, unsupported

__all__ = ["from_keras"]

#: Keras activation names -> handnet's.
ACTIVATION_NAMES = {"linear": "identity", "sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu",
                    "softmax": "softmax"}
SUPPORTED = ("Dense, Activation, InputLayer (flat inputs) and Dropout layers, with the activations "
             + ", ".join(ACTIVATION_NAMES) + ", in a Sequential model or a single-chain functional model")
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_ZIP_MAGIC = b"PK"


def from_keras(model):
    """A handnet MLP computing the same function as a Keras model (a path or a live model).

    model   a ``.keras`` file, a legacy ``.h5`` model file, or a Keras model object.
    Raises ValueError naming the first layer handnet cannot represent.
    """
    if isinstance(model, (str, os.PathLike)):
        config, weights = _read_file(os.fspath(model))
        source = f"the Keras model in {os.fspath(model)!r}"
    elif all(hasattr(model, a) for a in ("get_config", "layers")):
        config = {"class_name": type(model).__name__, "config": model.get_config()}
        weights = {layer.name: list(layer.get_weights()) for layer in model.layers}
        source = f"the Keras {type(model).__name__} {getattr(model, 'name', '')!r}"
    else:
        raise TypeError(f"model: expected a path to a .keras or .h5 file, or a Keras model, got "
                        f"{type(model).__name__}")
    steps = [_step(i, layer, weights) for i, layer in enumerate(_chain_of_layers(config))]
    return build_mlp(steps, source)


# ----------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------

def _read_file(path):
    """(config, {layer name: [arrays in order]}) from a .keras or legacy .h5 file."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"model: no file at {path!r}")
    with open(path, "rb") as fh:
        magic = fh.read(len(_HDF5_MAGIC))
    try:
        if magic.startswith(_ZIP_MAGIC):
            return _read_keras_zip(path)
        if magic == _HDF5_MAGIC:
            with _h5py().File(path, "r") as f:
                return _read_legacy_h5(f, path)
    except (OSError, KeyError, TypeError, json.JSONDecodeError, RecursionError) as exc:   # damaged files
        raise ValueError(f"model: {path!r} is not a readable Keras model file ({type(exc).__name__}: "
                         f"{exc})") from None
    raise ValueError(f"model: {path!r} is neither a .keras archive (zip) nor an HDF5 .h5 model; it starts "
                     f"with {magic!r}")


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("reading Keras files needs h5py: pip install 'handnet[keras]'") from None
    return h5py


def _read_keras_zip(path):
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "config.json" not in names or "model.weights.h5" not in names:
                raise ValueError(f"model: {path!r} is a zip archive without config.json and model.weights.h5 "
                                 f"(it holds {names[:6]}); is it a Keras 3 .keras file?")
            for name in ("config.json", "model.weights.h5"):      # sizes as declared, before reading
                check_allocation(archive.getinfo(name).file_size, "model", f"{name} of {path!r}")
            config = json.loads(archive.read("config.json"))
            raw = archive.read("model.weights.h5")
    except zipfile.BadZipFile as exc:
        raise ValueError(f"model: {path!r} is not a readable .keras file ({exc})") from None
    with _h5py().File(io.BytesIO(raw), "r") as f:
        layers = f.get("layers")
        weights = {}
        for path_name, group in ({} if layers is None else layers).items():
            if "vars" in group:              # the group is named by position; vars' "name" is the layer's
                arrays = group["vars"]
                weights[_text(arrays.attrs.get("name", path_name))] = [
                    _read_array(arrays[k]) for k in sorted(arrays, key=int)]
    return config, weights


def _read_legacy_h5(f, path):
    raw = f.attrs.get("model_config")
    if raw is None:
        raise ValueError(f"model: {path!r} holds weights only (no model_config); save the whole model "
                         "with model.save('model.h5') or model.save('model.keras')")
    config = json.loads(_text(raw))
    root = f["model_weights"] if "model_weights" in f else f
    weights = {}
    for name, group in root.items():
        names = [_text(n) for n in group.attrs.get("weight_names", [])]
        weights[name] = [_read_array(group[n]) for n in names]
    return config, weights


def _read_array(dataset):
    """An HDF5 dataset's values; a non-numeric or impossibly large one is a ValueError first."""
    if dataset.dtype.kind not in "fiu":
        raise ValueError(f"model: the array {dataset.name!r} has dtype {dataset.dtype}; expected numbers")
    check_allocation(8 * int(np.prod(dataset.shape, dtype=np.float64)), "model", f"the array {dataset.name!r}")
    return np.asarray(dataset[()])


def _text(value):
    """An HDF5 string attribute (bytes or str) as str."""
    return value.decode() if isinstance(value, bytes) else str(value)


# ----------------------------------------------------------------------------
# The layer chain
# ----------------------------------------------------------------------------

def _chain_of_layers(config):
    """The layer configs in data-flow order; ValueError for anything but a single chain."""
    kind, inner = config.get("class_name"), config.get("config")
    if kind == "Sequential":
        return inner["layers"] if isinstance(inner, dict) else inner      # Keras 2.2 wrote a bare list
    if kind in ("Functional", "Model"):
        return _functional_chain(inner)
    raise ValueError(f"model: a Keras {kind} model is not supported; handnet converts {SUPPORTED}")


def _functional_chain(inner):
    layers = {_layer_name(layer): layer for layer in inner["layers"]}
    (start,), (end,) = _endpoints(inner, "input_layers"), _endpoints(inner, "output_layers")
    chain, current = [], end
    while current != start:
        if current not in layers or any(current == _layer_name(seen) for seen in chain):
            raise ValueError(f"model: the functional model's graph reaches {current!r} "
                             f"{'twice (a cycle)' if current in layers else 'but has no such layer'} on the way "
                             f"back from {end!r}; handnet converts {SUPPORTED}")
        layer = layers[current]
        nodes = layer.get("inbound_nodes", [])
        where = f"layer {current!r} ({layer.get('class_name')})"
        if len(nodes) != 1:
            raise ValueError(f"{where} is called {len(nodes)} times (a shared layer): the model is not a single "
                             f"chain; handnet converts {SUPPORTED}")
        sources = _inbound_names(nodes[0])
        if len(sources) != 1:
            raise ValueError(f"{where} takes {len(sources)} inputs: the model is not a single chain; handnet "
                             f"converts {SUPPORTED}")
        chain.append(layer)
        current = sources[0]
    chain.append(layers[start])
    off_chain = [name for name in layers if all(name != _layer_name(layer) for layer in chain)]
    if off_chain:
        layer = layers[off_chain[0]]
        raise ValueError(f"layer {off_chain[0]!r} ({layer.get('class_name')}) is a branch off the chain from "
                         f"{start!r} to {end!r}; handnet converts {SUPPORTED}")
    return chain[::-1]


def _endpoints(inner, key):
    """Names of a functional model's input or output layers (Keras 3: [name, 0, 0]; Keras 2: a list of those)."""
    value = inner[key]
    entries = [value] if value and isinstance(value[0], str) else value
    if len(entries) != 1:
        raise ValueError(f"model: a functional model with {len(entries)} {key.replace('_', ' ')} is not a "
                         f"single chain; handnet converts {SUPPORTED}")
    return [entries[0][0]]


def _inbound_names(node):
    """The layer names one inbound node reads from (Keras 3 keras_history or Keras 2 [name, i, j, kw])."""
    if isinstance(node, dict):
        found = []

        def walk(value):
            if isinstance(value, dict):
                if "keras_history" in value:
                    found.append(value["keras_history"][0])
                for v in value.values():
                    walk(v)
            elif isinstance(value, (list, tuple)):
                for v in value:
                    walk(v)

        walk(node.get("args", []))
        walk(node.get("kwargs", {}))
        return found
    return [entry[0] for entry in node]


def _layer_name(layer):
    return layer.get("name") or layer.get("config", {}).get("name")


def _step(i, layer, weights):
    """The _chain step of one layer config."""
    kind, cfg = layer.get("class_name"), layer.get("config", {})
    name = _layer_name(layer)
    where = f"layer {i} {name!r} ({kind})"
    if kind == "InputLayer":
        shape = cfg.get("batch_shape") or cfg.get("batch_input_shape")
        if shape is not None and len(shape) != 2:
            raise ValueError(f"{where} takes inputs of shape {tuple(shape[1:])}; handnet's network takes flat "
                             "vectors, so only an input of shape (n_features,) converts")
        return Skip(where)
    if kind == "Dropout":
        return Skip(where)
    if kind == "Activation":
        return Activation(where, _activation(cfg.get("activation"), where))
    if kind != "Dense":
        raise unsupported(where, SUPPORTED)
    for key in ("quantization_config", "lora_rank"):
        if cfg.get(key):
            raise ValueError(f"{where} has {key}={cfg[key]!r}; handnet converts plain float Dense layers only")
    arrays = weights.get(name, [])
    use_bias = cfg.get("use_bias", True)
    if len(arrays) != 1 + bool(use_bias):
        raise ValueError(f"{where}: expected {1 + bool(use_bias)} weight arrays (kernel"
                         f"{', bias' if use_bias else ''}), found {len(arrays)} in the file")
    W = as_float64(arrays[0], where, "kernel")
    b = as_float64(arrays[1], where, "bias") if use_bias else None
    return Dense(where, W, b, _activation(cfg.get("activation", "linear"), where))


def _activation(value, where):
    if isinstance(value, dict):                  # a serialised function: {"class_name": "function", "config": name}
        value = value.get("config") if isinstance(value.get("config"), str) else value.get("class_name")
    if value is None:
        value = "linear"
    if value not in ACTIVATION_NAMES:
        raise ValueError(f"{where}: activation {value!r} is not supported; expected one of "
                         f"{', '.join(ACTIVATION_NAMES)}")
    return ACTIVATION_NAMES[value]
