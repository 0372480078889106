"""The paper's five claims, each a function of one protocol's runs that gives its verdict
from the numbers: (claim, verdict, evidence). ``runs`` maps a run of the grid to its
records, seed 0 first (``with_seeds``). A new claim is one more function in CLAIMS."""
import statistics

from binarygan.metrics import notch_ratio
from experiments.grid import EXTRA_SEEDS
from experiments.statistics import (BETTER_MEANS, SIMILAR_FID_FACTOR, clearly_lower, shown,
                                    similar, tally)

# The DBNs' notch: the bins at 0.5 below this share of their neighbours (the paper's
# Figure 4: about 1/13).
NOTCH_BELOW = 0.5


def with_seeds(records, protocol):
    """{run: [record of seed 0, records of the extra seeds...]} of a protocol."""
    runs = {name: [record] for name, record in records.get(protocol, {}).items()}
    for seed in EXTRA_SEEDS:
        for name, record in records.get(f'{protocol}/seed{seed}', {}).items():
            runs.setdefault(name, []).append(record)
    return runs


def fid(record, variant=None):
    variants = record['metrics']['variants']
    return variants[variant or next(iter(variants))]['fid']


def best(record, metric='fid'):
    """The run's best variant by ``metric`` (binary runs have one)."""
    return min(record['metrics']['variants'].values(), key=lambda values: values[metric])


def fids(runs, name, variant=None):
    return [fid(record, variant) for record in runs[name]]


def dbns_and_sbns_similar(runs):
    pairs = [(f'{prefix}_round', f'{prefix}_bernoulli') for prefix in
             ('mlp_mlp', 'gan_mlp_mlp', 'wgan_mlp_mlp', 'cnn_cnn')]
    present = [(a, b) for a, b in pairs if a in runs and b in runs]
    return (
        "DBNs and SBNs reach similar quality.",
        tally([similar(fids(runs, a), fids(runs, b)) for a, b in present],
              'no DBN/SBN pair evaluated'),
        '; '.join(f"{a}: FID {shown(fids(runs, a))} vs {b}: {shown(fids(runs, b))}"
                  for a, b in present)
        + (f" (similar: within a factor {SIMILAR_FID_FACTOR}, or apart by no more than the "
           "spreads)" if present else ""))


def histogram_shapes(runs):
    claim = ("DBN preactivations: a flatter histogram (more values in the middle than "
             "SBNs) with a notch around 0.5; SBN preactivations: closer to 0 and 1; the "
             "real-valued model: more U-shaped than SBNs, without a notch.")
    trio = ('mlp_mlp_round', 'mlp_mlp_bernoulli', 'mlp_mlp_real')
    if not all(name in runs for name in trio):
        return claim, 'unclear (MLP WGAN-GP runs not all evaluated)', ''
    dbn, sbn, real = trio

    def share(name, key):
        return runs[name][0]['metrics']['preactivated'][key]
    mid = {name: share(name, 'share_0.4_to_0.6') for name in trio}
    ends = {name: share(name, 'share_below_0.1_or_above_0.9') for name in trio}
    notch = {name: runs[name][0]['histogram'] and notch_ratio(runs[name][0]['histogram'])
             for name in trio}
    holds = [mid[dbn] > mid[sbn], ends[sbn] > ends[dbn], ends[real] > ends[sbn]]
    if notch[dbn] is not None:
        holds.append(notch[dbn] < NOTCH_BELOW)
    verdict = ('agrees' if all(holds) else 'does not agree' if not any(holds)
               else f'partly agrees ({sum(holds)} of {len(holds)} hold)')
    evidence = ("share in [0.4, 0.6]: " + ', '.join(f"{name} {mid[name]:.1%}" for name in trio)
                + "; share in [0, 0.1] ∪ [0.9, 1]: "
                + ', '.join(f"{name} {ends[name]:.1%}" for name in trio)
                + "; lower of the two 0.005-wide bins at 0.5 over their 8 neighbours "
                f"(a notch: below {NOTCH_BELOW}): "
                + ', '.join(f"{name} " + ('not measured' if notch[name] is None
                                          else f"{notch[name]:.2f}") for name in trio))
    return claim, verdict, evidence


def binary_neurons_beat_binarizing_at_test_time(runs):
    comparisons = [(binary, real) for binary, real in
                   (('mlp_mlp_round', 'mlp_mlp_real'), ('mlp_mlp_bernoulli', 'mlp_mlp_real'),
                    ('cnn_cnn_round', 'cnn_cnn_real'), ('cnn_cnn_bernoulli', 'cnn_cnn_real'))
                   if binary in runs and real in runs]

    def binarized(real):  # the real-valued model's better test-time binarization
        return min((fids(runs, real, variant) for variant in ('threshold', 'bernoulli')),
                   key=statistics.mean)
    return (
        "Binary neurons do better than the real-valued model binarized at test time "
        "(threshold or Bernoulli).",
        tally([clearly_lower(fids(runs, binary), binarized(real))
               for binary, real in comparisons], 'no pair evaluated'),
        '; '.join(f"{binary}: FID {shown(fids(runs, binary))} vs {real} threshold "
                  f"{shown(fids(runs, real, 'threshold'))}, Bernoulli "
                  f"{shown(fids(runs, real, 'bernoulli'))}" for binary, real in comparisons)
        + (BETTER_MEANS if comparisons else ""))


def wgan_close_to_wgan_gp_gan_collapses(runs):
    evidence, holds = [], []
    for neurons in ('round', 'bernoulli'):
        gp, wgan, gan = (f'{prefix}mlp_mlp_{neurons}' for prefix in ('', 'wgan_', 'gan_'))
        if all(name in runs for name in (gp, wgan, gan)):
            gp_m, gan_m = best(runs[gp][0]), best(runs[gan][0])
            holds += [similar(fids(runs, gp), fids(runs, wgan)),
                      gan_m['class_entropy'] < gp_m['class_entropy']
                      and gan_m['min_class_share'] < gp_m['min_class_share']]
            evidence.append(
                f"{neurons}: FID WGAN-GP {shown(fids(runs, gp))}, WGAN "
                f"{shown(fids(runs, wgan))}, GAN {shown(fids(runs, gan))}; class entropy / "
                f"rarest digit WGAN-GP {gp_m['class_entropy']:.3f} / "
                f"{gp_m['min_class_share']:.3f}, GAN {gan_m['class_entropy']:.3f} / "
                f"{gan_m['min_class_share']:.3f}")
    return ("WGAN is close to WGAN-GP, while the GAN objective suffers mode collapse.",
            tally(holds, 'objective runs not all evaluated'), '; '.join(evidence))


def cnns_beat_mlps(runs):
    pairs = [(f'mlp_mlp_{n}', f'cnn_cnn_{n}') for n in ('round', 'bernoulli', 'real')
             if f'mlp_mlp_{n}' in runs and f'cnn_cnn_{n}' in runs]

    def best_fids(name):
        return [best(record)['fid'] for record in runs[name]]
    return (
        "CNNs beat MLPs, with fewer parameters (0.53M vs 1.47M).",
        tally([clearly_lower(best_fids(cnn), best_fids(mlp)) for mlp, cnn in pairs],
              'no MLP/CNN pair evaluated'),
        '; '.join(f"{cnn}: best FID {shown(best_fids(cnn))} vs {mlp}: {shown(best_fids(mlp))}"
                  for mlp, cnn in pairs)
        + (BETTER_MEANS if pairs else ""))


CLAIMS = [dbns_and_sbns_similar, histogram_shapes, binary_neurons_beat_binarizing_at_test_time,
          wgan_close_to_wgan_gp_gan_collapses, cnns_beat_mlps]


def verdicts(runs):
    """[(claim, verdict, evidence)] of every claim for one protocol's ``runs``."""
    return [claim(runs) for claim in CLAIMS]
