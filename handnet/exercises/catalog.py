"""The registry: every exercise with its checks, points and statement, in teaching order.

Each check is ``run(student_module, seed) -> str``: it calls the student's
functions on fixed inputs (seed None: the course's sin-based debug network)
or on a seeded variant, compares with handnet's own functions (its cost,
central differences of it, handnet.explain...), returns a short message on PASS
and raises CheckFailed with the worst entry and a hint otherwise. A
NotImplementedError from the student's code is left to escape: it means TODO.
"""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np

from .._validate import one_hot_matrix
from ..activations import sigmoid_function
from ..costs import cost as network_cost
from ..costs import prepare, regularised_cost
from .base import Check, CheckFailed, Exercise
from .checks import (GRADIENT_FLOOR, GRADIENT_RTOL, as_array, as_number, as_sequence, compare_arrays,
                     compare_number, describe, entry_name, gradient_check, numerical_gradients,
                     student_function)
from .fixtures import debug_problem, debug_weights, problem_for, random_problem

__all__ = ["EXERCISES", "get_exercise"]


# ============================================================================
# 1. sigmoid
# ============================================================================

#: The public inputs: the course's sigmoid test values, a matrix, and both signs.
SIGMOID_PUBLIC_Z = np.array([[-1.0, -0.5, 0.0, 0.5, 1.0],
                             [-20.0, -5.0, 0.1, 5.0, 20.0]])
#: Far out on both sides: exp(-z) overflows for z < -709.78 in float64.
SIGMOID_EXTREME_Z = np.array([-1000.0, -710.0, -50.0, 0.0, 50.0, 710.0, 1000.0])


def _sigmoid_inputs(seed):
    if seed is None:
        return SIGMOID_PUBLIC_Z.copy()
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 5)), int(rng.integers(1, 7)))
    return rng.normal(scale=4.0, size=shape)


def check_sigmoid_values(student, seed):
    """sigmoid(z) on a matrix (same shape back) and sigmoid(0) = 0.5."""
    sigmoid = student_function(student, "sigmoid")
    z = _sigmoid_inputs(seed)
    got = as_array(f"sigmoid(z) for z of shape {z.shape}", sigmoid(z.copy()), z.shape)
    compare_arrays("sigmoid(z)", got, sigmoid_function(z), what=f"sigmoid(z) for z of shape {z.shape}",
                   variants=[("that is sigma(-z) = 1 / (1 + exp(z)): the exponent is -z, "
                              "sigma(z) = 1 / (1 + exp(-z)).", sigmoid_function(-z)),
                             ("that is exp(-z), not 1 / (1 + exp(-z)).", np.exp(-z)),
                             ("that is exp(z), not 1 / (1 + exp(-z)).", np.exp(z))])
    half = as_number("sigmoid(0.0)", sigmoid(0.0))
    if half != 0.5:
        raise CheckFailed(f"sigmoid(0.0): got {half!r}, expected 0.5")
    return f"sigmoid(z) is right on {z.size} values (shape {z.shape}) and sigmoid(0) = 0.5"


def check_sigmoid_stable(student, seed):
    """sigmoid at z = +-710, +-1000: 0 and 1, no nan, no overflow warning."""
    sigmoid = student_function(student, "sigmoid")
    z = SIGMOID_EXTREME_Z.copy()
    if seed is not None:
        z = np.random.default_rng(seed).permutation(z)
    with warnings.catch_warnings(record=True) as caught, np.errstate(over="warn", invalid="warn",
                                                                     divide="warn", under="ignore"):
        warnings.simplefilter("always")
        value = sigmoid(z.copy())
    got = as_array(f"sigmoid(z) for z = {z.tolist()}", value, z.shape)
    problems = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    where = f"sigmoid(z) for z = {z.tolist()}"
    if problems:
        raise CheckFailed(f"{where}: numpy warned {'; '.join(sorted(set(problems)))!r}\n"
                          "hint: exp(-z) overflows for z < -709 (and exp(z) for z > 709); exponentiate only "
                          "-|z| <= 0: 1 / (1 + e) for z >= 0 and e / (1 + e) for z < 0, e = exp(-|z|) "
                          "(np.where evaluates both branches, so compute e first).")
    compare_arrays("sigmoid(z)", got, sigmoid_function(z), what=where, floor=1e-250)
    return "no overflow at z = +-710 and +-1000, and the values are right (0 and 1 at the ends)"


def check_sigmoid_gradient(student, seed):
    """sigmoid_gradient(0) = 0.25 exactly, and sigma(z)(1 - sigma(z)) on a matrix."""
    gradient = student_function(student, "sigmoid_gradient")
    quarter = as_number("sigmoid_gradient(0.0)", gradient(0.0))
    z = _sigmoid_inputs(seed)
    s = sigmoid_function(z)
    expected = s * (1.0 - s)
    what = f"sigmoid_gradient(z) for z of shape {z.shape}"

    def own_sigmoid_hint():
        try:
            mine = np.asarray(student.sigmoid(z.copy()), dtype=np.float64)
            ok = mine.shape == z.shape and np.allclose(mine, s, rtol=1e-9, atol=0)
        except Exception:                     # noqa: BLE001 - including NotImplementedError: not done yet
            return []
        return [] if ok else ["your sigmoid(z) is wrong too (see its check), and sigmoid_gradient uses it."]

    if abs(quarter - 0.25) > 1e-15:
        raise CheckFailed(f"sigmoid_gradient(0.0): got {quarter!r}, expected 0.25 exactly "
                          "(sigma(0) = 1/2, so sigma(0)(1 - sigma(0)) = 1/4)"
                          + "".join(f"\nhint: {h}" for h in own_sigmoid_hint()))
    got = as_array(what, gradient(z.copy()), z.shape)
    compare_arrays("sigmoid_gradient(z)", got, expected, what=what,
                   variants=[("that is sigma(z) itself, not its derivative sigma(z)(1 - sigma(z)).", s),
                             ("you used z where sigma(z) belongs: sigma'(z) = sigma(z)(1 - sigma(z)).",
                              s * (1.0 - z)),
                             ("that is sigma(z)(1 + sigma(z)): the derivative is sigma(z)(1 - sigma(z)).",
                              s * (1.0 + s))],
                   first_hints=own_sigmoid_hint)
    return f"sigmoid_gradient(0) = 0.25 and sigma(z)(1 - sigma(z)) is right on {z.size} values"


SIGMOID_STATEMENT = """\
Write the logistic sigmoid and its derivative, element-wise for a number or an
array of any shape (the result has the shape of `z`):

    sigma(z)  = 1 / (1 + exp(-z))
    sigma'(z) = d sigma / dz = sigma(z) (1 - sigma(z))

- `sigmoid(z)` must not overflow: `exp(-z)` is `inf` for `z < -709` and numpy warns
  "overflow encountered in exp". Exponentiate only `-|z|`: for `z >= 0` use
  `1 / (1 + exp(-z))`, for `z < 0` the same number written as `exp(z) / (1 + exp(z))`.
- `sigmoid_gradient(z)`: `sigmoid_gradient(0)` is exactly `0.25`, the largest value it takes.
"""


# ============================================================================
# Shared by the network exercises: the reference cost, known wrong answers
# ============================================================================

LABELS_HINT = ("the targets look shifted by one class: labels are 0..K-1 here (the course's are 1..K), "
               "so Y[i, y[i]] = 1 with no -1.")


def _reference_cost(problem, shift=0):
    """J by handnet (costs.cost) for the problem's network and lambda, labels moved by ``shift`` classes.

    shift = -1 is the off-by-one of code written for the course's 1-based labels (Y[i, y[i] - 1] = 1).
    """
    return network_cost(problem.net(), problem.X, (problem.y + shift) % problem.K, l2=problem.lam)


def _penalty(problem, arrays):
    """(lambda / (2m)) * sum of squares of ``arrays``."""
    return problem.lam / (2.0 * problem.m) * sum(float(np.sum(A ** 2)) for A in arrays)


def _cost_variants(problem):
    """Known wrong costs for ``problem`` as [(hint, value)]: labels shifted, the L2 term mishandled."""
    lam, m = problem.lam, problem.m
    J0 = network_cost(problem.net(), problem.X, problem.y)
    R = _penalty(problem, problem.weights)
    variants = [(LABELS_HINT, _reference_cost(problem, s)) for s in (-1, 1) if problem.K > 1]
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


def _variant_gradient(problem, shift=0, reg=1.0, reg_bias=0.0, data_scale=1.0, hidden="z",
                      output_prime=False):
    """A gradient computed with a known mistake, as (dWs, dbs): the hints' "variants".

    shift         labels moved by shift classes (mod K)
    reg, reg_bias the factors in front of (lambda/m) W and of a (lambda/m) b term
    data_scale    the factor in front of the data part (m: the 1/m forgotten)
    hidden        "z": delta_l = e * sigma'(z_l) (right); "a": sigma' taken of a_l; None: no sigma'
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
            e = delta @ W[l].T
            a = acts[l]
            if hidden == "z":
                e = e * a * (1.0 - a)
            elif hidden == "a":
                s = sigmoid_function(a)
                e = e * s * (1.0 - s)
            delta = e
    return dWs, dbs


def _gradient_variants(problem, order):
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
        ]
    cases.append(("delta_L has an extra sigma'(z_L): for the cross-entropy cost delta_L = h - Y exactly "
                  "(the factor sigma'(z_L) belongs to the quadratic cost).", dict(output_prime=True)))
    return [(hint, order(*_variant_gradient(problem, **knobs))) for hint, knobs in cases]


GRADIENT_ADVICE = {
    "sign": "The output error is delta_L = h - Y (not Y - h), and gradient descent subtracts the gradient.",
    "bias": "db_l is the sum over the rows of delta_l, divided by m, with no lambda term.",
    "weights": "Look at dW_l = (a_{l-1}.T @ delta_l) / m + (lambda/m) W_l.",
}


def _reference_cost_of(problem, unpack):
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


def _check_cost_value(problems, call, read_cost, first_hints=None):
    """The cost check shared by the backprop exercises: the student's J against handnet's cost, per problem."""
    for problem in problems:
        J = read_cost(call(problem), problem)
        compare_number("J", J, _reference_cost(problem), what=f"the cost J on {problem.where()}",
                       variants=lambda p=problem: _cost_variants(p), m=problem.m, lam=problem.lam,
                       first_hints=first_hints)
    return f"J is right on {', '.join(p.where() for p in problems)}"


# ============================================================================
# 2. cost
# ============================================================================

def _cost_problems(seed, regularised):
    if seed is None:
        return [problem_for(None, regularised)]
    return [problem_for(seed, regularised, n_hidden=1 + seed % 2)]


def _cost_call(student, name, problem, with_lam):
    fn = student_function(student, name)
    weights, biases, X, y = problem.student_args()
    return fn(weights, biases, X, y, problem.lam) if with_lam else fn(weights, biases, X, y)


def check_feedforward(student, seed):
    """feedforward(weights, biases, X) against the network's output a_L."""
    fn = student_function(student, "feedforward")
    problem = _cost_problems(seed, False)[0]
    weights, biases, X, _ = problem.student_args()
    net = problem.net()
    shape = (problem.m, problem.K)
    what = f"feedforward on {problem.description}"
    h = as_array(what, fn(weights, biases, X), shape)
    zs, _ = net.forward_pass(problem.X)
    compare_arrays("h", h, net.predict_proba(problem.X), what=what,
                   variants=[("the output layer needs the sigmoid too: h = a_L = sigma(z_L), you returned z_L.",
                              zs[-1])])
    return f"h = a_L is right on {problem.description}"


def check_cost_unregularised(student, seed):
    """cost_unregularised against handnet's cost with lambda = 0."""
    problems = _cost_problems(seed, False)

    def read(value, problem):
        return as_number(f"cost_unregularised on {problem.description}", value)

    return _check_cost_value(problems, lambda p: _cost_call(student, "cost_unregularised", p, False), read)


def check_cost_regularised(student, seed):
    """cost(..., lam) against handnet's cost with lambda > 0 (the course's 3 in the public run)."""
    problems = _cost_problems(seed, True)

    def read(value, problem):
        return as_number(f"cost on {problem.where()}", value)

    def unregularised_hint():
        try:
            for problem in problems:
                mine = float(_cost_call(student, "cost_unregularised", problem, False))
                if abs(mine - network_cost(problem.net(), problem.X, problem.y)) > 1e-9 * abs(mine):
                    return ["your cost_unregularised is wrong too (see its check), and cost adds the "
                            "penalty to it."]
        except Exception:                     # noqa: BLE001 - not written yet, or unusable
            return []
        return []

    return _check_cost_value(problems, lambda p: _cost_call(student, "cost", p, True), read,
                             first_hints=unregularised_hint)


COST_STATEMENT = """\
Write the cost of a sigmoid network (the course's ex4 cost), in handnet's layout:
rows are samples, `z_l = a_{l-1} @ W_l + b_l` with `W_l` of shape `(n_{l-1}, n_l)` and
`b_l` of shape `(n_l,)`, and `a_l = sigma(z_l)` on every layer (`sigmoid` is given).

1. `feedforward(weights, biases, X)`: the output `h = a_L`, shape `(m, K)`, for `X` of shape `(m, D)`.
2. `cost_unregularised(weights, biases, X, y)`: with the one-hot targets `Y` (`Y[i, y[i]] = 1`),

       J = (1/m) sum_i sum_k [ -Y_ik log h_ik - (1 - Y_ik) log(1 - h_ik) ]

3. `cost(weights, biases, X, y, lam)`: the regularised cost, biases excluded,

       J_reg = J + (lambda / (2m)) sum_l sum(W_l^2)

**Labels `y` are integers `0..K-1`** (the course's are `1..K`): no `-1` when building `Y`.
The checks use the course's 3-5-3 debug network (sin-based weights, m = 5, lambda = 3),
and other shapes when grading.
"""


# ============================================================================
# 3. backprop_one_hidden
# ============================================================================

ONE_HIDDEN_NAMES = ("W1", "b1", "W2", "b2")


def _one_hidden_problems(seed, regularised):
    return [problem_for(seed, regularised, n_hidden=1)]


def _one_hidden_call(student, problem, params=None):
    """cost_and_gradient(W1, b1, W2, b2, X, y, lam) of the student, on copies."""
    fn = student_function(student, "cost_and_gradient")
    W1, b1, W2, b2 = ([p.copy() for p in params] if params is not None else
                      [problem.weights[0].copy(), problem.biases[0].copy(),
                       problem.weights[1].copy(), problem.biases[1].copy()])
    return fn(W1, b1, W2, b2, problem.X.copy(), problem.y.copy(), problem.lam)


def _read_pair(value, what, names):
    """(J, gradient) from a returned (J, (dW1, db1, dW2, db2)); CheckFailed on a wrong structure."""
    J, grads = as_sequence(what, value, ("J", "(" + ", ".join("d" + n for n in names) + ")"))
    if isinstance(J, (tuple, list)) and not isinstance(grads, (tuple, list)):
        raise CheckFailed(f"{what}: got {describe(value)} with the gradients first; return "
                          f"(J, ({', '.join('d' + n for n in names)})) in this order")
    return J, grads


def _one_hidden_gradient(value, problem):
    what = f"cost_and_gradient on {problem.where()}"
    _, grads = _read_pair(value, what, ONE_HIDDEN_NAMES)
    grads = as_sequence(f"{what}: the gradient", grads, tuple("d" + n for n in ONE_HIDDEN_NAMES))
    shapes = {n: p.shape for n, p in zip(ONE_HIDDEN_NAMES, _one_hidden_params(problem))}
    return [as_array(f"{what}: d{n}", g, shapes[n], {"d" + o: s for o, s in shapes.items() if o != n})
            for n, g in zip(ONE_HIDDEN_NAMES, grads)]


def _one_hidden_params(problem):
    return [problem.weights[0], problem.biases[0], problem.weights[1], problem.biases[1]]


def _one_hidden_cost(value, problem):
    J, _ = _read_pair(value, f"cost_and_gradient on {problem.where()}", ONE_HIDDEN_NAMES)
    return as_number(f"cost_and_gradient on {problem.where()}: J", J)


def check_one_hidden_cost(student, seed, regularised):
    return _check_cost_value(_one_hidden_problems(seed, regularised),
                             lambda p: _one_hidden_call(student, p), _one_hidden_cost)


def check_one_hidden_gradient(student, seed, regularised):
    messages = []
    for problem in _one_hidden_problems(seed, regularised):
        grads = _one_hidden_gradient(_one_hidden_call(student, problem), problem)
        params = _one_hidden_params(problem)

        def own_cost(arrays, problem=problem):
            return _one_hidden_cost(_one_hidden_call(student, problem, arrays), problem)

        messages.append(gradient_check(
            [(n, n[0], g) for n, g in zip(ONE_HIDDEN_NAMES, grads)], params,
            _reference_cost_of(problem, lambda a: ((a[0], a[2]), (a[1], a[3]))), own_cost,
            problem.where(), problem.m, problem.lam,
            variants=lambda p=problem: _gradient_variants(p, lambda dWs, dbs: [dWs[0], dbs[0], dWs[1], dbs[1]]),
            advice=GRADIENT_ADVICE))
    return "; ".join(messages)


ONE_HIDDEN_STATEMENT = """\
Write `cost_and_gradient(W1, b1, W2, b2, X, y, lam)` for a network with one hidden layer
(the course's ex4 `nnCostFunction`, in handnet's layout: rows are samples,
`W1 (D, n_1)`, `b1 (n_1,)`, `W2 (n_1, K)`, `b2 (K,)`). It returns
`(J, (dW1, db1, dW2, db2))`, each gradient with the shape of its parameter.
`sigmoid` and `sigmoid_gradient` are given.

    z1 = X @ W1 + b1,  a1 = sigma(z1);   z2 = a1 @ W2 + b2,  h = sigma(z2)
    J  = (1/m) sum_ik [ -Y log h - (1 - Y) log(1 - h) ] + (lambda/(2m)) (sum(W1^2) + sum(W2^2))
    d2 = h - Y;   d1 = (d2 @ W2.T) * sigma'(z1)
    dW2 = a1.T @ d2 / m + (lambda/m) W2;   db2 = sum of the rows of d2 / m
    dW1 = X.T  @ d1 / m + (lambda/m) W1;   db1 = sum of the rows of d1 / m

**Labels `y` are integers `0..K-1`**; `Y` is their one-hot matrix (`Y[i, y[i]] = 1`).
The biases are not regularised. The gradient is checked against central differences
of the correct cost, first with lambda = 0, then with lambda > 0 (the course's 3-5-3
debug network, m = 5, lambda = 3; other shapes when grading).
"""


# ============================================================================
# 4. backprop_deep
# ============================================================================

def _deep_problems(seed, regularised):
    """Public: the debug 3-5-3 and 3-5-4-3 networks; seeded: two depths out of 1..3 hidden layers."""
    if seed is None:
        return [problem_for(None, regularised, layer_sizes=sizes) for sizes in ((3, 5, 3), (3, 5, 4, 3))]
    return [problem_for(seed, regularised, n_hidden=1 + seed % 3),
            problem_for(seed + 1, regularised, n_hidden=1 + (seed + 1) % 3)]


def _deep_call(student, problem, weights=None, biases=None):
    fn = student_function(student, "cost_and_gradient")
    w, b, X, y = problem.student_args()
    if weights is not None:
        w, b = [W.copy() for W in weights], [v.copy() for v in biases]
    return fn(w, b, X, y, problem.lam)


def _read_deep(value, problem):
    """(J, dWs, dbs) from the student's return value; CheckFailed on a wrong structure."""
    what = f"cost_and_gradient on {problem.where()}"
    items = as_sequence(what, value, ("J", "dWs", "dbs"))
    if isinstance(items[0], (tuple, list)) and not isinstance(items[-1], (tuple, list, np.ndarray)):
        raise CheckFailed(f"{what}: got {describe(value)} with J last; return (J, dWs, dbs) in this order")
    return items


def _deep_gradient(value, problem):
    what = f"cost_and_gradient on {problem.where()}"
    _, dWs, dbs = _read_deep(value, problem)
    L = len(problem.weights)
    dWs = as_sequence(f"{what}: dWs", dWs, tuple(f"dWs[{l}]" for l in range(L)))
    dbs = as_sequence(f"{what}: dbs", dbs, tuple(f"dbs[{l}]" for l in range(L)))
    shapes = {f"dWs[{l}]": W.shape for l, W in enumerate(problem.weights)}
    shapes.update({f"dbs[{l}]": b.shape for l, b in enumerate(problem.biases)})
    return [as_array(f"{what}: {name}", g, shapes[name], {o: s for o, s in shapes.items() if o != name})
            for name, g in zip(shapes, list(dWs) + list(dbs))]


def _deep_cost(value, problem):
    J = _read_deep(value, problem)[0]
    return as_number(f"cost_and_gradient on {problem.where()}: J", J)


def check_deep_cost(student, seed, regularised):
    return _check_cost_value(_deep_problems(seed, regularised), lambda p: _deep_call(student, p), _deep_cost)


def check_deep_gradient(student, seed, regularised):
    messages = []
    for problem in _deep_problems(seed, regularised):
        L = len(problem.weights)
        grads = _deep_gradient(_deep_call(student, problem), problem)
        names = [f"dWs[{l}]" for l in range(L)] + [f"dbs[{l}]" for l in range(L)]

        def split(arrays, L=L):
            return arrays[:L], arrays[L:]

        def own_cost(arrays, problem=problem, split=split):
            return _deep_cost(_deep_call(student, problem, *split(arrays)), problem)

        messages.append(gradient_check(
            [(n, "W" if n.startswith("dW") else "b", g) for n, g in zip(names, grads)],
            list(problem.weights) + list(problem.biases), _reference_cost_of(problem, split), own_cost,
            problem.where(), problem.m, problem.lam,
            variants=lambda p=problem: _gradient_variants(p, lambda dWs, dbs: list(dWs) + list(dbs)),
            advice=GRADIENT_ADVICE))
    return "; ".join(messages)


DEEP_STATEMENT = """\
Write `cost_and_gradient(weights, biases, X, y, lam)` for a sigmoid network of any depth:
`weights = [W_1, ..., W_L]` with `W_l` of shape `(n_{l-1}, n_l)`, `biases = [b_1, ..., b_L]`
with `b_l` of shape `(n_l,)` (Python index `l - 1`). It returns `(J, dWs, dbs)`: the cost
and two lists of `L` arrays shaped like `weights` and `biases`. `sigmoid` and
`sigmoid_gradient` are given.

    a_0 = X;  z_l = a_{l-1} @ W_l + b_l,  a_l = sigma(z_l);  h = a_L
    J = (1/m) sum_ik [ -Y log h - (1 - Y) log(1 - h) ] + (lambda/(2m)) sum_l sum(W_l^2)
    delta_L = h - Y;   delta_l = (delta_{l+1} @ W_{l+1}.T) * sigma'(z_l),  l = L-1 .. 1
    dJ/dW_l = a_{l-1}.T @ delta_l / m + (lambda/m) W_l;   dJ/db_l = sum of the rows of delta_l / m

**Labels `y` are integers `0..K-1`**; `Y[i, y[i]] = 1`. The biases are not regularised.
Checked on the course's debug networks 3-5-3 and 3-5-4-3 (m = 5; lambda = 0, then 3) and,
when grading, on random networks with 1 to 3 hidden layers.
"""


# ============================================================================
# 5. numerical_gradient
# ============================================================================

def _quadratic(seed):
    """theta, f(theta) = 1/2 t.A t + c.t (t = theta flattened; A symmetric), its exact gradient, A.

    Central differences are exact for a quadratic (up to rounding, ~1e-12 here with f of order 1),
    while a one-sided difference is off by (h/2) A_ii, about 5e-5: the two are 4 orders apart.
    """
    if seed is None:
        theta = debug_weights(2, 2) * 10.0                    # (2, 3), sin-based
        M = debug_weights(6, 5) * 5.0
        c = np.sin(np.arange(1, 7) + 0.5)
    else:
        rng = np.random.default_rng(seed)
        shape = (int(rng.integers(1, 4)), int(rng.integers(2, 5)))
        theta = rng.normal(size=shape)
        M = rng.normal(scale=0.5 / np.sqrt(theta.size), size=(theta.size, theta.size))
        c = rng.normal(size=theta.size)
    A = M @ M.T + np.eye(theta.size)
    theta = np.ascontiguousarray(theta)

    def f(t):
        t = np.asarray(t, dtype=np.float64).ravel()
        return 0.5 * float(t @ A @ t) + float(c @ t)

    exact = (A @ theta.ravel() + c).reshape(theta.shape)
    return theta, f, exact, A


def check_central_differences(student, seed):
    """numerical_gradient of a quadratic (where central differences are exact) with the default h."""
    fn = student_function(student, "numerical_gradient")
    theta, f, exact, A = _quadratic(seed)
    calls = []

    def counted(t):
        calls.append(1)
        return f(t)

    what = f"numerical_gradient(f, theta) of a quadratic f, theta of shape {theta.shape}, default h"
    given = theta.copy()
    got = as_array(what, fn(counted, given), theta.shape)
    changed = _theta_change(theta, given)
    h = 1e-4
    one_sided = (h / 2) * np.diag(A).reshape(theta.shape)
    compare_arrays("g", got, exact, rtol=1e-7, floor=0.1, what=what, labels=("yours", "exact"),
                   variants=[("that is a one-sided difference [f(theta + h e_i) - f(theta)] / h, whose error is "
                              "about h/2 times the second derivative; use the central difference "
                              "[f(theta + h e_i) - f(theta - h e_i)] / (2h).", exact + one_sided),
                             ("that is a one-sided difference [f(theta) - f(theta - h e_i)] / h; use the central "
                              "difference [f(theta + h e_i) - f(theta - h e_i)] / (2h).", exact - one_sided)],
                   advice={"factor": "The central difference divides by 2h.",
                           "sign": "It is f(theta + h e_i) - f(theta - h e_i), in this order."},
                   first_hints=lambda: [f"{changed}: each perturbation stays in theta, so the later entries "
                                        "are differentiated at the wrong point."] if changed else [])
    n = theta.size
    return (f"exact on a quadratic with theta of shape {theta.shape} ({len(calls)} evaluations of f "
            f"for {n} entries)")


def check_step(student, seed):
    """numerical_gradient(f, theta, h) uses h: f = sum(sin(theta)) with h = 0.1 and 0.01."""
    fn = student_function(student, "numerical_gradient")
    if seed is None:
        theta = np.ascontiguousarray(debug_weights(3, 1) * 10.0)      # (3, 2), sin-based
    else:
        rng = np.random.default_rng(seed)
        theta = rng.normal(size=int(rng.integers(2, 7)))

    def f(t):
        return float(np.sum(np.sin(np.asarray(t, dtype=np.float64))))

    for h in (0.1, 0.01):
        # [sin(t + h) - sin(t - h)] / (2h) = cos(t) sin(h) / h exactly
        expected = np.cos(theta) * np.sin(h) / h
        what = f"numerical_gradient(f, theta, h={h}) for f = sum(sin(theta)), theta of shape {theta.shape}"
        got = as_array(what, fn(f, theta.copy(), h), theta.shape)
        compare_arrays("g", got, expected, rtol=1e-7, floor=1e-3, what=what, labels=("yours", "expected"),
                       variants=[("your result does not depend on h as it should: use the argument h "
                                  "(not a fixed step) in both f(theta +- h e_i) and the division by 2h.",
                                  np.cos(theta) * np.sin(1e-4) / 1e-4),
                                 ("that is a one-sided difference [f(theta + h e_i) - f(theta)] / h; use the "
                                  "central difference [f(theta + h e_i) - f(theta - h e_i)] / (2h).",
                                  (np.sin(theta + h) - np.sin(theta)) / h)],
                       advice={"factor": "The central difference divides by 2h."})
    return "the step h is used: right for h = 0.1 and h = 0.01 (error cos(theta) (sin(h)/h - 1) included)"


def _theta_change(before, after):
    """'numerical_gradient changed theta: theta[0, 1] is ... after the call, ... before' or None.

    Rounding is allowed (theta[i] += h; theta[i] -= 2h; theta[i] += h need not give theta[i] back
    to the last bit); a perturbation left in place is not.
    """
    changed = ~np.isclose(after, before, rtol=1e-12, atol=1e-15)
    if not np.any(changed):
        return None
    i = tuple(int(v) for v in np.argwhere(changed)[0])
    return (f"numerical_gradient changed theta: {entry_name('theta', i)} is {after[i]:.6g} after the call, "
            f"{before[i]:.6g} before ({int(changed.sum())} of {before.size} entries changed)")


def check_theta_unchanged(student, seed):
    """theta is the same after numerical_gradient as before (a perturbation left in place is a bug)."""
    fn = student_function(student, "numerical_gradient")
    theta, f, _, _ = _quadratic(seed)
    given = theta.copy()
    as_array(f"numerical_gradient(f, theta, 1e-4) for theta of shape {theta.shape}", fn(f, given, 1e-4),
             theta.shape)
    changed = _theta_change(theta, given)
    if changed:
        raise CheckFailed(f"{changed}\nhint: put every entry back after its two evaluations of f "
                          "(theta[i] = original), or perturb a copy (np.array(theta)).")
    return "theta is unchanged after the call"


def check_relative_error(student, seed):
    """relative_error(a, n) = |a - n| / max(|a|, |n|), 0 where both are 0."""
    fn = student_function(student, "relative_error")
    if seed is None:
        a = np.array([[1.0, 0.0, -2.0], [1e-3, 0.0, 5.0]])
        n = np.array([[1.1, 0.0, 2.0], [0.0, 1e-8, 5.0]])
    else:
        rng = np.random.default_rng(seed)
        a = rng.normal(size=(2, 4))
        n = a * (1 + rng.normal(scale=0.1, size=a.shape))
        a[0, 0] = n[0, 0] = 0.0
        n[1, 1] = -a[1, 1]
    scale = np.maximum(np.abs(a), np.abs(n))
    expected = np.divide(np.abs(a - n), scale, out=np.zeros_like(scale), where=scale > 0)
    what = f"relative_error(a, n) for arrays of shape {a.shape} (some entries 0 in both)"
    got = as_array(what, fn(a.copy(), n.copy()), a.shape)
    if not np.all(np.isfinite(got)):
        i = tuple(int(v) for v in np.argwhere(~np.isfinite(got))[0])
        raise CheckFailed(f"{what}: {entry_name('rel', i)} is {got[i]} where a = {a[i]:g} and n = {n[i]:g}"
                          "\nhint: where a and n are both 0 the relative error is 0, not 0/0 = nan "
                          "(np.divide(..., where=scale > 0) or np.where).")
    with np.errstate(divide="ignore", invalid="ignore"):
        by_n = np.abs(a - n) / np.abs(n)
        by_sum = np.abs(a - n) / (np.abs(a) + np.abs(n))
    compare_arrays("rel", got, expected, what=what,
                   variants=[("that divides by |n|: divide by max(|a|, |n|) so that the error is symmetric "
                              "and at most 1... when n is 0 too.", np.where(scale > 0, by_n, 0.0)),
                             ("that is |a - n| / (|a| + |n|); the relative error divides by max(|a|, |n|).",
                              np.where(scale > 0, by_sum, 0.0)),
                             ("that is |a - n| without the division by max(|a|, |n|).", np.abs(a - n))])
    return f"right on {a.size} entries, including a pair of zeros"


NUMERICAL_STATEMENT = """\
Write the numerical gradient that checks backpropagation, and the relative error it is read with.

1. `numerical_gradient(f, theta, h=1e-4)`: `f` takes an array shaped like `theta` and returns a
   number; return the array `g` (same shape as `theta`) of central differences

       g_i = [ f(theta + h e_i) - f(theta - h e_i) ] / (2h)        (e_i: 1 at entry i, 0 elsewhere)

   Use the argument `h`. Leave `theta` unchanged (perturb a copy, or put every entry back).
   A one-sided difference `[f(theta + h e_i) - f(theta)] / h` is wrong by about `h/2 f''`;
   the central one only by about `h^2/6 f'''`.
2. `relative_error(analytic, numerical)`: element-wise `|a - n| / max(|a|, |n|)`, and `0` where
   both are `0`.
"""


# ============================================================================
# 6. input_gradient
# ============================================================================

def _explain_problem(seed, layer_sizes, n_hidden, inputs=(2, 6)):
    if seed is None:
        return debug_problem(layer_sizes, m=5, scale=10.0)
    return random_problem(np.random.default_rng(seed), n_hidden=n_hidden, inputs=inputs)


def _input_gradient_variant(problem, k, hidden_prime=True):
    """dy_k/dX with the hidden layers' sigma' left out (a known mistake)."""
    acts = [problem.X]
    for W, b in zip(problem.weights, problem.biases):
        acts.append(sigmoid_function(acts[-1] @ W + b))
    y = acts[-1]
    delta = np.zeros_like(y)
    delta[:, k] = y[:, k] * (1.0 - y[:, k])
    for l in range(len(problem.weights) - 1, 0, -1):
        delta = delta @ problem.weights[l].T
        if hidden_prime:
            delta = delta * acts[l] * (1.0 - acts[l])
    return delta @ problem.weights[0].T


def _check_input_gradient(student, problem, units):
    fn = student_function(student, "input_gradient")
    net = problem.net()
    K = problem.K
    for k in units:
        what = f"input_gradient(..., k={k}) on {problem.description}"
        weights, biases, X, _ = problem.student_args()
        got = as_array(what, fn(weights, biases, X, k), problem.X.shape)

        def y_k(arrays, k=k):
            return float(np.sum(net.predict_proba(arrays[0])[:, k]))     # rows are independent

        numerical = numerical_gradients(y_k, [problem.X])[0]

        def variants(k=k):
            from .. import explain

            out = [("that is the derivative of z_L (before the output sigmoid), not of y = a_L: "
                    "delta_L = e_k * sigma'(z_L).",
                    explain.input_gradient(net, problem.X, k, wrt="preactivation"))]
            out += [(f"that is the gradient of output {(k + s) % K}, not of output {k}: units are "
                     f"numbered 0..K-1.", explain.input_gradient(net, problem.X, (k + s) % K))
                    for s in (-1, 1) if K > 1]
            out.append(("that is the gradient of the sum of all outputs: start delta_L from unit k only "
                        "(zero in every other column).",
                        sum(explain.input_gradient(net, problem.X, j) for j in range(K))))
            if len(problem.weights) > 1:
                out.append(("the hidden deltas lack sigma'(z_l): delta_l = (delta_{l+1} @ W_{l+1}.T) * "
                            "sigma'(z_l).", _input_gradient_variant(problem, k, hidden_prime=False)))
            return out

        compare_arrays(f"dy_{k}/dX", got, numerical, rtol=GRADIENT_RTOL, floor=GRADIENT_FLOOR, what=what,
                       labels=("analytic", "numerical"), variants=variants,
                       advice={"sign": "dy/dx = delta_1 @ W_1.T with delta_L = +e_k sigma'(z_L)."})
    return (f"dy_k/dX agrees with central differences for k = {', '.join(map(str, units))} "
            f"on {problem.description}")


def check_input_gradient_one_hidden(student, seed):
    problem = _explain_problem(seed, (3, 5, 3), 1)
    units = range(problem.K) if seed is None else [int(np.random.default_rng(seed).integers(problem.K))]
    return _check_input_gradient(student, problem, list(units))


def check_input_gradient_deep(student, seed):
    problem = _explain_problem(seed, (3, 5, 4, 3), 2 + (seed or 0) % 2)
    units = range(problem.K) if seed is None else [int(np.random.default_rng(seed + 1).integers(problem.K))]
    return _check_input_gradient(student, problem, list(units))


INPUT_GRADIENT_STATEMENT = """\
Write `input_gradient(weights, biases, X, k)`: the derivative of output unit `k` of a sigmoid
network with respect to its input, for every row of `X` (shape `(N, D)`, the same as `X`).
The input is just layer 0: backprop's recursion, started from output `k` instead of from the
cost and carried one layer further.

    a_0 = X;  z_l = a_{l-1} @ W_l + b_l,  a_l = sigma(z_l);  y = a_L                (N, K)
    delta_L = e_k * sigma'(z_L)        column k is a_L[:, k] (1 - a_L[:, k]), the others 0
    delta_l = (delta_{l+1} @ W_{l+1}.T) * sigma'(z_l),   l = L-1 .. 1
    dy_k/dX = delta_1 @ W_1.T                                                       (N, D)

`W_l` has shape `(n_{l-1}, n_l)`, `b_l` shape `(n_l,)`; units are numbered `0..K-1`;
`sigmoid` is given. Checked against central differences on sin-based networks 3-5-3 and
3-5-4-3 for every unit, and on random networks when grading.
"""


# ============================================================================
# 7. occlusion
# ============================================================================

#: (D, window, stride) cases of the public run: one feature, overlap, a window cut off at the edge,
#: a stride that ends exactly, the whole input, a stride of 3.
WINDOW_CASES = ((8, 1, 1), (8, 3, 1), (8, 3, 2), (7, 3, 2), (5, 5, 1), (10, 4, 3))


def _starts(D, window, stride):
    """handnet's window positions (explain.occlusion.window_counts)."""
    from ..explain.occlusion import window_counts

    P = window_counts((D,), (window,), (stride,))[0]
    return [p * stride for p in range(P)]


def _window_cases(seed):
    if seed is None:
        return WINDOW_CASES
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(4):
        D = int(rng.integers(3, 13))
        w = int(rng.integers(1, D + 1))
        cases.append((D, w, int(rng.integers(1, w + 1))))
    return tuple(cases)


def check_window_starts(student, seed):
    fn = student_function(student, "window_starts")
    for D, w, s in _window_cases(seed):
        call = f"window_starts({D}, {w}, {s})"
        value = fn(D, w, s)
        expected = _starts(D, w, s)
        if value is None:
            raise CheckFailed(f"{call}: got None, expected the list {expected} (is a `return` missing?)")
        try:
            got = [int(v) for v in np.asarray(value).ravel()] if not isinstance(value, (str, bytes)) else None
        except (TypeError, ValueError):
            got = None
        if got is None or np.ndim(value) != 1:
            raise CheckFailed(f"{call}: expected a list of ints like {expected}, got {describe(value)}")
        if got != expected:
            known = [
                (list(range(0, D - w + 1, s)), "the last window, cut off at the edge, is missing: there are "
                 "ceil((D - window) / stride) + 1 positions (floor would leave the last features uncovered)."),
                (list(range(0, D, s)), "a window starts at every multiple of the stride below D, but the "
                 "positions end with the first window that reaches the end: ceil((D - window) / stride) + 1 "
                 "of them."),
                (list(range(0, D - w, s)), "the last position is missing: the starts go up to and including "
                 "the first one whose window reaches the end."),
            ]
            hint = next((text for starts, text in known if starts == got),
                        "the starts are 0, s, 2s, ... and there are ceil((D - window) / stride) + 1 of them.")
            raise CheckFailed(f"{call}: got {got}, expected {expected}\nhint: {hint}")
    return f"right for {len(_window_cases(seed))} (D, window, stride) cases, including windows cut off at the edge"


def _occlusion_variant(problem, k, window, stride, baseline, starts, mean=True):
    """Occlusion computed window by window with given starts, mean or sum over the covering windows."""
    net = problem.net()
    X = problem.X
    N, D = X.shape
    y = net.predict_proba(X)[:, k]
    total, count = np.zeros((N, D)), np.zeros(D)
    for start in starts:
        cols = slice(start, min(start + window, D))
        covered = X.copy()
        covered[:, cols] = baseline
        total[:, cols] += (y - net.predict_proba(covered)[:, k])[:, None]
        count[cols] += 1
    if not mean:
        return total
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


def _check_occlusion(student, problem, cases):
    from .. import explain

    fn = student_function(student, "occlusion")
    net = problem.net()
    for k, window, stride, baseline in cases:
        what = (f"occlusion(..., k={k}, window={window}, stride={stride}, baseline={baseline:g}) "
                f"on {problem.description}")
        weights, biases, X, _ = problem.student_args()
        got = as_array(what, fn(weights, biases, X, k, window, stride, baseline), problem.X.shape)
        expected = explain.occlusion(net, problem.X, k, window=window, stride=stride, baseline=baseline)
        D = problem.X.shape[1]

        def variants(k=k, window=window, stride=stride, baseline=baseline):
            starts = _starts(D, window, stride)
            out = [("you summed the drops of the windows covering a feature: take their mean (divide by the "
                    "number of windows that cover it).",
                    _occlusion_variant(problem, k, window, stride, baseline, starts, mean=False)),
                   ("the last window, cut off at the edge, is missing: there are ceil((D - window) / stride) "
                    "+ 1 positions.",
                    _occlusion_variant(problem, k, window, stride, baseline, range(0, D - window + 1, stride)))]
            if baseline != 0:
                out.append(("covered features must be set to the baseline, not to 0.",
                            explain.occlusion(net, problem.X, k, window=window, stride=stride)))
            return out

        compare_arrays("A", got, expected, rtol=1e-8, floor=1e-4, what=what, variants=variants,
                       advice={"sign": "The drop is y_k(x) - y_k(x with the window covered)."})
    return f"right for {len(cases)} settings on {problem.description}"


def check_occlusion_single(student, seed):
    problem = _explain_problem(seed, (8, 5, 3), 1, inputs=(4, 9))
    k = 1 if seed is None else int(np.random.default_rng(seed).integers(problem.K))
    return _check_occlusion(student, problem, [(k, 1, 1, 0.0)])


def check_occlusion_windows(student, seed):
    problem = _explain_problem(seed, (8, 5, 3), 1, inputs=(4, 9))
    if seed is None:
        cases = [(0, 3, 1, 0.0), (2, 3, 2, 0.5), (1, 2, 2, -1.0)]
    else:
        rng = np.random.default_rng(seed + 1)
        D = problem.X.shape[1]
        cases = []
        for _ in range(3):
            w = int(rng.integers(2, D + 1))
            cases.append((int(rng.integers(problem.K)), w, int(rng.integers(1, w + 1)),
                          float(np.round(rng.uniform(-1, 1), 2))))
    return _check_occlusion(student, problem, cases)


OCCLUSION_STATEMENT = """\
Write occlusion for a sigmoid network (`sigmoid` and `predict(weights, biases, X) -> (N, K)` are given).

1. `window_starts(D, window, stride)`: the first feature of every window position,
   `[0, s, 2s, ...]`, with `P = ceil((D - window) / stride) + 1` positions. The last window may
   stick out past feature `D - 1`; it is then cut off at the edge (for `D = 8, window = 3,
   stride = 2`: `[0, 2, 4, 6]`, the last covering features 6 and 7 only).
2. `occlusion(weights, biases, X, k, window, stride=1, baseline=0.0)`: for every window
   position `p`, set the covered features of every row to `baseline` and record the drop
   `d_p = y_k(x) - y_k(x covered)`; a feature's attribution is the **mean** of `d_p` over the
   windows that cover it. Returns `A` of shape `(N, D)`.

These are the positions and the averaging of Captum's `Occlusion` (and of
`handnet.explain.occlusion`, which the checks compare with).
"""


# ============================================================================
# The registry
# ============================================================================

def _with(check, **fixed):
    """check(student, seed, **fixed) as a run(student, seed) function (for the lambda = 0 / > 0 pairs)."""
    return partial(check, **fixed)


EXERCISES = {
    "sigmoid": Exercise(
        name="sigmoid",
        title="The sigmoid and its gradient",
        module="handnet.exercises.sigmoid",
        functions=("sigmoid", "sigmoid_gradient"),
        checks=(
            Check("sigmoid values", 4.0, check_sigmoid_values),
            Check("sigmoid without overflow", 2.0, check_sigmoid_stable),
            Check("sigmoid_gradient", 4.0, check_sigmoid_gradient),
        ),
        statement=SIGMOID_STATEMENT,
    ),
    "cost": Exercise(
        name="cost",
        title="The cost, unregularised and with L2",
        module="handnet.exercises.cost",
        functions=("feedforward", "cost_unregularised", "cost"),
        checks=(
            Check("feedforward", 5.0, check_feedforward),
            Check("cost (lambda = 0)", 9.0, check_cost_unregularised),
            Check("cost (lambda > 0)", 6.0, check_cost_regularised),
        ),
        statement=COST_STATEMENT,
    ),
    "backprop_one_hidden": Exercise(
        name="backprop_one_hidden",
        title="Backpropagation with one hidden layer",
        module="handnet.exercises.backprop_one_hidden",
        functions=("cost_and_gradient",),
        checks=(
            Check("cost (lambda = 0)", 3.0, _with(check_one_hidden_cost, regularised=False)),
            Check("cost (lambda > 0)", 2.0, _with(check_one_hidden_cost, regularised=True)),
            Check("gradient (lambda = 0)", 15.0, _with(check_one_hidden_gradient, regularised=False)),
            Check("gradient (lambda > 0)", 10.0, _with(check_one_hidden_gradient, regularised=True)),
        ),
        statement=ONE_HIDDEN_STATEMENT,
    ),
    "backprop_deep": Exercise(
        name="backprop_deep",
        title="Backpropagation for any depth",
        module="handnet.exercises.backprop_deep",
        functions=("cost_and_gradient",),
        checks=(
            Check("cost (lambda = 0)", 2.0, _with(check_deep_cost, regularised=False)),
            Check("cost (lambda > 0)", 2.0, _with(check_deep_cost, regularised=True)),
            Check("gradient (lambda = 0)", 10.0, _with(check_deep_gradient, regularised=False)),
            Check("gradient (lambda > 0)", 6.0, _with(check_deep_gradient, regularised=True)),
        ),
        statement=DEEP_STATEMENT,
    ),
    "numerical_gradient": Exercise(
        name="numerical_gradient",
        title="The numerical gradient and the relative error",
        module="handnet.exercises.numerical_gradient",
        functions=("numerical_gradient", "relative_error"),
        checks=(
            Check("central differences", 4.0, check_central_differences),
            Check("the step h", 2.0, check_step),
            Check("theta unchanged", 2.0, check_theta_unchanged),
            Check("relative_error", 2.0, check_relative_error),
        ),
        statement=NUMERICAL_STATEMENT,
    ),
    "input_gradient": Exercise(
        name="input_gradient",
        title="The input gradient dy_k/dx",
        module="handnet.exercises.input_gradient",
        functions=("input_gradient",),
        checks=(
            Check("one hidden layer", 5.0, check_input_gradient_one_hidden),
            Check("any depth", 5.0, check_input_gradient_deep),
        ),
        statement=INPUT_GRADIENT_STATEMENT,
    ),
    "occlusion": Exercise(
        name="occlusion",
        title="Occlusion",
        module="handnet.exercises.occlusion",
        functions=("window_starts", "occlusion"),
        checks=(
            Check("window positions", 3.0, check_window_starts),
            Check("windows of one feature", 3.0, check_occlusion_single),
            Check("windows, stride and baseline", 4.0, check_occlusion_windows),
        ),
        statement=OCCLUSION_STATEMENT,
    ),
}


def get_exercise(name):
    """The Exercise called ``name``; ValueError naming the known exercises otherwise."""
    try:
        return EXERCISES[name]
    except (KeyError, TypeError):
        known = ", ".join(EXERCISES) or "(none yet)"
        raise ValueError(f"exercise: no exercise named {name!r}; expected one of {known}") from None
