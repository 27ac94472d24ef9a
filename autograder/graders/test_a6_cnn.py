"""Hidden graders of a6_cnn: max_pool_forward, max_pool_backward, cnn_forward, cnn_backward.

The contract's tests of every function are generated (autograder.graders.generic); written here
is what only this assignment has: max pooling's backward pass on inputs full of tied maxima
(random numbers never tie, a ReLU's zeros always do) and against central differences; the
network's gradients against central differences; and ten training steps taken with the
student's functions, which must follow the reference's and lower the loss.
"""
import numpy as np
import pytest

from autograder import reference
from autograder.cases import case_id
from autograder.contract import (NETWORK_CASE_WORDS, NETWORK_CASES, POOL_CASE_WORDS, POOL_CASES,
                                 inputs, spec, where)
from autograder.graders import check_value, mismatch
from autograder.graders.generic import add_generic_tests
from autograder.grading import Failed, grades
from helpers.gradcheck import numerical_gradient

TIE_CASES = (POOL_CASES[0], POOL_CASES[2], POOL_CASES[4])    # tiling, overlapping, gaps
GRADIENT_POOL_CASES = (POOL_CASES[2], POOL_CASES[4])
GRADIENT_NETWORK_CASES = (NETWORK_CASES[1], NETWORK_CASES[3].with_(M=3))
TRAINING_CASE = NETWORK_CASES[0]
STEPS, LEARNING_RATE = 10, 0.05
GRADIENTS = spec("cnn_backward").result                   # ("dw1", "db1", "dw2", "db2")
H = 1e-6                                                   # the central differences' step


# --------------------------------------------------------------------------- max_pool_backward
def _routed(dout, x, pool, stride, offsets, once=True):
    """dx of max pooling that sends each window's dout to its maxima, visited in `offsets`
    order ((u, v) pairs): to the first one met when `once`, to every one otherwise."""
    out = reference.max_pool_forward(x, pool, stride)
    H_out, W_out = out.shape[:2]
    dx, taken = np.zeros_like(x), np.zeros(out.shape, dtype=bool)
    for u, v in offsets:
        at = (slice(u, u + stride * H_out, stride), slice(v, v + stride * W_out, stride))
        hit = (x[at] == out) & ~taken
        dx[at] += np.where(hit, dout, 0)
        if once:
            taken |= hit
    return dx


TIE_MISTAKES = (
    ("every", "the gradient of a window went to every input equal to its maximum, so a window "
              "with tied maxima passes its gradient on several times"),
    ("last", "the gradient of a window went to the last of its tied maxima"),
)


@grades("max_pool_backward", "correctness", "sends each window's gradient to its first maximum "
        f"when maxima tie, on {POOL_CASE_WORDS}", weight=3)
@pytest.mark.parametrize("case", TIE_CASES, ids=case_id)
def test_max_pool_backward_ties(student, seed, case):
    dout, x, pool, stride = inputs("max_pool_backward", case, seed=seed)
    x = np.floor(3 * np.abs(x)).clip(0, 2)                  # values 0, 1, 2: ties everywhere
    got = student.call("max_pool_backward", dout, x, pool, stride)
    text = f"{where('max_pool_backward', case)}, with x holding only 0, 1 and 2 (many tied maxima)"
    if mismatch(reference.max_pool_backward(dout, x, pool, stride), got, "dx") is None:
        return
    offsets = [(u, v) for u in range(pool) for v in range(pool)]
    variants = {"every": _routed(dout, x, pool, stride, offsets, once=False),
                "last": _routed(dout, x, pool, stride, offsets[::-1])}
    seen = next((words for key, words in TIE_MISTAKES
                 if mismatch(variants[key], got, "dx") is None), None)
    try:
        check_value("max_pool_backward", (dout, x, pool, stride), got, text)
    except Failed as failure:
        raise Failed(failure.message + (
            f" It looks like {seen}. When several inputs share a window's maximum, the whole "
            "gradient goes to the first of them in row-major (u, v) order, the one np.argmax "
            "returns." if seen else ""), misconception=failure.misconception) from None


def _pool_numerical(dout, x, pool, stride):
    """Central differences of sum(max_pool_forward(x) * dout) for every entry of x."""
    return numerical_gradient(lambda a: reference.max_pool_forward(a, pool, stride), x.copy(),
                              dout, H)


def _check_against(numeric, got, names, text):
    """Raise Failed unless every array of `got` equals its central differences in `numeric`."""
    for name, g, n in zip(names, got, numeric):
        err = float(np.max(np.abs(np.asarray(g, dtype=np.float64) - n))) if n.size else 0.0
        if not err <= 1e-6 * max(1.0, float(np.max(np.abs(n)))):
            raise Failed(f"On {text}: {name} differs from the central differences by up to "
                         f"{err:.3g}.")


@grades("max_pool_backward", "correctness", f"dx matches central differences on {POOL_CASE_WORDS}",
        weight=2)
@pytest.mark.parametrize("case", GRADIENT_POOL_CASES, ids=case_id)
def test_max_pool_backward_numerical(student, seed, case):
    args = inputs("max_pool_backward", case, seed=seed)
    got = student.call("max_pool_backward", *args)
    text = f"{where('max_pool_backward', case)}, random x and dout"
    if mismatch(reference.max_pool_backward(*args), got, "dx") is not None:
        check_value("max_pool_backward", args, got, text)
    _check_against((_pool_numerical(*args),), (got,), ("dx",), text)


# --------------------------------------------------------------------------- cnn_backward
def _network_numerical(dscores, x, w1, b1, w2, b2, pad, pool):
    """Central differences of sum(cnn_forward(...) * dscores) for every entry of w1, b1, w2, b2."""
    params = [p.copy() for p in (w1, b1, w2, b2)]
    return [numerical_gradient(lambda _: reference.cnn_forward(x, *params, pad, pool), p,
                               dscores, H) for p in params]


def _smooth_point(case, seed):
    """cnn_backward's arguments, b2 and the central differences for `case`, at the first draw
    where the reference's own gradients equal the central differences (no nudge of H crosses a
    kink of the ReLU or a change of the pooling's winner there)."""
    for offset in range(10):
        args = inputs("cnn_backward", case, seed_offset=offset, seed=seed)
        b2 = inputs("cnn_forward", case, seed_offset=offset, seed=seed)[4]
        numeric = _network_numerical(*args[:5], b2, *args[5:])
        try:
            _check_against(numeric, reference.cnn_backward(*args), GRADIENTS, "")
        except Failed:
            continue
        return args, numeric
    raise RuntimeError(f"no draw of {case.describe()} is away from the network's kinks")


@grades("cnn_backward", "correctness", "dw1, db1, dw2, db2 match central differences of the "
        f"network on {NETWORK_CASE_WORDS}", weight=2)
@pytest.mark.parametrize("case", GRADIENT_NETWORK_CASES, ids=case_id)
def test_cnn_backward_numerical(student, seed, case):
    args, numeric = _smooth_point(case, seed)
    got = student.call("cnn_backward", *args)
    text = f"{where('cnn_backward', case)}, random dscores"
    if mismatch(reference.cnn_backward(*args), got, GRADIENTS) is not None:
        check_value("cnn_backward", args, got, text)
    _check_against(numeric, got, GRADIENTS, text)


def _softmax_loss(scores, y):
    """(mean softmax cross-entropy of scores (classes, M) against labels y, its gradient)."""
    shifted = scores - scores.max(axis=0)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=0))
    samples = np.arange(scores.shape[1])
    dscores = np.exp(log_probs)
    dscores[y, samples] -= 1
    return -log_probs[y, samples].mean(), dscores / scores.shape[1]


@grades("cnn_backward", "correctness", f"{STEPS} training steps with your cnn_forward and "
        "cnn_backward follow the reference's and lower the loss", weight=3)
def test_cnn_training_steps(student, seed):
    case = TRAINING_CASE
    x, w1, b1, w2, b2, pad, pool = inputs("cnn_forward", case, seed=seed)
    y = np.random.default_rng([0 if seed is None else seed, case.seed, 9]).integers(0, len(b2), case.M)
    params = [0.3 * w1, 0.1 * b1, 0.3 * w2, 0.1 * b2]
    first = _softmax_loss(reference.cnn_forward(x, *params, pad, pool), y)[0]
    for step in range(1, STEPS + 1):
        text = f"training step {step} of {STEPS} on {where('cnn_forward', case)}"
        scores = student.call("cnn_forward", x, *params, pad, pool)
        check_value("cnn_forward", (x, *params, pad, pool), scores, text)
        dscores = _softmax_loss(scores, y)[1]
        grads = student.call("cnn_backward", dscores, x, *params[:3], pad, pool)
        check_value("cnn_backward", (dscores, x, *params[:3], pad, pool), grads, text)
        params = [p - LEARNING_RATE * g for p, g in zip(params, grads)]
    last = _softmax_loss(reference.cnn_forward(x, *params, pad, pool), y)[0]
    if not last < first:
        raise Failed(f"After {STEPS} steps of gradient descent (learning rate {LEARNING_RATE}) "
                     f"with your gradients on {where('cnn_forward', case)}, the softmax loss went "
                     f"from {first:.4g} to {last:.4g}; it should go down.")


add_generic_tests(globals(), "a6_cnn")
