import copy

import torch

from pyg_mmkg.features.storage import load_feature_table, save_feature_table
from pyg_mmkg.nn.models import VLKGE, MoMoK


def test_vlkge_keeps_fp16_mmap_features_and_scores_as_float32(mm_data,
                                                              tmp_path):
    path = tmp_path / 'x_text.pt'
    save_feature_table(mm_data['entity'].x_text, path)
    half = copy.copy(mm_data)
    half['entity'].x_text = load_feature_table(path)  # fp16, memory-mapped
    ref = copy.copy(mm_data)
    ref['entity'].x_text = mm_data['entity'].x_text.half().float()
    torch.manual_seed(0)
    m_half = VLKGE.from_data(half, 8, modalities=('structure', 'text'))
    torch.manual_seed(0)
    m_ref = VLKGE.from_data(ref, 8, modalities=('structure', 'text'))
    assert m_half.x_text.dtype == torch.float16  # Half the memory at rest.
    assert m_ref.x_text.dtype == torch.float32
    x, _ = m_half.feature('text')
    assert x.dtype == torch.float32
    # float16 -> float32 is exact: identical scores and gradients.
    h, r = torch.tensor([0, 3, 5]), torch.tensor([0, 1, 2])
    s_half = m_half.score_tails(h, r)
    s_ref = m_ref.score_tails(h, r)
    assert torch.equal(s_half, s_ref)
    s_half.sum().backward()
    s_ref.sum().backward()
    for (name, a), (_, b) in zip(m_half.named_parameters(),
                                 m_ref.named_parameters()):
        assert (a.grad is None) == (b.grad is None), name
        if a.grad is not None:
            assert torch.equal(a.grad, b.grad), name


def test_models_reading_buffers_directly_upcast_at_build(mm_data):
    half = copy.copy(mm_data)
    half['entity'].x_text = mm_data['entity'].x_text.half()
    model = MoMoK.from_data(half, 8, modalities=('structure', 'text'))
    assert not MoMoK.keeps_half_features
    assert model.x_text.dtype == torch.float32
