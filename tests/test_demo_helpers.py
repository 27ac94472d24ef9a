"""The pictures and the cost-model fit the notebooks' demonstrations use (issue 12): each figure
draws exactly what it claims, computed here independently of the helper's own code."""
import matplotlib
import numpy as np
import pytest
from matplotlib.patches import Rectangle

from autograder import reference as ref
from helpers import plots
from helpers.costmodel import fit_cost_model


def _rects(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def _corner(patch):
    x, y = patch.get_xy()
    return int(round(y + 0.5)), int(round(x + 0.5))          # (row, column) of the top-left cell


# --------------------------------------------------------------------------- window positions
@pytest.mark.parametrize("H, W, f, stride, pad, dilation",
                         [(5, 8, 3, 2, 1, 1), (4, 4, 2, 1, 0, 1), (7, 7, 3, 1, 0, 2), (9, 6, 2, 3, 2, 2)])
def test_window_positions_draw_every_output_with_its_taps(no_show, H, W, f, stride, pad, dilation):
    span = dilation * (f - 1) + 1
    H_out, W_out = ref.conv_output_size(H, span, stride, pad), ref.conv_output_size(W, span, stride, pad)
    fig = plots.plot_window_positions(H, W, f, stride, pad, dilation=dilation)
    assert len(fig.axes) == H_out * W_out
    for index, ax in enumerate(fig.axes):
        i, j = divmod(index, W_out)
        top, left = i * stride, j * stride
        taps = [p for p in _rects(ax) if p.get_fill()]
        outline = [p for p in _rects(ax) if not p.get_fill()]
        assert sorted(_corner(p) for p in taps) == sorted(
            (top + u * dilation, left + v * dilation) for u in range(f) for v in range(f))
        assert [(_corner(p), p.get_width()) for p in outline] == [((top, left), span)]
        assert ax.images[0].get_array().shape == (H + 2 * pad, W + 2 * pad)


def test_window_positions_take_chosen_positions_and_refuse_bad_ones(no_show):
    fig = plots.plot_window_positions(7, 9, 3, stride=2, pad=1, positions=[(1, 2)])
    assert len(fig.axes) == 1 and "rows 2–4" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match=r"\(4, 0\).*4x5 output"):
        plots.plot_window_positions(7, 9, 3, stride=2, pad=1, positions=[(4, 0)])
    with pytest.raises(ValueError, match="too many panels"):
        plots.plot_window_positions(20, 20, 3)
    with pytest.raises(ValueError, match="dilation"):
        plots.plot_window_positions(7, 7, 3, dilation=0)


# --------------------------------------------------------------------------- im2col order
@pytest.mark.parametrize("H, W, C, M, f, stride, pad", [(3, 3, 2, 2, 2, 1, 0), (4, 3, 3, 2, 2, 2, 1)])
def test_im2col_order_labels_every_entry_with_the_pixel_and_channel_it_copies(no_show, H, W, C, M, f,
                                                                                stride, pad):
    # x encodes (pixel number p = 1..H*W, channel c, sample n) as 1000*n + 100*c + p
    p = np.arange(1, H * W + 1).reshape(H, W, 1, 1)
    x = (1000 * np.arange(M)[None, None, None, :] + 100 * np.arange(C)[None, None, :, None] + p).astype(float)
    expected = ref.im2col(x, f, stride, pad)                           # 0 where padding
    fig = plots.plot_im2col_order(H, W, C, M, f, stride, pad)
    ax = fig.axes[-1]
    channel = np.asarray(ax.images[0].get_array())
    assert channel.shape == expected.shape
    decoded = np.zeros(expected.shape)
    for t in ax.texts:
        q, r = (int(round(v)) for v in t.get_position())
        label = t.get_text()
        if label != "0":
            n, number = ord(label[0]) - ord("A"), int(label[1:])
            decoded[r, q] = 1000 * n + 100 * channel[r, q] + number
    np.testing.assert_array_equal(decoded, expected)
    np.testing.assert_array_equal(channel == -1, expected == 0)
    assert len(fig.axes) == C * M + 1


# --------------------------------------------------------------------------- matrix product
def test_matrix_product_draws_the_two_factors_and_their_product(no_show):
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((6, 90)), rng.standard_normal((90, 16))
    fig = plots.plot_matrix_product(A, B, names=("W_row", "X_col", "out_mat"))
    drawn = {ax.get_title().split(":")[0]: ax.images[0] for ax in fig.axes if ax.images and ax.get_title()}
    np.testing.assert_array_equal(drawn["W_row"].get_array(), A)
    np.testing.assert_array_equal(drawn["X_col"].get_array(), B)
    np.testing.assert_allclose(drawn["out_mat"].get_array(), A @ B)
    for image in drawn.values():                                       # signed maps: centred on 0
        low, high = image.get_clim()
        assert low == -high and high == pytest.approx(np.abs(image.get_array()).max())
    with pytest.raises(ValueError, match="same F"):
        plots.plot_matrix_product(A, B.T)


# --------------------------------------------------------------------------- col2im, step by step
@pytest.mark.parametrize("H, W, f, stride, pad", [(3, 4, 2, 1, 0), (5, 5, 3, 2, 1)])
def test_col2im_scatter_adds_one_window_per_panel(no_show, H, W, f, stride, pad):
    fig = plots.plot_col2im_scatter(H, W, f, stride, pad)
    starts = [(r, c) for r in range(0, H + 2 * pad - f + 1, stride)
              for c in range(0, W + 2 * pad - f + 1, stride)]
    panels = [np.asarray(ax.images[0].get_array()) for ax in fig.axes]
    assert len(panels) == len(starts)
    previous = np.zeros((H + 2 * pad, W + 2 * pad))
    for panel, (r, c) in zip(panels, starts):
        window = np.zeros_like(previous)
        window[r:r + f, c:c + f] = 1
        np.testing.assert_array_equal(panel - previous, window)
        previous = panel
    counts = ref.col2im(ref.im2col(np.ones((H, W, 1, 1)), f, stride, pad), (H, W, 1, 1), f, stride, pad)
    np.testing.assert_array_equal(previous[pad:pad + H, pad:pad + W], counts[:, :, 0, 0])


# --------------------------------------------------------------------------- circular reach
@pytest.mark.parametrize("N, f", [(8, 3), (5, 5), (6, 1)])
def test_circular_reach_marks_the_inputs_read_and_the_wrapped_ones(no_show, N, f):
    reach = np.asarray(plots.plot_circular_reach(N, f).axes[0].images[0].get_array())
    for a in range(N):
        read = {(a - t) % N: (2 if a - t < 0 else 1) for t in range(f)}
        assert {int(i): int(v) for i, v in enumerate(reach[a]) if v} == read
    assert int((reach == 2).any(axis=1).sum()) == f - 1
    with pytest.raises(ValueError):
        plots.plot_circular_reach(4, 5)


# --------------------------------------------------------------------------- timing curve with a model
def test_timing_curve_draws_models_dashed_in_their_series_colour(no_show):
    xs = [1, 3, 5]
    fig = plots.plot_timing_curve(xs, {"im2col": [1e-4, 9e-4, 2.5e-3]}, models={"im2col": [1e-4, 1e-3, 2e-3]},
                                  loglog=True, xlabel="f", ylabel="seconds")
    ax = fig.axes[0]
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert lines["im2col, model"].get_linestyle() == "--"
    assert matplotlib.colors.same_color(lines["im2col, model"].get_color(), lines["im2col"].get_color())
    assert list(lines["im2col, model"].get_ydata()) == [1e-4, 1e-3, 2e-3]
    with pytest.raises(ValueError, match="no measured series"):
        plots.plot_timing_curve(xs, {"a": [1, 2, 3]}, models={"b": [1, 2, 3]}, xlabel="f")


# --------------------------------------------------------------------------- cost model
def test_fit_cost_model_recovers_known_costs_and_reports_the_misfit():
    F = np.array([9.0, 36, 144, 576, 2304, 9216])
    seconds = 2.7e-6 + 0.56e-9 * F
    model = fit_cost_model(seconds, {"per call": np.ones(F.size), "per multiply-add": F})
    assert model.coefficients["per call"] == pytest.approx(2.7e-6)
    assert model.coefficients["per multiply-add"] == pytest.approx(0.56e-9)
    np.testing.assert_allclose(model.predicted, seconds)
    assert model.worst < 1e-9
    noisy = seconds * np.array([1, 1.1, 1, 1, 1, 1])
    assert fit_cost_model(noisy, {"per call": np.ones(F.size), "per multiply-add": F}).worst > 0.04


def test_fit_cost_model_gives_zero_to_a_term_that_would_need_a_negative_cost():
    n = np.array([1.0, 2, 4, 8, 16])
    seconds = 3e-3 * n                                    # all of it proportional to n
    model = fit_cost_model(seconds, {"per unit": n, "falling": 20 - n})
    assert model.coefficients["falling"] == 0.0
    assert model.coefficients["per unit"] == pytest.approx(3e-3)


def test_fit_cost_model_refuses_what_it_cannot_fit():
    with pytest.raises(ValueError, match="one count per measurement"):
        fit_cost_model([1.0, 2.0], {"a": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="as many measurements as terms"):
        fit_cost_model([1.0], {"a": [1.0], "b": [2.0]})
    with pytest.raises(ValueError, match="positive"):
        fit_cost_model([1.0, 0.0], {"a": [1.0, 2.0]})
