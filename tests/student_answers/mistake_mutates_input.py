"""The window multiplied in place, "to save memory": the caller's x_slice is overwritten."""
import numpy as np


def conv_single_step(x_slice, w_k, b_k):
    x_slice *= w_k
    return float(np.sum(x_slice) + b_k)
