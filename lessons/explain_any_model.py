"""Explain a network trained elsewhere: a scikit-learn MLPClassifier, converted, explained by handnet.

Run from the project root:  python -m lessons.explain_any_model [--out DIR] [--quick]
(needs scikit-learn: pip install -e ".[interop]"; without it the lesson says so and stops)
"""

# %% [markdown]
# # Explain any model
#
# handnet's explanations (sensitivity maps, the Jacobian, occlusion) need
# nothing but the network's weights and activations. A model trained in
# another framework has exactly those: a fitted scikit-learn `MLPClassifier`
# keeps its weight matrices in `coefs_` (already in handnet's (n_in, n_out)
# layout), its biases in `intercepts_`, its hidden activation in `activation`
# and the output activation it chose in `out_activation_` (softmax for ten
# digits). `hn.from_sklearn` copies them into an `hn.MLP` — in float64, as
# scikit-learn computed them — and the explanations then explain *that*
# model. PyTorch (`hn.from_torch`) and Keras (`hn.from_keras`, `.keras` and
# `.h5` files) work the same way.
#
# Converting is only useful if it is exact, so this lesson checks, against
# scikit-learn itself rather than against handnet:
#
# - the outputs: `net.predict_proba(X)` against `clf.predict_proba(X)`;
# - the Jacobian ∂p_k/∂x_j from handnet's backward recursion against central
#   differences of `clf.predict_proba` (scikit-learn has no derivatives);
# - occlusion: handnet's map against the same windows covered and sent
#   through `clf.predict_proba`.

# %%
import lessons  # noqa: F401  first, so that NumPy's BLAS gets one thread (see lessons/__init__.py)
import warnings

import numpy as np

import handnet as hn
from lessons._common import in_notebook, start
from lessons._sensitivity_analysis_plots import plot_digit_rows

IMAGE_SHAPE = (8, 8)
OCCLUSION_WINDOW = (2, 2)


def sklearn_available():
    """True if scikit-learn (the "interop" extra) can be imported."""
    try:
        import sklearn.neural_network  # noqa: F401
    except ImportError:
        return False
    return True


#: Without scikit-learn the lesson says so and stops: as a script it exits (status 0) here; in a
#: notebook the story cells below are guarded by HAVE_SKLEARN too, so they print nothing.
HAVE_SKLEARN = sklearn_available()

if __name__ == "__main__":
    run = start("explain_any_model")
    if not HAVE_SKLEARN:
        print('This lesson needs scikit-learn, which is not installed: pip install -e ".[interop]" '
              "(or pip install scikit-learn). Skipped.")
        if not in_notebook():
            raise SystemExit(0)


# %% [markdown]
# ## A model trained by scikit-learn, converted
#
# A two-hidden-layer tanh network on the 8×8 digits shipped with handnet, fitted
# by scikit-learn's own Adam; `hn.from_sklearn(clf)` then copies its weights.

# %%
def train_sklearn_digits(max_iter=300, seed=0):
    """An MLPClassifier((32, 16), tanh) fitted with scikit-learn's own Adam on 80% of the digits.

    Returns (clf, X_test (359, 64), y_test (359,)). tanh keeps the model smooth, so central
    differences of its probabilities are valid everywhere.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X, y = hn.datasets.load_digits()
    X_train, X_test, y_train, y_test = hn.datasets.train_test_split(X, y, test_size=0.2, seed=seed)
    clf = MLPClassifier(hidden_layer_sizes=(32, 16), activation="tanh", max_iter=max_iter, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)       # --quick stops before convergence
        clf.fit(X_train, y_train)
    return clf, X_test, y_test


if __name__ == "__main__" and HAVE_SKLEARN:
    import sklearn

    max_iter = 15 if run.quick else 300
    clf, X_test, y_test = train_sklearn_digits(max_iter=max_iter)
    acc = float(np.mean(clf.predict(X_test) == y_test))
    net = hn.from_sklearn(clf)
    run.say(f"""scikit-learn {sklearn.__version__}: MLPClassifier(hidden_layer_sizes=(32, 16), activation='tanh')
        fitted for at most {max_iter} Adam iterations on 1438 digits; held-out accuracy {acc:.1%} on
        {len(y_test)} test digits. Its out_activation_ is {clf.out_activation_!r}. Converted:""")
    run.table(net.summary())


# %% [markdown]
# ## The same function
#
# Both compute a_l = f(a_{l-1} W_l + b_l) in float64; only the order in which
# a matrix product adds its terms may differ, so the probabilities should
# agree to a few units of rounding (about 1e-16 each), far below 1e-12.

# %%
def output_difference(net, clf, X):
    """max |net.predict_proba(X) - clf.predict_proba(X)| over every row and class."""
    return float(np.max(np.abs(net.predict_proba(X) - clf.predict_proba(X))))


if __name__ == "__main__" and HAVE_SKLEARN:
    diff = output_difference(net, clf, X_test)
    same = np.array_equal(clf.classes_[net.predict(X_test)], clf.predict(X_test))
    run.say(f"""On the {len(X_test)} test digits the probabilities differ by at most {diff:.1e}, and the
        predicted classes are identical: {same}.""")
    run.expect("handnet's outputs equal scikit-learn's predict_proba", diff <= 1e-12, f"max |diff| {diff:.1e}")
    run.expect("the same predicted class for every test digit", same)


# %% [markdown]
# ## The Jacobian, against scikit-learn's own numbers
#
# A central difference perturbs one pixel at a time,
# J[k, j] ≈ [p_k(x + h e_j) - p_k(x - h e_j)] / 2h. All 2 × 64 perturbed
# copies of every digit go through `clf.predict_proba` in one call (an array
# of shape (2 N 64, 64)), so there is no Python loop. With h = 1e-5 the
# truncation error (∝ h²) and the rounding error (∝ ε/h) are both near 1e-10.
# The sensitivity map of class c, |∂p_c/∂x|, is then just row c of the Jacobian.

# %%
def central_difference_jacobian(predict_proba, X, h=1e-5):
    """J[i, k, j] = (p_k(x_i + h e_j) - p_k(x_i - h e_j)) / 2h from any predict_proba.   X (N, D) -> (N, K, D)."""
    N, D = X.shape
    steps = h * np.eye(D)                                        # (D, D): row j is h e_j
    plus = (X[:, None, :] + steps).reshape(N * D, D)
    minus = (X[:, None, :] - steps).reshape(N * D, D)
    P = predict_proba(np.vstack([plus, minus]))                  # (2 N D, K)
    K = P.shape[1]
    diff = (P[:N * D] - P[N * D:]).reshape(N, D, K) / (2 * h)
    return diff.transpose(0, 2, 1)


def relative_jacobian_error(J, numerical):
    """max |J - numerical| over each digit's Jacobian, divided by that Jacobian's largest |entry|."""
    scale = np.max(np.abs(numerical), axis=(1, 2))
    return np.max(np.abs(J - numerical), axis=(1, 2)) / scale


def one_digit_per_class(y_pred, y):
    """Row indices (10,): the first correctly classified test digit of each class."""
    correct = y_pred == y
    return np.array([np.flatnonzero(correct & (y == c))[0] for c in range(10)])


if __name__ == "__main__" and HAVE_SKLEARN:
    idx = one_digit_per_class(clf.predict(X_test), y_test)
    x, labels = X_test[idx], y_test[idx]
    J = hn.explain.jacobian(net, x)                              # (10, 10, 64)
    numerical = central_difference_jacobian(clf.predict_proba, x)
    rel = relative_jacobian_error(J, numerical)
    run.say(f"""The Jacobian dp_k/dx_j of one correctly classified test digit per class (test rows
        {idx.tolist()}), by handnet's backward recursion, against central differences of
        clf.predict_proba (h = 1e-5, 1280 perturbed digits in one call): largest relative error
        {rel.max():.1e}.""")
    run.expect("handnet's Jacobian matches central differences of predict_proba", rel.max() < 1e-6,
               f"max relative error {rel.max():.1e} < 1e-6")
    S = hn.explain.sensitivity(net, x, labels)                   # |dp_c/dx|, row c of the Jacobian
    rows = np.arange(len(labels))
    sens_err = float(np.max(np.abs(S - np.abs(J[rows, labels]))) / np.max(S))
    run.expect("the sensitivity map is |row c of the Jacobian|", sens_err < 1e-12,
               f"largest difference {sens_err:.1e} of the largest entry")


# %% [markdown]
# ## Occlusion, against scikit-learn's own numbers
#
# Occlusion covers a 2×2 window with 0 (blank paper), asks the model again,
# and gives each pixel the mean drop of p_t over the windows covering it.
# handnet runs the windows through the converted network; here the same
# covered digits (every window of every digit, one array) go through
# scikit-learn, and the means are formed with the cover matrix M (P windows
# × 64 pixels) that handnet's window_grid returns.

# %%
def sklearn_occlusion(clf, X, targets, window=OCCLUSION_WINDOW, shape=IMAGE_SHAPE):
    """Occlusion of clf (baseline 0, stride 1) computed from clf.predict_proba alone.   -> (N, D)."""
    from handnet.explain.occlusion import window_grid

    _, M = window_grid(shape, window, (1, 1))                    # M (P, D): window p covers pixel j
    N, D = X.shape
    covered = X[:, None, :] * (1.0 - M)                          # (N, P, D): each window set to 0
    P = M.shape[0]
    rows = np.arange(N)
    p_t = clf.predict_proba(X)[rows, targets]                    # (N,)
    p_covered = clf.predict_proba(covered.reshape(N * P, D)).reshape(N, P, -1)[rows, :, targets]
    drops = p_t[:, None] - p_covered                             # (N, P)
    return (drops @ M) / M.sum(axis=0)                           # mean over the windows covering j


if __name__ == "__main__" and HAVE_SKLEARN:
    A = hn.explain.occlusion(net, x, labels, OCCLUSION_WINDOW, image_shape=IMAGE_SHAPE)
    reference = sklearn_occlusion(clf, x, labels)
    occ_err = float(np.max(np.abs(A - reference)) / np.max(np.abs(reference)))
    run.say(f"""Occlusion with a 2x2 window of zeros, handnet's against the same windows sent through
        scikit-learn: largest difference {occ_err:.1e} of the largest attribution. The sensitivity
        map |dp_c/dx| is row c of the Jacobian; both maps are drawn below each digit.""")
    run.expect("handnet's occlusion equals occlusion computed with predict_proba", occ_err < 1e-10,
               f"{occ_err:.1e} < 1e-10")
    run.figure(plot_digit_rows(x, [(S, "|∂p_c/∂x|"), (A, "occlusion 2×2")], labels,
                               "A scikit-learn MLP explained by handnet: sensitivity and occlusion\n"
                               "(each panel on its own scale)", image_shape=(8, 8)), "sklearn_maps.png")


# %% [markdown]
# ## The whole Jacobian of one digit
#
# One panel per output k: ∂p_k/∂x at a test '3', drawn as an 8×8 image.

# %%
if __name__ == "__main__" and HAVE_SKLEARN:
    digit = int(np.flatnonzero(labels == 3)[0])
    fig = hn.explain.plots.plot_class_maps(J[digit], IMAGE_SHAPE, titles=[f"∂p_{k}/∂x" for k in range(10)],
                                           title=f"The Jacobian of the scikit-learn model at a test '3' "
                                                 f"(row {idx[digit]}): one panel per output")
    run.figure(fig, "sklearn_jacobian.png")
    run.say("""The '3' panel is red where more ink makes the model surer it sees a 3 (blue: less sure).
        What one class gains the others lose: the ten probabilities sum to 1, so the ten rows of
        the Jacobian sum to zero, pixel by pixel.""")
    column_sums = float(np.max(np.abs(J.sum(axis=1))))
    run.expect("the Jacobian's rows sum to zero (softmax outputs sum to 1)", column_sums < 1e-12,
               f"max |sum_k dp_k/dx_j| {column_sums:.1e}")


# %%
if __name__ == "__main__" and HAVE_SKLEARN:
    run.end()
