"""Every input of a pooling window gets the window's gradient, not only its maximum."""
import numpy as np


def max_pool_backward(dout, x, pool=2, stride=2):
    H_out, W_out = dout.shape[:2]
    dx = np.zeros_like(x)
    for u in range(pool):
        for v in range(pool):
            dx[u:u + stride * H_out:stride, v:v + stride * W_out:stride] += dout
    return dx
