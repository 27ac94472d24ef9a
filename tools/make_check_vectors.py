"""Regenerate helpers/data/check_vectors.npz, the stored test vectors of the public checks.

    python tools/make_check_vectors.py [--out PATH]

Every expected value comes from autograder.reference on cases of autograder.cases (fixed seeds)
and on the hand-worked layer of helpers.checks, so the file changes only when the reference, the
case table or the hand-worked case does. Next to each expected value it stores what every known
mistake (docs/CONTRACT.md "Known mistakes" ids) of the functions the target's public check
checks would return, taken from autograder.misconceptions (the reference with each mistake
built in), so helpers.checks can name a student's mistake without containing any
implementation. Keys (all arrays, allow_pickle=False):

    case/<cid>/{x, w, b, f, stride, pad, describe} (+ dout, cols for the backward cases)
    <target>/expected, <target>/mistake/<id>/<n>      n = 0, 1, ... variants of one mistake
      targets: conv_single_step/<cid> (+ x_slice, w, b), conv_forward/<cid>, im2col/<cid>,
               col2im/<cid> (+ counts: windows covering each pixel, (H, W)),
               conv_backward/<cid>/dx, conv_backward/<cid>/dw, conv_backward/<cid>/db
      cid "hand": the hand-worked 3x3 layer (conv_forward, conv_backward), and its first window
               with two filters (conv_single_step);
      im2col/hand0, im2col/hand1: check_im2col's hand-worked calls
"""
import argparse
import sys
from pathlib import Path

import numpy as np

from autograder import contract, misconceptions, reference as ref
from autograder.cases import GRID, SEED_CASES
from helpers import checks

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "helpers" / "data" / "check_vectors.npz"
# Variants stored per mistake and target: all five other (u, v, c) orders for im2col, whose
# check teaches them; two elsewhere (the file ships with every student's helpers).
MAX_VARIANTS = {"check_im2col": 5}
OTHER_MAX_VARIANTS = 2


def _pick(predicate):
    """The first case of the case table with the property (fails loudly if the table lost it)."""
    return next(c for c in SEED_CASES + GRID if predicate(c))


# cid -> case. The lecture's layer; an H != W stride-2 pad-1 case with M > 1; a size that does not
# tile with stride 3 and pad 2; a pad-0 stride-1 case with C > 1, M > 1 and overlapping windows.
CASES = {
    "lecture": SEED_CASES[0],
    "s2p1": _pick(lambda c: c.stride == 2 and c.pad == 1 and c.H != c.W and c.M > 1 and c.C > 1),
    "s3p2": _pick(lambda c: c.stride == 3 and c.pad == 2 and not c.tiles and c.M > 1),
    "p0": _pick(lambda c: c.pad == 0 and c.stride == 1 and c.C > 1 and c.M > 1 and c.f > 1),
}
FORWARD = ("lecture", "s2p1", "s3p2")
IM2COL = ("lecture", "s2p1")
BACKWARD = ("s2p1", "p0")


def _case_arrays(cid):
    case = CASES[cid]
    x, w, b = case.arrays()
    cols = np.random.default_rng(case.seed * 1_000_003 + 777).standard_normal(case.col_shape)
    return case, x, w, b, case.dout(), cols


def _target(out, key, expected, mistakes):
    """Store expected and every mistake variant that differs from it (in shape or value, by the
    graders' comparison), the variants in float32: they only name a mistake, and half the bytes
    ship."""
    out[f"{key}/expected"] = expected
    for mid, variants in mistakes.items():
        kept = [v for v in variants if not misconceptions.values_match(v, expected)]
        for n, v in enumerate(kept):
            out[f"{key}/mistake/{mid}/{n}"] = v.astype(np.float32)


def _checked_by(check):
    """The contract functions whose notebook cells call the public check `check`."""
    return [f for f, spec in contract.FUNCTIONS.items() if spec.public_check == check]


def _mistakes(check, args):
    """{id: [values]}: the reference with each known mistake built in (autograder.misconceptions,
    the one table of known mistakes) for one call of every function `check` checks, the same
    value once, at most MAX_VARIANTS of each mistake, in the table's order."""
    limit = MAX_VARIANTS.get(check, OTHER_MAX_VARIANTS)
    out = {}
    for m in misconceptions.TABLE:
        values = []
        for function in _checked_by(check):
            for v in misconceptions.variants(m.id, function, args, {}):
                v = tuple(map(np.asarray, v)) if isinstance(v, tuple) else np.asarray(v)
                if not any(misconceptions.values_match(v, seen) for seen in values):
                    values.append(v)
        if values:
            out[m.id] = values[:limit]
    return out


def _backward_targets(out, cid, args):
    mistakes = _mistakes("check_conv_backward", args)
    for n, (part, value) in enumerate(zip(("dx", "dw", "db"), ref.conv_backward_im2col(*args))):
        _target(out, f"conv_backward/{cid}/{part}", value,
                {mid: [v[n] for v in vs] for mid, vs in mistakes.items()})


def build():
    """All arrays of the check-vector file, as a dict key -> array."""
    out = {}
    # the hand-worked layer of helpers.checks: one window, the layer, the backward pass
    args = checks.hand_worked_step()
    _target(out, "conv_single_step/hand", ref.conv_single_step(*args), _mistakes("check_conv_single_step", args))
    x, w, b = checks.hand_worked_layer()
    args = (x, w, b, 1, 0)
    _target(out, "conv_forward/hand", ref.conv_forward_im2col(*args), _mistakes("check_conv_forward", args))
    dout = np.ones(ref.conv_forward_im2col(*args).shape)
    _backward_targets(out, "hand", (dout, x, w, 1, 0))
    for n, args in enumerate(checks.hand_worked_columns()):
        _target(out, f"im2col/hand{n}", ref.im2col(*args), _mistakes("check_im2col", args))

    for cid, case in CASES.items():
        _, x, w, b, dout, cols = _case_arrays(cid)
        stored = dict(x=x, w=w, b=b, f=np.int64(case.f), stride=np.int64(case.stride),
                      pad=np.int64(case.pad), describe=np.str_(case.describe()))
        if cid in BACKWARD:
            stored.update(dout=dout, cols=cols)
        out.update({f"case/{cid}/{k}": v for k, v in stored.items()})

    # conv_single_step: one window of the lecture's input against all its filters
    case, x, w, b, _, _ = _case_arrays("lecture")
    x_slice = np.ascontiguousarray(x[1:4, 2:5, :, 0])
    key = "conv_single_step/lecture"
    out.update({f"{key}/x_slice": x_slice, f"{key}/w": w, f"{key}/b": b})
    args = (x_slice, w, b)
    _target(out, key, ref.conv_single_step(*args), _mistakes("check_conv_single_step", args))

    for cid in FORWARD:
        case, x, w, b, _, _ = _case_arrays(cid)
        args = (x, w, b, case.stride, case.pad)
        _target(out, f"conv_forward/{cid}", ref.conv_forward_im2col(*args), _mistakes("check_conv_forward", args))

    for cid in IM2COL:
        case, x, *_ = _case_arrays(cid)
        args = (x, case.f, case.stride, case.pad)
        _target(out, f"im2col/{cid}", ref.im2col(*args), _mistakes("check_im2col", args))

    for cid in BACKWARD:
        case, x, w, b, dout, cols = _case_arrays(cid)
        f, s, p = case.f, case.stride, case.pad
        key = f"col2im/{cid}"
        args = (cols, case.x_shape, f, s, p)
        _target(out, key, ref.col2im(*args), _mistakes("check_col2im", args))
        out[f"{key}/counts"] = ref.col2im(np.ones(case.col_shape), case.x_shape, f, s, p)[:, :, 0, 0]
        _backward_targets(out, cid, (dout, x, w, s, p))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    args = parser.parse_args(argv)
    arrays = build()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {len(arrays)} arrays to {args.out} ({args.out.stat().st_size / 1024:.1f} kB)")


if __name__ == "__main__":
    sys.exit(main())
