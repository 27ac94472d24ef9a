"""Figures for the notebooks. Each function returns a matplotlib Figure and never calls plt.show().

The figure is closed in pyplot before it is returned, so a notebook shows it exactly once: leave
the call as the cell's last expression, or pass the figure to IPython's display().

Layout (docs/CONTRACT.md): x (H, W, C, M); X_col (f*f*C, H_out*W_out*M), row (u*f + v)*C + c,
column (i*W_out + j)*M + n.
"""
import matplotlib

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle


def _positions(n, f, stride, pad):
    """Start of every window along an axis of the padded input (length n + 2*pad)."""
    return range(0, n + 2 * pad - f + 1, stride)


def _check_sizes(H, W, f, stride, pad):
    if min(H, W, f, stride) < 1 or pad < 0:
        raise ValueError(f"need H, W, f, stride >= 1 and pad >= 0, got H={H}, W={W}, f={f}, "
                         f"stride={stride}, pad={pad}")
    if f > min(H, W) + 2 * pad:
        raise ValueError(f"no {f}x{f} window fits in the padded {H + 2 * pad}x{W + 2 * pad} input "
                         f"(H={H}, W={W}, pad={pad})")


def _colours(n):
    """n distinct colours (RGBA rows)."""
    if n <= 10:
        return matplotlib.colormaps["tab10"](np.arange(n))
    if n <= 20:
        return matplotlib.colormaps["tab20"](np.arange(n))
    return matplotlib.colormaps["hsv"](np.linspace(0, 1, n, endpoint=False))


def _done(fig):
    plt.close(fig)
    return fig


def plot_im2col(H=4, W=4, f=2, stride=1, pad=0):
    """Draw how im2col lays out the windows of one channel of one sample.

    Left: the (H+2*pad) x (W+2*pad) padded input, its pixels numbered 1..H*W row by row (padding
    shows 0), every f x f window outlined in its own colour. Right: X_col, (f*f, H_out*W_out),
    column q = i*W_out + j coloured like window (i, j), each entry labelled with the number of the
    pixel it copies.

    Returns the Figure (axes[0] the input, axes[1] X_col).
    """
    _check_sizes(H, W, f, stride, pad)
    Hp, Wp = H + 2 * pad, W + 2 * pad
    inside = np.zeros((Hp, Wp), dtype=bool)
    inside[pad:pad + H, pad:pad + W] = True
    number = np.zeros((Hp, Wp), dtype=int)
    number[inside] = np.arange(1, H * W + 1)
    starts = [(r, c) for r in _positions(H, f, stride, pad) for c in _positions(W, f, stride, pad)]
    H_out, W_out = len(_positions(H, f, stride, pad)), len(_positions(W, f, stride, pad))
    colours = _colours(len(starts))

    fig, (ax_x, ax_col) = plt.subplots(1, 2, figsize=(4 + 0.45 * (Wp + len(starts)), 2 + 0.45 * max(Hp, f * f)),
                                       width_ratios=[Wp, len(starts)], layout="constrained")
    ax_x.imshow(np.where(inside, 1.0, 0.85), cmap="gray", vmin=0, vmax=1)
    for (r, c), value in np.ndenumerate(number):
        ax_x.text(c, r, str(value), ha="center", va="center", fontsize=9,
                  color="black" if inside[r, c] else "gray")
    for q, (r, c) in enumerate(starts):
        inset = 0.08 + 0.06 * (q % 4)   # stagger the outlines so overlapping windows stay visible
        ax_x.add_patch(Rectangle((c - 0.5 + inset, r - 0.5 + inset), f - 2 * inset, f - 2 * inset,
                                 fill=False, edgecolor=colours[q], linewidth=2))
    ax_x.set_title(f"input {H}x{W}" + (f", padded by {pad}" if pad else "") +
                   f"\n{len(starts)} windows {f}x{f}, stride {stride}")

    # X_col[u*f + v, q] copies padded pixel (r + u, c + v) of window q starting at (r, c)
    offsets = [(u, v) for u in range(f) for v in range(f)]
    shades = np.ones((f * f, len(starts), 4))
    shades[:, :, :3] = 1 - 0.35 * (1 - colours[None, :, :3])
    ax_col.imshow(shades)
    for q, (r, c) in enumerate(starts):
        for row, (u, v) in enumerate(offsets):
            ax_col.text(q, row, str(number[r + u, c + v]), ha="center", va="center", fontsize=9)
    ax_col.set_xticks(range(len(starts)), [f"({i},{j})" for i in range(H_out) for j in range(W_out)],
                      rotation=90, fontsize=7)
    ax_col.set_yticks(range(f * f), [f"u={u},v={v}" for u, v in offsets], fontsize=7)
    ax_col.set_xlabel("column q = i*W_out + j: window (i, j)")
    ax_col.set_title(f"X_col ({f * f} x {len(starts)}): one column per window")
    ax_x.set_xticks([])
    ax_x.set_yticks([])
    return _done(fig)


def _overlap_counts(H, W, f, stride=1, pad=0):
    """How many windows cover each pixel of an H x W input: array (H, W) of ints.

    A pixel's count is (windows covering its row) * (windows covering its column).
    """
    _check_sizes(H, W, f, stride, pad)

    def along(n):
        starts = np.array(_positions(n, f, stride, pad))
        pixel = np.arange(n)[:, None] + pad                       # position in the padded axis
        return ((pixel >= starts) & (pixel < starts + f)).sum(axis=1)
    return np.outer(along(H), along(W))


def plot_overlap_counts(H, W, f, stride=1, pad=0):
    """Heatmap of how many windows cover each pixel of an H x W input (what col2im sums there),
    with the count written in each cell. Returns the Figure; its image holds the (H, W) counts."""
    counts = _overlap_counts(H, W, f, stride, pad)
    fig, ax = plt.subplots(figsize=(2.5 + 0.45 * W, 1.5 + 0.45 * H), layout="constrained")
    image = ax.imshow(counts, cmap="viridis", vmin=0)
    high = counts.max()
    for (r, c), value in np.ndenumerate(counts):
        ax.text(c, r, str(value), ha="center", va="center", fontsize=9,
                color="black" if value > 0.6 * high else "white")
    fig.colorbar(image, ax=ax, label="windows covering the pixel", ticks=range(high + 1))
    ax.set_title(f"{H}x{W} input, f={f}, stride {stride}, pad {pad}:\nwindows per pixel (col2im adds them up)")
    ax.set_xticks([])
    ax.set_yticks([])
    return _done(fig)


def _xcol_memory_ratio(H, W, f, stride):
    """Bytes of X_col over bytes of x for an f x f kernel at pad 0 (None if no window fits).

    X_col holds f*f*C values for each of the H_out*W_out*M windows; x holds H*W*C*M values.
    """
    if f > min(H, W):
        return None
    return f * f * len(_positions(H, f, stride, 0)) * len(_positions(W, f, stride, 0)) / (H * W)


def plot_xcol_memory(H, W, C, M, kernel_sizes=(1, 3, 5, 7, 9, 11), strides=(1, 2, 4), itemsize=8):
    """How much bigger X_col is than x, against the kernel size, one line per stride (pad 0).

    Inputs: the input's sizes (H, W, C, M), the kernel sizes f and strides to draw, and the bytes
    per value (8 for float64). Kernel sizes that do not fit are left out.
    Returns the Figure: one Line2D per stride (x: kernel sizes, y: bytes of X_col / bytes of x),
    log-scaled y.
    """
    x_bytes = H * W * C * M * itemsize
    fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
    for stride in strides:
        points = [(f, _xcol_memory_ratio(H, W, f, stride)) for f in kernel_sizes]
        points = [(f, r) for f, r in points if r is not None]
        if not points:
            continue
        fs, ratios = zip(*points)
        ax.plot(fs, ratios, marker="o", label=f"stride {stride}")
        ax.annotate(f"{ratios[-1] * x_bytes / 2**20:.1f} MiB", (fs[-1], ratios[-1]),
                    textcoords="offset points", xytext=(4, 0), fontsize=8, va="center")
    ax.axhline(1.0, color="gray", linewidth=0.8, linestyle="--")
    ax.margins(x=0.15)                  # room for the MiB labels
    ax.set_yscale("log")
    ax.set_xlabel("kernel size f")
    ax.set_ylabel("bytes of X_col / bytes of x")
    ax.set_title(f"X_col memory for x {H}x{W}x{C}x{M} ({x_bytes / 2**20:.2f} MiB at {itemsize} bytes per value)")
    ax.legend()
    return _done(fig)


def plot_speedups(timings, baseline, title=""):
    """Bar chart of times (milliseconds, log scale), each bar annotated with its speed-up over
    `baseline`. timings: dict name -> seconds. Returns the Figure."""
    if baseline not in timings:
        raise ValueError(f"baseline {baseline!r} is not one of the timed names {list(timings)}")
    names = list(timings)
    ms = [timings[name] * 1e3 for name in names]
    fig, ax = plt.subplots(figsize=(1.5 + 1.4 * len(names), 4), layout="constrained")
    bars = ax.bar(names, ms, color=_colours(len(names)))
    for bar, name in zip(bars, names):
        top = (bar.get_x() + bar.get_width() / 2, bar.get_height())
        ax.annotate(f"{timings[baseline] / timings[name]:.1f}x", top,
                    textcoords="offset points", xytext=(0, 3), ha="center", fontsize=9)
    ax.set_yscale("log")
    ax.set_ylabel("time (ms, log scale)")
    ax.set_title(title or f"speed-up over {baseline}")
    ax.tick_params(axis="x", labelrotation=20)
    return _done(fig)


def plot_timing_curve(xs, series, xlabel, title=""):
    """Lines of seconds against xs, log-scaled y, one line per entry of `series`
    (dict name -> list of seconds, each as long as xs). Returns the Figure."""
    xs = list(xs)
    for name, seconds in series.items():
        if len(seconds) != len(xs):
            raise ValueError(f"series {name!r} has {len(seconds)} timings for {len(xs)} x values")
    fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
    for name, seconds in series.items():
        ax.plot(xs, seconds, marker="o", label=name)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("seconds (log scale)")
    if title:
        ax.set_title(title)
    ax.legend()
    return _done(fig)
