"""Assignment 6: the layer at work, a small CNN trained on handwritten digits."""
from tools.nbbuild import Function, answer, demo, hidden_test, markdown, visible_test
from tools.notebooks import common, functions

# Given in this notebook only: the loss the network is trained with (not graded).
SOFTMAX_LOSS = Function("softmax_loss", '''
def softmax_loss(scores, y):
    """
    Softmax cross-entropy of class scores against labels, averaged over the batch.

    Inputs:
    - scores: shape (classes, M), one column of class scores per sample
    - y: integer labels, shape (M,), each in [0, classes)

    Returns a tuple of:
    - loss: a float, the mean over the M samples of -log(softmax(scores[:, n])[y[n]])
    - dscores: shape (classes, M), dtype of scores: the gradient of loss with respect to scores

    Raises ValueError if y does not hold one label in [0, classes) per sample.
    """
''', '''
classes, M = scores.shape
if y.shape != (M,) or y.min() < 0 or y.max() >= classes:
    raise ValueError(f"y must hold one label in [0, {classes}) per sample, shape ({M},); got "
                     f"shape {y.shape} with labels from {y.min()} to {y.max()}")
shifted = scores - scores.max(axis=0)              # the same softmax, and exp cannot overflow
log_probs = shifted - np.log(np.exp(shifted).sum(axis=0))
samples = np.arange(M)
loss = -log_probs[y, samples].mean()
dscores = np.exp(log_probs)                        # the softmax probabilities ...
dscores[y, samples] -= 1                           # ... minus the one-hot labels
return float(loss), dscores / M
''')

CELLS = [
    markdown(r'''
# Assignment 6 — The layer at work

Five notebooks built one layer: seven loops, three loops, one matrix product, its gradient, and
a detour through the frequency domain. This one puts your im2col layer to work. With two more
pieces, max pooling and the backward pass of a whole network, it trains a small convolutional
network to read handwritten digits: **at least 95 % of the test images right, in well under a
minute on a laptop**, with nothing but numpy.

**After this notebook you can**

1. write max pooling and its backward pass, and say where the gradient goes when maxima tie or
   windows overlap;
2. see a fully-connected layer as a convolution whose filter is as large as its input;
3. chain five backward passes into the gradient of a network, and check it numerically;
4. train the network with stochastic gradient descent and read what it learned: the loss curve,
   the filters, the digits it still gets wrong;
5. compare your layer with PyTorch's `conv2d` (optional, where PyTorch is installed).
'''),
    common.HOW_TO,
    common.setup('''
import time
from importlib import resources

from helpers.gradcheck import numerical_gradient, rel_error
from helpers.plots_cnn import plot_digits, plot_filters, plot_max_pool, plot_training
from helpers.timing import time_function
'''),
    markdown(r'''
## Given: the layer from assignments 3 and 4, and a loss

The next cell holds the course's `conv_output_size`, `zero_pad`, `output_shape`, `im2col`,
`conv_forward_im2col`, `col2im` and `conv_backward_im2col`, and a softmax loss (section 6 says
what it computes).
'''),
    common.given_functions(*common.GIVEN_A1, functions.OUTPUT_SHAPE, functions.IM2COL,
                           functions.CONV_FORWARD_IM2COL, functions.COL2IM,
                           functions.CONV_BACKWARD_IM2COL, SOFTMAX_LOSS, grade_id="given_layer"),
    markdown(r'''
**Train with your own layer.** Paste your `im2col`, `conv_forward_im2col`, `col2im` and
`conv_backward_im2col` from assignments 3 and 4 into the next cell and run it: your versions
replace the course's for the rest of the notebook. If the network then fails to learn, compare
with the course's versions by rerunning the cell above. The grader skips the next cell: this
assignment is graded with the course's layer, so an earlier mistake costs nothing here.
'''),
    demo('''
# Paste your im2col, conv_forward_im2col, col2im and conv_backward_im2col here (optional).
'''),
    markdown(r'''
## 1. The digits

The data set is the UCI collection of handwritten digits (Alpaydin and Kaynak, 1998; licence
CC BY 4.0, see `helpers/data/DIGITS_LICENSE.md`), as scikit-learn bundles it: 1,797 images of
8 × 8 pixels, each pixel the number of "on" pixels in a 4 × 4 block of a 32 × 32 scan, from 0
to 16. The course ships it in its own layout, the batch last: `x_train` is
`(8, 8, 1, 1438)`, one channel, and `x_test` holds the other 359 images (20 % of every digit,
drawn once with a fixed seed, so everybody tests on the same images). The cell divides the
pixels by 16, so that they run from 0 to 1.
'''),
    demo('''
with resources.files("helpers").joinpath("data", "digits.npz").open("rb") as handle:
    digits = dict(np.load(handle))
x_train, y_train = digits["x_train"] / 16, digits["y_train"]
x_test, y_test = digits["x_test"] / 16, digits["y_test"]
print(f"x_train {x_train.shape} {x_train.dtype}, y_train {y_train.shape}; "
      f"x_test {x_test.shape}, y_test {y_test.shape}")
print("training images per digit:", np.bincount(y_train))
display(plot_digits(x_train[..., :20], y_train[:20], title="the first 20 training images"))
'''),
    markdown(r'''
## 2. Max pooling

A convolution with "same" padding keeps the size of its input, and sixteen filters make
sixteen maps of it. A **pooling layer** shrinks each map: it slides a `pool × pool` window
with a `stride` over it and keeps only the largest value of each window. With 2 × 2 windows at
stride 2, one value in four survives. It has no parameters. It buys two things: less work for
every layer after it, and some tolerance of position, since a stroke that moves by one pixel
inside a window leaves the window's maximum unchanged.

$$
\text{out}[i, j, c, n] = \max_{0 \le u, v < \text{pool}} x[i \cdot \text{stride} + u,\;
j \cdot \text{stride} + v,\; c,\; n], \qquad
H_\text{out} = \left\lfloor \frac{H - \text{pool}}{\text{stride}} \right\rfloor + 1 .
$$

That is the output size of assignment 1 with `f = pool` and no padding. Two differences from
a convolution matter. A pooling window covers **one channel** of one sample, where a filter
spans all `C` channels, so `out` keeps the `C` axis: shape `(H_out, W_out, C, M)`. And windows
may overlap (`stride < pool`; AlexNet pools 3 × 3 windows at stride 2) or leave gaps
(`stride > pool`).

For the 4 × 4 input below, 2 × 2 windows at stride 2 give

$$
\begin{pmatrix} 1 & 3 & 2 & 0 \\ 4 & 2 & 1 & 5 \\ 0 & 1 & 7 & 2 \\ 3 & 6 & 1 & 1 \end{pmatrix}
\;\longmapsto\;
\begin{pmatrix} 4 & 5 \\ 6 & 7 \end{pmatrix}.
$$

### Your task: `max_pool_forward`

No Python loop over windows, channels or samples: loops over the `pool × pool` offsets are
fine. Use `conv_output_size` for the sizes (it also rejects a window that does not fit), keep
the dtype of `x`, and never modify `x`.

<details><summary>Hint: two ways without a loop over windows</summary>

You already have a function that lays out every window of an image as a column of a matrix.
It puts all `C` channels of a window into one column; pooling wants each channel on its own.
Which reshape of `x` makes every (channel, sample) pair look to that function like a sample with
one channel? Is that reshape free, given where `C` and `M` sit in the layout?

Or, as in assignment 3's `im2col`: for a fixed offset `(u, v)`, the entry at that offset of
*every* window is one strided slice of `x`. A running maximum over the `pool²` offsets is the
pooled output.
</details>
'''),
    answer(functions.MAX_POOL_FORWARD),
    visible_test("max_pool_forward", '''
# Public checks: the 4x4 example above, overlapping windows (3x3 at stride 2), gaps between
# windows on an H != W input, channels and samples kept apart, float32 and ValueError.
from helpers.checks import check_max_pool_forward
check_max_pool_forward(max_pool_forward)
'''),
    hidden_test("max_pool_forward"),
    markdown(r'''
## 3. The gradient of a maximum

Take one window and its output $o = \max(x_1, \dots, x_k)$. Nudge the largest input by a small
$h$: $o$ moves by $h$. Nudge any other input a little: $o$ does not move. So
$\partial o / \partial x_m$ is 1 for the window's maximum and 0 for every other input, and the
backward pass **routes** each window's gradient to the one input that won:

$$
dx[i \cdot s + u^*,\; j \cdot s + v^*,\; c,\; n] \mathrel{+}= \text{dout}[i, j, c, n],
\qquad (u^*, v^*) = \text{the position of the maximum in window } (i, j, c, n).
$$

Every other input of the window gets nothing from it. Two details decide whether `dx` is right:

- **Ties.** When several inputs share the maximum, the maximum has no derivative there. Any
  choice that gives the *whole* gradient to *one* of them is a valid (sub)gradient, so the
  contract fixes one: the **first** maximum in row-major order (`u` first, then `v`). That is
  what `np.argmax` returns for a window flattened row by row, and what PyTorch's `max_pool2d`
  picks. Ties are not rare: after a ReLU, a window over a blank part of a digit is four zeros.
  Giving the gradient to all of them counts it four times.
- **Overlap.** With `stride < pool` the same input can be the maximum of two windows, and then
  it receives both gradients, added: the rule of `col2im` in assignment 4.

For the 4 × 4 example and `dout` $= \begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}$, the maxima
4, 5, 6 and 7 sit at $(1, 0)$, $(1, 3)$, $(3, 1)$ and $(2, 2)$, so `dx` is zero except
`dx[1, 0] = 1`, `dx[1, 3] = 2`, `dx[3, 1] = 3` and `dx[2, 2] = 4`.

### Your task: `max_pool_backward`

Return `dx` with the shape and dtype of `x`; raise `ValueError` if `dout` does not have the
pooled output's shape. No Python loop over windows, channels or samples.

<details><summary>Hint: reuse the column picture</summary>

In the column layout of the forward pass, every window is one column. Which numpy function
names, for every column at once, the row of its first maximum? A matrix of zeros of the same
shape with each column's `dout` placed in that row is the gradient of the column matrix; which
function of assignment 4 sends such a matrix back to the image, adding where windows overlap?
</details>
'''),
    answer(functions.MAX_POOL_BACKWARD),
    visible_test("max_pool_backward", '''
# Public checks: the 4x4 example above, tied maxima (the first one wins), overlapping windows
# that pick the same input, channels and samples, and central differences of your forward pass.
from helpers.checks import check_max_pool_backward
check_max_pool_backward(max_pool_backward, max_pool_forward)
'''),
    hidden_test("max_pool_backward"),
    markdown(r'''
The cell draws what your two functions do on the 4 × 4 example, then on a window of zeros
(what a ReLU leaves over a blank area) next to a window whose maximum 5 appears twice: the
shaded cells are the inputs that received gradient.
'''),
    demo('''
for rows, dout_rows in [([[1, 3, 2, 0], [4, 2, 1, 5], [0, 1, 7, 2], [3, 6, 1, 1]], [[1, 2], [3, 4]]),
                        ([[0, 0, 5, 1], [0, 0, 1, 5]], [[1, 2]])]:
    x = np.array(rows, dtype=float)[:, :, None, None]
    dout = np.array(dout_rows, dtype=float)[:, :, None, None]
    out = max_pool_forward(x, 2, 2)
    dx = max_pool_backward(dout, x, 2, 2)
    display(plot_max_pool(x[:, :, 0, 0], out[:, :, 0, 0], dout[:, :, 0, 0], dx[:, :, 0, 0], 2, 2))
'''),
    markdown(r'''
## 4. The network

```
x       (8, 8, 1, M)    the images
  │  convolution: K = 16 filters 5 × 5, pad 2, stride 1        conv_forward_im2col
  ▼
a       (8, 8, 16, M)
  │  ReLU: r = max(a, 0)
  ▼
r       (8, 8, 16, M)
  │  max pooling 2 × 2, stride 2                               max_pool_forward
  ▼
p       (4, 4, 16, M)
  │  affine: 10 scores per sample
  ▼
scores  (10, M)
  │  softmax cross-entropy against the labels y                softmax_loss (given)
  ▼
loss
```

The affine layer gives every class $k$ a score that weighs all $4 \cdot 4 \cdot 16 = 256$
pooled values of a sample:

$$
\text{scores}[k, n] = b_2[k] + \sum_{i, j, c} w_2[k, i, j, c]\; p[i, j, c, n], \qquad
w_2 : (\text{classes}, H_p, W_p, K).
$$

Look at the shape of `w2`: ten filters, each exactly as large as the pooled maps. A
"fully-connected" layer **is a convolution whose filter covers its whole input**: one window
position, a `1 × 1` output per filter. (`conv_forward_im2col(p, w2, b2)` returns these scores
as an array of shape `(1, 1, 10, M)`; try it once your function works.) As a matrix product it
needs each sample's pooled values as one column, in the `(i, j, c)` order in which `w2`'s last
three axes flatten. The batch is the last axis of `p`: which reshape gives one column per
sample?

The whole network has $16 \cdot 5 \cdot 5 + 16 + 10 \cdot 256 + 10 = 2{,}986$ parameters.

### Your task: `cnn_forward`

Use your `max_pool_forward` and the given `conv_forward_im2col` (stride 1, `pad` as given;
pooling with window and stride `pool`). Return the scores `(classes, M)` in the dtype of `x`, and
raise `ValueError` when `w2` does not match the pooled maps.
'''),
    answer(functions.CNN_FORWARD),
    visible_test("cnn_forward", '''
# Public checks: a hand-worked network (two 1x1 filters, 2 classes), then a digits-sized one:
# every sample must be scored on its own, b2 added once per class, float32 kept.
from helpers.checks import check_cnn_forward
check_cnn_forward(cnn_forward)
'''),
    hidden_test("cnn_forward"),
    markdown(r'''
## 5. Backward through the network

Training needs the gradient of the loss with respect to every parameter. The loss reaches the
parameters only through the scores, and the loss function hands back
$d\text{scores} = \partial L / \partial\,\text{scores}$, shape `(classes, M)`. From there the
chain rule runs right to left, each layer turning the gradient at its output into gradients at
its input and its parameters. With $F$ the pooled values as a $(H_p W_p K, M)$ matrix (one
column per sample) and $W_2$ the weights as a $(\text{classes}, H_p W_p K)$ matrix:

| layer | forward | backward |
|---|---|---|
| affine | $\text{scores} = W_2 F + b_2$ | $dW_2 = d\text{scores}\, F^\top$, $\;db_2 = \sum_n d\text{scores}[:, n]$, $\;dF = W_2^\top d\text{scores}$ |
| max pooling | $p = \text{maxpool}(r)$ | $dr$: your `max_pool_backward` of $dp$ |
| ReLU | $r = \max(a, 0)$ | $da = dr$ where $a > 0$, and 0 where $a \le 0$ |
| convolution | $a = \text{conv}(x; w_1, b_1)$ | $(dx, dw_1, db_1)$: `conv_backward_im2col` of $da$ |

The affine row is assignment 4's fully-connected layer again. $dF$ must go back into the
`(Hp, Wp, K, M)` layout before the pooling's backward pass can use it; $dW_2$ into the shape of
`w2`. The ReLU passes gradient where it passed values and stops it where it clipped them to 0:
those inputs did not influence the loss. $dx$ is not needed: nothing is learned below the
images.

As with `conv_backward_im2col`, the backward function gets the forward pass's inputs and
recomputes what it needs (`a`, `r`, `p`) instead of keeping state between calls: every call
stands on its own and can be checked on its own.

### Your task: `cnn_backward`

Return `(dw1, db1, dw2, db2)`, shaped like `w1`, `b1`, `w2` and `b2`, in the dtype of `x`;
raise `ValueError` if `dscores` is not `(classes, M)`.
'''),
    answer(functions.CNN_BACKWARD),
    visible_test("cnn_backward", '''
# Public checks: the hand-worked network of cnn_forward's check with dscores = identity, then
# every gradient against central differences of your cnn_forward on a random network.
from helpers.checks import check_cnn_backward
check_cnn_backward(cnn_backward, cnn_forward)
'''),
    hidden_test("cnn_backward"),
    markdown(r'''
The same test on the real network's sizes: nudge every parameter of a random network by
$\pm h$ and compare $\bigl(L(\theta + h) - L(\theta - h)\bigr)/2h$, where
$L = \sum \text{scores} \cdot d\text{scores}$, with your gradients. The network is piecewise
linear in each parameter, so away from the kinks of the ReLU and the maximum the central
difference has no truncation error, only rounding: expect relative errors near $10^{-9}$. A
nudge that crosses a kink (a tie that changes winner) can give a single larger error; with
random numbers that is rare.
'''),
    demo('''
rng = np.random.default_rng(0)
x = rng.random((8, 8, 1, 4))
w1, b1 = 0.3 * rng.standard_normal((4, 5, 5, 1)), 0.1 * rng.standard_normal(4)
w2, b2 = 0.3 * rng.standard_normal((10, 4, 4, 4)), np.zeros(10)
dscores = rng.standard_normal((10, 4))
analytic = dict(zip(["w1", "b1", "w2", "b2"], cnn_backward(dscores, x, w1, b1, w2, pad=2, pool=2)))
params = {"w1": w1, "b1": b1, "w2": w2, "b2": b2}
for name, value in params.items():
    numeric = numerical_gradient(
        lambda v: cnn_forward(x, **{**params, name: v}, pad=2, pool=2), value, dscores)
    print(f"d{name} {str(value.shape):>15}: relative error {rel_error(analytic[name], numeric):.1e}")
'''),
    markdown(r'''
## 6. Training

**The loss.** The given `softmax_loss` turns each column of scores into probabilities,
$P[k, n] = e^{\text{scores}[k, n]} / \sum_j e^{\text{scores}[j, n]}$, and charges
$-\log P[y_n, n]$, the surprise at the right answer, averaged over the batch:

$$
L = -\frac{1}{M} \sum_n \log P[y_n, n], \qquad
d\text{scores} = \frac{1}{M}\,\bigl(P - Y\bigr),
$$

with $Y$ the labels as one-hot columns. A network that guesses at random among ten classes
starts near $\ln 10 \approx 2.3$.

**One training step** takes a mini-batch of 32 images: scores with `cnn_forward`, loss and
`dscores` with `softmax_loss`, gradients with `cnn_backward`, then a step of **stochastic
gradient descent with momentum** for every parameter $\theta$ with gradient $g$:

$$
v \leftarrow \mu v - \eta\, g, \qquad \theta \leftarrow \theta + v,
$$

with $\mu = 0.9$: $v$ keeps a running direction, which smooths the noise of small batches.
The learning rate $\eta$ starts at 0.05 and shrinks by 15 % after each pass over the training
set (an *epoch*); 15 epochs make 675 steps. The filters start as random numbers scaled by
$\sqrt{2 / (f^2 C)}$ (He et al., 2015), so that the ReLU's outputs neither die out nor blow up.

The cell trains, prints the test accuracy after every epoch and the time it took. On the
course machine (one core, float64) the whole run took 0.8 to 1.3 seconds with the course's layer
(1.2 to 1.9 ms per step; up to 2.7 s while other work loaded both cores) and reached 98.1 % on
the test set. An im2col of your own that is several times slower still trains in well under a
minute.
'''),
    demo('''
rng = np.random.default_rng(0)
K, f, pad, pool, classes = 16, 5, 2, 2, 10
Hp = (8 + 2 * pad - f + 1) // pool                       # 4: the pooled maps are 4 x 4
params = [rng.standard_normal((K, f, f, 1)) * np.sqrt(2 / (f * f)),              # w1
          np.zeros(K),                                                            # b1
          rng.standard_normal((classes, Hp, Hp, K)) * np.sqrt(1 / (Hp * Hp * K)), # w2
          np.zeros(classes)]                                                      # b2
velocity = [np.zeros_like(p) for p in params]
epochs, batch, learning_rate, momentum, decay = 15, 32, 0.05, 0.9, 0.85


def predict(x, w1, b1, w2, b2):
    """The network's digit for every image of x: the class with the highest score."""
    return cnn_forward(x, w1, b1, w2, b2, pad, pool).argmax(axis=0)


losses, accuracies = [], []
start = time.perf_counter()
for epoch in range(epochs):
    order = rng.permutation(y_train.size)
    for first in range(0, y_train.size, batch):
        chosen = order[first:first + batch]
        x, y = x_train[..., chosen], y_train[chosen]
        w1, b1, w2, b2 = params
        loss, dscores = softmax_loss(cnn_forward(x, w1, b1, w2, b2, pad, pool), y)
        grads = cnn_backward(dscores, x, w1, b1, w2, pad, pool)
        for p, v, g in zip(params, velocity, grads):
            v *= momentum
            v -= learning_rate * g
            p += v                                       # in place: params holds the arrays
        losses.append(loss)
    learning_rate *= decay
    accuracies.append(np.mean(predict(x_test, *params) == y_test))
    print(f"epoch {epoch + 1:2d}: mean loss {np.mean(losses[-(y_train.size // batch):]):.3f}, "
          f"test accuracy {100 * accuracies[-1]:.1f} %")
seconds = time.perf_counter() - start
print(f"{len(losses)} steps in {seconds:.1f} s ({1e3 * seconds / len(losses):.1f} ms per step); "
      f"test accuracy {100 * accuracies[-1]:.1f} %")
'''),
    markdown(r'''
## 7. What the network learned

**The loss and the accuracy.** The loss of single batches jitters (each step sees 32 images),
so the plot also shows its mean over the last epoch's worth of steps. It falls fast during the
first epoch, from the $\ln 10 \approx 2.3$ of a random guess, then slowly; the test accuracy
passes 90 % after the first epoch and then creeps up by fractions of a percent.
'''),
    demo('''
display(plot_training(losses, accuracies, steps_per_epoch=-(-y_train.size // batch)))
'''),
    markdown(r'''
**The filters.** Each of the 16 filters of the first layer is a 5 × 5 pattern that the
convolution slides over the image; red weights reward ink, blue ones punish it. Compare them
with the hand-made edge filters of assignment 1: some show a band of red next to a band of blue,
an edge or stroke detector in one direction, found by gradient descent alone; others look like
noise. With 8 × 8 images, where one pixel already sums a 4 × 4 block of the scan, and 1,438
training images, a filter has far less to learn from than on photographs.
'''),
    demo('''
display(plot_filters(params[0], title=f"the {K} learned 5x5 filters of the first layer"))
'''),
    markdown(r'''
**The mistakes.** The cell shows every test digit the network gets wrong, titled
"true → predicted", and the pairs of digits it confuses most. At 8 × 8 pixels several of them
are hard for a person too.
'''),
    demo('''
predicted = predict(x_test, *params)
wrong = np.flatnonzero(predicted != y_test)
print(f"{wrong.size} of {y_test.size} test digits wrong ({100 * wrong.size / y_test.size:.1f} %)")
confused = np.zeros((classes, classes), dtype=int)
np.add.at(confused, (y_test[wrong], predicted[wrong]), 1)
for true, guess in sorted(zip(*np.nonzero(confused)), key=lambda tg: -confused[tg])[:3]:
    times = confused[true, guess]
    print(f"  a {true} taken for a {guess}: {times} time{'s' if times > 1 else ''}")
if wrong.size:
    display(plot_digits(x_test[..., wrong], y_test[wrong], predicted[wrong],
                        title=f"the {wrong.size} misclassified test digits (true → predicted)"))
'''),
    markdown(r'''
## 8. Optional: against PyTorch's `conv2d`

Where PyTorch is installed, the next cell checks your trained network against PyTorch's
`conv2d` and `max_pool2d` on the test images and times a forward and backward pass of both on
the whole training set. PyTorch stores images as `(M, C, H, W)` and filters as `(K, C, f, f)`, so the
arrays are transposed on the way in and out. Your side computes the forward pass twice, once in
`cnn_forward` and once inside `cnn_backward`, which recomputes what it needs; PyTorch keeps the
forward pass's values for its backward pass instead. Without PyTorch the cell says so and does
nothing else (`pip install torch` to run it; the course never needs it).
'''),
    demo('''
try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None
    print("PyTorch is not installed: skipping the comparison (pip install torch to run it).")

if torch is not None:
    torch.set_num_threads(1)                              # one thread, like numpy here
    w1, b1, w2, b2 = params

    def torch_scores(images, kernels, biases, weights, offsets):
        """The same network in PyTorch's layout (M, C, H, W)."""
        a = F.conv2d(images, kernels, biases, padding=pad)
        p = F.max_pool2d(F.relu(a), pool)
        return (p.permute(0, 2, 3, 1).reshape(p.shape[0], -1) @ weights.T + offsets).T

    as_torch = lambda array: torch.tensor(array, requires_grad=True)
    inputs = [torch.tensor(x_test.transpose(3, 2, 0, 1)), as_torch(w1.transpose(0, 3, 1, 2)),
              as_torch(b1), as_torch(w2.reshape(classes, -1)), as_torch(b2)]
    theirs = torch_scores(*inputs).detach().numpy()
    ours = cnn_forward(x_test, w1, b1, w2, b2, pad, pool)
    print(f"largest difference of the scores on the {y_test.size} test images: "
          f"{np.abs(theirs - ours).max():.1e}")

    x_all, ones = torch.tensor(x_train.transpose(3, 2, 0, 1)), np.ones((classes, y_train.size))

    def torch_step():
        torch_scores(x_all, *inputs[1:]).backward(torch.tensor(ones))

    def numpy_step():
        cnn_forward(x_train, w1, b1, w2, b2, pad, pool)
        cnn_backward(ones, x_train, w1, b1, w2, pad, pool)

    seconds = {"yours": time_function(numpy_step, repeats=3), "PyTorch": time_function(torch_step, repeats=3)}
    print(f"forward + backward on all {y_train.size} training images (median of 3, float64, "
          f"one thread): " + ", ".join(f"{name} {1e3 * s:.0f} ms" for name, s in seconds.items()))
'''),
    markdown(r'''
## Going further (optional)

- **float32.** Train again with `x_train.astype(np.float32)` and float32 parameters. How much
  faster is a step, and does the accuracy change? (The contract keeps the dtype of `x`
  throughout, so every function you wrote should already work.)
- **What pooling buys.** Shift the test images by one pixel (`np.roll` along an axis, or pad
  and crop) and measure the accuracy of the trained network. Then retrain with `pool=1` (and a
  `w2` of shape `(10, 8, 8, 16)`) and shift again: does the network without pooling lose more?
- **Writers.** These 1,797 images are written by 13 people, split at random into training and
  test, so every test writer was seen in training. UCI's full data set has 3,823 more images by
  30 other writers: a stricter test of what the network generalises.
- **A second layer.** Add a second convolution (`K` channels in, 5 × 5 or 3 × 3) with its ReLU
  before the pooling. Only the shapes change in `cnn_forward` and `cnn_backward`; the gradient
  check tells you whether the chain is right.
- **Average pooling** is a convolution with a fixed filter of `1/pool²` at stride `pool`, one
  channel at a time. Write it with `conv_forward_im2col` and compare its accuracy with max
  pooling's.

## Looking back

Six notebooks took the convolutional layer from seven nested loops to a working network: the
loops made the formula concrete, im2col made it one fast matrix product, col2im gave its
gradient, and now the same functions, with a pooling layer and the chain rule, learn to read
digits in seconds. Frameworks add GPUs, automatic differentiation and many more layer types, but
their convolutions rest on the same reshapes, products and adjoints you wrote.
'''),
]
