"""handnet explain: which pixels a saved digit model's outputs depend on, as CSV and PNGs.

Every method is one row of ``METHODS``: its description (for --help), what it
writes, and which options apply to it. Adding a method is adding a row.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from typing import Callable

import numpy as np

import handnet as hn

from .. import _validate as V
from ._common import (DEFAULT_OUT, DIGITS_IMAGE_SHAPE, DIGITS_INPUTS, EXIT_OK, add_command, output_folder,
                      print_written, write_csv)

DEFAULT_EXPLAIN_OUT = os.path.join(DEFAULT_OUT, "explain")
DEFAULT_EXPLAIN_ROWS = range(8)
DEFAULT_WINDOW = (2, 2)
DEFAULT_STRIDE = 1
DEFAULT_BASELINE = 0.0
MAX_GRID_ROWS = 24          # rows drawn in METHOD.png (the CSV has every row)
MAX_JACOBIAN_PNGS = 8       # jacobian-rowR.png files written (the CSV has every row)


@dataclass(frozen=True)
class Inputs:
    """What a method explains: the chosen rows of the digits and the options that apply."""
    X: np.ndarray            # (N, D) the explained digits
    rows: np.ndarray         # (N,) their row numbers in the shipped data
    labels: np.ndarray       # (N,) their true digits
    target: int | None       # --target, or None for each row's predicted class
    shape: tuple             # (H, W) image shape
    window: tuple | None = None
    stride: int | None = None
    baseline: float | None = None


@dataclass(frozen=True)
class Method:
    """One explanation method of the command line."""
    description: str                         # the lines of --help under "Methods:"
    write: Callable                          # (net, Inputs, out_dir) -> list of written paths
    uses_rows: bool = True                   # False: the same for every input (--rows does not apply)
    uses_target: bool = True                 # False: every output is explained (--target does not apply)
    occlusion: bool = False                  # --window, --stride, --baseline apply


def map_writer(name, attribution, colorbar, title):
    """A Method.write for a map per row: attribution(net, X, targets, inputs) -> (N, D)."""
    def write(net, inputs, out_dir):
        targets = hn.explain.resolve_targets(net, inputs.X, inputs.target)
        A = attribution(net, inputs.X, targets, inputs)
        return write_maps(name, A, inputs, targets, colorbar, title, out_dir)
    return write



#: The methods of ``handnet explain``, in the order --help lists them.
METHODS = {
    "sensitivity": Method(
        """|d y_t / d x_i|: how strongly the explained output y_t reacts
when pixel i is nudged. Backprop carried to the input.""",
        map_writer("sensitivity", lambda net, X, t, _: hn.explain.sensitivity(net, X, t),
                   "value / max", "Sensitivity |d y_t / d x_i|")),
    "gradxinput": Method(
        """x_i * d y_t / d x_i, gradient times input: the signed share of
each pixel that is actually inked; red pushes y_t up, blue down.""",
        map_writer("gradxinput", lambda net, X, t, _: hn.explain.gradient_x_input(net, X, t),
                   "value / max", "Gradient x input  x_i * d y_t / d x_i")),
    "occlusion": Method(
        """set a --window of pixels to --baseline, slide it by --stride,
and record how much y_t drops (averaged over the windows that
cover each pixel): no derivatives, just the covered images.""",
        map_writer("occlusion",
                   lambda net, X, t, o: hn.explain.occlusion(net, X, t, o.window, stride=o.stride,
                                                             baseline=o.baseline, image_shape=o.shape),
                   "value / max", "Occlusion: the drop of y_t when windows covering the pixel are blanked"),
        occlusion=True),
    "regions": Method(
        """one map per class from the weights alone, W_L.T ... W_1.T with
the nonlinearities ignored: the region each class "looks at".
The same for every input, so --rows and --target do not apply.""",
        lambda net, inputs, out_dir: write_regions(net, inputs.shape, out_dir),
        uses_rows=False, uses_target=False),
    "jacobian": Method(
        """d y_k / d x_i for every output k, not only the target: one map
per output for each row, so --target does not apply.""",
        lambda net, inputs, out_dir: write_jacobian(net, inputs, out_dir),
        uses_target=False),
}


def _method_help():
    lines = []
    for name, method in METHODS.items():
        first, *rest = method.description.splitlines()
        lines.append(f"  {name.ljust(11)}  {first}")
        lines.extend(f"               {line}" for line in rest)
    return "\n".join(lines)


DESCRIPTION = f"""\
Explain a saved digit model: which pixels do its outputs depend on?

The model (--model, a .npz from handnet train or hn.save) must take the 64
pixels of the shipped 8x8 digits; the explained inputs are --rows of those
1797 digits. For other data use the Python API (hn.explain). Methods:

{_method_help()}

y_t is the output unit --target (default: each row's predicted class), the
output activation a_L. Files written to the output folder (--out):

  METHOD.csv   one row per explained digit: row, label, target, x0..x63
               (regions: class, x0..x63; jacobian, long: row, output,
               feature, value)
  METHOD.png   each digit next to its map (at most the first {MAX_GRID_ROWS} rows);
               regions.png: a panel per class; jacobian-rowR.png: a panel per
               output for each row R (at most the first {MAX_JACOBIAN_PNGS} rows)"""

EPILOG = """\
examples:
  handnet explain --model handnet-output/model.npz --method sensitivity
  handnet explain --model handnet-output/model.npz --method gradxinput --rows 0:20 --target 3
  handnet explain --model handnet-output/model.npz --method occlusion --window 3 3 --rows 3 5 7
  handnet explain --model handnet-output/model.npz --method regions
  handnet explain --model handnet-output/model.npz --method jacobian --rows 0 --out /tmp/why"""



def register(commands):
    """Add ``handnet explain`` to the subcommands."""
    explain = add_command(commands, "explain", run, description=DESCRIPTION, epilog=EPILOG,
                          help="explain a saved digit model: which pixels its outputs depend on (CSV and PNGs)")
    what = explain.add_argument_group("what to explain")
    what.add_argument("--model", required=True, metavar="PATH",
                      help="the model to explain: a .npz written by handnet train or hn.save, with 64 "
                           "inputs (the digits' pixels)")
    what.add_argument("--method", required=True, metavar="METHOD",
                      help="how to explain it: %s (each is described above)" % ", ".join(METHODS))
    what.add_argument("--rows", nargs="+", metavar="ROWS", default=None,
                      help="which of the 1797 shipped digits to explain: a range START:STOP (0:8 is rows "
                           "0 to 7) and/or row numbers (3 5 7) (default: 0:8)")
    what.add_argument("--target", type=int, default=None, metavar="CLASS",
                      help="the output unit to explain, 0..K-1, the same for every row "
                           "(default: each row's predicted class)")
    occ = explain.add_argument_group("occlusion")
    occ.add_argument("--window", type=int, nargs="+", metavar="N", default=None,
                     help="height and width in pixels of the patch that is covered; one number for a "
                          "square (default: %d %d)" % DEFAULT_WINDOW)
    occ.add_argument("--stride", type=int, default=None, metavar="S",
                     help="how many pixels the window moves per step (default: %d)" % DEFAULT_STRIDE)
    occ.add_argument("--baseline", type=float, default=None, metavar="VALUE",
                     help="the value covered pixels are set to; 0 is blank paper "
                          "(default: %g)" % DEFAULT_BASELINE)
    out = explain.add_argument_group("image and output")
    out.add_argument("--image-shape", type=int, nargs=2, metavar=("H", "W"), default=None,
                     help="how the 64 inputs form an image, row by row; H x W must be 64 "
                          "(default: %d %d)" % DIGITS_IMAGE_SHAPE)
    out.add_argument("--out", default=DEFAULT_EXPLAIN_OUT, metavar="DIR",
                     help="folder for METHOD.csv and the PNGs; created if needed, existing files are "
                          "replaced (default: %(default)s)")


def run(args):
    """Check the options against the method, load the model and the rows, write the method's files."""
    method = check_method(args.method)
    spec = METHODS[method]
    occlusion_only = {"--window": args.window, "--stride": args.stride, "--baseline": args.baseline}
    given = [name for name, value in occlusion_only.items() if value is not None]
    if given and not spec.occlusion:
        raise ValueError(f"{', '.join(given)}: only used by --method occlusion, not {method}")
    if not spec.uses_rows:
        given = [name for name, value in (("--rows", args.rows), ("--target", args.target)) if value is not None]
        if given:
            raise ValueError(f"{', '.join(given)}: --method {method} maps every class from the weights alone, "
                             "for no particular input; leave out --rows and --target")
    if not spec.uses_target and args.target is not None:
        raise ValueError(f"--target: --method {method} explains every output unit; leave out --target")
    out_dir = output_folder(args.out)

    net = hn.load(args.model)
    n_in, K = net.layer_sizes[0], net.layer_sizes[-1]
    if n_in != DIGITS_INPUTS:
        raise ValueError(f"--model: {args.model} takes {n_in} inputs, but from the command line handnet "
                         f"explains only models of the shipped 8x8 digits ({DIGITS_INPUTS} inputs); for "
                         "other data use the Python API, e.g. hn.explain.sensitivity(net, X)")
    shape = DIGITS_IMAGE_SHAPE if args.image_shape is None else \
        V.as_image_shape(args.image_shape, DIGITS_INPUTS, "--image-shape", ndim=2)
    if args.target is not None and not 0 <= args.target < K:
        raise ValueError(f"--target: expected an output unit in 0..{K - 1} (the model has {K} outputs), "
                         f"got {args.target}")
    X, y = hn.datasets.load_digits()
    rows = explain_rows(args.rows, len(X))
    options = {}
    if spec.occlusion:
        window = DEFAULT_WINDOW if args.window is None else tuple(args.window)
        options = dict(window=V.as_window(window * 2 if len(window) == 1 else window, shape, "--window"),
                       stride=DEFAULT_STRIDE if args.stride is None else args.stride,
                       baseline=DEFAULT_BASELINE if args.baseline is None else args.baseline)
        if options["stride"] < 1:
            raise ValueError(f"--stride: expected a positive number of pixels, got {options['stride']}")
        if not np.isfinite(options["baseline"]):
            raise ValueError(f"--baseline: expected a finite number, got {args.baseline}")
    inputs = Inputs(X[rows], rows, y[rows], args.target, shape, **options)

    print(net)
    if not spec.uses_rows:
        print(f"{method} of {args.model}: one per class ({K}), from the weights alone")
    else:
        print(f"explaining {describe_rows(rows)} of the shipped digits with {method}"
              + ("" if not spec.uses_target else
                 f", target {'the predicted class' if args.target is None else args.target}")
              + (f", window {inputs.window[0]} x {inputs.window[1]}, stride {inputs.stride}, "
                 f"baseline {inputs.baseline:g}" if spec.occlusion else ""))
    print_written(spec.write(net, inputs, out_dir), out_dir)
    return EXIT_OK


def check_method(method):
    if method not in METHODS:
        close = difflib.get_close_matches(method, list(METHODS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"--method: expected one of {', '.join(METHODS)}, got {method!r}{hint}")
    return method


def explain_rows(tokens, n):
    """['0:8'] -> [0..7]; ['3', '5', '7'] -> [3, 5, 7]; ranges and numbers may be mixed."""
    if tokens is None:
        return np.array(DEFAULT_EXPLAIN_ROWS)
    rows = []
    for token in tokens:
        try:
            if ":" in token:
                start, stop = token.split(":")
                start = int(start) if start.strip() else 0
                stop = int(stop) if stop.strip() else n
                if start >= stop:
                    raise ValueError(f"--rows: the range {token} is empty; START:STOP means START, "
                                     "START+1, ..., STOP-1")
                picked = list(range(start, stop))
            else:
                picked = [int(token)]
        except ValueError as exc:
            if str(exc).startswith("--rows"):
                raise
            raise ValueError(f"--rows: expected row numbers (3 5 7) or ranges START:STOP (0:8), "
                             f"got {token!r}") from None
        bad = [r for r in picked if not 0 <= r < n]
        if bad:
            raise ValueError(f"--rows: the shipped digits have {n} rows, 0..{n - 1}; got {bad[0]} "
                             f"(from {token!r})")
        rows.extend(picked)
    return np.array(rows, dtype=np.int64)


def describe_rows(rows):
    if len(rows) == 1:
        return f"row {rows[0]}"
    if np.array_equal(rows, np.arange(rows[0], rows[0] + len(rows))):
        return f"rows {rows[0]} to {rows[-1]}"
    listed = ", ".join(map(str, rows[:10])) + (", ..." if len(rows) > 10 else "")
    return f"{len(rows)} rows ({listed})"


def feature_columns():
    return [f"x{j}" for j in range(DIGITS_INPUTS)]


def write_maps(method, A, inputs, targets, cbar_label, title, out_dir):
    """METHOD.csv (row, label, target, x0..x63) and METHOD.png (each digit next to its map)."""
    import pandas as pd

    from ..explain.plots import _plot_row_maps

    Xr, rows, labels, shape = inputs.X, inputs.rows, inputs.labels, inputs.shape
    table = pd.DataFrame(A, columns=feature_columns())
    table.insert(0, "row", rows)
    table.insert(1, "label", labels)
    table.insert(2, "target", targets)
    csv = write_csv(os.path.join(out_dir, f"{method}.csv"), table)
    shown = min(len(rows), MAX_GRID_ROWS)
    title += ("\neach map scaled to its own largest |value| (max); the numbers are in "
              f"{method}.csv")
    if shown < len(rows):
        title += f"; the first {shown} of {len(rows)} rows"
    png = os.path.join(out_dir, f"{method}.png")
    _plot_row_maps(A[:shown], Xr[:shown], shape,
                   titles=[f"target {t}" for t in targets[:shown]],
                   image_titles=[f"row {r}: digit {d}" for r, d in zip(rows[:shown], labels[:shown])],
                   title=title, cbar_label=cbar_label, path=png)
    if shown < len(rows):
        print(f"{method}.png shows the first {shown} of the {len(rows)} rows; {method}.csv has them all")
    return [csv, png]


def write_regions(net, shape, out_dir):
    """regions.csv (class, x0..x63) and regions.png (a panel per class)."""
    import pandas as pd

    from ..explain.plots import plot_class_maps

    maps = hn.explain.region_maps(net)
    table = pd.DataFrame(maps, columns=feature_columns())
    table.insert(0, "class", np.arange(len(maps)))
    csv = write_csv(os.path.join(out_dir, "regions.csv"), table)
    png = os.path.join(out_dir, "regions.png")
    plot_class_maps(maps, shape, title="Region maps  e_c W_L.T ... W_1.T (the weights alone)", path=png)
    return [csv, png]


def write_jacobian(net, inputs, out_dir):
    """jacobian.csv (long: row, output, feature, value) and jacobian-rowR.png per row."""
    import pandas as pd

    from ..explain.plots import plot_class_maps

    Xr, rows, labels, shape = inputs.X, inputs.rows, inputs.labels, inputs.shape
    J = hn.explain.jacobian(net, Xr)                          # (N, K, D)
    N, K, D = J.shape
    table = pd.DataFrame({"row": np.repeat(rows, K * D),
                          "output": np.tile(np.repeat(np.arange(K), D), N),
                          "feature": np.tile(np.arange(D), N * K),
                          "value": J.ravel()})
    paths = [write_csv(os.path.join(out_dir, "jacobian.csv"), table)]
    shown = min(N, MAX_JACOBIAN_PNGS)
    for i in range(shown):
        png = os.path.join(out_dir, f"jacobian-row{rows[i]}.png")
        if png in paths:                                      # a row asked for twice
            continue
        plot_class_maps(J[i], shape, titles=[f"output {k}" for k in range(K)],
                        title=f"Jacobian d y_k / d x of row {rows[i]} (digit {labels[i]})", path=png)
        paths.append(png)
    if shown < N:
        print(f"jacobian-rowR.png written for the first {shown} of the {N} rows; jacobian.csv has them all")
    return paths
