"""BLAS threads per problem size (handnet._system): small work on one thread, the user's
environment variable always wins, and the limit is applied and undone."""

import numpy as np
import pytest

import handnet as hn
from handnet import _system as S


@pytest.fixture
def no_thread_variables(monkeypatch):
    for name in S.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_small_work_gets_one_thread_and_large_work_every_core(no_thread_variables):
    digits = hn.MLP([64, 32, 10])
    assert S.matmul_work(digits, 1797, 3) == 3 * 1797 * (64 * 32 + 32 * 10)
    assert S.blas_threads_for(S.matmul_work(digits, 1797, 3)) == 1
    assert S.blas_threads_for(S.ONE_THREAD_BELOW) == S.usable_cpus()


@pytest.mark.parametrize("name", S.THREAD_VARIABLES)
def test_a_thread_variable_set_by_the_user_wins(monkeypatch, no_thread_variables, name):
    monkeypatch.setenv(name, "2")
    assert S.threads_set_by_user() == name
    assert S.blas_threads_for(1) is None


def test_limit_blas_threads_applies_and_restores():
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        return [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]

    before = blas_threads()
    assert before, "numpy's BLAS is not visible to threadpoolctl"
    with S.limit_blas_threads(1):
        assert blas_threads() == [1] * len(before)
    assert blas_threads() == before
    with S.limit_blas_threads(None):
        assert blas_threads() == before
    np.ones((2, 2)) @ np.ones((2, 2))          # BLAS still works after the limit is lifted


def test_explanations_restore_the_blas_threads(no_thread_variables):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from handnet._system import matmul_work

    def blas_threads():
        return [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]

    net = hn.MLP([16, 5, 3], seed=0)
    X = np.random.default_rng(0).uniform(size=(7, 16))
    assert matmul_work(net, 7, 4) == 7 * 4 * (16 * 5 + 5 * 3)
    before = blas_threads()
    hn.explain.jacobian(net, X)
    hn.explain.input_hessian_diag(net, X)
    hn.explain.input_gradient(net, X)
    hn.explain.occlusion(net, X, 0, (2, 2), image_shape=(4, 4), workers=2)
    assert blas_threads() == before
