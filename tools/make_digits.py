"""Build helpers/data/digits.npz, the data set of assignment 6, from a scikit-learn wheel.

    python -m tools.make_digits WHEEL            # writes helpers/data/digits.npz
    python -m tools.make_digits WHEEL --check    # exit 1 if the shipped file differs

The UCI handwritten digits (1,797 images of 8 x 8 pixels, integer values 0..16, ten classes) are
the file `sklearn/datasets/data/digits.csv.gz` inside any scikit-learn wheel (a zip): one line per
image, 64 pixel values row by row, then the label. Nothing is installed; the wheel is only read.
The images are stored in the course's layout, the batch last: x (8, 8, 1, M), uint8, with int64
labels y (M,). A fixed, stratified split keeps TEST_FRACTION of every class for testing, chosen
by a generator seeded with SPLIT_SEED, so every student trains and tests on the same images.
helpers/data/DIGITS_LICENSE.md says where the data comes from, its licence and this recipe.
"""
import argparse
import gzip
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "helpers" / "data" / "digits.npz"
MEMBER = "sklearn/datasets/data/digits.csv.gz"
SIDE = 8                # pixels per row and per column
LEVELS = 16             # pixel values run from 0 to LEVELS
CLASSES = 10
TEST_FRACTION = 0.2
SPLIT_SEED = 0


def read_wheel(wheel):
    """(images (M, 8, 8) uint8, labels (M,) int64, sha256 of the csv.gz) from the wheel."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            raw = zf.read(MEMBER)
    except (OSError, zipfile.BadZipFile) as e:
        raise ValueError(f"cannot read {wheel}: {e}") from None
    except KeyError:
        raise ValueError(f"{wheel} has no {MEMBER}: is it a scikit-learn wheel?") from None
    table = np.loadtxt(io.StringIO(gzip.decompress(raw).decode("ascii")), delimiter=",")
    if table.ndim != 2 or table.shape[1] != SIDE * SIDE + 1:
        raise ValueError(f"{MEMBER} should have {SIDE * SIDE + 1} columns (64 pixels and the "
                         f"label), has shape {table.shape}")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > LEVELS or set(np.unique(labels)) != set(range(CLASSES)):
        raise ValueError(f"{MEMBER}: pixels should lie in 0..{LEVELS} and labels be 0..9")
    images = pixels.astype(np.uint8).reshape(-1, SIDE, SIDE)
    return images, labels.astype(np.int64), hashlib.sha256(raw).hexdigest()


def split(labels, fraction=TEST_FRACTION, seed=SPLIT_SEED):
    """(train indices, test indices), both sorted: `fraction` of every class, rounded, is
    drawn for the test set by a generator seeded with `seed`."""
    rng = np.random.default_rng(seed)
    test = []
    for digit in range(CLASSES):
        members = np.flatnonzero(labels == digit)
        test.extend(rng.permutation(members)[:round(fraction * members.size)])
    test = np.sort(np.array(test))
    return np.setdiff1d(np.arange(labels.size), test), test


def arrays(wheel):
    """The arrays digits.npz holds: x_train, y_train, x_test, y_test in the course's layout
    (x: (8, 8, 1, M) uint8, y: (M,) int64) and `source_sha256`, the hash of the csv.gz."""
    images, labels, sha = read_wheel(wheel)
    train, test = split(labels)
    layout = images.transpose(1, 2, 0)[:, :, None, :]              # (8, 8, 1, M): batch last
    return {"x_train": np.ascontiguousarray(layout[..., train]), "y_train": labels[train],
            "x_test": np.ascontiguousarray(layout[..., test]), "y_test": labels[test],
            "source_sha256": np.array(sha)}


def same(path, data):
    """True when the .npz at `path` holds exactly `data`."""
    if not path.exists():
        return False
    with np.load(path, allow_pickle=False) as stored:
        return (set(stored.files) == set(data)
                and all(stored[k].dtype == v.dtype and np.array_equal(stored[k], v)
                        for k, v in data.items()))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.make_digits",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("wheel", type=Path, help="a scikit-learn wheel (.whl), e.g. from "
                        "`pip download scikit-learn --no-deps`")
    parser.add_argument("--check", action="store_true",
                        help=f"compare {OUT.relative_to(ROOT)} with what would be written")
    args = parser.parse_args(argv)
    try:
        data = arrays(args.wheel)
    except ValueError as e:
        parser.error(str(e))
    if args.check:
        if same(OUT, data):
            return 0
        print(f"out of date: {OUT.relative_to(ROOT)} (run python -m tools.make_digits WHEEL)")
        return 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **data)
    print(f"{OUT.relative_to(ROOT)}: {data['y_train'].size} training and {data['y_test'].size} "
          f"test images; source sha256 {data['source_sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
