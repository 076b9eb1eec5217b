"""Per-field tables of attributions, combine(), and the controls of the delivery-time data."""

import numpy as np
import pandas as pd
import pytest

from handnet.explain import combine, field_attributions, field_summary, normalize_max

FIELDS = [("Store Number", 3), ("Market", 1), ("Hour", 2)]
A = np.array([[1.0, -2.0, 0.5, 4.0, -1.0, 3.0],
              [0.0, 0.0, 0.0, -1.0, 2.0, 2.0]])


def test_field_attributions_sum_mean_and_max():
    s = field_attributions(A, FIELDS, how="sum")
    assert isinstance(s, pd.DataFrame) and list(s.columns) == ["Store Number", "Market", "Hour"]
    np.testing.assert_array_equal(s.to_numpy(), [[-0.5, 4.0, 2.0], [0.0, -1.0, 4.0]])
    m = field_attributions(A, FIELDS, how="mean")
    np.testing.assert_allclose(m.to_numpy(), [[-0.5 / 3, 4.0, 1.0], [0.0, -1.0, 2.0]])
    x = field_attributions(A, FIELDS, how="max")
    np.testing.assert_array_equal(x.to_numpy(), [[1.0, 4.0, 3.0], [0.0, -1.0, 2.0]])


def test_field_summary_ranks_by_absolute_share():
    # sum |A| per field: Store Number 3.5 and 0, Market 4 and 1, Hour 4 and 4
    table = field_summary(A, FIELDS)
    assert list(table.index) == ["Hour", "Market", "Store Number"]   # sorted by rank
    assert table.index.name == "field"
    assert list(table["rank"]) == [1, 2, 3]
    row = table.loc["Store Number"]
    assert (row["start"], row["width"]) == (0, 3)
    assert row["sum"] == pytest.approx((3.5 + 0.0) / 2)              # mean over rows
    assert row["mean"] == pytest.approx((3.5 / 3 + 0.0) / 2)
    assert row["max"] == pytest.approx((2.0 + 0.0) / 2)
    assert table.loc["Hour", "sum"] == pytest.approx(4.0)
    assert table.loc["Market", "sum"] == pytest.approx(2.5)


def test_one_row_is_accepted():
    np.testing.assert_array_equal(field_attributions(A[0], FIELDS).to_numpy(), [[-0.5, 4.0, 2.0]])


def test_combine_averages_max_normalised_maps():
    a = np.array([[2.0, -4.0, 1.0]])
    b = np.array([[0.5, 0.25, -0.5]])
    np.testing.assert_allclose(combine(a, b), [[(0.5 + 1.0) / 2, (-1.0 + 0.5) / 2, (0.25 - 1.0) / 2]])
    np.testing.assert_allclose(combine(a, a), normalize_max(a))


@pytest.mark.parametrize("call,exc,match", [
    (lambda: field_attributions(A, [("a", 2), ("b", 2)]), ValueError,
     r"fields: the widths add up to 4 columns but A has 6"),
    (lambda: field_attributions(A, FIELDS, how="median"), ValueError, r"how: expected one of"),
    (lambda: field_summary(A, [("a", 3), ("a", 3)]), ValueError, r"fields\[1\]: expected distinct"),
    (lambda: field_summary(A, [("a", 0), ("b", 6)]), ValueError, r"fields\[0\]"),
    (lambda: field_summary(A, "Hour"), TypeError, r"fields: expected a list of \(name, width\)"),
    (lambda: combine(A, A[:, :3]), ValueError, r"b: expected the shape of a, \(2, 6\), got \(2, 3\)"),
    (lambda: normalize_max(np.ones(3)), ValueError, r"A: expected attributions of shape \(N, D\)"),
])
def test_bad_field_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
