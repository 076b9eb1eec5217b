"""What the grading checks of the network exercises (cost, backprop_one_hidden, backprop_deep) share.

The reference cost (handnet's own ``costs.cost``), a function of the parameter
arrays for central differences, and the known wrong answers ("variants") that
the hints recognise: labels shifted by one class, the L2 term mishandled, the
1/m forgotten, sigma' taken of a instead of z, ...
"""

from __future__ import annotations

import numpy as np

from .._validate import one_hot_matrix
from ..activations import sigmoid_function
from ..costs import cost as network_cost
from ..costs import prepare, regularised_cost
from .compare import GRADIENT_FLOOR, compare_number, numerical_gradients, placement_hints
from .exercise import WrongAnswer

__all__ = ["LABELS_HINT", "GRADIENT_ADVICE", "HIDDEN_FACTORS", "reference_cost", "cost_variants",
           "variant_gradient", "gradient_variants", "reference_cost_function", "compare_cost",
           "check_placement", "cost_at_crash", "network_cost"]


LABELS_HINT = ("the targets look shifted by one class: labels are 0..K-1 here (the course's are 1..K), "
               "so Y[i, y[i]] = 1 with no -1.")


def reference_cost(problem, shift=0):
    """J by handnet (costs.cost) for the problem's network and lambda, labels moved by ``shift`` classes.

    shift = -1 is the off-by-one of code written for the course's 1-based labels (Y[i, y[i] - 1] = 1).
    """
    return network_cost(problem.net(), problem.X, (problem.y + shift) % problem.K, l2=problem.lam)


def _penalty(problem, arrays):
    """(lambda / (2m)) * sum of squares of ``arrays``."""
    return problem.lam / (2.0 * problem.m) * sum(float(np.sum(A ** 2)) for A in arrays)


def cost_variants(problem):
    """Known wrong costs for ``problem`` as [(hint, value)]: labels shifted, the L2 term mishandled."""
    lam, m = problem.lam, problem.m
    J0 = network_cost(problem.net(), problem.X, problem.y)
    R = _penalty(problem, problem.weights)
    variants = [(LABELS_HINT, reference_cost(problem, s)) for s in (-1, 1) if problem.K > 1]
    h = problem.net().predict_proba(problem.X)
    Y = one_hot_matrix(problem.y, problem.K)
    variants += [
        ("you divided by m*K (np.mean over every entry?): the double sum is divided by m only.",
         J0 / problem.K + R),
        ("only the -Y log h part is there: the cross-entropy also has -(1 - Y) log(1 - h).",
         float(np.sum(-Y * np.log(h))) / m + R),
        ("that is the quadratic cost (1/(2m)) sum (h - Y)^2; this network's cost is the cross-entropy "
         "(1/m) sum [-Y log h - (1 - Y) log(1 - h)].", float(np.sum((h - Y) ** 2)) / (2 * m) + R),
    ]
    if lam > 0:
        variants += [
            ("the regularisation term is missing: J + (lambda/(2m)) sum_l sum(W_l^2).", J0),
            ("you regularised the biases too: the L2 term sums the weights only (the difference is "
             "exactly (lambda/(2m)) sum(b^2)).", J0 + R + _penalty(problem, problem.biases)),
            ("lambda vs lambda/2: the penalty is (lambda/(2m)) sum(W^2), yours is twice that.", J0 + 2 * R),
            ("lambda vs lambda/2: the penalty is (lambda/(2m)) sum(W^2), yours is half of that.", J0 + R / 2),
            ("the penalty lacks its 1/m: it is (lambda/(2m)) sum(W^2), not (lambda/2) sum(W^2).", J0 + m * R),
        ]
    return variants


def _sigmoid_prime_of(a):
    s = sigmoid_function(a)
    return s * (1.0 - s)


#: The factor f of a hidden layer's delta, delta_l = (delta_{l+1} @ W_{l+1}.T) * f, given its
#: activation a_l = sigma(z_l): the right one ("z") and the known mistakes.
HIDDEN_FACTORS = {
    "z": lambda a: a * (1.0 - a),        # sigma'(z_l) = a_l (1 - a_l): right
    "a": _sigmoid_prime_of,              # sigma'(a_l): sigmoid_gradient of the activation
    "sigmoid": lambda a: a,              # sigma(z_l): sigmoid where sigmoid_gradient belongs
    None: lambda a: 1.0,                 # no factor at all
}


def variant_gradient(problem, shift=0, reg=1.0, reg_bias=0.0, data_scale=1.0, hidden="z",
                     output_prime=False):
    """A gradient computed with a known mistake, as (dWs, dbs): the hints' "variants".

    shift         labels moved by shift classes (mod K)
    reg, reg_bias the factors in front of (lambda/m) W and of a (lambda/m) b term
    data_scale    the factor in front of the data part (m: the 1/m forgotten)
    hidden        the key of HIDDEN_FACTORS: "z" (right), "a", "sigmoid" or None
    output_prime  delta_L = (h - Y) * sigma'(z_L) (the quadratic cost's delta)
    """
    W, b, X, lam, m = problem.weights, problem.biases, problem.X, problem.lam, problem.m
    acts = [X]
    for Wl, bl in zip(W, b):
        acts.append(sigmoid_function(acts[-1] @ Wl + bl))
    h = acts[-1]
    delta = h - one_hot_matrix((problem.y + shift) % problem.K, problem.K)
    if output_prime:
        delta = delta * h * (1.0 - h)
    dWs, dbs = [None] * len(W), [None] * len(W)
    for l in range(len(W) - 1, -1, -1):
        dWs[l] = data_scale * (acts[l].T @ delta) / m + reg * lam / m * W[l]
        dbs[l] = data_scale * delta.sum(axis=0) / m + reg_bias * lam / m * b[l]
        if l > 0:
            delta = (delta @ W[l].T) * HIDDEN_FACTORS[hidden](acts[l])
    return dWs, dbs


def gradient_variants(problem, order):
    """Known wrong gradients as [(hint, [arrays in the student's order])]; order(dWs, dbs) -> list."""
    lam = problem.lam
    cases = [(LABELS_HINT, dict(shift=s)) for s in (-1, 1) if problem.K > 1]
    if lam > 0:
        cases += [
            ("sign flipped: the data part of your gradient is -1 times the expected one (the lambda term is "
             "right). The output error is delta_L = h - Y, not Y - h.", dict(data_scale=-1.0)),
            ("you regularised the bias: your bias gradient differs by exactly (lambda/m) b; the L2 "
             "penalty excludes biases, so db has no lambda term.", dict(reg_bias=1.0)),
            ("lambda vs lambda/2: the regularisation term of dW is (lambda/m) W (the derivative of "
             "(lambda/(2m)) sum(W^2)); yours is twice that.", dict(reg=2.0)),
            ("lambda vs lambda/2: the regularisation term of dW is (lambda/m) W (the derivative of "
             "(lambda/(2m)) sum(W^2)); yours is half of that.", dict(reg=0.5)),
            ("the regularisation term (lambda/m) W is missing from dW.", dict(reg=0.0)),
            ("the regularisation term lacks its 1/m: it is (lambda/m) W, not lambda W.", dict(reg=problem.m)),
            ("missing 1/m on the data part: dW = (a_prev.T @ delta) / m + (lambda/m) W.",
             dict(data_scale=problem.m)),
        ]
    if len(problem.weights) > 1:
        cases += [
            ("the hidden deltas lack sigma'(z): delta_l = (delta_{l+1} @ W_{l+1}.T) * sigma'(z_l).",
             dict(hidden=None)),
            ("sigma' is taken of a_l instead of z_l: use sigmoid_gradient(z_l), or a_l * (1 - a_l).",
             dict(hidden="a")),
            ("you used sigmoid(z_l) where sigmoid_gradient(z_l) belongs: delta_l = (delta_{l+1} @ "
             "W_{l+1}.T) * sigma'(z_l), with sigma'(z) = sigma(z) (1 - sigma(z)).", dict(hidden="sigmoid")),
        ]
    cases.append(("delta_L has an extra sigma'(z_L): for the cross-entropy cost delta_L = h - Y exactly "
                  "(the factor sigma'(z_L) belongs to the quadratic cost).", dict(output_prime=True)))
    variants = [(hint, order(*variant_gradient(problem, **knobs))) for hint, knobs in cases]
    if len(problem.weights) > 1:                  # when the layers' shapes allow it to go unnoticed
        dWs, dbs = variant_gradient(problem)
        variants.append(("the layers' gradients are in reverse order (the backward pass computes the last "
                         "layer first): return them in the order of the parameters, first layer first.",
                         order(dWs[::-1], dbs[::-1])))
    return variants


def check_placement(what, names, values, params, reference_cost):
    """WrongAnswer when the student's gradient parts (``values``, in the places of ``names``) are
    right but misplaced or transposed: checked by value against central differences of
    ``reference_cost`` at ``params``, only when some part's shape is not its parameter's."""
    def shape(value):
        try:
            return np.shape(value)
        except ValueError:                        # a ragged list
            return None

    if all(shape(v) == np.shape(p) for v, p in zip(values, params)):
        return
    expected = numerical_gradients(reference_cost, params)
    hints = placement_hints(names, values, expected, floor=GRADIENT_FLOOR)
    if hints:
        raise WrongAnswer(f"{what}: the shapes of the gradients are not those of the parameters\n"
                          + "\n".join(f"hint: {h}" for h in hints))


GRADIENT_ADVICE = {
    "sign": "The output error is delta_L = h - Y (not Y - h), and gradient descent subtracts the gradient.",
    "bias": "db_l is the sum over the rows of delta_l, divided by m, with no lambda term.",
    "weights": "Look at dW_l = (a_{l-1}.T @ delta_l) / m + (lambda/m) W_l.",
}


def reference_cost_function(problem, unpack):
    """f(list of arrays) -> handnet's J, for central differences; unpack(list) -> (weights, biases).

    The inputs are validated once here; each call only copies the arrays into the network and
    runs handnet's forward pass and cost (costs.cost without its argument checks).
    """
    net = problem.net()
    X, Y, lam = prepare(net, problem.X, problem.y, problem.lam)

    def J(arrays):
        weights, biases = unpack(arrays)
        for W_view, b_view, W, b in zip(net.weights, net.biases, weights, biases):
            W_view[...] = W
            b_view[...] = b
        zs, acts = net.forward_pass(X, check=False)
        return regularised_cost(net, zs, acts, Y, lam, net.cost)

    return J


def compare_cost(problems, call, read_cost, first_hints=None):
    """The cost check shared by the backprop exercises: the student's J against handnet's cost, per problem.

    The cost is graded from the cost alone: when the student's function raises after computing
    J (a crash in the backward pass), the J it held then is compared, and the PASS message says
    so; the gradient checks report the crash.
    """
    crashes = []
    for problem in problems:
        try:
            J = read_cost(call(problem), problem)
        except Exception as exc:               # noqa: BLE001 - re-raised unless J was computed
            J = cost_at_crash(exc)
            if J is None:
                raise
            crashes.append(exc)
        compare_number("J", J, reference_cost(problem), what=f"the cost J on {problem.where()}",
                       variants=lambda p=problem: cost_variants(p), m=problem.m, lam=problem.lam,
                       first_hints=first_hints)
    message = f"J is right on {', '.join(p.where() for p in problems)}"
    if crashes:
        where = crashes[0].description.get("where") or {}
        message += (f" (read from your variable J: your function computed it, then raised "
                    f"{crashes[0].description.get('type')} at line {where.get('line')}; the gradient checks "
                    "say more)")
    return message


def cost_at_crash(exc):
    """The J a student's function held when it raised ``exc`` in the child (its local variable J,
    reported by the worker), or None: not a student's exception, or no number called J."""
    from .grading.session import StudentError

    if not isinstance(exc, StudentError) or exc.description.get("todo"):
        return None
    value = (exc.description.get("locals") or {}).get("J")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

