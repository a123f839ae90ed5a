r"""Encoders passed to the multimodal models (issue 16, seam 6):
`encoder='rgcn'` must not build a full weight matrix per edge type, and a
plain PyG convolution must either work or be refused at construction."""
import pytest
import torch
from torch_geometric.nn import GCNConv, RGCNConv

from pyg_mmkg.data import num_entities, num_relations, train_graph, triples
from pyg_mmkg.evaluation import evaluate
from pyg_mmkg.nn.models import MoSE, VLKGE
from pyg_mmkg.nn.models.base import build_encoder


@pytest.fixture(scope='module')
def vtkg(tmp_path_factory):
    from pyg_mmkg.datasets import VTKG_I
    return VTKG_I(str(tmp_path_factory.mktemp('vtkg')))[0]


def test_rgcn_default_is_decomposed_on_vtkg(vtkg):
    types = 2 * num_relations(vtkg)  # 434 with inverse edges
    enc = build_encoder('rgcn', vtkg, 384)
    # Two bases per layer (the R-GCN paper's link prediction setting on
    # FB15k/WN18): 2 x 384^2 basis weights + 434 x 2 coefficients + the
    # 384^2 root weight + 384 bias, for each of 2 layers.
    expected = 2 * (2 * 384**2 + types * 2 + 384**2 + 384)
    assert sum(p.numel() for p in enc.parameters()) == expected
    assert expected < 1_000_000  # not 2 x 434 x 384^2 = 128 M
    torch.manual_seed(0)
    model = VLKGE.from_data(vtkg, hidden_channels=384,
                            modalities=('structure', 'text'), encoder='rgcn')
    assert sum(p.numel() for p in model.encoder.parameters()) == expected
    # Explicit choices still win:
    enc = build_encoder('rgcn', vtkg, 16, num_blocks=4)
    assert enc.convs[0].num_blocks == 4 and enc.convs[0].num_bases is None


@pytest.mark.parametrize('relational', [True, False])
def test_plain_pyg_conv_works_through_from_data(vtkg, relational):
    torch.manual_seed(0)
    types = 2 * num_relations(vtkg)
    conv = RGCNConv(16, 16, types, num_bases=2) if relational else GCNConv(
        16, 16)
    model = MoSE.from_data(vtkg, hidden_channels=8, encoder=conv,
                           modalities=('structure', 'text'))
    x = torch.randn(num_entities(vtkg), 16)
    edge_index, edge_type = train_graph(vtkg, add_inverse=True)
    expect = (conv(x, edge_index, edge_type) if relational else
              conv(x, edge_index))
    assert torch.allclose(model.encoder(x)[0], expect)
    h, r, t = (v[:20] for v in triples(vtkg, 'val'))
    result = evaluate(model, h, r, t)  # the old code failed here
    assert result['both']['num_queries'] == 40


def test_plain_conv_refused_at_construction_with_a_message(vtkg):
    types = 2 * num_relations(vtkg)
    with pytest.raises(ValueError, match=r'in_channels=10.*16 channels'):
        MoSE.from_data(vtkg, hidden_channels=8,
                       encoder=RGCNConv(10, 10, types))
    with pytest.raises(ValueError, match=r'num_relations=5.*434 edge types'):
        MoSE.from_data(vtkg, hidden_channels=8, encoder=RGCNConv(16, 16, 5))
    with pytest.raises(ValueError, match='plain PyG convolution.*from_data'):
        MoSE(num_entities(vtkg), num_relations(vtkg), 8,
             encoder=RGCNConv(16, 16, types))
    with pytest.raises(ValueError, match='cannot serve as a relational'):
        MoSE.from_data(vtkg, hidden_channels=8,
                       encoder=torch.nn.Linear(16, 16))
