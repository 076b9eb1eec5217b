"""Tests for the ``handnet`` command (handnet.cli), run in-process through main(argv)."""

from __future__ import annotations

import contextlib
import io
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import handnet as hn
from handnet import cli, gradcheck
from conftest import assert_one_line_error, run_cli
from handnet.training import DEFAULTS

PNG = b"\x89PNG\r\n\x1a\n"
EPOCHS = 30
TRAIN_OPTIONS = ["--data", "--layers", "--hidden", "--output", "--init", "--epochs", "--lr", "--l2", "--batch-size",
                 "--momentum", "--seed", "--test-size", "--out", "--no-progress"]
GRADCHECK_OPTIONS = ["--model", "--layers", "--hidden", "--output", "--init", "--samples", "--l2", "--h",
                     "--threshold", "--subset", "--directional", "--seed"]




@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One small `handnet train` run shared by several tests: (status, stdout, stderr, out dir).

    Module-scoped fixtures cannot use capsys, so the output is captured by hand.
    """
    out_dir = tmp_path_factory.mktemp("train") / "out"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = cli.main(["train", "--epochs", str(EPOCHS), "--no-progress", "--out", str(out_dir)])
    return status, stdout.getvalue(), stderr.getvalue(), out_dir


def api_run(digits, epochs=EPOCHS, **kwargs):
    """The same run through the Python API: (net, X_test, y_test)."""
    X, y = digits
    X_train, X_test, y_train, y_test = hn.datasets.train_test_split(X, y, test_size=0.2, seed=0)
    net = hn.MLP([64, 25, 10], seed=0)
    hn.train(net, X_train, y_train, epochs=epochs, progress=False, **kwargs)
    return net, X_test, y_test


# --------------------------------------------------------------------------- #
# handnet train
# --------------------------------------------------------------------------- #


def test_train_prints_results_and_exits_0(trained_run):
    status, out, err, out_dir = trained_run
    assert status == 0, err
    assert "MLP([64, 25, 10], hidden='sigmoid', output='sigmoid'" in out      # the architecture
    assert "layer" in out and "(64, 25)" in out
    assert "final training loss: " in out and f"after {EPOCHS} epochs" in out
    assert "validation accuracy: " in out and "% (" in out
    assert "held-out" not in out and "test digits" not in out          # one word for those rows
    for name in ("model.npz", "history.csv", "loss.png", "confusion.png"):
        assert str(out_dir / name) in out
    assert "interrupted" not in out + err


def test_train_writes_the_four_files(trained_run):
    *_, out_dir = trained_run
    assert sorted(p.name for p in out_dir.iterdir()) == ["confusion.png", "history.csv", "loss.png",
                                                         "model.npz"]
    for name in ("loss.png", "confusion.png"):
        assert (out_dir / name).read_bytes()[:8] == PNG


def test_train_history_csv(trained_run):
    *_, out_dir = trained_run
    history = pd.read_csv(out_dir / "history.csv")
    assert list(history.columns) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "penalty", "cost"]
    assert len(history) == EPOCHS + 1
    assert history["epoch"].tolist() == list(range(EPOCHS + 1))
    assert history["cost"].iloc[-1] < history["cost"].iloc[0]
    assert history["val_loss"].iloc[-1] < history["val_loss"].iloc[0]


def test_train_model_matches_the_api_and_the_printed_accuracy(trained_run, digits):
    _, out, _, out_dir = trained_run
    saved = hn.load(out_dir / "model.npz")
    net, X_test, y_test = api_run(digits)
    assert saved.layer_sizes == [64, 25, 10]
    np.testing.assert_allclose(saved.params, net.params, rtol=1e-12, atol=0)
    X, _ = digits
    np.testing.assert_array_equal(saved.predict(X), net.predict(X))
    accuracy = hn.accuracy(y_test, saved.predict(X_test))
    assert (f"validation accuracy: {100 * accuracy:.1f}% ({round(accuracy * len(y_test))} of {len(y_test)} "
            "validation digits)") in out
    history = pd.read_csv(out_dir / "history.csv")
    assert history["val_accuracy"].iloc[-1] == pytest.approx(accuracy)


def test_train_that_is_not_learning_prints_one_warning_line(capsys, tmp_path):
    """`--batch-size 64 --momentum 0.9` with the default lr 2 stays at chance: one line says why."""
    status, out, err = run_cli(capsys, "train", "--batch-size", 64, "--momentum", 0.9, "--epochs", 30,
                               "--no-progress", "--out", tmp_path)
    assert status == 0
    lines = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(lines) == 1 and "Traceback" not in err and "TrainingWarning" not in err
    assert lines[0].startswith("warning: training looks stuck at epoch 20: training accuracy has stayed at chance")
    assert lines[0].endswith("lr=2 with momentum=0.9 (steps up to lr/(1 - momentum) = 20 times the gradient); "
                             "try lr=0.2")


def test_train_with_an_l2_that_blows_up_the_weights_names_l2(capsys, tmp_path):
    status, out, err = run_cli(capsys, "train", "--l2", "1e308", "--no-progress", "--out", tmp_path)
    assert_one_line_error(status, out, err, "l2: 1e+308 is too large for lr=2 and 1438 rows")
    assert not (tmp_path / "model.npz").exists()


def test_train_defaults_agree_with_the_api():
    args = cli.build_parser().parse_args(["train"])
    assert args.data == "digits" and args.layers is None      # the layers follow the data:
    from handnet.cli.train import DATA, default_layers
    assert default_layers(DATA["digits"]) == [64, 25, 10]
    assert (args.epochs, args.lr, args.l2, args.momentum) == (
        DEFAULTS["epochs"], DEFAULTS["lr"], DEFAULTS["l2"], DEFAULTS["momentum"])
    assert (args.hidden, args.output, args.init) == ("sigmoid", "sigmoid", "glorot")
    assert args.batch_size is None and args.seed == 0 and args.test_size == 0.2
    assert args.out == "handnet-output" and args.no_progress is False


def test_train_passes_every_option_on(capsys, tmp_path):
    status, out, err = run_cli(capsys, "train", "--layers", 64, 16, 10, "--hidden", "tanh", "--output", "softmax",
                           "--init", "uniform", "--epochs", 3, "--lr", 0.3, "--l2", 0.5, "--batch-size", 100,
                           "--momentum", 0.5, "--seed", 3, "--test-size", 100, "--no-progress",
                           "--out", tmp_path)
    assert status == 0, err
    assert "training on 1697 digits, validating on 100: 3 epochs, lr 0.3, l2 0.5, batch size 100, " \
           "momentum 0.5, seed 3" in out
    assert "; with the L2 penalty J = " in out
    saved = hn.load(tmp_path / "model.npz")
    assert saved.layer_sizes == [64, 16, 10]
    assert (saved.hidden.name, saved.output.name, saved.cost) == ("tanh", "softmax", "softmax_cross_entropy")
    assert len(pd.read_csv(tmp_path / "history.csv")) == 4

    # ... and they are the API's arguments: the same run through hn.train gives the same network
    X, y = hn.datasets.load_digits()
    X_train, _, y_train, _ = hn.datasets.train_test_split(X, y, test_size=100, seed=3)
    net = hn.MLP([64, 16, 10], hidden="tanh", output="softmax", init="uniform", seed=3)
    hn.train(net, X_train, y_train, epochs=3, lr=0.3, l2=0.5, batch_size=100, momentum=0.5, seed=3,
             progress=False)
    np.testing.assert_allclose(saved.params, net.params, rtol=1e-12, atol=1e-15)


def test_train_ctrl_c_still_saves_everything(capsys, tmp_path, monkeypatch):
    original = hn.train

    def train_then_ctrl_c(*args, **kwargs):
        def press_ctrl_c(epoch, net, row):
            if epoch == 5:
                signal.raise_signal(signal.SIGINT)      # what Ctrl-C sends
        return original(*args, callback=press_ctrl_c, **kwargs)

    monkeypatch.setattr(hn, "train", train_then_ctrl_c)
    status, out, err = run_cli(capsys, "train", "--epochs", 1000, "--no-progress", "--out", tmp_path)
    assert status == 130
    assert "training interrupted after epoch" in out
    history = pd.read_csv(tmp_path / "history.csv")
    assert 5 <= history["epoch"].iloc[-1] < 1000
    saved = hn.load(tmp_path / "model.npz")
    assert (tmp_path / "loss.png").read_bytes()[:8] == PNG
    assert (tmp_path / "confusion.png").read_bytes()[:8] == PNG
    # the saved network is the one the history's last row describes
    X, y = hn.datasets.load_digits()
    X_train, _, y_train, _ = hn.datasets.train_test_split(X, y, seed=0)
    assert hn.cost(saved, X_train, y_train) == pytest.approx(history["cost"].iloc[-1], rel=1e-12)


@pytest.mark.parametrize("argv, fragments", [
    (["--layers", "32", "10"], ["--layers", "64", "got 32"]),
    (["--data", "mnist", "--layers", "64", "25", "10"], ["--layers", "--data mnist", "784", "got 64"]),
    (["--data", "mnist20", "--layers", "784", "25", "10"], ["--layers", "--data mnist20", "400", "got 784"]),
    (["--layers", "64", "25", "3"], ["--layers", "10"]),
    (["--epochs", "0"], ["epochs"]),
    (["--lr", "-1"], ["lr"]),
    (["--l2", "-0.5"], ["l2"]),
    (["--momentum", "1.5"], ["momentum"]),
    (["--batch-size", "0"], ["batch_size"]),
    (["--test-size", "1.5"], ["test_size"]),
    (["--output", "identity", "--hidden", "identity", "--lr", "10"], ["diverged", "smaller lr"]),
])
def test_train_bad_values_are_one_line_errors(capsys, tmp_path, argv, fragments):
    status, out, err = run_cli(capsys, "train", "--epochs", 20, "--no-progress", "--out", tmp_path / "o", *argv)
    assert_one_line_error(status, out, err, *fragments)


def test_train_out_must_be_a_folder(capsys, tmp_path):
    file = tmp_path / "a-file"
    file.write_text("x")
    status, out, err = run_cli(capsys, "train", "--epochs", 2, "--no-progress", "--out", file)
    assert_one_line_error(status, out, err, "--out", "not a folder")
    assert "training on" not in out                    # it fails before training, not after


@pytest.mark.parametrize("argv", [
    ["train", "--epochs", "ten"],
    ["train", "--hidden", "swish"],
    ["train", "--layers"],
    ["train", "--test-size", "a fifth"],
    ["train", "--bogus"],
    ["gradcheck", "--threshold", "tiny"],
    ["frobnicate"],
    [],
])
def test_usage_errors_exit_2(capsys, argv):
    status, out, err = run_cli(capsys, *argv)
    assert status == 2
    assert "usage: handnet" in err and "error:" in err
    assert "Traceback" not in err


# --------------------------------------------------------------------------- #
# handnet gradcheck
# --------------------------------------------------------------------------- #


def test_gradcheck_fresh_network_passes(capsys):
    status, out, err = run_cli(capsys, "gradcheck")
    assert status == 0, out + err
    assert "MLP([64, 25, 10], hidden='sigmoid'" in out
    assert "first 20 shipped digits" in out and "l2 1," in out
    assert "Gradient check PASSED" in out
    assert "1885 of 1885 entries" in out                 # every entry by default


def test_gradcheck_saved_model_passes(capsys, trained_run):
    *_, out_dir = trained_run
    status, out, err = run_cli(capsys, "gradcheck", "--model", out_dir / "model.npz", "--subset", 30,
                           "--directional")
    assert status == 0, out + err
    assert f"the model {out_dir / 'model.npz'}" in out
    assert "PASSED" in out and "random direction" in out
    assert "30 of 1885 entries" not in out               # 30 per array: W0, b0 (25), W1, b1 (10)
    assert "95 of 1885 entries" in out


def test_gradcheck_random_inputs_for_other_widths(capsys):
    status, out, err = run_cli(capsys, "gradcheck", "--layers", 5, 4, 3, "--hidden", "tanh", "--output", "softmax",
                           "--samples", 8, "--seed", 2)
    assert status == 0, out + err
    assert "8 standard-normal rows (seed 2) with random labels 0..2" in out
    assert "39 of 39 entries" in out


def test_gradcheck_single_sigmoid_output_gets_binary_labels(capsys):
    status, out, _ = run_cli(capsys, "gradcheck", "--layers", 64, 3, 1, "--samples", 5)
    assert status == 0
    assert "first 5 shipped digits with random labels 0..1" in out


def test_gradcheck_fails_with_exit_1_on_a_wrong_gradient(capsys, monkeypatch):
    # A classic bug: backprop that forgets the regularisation term (lambda/m) W of dJ/dW.
    # The CLI cannot be given a gradient, so replace the one the checker computes.
    real = gradcheck._cost_and_gradient

    def forgets_l2(net, X, Y, l2, cost_name, out=None):
        return real(net, X, Y, 0.0, cost_name, out=out)

    monkeypatch.setattr(gradcheck, "_cost_and_gradient", forgets_l2)
    status, out, _ = run_cli(capsys, "gradcheck", "--subset", 20)
    assert status == 1
    assert "Gradient check FAILED" in out
    assert "entries above the threshold" in out
    # the bug only shows with regularisation on; --l2 0 passes (that is why the default is 1)
    status, out, _ = run_cli(capsys, "gradcheck", "--subset", 20, "--l2", 0)
    assert status == 0 and "PASSED" in out


def test_gradcheck_options_reach_check_gradient(capsys, monkeypatch):
    seen = {}
    real = hn.check_gradient

    def spy(net, X, Y, **kwargs):
        seen.update(kwargs, n_rows=len(X), layers=net.layer_sizes, hidden=net.hidden.name)
        return real(net, X, Y, **kwargs)

    monkeypatch.setattr(hn, "check_gradient", spy)
    status, out, _ = run_cli(capsys, "gradcheck", "--layers", 64, 7, 10, "--hidden", "relu", "--samples", 6,
                         "--l2", 0.25, "--h", 1e-4, "--threshold", 1e-300, "--subset", 4, "--directional",
                         "--seed", 9)
    assert seen == {"l2": 0.25, "h": 1e-4, "threshold": 1e-300, "subset": 4, "directional": True, "seed": 9,
                    "n_rows": 6, "layers": [64, 7, 10], "hidden": "relu"}
    assert status == 1 and "FAILED" in out           # nothing is that exact


def test_gradcheck_defaults():
    args = cli.build_parser().parse_args(["gradcheck"])
    assert (args.samples, args.l2, args.h, args.threshold, args.subset, args.directional, args.seed) == (
        20, 1.0, gradcheck.DEFAULT_H, gradcheck.DEFAULT_THRESHOLD, None, False, 0)


def test_gradcheck_missing_model_is_a_one_line_error(capsys, tmp_path):
    status, out, err = run_cli(capsys, "gradcheck", "--model", tmp_path / "missing.npz")
    assert_one_line_error(status, out, err, "missing.npz")


def test_gradcheck_not_a_model_is_a_one_line_error(capsys, tmp_path):
    bad = tmp_path / "notes.npz"
    bad.write_text("not a model\n")
    status, out, err = run_cli(capsys, "gradcheck", "--model", bad)
    assert_one_line_error(status, out, err, "not a valid handnet model file")


@pytest.mark.parametrize("argv, fragment", [
    (["--samples", "0"], "--samples"),
    (["--samples", "5000"], "1797"),
    (["--h", "0"], "h"),
    (["--threshold", "-1"], "threshold"),
    (["--subset", "0"], "subset"),
    (["--l2", "-1"], "l2"),
    (["--layers", "64"], "layer_sizes"),
])
def test_gradcheck_bad_values_are_one_line_errors(capsys, argv, fragment):
    status, out, err = run_cli(capsys, "gradcheck", *argv)
    assert_one_line_error(status, out, err, fragment)


def test_gradcheck_model_and_layers_conflict(capsys, trained_run):
    *_, out_dir = trained_run
    status, out, err = run_cli(capsys, "gradcheck", "--model", out_dir / "model.npz", "--layers", 64, 10)
    assert status == 2
    assert "--model" in err and "--layers" in err and "Traceback" not in err


# --------------------------------------------------------------------------- #
# Help, version, entry points, import hygiene
# --------------------------------------------------------------------------- #


def test_top_level_help_explains_and_lists_commands(capsys):
    status, out, _ = run_cli(capsys, "--help")
    assert status == 0
    assert "neural network" in out and "NumPy" in out
    lines = out.splitlines()
    for command in ("train", "gradcheck"):
        assert any(line.strip().startswith(command + " ") for line in lines), command


@pytest.mark.parametrize("command, options", [("train", TRAIN_OPTIONS), ("gradcheck", GRADCHECK_OPTIONS)])
def test_subcommand_help_mentions_every_option_and_an_example(capsys, command, options):
    status, out, _ = run_cli(capsys, command, "--help")
    assert status == 0
    for option in options:
        assert option in out, option
    assert "examples:" in out and f"handnet {command} --" in out


def test_every_option_has_help_text():
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if a.choices and "train" in a.choices).choices
    for p in [parser, *subparsers.values()]:
        for action in p._actions:
            if action.dest == "command":        # the list of commands; each command has its help
                continue
            assert action.help, f"{p.prog}: {action.option_strings or action.dest} has no help"
    assert set(subparsers) == {"train", "gradcheck", "explain", "convert", "exercises", "assign", "validate", "check",
                               "grade", "gradescope", "lessons"}
    # and the tests' lists are complete
    for name, options in (("train", TRAIN_OPTIONS), ("gradcheck", GRADCHECK_OPTIONS)):
        declared = {s for a in subparsers[name]._actions for s in a.option_strings if s.startswith("--")}
        assert declared - {"--help"} == set(options)


def test_version(capsys):
    status, out, _ = run_cli(capsys, "--version")
    assert status == 0 and out.strip() == f"handnet {hn.__version__}"


def test_python_dash_m_handnet_help():
    result = subprocess.run([sys.executable, "-m", "handnet", "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: handnet ")
    assert "gradcheck" in result.stdout


def test_python_dash_m_handnet_error_exit_status(tmp_path):
    result = subprocess.run([sys.executable, "-m", "handnet", "gradcheck", "--model", str(tmp_path / "x.npz")],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("handnet: error: ") and result.stderr.count("\n") == 1


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("handnet")
    if not script.exists():
        pytest.skip("the handnet console script is not installed next to this python")
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == f"handnet {hn.__version__}"


def test_import_handnet_stays_light():
    """Neither the package, nor its command, nor its plotting modules (training and explanations),
    nor the exercises import the drawing libraries."""
    code = ("import sys, handnet, handnet.cli, handnet.plots, handnet.explain, handnet.explain.plots, "
            "handnet.exercises\n"
            "heavy = [m for m in ('matplotlib', 'seaborn', 'tqdm') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("data, n_inputs", [("mnist", 784), ("mnist20", 400)])
def test_train_on_mnist_sizes_the_first_layer_from_the_data(capsys, tmp_path, data, n_inputs):
    status, out, err = run_cli(capsys, "train", "--data", data, "--epochs", 2, "--test-size", 1000,
                               "--no-progress", "--out", tmp_path)
    assert status == 0, err
    saved = hn.load(tmp_path / "model.npz")
    assert saved.layer_sizes == [n_inputs, 25, 10]
    assert "training on 4000 digits, validating on 1000" in out
    # the validation digits are the loader's, split as the command says
    X, y = hn.datasets.load_mnist(size=28 if data == "mnist" else 20)
    _, X_test, _, y_test = hn.datasets.train_test_split(X, y, test_size=1000, seed=0)
    accuracy = hn.accuracy(y_test, saved.predict(X_test))
    assert f"validation accuracy: {100 * accuracy:.1f}% ({round(accuracy * 1000)} of 1000" in out


def test_train_on_mnist_accepts_its_own_layers(capsys, tmp_path):
    status, _, err = run_cli(capsys, "train", "--data", "mnist20", "--layers", 400, 14, 10, "--epochs", 1,
                             "--no-progress", "--out", tmp_path)
    assert status == 0, err
    assert hn.load(tmp_path / "model.npz").layer_sizes == [400, 14, 10]
