"""Only real answers score (issue 9, item 7): a function that is missing, raises
NotImplementedError or fails every correctness case earns nothing from its contract, robustness
or static tests; a complex result of a real layer is wrong; a library convolution is refused
however the source reaches it, without flagging honest answers; and a blocked import tells the
student "library convolution is not allowed", not "defines no function"."""
import importlib
import inspect
from pathlib import Path

import numpy as np
import pytest

from autograder import contract, reference, runner
from autograder.extract import load_submission
from autograder.graders import library_convolutions
from autograder.sandbox import SandboxStudent
from autograder.student import InProcessStudent

REPO = Path(__file__).resolve().parent.parent
ANSWERS = Path(__file__).resolve().parent / "student_answers"
# Answer modules that are not honest answers: a library convolution, answers that are not
# source a student would write (a cache over the test answers, cell text for a later cell).
NOT_HONEST = {"mistake_library_convolution", "memo_by_content", "lookup_table", "__init__"}
EARNS_ONLY_WITH_A_RIGHT_ANSWER = ("contract", "robustness", "timing", "memory")


def empty_notebook():
    """Every contract function present, each raising NotImplementedError (the template)."""
    lines = []
    for name in reference.__all__:
        params = ", ".join(inspect.signature(getattr(reference, name)).parameters)
        lines.append(f"def {name}({params}):\n    raise NotImplementedError\n")
    return "\n\n".join(lines)


def student_from(source):
    namespace = {}
    exec(compile(source, "<cell>", "exec"), namespace)
    return InProcessStudent(namespace, source=source)


@pytest.mark.parametrize("assignment", list(contract.ASSIGNMENTS))
def test_an_empty_notebook_scores_zero_in_every_assignment(assignment):
    outcomes = runner.run_graders(assignment, student_from(empty_notebook()))
    assert runner.score_summary(outcomes)["score"] == 0
    assert all(o.status == "failed" for o in outcomes)
    static = [o for o in outcomes if o.name.endswith("uses no library convolution")]
    assert static, "every assignment has a static test"
    for o in static:
        assert f"earns no points until `{o.function}` returns a correct result" in o.output


def _zeros_answer():
    """Every array function of a3/a4 returning zeros of the right shape and dtype, raising
    ValueError on bad input and never touching its inputs: right in everything but the values."""
    def sizes(x_shape, f, s, p):
        return ((x_shape[0] + 2 * p - f) // s + 1, (x_shape[1] + 2 * p - f) // s + 1)

    def im2col(x, f, stride=1, pad=0):
        H_out, W_out = sizes(x.shape, f, stride, pad)
        if f > min(x.shape[:2]) + 2 * pad:
            raise ValueError("the filter does not fit")
        return np.zeros((f * f * x.shape[2], H_out * W_out * x.shape[3]), dtype=x.dtype)

    def conv_forward_im2col(x, w, b, stride=1, pad=0):
        if x.shape[2] != w.shape[3] or w.shape[1] > min(x.shape[:2]) + 2 * pad:
            raise ValueError("bad sizes")
        return np.zeros((*sizes(x.shape, w.shape[1], stride, pad), w.shape[0], x.shape[3]), x.dtype)

    return InProcessStudent({"im2col": im2col, "conv_forward_im2col": conv_forward_im2col},
                            source=inspect.getsource(_zeros_answer))


def test_a_function_returning_zeros_earns_nothing_from_contract_robustness_or_static_tests():
    outcomes = runner.run_graders("a3_im2col", _zeros_answer())
    gated = [o for o in outcomes if o.kind in EARNS_ONLY_WITH_A_RIGHT_ANSWER]
    assert {o.kind for o in gated} >= {"contract", "robustness", "timing", "memory"}
    assert all(o.score == 0 and o.status == "failed" for o in gated)
    assert runner.score_summary(outcomes)["score"] == 0
    untouched = next(o for o in gated if o.name == "im2col: does not modify x")
    assert untouched.output.startswith("This check passed, but it earns no points until `im2col` "
                                   "returns a correct result on at least one case.")


def test_one_right_case_unlocks_the_other_tests_of_that_function():
    def zero_pad(x, pad):           # right only where pad is 0 (GRID[0] among the hidden cases)
        return x.copy() if pad == 0 else np.zeros(
            (x.shape[0] + 2 * pad, x.shape[1] + 2 * pad) + x.shape[2:], x.dtype)
    outcomes = runner.run_graders("a1_naive", InProcessStudent({"zero_pad": zero_pad}),
                                  functions=["zero_pad"], include_public=False)
    correctness = [o.status for o in outcomes if o.kind == "correctness"]
    assert "passed" in correctness and "failed" in correctness
    untouched = next(o for o in outcomes if o.name == "zero_pad: does not modify x")
    assert untouched.status == "passed" and untouched.score > 0


def test_a_complex_result_fails_even_when_its_real_part_is_right():
    def conv_forward_fft(x, w, b, stride=1, pad=0):
        return reference.conv_forward_fft(x, w, b, stride, pad).astype(np.complex128)
    outcomes = runner.run_graders("a5_fft", InProcessStudent({"conv_forward_fft": conv_forward_fft}),
                                  include_public=False)
    correctness = [o for o in outcomes if o.kind == "correctness"]
    assert correctness and all(o.status == "failed" for o in correctness)
    assert "complex128 (complex)" in correctness[0].output
    assert "a real layer returns a real result" in correctness[0].output
    assert runner.score_summary(outcomes)["score"] == 0


def test_a_complex_gradient_fails_the_numerical_gradient_and_adjoint_tests():
    def col2im(X_col, x_shape, f, stride=1, pad=0):
        return reference.col2im(X_col, x_shape, f, stride, pad) + 0j

    def conv_backward_im2col(dout, x, w, stride=1, pad=0):
        return tuple(g + 0j for g in reference.conv_backward_im2col(dout, x, w, stride, pad))
    outcomes = runner.run_graders("a4_backward", InProcessStudent(
        {"col2im": col2im, "conv_backward_im2col": conv_backward_im2col}),
        functions=["col2im", "conv_backward_im2col"], include_public=False)
    for o in outcomes:
        assert o.status == "failed", o.name
    adjoint = [o for o in outcomes if "adjoint" in o.name]
    numerical = [o for o in outcomes if "numerical" in o.name]
    assert adjoint and numerical
    assert all("complex" in o.output for o in adjoint + numerical)


# --------------------------------------------------------------------------- the static check
BYPASSES = {
    "getattr with a concatenated name":
        "import numpy as np\ndef f(x):\n    return getattr(np, 'con' + 'volve')(x, x)\n",
    "getattr with an f-string":
        "import numpy as np\ndef f(x):\n    v = 'volve'\n    return getattr(np, f'con{v}')(x, x)\n",
    "a name assigned at the top, used in the function":
        "import numpy as np\nNAME = 'corre' + 'late'\ndef f(x):\n    return getattr(np, NAME)(x, x)\n",
    "str.join of pieces":
        "import numpy as np\ndef f(x):\n    return getattr(np, ''.join(['cor', 'relate']))(x, x)\n",
    "a reversed string":
        "import numpy as np\ndef f(x):\n    return getattr(np, 'evlovnoc'[::-1])(x, x)\n",
    "getattr with a computed name":
        "import numpy as np\ndef f(x, name):\n    return getattr(np, name)(x, x)\n",
    "__getattribute__":
        "import numpy as np\ndef f(x):\n    return np.__getattribute__('con' 'volve')(x, x)\n",
    "vars() of numpy":
        "import numpy as np\ndef f(x):\n    return vars(np)['conv' + 'olve'](x, x)\n",
    "__dict__ of numpy":
        "import numpy\ndef f(x):\n    return numpy.__dict__['correl' + 'ate'](x, x)\n",
    "numpy's internal module":
        "from numpy._core._multiarray_umath import correlate2\ndef f(x):\n    return correlate2(x, x)\n",
    "numpy.core.multiarray":
        "import numpy.core.multiarray as m\ndef f(x):\n    return m.correlate(x, x)\n",
    "importlib.import_module of an internal path":
        "import importlib\ndef f(x):\n    m = importlib.import_module('numpy._core.multiarray')\n"
        "    return m.correlate(x, x)\n",
    "importlib.import_module of a banned module":
        "import importlib\nsig = importlib.import_module('scipy.' + 'signal')\n"
        "def f(x):\n    return sig.correlate(x, x)\n",
    "__import__ of a computed name":
        "def f(x, name):\n    return __import__(name).ndimage.correlate(x, x)\n",
    "removing the import blocker":
        "import sys\nsys.meta_path.clear()\nimport numpy as np\ndef f(x):\n    return np.dot(x, x)\n",
    "gc.get_objects":
        "import gc\ndef f(x):\n    fn = [o for o in gc.get_objects() if getattr(o, '__name__', '') == 'g'][0]\n"
        "    return fn(x)\n",
    "a library function kept under a top-level name":
        "import numpy as np\nconv = np.convolve\ndef f(x):\n    return conv(x, x)\n",
}


@pytest.mark.parametrize("source", list(BYPASSES.values()), ids=list(BYPASSES))
def test_each_way_around_the_static_check_is_caught(source):
    assert library_convolutions(source, "f"), source


def _honest_sources():
    """Every honest answer the project holds: the answer modules, the reference, the example
    submissions, the solutions and the students' templates."""
    sources = {p.stem: p.read_text() for p in ANSWERS.glob("*.py") if p.stem not in NOT_HONEST}
    sources["reference"] = Path(reference.__file__).read_text()
    for pattern in ("examples/submissions/*/*/*.ipynb", "solutions/*/*.ipynb", "notebooks/*/*.ipynb"):
        for path in sorted(REPO.glob(pattern)):
            cells = load_submission(path).cells
            sources[str(path.relative_to(REPO))] = "\n\n".join(c.source for c in cells)
    return sources


def test_honest_answers_stay_clean():
    sources = _honest_sources()
    assert len(sources) > 20
    flagged = {(name, f): used for name, source in sources.items() for f in reference.__all__
               if (used := library_convolutions(source, f))}
    # bob's conv_forward_fft is the example of a library convolution
    assert set(flagged) <= {(k, "conv_forward_fft") for k in sources if "bob" in k}, flagged


def test_the_library_convolution_answer_is_still_caught():
    module = importlib.import_module("student_answers.mistake_library_convolution")
    assert library_convolutions(Path(module.__file__).read_text(), "conv_single_step") == ["numpy.correlate"]


# --------------------------------------------------------------------------- blocked imports
BLOCKED_CELL = ("import numpy as np\nfrom scipy.signal import correlate\n\n"
                "def conv_single_step(x_slice, w, b):\n"
                "    return np.array([correlate(x_slice, filt, 'valid').sum() for filt in w]) + b\n")
HONEST_CELL = ("import numpy as np\n\n"
               "def conv_forward_partial(x, w, b, stride=1, pad=0):\n    raise NotImplementedError\n")


def test_a_blocked_import_says_library_convolution_is_not_allowed():
    with SandboxStudent([BLOCKED_CELL, HONEST_CELL], name="blocked") as student:
        assert student.load_report.errors and not student.has("conv_single_step")
        outcomes = runner.run_graders("a2_partial", student, include_public=False)
    blocked = [o for o in outcomes if o.function == "conv_single_step"]
    assert blocked and all(o.score == 0 for o in blocked)
    for o in blocked:
        assert "library convolution is not allowed" in o.output, o.output
        assert "defines no function" not in o.output
        assert o.misconception == "library-convolution"
        assert "misconception:library-convolution" in o.tags
    # the other function, defined in a cell that ran, is just missing-in-effect (wrong), not blocked
    others = [o for o in outcomes if o.function == "conv_forward_partial"]
    assert others and not any(o.misconception == "library-convolution" for o in others)
