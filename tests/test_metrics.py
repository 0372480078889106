import numpy as np
import pytest

from binarygan.metrics import (class_counts, class_entropy, connected_components, fid,
                               frechet_distance, inception_score, isolated_pixels,
                               min_class_share, notch_ratio, preactivation_histogram,
                               sample_metrics)


def random_covariance(rng, dim):
    factor = rng.normal(size=(dim, dim))
    return factor @ factor.T + 0.1 * np.eye(dim)


def test_frechet_distance_of_identical_feature_sets_is_zero():
    features = np.random.RandomState(0).normal(size=(500, 16)) @ np.diag(np.arange(1., 17.))
    assert fid(features, features) == pytest.approx(0., abs=1e-8)
    assert fid(features, features + 2.) == pytest.approx(16 * 4.)


def test_frechet_distance_equals_the_closed_form_for_known_gaussians():
    # Diagonal covariances: |mu_a - mu_b|^2 + sum (sigma_a - sigma_b)^2.
    mean_a, mean_b = np.array([0., 1., 2.]), np.array([1., 1., 0.])
    sigma_a, sigma_b = np.array([1., 2., 3.]), np.array([2., 2., 1.])
    assert frechet_distance(mean_a, np.diag(sigma_a ** 2), mean_b, np.diag(sigma_b ** 2)) == \
        pytest.approx(5. + 1. + 0. + 4.)
    # Two non-commuting 2x2 covariances: tr sqrt(M) = sqrt(tr M + 2 sqrt(det M)), M = A B.
    cov_a, cov_b = np.array([[2., 1.], [1., 2.]]), np.array([[1., 0.], [0., 4.]])
    product = cov_a @ cov_b
    trace_root = np.sqrt(np.trace(product) + 2 * np.sqrt(np.linalg.det(product)))
    expected = 1. + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root
    assert frechet_distance(np.zeros(2), cov_a, np.array([1., 0.]), cov_b) == \
        pytest.approx(expected, rel=1e-12)


def test_frechet_distance_is_symmetric():
    rng = np.random.RandomState(1)
    mean_a, mean_b = rng.normal(size=8), rng.normal(size=8)
    cov_a, cov_b = random_covariance(rng, 8), random_covariance(rng, 8)
    forward = frechet_distance(mean_a, cov_a, mean_b, cov_b)
    assert forward > 1.
    assert frechet_distance(mean_b, cov_b, mean_a, cov_a) == pytest.approx(forward, rel=1e-9)
    features_a, features_b = rng.normal(size=(300, 8)), 2 * rng.normal(size=(300, 8)) + 1
    assert fid(features_a, features_b) == pytest.approx(fid(features_b, features_a), rel=1e-9)


def test_inception_score_counts_confident_distinct_classes():
    ten_classes = np.eye(10)[np.arange(1000) % 10]
    assert inception_score(ten_classes) == pytest.approx(10.)
    assert inception_score(np.eye(10)[np.full(1000, 3)]) == pytest.approx(1.)
    assert inception_score(np.full((1000, 10), 0.1)) == pytest.approx(1.)  # unsure of all
    two_classes = np.eye(10)[np.arange(1000) % 2]
    assert inception_score(two_classes) == pytest.approx(2.)


def test_class_entropy_and_min_class_share_of_constructed_histograms():
    assert class_entropy(np.full(10, 100)) == pytest.approx(1.)
    assert class_entropy([1000] + [0] * 9) == pytest.approx(0.)
    assert class_entropy([500, 500] + [0] * 8) == pytest.approx(np.log(2) / np.log(10))
    assert min_class_share(np.full(10, 100)) == pytest.approx(0.1)
    assert min_class_share([50] + [100] * 9) == pytest.approx(50 / 950)
    assert min_class_share([500, 500] + [0] * 8) == 0.
    probabilities = np.eye(10)[[0, 0, 3, 9]] * 0.6 + 0.04  # argmax 0, 0, 3, 9
    assert class_counts(probabilities).tolist() == [2, 0, 0, 1, 0, 0, 0, 0, 0, 1]


def test_preactivation_histogram_counts_and_shares():
    values = np.array([0., 0.05, 0.1, 0.3, 0.4, 0.5, 0.6, 0.7, 0.95, 1.])
    histogram = preactivation_histogram(values)
    assert sum(histogram['counts']) == 10 and len(histogram['bin_edges']) == 201
    # 0.005-wide bins; the last, [0.995, 1], includes 1.
    assert len(histogram['counts']) == 200
    assert histogram['counts'][0] == 1 and histogram['counts'][-1] == 1  # 0 and 1 counted
    centres = (np.arange(200) + 0.5) * 0.005
    assert preactivation_histogram(np.repeat(centres, np.arange(200)))['counts'] == list(
        range(200))
    assert histogram['share_0.4_to_0.6'] == pytest.approx(0.3)
    assert histogram['share_below_0.1_or_above_0.9'] == pytest.approx(0.5)


def test_the_fine_histogram_finds_a_one_bin_notch_that_a_coarse_window_misses():
    # Uniform values with the paper's notch: the 0.005-wide bin just below 0.5 holds
    # 1/13 of what its neighbours hold.
    values = np.random.RandomState(0).rand(2_000_000)
    in_notch = (values >= 0.495) & (values < 0.5)
    values = values[~in_notch | (np.arange(len(values)) % 13 == 0)]
    assert notch_ratio(preactivation_histogram(values)) == pytest.approx(1 / 13, rel=0.15)
    # The old measure, the density in (0.46, 0.54) over that in the 0.08-wide windows
    # beside it, dilutes the dip to a few per cent; 0.02-wide bins to about a quarter.
    assert notch_ratio(preactivation_histogram(values, bins=50)) > 0.7
    middle = np.mean((values > 0.46) & (values < 0.54)) / 0.08
    beside = np.mean(((values > 0.38) & (values < 0.46)) | ((values > 0.54) & (values < 0.62)))
    assert middle / (beside / 0.16) > 0.9
    assert notch_ratio(preactivation_histogram(np.random.RandomState(1).rand(2_000_000))) \
        == pytest.approx(1., abs=0.05)
    assert notch_ratio(preactivation_histogram(np.zeros(100))) is None  # nothing near 0.5


def image(*rows):
    return np.array([[int(c) for c in row] for row in rows], np.uint8)


def test_isolated_pixels_and_components_of_constructed_images():
    first = image('10000',   # a lone pixel in a corner
                  '00110',   # a stroke of three pixels, one diagonal step
                  '00001',
                  '00000',
                  '01000')   # another lone pixel
    second = image('11000',  # one square component
                   '11000',
                   '00000',
                   '00010',  # touches the next pixel only diagonally: one component
                   '00001')
    third = np.zeros((5, 5), np.uint8)
    images = np.stack([first, second, third])[..., None]
    assert isolated_pixels(images) == pytest.approx((2 + 0 + 0) / 3)
    assert connected_components(images) == pytest.approx((3 + 2 + 0) / 3)
    # A long snake needs many rounds of label spreading: still one component.
    snake = np.zeros((1, 28, 28), np.uint8)
    snake[0, ::2, :] = 1
    snake[0, 1::4, -1] = 1
    snake[0, 3::4, 0] = 1
    assert connected_components(snake) == 1. and isolated_pixels(snake) == 0.


def test_artifact_numbers_only_for_binary_images():
    features = np.random.RandomState(0).normal(size=(20, 4))
    probabilities = np.full((20, 10), 0.1)
    fit = features.mean(axis=0), np.cov(features, rowvar=False)
    binary = (np.random.RandomState(1).rand(20, 28, 28, 1) < 0.1).astype(np.float32)
    assert sample_metrics(features, probabilities, binary, fit)['isolated_pixels'] > 0
    raw = sample_metrics(features, probabilities, binary * 0.7, fit)
    assert raw['isolated_pixels'] is None and raw['components'] is None
