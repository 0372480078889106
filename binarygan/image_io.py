"""Sample grids as PNG images."""
import imageio.v2 as imageio
import numpy as np

SEPARATOR = 0.5  # gray lines between the images of a grid


def make_grid(images, grid):
    """Tile ``images`` (N, H, W[, 1]) with values in [0, 1] into a rows x cols
    array, with one-pixel gray separators."""
    rows, cols = grid
    images = np.asarray(images, dtype=np.float32)[:rows * cols]
    if images.ndim == 4:
        images = images[..., 0]
    n, height, width = images.shape
    canvas = np.full((rows * (height + 1) - 1, cols * (width + 1) - 1), SEPARATOR,
                     np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        canvas[r * (height + 1):r * (height + 1) + height,
               c * (width + 1):c * (width + 1) + width] = images[i]
    return canvas


def save_grid(path, images, grid):
    """Write a grid of images with values in [0, 1] as an 8-bit grayscale PNG."""
    canvas = np.clip(make_grid(images, grid), 0., 1.)
    imageio.imwrite(path, np.round(canvas * 255).astype(np.uint8))
