"""handnet's lessons: runnable modules, `python -m lessons.<name>` from the project root.

LESSONS lists them in teaching order (the same order as lessons/README.md);
REQUIRES names the optional packages a lesson needs (without them it says so and stops).

The lessons train small networks (a few thousand parameters). For matrices that
small, one BLAS thread is faster than several: extra threads cost more to
coordinate than they save, and on a busy machine they can make a training step
ten times slower. So, unless you have chosen otherwise, the lessons ask NumPy's
BLAS for one thread. This works only when it is set before NumPy is first
imported, which is the case for `python -m lessons.<name>`; set
OPENBLAS_NUM_THREADS (or OMP_NUM_THREADS / MKL_NUM_THREADS) yourself to override.
"""

import os as _os

if not any(_os.environ.get(v) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")):
    _os.environ["OPENBLAS_NUM_THREADS"] = "1"
    _os.environ["MKL_NUM_THREADS"] = "1"

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
    "explain_any_model",
)

#: lesson -> the modules it needs beyond handnet's own dependencies (the "interop" extra).
REQUIRES = {"explain_any_model": ("sklearn",)}
