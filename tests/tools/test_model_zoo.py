"""configs/text4vis/metafile.yml and model-index.yml: mmaction2's format,
existing configs, the original release URLs and the paper's numbers."""
import os.path as osp

import yaml

from _paths import REPO
RELEASE = 'https://github.com/whwu95/Text4Vis/releases/download/v1/'


def load(path):
    with open(osp.join(REPO, path)) as f:
        return yaml.safe_load(f)


def test_model_index_imports_the_metafile():
    assert load('model-index.yml') == {
        'Import': ['configs/text4vis/metafile.yml']
    }


def test_metafile_models():
    meta = load('configs/text4vis/metafile.yml')
    assert [c['Name'] for c in meta['Collections']] == ['Text4Vis']
    assert meta['Collections'][0]['Paper']['URL'] == \
        'https://arxiv.org/abs/2207.01297'
    names = set()
    for model in meta['Models']:
        assert model['In Collection'] == 'Text4Vis'
        assert osp.isfile(osp.join(REPO, model['Config'])), model['Config']
        assert model['Name'] == osp.splitext(osp.basename(
            model['Config']))[0]
        assert model['Name'] not in names
        names.add(model['Name'])
        assert {'Architecture', 'Batch Size', 'Frame', 'Resolution',
                'Training Data', 'Pretrained'} <= set(model['Metadata'])
        [result] = model['Results']
        assert result['Dataset'] == 'Kinetics-400'
        assert 0 < result['Metrics']['Top 1 Accuracy'] < 100
    weights = {m['Name']: m.get('Weights') for m in meta['Models']}
    assert weights[
        'text4vis_vit-b16-ttrans_8xb32-seg8-30e_kinetics400-rgb_4x3-views'] \
        == RELEASE + 'k400-vitb-16-f8.pt'
    released = sorted(w for w in weights.values() if w)
    assert released == [
        RELEASE + f'k400-vitb-{p}-f{f}.pt' for p in ('16', '32')
        for f in ('16', '8')
    ]
    top1 = {
        m['Name']: m['Results'][0]['Metrics']['Top 1 Accuracy']
        for m in meta['Models']
    }
    assert top1['text4vis_vit-l14-336-ttrans_64xb1-seg32-30e_kinetics400-'
                'rgb'] == 87.8
    assert top1['text4vis_vit-b16-ttrans_8xb32-seg8-30e_kinetics400-rgb'] \
        == 81.5
