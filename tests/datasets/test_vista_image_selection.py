r"""VISTA's datasets keep each entity's most central images (the official
`VTKG.sort_vis_features`, bdi-lab/VISTA@4ad318d dataset.py), other
datasets the first ones."""
import torch

import pyg_mmkg.features
from pyg_mmkg.datasets import VTKG_I, KGFolder


def _central_order(feats):
    # sort_vis_features: sim_val[i] = sum_j <f_i, f_j> (j = i included),
    # argsort descending.
    n = feats.size(0)
    score = torch.tensor([sum(float(feats[i] @ feats[j]) for j in range(n))
                          for i in range(n)])
    return torch.argsort(score, descending=True).tolist()


def _image_file(tmp_path, names):
    # First image an outlier, then three alike: the centrality order
    # differs from the file order.
    feats = torch.tensor([[-4.0, 0.5, 0.0], [3.0, 1.0, 0.0],
                          [2.5, 1.5, 0.5], [3.5, 0.0, 0.2]])
    path = tmp_path / 'images.pt'
    torch.save({names[0]: feats, names[1]: feats[:1]}, path)
    return str(path), feats


def test_vista_datasets_select_central_images(tmp_path):
    names = VTKG_I(str(tmp_path / 'probe'))[0]['entity'].name
    path, feats = _image_file(tmp_path, names)
    order = _central_order(feats)
    assert order[:2] != [0, 1]
    data = VTKG_I(str(tmp_path / 'vtkg'), max_images=2,
                  feature_files={'entity.x_image': path})[0]
    store = data['entity']
    assert torch.equal(store.x_image[0], feats[order[:2]])
    assert store.image_mask[:2].tolist() == [[True, True], [True, False]]
    assert KGFolder.image_selection == 'first'  # Generic folders.


def test_vista_datasets_encode_with_centrality(tmp_path, monkeypatch):
    calls = []

    def attach(data, **kwargs):
        calls.append(kwargs)
        return data

    monkeypatch.setattr(pyg_mmkg.features, 'attach_features', attach)
    VTKG_I(str(tmp_path), image_encoder=object(), image_paths={})
    assert calls[0]['selection'] == 'vista'
    from pyg_mmkg.features.cli import _get_data
    assert _get_data('VTKG-I', str(tmp_path / 'cli'))[1] == 'vista'
