"""handnet: a hand-written, exact and fast neural network in NumPy, for learning and teaching.

    import handnet as hn
    net = hn.MLP([64, 25, 10], seed=0)
    X, y = hn.datasets.load_digits()
    history = hn.train(net, X, y)
    report = hn.check_gradient(net, X[:20], y[:20], l2=1.0); print(report)

This module only hands names on; each lives in the file named after its job.
Nothing is imported until it is first used (PEP 562), so ``import handnet`` costs
NumPy and nothing more, and ``hn.plots`` or ``hn.train`` load what they need then.
"""

from importlib import import_module

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_NAMES = {
    "MLP": "network",
    "cost": "costs", "COSTS": "costs",
    "gradient": "backprop", "cost_and_gradient": "backprop", "backpropagate": "backprop",
    "check_gradient": "gradcheck", "numerical_gradient": "gradcheck", "GradientReport": "gradcheck",
    "train": "training", "TrainingWarning": "training", "TrainingDiverged": "training",
    "save": "io", "load": "io",
    "accuracy": "metrics", "confusion_matrix": "metrics",
    "one_hot": "datasets",
}

#: Submodules reachable as attributes (hn.explain, hn.plots, ...) without importing them first.
_SUBMODULES = ("activations", "backprop", "costs", "datasets", "explain", "exercises", "gradcheck", "io",
               "metrics", "network", "plots", "training")

__all__ = sorted(_NAMES) + ["activations", "datasets", "explain", "metrics", "__version__"]


def __getattr__(name):
    if name in _NAMES:
        value = getattr(import_module(f".{_NAMES[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'handnet' has no attribute {name!r}")
    globals()[name] = value          # the next lookup is an ordinary attribute
    return value


def __dir__():
    return sorted(set(globals()) | set(_NAMES) | set(_SUBMODULES))
