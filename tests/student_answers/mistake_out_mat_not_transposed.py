"""out_mat (K, H_out*W_out*M) reshaped straight to (H_out, W_out, K, M)."""
from student_answers.correct_loops import im2col


def conv_forward_im2col(x, w, b, stride=1, pad=0):
    K, f = w.shape[:2]
    H, W, C, M = x.shape
    if C != w.shape[3]:
        raise ValueError("channel mismatch")
    H_out, W_out = (H + 2 * pad - f) // stride + 1, (W + 2 * pad - f) // stride + 1
    out_mat = w.reshape(K, -1) @ im2col(x, f, stride, pad) + b[:, None]
    return out_mat.reshape(H_out, W_out, K, M)
