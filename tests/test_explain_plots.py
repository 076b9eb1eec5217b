"""Tests for handnet.explain.plots: every function returns a Figure, writes a PNG and checks its arguments."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from handnet.explain import plots

PNG = b"\x89PNG\r\n\x1a\n"


def is_png(path):
    with open(path, "rb") as fh:
        return fh.read(8) == PNG and os.path.getsize(path) > 1000


def panels(fig):
    """The axes with a heatmap (not the colour bars), in the order they were made."""
    return [ax for ax in fig.axes if ax.collections and ax.get_label() != "<colorbar>"]


def meshes(fig):
    """The heatmaps' QuadMeshes, in the order the axes were made."""
    return [ax.collections[0] for ax in panels(fig)]


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(0)


# --------------------------------------------------------------------------- #
# plot_map
# --------------------------------------------------------------------------- #


def test_plot_map_returns_figure_and_writes_png(tmp_path, rng):
    values = rng.normal(size=64)
    path = tmp_path / "sub" / "map.png"                   # missing folders are created
    fig = plots.plot_map(values, (8, 8), title="a map", path=path)
    assert isinstance(fig, Figure)
    assert is_png(path)
    assert fig._suptitle.get_text() == "a map"
    mesh = meshes(fig)[0]
    # the cells are the values, reshaped row by row
    np.testing.assert_array_equal(np.asarray(mesh.get_array()).reshape(8, 8), values.reshape(8, 8))


def test_plot_map_without_path_writes_nothing(tmp_path, monkeypatch, rng):
    monkeypatch.chdir(tmp_path)
    assert isinstance(plots.plot_map(rng.normal(size=16)), Figure)
    assert os.listdir(tmp_path) == []


def test_plot_map_signed_is_diverging_and_centred_at_zero(rng):
    values = rng.normal(size=64)
    values[3] = 5.0
    mesh = meshes(plots.plot_map(values, (8, 8)))[0]
    assert mesh.get_cmap().name == plots.DIVERGING_CMAP
    assert mesh.norm.vmin == -5.0 and mesh.norm.vmax == 5.0


def test_plot_map_non_negative_is_sequential_from_zero(rng):
    values = np.abs(rng.normal(size=64))
    mesh = meshes(plots.plot_map(values, (8, 8)))[0]
    assert mesh.get_cmap().name == plots.SEQUENTIAL_CMAP
    assert mesh.norm.vmin == 0.0 and mesh.norm.vmax == pytest.approx(values.max())


def test_plot_map_all_zero_is_fine():
    mesh = meshes(plots.plot_map(np.zeros(64), (8, 8)))[0]
    assert mesh.norm.vmin == 0.0 and mesh.norm.vmax == 1.0


def test_plot_map_with_the_input_on_the_left(tmp_path, rng):
    image, values = rng.uniform(size=64), rng.normal(size=64)
    fig = plots.plot_map(values, (8, 8), image=image, path=tmp_path / "m.png")
    assert is_png(tmp_path / "m.png")
    image_mesh, map_mesh = meshes(fig)
    left, right = panels(fig)
    assert left.get_position().x0 < right.get_position().x0
    assert image_mesh.get_cmap().name == plots.IMAGE_CMAP
    np.testing.assert_array_equal(np.asarray(image_mesh.get_array()).reshape(8, 8), image.reshape(8, 8))
    np.testing.assert_array_equal(np.asarray(map_mesh.get_array()).reshape(8, 8), values.reshape(8, 8))


def test_plot_map_transpose_reads_column_major_data(rng):
    # The course's 20x20 digits are flattened column by column (Octave's X(:)).
    picture = rng.normal(size=(20, 20))
    column_major = picture.ravel(order="F")
    fig = plots.plot_map(column_major, (20, 20), image=np.abs(column_major), transpose=True)
    image_mesh, map_mesh = meshes(fig)
    np.testing.assert_array_equal(np.asarray(map_mesh.get_array()).reshape(20, 20), picture)
    np.testing.assert_array_equal(np.asarray(image_mesh.get_array()).reshape(20, 20), np.abs(picture))


def test_plot_map_default_shape_is_square_or_one_row(rng):
    assert np.asarray(meshes(plots.plot_map(rng.normal(size=25)))[0].get_array()).size == 25
    mesh = meshes(plots.plot_map(rng.normal(size=7)))[0]
    assert mesh.get_coordinates().shape[:2] == (2, 8)    # one row of 7 cells: 2 x 8 corners


def test_plot_map_non_square_image(rng):
    values = rng.normal(size=12)
    fig = plots.plot_map(values, (3, 4), image=rng.uniform(size=12))
    np.testing.assert_array_equal(np.asarray(meshes(fig)[1].get_array()).reshape(3, 4), values.reshape(3, 4))


@pytest.mark.parametrize("kwargs, error, fragment", [
    ({"values": np.zeros((8, 8))}, ValueError, "values"),
    ({"values": np.zeros(0)}, ValueError, "values"),
    ({"values": ["a"] * 4}, TypeError, "values"),
    ({"values": [1.0, np.nan, 0.0, 1.0]}, ValueError, "values"),
    ({"image_shape": (8, 7)}, ValueError, "image_shape"),
    ({"image_shape": (8,)}, TypeError, "image_shape"),
    ({"image_shape": "8x8"}, TypeError, "image_shape"),
    ({"image_shape": (8.0, 8.0)}, TypeError, "image_shape"),
    ({"image_shape": (-8, -8)}, ValueError, "image_shape"),
    ({"image": np.zeros(63)}, ValueError, "image"),
    ({"image": np.zeros((8, 8))}, ValueError, "image"),
    ({"transpose": "yes"}, TypeError, "transpose"),
    ({"title": 3}, TypeError, "title"),
    ({"path": 42}, TypeError, "path"),
])
def test_plot_map_rejects_bad_arguments(kwargs, error, fragment):
    arguments = {"values": np.zeros(64), "image_shape": (8, 8), **kwargs}
    with pytest.raises(error, match=fragment):
        plots.plot_map(**arguments)


# --------------------------------------------------------------------------- #
# plot_class_maps
# --------------------------------------------------------------------------- #


def test_plot_class_maps_one_panel_per_class_on_a_shared_symmetric_scale(tmp_path, rng):
    maps = rng.normal(size=(10, 64))
    maps[7, 5] = -9.0
    path = tmp_path / "regions.png"
    fig = plots.plot_class_maps(maps, (8, 8), path=path)
    assert isinstance(fig, Figure)
    assert is_png(path)
    assert [ax.get_title() for ax in panels(fig)] == [f"class {k}" for k in range(10)]
    for k, mesh in enumerate(meshes(fig)):
        assert (mesh.norm.vmin, mesh.norm.vmax) == (-9.0, 9.0)
        assert mesh.get_cmap().name == plots.DIVERGING_CMAP
        np.testing.assert_array_equal(np.asarray(mesh.get_array()).reshape(8, 8), maps[k].reshape(8, 8))


def test_plot_class_maps_scale_is_symmetric_for_non_negative_maps_too(rng):
    maps = np.abs(rng.normal(size=(3, 16)))
    for mesh in meshes(plots.plot_class_maps(maps, (4, 4))):
        assert mesh.norm.vmin == -maps.max() and mesh.norm.vmax == maps.max()


def test_plot_class_maps_titles_transpose_and_a_partial_grid(rng):
    pictures = rng.normal(size=(7, 4, 5))
    maps = np.stack([p.ravel(order="F") for p in pictures])
    names = [f"digit {k}" for k in range(7)]
    fig = plots.plot_class_maps(maps, (4, 5), transpose=True, titles=names, title="regions")
    assert [ax.get_title() for ax in panels(fig)] == names
    assert fig._suptitle.get_text() == "regions"
    for mesh, picture in zip(meshes(fig), pictures):
        np.testing.assert_array_equal(np.asarray(mesh.get_array()).reshape(4, 5), picture)
    # 7 panels on a 2 x 4 grid: the unused axis is hidden
    assert sum(not ax.axison for ax in fig.axes) == 1


def test_plot_class_maps_one_class(tmp_path):
    plots.plot_class_maps(np.ones((1, 64)), (8, 8), path=tmp_path / "one.png")
    assert is_png(tmp_path / "one.png")


@pytest.mark.parametrize("kwargs, error, fragment", [
    ({"maps": np.zeros(64)}, ValueError, "maps"),
    ({"maps": np.zeros((0, 64))}, ValueError, "maps"),
    ({"maps": np.full((2, 64), np.inf)}, ValueError, "maps"),
    ({"image_shape": (8, 9)}, ValueError, "image_shape"),
    ({"titles": ["a", "b"]}, ValueError, "titles"),
    ({"titles": "abc"}, TypeError, "titles"),
    ({"titles": [1, 2, 3]}, TypeError, "titles"),
    ({"transpose": 1}, TypeError, "transpose"),
])
def test_plot_class_maps_rejects_bad_arguments(kwargs, error, fragment):
    arguments = {"maps": np.zeros((3, 64)), "image_shape": (8, 8), **kwargs}
    with pytest.raises(error, match=fragment):
        plots.plot_class_maps(**arguments)


# --------------------------------------------------------------------------- #
# plot_attribution_rows
# --------------------------------------------------------------------------- #

FIELDS = [("Store Number", 4), ("Market", 1), ("Hour", 2), ("Weekday", 7)]


def test_plot_attribution_rows_returns_figure_and_writes_png(tmp_path, rng):
    A = rng.normal(size=(6, 64))
    path = tmp_path / "rows.png"
    fig = plots.plot_attribution_rows(A, path=path, title="why")
    assert isinstance(fig, Figure)
    assert is_png(path)
    ax = fig.axes[0]
    assert ax.get_title() == "why"
    assert ax.get_xlabel() == "feature" and ax.get_ylabel() == "row"
    np.testing.assert_array_equal(np.asarray(ax.collections[0].get_array()).reshape(6, 64), A)
    assert ax.collections[0].get_cmap().name == plots.DIVERGING_CMAP


def test_plot_attribution_rows_with_fields(tmp_path, rng):
    A = np.abs(rng.normal(size=(30, 14)))
    fig = plots.plot_attribution_rows(A, fields=FIELDS, path=tmp_path / "f.png")
    assert is_png(tmp_path / "f.png")                     # with fields: separators and names drawn
    ax = fig.axes[0]
    assert ax.collections[0].get_cmap().name == plots.SEQUENTIAL_CMAP
    assert [t.get_text() for t in ax.get_xticklabels()] == [name for name, _ in FIELDS]
    np.testing.assert_allclose(ax.get_xticks(), [2.0, 4.5, 6.0, 10.5])        # the fields' centres
    separators = sorted(line.get_xdata()[0] for line in ax.lines)
    assert separators == [4, 5, 7]                                            # between the fields


def test_plot_attribution_rows_takes_row_labels_from_a_dataframe(rng):
    A = pd.DataFrame(rng.normal(size=(3, 4)), index=["ann", "bob", "cy"])
    ax = plots.plot_attribution_rows(A).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["ann", "bob", "cy"]


def test_plot_attribution_rows_many_rows(rng):
    fig = plots.plot_attribution_rows(rng.normal(size=(31, 8)))
    assert fig.axes[0].collections[0].get_linewidth()[0] == 0          # no cell borders when crowded


@pytest.mark.parametrize("kwargs, error, fragment", [
    ({"A": np.zeros(14)}, ValueError, "A"),
    ({"A": np.zeros((2, 0))}, ValueError, "A"),
    ({"A": [["x"] * 14] * 2}, TypeError, "A"),
    ({"fields": [("a", 4), ("b", 4)]}, ValueError, "fields"),
    ({"fields": [("a", 0), ("b", 14)]}, ValueError, "fields"),
    ({"fields": [("a", 2.5), ("b", 11.5)]}, TypeError, "fields"),
    ({"fields": ["ab"]}, TypeError, "fields"),
    ({"fields": "a"}, TypeError, "fields"),
    ({"fields": []}, ValueError, "fields"),
    ({"title": ["t"]}, TypeError, "title"),
])
def test_plot_attribution_rows_rejects_bad_arguments(kwargs, error, fragment):
    arguments = {"A": np.zeros((2, 14)), **kwargs}
    with pytest.raises(error, match=fragment):
        plots.plot_attribution_rows(**arguments)


# --------------------------------------------------------------------------- #
# plot_field_bars
# --------------------------------------------------------------------------- #


def summary_table():
    """Shaped like hn.explain.field_summary's answer (indexed by field, sorted by rank)."""
    return pd.DataFrame({"start": [0, 4, 5, 7], "width": [4, 1, 2, 7],
                         "sum": [0.5, 2.0, 0.1, 1.0], "mean": [0.125, 2.0, 0.05, 1 / 7],
                         "max": [0.3, 2.0, 0.06, 0.4], "rank": [3, 1, 4, 2]},
                        index=pd.Index([name for name, _ in FIELDS], name="field"))


def test_plot_field_bars_most_important_on_top(tmp_path):
    path = tmp_path / "bars.png"
    fig = plots.plot_field_bars(summary_table(), path=path)
    assert isinstance(fig, Figure)
    assert is_png(path)
    ax = fig.axes[0]
    # read top to bottom (the y axis is inverted so the first bar is on top)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    widths = [bar.get_width() for bar in ax.patches]
    assert ax.yaxis_inverted()
    assert labels == ["Market", "Weekday", "Store Number", "Hour"]
    assert widths == [2.0, 1.0, 0.5, 0.1]
    assert ax.get_xlabel() == "sum"
    assert "sum" in ax.get_title()


def test_plot_field_bars_other_column_and_signed_values():
    table = summary_table()
    table["mean"] = [-3.0, 1.0, 0.5, -0.2]
    fig = plots.plot_field_bars(table, column="mean", title="signed")
    ax = fig.axes[0]
    assert ax.get_title() == "signed"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Store Number", "Market", "Hour", "Weekday"]
    colours = [to_hex(bar.get_facecolor()) for bar in ax.patches]
    assert colours == [plots.NEGATIVE_COLOR, plots.POSITIVE_COLOR, plots.POSITIVE_COLOR, plots.NEGATIVE_COLOR]


def test_plot_field_bars_by_rank_puts_rank_1_on_top():
    ax = plots.plot_field_bars(summary_table(), column="rank").axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Market", "Weekday", "Store Number", "Hour"]


@pytest.mark.parametrize("kwargs, error, fragment", [
    ({"summary": np.zeros((4, 2))}, TypeError, "summary"),
    ({"summary": summary_table().iloc[:0]}, ValueError, "summary"),
    ({"column": "total"}, ValueError, "column"),
    ({"column": 2}, TypeError, "column"),
    ({"title": 1.5}, TypeError, "title"),
])
def test_plot_field_bars_rejects_bad_arguments(kwargs, error, fragment):
    arguments = {"summary": summary_table(), **kwargs}
    with pytest.raises(error, match=fragment):
        plots.plot_field_bars(**arguments)


def test_plot_field_bars_rejects_non_numbers():
    table = summary_table()
    table["sum"] = ["a", "b", "c", "d"]
    with pytest.raises(TypeError, match="sum"):
        plots.plot_field_bars(table)


# --------------------------------------------------------------------------- #
# The grid of rows next to their inputs (used by handnet explain)
# --------------------------------------------------------------------------- #


def test_row_maps_grid_scales_each_row_to_its_largest_value(rng):
    maps = np.abs(rng.normal(size=(5, 64))) * np.array([[1e-3], [1.0], [5.0], [0.1], [2.0]])
    images = rng.uniform(size=(5, 64))
    fig = plots._plot_row_maps(maps, images, (8, 8), titles=[f"t{k}" for k in range(5)],
                               image_titles=[f"row {k}" for k in range(5)])     # saved: tests/test_cli_explain.py
    drawn = meshes(fig)
    assert len(drawn) == 10                                  # an image and a map per row
    for k in range(5):
        image_mesh, map_mesh = drawn[2 * k], drawn[2 * k + 1]
        np.testing.assert_allclose(np.asarray(map_mesh.get_array()).reshape(8, 8),
                                   (maps[k] / maps[k].max()).reshape(8, 8))
        np.testing.assert_array_equal(np.asarray(image_mesh.get_array()).reshape(8, 8), images[k].reshape(8, 8))
        assert map_mesh.axes.get_title() == f"t{k} (max {maps[k].max():.2g})"
        assert image_mesh.axes.get_title() == f"row {k}"


def test_row_maps_grid_rejects_mismatched_images():
    with pytest.raises(ValueError, match="images"):
        plots._plot_row_maps(np.zeros((2, 64)), np.zeros((3, 64)), (8, 8), titles=None, image_titles=None)


# --------------------------------------------------------------------------- #
# Import hygiene
# --------------------------------------------------------------------------- #




def test_explain_plots_do_not_use_pyplot_state():
    # Building figures registers none with pyplot (no global state, no GUI windows). seaborn has
    # imported pyplot into this process already, so this is checked here rather than in a subprocess.
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plots.plot_map(np.arange(64.0) - 30, (8, 8), image=np.ones(64))
    plots.plot_class_maps(np.ones((3, 64)), (8, 8))
    plots.plot_attribution_rows(np.ones((2, 4)), fields=[("a", 1), ("b", 3)])
    plots.plot_field_bars(pd.DataFrame({"sum": [1.0, 2.0]}, index=["a", "b"]))
    plots._plot_row_maps(np.ones((2, 4)), np.ones((2, 4)), (2, 2), titles=None, image_titles=None)
    assert plt.get_fignums() == before
