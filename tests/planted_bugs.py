"""Planted bugs: student files made on demand from the reference exercises.

Each bug is a reference module (``handnet/exercises/ex_<exercise>/reference.py``) with one
small mistake, described here as textual edits of the reference rather than as
a full copy, so the student file follows the reference when it changes, and an
edit that no longer applies fails loudly instead of drifting.

``student_text(name)`` is the file a student with that mistake would hand in:
the reference without its ``# BEGIN SOLUTION`` / ``# END SOLUTION`` lines, with
the edits applied and a ``# planted bug: ...`` comment as line 2.
``write_bug(name, folder)`` writes it to ``folder/<name>.py``.
"""

import os
import pathlib
import re
from typing import NamedTuple

from handnet.exercises import get_exercise
from handnet.exercises.grading.markers import find_solution_blocks


class Bug(NamedTuple):
    """One planted mistake: the exercise, what is wrong, and the (old, new) edits of the
    reference that make it; each ``old`` must occur exactly once when its edit is applied."""

    exercise: str
    description: str
    edits: tuple


BUGS = {
    # sigmoid
    "sigmoid_naive_warns": Bug(
        "sigmoid", "not a bug: the naive sigmoid; exp(-z) overflows at z = -1000 (numpy warns), the values "
                   "are right",
        (("    z = np.asarray(z, dtype=np.float64)\n"
          "    e = np.exp(-np.abs(z))                      # in (0, 1]: never overflows\n"
          "    return np.where(z >= 0, 1.0, e) / (1.0 + e)\n",
          "    return 1.0 / (1.0 + np.exp(-z))\n"),)),
    "sigmoid_overflow_nan": Bug(
        "sigmoid", "sigma(z) = exp(z) / (1 + exp(z)): inf / inf = nan at z = 710",
        (("    z = np.asarray(z, dtype=np.float64)\n"
          "    e = np.exp(-np.abs(z))                      # in (0, 1]: never overflows\n"
          "    return np.where(z >= 0, 1.0, e) / (1.0 + e)\n",
          "    return np.exp(z) / (1.0 + np.exp(z))\n"),)),
    "sigmoid_gradient_returns_none": Bug(
        "sigmoid", "sigmoid_gradient forgets its return",
        (("    return s * (1.0 - s)", "    s * (1.0 - s)"),)),
    # cost
    "cost_labels_off_by_one": Bug(
        "cost", "labels handled as the course's 1..K (y - 1)",
        (("    Y[np.arange(m), y] = 1.0", "    Y[np.arange(m), y - 1] = 1.0"),)),
    "cost_missing_1_over_m": Bug(
        "cost", "the cost is not divided by m",
        (("    return float(np.sum(-Y * np.log(h) - (1.0 - Y) * np.log(1.0 - h)) / m)",
          "    return float(np.sum(-Y * np.log(h) - (1.0 - Y) * np.log(1.0 - h)))"),)),
    "cost_lambda_not_halved": Bug(
        "cost", "lambda/m instead of lambda/(2m) in the penalty",
        (("    penalty = lam / (2.0 * m) * sum(float(np.sum(W ** 2)) for W in weights)",
          "    penalty = lam / m * sum(float(np.sum(W ** 2)) for W in weights)"),)),
    "cost_bias_regularised": Bug(
        "cost", "the biases are regularised too",
        (("    penalty = lam / (2.0 * m) * sum(float(np.sum(W ** 2)) for W in weights)",
          "    penalty = lam / (2.0 * m) * sum(float(np.sum(W ** 2)) for W in list(weights) + list(biases))"),)),
    "cost_one_hidden_layer_only": Bug(
        "cost", "feedforward written for exactly two weight layers (right on 3-5-3 only)",
        (("    a = X\n"
          "    for W, b in zip(weights, biases):\n"
          "        a = sigmoid(a @ W + b)\n"
          "    return a\n",
          "    return sigmoid(sigmoid(X @ weights[0] + biases[0]) @ weights[-1] + biases[-1])\n"),)),
    # backprop_one_hidden
    "one_hidden_sign_flip": Bug(
        "backprop_one_hidden", "delta_L = Y - h",
        (("    d2 = h - Y", "    d2 = Y - h"),)),
    "one_hidden_missing_1_over_m": Bug(
        "backprop_one_hidden", "the data part of the gradient is not divided by m",
        (("    dW2 = a1.T @ d2 / m + lam / m * W2\n"
          "    db2 = d2.sum(axis=0) / m\n"
          "    dW1 = X.T @ d1 / m + lam / m * W1\n"
          "    db1 = d1.sum(axis=0) / m\n",
          "    dW2 = a1.T @ d2 + lam / m * W2\n"
          "    db2 = d2.sum(axis=0)\n"
          "    dW1 = X.T @ d1 + lam / m * W1\n"
          "    db1 = d1.sum(axis=0)\n"),)),
    "one_hidden_bias_regularised": Bug(
        "backprop_one_hidden", "the output bias is regularised (db2 += lambda/m b2)",
        (("    db2 = d2.sum(axis=0) / m", "    db2 = d2.sum(axis=0) / m + lam / m * b2"),)),
    "one_hidden_quadratic_cost": Bug(
        "backprop_one_hidden",
        "the quadratic cost instead of the cross-entropy, with its own (consistent) gradient",
        (("    J = np.sum(-Y * np.log(h) - (1.0 - Y) * np.log(1.0 - h)) / m",
          "    J = np.sum((h - Y) ** 2) / (2.0 * m)"),
         ("    d2 = h - Y", "    d2 = (h - Y) * h * (1.0 - h)"))),
    "one_hidden_sigma_prime_of_a": Bug(
        "backprop_one_hidden", "sigma' taken of the activation a1 instead of z1",
        (("    d1 = (d2 @ W2.T) * sigmoid_gradient(z1)", "    d1 = (d2 @ W2.T) * sigmoid_gradient(a1)"),)),
    "one_hidden_sigmoid_for_gradient": Bug(
        "backprop_one_hidden", "sigmoid(z1) where sigmoid_gradient(z1) belongs",
        (("    d1 = (d2 @ W2.T) * sigmoid_gradient(z1)", "    d1 = (d2 @ W2.T) * sigmoid(z1)"),)),
    "one_hidden_wrong_order": Bug(
        "backprop_one_hidden", "returns the second layer's gradients first",
        (("    return float(J), (dW1, db1, dW2, db2)", "    return float(J), (dW2, db2, dW1, db1)"),)),
    # backprop_deep
    "deep_transposed": Bug(
        "backprop_deep", "dW = delta.T @ a_prev, the transpose",
        (("        dWs[l] = acts[l].T @ delta / m + lam / m * weights[l]",
          "        dWs[l] = delta.T @ acts[l] / m + lam / m * weights[l].T"),)),
    "deep_sign_flip": Bug(
        "backprop_deep", "delta_L = Y - h",
        (("    delta = h - Y", "    delta = Y - h"),)),
    "deep_wrong_order": Bug(
        "backprop_deep", "returns (dWs, dbs, J)",
        (("    return float(J), dWs, dbs", "    return dWs, dbs, float(J)"),)),
    "deep_crash": Bug(
        "backprop_deep", "a shape error (ValueError from numpy) inside the student's code",
        (("    delta = h - Y", "    delta = h - Y.T"),)),
    "deep_reversed_lists": Bug(
        "backprop_deep", "appends the gradients while going backwards and never reverses the lists",
        (("    return float(J), dWs, dbs", "    return float(J), dWs[::-1], dbs[::-1]"),)),
    # numerical_gradient
    "numerical_gradient_forward_difference": Bug(
        "numerical_gradient", "a one-sided (forward) difference",
        (("        flat[i] = original - h\n"
          "        f_minus = f(work)\n"
          "        flat[i] = original\n"
          "        g[i] = (f_plus - f_minus) / (2.0 * h)\n",
          "        flat[i] = original\n"
          "        f_minus = f(work)\n"
          "        g[i] = (f_plus - f_minus) / h\n"),)),
    "numerical_gradient_mutates_theta": Bug(
        "numerical_gradient", "perturbs theta in place and never puts it back",
        (("    work = np.array(theta, dtype=np.float64)     # a copy: the caller's theta is never touched\n"
          "    grad = np.zeros_like(work)\n"
          "    flat, g = work.reshape(-1), grad.reshape(-1)\n",
          "    grad = np.zeros_like(theta)\n"
          "    flat, g = theta.reshape(-1), grad.reshape(-1)\n"),
         ("        original = flat[i]\n"
          "        flat[i] = original + h\n"
          "        f_plus = f(work)\n"
          "        flat[i] = original - h\n"
          "        f_minus = f(work)\n"
          "        flat[i] = original\n",
          "        flat[i] += h\n"
          "        f_plus = f(theta)\n"
          "        flat[i] -= 2 * h\n"
          "        f_minus = f(theta)\n"))),
    "numerical_gradient_fixed_step": Bug(
        "numerical_gradient", "a fixed step: the argument h is ignored",
        (("    work = np.array(theta, dtype=np.float64)",
          "    h = 1e-4                                     # the argument h is ignored\n"
          "    work = np.array(theta, dtype=np.float64)"),)),
    "numerical_gradient_infinite_loop": Bug(
        "numerical_gradient", "a while loop that never increments i",
        (("    for i in range(flat.size):", "    i = 0\n    while i < flat.size:"),)),
    "numerical_gradient_divides_by_h": Bug(
        "numerical_gradient", "the central difference divided by h instead of 2h",
        (("        g[i] = (f_plus - f_minus) / (2.0 * h)", "        g[i] = (f_plus - f_minus) / h"),)),
    # input_gradient
    "input_gradient_preactivation": Bug(
        "input_gradient", "delta_L = e_k: the output sigmoid's derivative is left out",
        (("    delta[:, k] = y[:, k] * (1.0 - y[:, k])", "    delta[:, k] = 1.0"),)),
    "input_gradient_unit_0": Bug(
        "input_gradient", "always output 0, whatever k",
        (("    delta[:, k] = y[:, k] * (1.0 - y[:, k])", "    delta[:, 0] = y[:, 0] * (1.0 - y[:, 0])"),)),
    # occlusion
    "occlusion_sum": Bug(
        "occlusion", "sums the drops instead of taking their mean",
        (("    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)",
          "    return total"),)),
    "occlusion_no_edge_window": Bug(
        "occlusion", "floor instead of ceil: the window cut off at the edge is missing",
        (("    P = -(-(D - window) // stride) + 1          # ceil((D - window) / stride) + 1, in integers",
          "    P = (D - window) // stride + 1"),)),
    "occlusion_unit_0": Bug(
        "occlusion", "always output 0, whatever k",
        (("    y = predict(weights, biases, X)[:, k]", "    y = predict(weights, biases, X)[:, 0]"),
         ("    y_covered = predict(weights, biases, X_covered.reshape(P * N, D))[:, k]",
          "    y_covered = predict(weights, biases, X_covered.reshape(P * N, D))[:, 0]"))),
}


def _lines(text):
    """``text`` cut after every '\\n', the way Python numbers lines (not ``str.splitlines``)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def reference_text(exercise):
    """The reference module of ``exercise`` as a student's copy would show it: every line
    the same, except the ``# BEGIN SOLUTION`` / ``# END SOLUTION`` marker lines, dropped."""
    with open(get_exercise(exercise).reference_path(), encoding="utf-8", newline="") as fh:
        text = fh.read()
    markers = {line for block in find_solution_blocks(text) for line in (block.begin, block.end)}
    return "".join(line for number, line in enumerate(_lines(text), 1) if number not in markers)


def student_text(name):
    """The student file of the planted bug ``name``: the reference without its markers, the
    bug's edits applied, and ``# planted bug: <description>`` as line 2 (after the header)."""
    bug = BUGS[name]
    text = reference_text(bug.exercise)
    for number, (old, new) in enumerate(bug.edits, 1):
        count = text.count(old)
        assert count == 1, (f"planted bug {name!r}, edit {number} of {len(bug.edits)}: {old!r} occurs "
                            f"{count} times in the {bug.exercise} reference (without its markers), expected "
                            f"exactly once; update the edit in tests/planted_bugs.py to the reference")
        text = text.replace(old, new)
    lines = _lines(text)
    newline = "\r\n" if lines[0].endswith("\r\n") else "\n"
    lines.insert(1, f"# planted bug: {bug.description}{newline}")
    return "".join(lines)


def write_bug(name, folder):
    """Write the student file of the planted bug ``name`` to ``folder/<name>.py``; its path."""
    path = pathlib.Path(os.fspath(folder)) / f"{name}.py"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(student_text(name))
    return path
