"""Plumbing of the numpy_scalars lesson: the timer, the ranking, the source post's published
numbers and the bar chart. The lesson keeps what it teaches (the statements compared, why they
cost what they cost, the type of the answer).

Timing is the same in a script and in a notebook: every statement is compiled by ``timeit``
with its operands bound as *local* variables (no global look-up is timed), ``timeit``
switches the garbage collector off while it runs, nothing is printed or drawn while a
statement is timed, and each number is the median of several repeats measured side by side
in one run (so only rows of the same run are compared). The clock is this thread's CPU time
(``time.thread_time``), not the wall clock: every statement runs in this one thread, so
another program keeping the cores busy does not stretch a measurement, and neither do the
process's other threads (a Jupyter kernel's, which send the output while the lesson runs).
"""

import sys
import time
import timeit

import numpy as np
import pandas as pd

from lessons._common import new_figure

#: Length of the array the lesson uses for the per-element rows (iterating vs vectorised).
N_ELEMENTS = 1000


def comparison_namespace(n=N_ELEMENTS, seed=0):
    """The operands every timed statement uses, drawn from one seeded array.

    arr: (n,) float64; a, b: np.float64 taken from arr (what indexing gives);
    x, y: the same values as Python floats; f: a as np.float32; za, zb: a, b as 0-d arrays;
    lst: arr.tolist(); np: numpy itself (for np.less).
    """
    arr = np.random.default_rng(seed).random(n)
    a, b = arr[0], arr[1]
    return {"arr": arr, "lst": arr.tolist(), "a": a, "b": b, "x": float(a), "y": float(b),
            "f": np.float32(a), "za": np.array(a), "zb": np.array(b), "np": np}


#: The operand names comparison_namespace returns, bound as local variables inside timeit's
#: function (so no statement pays for a global lookup).
_NAMES = ("arr", "lst", "a", "b", "x", "y", "f", "za", "zb", "np")
_SETUP = "; ".join(f"{name} = NS['{name}']" for name in _NAMES)


def median_ns(timer, number, repeat, per=1):
    """Median over ``repeat`` runs of ``number`` executions of a timeit.Timer, in ns per item.

    t = median_r (time of run r) / (number * per); ``per`` = items (comparisons) in one execution.
    """
    runs = timer.repeat(repeat=repeat, number=number)
    return float(np.median(runs)) / (number * per) * 1e9


def time_comparison(statement, namespace, number, repeat, per=1):
    """ns per comparison of ``statement``, its operands taken from ``namespace`` as locals."""
    return median_ns(timeit.Timer(statement, setup=_SETUP, timer=time.thread_time, globals={"NS": namespace}), number, repeat, per)


def timing_caveats():
    """Sentences about what would make this process's timings unrepresentative (empty if nothing).

    A debugger, coverage tool or profiler installs a trace/profile hook that runs on every line or
    call, in a notebook kernel as in a script; it would inflate every Python-level row."""
    caveats = []
    if sys.gettrace() is not None:
        caveats.append("Caution: a trace hook is active (a debugger or coverage tool?); it slows every "
                       "Python line, so the times below are inflated. Run without it to measure.")
    if sys.getprofile() is not None:
        caveats.append("Caution: a profiler is active; it adds its own cost to every call, so the times "
                       "below are inflated. Run without it to measure.")
    return caveats


def speed_table(timings):
    """Sort by ns per comparison (fastest first) and add 'x fastest' = ns / min(ns).

    timings: DataFrame with columns statement, what, kind, ns -> the same rows, ranked from 1.
    """
    table = timings.sort_values("ns", kind="stable").reset_index(drop=True)
    table["x fastest"] = table["ns"] / table["ns"].min()
    table.index = table.index + 1
    return table[["statement", "what", "kind", "ns", "x fastest"]]


def ratio(timings, slow_statement, fast_statement):
    """ns(slow) / ns(fast) for two statements of the same timing run."""
    ns = timings.set_index("statement")["ns"]
    return float(ns[slow_statement] / ns[fast_statement])


def rank_agreement(reference_order, measured):
    """How far a measured order is from a reference order (both over the same items).

    reference_order: items, first = fastest; measured: {item: time}. Returns (measured order,
    number of pairs ordered the same way, number of pairs) -- Kendall's pair count, with
    concordant = same relative order in both.
    """
    order = sorted(reference_order, key=lambda item: measured[item])
    position = {item: i for i, item in enumerate(order)}
    pairs = [(a, b) for i, a in enumerate(reference_order) for b in reference_order[i + 1:]]
    agree = sum(position[a] < position[b] for a, b in pairs)
    return order, agree, len(pairs)


#: The post's six cases in its published order, fastest first: (case, setup, statement, seconds
#: per 10^6 runs as printed by the post, None where our copy of the post has no number).
#: Source: "Comparing numpy scalars directly is time consuming, use .tolist() before a
#: comparison", To learn is to teach (blog), 29 September 2018.
POST_COMPARISONS = (
    ("constant to constant", "x = 1.0", "x == 1.0", 0.088),
    ("numpy.tolist() to constant", "x = np.array(1.0, np.float32)", "x.tolist() == 1.0", 0.288),
    ("numpy.tolist() to numpy.tolist()",
     "x = np.array(1.0, np.float32); y = np.array(1.0, np.float32)", "x.tolist() == y.tolist()", 0.508),
    ("numpy to numpy", "x = np.array(1.0, np.float32); y = np.array(1.0, np.float32)", "x == y", 0.684),
    ("numpy to constant", "x = np.array(1.0, np.float32)", "x == 1.0", 1.19),
    ("numpy to numpy.array(constant)", "x = np.array(1.0, np.float32)",
     "x == np.array(1.0, np.float32)", None),
)


def time_post_comparisons(number, repeat):
    """Time ``if <statement>: pass`` for each of the post's six cases, with the post's operands.

    -> DataFrame (case, statement, post rank, post s per 1e6, ns, s per 1e6), in the post's order;
    ns is the median over ``repeat`` runs of ``number`` executions, per execution.
    """
    rows = []
    for rank, (case, setup, statement, post_seconds) in enumerate(POST_COMPARISONS, start=1):
        ns = median_ns(timeit.Timer(f"if {statement}: pass", setup=setup, timer=time.thread_time, globals={"np": np}), number, repeat)
        rows.append({"case": case, "statement": statement, "post rank": rank,
                     "post s per 1e6": post_seconds, "ns": ns, "s per 1e6": ns * 1e-3})
    return pd.DataFrame(rows)


def post_table(post, measured_order):
    """The post's cases beside ours: its rank and ours, seconds per 10^6 runs and ratios to the fastest.

    post: time_post_comparisons' frame; measured_order: the cases, fastest first as we measured them."""
    post = post.copy()
    post["our rank"] = [measured_order.index(case) + 1 for case in post["case"]]
    post["x fastest"] = post["ns"] / post["ns"].min()
    published = post["post s per 1e6"].to_numpy(dtype=float)
    post["post x fastest"] = published / published[0]
    return post[["case", "statement", "post rank", "our rank", "post s per 1e6", "s per 1e6",
                 "post x fastest", "x fastest"]].round(3).set_index("case")


def post_comparison_values():
    """The truth value of each of the post's statements with its operands: {case: Python bool}."""
    out = {}
    for case, setup, statement, _ in POST_COMPARISONS:
        local = {"np": np}
        exec(setup, local)                              # noqa: S102 - our own fixed statements
        out[case] = bool(eval(statement, local))         # noqa: S307
    return out


def plot_speed_table(table, kinds=None):
    """Horizontal bars of ns per comparison (log scale), fastest at the top; returns the Figure.

    kinds: the kinds in the order their colours are assigned (default: as they first appear)."""
    from matplotlib import colormaps
    from matplotlib.patches import Patch

    kinds = list(dict.fromkeys(table["kind"])) if kinds is None else list(kinds)
    colors = dict(zip(kinds, colormaps["tab10"].colors))
    fig = new_figure((9.0, 5.5))
    ax = fig.subplots()
    y = np.arange(len(table))
    ax.barh(y, table["ns"], color=[colors[k] for k in table["kind"]])
    for yi, ns, r in zip(y, table["ns"], table["x fastest"]):
        ax.text(ns * 1.05, yi, f"{ns:.0f} ns ({r:.1f}x)", va="center", fontsize=8)
    labels = [s.replace("[v < 0.5 for v in ", "for v in ").rstrip("]") + ": v < 0.5"
              if s.startswith("[") else s for s in table["statement"]]
    ax.set_yticks(y, labels, fontfamily="monospace", fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(right=table["ns"].max() * 6)
    ax.set_xlabel("nanoseconds per comparison (median of repeats; log scale)")
    ax.set_title(f"The same comparison written {len(table)} ways")
    ax.legend(handles=[Patch(color=colors[k], label=k) for k in kinds], loc="upper right",
              fontsize=8)
    return fig
