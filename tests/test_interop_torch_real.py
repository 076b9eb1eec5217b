"""hn.from_torch / hn.to_torch with real torch modules (skipped without torch): outputs to float32
rounding and to 1e-12 in float64, the Jacobian against torch.func.jacrev to 1e-10, every refusal."""

import numpy as np
import pytest

import handnet as hn
from conftest import assert_within, forward_bound

torch = pytest.importorskip("torch")
nn = torch.nn


def every_supported_module():
    """Linear (with and without bias), every activation, Dropout, a nested Sequential, Softmax(dim=1)."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(6, 7), nn.ReLU(), nn.Dropout(0.2),
        nn.Sequential(nn.Linear(7, 5), nn.Sigmoid(), nn.Sequential(nn.Linear(5, 5, bias=False), nn.Tanh())),
        nn.Linear(5, 4), nn.Identity(), nn.Linear(4, 3), nn.Softmax(dim=1))
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.8)            # nonzero biases: ReLU units away from their kinks
    return model.eval()


def test_every_supported_module_converts_to_float32_rounding():
    model = every_supported_module()
    net = hn.from_torch(model)
    assert net.hidden_names == ["relu", "sigmoid", "tanh", "identity"] and net.output.name == "softmax"
    X = np.random.default_rng(3).normal(size=(20, 6)).astype(np.float32)
    with torch.no_grad():
        theirs = model(torch.from_numpy(X)).numpy()
    float32_rounding = forward_bound(net, np.abs(X), u=2.0**-24)[:, None]   # (N, 1)
    assert_within(net.predict_proba(X), theirs, float32_rounding, "output")


def test_a_float64_module_gives_the_same_outputs_and_jacobian():
    model = every_supported_module().double()
    net = hn.from_torch(model)
    X = np.random.default_rng(4).normal(size=(10, 6))
    x = torch.from_numpy(X)
    with torch.no_grad():
        np.testing.assert_allclose(net.predict_proba(X), model(x).numpy(), rtol=1e-12, atol=1e-12)
    # d model(x_i) / d x_i for every row: jacrev of one row, vmapped over the rows -> (N, K, D)
    J_torch = torch.func.vmap(torch.func.jacrev(lambda row: model(row[None])[0]))(x).detach().numpy()
    np.testing.assert_allclose(hn.explain.jacobian(net, X), J_torch, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_weights_are_copied_exactly(dtype):
    model = every_supported_module().to(getattr(torch, dtype))
    net = hn.from_torch(model)
    np.testing.assert_array_equal(net.weights[0], model[0].weight.detach().double().numpy().T)
    np.testing.assert_array_equal(net.biases[-1], model[6].bias.detach().double().numpy())


def test_a_modules_state_dict_converts_like_the_module():
    model = every_supported_module()
    state = model.state_dict()
    net = hn.from_torch(state, activations=["relu", "sigmoid", "tanh", "identity", "softmax"])
    assert np.array_equal(net.params, hn.from_torch(model).params)


def test_to_torch_and_back():
    net = hn.MLP([5, 6, 4, 3], hidden=["tanh", "relu"], output="softmax", seed=5)
    net.params = np.random.default_rng(5).normal(size=net.n_params)
    model = hn.to_torch(net)
    X = np.random.default_rng(6).normal(size=(7, 5))
    with torch.no_grad():
        np.testing.assert_allclose(model(torch.from_numpy(X)).numpy(), net.predict_proba(X), rtol=1e-12,
                                   atol=1e-12)
    back = hn.from_torch(model)
    assert repr(back) == repr(net) and np.array_equal(back.params, net.params)
    x = torch.from_numpy(X)
    J_torch = torch.func.vmap(torch.func.jacrev(lambda row: model(row[None])[0]))(x).detach().numpy()
    np.testing.assert_allclose(hn.explain.jacobian(net, X), J_torch, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("module, message", [
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.LogSoftmax(dim=1)),
     r"^module '3' \(LogSoftmax\): LogSoftmax gives log-probabilities, which no handnet output layer computes; "
     r"replace it by Softmax\(dim=-1\)"),
    (lambda: nn.Sequential(nn.Conv1d(1, 2, 3), nn.ReLU()),
     r"^module '0' \(Conv1d\) is not supported: handnet converts nn.Sequential \(nested ones flattened\) of Linear, "
     r"Sigmoid, Tanh, ReLU, Identity, Softmax \(dim=-1 or 1\) and Dropout modules"),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.BatchNorm1d(4)), nn.Linear(4, 2)),
     r"^module '1\.0' \(BatchNorm1d\) is not supported"),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.Linear(4, 2)), r"^module '1' \(GELU\) is not supported"),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.Softmax(dim=0)),
     r"^module '1' \(Softmax\): got Softmax\(dim=0\); handnet converts only a softmax over the features"),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.Softmax()), r"^module '1' \(Softmax\): got Softmax\(dim=None\)"),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Tanh(), nn.Linear(4, 2)),
     r"^module '2' \(Tanh\): a second activation \(tanh\) right after relu in module '0' \(Linear\)"),
    (lambda: nn.Sequential(nn.ReLU(), nn.Linear(3, 4)), r"^module '0' \(ReLU\) comes before any Dense/Linear layer"),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU()), r"^module '0' \(Linear\): the output layer's activation "
                                                        r"'relu' is not one handnet's output layer has"),
    (lambda: nn.Sequential(nn.Linear(3, 1), nn.Softmax(dim=-1)), r"^module '0' \(Linear\): output: softmax needs "
                                                                 r"at least 2 output units"),
    (lambda: nn.Linear(3, 4), r"^the module Linear is not supported"),
    (lambda: nn.Sequential(), r"^the torch Sequential has no Dense/Linear layer to convert$"),
])
def test_unsupported_modules_are_refused_by_name(module, message):
    with pytest.raises(ValueError, match=message):
        hn.from_torch(module())


def test_a_sequential_with_activations_is_a_value_error():
    with pytest.raises(ValueError, match=r"^activations: only used with a state_dict"):
        hn.from_torch(nn.Sequential(nn.Linear(2, 2)), activations=["relu"])
