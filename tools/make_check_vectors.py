"""Regenerate helpers/data/check_vectors.npz, the stored test vectors of the public checks.

    python tools/make_check_vectors.py [--out PATH]

Every expected value comes from autograder.reference on cases of autograder.cases (fixed seeds),
so the file changes only when the reference or the case table does. Next to each expected value
it stores what some known mistakes (COURSE_SPEC §3 ids) would return, obtained by calling the
reference with altered arguments, so helpers.checks can name a student's mistake without
containing any implementation. Keys (all arrays, allow_pickle=False):

    case/<cid>/{x, w, b, f, stride, pad, describe} (+ dout, cols for the backward cases)
    <target>/expected, <target>/mistake/<id>/<n>      n = 0, 1, ... variants of one mistake
      targets: conv_single_step/<cid> (+ x_slice, w_k, b_k), conv_forward/<cid>, im2col/<cid>,
               col2im/<cid> (+ counts: windows covering each pixel, (H, W)),
               conv_backward/<cid>/dx, conv_backward/<cid>/dw, conv_backward/<cid>/db
"""
import argparse
import sys
from pathlib import Path

import numpy as np

from autograder import reference as ref
from autograder.cases import GRID, SEED_CASES

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "helpers" / "data" / "check_vectors.npz"


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
    """Store expected and every mistake variant that differs from it (in shape or value)."""
    out[f"{key}/expected"] = expected
    for mid, variants in mistakes.items():
        kept = [v for v in variants
                if v.shape != expected.shape or not np.allclose(v, expected, rtol=1e-6, atol=1e-8)]
        for n, v in enumerate(kept):
            out[f"{key}/mistake/{mid}/{n}"] = v


def _stride_one_dout(case, dout):
    """dout placed at the first H_out x W_out positions of a stride-1 output (zeros elsewhere):
    the backward pass of a layer that steps its windows by 1 whatever the stride."""
    s1 = case.with_(stride=1)
    big = np.zeros(s1.out_shape)
    big[:case.H_out, :case.W_out] = dout
    return big


def build():
    """All arrays of the check-vector file, as a dict key -> array."""
    out = {}
    for cid, case in CASES.items():
        _, x, w, b, dout, cols = _case_arrays(cid)
        stored = dict(x=x, w=w, b=b, f=np.int64(case.f), stride=np.int64(case.stride),
                      pad=np.int64(case.pad), describe=np.str_(case.describe()))
        if cid in BACKWARD:
            stored.update(dout=dout, cols=cols)
        out.update({f"case/{cid}/{k}": v for k, v in stored.items()})

    # conv_single_step: one window of the lecture's input against its third filter
    case, x, w, b, _, _ = _case_arrays("lecture")
    x_slice, w_k, b_k = x[1:4, 2:5, :, 0], w[2], b[2]
    key = "conv_single_step/lecture"
    out.update({f"{key}/x_slice": x_slice, f"{key}/w_k": w_k, f"{key}/b_k": b_k})
    _target(out, key, np.float64(ref.conv_single_step(x_slice, w_k, b_k)), {
        "true-convolution": [np.float64(ref.conv_single_step(x_slice, w_k[::-1, ::-1], b_k))],
        "missing-bias": [np.float64(ref.conv_single_step(x_slice, w_k, 0.0))],
    })

    for cid in FORWARD:
        case, x, w, b, _, _ = _case_arrays(cid)
        s, p = case.stride, case.pad
        fwd = ref.conv_forward_im2col
        mistakes = {"true-convolution": [fwd(x, w[:, ::-1, ::-1, :], b, s, p)],
                    "missing-bias": [fwd(x, w, np.zeros_like(b), s, p)]}
        if s > 1:   # windows stepped by 1, output sized right (sized wrong, the shape tells)
            mistakes["ignores-stride"] = [fwd(x, w, b, 1, p)[:case.H_out, :case.W_out]]
        _target(out, f"conv_forward/{cid}", fwd(x, w, b, s, p), mistakes)

    for cid in IM2COL:
        case, x, *_ = _case_arrays(cid)
        f, s, p, C, M = case.f, case.stride, case.pad, case.C, case.M
        X = ref.im2col(x, f, s, p)
        by_offset = X.reshape(f, f, C, -1)                          # [u, v, c, q]
        by_position = X.reshape(-1, case.H_out, case.W_out, M)      # [r, i, j, n]
        mistakes = {
            "im2col-row-order": [by_offset.transpose(2, 0, 1, 3).reshape(X.shape),   # (c, u, v)
                                 by_offset.transpose(1, 0, 2, 3).reshape(X.shape)],  # (v, u, c)
            "im2col-column-order": [by_position.transpose(0, 3, 1, 2).reshape(X.shape),  # (n, i, j)
                                    by_position.transpose(0, 2, 1, 3).reshape(X.shape)],  # (j, i, n)
        }
        if s > 1:   # windows stepped by 1, X_col sized right (sized wrong, the shape tells)
            s1 = case.with_(stride=1)
            full = ref.im2col(x, f, 1, p).reshape(-1, s1.H_out, s1.W_out, M)
            mistakes["ignores-stride"] = [full[:, :case.H_out, :case.W_out].reshape(X.shape)]
        _target(out, f"im2col/{cid}", X, mistakes)

    for cid in BACKWARD:
        case, x, w, b, dout, cols = _case_arrays(cid)
        f, s, p = case.f, case.stride, case.pad
        key = f"col2im/{cid}"
        _target(out, key, ref.col2im(cols, case.x_shape, f, s, p), {})
        out[f"{key}/counts"] = ref.col2im(np.ones(case.col_shape), case.x_shape, f, s, p)[:, :, 0, 0]

        bwd = ref.conv_backward_im2col
        dx, dw, db = bwd(dout, x, w, s, p)
        fdx, fdw, _ = bwd(dout, x, w[:, ::-1, ::-1, :], s, p)
        per_sample = [bwd(dout[..., n:n + 1], x[..., n:n + 1], w, s, p) for n in range(case.M)]
        mistakes = {"dx": {"true-convolution": [fdx]},
                    "dw": {"true-convolution": [dw[:, ::-1, ::-1, :]],
                           "grad-last-sample-only": [g[1] for g in per_sample[::-1]]},
                    "db": {"grad-last-sample-only": [g[2] for g in per_sample[::-1]]}}
        if s > 1:
            sdx, sdw, _ = bwd(_stride_one_dout(case, dout), x, w, 1, p)
            mistakes["dx"]["ignores-stride"] = [sdx]
            mistakes["dw"]["ignores-stride"] = [sdw]
        for part, value in zip(("dx", "dw", "db"), (dx, dw, db)):
            _target(out, f"conv_backward/{cid}/{part}", value, mistakes[part])
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
