"""tools/data/reencode_videos.py writes decodable training copies (every
frame, the recipe's short side, a key frame every --gop frames), never
writes over a source or a file it did not write, and resumes an interrupted
run where it stopped."""
import importlib.util
import json
import os
import os.path as osp
import sys

import pytest
from _encoded_videos import write_video
from _paths import REPO

decord = pytest.importorskip('decord')
av = pytest.importorskip('av')
TOOL = osp.join(REPO, 'tools', 'data', 'reencode_videos.py')


def _tool():
    spec = importlib.util.spec_from_file_location('reencode_videos', TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules['reencode_videos'] = module  # its workers unpickle from it
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def dataset(tmp_path):
    root = tmp_path / 'videos'
    (root / 'a').mkdir(parents=True)
    write_video(root / 'a' / 'one.mp4', count=40, bframes=3, gop=250)
    write_video(root / 'two.mp4', count=30, bframes=0, gop=30, seed=1)
    (root / 'broken.mp4').write_bytes(b'not a video')
    ann = tmp_path / 'list.txt'
    ann.write_text('a/one.mp4 0\ntwo.mp4 1\nbroken.mp4 0\n')
    return root, str(ann)


def _args(root, ann, out, *extra):
    return [ann, '--root', str(root), '--out-root', str(out), '--workers',
            '2', '--short-side', '32', '--gop', '4', '--no-progress', *extra]


def _key_frames(path):
    """Frame numbers (presentation order) of the key frames."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = sorted((p.pts, p.is_keyframe)
                         for p in container.demux(stream) if p.size)
    return [i for i, (_, key) in enumerate(packets) if key]


def test_copies_keep_every_frame_at_the_short_side(dataset, tmp_path):
    root, ann = dataset
    out = tmp_path / 'copies'
    result = _tool().main(_args(root, ann, out))
    assert result['copies'] == 2
    assert list(result['failed']) == ['broken.mp4']  # reported, not fatal
    for rel, frames in (('a/one.mp4', 40), ('two.mp4', 30)):
        reader = decord.VideoReader(str(out / rel))
        assert len(reader) == frames
        assert reader[0].shape == (32, 42, 3)  # 64x48 -> short side 32
        assert _key_frames(out / rel) == list(range(0, frames, 4))
    assert result['size_ratio'] > 0
    assert result['psnr_mean'] > 30


def test_refuses_to_write_over_sources_or_foreign_files(dataset, tmp_path):
    root, ann = dataset
    tool = _tool()
    with pytest.raises(SystemExit):
        tool.main(_args(root, ann, root))
    out = tmp_path / 'copies'
    (out / 'a').mkdir(parents=True)
    (out / 'a' / 'one.mp4').write_bytes(b'mine')
    with pytest.raises(SystemExit, match='did not write'):
        tool.main(_args(root, ann, out))
    assert (out / 'a' / 'one.mp4').read_bytes() == b'mine'
    # the sources are untouched in both cases
    assert len(decord.VideoReader(str(root / 'a' / 'one.mp4'))) == 40


def test_an_interrupted_run_resumes_where_it_stopped(dataset, tmp_path):
    root, ann = dataset
    out = tmp_path / 'copies'
    tool = _tool()
    tool.main(_args(root, ann, out))
    # as if killed while writing two.mp4: logged one.mp4 only, a partial
    # two.mp4.part, a log line cut in the middle
    log = out / tool.LOG_NAME
    lines = log.read_text().splitlines()
    kept = [line for line in lines if '"a/one.mp4"' in line]
    log.write_text(kept[0] + '\n{"path": "two.mp')
    os.remove(out / 'two.mp4')
    (out / 'two.mp4.part').write_bytes(b'\x00' * 100)
    stamp = os.stat(out / 'a' / 'one.mp4').st_mtime_ns

    result = tool.main(_args(root, ann, out))
    assert result['copies'] == 2
    assert os.stat(out / 'a' / 'one.mp4').st_mtime_ns == stamp  # not redone
    assert len(decord.VideoReader(str(out / 'two.mp4'))) == 30
    assert not osp.exists(out / 'two.mp4.part')
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(r['path'] for r in records) == ['a/one.mp4', 'two.mp4']


def test_a_file_that_kills_the_decoder_fails_alone(dataset, tmp_path,
                                                  monkeypatch):
    """A decoder that dies on one file (here a SIGSEGV raised for it in the
    worker) fails that file; every other is encoded and logged exactly
    once, also those finished in the pool that broke."""
    import signal
    root, ann = dataset
    (root / 'crash.mp4').write_bytes((root / 'two.mp4').read_bytes())
    with open(ann, 'a') as f:
        f.write('crash.mp4 1\n')
    out = tmp_path / 'copies'
    tool = _tool()
    encode = tool.reencode_video

    def dies_on_crash(src, dst, **options):  # runs in the forked workers
        if src.endswith('crash.mp4'):
            os.kill(os.getpid(), signal.SIGSEGV)
        return encode(src, dst, **options)

    monkeypatch.setattr(tool, 'reencode_video', dies_on_crash)
    # one worker: the others are finished when the pool breaks on the last
    result = tool.main(_args(root, ann, out, '--workers', '1'))
    assert result['copies'] == 2
    assert result['failed']['crash.mp4'] == 'the decoder process died on it'
    assert 'broken.mp4' in result['failed']
    paths = [json.loads(line)['path']
             for line in (out / tool.LOG_NAME).read_text().splitlines()]
    assert sorted(paths) == ['a/one.mp4', 'two.mp4']
    assert not osp.exists(out / 'crash.mp4')
