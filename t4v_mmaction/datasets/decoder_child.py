"""The disposable process of :mod:`.decoder_guard` (run as a script).

Reads one JSON request per line on stdin (``{"op": "open" | "probe",
"path": ..., "min_frames": ...}``), answers one JSON line on stdout with the
fields of a :class:`~.video_probe.VideoProbe`. It imports only the standard
library, the decoder and ``video_probe.py`` (loaded by path, so that the
``t4v_mmaction`` package, and mmaction2 with it, is never imported here): if
the decoder crashes on a file, only this process dies.
"""
import importlib.util
import json
import os.path as osp
import sys


def _video_probe():
    path = osp.join(osp.dirname(osp.abspath(__file__)), 'video_probe.py')
    spec = importlib.util.spec_from_file_location('_t4v_video_probe', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    import decord
    decord.logging.set_level(decord.logging.QUIET)  # no ffmpeg chatter
    video_probe = _video_probe()
    for line in sys.stdin:
        request = json.loads(line)
        if request['op'] == 'open':
            probe = video_probe.open_video(request['path'])
        else:
            probe = video_probe.probe_video(request['path'],
                                            request.get('min_frames', 1))
        sys.stdout.write(json.dumps(probe._asdict()) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
