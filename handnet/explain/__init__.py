"""handnet.explain: why did the network answer what it did?

    import handnet as hn
    g = hn.explain.input_gradient(net, X, target)        # (N, D)  dy_t/dx, exact
    S = hn.explain.sensitivity(net, X)                   # (N, D)  |dy_t/dx|
    G = hn.explain.gradient_x_input(net, X)              # (N, D)  dy_t/dx * x
    J = hn.explain.jacobian(net, X)                      # (N, K, D) every output at once
    H = hn.explain.input_hessian_diag(net, X, target)    # (N, D)  d2y_t/dx_j^2
    H1 = hn.explain.input_hessian(net, X[0], target)     # (D, D)  for one input
    R = hn.explain.region_maps(net)                      # (K, D)  weights projected back
    A = hn.explain.occlusion(net, X, target, window=(2, 2), image_shape=(8, 8))

target is an output unit: an int, one int per row, or None for the predicted
class. Every derivative is the backward recursion of handnet.backprop
started from an output unit; the tests check each one against central
finite differences.

Modules: gradients (input gradient, sensitivity, gradient x input,
Jacobian), second_order (input Hessian and its diagonal), regions (region
maps), occlusion, fields (per-field tables, combine) and plots (figures;
matplotlib is imported only when one is drawn).
"""

from .fields import AGGREGATES, combine, field_attributions, field_summary
from .gradients import gradient_x_input, input_gradient, jacobian, resolve_targets, sensitivity
from .occlusion import normalize_max, occlusion, window_grid
from .plots import plot_attribution_rows, plot_class_maps, plot_field_bars, plot_map
from .regions import region_map, region_maps
from .second_order import input_hessian, input_hessian_diag

__all__ = [
    "input_gradient", "sensitivity", "gradient_x_input", "jacobian",
    "input_hessian_diag", "input_hessian",
    "region_maps", "region_map",
    "occlusion", "window_grid", "normalize_max",
    "field_attributions", "field_summary", "combine", "AGGREGATES",
    "resolve_targets",
    "plot_map", "plot_class_maps", "plot_attribution_rows", "plot_field_bars",
]
