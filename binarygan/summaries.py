"""TensorBoard event files in an experiment's logs folder.

Written as TFRecords of plain ``Event`` protocol buffers (scalars as
``simple_value``, images as PNG), which TensorBoard reads; training itself does
not need the tensorboard package.
"""
import os
import socket
import struct
import time

import tensorflow as tf

Event, Summary = tf.compat.v1.Event, tf.compat.v1.Summary


def event_records(path):
    """(end offset, Event) of each complete record of a TFRecord file; a record cut
    short by a killed writer ends the listing."""
    with open(path, 'rb') as f:
        data = f.read()
    offset = 0
    while offset + 12 <= len(data):  # length (8 bytes), its CRC (4), data, data CRC (4)
        length, = struct.unpack_from('<Q', data, offset)
        end = offset + 12 + length + 4
        if end > len(data):
            return
        yield end, Event.FromString(data[offset + 12:offset + 12 + length])
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
        drop_events_from(folder, start_step)
        name = f'events.out.tfevents.{time.time():.6f}.{socket.gethostname()}.{os.getpid()}'
        self.writer = tf.io.TFRecordWriter(os.path.join(folder, name))
        self._write(Event(file_version='brain.Event:2'))

    def _write(self, event):
        event.wall_time = time.time()
        self.writer.write(event.SerializeToString())

    def scalars(self, step, values):
        """Write ``{tag: number}`` at ``step``."""
        self._write(Event(step=step, summary=Summary(value=[
            Summary.Value(tag=tag, simple_value=float(value)) for tag, value in values.items()])))

    def png_files(self, step, paths):
        """Write ``{tag: path of a grayscale PNG}`` at ``step``."""
        values = []
        for tag, path in paths.items():
            with open(path, 'rb') as f:
                png = f.read()
            width, height = struct.unpack('>II', png[16:24])  # from the IHDR chunk
            values.append(Summary.Value(tag=tag, image=Summary.Image(
                height=height, width=width, colorspace=1, encoded_image_string=png)))
        self._write(Event(step=step, summary=Summary(value=values)))

    def flush(self):
        self.writer.flush()

    def close(self):
        self.writer.close()
