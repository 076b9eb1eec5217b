"""Plumbing for lessons/crafting_by_hand.py: the published table, its CSV, side-by-side networks, figures.

The equations the lesson teaches stay in the lesson; this module holds what it only needs to have
at hand: the seven rows of the notebook's saved hyperparameters.csv (numbers as published), the
side-by-side and log tables built from them, hn.train with its "looks stuck" warning kept as text,
a rank correlation, and the four figures.
"""

from __future__ import annotations


import numpy as np

import handnet as hn
from lessons._common import new_figure, train_noting_warnings

#: The notebook's published held-out accuracies (%): its best logged row and the run it shows.
PUBLISHED_BEST, PUBLISHED_SHOWN = 84.08, 81.96

#: The notebook's hyperparameters.csv columns, in its order.
NOTEBOOK_COLUMNS = ["ds_volume", "threshold", "layers", "nodes_per_layer", "alpha", "lambda_t", "steps",
                    "accuracy", "cost_ts", "cost_vd"]

#: The seven rows of the notebook's saved hyperparameters.csv (numbers as published, row index first):
#: (row, layers, nodes_per_layer, alpha, lambda_t, accuracy %, cost_vd). All used ds_volume 1.0,
#: threshold 0.5 and 200 steps; cost_ts reads 1.516239 in every row.
PUBLISHED_ROWS = (
    (0, 3, 14, 2.0, 0.010, 84.08, 4.160384),
    (1, 4, 120, 2.0, 0.010, 67.48, 4.785977),
    (2, 3, 14, 0.1, 0.010, 37.28, 3.437609),
    (3, 3, 14, 1.0, 0.010, 83.92, 3.814707),
    (4, 3, 14, 1.0, 0.001, 78.40, 6.431485),
    (5, 3, 14, 1.0, 0.100, 9.44, 3.255590),
    (6, 3, 14, 2.0, 0.012, 81.96, 4.478654),
)
PUBLISHED_COST_TS = 1.516239
PUBLISHED_STEPS = 200

#: Input and output sizes of every logged network (20x20 pixels, 10 digits).
N_INPUTS, N_OUTPUTS = 400, 10


def dimensions_of(layers, nodes_per_layer):
    """The layer sizes a logged row stands for. The log keeps only len(dimensions) and dimensions[1];
    for its 4-layer row we assume both hidden layers had nodes_per_layer units: [400, 120, 120, 10]."""
    return [N_INPUTS] + [nodes_per_layer] * (layers - 2) + [N_OUTPUTS]


def published_table():
    """The seven published rows as a DataFrame indexed by row, with their layer sizes ("dims")."""
    import pandas as pd

    table = pd.DataFrame(PUBLISHED_ROWS, columns=["row", "layers", "nodes_per_layer", "alpha", "lambda_t",
                                                  "accuracy", "cost_vd"]).set_index("row")
    table["dims"] = [dimensions_of(int(l), int(n)) for l, n in zip(table["layers"], table["nodes_per_layer"])]
    return table


def published_beside_ours(published, ours):
    """Published and rerun accuracy and cost_vd per logged row (NaN where a row was not rerun)."""
    import pandas as pd

    return pd.DataFrame({"alpha": published["alpha"], "lambda_t": published["lambda_t"],
                         "hidden": [str(d[1:-1]) for d in published["dims"]],
                         "accuracy (notebook)": published["accuracy"],
                         "accuracy (handnet)": ours["accuracy"].round(2),
                         "cost_vd (notebook)": published["cost_vd"],
                         "cost_vd one row (handnet)": ours["cost_vd_one_row"].round(6),
                         "cost_vd all rows (handnet)": ours["cost_vd"].round(6)})


def hyperparameter_log(published, ours, ds_volume, threshold):
    """The notebook's hyperparameters.csv (its columns first), its published rows then ours."""
    import pandas as pd

    log = pd.concat([
        published.drop(columns="dims").assign(
            ds_volume=ds_volume, threshold=threshold, steps=PUBLISHED_STEPS, cost_ts=PUBLISHED_COST_TS,
            source="notebook (published)", cost_vd_one_row=published["cost_vd"]),
        ours.assign(source="handnet")], ignore_index=True)
    return log[NOTEBOOK_COLUMNS + ["source", "cost_vd_one_row", "hn_l2", "hn_cost_ts", "hn_warning", "seconds"]]


def write_csv(run, frame, filename):
    """Write a DataFrame atomically as run.out/filename and say where it went."""
    from handnet.io import atomic_write

    path = run.path(filename)
    atomic_write(path, lambda fh: fh.write(frame.to_csv(index=False).encode("utf-8")))
    print(f"wrote {path}")
    return path


def side_by_side(pairs, S):
    """S copies of a two-layer network [(W_1, b_1), (W_2, b_2)] as one: W_1 (n_0, S n_1) and b_1 repeated,
    W_2 (S n_1, S n_2) block-diagonal. -> (the wide pairs, the block mask (S n_1, S n_2) of W_2)."""
    (W1, b1), (W2, b2) = pairs
    block = np.kron(np.eye(S), np.ones_like(W2))
    return [(np.tile(W1, S), np.tile(b1, S)), (block * np.tile(W2, (S, S)), np.tile(b2, S))], block


def split_side_by_side(wide, S):
    """The S two-layer networks [(W_1, b_1), (W_2, b_2)] held side by side in ``wide``."""
    (W1, b1), (W2, b2) = wide
    n1, n2 = W1.shape[1] // S, W2.shape[1] // S
    return [[(W1[:, k * n1:(k + 1) * n1], b1[k * n1:(k + 1) * n1]),
             (W2[k * n1:(k + 1) * n1, k * n2:(k + 1) * n2], b2[k * n2:(k + 1) * n2])] for k in range(S)]


def largest_confusions(cm):
    """The off-diagonal counts of a confusion matrix (K, K) summarised: (mistakes in all, distinct
    (true, answer) pairs among them, the largest count, [(true, answer)] pairs that reach it)."""
    counts = np.asarray(cm)
    off = counts - np.diag(np.diag(counts))
    top = int(off.max())
    pairs = [(int(t), int(p)) for t, p in zip(*np.nonzero(off == top))] if top > 0 else []
    return int(off.sum()), int(np.count_nonzero(off)), top, pairs


def describe_confusions(cm):
    """One true sentence about the commonest mistakes in cm: the most frequent confusion only if a
    single pair has the largest count and that count is above 1."""
    total, distinct, top, pairs = largest_confusions(cm)
    if total == 0:
        return "No mistakes: every held-out digit was classified correctly."
    where = f"{total} mistakes in {distinct} different (true, answer) pairs"
    if top == 1:
        return f"{where}: no confusion occurs more than once."
    named = ", ".join(f"a true {t} read as {p}" for t, p in pairs[:5]) + (", ..." if len(pairs) > 5 else "")
    if len(pairs) == 1:
        return f"{where}; the most frequent confusion is {named} ({top} times, {top / total:.0%} of them)."
    return f"{where}; {len(pairs)} pairs share the largest count, {top} each: {named}."


LR_CANDIDATES = (1.0, 2.0, 4.0)


def handnet_way(data, steps, dimensions, lam, seed, lrs=LR_CANDIDATES):
    """Glorot, l2 = lam, each lr in lrs; keep the lowest final training cost. -> (lr, accuracy %, table)."""
    import pandas as pd

    X_train, X_val, y_train, y_val = data
    rows = []
    for lr in lrs:
        net = hn.MLP(dimensions, seed=seed)
        history, warned = train_noting_warnings(net, X_train, y_train, epochs=steps, lr=lr, l2=lam)
        rows.append({"lr": lr, "final training cost": float(history["cost"].iloc[-1]),
                     "held-out accuracy %": 100 * hn.accuracy(y_val, net.predict(X_val)),
                     "hn.train warned": bool(warned)})
    table = pd.DataFrame(rows)
    best = table.loc[table["final training cost"].idxmin()]
    return float(best["lr"]), float(best["held-out accuracy %"]), table


def spearman(a, b):
    """Spearman's rank correlation of two equally long sequences without ties."""
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def plot_examples(X, y_true, y_pred, n=10):
    """The first n images, titled with what the network answered ("Classified as ...")."""
    fig = new_figure((2.0 * n, 2.6))
    for i, ax in enumerate(fig.subplots(1, n)):
        ax.imshow(X[i].reshape(20, 20), cmap="gray")
        ax.set_title(f"Classified as {y_pred[i]}\n(label {y_true[i]})", fontsize=9,
                     color="black" if y_pred[i] == y_true[i] else "red")
        ax.axis("off")
    return fig


def plot_costs(costs):
    """The notebook's printed cost J_nb against the step (a cross-entropy, not an MSE)."""
    fig = new_figure((8, 4))
    ax = fig.subplots()
    ax.plot(costs)
    ax.set(title="Model progress: J_nb before each step", xlabel="step", ylabel="J_nb (cross-entropy + penalty)")
    return fig


def plot_scatter(table):
    """Validation loss against accuracy, the notebook's published rows beside ours."""
    fig = new_figure((8, 4.5))
    ax = fig.subplots()
    for source, marker in (("notebook (published)", "o"), ("handnet", "s")):
        part = table[table["source"] == source]
        ax.scatter(part["cost_vd_one_row"], part["accuracy"], marker=marker, label=source)
    ax.set(title="Hyperparameters results", xlabel="Loss in validation set (cost_vd, the notebook's one-row value)",
           ylabel="Accuracy (%)")
    ax.legend()
    return fig
