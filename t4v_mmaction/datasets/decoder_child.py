"""The disposable process of :mod:`.decoder_guard` (run as a script).

Reads requests on stdin and answers on stdout, each message a header
``struct('>II')`` (JSON length, payload length), a JSON object and a binary
payload. Requests (``op``):

* ``open`` / ``probe`` (``path``, ``min_frames``): what decord makes of the
  file (:mod:`.video_probe`), answered with a ``VideoProbe``'s fields;
* ``index`` (``path`` or the file's bytes as payload, ``num_threads``):
  read the video's packets (:mod:`.packet_index`), answered with
  ``num_frames`` and ``avg_fps``;
* ``frames`` (``indices``): those frames of the indexed video, answered
  with ``shape`` and the uint8 RGB frames as payload.

A failure is answered with ``error`` (``'Type: message'``). It imports only
the standard library, NumPy, the decoders and the two modules above (loaded
by path, so that ``t4v_mmaction``, and mmaction2 with it, is never imported
here): if a decoder crashes on a file, only this process dies.
"""
import importlib.util
import json
import os.path as osp
import struct
import sys

HEADER = struct.Struct('>II')


def _load(name: str):
    path = osp.join(osp.dirname(osp.abspath(__file__)), f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'_t4v_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_message(stream):
    """``(dict, bytes)``, or None at the end of the stream."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    size, payload_size = HEADER.unpack(head)
    message = json.loads(stream.read(size))
    return message, stream.read(payload_size) if payload_size else b''


def write_message(stream, message: dict, payload=()) -> None:
    """``payload``: bytes-like objects (arrays too), written one by one."""
    if isinstance(payload, (bytes, bytearray, memoryview)):
        payload = [payload]
    parts = [memoryview(p).cast('B') for p in payload]
    data = json.dumps(message).encode()
    stream.write(HEADER.pack(len(data), sum(p.nbytes for p in parts)) + data)
    for part in parts:
        stream.write(part)
    stream.flush()


class _Server:

    def __init__(self):
        self.video_probe = _load('video_probe')
        self.packet_index = _load('packet_index')
        self.index = None

    def answer(self, request: dict, payload: bytes):
        op = request['op']
        if op in ('open', 'probe'):
            import decord
            decord.logging.set_level(decord.logging.QUIET)
            if op == 'open':
                probe = self.video_probe.open_video(request['path'])
            else:
                probe = self.video_probe.probe_video(
                    request['path'], request.get('min_frames', 1))
            return probe._asdict(), b''
        if op == 'index':
            if self.index is not None:
                self.index.close()
                self.index = None
            if request.get('path') is not None:
                with open(request['path'], 'rb') as f:
                    payload = f.read()
            self.index = self.packet_index.PacketIndex(
                payload, request.get('num_threads', 1))
            return dict(num_frames=len(self.index),
                        avg_fps=self.index.avg_fps), b''
        if op == 'frames':
            import numpy as np
            frames = [np.ascontiguousarray(f)
                      for f in self.index.frames(request['indices'])]
            shape = [len(frames), *frames[0].shape]
            if any(f.shape != frames[0].shape for f in frames):
                raise ValueError('frames of different sizes in one video')
            return dict(shape=shape), frames
        raise ValueError(f'unknown request {op!r}')


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    server = _Server()
    while True:
        request = read_message(stdin)
        if request is None:
            return
        try:
            reply, payload = server.answer(*request)
        except Exception as err:  # answered, the process lives on
            reply = dict(error=server.video_probe.describe_error(err))
            payload = b''
        write_message(stdout, reply, payload)


if __name__ == '__main__':
    main()
