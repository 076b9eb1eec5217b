"""The numbers of the attribution lessons: lessons.occlusion_and_saliency and lessons.region_maps.

The networks are trained with the lessons' quick settings (a fraction of a second each), and
every check is computed a second way here where one exists: by hand-counted windows, by
the closed form of a linear model, by finite differences, or by NumPy's own statistics.
"""

import numpy as np
import pandas as pd
import pytest

import handnet as hn
from lessons import _occlusion_and_saliency_plots as occ_plots
from lessons import _region_maps_plots as reg_plots
from lessons import occlusion_and_saliency as occ
from lessons import region_maps as reg

DISTANCE = 12          # Distance's column in make_delivery_times


# ----------------------------------------------------------------------------
# occlusion_and_saliency
# ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained_controls():
    """Both controls trained with the lesson's quick settings.

    {control: (split, net, y_mean, y_std, maps)}, maps = the lesson's attributions of the test rows.
    """
    out = {}
    for name in occ.CONTROLS:
        split = occ.load_control(name)
        net, y_mean, y_std = occ.train_control(split, epochs=occ.QUICK_EPOCHS)
        out[name] = (split, net, y_mean, y_std, occ.attributions(net, split.X_test))
    return out


@pytest.fixture(params=occ.CONTROLS)
def control(request, trained_controls):
    return trained_controls[request.param]


def field_sums(A, fields):
    """Mean over rows of sum_{j in field} |A_ij|, computed here with plain slices: {name: float}."""
    out, start = {}, 0
    for name, width in fields:
        out[name] = float(np.abs(A[:, start:start + width]).sum(axis=1).mean())
        start += width
    return out


def test_standardised_features_have_mean_0_and_std_1_on_the_training_rows():
    split = occ.load_control("positive")
    np.testing.assert_allclose(split.X_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(split.X_train.std(axis=0), 1.0, rtol=1e-12)
    assert split.X_train.shape == (1500, 16) and split.X_test.shape == (500, 16)
    layout = occ.field_layout(split.fields)
    assert list(layout["width"]) == [w for _, w in hn.datasets.DELIVERY_FIELDS]
    assert layout.loc["Distance", "start"] == DISTANCE


def test_quick_training_fits_each_control(control):
    split, net, y_mean, y_std, _ = control
    pred = y_mean + y_std * net.forward(split.X_test)[-1][:, 0]
    y = split.y_test
    r2 = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
    assert occ.r_squared(y, occ.predict_minutes(net, split.X_test, y_mean, y_std)) == pytest.approx(r2)
    assert r2 > 0.9


def test_every_method_gives_one_value_per_row_and_column(control):
    split, _, _, _, maps = control
    assert list(maps) == ["occlusion w=1", "occlusion w=2", "occlusion w=4", "gradient x input", "combined"]
    for A in maps.values():
        assert A.shape == split.X_test.shape
        assert np.all(np.isfinite(A))


def test_controls_pass_for_single_column_methods(control):
    """Quick settings still pass: the true fields lead, by the lesson's ranking and by field
    sums computed here; the margin is the same ratio computed both ways."""
    split, _, _, _, maps = control
    k = len(split.relevant)
    tables = occ.field_tables(maps, split.fields)
    for name in ("occlusion w=1", "gradient x input", "combined"):
        sums = field_sums(maps[name], split.fields)
        top = sorted(sums, key=sums.get, reverse=True)[:k]
        assert sorted(top) == sorted(split.relevant), name
        assert occ.control_passes(tables[name], split.relevant), name
        others = max(v for f, v in sums.items() if f not in split.relevant)
        margin = min(sums[f] for f in split.relevant) / others
        assert occ.control_margin(tables[name], split.relevant) == pytest.approx(margin)
        assert margin > 1.5, name
    if split.control == "positive":
        assert occ.top_fields(tables["occlusion w=2"], 1) == ["Distance"]


def test_window_4_ties_distance_with_its_right_hand_neighbours(trained_controls):
    """Positive control: every 4-wide window over columns 13..15 also covers column 12."""
    split, net, _, _, maps = trained_controls["positive"]
    A4 = hn.explain.occlusion(net, split.X_test, 0, 4)
    np.testing.assert_array_equal(A4, maps["occlusion w=4"])
    sums = field_sums(A4, split.fields)
    tied = [sums[f] for f in occ.TIED_WITH_DISTANCE]
    spread = (max(tied) - min(tied)) / max(tied)
    assert spread < 0.05
    summary = hn.explain.field_summary(A4, split.fields)
    assert occ.tie_spread(summary, occ.TIED_WITH_DISTANCE) == pytest.approx(spread)
    A1 = hn.explain.occlusion(net, split.X_test, 0, 1)
    assert occ.relative_error(A4, occ.blurred(A1, 4)) < 0.1


def test_window_blur_counts_windows_by_hand():
    B4 = occ.window_blur(16, 4)
    # windows covering column 12 start at 9, 10, 11, 12; column k shares 1..4 of them
    np.testing.assert_allclose(B4[12, 9:16], [1 / 4, 2 / 4, 3 / 4, 1, 3 / 4, 2 / 4, 1 / 4])
    # every window covering 13, 14 or 15 covers 12; columns 9..11 share 1, 2, 3 of their 4 windows
    np.testing.assert_allclose(B4[9:16, 12], [1 / 4, 2 / 4, 3 / 4, 1, 1, 1, 1])
    np.testing.assert_allclose(B4[15], np.r_[np.zeros(12), np.ones(4)])   # one window: 12..15
    np.testing.assert_array_equal(occ.window_blur(16, 1), np.eye(16))
    np.testing.assert_allclose(occ.window_blur(16, 2).sum(axis=1), 2.0)   # full windows of 2


def test_linear_model_occlusion_is_gradient_x_input_and_blurs_exactly():
    assert occ.linear_model_gap() < 1e-12
    rng = np.random.default_rng(3)
    net = hn.MLP([16, 1], output="identity", seed=3)
    net.biases[0] = [0.7]
    Z = rng.standard_normal((40, 16))
    w = net.weights[0][:, 0]
    A1 = hn.explain.occlusion(net, Z, 0, 1)
    np.testing.assert_allclose(A1, Z * w, atol=1e-12)                   # w_j z_j by hand
    for window in (2, 4):                                                # additive: the blur is exact
        np.testing.assert_allclose(hn.explain.occlusion(net, Z, 0, window), occ.blurred(A1, window),
                                   atol=1e-12)


def test_combination_properties(control):
    _, _, _, _, maps = control
    O, G, C = maps["occlusion w=1"], maps["gradient x input"], maps["combined"]
    assert np.max(np.abs(C)) <= 1.0 + 1e-15
    np.testing.assert_array_equal(C, hn.explain.combine(G, O))                       # symmetric
    scale = np.random.default_rng(0).uniform(0.1, 10.0, size=(len(O), 1))
    np.testing.assert_allclose(hn.explain.combine(scale * O, G), C, atol=1e-14)      # per-row scale free
    np.testing.assert_allclose(hn.explain.combine(O, O), O / np.abs(O).max(axis=1, keepdims=True), atol=1e-15)
    # |C| reaches 1 exactly in the rows where both methods have the same top column and sign
    _, same = occ.row_agreement(O, G)
    assert occ.reaches_one(C) == pytest.approx(same)
    assert 0.5 < same <= 1.0


def test_combine_by_hand():
    a = np.array([[2.0, -1.0, 0.0]])
    b = np.array([[0.0, 1.0, 4.0]])
    np.testing.assert_allclose(hn.explain.combine(a, b), [[0.5, -0.125, 0.5]])


def test_row_agreement_matches_numpy():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 30, 16))
    b[:10] = 2 * a[:10]                       # same top column and sign in these rows
    r, same = occ.row_agreement(a, b)
    assert r == pytest.approx(np.mean([np.corrcoef(x, y)[0, 1] for x, y in zip(a, b)]))
    ja, jb = np.abs(a).argmax(1), np.abs(b).argmax(1)
    expected = np.mean((ja == jb) & (np.sign(a[np.arange(30), ja]) == np.sign(b[np.arange(30), jb])))
    assert same == pytest.approx(expected) and same >= 10 / 30


def test_noise_share_splits_rows_by_distance_to_the_average():
    A = np.array([[1.0, 3.0], [2.0, 2.0], [0.0, 4.0]])
    X = np.array([[0.0, 0.1], [0.0, 1.0], [0.0, -0.1]])
    near, far = occ.noise_share(A, X, column=1)
    assert near == pytest.approx((0.25 + 0.0) / 2) and far == pytest.approx(0.5)


def test_normalised_margins_are_field_summary_margins(control):
    split, _, _, _, maps = control
    m = occ.normalised_margins(maps, split.fields, split.relevant)
    scaled = maps["occlusion w=1"] / np.abs(maps["occlusion w=1"]).max(axis=1, keepdims=True)
    sums = field_sums(scaled, split.fields)
    others = max(v for f, v in sums.items() if f not in split.relevant)
    expected = min(sums[f] for f in split.relevant) / others
    assert m["occlusion, rows scaled"] == pytest.approx(expected)
    assert isinstance(m, pd.Series) and len(m) == 5


def test_occlusion_lesson_figures_hold_the_numbers(trained_controls):
    split, _, _, _, maps = trained_controls["nonlinear"]
    fig = occ.plot_rows(maps["combined"], split.fields, split.control)
    mesh = fig.axes[0].collections[0]                                  # the heatmap
    np.testing.assert_array_equal(np.asarray(mesh.get_array()).reshape(occ.HEATMAP_ROWS, 16),
                                  maps["combined"][:occ.HEATMAP_ROWS])
    tables = occ.field_tables(maps, split.fields)
    shares = occ_plots.window_shares(tables)
    assert list(shares.columns) == ["w = 1", "w = 2", "w = 4"]
    assert list(shares.index) == list(tables["occlusion w=1"].index)
    np.testing.assert_allclose(shares.max(), 1.0)
    fig = occ.plot_windows({split.control: tables}, {split.control: split.relevant})
    widths = sorted(bar.get_width() for bar in fig.axes[0].patches if bar.get_width() > 0)
    expected = sorted(np.concatenate([(t["sum"] / t["sum"].max()).to_numpy() for name, t in tables.items()
                                      if name.startswith("occlusion")]))
    np.testing.assert_allclose(widths, expected)


def test_attributions_while_training_match_a_network_trained_that_long():
    split = occ.load_control("positive")
    net, _, _, ranking, snapshots = occ.attributions_while_training(split, 12, frames=(0, 5, 12), dense=8)
    assert list(ranking.index) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12]     # dense to 8, then 10th + frames
    assert sorted(snapshots) == [0, 5, 12]
    for epochs in (0, 5):
        if epochs:
            later, _, _ = occ.train_control(split, epochs=epochs)           # full batch: deterministic
        else:
            later = hn.MLP([16, 16, 1], hidden="tanh", output="identity", seed=0)
        C = hn.explain.combine(hn.explain.occlusion(later, split.X_test, 0, 1),
                               hn.explain.gradient_x_input(later, split.X_test, 0))
        summary = hn.explain.field_summary(C, split.fields)
        assert ranking.at[epochs, "Distance rank"] == summary.loc["Distance", "rank"]
        assert ranking.at[epochs, "first"] == summary.index[0]
        sums = field_sums(C, split.fields)
        assert ranking.at[epochs, "Distance share"] == pytest.approx(sums["Distance"] / sum(sums.values()),
                                                                     rel=1e-12)
        np.testing.assert_allclose(snapshots[epochs], C[:occ.HEATMAP_ROWS], rtol=1e-12, atol=1e-15)
    assert ranking.loc[12, "cost"] == pytest.approx(hn.cost(net, split.X_train, (split.y_train - split.y_train.mean())
                                                            / split.y_train.std()), rel=1e-12)


def test_first_ranked_first_and_stays():
    table = pd.DataFrame({"Distance rank": [5, 1, 2, 1, 1]}, index=[0, 1, 2, 3, 10])
    assert occ.first_ranked_first(table) == (1, 3)
    never = pd.DataFrame({"Distance rank": [2, 3]}, index=[0, 1])
    assert occ.first_ranked_first(never) == (None, None)
    lost = pd.DataFrame({"Distance rank": [1, 2]}, index=[0, 1])
    assert occ.first_ranked_first(lost) == (0, None)


def test_field_ranking_is_field_summarys_sum_in_order(control):
    split, *_, maps = control
    ranking = occ.field_ranking(maps["combined"], split.fields)
    summary = hn.explain.field_summary(maps["combined"], split.fields)
    assert list(ranking.index) == list(summary.index)
    np.testing.assert_allclose(ranking.to_numpy(), summary["sum"].to_numpy(), rtol=1e-12)


def test_training_animation_is_a_gif_with_one_frame_per_snapshot(tmp_path):
    from PIL import Image

    fields = hn.datasets.DELIVERY_FIELDS
    rng = np.random.default_rng(0)
    snapshots = {e: rng.uniform(-1, 1, (occ.HEATMAP_ROWS, 16)) for e in (0, 1, 3)}
    ranking = pd.DataFrame({"first": ["Hour", "Distance", "Distance"], "Distance rank": [4, 1, 1]},
                           index=[0, 1, 3])
    path = occ.save_training_animation(snapshots, ranking, fields, tmp_path / "t.gif")
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.gif"]       # no partial file left
    fig = occ.plot_training_strip(snapshots, ranking, fields, [0, 3])
    assert len(fig.axes) == 2 and fig.axes[1].get_title().endswith("Distance #1")


# ----------------------------------------------------------------------------
# region_maps
# ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits():
    """The 20x20 network trained with the lesson's quick settings, its initial copy, the training half
    and the lesson's per-class held-out digits."""
    X_train, X_held, y_train, y_held = reg.digits_split()
    net, initial = reg.train_digits(X_train, y_train, steps=reg.QUICK_STEPS)
    X_test, y_test = reg.per_class(X_held, y_held)
    return net, initial, X_train, X_test, y_train, y_test


def test_region_maps_are_the_product_of_the_weights(digits):
    net = digits[0]
    W1, W2 = net.weights
    R = hn.explain.region_maps(net)
    assert R.shape == (10, 400)
    np.testing.assert_allclose(reg.weight_product(net), R, rtol=0, atol=1e-12)
    np.testing.assert_allclose(R[3], np.eye(10)[3] @ W2.T @ W1.T, atol=1e-12)


def test_experiment_1_is_the_notebooks_projection_with_bias_rows_dropped(digits):
    """The notebook multiplies e_c by theta_2.T = [b_2; W_2].T, drops entry 0, then theta_1.T, drops
    entry 0: written here in its layout, it gives the lesson's map for every digit."""
    net = digits[0]
    thetas = [np.vstack([b[None, :], W]) for W, b in zip(net.weights, net.biases)]
    for digit in range(10):
        k = np.eye(10)[digit] @ thetas[1].T
        k = k[1:] @ thetas[0].T
        np.testing.assert_allclose(reg.experiment_1(net, digit), k[1:], rtol=0, atol=1e-12)
    fig = reg.plot_experiment_1(hn.explain.region_maps(net))
    images = [ax.get_images()[0] for ax in fig.axes if ax.get_images()]
    assert len(images) == 20
    top, grey = images[3], images[13]                                  # digit 3, both colour maps
    lo, hi = top.get_clim()
    assert lo == -hi and hi == np.abs(hn.explain.region_maps(net)[3]).max()    # centred on 0
    assert grey.get_cmap().name == "gray" and top.get_cmap().name == "RdBu_r"


def test_class_means_by_mask(digits):
    _, _, _, X_test, _, y_test = digits
    means = reg.class_means(X_test, y_test)
    assert means.shape == (10, 400)
    for c in range(10):
        np.testing.assert_allclose(means[c], X_test[y_test == c].mean(axis=0), atol=1e-14)


def test_mean_maps_have_one_row_per_class(digits):
    net, _, _, X_test, _, y_test = digits
    G = reg.mean_input_gradients(net, X_test, y_test)
    O = reg.mean_occlusion_maps(net, X_test, y_test)
    assert G.shape == O.shape == (10, 400)
    c = 7
    rows = y_test == c
    np.testing.assert_allclose(G[c], hn.explain.input_gradient(net, X_test[rows], c).mean(axis=0), atol=1e-14)
    table = reg.agreement_table(hn.explain.region_maps(net), G, O)
    assert table.shape == (10, 3)
    assert table["region ~ gradient"].mean() > 0.8
    assert np.all(np.abs(table.to_numpy()) <= 1 + 1e-12)


def test_row_correlation_matches_numpy():
    rng = np.random.default_rng(2)
    A, B = rng.standard_normal((2, 5, 64))
    expected = [np.corrcoef(a, b)[0, 1] for a, b in zip(A, B)]
    np.testing.assert_allclose(reg.row_correlation(A, B), expected, atol=1e-14)


def test_identity_network_projection_is_the_gradient(digits):
    X_test = digits[3]
    assert reg.identity_network_gap(X_test[:50]) < 1e-12
    # independently: the identity network is affine, so a unit step in pixel j moves the
    # outputs by exactly column j of the region maps (up to rounding)
    net = hn.MLP(reg.LAYERS, hidden="identity", output="identity", seed=1)
    x = X_test[:1]
    steps = x + np.eye(400)                                         # (400, 400): one pixel each
    dy = net.forward(steps)[-1] - net.forward(x)[-1]                # (400, 10)
    np.testing.assert_allclose(dy.T, hn.explain.region_maps(net), atol=1e-10)


def test_sigmoid_network_gradient_is_not_the_projection(digits):
    net, _, _, X_test, _, y_test = digits
    corr, ratio = reg.gradient_vs_projection(net, X_test, y_test)
    assert corr.shape == ratio.shape == (len(X_test),)
    assert np.all(np.abs(corr) <= 1 + 1e-12) and np.all(ratio > 0)
    assert np.median(corr) < 0.99


def test_bias_shift_moves_gradients_but_not_region_maps(digits):
    net, _, _, X_test, _, y_test = digits
    dR, dG = reg.bias_shift_effect(net, X_test[:100], y_test[:100])
    assert dR == 0.0
    assert dG > 0.1
    before = net.params.copy()
    reg.bias_shift_effect(net, X_test[:5], y_test[:5])
    np.testing.assert_array_equal(net.params, before)               # the lesson's net is untouched


def test_weights_of_always_blank_pixels_are_only_shrunk_by_the_penalty(digits):
    net, initial, X_train = digits[0], digits[1], digits[2]
    blank = reg.blank_pixels(X_train)
    np.testing.assert_array_equal(blank, X_train.max(axis=0) == 0)   # pixels are >= 0
    assert blank.sum() >= 1
    decay = (1 - reg.recipe.ALPHA * reg.recipe.LAMBDA_T) ** reg.QUICK_STEPS
    rounding = 4 * reg.QUICK_STEPS * np.finfo(float).eps * np.abs(initial.weights[0][blank]).max()
    assert reg.untrained_weight_change(net, initial, blank, decay) <= rounding
    assert reg.untrained_weight_change(net, initial, blank) > 0.0          # they did shrink
    assert reg.untrained_weight_change(net, initial, ~blank, decay) > 1e-3  # the others learnt
    assert np.any(hn.explain.region_maps(net)[:, blank] != 0)


def test_scale_per_method_and_grid_figure(digits):
    net, _, _, X_test, _, y_test = digits
    R = hn.explain.region_maps(net)
    scaled = reg_plots.scale_per_method({"region map": R})
    M, s = scaled["region map"]
    assert s == pytest.approx(np.abs(R).max()) and np.abs(M).max() == pytest.approx(1.0)
    fig = reg.plot_class_by_method(reg.class_means(X_test, y_test), {"region map": R, "again": 2 * R})
    images = [ax.get_images()[0] for ax in fig.axes if ax.get_images()]
    assert len(images) == 30                                          # 3 rows x 10 classes
    np.testing.assert_allclose(images[10].get_array(), images[20].get_array())   # same scaled map
