"""Every activation's f' and f'' against central differences; stability at the extremes."""

import numpy as np
import pytest

from handnet import activations as A
from conftest import assert_within, central_difference, ops_rtol

Z = np.linspace(-4, 4, 41).reshape(1, -1) + 0.0123      # avoid the ReLU kink at exactly 0


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "identity"])
def test_first_derivative_matches_central_difference(name):
    act = A.ACTIVATIONS[name]
    h = 1e-6
    numerical = (act.f(Z + h) - act.f(Z - h)) / (2 * h)
    np.testing.assert_allclose(act.df(Z), numerical, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(act.df(Z, act.f(Z)), act.df(Z), rtol=0, atol=0)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "identity"])
def test_second_derivative_matches_central_difference(name):
    act = A.ACTIVATIONS[name]
    h = 1e-5
    numerical = (act.df(Z + h) - act.df(Z - h)) / (2 * h)
    np.testing.assert_allclose(act.d2f(Z), numerical, rtol=1e-6, atol=1e-9)


def test_sigmoid_gradient_is_exactly_a_quarter_at_zero():
    # ex4.pdf: "When z = 0, the gradient should be exactly 0.25."
    assert A.sigmoid.df(np.array(0.0)) == 0.25
    np.testing.assert_allclose(A.sigmoid.df(np.array([-1, -0.5, 0, 0.5, 1.0])),
                               [0.196612, 0.235004, 0.25, 0.235004, 0.196612], atol=5e-7)


def test_softmax_jacobian_and_second_derivative_match_central_differences():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3, 4))
    J = A.softmax.df(z)                                   # (N, K, K): da_i/dz_j
    T = A.softmax.d2f(z)                                  # (N, K, K, K): d2a_i/dz_j dz_k
    for n in range(3):
        num_J = np.stack([central_difference(lambda t, i=i: A.softmax.f(t[None])[0, i], z[n])
                          for i in range(4)])
        np.testing.assert_allclose(J[n], num_J, rtol=1e-7, atol=1e-10)
        num_T = np.stack([np.stack([central_difference(lambda t, i=i, j=j: A.softmax.df(t[None])[0, i, j], z[n])
                                    for j in range(4)]) for i in range(4)])
        np.testing.assert_allclose(T[n], num_T, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "identity", "softmax"])
def test_vjp_equals_gradient_times_jacobian(name):
    act = A.ACTIVATIONS[name]
    rng = np.random.default_rng(1)
    z = rng.normal(size=(5, 3)) + 0.05
    g = rng.normal(size=(5, 3))
    a = act.f(z)
    if act.elementwise:
        expected = g * act.df(z)
        scale = np.abs(g * act.df(z))
    else:
        expected = np.einsum("ni,nij->nj", g, act.df(z))
        scale = np.einsum("ni,nij->nj", np.abs(g), np.abs(act.df(z)))
    # f' or the Jacobian's row sums take a few roundings, then a sum of K products: 2 gamma
    # of that many operations, times the same computation on absolute values
    bound = ops_rtol(z.shape[1] + 4) * scale
    assert_within(act.vjp(z, a, g), expected, bound)
    # a leading batch axis (several output units at once) is carried along
    G = np.stack([g, 2 * g])
    assert_within(act.vjp(z, a, G)[1], 2 * expected, 2 * bound)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "identity", "softmax"])
def test_extreme_inputs_are_finite_without_warnings(name):
    act = A.ACTIVATIONS[name]
    z = np.array([[-1e4, -745.0, -710.0, 0.0, 710.0, 745.0, 1e4]])
    for value in (act.f(z), act.df(z), act.d2f(z)):
        assert np.all(np.isfinite(value))


def test_sigmoid_saturates_exactly():
    np.testing.assert_array_equal(A.sigmoid.f(np.array([-1e4, 1e4])), [0.0, 1.0])
    assert A.sigmoid.f(np.array(-30.0)) > 0          # the small side keeps its precision
    # exp, an addition and a division on either side, each within u (exp within an ulp)
    np.testing.assert_allclose(A.sigmoid.f(np.array(-30.0)), np.exp(-30.0) / (1 + np.exp(-30.0)), rtol=ops_rtol(4))


def test_stable_helpers_match_the_direct_formulas_where_those_are_safe():
    z = np.linspace(-20, 20, 81)
    # Each side is a few well-conditioned operations (exp, log1p, max, an addition): relative
    # error a few u. The direct log(1 / (1 + e^-z)) rounds its argument near 1 to within u,
    # so its log is off by about u ABSOLUTELY: far from 0 that is large relative to the value.
    np.testing.assert_allclose(A.softplus(z), np.log1p(np.exp(z)), rtol=ops_rtol(6))
    np.testing.assert_allclose(A.log_sigmoid(z), np.log(1 / (1 + np.exp(-z))), rtol=ops_rtol(6),
                               atol=ops_rtol(4))
    M = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, 0.0]])
    # K exps, a sum of K, a log, the max added back: K + 3 roundings of numbers of the result's size
    np.testing.assert_allclose(A.logsumexp(M[:1], axis=1), np.log(np.exp(M[:1]).sum(1)), rtol=ops_rtol(6))
    np.testing.assert_allclose(A.logsumexp(M[1:], axis=1), 1000 + np.log(2), rtol=ops_rtol(6))


def test_unknown_activation_is_a_clear_error():
    with pytest.raises(ValueError, match="hidden: unknown activation 'swish'"):
        A.get_activation("swish", argument="hidden", allowed=A.HIDDEN_ACTIVATIONS)
    with pytest.raises(ValueError, match="output: 'relu' cannot be used here"):
        A.get_activation("relu", argument="output", allowed=A.OUTPUT_ACTIVATIONS)
    with pytest.raises(ValueError, match="softmax is an output activation"):
        A.get_activation("softmax", argument="hidden", allowed=A.HIDDEN_ACTIVATIONS)


# ----------------------------------------------------------------------------
# out= and work=: the same numbers, bit for bit, written where the caller says
# ----------------------------------------------------------------------------

EXTREMES = np.array([[-1e4, -745.0, -710.0, -37.0, -0.0, 0.0, 37.0, 710.0, 1e4]])


def _z_and_g():
    rng = np.random.default_rng(7)
    z = np.concatenate([rng.normal(scale=8.0, size=(20, 9)), EXTREMES])
    return z, rng.normal(size=(3,) + z.shape)


@pytest.mark.parametrize("name", list(A.ACTIVATIONS))
def test_out_and_work_give_the_same_bits_as_fresh_arrays(name):
    """Writing into given arrays changes where the numbers go, never the numbers: every
    equation does the same operations in the same order, so equality is exact."""
    act = A.ACTIVATIONS[name]
    z, g = _z_and_g()
    a = act.f(z)
    out, work = np.full_like(z, np.nan), np.full_like(z, np.nan)
    assert act.f(z, out=out, work=work) is out
    np.testing.assert_array_equal(out, a)
    in_place = z.copy()
    act.f(in_place, out=in_place, work=work)                   # f(z, out=z): the in-place form
    np.testing.assert_array_equal(in_place, a)
    if act.elementwise:
        d = np.full_like(z, np.nan)
        assert act.df(z, a, out=d) is d
        np.testing.assert_array_equal(d, act.df(z, a))
    for gg in (g[0], g):                                        # one delta, and a stack (Jacobian)
        expected = act.vjp(z, a, gg)
        into_g, scratch_z = gg.copy(), z.copy()
        act.vjp(scratch_z, a, into_g, out=into_g, work=scratch_z)   # f' may overwrite a dead z
        np.testing.assert_array_equal(into_g, expected)
    assert z.shape == a.shape and np.all(np.isfinite(a))


def test_the_in_place_sigmoid_keeps_the_correctly_rounded_tails():
    z = EXTREMES.copy()
    A.sigmoid.f(z, out=z)
    assert z[0, 0] == 0.0 and z[0, 1] == 5e-324 and z[0, 2] == np.exp(-710.0)
    assert z[0, 4] == z[0, 5] == 0.5 and np.all(z[0, 7:] == 1.0)
