"""benchmarks/methods/imf_bench.py --data: a prepared graph file (e.g.
FB15k-237 from fb15k237_prepare.py) with its own text features instead of
a staged MKG dataset whose names are encoded."""
import json
import pathlib
import sys

import pytest
import torch

from pyg_mmkg.data import make_kg_data

METHODS = pathlib.Path(__file__).resolve().parents[1] / 'benchmarks' / \
    'methods'


@pytest.fixture
def imf_bench():
    sys.path.insert(0, str(METHODS))
    try:
        import imf_bench
    finally:
        sys.path.remove(str(METHODS))
    return imf_bench


@pytest.fixture
def graph_file(tmp_path):
    gen = torch.Generator().manual_seed(0)
    n, m = 20, 3
    h = torch.randint(0, n, (90, ), generator=gen)
    r = torch.randint(0, m, (90, ), generator=gen)
    t = torch.randint(0, n, (90, ), generator=gen)
    data = make_kg_data([f'e{i}' for i in range(n)],
                        [f'r{i}' for i in range(m)], {
                            'train': (h[:70], r[:70], t[:70]),
                            'val': (h[70:80], r[70:80], t[70:80]),
                            'test': (h[80:], r[80:], t[80:]),
                        }, allow_split_overlap=True)
    # Row i of the text table starts with i: a permutation is visible.
    x = torch.randn(n, 8, generator=gen)
    x[:, 0] = torch.arange(n, dtype=torch.float)
    data['entity'].x_text = x
    data['entity'].has_text = torch.arange(n) % 3 != 0
    path = tmp_path / 'toy_text.pt'
    torch.save(data, path)
    return path, x


def test_data_file_keeps_its_text(imf_bench, graph_file):
    path, x = graph_file
    args = imf_bench.parse_args(['--data', str(path), '--out', 'x.jsonl'])
    data = imf_bench.load_graph(args, ['structure', 'text'])
    assert torch.equal(data['entity'].x_text, x)
    data = imf_bench.load_graph(args, ['structure'])
    assert 'x_text' not in data['entity']


def test_data_file_train_shuffle_permutes_rows(imf_bench, graph_file):
    path, x = graph_file
    args = imf_bench.parse_args(['--data', str(path),
                                 '--train-shuffle-text', '--out', 'x.jsonl'])
    data = imf_bench.load_graph(args, ['structure', 'text'])
    out = data['entity'].x_text
    assert not torch.equal(out, x)
    perm = out[:, 0].long()
    assert torch.equal(out, x[perm])
    assert sorted(perm.tolist()) == list(range(len(x)))
    # has_text travels with its row.
    assert torch.equal(data['entity'].has_text, perm % 3 != 0)


def test_dataset_and_data_are_exclusive(imf_bench, graph_file, capsys):
    path, _ = graph_file
    with pytest.raises(SystemExit):
        imf_bench.parse_args(['--data', str(path), '--dataset', 'DB15K',
                              '--out', 'x.jsonl'])
    assert 'not allowed with' in capsys.readouterr().err


def test_main_on_a_data_file_writes_a_row(imf_bench, graph_file, tmp_path):
    path, _ = graph_file
    out = tmp_path / 'rows.jsonl'
    imf_bench.main(['--data', str(path), '--setting', 'structure+text',
                    '--dim', '8', '--epochs', '1', '--eval-every', '1',
                    '--shuffle-seeds', '1', '--run-dir',
                    str(tmp_path / 'runs'), '--out', str(out)])
    row = json.loads(out.read_text().splitlines()[-1])
    assert row['dataset'] == 'toy_text'
    assert row['setting'] == 'structure+text'
    assert row['epochs'] == 1
    assert 'test_eval_text_shuffle' in row
