"""Tests for ``handnet explain`` (handnet.cli), run in-process through main(argv)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import handnet as hn
from conftest import assert_one_line_error, run_cli
from handnet import cli, explain

PNG = b"\x89PNG\r\n\x1a\n"
FEATURES = [f"x{j}" for j in range(64)]
EXPLAIN_OPTIONS = ["--model", "--method", "--rows", "--target", "--window", "--stride", "--baseline",
                   "--image-shape", "--out"]



def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG and len(data) > 1000


def read_csv(path):
    """The CSV with every cell parsed by Python's float(), which reads back exactly what was written
    (pandas' own fast float parser may differ in the last bit on older versions)."""
    return pd.read_csv(path, dtype=str).apply(lambda column: column.map(float))


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """An untrained digit model (64 inputs, 10 outputs): (path, net)."""
    net = hn.MLP([64, 8, 10], seed=0)
    path = tmp_path_factory.mktemp("model") / "model.npz"
    hn.save(net, path)
    return path, hn.load(path)


@pytest.fixture(scope="module")
def digits_data():
    return hn.datasets.load_digits()


# --------------------------------------------------------------------------- #
# Each method: its CSV, its PNGs, and the API's numbers
# --------------------------------------------------------------------------- #


def check_map_csv(csv, rows, y, targets, expected):
    assert list(csv.columns) == ["row", "label", "target", *FEATURES]
    assert csv.shape == (len(rows), 3 + 64)
    assert csv["row"].tolist() == list(rows)
    assert csv["label"].tolist() == y[rows].tolist()
    assert csv["target"].tolist() == list(targets)
    np.testing.assert_array_equal(csv[FEATURES].to_numpy(), expected)


def test_sensitivity_default_rows_and_predicted_class(capsys, tmp_path, model, digits_data):
    path, net = model
    X, y = digits_data
    status, out, err = run_cli(capsys, "explain", "--model", path, "--method", "sensitivity", "--out", tmp_path)
    assert status == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sensitivity.csv", "sensitivity.png"]
    assert_png(tmp_path / "sensitivity.png")
    rows = list(range(8))                                            # the first 8 digits by default
    predicted = net.predict(X[rows])
    check_map_csv(read_csv(tmp_path / "sensitivity.csv"), rows, y, predicted,
                  explain.sensitivity(net, X[rows]))
    assert "rows 0 to 7" in out and "target the predicted class" in out
    assert f"wrote 2 files to {tmp_path}" in out
    for name in ("sensitivity.csv", "sensitivity.png"):
        assert str(tmp_path / name) in out


def test_gradxinput_chosen_rows_and_target(capsys, tmp_path, model, digits_data):
    path, net = model
    X, y = digits_data
    status, out, err = run_cli(capsys, "explain", "--model", path, "--method", "gradxinput", "--rows", 7, 3, "10:12",
                           "--target", 2, "--out", tmp_path)
    assert status == 0, err
    rows = [7, 3, 10, 11]
    check_map_csv(read_csv(tmp_path / "gradxinput.csv"), rows, y, [2] * 4,
                  explain.gradient_x_input(net, X[rows], 2))
    assert_png(tmp_path / "gradxinput.png")
    assert "4 rows (7, 3, 10, 11)" in out and "target 2" in out


def test_occlusion_passes_window_stride_baseline_and_image_shape(capsys, tmp_path, model, digits_data):
    path, net = model
    X, y = digits_data
    status, out, err = run_cli(capsys, "explain", "--model", path, "--method", "occlusion", "--rows", "0:2",
                           "--window", 3, 2, "--stride", 2, "--baseline", 0.5, "--image-shape", 4, 16,
                           "--out", tmp_path)
    assert status == 0, err
    rows = [0, 1]
    targets = net.predict(X[rows])
    expected = explain.occlusion(net, X[rows], targets, (3, 2), stride=2, baseline=0.5, image_shape=(4, 16))
    check_map_csv(read_csv(tmp_path / "occlusion.csv"), rows, y, targets, expected)
    assert_png(tmp_path / "occlusion.png")
    assert "window 3 x 2, stride 2, baseline 0.5" in out


def test_occlusion_defaults_and_a_square_window(capsys, tmp_path, model, digits_data, monkeypatch):
    path, net = model
    X, _ = digits_data
    seen = {}
    real = explain.occlusion

    def spy(*args, **kwargs):
        seen.update(kwargs, window=args[3])
        return real(*args, **kwargs)

    monkeypatch.setattr(explain, "occlusion", spy)
    monkeypatch.setattr(cli.explain, "write_maps", lambda *args: [])      # no figure: only the arguments
    status, out, err = run_cli(capsys, "explain", "--model", path, "--method", "occlusion", "--out", tmp_path)
    assert status == 0, err
    assert seen == {"window": (2, 2), "stride": 1, "baseline": 0.0, "image_shape": (8, 8)}
    status, out, err = run_cli(capsys, "explain", "--model", path, "--method", "occlusion", "--window", 3,
                         "--out", tmp_path)
    assert status == 0, err
    assert seen["window"] == (3, 3)


def test_regions_one_row_per_class(capsys, tmp_path, model):
    path, net = model
    status, out, err = run_cli(capsys, "explain", "--model", path, "--method", "regions", "--out", tmp_path)
    assert status == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["regions.csv", "regions.png"]
    csv = read_csv(tmp_path / "regions.csv")
    assert list(csv.columns) == ["class", *FEATURES]
    assert csv.shape == (10, 65) and csv["class"].tolist() == list(range(10))
    np.testing.assert_array_equal(csv[FEATURES].to_numpy(), explain.region_maps(net))
    assert_png(tmp_path / "regions.png")
    assert "one per class (10)" in out


def test_jacobian_long_csv_and_a_png_per_row(capsys, tmp_path, model, digits_data):
    path, net = model
    X, _ = digits_data
    status, out, err = run_cli(capsys, "explain", "--model", path, "--method", "jacobian", "--rows", 4, 1,
                           "--out", tmp_path)
    assert status == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jacobian-row1.png", "jacobian-row4.png",
                                                          "jacobian.csv"]
    for name in ("jacobian-row1.png", "jacobian-row4.png"):
        assert_png(tmp_path / name)
    csv = read_csv(tmp_path / "jacobian.csv")
    assert list(csv.columns) == ["row", "output", "feature", "value"]
    assert csv.shape == (2 * 10 * 64, 4)
    J = explain.jacobian(net, X[[4, 1]])                               # (2, 10, 64)
    for i, r in enumerate([4, 1]):
        block = csv[csv["row"] == r]
        table = block.pivot(index="output", columns="feature", values="value")
        assert table.index.tolist() == list(range(10)) and table.columns.tolist() == list(range(64))
        np.testing.assert_array_equal(table.to_numpy(), J[i])
    assert "wrote 3 files" in out


def test_the_figure_shows_at_most_a_few_rows(capsys, tmp_path, model, monkeypatch):
    path, _ = model
    monkeypatch.setattr(cli.explain, "MAX_GRID_ROWS", 2)
    status, out, err = run_cli(capsys, "explain", "--model", path, "--method", "sensitivity", "--rows", "0:3",
                           "--out", tmp_path)
    assert status == 0, err
    assert len(read_csv(tmp_path / "sensitivity.csv")) == 3          # the CSV has every row
    assert "shows the first 2 of the 3 rows" in out


# --------------------------------------------------------------------------- #
# Errors: one line, exit status 2
# --------------------------------------------------------------------------- #


def test_missing_model_is_a_one_line_error(capsys, tmp_path):
    status, out, err = run_cli(capsys, "explain", "--model", tmp_path / "missing.npz", "--method", "regions",
                         "--out", tmp_path / "o")
    assert_one_line_error(status, out, err, "missing.npz")
    assert not (tmp_path / "o").exists()


def test_not_a_model_is_a_one_line_error(capsys, tmp_path):
    bad = tmp_path / "notes.npz"
    bad.write_text("not a model\n")
    status, out, err = run_cli(capsys, "explain", "--model", bad, "--method", "sensitivity", "--out", tmp_path / "o")
    assert_one_line_error(status, out, err, "not a valid handnet model file")


def test_a_model_that_is_not_for_the_digits_is_a_one_line_error(capsys, tmp_path):
    other = tmp_path / "other.npz"
    hn.save(hn.MLP([5, 3, 2], seed=0), other)
    status, out, err = run_cli(capsys, "explain", "--model", other, "--method", "sensitivity", "--out", tmp_path / "o")
    assert_one_line_error(status, out, err, "--model", "5 inputs", "64 inputs", "Python API")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("argv, fragments", [
    (["--method", "saliency"], ["--method", "sensitivity, gradxinput, occlusion, regions, jacobian",
                                "'saliency'"]),
    (["--method", "sensitivty"], ["--method", "did you mean 'sensitivity'"]),
    (["--method", "occlusion", "--window", "9", "9"], ["--window", "9 x 9", "8 x 8"]),
    (["--method", "occlusion", "--window", "2", "9"], ["--window", "does not fit"]),
    (["--method", "occlusion", "--window", "2", "2", "2"], ["--window"]),
    (["--method", "occlusion", "--window", "0"], ["--window", "positive"]),
    (["--method", "occlusion", "--stride", "0"], ["--stride"]),
    (["--method", "occlusion", "--baseline", "nan"], ["--baseline"]),
    (["--method", "occlusion", "--image-shape", "4", "16", "--window", "5", "2"], ["--window", "4 x 16"]),
    (["--method", "sensitivity", "--window", "2", "2"], ["--window", "occlusion"]),
    (["--method", "gradxinput", "--stride", "2", "--baseline", "1"], ["--stride, --baseline", "occlusion"]),
    (["--method", "regions", "--rows", "0:3"], ["--rows", "regions"]),
    (["--method", "regions", "--target", "1"], ["--target", "regions"]),
    (["--method", "jacobian", "--target", "1"], ["--target", "jacobian"]),
    (["--method", "sensitivity", "--target", "10"], ["--target", "0..9"]),
    (["--method", "sensitivity", "--target", "-1"], ["--target", "0..9"]),
    (["--method", "sensitivity", "--rows", "1797"], ["--rows", "1797 rows", "0..1796"]),
    (["--method", "sensitivity", "--rows", "0:2000"], ["--rows", "1797"]),
    (["--method", "sensitivity", "--rows", "5:5"], ["--rows", "empty"]),
    (["--method", "sensitivity", "--rows", "a:b"], ["--rows", "'a:b'"]),
    (["--method", "sensitivity", "--rows", "1:2:3"], ["--rows", "'1:2:3'"]),
    (["--method", "sensitivity", "--image-shape", "8", "7"], ["--image-shape", "64"]),
])
def test_bad_values_are_one_line_errors(capsys, tmp_path, model, argv, fragments):
    path, _ = model
    status, out, err = run_cli(capsys, "explain", "--model", path, "--out", tmp_path / "o", *argv)
    assert_one_line_error(status, out, err, *fragments)
    assert not (tmp_path / "o").exists()                  # nothing written


def test_out_must_be_a_folder(capsys, tmp_path, model):
    path, _ = model
    file = tmp_path / "a-file"
    file.write_text("x")
    status, out, err = run_cli(capsys, "explain", "--model", path, "--method", "regions", "--out", file)
    assert_one_line_error(status, out, err, "--out", "not a folder")


@pytest.mark.parametrize("argv", [
    ["explain"],                                                # --model and --method are required
    ["explain", "--method", "regions"],
    ["explain", "--model", "m.npz"],
    ["explain", "--model", "m.npz", "--method", "occlusion", "--stride", "two"],
    ["explain", "--model", "m.npz", "--method", "sensitivity", "--target", "three"],
    ["explain", "--model", "m.npz", "--method", "sensitivity", "--image-shape", "8"],
])
def test_usage_errors_exit_2(capsys, argv):
    status, out, err = run_cli(capsys, *argv)
    assert status == 2
    assert "usage: handnet explain" in err and "error:" in err
    assert "Traceback" not in err


# --------------------------------------------------------------------------- #
# Help
# --------------------------------------------------------------------------- #


def test_help_explains_every_method_and_option(capsys):
    status, out, _ = run_cli(capsys, "explain", "--help")
    assert status == 0
    lines = out.splitlines()
    for method in ("sensitivity", "gradxinput", "occlusion", "regions", "jacobian"):
        described = [line for line in lines if line.strip().startswith(method + " ")]
        assert described and len(described[0].split()) > 3, method      # a sentence, not just the name
    for option in EXPLAIN_OPTIONS:
        assert option in out, option
    assert "examples:" in out and "handnet explain --model" in out
    assert "64" in out and "Python API" in out


def test_explain_options_all_have_help_and_the_list_is_complete():
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if a.choices and "train" in a.choices).choices
    assert "explain" in subparsers
    actions = subparsers["explain"]._actions
    for action in actions:
        assert action.help, action.option_strings
    declared = {s for a in actions for s in a.option_strings if s.startswith("--")}
    assert declared - {"--help"} == set(EXPLAIN_OPTIONS)


def test_top_level_help_lists_explain(capsys):
    status, out, _ = run_cli(capsys, "--help")
    assert status == 0
    assert any(line.strip().startswith("explain ") for line in out.splitlines())
    assert "handnet explain --model" in out


def test_explain_defaults():
    args = cli.build_parser().parse_args(["explain", "--model", "m.npz", "--method", "regions"])
    assert (args.rows, args.target, args.window, args.stride, args.baseline, args.image_shape) == (
        None, None, None, None, None, None)                      # None: the documented default applies
    assert args.out == os.path.join("handnet-output", "explain")
    assert list(cli.explain.DEFAULT_EXPLAIN_ROWS) == list(range(8))
    assert (cli.explain.DEFAULT_WINDOW, cli.explain.DEFAULT_STRIDE, cli.explain.DEFAULT_BASELINE) == ((2, 2), 1, 0.0)
