r"""No file pyg-mmkg loads may run code (issue 17, part 1).

Each attack saves a pickle whose unpickling would write a marker file; every
test asserts that the marker was never written and that the error names the
attacked file."""
import fractions
import os
import os.path as osp
import re

import pytest
import torch

from pyg_mmkg.cli import main
from pyg_mmkg.datasets import KGFolder
from pyg_mmkg.train import TrainConfig
from pyg_mmkg.train.run import load_data

TRIPLES = {
    'train.txt': 'a\tr\tb\nb\tr\tc\nc\ts\ta\nd\tr\ta\n',
    'valid.txt': 'a\ts\tc\n',
    'test.txt': 'b\ts\td\n',
}


class Payload:
    r"""Unpickling it runs :obj:`exec`, which writes :obj:`marker`."""
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f'open({self.marker!r}, "w").write("pwned")',))


def two_stage(marker):
    # PyG's torch_load retries with weights_only=False when the
    # weights_only error mentions add_safe_globals: a harmless but
    # non-allow-listed class first, then the payload.
    return [fractions.Fraction(1, 2), Payload(marker)]


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / 'kg'
    root.mkdir()
    for name, text in TRIPLES.items():
        (root / name).write_text(text)
    return root


def assert_refused(excinfo, path, marker):
    assert not osp.exists(marker), 'the payload ran'
    assert str(path) in str(excinfo.value)


@pytest.mark.parametrize('attack', [Payload, two_stage])
def test_load_data_user_file(tmp_path, attack):
    marker, path = tmp_path / 'MARKER', tmp_path / 'graph.pt'
    torch.save(attack(marker), path)
    with pytest.raises(ValueError, match=re.escape(str(path))) as e:
        load_data(str(path))
    assert_refused(e, path, marker)


@pytest.mark.parametrize('command', ['info', 'train'])
def test_cli_info_and_train_dataset_file(tmp_path, capsys, command):
    marker, path = tmp_path / 'MARKER', tmp_path / 'graph.pt'
    torch.save(two_stage(marker), path)
    argv = (['info', str(path)] if command == 'info' else
            ['train', '--dataset', str(path), '--model', 'distmult',
             '--epochs', '1', '--run-dir', str(tmp_path / 'run')])
    assert main(argv) == 1
    assert not marker.exists()
    assert str(path) in capsys.readouterr().err


def test_cli_evaluate_dataset_from_run_config(tmp_path, capsys):
    marker, path = tmp_path / 'MARKER', tmp_path / 'graph.pt'
    torch.save(Payload(marker), path)
    run = tmp_path / 'run'
    (run / 'checkpoints').mkdir(parents=True)
    TrainConfig(dataset=str(path), model='distmult').save(run / 'config.json')
    (run / 'checkpoints' / 'best.pt').write_bytes(b'')
    assert main(['evaluate', str(run)]) == 1
    assert not marker.exists()
    assert str(path) in capsys.readouterr().err


@pytest.mark.parametrize('name', ['pre_transform.pt', 'pre_filter.pt'])
def test_processed_pre_transform_file(folder, tmp_path, name):
    KGFolder(str(folder))
    marker, path = tmp_path / 'MARKER', folder / 'processed' / name
    assert path.exists()
    torch.save(Payload(marker), path)
    with pytest.raises(ValueError, match=re.escape(str(path))) as e:
        KGFolder(str(folder))
    assert_refused(e, path, marker)


@pytest.mark.parametrize('attack', [Payload, two_stage])
def test_processed_data_file_has_no_unsafe_fallback(folder, tmp_path,
                                                    attack):
    path = KGFolder(str(folder)).processed_paths[0]
    marker = tmp_path / 'MARKER'
    torch.save(attack(marker), path)
    with pytest.raises(ValueError, match=re.escape(path)) as e:
        KGFolder(str(folder))
    assert_refused(e, path, marker)


def test_users_own_heterodata_file_still_loads(folder, tmp_path, capsys):
    data = KGFolder(str(folder))[0]
    path = tmp_path / 'mine.pt'
    torch.save(data, path)
    loaded = load_data(str(path))
    assert loaded['entity'].name == data['entity'].name
    assert torch.equal(loaded['entity', 'to', 'entity'].edge_index,
                       data['entity', 'to', 'entity'].edge_index)
    torch.save([data], tmp_path / 'list.pt')  # a list of one graph, too
    assert load_data(str(tmp_path / 'list.pt'))['entity'].name == \
        data['entity'].name
    assert main(['info', str(path)]) == 0
    assert 'entities:  4' in capsys.readouterr().out


def test_corrupt_files_name_the_file(tmp_path):
    empty, cut = tmp_path / 'empty.pt', tmp_path / 'cut.pt'
    empty.write_bytes(b'')
    torch.save({'w': torch.ones(100)}, cut)
    cut.write_bytes(cut.read_bytes()[:200])
    for path in (empty, cut):
        with pytest.raises(ValueError, match=re.escape(str(path))):
            load_data(str(path))
    assert not os.path.exists(tmp_path / 'MARKER')
