"""handnet convert: save a model file of another framework (Keras .keras/.h5) as a handnet .npz."""

from __future__ import annotations

import os

import handnet as hn

from ._common import EXIT_OK, add_command, read_model

DESCRIPTION = """\
Convert a model file into a handnet model file (.npz, no pickle).

IN is a Keras 3 .keras file or a legacy Keras .h5 model (Sequential, or a
functional chain, of Dense layers with linear, sigmoid, tanh, relu or
softmax activations; InputLayer and Dropout are skipped), read with h5py
without Keras; a handnet .npz is read as it is. A layer handnet cannot
represent (a convolution, normalisation, a branch, another activation) is
an error naming it: nothing is dropped silently. OUT must end in .npz; load
it with hn.load, or pass it to handnet explain / gradcheck --model.

scikit-learn and PyTorch models live in Python objects, not in files handnet
can read safely (pickles), so convert those in Python:
  hn.save(hn.from_sklearn(estimator), "model.npz")
  hn.save(hn.from_torch(module), "model.npz")"""

EPILOG = """\
examples:
  handnet convert model.keras model.npz
  handnet convert tutorial_model.h5 model.npz"""


def register(commands):
    """Add ``handnet convert`` to the subcommands."""
    convert = add_command(commands, "convert", run, description=DESCRIPTION, epilog=EPILOG,
                          help="save a Keras .keras/.h5 model file as a handnet .npz")
    convert.add_argument("input", metavar="IN", help="the model file: .keras, .h5 (or a handnet .npz)")
    convert.add_argument("output", metavar="OUT", help="the handnet model file to write, ending in .npz")


def run(args):
    """Read IN, convert it, write OUT atomically, print the architecture."""
    if not args.output.endswith(".npz"):
        raise ValueError(f"OUT: expected a file name ending in .npz, got {args.output!r}")
    if os.path.exists(args.output) and os.path.samefile(args.input, args.output):
        raise ValueError(f"OUT: {args.output!r} is the input file itself; choose another name")
    net = read_model(args.input, option="IN")
    hn.save(net, args.output)
    print(f"{args.input} -> {args.output}")
    print(net.summary())
    return EXIT_OK
