r"""The bundled VTKG-I works offline, with real MiniLM text features."""
import torch
import torch.nn.functional as F

from pyg_mmkg.data import triples, validate
from pyg_mmkg.datasets import VTKG_I, get_dataset, list_datasets
from pyg_mmkg.datasets.vista import bundled_dir


def test_bundled_vtkg_i_offline(tmp_path):
    dataset = VTKG_I(str(tmp_path))
    data = validate(dataset[0])
    assert data['entity'].num_nodes == 181
    assert data['relation'].num_nodes == 217
    assert [triples(data, s)[0].numel() for s in ('train', 'val', 'test')] \
        == [1054, 131, 131]
    for key, n in (('entity', 181), ('relation', 217)):
        x = data[key].x_text
        assert x.shape == (n, 384) and bool(data[key].has_text.all())
        assert torch.isfinite(x).all() and bool((x.norm(dim=-1) > 0).all())
    enc = data.feature_encoders['entity.x_text']
    assert 'MiniLM' in enc
    # Semantics: 'airplane' is nearer 'sky' than 'pillow'.
    names, x = data['entity'].name, F.normalize(data['entity'].x_text, dim=-1)
    air, sky, pillow = (names.index(n) for n in ('airplane.n.01', 'sky.n.01',
                                                 'pillow.n.01'))
    assert x[air] @ x[sky] > x[air] @ x[pillow]
    assert (tmp_path / 'raw' / 'LICENSE').exists()


def test_registry(tmp_path):
    ds = get_dataset('vtkg_i', root=str(tmp_path))
    assert isinstance(ds, VTKG_I)
    names = [d['name'] for d in list_datasets()]
    assert names[:2] == ['VTKG-I', 'VTKG-C'] and 'KVC16K' in names
    assert [d['name'] for d in list_datasets() if d['bundled']] == ['VTKG-I']
    import pytest
    with pytest.raises(ValueError, match="Unknown dataset 'nope'"):
        get_dataset('nope')


def test_bundled_features_match_rebuild_script_inputs():
    feats = torch.load(f'{bundled_dir()}/text_features.pt')
    assert len(feats['entity_text']) == 181
    assert feats['entity_text'][1].startswith('airplane: an aircraft')
