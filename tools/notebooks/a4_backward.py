"""Assignment 4: the backward pass, with loops and through im2col / col2im."""
from tools.nbbuild import answer, demo, hidden_test, markdown, visible_test
from tools.notebooks import common, functions

CELLS = [
    markdown(r'''
# Assignment 4 — The backward pass

Training a network needs, for every layer, the gradient of the loss with respect to the layer's
input and parameters, given the gradient with respect to its output. For the convolutional
layer that means turning `dout` (shape of `out`) into `dx`, `dw` and `db` (shapes of `x`, `w`,
`b`). You write it twice: with loops that mirror the forward pass, and through `im2col`, where
the layer is a fully-connected layer in disguise and the only new piece is `col2im`.

**After this notebook you can**

1. derive `dx`, `dw` and `db` from the layer's formula;
2. write the backward pass with loops over output positions;
3. draw the im2col layer's backward graph as a fully-connected layer plus reshapes;
4. explain why `col2im` must *add* where windows overlap, and prove it correct with the adjoint
   identity;
5. check gradients numerically, and measure what the vectorized backward pass buys.
'''),
    common.HOW_TO,
    common.setup('''
from helpers.gradcheck import numerical_gradient, rel_error
from helpers.plots import plot_overlap_counts, plot_speedups
from helpers.timing import compare_timings
'''),
    markdown(r'''
## Given: the forward pass

The next cell defines the course's `conv_output_size`, `zero_pad`, `output_shape` (checks `x`
against `w`, returns `(H_out, W_out, K, M)`), `im2col` and `conv_forward_im2col`. The numerical
gradient checks below differentiate this forward pass.
'''),
    common.given_functions(*common.GIVEN_A1, functions.OUTPUT_SHAPE, functions.IM2COL,
                           functions.CONV_FORWARD_IM2COL, grade_id="given_forward"),
    markdown(r'''
## 1. What the backward pass must return

The forward pass computes, for every output position,

$$
\text{out}[i, j, k, n] = b[k] + \sum_{u, v, c} x_\text{pad}[i s + u,\ j s + v,\ c,\ n]\;
w[k, u, v, c].
$$

The loss $L$ depends on the layer only through `out`, and `dout[i, j, k, n]` $=
\partial L / \partial\,\text{out}[i, j, k, n]$ is given. By the chain rule, the gradient with
respect to anything is the sum, over all outputs it touches, of `dout` times the local
derivative:

- **bias.** `b[k]` enters every output of filter `k` with derivative 1:
  $$db[k] = \sum_{i, j, n} \text{dout}[i, j, k, n].$$
- **filters.** `w[k, u, v, c]` multiplies the pixel at offset `(u, v, c)` of every window:
  $$dw[k, u, v, c] = \sum_{i, j, n} \text{dout}[i, j, k, n]\; x_\text{pad}[i s + u,\ j s + v,\ c,\ n].$$
  Sum over **all samples**: the filters are shared by the batch. Taking one sample's
  contribution (often the last one, left over from a loop) is a classic bug.
- **input.** A padded pixel appears in every window that covers it, each time multiplied by
  a different weight, so its gradient collects one term per (window, filter):
  $$dx_\text{pad}[i s + u,\ j s + v,\ c,\ n] \mathrel{+}= \text{dout}[i, j, k, n]\; w[k, u, v, c]
  \quad\text{for all } i, j, k, u, v.$$
  Then `dx` is `dx_pad` without the padding border: the padding zeros are constants, not
  inputs, and `dx` must have the shape of `x`.

In loop form the recipe is: for every output position `(i, j)` of filter `k` and sample `n`,
let `g = dout[i, j, k, n]`; add `g` to `db[k]`, add `g` times the window to `dw[k]`, and add
`g` times the filter `w[k]` onto the window's place in `dx_pad`. Windows overlap, so that last
step must be `+=`, never `=`. Cut the border off with `dx_pad[pad:pad + H, pad:pad + W]`, which
is also right when `pad == 0` (unlike `[pad:-pad]`).

### Your task: `conv_backward_naive`

Loop over `(n, k, i, j)` and use slices for the window, as in the partially vectorized forward
layer. Create `dw` and `db` with the dtype of `x`. Raise `ValueError` if `dout` does not have the
output's shape.
'''),
    answer(functions.CONV_BACKWARD_NAIVE),
    visible_test("conv_backward_naive", '''
# Public checks: shapes of dx, dw, db, then stored gradients for a case with stride 2, pad 1,
# H != W and several samples (so dw and db must sum over the batch).
from helpers.checks import check_conv_backward
check_conv_backward(conv_backward_naive)
'''),
    hidden_test("conv_backward_naive"),
    markdown(r'''
### Checking gradients numerically

A gradient can be checked without any derivation: nudge one input number by $\pm h$, rerun the
forward pass, and see how $\sum \text{out} \cdot \text{dout}$ (a loss whose gradient with
respect to `out` is exactly `dout`) changes:

$$
\frac{\partial L}{\partial x_e} \approx \frac{L(x + h\,e) - L(x - h\,e)}{2h}.
$$

`numerical_gradient` does this for every entry of an array, and `rel_error` compares the
result with your analytic gradient. In float64 a correct gradient gives a relative error of
about $10^{-7}$ or smaller (the finite difference itself is only that accurate); a wrong one
typically gives something near 1. The case below uses stride 2,
pad 1 and an input with `H ≠ W`, because gradients that ignore the stride or the padding look
fine at stride 1 and pad 0.
'''),
    demo('''
rng = np.random.default_rng(0)
x = rng.standard_normal((5, 6, 2, 2))
w = rng.standard_normal((3, 3, 3, 2))
b = rng.standard_normal(3)
stride, pad = 2, 1
dout = rng.standard_normal(conv_forward_im2col(x, w, b, stride, pad).shape)

dx, dw, db = conv_backward_naive(dout, x, w, stride, pad)
numeric = {
    "dx": numerical_gradient(lambda v: conv_forward_im2col(v, w, b, stride, pad), x, dout),
    "dw": numerical_gradient(lambda v: conv_forward_im2col(x, v, b, stride, pad), w, dout),
    "db": numerical_gradient(lambda v: conv_forward_im2col(x, w, v, stride, pad), b, dout),
}
for name, analytic in [("dx", dx), ("dw", dw), ("db", db)]:
    error = rel_error(analytic, numeric[name])
    verdict = "agrees" if error < 1e-6 else "DISAGREES: look at how this gradient is accumulated"
    print(f"{name}: relative error {error:.1e}  {verdict}")
'''),
    markdown(r'''
## 2. The backward graph of the im2col layer

The im2col forward pass is a chain of simple steps, and so is its backward pass. Written as a
graph, with $F = f \cdot f \cdot C$ and $P = H_\text{out} W_\text{out} M$:

```
forward                                          backward (right to left)

x ──im2col──▶ X_col (F, P) ──┐                   dx ◀──col2im── dX_col = W_rowᵀ · dout_mat
                             ├─▶ out_mat (K, P) ──reshape, transpose──▶ out
w ──reshape─▶ W_row (K, F) ──┘     = W_row · X_col + b          dW_row = dout_mat · X_colᵀ ──reshape──▶ dw
b ───────────────────────────┘                                  db = dout_mat summed over its P columns
```

The middle is exactly a fully-connected layer, $Y = W X + b$, with the windows as the batch of
input vectors. Its backward pass is the one you know:

$$
dW_\text{row} = d\text{out}_\text{mat}\, X_\text{col}^\top, \qquad
dX_\text{col} = W_\text{row}^\top\, d\text{out}_\text{mat}, \qquad
db = \textstyle\sum_\text{columns} d\text{out}_\text{mat}.
$$

The reshapes and transposes around it are undone by the opposite reshapes and transposes.
The forward pass turned `out_mat` into `out` with `reshape(K, H_out, W_out, M)` and
`transpose(1, 2, 0, 3)`, so the backward pass turns `dout` back with
`transpose(2, 0, 1, 3)` (which puts the filter axis first again) and `reshape(K, -1)`. Both
reshapes are row-major, so they invert each other. `dW_row.reshape(w.shape)` undoes
`w.reshape(K, -1)` in the same way.

One step is not a reshape: `im2col` itself. Its backward pass is `col2im`.
'''),
    markdown(r'''
## 3. col2im: copies in the forward pass become sums in the backward pass

`im2col` copies each input pixel into every column whose window contains it. A copy is a
"fan-out": one value feeds several places. If a value $x$ feeds copies $y_1, \dots, y_m$, then
$\partial L/\partial x = \sum_t \partial L/\partial y_t$, because a change of $x$ changes every
copy. So `col2im` takes the gradient with respect to `X_col` and, for every input pixel, **adds
up** the entries of all the columns that held a copy of it. Where windows do not overlap (stride
at least `f`) each pixel has at most one copy and an assignment would do; everywhere else,
assigning (`=`) keeps only the last window's contribution and silently loses the others.

The heatmaps count how many windows cover each pixel: that is how many terms `col2im` sums
there. With `f = 3`, stride 1, pad 1 (first map) the interior pixels are covered nine times;
with stride 2 and no padding (second map) the count alternates between 1, 2 and 4.
'''),
    demo('''
display(plot_overlap_counts(6, 6, 3, stride=1, pad=1))
display(plot_overlap_counts(7, 7, 3, stride=2, pad=0))
'''),
    markdown(r'''
A trap specific to numpy: fancy indexing with `+=` does **not** add twice when an index
repeats. `a[idx] += v` reads `a[idx]`, adds, and writes back, so the last write wins.
`np.add.at` handles repeats correctly but is slow. The cell shows the difference.
'''),
    demo('''
a = np.zeros(3)
a[[0, 0, 1]] += 1.0
b = np.zeros(3)
np.add.at(b, [0, 0, 1], 1.0)
print("a[[0, 0, 1]] += 1        ->", a, "  (index 0 counted once)")
print("np.add.at(b, [0, 0, 1], 1) ->", b)
'''),
    markdown(r'''
The fast way around both problems loops over the `f·f` offsets `(u, v)`, as your `im2col` did.
For a fixed offset, the pixels at offset `(u, v)` of the different windows are all *distinct*
(they are a strided slice of the padded input), so one slice `+=` adds each of them exactly once;
the overlaps are summed across the `f·f` passes:

```
cols = X_col.reshape(f, f, C, H_out, W_out, M)
for u in range(f):
    for v in range(f):
        x_pad[u : u + stride·H_out : stride, v : v + stride·W_out : stride] += cols[u, v] moved to (H_out, W_out, C, M)
```

Finally drop the padding border: the gradient is with respect to the *unpadded* input.

**The adjoint identity.** `im2col` is a linear map from inputs to matrices, and `col2im` is
its transpose (its *adjoint*). For every input `x` and every matrix `Y` of `X_col`'s shape,

$$
\langle \operatorname{im2col}(x),\ Y \rangle \;=\; \langle x,\ \operatorname{col2im}(Y) \rangle,
$$

where $\langle A, B \rangle = \sum A \cdot B$. This single equation, checked on random `x` and
`Y`, tests every index of `col2im` at once. Note what it does *not* say: `col2im(im2col(x))` is
not `x` but `x` times the overlap counts above.

### Your task: `col2im`

Return an array of shape `x_shape` with the dtype of `X_col`. Raise `ValueError` if `X_col`
does not have the shape `im2col` would produce for `x_shape`, `f`, `stride` and `pad`.
'''),
    answer(functions.COL2IM),
    visible_test("col2im", '''
# Public checks: the adjoint identity with the given im2col, the overlap counts of
# col2im(im2col(ones)), and stored results with stride 2, pad 1, H != W.
from helpers.checks import check_col2im
check_col2im(col2im, im2col)
'''),
    hidden_test("col2im"),
    demo('''
rng = np.random.default_rng(1)
x = rng.standard_normal((6, 7, 2, 3))
for f, stride, pad in [(3, 1, 1), (3, 2, 0), (4, 3, 2)]:
    Y = rng.standard_normal(im2col(x, f, stride, pad).shape)
    left = np.sum(im2col(x, f, stride, pad) * Y)
    right = np.sum(x * col2im(Y, x.shape, f, stride, pad))
    print(f"f={f}, stride={stride}, pad={pad}:  <im2col(x), Y> = {left: .10f}   "
          f"<x, col2im(Y)> = {right: .10f}")
ones = np.ones((6, 6, 1, 1))
print("col2im(im2col(ones)) with f=3, stride 1, pad 1 = the overlap counts:")
print(col2im(im2col(ones, 3, 1, 1), ones.shape, 3, 1, 1)[:, :, 0, 0])
'''),
    markdown(r'''
## 4. The backward pass through im2col

Put the graph of section 2 into code:

1. rebuild `X_col = im2col(x, f, stride, pad)` (the backward function is stateless: it gets
   `x`, not a cache);
2. `dout_mat = dout.transpose(2, 0, 1, 3).reshape(K, -1)`;
3. `dw` from `dout_mat @ X_col.T`, reshaped to `w.shape`; `db` as the row sums of `dout_mat`;
4. `dX_col = w.reshape(K, -1).T @ dout_mat`, and `dx = col2im(dX_col, x.shape, f, stride, pad)`.

### Your task: `conv_backward_im2col`

No loops in this function (your `col2im` has its `f·f` ones). Return `(dx, dw, db)` with the
shapes of `x`, `w` and `(K,)`, and the dtype of `x`.
'''),
    answer(functions.CONV_BACKWARD_IM2COL),
    visible_test("conv_backward_im2col", '''
# Public checks: shapes of dx, dw, db, then stored gradients for a case with stride 2, pad 1,
# H != W and several samples.
from helpers.checks import check_conv_backward
check_conv_backward(conv_backward_im2col)
'''),
    hidden_test("conv_backward_im2col"),
    demo('''
rng = np.random.default_rng(2)
x = rng.standard_normal((6, 5, 3, 2))
w = rng.standard_normal((4, 3, 3, 3))
b = rng.standard_normal(4)
stride, pad = 1, 2
dout = rng.standard_normal(conv_forward_im2col(x, w, b, stride, pad).shape)
dx, dw, db = conv_backward_im2col(dout, x, w, stride, pad)
numeric = {
    "dx": numerical_gradient(lambda v: conv_forward_im2col(v, w, b, stride, pad), x, dout),
    "dw": numerical_gradient(lambda v: conv_forward_im2col(x, v, b, stride, pad), w, dout),
    "db": numerical_gradient(lambda v: conv_forward_im2col(x, w, v, stride, pad), b, dout),
}
loops = conv_backward_naive(dout, x, w, stride, pad)
for name, analytic, looped in zip(("dx", "dw", "db"), (dx, dw, db), loops):
    print(f"{name}: relative error {rel_error(analytic, numeric[name]):.1e} against the "
          f"numerical gradient, {rel_error(analytic, looped):.1e} against the loops")
'''),
    markdown(r'''
## 5. What the vectorized backward pass buys

Both backward passes run on the same case: 16 × 16 images with 8 channels, a batch of 2, eight
3 × 3 filters, `pad = 1`. The loop version runs its body $M K H_\text{out} W_\text{out} = 4096$
times; the im2col version makes two matrix products and `f·f = 9` slice additions.
'''),
    demo('''
rng = np.random.default_rng(3)
x = rng.standard_normal((16, 16, 8, 2))
w = rng.standard_normal((8, 3, 3, 8))
dout = rng.standard_normal((16, 16, 8, 2))
timings = compare_timings({"loops": conv_backward_naive, "im2col + col2im": conv_backward_im2col},
                          args=(dout, x, w), kwargs={"stride": 1, "pad": 1},
                          baseline="loops", repeats=3)
display(plot_speedups(timings, baseline="loops",
                      title="backward pass, 16x16x8 images, batch 2, 8 filters 3x3"))
'''),
    markdown(r'''
The gap is smaller than the forward pass's hundreds because the loop version here already
works on whole windows (four loops, not seven); against scalar loops it would be far larger.
What matters more is how the two scale: the loops pay microseconds per output position, so a
bigger image or batch makes them proportionally slower, while the matrix products get *more*
efficient as they grow.

## What is left

With forward and backward through `im2col`, you have the layer most frameworks used for years.
Assignment 5 looks at a completely different route to the same numbers: the Fourier transform,
whose cost does not grow with the filter size at all.
'''),
]
