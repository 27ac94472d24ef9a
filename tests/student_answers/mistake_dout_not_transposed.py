"""dout reshaped to (K, -1) without moving its filter axis to the front."""
from student_answers.correct_vectorized import col2im, im2col


def conv_backward_im2col(dout, x, w, stride=1, pad=0):
    K, f = w.shape[:2]
    if x.shape[2] != w.shape[3]:
        raise ValueError("channel mismatch")
    X_col = im2col(x, f, stride, pad)
    dout_mat = dout.reshape(K, -1)
    dw = (dout_mat @ X_col.T).reshape(w.shape)
    dx = col2im(w.reshape(K, -1).T @ dout_mat, x.shape, f, stride, pad)
    return dx, dw, dout.sum(axis=(0, 1, 3))
