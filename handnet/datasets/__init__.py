"""Data for handnet: shipped digits, preparation for a network, and generated sets with known answers.

Three modules, one job each; every public name is handed on here, so
``hn.datasets.load_digits`` and the rest keep their names:

* ``loaders``: the shipped files (``datasets/README.md`` gives provenance,
  licences, layouts and checksums): ``load_digits`` (1797 UCI digits, 8x8)
  and ``load_mnist`` (5000 MNIST digits, 500 per digit, 28x28 or
  area-resampled to the course's 20x20).
* ``preprocessing``: ``one_hot``, ``train_test_split`` (stratified),
  ``MinMaxScaler`` / ``minmax_normalise``.
* ``synthetic``: ``make_delivery_times`` (a table of named fields whose target
  depends on chosen fields only), ``field_slices`` and ``make_sine``.

Shapes: ``X`` is ``(N, D)``, one sample per row; ``y`` is ``(N,)`` integer
labels; ``Y = one_hot(y)`` is ``(N, K)``.
"""

from .loaders import (
    DIGITS_SHA256, DIGITS_SHAPE, MNIST_SHA256, MNIST_SIZES, _data_dir, _digits_file, area_resampling_matrix,
    load_digits, load_mnist, resample_images,
)
from .preprocessing import MinMaxScaler, minmax_normalise, minmax_scale, one_hot, train_test_split
from .synthetic import (
    DELIVERY_FIELDS, DELIVERY_TARGETS, FieldData, _delivery_minutes, field_slices, make_delivery_times, make_sine,
)

__all__ = [
    "DIGITS_SHA256", "DIGITS_SHAPE", "load_digits",
    "MNIST_SHA256", "MNIST_SIZES", "load_mnist", "area_resampling_matrix", "resample_images",
    "one_hot", "train_test_split", "MinMaxScaler", "minmax_normalise", "minmax_scale",
    "FieldData", "field_slices", "DELIVERY_FIELDS", "DELIVERY_TARGETS", "make_delivery_times", "make_sine",
]
