"""The numbers behind three math lessons: taylor_series, sqrt_estimation and variance_identity.

Each test recomputes what it checks independently (exact fractions, Python's math module,
Decimal, central differences) rather than trusting the lesson's own helpers.
"""

import math
import statistics
import warnings
from decimal import Decimal, getcontext
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lessons import sqrt_estimation as sq
from lessons import taylor_series as ts
from lessons import variance_identity as vi

EPS = np.finfo(np.float64).eps


# ----------------------------------------------------------------------------
# taylor_series
# ----------------------------------------------------------------------------

def test_exp_coefficients_about_0_are_one_over_i_factorial():
    a = ts.taylor_coefficients("exp", 0.0, 30)
    assert a.dtype == np.float64 and a.shape == (30,)
    assert np.array_equal(a, [1 / math.factorial(i) for i in range(30)])


def test_exp_coefficients_about_2_are_e_squared_over_i_factorial():
    a = ts.taylor_coefficients("exp", 2, 12)
    np.testing.assert_allclose(a, [math.exp(2) / math.factorial(i) for i in range(12)], rtol=2 * EPS)


def test_cos_coefficients_about_0_and_pi():
    np.testing.assert_allclose(ts.taylor_coefficients("cos", 0.0, 7), [1, 0, -1 / 2, 0, 1 / 24, 0, -1 / 720],
                               rtol=1e-15, atol=0)
    np.testing.assert_allclose(ts.taylor_coefficients("cos", np.pi, 5), [-1, 0, 1 / 2, 0, -1 / 24],
                               rtol=1e-15, atol=1e-15)


def test_ln_coefficients_about_1_and_2_include_the_factorial():
    np.testing.assert_allclose(ts.taylor_coefficients("ln", 1.0, 6), [0, 1, -1 / 2, 1 / 3, -1 / 4, 1 / 5],
                               rtol=1e-15, atol=0)
    exact = [math.log(2)] + [float(Fraction((-1) ** (i + 1), i * 2 ** i)) for i in range(1, 10)]
    np.testing.assert_allclose(ts.taylor_coefficients("ln", 2, 10), exact, rtol=2 * EPS)


@pytest.mark.parametrize("name, f, center", [("exp", math.exp, -0.8), ("cos", math.cos, 0.7),
                                             ("ln", math.log, 2.5)])
def test_first_coefficients_match_central_differences(name, f, center):
    """a_1 = f'(b) and a_2 = f''(b)/2, from central differences of Python's math functions."""
    a = ts.taylor_coefficients(name, center, 3)
    h = 1e-4
    first = (f(center + h) - f(center - h)) / (2 * h)
    second = (f(center + h) - 2 * f(center) + f(center - h)) / h ** 2
    assert a[0] == pytest.approx(f(center), rel=1e-15)
    assert a[1] == pytest.approx(first, rel=1e-7)
    assert a[2] == pytest.approx(second / 2, rel=1e-5)


@st.composite
def _series_case(draw):
    name = draw(st.sampled_from(["exp", "cos", "ln"]))
    if name == "ln":
        center = draw(st.floats(0.2, 5.0))
        h = draw(st.floats(-0.6, 0.6)) * center          # |x - b| <= 0.6 b: inside the convergence disc
    else:
        center = draw(st.floats(-5.0, 5.0))
        h = draw(st.floats(-1.5, 1.5))
    return name, center, center + h, draw(st.integers(1, 20))


@given(_series_case())
def test_partial_sum_near_the_centre_is_within_the_lagrange_remainder(case):
    name, b, x, n = case
    f = {"exp": math.exp, "cos": math.cos, "ln": math.log}[name]
    h = abs(x - b)
    if name == "exp":
        bound = math.exp(max(b, x)) * h ** n / math.factorial(n)
    elif name == "cos":
        bound = h ** n / math.factorial(n)
    else:
        bound = (h / min(b, x)) ** n / n
    a = ts.taylor_coefficients(name, b, n)
    value = ts.taylor_polynomial(a, b, x)
    rounding = 4 * n * EPS * (float(np.sum(np.abs(a) * h ** np.arange(n))) + abs(f(x)))
    assert abs(float(value) - f(x)) <= bound + rounding


def test_partial_sums_rows_are_the_cumulative_polynomials():
    a = ts.taylor_coefficients("cos", 1.0, 8)
    x = np.linspace(-1, 3, 7).reshape(7, 1)
    sums = ts.partial_sums(a, 1.0, x)
    assert sums.shape == (8, 7, 1)
    for k in range(8):
        np.testing.assert_allclose(sums[k], ts.taylor_polynomial(a[:k + 1], 1.0, x), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("name, center, n_terms, match", [
    ("sin", 0.0, 3, "name"), (3, 0.0, 3, "name"), (None, 0.0, 3, "name"),
    ("exp", float("nan"), 3, "center"), ("cos", float("inf"), 3, "center"), ("exp", "1", 3, "center"),
    ("exp", None, 3, "center"), ("ln", 0.0, 3, "center"), ("ln", -1.0, 3, "center"), ("exp", 1000.0, 3, "center"),
    ("exp", 0.0, 0, "n_terms"), ("exp", 0.0, -2, "n_terms"), ("exp", 0.0, 2.5, "n_terms"),
    ("exp", 0.0, 3.0, "n_terms"), ("exp", 0.0, "3", "n_terms"), ("exp", 0.0, True, "n_terms"),
])
def test_bad_arguments_raise_value_error_naming_them(name, center, n_terms, match):
    with pytest.raises(ValueError, match=match):
        ts.taylor_coefficients(name, center, n_terms)


def test_numpy_integer_and_float_arguments_are_accepted():
    a = ts.taylor_coefficients("ln", np.float32(1.0), np.int64(4))
    np.testing.assert_allclose(a, [0, 1, -0.5, 1 / 3])


def test_long_series_underflow_quietly_to_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = ts.taylor_coefficients("exp", 0.0, 400)
    assert a[170] > 0 and np.all(a[200:] == 0)


def _pi_decimal(digits=40):
    """pi by Machin's formula, 16 atan(1/5) - 4 atan(1/239), in Decimal (independent of the lesson)."""
    getcontext().prec = digits + 10

    def atan_inv(k):
        total, term, n, sign = Decimal(0), Decimal(1) / k, 1, 1
        while term > Decimal(10) ** -(digits + 5):
            total += sign * term / n
            term /= k * k
            n += 2
            sign = -sign
        return total

    return 16 * atan_inv(5) - 4 * atan_inv(239)


def test_cody_waite_constants_split_ln2_and_half_pi():
    """HI + LO carries ~2^-53 * LO more precision than one float64 (whose error is ~1e-17)."""
    getcontext().prec = 50
    ln2, half_pi = Decimal(2).ln(), _pi_decimal() / 2
    assert abs(Decimal(ts.LN2_HI) + Decimal(ts.LN2_LO) - ln2) < Decimal("1e-25")
    assert abs(Decimal(ts.PIO2_HI) + Decimal(ts.PIO2_LO) - half_pi) < Decimal("1e-25")
    assert abs(Decimal(math.log(2)) - ln2) > Decimal("1e-18")            # a single float is far coarser
    for hi in (ts.LN2_HI, ts.PIO2_HI):                 # few significant bits: k * hi is exact for |k| < 2^20
        assert (hi * 2 ** 32) == int(hi * 2 ** 32)


def test_range_reduced_exp_and_cos_match_python_math():
    x = np.concatenate([np.linspace(-700, 700, 2001), [-50.0, -0.3, 0.0, 1e-8, 0.34657, 3.3, 88.0]])
    exp_value = ts.exp_range_reduced(x, 14)
    exact = np.array([math.exp(v) for v in x])
    assert np.max(np.abs(exp_value / exact - 1)) < 4 * EPS
    y = np.linspace(-100, 100, 2001)
    cos_value = ts.cos_range_reduced(y, 18)
    assert np.max(np.abs(cos_value - np.array([math.cos(v) for v in y]))) < 4 * EPS


def test_quarter_turn_coefficients_cycle_exactly():
    table = ts.cos_quarter_turn_coefficients(6)
    f = [1 / math.factorial(i) for i in range(6)]
    assert np.array_equal(table[0], [f[0], 0, -f[2], 0, f[4], 0])          # cos r
    assert np.array_equal(table[1], [0, -f[1], 0, f[3], 0, -f[5]])        # -sin r
    assert np.array_equal(table[2], -table[0]) and np.array_equal(table[3], -table[1])


def test_error_vs_distance_and_slope():
    d = np.logspace(-2, -1, 30)
    errors, bounds = ts.error_vs_distance("exp", 0.0, d, (2, 3))
    assert errors.shape == bounds.shape == (2, 30)
    assert np.all(errors <= bounds)
    assert ts.loglog_slope(d, errors[1]) == pytest.approx(3, abs=0.05)


# ----------------------------------------------------------------------------
# sqrt_estimation
# ----------------------------------------------------------------------------

def test_the_worked_examples():
    assert sq.estimate_sqrt(10) == 3 + 1 / 6
    assert sq.estimate_sqrt(18) == 4.25
    assert sq.estimate_sqrt(18.0) == 4.25
    assert isinstance(sq.estimate_sqrt(10), float)


def test_matches_the_exact_rational_value_on_whole_numbers():
    for x in range(1, 500):
        b = math.isqrt(x)
        exact = b + Fraction(x - b * b, 2 * b)
        assert abs(sq.estimate_sqrt(x) - exact) <= Fraction(math.ulp(float(exact)))


def test_perfect_squares_are_exact_of_any_size():
    assert sq.estimate_sqrt(10 ** 30) == 1e15
    assert sq.estimate_sqrt(49.0) == 7.0
    assert sq.estimate_sqrt(np.int64(144)) == 12.0
    roots = np.arange(0, 5000)
    assert np.array_equal(sq.estimate_sqrt(roots ** 2), roots.astype(float))


def test_below_one_returns_x_itself():
    x = np.array([0.0, 1e-300, 0.25, 0.5, 0.999999])
    assert np.array_equal(sq.estimate_sqrt(x), x)
    assert sq.estimate_sqrt(0.3) == 0.3
    assert sq.estimate_sqrt(0) == 0.0
    assert sq.estimate_sqrt(Fraction(1, 4)) == 0.25


def test_arrays_keep_their_shape_and_agree_with_scalars():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1e6, size=(4, 25))
    got = sq.estimate_sqrt(x)
    assert got.shape == (4, 25) and got.dtype == np.float64
    assert np.array_equal(got.ravel(), [sq.estimate_sqrt(float(v)) for v in x.ravel()])
    assert np.array_equal(sq.estimate_sqrt([10, 18]), [3 + 1 / 6, 4.25])


def test_floor_sqrt_of_arrays_is_exact_near_squares_up_to_2_62():
    rng = np.random.default_rng(2)
    m = np.concatenate([np.arange(1, 300), rng.integers(2 ** 26, 2 ** 31 - 1, size=300), [2 ** 31 - 1]])
    n = np.concatenate([m * m - 1, m * m, m * m + 1, rng.integers(0, 2 ** 62, size=300)])
    assert np.array_equal(sq.floor_sqrt(n), [math.isqrt(int(v)) for v in n])
    frac = np.array([3.999, 4.0, 8.9999, 9.0, 0.5, 2.0 ** 52 + 1])
    assert np.array_equal(sq.floor_sqrt(frac), [1, 2, 2, 3, 0, 2 ** 26])


def test_huge_values_in_arrays_still_estimate_well():
    x = np.array([2.0 ** 62, 2.0 ** 70 + 2.0 ** 30, 1e300])
    np.testing.assert_allclose(sq.estimate_sqrt(x), np.sqrt(x), rtol=2 * EPS)
    assert sq.estimate_sqrt(1e300) == pytest.approx(1e150, rel=2 * EPS)


def test_error_formulas_against_exact_arithmetic():
    x = np.linspace(1.0, 2000.0, 50_001)
    root = np.sqrt(x)
    np.testing.assert_allclose(sq.estimate_sqrt(x) - root, sq.tangent_error_formula(x), atol=1e-12)
    np.testing.assert_allclose(sq.chord_estimate(x) - root, sq.chord_error_formula(x), atol=1e-12)
    assert np.all(sq.estimate_sqrt(x) >= root) and np.all(sq.chord_estimate(x) <= root)
    b = np.floor(root)
    assert np.all(sq.estimate_sqrt(x) - root < 1 / (2 * b))


def test_newton_step_and_taylor_polynomial_give_the_rule():
    x = np.arange(1, 10_001, dtype=np.float64)
    b = np.floor(np.sqrt(x))
    rule = sq.estimate_sqrt(x)
    assert np.max(np.abs(sq.newton_step(x, b) - rule) / np.spacing(rule)) <= 2
    assert np.max(np.abs(sq.tangent_line(x, b * b) - rule) / np.spacing(rule)) <= 2


def test_chord_is_better_than_the_rule_on_2_to_100():
    table = sq.error_table(np.arange(2, 101))
    assert len(table) == 99
    assert table["chord rel error"].abs().max() < table["tangent rel error"].max()
    assert table.loc[3, "tangent rel error"] == pytest.approx(2 / math.sqrt(3) - 1)
    worst = sq.worst_per_square(table)
    assert list(worst["worst x (tangent)"].iloc[:9]) == [(b + 1) ** 2 - 1 for b in range(1, 10)]


@pytest.mark.parametrize("bad", [-1, -0.5, float("nan"), float("inf"), "10", None, complex(1, 1), True,
                                 [1, -2], np.array([1.0, np.nan]), [[4, 9], [16, -1]], ["a"], [True, False],
                                 object()])
def test_bad_input_raises_value_error_naming_x(bad):
    with pytest.raises(ValueError, match=r"^x: "):
        sq.estimate_sqrt(bad)


# ----------------------------------------------------------------------------
# variance_identity
# ----------------------------------------------------------------------------

def _exact_variance(x):
    return statistics.pvariance([Fraction(float(v)) for v in x])


def test_the_three_forms_agree_with_exact_variance_when_the_mean_is_small():
    x = np.random.default_rng(3).normal(0.5, 2.0, size=500)
    exact = float(_exact_variance(x))
    for f in (vi.variance_two_pass, vi.variance_shortcut, vi.variance_shifted, vi.reference_variance):
        assert float(f(x)) == pytest.approx(exact, rel=1e-13)
    assert float(np.var(x)) == pytest.approx(exact, rel=1e-13)


def test_reference_variance_is_exact_for_float32_data_with_a_large_mean():
    x = (1e6 + np.random.default_rng(4).standard_normal(400)).astype(np.float32)
    assert vi.reference_variance(x) == pytest.approx(float(_exact_variance(x)), rel=4 * EPS)


def test_shortcut_fails_in_float32_and_the_fixes_do_not():
    x = (1e4 + np.random.default_rng(5).standard_normal(10_000)).astype(np.float32)
    exact = float(_exact_variance(x))
    assert vi.variance_shortcut(x).dtype == np.float32
    assert vi.relative_error(vi.variance_shortcut(x), exact) > 0.5
    assert vi.relative_error(vi.variance_two_pass(x), exact) < 1e-5
    assert vi.relative_error(vi.variance_shifted(x), exact) < 1e-6
    assert vi.relative_error(vi.variance_shifted(x, shift=10_000.0), exact) < 1e-6


def test_shortcut_float64_error_at_mean_1e8_is_of_order_one():
    x = 1e8 + np.random.default_rng(6).standard_normal(10_000)
    exact = vi.reference_variance(x)
    assert vi.relative_error(vi.variance_shortcut(x), exact) > 0.05
    assert vi.relative_error(vi.variance_two_pass(x), exact) < 1e-12


def test_predicted_error_uses_the_unit_roundoff():
    assert vi.predicted_shortcut_error(0.0, 1.0, np.float64) == 2.0 ** -53
    assert vi.predicted_shortcut_error(1e4, 1.0, np.float32) == pytest.approx(2.0 ** -24 * (1 + 1e8))


def test_variance_sweep_table():
    frame = vi.variance_sweep([1.0, 1e3], np.float32, 2000, seed=0)
    assert list(frame.index) == [1.0, 1e3]
    for label in vi.METHODS:
        assert f"{label} rel err" in frame.columns
    assert (frame["reference"] > 0.5).all()
