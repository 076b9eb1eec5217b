"""Shared helpers for the tests: an independent central difference and random networks."""

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import handnet as hn

settings.register_profile("handnet", deadline=None, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("handnet")

#: (hidden, output, cost) combinations handnet supports.
HIDDEN = ("sigmoid", "tanh", "relu", "identity")
OUTPUT_COSTS = (("sigmoid", "cross_entropy"), ("sigmoid", "quadratic"),
                ("softmax", "softmax_cross_entropy"), ("softmax", "quadratic"),
                ("identity", "quadratic"))


def central_difference(f, theta, h=1e-5):
    """Independent of handnet.gradcheck on purpose: g_i = (f(t + h e_i) - f(t - h e_i)) / 2h."""
    theta = np.array(theta, dtype=np.float64)
    flat = theta.ravel()
    g = np.empty(theta.size)
    for i in range(theta.size):
        e = np.zeros(theta.size)
        e[i] = h
        g[i] = (f((flat + e).reshape(theta.shape)) - f((flat - e).reshape(theta.shape))) / (2 * h)
    return g.reshape(theta.shape)


def assert_gradients_close(analytic, numerical, rtol=1e-6, atol=1e-9):
    """|a - n| <= rtol * |n| + atol for every entry, with the worst entry in the message."""
    analytic = np.asarray(analytic).ravel()
    numerical = np.asarray(numerical).ravel()
    err = np.abs(analytic - numerical) - (rtol * np.abs(numerical) + atol)
    worst = int(np.argmax(err))
    assert err[worst] <= 0, (f"entry {worst}: analytic {analytic[worst]:.10e}, numerical "
                             f"{numerical[worst]:.10e}")


# ----------------------------------------------------------------------------
# Tolerances from the rounding of the computation
#
# Two float64 computations of one quantity that differ only in the order of
# their operations (a batched product against a single one, a chunk against
# the whole, a closed form against the code) differ by rounding alone. The
# standard bounds (Higham, Accuracy and Stability of Numerical Algorithms,
# 2nd ed., section 3.1 and 3.5) give the tolerance instead of a typed number:
#   one operation          |fl(x op y) - x op y| <= u |x op y|,  u = eps / 2
#   a sum of n products    |fl(x . y) - x . y|   <= gamma_n |x| . |y|,  gamma_n = n u / (1 - n u)
#   a matrix product chain |fl(A_1 ... A_k) - A_1 ... A_k| <= gamma_n |A_1| ... |A_k|
#                          entry-wise, n = the sum of the inner dimensions (first order in u)
# and two computations are at most twice the bound apart.
# ----------------------------------------------------------------------------

EPS = np.finfo(np.float64).eps
U = EPS / 2


def gamma(n):
    """gamma_n = n u / (1 - n u): the relative rounding bound of n successive operations."""
    return n * U / (1 - n * U)


def ops_rtol(n_ops):
    """The relative tolerance between two computations of a value that each take at most
    ``n_ops`` roundings, each of at most u relative, with no cancellation: 2 gamma_n."""
    return 2 * gamma(n_ops)


def product_bound(*factors):
    """2 gamma_n |A_1| |A_2| ... |A_k| entry-wise: how far two computations of the product
    A_1 @ ... @ A_k (any order, blocking or batching) may differ."""
    factors = [np.abs(np.asarray(A, dtype=np.float64)) for A in factors]
    n = sum(A.shape[-1] for A in factors[:-1]) if len(factors) > 1 else 1
    out = factors[0]
    for A in factors[1:]:
        out = out @ A
    return 2 * gamma(n) * out


def backward_bounds(net, X, start):
    """How far two computations of the backward recursion from the starting deltas ``start``
    (..., N, n_L) may differ: 2 gamma_n times the recursion run on absolute values,
        |delta_l| <- (|delta_{l+1}| |W_{l+1}|.T) |f_l'(z_l)|,   |dx| <- |delta_1| |W_1|.T,
    n = the sum of the layer sizes plus one rounding per multiplication by f'.
    Returns (bounds of [delta_1, ..., delta_L], bound of dx)."""
    zs, _ = net.forward_pass(X)
    B = [None] * net.n_layers
    B[-1] = np.abs(start)
    for l in range(net.n_layers - 2, -1, -1):
        B[l] = (B[l + 1] @ np.abs(net.weights[l + 1]).T) * np.abs(net.activation(l).df(zs[l]))
    dx = B[0] @ np.abs(net.weights[0]).T
    c = 2 * gamma(sum(net.layer_sizes) + 2 * net.n_layers)
    return [c * b for b in B], c * dx


def jacobian_bound(net, X):
    """(N, K, D): backward_bounds of dy/dx for every output unit, started from |da_L/dz_L|."""
    zs, _ = net.forward_pass(X)
    K = net.layer_sizes[-1]
    df = np.abs(net.output.df(zs[-1]))
    start = df if df.ndim == 3 else df[:, :, None] * np.eye(K)[None]    # (N, K, K): row k for unit k
    return np.swapaxes(backward_bounds(net, X, np.swapaxes(start, 0, 1))[1], 0, 1)


def forward_bound(net, X_abs):
    """(N,): how far two computations of any output a_L[i, k] may differ, for inputs whose
    absolute values are at most X_abs (N, D) (x, or an occluded x with its baseline). Forward
    error analysis, first order in u: with e the error carried into a layer,
        err(z_l) <= gamma_{n+3} (|a_{l-1}| |W_l| + |b_l|) + e colsum(|W_l|)
        err(a_l) <= max_k err(z_l)_k + 4 u |a_l|        (every f' is at most 1 in size; softmax's
                                                        row of da/dz sums to at most 1/2)
    (n + 3: a sum of n products, the bias, and a subtraction of an occluded part), doubled."""
    A, e = np.abs(np.asarray(X_abs, dtype=np.float64)), np.zeros(len(X_abs))
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        absW = np.abs(W)
        Z = A @ absW + np.abs(b)                              # |z_l| is at most this
        ez = gamma(W.shape[0] + 3) * Z + e[:, None] * absW.sum(axis=0)
        # |a_l|: at most 1 for sigmoid, softmax and tanh; at most |z_l| for relu and identity
        A = np.minimum(Z, 1.0) if net.activation(l).name in ("sigmoid", "softmax", "tanh") else Z
        e = ez.max(axis=1) + 4 * U * A.max(axis=1)
    return 2 * e


def hessian_bound(net, x, t):
    """(D, D): how far two computations of d2y_t/dx2 at one input x (D,) may differ: 2 gamma_n
    times the sum over layers of the curvature terms built from absolute values,
        A_l.T diag(|dy_t/da_l| |f_l''(z_l)|) A_l      A_l = |dz_l/dx| as a chain of |W| and |f'|
    (for the output layer |d2 a_L[t] / dz_L^2| in the middle), n = twice the layer sizes' sum
    plus the roundings of the element-wise factors."""
    zs, _ = net.forward_pass(x[None, :])
    zs = [z[0] for z in zs]
    L = net.n_layers
    A = [np.abs(net.weights[0]).T]                                     # |dz_1/dx| (n_1, D)
    for l in range(1, L):
        A.append(np.abs(net.weights[l]).T @ (np.abs(net.activation(l - 1).df(zs[l - 1]))[:, None] * A[-1]))
    df_L = np.abs(net.output.df(zs[-1]))
    g = df_L[t] if df_L.ndim == 2 else np.eye(len(zs[-1]))[t] * df_L     # |dy_t/dz_L|
    d2 = np.abs(net.output.d2f(zs[-1]))
    Q = d2[t] if d2.ndim == 3 else np.diag(np.eye(len(zs[-1]))[t] * d2)
    H = A[-1].T @ Q @ A[-1]
    for l in range(L - 2, -1, -1):
        dy_da = np.abs(net.weights[l + 1]) @ g                        # |dy_t/da_l| (n_l,)
        f = net.activation(l)
        H += A[l].T @ ((dy_da * np.abs(f.d2f(zs[l])))[:, None] * A[l])
        g = dy_da * np.abs(f.df(zs[l]))
    n = 2 * sum(net.layer_sizes) + 4 * L
    return 2 * gamma(n) * H


def assert_within(actual, expected, bound, what="entry"):
    """|actual - expected| <= bound entry-wise (bound broadcasts), the worst entry in the message."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    excess = np.abs(actual - expected) - np.broadcast_to(bound, np.broadcast_shapes(actual.shape, expected.shape))
    worst = np.unravel_index(int(np.argmax(excess)), excess.shape) if excess.ndim else ()
    assert excess[worst] <= 0, (f"{what} {worst}: {np.broadcast_to(actual, excess.shape)[worst]!r} vs "
                                f"{np.broadcast_to(expected, excess.shape)[worst]!r}, beyond the rounding bound "
                                f"{np.broadcast_to(bound, excess.shape)[worst]:.3g}")


def random_problem(layer_sizes, hidden, output, cost, n_rows, seed):
    """A network with random weights AND biases (so ReLU units are not sitting on their kink),
    random inputs and targets that suit the output."""
    rng = np.random.default_rng(seed)
    net = hn.MLP(layer_sizes, hidden=hidden, output=output, cost=cost, seed=seed)
    net.params = rng.normal(scale=0.8, size=net.n_params)
    X = rng.normal(size=(n_rows, layer_sizes[0]))
    K = layer_sizes[-1]
    if output == "identity":
        Y = rng.normal(size=(n_rows, K))
    elif output == "softmax":
        Y = rng.integers(0, K, size=n_rows)
    else:
        Y = rng.uniform(size=(n_rows, K))      # soft targets in [0, 1] exercise the general formula
    return net, X, Y


def random_net(sizes, hidden="sigmoid", output="sigmoid", seed=0, scale=0.8):
    """A network whose weights AND biases are drawn from N(0, scale^2), seeded."""
    rng = np.random.default_rng(seed)
    net = hn.MLP(sizes, hidden=hidden, output=output, seed=seed)
    net.params = rng.normal(scale=scale, size=net.n_params)
    return net


def away_from_kinks(net, X, margin=1e-3):
    """True when no ReLU pre-activation is within ``margin`` of 0 (finite differences are valid)."""
    if net.hidden.name != "relu":
        return True
    zs, _ = net.forward_pass(X)
    return all(np.min(np.abs(z)) > margin for z in zs[:-1])


def run_cli(capsys, *argv):
    """handnet.cli.main(argv) -> (exit status, stdout, stderr); arguments may be paths or numbers."""
    from handnet import cli

    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status, out, err, *fragments):
    """A usage error: exit status 2 and one line 'handnet: error: ...' naming every fragment."""
    assert status == 2
    assert err.startswith("handnet: error: ") and err.endswith("\n")
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


@pytest.fixture(scope="session")
def digits():
    return hn.datasets.load_digits()
