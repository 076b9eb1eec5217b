"""Activation functions with their first and second derivatives.

Every activation knows three things about itself, evaluated element by element
on a pre-activation array ``z`` of shape (N, n):

    f(z)      the activation                                  a = f(z)
    f'(z)     its derivative, used by backprop               da/dz
    f''(z)    its second derivative, used by the input Hessian  d2a/dz2

For the sigmoid and tanh the derivatives are cheapest written in terms of the
activation ``a`` itself (f' = a (1 - a) for the sigmoid), so the derivative
methods accept ``a`` when the caller already has it.

Softmax is not element-wise: its derivative is a Jacobian per row. It is only
offered as an output activation, and backprop reaches it through
``vjp`` (a vector-Jacobian product), which every activation implements:

    vjp(z, a, g) = g @ (da/dz)      = g * f'(z)  for element-wise activations

Numerical stability: the sigmoid is computed from exp(-|z|), which never
overflows, so f(+-1e4) is exactly 1 or 0 with no warning.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "Activation",
    "sigmoid",
    "tanh",
    "relu",
    "identity",
    "softmax",
    "ACTIVATIONS",
    "HIDDEN_ACTIVATIONS",
    "OUTPUT_ACTIVATIONS",
    "get_activation",
    "log_sigmoid",
    "softplus",
    "logsumexp",
]


# ----------------------------------------------------------------------------
# Stable building blocks
# ----------------------------------------------------------------------------

def sigmoid_function(z, out=None, work=None):
    """sigma(z) = 1 / (1 + exp(-z)), computed without overflow.

    For z >= 0 use 1 / (1 + e^{-z}); for z < 0 use e^{z} / (1 + e^{z}).
    Both branches only ever exponentiate -|z| <= 0. With e = exp(-|z|) they
    share the denominator 1 + e, and the numerator, 1 or e, is max(e, [z >= 0])
    (e <= 1), so both are computed at once, without np.where's two branches:

        sigma(z) = max(e, [z >= 0]) / (1 + e),   e = exp(-|z|)

    Tiny values stay correctly rounded: for z < -37, 1 + e rounds to 1 and
    sigma(z) is e^z itself (the smallest subnormal at z = -745).

    out   receives sigma(z) (may be z itself: an in-place sigmoid); new if None
    work  a scratch array of z's shape that holds e and then 1 + e (new if None);
          it must not be z or out. Seven element-wise passes, no other array.

    Shapes: any -> same.
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.abs(z, out=np.empty_like(z) if work is None else work)   # the work array, in place
    np.negative(e, out=e)
    np.exp(e, out=e)                            # e = exp(-|z|) in (0, 1], never overflows
    a = np.greater_equal(z, 0.0, out=np.empty_like(z) if out is None else out)  # [z >= 0] as 1.0/0.0
    np.maximum(a, e, out=a)                     # the numerator: 1 if z >= 0 else e (z's last use)
    e += 1.0
    a /= e
    return a[()] if out is None else a          # a 0-d input gives a scalar, as before


def softplus(z):
    """softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^{-|z|}).  Shapes: any -> same."""
    z = np.asarray(z, dtype=np.float64)
    s = np.log1p(np.exp(-np.abs(z)))
    s += np.maximum(z, 0.0)
    return s


def log_sigmoid(z):
    """log sigma(z) = -softplus(-z), finite for every finite z.  Shapes: any -> same."""
    return -softplus(-np.asarray(z, dtype=np.float64))


def logsumexp(z, axis=-1, keepdims=False):
    """log sum_k exp(z_k) = m + log sum_k exp(z_k - m) with m = max_k z_k.

    Shapes: (N, K) -> (N,) (or (N, 1) with keepdims).
    """
    z = np.asarray(z, dtype=np.float64)
    m = np.max(z, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


# ----------------------------------------------------------------------------
# The Activation type
# ----------------------------------------------------------------------------

class Activation:
    """An element-wise activation f with f' and f''.

    Subclasses implement ``f``, ``df`` and ``d2f``. ``df``/``d2f`` take the
    pre-activation ``z`` and optionally the activation ``a = f(z)`` (to avoid
    recomputing it).

    ``f``, ``df`` and ``vjp`` take ``out=`` (an array that receives the result,
    so a training step can reuse its arrays instead of allocating) and ``work=``
    (a scratch array of z's shape for the activations that need one; a new one
    when None). ``f(z, out=z)`` works in place; ``df(z, a, out=z)`` may overwrite
    z when the caller no longer needs it.
    """

    name: str = "?"
    elementwise: bool = True
    smooth: bool = True          # False when f'' is a distribution (ReLU)
    piecewise_linear: bool = False   # True when f'' = 0 wherever it exists (ReLU, identity)

    def f(self, z, out=None, work=None):
        raise NotImplementedError

    def df(self, z, a=None, out=None):
        raise NotImplementedError

    def d2f(self, z, a=None):
        raise NotImplementedError

    def __call__(self, z):
        return self.f(z)

    def vjp(self, z, a, g, out=None, work=None):
        """Vector-Jacobian product g @ (da/dz) = g * f'(z).

        Shapes: z, a (N, n); g (..., N, n) -> (..., N, n). The leading axes of
        g let one call carry many output units at once (the Jacobian).
        ``out`` (may be g itself) receives the result instead of a new array;
        ``work`` (z's shape, may be z itself) receives f'(z) on the way.
        """
        return np.multiply(g, self.df(z, a, out=work), out=out)

    def __repr__(self):
        return f"<activation {self.name}>"


class Sigmoid(Activation):
    """sigma(z) = 1/(1+e^-z);  sigma' = sigma(1-sigma);  sigma'' = sigma(1-sigma)(1-2 sigma)."""

    name = "sigmoid"

    def f(self, z, out=None, work=None):
        return sigmoid_function(z, out=out, work=work)

    def df(self, z, a=None, out=None):
        a = self.f(z) if a is None else a
        d = np.subtract(1.0, a, out=out)
        d *= a                                   # a (1 - a), one array
        return d

    def d2f(self, z, a=None):
        a = self.f(z) if a is None else a
        return a * (1.0 - a) * (1.0 - 2.0 * a)


class Tanh(Activation):
    """tanh z;  tanh' = 1 - tanh^2;  tanh'' = -2 tanh (1 - tanh^2)."""

    name = "tanh"

    def f(self, z, out=None, work=None):
        return np.tanh(z, out=out)

    def df(self, z, a=None, out=None):
        a = np.tanh(z) if a is None else a
        d = np.multiply(a, a, out=out)
        return np.subtract(1.0, d, out=d)

    def d2f(self, z, a=None):
        a = np.tanh(z) if a is None else a
        return -2.0 * a * (1.0 - a * a)


class ReLU(Activation):
    """max(z, 0);  f' = 1[z > 0] (0 at the kink);  f'' = 0 almost everywhere.

    The second derivative is a Dirac delta at z = 0, which no sample hits
    with probability one; handnet returns the exact almost-everywhere value 0.
    """

    name = "relu"
    smooth = False
    piecewise_linear = True

    def f(self, z, out=None, work=None):
        return np.maximum(z, 0.0, out=out)

    def df(self, z, a=None, out=None):
        z = np.asarray(z, dtype=np.float64)
        return np.greater(z, 0.0, out=np.empty_like(z) if out is None else out)   # 1.0 / 0.0

    def d2f(self, z, a=None):
        return np.zeros_like(np.asarray(z, dtype=np.float64))


class Identity(Activation):
    """f(z) = z;  f' = 1;  f'' = 0."""

    name = "identity"
    piecewise_linear = True

    def f(self, z, out=None, work=None):
        z = np.asarray(z, dtype=np.float64)
        if out is None or out is z:
            return z
        np.copyto(out, z)
        return out

    def df(self, z, a=None, out=None):
        z = np.asarray(z, dtype=np.float64)
        if out is None:
            return np.ones_like(z)
        out.fill(1.0)
        return out

    def d2f(self, z, a=None):
        return np.zeros_like(np.asarray(z, dtype=np.float64))

    def vjp(self, z, a, g, out=None, work=None):
        if out is None or out is g:
            return g
        np.copyto(out, g)
        return out


class Softmax(Activation):
    """softmax(z)_k = exp(z_k - m) / sum_j exp(z_j - m), m = max_j z_j  (row-wise).

    Not element-wise. Its derivatives are tensors per row:

        da_i/dz_j        = a_i (delta_ij - a_j)                          (N, K, K)
        d2a_i/dz_j dz_k  = a_i [(delta_ij - a_j)(delta_ik - a_k)
                                - a_j (delta_jk - a_k)]                  (N, K, K, K)
    """

    name = "softmax"
    elementwise = False

    def f(self, z, out=None, work=None):
        z = np.asarray(z, dtype=np.float64)
        e = np.subtract(z, np.max(z, axis=-1, keepdims=True), out=np.empty_like(z) if out is None else out)
        np.exp(e, out=e)
        e /= np.sum(e, axis=-1, keepdims=True)
        return e[()] if out is None else e

    def df(self, z, a=None, out=None):
        """The Jacobian da/dz per row: (N, K) -> (N, K, K)."""
        a = self.f(z) if a is None else a
        eye = np.eye(a.shape[-1])
        return np.multiply(a[..., :, None], eye - a[..., None, :], out=out)

    def d2f(self, z, a=None):
        """The second-derivative tensor per row: (N, K) -> (N, K, K, K)."""
        a = self.f(z) if a is None else a
        eye = np.eye(a.shape[-1])
        da = eye - a[..., None, :]                        # (N, K, K): delta_ij - a_j
        term1 = da[..., :, :, None] * da[..., :, None, :]  # (delta_ij - a_j)(delta_ik - a_k)
        term2 = a[..., None, :, None] * da[..., None, :, :]  # a_j (delta_jk - a_k)
        return a[..., :, None, None] * (term1 - term2)

    def vjp(self, z, a, g, out=None, work=None):
        """g @ (da/dz) = a * (g - sum_k g_k a_k), row by row.  (..., N, K) -> (..., N, K).

        ``work`` is used only when it has g's shape (it receives g * a)."""
        ga = np.multiply(g, a, out=work if work is not None and work.shape == np.shape(g) else None)
        d = np.subtract(g, np.sum(ga, axis=-1, keepdims=True), out=out)
        return np.multiply(a, d, out=d)


sigmoid = Sigmoid()
tanh = Tanh()
relu = ReLU()
identity = Identity()
softmax = Softmax()

ACTIVATIONS = {act.name: act for act in (sigmoid, tanh, relu, identity, softmax)}
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")
OUTPUT_ACTIVATIONS = ("sigmoid", "softmax", "identity")


def get_activation(name, *, argument="activation", allowed=None):
    """Look an activation up by name (or pass an Activation through).

    Raises ValueError naming ``argument`` when the name is unknown or not in ``allowed``.
    """
    allowed = tuple(ACTIVATIONS) if allowed is None else tuple(allowed)
    if isinstance(name, Activation):
        name = name.name
    if not isinstance(name, str):
        raise TypeError(f"{argument}: expected an activation name, one of {allowed}, "
                        f"got {type(name).__name__} {name!r}")
    if name in ACTIVATIONS and name not in allowed:
        raise ValueError(f"{argument}: {name!r} cannot be used here; expected one of {allowed}"
                         + (" (softmax is an output activation)" if name == "softmax" else ""))
    if name not in allowed:
        raise ValueError(f"{argument}: unknown activation {name!r}; expected one of {allowed}")
    return ACTIVATIONS[name]
