"""The numbers behind three numpy lessons: numpy_scalars, stable_softmax and fancy_indexing.

Each lesson function is compared with an independent computation (the math module, exact known
values, or a plain formula written here); no test depends on wall-clock time.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import handnet as hn
from lessons import fancy_indexing as fi
from lessons import numpy_scalars as ns
from lessons import stable_softmax as ss

# ----------------------------------------------------------------------------
# numpy_scalars
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def namespace():
    return ns.comparison_namespace(n=200, seed=3)


def test_every_comparison_gives_the_python_answer(namespace):
    values, types = ns.comparison_results(namespace)
    a, b = float(namespace["a"]), float(namespace["b"])
    expected_elements = tuple(v < 0.5 for v in namespace["arr"].tolist())
    for _, _, statement, per_element in ns.COMPARISONS:
        if per_element:
            assert values[statement] == expected_elements, statement
        elif statement == "0.25 < 0.5":
            assert values[statement] == (True,)
        else:
            assert values[statement] == (a < b,), statement
    assert len(values) == len(ns.COMPARISONS) == 14


def test_answer_types_are_numpy_bool_or_python_bool(namespace):
    _, types = ns.comparison_results(namespace)
    assert types["x < y"] == "builtins.bool"
    assert types["a.item() < b.item()"] == "builtins.bool"
    assert types["[v < 0.5 for v in arr.tolist()]"] == "builtins.bool"
    for statement in ("a < b", "a < 0.5", "za < zb", "np.less(a, b)", "arr < 0.5",
                      "[v < 0.5 for v in arr]"):
        assert types[statement] == f"numpy.{np.bool_.__name__}", statement


def test_namespace_operands_are_the_types_the_rows_claim(namespace):
    assert type(namespace["a"]) is np.float64 and type(namespace["x"]) is float
    assert namespace["x"] == namespace["a"] and namespace["y"] == namespace["b"]
    assert type(namespace["f"]) is np.float32
    assert namespace["za"].shape == () and isinstance(namespace["za"], np.ndarray)
    assert namespace["lst"] == namespace["arr"].tolist()


def test_timeit_setup_binds_every_operand(namespace):
    assert set(ns._NAMES) == set(namespace)


def test_post_comparisons_are_the_posts_statements_and_all_true():
    values = ns.post_comparison_values()
    assert list(values) == [case for case, _, _, _ in ns.POST_COMPARISONS] and all(values.values())
    statements = [statement for _, _, statement, _ in ns.POST_COMPARISONS]
    assert statements == ["x == 1.0", "x.tolist() == 1.0", "x.tolist() == y.tolist()", "x == y",
                          "x == 1.0", "x == np.array(1.0, np.float32)"]
    published = [seconds for *_, seconds in ns.POST_COMPARISONS if seconds is not None]
    assert published == sorted(published)          # the post's list is fastest first
    for _, setup, _, _ in ns.POST_COMPARISONS[1:]:
        assert "np.float32" in setup                  # 0-d float32 arrays, as in the post


def test_time_post_comparisons_keeps_the_posts_order_and_units():
    table = ns.time_post_comparisons(number=3, repeat=1)
    assert table["post rank"].tolist() == [1, 2, 3, 4, 5, 6]
    assert np.all(np.isfinite(table["ns"])) and np.all(table["ns"] > 0)
    np.testing.assert_allclose(table["s per 1e6"], table["ns"] * 1e6 * 1e-9)


def test_rank_agreement_counts_pairs_in_the_same_order():
    order, agree, pairs = ns.rank_agreement(["a", "b", "c"], {"a": 1.0, "b": 3.0, "c": 2.0})
    assert order == ["a", "c", "b"] and (agree, pairs) == (2, 3)
    assert ns.rank_agreement(["a", "b", "c"], {"a": 3.0, "b": 2.0, "c": 1.0})[1:] == (0, 3)


def test_post_table_puts_our_rank_and_both_ratios_beside_the_posts():
    cases = [case for case, *_ in ns.POST_COMPARISONS]
    post = pd.DataFrame({"case": cases, "statement": [st for _, _, st, _ in ns.POST_COMPARISONS],
                         "post rank": range(1, 7), "post s per 1e6": [s for *_, s in ns.POST_COMPARISONS],
                         "ns": [20.0, 10.0, 40.0, 80.0, 160.0, 320.0]})
    post["s per 1e6"] = post["ns"] * 1e-3
    order = [cases[1], cases[0]] + cases[2:]
    table = ns.post_table(post, order)
    assert table["our rank"].tolist() == [2, 1, 3, 4, 5, 6]
    assert table["x fastest"].tolist() == [2.0, 1.0, 4.0, 8.0, 16.0, 32.0]
    assert table["post x fastest"].iloc[1] == round(0.288 / 0.088, 3) and np.isnan(table["post x fastest"].iloc[5])
    assert "our rank" not in post                      # the caller's frame is left alone


def test_timing_caveats_name_an_active_trace_or_profile_hook():
    import sys

    def hook(*args):
        return None

    old_trace, old_profile = sys.gettrace(), sys.getprofile()
    try:
        sys.settrace(hook)
        assert any("trace hook" in c for c in ns.timing_caveats())
        sys.settrace(None)
        sys.setprofile(hook)
        assert any("profiler" in c for c in ns.timing_caveats())
        sys.setprofile(None)
        assert ns.timing_caveats() == []
    finally:
        sys.settrace(old_trace)
        sys.setprofile(old_profile)


def test_speed_table_sorts_and_divides_by_the_fastest():
    timings = pd.DataFrame({"statement": ["s1", "s2", "s3"], "what": ["w1", "w2", "w3"],
                            "kind": ["k", "k", "k"], "ns": [30.0, 10.0, 25.0]})
    table = ns.speed_table(timings)
    assert table["statement"].tolist() == ["s2", "s3", "s1"]
    assert table["x fastest"].tolist() == [1.0, 2.5, 3.0]
    assert table.index.tolist() == [1, 2, 3]
    assert ns.ratio(timings, "s1", "s2") == 3.0


def test_time_comparisons_measures_every_row_per_comparison(namespace):
    timings = ns.time_comparisons(namespace, number=2, repeat=1, loop_number=1)
    assert timings["statement"].tolist() == [s for _, _, s, _ in ns.COMPARISONS]
    assert np.all(np.isfinite(timings["ns"])) and np.all(timings["ns"] > 0)
    fig = ns.plot_speed_table(ns.speed_table(timings))
    assert isinstance(fig, Figure)
    assert len(fig.axes[0].patches) == len(ns.COMPARISONS)


def test_a_0d_array_comparison_dispatches_to_np_less():
    assert ns.ufuncs_called_by_0d_comparison(0.25, 0.5) == (["less"], True)
    assert ns.ufuncs_called_by_0d_comparison(0.75, 0.5) == (["less"], False)


def test_comparison_owner_and_result_type_facts():
    owner = ns.comparison_owner(np.float64)
    assert owner["subclass of float"] and owner["own __lt__"]
    assert "ndarray.item" in owner["item doc"]
    assert ns.comparison_owner(np.float32)["subclass of float"] is False
    facts = ns.result_type_facts()
    assert facts["type"] is np.bool_
    assert facts == {"type": np.bool_, "is bool": False, "is True": False, "== True": True,
                     "bool(r) is True": True}


def test_json_outcomes_match_json_itself():
    out = ns.json_outcomes()
    assert out["np.float64(1.5)"] == json.dumps(1.5) == "1.5"
    assert out["np.float32(1.5)"] == "TypeError"
    assert out["np.int64(3)"] == "TypeError"
    assert out["(np.float64(1) > 0)"] == "TypeError"
    assert out["np.int64(3).item()"] == "3"
    assert out["(np.float64(1) > 0).item()"] == "true"
    assert out["np.float32(1.5).item()"] == "1.5"


# ----------------------------------------------------------------------------
# stable_softmax
# ----------------------------------------------------------------------------


def test_exp_thresholds():
    assert ss.EXP_OVERFLOW == pytest.approx(709.782712893384, abs=1e-9)
    assert ss.EXP_UNDERFLOW == pytest.approx(-1075 * math.log(2), abs=1e-9)
    assert math.isfinite(math.exp(ss.EXP_OVERFLOW - 1e-9))
    with pytest.raises(OverflowError):
        math.exp(ss.EXP_OVERFLOW + 1e-9)
    assert math.exp(ss.EXP_UNDERFLOW + 0.01) > 0 and math.exp(ss.EXP_UNDERFLOW - 0.01) == 0


def test_floating_point_errors_records_instead_of_warning():
    result, errors = ss.floating_point_errors(ss.naive_softmax, np.array([1000.0, 1001.0]))
    assert np.all(np.isnan(result))
    assert errors == ["invalid value", "overflow"]
    _, errors = ss.floating_point_errors(np.log, np.array([0.0]))
    assert errors == ["divide by zero"]
    _, errors = ss.floating_point_errors(np.exp, np.array([-2000.0]))   # underflow not counted
    assert errors == []


def test_softmax_known_values_and_shift_invariance():
    p = ss.stable_softmax(np.log([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(p, [1 / 6, 2 / 6, 3 / 6], rtol=1e-15)
    z = np.random.default_rng(0).normal(scale=5, size=(50, 7))
    for shift in (-1000.0, 1000.0, 1e5):
        np.testing.assert_allclose(ss.stable_softmax(z + shift), ss.stable_softmax(z), rtol=1e-9)
    independent = np.array([[math.exp(v) for v in row] for row in z])
    independent /= independent.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ss.stable_softmax(z), independent, rtol=1e-13)
    np.testing.assert_allclose(ss.naive_softmax(z), independent, rtol=1e-13)


def test_softmax_agreement_where_naive_works():
    rel, errors = ss.softmax_agreement(n=300, k=5, scale=10.0, seed=2)
    assert errors == [] and 0 <= rel < 1e-13


def test_logsumexp_and_log_softmax():
    assert ss.stable_logsumexp(np.array([1000.0, 1000.0])) == 1000 + math.log(2)
    lse, errors = ss.floating_point_errors(ss.naive_logsumexp, np.array([1000.0, 1000.0]))
    assert math.isinf(lse) and errors == ["overflow"]
    z = np.random.default_rng(1).normal(size=(20, 4))
    independent = [math.log(sum(math.exp(v) for v in row)) for row in z]
    np.testing.assert_allclose(ss.stable_logsumexp(z), independent, rtol=1e-14)
    np.testing.assert_allclose(ss.stable_log_softmax(z), np.log(ss.stable_softmax(z)), rtol=1e-13)
    np.testing.assert_allclose(ss.stable_log_softmax(np.array([0.0, -800.0])), [0.0, -800.0],
                               rtol=0, atol=0)
    naive, errors = ss.floating_point_errors(ss.naive_log_softmax, np.array([0.0, -800.0]))
    assert naive[1] == -np.inf and errors == ["divide by zero"]


def _sigmoid_math(z):
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def test_sigmoid_softplus_and_their_logs_against_math():
    z = np.array([-1000.0, -745.0, -50.0, -3.0, -1e-3, 0.0, 1e-3, 3.0, 36.0, 50.0, 1000.0])
    np.testing.assert_allclose(ss.stable_sigmoid(z), [_sigmoid_math(v) for v in z], rtol=1e-15)
    moderate = z[np.abs(z) <= 50]
    np.testing.assert_allclose(ss.softplus(moderate), [math.log1p(math.exp(v)) for v in moderate],
                               rtol=1e-15)
    assert ss.softplus(np.array(1000.0)) == 1000.0
    assert ss.stable_log_sigmoid(np.array(-1000.0)) == -1000.0
    assert ss.stable_log_one_minus_sigmoid(np.array(1000.0)) == -1000.0
    assert ss.stable_log_one_minus_sigmoid(np.array(40.0)) == pytest.approx(
        -(40 + math.log1p(math.exp(-40))), rel=1e-15)
    naive, errors = ss.floating_point_errors(ss.naive_log_one_minus_sigmoid, np.array(40.0))
    assert naive == -np.inf and errors == ["divide by zero"]
    assert ss.floating_point_errors(ss.stable_sigmoid, z)[1] == []


def test_sigmoid_rounds_to_one_at_53_ln_2():
    z1 = ss.sigmoid_rounds_to_one()
    assert abs(z1 - 53 * math.log(2)) < 2e-4
    assert ss.stable_sigmoid(np.array(z1)) == 1.0
    assert ss.stable_sigmoid(np.array(z1 - 2e-4)) < 1.0


def test_cross_entropies_from_z_against_the_course_formula():
    rng = np.random.default_rng(4)
    z = rng.normal(scale=3, size=(30, 5))
    y = rng.uniform(size=(30, 5))
    course = sum(-yy * math.log(_sigmoid_math(zz)) - (1 - yy) * math.log(1 - _sigmoid_math(zz))
                 for zz, yy in zip(z.ravel(), y.ravel()))
    assert ss.cross_entropy_from_z(z, y) == pytest.approx(course, rel=1e-12)
    assert ss.naive_cross_entropy(ss.naive_sigmoid(z), y) == pytest.approx(course, rel=1e-12)
    onehot = np.eye(5)[rng.integers(0, 5, size=30)]
    course_softmax = -sum(math.log(p) for p in ss.stable_softmax(z)[onehot == 1])
    assert ss.softmax_cross_entropy_from_z(z, onehot) == pytest.approx(course_softmax, rel=1e-12)
    assert ss.naive_softmax_cross_entropy(z, onehot) == pytest.approx(course_softmax, rel=1e-12)
    assert ss.cross_entropy_from_z(np.array([[40.0]]), np.array([[0.0]])) == pytest.approx(
        40 + math.log1p(math.exp(-40)), rel=1e-15)


def test_handnet_agrees_and_stays_finite():
    rng = np.random.default_rng(5)
    z = rng.normal(scale=3, size=(40, 6))
    y = np.eye(6)[rng.integers(0, 6, size=40)]
    table = ss.handnet_comparison(z, y)
    assert table["max abs difference"].max() < 1e-12 and table["handnet finite"].all()
    edge = ss.handnet_comparison(np.array([[1000.0, -1000.0], [-1000.0, 1000.0]]),
                                 np.array([[0.0, 1.0], [0.0, 1.0]]))
    assert edge["handnet finite"].all() and edge["max abs difference"].max() < 1e-12
    assert len(table) == 7


def test_saturated_network_cost():
    J, J_naive, errors = ss.saturated_network_cost()
    assert J == 1000.0 and J_naive == np.inf and errors == ["divide by zero"]


def test_curves_and_sweep():
    curves = ss.log_sigmoid_curves(np.linspace(-1000, 1000, 201))
    assert np.all(np.isfinite(curves[["stable log sigma", "stable log(1-sigma)"]]))
    assert np.isneginf(curves.loc[1000.0, "naive log(1-sigma)"])
    assert np.isneginf(curves.loc[-1000.0, "naive log sigma"])
    c = np.linspace(-1000, 1000, 11)
    sweep = ss.logsumexp_sweep(c)
    np.testing.assert_allclose(sweep["stable"], c + math.log(1 + math.e + math.e ** 2), rtol=1e-14)
    assert np.isposinf(sweep.loc[1000.0, "naive"]) and np.isneginf(sweep.loc[-1000.0, "naive"])
    narrow = ss.log_sigmoid_curves(np.linspace(0, 40, 101))
    assert isinstance(ss.plot_log_sigmoid(curves, narrow), Figure)
    assert isinstance(ss.plot_logsumexp(sweep), Figure)


# ----------------------------------------------------------------------------
# fancy_indexing
# ----------------------------------------------------------------------------

GATHERS = (fi.gather_fancy, fi.gather_take_along_axis, fi.gather_flat, fi.gather_loop)


@pytest.mark.parametrize("gather", GATHERS)
def test_gathers_on_a_known_matrix(gather):
    M = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(gather(M, np.array([3, 0, 2])), [3.0, 4.0, 10.0])


@pytest.mark.parametrize("seed", range(3))
def test_gathers_agree_on_random_matrices(seed):
    rng = np.random.default_rng(seed)
    n, K = rng.integers(1, 50), rng.integers(1, 12)
    M = rng.normal(size=(n, K))
    idx = rng.integers(0, K, size=n)
    expected = np.array([M[i, idx[i]] for i in range(n)])
    for gather in GATHERS:
        np.testing.assert_array_equal(gather(M, idx), expected)


def test_pair_gathers():
    M = np.arange(16.0).reshape(4, 4)
    coords = np.array([[0, 1], [2, 3], [0, 1], [1, 0], [3, 2]])
    for gather in (fi.gather_pairs_columns, fi.gather_pairs_tuple, fi.gather_pairs_flat):
        np.testing.assert_array_equal(gather(M, coords), [1.0, 11.0, 1.0, 4.0, 14.0])
    assert M[coords].shape == (5, 2, 4)       # the trap: rows, not numbers
    mask = M > 6.5
    np.testing.assert_array_equal(fi.gather_pairs_tuple(M, np.argwhere(mask)), M[mask])


def test_scatter_adds_and_the_repeated_index_pitfall():
    idx = np.array([1, 1, 1, 3, 0, 3])
    np.testing.assert_array_equal(fi.scatter_add_at(idx, 1.0, 5), [1, 3, 0, 2, 0])
    np.testing.assert_array_equal(fi.scatter_add_bincount(idx, 1.0, 5), [1, 3, 0, 2, 0])
    np.testing.assert_array_equal(fi.scatter_add_plus_equals(idx, 1.0, 5), [1, 1, 0, 1, 0])
    w = np.array([0.5, 0.25, 2.0, 1.0, 3.0, -1.0])
    np.testing.assert_allclose(fi.scatter_add_at(idx, w, 5), [3.0, 2.75, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(fi.scatter_add_bincount(idx, w, 5), [3.0, 2.75, 0.0, 0.0, 0.0])


def test_cross_entropy_gathers_match_the_one_hot_formula_and_hn_cost():
    rng = np.random.default_rng(6)
    Z = rng.normal(scale=2, size=(25, 4))
    y = rng.integers(0, 4, size=25)
    independent = np.mean([math.log(sum(math.exp(v) for v in row)) - row[t]
                           for row, t in zip(Z, y)])
    assert fi.softmax_ce_onehot(Z, y) == pytest.approx(independent, rel=1e-13)
    assert fi.softmax_ce_gather(Z, y) == pytest.approx(independent, rel=1e-13)
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    assert fi.softmax_ce_from_probabilities(P, y) == pytest.approx(independent, rel=1e-12)
    course = np.mean([sum(-math.log(_sigmoid_math(v)) if k == t else -math.log(1 - _sigmoid_math(v))
                          for k, v in enumerate(row)) for row, t in zip(Z, y)])
    assert fi.sigmoid_ce_gather(Z, y) == pytest.approx(course, rel=1e-12)

    X = rng.uniform(size=(25, 6))
    for output in ("softmax", "sigmoid"):
        net = hn.MLP([6, 5, 4], output=output, seed=1)
        Zn = fi.output_preactivation(net, X)
        ours = fi.softmax_ce_gather(Zn, y) if output == "softmax" else fi.sigmoid_ce_gather(Zn, y)
        assert ours == pytest.approx(hn.cost(net, X, y), rel=1e-12)


def test_source_lines_find_handnets_one_hot_scatter():
    from handnet import _validate

    lines = fi.source_lines(_validate.one_hot_matrix, "np.arange")
    assert len(lines) == 1 and "labels] = 1.0" in lines[0][1]
    assert lines[0][0].startswith("handnet/_validate.py:")


def test_digit_probabilities_and_figures():
    net, X, y, P = fi.digit_probabilities(epochs=1)
    assert X.shape == (1797, 64) and y.shape == (1797,) and P.shape == (1797, 10)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    t = fi.time_gathers(P, y, number_fast=2, number_loop=1, repeat=1)
    assert set(t) == {"fancy", "loop"} and all(v > 0 for v in t.values())
    fig = fi.plot_gather(P, y, np.arange(5))
    assert isinstance(fig, Figure) and len(fig.axes) == 3      # heatmap, colorbar, bars
    counts = pd.DataFrame({"a": np.ones(10), "b": np.arange(10.0)})
    assert isinstance(fi.plot_scatter_counts(counts), Figure)
