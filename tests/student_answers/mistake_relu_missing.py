"""The network pools the convolution's output directly: no ReLU in between."""
import numpy as np

from student_answers.correct_vectorized import conv_forward_im2col, max_pool_forward


def cnn_forward(x, w1, b1, w2, b2, pad=0, pool=2):
    p = max_pool_forward(conv_forward_im2col(x, w1, b1, 1, pad), pool, pool)
    return np.einsum("kijc,ijcn->kn", w2, p) + b2[:, None]
