"""Numbers over seeds, and when two of them differ: the rules every verdict uses."""
import statistics

# Two FIDs are similar within this factor; one beats another only when lower by more
# than this share, so that the noise of a 10,000-sample estimate does not decide a verdict;
# with several seeds, a difference counts only when larger than the two runs' spreads.
SIMILAR_FID_FACTOR = 1.5
FID_MARGIN = 0.05
BETTER_MEANS = (f" (better: an FID lower by more than {FID_MARGIN:.0%} and, with seeds, "
                "by more than the two spreads together)")


def mean_and_spread(values):
    """Mean and sample standard deviation (0 for one value)."""
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.


def shown(values, digits=2, counted=True):
    """'mean ± sd (n seeds)', the count left out where a column gives it."""
    mean, spread = mean_and_spread(values)
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {spread:.{digits}f}" + f" ({len(values)} seeds)" * counted


def beyond_spread(a, b):
    """Whether the means of ``a`` and ``b`` differ by more than their spreads together."""
    (mean_a, spread_a), (mean_b, spread_b) = mean_and_spread(a), mean_and_spread(b)
    return abs(mean_a - mean_b) > spread_a + spread_b


def clearly_lower(a, b):
    """FIDs ``a`` (over seeds) clearly lower than ``b``: by the margin and the spreads."""
    return statistics.mean(a) < (1. - FID_MARGIN) * statistics.mean(b) and beyond_spread(a, b)


def similar(a, b):
    """FIDs within the similarity factor, or apart by no more than their spreads."""
    mean_a, mean_b = statistics.mean(a), statistics.mean(b)
    return (max(mean_a, mean_b) / min(mean_a, mean_b) <= SIMILAR_FID_FACTOR
            or not beyond_spread(a, b))


def tally(holds, missing):
    """A claim's verdict from the checks of it that hold; unclear, for want of
    ``missing``, when there are none."""
    if not holds:
        return f'unclear ({missing})'
    return 'agrees' if all(holds) else 'partly agrees' if any(holds) else 'does not agree'
