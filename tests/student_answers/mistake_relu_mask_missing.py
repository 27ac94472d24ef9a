"""The network's backward pass sends the pooling's gradient straight into the convolution's
backward pass, through the ReLU even where it was closed."""
import numpy as np

from student_answers.correct_vectorized import (conv_backward_im2col, conv_forward_im2col,
                                                max_pool_backward, max_pool_forward)


def cnn_backward(dscores, x, w1, b1, w2, pad=0, pool=2):
    r = np.maximum(conv_forward_im2col(x, w1, b1, 1, pad), 0)
    p = max_pool_forward(r, pool, pool)
    dr = max_pool_backward(np.einsum("kijc,kn->ijcn", w2, dscores), r, pool, pool)
    _, dw1, db1 = conv_backward_im2col(dr, x, w1, 1, pad)
    return dw1, db1, np.einsum("kn,ijcn->kijc", dscores, p), dscores.sum(axis=1)
