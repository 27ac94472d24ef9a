"""The rules students read, declared once (docs/CONTRACT.md): the library convolutions a graded
function must not use. The graders' static check, the cage's import block and the hint of the
`library-convolution` misconception all read them from here.
"""

# Dotted names a graded function must not call: each library's convolution, or the library.
FORBIDDEN_LIBRARIES = ("scipy.signal", "scipy.ndimage", "numpy.convolve", "numpy.correlate",
                       "torch", "jax", "tensorflow", "cv2")

# The modules among them, which the cage refuses to import (defence in depth: the verdict is the
# static check; numpy's own convolve and correlate are replaced by stubs instead).
BLOCKED_MODULES = tuple(name for name in FORBIDDEN_LIBRARIES if not name.startswith("numpy."))
