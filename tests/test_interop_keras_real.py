"""hn.from_keras against a real Keras 3 (skipped without it; run with KERAS_BACKEND=jax): live models,
the files they save, float32 and float64 outputs, the Jacobian against jax.jacrev, and refusals."""

import os
import warnings

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_ENABLE_X64", "1")          # Keras float64 layers stay float64 under JAX

import handnet as hn  # noqa: E402
from conftest import assert_within, forward_bound  # noqa: E402

keras = pytest.importorskip("keras")
pytest.importorskip("h5py")
layers = keras.layers
# Keras 3.15's Variable.numpy() trips a NumPy 2 deprecation inside Keras; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


def randomise(model, seed):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if layer.get_weights():
            layer.set_weights([rng.normal(scale=0.8, size=w.shape).astype(w.dtype) for w in layer.get_weights()])
    return model


def save_both(model, folder):
    model.save(folder / "m.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                 # Keras calls .h5 "legacy", which it is
        model.save(folder / "m.h5")
    return folder / "m.keras", folder / "m.h5"


def models():
    seq = keras.Sequential([keras.Input((5,)), layers.Dense(6, activation="sigmoid"), layers.Dropout(0.5),
                            layers.Dense(4, activation="relu"), layers.Dense(4), layers.Activation("tanh"),
                            layers.Dense(3), layers.Activation("linear"), layers.Activation("softmax")])
    x = keras.Input((5,))
    y = layers.Dense(1, activation="sigmoid")(layers.Dense(3, activation="tanh", use_bias=False)(x))
    return {"sequential": seq, "functional": keras.Model(x, y)}


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_live_models_and_their_files_convert_to_float32_rounding(tmp_path, kind):
    model = randomise(models()[kind], seed=1)
    X = np.random.default_rng(2).normal(size=(12, 5)).astype(np.float32)
    theirs = np.asarray(model(X))
    nets = [hn.from_keras(model)] + [hn.from_keras(path) for path in save_both(model, tmp_path)]
    for net in nets:
        assert np.array_equal(net.params, nets[0].params)
        float32_rounding = forward_bound(net, np.abs(X), u=2.0**-24)[:, None]   # (N, 1)
        assert_within(net.predict_proba(X), theirs, float32_rounding, "output")


def test_a_float64_model_gives_the_same_outputs_and_jacobian(tmp_path):
    import jax

    x = keras.Input((4,), dtype="float64")
    # sigmoid and relu: Keras 3.15's tanh activation returns float32 even in a float64 layer (under JAX)
    h = layers.Dense(5, activation="sigmoid", dtype="float64")(x)
    h = layers.Dense(5, activation="relu", dtype="float64")(h)
    model = randomise(keras.Model(x, layers.Dense(3, activation="softmax", dtype="float64")(h)), seed=3)
    net = hn.from_keras(save_both(model, tmp_path)[0])
    X = np.random.default_rng(4).normal(size=(6, 4))
    np.testing.assert_allclose(net.predict_proba(X), np.asarray(model(X)), rtol=1e-12, atol=1e-12)
    J = jax.vmap(jax.jacrev(lambda row: model(row[None])[0]))(X)
    np.testing.assert_allclose(hn.explain.jacobian(net, X), np.asarray(J), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("build, message", [
    (lambda: keras.Sequential([keras.Input((8, 1)), layers.Conv1D(2, 3)]),
     r"^layer 0 'input_layer.*' \(InputLayer\) takes inputs of shape \(8, 1\)"),
    (lambda: keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.BatchNormalization(), layers.Dense(2)]),
     r"^layer 2 'batch_normalization.*' \(BatchNormalization\) is not supported"),
    (lambda: keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="gelu"), layers.Dense(2)]),
     r"^layer 1 'dense.*' \(Dense\): activation 'gelu' is not supported"),
    (lambda: keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.LeakyReLU(), layers.Dense(2)]),
     r"^layer 2 'leaky_re_lu.*' \(LeakyReLU\) is not supported"),
    (lambda: keras.Sequential([keras.Input((4,)), keras.Sequential([layers.Dense(3)]), layers.Dense(2)]),
     r"^layer 1 'sequential.*' \(Sequential\) is not supported"),
])
def test_unsupported_live_models_are_refused_by_name(tmp_path, build, message):
    model = build()
    with pytest.raises(ValueError, match=message):
        hn.from_keras(model)
    with pytest.raises(ValueError, match=message):
        hn.from_keras(save_both(model, tmp_path)[0])


def test_a_branching_functional_model_is_refused(tmp_path):
    x = keras.Input((4,))
    model = keras.Model(x, layers.Add()([layers.Dense(2)(x), layers.Dense(2)(x)]))
    for source in (model, save_both(model, tmp_path)[1]):
        with pytest.raises(ValueError, match=r"^layer 'add.*' \(Add\) takes 2 inputs: the model is not a single "
                                             r"chain"):
            hn.from_keras(source)
