"""Stable softmax, log-sum-exp, sigmoid and cross-entropy: computing with exp() without overflow.

Run from the project root:  python -m lessons.stable_softmax  [--quick] [--out DIR]
"""

# %% [markdown]
# # Stable softmax and friends
#
# A float64 holds numbers up to about 1.8e308, so `exp(z)` overflows to `inf`
# as soon as z > ln(1.8e308) = 709.78, and it underflows to exactly 0 below
# z = -745.13. The textbook formulas for the softmax, the sigmoid and the
# cross-entropy exponentiate their input directly, so a network whose
# pre-activations grow (a large learning rate, an unscaled input, a saturated
# unit) gets `inf` and `nan` from them, or silently loses every digit.
#
# Each formula has an algebraically identical form that never overflows. This
# lesson writes both, shows the naive one failing (catching numpy's
# floating-point errors with `np.errstate` so that they are *counted* instead of
# printed), shows that the stable one gives the same numbers wherever the naive
# one works, and checks that handnet (`handnet/activations.py`,
# `handnet/costs.py`) computes the stable forms.

# %%
import lessons  # noqa: F401  first, so that NumPy's BLAS gets one thread (see lessons/__init__.py)
import numpy as np
import pandas as pd

import handnet as hn
from handnet import activations as hn_act
from handnet import costs as hn_costs
from lessons._common import start
from lessons._stable_softmax_plots import plot_log_sigmoid, plot_logsumexp

if __name__ == "__main__":
    run = start("stable_softmax")

#: exp(z) overflows to inf above EXP_OVERFLOW = ln(largest float64) = 709.78 and rounds to 0
#: below EXP_UNDERFLOW = ln(half the smallest subnormal, 2^-1075) = -745.13.
EXP_OVERFLOW = float(np.log(np.finfo(np.float64).max))
EXP_UNDERFLOW = float(np.log(np.finfo(np.float64).smallest_subnormal) - np.log(2.0))


def floating_point_errors(fn, *args):
    """Run fn(*args) with numpy's floating-point errors recorded instead of warned about.

    Returns (result, errors): errors is the sorted list of distinct kinds numpy reported
    ('overflow', 'invalid value', 'divide by zero'); underflow to 0 is not counted.
    """
    seen = set()
    with np.errstate(all="call", under="ignore", call=lambda kind, flag: seen.add(kind)):
        result = fn(*args)
    return result, sorted(seen)


# %% [markdown]
# ## 1. The softmax and the max subtraction
#
# softmax(z)_k = exp(z_k) / sum_j exp(z_j). For z = (1000, 1001, 1002) every
# exp(z_k) is `inf`, and inf / inf is `nan`. For z = (-1000, -1001, -1002) every
# exp underflows to 0 and 0 / 0 is `nan` too.
#
# Multiplying numerator and denominator by exp(-m) changes nothing:
#
#     softmax(z)_k = exp(z_k - m) / sum_j exp(z_j - m)      for any constant m.
#
# With m = max_j z_j the largest exponent is exactly 0, so no term overflows and
# the denominator is at least 1 (no 0/0). Terms far below the maximum still
# underflow to 0, but then their true probability is below 1e-308 anyway.

# %%
def naive_softmax(z):
    """exp(z_k) / sum_j exp(z_j), row-wise.  (..., K) -> (..., K); overflows for z > 709.78."""
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def stable_softmax(z):
    """exp(z_k - m) / sum_j exp(z_j - m), m = max_j z_j, row-wise.  (..., K) -> (..., K)."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def softmax_agreement(n=2000, k=10, scale=10.0, seed=0):
    """Largest relative difference between naive and stable softmax where the naive one works.

    z ~ N(0, scale^2), shape (n, k): exp never overflows, so both must agree to rounding.
    Returns (max relative difference, errors the naive version reported).
    """
    z = np.random.default_rng(seed).normal(scale=scale, size=(n, k))
    naive, errors = floating_point_errors(naive_softmax, z)
    stable = stable_softmax(z)
    return float(np.max(np.abs(naive - stable) / stable)), errors


if __name__ == "__main__":
    big = np.array([1000.0, 1001.0, 1002.0])
    naive_big, err_big = floating_point_errors(naive_softmax, big)
    naive_small, err_small = floating_point_errors(naive_softmax, -big)
    stable_big, stable_small = stable_softmax(big), stable_softmax(-big)
    reference = stable_softmax(np.array([0.0, 1.0, 2.0]))
    run.say(f"""exp(z) overflows above z = {EXP_OVERFLOW:.2f}; it is 0 below z = {EXP_UNDERFLOW:.2f}. The naive
        and the stable softmax of three large and of three very negative logits:

            naive  softmax(1000, 1001, 1002)    = {naive_big}   numpy reported {err_big}
            naive  softmax(-1000, -1001, -1002) = {naive_small}   numpy reported {err_small}
            stable softmax(1000, 1001, 1002)    = {np.round(stable_big, 6)}
            stable softmax(-1000, -1001, -1002) = {np.round(stable_small, 6)}

        A shift of every z by the same constant leaves the softmax unchanged: the two stable results
        equal softmax(0, 1, 2) = {np.round(reference, 6)} and softmax(0, -1, -2) respectively.""")
    run.expect("the naive softmax of (1000, 1001, 1002) is nan, with an overflow reported",
               np.all(np.isnan(naive_big)) and "overflow" in err_big, f"errors {err_big}")
    run.expect("the stable softmax is shift invariant: softmax(1000 + (0,1,2)) = softmax(0,1,2)",
               np.allclose(stable_big, reference, rtol=1e-14, atol=0),
               f"max diff {np.max(np.abs(stable_big - reference)):.1e}")


# %% [markdown]
# Where the naive softmax does work, the max subtraction must change nothing but the rounding.

# %%
if __name__ == "__main__":
    rel, errors = softmax_agreement()
    run.say(f"""Where the naive softmax works (2000 rows of 10 logits ~ N(0, 10^2), numpy reported
        {errors or 'no errors'}), max subtraction changes nothing but rounding: the largest relative
        difference between the two is {rel:.1e} (float64 resolution is 2.2e-16).""")
    run.expect("naive and stable softmax agree to rounding where the naive one works",
               not errors and rel < 1e-13, f"max relative difference {rel:.1e}")


# %% [markdown]
# ## 2. Log-sum-exp and the log-softmax
#
# The log of the softmax denominator, LSE(z) = log sum_k exp(z_k), appears in
# every softmax cross-entropy. Take the maximum out of the sum:
#
#     LSE(z) = m + log sum_k exp(z_k - m),     m = max_k z_k.
#
# The sum is between 1 and K, so its log is between 0 and log K: no overflow,
# no log(0). The log-softmax follows without ever forming a probability:
#
#     log softmax(z)_k = z_k - LSE(z).
#
# That matters for the cross-entropy, which needs log p: a probability of
# 1e-400 is stored as 0, and log(0) = -inf, while z_k - LSE(z) = -921 is fine.

# %%
def naive_logsumexp(z):
    """log sum_k exp(z_k), row-wise.  (..., K) -> (...); inf for z > 709.78, -inf for z < -745."""
    return np.log(np.sum(np.exp(z), axis=-1))


def stable_logsumexp(z):
    """m + log sum_k exp(z_k - m), m = max_k z_k, row-wise.  (..., K) -> (...)."""
    z = np.asarray(z, dtype=np.float64)
    m = np.max(z, axis=-1, keepdims=True)
    return np.squeeze(m, axis=-1) + np.log(np.sum(np.exp(z - m), axis=-1))


def naive_log_softmax(z):
    """log(softmax(z)): -inf wherever a probability underflows to 0.  (..., K) -> (..., K)."""
    return np.log(naive_softmax(z))


def stable_log_softmax(z):
    """z_k - LSE(z), row-wise.  (..., K) -> (..., K)."""
    z = np.asarray(z, dtype=np.float64)
    return z - stable_logsumexp(z)[..., None]


if __name__ == "__main__":
    z2 = np.array([[1000.0, 1000.0], [0.0, -800.0]])
    lse_naive, lse_err = floating_point_errors(naive_logsumexp, z2)
    ls_naive, ls_err = floating_point_errors(naive_log_softmax, z2[1])
    lse_stable, ls_stable = stable_logsumexp(z2), stable_log_softmax(z2[1])
    run.say(f"""log-sum-exp of (1000, 1000): naive {lse_naive[0]} ({lse_err}), stable {lse_stable[0]:.6f}
        = 1000 + ln 2 = {1000 + np.log(2):.6f}.

        log-softmax of (0, -800): naive {ls_naive} ({ls_err}), stable {ls_stable}: the probability
        e^-800 is below the smallest float64 and is stored as 0, its log is not.""")
    run.expect("LSE(1000, 1000) = 1000 + ln 2 stably, inf naively",
               np.isposinf(lse_naive[0]) and lse_stable[0] == 1000 + np.log(2),
               f"stable {float(lse_stable[0])!r}")
    run.expect("log-softmax(0, -800) = (0, -800) stably, -inf naively",
               np.isneginf(ls_naive[1]) and np.allclose(ls_stable, [0.0, -800.0], rtol=0, atol=0),
               f"stable {ls_stable}")


# %% [markdown]
# ## 3. The sigmoid and its logarithms
#
# sigma(z) = 1 / (1 + exp(-z)) overflows inside exp for z < -709.78 (the answer,
# 1/inf = 0, happens to be right, but numpy warns, and the overflow is real).
# The stable sigmoid only ever exponentiates -|z| <= 0:
#
#     sigma(z) = 1 / (1 + e)     if z >= 0
#              = e / (1 + e)     if z < 0,        e = exp(-|z|) in (0, 1].
#
# The logs are where the trouble hides. In float64, 1 + e rounds to exactly 1
# once e <= 2^-53, i.e. for z >= 53 ln 2 = 36.74: sigma(z) *is* 1.0 there, and
# log(1 - sigma(z)) = log(0) = -inf although its true value is about -z. Even
# before that, 1 - sigma(z) subtracts two nearly equal numbers and loses about
# z / ln 10 of its 16 digits. The stable forms use the softplus,
# softplus(t) = log(1 + e^t) = max(t, 0) + log1p(exp(-|t|)):
#
#     log sigma(z)     = -softplus(-z)
#     log(1 - sigma(z)) = -softplus(z)

# %%
def naive_sigmoid(z):
    """1 / (1 + exp(-z)).  Shapes: any -> same; exp overflows for z < -709.78."""
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def stable_sigmoid(z):
    """1/(1+e) for z >= 0, e/(1+e) for z < 0, with e = exp(-|z|).  Shapes: any -> same."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def softplus(t):
    """log(1 + e^t) = max(t, 0) + log1p(exp(-|t|)).  Shapes: any -> same."""
    t = np.asarray(t, dtype=np.float64)
    return np.maximum(t, 0.0) + np.log1p(np.exp(-np.abs(t)))


def naive_log_sigmoid(z):
    """log(sigma(z)) with the naive sigmoid: -inf once exp(-z) overflows (z < -709.78)."""
    return np.log(naive_sigmoid(z))


def naive_log_one_minus_sigmoid(z):
    """log(1 - sigma(z)) with the naive sigmoid: -inf once sigma(z) rounds to 1 (z >= 36.74)."""
    return np.log(1.0 - naive_sigmoid(z))


def stable_log_sigmoid(z):
    """log sigma(z) = -softplus(-z).  Shapes: any -> same."""
    return -softplus(-np.asarray(z, dtype=np.float64))


def stable_log_one_minus_sigmoid(z):
    """log(1 - sigma(z)) = log sigma(-z) = -softplus(z).  Shapes: any -> same."""
    return -softplus(z)


def sigmoid_rounds_to_one(lo=30.0, hi=40.0, n=100_001):
    """The smallest z on a grid of [lo, hi] where the float64 sigmoid is exactly 1.0."""
    z = np.linspace(lo, hi, n)
    return float(z[np.argmax(stable_sigmoid(z) == 1.0)])


if __name__ == "__main__":
    zs = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    sig_naive, sig_err = floating_point_errors(naive_sigmoid, zs)
    l1_naive, l1_err = floating_point_errors(naive_log_one_minus_sigmoid, zs)
    l0_naive, l0_err = floating_point_errors(naive_log_sigmoid, zs)
    sat = sigmoid_rounds_to_one()
    sig_table = pd.DataFrame({"naive sigma": sig_naive, "stable sigma": stable_sigmoid(zs),
                              "naive log sigma": l0_naive,
                              "stable log sigma": stable_log_sigmoid(zs),
                              "naive log(1-sigma)": l1_naive,
                              "stable log(1-sigma)": stable_log_one_minus_sigmoid(zs)},
                             index=pd.Index(zs, name="z"))
    run.table(sig_table, title="The sigmoid and its logs, naive and stable:")
    run.say(f"""numpy reported {sig_err} for the naive sigmoid, {l0_err} for its log and {l1_err} for
        log(1 - sigma). The float64 sigmoid is exactly 1.0 from z = {sat:.4f} on (53 ln 2 =
        {53 * np.log(2):.4f}): there log(1 - sigma(z)) = log 0.""")
    run.expect("the naive sigmoid overflows at z = -1000; the stable one reports nothing",
               "overflow" in sig_err and not floating_point_errors(stable_sigmoid, zs)[1])
    run.expect("sigma(z) rounds to exactly 1 from z = 53 ln 2 (grid step 1e-4)",
               abs(sat - 53 * np.log(2)) < 2e-4, f"first z with sigma = 1: {sat:.4f}")
    run.expect("stable log sigma and log(1 - sigma) are finite at z = +-1000 and +-40",
               np.all(np.isfinite(sig_table[["stable log sigma", "stable log(1-sigma)"]])))


# %% [markdown]
# ## 4. The cross-entropy from z, not from the probability
#
# With h = sigma(z), the course's cross-entropy of one output is
#
#     C = -y log h - (1 - y) log(1 - h).
#
# Computed from h it inherits both problems above: a confident wrong answer
# (y = 0, z = 40, so h = 1.0 exactly) costs log(0) = inf, and one `inf` turns the
# mean over a batch into `inf`. Substitute the two logs of section 3:
#
#     C = y softplus(-z) + (1 - y) softplus(z) = softplus(z) - y z,
#
# (using softplus(-z) = softplus(z) - z). This is finite for every finite z and
# is exactly what `handnet.costs.cross_entropy(z, y)` computes; the softmax
# cross-entropy likewise becomes sum_k y_k LSE(z) - sum_k y_k z_k. That is why
# handnet keeps the output pre-activation z_L from the forward pass and computes
# the cost from it, never from the probabilities. (Frameworks that start from
# probabilities clip them to [eps, 1 - eps] instead, which caps the cost at
# -log(eps) and changes it.) The gradient needs no care: dC/dz = h - y is finite
# even when h rounds to 1.

# %%
def naive_cross_entropy(h, y):
    """sum [-y log h - (1 - y) log(1 - h)] from the probabilities h.  h, y: (m, K) -> scalar."""
    return float(np.sum(-y * np.log(h) - (1.0 - y) * np.log(1.0 - h)))


def cross_entropy_from_z(z, y):
    """sum [softplus(z) - y z] from the pre-activations z.  z, y: (m, K) -> scalar."""
    return float(np.sum(softplus(z) - y * z))


def naive_softmax_cross_entropy(z, y):
    """-sum y log softmax(z), from the probabilities.  z, y: (m, K) -> scalar."""
    return float(-np.sum(y * np.log(naive_softmax(z))))


def softmax_cross_entropy_from_z(z, y):
    """sum_i [ (sum_k y_ik) LSE(z_i) - sum_k y_ik z_ik ].  z, y: (m, K) -> scalar."""
    return float(np.sum(np.sum(y, axis=-1) * stable_logsumexp(z)) - np.sum(y * z))


if __name__ == "__main__":
    y = np.array([[0.0], [1.0]])
    z_wrong = np.array([[40.0], [-1000.0]])            # confident and wrong
    ce_naive, ce_err = floating_point_errors(
        lambda z, y: naive_cross_entropy(naive_sigmoid(z), y), z_wrong, y)
    ce_z = cross_entropy_from_z(z_wrong, y)
    run.say(f"""Cross-entropy of two confident wrong answers (y = 0 at z = 40, y = 1 at z = -1000):
        from the probabilities {ce_naive} ({ce_err}); from z {ce_z:.6f}
        (= softplus(40) + softplus(1000) = {40 + np.log1p(np.exp(-40)) + 1000:.6f}).""")
    run.expect("the cross-entropy from h is inf, from z it is finite and exact",
               np.isposinf(ce_naive) and np.isclose(ce_z, 1040 + np.log1p(np.exp(-40)), rtol=1e-15),
               f"{ce_z:.6f}")


# %% [markdown]
# ## 5. handnet computes the stable forms
#
# We compare our functions with handnet's on ordinary inputs (they must agree
# to rounding) and at z = +-1000, where handnet must stay finite and agree with
# the stable forms (and the naive forms cannot).

# %%
def handnet_comparison(z, y):
    """Max |ours - handnet's| for each function, on pre-activations z (m, K) and targets y (m, K).

    Returns a DataFrame: function, max abs difference, handnet finite.
    """
    labels = np.argmax(y, axis=1)
    y_onehot = np.eye(z.shape[1])[labels]
    pairs = {
        "sigmoid": (stable_sigmoid(z), hn_act.sigmoid(z)),
        "softplus": (softplus(z), hn_act.softplus(z)),
        "log_sigmoid": (stable_log_sigmoid(z), hn_act.log_sigmoid(z)),
        "softmax": (stable_softmax(z), hn_act.softmax(z)),
        "logsumexp": (stable_logsumexp(z), hn_act.logsumexp(z, axis=1)),
        "cross_entropy": (cross_entropy_from_z(z, y), hn_costs.cross_entropy(z, y)),
        "softmax_cross_entropy": (softmax_cross_entropy_from_z(z, y_onehot),
                                  hn_costs.softmax_cross_entropy(z, y_onehot)),
    }
    rows = [{"function": name, "max abs difference": float(np.max(np.abs(np.subtract(a, b)))),
             "handnet finite": bool(np.all(np.isfinite(b)))} for name, (a, b) in pairs.items()]
    return pd.DataFrame(rows).set_index("function")


def saturated_network_cost():
    """A 1-1 sigmoid network with W = 1000 on x = +-1 and the wrong labels: z = +-1000.

    Returns (hn.cost, the cost from h = net.predict_proba, errors of the latter).
    The true cost is softplus(1000) - 0 = 1000 per example, so J = 1000.
    """
    net = hn.MLP([1, 1])
    net.weights[0] = np.array([[1000.0]])
    X = np.array([[1.0], [-1.0]])
    y = np.array([0.0, 1.0])                          # both examples confidently wrong
    h = net.predict_proba(X)
    naive, errors = floating_point_errors(naive_cross_entropy, h, y[:, None])
    return hn.cost(net, X, y), naive / len(y), errors


if __name__ == "__main__":
    J_net, J_naive, net_err = saturated_network_cost()
    run.say(f"""A 1-1 sigmoid network with W = 1000 and both labels wrong: hn.cost = {J_net:.6f}; the same
        cost from net.predict_proba = {J_naive} ({net_err}).""")
    run.expect("hn.cost of a saturated network is 1000 (finite); from h it is inf",
               J_net == 1000.0 and np.isposinf(J_naive), f"hn.cost = {J_net!r}")
    rng = np.random.default_rng(1)
    z_ok = rng.normal(scale=3.0, size=(200, 10))
    y_ok = np.eye(10)[rng.integers(0, 10, size=200)]
    z_edge = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]])
    y_edge = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    ordinary, edge = handnet_comparison(z_ok, y_ok), handnet_comparison(z_edge, y_edge)
    both = pd.concat({"ordinary z": ordinary, "z = +-1000": edge}, axis=1)
    run.table(both, title="Ours against handnet's (handnet/activations.py, handnet/costs.py):")
    worst = float(ordinary["max abs difference"].max())
    worst_edge = float(edge["max abs difference"].max())
    run.expect("handnet agrees with the stable forms on ordinary z",
               worst < 1e-11 and ordinary["handnet finite"].all(), f"max difference {worst:.1e}")
    run.expect("handnet stays finite at z = +-1000 and agrees with the stable forms there",
               edge["handnet finite"].all() and worst_edge < 1e-11,
               f"max difference {worst_edge:.1e}")


# %% [markdown]
# ## Figures
#
# Left: log sigma(z) and log(1 - sigma(z)) over z in [-1000, 1000], naive and
# stable; a naive curve stops where it becomes -inf. Right: how many digits the
# naive log(1 - sigma(z)) loses before it breaks: sigma(z) carries a rounding
# error of up to 2^-53, the true 1 - sigma(z) is about e^-z, so the relative error
# of the log grows like 2^-53 e^z / z.

# %%
def log_sigmoid_curves(z):
    """Naive and stable log sigma(z) and log(1 - sigma(z)) on a grid z: a DataFrame indexed by z."""
    naive_pos, _ = floating_point_errors(naive_log_sigmoid, z)
    naive_neg, _ = floating_point_errors(naive_log_one_minus_sigmoid, z)
    return pd.DataFrame({"naive log sigma": naive_pos, "stable log sigma": stable_log_sigmoid(z),
                         "naive log(1-sigma)": naive_neg,
                         "stable log(1-sigma)": stable_log_one_minus_sigmoid(z)},
                        index=pd.Index(z, name="z"))


if __name__ == "__main__":
    n_grid = 2001 if run.quick else 20001
    curves_wide = log_sigmoid_curves(np.linspace(-1000, 1000, n_grid))
    curves_narrow = log_sigmoid_curves(np.linspace(0.0, 40.0, n_grid))
    run.figure(plot_log_sigmoid(curves_wide, curves_narrow), "log_sigmoid.png")


# %% [markdown]
# The second figure: log-sum-exp of z = c + (0, 1, 2) as the shift c sweeps
# [-1000, 1000]. The stable form is the straight line c + LSE(0, 1, 2); the naive
# one exists only where no exp overflows or underflows.

# %%
def logsumexp_sweep(c):
    """LSE(c + (0, 1, 2)) for each shift c: naive and stable, a DataFrame indexed by c."""
    z = np.asarray(c, dtype=np.float64)[:, None] + np.array([0.0, 1.0, 2.0])
    naive, _ = floating_point_errors(naive_logsumexp, z)
    return pd.DataFrame({"naive": naive, "stable": stable_logsumexp(z)},
                        index=pd.Index(c, name="c"))


if __name__ == "__main__":
    run.figure(plot_logsumexp(logsumexp_sweep(np.linspace(-1000, 1000, n_grid))), "logsumexp.png")


# %%
if __name__ == "__main__":
    run.end()
