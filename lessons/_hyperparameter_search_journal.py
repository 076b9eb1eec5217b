"""The plumbing of lessons.hyperparameter_search: checking a search space, the CSV journal of trials,
the ask/tell loop that resumes from it, and running several searches side by side.

The lesson explains what these do (section 4: every trial saved atomically as soon as it
finishes, and a resumed search equal to an uninterrupted one); they live here so that the
lesson's file keeps to the story and the searchers it teaches. A searcher is anything with
``space``, ``trials``, ``ask()`` and ``tell(params, score)`` (the lesson's RandomSearch and its
subclasses).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from handnet.io import atomic_write


#: The kinds of dimension a search space may have (see from_unit in the lesson).
KINDS = ("uniform", "log", "int")


def check_space(space):
    """Validate a search space {name: (kind, lo, hi)}, kind in uniform/log/int; return it as a dict."""
    if not isinstance(space, dict) or not space:
        raise TypeError(f"space: expected a non-empty dict {{name: (kind, lo, hi)}}, got {space!r}")
    for name, spec in space.items():
        if not (isinstance(spec, tuple) and len(spec) == 3 and spec[0] in KINDS):
            raise ValueError(f"space[{name!r}]: expected (kind, lo, hi) with kind in {KINDS}, got {spec!r}")
        kind, lo, hi = spec
        if not lo < hi or (kind == "log" and lo <= 0) or (kind == "int" and not
                                                         (float(lo).is_integer() and float(hi).is_integer())):
            raise ValueError(f"space[{name!r}]: bounds {lo!r}, {hi!r} do not fit a {kind} dimension")
    return dict(space)


def to_python(value):
    """A numpy scalar (np.float64, np.int64, np.bool_) as the Python number it holds; others unchanged.

    `value.item()` is the general form; float(v) and int(v) do the same when the type is known.
    """
    return value.item() if isinstance(value, np.generic) else value


def trial_row(trial, params, result):
    """One CSV row: the trial number, the parameters and the objective's results, all Python numbers."""
    row = {"trial": int(trial)}
    row.update({name: to_python(value) for name, value in params.items()})
    row.update({name: to_python(value) for name, value in result.items()})
    return row


def write_trials(path, table):
    """Write the table of trials to ``path`` as CSV, atomically (old file intact if this fails)."""
    data = table.to_csv(index=False).encode("utf-8")
    return atomic_write(path, lambda fh: fh.write(data))


def read_trials(path, space):
    """The table of trials saved at ``path`` (checked: trial numbers 0..n-1 and every column of the space)."""
    table = pd.read_csv(path)
    missing = [c for c in ("trial", *space, "score") if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: the trial table lacks columns {missing}; is it from another search?")
    if not np.array_equal(table["trial"].to_numpy(), np.arange(len(table))):
        raise ValueError(f"{path}: trial numbers are not 0..{len(table) - 1}")
    return table


def params_of_row(row, space):
    """The parameters stored in one table row, as Python numbers of the right kind (int for int dims)."""
    return {name: int(row[name]) if kind == "int" else float(row[name])
            for name, (kind, _, _) in space.items()}


def run_search(searcher, objective, n_trials, path, max_new=None):
    """Run the ask/tell loop until ``n_trials`` trials are in the CSV at ``path``; return (table, n_new).

    Trials already in the CSV are told to the searcher first and not run again. ``max_new`` stops
    after that many new trials (to simulate an interruption). The objective returns a dict with a
    'score' (lower is better) and any other numbers to keep; the CSV is rewritten after every trial.
    With path=None nothing is read or written (a search kept in memory).
    """
    table = read_trials(path, searcher.space) if path is not None and os.path.exists(path) else pd.DataFrame()
    for _, row in table.iterrows():
        searcher.tell(params_of_row(row, searcher.space), row["score"])
    rows = table.to_dict("records")
    n_new = 0
    while len(searcher.trials) < n_trials and (max_new is None or n_new < max_new):
        params = searcher.ask()
        result = objective(params)
        searcher.tell(params, result["score"])
        rows.append(trial_row(len(rows), params, result))
        n_new += 1
        if path is not None:
            write_trials(path, pd.DataFrame(rows))
    return pd.DataFrame(rows), n_new


def compare(makers, objective, n_trials, seeds, n_startup):
    """Several searches side by side, in memory: for each seed, ``makers[label](seed)`` runs n_trials.

    makers: {label: seed -> searcher}. Returns (table, scores): one row per seed with
    'best {label}' (the lowest score) and 'median {label}' (the median over the trials after the
    first n_startup, where guided searches differ from random ones) for every search, and
    {label: (n_seeds, n_trials) array of every trial's score}.
    """
    rows, scores = [], {label: [] for label in makers}
    for seed in seeds:
        row = {"seed": int(seed)}
        for label, make in makers.items():
            s = run_search(make(seed), objective, n_trials, None)[0]["score"].to_numpy()
            scores[label].append(s)
            row[f"best {label}"] = float(s.min())
            row[f"median {label}"] = float(np.median(s[n_startup:]))
        rows.append(row)
    return pd.DataFrame(rows).set_index("seed"), {k: np.array(v) for k, v in scores.items()}


def best_so_far(scores):
    """The running minimum of the scores (n,) -> (n,): the best trial after each trial."""
    return np.minimum.accumulate(np.asarray(scores, dtype=np.float64))
