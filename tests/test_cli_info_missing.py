"""`pyg-mmkg info <dataset>` offline (issue 16): one message listing every
missing raw file, no traceback. On the code before, the first failed
download raised a RuntimeError that escaped main() as a traceback naming
one file only."""
import pytest

from pyg_mmkg.cli import main

FILES = ['entity2id.txt', 'relation2id.txt', 'train2id.txt', 'valid2id.txt',
         'test2id.txt']


@pytest.fixture()
def offline(monkeypatch):
    import torch_geometric.data
    tried = []

    def download_url(url, folder, *args, **kwargs):
        tried.append(url)
        raise OSError('Name or service not known')
    monkeypatch.setattr(torch_geometric.data, 'download_url', download_url)
    return tried


def test_info_lists_every_missing_file(tmp_path, offline, capsys):
    root = tmp_path / 'DB15K'
    (root / 'raw').mkdir(parents=True)
    (root / 'raw' / 'entity2id.txt').write_text('0\n')  # one is present
    assert main(['info', 'DB15K', '--root', str(root)]) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: Dataset not found.') and err.count(
        '\n') == 1  # one message, no traceback
    for name in FILES[1:]:
        assert f"'{name}'" in err and str(root / 'raw' / name) in err
    assert "'entity2id.txt'" not in err
    assert 'needs 4 raw files missing' in err
    assert len(offline) == 4  # every download tried, none given up early


def test_info_of_a_manual_dataset(tmp_path, capsys):
    assert main(['info', 'FB15K237', '--root', str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count('\n') == 1
    for name in ('entities.txt', 'relations.txt', 'train.txt', 'valid.txt',
                 'test.txt'):
        assert f"'{name}'" in err
    assert 'drive.google.com' in err
