"""scikit-learn's MLPClassifier and MLPRegressor, in and out, by their documented attributes.

A fitted estimator holds everything its forward pass needs:

    coefs_[l]        (n_l, n_{l+1})   W_{l+1}, already in handnet's (n_in, n_out) layout
    intercepts_[l]   (n_{l+1},)       b_{l+1}
    activation       the hidden activation: identity, logistic, tanh, relu
    out_activation_  the output activation sklearn chose when fitting:
                     softmax   (multiclass: K >= 3 classes, K outputs)
                     logistic  (binary: ONE output, P(classes_[1]); or multilabel: K outputs)
                     identity  (MLPRegressor)

so the converted network gives net.predict_proba(X) == est.predict_proba(X)
for multiclass and multilabel models; for a binary classifier
est.predict_proba(X) is [1 - p, p] with p = net.predict_proba(X)[:, 0]; for
a regressor est.predict(X) is net.predict_proba(X) (one column per target,
est.predict drops the column axis of a single target). Output unit k stands
for est.classes_[k].

Only these attributes are read, so scikit-learn is not needed to convert, and
any object carrying them converts (a description saved as arrays and JSON, say).
"""

from __future__ import annotations

from .. import _validate as V
from ._chain import Dense, as_float64, build_mlp

__all__ = ["from_sklearn", "to_sklearn_params"]

#: scikit-learn's activation names -> handnet's.
ACTIVATION_NAMES = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
                    "softmax": "softmax"}
#: and back.
SKLEARN_NAMES = {ours: theirs for theirs, ours in ACTIVATION_NAMES.items()}


def from_sklearn(estimator):
    """A handnet MLP computing the same function as a fitted MLPClassifier/MLPRegressor.

    Raises TypeError when ``estimator`` lacks the attributes of a fitted MLP, and
    ValueError for an activation handnet does not have or inconsistent arrays.
    """
    name = type(estimator).__name__
    missing = [a for a in ("coefs_", "intercepts_", "activation", "out_activation_")
               if not hasattr(estimator, a)]
    if missing:
        raise TypeError(f"estimator: expected a fitted scikit-learn MLPClassifier or MLPRegressor (with "
                        f"coefs_, intercepts_, activation, out_activation_), got {name} without "
                        f"{', '.join(missing)}" + (" (call fit first)" if hasattr(estimator, "fit") else ""))
    coefs, intercepts = list(estimator.coefs_), list(estimator.intercepts_)
    if len(coefs) != len(intercepts) or not coefs:
        raise ValueError(f"estimator: {len(coefs)} coefs_ but {len(intercepts)} intercepts_; expected the same "
                         "positive number")
    hidden = _activation(estimator.activation, "activation")
    output = _activation(estimator.out_activation_, "out_activation_")
    steps = []
    for l, (W, b) in enumerate(zip(coefs, intercepts)):
        where = f"layer {l} (coefs_[{l}], intercepts_[{l}])"
        steps.append(Dense(where, as_float64(W, where, "coefs_"), as_float64(b, where, "intercepts_"),
                           output if l == len(coefs) - 1 else hidden))
    return build_mlp(steps, f"the {name}")


def _activation(value, attribute):
    if value not in ACTIVATION_NAMES:
        raise ValueError(f"estimator: {attribute} is {value!r}; handnet converts "
                         f"{', '.join(ACTIVATION_NAMES)}")
    return ACTIVATION_NAMES[value]


def to_sklearn_params(net):
    """The attributes a fitted scikit-learn MLP would hold for ``net`` (copies):

        {"coefs_": [W_1, ...], "intercepts_": [b_1, ...], "activation": ..., "out_activation_": ...,
         "n_layers_": L + 1, "n_outputs_": K}

    Setting them on an MLPClassifier/MLPRegressor (with matching classes_ for a
    classifier) gives an estimator computing the same function. scikit-learn has
    one hidden activation, so a mixed stack raises ValueError.
    """
    V.as_net(net, order="net")
    hidden = set(net.hidden_names) or {net.hidden.name}
    if len(hidden) > 1:
        raise ValueError(f"net: scikit-learn's MLP has one activation for every hidden layer, but this network "
                         f"has {net.hidden_names}")
    return {"coefs_": [W.copy() for W in net.weights], "intercepts_": [b.copy() for b in net.biases],
            "activation": SKLEARN_NAMES[hidden.pop()], "out_activation_": SKLEARN_NAMES[net.output.name],
            "n_layers_": net.n_layers + 1, "n_outputs_": net.layer_sizes[-1]}
