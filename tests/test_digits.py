"""The digits of assignment 6 (helpers/data/digits.npz) are what DIGITS_LICENSE.md says they are,
and tools/make_digits builds them reproducibly from a scikit-learn wheel's csv.gz."""
import gzip
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tools import make_digits

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "helpers" / "data"


@pytest.fixture(scope="module")
def digits():
    with np.load(DATA / "digits.npz", allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def test_shipped_digits_have_the_documented_layout_split_and_source(digits):
    assert digits["x_train"].shape == (8, 8, 1, 1438) and digits["x_test"].shape == (8, 8, 1, 359)
    assert digits["x_train"].dtype == digits["x_test"].dtype == np.uint8
    assert digits["x_train"].max() <= 16 and digits["x_test"].max() <= 16
    y_train, y_test = digits["y_train"], digits["y_test"]
    assert y_train.dtype == y_test.dtype == np.int64
    totals = np.bincount(y_train, minlength=10) + np.bincount(y_test, minlength=10)
    assert np.array_equal(np.bincount(y_test, minlength=10), np.round(0.2 * totals).astype(int))
    licence = (DATA / "DIGITS_LICENSE.md").read_text()
    assert str(digits["source_sha256"]) in licence
    assert "CC BY 4.0" in licence and "10.24432/C50P49" in licence
    assert re.search(r"\b1,438\b", licence) and re.search(r"\b359\b", licence)


def _wheel(tmp_path, rows):
    """A zip holding MEMBER as a scikit-learn wheel does, with `rows` (64 pixels + label each)."""
    text = "\n".join(",".join(str(v) for v in row) for row in rows) + "\n"
    path = tmp_path / "fake.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(make_digits.MEMBER, gzip.compress(text.encode()))
    return path


def test_the_split_takes_a_fifth_of_every_digit_and_keeps_images_with_their_labels(tmp_path):
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(10), 11)                  # 11 of each digit: round(2.2) = 2 for testing
    rows = np.column_stack([rng.integers(0, 17, (labels.size, 64)), labels])
    data = make_digits.arrays(_wheel(tmp_path, rows))
    assert data["x_train"].shape == (8, 8, 1, 90) and data["x_test"].shape == (8, 8, 1, 20)
    assert np.array_equal(np.bincount(data["y_test"]), np.full(10, 2))
    again = make_digits.arrays(_wheel(tmp_path, rows))
    assert all(np.array_equal(data[k], again[k]) for k in data)
    label_of = {tuple(r[:64]): r[64] for r in rows}       # pixels row by row -> label
    for part in ("train", "test"):
        x, y = data[f"x_{part}"], data[f"y_{part}"]
        assert [label_of[tuple(x[:, :, 0, n].ravel())] for n in range(y.size)] == list(y)


def test_a_file_that_is_not_a_digits_wheel_is_refused_with_the_reason(tmp_path):
    not_zip = tmp_path / "x.whl"
    not_zip.write_text("hello")
    with pytest.raises(ValueError, match="cannot read"):
        make_digits.arrays(not_zip)
    empty = tmp_path / "empty.whl"
    zipfile.ZipFile(empty, "w").close()
    with pytest.raises(ValueError, match="is it a scikit-learn wheel"):
        make_digits.arrays(empty)
    with pytest.raises(ValueError, match="65 columns"):
        make_digits.arrays(_wheel(tmp_path, [[1, 2, 3]]))
