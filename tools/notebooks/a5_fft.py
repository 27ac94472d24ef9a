"""Assignment 5: the layer through the Fourier transform."""
from tools.nbbuild import answer, demo, hidden_test, markdown, visible_test
from tools.notebooks import common, functions

CELLS = [
    markdown(r'''
# Assignment 5 — Convolution through the Fourier transform

The im2col layer does $f \cdot f \cdot C$ multiply-adds per output value, so doubling the
filter size quadruples its work. There is a route whose cost grows far more slowly with the
filter size: transform the image and the filters into the frequency domain, where convolution
becomes an element-wise product, and transform back. This notebook builds the layer that way,
and measures where it beats im2col.

**After this notebook you can**

1. state the convolution theorem, and what "circular" means for the discrete transform;
2. explain why the filters must be flipped, given that the layer computes a cross-correlation;
3. tell which outputs of a circular convolution are contaminated by the wrap-around, and
   implement stride as subsampling;
4. write `conv_forward_fft` with `numpy.fft`, for any stride and padding, in the course's layout;
5. measure im2col against FFT as the filter grows, fit a cost model to each, and find where
   the lines cross on your machine.
'''),
    common.HOW_TO,
    common.setup('''
from helpers.costmodel import fit_cost_model
from helpers.plots import plot_circular_reach, plot_timing_curve
from helpers.timing import best_time, report_speedup
'''),
    markdown(r'''
## Given: the forward pass of assignment 3

The next cell defines the course's `conv_output_size`, `zero_pad`, `output_shape` (checks `x`
against `w`, returns `(H_out, W_out, K, M)`), `im2col` and `conv_forward_im2col`: the layer you
compare against.
'''),
    common.given_functions(*common.GIVEN_A1, functions.OUTPUT_SHAPE, functions.IM2COL,
                           functions.CONV_FORWARD_IM2COL, grade_id="given_forward"),
    markdown(r'''
## 1. The convolution theorem

For two signals $x$ and $g$, the Fourier transform of their convolution is the product of their
Fourier transforms:

$$
\mathcal{F}\{x * g\} = \mathcal{F}\{x\} \cdot \mathcal{F}\{g\},
\qquad\text{so}\qquad
x * g = \mathcal{F}^{-1}\bigl\{\mathcal{F}\{x\} \cdot \mathcal{F}\{g\}\bigr\}.
$$

On a computer the transform is the discrete Fourier transform (DFT) of an array of $N$ numbers,
computed by the fast Fourier transform (FFT) in $O(N \log N)$ operations. The discrete theorem
holds exactly, but for **circular** convolution: indices wrap around modulo $N$,

$$
(x \circledast g)[a] = \sum_{t=0}^{N-1} x[(a - t) \bmod N]\; g[t],
$$

as if the array were drawn on a ring. So the FFT route gives the full circular result, all $N$
outputs of it; the layer's outputs are a part of it, cropped out afterwards (sections 2 to 4
work out which part). In two dimensions the same is true along both axes, with `np.fft.fft2`
(or `rfft2` for real inputs, which stores only the half of the spectrum that is not redundant).

For our layer, output map `k` of sample `n` is a sum over channels, and sums pass straight
through the transform:

$$
\text{out}_{k, n} = \sum_c x_{c, n} \star w_{k, c}
\quad\Longrightarrow\quad
\mathcal{F}\{\text{out}_{k, n}\} = \sum_c \mathcal{F}\{x_{c, n}\} \cdot \mathcal{F}\{\tilde w_{k, c}\}
$$

(with $\tilde w$ the flipped filter, see section 2). So: transform every input plane once,
transform every filter plane once, and at every frequency do a small `(K, C)` by `(C, M)`
matrix product. Every one of those transforms and products has the size of the **padded
input**, whatever the filter size; $f$ enters only through that size (with "same" padding the
padded input grows with $f$) and through the number of filter transforms, $K \cdot C$, each as
large as an image. Section 6 puts numbers on it.
'''),
    markdown(r'''
## 2. The layer is a cross-correlation: flip the filter

The theorem is about convolution, $\sum_t x[a - t]\, g[t]$: the filter runs *backwards* over
the input. The layer computes a cross-correlation, $\sum_u x[a + u]\, w[u]$: the filter runs
forwards. The two are related by flipping. Define the flipped filter $g[t] = w[f - 1 - t]$ and
substitute $t = f - 1 - u$ in the convolution: you will find that convolving with $g$ gives the
cross-correlation with $w$, **shifted** by a fixed number of positions. Work out the shift on
paper before you open the hint; the demo below lets you check it.

<details><summary>Hint: the derivation</summary>

$$
(x * g)[a + f - 1] = \sum_{t} x[a + f - 1 - t]\, g[t] = \sum_{u} x[a + u]\, w[u]
= (x \star w)[a].
$$
</details>

In 2-D the filter is reversed along both spatial axes, and not along the channel axis: the
channels are summed, not slid over. Forget the flip and you compute a true convolution, which
agrees with the layer only for filters that look the same after a half-turn: a test with a
symmetric filter, such as a box blur, cannot catch the mistake.

The 1-D cell below shows an 8-sample signal and a 3-tap filter: the direct cross-correlation
(6 valid positions), then the full circular result through the FFT, without and with the flip.
Find the direct numbers inside one of the two FFT lines.
'''),
    demo('''
signal = np.array([0.0, 1.0, 3.0, 2.0, 0.0, -1.0, 0.0, 2.0])
kernel = np.array([1.0, 2.0, -1.0])
N, f = len(signal), len(kernel)
direct = np.array([np.sum(signal[a:a + f] * kernel) for a in range(N - f + 1)])

def circular(g):
    """Circular convolution of `signal` with g (zero-padded to N), through the FFT."""
    return np.fft.irfft(np.fft.rfft(signal) * np.fft.rfft(g, n=N), n=N)

print("direct cross-correlation (6 positions):  ", direct)
print("FFT, filter not flipped (all 8 outputs): ", circular(kernel))
print("FFT, filter flipped (all 8 outputs):     ", circular(kernel[::-1]))
'''),
    markdown(r'''
## 3. Which outputs are valid

The flipped line has $N = 8$ entries, but only $N - f + 1 = 6$ of them are window positions of
the layer. The picture shows why: it draws, for every output $a$ of a circular convolution with
$N = 8$ and $f = 3$, which inputs it reads. Most outputs read $f$ neighbouring inputs, exactly a
sliding window. The outputs drawn in red reach below index 0, wrap around to the far end of the
signal, and mix in pixels from the opposite edge: they are contaminated by the wrap-around, and
belong to no window of the layer.
'''),
    demo('''
display(plot_circular_reach(8, 3))
'''),
    markdown(r'''
Consequences for the layer:

- transform at the size of the **padded** input, $H_p \times W_p = (H + 2p) \times (W + 2p)$;
  the zero padding is the layer's own, not extra padding against wrap-around: the contaminated
  outputs are simply not kept;
- the filters must be transformed at that same size (zero-padded), or the spectra cannot be
  multiplied;
- the layer's outputs are the circular outputs that did not wrap. In 2-D the wrap happens along
  both axes independently. Which rows and columns of the 2-D circular result are they, and how
  do they line up with the layer's output `(i, j)`? Sections 2 and 3 together answer it.

## 4. Stride is subsampling

The FFT computes every stride-1 position at once; a stride only says which of them to keep.
Output `i` of a stride-`s` layer is the stride-1 output at row `i·s`, so the layer keeps every
`s`-th of the valid rows and columns, starting with the first. Counting them: of the
$H_p - f + 1$ valid rows, every $s$-th gives $\lfloor (H_p - f)/s \rfloor + 1 = H_\text{out}$,
exactly the output size. The work on the discarded positions is wasted, which is one reason the
FFT route suits stride 1 best.

## 5. Your task: `conv_forward_fft`

The contract is the layer's, as for every other tier: `x (H, W, C, M)`, `w (K, f, f, C)`,
`b (K,)`, any stride and padding, the output `(H_out, W_out, K, M)` in the dtype of `x`, the same
numbers as `conv_forward_im2col` up to rounding. Use `numpy.fft` only: a library convolution
(`scipy.signal`, `np.convolve`, ...) is not allowed in a graded function. No Python loops are
needed: the transforms take an `axes=` argument and work on every plane of an array at once.

Three things that are easy to get wrong:

- the flip reverses the two spatial axes of the filters, not the channel axis;
- the inverse of a half-spectrum transform (`irfft2`) cannot tell whether the original width
  was even or odd: tell it the size you want back;
- the channel sum happens at every frequency, *before* the inverse transform: one inverse
  transform per (filter, sample), not per (filter, channel, sample).

<details><summary>Hint: the steps in words</summary>

Pad; transform the padded input over its two spatial axes; flip the filters and transform them
over their two spatial axes at the padded input's size; at every frequency, sum over channels
the products of the two spectra, for every filter and sample (one `np.einsum`, or a batched
`np.matmul` after moving axes); transform back to a real array of the padded size; keep the
outputs of sections 3 and 4; add the bias; return the dtype of `x`.
</details>
'''),
    answer(functions.CONV_FORWARD_FFT),
    visible_test("conv_forward_fft", '''
# Public checks: the hand-worked 3x3 example (a true convolution gives other numbers), the
# lecture's 6x6x10 layer, and stored results for stride 2, pad 1 and H != W.
from helpers.checks import check_conv_forward
check_conv_forward(conv_forward_fft)
'''),
    hidden_test("conv_forward_fft"),
    markdown(r'''
The FFT layer and the im2col layer compute the same numbers through completely different
arithmetic, so they agree only up to rounding: expect differences around $10^{-13}$ in float64.
The cell compares them on a few strides and paddings, with `H ≠ W`.
'''),
    demo('''
rng = np.random.default_rng(0)
for shape, K, f, stride, pad in [((9, 7, 3, 2), 4, 3, 1, 1), ((10, 13, 2, 1), 3, 5, 2, 2),
                                 ((8, 8, 4, 3), 2, 4, 3, 0)]:
    x = rng.standard_normal(shape)
    w = rng.standard_normal((K, f, f, shape[2]))
    b = rng.standard_normal(K)
    fft_out = conv_forward_fft(x, w, b, stride, pad)
    difference = np.abs(fft_out - conv_forward_im2col(x, w, b, stride, pad)).max()
    print(f"x {shape}, {K} filters {f}x{f}, stride {stride}, pad {pad}: out {fft_out.shape}, "
          f"largest difference from im2col {difference:.1e}")
'''),
    markdown(r'''
How fast is yours? On a layer with large filters (15 × 15) at stride 1, where the FFT pays off,
the cell times it against the given im2col layer, the best of five runs each, and says what to
expect.
'''),
    demo('''
report_speedup(conv_forward_fft, conv_forward_im2col)
'''),
    markdown(r'''
## 6. Where the FFT wins

Count the work for a layer with "same" padding, $P = H W M$ outputs per filter, and padded
planes of $N = H_p W_p = (H + f - 1)(W + f - 1)$ pixels:

- **im2col**: $K \cdot f^2 C \cdot P$ multiply-adds in one matrix product, plus copying
  $f^2 C P$ numbers into `X_col`. Grows with $f^2$.
- **FFT**: transforms of the $C M$ input planes, the $K C$ filter planes and the $K M$ output
  planes, each about $N \log_2 N$ operations; plus the per-frequency products, about
  $\tfrac{N}{2} \cdot K C M$ complex multiply-adds. Both grow with $f$ only through $N$, that
  is roughly like $(H + f)^2$: slowly while $f \ll H$.

The cell times both layers on 32 × 32 images with 8 channels, a batch of 4 and 8 filters, for
odd filter sizes from 1 to 15 with padding $(f - 1)/2$ (so that the output keeps the input's
size); each time is the best of five runs. It then fits each cost model to its measurements,

$$
t_\text{im2col} = t_0 + a \cdot K f^2 C P, \qquad
t_\text{FFT} = t_0' + b \cdot (CM + KC + KM)\, N \log_2 N + c \cdot \tfrac{N}{2} K C M,
$$

(a fixed cost per call, then one unknown cost per unit of each kind of work), draws the models
dashed over the measurements on log–log axes, and reports where the measured lines cross.
'''),
    demo('''
rng = np.random.default_rng(1)
H = W = 32
C, M, K = 8, 4, 8
x = rng.standard_normal((H, W, C, M))
sizes = np.arange(1, 16, 2)
im2col_times, fft_times = [], []
for f in sizes:
    w = rng.standard_normal((K, f, f, C))
    b = rng.standard_normal(K)
    im2col_times.append(best_time(conv_forward_im2col, x, w, b, pad=(f - 1) // 2, repeats=5))
    fft_times.append(best_time(conv_forward_fft, x, w, b, pad=(f - 1) // 2, repeats=5))
im2col_times, fft_times = np.array(im2col_times), np.array(fft_times)

P, N = H * W * M, (H + sizes - 1) * (W + sizes - 1)
once = np.ones(len(sizes))
im2col_model = fit_cost_model(im2col_times, {"per call": once, "multiply-adds": K * sizes ** 2 * C * P})
fft_model = fit_cost_model(fft_times, {"per call": once,
                                       "transforms": (C * M + K * C + K * M) * N * np.log2(N),
                                       "products": N / 2 * K * C * M})
for f, t_col, t_fft in zip(sizes, im2col_times, fft_times):
    side = H + f - 1                                     # the padded side (H = W)
    factors = [p for p in range(2, side + 1) if side % p == 0 and all(p % q for q in range(2, p))]
    print(f"f = {f:2d}: im2col {t_col * 1e3:6.2f} ms   FFT {t_fft * 1e3:6.2f} ms   "
          f"faster: {'FFT   ' if t_fft < t_col else 'im2col'}   (padded side {side}, prime factors {factors})")
fft_ahead = fft_times < im2col_times
crossover = next((f for k, f in enumerate(sizes) if fft_ahead[k:].all()), None)
print("fitted im2col:", {k: f"{v:.2e} s" for k, v in im2col_model.coefficients.items()},
      f"largest misfit {im2col_model.worst:.0%}")
print("fitted FFT:   ", {k: f"{v:.2e} s" for k, v in fft_model.coefficients.items()},
      f"largest misfit {fft_model.worst:.0%}")
verdict = f"FFT faster from f = {crossover}" if crossover is not None else "FFT never stays ahead"
print(f"measured: {verdict}; at f = {sizes[-1]} the FFT takes {fft_times[-1] / im2col_times[-1]:.2f}x "
      f"the time of im2col")
display(plot_timing_curve(sizes, {"im2col": im2col_times, "FFT": fft_times},
                          models={"im2col": im2col_model.predicted, "FFT": fft_model.predicted},
                          loglog=True, xlabel="filter size f",
                          title=f"32x32x8 images, batch 4, 8 filters, same padding: {verdict}"))
'''),
    markdown(r'''
Read the plot with the models in mind. im2col's line bends up towards slope 2 on the log–log
axes: its work is $f^2$. The FFT's stays nearly flat, rising only with the padded size; its
measured points jump around the model where the padded side has a large prime factor (34, 38
and 46 are twice a prime), because the FFT is fastest on sizes made of small primes. Where the
two lines cross depends on the image size, the channels, the filters and the batch, and on the
machine, which is why the cell measures it rather than this text asserting it.

Why, then, do most networks not use FFTs? Because most of their filters are 3 × 3 or 1 × 1,
where the FFT has nothing to gain; because strides waste the FFT's work on positions that are
thrown away; and because every filter must be stored as a full $H_p \times W_q$ complex spectrum
instead of $f \times f$ numbers. For the ubiquitous 3 × 3 filters, libraries such as cuDNN and
oneDNN use **Winograd's** minimal filtering algorithms instead: $F(2 \times 2, 3 \times 3)$
computes a 2 × 2 block of outputs with 16 multiplications instead of 36 (2.25× fewer), at the
price of extra additions and somewhat larger rounding errors. They do include FFT-based
algorithms too, for the layers where those pay off: large filters at stride 1.

## Looking back

You have written the same layer five ways: seven loops, three loops, one matrix product, its
gradient, and a trip through the frequency domain. Each is checked against the previous ones,
and each was faster for a reason you can now name: less interpreter work per multiply-add, one
tuned matrix product instead of many small ones, and finally less arithmetic altogether.

## Going further (optional)

**Winograd in one dimension.** $F(2, 3)$ computes two outputs of a 3-tap cross-correlation from
four inputs $d_0 \dots d_3$ with four multiplications instead of six. The filter-side factors
$(g_0 + g_1 + g_2)/2$ and $(g_0 - g_1 + g_2)/2$ are computed once per filter, so they do not
count. The cell checks the formulas on random numbers. Nesting it along rows and columns gives
$F(2 \times 2, 3 \times 3)$: count its multiplications. How would you tile a whole layer with
it, and where does the channel sum go?

**float32 and the FFT.** numpy 2 transforms float32 arrays in float32. The second cell runs
your FFT layer and the given im2col layer in float32 and compares both with the float64 result.
Which one is more accurate, and why might the FFT's error grow with the image size while
im2col's grows with $f^2 C$?
'''),
    demo('''
rng = np.random.default_rng(2)
d = rng.standard_normal(4)                 # four inputs
g = rng.standard_normal(3)                 # a 3-tap filter
m1 = (d[0] - d[2]) * g[0]
m2 = (d[1] + d[2]) * (g[0] + g[1] + g[2]) / 2
m3 = (d[2] - d[1]) * (g[0] - g[1] + g[2]) / 2
m4 = (d[1] - d[3]) * g[2]
winograd = np.array([m1 + m2 + m3, m2 - m3 - m4])
direct = np.array([np.sum(d[0:3] * g), np.sum(d[1:4] * g)])
print("Winograd F(2,3), 4 multiplications:", winograd)
print("direct, 6 multiplications:         ", direct)
'''),
    demo('''
rng = np.random.default_rng(3)
x = rng.standard_normal((32, 32, 8, 4))
w = rng.standard_normal((8, 5, 5, 8))
b = rng.standard_normal(8)
exact = conv_forward_im2col(x, w, b, pad=2)
for name, layer in [("im2col", conv_forward_im2col), ("FFT", conv_forward_fft)]:
    for dtype in (np.float64, np.float32):
        out = layer(x.astype(dtype), w.astype(dtype), b.astype(dtype), pad=2)
        error = np.abs(out - exact).max() / np.abs(exact).max()
        print(f"{name:6s} {np.dtype(dtype).name}: output {out.dtype}, largest error relative to the "
              f"largest output {error:.1e}")
'''),
]
