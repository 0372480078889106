import numpy as np
import pytest

from binarygan.metrics import (class_counts, class_entropy, fid, frechet_distance,
                               inception_score, min_class_share, preactivation_histogram)


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
    assert sum(histogram['counts']) == 10 and len(histogram['bin_edges']) == 51
    # 0.02-wide bins; the last, [0.98, 1], includes 1.
    assert [histogram['counts'][i] for i in (0, 2, 47, 49)] == [1, 1, 1, 1]
    assert histogram['share_0.4_to_0.6'] == pytest.approx(0.3)
    assert histogram['share_below_0.1_or_above_0.9'] == pytest.approx(0.5)
