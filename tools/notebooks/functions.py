"""The course's own code for every contract function, written for teaching.

Each is a `Function`: the header (signature and docstring) stays in the student's stub, the body
is the solution of its answer cell, and the whole function is the given code of later notebooks.
These are deliberately plain and differ from `autograder.reference` (the release check compares
function bodies). `OUTPUT_SHAPE` is not graded: later notebooks give it to students so their
layers can validate arguments in one line.
"""
from tools.nbbuild import Function

# --------------------------------------------------------------------------- a1_naive
CONV_OUTPUT_SIZE = Function("conv_output_size", '''
def conv_output_size(n, f, stride=1, pad=0):
    """
    Count the positions a window of size f takes along one spatial axis.

    Inputs:
    - n: size of the input along the axis (H or W), int >= 1
    - f: filter size, int >= 1
    - stride: step between neighbouring windows, int >= 1
    - pad: zeros added on each side of the axis, int >= 0

    Returns:
    - the number of output positions, an int: floor((n + 2*pad - f) / stride) + 1.
      Windows that would run past the padded edge are dropped.

    Raises ValueError if stride < 1, pad < 0, or no window fits (f > n + 2*pad).
    """
''', '''
if stride < 1 or pad < 0:
    raise ValueError(f"need stride >= 1 and pad >= 0, got stride={stride}, pad={pad}")
room = n + 2 * pad - f          # how far the window's first row can move
if room < 0:
    raise ValueError(f"a filter of size {f} does not fit an input of size {n} "
                     f"padded by {pad} (n + 2*pad = {n + 2 * pad})")
return room // stride + 1
''')

ZERO_PAD = Function("zero_pad", '''
def zero_pad(x, pad):
    """
    Surround the two spatial axes of x with `pad` rows and columns of zeros.

    Inputs:
    - x: input, shape (H, W, C, M)
    - pad: number of zeros on each side, int >= 0

    Returns:
    - x_pad: a new array of shape (H + 2*pad, W + 2*pad, C, M) and the dtype of x;
      the channel and sample axes are not padded. x itself is left unchanged.
    """
''', '''
H, W, C, M = x.shape
x_pad = np.zeros((H + 2 * pad, W + 2 * pad, C, M), dtype=x.dtype)
x_pad[pad:pad + H, pad:pad + W, :, :] = x     # also right when pad == 0
return x_pad
''')

CONV_FORWARD_NAIVE = Function("conv_forward_naive", '''
def conv_forward_naive(x, w, b, stride=1, pad=0):
    """
    Forward pass of a convolutional layer, written as the lecture's seven loops.

    Inputs:
    - x: input, shape (H, W, C, M)
    - w: filters, shape (K, f, f, C)
    - b: biases, shape (K,)
    - stride: step between neighbouring windows, int >= 1
    - pad: zeros added around H and W, int >= 0

    Returns:
    - out: shape (H_out, W_out, K, M), dtype of x, with
      out[i, j, k, n] = b[k] + sum over u, v, c of x_pad[i*stride + u, j*stride + v, c, n] * w[k, u, v, c]

    Raises ValueError if x and w disagree on the number of channels or no window fits.
    """
''', '''
H, W, C, M = x.shape
K, f, _, C_w = w.shape
if C_w != C:
    raise ValueError(f"x has {C} channels (shape {x.shape}) but the filters have {C_w} "
                     f"(shape {w.shape})")
H_out = conv_output_size(H, f, stride, pad)
W_out = conv_output_size(W, f, stride, pad)
x_pad = zero_pad(x, pad)
out = np.zeros((H_out, W_out, K, M), dtype=x.dtype)
for n in range(M):                              # 1. every sample
    for k in range(K):                          # 2. every filter
        for i in range(H_out):                  # 3. every output row
            for j in range(W_out):              # 4. every output column
                total = b[k]
                for u in range(f):              # 5. every row of the window
                    for v in range(f):          # 6. every column of the window
                        for c in range(C):      # 7. every channel
                            pixel = x_pad[i * stride + u, j * stride + v, c, n]
                            total = total + pixel * w[k, u, v, c]
                out[i, j, k, n] = total
return out
''')

# --------------------------------------------------------------------------- given from a2 on
OUTPUT_SHAPE = Function("output_shape", '''
def output_shape(x, w, stride=1, pad=0):
    """
    The shape of the layer's output, after checking that x and w fit together.

    Inputs:
    - x: input, shape (H, W, C, M)
    - w: filters, shape (K, f, f, C)
    - stride, pad: as for the layer

    Returns:
    - (H_out, W_out, K, M), a tuple of ints

    Raises ValueError if x and w disagree on C or no window fits (via conv_output_size).
    """
''', '''
H, W, C, M = x.shape
K, f, _, C_w = w.shape
if C_w != C:
    raise ValueError(f"x has {C} channels (shape {x.shape}) but the filters have {C_w} "
                     f"(shape {w.shape})")
return conv_output_size(H, f, stride, pad), conv_output_size(W, f, stride, pad), K, M
''')

# --------------------------------------------------------------------------- a2_partial
CONV_SINGLE_STEP = Function("conv_single_step", '''
def conv_single_step(x_slice, w, b):
    """
    Every filter applied to one window, as one matrix-vector product: the loops over the
    filter and over the window's u, v and c become one vectorized step.

    Inputs:
    - x_slice: one window of the padded input, shape (f, f, C)
    - w: the filters, shape (K, f, f, C)
    - b: the biases, shape (K,)

    Returns:
    - out: shape (K,), dtype of x_slice; out[k] is the sum of x_slice * w[k] over all
      f*f*C entries, plus b[k]
    """
''', '''
K = w.shape[0]
filters = w.reshape(K, -1)               # (K, f*f*C): row k holds filter k in (u, v, c) order
return filters @ x_slice.ravel() + b     # the window flattened in the same order
''')

CONV_FORWARD_PARTIAL = Function("conv_forward_partial", '''
def conv_forward_partial(x, w, b, stride=1, pad=0):
    """
    Forward pass with three loops (sample, output row, output column); each window meets
    all K filters in one call to conv_single_step.

    Inputs:
    - x: input, shape (H, W, C, M)
    - w: filters, shape (K, f, f, C)
    - b: biases, shape (K,)
    - stride, pad: ints, stride >= 1, pad >= 0

    Returns:
    - out: shape (H_out, W_out, K, M), dtype of x

    Raises ValueError if x and w disagree on C or no window fits.
    """
''', '''
H_out, W_out, K, M = output_shape(x, w, stride, pad)
f = w.shape[1]
x_pad = zero_pad(x, pad)
out = np.zeros((H_out, W_out, K, M), dtype=x.dtype)
for n in range(M):
    for i in range(H_out):
        top = i * stride
        for j in range(W_out):
            left = j * stride
            window = x_pad[top:top + f, left:left + f, :, n]     # (f, f, C)
            out[i, j, :, n] = conv_single_step(window, w, b)     # all K filters at once
return out
''')

# --------------------------------------------------------------------------- a3_im2col
IM2COL = Function("im2col", '''
def im2col(x, f, stride=1, pad=0):
    """
    Copy every f x f x C window of the padded input into one column of a matrix.

    Inputs:
    - x: input, shape (H, W, C, M)
    - f: filter size, int >= 1
    - stride, pad: ints, stride >= 1, pad >= 0

    Returns:
    - X_col: shape (f*f*C, H_out*W_out*M), dtype of x, with
      X_col[(u*f + v)*C + c, (i*W_out + j)*M + n] = x_pad[i*stride + u, j*stride + v, c, n]
      so that w.reshape(K, -1) @ X_col multiplies every filter with every window.

    Raises ValueError if no window fits.
    """
''', '''
H, W, C, M = x.shape
H_out = conv_output_size(H, f, stride, pad)
W_out = conv_output_size(W, f, stride, pad)
x_pad = zero_pad(x, pad)
# cols[u, v, c, i, j, n] = x_pad[i*stride + u, j*stride + v, c, n]
cols = np.empty((f, f, C, H_out, W_out, M), dtype=x.dtype)
for u in range(f):
    for v in range(f):
        # the pixel at offset (u, v) of every window at once: shape (H_out, W_out, C, M)
        at_offset = x_pad[u:u + stride * H_out:stride, v:v + stride * W_out:stride]
        cols[u, v] = at_offset.transpose(2, 0, 1, 3)
# row-major reshape: row (u*f + v)*C + c, column (i*W_out + j)*M + n, as promised
return cols.reshape(f * f * C, H_out * W_out * M)
''')

CONV_FORWARD_IM2COL = Function("conv_forward_im2col", '''
def conv_forward_im2col(x, w, b, stride=1, pad=0):
    """
    Forward pass as one matrix product: (K, f*f*C) @ (f*f*C, H_out*W_out*M).

    Inputs:
    - x: input, shape (H, W, C, M)
    - w: filters, shape (K, f, f, C)
    - b: biases, shape (K,)
    - stride, pad: ints, stride >= 1, pad >= 0

    Returns:
    - out: shape (H_out, W_out, K, M), dtype of x

    Raises ValueError if x and w disagree on C or no window fits.
    """
''', '''
H_out, W_out, K, M = output_shape(x, w, stride, pad)
X_col = im2col(x, w.shape[1], stride, pad)       # (f*f*C, H_out*W_out*M)
W_row = w.reshape(K, -1)                         # (K, f*f*C): one filter per row
out_mat = W_row @ X_col + b.reshape(K, 1)        # (K, H_out*W_out*M)
out = out_mat.reshape(K, H_out, W_out, M).transpose(1, 2, 0, 3)
return out.astype(x.dtype, copy=False)
''')

# --------------------------------------------------------------------------- a4_backward
CONV_BACKWARD_NAIVE = Function("conv_backward_naive", '''
def conv_backward_naive(dout, x, w, stride=1, pad=0):
    """
    Backward pass of the convolutional layer, with loops over (sample, filter, i, j).

    Inputs:
    - dout: upstream gradient, shape (H_out, W_out, K, M)
    - x: the forward pass's input, shape (H, W, C, M)
    - w: the filters, shape (K, f, f, C)
    - stride, pad: as in the forward pass

    Returns a tuple of:
    - dx: gradient with respect to x, shape (H, W, C, M) (not the padded shape)
    - dw: gradient with respect to w, shape (K, f, f, C)
    - db: gradient with respect to b, shape (K,)

    Raises ValueError if dout does not have the output's shape.
    """
''', '''
shape = output_shape(x, w, stride, pad)
if dout.shape != shape:
    raise ValueError(f"dout has shape {dout.shape} but the layer's output has {shape}")
H, W = x.shape[:2]
H_out, W_out, K, M = shape
f = w.shape[1]
x_pad = zero_pad(x, pad)
dx_pad = np.zeros_like(x_pad)
dw = np.zeros(w.shape, dtype=x.dtype)
db = np.zeros(K, dtype=x.dtype)
for n in range(M):
    for k in range(K):
        for i in range(H_out):
            for j in range(W_out):
                g = dout[i, j, k, n]            # how much the loss cares about this output
                rows = slice(i * stride, i * stride + f)
                cols = slice(j * stride, j * stride + f)
                db[k] += g
                dw[k] += g * x_pad[rows, cols, :, n]
                dx_pad[rows, cols, :, n] += g * w[k]   # += : windows overlap
return dx_pad[pad:pad + H, pad:pad + W], dw, db
''')

COL2IM = Function("col2im", '''
def col2im(X_col, x_shape, f, stride=1, pad=0):
    """
    The adjoint of im2col: add every column back onto the window it was copied from.

    Inputs:
    - X_col: shape (f*f*C, H_out*W_out*M), in im2col's row and column order
      (typically the gradient with respect to im2col's output)
    - x_shape: (H, W, C, M), the shape of the UNPADDED input
    - f, stride, pad: as given to im2col

    Returns:
    - an array of shape x_shape, dtype of X_col: for every input pixel, the sum of the
      entries of X_col that were copies of it (overlapping windows add up); the padding
      border is dropped.

    Raises ValueError if X_col's shape does not match x_shape, f, stride and pad.
    """
''', '''
H, W, C, M = x_shape
H_out = conv_output_size(H, f, stride, pad)
W_out = conv_output_size(W, f, stride, pad)
if X_col.shape != (f * f * C, H_out * W_out * M):
    raise ValueError(f"X_col has shape {X_col.shape}, but im2col of an input of shape "
                     f"{tuple(x_shape)} with f={f}, stride={stride}, pad={pad} has shape "
                     f"{(f * f * C, H_out * W_out * M)}")
cols = X_col.reshape(f, f, C, H_out, W_out, M)
x_pad = np.zeros((H + 2 * pad, W + 2 * pad, C, M), dtype=X_col.dtype)
for u in range(f):
    for v in range(f):
        # every window's pixel at offset (u, v) lands on a distinct pixel of x_pad, so the
        # += below has no repeated index; overlaps are summed across the (u, v) passes
        target = x_pad[u:u + stride * H_out:stride, v:v + stride * W_out:stride]
        target += cols[u, v].transpose(1, 2, 0, 3)
return x_pad[pad:pad + H, pad:pad + W]
''')

CONV_BACKWARD_IM2COL = Function("conv_backward_im2col", '''
def conv_backward_im2col(dout, x, w, stride=1, pad=0):
    """
    Backward pass through im2col: the fully-connected layer's backward pass, the inverse
    reshapes, and col2im.

    Inputs:
    - dout: upstream gradient, shape (H_out, W_out, K, M)
    - x: the forward pass's input, shape (H, W, C, M)
    - w: the filters, shape (K, f, f, C)
    - stride, pad: as in the forward pass

    Returns a tuple of:
    - dx: shape (H, W, C, M)
    - dw: shape (K, f, f, C)
    - db: shape (K,)

    Raises ValueError if dout does not have the output's shape.
    """
''', '''
shape = output_shape(x, w, stride, pad)
if dout.shape != shape:
    raise ValueError(f"dout has shape {dout.shape} but the layer's output has {shape}")
K, f = w.shape[:2]
X_col = im2col(x, f, stride, pad)                        # (F, P), F = f*f*C, P = H_out*W_out*M
dout_mat = dout.transpose(2, 0, 1, 3).reshape(K, -1)     # (K, P): undo the forward reshape
dW_row = dout_mat @ X_col.T                              # (K, F)
dX_col = w.reshape(K, -1).T @ dout_mat                   # (F, P)
dx = col2im(dX_col, x.shape, f, stride, pad)
return (dx.astype(x.dtype, copy=False), dW_row.reshape(w.shape).astype(x.dtype, copy=False),
        dout_mat.sum(axis=1).astype(x.dtype, copy=False))
''')

# --------------------------------------------------------------------------- a5_fft
CONV_FORWARD_FFT = Function("conv_forward_fft", '''
def conv_forward_fft(x, w, b, stride=1, pad=0):
    """
    Forward pass through the convolution theorem: transform, multiply, transform back.

    Inputs:
    - x: input, shape (H, W, C, M)
    - w: filters, shape (K, f, f, C)
    - b: biases, shape (K,)
    - stride, pad: ints, stride >= 1, pad >= 0

    Returns:
    - out: shape (H_out, W_out, K, M), dtype of x; the same numbers as the other tiers
      (cross-correlation), up to rounding.

    Raises ValueError if x and w disagree on C or no window fits.
    """
''', '''
K = output_shape(x, w, stride, pad)[2]              # also validates the arguments
f = w.shape[1]
x_pad = zero_pad(x, pad)
Hp, Wp = x_pad.shape[:2]
X = np.fft.rfft2(x_pad, axes=(0, 1))                     # (Hp, Wp//2 + 1, C, M)
flipped = w[:, ::-1, ::-1, :]                            # cross-correlation = convolution
G = np.fft.rfft2(flipped, s=(Hp, Wp), axes=(1, 2))       # with the flipped filter
# multiply at every frequency and sum over channels: (Hp, Wq, C, M) x (K, Hp, Wq, C)
Y = np.einsum("pqcn,kpqc->pqkn", X, G)
full = np.fft.irfft2(Y, s=(Hp, Wp), axes=(0, 1))         # (Hp, Wp, K, M), circular
# valid positions start at f - 1 (before that the circular sum wrapped around); a stride
# keeps every stride-th of them, which leaves exactly H_out rows and W_out columns
out = full[f - 1::stride, f - 1::stride]
return (out + b.reshape(1, 1, K, 1)).astype(x.dtype)
''')

ALL = (CONV_OUTPUT_SIZE, ZERO_PAD, CONV_FORWARD_NAIVE, CONV_SINGLE_STEP, CONV_FORWARD_PARTIAL,
       IM2COL, CONV_FORWARD_IM2COL, CONV_BACKWARD_NAIVE, COL2IM, CONV_BACKWARD_IM2COL,
       CONV_FORWARD_FFT)

# --------------------------------------------------------------------------- a6_cnn
MAX_POOL_FORWARD = Function("max_pool_forward", '''
def max_pool_forward(x, pool=2, stride=2):
    """
    Max pooling: the largest value of every pool x pool window, channel by channel.

    Inputs:
    - x: input, shape (H, W, C, M)
    - pool: window size, int >= 1, at most H and W
    - stride: step between neighbouring windows, int >= 1 (stride < pool: windows overlap)

    Returns:
    - out: shape (H_out, W_out, C, M), dtype of x, with H_out = (H - pool) // stride + 1
      (likewise W_out) and
      out[i, j, c, n] = max over u, v in [0, pool) of x[i*stride + u, j*stride + v, c, n]

    Raises ValueError if the window does not fit (pool > H or pool > W).
    """
''', '''
H, W, C, M = x.shape
H_out = conv_output_size(H, pool, stride)
W_out = conv_output_size(W, pool, stride)
# every channel of every sample becomes a one-channel "sample" of its own, so that each
# column of im2col's matrix is one window of one channel
windows = im2col(x.reshape(H, W, 1, C * M), pool, stride)      # (pool*pool, H_out*W_out*C*M)
return windows.max(axis=0).reshape(H_out, W_out, C, M)
''')

MAX_POOL_BACKWARD = Function("max_pool_backward", '''
def max_pool_backward(dout, x, pool=2, stride=2):
    """
    Backward pass of max pooling: each window's gradient goes to the input that was its maximum.

    Inputs:
    - dout: upstream gradient, shape (H_out, W_out, C, M)
    - x: the forward pass's input, shape (H, W, C, M)
    - pool, stride: as in the forward pass

    Returns:
    - dx: shape (H, W, C, M), dtype of x. When a window's maximum is tied, its gradient goes
      to the FIRST of the tied inputs in row-major (u, v) order only. Where overlapping windows
      picked the same input, their gradients add up.

    Raises ValueError if dout does not have the pooled output's shape.
    """
''', '''
H, W, C, M = x.shape
shape = (conv_output_size(H, pool, stride), conv_output_size(W, pool, stride), C, M)
if dout.shape != shape:
    raise ValueError(f"dout has shape {dout.shape} but the pooled output has {shape}")
windows = im2col(x.reshape(H, W, 1, C * M), pool, stride)      # one column per window
winner = windows.argmax(axis=0)              # row of each column's first maximum
dwindows = np.zeros_like(windows)
dwindows[winner, np.arange(windows.shape[1])] = dout.reshape(-1)
# col2im sends every column back to its window, adding where windows overlap
return col2im(dwindows, (H, W, 1, C * M), pool, stride).reshape(H, W, C, M)
''')

CNN_FORWARD = Function("cnn_forward", '''
def cnn_forward(x, w1, b1, w2, b2, pad=0, pool=2):
    """
    Class scores of the network conv -> ReLU -> max-pool -> affine.

    Inputs:
    - x: images, shape (H, W, C, M)
    - w1: filters, shape (K, f, f, C); b1: their biases, shape (K,). The convolution has
      stride 1 and `pad` zeros around H and W.
    - w2: affine weights, shape (classes, Hp, Wp, K), one weight per pooled value;
      b2: shape (classes,)
    - pad: int >= 0; pool: the pooling window and its stride, int >= 1

    Returns:
    - scores: shape (classes, M), dtype of x, one column per sample:
      scores[k, n] = b2[k] + sum over i, j, c of w2[k, i, j, c] * p[i, j, c, n],
      where p (Hp, Wp, K, M) is the pooled output of the ReLU of the convolution.

    Raises ValueError if w2 does not match the pooled maps' shape.
    """
''', '''
a = conv_forward_im2col(x, w1, b1, 1, pad)                # (H1, W1, K, M)
p = max_pool_forward(np.maximum(a, 0), pool, pool)        # ReLU, then pooling: (Hp, Wp, K, M)
if w2.shape[1:] != p.shape[:3]:
    raise ValueError(f"w2 has shape {w2.shape} but the pooled maps have shape {p.shape[:3]}: "
                     f"w2 must be (classes, {p.shape[0]}, {p.shape[1]}, {p.shape[2]})")
classes, M = w2.shape[0], x.shape[3]
features = p.reshape(-1, M)              # column n: sample n's pooled values, (i, j, c) order
scores = w2.reshape(classes, -1) @ features + b2.reshape(classes, 1)
return scores.astype(x.dtype, copy=False)
''')

CNN_BACKWARD = Function("cnn_backward", '''
def cnn_backward(dscores, x, w1, b1, w2, pad=0, pool=2):
    """
    Backward pass of the network: the gradients of its parameters, given the gradient of the
    loss with respect to its scores.

    Inputs:
    - dscores: shape (classes, M), the gradient with respect to cnn_forward's scores
    - x, w1, b1, w2, pad, pool: as given to cnn_forward (b2 changes no gradient)

    Returns a tuple of:
    - dw1: shape (K, f, f, C); db1: shape (K,)
    - dw2: shape (classes, Hp, Wp, K); db2: shape (classes,)
    all with the dtype of x.

    Raises ValueError if dscores does not have the scores' shape (classes, M).
    """
''', '''
classes, M = w2.shape[0], x.shape[3]
if dscores.shape != (classes, M):
    raise ValueError(f"dscores has shape {dscores.shape} but the scores have ({classes}, {M})")
# the forward pass again: the gradients need its intermediate values
a = conv_forward_im2col(x, w1, b1, 1, pad)
r = np.maximum(a, 0)
p = max_pool_forward(r, pool, pool)
features = p.reshape(-1, M)
W2 = w2.reshape(classes, -1)
# right to left: affine, pooling, ReLU, convolution
dw2 = (dscores @ features.T).reshape(w2.shape)
db2 = dscores.sum(axis=1)
dp = (W2.T @ dscores).reshape(p.shape)
dr = max_pool_backward(dp, r, pool, pool)
da = dr * (a > 0)                        # the ReLU passes gradient only where it was open
_, dw1, db1 = conv_backward_im2col(da, x, w1, 1, pad)
return dw1, db1, dw2.astype(x.dtype, copy=False), db2.astype(x.dtype, copy=False)
''')

ALL += (MAX_POOL_FORWARD, MAX_POOL_BACKWARD, CNN_FORWARD, CNN_BACKWARD)
