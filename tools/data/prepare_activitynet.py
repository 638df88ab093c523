"""Build video-level mmaction2 lists for ActivityNet v1.3 from its JSON.

Reads ``activity_net.v1-3.min.json`` (``{"database": {vid: {"subset":
"training|validation|testing", "annotations": [{"label": ...}]}},
"taxonomy": [...]}``). A video's label is its first annotation's label.
Writes ``anet_train_video.txt``, ``anet_val_video.txt``,
``anet_test_video.txt`` (unlabelled), ``anet_full_video.txt`` (train + val:
the zero-shot list) and ``anet_label_map.txt``. Classes are the sorted
distinct labels (``--class-source labels``), the taxonomy's leaf nodes in
taxonomy order (``taxonomy``), or the order of ``--classes``.
"""
import argparse
import json
import sys
from typing import Dict, List, Optional, Tuple

from _common import NamedEntry, add_common_arguments, write_outputs

from t4v_mmaction.datasets.annotation import AnnotationError

_SUBSETS = {'training': 'train', 'validation': 'val', 'testing': 'test'}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--json', required=True, help='official v1.3 JSON')
    parser.add_argument(
        '--path-template',
        default='v_{video_id}.mp4',
        help='video path relative to --video-root; fields: video_id, '
        'subset (train/val/test)')
    parser.add_argument(
        '--class-source',
        choices=['labels', 'taxonomy'],
        default='labels',
        help='class order when --classes is not given')
    add_common_arguments(parser)
    return parser.parse_args(argv)


def taxonomy_leaves(path: str, taxonomy: List[dict]) -> List[str]:
    """Names of the taxonomy nodes that are nobody's parent, in order."""
    try:
        parents = {node['parentId'] for node in taxonomy}
        return [n['nodeName'] for n in taxonomy if n['nodeId'] not in parents]
    except (KeyError, TypeError) as err:
        raise AnnotationError(path, f'malformed taxonomy: {err!r}') from None


def read_database(path: str, template: str
                  ) -> Tuple[Dict[str, List[NamedEntry]], Optional[list]]:
    """``{'train'|'val'|'test': [(path, label or None)]}`` and the
    taxonomy."""
    with open(path, encoding='utf-8') as f:
        data = json.load(f)
    if not isinstance(data, dict) or not isinstance(
            data.get('database'), dict):
        raise AnnotationError(path, 'no "database" object at the top level')
    out = {'train': [], 'val': [], 'test': []}
    unlabelled = []
    for vid, info in data['database'].items():
        subset = _SUBSETS.get(info.get('subset'))
        if subset is None:
            raise AnnotationError(
                path, f'video {vid!r}: unknown subset {info.get("subset")!r}')
        video = template.format(video_id=vid, subset=subset)
        if subset == 'test':
            out['test'].append((video, None))
            continue
        annotations = info.get('annotations') or []
        if not annotations or 'label' not in annotations[0]:
            unlabelled.append(vid)
            continue
        out[subset].append((video, annotations[0]['label']))
    if unlabelled:
        print(f'WARNING: {path}: {len(unlabelled)} training/validation '
              f'videos without annotations skipped, e.g. {unlabelled[:3]}')
    return out, data.get('taxonomy')


def main(argv=None) -> Dict[str, object]:
    args = parse_args(argv)
    subsets, taxonomy = read_database(args.json, args.path_template)
    labels = {name for v in subsets.values() for _, name in v if name}
    if args.class_source == 'taxonomy':
        if not taxonomy:
            raise AnnotationError(args.json, 'no "taxonomy" list')
        official = taxonomy_leaves(args.json, taxonomy)
        outside = sorted(labels - set(official))
        if outside:
            raise AnnotationError(
                args.json, f'labels missing from the taxonomy leaves: '
                f'{outside[:5]}')
    else:
        official = sorted(labels)
    lists = {
        'anet_train_video.txt': subsets['train'],
        'anet_val_video.txt': subsets['val'],
        'anet_test_video.txt': subsets['test'],
        'anet_full_video.txt': subsets['train'] + subsets['val'],
    }
    return write_outputs(args, lists, official, 'anet_label_map.txt')


if __name__ == '__main__':
    main(sys.argv[1:])
