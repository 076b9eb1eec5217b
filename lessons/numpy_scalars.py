"""Comparing numpy scalars: what is slow, why, and the pitfall that is not about speed.

Run from the project root:  python -m lessons.numpy_scalars  [--quick] [--out DIR]
"""

# %% [markdown]
# # Comparing numpy scalars
#
# Index a float64 array and you do not get a Python `float` back: you get a
# `numpy.float64`, a *numpy scalar*. Folk wisdom says comparing numpy scalars
# is slow and that you should call `.item()` or `.tolist()` first. This lesson
# measures that claim instead of repeating it. We time the same comparison
# written fourteen ways, print the table sorted fastest first and draw it as a
# bar chart. Then we look at why the slow cases are slow.
#
# Two facts come first, before any timing:
#
# * every way of writing the comparison gives the same truth value; only the
#   speed and the *type* of the answer differ;
# * `np.float64` is a subclass of Python's `float` (`isinstance(a, float)` is
#   True), but it brings its own rich comparison (`np.float64.__lt__` is not
#   `float.__lt__`), so `a < b` runs numpy's code, not CPython's.

# %%
import json

import numpy as np
import pandas as pd

from lessons._common import start
from lessons._numpy_scalars_timing import (_NAMES, POST_COMPARISONS, comparison_namespace,  # noqa: F401
                                           plot_speed_table, post_comparison_values, post_table,
                                           rank_agreement, ratio, speed_table, time_comparison,
                                           time_post_comparisons, timing_caveats)

if __name__ == "__main__":
    run = start("numpy_scalars")  # in a notebook: quick mode from HANDNET_LESSON_QUICK=1


# %% [markdown]
# ## The contenders
#
# Each row is one Python statement. The scalar rows compare one pair of values;
# the per-element rows compare all `N = 1000` elements of an array with 0.5, and
# their time is divided by N so that every row reads "nanoseconds per comparison".
#
# * **Python**: two Python floats, a float and a constant, two constants;
# * **numpy scalar**: two `np.float64`, an `np.float64` and a constant, and a
#   `np.float32` against an `np.float64` (mixed dtypes);
# * **convert first**: `float(a) < float(b)` and `a.item() < b.item()`;
# * **ufunc**: two 0-d arrays (`np.array(a)`), and the ufunc `np.less(a, b)` called
#   explicitly;
# * **per element**: a Python loop over the array, over `arr.tolist()` (the
#   conversion timed inside), over a list made beforehand, and the single
#   vectorised call `arr < 0.5`.

# %%
#: (what is compared, kind, statement, True if the statement compares every element of arr).
COMPARISONS = (
    ("two Python floats", "Python", "x < y", False),
    ("Python float vs constant", "Python", "x < 0.5", False),
    ("constant vs constant", "Python", "0.25 < 0.5", False),
    ("two np.float64", "numpy scalar", "a < b", False),
    ("np.float64 vs constant", "numpy scalar", "a < 0.5", False),
    ("np.float32 vs np.float64", "numpy scalar", "f < b", False),
    ("convert with float() first", "convert first", "float(a) < float(b)", False),
    ("convert with .item() first", "convert first", "a.item() < b.item()", False),
    ("two 0-d arrays", "ufunc", "za < zb", False),
    ("the ufunc itself", "ufunc", "np.less(a, b)", False),
    ("loop over the array", "per element", "[v < 0.5 for v in arr]", True),
    ("loop over arr.tolist() (timed inside)", "per element", "[v < 0.5 for v in arr.tolist()]",
     True),
    ("loop over a list made beforehand", "per element", "[v < 0.5 for v in lst]", True),
    ("one vectorised call", "vectorised", "arr < 0.5", True),
)

#: The kinds of COMPARISONS, in order (the bar chart's colours).
KINDS = tuple(dict.fromkeys(kind for _, kind, _, _ in COMPARISONS))


if __name__ == "__main__":
    operands = comparison_namespace()
    run.say(f"""
        The operands: a = {float(operands['a']):.6f} and b = {float(operands['b']):.6f} (np.float64, taken
        from a seeded array of {len(operands['arr'])}), x and y the same values as Python floats:
        {len(COMPARISONS)} statements, {sum(not per for *_, per in COMPARISONS)} on single values and
        {sum(per for *_, per in COMPARISONS)} on every element.""")


# %% [markdown]
# ## Same answers, different types
#
# Speed aside, every statement must give the same truth values. We evaluate
# each one once and reduce its answer to Python `bool`s: one bool for the scalar
# rows, N bools for the per-element rows.

# %%
def comparison_results(namespace):
    """Evaluate every statement of COMPARISONS once: {statement: tuple of Python bools}.

    The types are kept separately: {statement: type name of the (first) result}.
    """
    local = dict(namespace)
    values, types = {}, {}
    for _, _, statement, _ in COMPARISONS:
        result = eval(statement, {}, local)           # noqa: S307 - our own fixed statements
        first = result[0] if isinstance(result, (list, np.ndarray)) and np.ndim(result) else result
        types[statement] = type(first).__module__ + "." + type(first).__name__
        values[statement] = tuple(bool(v) for v in np.ravel(np.asarray(result, dtype=object)))
    return values, types


if __name__ == "__main__":
    values, types = comparison_results(operands)
    scalar = {s: v for (_, _, s, per), v in zip(COMPARISONS, values.values()) if not per}
    scalar.pop("0.25 < 0.5")                       # two constants: not the pair (a, b)
    element = {s: v for (_, _, s, per), v in zip(COMPARISONS, values.values()) if per}
    run.say(f"""
        Each scalar statement says a < b is {next(iter(scalar.values()))[0]}; each per-element
        statement finds {sum(next(iter(element.values())))} of {len(operands['arr'])} elements below 0.5.
        """)
    run.expect("every scalar statement gives the same truth value",
               len(set(scalar.values())) == 1, f"{len(scalar)} statements")
    run.expect("every per-element statement gives the same N truth values",
               len(set(element.values())) == 1, f"{len(element)} statements")
    type_table = pd.Series(types, name="type of the (first) answer").rename_axis("statement")
    run.table(type_table.to_frame(), title="Same values, different types:")


# %% [markdown]
# ## The table, fastest first
#
# Timings on a shared machine jitter by up to 2×, so each row is the *median* of
# several repeats, and the lesson only compares rows measured side by side in the
# same run. The ratio column divides every row by the fastest one.
#
# The timing is the same in a notebook as in the script: `timeit` compiles each statement with
# its operands bound as local variables (no global look-up is timed) and switches the garbage
# collector off while it runs, and nothing is printed or drawn until every row is measured.
# In quick mode (`--quick`, or `HANDNET_LESSON_QUICK=1` for a notebook) each row is only a few
# hundred runs: the big ratios survive that, ratios near 1 do not.

# %%
def time_comparisons(namespace, number, repeat, loop_number):
    """Time every row of COMPARISONS; a DataFrame (statement, what, kind, ns).

    Scalar rows run ``number`` times per repeat, per-element rows ``loop_number`` times
    (each execution compares len(arr) elements, so ns is divided by len(arr)).
    """
    n = len(namespace["arr"])
    rows = []
    for what, kind, statement, per_element in COMPARISONS:
        ns = time_comparison(statement, namespace, loop_number if per_element else number, repeat,
                             per=n if per_element else 1)
        rows.append({"statement": statement, "what": what, "kind": kind, "ns": ns})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    number, repeat, loop_number = (300, 3, 2) if run.quick else (20000, 7, 20)
    for caveat in timing_caveats():
        run.say(caveat)
    timings = time_comparisons(operands, number, repeat, loop_number)
    table = speed_table(timings)
    run.table(table.round({"ns": 1, "x fastest": 2}),
              title=f"ns per comparison, median of {repeat} repeats "
                    f"({number} runs per scalar row, "
                    f"{loop_number} x {len(operands['arr'])} per loop row):")
    np_vs_py = ratio(timings, "a < b", "x < y")
    const_vs_py = ratio(timings, "a < 0.5", "x < 0.5")
    zero_d = ratio(timings, "za < zb", "x < y")
    ufunc = ratio(timings, "np.less(a, b)", "x < y")
    item = ratio(timings, "a.item() < b.item()", "a < b")
    to_float = ratio(timings, "float(a) < float(b)", "a < b")
    mixed = ratio(timings, "f < b", "a < b")
    loop_arr = ratio(timings, "[v < 0.5 for v in arr]", "[v < 0.5 for v in lst]")
    loop_tolist = ratio(timings, "[v < 0.5 for v in arr]", "[v < 0.5 for v in arr.tolist()]")
    vector = ratio(timings, "[v < 0.5 for v in arr]", "arr < 0.5")
    verdict = (f"So on this numpy ({np.__version__}) comparing two np.float64 costs about what\n"
               f"        comparing two Python floats costs (within 1.5x)." if np_vs_py < 1.5 else
               f"On this numpy ({np.__version__}) comparing two np.float64 costs {np_vs_py:.1f}x\n"
               f"        what comparing two Python floats costs.")
    if run.quick:
        verdict += ("\n        (Quick mode: only a few hundred runs per row, so read the ratios near 1 as"
                    "\n        'about the same'; run without --quick for the lesson's real measurement.)")
    run.say(f"""
        Measured in this run (ratios of rows timed side by side):
          np.float64 < np.float64      / float < float       = {np_vs_py:.2f}x
          np.float64 < constant        / float < constant    = {const_vs_py:.2f}x
          0-d array < 0-d array        / float < float       = {zero_d:.1f}x
          np.less(a, b)                / float < float       = {ufunc:.1f}x
          np.float32 < np.float64      / np.float64 < np.float64 = {mixed:.1f}x
          a.item() < b.item()          / a < b               = {item:.1f}x  (slower!)
          float(a) < float(b)          / a < b               = {to_float:.1f}x
          loop over arr                / loop over a ready list = {loop_arr:.1f}x
          loop over arr                / loop over arr.tolist() = {loop_tolist:.1f}x
          loop over arr                / arr < 0.5 (vectorised) = {vector:.0f}x
        {verdict}
        What is slow is everything that goes through the ufunc machinery (0-d arrays, np.less),
        calling .item() in the hot path, and boxing every element of an array into a new numpy
        scalar by iterating over it. Fastest of all, by far, is not writing the loop.
        """)
    run.expect("a 0-d array comparison (a ufunc call) costs >= 3x a Python float comparison",
               zero_d >= 3, f"measured {zero_d:.1f}x")
    run.expect("np.less(a, b) costs >= 5x a Python float comparison", ufunc >= 5,
               f"measured {ufunc:.1f}x")
    run.expect("the vectorised arr < 0.5 is >= 5x faster per element than a loop over arr",
               vector >= 5, f"measured {vector:.0f}x")


# %% [markdown]
# ## The bar chart
#
# The table above as a horizontal bar per row, on a log scale (the rows span almost three
# orders of magnitude), coloured by kind. It is drawn after the timing, from its numbers.

# %%
if __name__ == "__main__":
    run.figure(plot_speed_table(table, KINDS), "comparison_speed.png")


# %% [markdown]
# ## Why: who does the comparison
#
# A Python float comparison is a few machine instructions inside CPython:
# unbox two C doubles, compare, return the `True`/`False` singleton.
#
# `np.float64 < np.float64` runs numpy's own comparison. In current numpy it has
# a C fast path (numpy's `scalarmath.c.src`, which describes itself as "faster math
# for array scalars that does not go through the ufunc machinery"): when both
# operands are scalars it can turn into C doubles without any type promotion, it
# compares them directly and returns a `numpy.bool`. That is why, measured below,
# it costs about the same as the Python comparison. A Python constant on the
# other side is a different type, which numpy must recognise and convert first:
# a little dearer than two `np.float64`. The folk rule comes from older numpy
# versions, whose scalar operators were slower; measure on yours.
#
# Everything else goes through the general machinery. Arrays never take the
# scalar path: comparing two arrays, even 0-d ones, *is* a call of the ufunc
# `np.less`, and so is calling `np.less(a, b)` on scalars yourself. A ufunc call
# resolves the loop for the input dtypes, wraps the inputs as arrays, allocates
# the output, runs a one-element inner loop and boxes the result as a
# `numpy.bool`. Each step is cheap; together they are about a microsecond, which
# dwarfs a one-instruction compare. Mixed dtypes (float32 against float64) need a
# promotion step and also leave the fastest path.
#
# We can *see* the ufunc being called: an ndarray subclass with `__array_ufunc__`
# records every ufunc numpy dispatches to on its behalf.
#
# `.item()` is the surprise: numpy documents `np.float64.item` as the "scalar
# method identical to `ndarray.item`", i.e. the scalar is wrapped in a 0-d array
# before its value is read, which costs more than the comparison it was meant to
# speed up. `float(a)` reads the value directly. `arr.tolist()` converts the whole
# array in one C loop, while `for v in arr` creates a fresh `np.float64` object
# (allocation plus copy) for every element before comparing it.

# %%
class _UfuncRecorder(np.ndarray):
    """An ndarray that records the name of every ufunc numpy calls on its behalf."""

    calls = []

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _UfuncRecorder.calls.append(ufunc.__name__)
        plain = [v.view(np.ndarray) if isinstance(v, _UfuncRecorder) else v for v in inputs]
        return getattr(ufunc, method)(*plain, **kwargs)


def ufuncs_called_by_0d_comparison(value=0.25, other=0.5):
    """The ufuncs dispatched by ``np.array(value) < other``: a list of names (expected ['less'])."""
    _UfuncRecorder.calls = []
    z = np.array(value).view(_UfuncRecorder)
    result = z < other
    return list(_UfuncRecorder.calls), bool(result)


def comparison_owner(scalar_type=np.float64):
    """Facts about who implements '<' for a numpy scalar type.

    Returns {'subclass of float', 'own __lt__', 'item doc'}.
    """
    return {"subclass of float": issubclass(scalar_type, float),
            "own __lt__": scalar_type.__lt__ is not float.__lt__,
            "item doc": (scalar_type.item.__doc__ or "").strip().splitlines()[0]}


if __name__ == "__main__":
    calls, answer = ufuncs_called_by_0d_comparison()
    owner = comparison_owner()
    run.say(f"""
        np.array(0.25) < 0.5 dispatched to the ufuncs {calls} (answer {answer}).
        np.float64 is a subclass of float: {owner['subclass of float']}; it has its own __lt__:
        {owner['own __lt__']}. numpy's docstring of np.float64.item: "{owner['item doc']}"
        """)
    run.expect("a 0-d array comparison is a call of the ufunc np.less", calls == ["less"],
               f"recorded {calls}")
    run.expect("np.float64 subclasses float but compares with its own __lt__",
               owner["subclass of float"] and owner["own __lt__"])


# %% [markdown]
# ## The real pitfall: the type of the answer
#
# `np.float64(1) > 0` is `numpy.bool`, not `bool`. It behaves like a bool in an
# `if`, in `==` and in arithmetic, but:
#
# * `(np.float64(1) > 0) is True` is **False**: `True` is one specific object and
#   `numpy.bool`'s True is another;
# * `json.dumps` refuses `numpy.bool`, `np.int64` and `np.float32` (it accepts
#   `np.float64` only because that one is a `float` subclass);
# * `.item()` (or `bool(...)`, `float(...)`, `.tolist()` for arrays) gives plain
#   Python objects that serialise fine. Here `.item()` is the right tool: it
#   costs a microsecond once, at the boundary, not inside a loop.

# %%
def result_type_facts():
    """What ``np.float64(1) > 0`` really is: {type, is True, == True, bool(...) is True}."""
    r = np.float64(1) > 0
    return {"type": type(r), "is bool": type(r) is bool, "is True": r is True,
            "== True": bool(r == True), "bool(r) is True": bool(r) is True}  # noqa: E712


def json_outcomes():
    """json.dumps of numpy scalars and of their .item(): {label: the JSON text or 'TypeError'}."""
    cases = {"np.float64(1.5)": np.float64(1.5), "np.float32(1.5)": np.float32(1.5),
             "np.int64(3)": np.int64(3), "(np.float64(1) > 0)": np.float64(1) > 0}
    out = {}
    for label, value in cases.items():
        for suffix, v in (("", value), (".item()", value.item())):
            try:
                out[label + suffix] = json.dumps(v)
            except TypeError:
                out[label + suffix] = "TypeError"
    return out


if __name__ == "__main__":
    facts = result_type_facts()
    outcomes = json_outcomes()
    run.say(f"""
        type(np.float64(1) > 0) is {facts['type'].__module__}.{facts['type'].__name__}
        (a Python bool: {facts['is bool']}). (np.float64(1) > 0) is True -> {facts['is True']};
        == True -> {facts['== True']}; bool(...) is True -> {facts['bool(r) is True']}.
        """)
    run.table(pd.Series(outcomes, name="json.dumps").rename_axis("value").to_frame(),
              title="json.dumps of numpy scalars and of their .item():")
    run.expect("np.float64(1) > 0 is a numpy.bool, and 'is True' is False",
               facts["type"] is np.bool_ and not facts["is bool"] and not facts["is True"]
               and facts["== True"] and facts["bool(r) is True"])
    refused = [k for k, v in outcomes.items() if v == "TypeError"]
    run.expect("json.dumps refuses numpy.bool, np.int64 and np.float32 but accepts their .item()",
               sorted(refused) == sorted(["np.float32(1.5)", "np.int64(3)", "(np.float64(1) > 0)"])
               and all(outcomes[k + ".item()"] != "TypeError" for k in refused),
               f"refused: {', '.join(refused)}")


# %% [markdown]
# ## The post's own six comparisons
#
# The folk rule has a source we can check: a blog post ("Comparing numpy scalars directly is
# time consuming, use .tolist() before a comparison", *To learn is to teach*, 29 September
# 2018). It does not compare float64 scalars with `<` as above: it makes **0-d float32
# arrays** with `np.array(1.0, np.float32)`, compares with `==` inside `if ...: pass`, and
# times one million runs of each under cProfile. Its six cases and the seconds it printed,
# in the order it gives as "in order of speed":
#
# | case | statement | the post's seconds per 10^6 |
# |---|---|---|
# | constant to constant | `x == 1.0` with `x = 1.0` | 0.088 |
# | `.tolist()` to constant | `x.tolist() == 1.0` | 0.288 |
# | `.tolist()` to `.tolist()` | `x.tolist() == y.tolist()` | 0.508 |
# | numpy to numpy | `x == y` | 0.684 |
# | numpy to constant | `x == 1.0` | 1.19 |
# | numpy to `np.array(constant)` | `x == np.array(1.0, np.float32)` | (slowest; its number is not in the copy of the post we could read) |
#
# We run the same six statements, with the same operands, wrapped in the same `if ...: pass`,
# and compare our order with the post's. Note what the post's "numpy scalars" are: 0-d
# *arrays*, which (as measured above) always go through the ufunc machinery. Its advice holds
# for them; whether it holds for real numpy scalars (what iterating over an array gives) is
# the other question, answered by the table above.
#
# (The six cases, their operands and the post's seconds are the table `POST_COMPARISONS` in
# `lessons/_numpy_scalars_timing.py`; our order is compared with the post's pair by pair, as
# Kendall's count of pairs in the same order.)

# %%
if __name__ == "__main__":
    post_number, post_repeat = (2000, 3) if run.quick else (200_000, 5)
    post_values = post_comparison_values()
    run.expect("each of the post's six comparisons is True for its operands (1.0 == 1.0)",
               all(post_values.values()), f"{sum(post_values.values())} of {len(post_values)}")
    post = time_post_comparisons(post_number, post_repeat)
    cases = [case for case, _, _, _ in POST_COMPARISONS]
    measured_order, agree, pairs = rank_agreement(cases, dict(zip(post["case"], post["ns"])))
    run.table(post_table(post, measured_order),
              title=f"The post's six comparisons (0-d float32 arrays, `if ...: pass`), median of "
                    f"{post_repeat} x {post_number} runs, beside its cProfile seconds per 10^6 runs:")
    same = "is exactly the post's order" if measured_order == cases else "differs from the post's order"
    known = post["post s per 1e6"].notna()
    speed = tuple(np.quantile(post.loc[known, "s per 1e6"] / post.loc[known, "post s per 1e6"], [0, 1]))
    run.say(f"""
        Our order, fastest first: {'; '.join(measured_order)}.
        It {same}:
        {agree} of {pairs} pairs are ordered as the post orders them. Our absolute times are
        {speed[0]:.2f} to {speed[1]:.2f} times the post's: they depend on the machine, its load, the
        numpy version ({np.__version__} here) and the profiler (the post's ran under cProfile,
        which adds its own cost to every call), so compare the ratios to the fastest instead. The post's advice survives for what it measured -- 0-d
        arrays, where `.tolist()` turns a ufunc call into a Python float comparison -- but its
        'numpy scalars' are arrays: a real np.float64 (the earlier table) compares about as fast
        as a Python float.
        """)
    run.expect("constant to constant is the fastest of the post's six, as the post says",
               measured_order[0] == cases[0], f"measured fastest: {measured_order[0]}")


# %% [markdown]
# ### What of the post's order we can stand behind
#
# Its first three cases end in a Python float comparison, its last three in a ufunc call on a
# 0-d array. That split is far larger than the machine's jitter; the order inside each group
# may not be.

# %%
if __name__ == "__main__":
    python_side, ufunc_side = post["ns"].iloc[:3], post["ns"].iloc[3:]
    spread = ufunc_side.max() / ufunc_side.min() - 1
    within = ("that is inside this shared machine's run-to-run jitter (up to 2x), so their order among "
              "themselves is not a measurement we can stand behind." if spread < 1 else
              "with so few runs (--quick) one of them probably caught a busy moment: run without "
              "--quick before reading anything into their order.")
    run.say(f"""
        The robust split is between the first three cases (a Python float comparison, after
        .tolist() where needed) and the last three (a ufunc call on a 0-d array, plus an array
        built each time in the sixth): the slowest of the first is {ufunc_side.min() /
        python_side.max():.1f}x faster than the fastest of the last. Within the last three the
        times are {spread:.0%} apart; {within}
        """)
    run.expect("each .tolist()/Python case of the post is faster than each 0-d array case",
               python_side.max() < ufunc_side.min(),
               f"{python_side.max():.0f} ns < {ufunc_side.min():.0f} ns")


# %%
if __name__ == "__main__":
    run.end()
