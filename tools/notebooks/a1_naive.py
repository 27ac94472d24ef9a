"""Assignment 1: the convolutional layer written as seven loops."""
from tools.nbbuild import answer, demo, hidden_test, markdown, visible_test
from tools.notebooks import common, functions

CELLS = [
    markdown(r'''
# Assignment 1 — A convolutional layer, one multiply-add at a time

A convolutional layer slides a set of small filters over an image and, at every position,
takes a weighted sum of the pixels under the filter. Libraries hide this behind one call. In
this assignment you write it with nothing but loops, so that every later, faster version in
the course has a plain reference point you understand completely.

**After this notebook you can**

1. name the shape of every array of the layer in the course's layout, `(H, W, C, M)`;
2. compute how many outputs a layer produces for any filter size, stride and padding, and
   explain why the formula rounds down;
3. pad an input with zeros on its two spatial axes, and only those;
4. write the forward pass as seven nested loops and say what each loop walks over;
5. check your layer against a small example worked by hand, and watch it find edges in a
   photograph.

You write three functions: `conv_output_size`, `zero_pad` and `conv_forward_naive`.
'''),
    common.HOW_TO,
    common.setup('''
from matplotlib import cbook
from matplotlib.patches import Rectangle

from helpers.timing import time_function
'''),
    markdown(r'''
## 1. The layer and its shapes

The layer has three kinds of array, plus two integers that describe how the filters move:

| array | shape | what it holds |
|---|---|---|
| `x` | `(H, W, C, M)` | `M` input images (samples), each `H` rows by `W` columns with `C` channels |
| `w` | `(K, f, f, C)` | `K` filters; each is an `f × f` square that reaches through **all** `C` channels |
| `b` | `(K,)` | one bias per filter |
| `out` | `(H_out, W_out, K, M)` | for every sample, one `H_out × W_out` map per filter |

- `stride` $s$: how many pixels a filter moves between neighbouring positions;
- `pad` $p$: how many rows and columns of zeros surround the image before the filters slide.

The batch is the **last** axis. That is the lecture's convention; PyTorch stores a batch as
`(M, C, H, W)` and TensorFlow as `(M, H, W, C)`. The arithmetic is the same in every layout, only
the indexing changes, so read every index in this course with care.

Output number `(i, j, k, n)` — row `i`, column `j`, filter `k`, sample `n` — is

$$
\text{out}[i, j, k, n] \;=\; b[k] \;+\; \sum_{u=0}^{f-1}\sum_{v=0}^{f-1}\sum_{c=0}^{C-1}
x_{\text{pad}}[\,i s + u,\; j s + v,\; c,\; n\,]\; w[k, u, v, c].
$$

In words: put filter `k` with its top-left corner on pixel `(i·s, j·s)` of the padded sample
`n`, multiply each weight by the pixel under it, add everything up, add the bias.

Strictly speaking this is a *cross-correlation*: the filter is used as it is, not mirrored. A
true mathematical convolution would flip the filter first. Every deep-learning library computes
the unflipped version and still calls it convolution, and so does this course; the difference
matters again in assignment 5.
'''),
    markdown(r'''
## 2. How many outputs?

Look at one axis, say the rows. The padded input has $H + 2p$ rows. The window covers rows
`top … top + f − 1`, and `top` takes the values $0, s, 2s, \dots$ as long as the window stays
inside, that is while $\text{top} + f \le H + 2p$. The last allowed `top` is the largest
multiple of $s$ that is at most $H + 2p - f$, so the number of positions is

$$
H_\text{out} = \left\lfloor \frac{H + 2p - f}{s} \right\rfloor + 1,
\qquad\text{and likewise}\qquad
W_\text{out} = \left\lfloor \frac{W + 2p - f}{s} \right\rfloor + 1 .
$$

Worked examples:

| case | $n$ | $f$ | $s$ | $p$ | $\frac{n + 2p - f}{s}$ | output |
|---|---|---|---|---|---|---|
| AlexNet's first layer | 227 | 11 | 4 | 0 | 216 / 4 = 54 | **55** |
| the lecture's layer | 6 | 3 | 1 | 0 | 3 / 1 = 3 | **4** |
| a size that does not tile | 8 | 3 | 2 | 0 | 5 / 2 = 2.5 | **3** |
| "same" padding | 32 | 3 | 1 | 1 | 31 / 1 = 31 | **32** |

The third row is the one to remember. The windows start at rows 0, 2 and 4 and cover rows
0 … 6; row 7 is never the start of a full window, because a window starting at 6 would need a
row 8 that does not exist. So the fraction is rounded **down**. Rounding up (or to the nearest
integer) invents a window that hangs off the edge. This is the rule PyTorch uses too: leftover
rows and columns are simply dropped.

If the filter is larger than the padded input ($f > n + 2p$) no window fits at all. That is
an error in the caller's sizes, and your function should say so with a `ValueError` whose
message names the sizes, rather than return zero or a negative count.
'''),
    markdown(r'''
### Your task: `conv_output_size`

Implement the formula for one axis. Use integer floor division `//`: it rounds down and keeps
the result a Python `int`, whereas `/` gives a float that you would still have to round (and
`round` or `math.ceil` round the wrong way for sizes that do not tile). Raise `ValueError`
when the filter does not fit, when `stride < 1`, or when `pad < 0`.
'''),
    answer(functions.CONV_OUTPUT_SIZE),
    visible_test("conv_output_size", '''
# Public checks: the worked examples above and a few more, including a filter that does not fit.
from helpers.checks import check_conv_output_size
check_conv_output_size(conv_output_size)
'''),
    hidden_test("conv_output_size"),
    markdown(r'''
A second opinion on the table above: count the window positions directly with `range`, which
steps by the stride and stops before the last start that would not fit. Your formula and the
direct count must agree on every row.
'''),
    demo('''
examples = [("AlexNet conv1", 227, 11, 4, 0), ("the lecture", 6, 3, 1, 0),
            ("does not tile", 8, 3, 2, 0), ("same padding", 32, 3, 1, 1),
            ("tall stride", 10, 4, 3, 2)]
print(f"{'case':<15}{'n':>5}{'f':>4}{'s':>4}{'p':>4}{'formula':>9}{'counted':>9}")
for name, n, f, s, p in examples:
    counted = len(range(0, n + 2 * p - f + 1, s))     # every legal top row of a window
    print(f"{name:<15}{n:>5}{f:>4}{s:>4}{p:>4}{conv_output_size(n, f, s, p):>9}{counted:>9}")
'''),
    markdown(r'''
## 3. Zero padding

Without padding every layer shrinks the image: a 3 × 3 filter turns 32 × 32 into 30 × 30, and
the border pixels take part in fewer windows than the central ones. Surrounding the image with
`pad` rows and columns of zeros fixes both: with $p = (f-1)/2$ and stride 1 the output has the
input's size ("same" padding), and every pixel can be the centre of a window.

Only the two spatial axes are padded. Padding the channel axis would add fake channels that no
filter expects; padding the sample axis would add blank images to the batch. For `x` of shape
`(H, W, C, M)` the result has shape `(H + 2p, W + 2p, C, M)` and holds `x` in the middle:

```
x_pad[p : p + H, p : p + W, :, :] == x
```

A common trap is to write the middle as `x_pad[p:-p, p:-p]`. It works for `p ≥ 1` and silently
breaks for `p = 0`, where `0:-0` is the empty slice `0:0`. Write the end as `p + H`.

### Your task: `zero_pad`

Return a **new** array (never modify `x`) of the same dtype as `x`.
'''),
    answer(functions.ZERO_PAD),
    visible_test("zero_pad", '''
# Public checks: shapes, zeros in the border, the input in the middle, pad = 0, x unchanged.
from helpers.checks import check_zero_pad
check_zero_pad(zero_pad)
'''),
    hidden_test("zero_pad"),
    markdown(r'''
Here is what your function does to a 3 × 4 single-channel image with `pad = 2`. The original
pixels keep their values (framed); everything around them is zero.
'''),
    demo('''
small = np.arange(1, 13, dtype=float).reshape(3, 4, 1, 1)
padded = zero_pad(small, 2)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), gridspec_kw={"width_ratios": [4, 8]})
for ax, image, title in [(axes[0], small, "x: (3, 4, 1, 1)"),
                         (axes[1], padded, "zero_pad(x, 2): (7, 8, 1, 1)")]:
    plane = image[:, :, 0, 0]
    ax.imshow(plane, cmap="Blues", vmin=0, vmax=16)
    for (r, c), value in np.ndenumerate(plane):
        ax.text(c, r, f"{value:g}", ha="center", va="center")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
axes[1].add_patch(Rectangle((1.5, 1.5), 4, 3, fill=False, edgecolor="crimson", linewidth=2.5))
plt.show()
'''),
    markdown(r'''
## 4. Seven loops

Read the formula of section 1 as a program. Four loops choose *which* output number to
compute, and three more compute it:

| loop | runs over | range |
|---|---|---|
| 1 | sample `n` | `M` |
| 2 | filter `k` | `K` |
| 3 | output row `i` | `H_out` |
| 4 | output column `j` | `W_out` |
| 5 | window row `u` | `f` |
| 6 | window column `v` | `f` |
| 7 | channel `c` | `C` |

Loops 5–7 are one dot product between the window under the filter and the filter itself:
$f \cdot f \cdot C$ multiply-adds. Loops 1–4 repeat it $M \cdot K \cdot H_\text{out} \cdot
W_\text{out}$ times. The whole layer therefore costs

$$
M \cdot K \cdot H_\text{out} \cdot W_\text{out} \cdot f \cdot f \cdot C
\quad\text{multiply-adds.}
$$

Things to get right:

- pad once, before the loops, with your `zero_pad`, and size the output with your
  `conv_output_size` (it also rejects a filter that does not fit);
- the window of output `(i, j)` starts at row `i * stride` and column `j * stride` of the
  **padded** input: leaving the stride out of the index is a classic bug that only shows when
  `stride > 1`;
- the bias is added once per output number, and it is the bias of filter `k`;
- keep `H` and `W` apart: a test on square images cannot tell them apart, but ours use
  `H ≠ W`;
- if `x` and `w` disagree on `C`, raise a `ValueError` that shows both shapes;
- create `out` with `dtype=x.dtype` so that float32 inputs give float32 outputs.

### Your task: `conv_forward_naive`

Write all seven loops, in the order of the table. Do not vectorize anything yet; that is the
subject of assignment 2, and this version is the baseline it is measured against.
'''),
    answer(functions.CONV_FORWARD_NAIVE),
    visible_test("conv_forward_naive", '''
# Public checks: the hand-worked 3x3 example, the lecture's 6x6x10 layer, and stored results
# for a case with stride 2, pad 1 and H != W.
from helpers.checks import check_conv_forward
check_conv_forward(conv_forward_naive)
'''),
    hidden_test("conv_forward_naive"),
    markdown(r'''
## 5. The small example, by hand

The course's smallest example convolves a 3 × 3 input with one 2 × 2 filter, stride 1, no
padding, no bias. The output is $(3 - 2)/1 + 1 = 2$ by 2. Take

$$
X = \begin{pmatrix} 1 & 2 & 3 \\ 4 & 5 & 6 \\ 7 & 8 & 9 \end{pmatrix}, \qquad
W = \begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}.
$$

Each output is the filter laid over one 2 × 2 window, multiplied entry by entry, and summed:

| output | window | sum |
|---|---|---|
| `(0, 0)` | $\begin{smallmatrix} 1 & 2 \\ 4 & 5 \end{smallmatrix}$ | 1·1 + 2·2 + 4·3 + 5·4 = **37** |
| `(0, 1)` | $\begin{smallmatrix} 2 & 3 \\ 5 & 6 \end{smallmatrix}$ | 2·1 + 3·2 + 5·3 + 6·4 = **47** |
| `(1, 0)` | $\begin{smallmatrix} 4 & 5 \\ 7 & 8 \end{smallmatrix}$ | 4·1 + 5·2 + 7·3 + 8·4 = **67** |
| `(1, 1)` | $\begin{smallmatrix} 5 & 6 \\ 8 & 9 \end{smallmatrix}$ | 5·1 + 6·2 + 8·3 + 9·4 = **77** |

A flipped filter $\begin{smallmatrix} 4 & 3 \\ 2 & 1 \end{smallmatrix}$ (a true convolution)
would give 1·4 + 2·3 + 4·2 + 5·1 = 23 in the first position instead: if your layer prints 23,
you are flipping somewhere. The cell below puts the example in the course's layout
(`x` is `(3, 3, 1, 1)`, `w` is `(1, 2, 2, 1)`) and compares.
'''),
    demo('''
x_hand = np.arange(1, 10, dtype=float).reshape(3, 3, 1, 1)
w_hand = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1)
by_hand = np.array([[37.0, 47.0], [67.0, 77.0]])
result = conv_forward_naive(x_hand, w_hand, np.zeros(1))
print("your layer:\\n", result[:, :, 0, 0])
print("by hand:\\n", by_hand)
print("agree:", np.array_equal(result[:, :, 0, 0], by_hand))
'''),
    markdown(r'''
## 6. A real image

Filters earn their keep on pictures. The cell below loads the photograph of Grace Hopper that
ships with matplotlib (no download), shrinks it six-fold by averaging blocks of pixels so that
seven Python loops finish in a moment, and runs your layer with three hand-made filters.
Each filter spans all three colour channels:

- **vertical edges**: the Sobel pattern $\begin{smallmatrix} 1 & 0 & -1 \\ 2 & 0 & -2 \\ 1 & 0 & -1
  \end{smallmatrix}$ on every channel. It is large where the left of a window is brighter than
  its right — remember, the layer does not flip the filter — and negative for the opposite;
- **horizontal edges**: the same pattern turned by 90°;
- **red minus blue**: a single weight +1 on the red channel and −1 on the blue channel at the
  window's centre; it shows that one filter can mix channels, which no single-channel picture
  can.

With `pad = 1` and stride 1 the maps keep the image's size.
'''),
    demo('''
with cbook.get_sample_data("grace_hopper.jpg") as file:
    photo = plt.imread(file).astype(np.float64) / 255           # (600, 512, 3), in [0, 1]
step = 6
rows, cols = photo.shape[0] // step, photo.shape[1] // step
small_photo = photo[:rows * step, :cols * step].reshape(rows, step, cols, step, 3).mean(axis=(1, 3))
x_img = small_photo[:, :, :, np.newaxis]                         # (H, W, C=3, M=1)

sobel = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
w_img = np.zeros((3, 3, 3, 3))                                   # (K=3, f=3, f=3, C=3)
w_img[0] = sobel[:, :, np.newaxis] / 12                          # vertical edges
w_img[1] = sobel.T[:, :, np.newaxis] / 12                        # horizontal edges
w_img[2, 1, 1] = [1.0, 0.0, -1.0]                                # red minus blue
b_img = np.zeros(3)

seconds = time_function(conv_forward_naive, x_img, w_img, b_img, stride=1, pad=1,
                        repeats=1, warmup=0)
maps = conv_forward_naive(x_img, w_img, b_img, stride=1, pad=1)
macs = maps.size * 3 * 3 * 3
print(f"x {x_img.shape} -> out {maps.shape}: {macs:,} multiply-adds in {seconds:.2f} s, "
      f"about {1e9 * seconds / macs:.0f} ns each")

fig, axes = plt.subplots(1, 4, figsize=(14, 4.2))
axes[0].imshow(small_photo)
axes[0].set_title("input")
for ax, k, title in zip(axes[1:], range(3), ["vertical edges", "horizontal edges", "red minus blue"]):
    limit = np.abs(maps[:, :, k, 0]).max()
    ax.imshow(maps[:, :, k, 0], cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(f"filter {k}: {title}")
for ax in axes:
    ax.axis("off")
plt.show()
'''),
    markdown(r'''
## What you have, and what it costs

Your layer is correct and easy to read: every multiply-add of the formula is one line executed
once. It is also slow. The cell above measured the time per multiply-add: each one goes
through the Python interpreter, which looks up two array elements, creates number objects and
adds them, at a cost of a few hundred nanoseconds. The processor itself needs about a
nanosecond or less for the same arithmetic.

The next assignments remove the interpreter from the inner work step by step: assignment 2
replaces the three innermost loops with one array operation, assignment 3 turns the whole layer
into a single matrix product. Each new version is checked against the numbers your seven
loops produce today.
'''),
]
