"""Sample-quality numbers from a classifier's features and class probabilities (numpy only)."""
import numpy as np

NUM_CLASSES = 10
# Preactivated outputs: the paper's "U-shape" shows as these shares.
MIDDLE_RANGE = (0.4, 0.6)
EXTREME_MARGIN = 0.1  # [0, 0.1] and [0.9, 1]
# 0.005 wide, the paper's Figure 4: its DBNs' notch is one such bin just below 0.5.
# The ranges above fall on bin edges.
HISTOGRAM_BINS = 200
NOTCH_NEIGHBOURS = 4  # bins on each side of the two that meet at 0.5


def gaussian_fit(features):
    """Mean and covariance of feature vectors (one per row)."""
    features = np.asarray(features, np.float64)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _psd_sqrt(matrix):
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0., None))) @ vectors.T


def frechet_distance(mean_a, cov_a, mean_b, cov_b):
    """||mu_a - mu_b||^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2)) between two Gaussians."""
    # tr (C_a C_b)^(1/2) = tr (C_a^(1/2) C_b C_a^(1/2))^(1/2), a symmetric matrix: eigh suffices.
    root_a = _psd_sqrt(cov_a)
    middle = root_a @ cov_b @ root_a
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0., None)).sum()
    distance = (np.sum((np.asarray(mean_a) - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b)
                - 2. * trace_root)
    return max(float(distance), 0.)  # rounding can leave -1e-12 for identical sets


def fid(features_a, features_b):
    """Fréchet distance between Gaussian fits of two sets of features."""
    return frechet_distance(*gaussian_fit(features_a), *gaussian_fit(features_b))


def inception_score(probabilities):
    """exp(E_x[KL(p(y|x) || p(y))]): 1 for a single class, NUM_CLASSES at most."""
    p = np.asarray(probabilities, np.float64)
    marginal = p.mean(axis=0)
    tiny = 1e-12  # 0 log 0 = 0
    kl = np.sum(p * (np.log(p + tiny) - np.log(marginal + tiny)), axis=1)
    return float(np.exp(kl.mean()))


def class_counts(probabilities):
    """How often each class is the most probable one."""
    return np.bincount(np.argmax(probabilities, axis=1), minlength=NUM_CLASSES)


def class_entropy(counts):
    """Entropy of the class histogram over log(NUM_CLASSES): 1 when all are equally frequent."""
    shares = np.asarray(counts, np.float64) / np.sum(counts)
    shares = shares[shares > 0]
    return float(np.sum(shares * np.log(1. / shares)) / np.log(NUM_CLASSES))


def min_class_share(counts):
    """Share of the rarest class: 0 when a digit is never generated."""
    return float(np.min(counts) / np.sum(counts))


def _neighbours(on):
    """For binary images (N, H, W), the number of on-pixels among each pixel's eight
    neighbours."""
    padded = np.pad(on.astype(np.int8), ((0, 0), (1, 1), (1, 1)))
    height, width = on.shape[1:]
    return sum(padded[:, 1 + dy:1 + dy + height, 1 + dx:1 + dx + width]
               for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx)


def isolated_pixels(images):
    """Mean number per image of on-pixels none of whose eight neighbours is on: the
    speckle that the paper calls artifacts."""
    on = np.asarray(images).reshape(len(images), *np.shape(images)[1:3]) > 0.5
    return float(np.mean(np.sum(on & (_neighbours(on) == 0), axis=(1, 2))))


def connected_components(images):
    """Mean number per image of 8-connected groups of on-pixels (a clean digit has one
    or two): every on-pixel takes the largest number among its own and its on-neighbours'
    until none changes; then each group holds the number of one of its pixels."""
    on = np.asarray(images).reshape(len(images), *np.shape(images)[1:3]) > 0.5
    height, width = on.shape[1:]
    own = np.arange(1, on.size + 1, dtype=np.int32).reshape(on.shape)
    labels = np.where(on, own, 0)
    active = np.arange(len(on))  # images whose labels still change
    while len(active):
        padded = np.pad(labels[active], ((0, 0), (1, 1), (1, 1)))
        spread = padded[:, 1:1 + height, 1:1 + width].copy()
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                np.maximum(spread, padded[:, 1 + dy:1 + dy + height, 1 + dx:1 + dx + width],
                           out=spread)
        spread *= on[active]
        changed = np.any(spread != labels[active], axis=(1, 2))
        labels[active] = spread
        active = active[changed]
    return float(np.mean(np.sum(on & (labels == own), axis=(1, 2))))


def artifact_metrics(images):
    """Isolated on-pixels and connected components per image, of binary images."""
    return {'isolated_pixels': isolated_pixels(images),
            'components': connected_components(images)}


def sample_metrics(features, probabilities, images, reference_fit):
    """The metrics of one set of samples; ``reference_fit`` is the test set's gaussian_fit.
    Artifact numbers only for binary images (None for a real-valued generator's raw
    outputs)."""
    counts = class_counts(probabilities)
    binary = bool(np.all((images == 0) | (images == 1)))
    return {
        'fid': frechet_distance(*gaussian_fit(features), *reference_fit),
        'inception_score': inception_score(probabilities),
        'class_entropy': class_entropy(counts),
        'min_class_share': min_class_share(counts),
        'mean_confidence': float(np.mean(np.max(probabilities, axis=1))),
        'ink_density': float(np.mean(images)),
        **(artifact_metrics(images) if binary else dict.fromkeys(('isolated_pixels',
                                                                  'components'))),
    }


def preactivation_histogram(values, bins=HISTOGRAM_BINS):
    """Bin counts of preactivated outputs over [0, 1] and the shares that show their shape."""
    values = np.asarray(values).ravel()
    counts, edges = np.histogram(values, bins=bins, range=(0., 1.))
    low, high = MIDDLE_RANGE
    return {
        'bin_edges': [round(float(edge), 6) for edge in edges],
        'counts': counts.tolist(),
        'share_0.4_to_0.6': float(np.mean((values >= low) & (values <= high))),
        'share_below_0.1_or_above_0.9': float(np.mean(
            (values <= EXTREME_MARGIN) | (values >= 1. - EXTREME_MARGIN))),
    }


def notch_ratio(histogram, neighbours=NOTCH_NEIGHBOURS):
    """The lower count of the two bins that meet at 0.5 over the mean count of the
    ``neighbours`` bins on each side of them: about 1 where the histogram is smooth
    there, about 1/13 for the notch of the paper's Figure 4. None without values there."""
    counts = np.asarray(histogram['counts'], np.float64)
    middle = int(np.searchsorted(histogram['bin_edges'], 0.5))  # the bin starting at 0.5
    beside = np.concatenate([counts[middle - 1 - neighbours:middle - 1],
                             counts[middle + 1:middle + 1 + neighbours]])
    if not beside.sum():
        return None
    return float(min(counts[middle - 1], counts[middle]) / beside.mean())
