"""The multilayer perceptron: parameters and forward propagation.

Notation (used across handnet, layers counted from 1 in the equations and
from 0 in Python lists and file names):

    a_0 = X                                   (N, n_0)   the input is layer 0
    z_l = a_{l-1} @ W_l + b_l                 (N, n_l)   W_l: (n_{l-1}, n_l), b_l: (n_l,)
    a_l = f_l(z_l)                            (N, n_l)   f_l: hidden or output activation

In Python, ``net.weights[0]`` is W_1 (the file stores it as ``W0``).

All parameters live in one flat float64 vector ``net.params`` of length P;
``net.weights[l]`` and ``net.biases[l]`` are reshaped *views* into it, so an
optimiser or the gradient checker can work on the single vector while code
that reads like the math uses the per-layer matrices.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import _validate as V
from ._linalg import rows_matmul
from .activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, get_activation
from .costs import check_cost_pairing, default_cost_for

__all__ = ["MLP", "INITS", "default_cost_for"]

INITS = ("glorot", "uniform", "normal")


class _LayerViews(Sequence):
    """net.weights / net.biases: a list-like of views into the flat vector.

    Reading gives the live view; ``net.weights[l] = M`` copies M in (after
    checking its shape), so assignment never silently detaches a layer.
    """

    def __init__(self, views, kind):
        self._views = views
        self._kind = kind

    def __len__(self):
        return len(self._views)

    def __getitem__(self, i):
        return self._views[i]

    def __setitem__(self, i, value):
        view = self._views[i]
        name = f"{self._kind}[{i}]"
        arr = V.as_real_array(value, name)
        if arr.shape != view.shape:
            raise ValueError(f"{name}: expected shape {view.shape}, got {arr.shape}")
        view[...] = arr

    def __repr__(self):
        return f"[{', '.join(f'array{v.shape}' for v in self._views)}]"


class MLP:
    """A fully connected network with explicit forward propagation.

    MLP(layer_sizes, hidden="sigmoid", output="sigmoid", seed=0, init="glorot", cost=None)

    layer_sizes   [n_0, n_1, ..., n_L]: input size, hidden sizes, output size (L >= 1)
    hidden        activation of the hidden layers: sigmoid, tanh, relu, identity;
                  one name for every hidden layer, or a list with one name per
                  hidden layer (["sigmoid", "relu"] for layer_sizes [D, n_1, n_2, K])
    output        activation of the output layer: sigmoid, softmax, identity
    seed          seed of np.random.default_rng for the initial weights
    init          "glorot"  W ~ U(-r, r), r = sqrt(6 / (n_in + n_out))   (default)
                  "uniform" W ~ U(-0.12, 0.12), the course's epsilon_init
                  "normal"  W ~ N(0, 1), as in many beginners' notebooks
                  biases start at 0 for every init.
    cost          the default cost for hn.cost/gradient/train: cross_entropy,
                  softmax_cross_entropy or quadratic; None picks the one that
                  matches the output activation.
    """

    def __init__(self, layer_sizes, hidden="sigmoid", output="sigmoid", seed=0, init="glorot",
                 cost=None):
        self.layer_sizes = _check_layer_sizes(layer_sizes)
        self._hidden = _check_hidden(hidden, self.layer_sizes)
        self.output = get_activation(output, argument="output", allowed=OUTPUT_ACTIVATIONS)
        if self.output.name == "softmax" and self.layer_sizes[-1] < 2:
            raise ValueError("output: softmax needs at least 2 output units, got layer_sizes "
                             f"{self.layer_sizes}; use output='sigmoid' for a single unit")
        self.cost = check_cost_pairing(cost if cost is not None else default_cost_for(self.output.name),
                                       self.output.name)
        self.shapes = [(n_in, n_out) for n_in, n_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:])]
        self.params = np.zeros(self.n_params)
        self.initialize(seed=seed, init=init)

    # -- activations --------------------------------------------------------

    @property
    def hidden(self):
        """The hidden activation: one Activation shared by every hidden layer, or, for a mixed
        stack, a tuple with one Activation per hidden layer (use ``activation(l)`` to read f_l)."""
        return self._hidden

    @property
    def hidden_names(self):
        """[name of f_1, ..., name of f_{L-1}]: one activation name per hidden layer."""
        return [self.activation(l).name for l in range(self.n_layers - 1)]

    @property
    def hidden_argument(self):
        """What ``hidden=`` rebuilds this network: a name when shared, else the list of names."""
        if isinstance(self._hidden, tuple):
            return [f.name for f in self._hidden]
        return self._hidden.name

    def activation(self, l):
        """f_l for weight layer l = 0..L-1 (the last one is the output activation)."""
        if l == self.n_layers - 1:
            return self.output
        return self._hidden[l] if isinstance(self._hidden, tuple) else self._hidden

    # -- parameters ---------------------------------------------------------

    @property
    def n_layers(self):
        """L, the number of weight layers (hidden layers + 1)."""
        return len(self.shapes)

    @property
    def n_params(self):
        """P = sum_l (n_{l-1} n_l + n_l)."""
        return sum(n_in * n_out + n_out for n_in, n_out in self.shapes)

    @property
    def params(self):
        """The flat parameter vector (P,): W_1, b_1, W_2, b_2, ... each row-major."""
        return self._params

    @params.setter
    def params(self, value):
        arr = V.as_real_array(value, "params", ndim=1)
        if hasattr(self, "_params"):
            if arr.shape != self._params.shape:
                raise ValueError(f"params: expected shape {self._params.shape}, got {arr.shape}")
            self._params[...] = arr
            return
        self._params = np.array(arr, dtype=np.float64)
        self._weights, self._biases = self.unflatten(self._params)

    def unflatten(self, vector):
        """Split a flat vector (P,) into per-layer views [W_l (n_in, n_out)], [b_l (n_out,)]."""
        weights, biases, start = [], [], 0
        for n_in, n_out in self.shapes:
            weights.append(vector[start:start + n_in * n_out].reshape(n_in, n_out))
            start += n_in * n_out
            biases.append(vector[start:start + n_out])
            start += n_out
        return weights, biases

    def layout(self):
        """[(name, offset, shape)] for every parameter array: ('W0', 0, (n_0, n_1)), ('b0', ...), ..."""
        out, start = [], 0
        for l, (n_in, n_out) in enumerate(self.shapes):
            out.append((f"W{l}", start, (n_in, n_out)))
            start += n_in * n_out
            out.append((f"b{l}", start, (n_out,)))
            start += n_out
        return out

    def weight_mask(self):
        """1.0 on weight entries, 0.0 on biases (P,): the entries L2 regularisation touches."""
        mask = np.zeros(self.n_params)
        for name, start, shape in self.layout():
            if name.startswith("W"):
                mask[start:start + int(np.prod(shape))] = 1.0
        return mask

    @property
    def weights(self):
        return _LayerViews(self._weights, "weights")

    @property
    def biases(self):
        return _LayerViews(self._biases, "biases")

    def initialize(self, seed=0, init="glorot"):
        """Draw new weights from np.random.default_rng(seed); biases are set to 0."""
        if not isinstance(init, str) or init not in INITS:
            raise ValueError(f"init: unknown initialisation {init!r}; expected one of {INITS}")
        rng = np.random.default_rng(V.as_seed(seed))
        for W, b in zip(self._weights, self._biases):
            n_in, n_out = W.shape
            if init == "glorot":
                r = np.sqrt(6.0 / (n_in + n_out))
                W[...] = rng.uniform(-r, r, size=W.shape)
            elif init == "uniform":
                W[...] = rng.uniform(-0.12, 0.12, size=W.shape)
            else:
                W[...] = rng.standard_normal(size=W.shape)
            b[...] = 0.0
        return self

    def copy(self):
        """An independent network with the same architecture and parameters."""
        other = MLP.__new__(MLP)
        other.layer_sizes = list(self.layer_sizes)
        other._hidden, other.output, other.cost = self._hidden, self.output, self.cost
        other.shapes = list(self.shapes)
        other.params = self._params.copy()
        return other

    # -- forward propagation -------------------------------------------------

    def forward_pass(self, X, check=True, out=None, work=None):
        """zs, acts = forward_pass(X): every pre-activation and activation.

        zs   = [z_1, ..., z_L]          z_l = a_{l-1} @ W_l + b_l   (N, n_l)
        acts = [a_0 = X, a_1, ..., a_L] a_l = f_l(z_l)               (N, n_l)

        One matrix product per layer. Backprop needs both lists.
        out   optional (zs, acts) lists of arrays (N, n_l) that receive z_l and a_l
              (acts[0] is not used: a_0 is X itself); a training workspace passes its own
        work  optional list of scratch arrays (N, n_l), one per layer, for the activations
        """
        a = V.as_inputs(X, self.layer_sizes[0]) if check else X
        zs_out, acts_out = (None, None) if out is None else out
        zs, acts = [], [a]
        for l, (W, b) in enumerate(zip(self._weights, self._biases)):
            z = layer_preactivation(a, W, b, out=None if zs_out is None else zs_out[l])
            a = self.activation(l).f(z, out=None if acts_out is None else acts_out[l + 1],
                                     work=None if work is None else work[l])
            zs.append(z)
            acts.append(a)
        return zs, acts

    def forward(self, X):
        """[X, a_1, ..., a_L]: every layer's activation for the rows of X (N, n_0)."""
        return self.forward_pass(X)[1]

    def predict_proba(self, X):
        """a_L (N, K): the output activations (probabilities for sigmoid/softmax outputs)."""
        return self.forward_pass(X)[1][-1]

    def predict(self, X):
        """Class labels (N,) for classifiers, output values (N, K) for identity outputs.

        K > 1: argmax_k a_L[:, k].  K == 1 with a sigmoid: 1 if a_L >= 0.5 else 0.
        """
        out = self.predict_proba(X)
        return predict_from_output(out, self.output.name)

    def __repr__(self):
        return (f"MLP({self.layer_sizes}, hidden={self.hidden_argument!r}, output={self.output.name!r}, "
                f"cost={self.cost!r})  # {self.n_params} parameters")

    def summary(self):
        """A table of the layers as text: shapes, activations and parameter counts."""
        lines = [repr(self), f"{'layer':<8}{'W shape':<14}{'b shape':<10}{'activation':<12}{'params':>8}"]
        for l, (n_in, n_out) in enumerate(self.shapes):
            lines.append(f"{l:<8}{str((n_in, n_out)):<14}{str((n_out,)):<10}"
                         f"{self.activation(l).name:<12}{n_in * n_out + n_out:>8}")
        return "\n".join(lines)


def layer_preactivation(a_prev, W, b, out=None):
    """z_l = a_{l-1} @ W_l + b_l.   (..., N, n_in) @ (n_in, n_out) + (n_out,) -> (..., N, n_out).

    ``out`` receives z_l instead of a new array."""
    z = rows_matmul(a_prev, W, out=out)
    z += b
    return z


def output_from_preactivation(net, z, layer, unit=None):
    """a_L from a given pre-activation z_l of weight layer ``layer`` (0-based, like net.weights).

        a_l = f_l(z_l);  z_{l+1} = a_l @ W_{l+1} + b_{l+1};  ...;  a_L = f_L(z_L)

    z (..., N, n_l) -> a_L (..., N, n_L); leading axes are folded into the rows
    of each matrix product. Occlusion uses it: a window changes only z_1, so
    the rest of the network runs forward from there.

    unit (N,) ints: return only a_L[..., i, unit_i], shape (..., N). For an
    element-wise output only that unit is computed:
    z_L[i, t] = a_{L-1}[i, :] . W_L[:, t] + b_L[t].
    """
    last = net.n_layers - 1
    one_unit = unit is not None and net.output.elementwise       # softmax needs every z_L
    if one_unit and layer == last:
        return net.output.f(z[..., np.arange(z.shape[-2]), unit])
    a = net.activation(layer).f(z)
    for l in range(layer + 1, last if one_unit else last + 1):
        a = net.activation(l).f(layer_preactivation(a, net.weights[l], net.biases[l]))
    if unit is None:
        return a
    if not one_unit:
        return a[..., np.arange(a.shape[-2]), unit]
    z_t = np.einsum("...im,mi->...i", a, net.weights[last][:, unit])   # a_{L-1} . W_L[:, t]
    z_t += net.biases[last][unit]
    return net.output.f(z_t)


def predict_from_output(out, output_name):
    """Turn output activations (N, K) into predictions (see MLP.predict)."""
    return out if output_name == "identity" else classes_from_output(out)


def classes_from_output(out):
    """A classifier's predicted classes (N,) from its output activations (N, K): the argmax
    for K > 1, a_L >= 0.5 for one unit."""
    if out.shape[1] == 1:
        return (out[:, 0] >= 0.5).astype(np.int64)
    return np.argmax(out, axis=1)


def _check_hidden(hidden, layer_sizes):
    """``hidden`` as one shared Activation, or a tuple of one Activation per hidden layer.

    A name (or Activation) is shared by every hidden layer. A list needs exactly
    len(layer_sizes) - 2 names; a list whose names are all equal is that one name,
    and an empty list (no hidden layer) is the default, sigmoid.
    """
    if isinstance(hidden, (list, tuple)):
        n_hidden = len(layer_sizes) - 2
        if len(hidden) != n_hidden:
            names = "activation name" if n_hidden == 1 else "activation names"
            raise ValueError(f"hidden: expected {n_hidden} {names}, one per hidden layer of layer_sizes "
                             f"{layer_sizes}, got {len(hidden)}: {list(hidden)!r}"[:300])
        acts = tuple(get_activation(h, argument=f"hidden[{i}]", allowed=HIDDEN_ACTIVATIONS)
                     for i, h in enumerate(hidden))
        if len(set(acts)) > 1:
            return acts
        return acts[0] if acts else get_activation("sigmoid")
    return get_activation(hidden, argument="hidden", allowed=HIDDEN_ACTIVATIONS)


def _check_layer_sizes(layer_sizes):
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, (Sequence, np.ndarray)):
        raise TypeError(f"layer_sizes: expected a list of positive integers like [64, 25, 10], "
                        f"got {type(layer_sizes).__name__} {layer_sizes!r}")
    sizes = list(layer_sizes)
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes: expected at least two sizes (input and output), got {sizes}")
    out = []
    for i, n in enumerate(sizes):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"layer_sizes: expected positive integers, got {n!r} at position {i}")
        if n <= 0:
            raise ValueError(f"layer_sizes: expected positive integers, got {n} at position {i}")
        out.append(int(n))
    return out
