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
4. measure the speed-up over the seven loops and explain why it grows with `C·f·f`, the size
   of one window.
'''),
    common.HOW_TO,
    common.setup('''
from matplotlib.patches import Rectangle

from helpers.plots import plot_timing_curve
from helpers.timing import compare_timings, time_function
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
add the products. numpy does exactly that in one call:

```
window = x_pad[i*s : i*s + f, j*s : j*s + f, :, n]     # shape (f, f, C)
np.sum(window * w[k]) + b[k]                           # w[k] has shape (f, f, C) too
```

The interpreter now pays once per window instead of once per multiply-add, a saving by a factor
of up to `f·f·C`. The outer four loops stay: the lecture's partially vectorized layer is

```
for n in range(M):
    for k in range(K):
        for i in range(H_out):
            for j in range(W_out):
                out[i, j, k, n] = conv_single_step(window(i, j, n), w[k], b[k])
```

### Your task: `conv_single_step`

Multiply the window by the filter element-wise, sum everything, add the bias, and return a
Python `float`. No loops. The two arrays always have the same shape `(f, f, C)`.
'''),
    answer(functions.CONV_SINGLE_STEP),
    visible_test("conv_single_step", '''
# Public checks: a window worked by hand, a bias that must be added once, a (3, 3, 10) window.
from helpers.checks import check_conv_single_step
check_conv_single_step(conv_single_step)
'''),
    hidden_test("conv_single_step"),
    markdown(r'''
## 2. Cutting out a window

Output `(i, j)` of sample `n` sees the rows `i·s … i·s + f − 1` and the columns
`j·s … j·s + f − 1` of the padded input, and all `C` channels. As a slice:

```
x_pad[i*s : i*s + f,  j*s : j*s + f,  :,  n]        -> shape (f, f, C)
```

The picture shows it on a 7 × 9 input with `pad = 1`, `f = 3` and `stride = 2`: the grey frame is
the padding, and the coloured square is the window of output `(i, j) = (1, 2)`, which starts at
padded row `1·2 = 2` and padded column `2·2 = 4`.

Things to get right in `conv_forward_partial`:

- pad once before the loops, and take the sizes from `output_shape` (given above);
- the slice's end is `start + f`, and the start includes the stride;
- `w[k]` is already the `(f, f, C)` filter: no reshaping is needed, because the lecture's
  layout puts the filter's axes in the same order as the window's;
- keep the result's dtype: create `out` with `dtype=x.dtype`.
'''),
    demo('''
H_pic, W_pic, p_pic, f_pic, s_pic, i_pic, j_pic = 7, 9, 1, 3, 2, 1, 2
fig, ax = plt.subplots(figsize=(6.5, 5.2))
ax.set_xlim(-0.5, W_pic + 2 * p_pic - 0.5)
ax.set_ylim(H_pic + 2 * p_pic - 0.5, -0.5)
for r in range(H_pic + 2 * p_pic):
    for c in range(W_pic + 2 * p_pic):
        border = r < p_pic or c < p_pic or r >= H_pic + p_pic or c >= W_pic + p_pic
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor="0.85" if border else "white",
                               edgecolor="0.6"))
top, left = i_pic * s_pic, j_pic * s_pic
ax.add_patch(Rectangle((left - 0.5, top - 0.5), f_pic, f_pic, facecolor="tab:orange", alpha=0.5,
                       edgecolor="tab:red", linewidth=2.5))
ax.set_title(f"x_pad[{top}:{top + f_pic}, {left}:{left + f_pic}, :, n]  is the window of output "
             f"(i, j) = ({i_pic}, {j_pic})")
ax.set_xlabel("padded column")
ax.set_ylabel("padded row")
plt.show()
'''),
    markdown(r'''
### Your task: `conv_forward_partial`

Four loops — sample, filter, output row, output column — and one call of your
`conv_single_step` per output number.
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
products one at a time, while `np.sum` adds them in a different order (pairwise), so the last
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

The next cell times both layers on the same input: 12 × 12 pixels with 16 channels, two
samples, four 3 × 3 filters, `pad = 1`. Each window holds `3·3·16 = 144` numbers. Timings on a
shared machine jitter, so read the ratio, not the milliseconds.
'''),
    demo('''
rng = np.random.default_rng(1)
x = rng.standard_normal((12, 12, 16, 2))
w = rng.standard_normal((4, 3, 3, 16))
b = rng.standard_normal(4)
timings = compare_timings({"7 loops": conv_forward_naive, "4 loops": conv_forward_partial},
                          args=(x, w, b), kwargs={"stride": 1, "pad": 1},
                          baseline="7 loops", repeats=3)
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

where $\alpha$ (a few hundred ns) is the interpreter's cost per multiply-add, $\beta$ (a few
µs: slicing, calling, creating the result) its cost per window, and $\gamma$ (about a ns)
numpy's cost per multiply-add. For small windows $\beta$ dominates and the speed-up grows in
proportion to $F$; it would level off only when $F\gamma$ catches up with $\beta$, at windows of
thousands of numbers.

The cell below checks the model: it keeps the image (8 × 8, one sample, two 3 × 3 filters)
and raises the number of channels, so that $F = 9C$ runs from 9 to 576.
'''),
    demo('''
rng = np.random.default_rng(2)
channels = [1, 3, 8, 16, 32, 64]
window_sizes, seven_times, four_times = [], [], []
for C in channels:
    x = rng.standard_normal((8, 8, C, 1))
    w = rng.standard_normal((2, 3, 3, C))
    b = rng.standard_normal(2)
    window_sizes.append(3 * 3 * C)
    seven_times.append(time_function(conv_forward_naive, x, w, b, repeats=3))
    four_times.append(time_function(conv_forward_partial, x, w, b, repeats=3))

speedups = [s / p for s, p in zip(seven_times, four_times)]
for F, s in zip(window_sizes, speedups):
    print(f"C*f*f = {F:4d}: 4 loops are {s:6.1f}x faster than 7 loops")

display(plot_timing_curve(window_sizes, {"7 loops": seven_times, "4 loops": four_times},
                          xlabel="window size C·f·f",
                          title="time of one forward pass (8x8 image, 2 filters)"))

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(window_sizes, speedups, "o-")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("window size C·f·f")
ax.set_ylabel("speed-up of 4 loops over 7 loops")
ax.set_title("the speed-up grows with the window")
ax.grid(True, which="both", alpha=0.3)
plt.show()
'''),
    markdown(r'''
On a log–log plot the speed-up climbs along a nearly straight line: doubling the window
roughly doubles it, as the model predicts while $\beta$ dominates. The same reasoning tells you
when the partial layer is still poor: many small windows. A 3 × 3 filter on a single-channel
image has $F = 9$, and the four loops then buy next to nothing.

## What is left

Four Python loops still run once per output value: $M K H_\text{out} W_\text{out}$ times, and
each pass costs microseconds. A 32 × 32 image with 16 filters and a batch of 32 already means
half a million passes. Assignment 3 removes the last four loops by copying every window into one
big matrix (`im2col`), so that all the dot products become a single matrix multiplication.
'''),
]
