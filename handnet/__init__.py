"""handnet: a hand-written, exact and fast neural network in NumPy, for learning and teaching.

    import handnet as hn
    net = hn.MLP([64, 25, 10], seed=0)
    X, y = hn.datasets.load_digits()
    history = hn.train(net, X, y)
    report = hn.check_gradient(net, X[:20], y[:20], l2=1.0); print(report)

This module only hands names on; each lives in the file named after its job.
"""

__version__ = "0.1.0"

from . import activations, datasets, explain, interop, metrics  # noqa: E402
from .backprop import backpropagate, cost_and_gradient, gradient  # noqa: E402
from .costs import COSTS, cost  # noqa: E402
from .datasets import one_hot  # noqa: E402
from .gradcheck import GradientReport, check_gradient, numerical_gradient  # noqa: E402
from .interop import from_keras, from_sklearn, from_torch, to_sklearn_params, to_torch  # noqa: E402
from .io import load, save  # noqa: E402
from .metrics import accuracy, confusion_matrix  # noqa: E402
from .network import MLP  # noqa: E402
from .training import train  # noqa: E402

__all__ = [
    "MLP", "cost", "gradient", "cost_and_gradient", "backpropagate", "check_gradient",
    "numerical_gradient", "GradientReport", "train", "save", "load", "accuracy",
    "confusion_matrix", "one_hot", "activations", "datasets", "explain", "metrics", "COSTS", "__version__",
    "interop", "from_sklearn", "from_torch", "from_keras", "to_torch", "to_sklearn_params",
]
