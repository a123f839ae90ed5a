import pytest
import torch

from pyg_mmkg.data import (ContractError, known_triples, make_kg_data,
                           to_relation_typed, train_graph, triples, validate)


def small_kg():
    t = lambda *x: torch.tensor(x)  # noqa: E731
    splits = {
        'train': (t(0, 1, 2, 0), t(0, 1, 0, 2), t(1, 2, 3, 3)),
        'val': (t(3, ), t(1, ), t(0, )),
        'test': (t(2, ), t(2, ), t(0, )),
    }
    return make_kg_data(['a', 'b', 'c', 'd'], ['r0', 'r1', 'r2'], splits,
                        entity_text=['A', '', None, 'D'])


def test_triples_per_split():
    data = validate(small_kg())
    h, r, t = triples(data, 'train')
    assert h.tolist() == [0, 1, 2, 0] and r.tolist() == [0, 1, 0, 2]
    assert t.tolist() == [1, 2, 3, 3]
    assert triples(data, 'valid')[0].tolist() == [3]
    assert triples(data, 'test')[2].tolist() == [0]
    assert triples(data, 'all')[0].numel() == 6
    assert known_triples(data, ['train', 'test'])[0].numel() == 5
    assert data['entity'].text == ['A', '', '', 'D']
    with pytest.raises(ValueError, match="Unknown split 'dev2'"):
        triples(data, 'dev2')


def test_train_graph_has_no_val_or_test_edges():
    data = small_kg()
    edge_index, edge_type = train_graph(data, add_inverse=True)
    pairs = set(map(tuple, torch.cat([edge_index, edge_type[None]]).t()
                    .tolist()))
    # val (3, r1, 0) and test (2, r2, 0) appear in no direction.
    for h, r, t in [(3, 1, 0), (2, 2, 0)]:
        assert (h, t, r) not in pairs and (t, h, r + 3) not in pairs
    assert edge_index.size(1) == 8
    # inverse edges are reversed and typed r + R
    assert torch.equal(edge_index[:, 4:], edge_index[:, :4].flip(0))
    assert torch.equal(edge_type[4:], edge_type[:4] + 3)
    ei, et = train_graph(data, add_inverse=False)
    assert ei.size(1) == 4 and et.max() < 3


def test_to_relation_typed():
    data = small_kg()
    out = to_relation_typed(data)
    assert out['entity', 'r0', 'entity'].edge_index.tolist() == [[0, 2],
                                                                [1, 3]]
    assert out['entity', 'r2', 'entity'].edge_index.tolist() == [[0], [3]]
    assert out.relation_names == ['r0', 'r1', 'r2']
    assert out['entity'].num_nodes == 4
    inv = to_relation_typed(data, add_inverse=True)
    assert inv['entity', 'r5', 'entity'].edge_index.tolist() == [[3], [0]]


def test_validate_reports_every_problem():
    data = small_kg()
    data['entity'].x_text = torch.randn(4, 3)
    data['entity'].x_text[1, 0] = float('nan')
    data['entity', 'to', 'entity'].edge_type[0] = 7
    data['entity', 'to', 'entity'].val_mask[0] = True
    data['relation'].x_image = torch.randn(3, 2, 5)
    with pytest.raises(ContractError) as e:
        validate(data)
    msg = str(e.value)
    assert 'x_text has NaN/inf values (rows [1])' in msg
    assert "has_text is missing" in msg
    assert 'edge_type has relation ids outside [0, 3)' in msg
    assert '1 triples belong to several splits' in msg
    assert "data['relation'].image_mask is missing" in msg


def test_validate_image_masks():
    data = small_kg()
    data['entity'].x_image = torch.randn(4, 2, 5)
    data['entity'].image_mask = torch.tensor([[1, 1], [1, 0], [0, 0],
                                              [1, 0]]).bool()
    data['entity'].has_image = torch.tensor([1, 1, 1, 1]).bool()
    with pytest.raises(ContractError, match='disagrees'):
        validate(data)
    data['entity'].has_image = data['entity'].image_mask.any(-1)
    validate(data)
