"""An experiment's folder: its settings checked against a saved experiment's, the
checkpoint to go on from, its config.json and model description."""
import json
import os
import shlex

from binarygan import UserError, configure
from binarygan.checkpoints import checkpoint_counters, find_checkpoint
from binarygan.logs import replacing


def _shown_value(config, name):
    section, key = name.split('.', 1)
    text = repr(config.get(section, {}).get(key))
    return text if len(text) <= 30 else text[:27] + '...'


def prepare_experiment(config):
    """Check the experiment folder against ``config``; returns the checkpoint to restore:
    the experiment's own latest, else the latest in ``pretrained_dir``, else None."""
    exp_dir = config['exp']['exp_dir']
    saved_config_path = os.path.join(exp_dir, 'config.json')
    if os.path.exists(saved_config_path):
        try:
            with open(saved_config_path) as f:
                saved = json.load(f)
        except (OSError, ValueError) as e:
            raise UserError(f"cannot read {saved_config_path} ({e}): give a new "
                            "exp_name=... to start another experiment") from None
        requested = json.loads(json.dumps(config))
        changed = configure.differences(saved, requested)
        if changed:
            shown = [f"{name} {_shown_value(saved, name)} -> {_shown_value(requested, name)}"
                     for name in changed[:3]]
            more = f" and {len(changed) - 3} more" if len(changed) > 3 else ''
            raise UserError(
                f"experiment {exp_dir} exists with other settings ({'; '.join(shown)}{more}): "
                f"rerun with its settings (saved in config.json) to resume it, or give a "
                "new exp_name=... to start another experiment")
    own = find_checkpoint(exp_dir) if os.path.isdir(exp_dir) else None
    pretrained = config['exp']['pretrained_dir']
    if own is None and pretrained is not None:
        if not os.path.isdir(pretrained):
            what = 'is a file' if os.path.exists(pretrained) else 'does not exist'
            raise UserError(f"pretrained_dir {pretrained} {what}: give an experiment folder "
                            "that has checkpoints/")
        own = find_checkpoint(pretrained)
        if own is None:
            raise UserError(f"pretrained_dir {pretrained} holds no checkpoint: give an "
                            "experiment folder that has checkpoints/")
        at_end = finished(config['train'], *checkpoint_counters(own))
        if at_end:
            raise UserError(f"the checkpoint of pretrained_dir, {own}, is at the end of this "
                            f"training already ({at_end}): give a larger train.num_epoch "
                            "or train.max_steps")
    return own


def finished(train_config, step, epoch):
    """'epoch 20 of 20, step 21860' when training ends at or before ``step`` and
    ``epoch``, else None."""
    num_epoch, max_steps = train_config['num_epoch'], train_config['max_steps']
    if epoch < num_epoch and not (max_steps and step >= max_steps):
        return None
    return f"epoch {epoch} of {num_epoch}, step {step}" + (f" of {max_steps}" if max_steps else '')


def longer_training(train_config, step, epoch, command):
    """How to train a finished experiment further: ``command`` with more epochs or
    steps (or, without a command, the settings to add)."""
    changes = []
    if epoch >= train_config['num_epoch']:
        changes.append(f"train.num_epoch={epoch + 10}")
    if train_config['max_steps'] and step >= train_config['max_steps']:
        changes.append(f"train.max_steps={step + train_config['max_steps']}")
    if command is None:
        return f"rerun the same command with {' '.join(changes)}"
    keys = {change.split('=')[0] for change in changes}
    kept = [arg for arg in command if arg.lstrip('-').split('=')[0] not in keys]
    return shlex.join(kept + changes)


def make_experiment_folder(exp_dir, config):
    """Create the experiment's folders and write its config.json; returns the folders."""
    dirs = {name: os.path.join(exp_dir, name) for name in ('samples', 'logs', 'checkpoints')}
    try:
        for path in dirs.values():
            os.makedirs(path, exist_ok=True)
        with replacing(os.path.join(exp_dir, 'config.json')) as f:
            json.dump(config, f, indent=2)
    except OSError as e:
        raise UserError(f"cannot write the experiment folder {exp_dir}: {e.strerror}") from None
    return dirs


def write_model_info(gan, exp_dir, config):
    from binarygan.networks import count_params, summary
    with open(os.path.join(exp_dir, 'model_summary.txt'), 'w') as f:
        f.write(f"{summary(gan.generator)}\n\n{summary(gan.discriminator)}\n")
    stats = {'params_g': count_params(gan.generator),
             'params_d': count_params(gan.discriminator),
             'preset_g': config['model']['preset_g'],
             'preset_d': config['model']['preset_d']}
    stats['params_total'] = stats['params_g'] + stats['params_d']
    with open(os.path.join(exp_dir, 'model_stats.json'), 'w') as f:
        json.dump(stats, f, indent=2)
    return stats


def check_training_data(images, config):
    """UserError unless the batch size, image shape and sample grid fit ``images``."""
    batch_size, grid = config['model']['batch_size'], tuple(config['train']['sample_grid'])
    if batch_size > len(images):
        raise UserError(f"model.batch_size {batch_size} is larger than the training "
                        f"set ({len(images)} images)")
    if images.shape[1:] != tuple(config['model']['image_shape']):
        raise UserError(f"model.image_shape {tuple(config['model']['image_shape'])} is not "
                        f"the training images' {images.shape[1:]}")
    if grid[0] * grid[1] > len(images):  # samples/x_train.png shows distinct training images
        raise UserError(f"train.sample_grid {grid} needs {grid[0] * grid[1]} training "
                        f"images; the training set has {len(images)}")
