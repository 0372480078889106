"""The seed's table (binary activations in a classifier): how the seed trained, the rows
of its table with its numbers, and the variants run beside them."""
import dataclasses

# Where the rows' numbers come from.
SOURCE = ("DejasDejas/Pytorch_CNN_vanilla_binary_weights, MNIST_binary_V2.ipynb at commit "
          "2bcbf895 (2020-03-30), whose outputs are the README's table")
# The seed's training (its main.py, utils/training.py, DataLoader/dataLoaders.py).
EPOCHS = 10
BATCH_SIZE = 64
LEARNING_RATE, MOMENTUM = 0.1, 0.9       # SGD
TRAIN_SHARE = 0.9                        # random_split: 54,000 train, 6,000 validation
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081   # transforms.Normalize
EVALUATION_BATCH = 1000
ANNEALING_RATE = 1.005                   # get_slope: 1.005 ** (epoch - 1)


@dataclasses.dataclass(frozen=True)
class Row:
    """A row of the seed's table: binary neurons ('stochastic', 'deterministic' or None)
    after the 'first', 'last' or 'both' convolutions, trained by 'straight_through' or
    'reinforce' (the seed's word), and the seed's test loss and accuracy (%)."""
    neuron: str
    estimator: str
    layers: str
    seed_loss: float
    seed_accuracy: float

    @property
    def name(self):
        return '_'.join((self.neuron, self.estimator, self.layers)) if self.neuron else 'no_binary'

    @property
    def label(self):
        """The seed's words for the row."""
        if not self.neuron:
            return "No binary models"
        return (f"{self.neuron.capitalize()} binary model in the {self.layers} conv layer with "
                f"{'ST' if self.estimator == 'straight_through' else 'REINFORCE'}")

    @property
    def binary(self):
        """Whether the activation after each convolution is binary."""
        return {'first': (True, False), 'last': (False, True), 'both': (True, True),
                None: (False, False)}[self.layers]


ROWS = [
    Row(None, None, None, 0.0341, 98.79),
    Row('stochastic', 'straight_through', 'first', 0.0539, 98.29),
    Row('stochastic', 'straight_through', 'last', 0.0534, 98.31),
    Row('stochastic', 'straight_through', 'both', 0.0710, 97.54),
    Row('stochastic', 'reinforce', 'first', 0.0749, 97.56),
    Row('stochastic', 'reinforce', 'last', 1.2811, 88.95),
    Row('stochastic', 'reinforce', 'both', 3.2085, 80.68),
    Row('deterministic', 'straight_through', 'first', 0.03912, 98.65),
    Row('deterministic', 'straight_through', 'last', 0.0743, 97.81),
    Row('deterministic', 'straight_through', 'both', 0.0745, 97.57),
    Row('deterministic', 'reinforce', 'first', 0.0684, 97.76),
    Row('deterministic', 'reinforce', 'last', 0.5569, 95.42),
    Row('deterministic', 'reinforce', 'both', 0.8538, 93.40),
]
ROWS_BY_NAME = {row.name: row for row in ROWS}


@dataclasses.dataclass(frozen=True)
class Variant:
    """A way to run the table: the rows it covers (those of ``neuron`` and ``estimator``;
    None: any), whether the seed's stochastic "REINFORCE" trains by real REINFORCE, the SGD
    learning rate and the slope's growth per epoch."""
    description: str
    neuron: str = None
    estimator: str = None
    real_reinforce: bool = False
    learning_rate: float = LEARNING_RATE
    slope_annealing_rate: float = 1.

    def applies(self, row):
        return self.neuron in (None, row.neuron) and self.estimator in (None, row.estimator)

    def slope(self, epoch):
        """The slope of epoch ``epoch`` (from 0)."""
        return self.slope_annealing_rate ** epoch


VARIANTS = {
    'seed': Variant('as the seed ran it: slope 1; its "REINFORCE" passes no gradient through '
                    'the bits'),
    'reinforce': Variant('real REINFORCE (leave-one-out baseline) for the stochastic '
                         '"REINFORCE" rows', 'stochastic', 'reinforce', real_reinforce=True),
    'reinforce_lr_0.01': Variant('the same at learning rate 0.01', 'stochastic', 'reinforce',
                                 real_reinforce=True, learning_rate=0.01),
    'annealed': Variant(f'straight-through with the slope ×{ANNEALING_RATE} after every epoch',
                        estimator='straight_through', slope_annealing_rate=ANNEALING_RATE),
}


def gradient_estimator(row, variant):
    """How the layers before the row's binary activations train in ``variant``:
    'straight_through', 'stop_gradient' (the seed's "REINFORCE": they do not) or
    'reinforce'."""
    if row.estimator == 'reinforce':
        return 'reinforce' if VARIANTS[variant].real_reinforce else 'stop_gradient'
    return row.estimator

