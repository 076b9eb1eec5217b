"""The report of a gradient check: one row per parameter array, the worst entries, a verdict.

Built by handnet.gradcheck.check from a table of checked entries; the verdict
passes only when every entry's relative error is a number at most the
threshold (an entry that could not be compared has relative error inf).
"""

from __future__ import annotations

import numpy as np

__all__ = ["GradientReport", "norm_relative_difference"]


class GradientReport:
    """The result of a gradient check.

    Attributes
    ----------
    passed          True if every checked entry (and the directional check) is within threshold
    max_rel_error   the largest relative error over all checked entries
    table           pandas DataFrame, one row per parameter array (W0, b0, W1, ...):
                    shape, entries checked, max/mean relative error, the worst
                    entry with its index and both values, the course's
                    norm(n - a) / norm(n + a), pass/fail
    entries         pandas DataFrame, one row per checked entry
    failures        the rows of ``entries`` above the threshold, worst first
    norm_rel_diff   norm(n - a) / norm(n + a) over all checked entries: the course's single
                    number (checkNNGradients expects < 1e-9 with h = 1e-4)
    worst           the worst entry as a dict (param, index, analytic, numerical, rel_error)
    directional     dict with the directional check, or None
    """

    def __init__(self, entries, layout, threshold, h, floor, directional=None, n_params=None, notes=()):
        self.notes = list(notes)
        self.entries = entries
        self.threshold = threshold
        self.h = h
        self.floor = floor
        self.directional = directional
        self.n_params = n_params if n_params is not None else len(entries)
        rows = []
        for name, _, shape in layout:
            e = entries[entries["param"] == name]
            if len(e) == 0:
                continue
            w = e["rel_error"].idxmax()
            rows.append({
                "param": name,
                "shape": shape,
                "checked": len(e),
                "max_rel_error": float(e["rel_error"].max()),
                "mean_rel_error": float(e["rel_error"].mean()),
                "worst_index": e.at[w, "index"],
                "analytic": float(e.at[w, "analytic"]),
                "numerical": float(e.at[w, "numerical"]),
                "norm_rel_diff": norm_relative_difference(e["numerical"], e["analytic"]),
                "passed": bool(e["rel_error"].max() <= threshold),
            })
        import pandas as pd  # here, not at the top: the exercise checks import this module without pandas

        self.table = pd.DataFrame(rows)
        self.max_rel_error = float(entries["rel_error"].max()) if len(entries) else 0.0
        self.norm_rel_diff = norm_relative_difference(entries["numerical"], entries["analytic"])
        self.failures = (entries[entries["rel_error"] > threshold]
                         .sort_values("rel_error", ascending=False).reset_index(drop=True))
        w = entries["rel_error"].idxmax() if len(entries) else None
        self.worst = None if w is None else {
            "param": entries.at[w, "param"], "index": entries.at[w, "index"],
            "entry": entries.at[w, "entry"], "analytic": float(entries.at[w, "analytic"]),
            "numerical": float(entries.at[w, "numerical"]), "rel_error": float(entries.at[w, "rel_error"]),
        }
        dir_ok = directional is None or directional["rel_error"] <= threshold
        self.passed = bool(self.max_rel_error <= threshold and dir_ok)

    def __bool__(self):
        return self.passed

    @staticmethod
    def describe_entry(row):
        """'W1[2, 0]: analytic 1.234e-02, numerical 2.468e-02, rel. error 3.3e-01'
        (and why, when an entry could not be compared)."""
        why = row.get("reason", "")
        return (f"{row['entry']}: analytic {row['analytic']:.3e}, numerical {row['numerical']:.3e}, "
                f"rel. error {row['rel_error']:.1e}" + (f" ({why})" if why else ""))

    def __str__(self):
        verdict = "PASSED" if self.passed else "FAILED"
        checked = len(self.entries)
        lines = [f"Gradient check {verdict}: max relative error {self.max_rel_error:.2e} "
                 f"(threshold {self.threshold:.0e}, h = {self.h:g}, {checked} of {self.n_params} entries; "
                 f"norm(n - a)/norm(n + a) = {self.norm_rel_diff:.1e})"]
        if len(self.table):
            t = self.table.copy()
            t["shape"] = t["shape"].map(str)
            t["worst_index"] = t["worst_index"].map(lambda i: str(list(i)) if isinstance(i, tuple) else str(i))
            for col in ("max_rel_error", "mean_rel_error", "norm_rel_diff"):
                t[col] = t[col].map(lambda v: f"{v:.2e}")
            for col in ("analytic", "numerical"):
                t[col] = t[col].map(lambda v: f"{v: .6e}")
            t["passed"] = t["passed"].map({True: "yes", False: "NO"})
            lines.append(t.to_string(index=False))
        if self.directional is not None:
            d = self.directional
            lines.append(f"random direction: analytic g.v {d['analytic']:.6e}, numerical {d['numerical']:.6e}, "
                         f"rel. error {d['rel_error']:.1e} ({'ok' if d['rel_error'] <= self.threshold else 'WRONG'})")
        lines += [f"note: {note}" for note in self.notes]
        if len(self.failures):
            lines.append(f"{len(self.failures)} entries above the threshold; the worst:")
            for _, row in self.failures.head(5).iterrows():
                lines.append("  " + self.describe_entry(row))
        return "\n".join(lines)

    def __repr__(self):
        return f"<GradientReport {'passed' if self.passed else 'FAILED'} max_rel_error={self.max_rel_error:.2e}>"


def norm_relative_difference(numerical, analytic):
    """norm(n - a) / norm(n + a), the course's single number; inf if it cannot be computed
    (an entry that is not finite, or n = -a != 0), never a silent 0 or nan."""
    n, a = np.asarray(numerical, dtype=np.float64), np.asarray(analytic, dtype=np.float64)
    if not (np.all(np.isfinite(n)) and np.all(np.isfinite(a))):
        return np.inf
    with np.errstate(over="ignore", invalid="ignore"):
        diff, total = np.linalg.norm(n - a), np.linalg.norm(n + a)
        ratio = diff / total if total > 0 else (0.0 if diff == 0 else np.inf)
    return float(ratio) if np.isfinite(ratio) else np.inf
