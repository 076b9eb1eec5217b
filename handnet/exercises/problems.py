"""The inputs the checks run on: the course's debug network (public run) and seeded variants.

Public run (seed None): Andrew Ng's ex4 checks backprop on a small "debug"
network whose numbers come from sin, so everybody gets the same ones:

    debugInitializeWeights(fan_out, fan_in): a matrix (fan_out, 1 + fan_in) filled
        column by column with sin(1), sin(2), ..., divided by 10; column 0 is the bias
    checkNNGradients: a 3-5-3 network, m = 5, X = debugInitializeWeights(m, 3 - 1)
        (shape (5, 3)), y = 1 + mod(1..m, 3) and lambda = 3 for the regularised check

handnet's layout is z = a @ W + b with W (n_in, n_out), so Theta (n_out, 1 + n_in)
becomes W = Theta[:, 1:].T and b = Theta[:, 0]; handnet's labels are 0..K-1,
so the course's y = 1 + mod(1..m, K) becomes y = mod(1..m, K).

Hidden runs (an int seed): shapes and values drawn from
np.random.default_rng(seed): D in 2..6 inputs, hidden layers of 3..7 units,
K in 2..5 classes, m in 3..9 rows; the same seed gives the same problem.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

__all__ = [
    "Problem",
    "debug_weights",
    "layer_from_theta",
    "debug_problem",
    "random_problem",
    "problem_for",
    "PUBLIC_LAMBDA",
    "explain_problem",
]

#: The lambda of the course's regularised gradient check (checkNNGradients(3)).
PUBLIC_LAMBDA = 3.0


@dataclass(frozen=True)
class Problem:
    """A sigmoid network and its data: what a cost or gradient check feeds the student's code.

    weights  tuple of W_l (n_in, n_out); biases: tuple of b_l (n_out,)
    X        (m, D) inputs; y: (m,) integer labels 0..K-1; lam: lambda >= 0
    description  how the problem is named in messages, e.g. "the course's 3-5-3 debug network, m = 5"
    """

    weights: tuple
    biases: tuple
    X: np.ndarray
    y: np.ndarray
    lam: float
    description: str

    @property
    def layer_sizes(self):
        return [self.weights[0].shape[0]] + [W.shape[1] for W in self.weights]

    @property
    def m(self):
        return self.X.shape[0]

    @property
    def K(self):
        return self.weights[-1].shape[1]

    def with_lam(self, lam):
        """The same network and data with another lambda."""
        return replace(self, lam=float(lam))

    def where(self):
        """'the course's 3-5-3 debug network, m = 5, lambda = 3' for messages."""
        return f"{self.description}, lambda = {self.lam:g}"

    def net(self, weights=None, biases=None):
        """A handnet MLP with these weights and biases (or others of the same shapes)."""
        from ..network import MLP

        net = MLP(self.layer_sizes)
        for l, (W, b) in enumerate(zip(self.weights if weights is None else weights,
                                       self.biases if biases is None else biases)):
            net.weights[l], net.biases[l] = W, b
        return net

    def student_args(self):
        """Fresh copies (weights list, biases list, X, y) so a student's code cannot change ours."""
        return ([W.copy() for W in self.weights], [b.copy() for b in self.biases],
                self.X.copy(), self.y.copy())


def debug_weights(fan_out, fan_in):
    """The course's debugInitializeWeights: sin(1..n) / 10 filled column-major into (fan_out, 1 + fan_in)."""
    n = fan_out * (1 + fan_in)
    return (np.sin(np.arange(1, n + 1)) / 10.0).reshape((fan_out, 1 + fan_in), order="F")


def layer_from_theta(Theta):
    """The course's Theta (n_out, 1 + n_in), bias in column 0  ->  handnet's W (n_in, n_out), b (n_out,)."""
    return np.ascontiguousarray(Theta[:, 1:].T), Theta[:, 0].copy()


def debug_problem(layer_sizes=(3, 5, 3), m=5, lam=0.0, scale=1.0):
    """The course's checkNNGradients set-up in handnet's layout (any layer sizes, default 3-5-3).

    scale multiplies the weights, biases and X (the explanation exercises use 10, i.e. sin(1..n)
    without the division by 10, so that the outputs react visibly to the inputs).
    """
    layers = [layer_from_theta(scale * debug_weights(n_out, n_in))
              for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:])]
    D, K = layer_sizes[0], layer_sizes[-1]
    X = scale * debug_weights(m, D - 1)                 # (m, D), built like the weights
    y = np.arange(1, m + 1) % K                         # the course's 1 + mod(1..m, K), 0-based
    sizes = "-".join(str(n) for n in layer_sizes)
    what = "the course's" if scale == 1 else f"a sin-based (the course's debug weights x {scale:g})"
    return Problem(tuple(W for W, _ in layers), tuple(b for _, b in layers), X, y, float(lam),
                   f"{what} {sizes} debug network, m = {m}")


def random_problem(rng, n_hidden=1, lam=0.0, inputs=(2, 6)):
    """A random sigmoid network with ``n_hidden`` hidden layers and random data, drawn from ``rng``.

    D in inputs[0]..inputs[1] (default 2..6), hidden sizes in 3..7, K in 2..5, m in 3..9;
    weights N(0, 0.8^2), biases N(0, 0.5^2), X N(0, 1), labels uniform in 0..K-1.
    """
    sizes = [int(rng.integers(inputs[0], inputs[1] + 1))] \
        + [int(rng.integers(3, 8)) for _ in range(n_hidden)] + [int(rng.integers(2, 6))]
    m = int(rng.integers(3, 10))
    weights = tuple(rng.normal(scale=0.8, size=(n_in, n_out)) for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    biases = tuple(rng.normal(scale=0.5, size=n_out) for n_out in sizes[1:])
    X = rng.normal(size=(m, sizes[0]))
    y = rng.integers(0, sizes[-1], size=m)
    return Problem(weights, biases, X, y, float(lam),
                   f"a random {'-'.join(map(str, sizes))} network, m = {m}")


def problem_for(seed, regularised=False, layer_sizes=(3, 5, 3), n_hidden=1):
    """The public problem (seed None: the debug network of ``layer_sizes``) or a seeded variant.

    regularised  False: lambda = 0; True: the course's lambda = 3 (public) or a
                 seeded value in 0.5..4. The same seed gives the same network either way.
    n_hidden     the number of hidden layers of a seeded variant.
    """
    if seed is None:
        return debug_problem(layer_sizes, lam=PUBLIC_LAMBDA if regularised else 0.0)
    rng = np.random.default_rng(seed)
    lam = float(np.round(rng.uniform(0.5, 4.0), 2))
    return random_problem(rng, n_hidden=n_hidden, lam=lam if regularised else 0.0)


def explain_problem(seed, layer_sizes, n_hidden, inputs=(2, 6)):
    """The problem of the explanation exercises: the sin-based debug network of ``layer_sizes`` with
    weights x 10 (seed None), or a random network with ``n_hidden`` hidden layers drawn from ``seed``."""
    if seed is None:
        return debug_problem(layer_sizes, m=5, scale=10.0)
    return random_problem(np.random.default_rng(seed), n_hidden=n_hidden, inputs=inputs)
