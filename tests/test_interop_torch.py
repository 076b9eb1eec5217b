"""hn.from_torch with state_dicts of NumPy arrays: runs without torch (test_interop_torch_real.py has
real modules)."""

import numpy as np
import pytest

import handnet as hn


def numpy_state_dict(sizes, seed=0, bias=True):
    """{"<i>.weight": (out, in), "<i>.bias": (out,)} as an nn.Sequential of Linear layers would name them."""
    rng = np.random.default_rng(seed)
    state = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        state[f"{2 * l}.weight"] = rng.normal(size=(n_out, n_in))
        if bias:
            state[f"{2 * l}.bias"] = rng.normal(size=n_out)
    return state


def reference_forward(state, activations, X):
    """x @ weight.T + bias, then the activation, layer by layer: torch's Linear written out."""
    f = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0),
         "identity": lambda z: z, "softmax": lambda z: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)}
    a = X
    for l, act in enumerate(activations):
        a = f[act](a @ state[f"{2 * l}.weight"].T + state.get(f"{2 * l}.bias", 0.0))
    return a


@pytest.mark.parametrize("activations", [["relu", "tanh", "softmax"], ["sigmoid", "identity", "sigmoid"],
                                         ["tanh", "relu", "identity"]])
def test_a_state_dict_with_activation_names(activations):
    state = numpy_state_dict([5, 6, 4, 3], seed=1)
    net = hn.from_torch(state, activations=activations)
    assert net.hidden_names == activations[:-1] and net.output.name == activations[-1]
    X = np.random.default_rng(2).normal(size=(8, 5))
    np.testing.assert_allclose(net.predict_proba(X), reference_forward(state, activations, X), rtol=1e-12,
                               atol=1e-14)


def test_a_state_dict_without_biases_has_exact_zero_biases():
    state = numpy_state_dict([3, 4, 2], bias=False)
    net = hn.from_torch(state, activations=["tanh", "sigmoid"])
    assert np.all(net.biases[0] == 0) and np.all(net.biases[1] == 0)
    np.testing.assert_array_equal(net.weights[0], state["0.weight"].T)


@pytest.mark.parametrize("state, activations, message", [
    ({"0.weight": np.ones((2, 3)), "1.running_mean": np.ones(2)}, ["relu"],
     r"^state_dict: entry '1\.running_mean' is neither a Linear weight nor a bias"),
    (numpy_state_dict([3, 4, 2]), ["relu"], r"^activations: expected a list of 2 activation names, one per Linear "
                                            r"layer \(0, 2\), got \['relu'\]$"),
    (numpy_state_dict([3, 4, 2]), None, r"^activations: expected a list of 2 activation names"),
    (numpy_state_dict([3, 4, 2]), ["relu", "logsoftmax"], r"^activations: 'logsoftmax' for layer '2' of the "
                                                          r"state_dict is not supported; expected one of"),
    (numpy_state_dict([3, 4, 2]), ["softmax", "sigmoid"], r"^layer '0' of the state_dict: the activation "
                                                          r"'softmax' is only possible on the output layer"),
    ({"0.bias": np.ones(2)}, ["relu"], r"^layer '0' of the state_dict has a bias but no weight$"),
    ({"0.weight": np.ones((2, 3)), "2.weight": np.ones((2, 3))}, ["relu", "relu"],
     r"^layer '2' of the state_dict takes 3 inputs but layer '0' of the state_dict gives 2; the layers do not "
     r"connect$"),
])
def test_bad_state_dicts_are_named(state, activations, message):
    with pytest.raises(ValueError, match=message):
        hn.from_torch(state, activations=activations)


def test_what_is_not_a_module_is_a_type_error():
    with pytest.raises(TypeError, match=r"^module: expected a torch nn.Sequential or a state_dict, got int$"):
        hn.from_torch(3)
