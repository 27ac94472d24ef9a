"""Assignment 2: the partially vectorized layer (four loops, one vectorized window product)."""
from tools.nbbuild import answer, demo, hidden_test, markdown, visible_test
from tools.notebooks import common, functions

CELLS = [
    markdown(r'''
# Assignment 2 — Vectorizing the window

Your seven-loop layer from assignment 1 spends almost all of its time in the Python
interpreter, not in arithmetic. This assignment removes the three innermost loops — the ones
that walk through one window — and replaces them with a single array operation that numpy runs
in compiled code. Four loops remain, exactly as in the lecture's "partially vectorized" layer.

**After this notebook you can**

1. say which of the seven loops form one dot product and why they are the ones to vectorize;
2. cut one window out of the padded input with a slice, in the course's layout;
3. write `conv_single_step` (one filter on one window) and `conv_forward_partial` (four loops);
4. measure what one vectorized step costs, fit a cost model to your own timings, and use it to
   explain why the speed-up over the seven loops grows with `C·f·f`, the size of one window.
'''),
    common.HOW_TO,
    common.setup('''
from helpers.costmodel import fit_cost_model
from helpers.plots import plot_timing_curve, plot_window_positions
from helpers.timing import best_time, report_speedup
'''),
    markdown(r'''
## Given: the functions of assignment 1

So that this notebook stands on its own, the next cell defines the course's versions of
`conv_output_size`, `zero_pad` and the seven-loop `conv_forward_naive` (the baseline you will
race against), plus one small helper, `output_shape(x, w, stride, pad)`. It checks that `x` and
`w` agree on the number of channels and returns `(H_out, W_out, K, M)`, so your layers can
validate their arguments in one line.
'''),
    common.given_functions(*common.GIVEN_A1, functions.OUTPUT_SHAPE, functions.CONV_FORWARD_NAIVE,
                           grade_id="given_a1"),
    markdown(r'''
## 1. Where the time goes

Here are the seven loops again, with the cost of one pass through the body:

```
for n in range(M):                      # sample
    for k in range(K):                  # filter
        for i in range(H_out):          # output row
            for j in range(W_out):      # output column
                for u in range(f):      # ┐
                    for v in range(f):  # │ one dot product between a window
                        for c in range(C):  # ┘ and a filter: f·f·C multiply-adds
                            total += x_pad[i*s + u, j*s + v, c, n] * w[k, u, v, c]
```

The innermost line runs $M K H_\text{out} W_\text{out} \cdot f f C$ times, and every run costs
hundreds of nanoseconds of interpreter work: two index look-ups that each build a small number
object, a multiplication, an addition. The arithmetic itself is a nanosecond.

Look at what loops 5–7 compute together: for a fixed `(n, k, i, j)` they multiply the
`f × f × C` block of the input under the filter by the `f × f × C` filter, entry by entry, and
add the products. numpy has an operation for each of those two steps, and each runs over a
whole array in compiled code. The interpreter then pays once per window instead of once per
multiply-add, a saving by a factor of up to `f·f·C`.

The outer four loops stay: the lecture's partially vectorized layer walks over sample, filter,
output row and output column, cuts out the window of that output, and hands it to one
function that applies filter `k` (and its bias) to it. That function is your first task.

### Your task: `conv_single_step`

Given one window and one filter, both of shape `(f, f, C)`, and the filter's bias, return the
sum over all `f·f·C` positions of window times filter, plus the bias, as a Python `float` (not a
numpy scalar or a 0-d array). No loops: the point is that numpy walks the window, not Python.

<details><summary>Hint</summary>

Two numpy operations do it: one that multiplies two arrays of the same shape position by
position, and one that adds up every entry of an array, whatever its shape. What does `float(...)`
do to a numpy scalar?
</details>
'''),
    answer(functions.CONV_SINGLE_STEP),
    visible_test("conv_single_step", '''
# Public checks: a window worked by hand, a bias that must be added once, a (3, 3, 10) window.
from helpers.checks import check_conv_single_step
check_conv_single_step(conv_single_step)
'''),
    hidden_test("conv_single_step"),
    markdown(r'''
### What one step costs

Your function is one call into numpy, and a call has a price before any arithmetic happens:
the interpreter looks up the function, numpy checks the arrays' shapes and types, allocates the
product, and builds the result. The cell times your `conv_single_step` on windows of growing
size (3 × 3 with 1 to 1024 channels; each time is the best of five batches of 200 calls) and
fits the model

$$
t_\text{step}(F) \;=\; \beta_\text{step} + \gamma\, F, \qquad F = f \cdot f \cdot C,
$$

a fixed cost per call plus a cost per multiply-add. The plot is log–log: the flat start is
$\beta_\text{step}$, the rise at the end is $\gamma F$ taking over.
'''),
    demo('''
rng = np.random.default_rng(0)
channels = [1, 4, 16, 64, 256, 1024]
window_sizes = np.array([3 * 3 * C for C in channels])
calls = 200
step_times = []
for C in channels:
    window, kernel = rng.standard_normal((3, 3, C)), rng.standard_normal((3, 3, C))
    batch = best_time(lambda: [conv_single_step(window, kernel, 0.5) for _ in range(calls)], repeats=5)
    step_times.append(batch / calls)
step_model = fit_cost_model(step_times, {"per call": np.ones(len(channels)), "per multiply-add": window_sizes})
beta_step, gamma = step_model.coefficients["per call"], step_model.coefficients["per multiply-add"]
for F, t in zip(window_sizes, step_times):
    print(f"F = {F:5d}: {t * 1e6:6.2f} µs per call")
print(f"fitted: beta_step = {beta_step * 1e6:.2f} µs per call, gamma = {gamma * 1e9:.2f} ns per "
      f"multiply-add (largest misfit {step_model.worst:.0%})")
display(plot_timing_curve(window_sizes, {"conv_single_step": step_times},
                          models={"conv_single_step": step_model.predicted}, loglog=True,
                          xlabel="window size F = f·f·C",
                          title="one call of your conv_single_step: t = beta + gamma·F"))
'''),
    markdown(r'''
For the windows of most layers ($F$ up to a few hundred) the fixed cost is most of the time:
one call costs about the same whether it does 9 or 500 multiply-adds. That is the number to
remember for section 4.

## 2. Cutting out a window

Output `(i, j)` of sample `n` sees the rows $i s, \dots, i s + f - 1$ and the columns
$j s, \dots, j s + f - 1$ of the padded input, and all `C` channels of sample `n`: a block of
shape `(f, f, C)`. One slice of the padded input cuts it out, without copying anything.

The picture shows it on a 7 × 9 input with `pad = 1`, `f = 3` and `stride = 2`: the grey frame
is the padding, and the orange square is the window of output `(i, j) = (1, 2)`.

Things to get right in `conv_forward_partial`:

- pad once before the loops, and take the sizes from `output_shape` (given above);
- the window's rows start at a multiple of the stride, and a slice `a:b` stops *before* `b`;
- `w[k]` is already the `(f, f, C)` filter: no reshaping is needed, because the lecture's
  layout puts the filter's axes in the same order as the window's;
- keep the result's dtype: the output has the dtype of `x`.
'''),
    demo('''
display(plot_window_positions(7, 9, 3, stride=2, pad=1, positions=[(1, 2)]))
'''),
    markdown(r'''
### Your task: `conv_forward_partial`

Four loops — sample, filter, output row, output column — and one call of your
`conv_single_step` per output number.

<details><summary>Hint</summary>

Read the window's first and last padded row off the picture's title, for `(i, j) = (1, 2)` and
`stride = 2`, and write both as expressions in `i`, `stride` and `f`. The slice's end is the
first row *not* in the window.
</details>
'''),
    answer(functions.CONV_FORWARD_PARTIAL),
    visible_test("conv_forward_partial", '''
# Public checks: the hand-worked 3x3 example, the lecture's 6x6x10 layer, and stored results
# for a case with stride 2, pad 1 and H != W.
from helpers.checks import check_conv_forward
check_conv_forward(conv_forward_partial)
'''),
    hidden_test("conv_forward_partial"),
    markdown(r'''
Both layers compute the same numbers. Up to rounding, that is: the seven loops add the
products one at a time, while numpy adds them in a different order (pairwise), so the last
bits of a float can differ. Differences around $10^{-15}$ are rounding; anything larger is a bug.
'''),
    demo('''
rng = np.random.default_rng(0)
x = rng.standard_normal((7, 9, 3, 2))          # H != W on purpose
w = rng.standard_normal((4, 3, 3, 3))
b = rng.standard_normal(4)
seven = conv_forward_naive(x, w, b, stride=2, pad=1)
four = conv_forward_partial(x, w, b, stride=2, pad=1)
print("output shape:", four.shape)
print("largest difference from the seven loops:", np.abs(seven - four).max())
'''),
    markdown(r'''
## 3. How much faster?

The next cell times your four loops against the seven loops on the course's demo layer for this
comparison (the line it prints gives the sizes: windows of $9 \cdot 9 \cdot 6 = 486$ numbers),
each the best of five runs, and says what to expect: the speed-up the course's own version
reaches, and what the hidden timing test asks for. Timings on a shared machine jitter, so read
the ratio, not the milliseconds.
'''),
    demo('''
report_speedup(conv_forward_partial, conv_forward_naive)
'''),
    markdown(r'''
## 4. The speed-up grows with the window

A simple model explains the numbers. Let $P = M K H_\text{out} W_\text{out}$ be the number of
output values and $F = f \cdot f \cdot C$ the size of one window. The seven loops pay the
interpreter once per multiply-add; the four loops pay it once per window and then let numpy
do $F$ multiply-adds in compiled code:

$$
t_7 \approx P \cdot F \cdot \alpha, \qquad
t_4 \approx P \cdot (\beta + F \cdot \gamma), \qquad
\frac{t_7}{t_4} \approx \frac{F \alpha}{\beta + F \gamma},
$$

where $\alpha$ is the interpreter's cost per multiply-add, $\beta$ the four loops' cost per
window (your $\beta_\text{step}$ plus slicing the window and storing the result) and $\gamma$
numpy's cost per multiply-add. While $\beta$ dominates, the speed-up grows in proportion to
$F$; it levels off at $\alpha/\gamma$ once $F\gamma$ catches up with $\beta$.

The cell below measures both layers on an 8 × 8 image (one sample, two 3 × 3 filters) with
more and more channels, so that $F = 9C$ runs from 9 to 576, fits $\alpha$ to the seven loops
and $\beta$, $\gamma$ to the four loops (each time the best of three runs), and draws the
measured speed-up with the model's on log–log axes.
'''),
    demo('''
rng = np.random.default_rng(2)
channels = [1, 3, 8, 16, 32, 64]
window_sizes = np.array([3 * 3 * C for C in channels])
seven_times, four_times = [], []
for C in channels:
    x = rng.standard_normal((8, 8, C, 1))
    w = rng.standard_normal((2, 3, 3, C))
    b = rng.standard_normal(2)
    seven_times.append(best_time(conv_forward_naive, x, w, b, repeats=3))
    four_times.append(best_time(conv_forward_partial, x, w, b, repeats=3))
P = np.prod(output_shape(x, w))                     # H_out * W_out * K * M, the same for every C
seven_model = fit_cost_model(seven_times, {"per multiply-add": P * window_sizes})
four_model = fit_cost_model(four_times, {"per window": np.full(len(channels), P),
                                         "per multiply-add": P * window_sizes})
alpha = seven_model.coefficients["per multiply-add"]
beta, gamma = four_model.coefficients["per window"], four_model.coefficients["per multiply-add"]
print(f"fitted: alpha = {alpha * 1e9:.0f} ns per multiply-add in the interpreter, "
      f"beta = {beta * 1e6:.1f} µs per window, gamma = {gamma * 1e9:.2f} ns per multiply-add in numpy")
speedups = np.array(seven_times) / np.array(four_times)
predicted = seven_model.predicted / four_model.predicted
for F, s, m in zip(window_sizes, speedups, predicted):
    print(f"C*f*f = {F:4d}: 4 loops are {s:6.1f}x faster than 7 loops (model: {m:6.1f}x)")
print(f"the model levels off at alpha/gamma = {alpha / max(gamma, 1e-12):.0f}x, "
      f"reached around F = beta/gamma = {beta / max(gamma, 1e-12):.0f}")
display(plot_timing_curve(window_sizes, {"speed-up": speedups}, models={"speed-up": predicted},
                          loglog=True, xlabel="window size F = C·f·f", ylabel="t_7 / t_4",
                          title="speed-up of 4 loops over 7 loops: F·alpha / (beta + F·gamma)"))
'''),
    markdown(r'''
On log–log axes the measured speed-up climbs along a nearly straight line of slope 1: doubling
the window roughly doubles it, as the model predicts while $\beta$ dominates. The same
reasoning tells you when the partial layer is still poor: many small windows. A 3 × 3 filter on
a single-channel image has $F = 9$, and the four loops then buy next to nothing.

## What is left

Four Python loops still run once per output value: $M K H_\text{out} W_\text{out}$ times, and
each pass costs microseconds ($\beta$ above). A 32 × 32 image with "same" padding, 16 filters and
a batch of 32 already means $32 \cdot 32 \cdot 16 \cdot 32 = 524{,}288$ passes. Assignment 3
removes the last four loops by copying every window into one big matrix (`im2col`), so that all
the dot products become a single matrix multiplication.

## Going further (optional)

**Windows without copies.** numpy can present every window of an array at once as a *view*: a
new shape and new strides over the same memory, with nothing copied.
`np.lib.stride_tricks.sliding_window_view(x_pad, (f, f), axis=(0, 1))` has one entry per window
position and puts the window's two axes last. The cell shows its shape and strides, checks that
it shares memory with `x_pad`, and computes what a copy of it would cost.

- Which index of the view is the window of output `(i, j)` when the stride is 2? (The view knows
  nothing about strides.)
- `np.einsum` can multiply the view with `w` and sum over the three window axes `(u, v, c)` in
  one call, for every output at once: no Python loop left. Work out the subscripts (the view's
  axes are `(row, column, c, n, u, v)`), write the layer, check it against your four loops and
  time it. Then measure its speed with `np.einsum(..., optimize=True)` and without, and read
  assignment 3 for why a single matrix product is the fastest way to do this contraction.
'''),
    demo('''
rng = np.random.default_rng(4)
x = rng.standard_normal((12, 10, 16, 2))
x_pad = zero_pad(x, 1)
view = np.lib.stride_tricks.sliding_window_view(x_pad, (3, 3), axis=(0, 1))
print(f"x_pad {x_pad.shape}, strides {x_pad.strides} bytes")
print(f"view  {view.shape}, strides {view.strides} bytes")
print("shares memory with x_pad:", np.shares_memory(view, x_pad))
print(f"x_pad holds {x_pad.nbytes / 1e3:.1f} kB; a copy of every window would hold "
      f"{view.size * view.itemsize / 1e3:.1f} kB ({view.size / x_pad.size:.1f}x)")
'''),
]
