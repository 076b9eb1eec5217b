"""Shared helpers for the tests: an independent central difference, random networks, the CLI, and
the interop tests' rounding bound and hand-written Keras files."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import handnet as hn

settings.register_profile("handnet", deadline=None, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("handnet")

#: (hidden, output, cost) combinations handnet supports.
HIDDEN = ("sigmoid", "tanh", "relu", "identity")
#: hidden= for a hypothesis test: one name for every hidden layer, or a mixed stack of names
#: (drawn for the deepest network; random_net and random_problem cut it to the network's depth).
HIDDEN_STACKS = st.one_of(st.sampled_from(HIDDEN), st.lists(st.sampled_from(HIDDEN), min_size=4, max_size=4))
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


def stack_for(hidden, layer_sizes):
    """hidden= for layer_sizes: a name as it is, a list cut to one name per hidden layer."""
    return hidden if isinstance(hidden, str) else list(hidden)[:len(layer_sizes) - 2]


def random_problem(layer_sizes, hidden, output, cost, n_rows, seed):
    """A network with random weights AND biases (so ReLU units are not sitting on their kink),
    random inputs and targets that suit the output."""
    rng = np.random.default_rng(seed)
    net = hn.MLP(layer_sizes, hidden=stack_for(hidden, layer_sizes), output=output, cost=cost, seed=seed)
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
    net = hn.MLP(sizes, hidden=stack_for(hidden, sizes), output=output, seed=seed)
    net.params = rng.normal(scale=scale, size=net.n_params)
    return net


def away_from_kinks(net, X, margin=1e-3):
    """True when no ReLU pre-activation is within ``margin`` of 0 (finite differences are valid)."""
    zs, _ = net.forward_pass(X)
    return all(np.min(np.abs(zs[l])) > margin for l in range(net.n_layers - 1)
               if net.activation(l).name == "relu")


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


#: Lipschitz constants |f'| <= c of the element-wise activations, and the rounding a float
#: implementation of f adds on its own, in units of u (absolute: |a| <= 1 for sigmoid and tanh,
#: whether computed from exp or from tanh; ReLU and the identity are exact).
_LIPSCHITZ = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0, "identity": 1.0}
_OWN_ROUNDING = {"sigmoid": 4.0, "tanh": 4.0, "relu": 0.0, "identity": 0.0}


def forward_rounding_bound(net, X, u):
    """A bound (N, K) on |a_L computed in floating point with unit roundoff u - a_L exact|,
    for another framework's forward pass of the same weights (u = 2**-24 for float32).

    Standard running error analysis, carried layer by layer (Higham, Accuracy and Stability of
    Numerical Algorithms, ch. 3): a dot product of length n in any summation order errs by at
    most gamma_n |a| . |w|, gamma_n = n u / (1 - n u), so with e the error of a_{l-1}

        e_z = e @ |W_l| + gamma_{n_{l-1} + 1} (|a_{l-1}| @ |W_l| + |b_l|)
        e_a = Lip(f) e_z + own_f u                                      (element-wise f)
        e_a = a * (e_z + max_k e_z) + a u ((K + 3) + 2 max|z|)          (softmax: exp of z - max,
                                                                          a sum of K, a division)
    X is taken as exactly representable (the fixtures store float32 inputs).
    """
    zs, acts = net.forward_pass(np.asarray(X, dtype=np.float64))
    e = np.zeros_like(acts[0])
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        n = W.shape[0] + 1
        gamma = n * u / (1 - n * u)
        e_z = e @ np.abs(W) + gamma * (np.abs(acts[l]) @ np.abs(W) + np.abs(b))
        f, a, z = net.activation(l).name, acts[l + 1], zs[l]
        if f == "softmax":
            K = z.shape[1]
            e = a * (e_z + e_z.max(axis=1, keepdims=True)) + a * u * ((K + 3) + 2 * np.abs(z).max(axis=1,
                                                                                                  keepdims=True))
        else:
            e = _LIPSCHITZ[f] * e_z + _OWN_ROUNDING[f] * u
    return e


def assert_outputs_within(ours, theirs, bound):
    """|ours - theirs| <= bound entry by entry, with the worst entry in the message."""
    diff = np.abs(np.asarray(ours) - np.asarray(theirs))
    assert diff.shape == np.shape(bound)
    excess = diff - bound
    worst = np.unravel_index(int(np.argmax(excess)), diff.shape)
    assert excess[worst] <= 0, f"entry {worst}: |difference| {diff[worst]:.3e} > bound {bound[worst]:.3e}"


def keras_dense(name, units, activation="linear", use_bias=True):
    """The config of a Keras Dense layer, as model_config holds it."""
    return {"class_name": "Dense", "config": {"name": name, "units": units, "activation": activation,
                                              "use_bias": use_bias}}


def write_legacy_h5(path, layers, weights, kind="Sequential", extra=None):
    """A legacy .h5 model as Keras writes it: model_config JSON plus model_weights/<layer>/ with weight_names."""
    import h5py

    with h5py.File(path, "w") as f:
        config = {"name": "model", "layers": layers, **(extra or {})}
        f.attrs["model_config"] = json.dumps({"class_name": kind, "config": config})
        group = f.create_group("model_weights")
        for layer_name, arrays in weights.items():
            g = group.create_group(layer_name)
            names = [f"{layer_name}/{kind_}" for kind_ in ("kernel", "bias")[:len(arrays)]]
            g.attrs["weight_names"] = np.array(names, dtype=object)
            for n, arr in zip(names, arrays):
                g[n] = arr
    return path
