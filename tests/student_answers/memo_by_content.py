"""The slow answers behind a cache keyed by the inputs' bytes: instant on a repeated input,
slow on a new one. Timing on fresh inputs every repeat must see through it."""
import hashlib

import numpy as np

from student_answers import slow_loops

_cache = {}


def _key(name, args):
    digest = hashlib.sha1(name.encode())
    for a in args:
        digest.update(a.tobytes() + str(a.shape).encode() + str(a.dtype).encode()
                      if isinstance(a, np.ndarray) else repr(a).encode())
    return digest.hexdigest()


def _memoized(name):
    def fn(*args):
        key = _key(name, args)
        if key not in _cache:
            _cache[key] = getattr(slow_loops, name)(*args)
        return _cache[key]
    fn.__name__ = name
    fn.__module__ = __name__
    return fn


conv_forward_partial = _memoized("conv_forward_partial")
conv_forward_im2col = _memoized("conv_forward_im2col")
col2im = _memoized("col2im")
conv_backward_im2col = _memoized("conv_backward_im2col")
conv_forward_fft = _memoized("conv_forward_fft")
