"""Hyperparameter search by hand: an ask/tell loop, random then model-guided, resumable from a CSV.

A learning rate, a number of epochs, a hidden size, a penalty λ: none of them is learned by
gradient descent, yet each decides whether training works. This lesson writes the search for
them by hand, first on gradient descent of f(x) = x² (where the right answer is known exactly)
and then on handnet's own training of the digits network. Every trial is written to a CSV as
soon as it finishes, so an interrupted search carries on where it stopped.

Run it from the project root:  python -m lessons.hyperparameter_search  [--quick] [--out DIR]
"""

# %% [markdown]
# ## 1. Ask and tell
#
# A search is a conversation between two parties that know nothing about each other:
#
# * the **searcher** proposes a setting (`ask() -> dict`) and is told how it went
#   (`tell(params, score)`); it never runs anything itself;
# * the **objective** turns a setting into a score (lower is better) and knows nothing of
#   the search.
#
# Keeping them apart is what makes a search easy to stop, resume, run on several machines or
# swap for a cleverer one. The loop in between is short:
#
#     params = searcher.ask(); score = objective(params); searcher.tell(params, score)
#
# The search space has three kinds of dimension, each mapped to the unit interval $[0, 1]$ so
# that one piece of code can sample and compare them:
#
# * `uniform(lo, hi)`: $v = lo + u\,(hi - lo)$;
# * `log(lo, hi)`: $v = lo \cdot (hi/lo)^u$, i.e. uniform in $\log v$. A learning rate of
#   0.001 and one of 0.01 differ as much as 0.1 and 1: what matters is the ratio, so we
#   spend as many trials on each decade;
# * `int(lo, hi)`: $v = lo + \lfloor u\,(hi - lo + 1) \rfloor$, every integer equally likely.
#
# Random search draws $u$ uniformly in the unit cube. It sounds naive, but it is hard to beat
# when only a few of the dimensions matter (Bergstra and Bengio, "Random Search for
# Hyper-Parameter Optimization", JMLR 2012): in two dimensions a 3×3 grid tries only 3 values
# of the dimension that matters, 9 random points try 9.


# %%
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

import handnet as hn
from lessons import _bayes_opt as bo
from lessons._common import start, train_noting_warnings
from lessons._hyperparameter_search_journal import check_space, compare, read_trials, run_search, to_python
from lessons._hyperparameter_search_plots import plot_best_so_far, plot_post_search, plot_score_vs_lr

if __name__ == "__main__":
    run = start("hyperparameter_search")   # in a notebook: quick mode from HANDNET_LESSON_QUICK=1


# %% [markdown]
# The three maps, their inverse, and the random searcher. (Checking that a space is well formed,
# `check_space`, and the CSV plumbing of section 4 live in `lessons/_hyperparameter_search_journal.py`.)
# Below, the first proposals for the space searched in section 3, and their unit coordinates mapped
# back by `to_unit`: the $u$ that `ask()` drew, except for an integer, whose $u$ comes back as the
# middle of its cell.

# %%
def from_unit(space, u):
    """The point of the space at unit coordinates u (d,) in [0, 1]^d, as a dict of *Python* numbers.

    uniform: lo + u (hi - lo);  log: lo (hi/lo)^u;  int: lo + floor(u (hi - lo + 1)), at most hi.
    """
    params = {}
    for (name, (kind, lo, hi)), ui in zip(space.items(), np.asarray(u, dtype=np.float64)):
        if kind == "uniform":
            params[name] = float(lo + ui * (hi - lo))
        elif kind == "log":
            params[name] = float(lo * (hi / lo) ** ui)
        else:
            params[name] = int(min(hi, lo + math.floor(ui * (hi - lo + 1))))
    return params


def to_unit(space, params):
    """The unit coordinates (d,) of a point: the inverse of from_unit (an int maps to its cell's middle)."""
    u = []
    for name, (kind, lo, hi) in space.items():
        v = params[name]
        if kind == "uniform":
            u.append((v - lo) / (hi - lo))
        elif kind == "log":
            u.append(math.log(v / lo) / math.log(hi / lo))
        else:
            u.append((v - lo + 0.5) / (hi - lo + 1))
    return np.array(u, dtype=np.float64)


class RandomSearch:
    """Random search with an ask/tell interface.

    RandomSearch(space, seed): ask() -> dict of Python numbers; tell(params, score) records a
    trial (lower score is better). The i-th proposal is drawn from np.random.default_rng([seed, i]),
    so a searcher that is told k earlier trials proposes exactly what an uninterrupted one would
    have proposed as its (k+1)-th: this is what makes resuming reproducible.
    """

    def __init__(self, space, seed=0):
        self.space = check_space(space)
        self.seed = int(seed)
        self.trials = []            # [(params dict, score float)] in the order told
        self.n_asked = 0

    def _next_rng(self):
        rng = np.random.default_rng([self.seed, self.n_asked])
        self.n_asked += 1
        return rng

    def ask(self):
        """A new point: u ~ U([0, 1]^d), mapped through the space."""
        return from_unit(self.space, self._next_rng().random(len(self.space)))

    def tell(self, params, score):
        """Record that ``params`` scored ``score`` (both converted to Python numbers)."""
        missing = set(self.space) - set(params)
        if missing:
            raise ValueError(f"params: missing {sorted(missing)}; the space has {list(self.space)}")
        params = {name: to_python(params[name]) for name in self.space}
        self.trials.append((params, float(score)))
        self.n_asked = max(self.n_asked, len(self.trials))

    def best(self):
        """(params, score) of the lowest score told so far."""
        return min(self.trials, key=lambda trial: trial[1])


#: The space of section 3's search: gradient descent on x².
X2_SPACE = {"x_range": ("uniform", 0.5, 5.0), "lr": ("log", 1e-3, 3.0), "epochs": ("int", 1, 40)}


if __name__ == "__main__":
    demo = RandomSearch(X2_SPACE, seed=0)
    proposals = pd.DataFrame([demo.ask() for _ in range(4)])
    proposals[[f"u[{name}]" for name in X2_SPACE]] = np.array([to_unit(X2_SPACE, p) for p in proposals.to_dict("records")])
    run.table(proposals, "RandomSearch(X2_SPACE, seed=0): the first four proposals and their unit coordinates "
                         "(an int's u is its cell's middle):")


# %% [markdown]
# ## 2. A search that learns from its trials
#
# Random search never looks at its results. A model-guided search does: after a few random
# start-up trials it proposes points that *resemble the good trials and not the bad ones*. The
# version here is a stripped-down form of the Tree-structured Parzen Estimator (Bergstra,
# Bardenet, Bengio and Kégl, "Algorithms for Hyper-Parameter Optimization", NeurIPS 2011):
#
# 1. sort the trials by score; the best quarter are the *good* ones, the rest are *bad*;
# 2. in unit coordinates, put a Gaussian bump of width $\sigma$ on every trial, giving two
#    densities $l(u)$ (good) and $g(u)$ (bad):
#    $l(u) = \frac{1}{n_l} \sum_{j \in good} \exp(-\|u - u_j\|^2 / 2\sigma^2)$;
# 3. draw candidates near the good trials (a good trial plus Gaussian noise of width
#    $\sigma$) and propose the one with the largest ratio $l(u) / g(u)$.
#
# A large $l/g$ means "close to what worked, far from what did not". The only model is a pair
# of kernel density estimates: no fitting, nothing to tune but $\sigma$, the good fraction and
# the number of candidates. The ratio is computed on the log scale (log-sum-exp), because the
# bumps of far-away trials underflow to 0.


# %%
def log_kernel_density(U, centres, bandwidth):
    """log l(u) = log[(1/n) Σ_j exp(-|u - c_j|² / 2σ²)] for every row of U (C, d); centres (n, d) -> (C,).

    Computed with log-sum-exp (the largest term factored out) so that far points do not underflow.
    The normalising constant of the Gaussian is left out: it cancels in the ratio l/g.
    """
    sq = np.sum((U[:, None, :] - centres[None, :, :]) ** 2, axis=2) / (2.0 * bandwidth ** 2)   # (C, n)
    top = np.min(sq, axis=1)
    return -top + np.log(np.mean(np.exp(-(sq - top[:, None])), axis=1))


def density_ratio_choice(good, bad, candidates, bandwidth):
    """The index of the candidate (C, d) with the largest log l(u) - log g(u); good (n_l, d), bad (n_g, d)."""
    score = (log_kernel_density(candidates, good, bandwidth)
             - log_kernel_density(candidates, bad, bandwidth))
    return int(np.argmax(score))


class GuidedSearch(RandomSearch):
    """Random start-up, then proposals by the good/bad density ratio (a TPE-like search).

    GuidedSearch(space, seed, n_startup=8, good_fraction=0.25, n_candidates=32, bandwidth=0.1).
    The first n_startup proposals are RandomSearch's; after that, candidates are good trials
    plus N(0, bandwidth²) noise in unit coordinates (clipped to [0, 1]) and the one maximising
    l(u)/g(u) is proposed.
    """

    def __init__(self, space, seed=0, n_startup=8, good_fraction=0.25, n_candidates=32, bandwidth=0.1):
        super().__init__(space, seed)
        self.n_startup = max(2, int(n_startup))
        self.good_fraction = float(good_fraction)
        self.n_candidates = int(n_candidates)
        self.bandwidth = float(bandwidth)

    def good_and_bad(self):
        """Unit coordinates of the good trials (best ceil(fraction·n)) and of the others."""
        U = np.array([to_unit(self.space, params) for params, _ in self.trials])
        order = np.argsort([score for _, score in self.trials], kind="stable")
        n_good = min(len(order) - 1, max(1, math.ceil(self.good_fraction * len(order))))
        return U[order[:n_good]], U[order[n_good:]]

    def ask(self):
        """RandomSearch.ask() during start-up, then the candidate with the largest l/g."""
        if len(self.trials) < self.n_startup:
            return super().ask()
        rng = self._next_rng()
        good, bad = self.good_and_bad()
        picks = good[rng.integers(len(good), size=self.n_candidates)]
        candidates = np.clip(picks + self.bandwidth * rng.standard_normal(picks.shape), 0.0, 1.0)
        return from_unit(self.space, candidates[density_ratio_choice(good, bad, candidates, self.bandwidth)])


if __name__ == "__main__":
    good, bad = np.array([[0.45], [0.55]]), np.array([[0.05], [0.2], [0.8], [0.95]])
    candidates = np.linspace(0.0, 1.0, 11)[:, None]
    ratio = pd.DataFrame({"u": candidates[:, 0],
                          "log l(u)": log_kernel_density(candidates, good, 0.1),
                          "log g(u)": log_kernel_density(candidates, bad, 0.1)})
    ratio["log l/g"] = ratio["log l(u)"] - ratio["log g(u)"]
    run.table(ratio.round(2), "One dimension, good trials at 0.45 and 0.55, bad ones at 0.05, 0.2, 0.8, 0.95 "
                              "(bandwidth 0.1):")
    run.say(f"""The candidate with the largest l/g is u = {candidates[density_ratio_choice(good, bad, candidates, 0.1), 0]:g}:
        the middle of the good trials, as far as possible from the bad ones.""")


# %% [markdown]
# ## 3. The first objective: gradient descent on x²
#
# Minimise $f(x) = x^2$ by gradient descent, $x \leftarrow x - \eta f'(x) = x - 2\eta x$. Each
# step multiplies $x$ by the same number, so after $T$ epochs
#
# $$x_T = (1 - 2\eta)^T x_0 .$$
#
# Everything is known: the iteration converges iff $|1 - 2\eta| < 1$, i.e. $0 < \eta < 1$; it
# lands on the minimum in one step at $\eta = 1/2$; for $\eta > 1$ it overshoots further at
# every step and diverges. A search that knows none of this should rediscover it.
#
# The objective runs the descent from many starting points at once (a vector $x_0$ of 101
# points evenly spread over $[-r, r]$, $r$ being the "initial range" hyperparameter) and scores
# the worst one: $\max |x_T| = r\,|1 - 2\eta|^T$. The loop is over epochs, which depend on
# each other; the starting points are one NumPy array.


# %%
def gradient_descent_x2(x0, lr, epochs):
    """x_{t+1} = x_t - lr · 2 x_t for `epochs` steps, for every starting point at once; x0 (n,) -> x_T (n,).

    lr may also be an array (n,) (one learning rate per starting point): it broadcasts.
    """
    x = np.array(x0, dtype=np.float64)
    for _ in range(epochs):          # epochs must be a Python int (see section 5)
        x = x - lr * 2.0 * x
    return x


def closed_form_x2(x0, lr, epochs):
    """x_T = (1 - 2 lr)^T x_0; x0 (n,) -> (n,)."""
    return (1.0 - 2.0 * lr) ** epochs * np.asarray(x0, dtype=np.float64)


def growth_factor(lr):
    """|1 - 2 lr|: how much one step multiplies the distance to the minimum (> 1 means divergence)."""
    return np.abs(1.0 - 2.0 * np.asarray(lr, dtype=np.float64))


def x2_objective(params, n_starts=101):
    """{'score': max |x_T|} over n_starts starting points evenly spread in [-x_range, x_range]."""
    r = params["x_range"]
    x0 = np.linspace(-r, r, n_starts)
    return {"score": float(np.max(np.abs(gradient_descent_x2(x0, params["lr"], params["epochs"]))))}


def divergence_scan(lrs, epochs=20, x0=1.0):
    """A table over a grid of learning rates: |1 - 2 lr|, |x_T| from x0 = 1, and whether it grew."""
    lrs = np.asarray(lrs, dtype=np.float64)
    xT = gradient_descent_x2(np.full(lrs.shape, x0), lrs, epochs)    # one run per lr, side by side
    return pd.DataFrame({"lr": lrs, "|1-2lr|": growth_factor(lrs), "|x_T|": np.abs(xT),
                         "diverged": np.abs(xT) > abs(x0)})


if __name__ == "__main__":
    run.say("""
        Gradient descent on f(x) = x²: each step x <- x - 2 lr x multiplies x by (1 - 2 lr), so
        x_T = (1 - 2 lr)^T x_0. It converges for 0 < lr < 1, lands on 0 in one step at lr = 1/2
        and diverges for lr > 1. First we check the code against that formula.
    """)
    x0 = np.linspace(-2.0, 2.0, 101)
    iterated = gradient_descent_x2(x0, 0.3, 7)
    exact = closed_form_x2(x0, 0.3, 7)
    run.expect("the iteration x <- x - 2 lr x gives x_T = (1 - 2 lr)^T x_0",
               np.allclose(iterated, exact, rtol=1e-12, atol=0),
               f"lr 0.3, 7 epochs, 101 starting points, max difference {np.max(np.abs(iterated - exact)):.1e}")
    scan = divergence_scan([0.01, 0.1, 0.5, 0.9, 0.99, 1.01, 1.1, 2.0], epochs=20)
    run.table(scan, "Twenty steps from x_0 = 1 for a few learning rates:")
    run.expect("gradient descent on x² grows exactly when lr > 1",
               np.array_equal(scan["diverged"].to_numpy(), scan["lr"].to_numpy() > 1), "on the grid above")


# %% [markdown]
# ## 4. A journal on disk: save every trial, resume from it
#
# A search can take hours and is interrupted by a laptop lid, a Ctrl-C or a crash. So each
# trial is appended to a CSV **as soon as it finishes**, and the file is replaced atomically
# (`handnet.io.atomic_write`: the new table is written to a temporary file in the same folder
# and renamed over the old one, so a crash leaves either the old table or the new one, never
# half a line).
#
# Resuming is then: read the CSV, `tell` the searcher every trial in it, and run only the
# trials still missing. Because the i-th proposal depends only on the seed, on i and on the
# trials told before it, a resumed search produces *exactly* the table an uninterrupted one
# would have. Python writes each float with the shortest text that reads back to the same
# bits, and pandas reads it back exactly, so nothing is lost on the way through the file.
#
# The code of the journal is plumbing and lives in `lessons/_hyperparameter_search_journal.py`:
# `write_trials` (the atomic CSV write), `read_trials` (which checks the table it reads) and
# `run_search`, the ask/tell loop of section 1 with the resume in front: tell the searcher every
# row already in the file, then ask, run and save until the table has `n_trials` rows. Below, the
# x² searches of section 3 run through it, and the guided one is run a second time in two halves
# by two fresh searchers, as if the first had been interrupted.

# %%
if __name__ == "__main__":
    n_x2, n_startup = (24, 8) if run.quick else (48, 10)
    run.say(f"""
        Now the searches, over x_range in [0.5, 5] (uniform), lr in [0.001, 3] (log scale) and
        epochs in 1..40, scoring max |x_T| over 101 starting points: {n_x2} trials of random search,
        and {n_x2} of the guided search ({n_startup} random start-up trials, then the l/g density ratio).
        Every trial goes to a CSV in {run.out / 'trials'} as soon as it is done.
    """)
    folder = run.path("trials")
    for name in ("x2_random.csv", "x2_guided.csv", "x2_guided_resumed.csv", "digits.csv"):
        if (folder / name).exists():            # a fresh search each time the lesson runs
            (folder / name).unlink()
    x2_random, _ = run_search(RandomSearch(X2_SPACE, seed=0), x2_objective, n_x2, folder / "x2_random.csv")
    x2_guided, _ = run_search(GuidedSearch(X2_SPACE, seed=0, n_startup=n_startup), x2_objective, n_x2,
                              folder / "x2_guided.csv")
    half = n_x2 // 2
    resumed_path = folder / "x2_guided_resumed.csv"
    _, first = run_search(GuidedSearch(X2_SPACE, seed=0, n_startup=n_startup), x2_objective, n_x2,
                          resumed_path, max_new=half)
    resumed, second = run_search(GuidedSearch(X2_SPACE, seed=0, n_startup=n_startup), x2_objective, n_x2,
                                 resumed_path)
    run.say(f"""
        The guided x² search was also run in two halves by two fresh searchers sharing one CSV:
        the first call ran {first} trials and stopped, the second read them back and ran {second}.
    """)
    run.expect("a resumed search gives the same table as an uninterrupted one",
               first + second == n_x2 and resumed.equals(x2_guided)
               and read_trials(resumed_path, X2_SPACE).equals(read_trials(folder / "x2_guided.csv", X2_SPACE)),
               f"{n_x2} trials, every number equal")


# %% [markdown]
# ### What the two searches found on x²
#
# The answers are known, so the searches can be graded: a trial should end farther out than it
# started exactly when its learning rate is above 1, and the best learning rate should lie in the
# convergent range $0 < \eta < 1$. One seed can be lucky, so the comparison of random and guided
# search is then repeated over several seeds, looking at the median trial after the start-up
# (where the two searchers differ) as well as at the best one.

# %%
def compare_searches(space, objective, n_trials, seeds, n_startup):
    """Random and guided search side by side for each seed, in memory.

    Returns (table, scores): the table has one row per seed with the best score of each search
    and the median over the trials after the start-up (where the two differ); scores maps
    'random' and 'guided' to the (n_seeds, n_trials) array of every trial's score.
    """
    makers = {"random": lambda seed: RandomSearch(space, seed),
              "guided": lambda seed: GuidedSearch(space, seed, n_startup=n_startup)}
    return compare(makers, objective, n_trials, seeds, n_startup)


if __name__ == "__main__":
    grew = x2_random["score"] > x2_random["x_range"]
    run.expect("random search rediscovers the divergence: a trial ends farther out than it started iff lr > 1",
               np.array_equal(grew.to_numpy(), (x2_random["lr"] > 1).to_numpy()),
               f"{int(grew.sum())} of {n_x2} random trials had lr > 1 and grew")
    summary = []
    for label, table in (("random", x2_random), ("guided", x2_guided)):
        b = table.loc[table["score"].idxmin()]
        after = table.iloc[n_startup:]
        summary.append({"search": label, "best score": b["score"], "best lr": b["lr"],
                        "best epochs": int(b["epochs"]), "best x_range": b["x_range"],
                        f"lr < 1 after trial {n_startup}": f"{int((after['lr'] < 1).sum())} of {len(after)}",
                        f"median score after trial {n_startup}": float(after["score"].median())})
    summary = pd.DataFrame(summary).set_index("search")
    run.table(summary, f"x² searches, {n_x2} trials each (same seed, same first {n_startup} trials):")
    run.expect("the best learning rate found lies in the convergent range 0 < lr < 1",
               bool(((summary["best lr"] > 0) & (summary["best lr"] < 1)).all()),
               ", ".join(f"{s}: {v:.3g}" for s, v in summary["best lr"].items()))
    seeds = range(4) if run.quick else range(8)
    versus, scores = compare_searches(X2_SPACE, x2_objective, n_x2, seeds, n_startup)
    run.table(versus, f"The same comparison for {len(versus)} seeds ({n_x2} trials each; medians over the "
                      f"trials after the first {n_startup}):")
    wins = int((versus["best guided"] < versus["best random"]).sum())
    run.say(f"""
        The guided search found a strictly better best trial for {wins} of {len(versus)} seeds. A single best
        trial is partly luck (one random draw can land near lr = 1/2 with many epochs); the median of
        the proposals shows what the guidance does: it stops spending trials where the scores were bad.
    """)
    run.expect("after start-up, the guided search's median trial beats random search's for every seed",
               bool((versus["median guided"] < versus["median random"]).all()),
               f"largest guided/random median ratio {np.max(versus['median guided'] / versus['median random']):.1g}")


# %% [markdown]
# ## 5. Numpy scalars are not Python numbers
#
# `rng.integers(1, 40)` returns an `np.int64`, `10 ** rng.uniform(-3, 0)` an `np.float64`, and a
# value read back from a pandas table is a numpy scalar too. Worse, `DataFrame.iterrows()`
# turns each row into one Series of a single dtype, so in a table with a float column the
# integer `epochs` comes back as `np.float64(32.0)`. Numpy scalars print like numbers and do
# arithmetic like numbers, but not everything accepts them: `json.dumps` refuses an `np.int64`
# and `range()` refuses an `np.float64` even when it holds a whole number. (`np.float64`
# happens to subclass Python's `float`, so json accepts it; `np.int64` does not subclass
# `int`.) The searcher therefore converts with `.item()`, `float()` or `int()` before anything
# leaves it, and the CSV reader (`params_of_row`, in the journal module) converts again on the way in.


# %%
def numpy_scalar_pitfalls(seed=0):
    """Try the two classic numpy-scalar mistakes and their fixes; a table of what each did."""
    rng = np.random.default_rng(seed)
    epochs_int = rng.integers(1, 40)                 # np.int64
    table = pd.DataFrame({"lr": [0.1], "epochs": [epochs_int]})
    _, row = next(table.iterrows())
    epochs_float = row["epochs"]                     # np.float64: iterrows gave the row one dtype
    cases = [
        ("json.dumps({'epochs': rng.integers(1, 40)})", lambda: json.dumps({"epochs": epochs_int})),
        ("json.dumps({'epochs': ....item()})", lambda: json.dumps({"epochs": epochs_int.item()})),
        ("range(row['epochs']) after iterrows()", lambda: len(range(epochs_float))),
        ("range(int(row['epochs']))", lambda: len(range(int(epochs_float)))),
    ]
    rows = []
    for what, call in cases:
        try:
            rows.append({"call": what, "raised": "", "result": str(call())})
        except TypeError as exc:
            rows.append({"call": what, "raised": f"TypeError: {exc}", "result": ""})
    return pd.DataFrame(rows), epochs_int, epochs_float


if __name__ == "__main__":
    probe = RandomSearch(X2_SPACE, seed=0).ask()
    run.say(f"A first proposal from RandomSearch: {probe}")
    run.expect("ask() returns Python numbers, not numpy scalars",
               all(type(v) in (int, float) for v in probe.values())
               and type(probe["epochs"]) is int, ", ".join(f"{k}: {type(v).__name__}" for k, v in probe.items()))
    pitfalls, epochs_int, epochs_float = numpy_scalar_pitfalls()
    run.table(pitfalls, f"Numpy scalars: {epochs_int!r} from a numpy Generator, and the same number read "
                        f"back from a table row by iterrows(): {epochs_float!r}")
    raised = pitfalls["raised"].str.startswith("TypeError").to_list()
    run.expect("np.int64 breaks json.dumps and np.float64 breaks range(); .item()/int() fix both",
               raised == [True, False, True, False])


# %% [markdown]
# ## 6. The same search on handnet's training
#
# Now the objective is real: train a `[64, hidden, 10]` sigmoid network with `hn.train` and
# score it on a **validation** split. The digits are first split as in the README
# (`test_size=0.2, seed=0`); only the training part is used here, split again into a part to
# train on and a validation part to score on. The test part stays untouched: a test set that
# has been used to pick hyperparameters no longer measures how well the chosen model
# generalises.
#
# The space: hidden size (integer), learning rate (log scale) and L2 penalty λ (log scale).
# The score is the unregularised cross-entropy on the validation digits; the validation
# accuracy is kept in the table too. A learning rate so large that training diverges scores
# +inf instead of stopping the search.


# %%
DIGITS_SPACE = {"hidden": ("int", 4, 40), "lr": ("log", 0.1, 10.0), "l2": ("log", 1e-3, 10.0)}


def digits_validation_split(seed=1, n_train=None):
    """(X_fit, y_fit, X_val, y_val): the README's training part of the digits, split 75/25 again.

    n_train, when given, keeps only the first n_train fitting rows (for quick runs).
    """
    X, y = hn.datasets.load_digits()
    X_train, _, y_train, _ = hn.datasets.train_test_split(X, y, test_size=0.2, seed=0)
    X_fit, X_val, y_fit, y_val = hn.datasets.train_test_split(X_train, y_train, test_size=0.25, seed=seed)
    if n_train is not None:
        X_fit, y_fit = X_fit[:n_train], y_fit[:n_train]
    return X_fit, y_fit, X_val, y_val


def make_digits_objective(X_fit, y_fit, X_val, y_val, epochs, seed=0):
    """objective(params) -> {'score': validation cross-entropy, 'val_accuracy': ...} after hn.train.

    hn.train's "looks stuck" warnings are kept, with the trial's parameters, in objective.stuck
    (a list of (params, text)), for the narrative to report."""
    from handnet.training import TrainingDiverged

    def objective(params):
        net = hn.MLP([X_fit.shape[1], params["hidden"], 10], seed=seed)
        try:
            _, warned = train_noting_warnings(net, X_fit, y_fit, epochs=epochs, lr=params["lr"], l2=params["l2"])
        except TrainingDiverged:
            return {"score": math.inf, "val_accuracy": math.nan}
        if warned:
            objective.stuck.append((dict(params), warned))
        return {"score": float(hn.cost(net, X_val, y_val)),
                "val_accuracy": float(hn.accuracy(y_val, net.predict(X_val)))}

    objective.stuck = []
    return objective


if __name__ == "__main__":
    n_digits, epochs, n_train = (4, 40, 300) if run.quick else (12, 150, None)
    X_fit, y_fit, X_val, y_val = digits_validation_split(n_train=n_train)
    objective = make_digits_objective(X_fit, y_fit, X_val, y_val, epochs=epochs)
    digits_path = folder / "digits.csv"
    searcher_args = dict(seed=0, n_startup=max(2, n_digits // 2))
    _, first = run_search(GuidedSearch(DIGITS_SPACE, **searcher_args), objective, n_digits, digits_path,
                          max_new=n_digits // 2)
    digits, second = run_search(GuidedSearch(DIGITS_SPACE, **searcher_args), objective, n_digits, digits_path)
    run.table(digits, f"handnet search: {len(X_fit)} digits to fit, {len(X_val)} to validate, {epochs} "
                      f"full-batch epochs per trial; saved in {digits_path}")
    for params, warned in objective.stuck:
        run.say(f"hn.train warned during the trial with lr = {params['lr']:.3g}: {warned}")
    run.expect("the interrupted digits search resumed and ran only the missing trials",
               (first, second) == (n_digits // 2, n_digits - n_digits // 2)
               and len(read_trials(digits_path, DIGITS_SPACE)) == n_digits,
               f"{first} trials, then {second}")
    b = digits.loc[digits["score"].idxmin()]
    by_accuracy = digits.loc[digits["val_accuracy"].idxmax()]
    if by_accuracy["trial"] != b["trial"]:
        run.say(f"""
            The search minimised the validation cross-entropy, so its best trial is number {int(b['trial'])}
            ({b['val_accuracy']:.1%} accurate), while trial {int(by_accuracy['trial'])} is the most accurate ({by_accuracy['val_accuracy']:.1%}).
            On {len(X_val)} validation digits one digit is {1 / len(X_val):.2%}: the smooth cross-entropy ranks
            settings more finely than the count of right answers, at the price of preferring confident networks.
        """)
    floor = 0.5 if run.quick else 0.9
    run.expect(f"the best setting found reaches at least {floor:.0%} validation accuracy",
               b["val_accuracy"] >= floor,
               f"hidden {int(b['hidden'])}, lr {b['lr']:.3g}, l2 {b['l2']:.3g}: "
               f"accuracy {b['val_accuracy']:.1%}, cross-entropy {b['score']:.4f}")


# %% [markdown]
# ## 7. What the searches found, in two figures
#
# Score against learning rate on log axes shows what the search found: for x² a V-shaped
# valley with its floor at $\eta = 1/2$ and a wall at $\eta = 1$ (left); for the digits, the
# validation cross-entropy of each trial, coloured by the hidden size (right). The best-so-far
# curve (the running minimum of the scores) is how searches are usually compared: lower and
# earlier is better. On x² it is drawn for every seed of section 4's comparison, random against
# guided, with the median over seeds thick.

# %%
if __name__ == "__main__":
    run.figure(plot_score_vs_lr(x2_random, x2_guided, digits, DIGITS_SPACE["lr"][1:]), "score_vs_lr.png")
    run.figure(plot_best_so_far(scores, digits, n_startup), "best_so_far.png")


# %% [markdown]
# ## 8. The post's own search, with a Gaussian process written by hand
#
# The blog post this lesson answers ("To learn is to teach") tunes gradient descent on x² with
# scikit-optimize: `max_init_x` Real(0, 10), the learning rate log-uniform on (1e-10, 1),
# `epochs` Integer(1, 20), **5 random trials, then 20 guided by a Gaussian process** (GP). We
# run that search space and that budget with a GP and expected improvement written here in
# NumPy (`lessons/_bayes_opt.py`, one function per equation), beside random search and the
# density-ratio search above, with the same objective as section 3 (the worst |x_T| over 101
# starting points in [-max_init_x, max_init_x]; the post draws one random start, which makes
# its score depend on luck).
#
# *The surrogate.* In unit coordinates u, the scores' logarithms (standardised) are modelled as
# a GP with the RBF kernel $k(u, v) = \exp(-|u - v|^2 / 2\ell^2)$. Given the trials $U$ and
# their values $y$, with $K = k(U, U) + s^2 I = LL^T$ (Cholesky), the prediction at a new point
# is Gaussian with mean $k_*^T K^{-1} y$ and variance $1 - k_*^T K^{-1} k_*$. $K^{-1}$ is never
# formed: two triangular solves with $L$ do the work. The length scale $\ell$ is the one of
# a small grid with the largest marginal likelihood $\log p(y) = -\tfrac12 y^T K^{-1} y -
# \sum \log L_{ii} - \tfrac n2 \log 2\pi$.
#
# *Where to look next.* Expected improvement over the best value $f^+$ so far,
# $EI = (f^+ - \mu - \xi)\Phi(z) + \sigma\varphi(z)$ with $z = (f^+ - \mu - \xi)/\sigma$, rewards
# both a low predicted mean and a large uncertainty. $\Phi(z) = (1 + \mathrm{erf}(z/\sqrt2))/2$;
# `math.erf` takes one number at a time, so `erf_array` calls it once at 49 fixed nodes and
# reaches every other point by a Taylor series around the nearest node (exact to rounding,
# tested against `math.erf`). EI is evaluated on 2000 random candidates at once and the best
# one is proposed.
#
# The figure below draws the best score so far of the three searches for every seed: the
# guided ones should leave random search behind once the start-up trials are over.

# %%
POST_SPACE = {"max_init_x": ("uniform", 0.0, 10.0), "learning_rate": ("log", 1e-10, 1.0),
              "epochs": ("int", 1, 20)}
POST_STARTUP, POST_TRIALS = 5, 25


def post_objective(params, n_starts=101):
    """The post's graddesc on x², scored as in section 3: {'score': max |x_T|} over starts in ±max_init_x."""
    return x2_objective({"x_range": params["max_init_x"], "lr": params["learning_rate"],
                         "epochs": params["epochs"]}, n_starts)


def post_objective_swapped(params, n_starts=101):
    """The same run with learning rate and max_init_x passed in each other's place."""
    return post_objective({"max_init_x": params["learning_rate"], "learning_rate": params["max_init_x"],
                           "epochs": params["epochs"]}, n_starts)


class GPSearch(RandomSearch):
    """Random start-up, then the candidate with the largest expected improvement under a GP surrogate.

    GPSearch(space, seed, n_startup=5, n_candidates=2000, noise=1e-6, xi=0.01): after n_startup
    random trials, fit the GP (RBF kernel, length scale by marginal likelihood) to the
    standardised log-scores in unit coordinates and propose argmax EI over uniform candidates.
    """

    def __init__(self, space, seed=0, n_startup=POST_STARTUP, n_candidates=2000, noise=1e-6, xi=0.01):
        super().__init__(space, seed)
        self.n_startup = max(2, int(n_startup))
        self.n_candidates, self.noise, self.xi = int(n_candidates), float(noise), float(xi)
        self.length_scale = None

    def ask(self):
        """RandomSearch.ask() during start-up, then argmax EI over n_candidates uniform points."""
        if len(self.trials) < self.n_startup:
            return super().ask()
        U = np.array([to_unit(self.space, params) for params, _ in self.trials])
        y, best = bo.standardise([score for _, score in self.trials])
        self.length_scale = bo.fit_length_scale(U, y, self.noise)
        candidates = self._next_rng().random((self.n_candidates, len(self.space)))
        mean, var = bo.gp_posterior(U, y, candidates, self.length_scale, self.noise)
        ei = bo.expected_improvement(mean, var, best, self.xi)
        return from_unit(self.space, candidates[int(np.argmax(ei))])


def compare_post_searches(seeds, objective=post_objective):
    """Random, density-ratio and GP search on the post's space and budget, per seed.

    -> (table with the best score of each search per seed, {search: (n_seeds, 25) scores}).
    """
    makers = {"random": lambda s: RandomSearch(POST_SPACE, s),
              "density ratio": lambda s: GuidedSearch(POST_SPACE, s, n_startup=POST_STARTUP),
              "GP + EI": lambda s: GPSearch(POST_SPACE, s, n_startup=POST_STARTUP)}
    table, scores = compare(makers, objective, POST_TRIALS, seeds, POST_STARTUP)
    return table[[f"best {label}" for label in makers]].rename(columns=lambda c: c[len("best "):]), scores


if __name__ == "__main__":
    z = np.linspace(-7.0, 7.0, 1401)
    erf_error = float(np.max(np.abs(bo.erf_array(z) - np.array([math.erf(v) for v in z.tolist()]))))
    run.expect("erf over arrays (49 math.erf nodes + Taylor series) matches math.erf to rounding",
               erf_error <= 4 * np.finfo(float).eps, f"max |difference| {erf_error:.1e} on 1401 points in [-7, 7]")
    post_seeds = range(4) if run.quick else range(8)
    post_table, post_scores = compare_post_searches(post_seeds)
    medians = pd.DataFrame({label: np.median(s[:, POST_STARTUP:], axis=1) for label, s in post_scores.items()},
                           index=post_table.index)
    run.table(post_table, f"The post's space, {POST_STARTUP} random + {POST_TRIALS - POST_STARTUP} guided trials: "
                          f"best max |x_T| per seed")
    run.table(medians, f"... and the median score of trials {POST_STARTUP + 1}-{POST_TRIALS} "
                       f"(what the guidance proposes):")
    gp_wins = int((post_table["GP + EI"] < post_table["random"]).sum())
    probe = GPSearch(POST_SPACE, seed=0)
    run_search(probe, post_objective, POST_TRIALS, None)
    best_params, best_score = probe.best()
    run.say(f"""
        The GP search's best trial beat random search's for {gp_wins} of {len(post_table)} seeds; its
        median proposal after start-up is {np.median(medians['GP + EI'] / medians['random']):.1e} times
        random search's (median over seeds). For seed 0 it fitted a length scale of
        {probe.length_scale:.3g} (unit-cube units) and its best trial was max_init_x =
        {best_params['max_init_x']:.3g}, learning rate {best_params['learning_rate']:.3g}, {best_params['epochs']}
        epochs: max |x_T| = {best_score:.2e}. Two ways to win exist in this space: a learning rate
        near 1/2 (one step lands on 0), and a small max_init_x (start at the answer). The second is
        why max_init_x is a poor hyperparameter: it is part of the question, not of the method, and
        a search rewarded for small |x_T| is rewarded for shrinking it. The density-ratio search,
        whose candidates are clipped to the cube's faces, reached a score of exactly 0 (a
        max_init_x clipped to 0, or an |x_T| below the smallest float) for
        {int((post_table['density ratio'] == 0).sum())} of {len(post_table)} seeds.
        """)
    run.expect("after start-up, the GP search's median trial beats random search's for every seed",
               bool((medians["GP + EI"] < medians["random"]).all()),
               f"largest GP/random median ratio {np.max(medians['GP + EI'] / medians['random']):.2g}")
    run.figure(plot_post_search(post_scores, POST_STARTUP), "post_search.png")


# %% [markdown]
# ### The post's swapped arguments
#
# The post's `graddesc` takes the learning rate and `max_init_x` in one order, and issue 12
# reports that the post's objective passes them in the other. Nothing fails: the search then
# samples the *learning rate* from Real(0, 10) and the starting range from (1e-10, 1). We run
# that mistake too and count what it does.


# %%
if __name__ == "__main__":
    swapped = run_search(RandomSearch(POST_SPACE, seed=0), post_objective_swapped, POST_TRIALS, None)[0]
    grew = swapped["score"] > swapped["learning_rate"]        # the real start range is the 'learning rate'
    run.say(f"""
        With the arguments swapped, the {POST_TRIALS} random trials of seed 0 ran gradient descent with
        'max_init_x' (Real(0, 10)) as the learning rate: {int((swapped['max_init_x'] > 1).sum())} of
        them above 1, where x² diverges, and {int(grew.sum())} ended farther from 0 than they started.
        Yet the best score is {swapped['score'].min():.1e} (unswapped random search, same seed:
        {post_table['random'].iloc[0]:.1e}), because the starting range now comes from (1e-10, 1)
        and a tiny start stays tiny for a while even when it grows: a search cannot tell a
        mislabelled argument from a good setting, only the numbers it is told.
        """)
    run.expect("with graddesc's arguments swapped, most trials use a learning rate > 1",
               (swapped["max_init_x"] > 1).sum() > POST_TRIALS / 2,
               f"{int((swapped['max_init_x'] > 1).sum())} of {POST_TRIALS}")


# %%
if __name__ == "__main__":
    run.end()
