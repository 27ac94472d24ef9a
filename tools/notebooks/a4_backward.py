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
5. check gradients numerically, say how accurate that check is and why, and measure what the
   vectorized backward pass buys.
'''),
    common.HOW_TO,
    common.setup('''
from helpers.gradcheck import GRADIENT_TOLERANCE, numerical_gradient, rel_error
from helpers.plots import plot_col2im_scatter, plot_overlap_counts, plot_speedups, plot_timing_curve
from helpers.timing import best_time, report_speedup
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

In loop form: visit every output `(n, k, i, j)` once, and work with whole windows (slices), not
single pixels, as the partially vectorized forward layer did. Each visit contributes to
`db[k]`, to all of `dw[k]`, and to one window's worth of `dx_pad`. Two questions to answer
before you write it: windows overlap, so what must a visit do to the part of `dx_pad` that an
earlier visit already wrote? And which slice removes the border for every `pad`, including
`pad = 0` (assignment 1's trap)?

### Your task: `conv_backward_naive`

Loop over `(n, k, i, j)` and use slices for the window. Give `dx`, `dw` and `db` the dtype of `x`. Raise `ValueError` if `dout` does not have the
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
forward pass, and see how $L = \sum \text{out} \cdot \text{dout}$ (a loss whose gradient with
respect to `out` is exactly `dout`) changes:

$$
\frac{\partial L}{\partial x_e} \approx \frac{L(x + h\,e) - L(x - h\,e)}{2h}.
$$

`numerical_gradient` does this for every entry of an array, and `rel_error` compares the
result with your analytic gradient.

**How accurate is this?** For a general function the central difference has a truncation error
of order $h^2$. The convolutional layer is special: it is *linear* in each of `x`, `w` and `b`
(fix two of them and `out`, hence $L$, is a linear function of the third), and for a linear
function the central difference is exact, whatever $h$. What remains is roundoff: $L$ is
computed with a relative error of about $\varepsilon \approx 10^{-16}$, and dividing the
difference by $2h$ magnifies it to about $\varepsilon |L| / h$. With the default $h = 10^{-5}$ a
correct gradient therefore gives a relative error of $10^{-10}$ to $10^{-7}$ on this notebook's
layers (the largest on the entries nearest to zero), and the course uses one threshold, `GRADIENT_TOLERANCE` $= 10^{-6}$ (from `helpers.gradcheck`; the grader's is
the same), with room for larger layers. A wrong gradient typically gives something near 1.
The second cell below measures the error against $h$: on log–log axes it falls with slope −1,
the signature of pure roundoff.

The case uses stride 2, pad 1 and an input with `H ≠ W`, because gradients that ignore the
stride or the padding look fine at stride 1 and pad 0.
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
    verdict = ("agrees" if error < GRADIENT_TOLERANCE
               else "DISAGREES: look at how this gradient is accumulated")
    print(f"{name}: relative error {error:.1e}  {verdict} (threshold {GRADIENT_TOLERANCE:.0e})")
'''),
    demo('''
steps = [1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]
errors = [rel_error(dw, numerical_gradient(lambda v: conv_forward_im2col(x, v, b, stride, pad),
                                           w, dout, h=h)) for h in steps]
slope = np.polyfit(np.log10(steps), np.log10(errors), 1)[0]
print(f"relative error of dw against h: slope {slope:.2f} on log-log axes "
      f"(roundoff alone: -1; a truncation error would make it rise again for large h)")
display(plot_timing_curve(steps, {"dw": errors}, loglog=True, xlabel="step h", ylabel="relative error",
                          title=f"gradient check of dw: error against h (slope {slope:.2f})"))
'''),
    markdown(r'''
## 2. The backward graph of the im2col layer

The im2col forward pass is a chain of simple steps, and so is its backward pass. Written as a
graph, with $F = f \cdot f \cdot C$ and $P = H_\text{out} W_\text{out} M$:

```
forward                                          backward (right to left)

x ──im2col──▶ X_col (F, P) ──┐                   dx ◀──col2im── dX_col = W_rowᵀ · dout_mat
                             ├─▶ out_mat (K, P) ──reshapes──▶ out
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

The reshapes around it are undone by the inverse steps, in reverse order. `dout` arrives in the
layout `(H_out, W_out, K, M)`; the fully-connected backward pass needs it as
$d\text{out}_\text{mat}$, in exactly the layout your forward pass gave `out_mat`: `(K, P)`, with
its columns in `(i, j, n)` order. Likewise the filters' gradient comes out as `(K, F)` and goes
back to the shape of `w`.

One step is not a reshape: `im2col` itself. Its backward pass is `col2im`.

**dx is a convolution too.** Write the input rule of section 1 for stride 1 the other way round:
$dx_\text{pad}[a, b, c, n] = \sum_{k, u, v} \text{dout}[a - u, b - v, k, n]\, w[k, u, v, c]$. That
is a *true* convolution (the filter runs backwards) of `dout` with the filters, in which `k`
and `c` have swapped roles, over every position where the filter touches `dout`: a "full"
convolution, or a cross-correlation with the flipped filters and $f - 1$ zeros of padding. The
backward pass of a convolution is a convolution; section 4 checks it on your function.
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

The first picture runs `col2im` by hand on an `X_col` of ones (a 3 × 4 input, 2 × 2 windows,
stride 1): each panel adds one more column onto its window, and the last panel holds, for every
pixel, the number of windows that contained it. The heatmaps that follow show that count for
two more layers: with `f = 3`, stride 1, pad 1 the inside pixels are covered nine times, the
corners four; with stride 2 and no padding the count alternates between 1, 2 and 4.
'''),
    demo('''
display(plot_col2im_scatter(3, 4, 2, stride=1, pad=0))
display(plot_overlap_counts(6, 6, 3, stride=1, pad=1))
display(plot_overlap_counts(7, 7, 3, stride=2, pad=0))
'''),
    markdown(r'''
A trap specific to numpy: fancy indexing with `+=` does **not** add twice when an index
repeats. `a[idx] += v` reads `a[idx]`, adds, and writes back, so the last write wins.
`np.add.at` handles repeats correctly. It used to be notoriously slow; numpy 1.25 rewrote it.
The cell shows the difference, then measures with this notebook's numpy what each way costs per
added number (best of five runs on a million numbers): a slice `+=`, which never has repeated
indices, and `np.add.at` with random, repeating indices.
'''),
    demo('''
a = np.zeros(3)
a[[0, 0, 1]] += 1.0
b_at = np.zeros(3)
np.add.at(b_at, [0, 0, 1], 1.0)
print("a[[0, 0, 1]] += 1          ->", a, "  (index 0 counted once)")
print("np.add.at(b, [0, 0, 1], 1) ->", b_at)

rng = np.random.default_rng(1)
values = rng.standard_normal(1_000_000)
target = np.zeros(values.size)
index = rng.integers(0, 1000, values.size)
small = np.zeros(1000)

def slice_add():
    target[:] += values

def add_at():
    np.add.at(small, index, values)

per_slice = best_time(slice_add, repeats=5) / values.size
per_add_at = best_time(add_at, repeats=5) / values.size
print(f"numpy {np.__version__}: slice += {per_slice * 1e9:.2f} ns per number, "
      f"np.add.at {per_add_at * 1e9:.2f} ns per number ({per_add_at / per_slice:.1f}x)")
'''),
    markdown(r'''
So `np.add.at` is a correct tool and, in this numpy, not a slow one; its price is the index
arrays you must build for it. The other way around the repeats needs no index arrays at all.
It mirrors your `im2col`: loop over the `f·f` offsets `(u, v)`. For a fixed offset, the entries
of `X_col` that hold offset `(u, v)` of every window go back to one strided grid of the padded
input, the same grid `im2col` read them from, and within one offset no two windows share a
pixel. So one in-place addition onto that grid adds each of them exactly once, and the overlaps
are summed across the `f·f` passes. Finally drop the padding border: the gradient is with
respect to the *unpadded* input.

<details><summary>Hint</summary>

Run your `im2col` backwards: the same view of `X_col` by offset, the same grids of `x_pad`, the
copy in the opposite direction, `+=` instead of `=`, and the axes moved back to `x_pad`'s order.
</details>

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

Put the graph of section 2 into code. The function is stateless: it gets `x`, not a cache from
the forward pass, so it rebuilds what it needs. The rest is the fully-connected backward pass,
the forward's reshapes undone in reverse order, and `col2im` for the one step that is not a
reshape.

<details><summary>Hint: turning dout into dout_mat</summary>

`dout` has the axes `(i, j, k, n)`. `dout_mat` needs the layout your forward pass gave
`out_mat`: `k` first, then the columns in `(i, j, n)` order. A reshape never moves an axis,
so which step has to come first, and which permutation undoes the one in your
`conv_forward_im2col`? Check your answer on a `dout` with different sizes on every axis.
</details>

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
    error = rel_error(analytic, numeric[name])
    print(f"{name}: relative error {error:.1e} against the numerical gradient "
          f"({'below' if error < GRADIENT_TOLERANCE else 'ABOVE'} {GRADIENT_TOLERANCE:.0e}), "
          f"{rel_error(analytic, looped):.1e} against the loops")
'''),
    markdown(r'''
And the claim of section 2: at stride 1 and no padding, `dx` is the cross-correlation of `dout`
with the flipped filters, their `k` and `c` axes swapped, with $f - 1$ zeros of padding. The
given forward layer computes that directly.
'''),
    demo('''
rng = np.random.default_rng(6)
x = rng.standard_normal((7, 6, 3, 2))
w = rng.standard_normal((4, 3, 3, 3))
f = w.shape[1]
dout = rng.standard_normal(output_shape(x, w))
dx = conv_backward_im2col(dout, x, w)[0]
w_back = w[:, ::-1, ::-1, :].transpose(3, 1, 2, 0)          # (C, f, f, K): flipped, k and c swapped
full = conv_forward_im2col(dout, w_back, np.zeros(x.shape[2]), stride=1, pad=f - 1)
print(f"dx {dx.shape}, full convolution of dout {full.shape}, "
      f"largest difference {np.abs(dx - full).max():.1e}")
'''),
    markdown(r'''
## 5. What the vectorized backward pass buys

Both backward passes run on the course's demo layer for this comparison: 32 × 32 images with
3 channels, a batch of 4, eight 3 × 3 filters, `pad = 1`. The loop version runs its body
$M K H_\text{out} W_\text{out} = 4 \cdot 8 \cdot 32 \cdot 32 = 32{,}768$ times; the im2col
version makes two matrix products and `f·f = 9` slice additions. Each time is the best of three
runs, and the cell says what to expect.
'''),
    demo('''
result = report_speedup(conv_backward_im2col, conv_backward_naive, repeats=3, warmup=0)
if result is not None:
    display(plot_speedups({"loops": result["baseline_seconds"], "im2col + col2im": result["seconds"]},
                          baseline="loops", title="backward pass, 32x32x3 images, batch 4, 8 filters 3x3"))
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
whose cost grows only slowly with the filter size.

## Going further (optional)

**Why the gradient check runs in float64.** The roundoff estimate of section 1, $\varepsilon
|L| / h$, has $\varepsilon \approx 1.2 \cdot 10^{-7}$ in float32. The first cell repeats the
check of `dw` with every array in float32. Predict the relative error before you run it. What
would you have to change to check a float32 layer at all?

**Transposed convolution.** `col2im` applied to $W_\text{row}^\top\, d\text{out}_\text{mat}$ is
what libraries call a *transposed convolution* (sometimes, misleadingly, "deconvolution"): the
adjoint of the forward convolution. Decoders and generative networks use it as a learnable
upsampling layer: with stride 2 every input value stamps a copy of the filter onto the output,
2 pixels apart, and the overlaps add up. You have already written one: the `dx` of your
`conv_backward_im2col`, fed with the small map as `dout` and a zero `x` of the large size. The
second cell upsamples a 4 × 4 map to 8 × 8 that way, with a 4 × 4 filter at stride 2 and
`pad = 1`, whose taps are the products of $(\tfrac14, \tfrac34, \tfrac34, \tfrac14)$: bilinear
interpolation. How would you write `conv_transpose(z, w, stride, pad)` so that it does not
need a dummy `x`? And what output sizes can a stride-2 transposed convolution produce from a
4 × 4 input?
'''),
    demo('''
rng = np.random.default_rng(7)
x = rng.standard_normal((5, 6, 2, 2))
w = rng.standard_normal((3, 3, 3, 2))
b = rng.standard_normal(3)
dout = rng.standard_normal(output_shape(x, w, 2, 1))
dw = conv_backward_im2col(dout, x, w, 2, 1)[1]
for dtype in (np.float64, np.float32):
    x_t, w_t, b_t, dout_t = (a.astype(dtype) for a in (x, w, b, dout))
    numeric = numerical_gradient(lambda v: conv_forward_im2col(x_t, v, b_t, 2, 1), w_t, dout_t)
    print(f"{np.dtype(dtype).name}: relative error of the numerical dw {rel_error(dw, numeric):.1e}")
'''),
    demo('''
small_map = np.zeros((4, 4, 1, 1))
small_map[1, 1], small_map[2, 3], small_map[3, 0] = 1.0, -1.0, 0.5
taps = np.array([0.25, 0.75, 0.75, 0.25])
bilinear = np.outer(taps, taps).reshape(1, 4, 4, 1)          # (K=1, f=4, f=4, C=1)
upsampled = conv_backward_im2col(small_map, np.zeros((8, 8, 1, 1)), bilinear, stride=2, pad=1)[0]
fig, axes = plt.subplots(1, 2, figsize=(8, 3.6), layout="constrained")
for ax, image, title in [(axes[0], small_map, "dout"), (axes[1], upsampled, "dx, the transposed convolution")]:
    limit = np.abs(image).max()
    shown = ax.imshow(image[:, :, 0, 0], cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.colorbar(shown, ax=ax, shrink=0.8)
    ax.set_title(f"{title}: {image.shape[0]}x{image.shape[1]}")
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()
'''),
]
