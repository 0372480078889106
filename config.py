"""Configuration of a BinaryGAN experiment.

Quick setup
===========
Change the values in the dictionary `SETUP` for a quick setup. Documentation
is provided right after each key.

More configuration
==================
`EXP_CONFIG`, `DATA_CONFIG`, `MODEL_CONFIG` and `TRAIN_CONFIG` hold every
other experiment-, data-, model- and training-related value. A value of None
is filled in from `SETUP` (or derived) when the experiment starts.

Every value can be overridden from the command line without editing this file:
    python main.py gan_type=wgan preset_g=mlp_bernoulli train.num_epoch=2
A bare key is a `SETUP` key; `exp.`, `data.`, `model.` and `train.` address the
other dictionaries. Importing this file has no side effects.
"""

SETUP = {
    'exp_name': None,
    # The experiment name, also the name of its folder in `exp/` where the
    # samples, logs and checkpoints go. None to derive it from the values in
    # `SETUP` (prefix, gan_type, preset_g, preset_d), so give a name when you
    # change anything else, or an earlier experiment's folder is resumed.

    'prefix': 'binarygan',
    # Prefix of the derived experiment name.

    'training_data': 'training_data/mnist',
    # The training data. For location 'hd': an MNIST folder of IDX files
    # (train and test merged, binarized: pixel > 0 -> 1) or a .npy file of
    # images (N x 28 x 28 [x 1] or N x 784); a relative path is relative to
    # this file's folder. For location 'sa': a SharedArray name, e.g.
    # 'binarized_mnist_x' as stored by training_data/load_mnist_to_sa.py.

    'training_data_location': 'hd',
    # {'hd', 'sa'}
    # 'hd' to read the training data from disk, 'sa' to attach it from shared
    # memory with the SharedArray package.

    'gan_type': 'wgan-gp',
    # {'gan', 'wgan', 'wgan-gp', 'bgan'}
    # The GAN objective: non-saturating GAN, Wasserstein GAN with weight
    # clipping (WGAN), Wasserstein GAN with gradient penalty (WGAN-GP) or the
    # Boundary-Seeking GAN for binary data (BGAN: stochastic binary neurons,
    # e.g. preset_g=mlp_bernoulli; its authors train with Adam beta2 0.999,
    # one discriminator step taken with each generator step from the same
    # samples, train.n_critic=1 train.n_critic_warmup=1, no batch
    # normalization in D).

    'optimizer': 'adam',
    # {'adam', 'rmsprop'}
    # The optimizer of both networks. The paper uses Adam for GAN and WGAN-GP
    # and RMSProp for WGAN.

    'preset_g': 'mlp_round',
    # {'mlp_round', 'mlp_bernoulli', 'mlp_real',
    #  'cnn_round', 'cnn_bernoulli', 'cnn_real', 'dcgan_round', 'dcgan_bernoulli'}
    # The generator: MLP or CNN, with deterministic binary neurons ('round'),
    # stochastic binary neurons ('bernoulli') or sigmoid outputs binarized only
    # at test time ('real') at its output layer. 'dcgan_*': seed 003's BGAN
    # generator (kklemon/bgan-pytorch; 32x32 cropped to 28x28), for preset_d=dcgan.

    'preset_d': 'mlp',
    # {'mlp', 'mlp_bn', 'cnn', 'cnn_bn', 'dcgan'}
    # The discriminator: MLP or CNN, without or with batch normalization
    # ('_bn'; the paper uses it only with the GAN objective); 'dcgan': seed 003's
    # (the images zero-padded to 32x32).

    'pretrained_dir': None,
    # An experiment folder (or its checkpoints folder) to restore the
    # networks, optimizers, slope and counters from before training. None to
    # resume this experiment's own latest checkpoint, if any.

    'sample_along_training': True,
    # True to save sample grids along training.

    'evaluate_along_training': False,
    # True to score the generator with a reference MNIST classifier (FID, class
    # entropy, ...) every `TRAIN_CONFIG['eval_every']` epochs, in
    # exp/<experiment name>/eval/ (see the README).

    'verbose': False,
    # True to print every iteration's losses, and TensorFlow's start-up
    # messages; False to print once an epoch and, in between, a progress bar
    # (steps, epoch, the time left of the whole run, losses) on a terminal, or
    # else such a line every minute.

    'seed': 0,
    # Random seed of weights, batches, noise and stochastic neurons: the same
    # seed gives the same losses on a CPU.

    'protocol': 'paper',
    # {'paper', 'original_code'}
    # Which reading of the paper to run. 'paper': as its text says (slope
    # annealing, slope x 1.1 after every epoch; batch normalization with batch
    # statistics). 'original_code': as the authors' code (salu133445/binarygan),
    # which made the paper's figures, actually ran: slope fixed at 1, batch
    # normalization as a learned scale and shift (its layers always ran in
    # inference mode), RMSProp's accumulators starting at 1 (TensorFlow 1).
    # The protocol fills in the settings below that are None; a value given
    # for one of them (e.g. model.bn_mode=affine) is used instead.
}

EXP_CONFIG = {
    'exp_name': None,           # None: SETUP['exp_name'] or derived
    'exp_root': 'exp',          # parent folder of experiment folders
    'pretrained_dir': None,     # None: SETUP['pretrained_dir']
    'seed': None,               # None: SETUP['seed']
}

DATA_CONFIG = {
    'training_data': None,            # None: SETUP['training_data']
    'training_data_location': None,   # None: SETUP['training_data_location']
}

MODEL_CONFIG = {
    'gan_type': None,           # None: SETUP['gan_type']
    'optimizer': None,          # None: SETUP['optimizer']
    'preset_g': None,           # None: SETUP['preset_g']
    'preset_d': None,           # None: SETUP['preset_d']
    'net_g': None,              # a layer list as in binarygan/presets.py; None: the preset's
    'net_d': None,              # likewise for the discriminator
    'output_neurons': None,     # 'round', 'bernoulli' or 'real'; None: the preset's
    'output_bn': True,          # False: no batch normalization on the generator's output
                                # logits (the paper's networks have it, which keeps the
                                # batch's mean logit of each pixel at a learned offset;
                                # neither BGAN reference has it)
    'weight_init': 'truncated_normal',  # 'truncated_normal' (the paper: stddev 0.02, zero
                                        # biases) or 'torch_default' (PyTorch's, seed 003's:
                                        # uniform +-1/sqrt(fan_in), biases too)

    'batch_size': 64,
    'z_dim': 128,
    'image_shape': (28, 28, 1),

    # Binary neurons
    # How the generator trains through its binary outputs (binarygan/estimators.py):
    # 'sigmoid_adjusted' (the paper) or 'straight_through' (identity gradient) for DBNs
    # and SBNs; for SBNs only: 'reinforce' (score function, leave-one-out baseline:
    # among the samples of each latent, or with one sample per latent the batch's),
    # 'gumbel_sigmoid' (the critic sees relaxed samples; binarized when sampled) and
    # 'straight_through_gumbel' (0/1 samples, gradient through the relaxed ones).
    # None: 'sigmoid_adjusted', or with gan_type=bgan 'reinforce', the only one it takes
    # (BGAN's gradient is a score function whose rewards are importance weights).
    'gradient_estimator': None,
    'initial_slope': None,      # None: the protocol's (1.0 in both)
    'initial_temperature': None,  # Gumbel estimators only; None: 1.0

    # Batch normalization: 'batch' normalizes with batch statistics in
    # training and moving averages when sampling (the paper); 'affine' is what
    # the original TF1 code computed (a learned scale and shift, no
    # normalization: its BN layers always ran in inference mode). None: the
    # protocol's.
    'bn_mode': None,

    # Objectives
    'clip_value': 0.01,         # WGAN weight clipping
    'gp_coefficient': 10.0,     # WGAN-GP lambda
    # The score-function ways (REINFORCE, BGAN)
    'samples_per_latent': None,  # samples drawn from each latent for the generator's
                                 # step (M); None: 20 with gan_type=bgan (the authors'),
                                 # else 1
    'log_likelihood': 'sum',    # log g(x | z) of a sample over its pixels: 'sum' (the
                                # BGAN authors') or 'mean' (seed 003's)
    'normalize_rewards': False,  # REINFORCE: the rewards less their baselines divided by
                                 # their standard deviation over the batch

    # Optimizers
    'learning_rate': 1e-4,
    'generator_learning_rate': None,  # None: learning_rate
    'beta1': 0.5,               # Adam
    'beta2': 0.9,               # Adam
    'epsilon': 1e-8,
    'rmsprop_decay': 0.9,       # RMSProp
    'rmsprop_momentum': 0.0,    # RMSProp
    'rmsprop_initial_accumulator': None,  # RMSProp's running mean of squared gradients
                                          # at the start: 0 in Keras, 1 in TensorFlow 1;
                                          # None: the protocol's
}

TRAIN_CONFIG = {
    'num_epoch': 20,
    'max_steps': 0,             # stop after this many generator steps; 0: no cap
    'slope_annealing_rate': None,  # slope *= rate after every epoch; None: the
                                   # protocol's (paper 1.1, original_code 1.0)
    # The Gumbel estimators' temperature, as Jang et al. anneal it: max(initial *
    # exp(-decay * t), minimum), t the step rounded down to a multiple of
    # `temperature_every_steps`. Only with them; None: 3e-5, 0.5 and 1000.
    'temperature_decay': None,
    'min_temperature': None,
    'temperature_every_steps': None,

    # Critic schedule: `n_critic_warmup` critic steps for each of the first
    # `warmup_steps` generator steps and every `n_critic_warmup_every`-th one
    # after, `n_critic` otherwise.
    'n_critic': 5,
    'n_critic_warmup': 100,
    'warmup_steps': 25,
    'n_critic_warmup_every': 500,
    # False: all critic steps and the generator step of an iteration share one
    # batch of images and noise (the original code); True: each draws its own.
    'fresh_batch_per_critic_step': False,

    # Samples (from a fixed noise batch)
    'sample_along_training': None,  # None: SETUP['sample_along_training']
    'sample_every_steps': 500,
    'sample_early_every_steps': 100,  # ... and this often before step 300
    'sample_early_until_step': 300,
    'sample_grid': (8, 8),

    # Evaluation with a reference MNIST classifier (see the README)
    'evaluate_along_training': None,  # None: SETUP['evaluate_along_training']
    'eval_every': 1,                  # evaluate after every this many epochs
    'eval_num_samples': 5000,         # samples scored per evaluation along training
    'eval_mnist_dir': 'training_data/mnist',  # MNIST IDX files with labels: the
                                              # classifier's data and the test set
    'classifier_dir': 'exp/classifier',  # the classifier's cache, trained on first use

    'verbose': None,                  # None: SETUP['verbose']
    'checkpoint_every_steps': 500,  # a checkpoint this often, besides every epoch; 0: epochs only
    'checkpoints_to_keep': 3,

    # Speed
    'fast': True,               # the speed paths of binarygan/fast/ (the same values,
                                # faster on a CPU) with the two settings below; False:
                                # the plain code everywhere (no XLA, one part)
    'jit_compile': 'auto',      # compile the critic and generator steps with XLA:
                                # 'on', 'off', or 'auto' (on for MLPs, off for CNNs,
                                # where it was slower on CPU)
    'batch_parts': 0,           # take each batch through the networks in this many
                                # independent parts, run side by side with one thread
                                # per operation on a CPU: the same values, faster on
                                # few cores (needs a critic without batch statistics;
                                # divides model.batch_size); 0: 2 for steps without
                                # XLA on a CPU of 2+ cores (the CNNs) and an even
                                # batch, else 1
}
