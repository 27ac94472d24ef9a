"""Assignment 5: the layer through the Fourier transform."""
from tools.nbbuild import answer, demo, hidden_test, markdown, visible_test
from tools.notebooks import common, functions

CELLS = [
    markdown(r'''
# Assignment 5 — Convolution through the Fourier transform

The im2col layer does $f \cdot f \cdot C$ multiply-adds per output value, so doubling the
filter size quadruples its work. There is a route whose cost hardly depends on the filter size
at all: transform the image and the filters into the frequency domain, where convolution
becomes an element-wise product, and transform back. This notebook builds the layer that way,
and finds out where it beats im2col.

**After this notebook you can**

1. state the convolution theorem and what "circular" means for the discrete transform;
2. explain why the filters must be flipped, given that the layer computes a cross-correlation;
3. tell which outputs of a circular convolution are valid, and implement stride as subsampling;
4. write `conv_forward_fft` with `numpy.fft`, for any stride and padding, in the course's layout;
5. measure im2col against FFT as the filter grows, and say where each one wins.
'''),
    common.HOW_TO,
    common.setup('''
from helpers.plots import plot_timing_curve
from helpers.timing import time_function
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
holds for **circular** convolution: indices wrap around modulo $N$,

$$
(x \circledast g)[a] = \sum_{t=0}^{N-1} x[(a - t) \bmod N]\; g[t],
$$

as if the array were drawn on a ring. In two dimensions the same is true along both axes, with
`np.fft.fft2` (or `rfft2`, for real inputs, which stores only the half of the spectrum that is not
redundant).

For our layer, output map `k` of sample `n` is a sum over channels, and sums pass straight
through the transform:

$$
\text{out}_{k, n} = \sum_c x_{c, n} \star w_{k, c}
\quad\Longrightarrow\quad
\mathcal{F}\{\text{out}_{k, n}\} = \sum_c \mathcal{F}\{x_{c, n}\} \cdot \mathcal{F}\{\tilde w_{k, c}\}
$$

(with $\tilde w$ the flipped filter, see section 2). So: transform every input plane once,
transform every filter plane once, and at every frequency do a small `(K, C)` by `(C, M)`
matrix product. None of these costs depends on $f$ except the filter transform, which is small.
'''),
    markdown(r'''
## 2. The layer is a cross-correlation: flip the filter

The theorem is about convolution, $\sum_t x[a - t]\, g[t]$: the filter runs *backwards* over
the input. The layer computes a cross-correlation, $\sum_u x[a + u]\, w[u]$: the filter runs
forwards. The two are related by flipping. Define the flipped filter $g[t] = w[f - 1 - t]$.
Then, substituting $t = f - 1 - u$,

$$
(x * g)[a + f - 1] = \sum_{t} x[a + f - 1 - t]\, g[t] = \sum_{u} x[a + u]\, w[u]
= (x \star w)[a].
$$

So **convolving with the flipped filter gives the cross-correlation, shifted by $f - 1$**.
In 2-D the filter is flipped along both spatial axes, `w[:, ::-1, ::-1, :]`, and not along the
channel axis (the channels are summed, not slid over). Forget the flip and you compute a true
convolution, which agrees with the layer only for filters that look the same after a half-turn:
a test with a symmetric filter, such as a box blur, cannot catch the mistake.

The 1-D cell below shows the three versions on an 8-sample signal and a 3-tap filter: the
direct sums, the FFT without the flip, and the FFT with the flip.
'''),
    demo('''
signal = np.array([0.0, 1.0, 3.0, 2.0, 0.0, -1.0, 0.0, 2.0])
kernel = np.array([1.0, 2.0, -1.0])
N, f = len(signal), len(kernel)
direct = np.array([np.sum(signal[a:a + f] * kernel) for a in range(N - f + 1)])

def circular(g):
    """Circular convolution of `signal` with g (zero-padded to N), through the FFT."""
    return np.fft.irfft(np.fft.rfft(signal) * np.fft.rfft(g, n=N), n=N)

print("direct cross-correlation:     ", direct)
print("FFT, filter not flipped:      ", circular(kernel)[f - 1:])
print("FFT, filter flipped:          ", circular(kernel[::-1])[f - 1:])
print("full circular result (flipped):", circular(kernel[::-1]))
'''),
    markdown(r'''
## 3. Which outputs are valid

The last line above has $N = 8$ entries but only $N - f + 1 = 6$ are the ones we want. Look at
the circular sum: output $a$ uses the inputs $a - t$ for $t = 0, \dots, f - 1$. When
$a \ge f - 1$ these indices are all in $[0, N)$ and nothing wraps; those are exactly the valid
window positions, shifted by $f - 1$ as section 2 said. The first $f - 1$ outputs reach "below
zero", wrap around to the end of the signal, and mix in pixels from the far edge: they are
discarded.

Consequences for the layer:

- transform at the size of the **padded** input, $H_p \times W_p = (H + 2p) \times (W + 2p)$;
  the zero padding is the layer's own, not extra padding against wrap-around;
- pad the filter with zeros to $H_p \times W_p$ before transforming it (`s=(Hp, Wp)` in
  `rfft2` does that);
- read the result from row and column $f - 1$ onward.

## 4. Stride is subsampling

The FFT computes every stride-1 position at once; a stride only says which of them to keep.
Output `i` of a stride-`s` layer is the stride-1 output at row `i·s`, so take every `s`-th
valid row and column:

```
out = full[f - 1 :: stride,  f - 1 :: stride]          # (H_out, W_out, K, M)
```

Counting the rows $f - 1, f - 1 + s, \dots$ below $H_p$ gives exactly
$\lfloor (H_p - f)/s \rfloor + 1 = H_\text{out}$. The work on the discarded positions is wasted,
which is one reason the FFT route suits stride 1 best.

## 5. The recipe

With $W_q = \lfloor W_p / 2 \rfloor + 1$ (the half-spectrum width of `rfft2`):

1. `x_pad = zero_pad(x, pad)`, and `X = np.fft.rfft2(x_pad, axes=(0, 1))`: shape `(Hp, Wq, C, M)`;
2. flip the filters, `w[:, ::-1, ::-1, :]`, and transform them at the padded size,
   `np.fft.rfft2(..., s=(Hp, Wp), axes=(1, 2))`: shape `(K, Hp, Wq, C)`;
3. at every frequency, sum over channels: `Y[p, q, k, n] = Σ_c X[p, q, c, n] · G[k, p, q, c]`
   (one `np.einsum`, or a batched `np.matmul` after moving the axes): shape `(Hp, Wq, K, M)`;
4. `full = np.fft.irfft2(Y, s=(Hp, Wp), axes=(0, 1))`: real, shape `(Hp, Wp, K, M)`;
5. keep the valid, strided positions, add the bias per filter, and return the dtype of `x`.

Pass `s=(Hp, Wp)` to `irfft2` as well: from a half spectrum the inverse cannot tell whether the
original width was even or odd.

### Your task: `conv_forward_fft`

Use `numpy.fft` only: a library convolution (`scipy.signal`, `np.convolve`, ...) is not allowed
in a graded function. No Python loops are needed.
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
## 6. Where the FFT wins

Count the work for a layer with "same" padding, $P = H_\text{out} W_\text{out} M$ outputs per
filter and $N = H_p W_p$:

- **im2col**: $K \cdot f^2 C \cdot P$ multiply-adds in one matrix product. Grows with $f^2$.
- **FFT**: transforms of the $C M$ input planes, the $K C$ filter planes and the $K M$ output
  planes, each about $N \log_2 N$ operations, plus the per-frequency products, about
  $\tfrac{N}{2} \cdot K C M$ complex multiply-adds. Nothing here grows with $f$.

So for small filters im2col wins easily: its matrix product runs near the processor's peak and
$f^2$ is small. As the filter grows, im2col's cost rises quadratically while the FFT's stays
flat. The cell times both on 32 × 32 images with 8 channels, a batch of 4 and 8 filters, for
odd filter sizes from 1 to 15 with padding $(f - 1)/2$ (so that the output keeps the input's
size).
'''),
    demo('''
rng = np.random.default_rng(1)
x = rng.standard_normal((32, 32, 8, 4))
sizes = [1, 3, 5, 7, 9, 11, 13, 15]
im2col_times, fft_times = [], []
for f in sizes:
    w = rng.standard_normal((8, f, f, 8))
    b = rng.standard_normal(8)
    im2col_times.append(time_function(conv_forward_im2col, x, w, b, pad=(f - 1) // 2, repeats=3))
    fft_times.append(time_function(conv_forward_fft, x, w, b, pad=(f - 1) // 2, repeats=3))
for f, t_col, t_fft in zip(sizes, im2col_times, fft_times):
    winner = "FFT" if t_fft < t_col else "im2col"
    print(f"f = {f:2d}: im2col {t_col * 1e3:6.2f} ms   FFT {t_fft * 1e3:6.2f} ms   faster: {winner}")
display(plot_timing_curve(sizes, {"im2col": im2col_times, "FFT": fft_times},
                          xlabel="filter size f",
                          title="forward pass, 32x32x8 images, batch 4, 8 filters, same padding"))
'''),
    markdown(r'''
On this machine the lines usually cross somewhere around $f = 5$ to $7$: below that im2col is
faster, above it the FFT, and by $f = 15$ the FFT is several times ahead. The exact crossing
moves with the image size, the number of channels and filters, and even with the padded size
(FFTs of lengths with only small prime factors are faster), so measure rather than guess.

Why, then, do most networks not use FFTs? Because most of their filters are 3 × 3 or 1 × 1,
where the FFT has nothing to gain; because strides waste the FFT's work on positions that are
thrown away; and because every filter must be stored as a full $H_p \times W_q$ complex spectrum
instead of $f \times f$ numbers. Libraries such as cuDNN do include FFT-based algorithms, for
the layers where they pay off: large filters at stride 1.

## Looking back

You have written the same layer five ways: seven loops, four loops, one matrix product, its
gradient, and a trip through the frequency domain. Each is checked against the previous ones,
and each was faster for a reason you can now name: less interpreter work per multiply-add, one
tuned matrix product instead of many small ones, and finally less arithmetic altogether.
'''),
]
