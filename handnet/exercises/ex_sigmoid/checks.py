"""The grading checks of the sigmoid exercise: values, no overflow, the derivative."""

from __future__ import annotations

import numpy as np

from ...activations import sigmoid_function
from ..compare import VALUE_RTOL, as_array, as_number, compare_arrays, student_function
from ..exercise import WrongAnswer


#: The public inputs: the course's sigmoid test values, a matrix, and both signs.
SIGMOID_PUBLIC_Z = np.array([[-1.0, -0.5, 0.0, 0.5, 1.0],
                             [-20.0, -5.0, 0.1, 5.0, 20.0]])
#: Far out on both sides: exp(-z) overflows for z < -709.78 in float64.
SIGMOID_EXTREME_Z = np.array([-1000.0, -710.0, -50.0, 0.0, 50.0, 710.0, 1000.0])


def _sigmoid_inputs(seed):
    if seed is None:
        return SIGMOID_PUBLIC_Z.copy()
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 5)), int(rng.integers(1, 7)))
    return rng.normal(scale=4.0, size=shape)


def check_sigmoid_values(student, seed):
    """sigmoid(z) on a matrix (same shape back) and sigmoid(0) = 0.5."""
    sigmoid = student_function(student, "sigmoid")
    z = _sigmoid_inputs(seed)
    got = as_array(f"sigmoid(z) for z of shape {z.shape}", sigmoid(z.copy()), z.shape)
    compare_arrays("sigmoid(z)", got, sigmoid_function(z), what=f"sigmoid(z) for z of shape {z.shape}",
                   variants=[("that is sigma(-z) = 1 / (1 + exp(z)): the exponent is -z, "
                              "sigma(z) = 1 / (1 + exp(-z)).", sigmoid_function(-z)),
                             ("that is exp(-z), not 1 / (1 + exp(-z)).", np.exp(-z)),
                             ("that is exp(z), not 1 / (1 + exp(-z)).", np.exp(z))])
    half = as_number("sigmoid(0.0)", sigmoid(0.0))
    if half != 0.5:
        raise WrongAnswer(f"sigmoid(0.0): got {half!r}, expected 0.5")
    return f"sigmoid(z) is right on {z.size} values (shape {z.shape}) and sigmoid(0) = 0.5"


#: The absolute tolerance of sigmoid far out: sigma(-710) = 4.5e-309 and sigma(-1000) = 5e-435 round
#: to 0 or a subnormal, either way within this of the exact value (and 1 - sigma(710) is below 1e-300).
EXTREME_ATOL = 1e-300


def check_sigmoid_stable(student, seed):
    """sigmoid at z = +-710, +-1000 (exp(-z) or exp(z) overflow there): finite values, 0 and 1 at the
    ends. Only the values count; a warning on the way (np.where evaluates both branches) is no fault."""
    sigmoid = student_function(student, "sigmoid")
    z = SIGMOID_EXTREME_Z.copy()
    if seed is not None:
        z = np.random.default_rng(seed).permutation(z)
    where = f"sigmoid(z) for z = {z.tolist()}"
    with np.errstate(all="ignore"):           # numpy's warnings are not the verdict (nor errors in tests)
        got = as_array(where, sigmoid(z.copy()), z.shape)
    # rel <= VALUE_RTOL with the floor EXTREME_ATOL / VALUE_RTOL: |got - expected| <= EXTREME_ATOL near 0
    compare_arrays("sigmoid(z)", got, sigmoid_function(z), what=where, floor=EXTREME_ATOL / VALUE_RTOL,
                   first_hints=lambda: [OVERFLOW_HINT] if not np.all(np.isfinite(got)) else [])
    return "the values at z = +-710 and +-1000 are right (0 and 1 at the ends, no nan or inf)"


OVERFLOW_HINT = ("exp(-z) overflows to inf for z < -709 (and exp(z) for z > 709), and inf / inf is nan: "
                 "exponentiate only -|z| <= 0, e = exp(-|z|), then sigma(z) = 1 / (1 + e) for z >= 0 and "
                 "e / (1 + e) for z < 0.")


def check_sigmoid_gradient(student, seed):
    """sigmoid_gradient(0) = 0.25 exactly, and sigma(z)(1 - sigma(z)) on a matrix."""
    gradient = student_function(student, "sigmoid_gradient")
    quarter = as_number("sigmoid_gradient(0.0)", gradient(0.0))
    z = _sigmoid_inputs(seed)
    s = sigmoid_function(z)
    expected = s * (1.0 - s)
    what = f"sigmoid_gradient(z) for z of shape {z.shape}"

    def own_sigmoid_hint():
        try:
            mine = np.asarray(student.sigmoid(z.copy()), dtype=np.float64)
            ok = mine.shape == z.shape and np.allclose(mine, s, rtol=1e-9, atol=0)
        except Exception:                     # noqa: BLE001 - including NotImplementedError: not done yet
            return []
        return [] if ok else ["your sigmoid(z) is wrong too (see its check), and sigmoid_gradient uses it."]

    if abs(quarter - 0.25) > 1e-15:
        raise WrongAnswer(f"sigmoid_gradient(0.0): got {quarter!r}, expected 0.25 exactly "
                          "(sigma(0) = 1/2, so sigma(0)(1 - sigma(0)) = 1/4)"
                          + "".join(f"\nhint: {h}" for h in own_sigmoid_hint()))
    got = as_array(what, gradient(z.copy()), z.shape)
    # floor: near |z| = 20, sigma(z)(1 - sigma(z)) ~ 2e-9 carries the rounding of 1 - sigma(z), ~1e-16
    # absolute, whatever the (right) formula; rel <= 1e-9 over max(|a|, |n|, 1e-6) allows 1e-15 there
    compare_arrays("sigmoid_gradient(z)", got, expected, what=what, floor=1e-6,
                   variants=[("that is sigma(z) itself, not its derivative sigma(z)(1 - sigma(z)).", s),
                             ("you used z where sigma(z) belongs: sigma'(z) = sigma(z)(1 - sigma(z)).",
                              s * (1.0 - z)),
                             ("that is sigma(z)(1 + sigma(z)): the derivative is sigma(z)(1 - sigma(z)).",
                              s * (1.0 + s))],
                   first_hints=own_sigmoid_hint)
    return f"sigmoid_gradient(0) = 0.25 and sigma(z)(1 - sigma(z)) is right on {z.size} values"

