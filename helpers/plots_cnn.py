"""Figures for assignment 6 (the layer at work). Each function returns a matplotlib Figure, closed
in pyplot so a notebook shows it once, and draws only what it is given: the numbers come from
the student's own functions.

Layout (docs/CONTRACT.md): images x (H, W, C, M), the batch last; filters w (K, f, f, C).
"""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from helpers.plots import _colours, _done


def _image_batch(x):
    """x (H, W, 1, M) as M images (M, H, W); ValueError for another shape."""
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[2] != 1:
        raise ValueError(f"images must have shape (H, W, 1, M) (one channel, the batch last), "
                         f"got {x.shape}")
    return x[:, :, 0, :].transpose(2, 0, 1)


def plot_digits(x, labels, predicted=None, columns=10, title=""):
    """A grid of grey-scale images, each titled with its label.

    Inputs:
    - x: (H, W, 1, M) images; labels: (M,) their true labels
    - predicted: (M,) labels a network gave them, or None; when given, each title reads
      "true → predicted", in red where the two differ
    - columns: images per row; title: the figure's title

    Returns the Figure.
    """
    images = _image_batch(x)
    labels = np.asarray(labels)
    if labels.shape != (len(images),) or (predicted is not None and np.shape(predicted) != labels.shape):
        raise ValueError(f"need one label (and one prediction) per image: {len(images)} images, "
                         f"labels {labels.shape}, predicted {np.shape(predicted)}")
    rows = max(1, -(-len(images) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.1 * columns, 1.3 * rows + 0.4),
                             squeeze=False, layout="constrained")
    for ax in axes.flat:
        ax.axis("off")
    for n, (ax, image) in enumerate(zip(axes.flat, images)):
        ax.imshow(image, cmap="gray_r", vmin=0)
        if predicted is None:
            ax.set_title(str(labels[n]), fontsize=10)
        else:
            wrong = predicted[n] != labels[n]
            ax.set_title(f"{labels[n]} → {predicted[n]}", fontsize=10,
                         color="tab:red" if wrong else "black")
    if title:
        fig.suptitle(title)
    return _done(fig)


def _grid(ax, values, title, highlight=None, bold=None, windows=(), pool=0):
    """One 2-d array as a table of numbers; `highlight` (bool, same shape) shades cells, `bold`
    (bool, same shape) sets their numbers in bold."""
    ax.imshow(np.where(highlight, 1.0, 0.0) if highlight is not None else np.zeros(values.shape),
              cmap="Oranges", vmin=0, vmax=2.5)
    for (r, c), value in np.ndenumerate(values):
        strong = bold is not None and bold[r, c]
        ax.text(c, r, f"{value:g}", ha="center", va="center", fontsize=11 if strong else 10,
                fontweight="bold" if strong else "normal")
    colours = _colours(max(len(windows), 1))
    for q, (r, c) in enumerate(windows):
        inset = 0.06 + 0.05 * (q % 4)
        ax.add_patch(Rectangle((c - 0.5 + inset, r - 0.5 + inset), pool - 2 * inset,
                               pool - 2 * inset, fill=False, edgecolor=colours[q], linewidth=2))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)


def plot_max_pool(x, out, dout, dx, pool, stride):
    """Max pooling on one channel of one sample, forward and backward, as tables of numbers.

    Inputs (2-d arrays, one channel of one sample):
    - x: (H, W) the input; out: (H_out, W_out) what max_pool_forward returned for it
    - dout: (H_out, W_out) a gradient arriving at the output; dx: (H, W) what
      max_pool_backward returned for it
    - pool, stride: the windows' size and step

    Left: x with every window outlined and, in bold, every input equal to the maximum out
    reports for a window holding it (tied maxima all show); middle: out; right: dx, cells that
    received gradient shaded. Returns the Figure.
    """
    x, out, dout, dx = (np.asarray(a) for a in (x, out, dout, dx))
    if x.ndim != 2 or dx.shape != x.shape or out.ndim != 2 or dout.shape != out.shape:
        raise ValueError(f"need 2-d x and dx of one shape and 2-d out and dout of another; got "
                         f"x {x.shape}, dx {dx.shape}, out {out.shape}, dout {dout.shape}")
    windows = [(i * stride, j * stride) for i in range(out.shape[0]) for j in range(out.shape[1])]
    fig, axes = plt.subplots(1, 3, figsize=(3 + 0.55 * (2 * x.shape[1] + out.shape[1]),
                                            1.2 + 0.55 * x.shape[0]),
                             width_ratios=[x.shape[1], out.shape[1], x.shape[1]],
                             layout="constrained")
    maxima = np.zeros(x.shape, dtype=bool)
    for (r, c), value in zip(windows, out.ravel()):
        maxima[r:r + pool, c:c + pool] |= x[r:r + pool, c:c + pool] == value
    _grid(axes[0], x, f"x {x.shape[0]}x{x.shape[1]}: {len(windows)} windows "
                      f"{pool}x{pool}, stride {stride}", bold=maxima, windows=windows, pool=pool)
    _grid(axes[1], out, f"out {out.shape[0]}x{out.shape[1]}")
    received = dx != 0
    _grid(axes[2], dx, f"dx for dout = [{', '.join(f'{v:g}' for v in dout.ravel())}]:\n"
                       f"{int(received.sum())} of {dx.size} inputs get gradient", highlight=received)
    return _done(fig)


def plot_training(losses, accuracies, steps_per_epoch):
    """The training loss of every step and the test accuracy after every epoch.

    Inputs:
    - losses: the loss of each training step, in order
    - accuracies: the test accuracy (0..1) after each epoch
    - steps_per_epoch: steps in one epoch (to place the epochs on the step axis)

    Returns the Figure (axes[0]: loss, log scale, with its running mean over an epoch;
    axes[1]: test accuracy in %).
    """
    losses = np.asarray(losses, dtype=float)
    accuracies = 100 * np.asarray(accuracies, dtype=float)
    if losses.ndim != 1 or accuracies.ndim != 1 or steps_per_epoch < 1 or not len(accuracies):
        raise ValueError("need 1-d losses and accuracies (one per epoch) and steps_per_epoch >= 1")
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
    ax_loss.plot(losses, color="tab:blue", alpha=0.35, linewidth=0.8, label="each step")
    window = min(steps_per_epoch, len(losses))
    sums = np.concatenate([[0.0], np.cumsum(losses)])
    running = (sums[window:] - sums[:-window]) / window          # mean of each `window` steps
    ax_loss.plot(np.arange(window - 1, len(losses)), running, color="tab:blue",
                 label=f"mean of the last {window} steps")
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("training step")
    ax_loss.set_ylabel("softmax loss")
    ax_loss.set_title(f"mean of {window} steps: {running[0]:.3g} at first, {running[-1]:.3g} at last")
    ax_loss.legend()
    epochs = np.arange(1, len(accuracies) + 1)
    ax_acc.plot(epochs, accuracies, marker="o", color="tab:green")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("test accuracy (%)")
    ax_acc.set_title(f"test accuracy after {len(accuracies)} epochs: {accuracies[-1]:.1f} %")
    ax_acc.grid(alpha=0.3)
    return _done(fig)


def plot_filters(w, title="filters"):
    """The K filters of a one-channel layer as small images, on one signed colour scale.

    Inputs: w (K, f, f, 1). Returns the Figure, with a colour bar (red positive, blue negative,
    white zero).
    """
    w = np.asarray(w)
    if w.ndim != 4 or w.shape[3] != 1:
        raise ValueError(f"filters must have shape (K, f, f, 1), got {w.shape}")
    K = w.shape[0]
    columns = min(K, 8)
    rows = -(-K // columns)
    limit = float(np.abs(w).max()) or 1.0
    fig, axes = plt.subplots(rows, columns, figsize=(1.2 * columns + 1, 1.25 * rows + 0.4),
                             squeeze=False, layout="constrained")
    for ax in axes.flat:
        ax.axis("off")
    for k, ax in enumerate(axes.flat[:K]):
        image = ax.imshow(w[k, :, :, 0], cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"filter {k}", fontsize=9)
    fig.colorbar(image, ax=axes, shrink=0.8, label="weight")
    fig.suptitle(title)
    return _done(fig)
