"""The GAN grid's runs as data, in groups: the paper's grid under either protocol, the
ablation that tells the protocols apart, more seeds, other ways to train binary outputs,
and issue 39's fair race between them. GROUPS lists them; a group's ``runs`` gives its
runs as (folder, run, main.py's settings). A new experiment is a new group."""
import dataclasses
from typing import Callable, Iterable

from binarygan.configure import PROTOCOLS

# (run, experiment, G preset, D preset, objective, optimizer): the paper's settings;
# run names as in the original README's figs/.
GRID = [
    ('mlp_mlp_round', 'I-II', 'mlp_round', 'mlp', 'wgan-gp', 'adam'),
    ('mlp_mlp_bernoulli', 'I-II', 'mlp_bernoulli', 'mlp', 'wgan-gp', 'adam'),
    ('mlp_mlp_real', 'I-II', 'mlp_real', 'mlp', 'wgan-gp', 'adam'),
    ('gan_mlp_mlp_round', 'III', 'mlp_round', 'mlp_bn', 'gan', 'adam'),
    ('gan_mlp_mlp_bernoulli', 'III', 'mlp_bernoulli', 'mlp_bn', 'gan', 'adam'),
    ('wgan_mlp_mlp_round', 'III', 'mlp_round', 'mlp', 'wgan', 'rmsprop'),
    ('wgan_mlp_mlp_bernoulli', 'III', 'mlp_bernoulli', 'mlp', 'wgan', 'rmsprop'),
    ('cnn_cnn_round', 'IV', 'cnn_round', 'cnn', 'wgan-gp', 'adam'),
    ('cnn_cnn_bernoulli', 'IV', 'cnn_bernoulli', 'cnn', 'wgan-gp', 'adam'),
    ('cnn_cnn_real', 'IV', 'cnn_real', 'cnn', 'wgan-gp', 'adam'),
]
RUNS = {run[0]: run for run in GRID}
# Other ways to train a generator with binary outputs than the paper's (issue 20), on its
# MLP benchmark, protocol 'paper': (run, way, G preset, D preset, objective, optimizer,
# overrides). The paper's own ways (the sigmoid-adjusted estimator with DBNs and SBNs, and
# the real-valued model) are the grid's mlp_mlp_* runs. The score-function ways (REINFORCE,
# BGAN) keep the slope at 1: annealing it is a straight-through trick, and it would only
# sharpen the distribution they sample. BGAN as its authors train it: Adam with beta2
# 0.999, one discriminator step per generator step, no batch normalization in D.
SCORE_FUNCTION_SLOPE = 'train.slope_annealing_rate=1.0'
BGAN_SCHEDULE = ['model.beta2=0.999', 'train.n_critic=1', 'train.n_critic_warmup=1',
                 SCORE_FUNCTION_SLOPE]
WAYS = [
    ('straight_through', 'straight-through (identity), SBNs', 'mlp_bernoulli', 'mlp',
     'wgan-gp', 'adam', ['model.gradient_estimator=straight_through']),
    ('reinforce', 'REINFORCE, leave-one-out baseline', 'mlp_bernoulli', 'mlp', 'wgan-gp',
     'adam', ['model.gradient_estimator=reinforce', SCORE_FUNCTION_SLOPE]),
    ('gumbel_sigmoid', 'Gumbel-sigmoid (relaxed samples)', 'mlp_bernoulli', 'mlp',
     'wgan-gp', 'adam', ['model.gradient_estimator=gumbel_sigmoid']),
    ('straight_through_gumbel', 'straight-through Gumbel', 'mlp_bernoulli', 'mlp',
     'wgan-gp', 'adam', ['model.gradient_estimator=straight_through_gumbel']),
    ('bgan', 'Boundary-Seeking GAN, 20 samples per latent', 'mlp_bernoulli', 'mlp', 'bgan',
     'adam', BGAN_SCHEDULE),
]
WAY_RUNS = {run[0]: run for run in WAYS}
# The paper's ways in the comparison: (folder, run, way).
PAPER_WAYS = [('paper', 'mlp_mlp_round', 'sigmoid-adjusted straight-through, DBNs (paper)'),
              ('paper', 'mlp_mlp_bernoulli', 'sigmoid-adjusted straight-through, SBNs (paper)'),
              ('paper', 'mlp_mlp_real', 'real-valued, binarized at test time (paper)')]
# The ablation that separates the protocols' two differences for WGAN-GP runs (where
# RMSProp's start plays no part): {(batch normalization, slope): (folder, overrides)}.
# Two of its cells are the protocols' own runs.
ABLATION_CELLS = {
    ('batch', 'annealed'): ('paper', ['protocol=paper']),
    ('batch', 'fixed'): ('ablation/bn_batch-slope_fixed',
                         ['protocol=paper', 'train.slope_annealing_rate=1.0']),
    ('affine', 'annealed'): ('ablation/bn_affine-slope_annealed',
                             ['protocol=paper', 'model.bn_mode=affine']),
    ('affine', 'fixed'): ('original_code', ['protocol=original_code']),
}
ABLATION_RUNS = ['mlp_mlp_round', 'cnn_cnn_round', 'mlp_mlp_bernoulli', 'cnn_cnn_bernoulli']
# More seeds of the comparisons behind claims 1 (DBNs vs SBNs) and 5 (CNNs vs MLPs).
SEED_RUNS = ['mlp_mlp_round', 'mlp_mlp_bernoulli', 'cnn_cnn_round', 'cnn_cnn_bernoulli']
EXTRA_SEEDS = (1, 2)
# Issue 39's fair race between the ways to train binary outputs, each way as its authors
# run it (a Way). The straight-through ways anneal the slope (the paper's protocol); the
# score-function ways keep it at 1 (their authors have none); BGAN takes its
# discriminator's and generator's steps together (one each), Adam beta2 0.999, as both of
# its references.
WGAN_GP = "WGAN-GP critic, 5 steps"


@dataclasses.dataclass(frozen=True)
class Way:
    """A way of the race: what it is, its schedule in words and whose it is, the
    output neurons it trains, its objective and the rest of main.py's settings."""
    description: str
    schedule: str
    neurons: str
    objective: str = 'wgan-gp'
    overrides: tuple = ()


RACE_WAYS = {
    'sigmoid_adjusted_dbn': Way('sigmoid-adjusted straight-through, DBNs',
                                f"{WGAN_GP}, slope ×1.1 per epoch (Dong & Yang)", 'round'),
    'sigmoid_adjusted_sbn': Way('sigmoid-adjusted straight-through, SBNs',
                                f"{WGAN_GP}, slope ×1.1 per epoch (Dong & Yang)", 'bernoulli'),
    'real_valued': Way('real-valued, binarized at test time',
                       f"{WGAN_GP} (Dong & Yang's baseline)", 'real'),
    'straight_through': Way('plain straight-through, SBNs', f"{WGAN_GP} (Hinton)", 'bernoulli',
                            overrides=('model.gradient_estimator=straight_through',)),
    'gumbel_sigmoid': Way('Gumbel-sigmoid (relaxed samples)',
                          f"{WGAN_GP}, temperature 1 → 0.5 (Jang et al.)", 'bernoulli',
                          overrides=('model.gradient_estimator=gumbel_sigmoid',)),
    'straight_through_gumbel': Way(
        'straight-through Gumbel', f"{WGAN_GP}, temperature 1 → 0.5 (Jang et al.)",
        'bernoulli', overrides=('model.gradient_estimator=straight_through_gumbel',)),
    'reinforce': Way('REINFORCE, 1 sample per latent, the batch as baseline',
                     f"{WGAN_GP}, slope 1 (this project's first try)", 'bernoulli',
                     overrides=('model.gradient_estimator=reinforce', SCORE_FUNCTION_SLOPE)),
    'reinforce_multi': Way(
        'REINFORCE, 20 samples per latent, leave-one-out among them, normalized rewards',
        f"{WGAN_GP}, slope 1 (this project's best try)", 'bernoulli',
        overrides=('model.gradient_estimator=reinforce', 'model.samples_per_latent=20',
                   'model.normalize_rewards=true', SCORE_FUNCTION_SLOPE)),
    'bgan': Way('Boundary-Seeking GAN, 20 samples per latent',
                "1 D step with each G step, Adam β2 0.999 (Hjelm et al.)", 'bernoulli',
                'bgan', tuple(BGAN_SCHEDULE)),
}
# The two races' networks: the paper's MLPs without batch normalization on the output
# logits (which caps how far a pixel's mean logit moves), and seed 003's DCGAN-like CNN
# (kklemon/bgan-pytorch: its z of 64 and PyTorch's initialization; BGAN with its mean
# log-likelihood; MNIST's 28x28 padded to its 32x32). Seed 003's BGAN as it runs is the
# CNN race's BGAN (Adam 1e-4 (0.5, 0.999) for both networks, M = 20, steps together).
RACES = {
    'mlp': {'g': 'mlp', 'd': 'mlp', 'overrides': ['model.output_bn=false'], 'bgan': []},
    'cnn': {'g': 'dcgan', 'd': 'dcgan',
            'overrides': ['model.z_dim=64', 'model.weight_init=torch_default'],
            'bgan': ['model.log_likelihood=mean']},
}
RACE_LEARNING_RATES = (3e-5, 1e-4, 3e-4)  # G's, around every author's 1e-4
RACE_SEEDS = (0, 1, 2)
# Each way's G learning rate in each race. The MLP's: the best of its sweep (race_sweep,
# 3 epochs, seed 0, 2026-12-07), 3e-4 for every way, the sweep's highest rate
# (figs/results.md). The CNN's: every author's 1e-4 (seed 003's own run among them).
RACE_LEARNING_RATE = {'mlp': {name: 3e-4 for name in RACE_WAYS}, 'cnn': {}}
# The ways of each race: all on the MLP; on the CNN the paper's, BGAN and the best other:
# Gumbel-sigmoid, the best way from outside the paper in the sweep and in the MLP race's
# seed 0 (FID 25.40, thresholded; the paper's SBNs 22.42, real-valued 29.17).
RACE_GROUP_WAYS = {'mlp': list(RACE_WAYS),
                   'cnn': ['sigmoid_adjusted_dbn', 'bgan', 'gumbel_sigmoid']}
# Section 1 of issue 39: why the ways row's BGAN and REINFORCE drew noise. Each on the
# paper's MLP as that row ran it, without batch normalization on the output logits, and
# with slope annealing: {variant: overrides}.
CAUSE_VARIANTS = {'as_the_ways_row': [], 'output_bn_off': ['model.output_bn=false'],
                  'slope_annealed': ['train.slope_annealing_rate=1.1']}
CAUSE_RUNS = {'bgan': ('bgan', BGAN_SCHEDULE),
              'reinforce': ('wgan-gp', ['model.gradient_estimator=reinforce',
                                        SCORE_FUNCTION_SLOPE])}
def preset_settings(preset_g, preset_d, gan_type, optimizer):
    return [f'preset_g={preset_g}', f'preset_d={preset_d}', f'gan_type={gan_type}',
            f'optimizer={optimizer}']


def race_way(race, name, learning_rate=None):
    """main.py's settings of a way of RACE_WAYS in a race of RACES."""
    way, networks = RACE_WAYS[name], RACES[race]
    settings = preset_settings(f"{networks['g']}_{way.neurons}", networks['d'], way.objective,
                               'adam')
    settings += ['protocol=paper', *networks['overrides'], *way.overrides]
    if way.objective == 'bgan':
        settings += networks['bgan']
    if learning_rate is not None:
        settings.append(f'model.generator_learning_rate={learning_rate:g}')
    return settings


def paper_grid(protocol, names):
    return [(protocol, name, [*preset_settings(*RUNS[name][2:]), f'protocol={protocol}'])
            for name in names or RUNS]


def ablation(protocol, names):
    return [(folder, name, [*preset_settings(*RUNS[name][2:]), *overrides])
            for name in names or ABLATION_RUNS for folder, overrides in ABLATION_CELLS.values()]


def more_seeds(protocol, names):
    return [(f'{protocol}/seed{seed}', name, [*preset_settings(*RUNS[name][2:]),
                                              f'protocol={protocol}', f'seed={seed}'])
            for name in names or SEED_RUNS for seed in EXTRA_SEEDS]


def ways(protocol, names):
    return [('ways', name, [*preset_settings(*WAY_RUNS[name][2:6]), 'protocol=paper',
                            *WAY_RUNS[name][-1]]) for name in names or WAY_RUNS]


def cause(protocol, names):
    return [(f'cause/{variant}', name,
             [*preset_settings('mlp_bernoulli', 'mlp', CAUSE_RUNS[name][0], 'adam'),
              'protocol=paper', *CAUSE_RUNS[name][1], *overrides])
            for name in names or CAUSE_RUNS for variant, overrides in CAUSE_VARIANTS.items()]


def seed003(protocol, names):  # seed 003's BGAN on its own terms: the CNN race's, seed 0
    return [('race/cnn/seed0', 'bgan', [*race_way('cnn', 'bgan'), 'seed=0'])]


def race_sweep(protocol, names):
    return [(f'race/sweep/lr{rate:g}', name, race_way('mlp', name, rate))
            for name in names or RACE_WAYS for rate in RACE_LEARNING_RATES]


def race(network):
    def runs(protocol, names):
        return [(f'race/{network}/seed{seed}', name,
                 [*race_way(network, name, RACE_LEARNING_RATE[network].get(name)),
                  f'seed={seed}'])
                for seed in RACE_SEEDS for name in names or RACE_GROUP_WAYS[network]]
    return runs


@dataclasses.dataclass(frozen=True)
class Group:
    """A group of runs: ``runs(protocol, names)`` gives [(folder, run, main.py's
    settings)] for the runs ``names`` of ``names_offered`` (None: the group's own);
    ``epochs`` its runs' default length."""
    description: str
    runs: Callable
    names_offered: Iterable
    epochs: int = 20

    def folders(self):
        """The record folders of the group's runs, under every protocol."""
        return {folder for protocol in PROTOCOLS for folder, _, _ in self.runs(protocol, None)}


# python reproduce.py --group NAME; a new experiment is a new group here (and, for a
# section of its own in the report, a function in report.SECTIONS).
GROUPS = {
    'grid': Group("the paper's ten runs", paper_grid, RUNS),
    'ablation': Group("batch normalization x slope annealing", ablation, RUNS),
    'seeds': Group("seeds 1 and 2 of the runs behind claims 1 and 5", more_seeds, RUNS),
    'ways': Group("other ways to train binary outputs on the paper's MLP", ways, WAY_RUNS),
    'cause': Group("why the ways row's BGAN and REINFORCE drew noise (5 epochs)", cause,
                   CAUSE_RUNS, epochs=5),
    'seed003': Group("seed 003's BGAN on its own terms", seed003, ['bgan']),
    'race_sweep': Group("the race's learning-rate sweep (3 epochs)", race_sweep,
                        RACE_WAYS, epochs=3),
    'race_mlp': Group("the race on the MLP, 3 seeds", race('mlp'), RACE_WAYS),
    'race_cnn': Group("the race on seed 003's CNN, 3 seeds", race('cnn'), RACE_WAYS),
}
