"""An experiment's log files: CSV logs that a resumed run continues without gaps or
duplicates, and TensorBoard event files.

The event files are TFRecords of plain ``Event`` protocol buffers (scalars as
``simple_value``, images as PNG), which TensorBoard reads; training itself does
not need the tensorboard package. TensorFlow is imported when they are first
written or read, not with this module.
"""
import contextlib
import csv
import os
import socket
import struct
import time


@contextlib.contextmanager
def replacing(path, newline=None):
    """A file to write that replaces ``path`` once complete: a run killed meanwhile
    leaves the old file, never a part of the new one."""
    temporary = path + '.tmp'
    with open(temporary, 'w', newline=newline) as f:
        yield f
    os.replace(temporary, path)


class CsvLog:
    """An appendable CSV log that, on resume, keeps only the rows for which
    ``keep_row`` (of a row as a dict of strings) is true, dropping those the
    checkpoint has not seen and a last row cut short by a killed run. Floats are
    written with 6 significant digits, other values as they are."""

    def __init__(self, path, header, keep_row):
        rows = []
        if os.path.exists(path):
            with open(path, newline='') as f:
                rows = [row for row in csv.DictReader(f)
                        if None not in row.values() and keep_row(row)]
        with replacing(path, newline='') as f:
            writer = csv.writer(f)
            writer.writerow(header)
            # A column the file lacks (a log of an earlier version) is left empty.
            writer.writerows([row.get(name, '') for name in header] for row in rows)
        self.file = open(path, 'a', newline='')
        self.writer = csv.writer(self.file)

    def write(self, *values):
        self.writer.writerow(f'{v:.6g}' if isinstance(v, float) else v for v in values)

    def flush(self):
        self.file.flush()

    def close(self):
        self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()


def open_logs(logs_dir, step, epoch, batch_extras=()):
    """The step, batch and epoch logs of ``logs_dir``, continued from ``step`` and
    ``epoch``; the batch log has the columns ``batch_extras`` after its own."""
    return {
        'step': CsvLog(os.path.join(logs_dir, 'step.csv'), ('step', 'critic_step', 'd_loss'),
                       lambda row: int(row['step']) < step),
        'batch': CsvLog(os.path.join(logs_dir, 'batch.csv'),
                        ('epoch', 'batch', 'step', 'n_critic', 'seconds', 'd_loss',
                         'g_loss', 'gradient_penalty', 'slope', *batch_extras),
                        lambda row: int(row['step']) < step),
        'epoch': CsvLog(os.path.join(logs_dir, 'epoch.csv'),
                        ('epoch', 'step', 'seconds', 'd_loss', 'g_loss', 'slope'),
                        lambda row: int(row['epoch']) < epoch),
    }


def event_records(path):
    """(end offset, Event) of each complete record of a TFRecord file; a record cut
    short by a killed writer ends the listing."""
    import tensorflow as tf
    with open(path, 'rb') as f:
        data = f.read()
    offset = 0
    while offset + 12 <= len(data):  # length (8 bytes), its CRC (4), data, data CRC (4)
        length, = struct.unpack_from('<Q', data, offset)
        end = offset + 12 + length + 4
        if end > len(data):
            return
        yield end, tf.compat.v1.Event.FromString(data[offset + 12:offset + 12 + length])
        offset = end


def drop_events_from(folder, step):
    """Cut the event files in ``folder`` before their first summary at ``step`` or
    later, so that a run resumed from ``step`` adds no duplicates."""
    for name in sorted(os.listdir(folder)):
        if '.tfevents.' not in name:
            continue
        path = os.path.join(folder, name)
        keep = 0
        for end, event in event_records(path):
            if event.HasField('summary') and event.step >= step:
                break
            keep = end
        if keep < os.path.getsize(path):
            os.truncate(path, keep)


class Summaries:
    """A new event file in ``folder``, after the events of earlier runs up to
    ``start_step``. ``scalars`` also takes evaluation metrics."""

    def __init__(self, folder, start_step):
        import tensorflow as tf
        self.Event, self.Summary = tf.compat.v1.Event, tf.compat.v1.Summary
        drop_events_from(folder, start_step)
        name = f'events.out.tfevents.{time.time():.6f}.{socket.gethostname()}.{os.getpid()}'
        self.writer = tf.io.TFRecordWriter(os.path.join(folder, name))
        self._write(self.Event(file_version='brain.Event:2'))

    def _write(self, event):
        event.wall_time = time.time()
        self.writer.write(event.SerializeToString())

    def scalars(self, step, values):
        """Write ``{tag: number}`` at ``step``."""
        Summary = self.Summary
        self._write(self.Event(step=step, summary=Summary(value=[
            Summary.Value(tag=tag, simple_value=float(value)) for tag, value in values.items()])))

    def png_files(self, step, paths):
        """Write ``{tag: path of a grayscale PNG}`` at ``step``."""
        Summary = self.Summary
        values = []
        for tag, path in paths.items():
            with open(path, 'rb') as f:
                png = f.read()
            width, height = struct.unpack('>II', png[16:24])  # from the IHDR chunk
            values.append(Summary.Value(tag=tag, image=Summary.Image(
                height=height, width=width, colorspace=1, encoded_image_string=png)))
        self._write(self.Event(step=step, summary=Summary(value=values)))

    def flush(self):
        self.writer.flush()

    def close(self):
        self.writer.close()
