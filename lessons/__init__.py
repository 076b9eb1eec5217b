"""handnet's lessons: runnable modules, `python -m lessons.<name>` from the project root.

LESSONS lists them in teaching order (the same order as lessons/README.md).
"""

LESSONS = (
    "taylor_series",
    "sqrt_estimation",
    "numpy_scalars",
    "crafting_by_hand",
    "gradient_checking",
    "sensitivity_analysis",
    "jacobian_cost",
    "sine_derivatives",
    "occlusion_and_saliency",
    "region_maps",
    "stable_softmax",
    "fancy_indexing",
    "hyperparameter_search",
    "saving_loading",
    "variance_identity",
)
