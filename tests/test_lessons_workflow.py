"""The numbers behind the workflow lessons: hyperparameter_search and saving_loading."""

import io
import json
import math
import os
import zipfile

import numpy as np
import pandas as pd
import pytest

import handnet as hn
from lessons import _hyperparameter_search_journal as journal
from lessons import hyperparameter_search as hs
from lessons import saving_loading as sl

# --------------------------------------------------------------------------------------------
# hyperparameter_search: the space
# --------------------------------------------------------------------------------------------

SPACE = {"a": ("uniform", -2.0, 3.0), "lr": ("log", 1e-3, 10.0), "n": ("int", 2, 6)}


def test_from_unit_maps_corners_and_middles():
    lo = hs.from_unit(SPACE, [0.0, 0.0, 0.0])
    hi = hs.from_unit(SPACE, [1.0, 1.0, 1.0])
    mid = hs.from_unit(SPACE, [0.5, 0.5, 0.5])
    assert lo == {"a": -2.0, "lr": pytest.approx(1e-3), "n": 2}
    assert hi == {"a": 3.0, "lr": pytest.approx(10.0), "n": 6}
    assert mid["a"] == pytest.approx(0.5)
    assert mid["lr"] == pytest.approx(math.sqrt(1e-3 * 10.0))      # the geometric mean
    assert mid["n"] == 4


def test_int_dimension_gives_every_integer_an_equal_cell():
    space = {"n": ("int", 2, 6)}
    u = (np.arange(5 * 100) + 0.5) / 500                               # 500 evenly spread points
    values = [hs.from_unit(space, [ui])["n"] for ui in u]
    assert sorted(set(values)) == [2, 3, 4, 5, 6]
    assert all(values.count(k) == 100 for k in range(2, 7))


def test_to_unit_inverts_from_unit():
    rng = np.random.default_rng(3)
    for _ in range(50):
        params = hs.from_unit(SPACE, rng.random(3))
        again = hs.from_unit(SPACE, hs.to_unit(SPACE, params))
        assert again["n"] == params["n"]
        assert again["a"] == pytest.approx(params["a"], rel=1e-12, abs=1e-12)
        assert again["lr"] == pytest.approx(params["lr"], rel=1e-12)


@pytest.mark.parametrize("space", [{}, {"x": ("gauss", 0, 1)}, {"x": ("log", 0.0, 1.0)},
                                   {"x": ("uniform", 2.0, 1.0)}, {"x": ("int", 0.5, 3)}, [("x", 1)]])
def test_check_space_rejects_bad_spaces(space):
    with pytest.raises((TypeError, ValueError)):
        hs.check_space(space)


def test_random_search_returns_python_numbers_and_is_log_uniform():
    searcher = hs.RandomSearch(SPACE, seed=0)
    draws = [searcher.ask() for _ in range(4000)]
    assert all(type(d["a"]) is float and type(d["lr"]) is float and type(d["n"]) is int for d in draws)
    json.dumps(draws)                                                  # no numpy scalar anywhere
    lr = np.array([d["lr"] for d in draws])
    assert lr.min() >= 1e-3 and lr.max() <= 10.0
    # log-uniform: each of the 4 decades holds a quarter of the draws (binomial sd ~ 27)
    counts = np.histogram(np.log10(lr), bins=[-3, -2, -1, 0, 1])[0]
    assert np.all(np.abs(counts - 1000) < 4 * math.sqrt(4000 * 0.25 * 0.75))


def test_search_proposals_depend_on_seed_and_trial_number_only():
    a, b = hs.RandomSearch(SPACE, seed=7), hs.RandomSearch(SPACE, seed=7)
    seq = [a.ask() for _ in range(5)]
    assert seq == [b.ask() for _ in range(5)]
    assert seq != [hs.RandomSearch(SPACE, seed=8).ask() for _ in range(5)]
    told = hs.RandomSearch(SPACE, seed=7)
    for params in seq[:3]:
        told.tell(params, 1.0)
    assert told.ask() == seq[3]                                        # resumes where it stopped


def test_tell_converts_numpy_scalars_and_checks_names():
    s = hs.RandomSearch(SPACE, seed=0)
    s.tell({"a": np.float64(0.5), "lr": np.float64(0.1), "n": np.int64(3)}, np.float64(2.0))
    params, score = s.trials[0]
    assert type(params["n"]) is int and type(params["a"]) is float and type(score) is float
    with pytest.raises(ValueError, match="missing"):
        s.tell({"a": 0.5}, 1.0)


def test_numpy_scalar_pitfalls_table():
    table, epochs_int, epochs_float = hs.numpy_scalar_pitfalls()
    assert isinstance(epochs_int, np.int64) and isinstance(epochs_float, np.float64)
    raised = table["raised"].str.startswith("TypeError").to_list()
    assert raised == [True, False, True, False]
    assert json.loads(table.loc[1, "result"]) == {"epochs": int(epochs_int)}
    assert table.loc[3, "result"] == str(int(epochs_float))


# --------------------------------------------------------------------------------------------
# hyperparameter_search: gradient descent on x²
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lr, epochs", [(0.1, 1), (0.3, 7), (0.5, 3), (0.9, 20), (1.2, 10), (2.5, 5)])
def test_gradient_descent_x2_matches_the_closed_form(lr, epochs):
    x0 = np.linspace(-3, 3, 13)
    x = x0.copy()
    for _ in range(epochs):                     # the derivative of x² is 2x
        x = x - lr * 2 * x
    np.testing.assert_allclose(hs.gradient_descent_x2(x0, lr, epochs), x, rtol=1e-14, atol=0)
    np.testing.assert_allclose(hs.closed_form_x2(x0, lr, epochs), (1 - 2 * lr) ** epochs * x0,
                               rtol=1e-14, atol=0)
    np.testing.assert_allclose(hs.gradient_descent_x2(x0, lr, epochs), hs.closed_form_x2(x0, lr, epochs),
                               rtol=1e-12, atol=1e-300)


def test_gradient_descent_needs_an_integer_epoch_count():
    with pytest.raises(TypeError):
        hs.gradient_descent_x2(np.ones(3), 0.1, np.float64(3.0))
    np.testing.assert_allclose(hs.gradient_descent_x2(np.ones(3), 0.1, int(np.float64(3.0))), 0.8 ** 3,
                               rtol=1e-15)


def test_x2_objective_is_r_times_growth_factor_to_the_T():
    for params in ({"x_range": 2.0, "lr": 0.2, "epochs": 5}, {"x_range": 0.7, "lr": 1.5, "epochs": 9}):
        expected = params["x_range"] * abs(1 - 2 * params["lr"]) ** params["epochs"]
        assert hs.x2_objective(params)["score"] == pytest.approx(expected, rel=1e-12)


def test_divergence_scan_diverges_exactly_above_lr_1():
    lrs = np.array([1e-3, 0.2, 0.5, 0.75, 0.999, 1.001, 1.5, 3.0])
    scan = hs.divergence_scan(lrs, epochs=30)
    assert scan["diverged"].to_list() == list(lrs > 1)
    np.testing.assert_allclose(scan["|1-2lr|"], np.abs(1 - 2 * lrs))
    np.testing.assert_allclose(scan["|x_T|"], np.abs(1 - 2 * lrs) ** 30, rtol=1e-12)


# --------------------------------------------------------------------------------------------
# hyperparameter_search: the guided search
# --------------------------------------------------------------------------------------------

def test_log_kernel_density_matches_the_direct_sum_and_does_not_underflow():
    rng = np.random.default_rng(0)
    U, C, bw = rng.random((7, 3)), rng.random((5, 3)), 0.3
    direct = np.log(np.array([np.mean([np.exp(-np.sum((u - c) ** 2) / (2 * bw ** 2)) for c in C]) for u in U]))
    np.testing.assert_allclose(hs.log_kernel_density(U, C, bw), direct, rtol=1e-12)
    far = hs.log_kernel_density(np.array([[1.0, 1.0]]), np.array([[0.0, 0.0]]), 0.01)
    assert far[0] == pytest.approx(-2.0 / (2 * 0.01 ** 2))            # exp of this underflows to 0


def test_density_ratio_prefers_near_good_and_far_from_bad():
    good = np.array([[0.2, 0.2]])
    bad = np.array([[0.8, 0.8], [0.5, 0.5]])
    candidates = np.array([[0.8, 0.75], [0.5, 0.45], [0.22, 0.18], [0.0, 1.0]])
    assert hs.density_ratio_choice(good, bad, candidates, 0.1) == 2


def test_guided_search_starts_random_then_stays_in_bounds():
    guided = hs.GuidedSearch(SPACE, seed=4, n_startup=5)
    rand = hs.RandomSearch(SPACE, seed=4)
    for i in range(20):
        p, q = guided.ask(), rand.ask()
        if i < 5:
            assert p == q
        assert -2.0 <= p["a"] <= 3.0 and 1e-3 <= p["lr"] <= 10.0 and 2 <= p["n"] <= 6
        assert type(p["n"]) is int
        score = (p["a"] - 1) ** 2 + math.log10(p["lr"]) ** 2
        guided.tell(p, score)
        rand.tell(q, score)
    good, bad = guided.good_and_bad()
    assert len(good) == 5 and len(bad) == 15


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_guided_search_beats_random_search_on_x2(seed):
    _, scores = hs.compare_searches(hs.X2_SPACE, hs.x2_objective, 40, [seed], n_startup=10)
    assert np.median(scores["guided"][0, 10:]) < np.median(scores["random"][0, 10:])
    np.testing.assert_array_equal(scores["guided"][0, :10], scores["random"][0, :10])


# -- section 8: GP + expected improvement by hand --------------------------------------------

def _gp_problem(seed=0, n=9, m=7, d=3):
    rng = np.random.default_rng(seed)
    return rng.random((n, d)), rng.standard_normal(n), rng.random((m, d))


def test_erf_array_matches_math_erf_to_rounding():
    x = np.concatenate([np.linspace(-9.0, 9.0, 20001), np.random.default_rng(1).normal(0, 3, 2000)])
    expected = np.array([math.erf(v) for v in x.tolist()])
    np.testing.assert_allclose(hs.bo.erf_array(x), expected, rtol=4 * np.finfo(float).eps, atol=2e-16)
    assert hs.bo.erf_array(np.zeros((2, 3))).shape == (2, 3)


def test_rbf_kernel_is_the_formula():
    A, _, B = _gp_problem()
    direct = np.exp(-((A[:, None, :] - B[None, :, :]) ** 2).sum(axis=2) / (2 * 0.3 ** 2))
    np.testing.assert_allclose(hs.bo.rbf_kernel(A, B, 0.3), direct, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("length_scale", [0.1, 0.4, 1.5])
def test_gp_posterior_matches_the_direct_formula_with_an_explicit_inverse(length_scale):
    U, y, U_star = _gp_problem()
    noise = 1e-3                         # K's condition number stays below ~1e4: inv is accurate
    K = hs.bo.rbf_kernel(U, U, length_scale) + noise * np.eye(len(U))
    k_star = hs.bo.rbf_kernel(U, U_star, length_scale)
    K_inv = np.linalg.inv(K)
    mean, var = hs.bo.gp_posterior(U, y, U_star, length_scale, noise)
    np.testing.assert_allclose(mean, k_star.T @ K_inv @ y, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(var, 1.0 - np.einsum("im,ij,jm->m", k_star, K_inv, k_star), rtol=1e-8, atol=1e-11)
    sign, logdet = np.linalg.slogdet(K)
    direct_lml = -0.5 * y @ K_inv @ y - 0.5 * logdet - 0.5 * len(y) * math.log(2 * math.pi)
    assert sign == 1.0
    assert hs.bo.log_marginal_likelihood(U, y, length_scale, noise) == pytest.approx(direct_lml, rel=1e-10)


def test_gp_posterior_reproduces_the_data_and_forgets_far_away():
    U, y, _ = _gp_problem()
    mean, var = hs.bo.gp_posterior(U, y, U, 0.3, 1e-10)
    np.testing.assert_allclose(mean, y, atol=1e-6)
    assert np.all(var < 1e-6)
    far_mean, far_var = hs.bo.gp_posterior(U, y, U + 100.0, 0.3, 1e-10)
    np.testing.assert_allclose(far_mean, 0.0, atol=1e-12)
    np.testing.assert_allclose(far_var, 1.0, atol=1e-12)


@pytest.mark.parametrize("mean, sd, best", [(0.0, 1.0, 0.0), (1.0, 0.5, -0.3), (-2.0, 0.1, -1.9),
                                            (0.3, 2.0, 1.0), (5.0, 1.0, 0.0)])
def test_expected_improvement_matches_numerical_integration(mean, sd, best):
    xi = 0.01
    f = np.linspace(mean - 14 * sd, mean + 14 * sd, 400001)
    density = np.exp(-0.5 * ((f - mean) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))
    integrand = np.maximum(best - xi - f, 0.0) * density
    quadrature = float(np.sum((integrand[1:] + integrand[:-1]) / 2 * np.diff(f)))   # trapezoid rule
    ei = float(hs.bo.expected_improvement(np.array([mean]), np.array([sd ** 2]), best, xi)[0])
    # the trapezoid rule's error is O(h^2 * max|f''|) with h = 28 sd / 4e5: far below 1e-8 here
    assert ei == pytest.approx(quadrature, rel=1e-7, abs=1e-12)


def test_expected_improvement_without_uncertainty_is_the_plain_gain():
    ei = hs.bo.expected_improvement(np.array([0.0, 2.0]), np.zeros(2), best=1.0, xi=0.0)
    np.testing.assert_array_equal(ei, [1.0, 0.0])


def test_gp_search_starts_random_then_proposes_python_numbers_in_bounds():
    searcher = hs.GPSearch(hs.POST_SPACE, seed=3)
    random_twin = hs.RandomSearch(hs.POST_SPACE, seed=3)
    table, _ = hs.run_search(searcher, hs.post_objective, 9, None)
    first = hs.run_search(random_twin, hs.post_objective, hs.POST_STARTUP, None)[0]
    assert table.iloc[:hs.POST_STARTUP].equals(first)
    assert searcher.length_scale in hs.bo.LENGTH_SCALES
    for params, _ in searcher.trials:
        assert 0 <= params["max_init_x"] <= 10 and 1e-10 <= params["learning_rate"] <= 1
        assert type(params["epochs"]) is int and 1 <= params["epochs"] <= 20


def test_swapped_objective_swaps_learning_rate_and_start_range():
    params = {"max_init_x": 3.0, "learning_rate": 0.2, "epochs": 4}
    swapped = hs.post_objective_swapped(params)["score"]
    assert swapped == pytest.approx(0.2 * abs(1 - 2 * 3.0) ** 4, rel=1e-12)
    assert hs.post_objective(params)["score"] == pytest.approx(3.0 * abs(1 - 2 * 0.2) ** 4, rel=1e-12)


def test_best_so_far_is_the_running_minimum():
    s = [3.0, 4.0, 1.0, 2.0, 0.5, np.inf]
    assert journal.best_so_far(s).tolist() == [3.0, 3.0, 1.0, 1.0, 0.5, 0.5]


# --------------------------------------------------------------------------------------------
# hyperparameter_search: the CSV journal and resuming
# --------------------------------------------------------------------------------------------

def _search(path, n, max_new=None, seed=0):
    return hs.run_search(hs.GuidedSearch(hs.X2_SPACE, seed=seed, n_startup=6), hs.x2_objective, n, path,
                         max_new=max_new)


def test_resumed_search_gives_the_same_table_as_an_uninterrupted_one(tmp_path):
    whole, n_whole = _search(tmp_path / "whole.csv", 20)
    assert n_whole == 20
    parts = tmp_path / "parts.csv"
    ran = [_search(parts, 20, max_new=k)[1] for k in (7, 1, 5)]       # three interruptions
    table, last = _search(parts, 20)
    assert ran == [7, 1, 5] and last == 7
    pd.testing.assert_frame_equal(table, whole)
    assert (tmp_path / "parts.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    again, n_again = _search(parts, 20)                               # nothing left to run
    assert n_again == 0
    pd.testing.assert_frame_equal(again, whole)


def test_resume_does_not_call_the_objective_for_saved_trials(tmp_path):
    path = tmp_path / "trials.csv"
    calls = []

    def objective(params):
        calls.append(params)
        return hs.x2_objective(params)

    hs.run_search(hs.RandomSearch(hs.X2_SPACE, seed=1), objective, 10, path, max_new=4)
    hs.run_search(hs.RandomSearch(hs.X2_SPACE, seed=1), objective, 10, path)
    assert len(calls) == 10
    table = pd.read_csv(path)
    assert table["trial"].tolist() == list(range(10))
    assert [journal.params_of_row(row, hs.X2_SPACE) for _, row in table.iterrows()] == calls


def test_csv_values_round_trip_and_come_back_as_python_numbers(tmp_path):
    path = tmp_path / "t.csv"
    table, _ = hs.run_search(hs.RandomSearch(hs.X2_SPACE, seed=2), hs.x2_objective, 6, path)
    back = hs.read_trials(path, hs.X2_SPACE)
    np.testing.assert_array_equal(back["lr"].to_numpy(), table["lr"].to_numpy())   # exact
    row = journal.params_of_row(back.iloc[0], hs.X2_SPACE)
    assert type(row["epochs"]) is int and type(row["lr"]) is float


def test_read_trials_refuses_a_table_from_another_search(tmp_path):
    path = tmp_path / "other.csv"
    pd.DataFrame({"trial": [0], "hidden": [3], "score": [1.0]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="lr"):
        hs.read_trials(path, hs.X2_SPACE)
    pd.DataFrame({"trial": [0, 2], "x_range": [1.0, 1.0], "lr": [0.1, 0.1], "epochs": [1, 1],
                  "score": [1.0, 1.0]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="trial"):
        hs.read_trials(path, hs.X2_SPACE)


def test_handnet_search_resumes_identically(tmp_path):
    X_fit, y_fit, X_val, y_val = hs.digits_validation_split(n_train=120)
    assert X_val.shape == (360, 64) and len(X_fit) == 120
    objective = hs.make_digits_objective(X_fit, y_fit, X_val, y_val, epochs=5)

    def search(path, max_new=None):
        return hs.run_search(hs.GuidedSearch(hs.DIGITS_SPACE, seed=0, n_startup=2), objective, 4, path,
                             max_new=max_new)

    whole, _ = search(tmp_path / "whole.csv")
    search(tmp_path / "parts.csv", max_new=2)
    parts, n_second = search(tmp_path / "parts.csv")
    assert n_second == 2
    pd.testing.assert_frame_equal(parts, whole)
    # the score is the validation cross-entropy of a network trained with those settings
    p = journal.params_of_row(whole.iloc[3], hs.DIGITS_SPACE)
    net = hn.MLP([64, p["hidden"], 10], seed=0)
    hn.train(net, X_fit, y_fit, epochs=5, lr=p["lr"], l2=p["l2"], progress=False)
    assert whole.loc[3, "score"] == hn.cost(net, X_val, y_val)
    assert whole.loc[3, "val_accuracy"] == hn.accuracy(y_val, net.predict(X_val))


# --------------------------------------------------------------------------------------------
# saving_loading
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained():
    return sl.train_small_model(epochs=20)


def test_round_trip_is_bit_identical(trained, tmp_path):
    net, X_test, _ = trained
    rt = sl.round_trip(net, tmp_path / "m.npz", X_test)
    assert rt["params_identical"] and rt["predictions_identical"] and rt["same_description"]
    assert rt["max_difference"] == 0.0
    np.testing.assert_array_equal(rt["loaded"].params, net.params)


def test_inspect_npz_lists_the_named_arrays_and_meta(trained, tmp_path):
    net, _, _ = trained
    path = hn.save(net, tmp_path / "m.npz")
    table, meta = sl.inspect_npz(path)
    assert sorted(table.index) == ["W0", "W1", "b0", "b1", "meta"]
    for name, shape in (("W0", (64, 25)), ("b0", (25,)), ("W1", (25, 10)), ("b1", (10,))):
        assert table.loc[name, "shape"] == shape
        assert table.loc[name, "bytes"] == 8 * math.prod(shape)
    with zipfile.ZipFile(path) as zf:                     # read meta independently of numpy's loader
        raw = np.lib.format.read_array(io.BytesIO(zf.read("meta.npy")), allow_pickle=False)
    assert meta == json.loads(str(raw))
    assert meta["layer_sizes"] == [64, 25, 10] and meta["format"] == "handnet.mlp"


def test_forward_from_file_reproduces_handnet(trained, tmp_path):
    net, X_test, _ = trained
    path = hn.save(net, tmp_path / "m.npz")
    np.testing.assert_allclose(sl.forward_from_file(path, X_test), net.predict_proba(X_test), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="sigmoid"):
        sl.forward_from_file(hn.save(hn.MLP([4, 3, 2], output="softmax"), tmp_path / "s.npz"), np.ones((1, 4)))


def test_pickle_runs_the_files_code():
    printed, obj = sl.pickle_runs_code()
    assert printed.strip() == sl.LoudOnLoad.MESSAGE.strip()
    assert obj is None                                    # print's return value, not a LoudOnLoad


def test_object_arrays_are_refused_before_any_code_runs(tmp_path):
    path = sl.object_array_file(tmp_path / "sub" / "obj.npz")
    printed, error = sl.load_object_array(path, allow_pickle=False)
    assert printed == "" and isinstance(error, ValueError)
    printed, error = sl.load_object_array(path, allow_pickle=True)
    assert printed.strip() == sl.LoudOnLoad.MESSAGE.strip() and error is None
    with pytest.raises(ValueError, match="(?i)object"):
        hn.load(path)


def test_a_crash_half_way_breaks_a_plain_write_but_not_an_atomic_one(trained, tmp_path):
    net, _, _ = trained
    path = tmp_path / "m.npz"
    hn.save(net, path)
    data = path.read_bytes()
    atomic = sl.crash_while_saving(path, data, atomic=True)
    assert atomic == {"intact": True, "size": len(data), "leftovers": [], "loadable": True, "error": ""}
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]
    plain = sl.crash_while_saving(path, data, atomic=False)
    assert not plain["intact"] and not plain["loadable"] and plain["size"] == len(data) // 2
    assert plain["error"].startswith("ValueError")


def test_every_crafted_broken_file_is_refused_with_a_message_naming_the_problem(trained, tmp_path):
    net, _, _ = trained
    good = hn.save(net, tmp_path / "good.npz")
    cases = sl.craft_broken_files(tmp_path / "crafted", net, good)
    assert len(cases) >= 8
    for problem, path, keyword in cases:
        assert os.path.dirname(os.path.abspath(path)) == str(tmp_path / "crafted"), problem
        with pytest.raises((ValueError, TypeError)) as info:
            hn.load(path)
        assert keyword.lower() in str(info.value).lower(), (problem, str(info.value))
        assert sl.try_load(path) == (type(info.value).__name__, str(info.value))
    assert sl.try_load(good)[0] == ""


def test_a_file_without_meta_loads_as_sigmoid(tmp_path):
    res = sl.load_without_meta(str(tmp_path), seed=1)
    assert res["output"] == "sigmoid" and res["same_classes"]
    net = hn.MLP([64, 12, 10], output="softmax", seed=1)                 # the same weights, by seed
    X = np.random.default_rng(1).random((50, 64))
    z = net.forward_pass(X)[0][-1]
    sums = (1 / (1 + np.exp(-z))).sum(axis=1)                            # sigmoid rows, computed here
    assert res["row_sums"] == pytest.approx((sums.min(), sums.max()), rel=1e-12)
    expected = np.max(np.abs(net.predict_proba(X) - 1 / (1 + np.exp(-z))))
    assert res["max_probability_difference"] == pytest.approx(expected, rel=1e-12)


def test_model_meta_matches_what_hn_save_writes(trained, tmp_path):
    net, _, _ = trained
    path = hn.save(net, tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as archive:
        assert json.loads(str(archive["meta"])) == sl.model_meta(net)
    assert sl.model_meta(net, version=5)["version"] == 5
