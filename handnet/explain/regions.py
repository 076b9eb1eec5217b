"""Region maps: a class vector projected back through the weight matrices.

    maps[c] = e_c @ W_L.T @ W_{L-1}.T @ ... @ W_1.T            (K, D)

This is the backward recursion of backprop with every f' replaced by 1 and
no input at all: it asks which input pixels the weights connect to class c,
summed over every path through the network with the weights multiplied
along the path. Reshaped to the image, the map shows the region a class
"looks at". It is a property of the weights alone, the same for every input.

What it ignores, plainly: the nonlinearities (a sigmoid unit that is
saturated, or a ReLU that is off, for every real input still passes its
weight on here) and the biases (a unit that a large bias keeps always on or
always off counts like any other). For a network with no hidden layer it is
exactly the weight column of each class; the deeper and the more saturated
the network, the less it says about any particular prediction. Use
input_gradient or occlusion to explain one input.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as V
from ..backprop import activation_error

__all__ = ["region_maps", "region_map", "project_back"]


def project_back(net, E):
    """E @ W_L.T @ ... @ W_1.T: class vectors carried back with every f' set to 1.

    Each step is backprop's dJ/da_{l-1} = delta_l @ W_l.T.   E (M, K) -> (M, D).
    """
    for W in reversed(list(net.weights)):
        E = activation_error(E, W)
    return E


def region_maps(net):
    """maps[c] = e_c W_L.T ... W_1.T for every class c (E = the identity).   -> (K, D)."""
    return project_back(net, np.eye(V.as_net(net, "net").layer_sizes[-1]))


def region_map(net, c):
    """The region map of class (output unit) c: e_c W_L.T ... W_1.T.   -> (D,)."""
    K = V.as_net(net, "net, c").layer_sizes[-1]
    if not V.is_integer(c):
        raise TypeError(f"c: expected a class index, an int in 0..{K - 1}, got {type(c).__name__} {c!r}")
    if not 0 <= c < K:
        raise ValueError(f"c: expected a class index in 0..{K - 1} (the network has {K} outputs), got {c}")
    e = np.zeros((1, K))
    e[0, c] = 1.0
    return project_back(net, e)[0]
