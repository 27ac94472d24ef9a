"""The output size rounded up."""
import math


def conv_output_size(n, f, stride=1, pad=0):
    if f > n + 2 * pad:
        raise ValueError("filter too large")
    return math.ceil((n + 2 * pad - f) / stride) + 1
