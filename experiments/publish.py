"""Publishing a report: its figures and results.md into its folder, named in one line;
and the small helpers of the reports' tables and figures."""
import os

from binarygan.logs import replacing


def publish(folder, markdown, figures):
    """Draw each of ``figures`` ({file name: function(path)}) into ``folder``, then write
    ``markdown`` there as results.md."""
    os.makedirs(folder, exist_ok=True)
    for name, draw in figures.items():
        draw(os.path.join(folder, name))
    with replacing(os.path.join(folder, 'results.md')) as f:
        f.write(markdown)
    made = ['results.md', *figures]
    listed = made[0] if len(made) == 1 else f"{', '.join(made[:-1])} and {made[-1]}"
    print(f"Report: {listed} in {folder}")


def figure_path(figs_dir, name):
    """FIGS_DIR/``name``, its folder made if missing."""
    path = os.path.join(figs_dir, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def number(value, form='.3f'):
    return '—' if value is None else format(value, form)
