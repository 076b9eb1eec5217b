"""Networks trained elsewhere, in and out: scikit-learn, PyTorch and Keras.

    net = hn.from_sklearn(estimator)          # a fitted MLPClassifier / MLPRegressor
    net = hn.from_torch(module)               # nn.Sequential of Linear + activations (or a state_dict)
    net = hn.from_keras("model.keras")        # .keras, legacy .h5, or a live Keras model
    net = hn.interop.load_model(path)         # .npz (handnet), .keras or .h5, by the file's contents

Each returns an ``hn.MLP`` with float64 copies of the weights, computing the
framework's function, so every handnet explanation explains *that* model. A
layer handnet cannot represent is a ValueError naming it; nothing is dropped.
No framework is imported here: a converter reads the object it is given
(duck typing), and only reading Keras files needs h5py (handnet[keras]).
One module per framework; _chain.py is the shared layer-list -> MLP step.
"""

from __future__ import annotations

import os

from .keras import from_keras
from .sklearn import from_sklearn, to_sklearn_params
from .torch import from_torch, to_torch

__all__ = ["from_sklearn", "from_torch", "from_keras", "to_torch", "to_sklearn_params", "load_model",
           "MODEL_SUFFIXES"]

#: The model files load_model reads.
MODEL_SUFFIXES = (".npz", ".keras", ".h5", ".hdf5")


def load_model(path):
    """A handnet MLP from a handnet .npz (hn.load) or a Keras .keras/.h5 file (from_keras).

    The file's first bytes decide (an .npz and a .keras are both zip archives:
    a .keras holds config.json), so a renamed file still loads.
    """
    from ..io import load

    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a file path, got {type(path).__name__}")
    if _is_keras_file(os.fspath(path)):
        return from_keras(path)
    return load(path)


def _is_keras_file(path):
    import zipfile

    try:
        with open(path, "rb") as fh:
            magic = fh.read(8)
    except OSError:
        return False                       # load() reports the missing file or the folder
    if magic == b"\x89HDF\r\n\x1a\n":
        return True
    if not magic.startswith(b"PK"):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return "config.json" in archive.namelist()
    except zipfile.BadZipFile:
        return False
