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
3. write the layer as `w.reshape(K, -1) @ X_col`, reshaped back to `(H_out, W_out, K, M)`;
4. rebuild the lecture's `(6, 90)·(90, 16)` example and AlexNet's `363 × 3025` matrix;
5. measure what the speed costs in memory, and time all three versions of the layer side by side.
'''),
    common.HOW_TO,
    common.setup('''
from helpers.plots import plot_im2col, plot_speedups, plot_xcol_memory
from helpers.timing import compare_timings, estimate_by_scaling, time_function
'''),
    markdown(r'''
## Given: the functions of assignments 1 and 2

The next cell defines the course's `conv_output_size`, `zero_pad` and `output_shape` (which
checks `x` against `w` and returns `(H_out, W_out, K, M)`), and both slower layers,
`conv_forward_naive` (seven loops) and `conv_forward_partial` (four loops, using
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
column `(u·f + v)·C + c` of `W_row`. Row `r` of `X_col` must hold the pixel that this weight
multiplies, and that gives the row formula. Order the window as `(c, u, v)` instead and every
shape still matches while the numbers come out wrong.

**Why this column order.** The product `W_row @ X_col` has shape `(K, H_out·W_out·M)`. With
columns ordered `(i, j, n)`, `reshape(K, H_out, W_out, M)` splits the column index back into
`i, j, n`, and `transpose(1, 2, 0, 3)` moves the filter axis into third place, giving the
layout `(H_out, W_out, K, M)`.

**How to build it without looping over windows.** Build a 6-D array
`cols[u, v, c, i, j, n]` and reshape it to `(f·f·C, H_out·W_out·M)` at the end: row-major
reshaping then produces exactly the row and column numbers above. To fill it, loop over the
`f·f` offsets `(u, v)` only. For a fixed offset, the pixel at offset `(u, v)` of *every* window
is a strided slice of the padded input,

```
x_pad[u : u + stride·H_out : stride,  v : v + stride·W_out : stride]    -> (H_out, W_out, C, M)
```

which you transpose to `(C, H_out, W_out, M)` and store in `cols[u, v]`. That is `f·f` numpy
operations, however large the image and the batch.

The hand example of assignment 1 (a 3 × 3 input, 2 × 2 filter) in this form: the four windows
become the columns

$$
X_\text{col} = \begin{pmatrix} 1 & 2 & 4 & 5 \\ 2 & 3 & 5 & 6 \\ 4 & 5 & 7 & 8 \\ 5 & 6 & 8 & 9
\end{pmatrix}, \qquad
(1\ 2\ 3\ 4) \cdot X_\text{col} = (37\ \ 47\ \ 67\ \ 77).
$$

### Your task: `im2col`

Return a new array with the dtype of `x`; never modify `x`. Use `conv_output_size` for the
sizes (it also rejects a filter that does not fit) and `zero_pad` for the padding.
'''),
    answer(functions.IM2COL),
    visible_test("im2col", '''
# Public checks: the 3x3 example above, then stored matrices that pin down the row order
# (u, v, c) and the column order (i, j, n), with stride 2, pad 1 and H != W.
from helpers.checks import check_im2col
check_im2col(im2col)
'''),
    hidden_test("im2col"),
    demo('''
x_hand = np.arange(1, 10, dtype=float).reshape(3, 3, 1, 1)
X_hand = im2col(x_hand, 2)
print("X_col of the 3x3 example:\\n", X_hand)
print("(1 2 3 4) @ X_col =", np.array([1.0, 2.0, 3.0, 4.0]) @ X_hand)
'''),
    markdown(r'''
## 3. The layer in three lines

With `X_col` in hand, the layer is

```
X_col   = im2col(x, f, stride, pad)                        # (f·f·C, H_out·W_out·M)
out_mat = w.reshape(K, -1) @ X_col + b[:, None]            # (K, H_out·W_out·M)
out     = out_mat.reshape(K, H_out, W_out, M).transpose(1, 2, 0, 3)
```

In general, with $F = f \cdot f \cdot C$ and $N = H_\text{out} W_\text{out} M$, the product is
$(K, F)\cdot(F, N) = (K, N)$. The bias is one number per filter, that is per **row** of
`out_mat`: `b[:, None]` has shape `(K, 1)` and broadcasts along the row. Adding `b` with shape
`(K,)` would broadcast along the wrong axis (and fail, or worse, succeed when `N == K`).

A frequent bug is to reshape `out_mat` straight to `(H_out, W_out, K, M)`. The number of
elements agrees, so numpy does not complain, but the filter index is the *slowest* one in
`out_mat` and must be split off first; only the transpose moves it into place.

### Your task: `conv_forward_im2col`

Return an array with the dtype of `x`. No Python loops at all in this function.
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
## 4. The lecture's example and AlexNet

The lecture's layer takes a `6 × 6 × 10` input and six `3 × 3 × 10` filters, stride 1, no
padding. Each window holds $3 \cdot 3 \cdot 10 = 90$ numbers, there are $4 \cdot 4 = 16$
windows, so $X_\text{col}$ is `(90, 16)`, the filters become `(6, 90)`, their product is
`(6, 16)`, and the reshape gives the `(4, 4, 6)` output volume (with the sample axis:
`(4, 4, 6, 1)`). The cell checks each step's shape and compares the result with the four-loop
layer.
'''),
    demo('''
rng = np.random.default_rng(0)
x = rng.standard_normal((6, 6, 10, 1))
w = rng.standard_normal((6, 3, 3, 10))
b = rng.standard_normal(6)
X_col = im2col(x, 3)
W_row = w.reshape(6, -1)
out_mat = W_row @ X_col
out = conv_forward_im2col(x, w, b)
print(f"W_row {W_row.shape} . X_col {X_col.shape} = {out_mat.shape}  ->  out {out.shape}")
print("largest difference from the four-loop layer:",
      np.abs(out - conv_forward_partial(x, w, b)).max())
'''),
    markdown(r'''
AlexNet's first layer reads a `227 × 227 × 3` image with 96 filters of `11 × 11 × 3` at stride
4. Each window holds $11 \cdot 11 \cdot 3 = 363$ numbers and there are
$\bigl((227 - 11)/4 + 1\bigr)^2 = 55^2 = 3025$ windows, so $X_\text{col}$ is `363 × 3025`, the
filters are `96 × 363`, the product `96 × 3025`, reshaped to `55 × 55 × 96`. Running the loop
layers on it would take minutes, so the cell checks three output values against a direct
window sum instead.
'''),
    demo('''
rng = np.random.default_rng(1)
x = rng.standard_normal((227, 227, 3, 1))
w = rng.standard_normal((96, 11, 11, 3))
b = rng.standard_normal(96)
X_col = im2col(x, 11, stride=4)
seconds = time_function(conv_forward_im2col, x, w, b, stride=4, repeats=1, warmup=0)
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

Every pixel is copied into `X_col` once per window that contains it. With stride 1 and
"same" padding that is about $f^2$ copies, with stride $s$ about $(f/s)^2$. Exactly:

$$
\frac{\text{bytes of } X_\text{col}}{\text{bytes of } x}
= \frac{f^2 C \cdot H_\text{out} W_\text{out} M}{H W C M}
= \frac{f^2 \, H_\text{out} W_\text{out}}{H W}.
$$

The cell measures it on three layers, then plots the ratio for a 32 × 32 input against the
filter size, for strides 1, 2 and 4 (without padding).
'''),
    demo('''
layers = [("the lecture, 6x6x10, f=3", (6, 6, 10, 1), 3, 1, 0),
          ("CIFAR-like, 32x32x3, f=3, pad 1", (32, 32, 3, 1), 3, 1, 1),
          ("AlexNet conv1, 227x227x3, f=11, stride 4", (227, 227, 3, 1), 11, 4, 0)]
for name, shape, f, stride, pad in layers:
    x = np.ones(shape)
    X_col = im2col(x, f, stride, pad)
    print(f"{name:<42} x: {x.nbytes / 1e6:7.3f} MB   X_col: {X_col.nbytes / 1e6:7.3f} MB"
          f"   ratio {X_col.nbytes / x.nbytes:4.1f}")
display(plot_xcol_memory(32, 32, 3, 1))
'''),
    markdown(r'''
For the usual 3 × 3 filters the matrix is about nine times the input; an 11 × 11 filter at
stride 1 makes it dozens of times larger. On a GPU with a large batch that is the difference between
fitting in memory and not, which is why production libraries build `X_col` in tiles (or avoid
it altogether) rather than all at once.

## 6. Three layers, one case

Now the payoff. The three versions of the layer run on the same CIFAR-sized case: 32 × 32 RGB
images, a batch of 32, sixteen 3 × 3 filters, `pad = 1` (the `cifar` row of the course's
benchmark table, so the two can be compared).

The loop versions would take seconds here, so they are **timed on one sample and scaled up** by
the ratio of multiply-adds (32×): their running time is proportional to the number of windows,
which is proportional to the batch. The im2col layer is timed on the full batch. Both times are
medians of a few runs on a shared machine, so read the ratios, not the milliseconds.
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
    "4 loops (estimated)": estimate_by_scaling(conv_forward_partial, (x_one, w, b), macs_one,
                                               macs_full, pad=1, repeats=1, warmup=0),
    "im2col": time_function(conv_forward_im2col, x, w, b, pad=1, repeats=5),
}
for name, seconds in timings.items():
    print(f"{name:<22} {seconds * 1e3:9.1f} ms   "
          f"{timings['7 loops (estimated)'] / seconds:7.0f}x faster than 7 loops")
display(plot_speedups(timings, baseline="7 loops (estimated)",
                      title="forward pass, 32x32x3 images, batch 32, 16 filters 3x3"))
'''),
    markdown(r'''
The im2col layer comes out hundreds to thousands of times faster than the seven loops: the
"200× or more" the lecture promises, with room to spare. The four loops gain little here: a
window of this layer holds only $3 \cdot 3 \cdot 3 = 27$ numbers, and each of their
$M K H_\text{out} W_\text{out}$ passes still costs microseconds of interpreter time
(assignment 2's model in action).

## What is left

You have the forward pass that real frameworks built on for years. Training also needs the
backward pass: the gradients with respect to `x`, `w` and `b`. Assignment 4 derives them, first
with loops, then through `im2col` again — which needs its adjoint, `col2im`, the one step that
is more than a reshape.
'''),
]
