"""hn.from_sklearn / to_sklearn_params: the committed description of four fitted models (runs
without scikit-learn), real scikit-learn models where it is installed, and every refusal."""

import json
import os
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import handnet as hn
from conftest import assert_gradients_close, central_difference

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "interop")


def described_models():
    """{name: (estimator-like object, X, the outputs sklearn computed, its output method)} from the fixtures."""
    with open(os.path.join(FIXTURES, "sklearn_models.json")) as fh:
        description = json.load(fh)
    with np.load(os.path.join(FIXTURES, "sklearn_models.npz"), allow_pickle=False) as archive:
        arrays = dict(archive)
    models = {}
    for name, attrs in description.items():
        L = attrs["n_layers_"] - 1
        est = SimpleNamespace(coefs_=[arrays[f"{name}__coefs_{l}"] for l in range(L)],
                              intercepts_=[arrays[f"{name}__intercepts_{l}"] for l in range(L)],
                              activation=attrs["activation"], out_activation_=attrs["out_activation_"])
        models[name] = (est, arrays["X"], arrays[f"{name}__output"], attrs["output"])
    return models


def sklearn_view(net, output_method):
    """What sklearn's method returns, from handnet's outputs (see handnet.interop.sklearn)."""
    return lambda X: sklearn_columns(net.predict_proba(X), net.output.name, output_method)


def sklearn_columns(out, output_name, output_method):
    if output_method == "predict_proba" and output_name == "sigmoid" and out.shape[1] == 1:
        return np.hstack([1.0 - out, out])             # binary: [P(classes_[0]), P(classes_[1])]
    return out


@pytest.mark.parametrize("name", ["multiclass", "binary", "multilabel", "regressor"])
def test_described_models_give_sklearns_outputs(name):
    est, X, expected, method = described_models()[name]
    net = hn.from_sklearn(est)
    assert net.layer_sizes == [est.coefs_[0].shape[0]] + [W.shape[1] for W in est.coefs_]
    expected_output = {"softmax": "softmax", "logistic": "sigmoid", "identity": "identity"}[est.out_activation_]
    assert net.output.name == expected_output
    # both float64: the same formulas, summed in another order
    np.testing.assert_allclose(sklearn_view(net, method)(X), expected, rtol=1e-12, atol=1e-12)


def test_conversion_copies_the_arrays():
    est, X, expected, _ = described_models()["multiclass"]
    net = hn.from_sklearn(est)
    est.coefs_[0][...] = 0.0
    np.testing.assert_allclose(net.predict_proba(X), expected, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------
# Real scikit-learn
# ----------------------------------------------------------------------------

def fitted(kind, activation, seed=0):
    nn = pytest.importorskip("sklearn.neural_network")
    from sklearn.exceptions import ConvergenceWarning

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, 4))
    targets = {"multiclass": (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int),
               "binary": X[:, 2] > 0,
               "multilabel": np.stack([X[:, 0] > 0, X[:, 3] > 0], axis=1).astype(int),
               "regressor": np.stack([np.sin(X[:, 0]), X[:, 1]], axis=1)}
    cls = nn.MLPRegressor if kind == "regressor" else nn.MLPClassifier
    est = cls(hidden_layer_sizes=(5, 3), activation=activation, max_iter=60, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)      # 60 iterations: a model, not a good one
        est.fit(X, targets[kind])
    return est, rng.normal(size=(7, 4))


@pytest.mark.parametrize("kind", ["multiclass", "binary", "multilabel", "regressor"])
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
def test_real_estimators_convert_exactly(kind, activation):
    est, X = fitted(kind, activation)
    net = hn.from_sklearn(est)
    method = "predict" if kind == "regressor" else "predict_proba"
    theirs = getattr(est, method)(X)
    np.testing.assert_allclose(sklearn_view(net, method)(X), theirs.reshape(len(X), -1), rtol=1e-12, atol=1e-12)
    if kind in ("multiclass", "binary"):              # output unit k stands for est.classes_[k]
        np.testing.assert_array_equal(est.classes_[net.predict(X)], est.predict(X))


@pytest.mark.parametrize("kind, activation", [("multiclass", "tanh"), ("binary", "logistic"),
                                              ("multilabel", "tanh"), ("regressor", "logistic")])
def test_jacobian_equals_central_differences_of_sklearns_outputs(kind, activation):
    est, X = fitted(kind, activation, seed=1)
    net = hn.from_sklearn(est)
    method = "predict" if kind == "regressor" else "predict_proba"
    J = hn.explain.jacobian(net, X)                           # (N, K, D)
    for i in range(len(X)):
        for k in range(net.layer_sizes[-1]):
            column = k + 1 if kind == "binary" else k        # binary: P(classes_[1]) is handnet's unit 0
            f = lambda x, k=column: getattr(est, method)(x[None, :]).reshape(1, -1)[0, k]   # noqa: E731
            assert_gradients_close(J[i, k], central_difference(f, X[i]), rtol=1e-6, atol=1e-9)


def test_to_sklearn_params_sets_up_an_estimator_computing_the_same_function():
    est, X = fitted("regressor", "tanh")
    net = hn.MLP([4, 5, 3, 2], hidden="tanh", output="identity", seed=3)
    net.params = np.random.default_rng(3).normal(size=net.n_params)
    params = hn.to_sklearn_params(net)
    est.coefs_, est.intercepts_ = params["coefs_"], params["intercepts_"]
    np.testing.assert_allclose(est.predict(X), net.predict_proba(X), rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------
# Out, and refusals
# ----------------------------------------------------------------------------

def test_to_sklearn_params_round_trips():
    net = hn.MLP([4, 6, 3], hidden="relu", output="softmax", seed=2)
    params = hn.to_sklearn_params(net)
    assert (params["activation"], params["out_activation_"], params["n_layers_"], params["n_outputs_"]) == \
        ("relu", "softmax", 3, 3)
    back = hn.from_sklearn(SimpleNamespace(**params))
    assert repr(back) == repr(net) and np.array_equal(back.params, net.params)


def test_to_sklearn_params_refuses_a_mixed_stack_and_non_networks():
    with pytest.raises(ValueError, match=r"^net: scikit-learn's MLP has one activation for every hidden layer, "
                                         r"but this network has \['tanh', 'relu'\]$"):
        hn.to_sklearn_params(hn.MLP([3, 4, 4, 2], hidden=["tanh", "relu"]))
    with pytest.raises(TypeError, match=r"^net: expected a handnet MLP, got dict \(the one argument is net\)$"):
        hn.to_sklearn_params({})


def test_an_unfitted_estimator_is_named():
    class MLPClassifier:                       # what an unfitted estimator looks like: no coefs_
        activation = "relu"

        def fit(self, X, y):
            return self

    with pytest.raises(TypeError, match=r"^estimator: expected a fitted scikit-learn MLPClassifier or "
                                        r"MLPRegressor .* got MLPClassifier without coefs_, intercepts_, "
                                        r"out_activation_ \(call fit first\)$"):
        hn.from_sklearn(MLPClassifier())


@pytest.mark.parametrize("attribute, value", [("out_activation_", "exp"), ("activation", "gelu")])
def test_activations_handnet_lacks_are_refused_by_name(attribute, value):
    est = described_models()["multiclass"][0]
    setattr(est, attribute, value)           # exp: MLPRegressor(loss="poisson")
    with pytest.raises(ValueError, match=rf"^estimator: {attribute} is '{value}'; handnet converts identity, "
                                         r"logistic, tanh, relu, softmax$"):
        hn.from_sklearn(est)


def test_inconsistent_arrays_are_refused():
    est = described_models()["multiclass"][0]
    est.intercepts_ = est.intercepts_[:-1]
    with pytest.raises(ValueError, match=r"^estimator: 3 coefs_ but 2 intercepts_"):
        hn.from_sklearn(est)
    est = described_models()["multiclass"][0]
    est.coefs_[1] = est.coefs_[1][:-1]
    with pytest.raises(ValueError, match=r"^layer 1 \(coefs_\[1\], intercepts_\[1\]\) takes 5 inputs but layer 0 "
                                         r"\(coefs_\[0\], intercepts_\[0\]\) gives 6; the layers do not connect$"):
        hn.from_sklearn(est)
    est = described_models()["multiclass"][0]
    est.intercepts_[0][2] = np.nan
    with pytest.raises(ValueError, match=r"^layer 0 .*: its intercepts_ holds NaN or infinite values$"):
        hn.from_sklearn(est)
