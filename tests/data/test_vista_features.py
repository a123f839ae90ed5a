r"""VISTA's feature files: dicts name -> tensor, written exactly as VISTA's
``dataset.py`` reads them (images [n_images, d_v], relation images
[n_images, 3 * d_v], texts [d_t])."""
import os.path as osp

import pytest
import torch

from pyg_mmkg.data import RawFormatError, validate
from pyg_mmkg.datasets import KGFolder


def make_vista(tmp_path, ent_vis=None, ent_txt=None):
    d = tmp_path
    (d / 'entities.txt').write_text('e0\ne1\ne2\ne3\n')
    (d / 'relations.txt').write_text('r0\nr1\n')
    (d / 'train.txt').write_text('e0\tr0\te1\ne1\tr1\te2\ne2\tr0\te3\n')
    (d / 'valid.txt').write_text('e0\tr1\te3\n')
    (d / 'test.txt').write_text('e3\tr0\te0\n')
    g = torch.Generator().manual_seed(0)
    if ent_vis is None:
        ent_vis = {
            'e0': torch.randn(4, 6, generator=g),  # more than k=2 images
            'e1': torch.randn(1, 6, generator=g),
            'e3': torch.randn(2, 6, generator=g),  # e2 has no image
        }
    if ent_txt is None:
        ent_txt = {f'e{i}': torch.randn(5, generator=g) for i in range(3)}
    torch.save(ent_vis, d / 'visual_features_ent.pt')
    torch.save({'r0': torch.randn(3, 18, generator=g)},
               d / 'visual_features_rel.pt')
    torch.save(ent_txt, d / 'textual_features_ent.pt')
    torch.save({'r0': torch.randn(5, generator=g),
                'r1': torch.randn(5, generator=g)},
               d / 'textual_features_rel.pt')
    return ent_vis, ent_txt


def test_vista_feature_files(tmp_path):
    vis, txt = make_vista(tmp_path)
    data = validate(KGFolder(str(tmp_path), max_images=2)[0])
    ent = data['entity']
    assert ent.x_image.shape == (4, 2, 6)
    assert ent.image_mask.tolist() == [[True, True], [True, False],
                                       [False, False], [True, True]]
    assert ent.has_image.tolist() == [True, True, False, True]
    # VISTA's order: images sorted by summed inner product with all images
    # of the entity (itself included, as VISTA's sort_vis_features).
    v = vis['e0']
    order = (v @ v.sum(0)).argsort(descending=True)
    assert torch.allclose(ent.x_image[0], v[order[:2]])
    assert torch.equal(ent.x_image[2], torch.zeros(2, 6))
    assert torch.allclose(ent.x_text[1], txt['e1'])
    assert ent.has_text.tolist() == [True, True, True, False]
    rel = data['relation']
    assert rel.x_image.shape == (2, 2, 18)  # 3 * d_v wide
    assert rel.has_image.tolist() == [True, False]
    assert rel.x_text.shape == (2, 5)
    assert data.feature_encoders['entity.x_image'] == \
        'vista-file:visual_features_ent.pt'


def test_processed_name_depends_on_k(tmp_path):
    make_vista(tmp_path)
    a = KGFolder(str(tmp_path), max_images=1)
    b = KGFolder(str(tmp_path), max_images=3)
    assert a.processed_paths[0] != b.processed_paths[0]
    assert a[0]['entity'].x_image.shape[1] == 1
    assert b[0]['entity'].x_image.shape[1] == 3


def test_nan_features_rejected(tmp_path):
    txt = {'e0': torch.tensor([1.0, float('nan'), 0.0])}
    make_vista(tmp_path, ent_txt=txt)
    with pytest.raises(RawFormatError) as e:
        KGFolder(str(tmp_path))
    assert 'textual_features_ent.pt' in str(e.value)
    assert "'e0' contains NaN" in str(e.value)


def test_inconsistent_dimension_rejected(tmp_path):
    vis = {'e0': torch.randn(2, 6), 'e1': torch.randn(2, 7)}
    make_vista(tmp_path, ent_vis=vis)
    with pytest.raises(RawFormatError, match="'e1' has dimension 7, others "
                       "have 6"):
        KGFolder(str(tmp_path))


def test_corrupt_feature_archive(tmp_path):
    make_vista(tmp_path)
    path = tmp_path / 'visual_features_ent.pt'
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(RawFormatError, match='visual_features_ent.pt: '
                       'cannot load features'):
        KGFolder(str(tmp_path))
    assert not osp.exists(tmp_path / 'processed' / 'data__vista__raw.pt')


def test_feature_files_argument(tmp_path):
    make_vista(tmp_path)
    x = torch.randn(4, 8)
    x[2] = 0  # an entity without text
    torch.save(x, tmp_path / 'mine.pt')
    ds = KGFolder(str(tmp_path),
                  feature_files={'entity.x_text': str(tmp_path / 'mine.pt')})
    ent = ds[0]['entity']
    assert torch.equal(ent.x_text, x)
    assert ent.has_text.tolist() == [True, True, False, True]
    torch.save(torch.randn(3, 8), tmp_path / 'bad.pt')
    with pytest.raises(RawFormatError, match=r'bad.pt: expected a tensor of '
                       r'shape \[4, ...\]'):
        KGFolder(str(tmp_path),
                 feature_files={'entity.x_text': str(tmp_path / 'bad.pt')})
