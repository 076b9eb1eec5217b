"""Occlusion and gradient x input on a table of named fields, checked against known answers.

Run from the project root:  python -m lessons.occlusion_and_saliency  [--quick] [--out DIR]
"""

# %% [markdown]
# # Which fields did the network use?
#
# An attribution method gives every input feature a number: how much this feature pushed
# the prediction. On real data nobody knows the right numbers, so a method that draws a
# plausible-looking picture cannot be told apart from one that draws nonsense. The way out
# is a *control*: data built so that the answer is known, on which a method must find it.
#
# `hn.datasets.make_delivery_times` generates made-up food-delivery orders with two such
# answers (the formulas are `hn.datasets.DELIVERY_TARGETS`, printed below). In the
# **positive control** the delivery time depends on Distance alone, 4 minutes per km, plus
# noise. In the **nonlinear control** it depends on four fields, none linearly: busy against
# idle couriers, a dinner-rush bump in the hour, and a saturating effect of the number of
# items. Every other field is independent noise. A method that fails a control cannot be
# trusted on real tables; one that passes has not been proven right, but it has passed a test
# it could have failed.
#
# A row is made of *fields*, and a field may be several columns: the store number is 4 binary
# columns, the hour and the weekday are each a point on a circle $(\sin, \cos)$, 2 columns.
# A person reasons about fields; the network sees 16 columns. Attributions come per column,
# so at the end we add them back up per field.

# %%
import numpy as np
import pandas as pd

import handnet as hn
from lessons._common import start
from lessons._occlusion_and_saliency_data import N_ROWS, field_layout, load_control
from lessons._occlusion_and_saliency_plots import (HEATMAP_ROWS, plot_fields, plot_rows, plot_training_strip,
                                                   plot_windows, save_training_animation)

CONTROLS = ("positive", "nonlinear")
EPOCHS = 1000            # full-batch epochs of train_control
QUICK_EPOCHS = 300       # quick mode: the controls still pass (measured R^2 0.96 and 0.94)
WINDOWS = (1, 2, 4)      # occlusion window widths, in columns
#: The fields at columns 12..15: every 4-column window that covers one of them covers Distance.
TIED_WITH_DISTANCE = ("Distance", "Busy Dashers", "Idle Dashers", "Outstanding Orders")

if __name__ == "__main__":
    run = start("occlusion_and_saliency")  # in a notebook: quick mode from HANDNET_LESSON_QUICK=1
    epochs = QUICK_EPOCHS if run.quick else EPOCHS


# %% [markdown]
# ## The data
#
# `load_control` (in `lessons/_occlusion_and_saliency_data.py`) generates 2000 orders of a
# control, holds a quarter of them out for testing and standardises every column (next
# section). The cell loads both controls and shows the fields and the columns each one spans.

# %%
if __name__ == "__main__":
    splits = {control: load_control(control) for control in CONTROLS}
    first = splits["positive"]
    run.say(f"""
        The data: {N_ROWS} generated orders per control, {len(first.fields)} fields in
        {first.X_train.shape[1]} columns, split into {len(first.y_train)} training and
        {len(first.y_test)} test rows. Every column is standardised with the training rows'
        mean and standard deviation, so 0 means "an average order".""")
    run.table(field_layout(first.fields), title="Fields and the columns they span:")


# %% [markdown]
# ## Standardise, then train
#
# Each column is standardised with the training rows' mean and standard deviation,
# $z_j = (x_j - \mu_j)/\sigma_j$ (`standardise`, applied by `load_control` above), so that
# $z_j = 0$ means "an average order" in every column.
# That choice is what makes the baseline below meaningful. The target is standardised too,
# and that matters: fed in hours ($y/60$) instead, the same recipe reached only $R^2 = 0.81$
# on the nonlinear control when we measured it. The network: one hidden layer of 16 tanh
# units, an identity output, 1000 full-batch epochs, lr 0.2 with momentum 0.9 (lr 0.5
# diverges). Its fit is measured on the held-out quarter by
#
# $$R^2 = 1 - \frac{\sum_i (y_i - \hat y_i)^2}{\sum_i (y_i - \bar y)^2},$$
#
# the share of the variance of $y$ the network explains (the noise of 2 minutes caps it near
# 0.97 and 0.96 for the two controls).

# %%
def train_control(split, epochs=EPOCHS, seed=0, callback=None):
    """The documented recipe: MLP([16, 16, 1], tanh, identity) on standardised y.

    Returns (net, y_mean, y_std); the network predicts (y - y_mean) / y_std. callback is
    hn.train's: callback(epoch, net, history_row) after every epoch, from epoch 0 (untrained).
    """
    y_mean, y_std = split.y_train.mean(), split.y_train.std()
    net = hn.MLP([split.X_train.shape[1], 16, 1], hidden="tanh", output="identity", seed=seed)
    hn.train(net, split.X_train, (split.y_train - y_mean) / y_std, epochs=epochs, lr=0.2,
             momentum=0.9, progress=False, callback=callback)
    return net, y_mean, y_std


def predict_minutes(net, X, y_mean, y_std):
    """y_hat = y_mean + y_std * f(X): the network's output back in minutes.   (N, D) -> (N,)."""
    return y_mean + y_std * net.forward(X)[-1][:, 0]


def r_squared(y, y_hat):
    """R^2 = 1 - sum (y - y_hat)^2 / sum (y - mean y)^2.   y, y_hat (N,) -> float."""
    return float(1.0 - np.sum((y - y_hat) ** 2) / np.sum((y - y.mean()) ** 2))


if __name__ == "__main__":
    nets = {}
    for control, split in splits.items():
        net, y_mean, y_std = nets[control] = train_control(split, epochs)
        r2 = r_squared(split.y_test, predict_minutes(net, split.X_test, y_mean, y_std))
        run.say(f"{control} control: y = {hn.datasets.DELIVERY_TARGETS[control]} + noise (minutes) "
                f"depends on {', '.join(split.relevant)}. After {epochs} epochs "
                f"the network explains R^2 = {r2:.3f} of the variance of the held-out delivery times.")
        run.expect(f"{control} control: held-out R^2 > 0.9", r2 > 0.9, f"R^2 = {r2:.3f}")


# %% [markdown]
# ## Occlusion, and the baseline it needs
#
# Occlusion covers a window $p$ of columns and watches the output drop:
#
# $$d_p = y(z) - y(z \text{ with the columns of } p \text{ set to the baseline } b),$$
#
# and each column gets the mean of $d_p$ over the windows that cover it (`hn.explain.occlusion`;
# windows slide one column at a time, exactly as in Captum's `Occlusion`).
#
# "Covered" needs a value, the baseline. We use $b = 0$ on the standardised features, which is
# the training mean of every column. Why that one:
#
# * it is the answer to "what if we knew nothing about this column?": an average order;
# * $b = 0$ on the *raw* columns would mean "0 km away", "hour with $\sin = \cos = -1$" (not even
#   a point on the circle) and "store 0": strong statements, not the absence of one;
# * with $b = 0$, occlusion with a window of one column and gradient x input (next cell)
#   estimate the same quantity, so the two methods can be compared and combined.
#
# No baseline is innocent: the mean of a binary store bit is about 0.5, a value no real order
# has, so occlusion asks the network about inputs it never saw. It is a known limit of the
# method; the controls tell us whether it matters here.
#
# We try windows of 1, 2 and 4 columns. Wide windows are the usual choice on images, where
# neighbouring pixels belong together and one pixel alone is too small to matter. Whether that
# carries over to a table is one of the things the controls will answer.
#
# The cell prints the occlusion map of the first positive-control test order for each window,
# one number per column (in units of the standardised target), next to the field the column
# belongs to.

# %%
def occlusion_maps(net, X, windows=WINDOWS, baseline=0.0):
    """Occlusion of output 0 with windows of each width: {w: (N, D)}.  Baseline 0 = the mean row."""
    return {w: hn.explain.occlusion(net, X, 0, w, baseline=baseline) for w in windows}


if __name__ == "__main__":
    field_of = [name for name, sl in hn.datasets.field_slices(first.fields) for _ in range(sl.start, sl.stop)]
    order = pd.DataFrame({f"w = {w}": A[0] for w, A in
                          occlusion_maps(nets["positive"][0], first.X_test[:1]).items()},
                         index=pd.Index(field_of, name="column's field"))
    run.table(order.round(3), title="Positive control, first test order: the occlusion of each column")
    distance = dict(hn.datasets.field_slices(first.fields))["Distance"].start
    d, w1, w4 = distance, order["w = 1"].to_numpy(), order["w = 4"].to_numpy()
    run.say(f"""With w = 1 Distance's column stands out ({w1[d]:.3f}; every other column's |value| is at
        most {np.max(np.abs(np.delete(w1, d))):.3f}). With w = 4 the three columns after it get
        {np.min(w4[d + 1:d + 4]):.3f} to {np.max(w4[d + 1:d + 4]):.3f}: a wide window shares one column's drop with
        its neighbours (measured below, in the section on windows).""")


# %% [markdown]
# ## Gradient x input, and the combination
#
# Gradient x input multiplies each feature by the derivative of the output with respect to it,
# $G_j = \frac{\partial y}{\partial z_j}\, z_j$ (`hn.explain.gradient_x_input`, exact, one
# backward pass). It is the first-order Taylor estimate of the window-1 occlusion drop with
# baseline 0:
#
# $$y(z) - y(z \text{ with } z_j = 0) \approx \frac{\partial y}{\partial z_j}\,(z_j - 0).$$
#
# For a linear model $y = w \cdot z + c$ the two are *equal*, $w_j z_j$; they part where the
# network curves. Occlusion sees the whole curve between $z_j$ and 0 but needs one forward
# pass per window; the gradient needs one backward pass for everything but sees only the slope
# at $z$.
#
# Because they fail differently, `hn.explain.combine` averages them after scaling each row to a
# largest $|\text{value}|$ of 1 (so neither wins by having bigger numbers):
#
# $$C_{ij} = \tfrac12\left(\frac{O_{ij}}{\max_k |O_{ik}|} + \frac{G_{ij}}{\max_k |G_{ik}|}\right).$$
#
# $|C_{ij}| \le 1$, with equality only where both methods put the same column on top with the
# same sign.

# %%
def attributions(net, X, windows=WINDOWS):
    """Every method of this lesson for output 0 of ``net`` on X (N, D): {name: (N, D)}.

    occlusion w=1, 2, 4 (baseline 0), gradient x input, and combined = combine(occlusion w=1,
    gradient x input).
    """
    maps = {f"occlusion w={w}": A for w, A in occlusion_maps(net, X, windows).items()}
    maps["gradient x input"] = hn.explain.gradient_x_input(net, X, 0)
    maps["combined"] = hn.explain.combine(maps["occlusion w=1"], maps["gradient x input"])
    return maps


def linear_model_gap(D=16, n=200, seed=0):
    """max |occlusion(w=1, baseline 0) - gradient x input| for a linear model y = z @ w + c.

    Both are w_j z_j exactly, so the gap is rounding only. Returns a float.
    """
    rng = np.random.default_rng(seed)
    net = hn.MLP([D, 1], output="identity", seed=seed)
    net.biases[0] = rng.standard_normal(1)
    Z = rng.standard_normal((n, D))
    return float(np.max(np.abs(hn.explain.occlusion(net, Z, 0, 1)
                               - hn.explain.gradient_x_input(net, Z, 0))))


def row_agreement(a, b):
    """How two methods agree row by row: (mean Pearson correlation over rows, fraction of rows
    whose largest |value| sits in the same column with the same sign).   a, b (N, D)."""
    ac = a - a.mean(axis=1, keepdims=True)
    bc = b - b.mean(axis=1, keepdims=True)
    r = np.sum(ac * bc, axis=1) / np.sqrt(np.sum(ac * ac, axis=1) * np.sum(bc * bc, axis=1))
    rows = np.arange(len(a))
    ja, jb = np.argmax(np.abs(a), axis=1), np.argmax(np.abs(b), axis=1)
    same_top = (ja == jb) & (np.sign(a[rows, ja]) == np.sign(b[rows, jb]))
    return float(r.mean()), float(same_top.mean())


def reaches_one(C, tol=1e-12):
    """Fraction of rows of a combined map C (N, D) whose largest |value| is 1 (to ``tol``)."""
    return float(np.mean(np.abs(np.max(np.abs(C), axis=1) - 1.0) <= tol))


if __name__ == "__main__":
    maps = {control: attributions(nets[control][0], split.X_test) for control, split in splits.items()}
    gap = linear_model_gap()
    run.say(f"""
        A linear model y = z @ w + c: occlusion with a window of one column and baseline 0 and
        gradient x input are both w_j z_j; the largest difference over 200 random rows is
        {gap:.1e}.""")
    run.expect("linear model: occlusion (w=1, baseline 0) equals gradient x input", gap < 1e-12,
               f"max |difference| = {gap:.1e}")

    for control in CONTROLS:
        r, same = row_agreement(maps[control]["occlusion w=1"], maps[control]["gradient x input"])
        C = maps[control]["combined"]
        at_one = reaches_one(C)
        run.say(f"""
            {control} control, trained network: occlusion (w=1) and gradient x input correlate at
            r = {r:.3f} per row on average, and put the same column on top, with the same sign, in
            {100 * same:.1f}% of the {len(C)} test rows; the combined map reaches |C| = 1 in
            {100 * at_one:.1f}% of the rows.""")
        run.expect(f"{control} control: |C| reaches 1 exactly in the rows where both methods agree on top",
                   at_one == same, f"{100 * at_one:.1f}% and {100 * same:.1f}%")


# %% [markdown]
# ## From columns to fields, and the controls
#
# A field $k$ spans the columns $s_k \le j < s_k + w_k$. Its importance over the test rows is
# the mean over rows of $\sum_{j \in k} |A_{ij}|$ (`hn.explain.field_summary`, column "sum";
# it also gives the mean per column, which does not favour wide fields, and the max). The
# fields are ranked by that sum.
#
# The controls:
#
# * positive: a sound method ranks Distance first;
# * nonlinear: its top four fields are exactly Hour, Total Items, Busy Dashers and Idle Dashers.
#
# (The section after this one shows, from nothing but how windows are counted, why occlusion
# with windows wider than one column cannot be held to these.)
#
# We also print the *margin*: the weakest true field's sum divided by the strongest false
# field's. Above 1 the control passes; how far above says how safely.

# %%
def field_tables(maps, fields):
    """hn.explain.field_summary for every method: {name: DataFrame indexed by field, by rank}."""
    return {name: hn.explain.field_summary(A, fields) for name, A in maps.items()}


def top_fields(summary, k):
    """The k highest-ranked fields of a field_summary table, as a list of names."""
    return list(summary.index[:k])


def control_margin(summary, relevant):
    """min over true fields of "sum" / max over the other fields: > 1 iff they are all on top."""
    relevant = list(relevant)
    return float(summary.loc[relevant, "sum"].min() / summary.drop(index=relevant)["sum"].max())


def control_passes(summary, relevant):
    """True when the len(relevant) top-ranked fields are exactly the relevant ones."""
    return sorted(top_fields(summary, len(relevant))) == sorted(relevant)


def ranking_table(tables, relevant):
    """One row per method: its top fields, the margin and whether the control passes."""
    k = len(relevant)
    return pd.DataFrame({name: {"top fields": ", ".join(top_fields(t, k)),
                                "margin": f"{control_margin(t, relevant):.2f}",
                                "passes": control_passes(t, relevant)}
                         for name, t in tables.items()}).T


if __name__ == "__main__":
    tables = {control: field_tables(maps[control], splits[control].fields) for control in CONTROLS}
    rel = splits["nonlinear"].relevant
    runners_up = ", ".join(f"{name} ({width} column{'s' if width > 1 else ''})"
                           for name, width in tables["positive"]["combined"]["width"].iloc[1:4].items())
    run.say(f"""
        Positive control, combined method: after Distance come {runners_up}. The "sum" per
        field adds up noise over every column of a field, so wide noise fields rise; the "mean"
        column of field_summary divides by the width instead.""")
    run.table(tables["nonlinear"]["combined"].round(3),
              title="Nonlinear control, combined method: field_summary over the test rows")
    for control in CONTROLS:
        run.table(ranking_table(tables[control], splits[control].relevant),
                  title=f"{control} control: the top {len(splits[control].relevant)} per method "
                        f"(true: {', '.join(splits[control].relevant)})")

    pos = tables["positive"]
    for name in ("occlusion w=1", "occlusion w=2", "gradient x input", "combined"):
        run.expect(f"positive control, {name}: Distance ranked first",
                   top_fields(pos[name], 1) == ["Distance"],
                   f"first: {top_fields(pos[name], 1)[0]}, "
                   f"margin {control_margin(pos[name], ('Distance',)):.2f}")
    for name in ("occlusion w=1", "gradient x input", "combined"):
        t = tables["nonlinear"][name]
        run.expect(f"nonlinear control, {name}: top four fields are exactly the true four",
                   control_passes(t, rel), f"margin {control_margin(t, rel):.2f}")


# %% [markdown]
# ### The combined attribution, drawn
#
# Per control, a heatmap of the combined attribution of 50 test rows (a row per order, a column
# per feature, the fields separated by lines), and a bar per field of its sum.

# %%
if __name__ == "__main__":
    for control in CONTROLS:
        run.figure(plot_rows(maps[control]["combined"], splits[control].fields, control),
                   f"rows_{control}.png")
        run.figure(plot_fields(tables[control]["combined"], control, splits[control].relevant),
                   f"fields_{control}.png")


# %% [markdown]
# ### Why scaling rows costs margin
#
# The combined method scales each row to a largest $|\text{value}|$ of 1 before averaging.
# We compare the control margins of each method as it is, with its rows scaled
# (`hn.explain.normalize_max`), and combined; and measure how much of an order's attribution
# lands on the noise fields when its true field sits near its average.

# %%
def normalised_margins(maps, fields, relevant):
    """The control margin of occlusion (w=1) and gradient x input as they are, after scaling each
    row to a largest |value| of 1 (hn.explain.normalize_max), and of their combination.

    Returns a Series: "occlusion", "occlusion, rows scaled", "gradient x input",
    "gradient x input, rows scaled", "combined".
    """
    def margin(A):
        return control_margin(hn.explain.field_summary(A, fields), relevant)

    O, G = maps["occlusion w=1"], maps["gradient x input"]
    return pd.Series({"occlusion": margin(O),
                      "occlusion, rows scaled": margin(hn.explain.normalize_max(O)),
                      "gradient x input": margin(G),
                      "gradient x input, rows scaled": margin(hn.explain.normalize_max(G)),
                      "combined": margin(maps["combined"])})


def noise_share(A, X, column, near=0.2):
    """Share of each row's sum |A_ij| outside ``column``, averaged over the rows whose standardised
    value |X[i, column]| < near and over the others: (near average, the rest).   A, X (N, D)."""
    absA = np.abs(A)
    share = 1.0 - absA[:, column] / absA.sum(axis=1)
    close = np.abs(X[:, column]) < near
    return float(share[close].mean()), float(share[~close].mean())


if __name__ == "__main__":
    margins = pd.DataFrame({c: normalised_margins(maps[c], splits[c].fields, splits[c].relevant)
                            for c in CONTROLS})
    run.table(margins.round(2), title="Control margins before and after scaling each row to max 1:")
    near, far = noise_share(maps["positive"]["occlusion w=1"], first.X_test, distance)
    parts = "; ".join(
        f"{c}: {margins.at['combined', c]:.2f} against {margins.at['occlusion, rows scaled', c]:.2f} "
        f"and {margins.at['gradient x input, rows scaled', c]:.2f}" for c in CONTROLS)
    run.say(f"""
        Why is the combined margin lower than either method's own? Not because of the
        averaging: scaling every row to a largest |value| of 1 already costs the margin. An
        order whose true fields sit near their averages has almost nothing to attribute, and
        scaling its row up to 1 inflates its noise columns to the size of a real effect (in the
        positive control, orders within 0.2 standard deviations of the average distance put
        {100 * near:.0f}% of their |occlusion| on the ten noise fields, the other orders
        {100 * far:.0f}%). Against its two row-scaled parts the combination does about as well
        ({parts}).""")


# %% [markdown]
# ## Windows that straddle field boundaries blur the answer
#
# A window of 4 columns covering Distance (column 12) also covers its neighbours, and a
# column's score is the mean over every window that covers it. If the network were additive,
# $y = \sum_k g_k(z_k)$, a window's drop would be the sum of its columns' single-column drops
# $a_k$, and so
#
# $$A^{(w)}_j = \sum_k B_{jk}\, a_k,\qquad
#   B_{jk} = \frac{\#\{\text{windows covering } j \text{ and } k\}}{\#\{\text{windows covering } j\}}.$$
#
# $B$ is a blur: every column receives a share of its neighbours' drops. For Distance with
# $w = 4$, $B_{jk}$ with $k = 12$ is 1 for $j = 12, 13, 14, 15$: every window that covers
# column 13, 14 or 15 also covers column 12 (column 15, at the edge, is covered by one window
# only, columns 12..15). Busy Dashers, Idle Dashers and Outstanding Orders therefore get *all*
# of Distance's drop, and the four tie. With $w = 2$ the neighbours get half of it, so
# Distance still leads by a factor of about 2. A table is not an image: its neighbouring
# columns are unrelated fields, and a window that straddles a boundary mixes them.
#
# `windows.png` draws, per control, the field sums of occlusion with each window, each scaled
# to its largest field, with the true fields marked.

# %%
def window_blur(D, window):
    """B (D, D): B[j, k] = #windows covering j and k / #windows covering j (stride 1).

    For an additive model, occlusion with this window = (window-1 occlusion) @ B.T.
    """
    _, M = hn.explain.window_grid((D,), (window,), (1,))     # M (P, D): window p covers column j
    return (M.T @ M) / M.sum(axis=0)[:, None]


def blurred(A1, window):
    """The window-w occlusion an additive model would give: A1 @ B.T.   A1 (N, D) -> (N, D)."""
    return A1 @ window_blur(A1.shape[1], window).T


def relative_error(A, B):
    """||A - B|| / ||A|| (Frobenius)."""
    return float(np.linalg.norm(A - B) / np.linalg.norm(A))


def tie_spread(summary, names):
    """(max - min) / max of the "sum" column over the named fields: 0 for an exact tie."""
    values = summary.loc[list(names), "sum"]
    return float((values.max() - values.min()) / values.max())


if __name__ == "__main__":
    w2, w4 = tables["nonlinear"]["occlusion w=2"], tables["nonlinear"]["occlusion w=4"]
    pos4 = pos["occlusion w=4"]
    spread = tie_spread(pos4, TIED_WITH_DISTANCE)
    verdict = "the true four" if control_passes(w2, rel) else "not the true four"
    m2 = control_margin(w2, rel)
    fifth = f"{top_fields(w2, 5)[4]} {'close behind' if m2 < 1.3 else 'next'}"
    run.say(f"""
        The wider windows. Positive control, w = 4: first is {top_fields(pos4, 1)[0]}, and the
        four fields at columns 12..15 ({', '.join(TIED_WITH_DISTANCE)}) get sums within
        {100 * spread:.1f}% of each other: a tie, so "Distance first" is a coin toss there, and
        this lesson does not claim it. Nonlinear control: w = 2 gives the top four
        {top_fields(w2, 4)} ({verdict}, margin {m2:.2f}, with {fifth}); w = 4 gives
        {top_fields(w4, 4)} (margin {control_margin(w4, rel):.2f}). Only windows of one column
        keep the fields cleanly apart.""")
    run.expect("positive control, w = 4: Distance ties with the three fields whose windows all contain it",
               spread < 0.05, f"spread of the four sums {100 * spread:.1f}% < 5%")

    why = {"positive": "the target is additive, so a window's drop is the sum of its columns' drops",
           "nonlinear": "larger: busy and idle dashers interact, and so do the hour's sin and cos columns, "
                        "so drops do not simply add up"}
    for control in CONTROLS:
        A1 = maps[control]["occlusion w=1"]
        errs = {w: relative_error(maps[control][f"occlusion w={w}"], blurred(A1, w)) for w in (2, 4)}
        run.say(f"""
            {control} control: the blur model A1 @ B.T predicts the w = 2 and w = 4 occlusion
            maps from the w = 1 map with relative errors {errs[2]:.3f} and {errs[4]:.3f}
            ({why[control]}).""")
        if control == "positive":
            run.expect("positive control: the blur model predicts the w = 4 map to 10%",
                       errs[4] < 0.10, f"relative error {errs[4]:.3f}")
    run.figure(plot_windows(tables, {c: splits[c].relevant for c in CONTROLS}), "windows.png")


# %% [markdown]
# ## Before and during training
#
# The attribution post this lesson follows shows the heatmap of an *untrained* model next to
# the trained one, and a video of the heatmap over 200 epochs. An untrained network has random
# weights, so its attributions are patterns of its initialisation, not of the data: any field
# can come out on top. Training is what moves Distance to the top, and `hn.train(callback=...)`
# lets us watch it happen: after every epoch the callback computes the combined attribution of
# the test rows (one occlusion sweep and one backward pass, a few milliseconds) and records
# where Distance ranks among the fields.
#
# Recorded: every epoch up to the post's 200 (with `--quick`, up to 20), then every tenth (a
# rank can therefore change between two recorded epochs after that without being seen). The
# frames of the animation are the heatmaps of the first 50 test rows at chosen epochs; the
# animation is written with matplotlib's `PillowWriter` (Pillow comes with matplotlib).
#
# The positive control's network is trained again, from the same seed and so to the same
# weights as above, this time watched.

# %%
VIDEO_EPOCHS = 200          # the length of the post's video


def frame_epochs(quick=False):
    """The epochs drawn in the animation: every epoch to 10, then every 10th up to 200 (30 frames;
    quick: 10 frames, 0, 1, 2, 3, 5, 10, 20, 50, 100, 200). Each frame costs a full figure draw."""
    if quick:
        return (0, 1, 2, 3, 5, 10, 20, 50, 100, VIDEO_EPOCHS)
    return tuple(sorted(set(range(0, 11)) | set(range(10, VIDEO_EPOCHS + 1, 10))))


def field_ranking(A, fields):
    """Mean over rows of each field's sum of |A_ij|, ranked: a Series (field -> value), largest first.

    The "sum" column of hn.explain.field_summary, without the other columns (this runs every epoch).
    """
    sums = hn.explain.field_attributions(np.abs(A), fields).mean(axis=0)
    return sums.sort_values(ascending=False, kind="stable")


def attributions_while_training(split, epochs, frames, field="Distance", seed=0, dense=VIDEO_EPOCHS):
    """Train a control's network (train_control) and watch its combined attribution of the test rows.

    At every epoch <= ``dense``, every 10th after and every frame: the rank of ``field`` by field_ranking
    and the field ranked first. At the epochs in ``frames``: the combined map of the first
    HEATMAP_ROWS test rows. Returns (net, y_mean, y_std, ranking DataFrame indexed by epoch,
    {epoch: (HEATMAP_ROWS, D) map}).
    """
    rows, snapshots = [], {}

    def watch(epoch, net, history_row):
        if epoch > dense and epoch % 10 and epoch not in frames:
            return
        O = hn.explain.occlusion(net, split.X_test, 0, 1)
        C = hn.explain.combine(O, hn.explain.gradient_x_input(net, split.X_test, 0))
        ranking = field_ranking(C, split.fields)
        rows.append({"epoch": epoch, "cost": history_row["cost"], "first": ranking.index[0],
                     f"{field} rank": int(list(ranking.index).index(field)) + 1,
                     f"{field} share": float(ranking[field] / ranking.sum())})
        if epoch in frames:
            snapshots[epoch] = C[:HEATMAP_ROWS].copy()

    net, y_mean, y_std = train_control(split, epochs, seed, callback=watch)
    return net, y_mean, y_std, pd.DataFrame(rows).set_index("epoch"), snapshots


def first_ranked_first(ranking, field="Distance"):
    """(first recorded epoch at which `field` ranks first, first epoch from which it stays first
    at every later recorded epoch); None where that never happens."""
    first = ranking.index[ranking[f"{field} rank"] == 1]
    others = ranking.index[ranking[f"{field} rank"] != 1]
    stays = [e for e in first if not (others > e).any()]
    return (int(first[0]) if len(first) else None, int(stays[0]) if stays else None)


if __name__ == "__main__":
    net, _, _, ranking, snapshots = attributions_while_training(
        first, epochs, frame_epochs(run.quick), dense=20 if run.quick else VIDEO_EPOCHS)
    same = max(float(np.max(np.abs(a - b))) for a, b in zip(net.weights, nets["positive"][0].weights))
    at_first, stays = first_ranked_first(ranking)
    untrained = ranking.loc[0]
    run.say(f"""
        Before and during training (positive control; the watched training ends at the weights
        trained above, largest difference {same:.1e}). The untrained network (epoch 0) ranks
        {untrained['first']} first and Distance #{untrained['Distance rank']}, with
        {untrained['Distance share']:.0%} of the attribution: a picture of its random
        initialisation. Distance first ranks first at epoch {at_first} and, at every recorded
        epoch from {stays} on, stays first; by epoch {VIDEO_EPOCHS} it holds
        {ranking.at[VIDEO_EPOCHS, 'Distance share']:.0%} of the attribution, at the end
        ({ranking.index[-1]} epochs) {ranking['Distance share'].iloc[-1]:.0%}.""")
    run.table(ranking.loc[[e for e in (0, 1, 2, 3, 5, 10, 20, 50, 100, 200) if e in ranking.index]]
              .round(3), title="The positive control's ranking while training (combined method):")
    run.expect("the trained network ranks Distance first at every recorded epoch from some epoch on",
               stays is not None and ranking["Distance rank"].iloc[-1] == 1,
               f"first at epoch {at_first}, for good from epoch {stays}")
    run.figure(plot_rows(snapshots[0], first.fields, "positive (untrained)"), "rows_positive_untrained.png")
    strip = sorted({0, 1, 2, 5, 20, VIDEO_EPOCHS} | ({at_first} if at_first in snapshots else set()))
    run.figure(plot_training_strip(snapshots, ranking, first.fields, strip), "training_strip.png")
    gif = save_training_animation(snapshots, ranking, first.fields, run.path("training.gif"))
    run.written.append(gif)
    print(f"wrote {gif}  ({len(snapshots)} frames, epochs 0..{max(snapshots)})")


# %% [markdown]
# ## In short

# %%
if __name__ == "__main__":
    run.say("""
        In short: on a table, occlude one column at a time (or one whole field), against a
        baseline that means "average"; gradient x input gives nearly the same answer from a
        single backward pass. Both pass both controls. Windows borrowed from images blur
        unrelated neighbouring fields together and fail them.""")


# %%
if __name__ == "__main__":
    run.end()
