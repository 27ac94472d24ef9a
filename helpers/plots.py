"""Figures for the notebooks. Each function returns a matplotlib Figure and never calls plt.show().

The figure is closed in pyplot before it is returned, so a notebook shows it exactly once: leave
the call as the cell's last expression, or pass the figure to IPython's display().

Layout (docs/CONTRACT.md): x (H, W, C, M); X_col (f*f*C, H_out*W_out*M), row (u*f + v)*C + c,
column (i*W_out + j)*M + n.

    plot_window_positions   a1, a2: the window of each output position on the padded input
    plot_im2col             a3: windows become columns (one channel, one sample)
    plot_im2col_order       a3: the (u, v, c) row and (i, j, n) column order, C and M > 1
    plot_matrix_product     a3: a product A @ B drawn as blocks of their real shapes
    plot_xcol_memory        a3: bytes of X_col over bytes of x, against f, per stride
    plot_overlap_counts     a1, a4: windows covering each pixel
    plot_col2im_scatter     a4: col2im adding columns back, overlaps summing
    plot_circular_reach     a5: which inputs a circular convolution reads, and where it wraps
    plot_speedups           bar chart of times with speed-ups over a baseline
    plot_timing_curve       measured times (and a fitted model) against a size
"""
import matplotlib

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
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


def _grid_axes(ax, rows, cols):
    """Cell borders every unit on an imshow of rows x cols cells, no tick labels."""
    ax.set_xticks(np.arange(-0.5, cols, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
    ax.grid(which="minor", color="0.6", linewidth=0.6)
    ax.tick_params(which="both", length=0)
    ax.set_xticks([])
    ax.set_yticks([])


def _padded_mask(H, W, pad):
    """(H+2*pad, W+2*pad) bools: True on the input, False on the border of zeros."""
    inside = np.zeros((H + 2 * pad, W + 2 * pad), dtype=bool)
    inside[pad:pad + H, pad:pad + W] = True
    return inside


def plot_window_positions(H, W, f, stride=1, pad=0, positions=None, dilation=1):
    """Small multiples of the window sliding over the padded input: one panel per output (i, j).

    Each panel shows the (H+2*pad) x (W+2*pad) padded input (the border of zeros grey) and the
    window of output (i, j), whose top-left tap is padded pixel (i*stride, j*stride). With
    dilation d > 1 the f x f taps are d pixels apart and span d*(f-1) + 1 pixels (outlined).
    positions: a list of (i, j) to draw, one row of panels; None draws every output position
    as an H_out x W_out grid of panels (at most 36).
    Returns the Figure; in each panel the f*f taps are the Rectangle patches filled in orange.
    """
    if dilation < 1:
        raise ValueError(f"need dilation >= 1, got {dilation}")
    span = dilation * (f - 1) + 1
    _check_sizes(H, W, span, stride, pad)
    rows, cols = list(_positions(H, span, stride, pad)), list(_positions(W, span, stride, pad))
    H_out, W_out = len(rows), len(cols)
    if positions is None:
        if H_out * W_out > 36:
            raise ValueError(f"{H_out}x{W_out} = {H_out * W_out} output positions are too many panels "
                             f"(at most 36): pass positions=[(i, j), ...]")
        positions, grid = [(i, j) for i in range(H_out) for j in range(W_out)], (H_out, W_out)
    else:
        positions = [tuple(p) for p in positions]
        outside = [(i, j) for i, j in positions if not (0 <= i < H_out and 0 <= j < W_out)]
        if outside or not positions:
            raise ValueError(f"positions {outside or positions} are not output positions of a "
                             f"{H_out}x{W_out} output")
        grid = (1, len(positions))
    inside = _padded_mask(H, W, pad)
    Hp, Wp = inside.shape
    fig, axes = plt.subplots(*grid, figsize=(0.4 + grid[1] * (0.3 * Wp + 0.4), 0.8 + grid[0] * (0.3 * Hp + 0.5)),
                             squeeze=False, layout="constrained")
    for ax, (i, j) in zip(axes.flat, positions):
        top, left = rows[i], cols[j]
        ax.imshow(np.where(inside, 1.0, 0.85), cmap="gray", vmin=0, vmax=1)
        _grid_axes(ax, Hp, Wp)
        for u in range(f):
            for v in range(f):
                ax.add_patch(Rectangle((left + v * dilation - 0.5, top + u * dilation - 0.5), 1, 1,
                                       facecolor="tab:orange", alpha=0.7, edgecolor="none"))
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), span, span, fill=False, edgecolor="tab:red",
                               linewidth=2))
        step = f", every {dilation}" if dilation > 1 else ""
        ax.set_title(f"out[{i}, {j}]: rows {top}–{top + span - 1}\ncolumns {left}–{left + span - 1}{step}",
                     fontsize=8)
    taps = f"{f}x{f} window" + (f" with dilation {dilation} (spans {span}x{span})" if dilation > 1 else "")
    fig.suptitle(f"{H}x{W} input, pad {pad} (grey) -> {Hp}x{Wp};\n{taps}, stride {stride} "
                 f"-> {H_out}x{W_out} outputs", fontsize=9)
    return _done(fig)


def plot_im2col(H=4, W=4, f=2, stride=1, pad=0):
    """Draw how im2col lays out the windows of one channel of one sample.

    Left: the (H+2*pad) x (W+2*pad) padded input, its pixels numbered 1..H*W row by row (padding
    shows 0), every f x f window outlined in its own colour. Right: X_col, (f*f, H_out*W_out),
    column q = i*W_out + j coloured like window (i, j), each entry labelled with the number of the
    pixel it copies.

    Returns the Figure (axes[0] the input, axes[1] X_col).
    """
    _check_sizes(H, W, f, stride, pad)
    inside = _padded_mask(H, W, pad)
    Hp, Wp = inside.shape
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


def plot_im2col_order(H=3, W=3, C=2, M=2, f=2, stride=1, pad=0):
    """Draw where every entry of X_col comes from when there are several channels and samples.

    Left: the C*M input planes (one row of panels per sample n, one column per channel c); pixel
    p of sample n is labelled with the sample's letter and p (A1, A2, ... for n = 0, B1, ... for
    n = 1), on the colour of its channel; padding shows 0. Right: X_col, (f*f*C, H_out*W_out*M),
    each entry labelled like the pixel it copies and coloured like its channel, rows marked
    (u, v, c), columns (i, j, n).
    Returns the Figure; its last axes is X_col, whose image holds each entry's channel (-1 for
    padding).
    """
    _check_sizes(H, W, f, stride, pad)
    if C < 1 or M < 1 or M > 26:
        raise ValueError(f"need C >= 1 and 1 <= M <= 26 (one letter per sample), got C={C}, M={M}")
    inside = _padded_mask(H, W, pad)
    Hp, Wp = inside.shape
    number = np.zeros((Hp, Wp), dtype=int)
    number[inside] = np.arange(1, H * W + 1)
    rows, cols = list(_positions(H, f, stride, pad)), list(_positions(W, f, stride, pad))
    colours = 1 - 0.45 * (1 - _colours(C)[:, :3])             # light channel colours

    def label(n, r, c):
        return f"{chr(ord('A') + n)}{number[r, c]}" if inside[r, c] else "0"

    fig = plt.figure(figsize=(2 + 1.2 * C * (0.35 * Wp + 0.3) + 0.42 * len(rows) * len(cols) * M,
                              1.5 + max(M * (0.35 * Hp + 0.5), 0.3 * f * f * C)), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[C * (Wp + 1), len(rows) * len(cols) * M * 1.2])
    planes = left.subplots(M, C, squeeze=False)
    for n in range(M):
        for c in range(C):
            ax = planes[n, c]
            shade = np.where(inside[..., None], colours[c], 0.88)
            ax.imshow(shade)
            for (r, cc), _ in np.ndenumerate(number):
                ax.text(cc, r, label(n, r, cc), ha="center", va="center", fontsize=8,
                        color="black" if inside[r, cc] else "gray")
            _grid_axes(ax, Hp, Wp)
            ax.set_title(f"sample n={n}, channel c={c}", fontsize=8)
    left.suptitle(f"x: ({H}, {W}, {C}, {M})" + (f", padded by {pad}" if pad else ""), fontsize=9)

    offsets = [(u, v, c) for u in range(f) for v in range(f) for c in range(C)]
    windows = [(i, j, n) for i in range(len(rows)) for j in range(len(cols)) for n in range(M)]
    channel = np.full((len(offsets), len(windows)), -1)
    ax = right.subplots()
    for q, (i, j, n) in enumerate(windows):
        for r, (u, v, c) in enumerate(offsets):
            pr, pc = rows[i] + u, cols[j] + v
            if inside[pr, pc]:
                channel[r, q] = c
            ax.text(q, r, label(n, pr, pc), ha="center", va="center", fontsize=7)
    palette = ListedColormap([(0.88, 0.88, 0.88), *colours])          # padding, then channels
    ax.imshow(channel, cmap=palette, vmin=-1.5, vmax=C - 0.5)
    ax.set_xticks(range(len(windows)), [f"({i},{j},{n})" for i, j, n in windows], rotation=90, fontsize=7)
    ax.set_yticks(range(len(offsets)), [f"({u},{v},{c})" for u, v, c in offsets], fontsize=7)
    ax.set_xlabel("column (i, j, n): n fastest")
    ax.set_ylabel("row (u, v, c): c fastest")
    ax.set_title(f"X_col ({len(offsets)} x {len(windows)})", fontsize=9)
    return _done(fig)


def plot_matrix_product(A, B, names=("A", "B", "A @ B")):
    """A @ B drawn as blocks of their real shapes: B above the product, A to its left, so that
    each entry of the product sits in the row of A and the column of B it comes from.

    Inputs: A (K, F), B (F, N), names: the three titles' names. Each block has a diverging colour
    map centred on 0 and its own colour bar. Returns the Figure; its images hold B, A and A @ B.
    """
    A, B = np.asarray(A), np.asarray(B)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"need A (K, F) and B (F, N) with the same F, got {A.shape} and {B.shape}")
    (K, F), N = A.shape, B.shape[1]
    unit = min(0.07, 7.0 / (F + N), 7.0 / (F + K))
    fig = plt.figure(figsize=(2.5 + unit * (F + N), 1.8 + unit * (F + K)), layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=[F, N], height_ratios=[F, K])
    note = fig.add_subplot(grid[0, 0])
    note.axis("off")
    note.text(0.5, 0.5, f"({K} x {F}) @ ({F} x {N})\n= ({K} x {N})", ha="center", va="center", fontsize=11)
    blocks = [(grid[0, 1], B, names[1]), (grid[1, 0], A, names[0]), (grid[1, 1], A @ B, names[2])]
    for spec, matrix, name in blocks:
        ax = fig.add_subplot(spec)
        limit = float(np.abs(matrix).max()) or 1.0
        image = ax.imshow(matrix, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto",
                          interpolation="nearest")
        fig.colorbar(image, ax=ax, location="bottom" if matrix.shape[0] < matrix.shape[1] else "right",
                     shrink=0.8)
        ax.set_title(f"{name}: {matrix.shape[0]} x {matrix.shape[1]}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
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


def plot_col2im_scatter(H, W, f, stride=1, pad=0):
    """col2im step by step on X_col of all ones: one panel per column q, in column order.

    Panel q shows the padded canvas after column q has been added onto its window (outlined):
    every pixel holds the number of columns added onto it so far, so the last panel holds the
    number of windows covering each pixel. Entries on the grey border of zeros are added too,
    then dropped with the border. At most 36 columns.
    Returns the Figure; panel q's image holds the running sums (the padded canvas).
    """
    _check_sizes(H, W, f, stride, pad)
    starts = [(r, c) for r in _positions(H, f, stride, pad) for c in _positions(W, f, stride, pad)]
    if len(starts) > 36:
        raise ValueError(f"{len(starts)} windows are too many panels (at most 36): draw a smaller case")
    W_out = len(_positions(W, f, stride, pad))
    inside = _padded_mask(H, W, pad)
    Hp, Wp = inside.shape
    canvases, canvas = [], np.zeros((Hp, Wp), dtype=int)
    for r, c in starts:
        canvas = canvas.copy()
        canvas[r:r + f, c:c + f] += 1
        canvases.append(canvas)
    high = canvas.max()
    grid = (len(starts) // W_out, W_out)
    fig, axes = plt.subplots(*grid, figsize=(0.6 + grid[1] * (0.35 * Wp + 0.3), 1.0 + grid[0] * (0.35 * Hp + 0.5)),
                             squeeze=False, layout="constrained")
    for q, (ax, (r, c), canvas) in enumerate(zip(axes.flat, starts, canvases)):
        ax.imshow(canvas, cmap="viridis", vmin=0, vmax=high)
        for (rr, cc), value in np.ndenumerate(canvas):
            colour = ("black" if value > 0.6 * high else "white") if inside[rr, cc] else "0.6"
            ax.text(cc, rr, str(value), ha="center", va="center", fontsize=8, color=colour)
        if pad:
            ax.add_patch(Rectangle((pad - 0.5, pad - 0.5), W, H, fill=False, edgecolor="white",
                                   linestyle="--", linewidth=1))
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), f, f, fill=False, edgecolor="tab:red", linewidth=2.5))
        _grid_axes(ax, Hp, Wp)
        ax.set_title(f"+ column {q}: window ({q // W_out}, {q % W_out})", fontsize=8)
    counts = canvas[pad:pad + H, pad:pad + W]
    fig.suptitle(f"col2im of all-ones columns, {H}x{W} input, f={f}, stride {stride}, pad {pad}: "
                 f"each pixel ends with the number of windows that held it ({counts.min()} to {counts.max()})",
                 fontsize=9)
    return _done(fig)


def plot_circular_reach(N, f):
    """Which inputs each output of a length-N circular convolution with an f-tap filter reads.

    Row a is output a = sum over t < f of x[(a - t) mod N] * g[t]: the cells of the inputs it
    reads are blue when a - t >= 0 and red when the index wrapped around past 0 to the far end.
    Rows with a red cell are contaminated by the wrap-around; the others are ordinary sliding
    sums. Returns the Figure; its image holds 0 (not read), 1 (read directly), 2 (read across
    the edge) for every (output, input).
    """
    if N < 1 or not 1 <= f <= N:
        raise ValueError(f"need N >= 1 and 1 <= f <= N, got N={N}, f={f}")
    reach = np.zeros((N, N), dtype=int)
    for a in range(N):
        for t in range(f):
            reach[a, (a - t) % N] = 1 if a - t >= 0 else 2
    wrapped = (reach == 2).any(axis=1)
    fig, ax = plt.subplots(figsize=(1.6 + 0.38 * N, 1.0 + 0.38 * N), layout="constrained")
    ax.imshow(reach, cmap=ListedColormap(["white", "tab:blue", "tab:red"]), vmin=-0.5, vmax=2.5)
    for a, t in zip(*np.nonzero(reach)):
        ax.text(t, a, f"g{(a - t) % N}", ha="center", va="center", fontsize=7, color="white")
    _grid_axes(ax, N, N)
    ax.set_xticks(range(N), range(N), fontsize=8)
    ax.set_yticks(range(N), [f"{a} {'wraps' if w else 'ok'}" for a, w in enumerate(wrapped)], fontsize=8)
    ax.set_xlabel("input index")
    ax.set_ylabel("output a")
    ax.set_title(f"circular convolution, N = {N}, f = {f}:\n{int(wrapped.sum())} of {N} outputs read "
                 f"across the edge (red)", fontsize=9)
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


def plot_timing_curve(xs, series, xlabel, title="", models=None, loglog=False, ylabel="seconds"):
    """Lines of measured values against xs, log-scaled y, one line per entry of `series`
    (dict name -> list of values, each as long as xs).

    models: dict name -> values a cost model predicts at xs, drawn dashed in the colour of the
    series of the same name (label "<name>, model"); loglog: log-scaled x too (for power laws);
    ylabel: what the values are. Returns the Figure.
    """
    xs = list(xs)
    models = models or {}
    for name, values in [*series.items(), *models.items()]:
        if len(values) != len(xs):
            raise ValueError(f"series {name!r} has {len(values)} timings for {len(xs)} x values")
    unknown = set(models) - set(series)
    if unknown:
        raise ValueError(f"models {sorted(unknown)} have no measured series of the same name")
    fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
    for name, values in series.items():
        line, = ax.plot(xs, values, marker="o", label=name)
        if name in models:
            ax.plot(xs, models[name], linestyle="--", color=line.get_color(), label=f"{name}, model")
    ax.set_yscale("log")
    if loglog:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"{ylabel} (log scale)")
    ax.grid(True, which="both", alpha=0.3)
    if title:
        ax.set_title(title)
    ax.legend()
    return _done(fig)
