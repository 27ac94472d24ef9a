"""Assignment 2: the partially vectorized layer (three loops, one matrix-vector product per window)."""
from tools.nbbuild import answer, demo, hidden_test, markdown, visible_test
from tools.notebooks import common, functions

CELLS = [
    markdown(r'''
# Assignment 2 — Vectorizing the window

Your seven-loop layer from assignment 1 spends almost all of its time in the Python
interpreter, not in arithmetic. This assignment removes the three innermost loops — the ones
that walk through one window — and replaces them with array operations that numpy runs in
compiled code. The lecture's "partially vectorized" layer stops there, with four loops, and
applies one filter at a time. You will go one step further: all `K` filters meet the window in
one matrix–vector product, so the filter loop goes too and three loops remain.

**After this notebook you can**

1. say which of the seven loops form one dot product and why they are the ones to vectorize;
2. lay the filters out as the rows of a matrix so that one product applies all of them;
3. cut one window out of the padded input with a slice, in the course's layout;
4. write `conv_single_step` (all filters on one window) and `conv_forward_partial` (three loops);
5. measure what one vectorized step costs, fit a cost model to your own timings, and use it to
   explain why the speed-up over the seven loops grows with the work of one call.
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

Now look at loop 2, over the filters. For a fixed window, the `K` filters compute `K` such
dot products with *the same* window. Write each filter out as one row of `f·f·C` numbers and
stack the rows: the `K` dot products are then one product of a `(K, f·f·C)` matrix with the
window written out as a vector of `f·f·C` numbers,

$$
\text{out}[i, j, k, n] \;=\; \sum_{r} W[k, r]\, \mathbf{x}_{ij n}[r] + b[k],
\qquad r \text{ running over the window's } (u, v, c),
$$
where $\mathbf{x}_{ijn}$ is the window of output $(i, j)$ of sample $n$ written out as a vector.
numpy computes a matrix–vector product in one call. The only thing to get right is the
order: entry `r` of row `k` and entry `r` of the window vector must be the same `(u, v, c)`.

Three loops stay: sample, output row and output column. Each cuts out the window of one output
position and hands it to one function that applies every filter, with its bias, to it. That
function is your first task.

### Your task: `conv_single_step`

Given one window `x_slice` of shape `(f, f, C)`, all the filters `w` of shape `(K, f, f, C)` and
the biases `b` of shape `(K,)`, return the array of shape `(K,)` whose entry `k` is the sum over
all `f·f·C` positions of window times filter `k`, plus `b[k]`, in the dtype of the inputs. No
Python loops: not over the window, and not over the filters.

<details><summary>Hint</summary>

Which shape must `w` take so that its rows are the filters, and which shape must the window
take to be multiplied by it? Both come from a reshape. numpy reshapes in "C order": the last
axis varies fastest. Is the order of a filter's numbers in its row then the order of the
window's numbers in its vector? Check on the hand-worked window below, with two filters.
</details>
'''),
    answer(functions.CONV_SINGLE_STEP),
    visible_test("conv_single_step", '''
# Public checks: a window worked by hand with two filters, a (3, 3, 10) window with the lecture's 6 filters.
from helpers.checks import check_conv_single_step
check_conv_single_step(conv_single_step)
'''),
    hidden_test("conv_single_step"),
    markdown(r'''
### What one step costs

Your function is a few calls into numpy, and a call has a price before any arithmetic
happens: the interpreter looks up the function, numpy checks the arrays' shapes and types,
allocates the result, and builds it. The cell times your `conv_single_step` with 8 filters on
windows of growing size (3 × 3 with 1 to 1024 channels; each time is the best of five batches of
200 calls) and fits the model

$$
t_\text{step}(F) \;=\; \beta_\text{step} + \gamma\, K F, \qquad F = f \cdot f \cdot C,
$$

a fixed cost per call plus a cost per multiply-add ($K F$ of them per call). The plot is
log–log: the flat start is $\beta_\text{step}$, the rise at the end is $\gamma K F$ taking over.
'''),
    demo('''
rng = np.random.default_rng(0)
channels = [1, 4, 16, 64, 256, 1024]
K = 8
window_sizes = np.array([3 * 3 * C for C in channels])
calls = 200
step_times = []
for C in channels:
    window, filters, biases = rng.standard_normal((3, 3, C)), rng.standard_normal((K, 3, 3, C)), rng.standard_normal(K)
    batch = best_time(lambda: [conv_single_step(window, filters, biases) for _ in range(calls)], repeats=5)
    step_times.append(batch / calls)
step_model = fit_cost_model(step_times, {"per call": np.ones(len(channels)),
                                         "per multiply-add": K * window_sizes})
beta_step, gamma = step_model.coefficients["per call"], step_model.coefficients["per multiply-add"]
for F, t in zip(window_sizes, step_times):
    print(f"F = {F:5d}, K*F = {K * F:5d}: {t * 1e6:6.2f} µs per call")
print(f"fitted: beta_step = {beta_step * 1e6:.2f} µs per call, gamma = {gamma * 1e9:.2f} ns per "
      f"multiply-add (largest misfit {step_model.worst:.0%})")
display(plot_timing_curve(K * window_sizes, {"conv_single_step": step_times},
                          models={"conv_single_step": step_model.predicted}, loglog=True,
                          xlabel="multiply-adds of one call K·F = K·f·f·C",
                          title=f"one call of your conv_single_step, K = {K}: t = beta + gamma·K·F"))
'''),
    markdown(r'''
For the work of most calls ($K F$ up to about a thousand) the fixed cost is most of the time:
one call costs about the same whether it does 72 or 1,152 multiply-adds (compare the first
lines printed). That is the number to remember for section 4, and the reason to give each call
all the filters at once.

## 2. Cutting out a window

Output `(i, j)` of sample `n` sees the rows $i s, \dots, i s + f - 1$ and the columns
$j s, \dots, j s + f - 1$ of the padded input, and all `C` channels of sample `n`: a block of
shape `(f, f, C)`. One slice of the padded input cuts it out, without copying anything.

The picture shows it on a 7 × 9 input with `pad = 1`, `f = 3` and `stride = 2`: the grey frame
is the padding, and the orange square is the window of output `(i, j) = (1, 2)`.

Things to get right in `conv_forward_partial`:

- pad once before the loops, and take the sizes from `output_shape` (given above);
- the window's rows start at a multiple of the stride, and a slice `a:b` stops *before* `b`;
- the window's axes `(f, f, C)` come in the same order as a filter's, `w[k]`: that is what lets
  `conv_single_step` pair them by position;
- one call of `conv_single_step` fills all `K` outputs of a position at once;
- keep the result's dtype: the output has the dtype of `x`.
'''),
    demo('''
display(plot_window_positions(7, 9, 3, stride=2, pad=1, positions=[(1, 2)]))
'''),
    markdown(r'''
### Your task: `conv_forward_partial`

Three loops — sample, output row, output column — and one call of your `conv_single_step`
per window, which gives that position's `K` output numbers.

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
three = conv_forward_partial(x, w, b, stride=2, pad=1)
print("output shape:", three.shape)
print("largest difference from the seven loops:", np.abs(seven - three).max())
'''),
    markdown(r'''
## 3. How much faster?

The next cell times your three loops against the seven loops on the course's demo layer for this
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

A simple model explains the numbers. Let $N = M H_\text{out} W_\text{out}$ be the number of
windows and $F = f \cdot f \cdot C$ the size of one window; the layer does $N K F$
multiply-adds. The seven loops pay the interpreter once per multiply-add; the three loops pay
it once per window and then let numpy do $K F$ multiply-adds in compiled code:

$$
t_7 \approx N K F \cdot \alpha, \qquad
t_3 \approx N \cdot (\beta + K F \cdot \gamma), \qquad
\frac{t_7}{t_3} \approx \frac{K F \alpha}{\beta + K F \gamma},
$$

where $\alpha$ is the interpreter's cost per multiply-add, $\beta$ the three loops' cost per
window (your $\beta_\text{step}$ plus slicing the window and storing the result) and $\gamma$
numpy's cost per multiply-add. While $\beta$ dominates, the speed-up grows in proportion to
$K F$, the work of one call; it levels off at $\alpha/\gamma$ once $K F \gamma$ catches up
with $\beta$.

The cell below measures both layers on an 8 × 8 image (one sample, two 3 × 3 filters) with
more and more channels, so that $K F = 18 C$ runs from 18 to 18,432, fits $\alpha$ to the
seven loops and $\beta$, $\gamma$ to the three loops (each time the best of three runs), and
draws the measured speed-up with the model's on log–log axes. The seven loops take about a
second on the largest window.
'''),
    demo('''
rng = np.random.default_rng(2)
channels = [1, 4, 16, 64, 256, 1024]
window_sizes = np.array([3 * 3 * C for C in channels])
seven_times, three_times = [], []
for C in channels:
    x = rng.standard_normal((8, 8, C, 1))
    w = rng.standard_normal((2, 3, 3, C))
    b = rng.standard_normal(2)
    seven_times.append(best_time(conv_forward_naive, x, w, b, repeats=3))
    three_times.append(best_time(conv_forward_partial, x, w, b, repeats=3))
H_out, W_out, K, M = output_shape(x, w)             # the same for every C
N = H_out * W_out * M                               # windows
work = N * K * window_sizes                         # multiply-adds of each layer
seven_model = fit_cost_model(seven_times, {"per multiply-add": work})
three_model = fit_cost_model(three_times, {"per window": np.full(len(channels), N),
                                           "per multiply-add": work})
alpha = seven_model.coefficients["per multiply-add"]
beta, gamma = three_model.coefficients["per window"], three_model.coefficients["per multiply-add"]
print(f"fitted: alpha = {alpha * 1e9:.0f} ns per multiply-add in the interpreter, "
      f"beta = {beta * 1e6:.1f} µs per window, gamma = {gamma * 1e9:.2f} ns per multiply-add in numpy")
speedups = np.array(seven_times) / np.array(three_times)
predicted = seven_model.predicted / three_model.predicted
for KF, s, m in zip(K * window_sizes, speedups, predicted):
    print(f"K*F = {KF:5d}: 3 loops are {s:6.1f}x faster than 7 loops (model: {m:6.1f}x)")
print(f"the model levels off at alpha/gamma = {alpha / max(gamma, 1e-12):.0f}x, "
      f"reached around K*F = beta/gamma = {beta / max(gamma, 1e-12):.0f}")
display(plot_timing_curve(K * window_sizes, {"speed-up": speedups}, models={"speed-up": predicted},
                          loglog=True, xlabel="work of one call K·F = K·C·f·f", ylabel="t_7 / t_3",
                          title="speed-up of 3 loops over 7 loops: K·F·alpha / (beta + K·F·gamma)"))
'''),
    markdown(r'''
On log–log axes the measured speed-up climbs along a nearly straight line of slope 1 up to
$K F$ of about a thousand: doubling the work of a call roughly doubles it, as the model predicts
while $\beta$ dominates. Then the line bends: numpy's own work, $\gamma K F$, is no longer small
against $\beta$, and the speed-up heads for $\alpha/\gamma$, the interpreter's cost per
multiply-add over numpy's (the cell prints both). The same reasoning tells you when the partial layer is still poor: many windows with little work each. A
single 3 × 3 filter on a single-channel image has $K F = 9$, and the three loops then buy next
to nothing; the lecture's four loops, one filter per call, are in that regime whenever $F$ is
small, however many filters the layer has.

## What is left

Three Python loops still run once per window: $M H_\text{out} W_\text{out}$ times, and each
pass costs microseconds ($\beta$ above). A 32 × 32 image with "same" padding and a batch of 32
already means $32 \cdot 32 \cdot 32 = 32{,}768$ passes. Your `conv_single_step` multiplies one
window vector by the filter matrix; assignment 3 puts *every* window's vector side by side as
the columns of one big matrix (`im2col`), so that all those matrix–vector products become a
single matrix–matrix product.

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
  axes are `(row, column, c, n, u, v)`), write the layer, check it against your three loops and
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
