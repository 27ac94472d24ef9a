"""Assignment 3: the layer as one matrix product (im2col + GEMM)."""
from tools.nbbuild import answer, demo, hidden_test, markdown, visible_test
from tools.notebooks import common, functions

CELLS = [
    markdown(r'''
# Assignment 3 — The layer as one matrix product

Every output of a convolutional layer is a dot product between one window of the input and one
filter. A matrix product is nothing but many dot products: row `k` of one matrix times column
`q` of the other. So if every window becomes a column of a matrix and every filter a row of
another, one matrix multiplication computes the whole layer. Matrix multiplication (GEMM, in
the BLAS libraries numpy calls) has been tuned for decades and runs close to the processor's
peak speed. The price is memory: the windows overlap, and the matrix stores every pixel once for
every window that contains it.

**After this notebook you can**

1. draw how `im2col` turns windows into columns, and state its index contract exactly;
2. implement `im2col` with loops over the filter's `f × f` offsets only;
3. turn the product of the flattened filters with `X_col` back into the layer's
   `(H_out, W_out, K, M)` output;
4. rebuild the lecture's `(6, 90)·(90, 16)` example and AlexNet's `363 × 3025` matrix;
5. compute what the speed costs in memory, and time all three versions of the layer side by side.
'''),
    common.HOW_TO,
    common.setup('''
from helpers.plots import (plot_im2col, plot_im2col_order, plot_matrix_product, plot_speedups,
                           plot_window_positions, plot_xcol_memory)
from helpers.timing import best_time, estimate_by_scaling, report_speedup
'''),
    markdown(r'''
## Given: the functions of assignments 1 and 2

The next cell defines the course's `conv_output_size`, `zero_pad` and `output_shape` (which
checks `x` against `w` and returns `(H_out, W_out, K, M)`), and both slower layers,
`conv_forward_naive` (seven loops) and `conv_forward_partial` (three loops, one call of
`conv_single_step`). You need the first three; the layers are here to be checked against and
timed.
'''),
    common.given_functions(*common.GIVEN_A1, functions.OUTPUT_SHAPE, functions.CONV_FORWARD_NAIVE,
                           functions.CONV_SINGLE_STEP, functions.CONV_FORWARD_PARTIAL,
                           grade_id="given_a1_a2"),
    markdown(r'''
## 1. Windows become columns

Take one sample with one channel, a 4 × 4 input and a 2 × 2 filter at stride 1. There are
3 × 3 = 9 windows of 4 numbers each. `im2col` ("image to columns") copies window number `q`
into column `q` of a matrix `X_col` of shape `(4, 9)`. The filter, flattened, is a row of
4 numbers, and

$$
\underbrace{w_\text{row}}_{(1,\ 4)} \;\cdot\; \underbrace{X_\text{col}}_{(4,\ 9)}
\;=\; \underbrace{\text{all 9 outputs}}_{(1,\ 9)} .
$$

With `K` filters the row becomes a `(K, 4)` matrix and the product `(K, 9)`: every filter
against every window in one call. The picture shows the input with every window outlined in
its own colour, and `X_col` with each column in its window's colour; each entry names the
input pixel it copies. Notice how often the central pixels appear: the four central pixels each
belong to four windows.
'''),
    demo('''
display(plot_im2col(H=4, W=4, f=2, stride=1, pad=0))
'''),
    markdown(r'''
## 2. The index contract

With channels, samples, stride and padding, `X_col` has shape

$$
\bigl(f \cdot f \cdot C,\;\; H_\text{out} \cdot W_\text{out} \cdot M\bigr),
$$

one row per number in a window and one column per (window position, sample). Which row and
which column hold what is not a matter of taste; it is fixed by the reshapes around the
matrix product:

```
row    r = (u·f + v)·C + c          u, v in [0, f),  c in [0, C)
column q = (i·W_out + j)·M + n      i in [0, H_out), j in [0, W_out), n in [0, M)
X_col[r, q] = x_pad[i·stride + u, j·stride + v, c, n]
```

**Why this row order.** The filters are flattened with `w.reshape(K, -1)`. numpy reshapes in
row-major ("C") order: the last axis varies fastest, so filter entry `w[k, u, v, c]` lands in
column `(u·f + v)·C + c` of the flattened filters. Row `r` of `X_col` must hold the pixel that
this weight multiplies, and that gives the row formula. Order the window as `(c, u, v)` instead
and every shape still matches while the numbers come out wrong.

**Why this column order.** The product of the flattened filters with `X_col` has one row per
filter and one column per (window position, sample). Ordered `(i, j, n)`, the column index
splits back into `i`, `j` and `n` by a row-major reshape, the same rule run backwards. Where the
filter index ends up, and where the contract wants it, is for you to work out in section 3.

The picture below shows the contract with two channels and two samples, a 3 × 3 input and a
2 × 2 filter. Each pixel is named by its sample (A, B) and its number, and coloured by its
channel. Read down a column of `X_col`: one window of one sample, its four offsets `(u, v)`
with the two channels of each next to each other (c fastest). Read along a row: one offset and
channel, over the windows, with the two samples of each window next to each other (n fastest).
'''),
    demo('''
display(plot_im2col_order(H=3, W=3, C=2, M=2, f=2, stride=1, pad=0))
'''),
    markdown(r'''
**How to build it without looping over windows.** A loop over the $H_\text{out} W_\text{out} M$
windows would put the interpreter back into the inner work. Loop over the `f·f` offsets
`(u, v)` instead. For a fixed offset, the pixels at offset `(u, v)` of *every* window form a
regular grid in the padded input: rows $u, u + s, u + 2s, \dots$ ($H_\text{out}$ of them) and
likewise columns, in every channel and every sample. numpy takes such a grid in one slicing
operation, so the whole of `X_col` costs `f·f` numpy operations, however large the image and
the batch. What is left to you is to put each grid where the row and column formulas want it.

<details><summary>Hint: the strided grid</summary>

A slice `start:stop:step` takes every `step`-th index from `start` up to, not including, `stop`.
For offset `u`, which start, step and stop give exactly the $H_\text{out}$ rows at offset `u` of
the windows? Check it on the picture of assignment 2 (the window of output `(1, 2)`).
</details>

<details><summary>Hint: getting the order right</summary>

A row-major reshape of an array with axes `(a, b, c, d)` to two axes `(a·b, c·d)` numbers its
rows `a·B + b` and its columns `c·D + d`. Compare with the two formulas of the contract: which
six axes, in which order, would an array need so that one reshape at the end gives `X_col`?
Try your idea on `np.arange(...)` before you trust it. A grid cut out of `x_pad` has the axes of
`x_pad`: which of them have to move?
</details>

Here is a hand-worked example to test against, and to check your reading of the contract. The
3 × 4 input below (one channel, one sample) with a 2 × 2 filter, stride 1, has
$2 \cdot 3 = 6$ windows, so `X_col` is `4 × 6`: six columns, one per window, in the order
`(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)`, each holding its window's pixels in the order
`(u, v) = (0, 0), (0, 1), (1, 0), (1, 1)`. An `im2col` that swaps rows and columns returns a
`6 × 4` matrix and cannot pass it.

$$
x = \begin{pmatrix} 1 & 2 & 3 & 4 \\ 5 & 6 & 7 & 8 \\ 9 & 10 & 11 & 12 \end{pmatrix}, \qquad
X_\text{col} = \begin{pmatrix}
1 & 2 & 3 & 5 & 6 & 7 \\
2 & 3 & 4 & 6 & 7 & 8 \\
5 & 6 & 7 & 9 & 10 & 11 \\
6 & 7 & 8 & 10 & 11 & 12
\end{pmatrix}, \qquad
(1\ 2\ 3\ 4) \cdot X_\text{col} = (44\ \ 54\ \ 64\ \ 84\ \ 94\ \ 104).
$$

### Your task: `im2col`

Return a new array with the dtype of `x`; never modify `x`. Use `conv_output_size` for the
sizes (it also rejects a filter that does not fit) and `zero_pad` for the padding. No loop over
windows, samples or channels: only over the `f·f` offsets.
'''),
    answer(functions.IM2COL),
    visible_test("im2col", '''
# Public checks: hand-worked matrices, then stored matrices that pin down the row order
# (u, v, c) and the column order (i, j, n), with stride 2, pad 1 and H != W.
from helpers.checks import check_im2col
check_im2col(im2col)
'''),
    hidden_test("im2col"),
    demo('''
x_hand = np.arange(1, 13, dtype=float).reshape(3, 4, 1, 1)
X_hand = im2col(x_hand, 2)
by_hand = np.array([[1, 2, 3, 5, 6, 7], [2, 3, 4, 6, 7, 8],
                    [5, 6, 7, 9, 10, 11], [6, 7, 8, 10, 11, 12]], dtype=float)
print(f"your X_col of the 3x4 example, shape {X_hand.shape}:\\n", X_hand)
print("agrees with the hand-worked matrix:", X_hand.shape == by_hand.shape and np.array_equal(X_hand, by_hand))
print("(1 2 3 4) @ X_col =", np.array([1.0, 2.0, 3.0, 4.0]) @ X_hand)
'''),
    markdown(r'''
## 3. The layer as one product

With $F = f \cdot f \cdot C$ and $N = H_\text{out} W_\text{out} M$, the flattened filters
(`(K, F)`, one filter per row, as the contract says) times `X_col` (`(F, N)`) give a `(K, N)`
matrix: entry `(k, q)` is filter `k` applied to window `q`, everything the layer computes
except the bias. Two things remain.

- **The bias** is one number per filter, that is one per **row** of the product. A `(K,)` array
  broadcasts along the *last* axis, the wrong one here (and fails, or worse, silently succeeds
  when $N = K$); give it the shape that broadcasts along the rows.
- **The layout.** The layer must return `(H_out, W_out, K, M)`. Which axes does the `(K, N)`
  product hold, in which order, once its column index is split back into `(i, j, n)`?

<details><summary>Hint</summary>

Which axis order does a reshape of the product produce, and which does the contract want? A
reshape never moves an axis; it only splits or merges neighbouring ones. numpy will not warn
you when the number of elements agrees but the order does not; the 6 × 6 × 10 check will.
</details>

### Your task: `conv_forward_im2col`

Return an array with the dtype of `x`. No Python loops at all in this function: your `im2col`
has its `f·f` ones, and the rest is one matrix product and a few reshapes.
'''),
    answer(functions.CONV_FORWARD_IM2COL),
    visible_test("conv_forward_im2col", '''
# Public checks: the hand-worked 3x3 example, the lecture's 6x6x10 layer, and stored results
# for a case with stride 2, pad 1 and H != W.
from helpers.checks import check_conv_forward
check_conv_forward(conv_forward_im2col)
'''),
    hidden_test("conv_forward_im2col"),
    markdown(r'''
How fast is yours? The cell times it against the seven loops on a small batch (the line it
prints gives the sizes), the best of two runs each, and says what to expect.
'''),
    demo('''
report_speedup(conv_forward_im2col, conv_forward_naive, repeats=2, warmup=0)
'''),
    markdown(r'''
## 4. The lecture's example and AlexNet

The lecture's layer takes a `6 × 6 × 10` input and six `3 × 3 × 10` filters, stride 1, no
padding. Each window holds $3 \cdot 3 \cdot 10 = 90$ numbers, there are $4 \cdot 4 = 16$
windows, so $X_\text{col}$ is `(90, 16)`, the filters become `(6, 90)`, their product is
`(6, 16)`, and it becomes the `(4, 4, 6)` output volume (with the sample axis: `(4, 4, 6, 1)`).
The cell checks each shape, compares the result with the four-loop layer, and draws the three
matrices as blocks of their real shapes: each entry of the product sits in the row of the
filter and the column of the window it comes from.
'''),
    demo('''
rng = np.random.default_rng(0)
x = rng.standard_normal((6, 6, 10, 1))
w = rng.standard_normal((6, 3, 3, 10))
b = rng.standard_normal(6)
X_col = im2col(x, 3)
W_row = w.reshape(6, -1)
out = conv_forward_im2col(x, w, b)
print(f"W_row {W_row.shape} . X_col {X_col.shape} = {(W_row @ X_col).shape}  ->  out {out.shape}")
print("largest difference from the four-loop layer:",
      np.abs(out - conv_forward_partial(x, w, b)).max())
display(plot_matrix_product(W_row, X_col, names=("filters W_row", "X_col", "W_row @ X_col")))
'''),
    markdown(r'''
AlexNet's first layer reads a `227 × 227 × 3` image (227, not the paper's 224: see assignment
1's footnote) with 96 filters of `11 × 11 × 3` at stride 4. Each window holds
$11 \cdot 11 \cdot 3 = 363$ numbers and there are $\bigl((227 - 11)/4 + 1\bigr)^2 = 55^2 = 3025$
windows, so $X_\text{col}$ is `363 × 3025`, the filters are `96 × 363`, the product
`96 × 3025`, reshaped to `55 × 55 × 96`. Running the loop layers on it would take minutes, so
the cell checks three output values against a direct window sum instead.
'''),
    demo('''
rng = np.random.default_rng(1)
x = rng.standard_normal((227, 227, 3, 1))
w = rng.standard_normal((96, 11, 11, 3))
b = rng.standard_normal(96)
X_col = im2col(x, 11, stride=4)
seconds = best_time(conv_forward_im2col, x, w, b, stride=4, repeats=3)
out = conv_forward_im2col(x, w, b, stride=4)
print(f"X_col {X_col.shape}, W_row {w.reshape(96, -1).shape}, out {out.shape}, "
      f"{seconds * 1e3:.0f} ms")
for i, j, k in [(0, 0, 0), (27, 40, 17), (54, 54, 95)]:
    window = x[4 * i:4 * i + 11, 4 * j:4 * j + 11, :, 0]
    direct = np.sum(window * w[k]) + b[k]
    print(f"out[{i:2d}, {j:2d}, {k:2d}, 0] = {out[i, j, k, 0]: .6f}   direct sum: {direct: .6f}")
'''),
    markdown(r'''
## 5. The memory price

Every pixel is copied into `X_col` once per window that contains it. Exactly:

$$
\frac{\text{bytes of } X_\text{col}}{\text{bytes of } x}
= \frac{f^2 C \cdot H_\text{out} W_\text{out} M}{H W C M}
= \frac{f^2 \, H_\text{out} W_\text{out}}{H W}.
$$

- With stride 1 and "same" padding $H_\text{out} W_\text{out} = H W$, so the ratio is exactly
  $f^2$: 9 for a 3 × 3 filter, **121** for an 11 × 11 one.
- With stride $s \le f$ the windows still overlap or touch, $H_\text{out} \approx H/s$, and the
  ratio is about $(f/s)^2$: AlexNet's 11 × 11 filters at stride 4 copy each pixel 7.1 times on
  average ($(11/4)^2 \approx 7.6$).
- With $s > f$ the windows leave gaps. Pixels between them are in no window and are never
  copied, so `X_col` is *smaller* than `x`: the ratios below 1 in the plot (an $f = 1$ filter at
  stride 2 reads one pixel in four).

The cell first checks the formula against your `im2col` on a small layer, then computes the
sizes of real layers from their shapes alone, without allocating anything: the last two would
not fit in this machine's memory. A "VGG-like" layer is a 224 × 224 image with 64 channels in
float32, a batch of 32, with 3 × 3 filters and "same" padding.
'''),
    demo('''
x_small = np.ones((32, 32, 3, 2))
X_small = im2col(x_small, 3, 1, 1)
print(f"your im2col, 32x32x3x2, f=3, pad 1: {X_small.nbytes / x_small.nbytes:.2f}x the bytes of x "
      f"(formula: {9 * conv_output_size(32, 3, 1, 1) ** 2 / 32 ** 2:.2f}x)")

layers = [  # name, (H, W, C, M), f, stride, pad, bytes per number
    ("the lecture, 6x6x10, f=3", (6, 6, 10, 1), 3, 1, 0, 8),
    ("CIFAR batch, 32x32x3x32, f=3, pad 1", (32, 32, 3, 32), 3, 1, 1, 8),
    ("AlexNet conv1, 227x227x3, f=11, stride 4", (227, 227, 3, 1), 11, 4, 0, 8),
    ("VGG-like, 224x224x64x32 float32, f=3, pad 1", (224, 224, 64, 32), 3, 1, 1, 4),
    ("the same with f=11, pad 5", (224, 224, 64, 32), 11, 1, 5, 4),
]
print(f"{'layer':<46}{'x':>12}{'X_col':>12}{'ratio':>8}")
for name, (H, W, C, M), f, stride, pad, itemsize in layers:
    x_bytes = H * W * C * M * itemsize
    col_bytes = f * f * C * conv_output_size(H, f, stride, pad) * conv_output_size(W, f, stride, pad) * M * itemsize
    print(f"{name:<46}{x_bytes / 1e6:>9.1f} MB{col_bytes / 1e6:>9.1f} MB{col_bytes / x_bytes:>7.1f}x")
display(plot_xcol_memory(32, 32, 3, 1))
'''),
    markdown(r'''
For the usual 3 × 3 filters the matrix is nine times the input: for the VGG-like layer, 411 MB
of input become 3.7 GB of `X_col`, and an 11 × 11 filter there would need 50 GB. That is why
production libraries build `X_col` in tiles that fit in the processor's caches (or avoid it
altogether) rather than all at once.

## 6. Three layers, one case

Now the payoff. The three versions of the layer run on the same CIFAR-sized case: 32 × 32 RGB
images, a batch of 32, sixteen 3 × 3 filters, `pad = 1`.

The loop versions would take seconds here, so they are **timed on one sample and scaled up**
by the ratio of multiply-adds (32×). The model behind the scaling: their time is proportional
to the number of windows they visit, which is proportional to the batch. The im2col layer is
timed on the full batch. Every time is the best of a few runs on a shared machine, so read the
ratios, not the milliseconds.
'''),
    demo('''
rng = np.random.default_rng(2)
M_full = 32
x = rng.standard_normal((32, 32, 3, M_full))
w = rng.standard_normal((16, 3, 3, 3))
b = rng.standard_normal(16)
x_one = x[:, :, :, :1]
macs_full = 16 * 3 * 3 * 3 * 32 * 32 * M_full
macs_one = macs_full // M_full
timings = {
    "7 loops (estimated)": estimate_by_scaling(conv_forward_naive, (x_one, w, b), macs_one,
                                               macs_full, pad=1, repeats=1, warmup=0),
    "3 loops (estimated)": estimate_by_scaling(conv_forward_partial, (x_one, w, b), macs_one,
                                               macs_full, pad=1, repeats=1, warmup=0),
    "im2col": best_time(conv_forward_im2col, x, w, b, pad=1, repeats=5),
}
for name, seconds in timings.items():
    print(f"{name:<22} {seconds * 1e3:9.1f} ms   "
          f"{timings['7 loops (estimated)'] / seconds:7.0f}x faster than 7 loops")
display(plot_speedups(timings, baseline="7 loops (estimated)",
                      title="forward pass, 32x32x3 images, batch 32, 16 filters 3x3"))
'''),
    markdown(r'''
The im2col layer comes out hundreds to thousands of times faster than the seven loops: the
"200× or more" that the im2col reading promises, with room to spare. The three loops sit
far behind: each call does all $16 \cdot 27 = 432$ multiply-adds of a window, but each of their
$M H_\text{out} W_\text{out}$ passes still costs microseconds of interpreter time, and this
layer has $32 \cdot 32 \cdot 32 = 32{,}768$ of them (assignment 2's model in action).

## What is left

You have the forward pass that real frameworks built on for years. Training also needs the
backward pass: the gradients with respect to `x`, `w` and `b`. Assignment 4 derives them, first
with loops, then through `im2col` again — which needs its adjoint, `col2im`, the one step that
is more than a reshape.

## Going further (optional)

**float32 against float64.** Deep learning trains in float32 (or less). The matrix product then
moves half the bytes and fits twice as many numbers in each vector instruction. The first cell
times your layer in both precisions on a mid-sized layer and measures what float32 costs in
accuracy, relative to the largest output. Is the error near float32's machine epsilon,
$1.2 \cdot 10^{-7}$? Why is it somewhat larger (think of how many products each output adds)?

**More than one core.** The setup cell held the matrix library to one thread so that timings
are comparable. `threadpoolctl.threadpool_limits` lifts that for a block of code; the second
cell times your layer with 1, 2, … threads, as many as the machine has. Only the matrix product
runs in parallel: the copying in `im2col` does not, so by Amdahl's law the speed-up stays below
the number of threads. (On a machine shared with other work, expect noise.)

**Dilated convolution as an im2col variant.** A dilated filter (assignment 1's going further)
with taps $d$ apart is an ordinary filter of size $d(f-1) + 1$ with zeros between the taps; the
third cell runs your layer with such a zero-stuffed filter and checks one output against a
direct sum over the dilated taps. The zero-stuffed route multiplies by many zeros. Better: the dilated `X_col` has the
same $f \cdot f \cdot C$ rows as the plain one, and only the pixels it reads change. Which
single change to your `im2col` reads offset `(u, v)` at $(i s + u d,\ j s + v d)$? Write
`im2col_dilated`, check it against the zero-stuffed filter, and compare the sizes of the two
`X_col`.
'''),
    demo('''
rng = np.random.default_rng(5)
x = rng.standard_normal((16, 16, 32, 8))
w = rng.standard_normal((32, 3, 3, 32))
b = rng.standard_normal(32)
exact = conv_forward_im2col(x, w, b, pad=1)
for dtype in (np.float64, np.float32):
    args = (x.astype(dtype), w.astype(dtype), b.astype(dtype))
    seconds = best_time(conv_forward_im2col, *args, pad=1, repeats=5)
    error = np.abs(conv_forward_im2col(*args, pad=1) - exact).max() / np.abs(exact).max()
    print(f"{np.dtype(dtype).name}: {seconds * 1e3:6.2f} ms, largest error relative to the largest "
          f"output {error:.1e} (machine epsilon {np.finfo(dtype).eps:.1e})")
'''),
    demo('''
try:
    from threadpoolctl import threadpool_limits
except ImportError:
    threadpool_limits = None
    print("threadpoolctl is not installed here: pip install threadpoolctl, then rerun this cell")
if threadpool_limits is not None:
    for threads in range(1, (os.cpu_count() or 1) + 1):
        with threadpool_limits(limits=threads, user_api="blas"):
            seconds = best_time(conv_forward_im2col, x, w, b, pad=1, repeats=5)
        print(f"{threads} BLAS thread(s): {seconds * 1e3:6.2f} ms")
'''),
    demo('''
d = 2
w_small = rng.standard_normal((4, 3, 3, 32))
w_stuffed = np.zeros((4, d * 2 + 1, d * 2 + 1, 32))
w_stuffed[:, ::d, ::d, :] = w_small                  # the 3x3 taps, d pixels apart
display(plot_window_positions(9, 9, 3, stride=1, pad=0, positions=[(0, 0)], dilation=d))
out_stuffed = conv_forward_im2col(x, w_stuffed, np.zeros(4), pad=d)
i, j, k, n = 5, 7, 2, 3
taps = zero_pad(x, d)[i:i + 2 * d + 1:d, j:j + 2 * d + 1:d, :, n]     # the 3x3 dilated window
print(f"dilated 3x3 (d={d}) as a zero-stuffed {w_stuffed.shape[1]}x{w_stuffed.shape[2]} filter: "
      f"out {out_stuffed.shape}; out[{i}, {j}, {k}, {n}] = {out_stuffed[i, j, k, n]:.6f}, "
      f"direct sum over the taps {np.sum(taps * w_small[k]):.6f}")
print(f"X_col of the zero-stuffed filter has {im2col(x, w_stuffed.shape[1], 1, d).shape[0]} rows; "
      f"a dilated im2col needs {3 * 3 * 32}")
'''),
]
