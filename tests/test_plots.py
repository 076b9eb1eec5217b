"""Tests for handnet.plots: every function returns a Figure and writes a PNG."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import handnet as hn
from handnet import plots

PNG = b"\x89PNG\r\n\x1a\n"


def is_png(path):
    with open(path, "rb") as fh:
        return fh.read(8) == PNG


@pytest.fixture(scope="module")
def trained(digits):
    X, y = digits
    X_train, X_test, y_train, y_test = hn.datasets.train_test_split(X, y, seed=0)
    net = hn.MLP([64, 12, 10], seed=0)
    history = hn.train(net, X_train, y_train, epochs=20, progress=False, validation=(X_test, y_test))
    return net, history, hn.confusion_matrix(y_test, net.predict(X_test))


# --------------------------------------------------------------------------- #
# plot_history
# --------------------------------------------------------------------------- #


def test_plot_history_returns_figure_and_writes_png(trained, tmp_path):
    _, history, _ = trained
    path = tmp_path / "loss.png"
    fig = plots.plot_history(history, path)
    assert isinstance(fig, Figure)
    assert is_png(path)
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_xlabel() == "epoch" and loss_ax.get_ylabel() == "data loss (cross entropy)"
    assert acc_ax.get_ylabel() == "accuracy"
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["training", "validation"]
    assert [t.get_text() for t in acc_ax.get_legend().get_texts()] == ["training", "validation"]
    assert "Training history" in fig._suptitle.get_text()
    # the curves are the history's numbers: the data loss on both sets (l2 = 0, so J is the loss)
    np.testing.assert_array_equal(loss_ax.lines[0].get_ydata(), history["loss"])
    np.testing.assert_array_equal(loss_ax.lines[1].get_ydata(), history["val_loss"])


def test_plot_history_with_a_penalty_draws_the_data_loss_and_j_dashed(digits):
    """With l2 > 0 the two solid curves are the same quantity (the data loss) on both sets;
    J = loss + penalty, what descent minimised, is the dashed training curve."""
    X, y = digits
    X_train, X_test, y_train, y_test = hn.datasets.train_test_split(X, y, seed=0)
    history = hn.train(hn.MLP([64, 12, 10], seed=0), X_train, y_train, epochs=10, l2=1.0, progress=False,
                       validation=(X_test, y_test))
    ax = plots.plot_history(history).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training", "validation",
                                                                   "training J = loss + L2 penalty"]
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), history["val_loss"])
    np.testing.assert_array_equal(ax.lines[2].get_ydata(), history["cost"])
    assert ax.lines[2].get_linestyle() == "--"


def test_plot_history_without_path_writes_nothing(trained, tmp_path, monkeypatch):
    _, history, _ = trained
    monkeypatch.chdir(tmp_path)
    assert isinstance(plots.plot_history(history), Figure)
    assert os.listdir(tmp_path) == []


def test_plot_history_cost_only_has_one_panel(tmp_path):
    # a regression history (identity output): no accuracy columns, no validation
    history = pd.DataFrame({"epoch": [0, 1, 2, 3], "cost": [1.0, 0.5, 0.3, 0.2]})
    fig = plots.plot_history(history, tmp_path / "cost.png")
    assert len(fig.axes) == 1
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["training"]
    assert is_png(tmp_path / "cost.png")


def test_plot_history_log_scale_when_the_cost_falls_far(trained):
    _, history, _ = trained
    falling = history.copy()
    falling["loss"] = np.geomspace(10, 1e-3, len(falling))
    falling["val_loss"] = falling["loss"]
    assert plots.plot_history(falling).axes[0].get_yscale() == "log"
    flat = pd.DataFrame({"epoch": [0, 1], "cost": [1.0, 0.9]})
    assert plots.plot_history(flat).axes[0].get_yscale() == "linear"


def test_plot_history_marks_an_interrupted_run(trained):
    _, history, _ = trained
    cut = history.iloc[:5].copy()
    cut.attrs = dict(history.attrs, interrupted=True)
    assert "interrupted after epoch 4" in plots.plot_history(cut)._suptitle.get_text()


def test_plot_history_accepts_a_dict():
    fig = plots.plot_history({"epoch": [0, 1], "cost": [2.0, 1.0], "accuracy": [0.1, 0.5]})
    assert len(fig.axes) == 2


@pytest.mark.parametrize("bad, error", [
    ([1, 2, 3], TypeError),
    (pd.DataFrame({"epoch": [0, 1]}), ValueError),
    (pd.DataFrame({"loss": [1.0, 0.5]}), ValueError),
    (pd.DataFrame({"epoch": [], "cost": []}), ValueError),
])
def test_plot_history_rejects_bad_input(bad, error):
    with pytest.raises(error, match="history"):
        plots.plot_history(bad)


# --------------------------------------------------------------------------- #
# plot_confusion_matrix
# --------------------------------------------------------------------------- #


def test_plot_confusion_matrix_returns_figure_and_writes_png(trained, tmp_path):
    _, _, cm = trained
    path = tmp_path / "sub" / "confusion.png"          # missing folders are created
    fig = plots.plot_confusion_matrix(cm, path)
    assert isinstance(fig, Figure)
    assert is_png(path)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(c) for c in cm.columns]
    assert [t.get_text() for t in ax.get_yticklabels()] == [str(i) for i in cm.index]
    total, correct = cm.to_numpy().sum(), np.trace(cm.to_numpy())
    assert f"{100 * correct / total:.1f}% correct ({correct} of {total})" in ax.get_title()
    # every non-zero count is written in its cell; zeros are left blank
    texts = sorted(t.get_text() for t in ax.texts if t.get_text())
    assert texts == sorted(str(v) for v in cm.to_numpy().ravel() if v > 0)


def test_plot_confusion_matrix_normalized(trained, tmp_path):
    _, _, cm = trained
    fig = plots.plot_confusion_matrix(cm, tmp_path / "n.png", normalize=True)
    assert is_png(tmp_path / "n.png")
    ax = fig.axes[0]
    assert "normalised" in ax.get_title()
    texts = [t.get_text() for t in ax.texts if t.get_text()]
    assert texts and all(t.endswith("%") for t in texts)
    counts = cm.to_numpy()
    expected = sorted(f"{100 * v:.0f}%" for v in (counts / counts.sum(axis=1, keepdims=True)).ravel() if v > 0)
    assert sorted(texts) == expected


def test_plot_confusion_matrix_from_a_plain_array():
    fig = plots.plot_confusion_matrix(np.array([[5, 1], [0, 4]]))
    texts = sorted(t.get_text() for t in fig.axes[0].texts if t.get_text())
    assert texts == ["1", "4", "5"]


@pytest.mark.parametrize("bad, error", [
    (np.arange(4), ValueError),
    (np.array([[1, -1], [0, 2]]), ValueError),
    (np.array([["a", "b"], ["c", "d"]]), TypeError),
])
def test_plot_confusion_matrix_rejects_bad_input(bad, error):
    with pytest.raises(error, match="cm"):
        plots.plot_confusion_matrix(bad)


# --------------------------------------------------------------------------- #
# save_figure and import hygiene
# --------------------------------------------------------------------------- #


def test_save_figure_is_atomic_and_replaces(tmp_path):
    fig = plots.plot_confusion_matrix(np.eye(3, dtype=int) * 4)
    path = tmp_path / "fig.png"
    path.write_bytes(b"old")
    assert plots.save_figure(fig, path) == str(path)
    assert is_png(path)
    assert sorted(os.listdir(tmp_path)) == ["fig.png"]       # no temporary file left behind


def test_save_figure_failure_keeps_the_old_file(tmp_path, monkeypatch):
    fig = plots.plot_confusion_matrix(np.eye(2, dtype=int))
    path = tmp_path / "fig.png"
    path.write_bytes(b"old")

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(RuntimeError):
        plots.save_figure(fig, path)
    assert path.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["fig.png"]


def test_save_figure_rejects_non_figures(tmp_path):
    with pytest.raises(TypeError, match="fig"):
        plots.save_figure("not a figure", tmp_path / "x.png")
    with pytest.raises(TypeError, match="path"):
        plots.save_figure(Figure(), 42)


def test_plots_do_not_use_pyplot_state():
    # Building figures must not register them with pyplot (no global state, no GUI windows).
    code = ("import numpy as np, handnet.plots as P\n"
            "P.plot_confusion_matrix(np.eye(3, dtype=int))\n"
            "P.plot_history({'epoch': [0, 1], 'cost': [1.0, 0.5]})\n"
            "import matplotlib.pyplot as plt\n"
            "assert plt.get_fignums() == [], plt.get_fignums()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# Importing handnet.plots stays light: tests/test_cli.py::test_import_handnet_stays_light checks it.
