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
3. pad an input with zeros on its two spatial axes, and only those, and say what padding does
   and does not do for the pixels on the border;
4. write the forward pass as seven nested loops and say what each loop walks over;
5. check your layer against a small example worked by hand, and watch it find edges in a
   photograph.

You write three functions: `conv_output_size`, `zero_pad` and `conv_forward_naive`.
'''),
    common.HOW_TO,
    common.setup('''
from matplotlib import cbook
from matplotlib.patches import Rectangle

from helpers.plots import plot_overlap_counts, plot_window_positions
from helpers.timing import best_time
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
| AlexNet's first layer¹ | 227 | 11 | 4 | 0 | 216 / 4 = 54 | **55** |
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

¹ The AlexNet paper (Krizhevsky, Sutskever and Hinton, 2012) says its inputs are 224 × 224.
With $f = 11$ and $s = 4$ that gives $(224 - 11)/4 = 53.25$: the windows would not tile, and
the paper's 55 × 55 output needs 227 × 227 (or 224 with some padding). Most re-implementations,
and this course, use 227.
'''),
    markdown(r'''
### Your task: `conv_output_size`

Implement the formula for one axis, returning a Python `int`, rounded **down** for sizes that do
not tile. Raise `ValueError` when the filter does not fit, when `stride < 1`, or when `pad < 0`,
with a message that names the sizes.

<details><summary>Hint</summary>

Python has an operator that divides and rounds down in one step, and keeps integers integers.
`/` gives a float that you would still have to round, and `round` and `math.ceil` round the
wrong way for the third row of the table.
</details>
'''),
    answer(functions.CONV_OUTPUT_SIZE),
    visible_test("conv_output_size", '''
# Public checks: the worked examples above and a few more, including a filter that does not fit.
from helpers.checks import check_conv_output_size
check_conv_output_size(conv_output_size)
'''),
    hidden_test("conv_output_size"),
    markdown(r'''
## 3. Zero padding

Without padding every layer shrinks the image: a 3 × 3 filter turns 32 × 32 into 30 × 30.
Surrounding the image with `pad` rows and columns of zeros fixes the size: with $p = (f-1)/2$
and stride 1 the output has the input's size ("same" padding), and every pixel, the corners
included, is the centre of one window.

Padding does **not** make every pixel count equally. A corner pixel still lies in fewer
windows than an inside one: with $f = 3$, stride 1 and $p = 1$, a corner pixel is in 4 windows,
a pixel on an edge in 6 and an inside pixel in 9 (section 7 counts them with your own layer).
And the windows that do reach the border see it next to zeros that are not part of the picture
(section 6 shows what that does to an edge detector).

Only the two spatial axes are padded. Padding the channel axis would add fake channels that no
filter expects; padding the sample axis would add blank images to the batch. For `x` of shape
`(H, W, C, M)` the result has shape `(H + 2p, W + 2p, C, M)`: zeros everywhere, except rows
$p, \dots, p + H - 1$ and columns $p, \dots, p + W - 1$, which hold `x` unchanged.

### Your task: `zero_pad`

Return a **new** array (never modify `x`) of the same dtype as `x`. It must be right for
`pad = 0` too, where it returns a copy of `x`.

<details><summary>Hint</summary>

Writing the middle with a negative end index looks neat. Work out what that slice is when
`pad = 0` before you use it.
</details>
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
for ax, image in [(axes[0], small), (axes[1], padded)]:
    plane = image[:, :, 0, 0]
    ax.imshow(plane, cmap="Blues", vmin=0, vmax=16)
    for (r, c), value in np.ndenumerate(plane):
        ax.text(c, r, f"{value:g}", ha="center", va="center")
    ax.set_xticks([])
    ax.set_yticks([])
axes[0].set_title(f"x: {small.shape}")
axes[1].set_title(f"zero_pad(x, 2): {padded.shape}")
axes[1].add_patch(Rectangle((1.5, 1.5), 4, 3, fill=False, edgecolor="crimson", linewidth=2.5))
plt.show()
'''),
    markdown(r'''
## 4. Seven loops

First the picture the loops walk through. Output `(i, j)` puts the filter's top-left corner on
padded pixel `(i·s, j·s)`. The cell draws every window position of a 5 × 8 input with
`pad = 1`, a 3 × 3 filter and stride 2, one small panel per output, and asks your
`conv_output_size` how many panels there should be. The width does not tile: the last padded
column is in no window.
'''),
    demo('''
H_pic, W_pic, f_pic, s_pic, p_pic = 5, 8, 3, 2, 1
print(f"your conv_output_size: {conv_output_size(H_pic, f_pic, s_pic, p_pic)} rows x "
      f"{conv_output_size(W_pic, f_pic, s_pic, p_pic)} columns of outputs")
display(plot_window_positions(H_pic, W_pic, f_pic, stride=s_pic, pad=p_pic))
'''),
    markdown(r'''
Now read the formula of section 1 as a program. Four loops choose *which* output number to
compute (loops 3 and 4 pick a panel of the picture), and three more compute it:

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
- the window of output `(i, j)` starts at row $i s$ and column $j s$ of the **padded**
  input: leaving the stride out of the index is a classic bug that only shows when
  `stride > 1`;
- the bias is added once per output number, and it is the bias of filter `k`;
- keep `H` and `W` apart: a test on square images cannot tell them apart, but ours use
  `H ≠ W`;
- if `x` and `w` disagree on `C`, raise a `ValueError` that shows both shapes;
- the output keeps the dtype of `x`, so that float32 inputs give float32 outputs.

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
you are flipping somewhere. Swapping rows and columns somewhere shows too: the output would
read 37, 67 in its first row. The cell below puts the example in the course's layout
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
ships with matplotlib (no download), shrinks it eight-fold by averaging blocks of pixels (to
75 × 64) so that seven Python loops finish in a moment, and runs your layer with three
hand-made filters. Each filter spans all three colour channels:

- **vertical edges**: the Sobel pattern $\begin{smallmatrix} 1 & 0 & -1 \\ 2 & 0 & -2 \\ 1 & 0 & -1
  \end{smallmatrix}$ on every channel. It is large where the left of a window is brighter than
  its right — remember, the layer does not flip the filter — and negative for the opposite;
- **horizontal edges**: the same pattern turned by 90°;
- **red minus blue**: a single weight +1 on the red channel and −1 on the blue channel at the
  window's centre; it shows that one filter can mix channels, which no single-channel picture
  can.

With `pad = 1` and stride 1 the maps keep the image's size. The time printed is the best of
three runs.
'''),
    demo('''
with cbook.get_sample_data("grace_hopper.jpg") as file:
    photo = plt.imread(file).astype(np.float64) / 255           # (600, 512, 3), in [0, 1]
step = 8
rows, cols = photo.shape[0] // step, photo.shape[1] // step
small_photo = photo[:rows * step, :cols * step].reshape(rows, step, cols, step, 3).mean(axis=(1, 3))
x_img = small_photo[:, :, :, np.newaxis]                         # (H, W, C=3, M=1)

sobel = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
w_img = np.zeros((3, 3, 3, 3))                                   # (K=3, f=3, f=3, C=3)
w_img[0] = sobel[:, :, np.newaxis] / 12                          # vertical edges
w_img[1] = sobel.T[:, :, np.newaxis] / 12                        # horizontal edges
w_img[2, 1, 1] = [1.0, 0.0, -1.0]                                # red minus blue
b_img = np.zeros(3)

seconds = best_time(conv_forward_naive, x_img, w_img, b_img, stride=1, pad=1,
                        repeats=3, warmup=0)
maps = conv_forward_naive(x_img, w_img, b_img, stride=1, pad=1)
macs = maps.size * 3 * 3 * 3
print(f"x {x_img.shape} -> out {maps.shape}: {macs:,} multiply-adds in {seconds:.2f} s, "
      f"about {1e9 * seconds / macs:.0f} ns each")

fig, axes = plt.subplots(1, 4, figsize=(15, 4.2), layout="constrained")
axes[0].imshow(small_photo)
axes[0].set_title("input")
for ax, k, title in zip(axes[1:], range(3), ["vertical edges", "horizontal edges", "red minus blue"]):
    limit = np.abs(maps[:, :, k, 0]).max()
    image = ax.imshow(maps[:, :, k, 0], cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.colorbar(image, ax=ax, shrink=0.7)
    ax.set_title(f"filter {k}: {title}")
for ax in axes:
    ax.axis("off")
plt.show()

ring = np.ones(maps.shape[:2], dtype=bool)
ring[1:-1, 1:-1] = False                                         # the outermost ring of outputs
for k, title in [(0, "vertical edges"), (1, "horizontal edges")]:
    strength = np.abs(maps[:, :, k, 0])
    print(f"{title}: mean |response| {strength[ring].mean():.3f} on the outer ring, "
          f"{strength[~ring].mean():.3f} inside ({strength[ring].mean() / strength[~ring].mean():.1f}x)")
'''),
    markdown(r'''
Both edge maps have a frame that is not in the photograph. The padding zeros are black and the
photo next to them is not, so along the left and right borders the vertical-edge filter sees a
genuine step from picture to zeros, and the horizontal-edge filter does the same along the top
and bottom. The last two lines measure it: the outer ring responds more strongly than the inside
of the picture. These false edges are an artefact of zero padding, and one reason some networks
pad by repeating or mirroring the border pixels instead.

## 7. Which pixels count

Section 3 claimed that padding keeps the size but not the weight of the border. Your layer can
count the windows that see each pixel: light up a single pixel of a 5 × 5 input, apply one
3 × 3 filter of ones with `pad = 1`, and add up the output. Every window that contains the
pixel adds exactly 1. The heatmap draws the same count from the window positions alone.
'''),
    demo('''
H_cnt = W_cnt = 5
ones_filter = np.ones((1, 3, 3, 1))
counts = np.zeros((H_cnt, W_cnt), dtype=int)
for r in range(H_cnt):
    for c in range(W_cnt):
        pixel = np.zeros((H_cnt, W_cnt, 1, 1))
        pixel[r, c, 0, 0] = 1.0
        counts[r, c] = round(conv_forward_naive(pixel, ones_filter, np.zeros(1), stride=1, pad=1).sum())
print("windows that see each pixel, counted with your layer:")
print(counts)
print(f"corner {counts[0, 0]}, edge {counts[0, W_cnt // 2]}, inside {counts[H_cnt // 2, W_cnt // 2]}")
display(plot_overlap_counts(H_cnt, W_cnt, 3, stride=1, pad=1))
'''),
    markdown(r'''
## What you have, and what it costs

Your layer is correct and easy to read: every multiply-add of the formula is one line executed
once. It is also slow. Section 6 measured the time per multiply-add: each one goes through the
Python interpreter, which looks up two array elements, creates number objects and adds them, at
a cost of hundreds of nanoseconds. The processor itself needs about a nanosecond or less for
the same arithmetic.

The next assignments remove the interpreter from the inner work step by step: assignment 2
replaces the three innermost loops with one array operation, assignment 3 turns the whole layer
into a single matrix product. Each new version is checked against the numbers your seven
loops produce today.

## Going further (optional)

**Dilated windows.** A *dilated* (or *atrous*) convolution spreads the filter's $f \times f$
taps $d$ pixels apart, so a 3 × 3 filter with $d = 2$ sees a 5 × 5 patch with nine weights.
Segmentation networks use it to see more context without more weights or more downsampling.
The picture below shows two positions of such a window.

- The window now spans $d(f - 1) + 1$ pixels. Which single change to the output-size formula
  follows? Check it against the panels: how many outputs per axis does a 7 × 7 input give with
  $f = 3$, $d = 2$, stride 1 and no padding?
- Which indices of your seven loops change, and how? Write a dilated layer and test it: with
  $d = 1$ it must agree with `conv_forward_naive`; with $d = 2$ it must agree with your ordinary
  layer run with a 5 × 5 filter that has zeros between the taps.

**Does float32 help here?** In compiled code, float32 halves the memory traffic and doubles the
numbers per vector instruction. The cell times your seven loops on the same small layer in both
precisions. Before you run it, predict: in the interpreter every number is a Python-level
object either way, so what decides the time?
'''),
    demo('''
display(plot_window_positions(7, 7, 3, stride=1, pad=0, positions=[(0, 0), (1, 2)], dilation=2))

rng = np.random.default_rng(3)
x_cmp = rng.standard_normal((12, 12, 3, 1))
w_cmp = rng.standard_normal((4, 3, 3, 3))
b_cmp = rng.standard_normal(4)
for dtype in (np.float64, np.float32):
    args = (x_cmp.astype(dtype), w_cmp.astype(dtype), b_cmp.astype(dtype))
    seconds = best_time(conv_forward_naive, *args, pad=1, repeats=3)
    print(f"{np.dtype(dtype).name}: {seconds * 1e3:6.1f} ms for a 12x12x3 input and four 3x3 filters "
          f"(output dtype {conv_forward_naive(*args, pad=1).dtype})")
'''),
]
