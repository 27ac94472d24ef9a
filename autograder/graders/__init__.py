"""The checks the hidden graders are written with.

Every grader module (test_<assignment>.py) holds the tests generated from the contract
(autograder.graders.generic, from the entries of autograder.contract) and the short pytest tests
special to its assignment, each marked with @grades(...) and calling one of the checks below on
the `student` fixture. A check calls the student's function, compares with
autograder.reference, and raises `Failed` with a message for the student (the case tried, what
was expected, what came, and the hint of a recognised mistake) when the answer is wrong.
Messages never quote grader code.

Arguments are built from a case (autograder.cases) by `inputs(function, case, seed=...)` (each
function's builder is in its contract entry), always in the contract's positional order, e.g.
(x, w, b, stride, pad) for a forward layer. Every check that draws numbers takes the run's
`seed` (the `seed` fixture, autograder.runner.run_graders): a grading run draws a fresh one, so
the hidden numbers (correctness, timing and memory cases alike) cannot be looked up in advance;
None means the published numbers of the case table.
"""
import ast
import math
import re

import numpy as np

from autograder import config, misconceptions, reference
from autograder.contract import inputs, spec, where
from autograder.grading import Failed, note
from autograder.student import MissingFunction, StudentException
from autograder.student_rules import FORBIDDEN_LIBRARIES
from autograder.timing import check_time_ratio, peak_memory
from helpers.gradcheck import numerical_gradient

# --------------------------------------------------------------------------- comparing
def _describe(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} ({value.dtype})"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    return f"{value!r} ({type(value).__name__})"


KIND_NAMES = {"f": "real floating-point", "c": "complex", "i": "integer", "u": "unsigned integer",
              "b": "boolean"}


def kind_mismatch(expected, got, name):
    """A sentence when `got` is an array of another kind (float, complex, int) than `expected`,
    e.g. a complex result of a real layer whose real part is right; else None."""
    if not (isinstance(expected, np.ndarray) and isinstance(got, np.ndarray)):
        return None
    if got.dtype.kind == expected.dtype.kind:
        return None
    return (f"{name} has dtype {got.dtype} ({KIND_NAMES.get(got.dtype.kind, got.dtype.kind)}) where "
            f"a {KIND_NAMES.get(expected.dtype.kind, expected.dtype.kind)} array of dtype "
            f"{expected.dtype} (the dtype of the inputs) was expected; a real layer returns a real "
            f"result even when its values are right (take the real part, e.g. np.fft.irfft2, and "
            f"cast to x.dtype)")


def mismatch(expected, got, name):
    """None when `got` matches `expected`; else a sentence saying how it differs."""
    if isinstance(name, tuple):
        if not isinstance(got, tuple) or len(got) != len(name):
            return f"expected a tuple {', '.join(name)}; got {_describe(got)}"
        problems = [mismatch(e, g, n) for e, g, n in zip(expected, got, name)]
        problems = [p for p in problems if p]
        return "; ".join(problems) or None
    kind = kind_mismatch(expected, got, name)
    if kind:
        return kind
    if misconceptions.values_match(got, expected):
        return None
    if isinstance(expected, np.ndarray):
        if not isinstance(got, np.ndarray):
            return f"{name} should be an array of shape {expected.shape}; got {_describe(got)}"
        if got.shape != expected.shape:
            return f"{name} should have shape {expected.shape}; got shape {got.shape}"
        if got.dtype != expected.dtype:
            return (f"{name} has dtype {got.dtype} where {expected.dtype} (the dtype of the "
                    f"inputs) was expected, and its values differ")
        err = np.abs(got.astype(np.float64) - expected)
        err[np.isnan(err)] = np.inf
        at = np.unravel_index(int(np.argmax(err)), err.shape)
        around = _along_last_axis(expected, got, at, name)
        return (f"{name} has the right shape {expected.shape} but differs from the expected values "
                f"by up to {float(err[at]):.3g} (largest at {name}[{', '.join(map(str, at))}]: "
                f"expected {expected[at]:.6g}, got {got[at]:.6g}{around})")
    return f"{name} should be {expected!r}; got {_describe(got)}"


def _values(a):
    """A 1-d array's values as "[1, 2.5, nan]"."""
    return "[" + ", ".join(f"{v:.6g}" for v in a) + "]"


def _along_last_axis(expected, got, at, name, n=5):
    """Text showing up to `n` values of both arrays (same shape) along their last axis around
    index tuple `at`, e.g. "; out[1, 0, 2, 0:3]: expected [...], got [...]"; "" when that axis
    holds a single value (already shown)."""
    size = expected.shape[-1] if expected.ndim else 1
    if size <= 1:
        return ""
    start = max(0, min(at[-1] - n // 2, size - n))
    stop = min(size, start + n)
    row = at[:-1] + (slice(start, stop),)
    index = ", ".join([*map(str, at[:-1]), f"{start}:{stop}"])
    return f"; {name}[{index}]: expected {_values(expected[row])}, got {_values(got[row])}"


def diagnosis_text(misconception_id):
    m = misconceptions.get(misconception_id)
    return f" This looks like a known mistake: {m.description}. Hint: {m.hint}."


def check_value(function, args, got, case_text):
    """Raise Failed (with a diagnosed mistake when one explains it) unless `got` is right."""
    problem = mismatch(misconceptions.expected(function, args, {}), got, spec(function).result)
    if problem is None:
        return
    size = sum(np.size(a) for a in args if isinstance(a, np.ndarray))
    mistake = misconceptions.diagnose(function, args, {}, got) if size <= config.DIAGNOSE_MAX_INPUT else None
    raise Failed(f"On {case_text}: {problem}." + (diagnosis_text(mistake) if mistake else ""),
                 misconception=mistake)


def check_matches(student, function, case, seed, dtype=np.float64):
    """The student's value equals the reference's on `case` (numbers from the run's `seed`)."""
    args = inputs(function, case, dtype, seed=seed)
    check_value(function, args, student.call(function, *args), where(function, case))


def check_call_matches(student, function, args, case_text):
    """Like check_matches, for arguments built by the test itself."""
    check_value(function, args, student.call(function, *args), case_text)


# --------------------------------------------------------------------------- contract
def _arrays(value):
    return [v for v in (value if isinstance(value, tuple) else (value,)) if isinstance(v, np.ndarray)]


def check_keeps_dtype(student, function, case, seed, dtype=np.float32):
    """float32 in, float32 out (every returned array), with values close to the reference's."""
    args = inputs(function, case, dtype, seed=seed)
    got = student.call(function, *args)
    wrong = [a.dtype for a in _arrays(got) if a.dtype != dtype]
    if wrong or not _arrays(got):
        raise Failed(f"On {where(function, case)} with {np.dtype(dtype).name} inputs, the result "
                     f"should be {np.dtype(dtype).name} too (the dtype of x); got "
                     f"{', '.join(str(d) for d in wrong) or _describe(got)}. Build results with "
                     "dtype=x.dtype (np.zeros(..., dtype=x.dtype)) or cast at the end.")
    check_value(function, args, got, f"{where(function, case)} ({np.dtype(dtype).name})")


def check_not_mutated(student, function, case, seed):
    """The function leaves its array arguments unchanged."""
    args = inputs(function, case, seed=seed)
    result = student.call_full(function, *args)
    names = spec(function).parameters
    changed = [n for n, before, after in zip(names, args, result.args_after)
               if isinstance(before, np.ndarray)
               and not (isinstance(after, np.ndarray) and after.shape == before.shape
                        and np.array_equal(after, before, equal_nan=True))]
    if changed:
        raise Failed(f"On {where(function, case)}, the function changed its input "
                     f"{', '.join(changed)}." + diagnosis_text("mutates-input"),
                     misconception="mutates-input")


def check_value_error(student, function, args, what):
    """The call raises ValueError (e.g. a filter that does not fit, a channel mismatch)."""
    try:
        got = student.call(function, *args)
    except StudentException as e:
        if e.exc_type == "ValueError":
            return
        raise Failed(f"With {what}, the function should raise ValueError naming the sizes; it "
                     f"raised {e.exc_type}: {e.message}") from None
    raise Failed(f"With {what}, the function should raise ValueError naming the sizes (no "
                 f"output position exists or the shapes disagree); it returned {_describe(got)}.")


# --------------------------------------------------------------------------- library convolutions
BANNED = FORBIDDEN_LIBRARIES


def _banned(qualified):
    return next((b for b in BANNED if qualified == b or qualified.startswith(b + ".")), None)


def _parse(source):
    """The module's AST; lines of IPython magic or shell escapes are blanked first."""
    lines = source.splitlines()
    try:
        return ast.parse(source)
    except SyntaxError:
        cleaned = "\n".join("" if re.match(r"\s*[%!]", line) else line for line in lines)
        return ast.parse(cleaned)


def _aliases(tree):
    """Every imported name -> the fully qualified name it stands for."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    names[a.asname] = a.name
                else:
                    names[a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def _dotted(node):
    """'a.b.c' of an attribute chain on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id] + parts[::-1])
    return None


# Ways to reach a library convolution that no import names: run-time names, internals, the
# import machinery and the garbage collector.
CONVOLUTION_NAME = re.compile(r"convolve|correlate", re.IGNORECASE)
INTERNAL_MODULE = re.compile(r"(numpy|scipy)(\.core|(\.\w+)*\._\w*)(\.|$)")
IMPORT_MACHINERY = {"meta_path": "sys.meta_path", "path_hooks": "sys.path_hooks",
                    "get_objects": "gc.get_objects", "get_referrers": "gc.get_referrers",
                    "get_referents": "gc.get_referents"}
DYNAMIC_LOOKUPS = ("getattr", "vars", "__getattribute__", "__dict__")
IMPORTERS = ("import_module", "__import__")


def _int(node):
    """The int of an integer constant node (-1 too), else "?" (not a slice bound)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _int(node.operand)
        return -value if type(value) is int else "?"
    value = getattr(node, "value", "?")
    return value if type(value) is int else "?"


def _fold(node, consts):
    """The text of a string expression built from constants ("con" + "volve", f-strings,
    "".join([...]), s[::-1], names assigned such strings), or None."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.Name):
        return consts.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _fold(node.left, consts), _fold(node.right, consts)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.JoinedStr):
        parts = [_fold(v.value if isinstance(v, ast.FormattedValue) else v, consts)
                 for v in node.values]
        return None if None in parts else "".join(parts)
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
        text = _fold(node.value, consts)
        bounds = [None if b is None else _int(b)
                  for b in (node.slice.lower, node.slice.upper, node.slice.step)]
        if text is None or not all(b is None or type(b) is int for b in bounds):
            return None
        return text[slice(*bounds)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        text = _fold(node.func.value, consts)
        if text is not None and node.func.attr == "join" and len(node.args) == 1 \
                and isinstance(node.args[0], (ast.List, ast.Tuple)):
            parts = [_fold(e, consts) for e in node.args[0].elts]
            return None if None in parts else text.join(parts)
        if text is not None and node.func.attr in ("lower", "upper", "strip") and not node.args:
            return getattr(text, node.func.attr)()
    return None


def _string_constants(tree):
    """Names assigned a string built from constants anywhere in `tree` -> that string."""
    consts = {}
    for _ in range(3):          # a few rounds: names built from names
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                    and isinstance(node.targets[0], ast.Name):
                text = _fold(node.value, consts)
                if text is not None:
                    consts[node.targets[0].id] = text
    return consts


def _module_path(text):
    """Why importing the module named `text` is refused, or None."""
    if _banned(text):
        return _banned(text)
    if INTERNAL_MODULE.match(text):
        return f"numpy/scipy internals ({text})"
    return None


def _is_module(node, aliases):
    """True for a name standing for numpy, scipy, torch or jax (or a module inside them)."""
    return isinstance(node, ast.Name) and \
        aliases.get(node.id, "").split(".")[0] in ("numpy", "scipy", "torch", "jax")


def _bypasses(node, aliases, consts, docstrings):
    """What in `node` itself reaches a library convolution without naming it in an import."""
    found = set()
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        mods = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
        found.update(f"numpy/scipy internals ({m})" for m in mods if INTERNAL_MODULE.match(m))
        names = [a.name for a in node.names]
        found.update(IMPORT_MACHINERY[n] for n in names if n in IMPORT_MACHINERY)
    elif isinstance(node, ast.Attribute) and node.attr in IMPORT_MACHINERY:
        found.add(IMPORT_MACHINERY[node.attr])
    elif isinstance(node, ast.Attribute) and node.attr in DYNAMIC_LOOKUPS \
            and _is_module(node.value, aliases):
        found.add(f"a run-time lookup in the module {aliases[node.value.id]} ({node.attr})")
    elif isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        first = node.args[0] if node.args else None
        if name in IMPORTERS and first is not None:
            text = _fold(first, consts)
            why = _module_path(text) if text is not None else "a module imported by a computed name"
            if why:
                found.add(why)
        elif name in ("getattr", "vars") and first is not None and _is_module(first, aliases) \
                and (name == "vars" or len(node.args) < 2 or _fold(node.args[1], consts) is None):
            found.add(f"a run-time lookup in the module {aliases[first.id]} ({name})")
    if isinstance(node, (ast.Constant, ast.BinOp, ast.JoinedStr, ast.Subscript, ast.Call)) \
            and id(node) not in docstrings:
        text = _fold(node, consts)
        if text and re.fullmatch(r"[\w.]+", text.strip()) and CONVOLUTION_NAME.search(text) \
                and not (isinstance(node, ast.Constant) and _banned(text)):
            found.add(f"a library convolution reached by its name at run time ({text.strip()!r})")
    return found


def _uses_in(node, ctx, definitions, seen):
    """Banned modules (and bypasses) reached from `node`, following calls to the submission's
    own functions and module-level names."""
    aliases, consts, docstrings = ctx
    found = set()
    for sub in ast.walk(node):
        found |= _bypasses(sub, aliases, consts, docstrings)
        if isinstance(sub, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in sub.names] if isinstance(sub, ast.Import) else \
                [f"{sub.module}.{a.name}" for a in sub.names if sub.module]
            found.update(filter(None, map(_banned, mods)))
        elif isinstance(sub, (ast.Attribute, ast.Name)):
            dotted = _dotted(sub)
            if dotted:
                head, _, rest = dotted.partition(".")
                qualified = aliases.get(head, head) + (f".{rest}" if rest else "")
                if head in aliases and _banned(qualified):
                    found.add(_banned(qualified))
            if isinstance(sub, ast.Name) and sub.id in definitions and sub.id not in seen:
                seen.add(sub.id)
                for definition in definitions[sub.id]:
                    found |= _uses_in(definition, ctx, definitions, seen)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            found.update(b for b in BANNED if re.search(rf"\b{re.escape(b)}\b", sub.value))
    return found


def _definitions(tree):
    """Every name the submission defines -> the nodes defining it: functions anywhere, and
    module-level assignments (`conv = np.convolve`)."""
    found = {}
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.setdefault(n.name, []).append(n)
    for stmt in tree.body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for t in targets:
                for name in ast.walk(t):
                    if isinstance(name, ast.Name):
                        found.setdefault(name.id, []).append(stmt)
    return found


def _docstrings(tree):
    """ids of the string constants that stand alone as statements (docstrings, notes)."""
    return {id(n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}


def library_convolutions(source, function):
    """The banned libraries `function` (or a function or module-level name it uses) reaches,
    according to `source`, and the ways around an import it takes: names of convolutions built
    at run time (getattr, vars, __dict__, string concatenation, f-strings), imports of numpy's
    internals or by computed names, the import machinery (sys.meta_path) and gc.get_objects.
    Such a bypass anywhere at the top level of the source counts for every function.

    When the source holds no definition of `function`, every banned library imported anywhere
    counts. Unparseable source is searched as text.
    """
    try:
        tree = _parse(source)
    except SyntaxError:
        return sorted(b for b in BANNED if re.search(rf"\b{re.escape(b)}\b", source))
    definitions = _definitions(tree)
    ctx = (_aliases(tree), _string_constants(tree), _docstrings(tree))
    functions = {n for n, nodes in definitions.items()
                 if any(isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef)) for d in nodes)}
    if function not in functions:
        return sorted(_uses_in(tree, ctx, {}, set()))
    top_level = set()
    for stmt in tree.body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for sub in ast.walk(stmt):
                top_level |= _bypasses(sub, *ctx)
    return sorted(top_level | _uses_in(ast.Module(body=[d for d in definitions[function]
                                                        if not isinstance(d, ast.Assign)],
                                                  type_ignores=[]),
                                       ctx, definitions, {function}))


def check_no_library_convolution(student, function):
    """The function (and the submission's functions it calls) uses no library convolution."""
    if not student.has(function):
        raise MissingFunction(f"the submission defines no function `{function}`")
    used = library_convolutions(student.source or "", function)
    if used:
        raise Failed(f"`{function}` uses {', '.join(used)}." + diagnosis_text("library-convolution"),
                     misconception="library-convolution")


# --------------------------------------------------------------------------- gradients
def numerical_gradients(case, dout, seed=None, h=1e-6):
    """Central differences of sum(out * dout) for the reference layer at the x, w, b of `case`
    drawn from `seed` (None: the published numbers): (dx, dw, db)."""
    x, w, b = case.arrays(run_seed=seed)
    return tuple(numerical_gradient(
        lambda _: reference.conv_forward_im2col(x, w, b, case.stride, case.pad), p, dout, h)
        for p in (x, w, b))


def check_numerical_gradient(student, function, case, seed):
    """(dx, dw, db) equal central differences of the forward layer's sum(out * dout)."""
    args = inputs(function, case, seed=seed)
    dout = args[0]
    got = student.call(function, *args)
    numeric = numerical_gradients(case, dout, seed)
    if not (isinstance(got, tuple) and len(got) == 3
            and all(isinstance(g, np.ndarray) and g.shape == n.shape for g, n in zip(got, numeric))):
        check_value(function, args, got, f"{case.describe()}, with a random dout")
    kinds = [p for p in map(kind_mismatch, numeric, got, spec(function).result) if p]
    if kinds:
        raise Failed(f"On {case.describe()}, with a random dout: {'; '.join(kinds)}.")
    for name, g, n in zip(spec(function).result, got, numeric):
        err = float(np.max(np.abs(g - n))) if n.size else 0.0
        if not err <= 1e-6 * max(1.0, float(np.max(np.abs(n)))):
            mistake = misconceptions.diagnose(function, args, {}, got)
            raise Failed(f"On {case.describe()}, with a random dout: {name} differs from the "
                         f"numerical gradient of the layer by up to {err:.3g}."
                         + (diagnosis_text(mistake) if mistake else ""), misconception=mistake)


def check_adjoint(student, case, seed, trials=2):
    """<im2col(x), Y> == <x, col2im(Y)> with the reference im2col, for random x and Y."""
    for t in range(trials):
        x = case.arrays(seed_offset=t, run_seed=seed)[0]
        args = inputs("col2im", case, seed_offset=t, seed=seed)
        got = student.call("col2im", *args)
        lhs = float(np.sum(reference.im2col(x, case.f, case.stride, case.pad) * args[0]))
        kind = kind_mismatch(x, got, "the result")
        if kind:
            problem = kind
        elif isinstance(got, np.ndarray) and got.shape == case.x_shape:
            rhs = float(np.sum(x * got))
            if math.isclose(lhs, rhs, rel_tol=1e-9, abs_tol=1e-9 * max(1.0, abs(lhs))):
                continue
            problem = f"<im2col(x), Y> = {lhs:.10g} but <x, col2im(Y)> = {rhs:.10g}"
        else:
            problem = f"the result should have the shape of x, {case.x_shape}; got {_describe(got)}"
        mistake = misconceptions.diagnose("col2im", args, {}, got)
        raise Failed(f"On {where('col2im', case)}, col2im must be the adjoint of im2col: {problem}."
                     + (diagnosis_text(mistake) if mistake else ""), misconception=mistake)


# --------------------------------------------------------------------------- public checks
def proxy(student, name):
    """A plain function calling the student's `name`, for the notebooks' public checks."""
    def call(*args, **kwargs):
        return student.call(name, *args, **kwargs)
    call.__name__ = call.__qualname__ = name
    return call


def run_public_check(student, check_name, *functions):
    """Run helpers.checks.<check_name> on the student's functions (or the reference's, for a
    given function such as im2col in check_col2im, named as `reference.<name>`)."""
    from helpers import checks   # imported when used: it ships to students and prints
    fns = [getattr(reference, f.split(".", 1)[1]) if f.startswith("reference.") else proxy(student, f)
           for f in functions]
    getattr(checks, check_name)(*fns)


# --------------------------------------------------------------------------- timing, memory
def timed_cases_text(function):
    """The cases `function` is timed on, in words (test names show them)."""
    return " and on ".join(case.describe() for case in spec(function).timing.cases)


def check_speed(student, reference_student, function, seed):
    """Best-of-repeats time of student.`function` <= its contract's max_ratio * the time of its
    reference function on every timed case, with fresh inputs (from the run's `seed`) every
    repeat and every output checked. The first case over the limit fails the test."""
    timing = spec(function).timing
    for case in timing.cases:
        def check(args, got, expected, case=case):
            problem = mismatch(expected, got, spec(function).result)
            if problem:
                raise Failed(f"On {where(function, case)} (a timed run with new random inputs): "
                             f"{problem}. A fast answer must also be right.")

        check_time_ratio(student, reference_student, function,
                         lambda k, case=case: inputs(function, case, seed_offset=k, seed=seed),
                         where(function, case), max_ratio=timing.max_ratio,
                         reference_function=timing.reference_function,
                         reference_label=timing.reference_label, check=check, hint=timing.hint)


def check_memory(student, function, seed):
    """Peak extra memory of one call <= its contract's factor * the bytes of its X_col, on its
    contract's memory case."""
    case, factor = spec(function).memory.case, spec(function).memory.factor
    args = inputs(function, case, seed=seed)
    result, peak = peak_memory(student, function, args)
    check_value(function, args, result.value, where(function, case))
    x_col = case.col_shape[0] * case.col_shape[1] * args[0].itemsize
    note(f"On {where(function, case)}: peak extra memory {peak / 2**20:.1f} MiB, "
         f"{peak / x_col:.2f}x its X_col of {x_col / 2**20:.1f} MiB (at most {factor:g}x allowed).")
    if peak > factor * x_col:
        raise Failed(f"On {where(function, case)}: the call needed {peak / 2**20:.1f} MiB of extra "
                     f"memory at its peak, {peak / x_col:.1f}x the {x_col / 2**20:.1f} MiB of its "
                     f"X_col; at most {factor:g}x is allowed. Avoid intermediate arrays bigger "
                     "than X_col (e.g. a broadcast product of all windows with all filters).")
