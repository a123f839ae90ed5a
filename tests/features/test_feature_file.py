"""Seam 2 of issue 16: what `pyg-mmkg features` writes is accepted wherever
a feature file is (`train --dataset FILE`, `feature_files=`). On the code
before the fix, `train --dataset FILE` failed with `KeyError: 0` and
`KGFolder(feature_files=...)` with a TypeError."""
import json

import pytest
import torch

from pyg_mmkg.cli import main
from pyg_mmkg.data.io import RawFormatError

ENTS = ['cat', 'dog', 'car', 'tree', 'river', 'bird']
TRIPLES = [('cat', 'eats', 'bird'), ('dog', 'eats', 'cat'),
           ('bird', 'lives_in', 'tree'), ('car', 'near', 'river'),
           ('dog', 'near', 'car'), ('cat', 'lives_in', 'tree'),
           ('bird', 'near', 'river'), ('dog', 'lives_in', 'car')]


def _folder(tmp_path):
    folder = tmp_path / 'mykg'
    folder.mkdir()
    lines = ['\t'.join(t) for t in TRIPLES]
    (folder / 'train.txt').write_text('\n'.join(lines[:6]) + '\n')
    (folder / 'valid.txt').write_text(lines[6] + '\n')
    (folder / 'test.txt').write_text(lines[7] + '\n')
    (folder / 'entity2text.txt').write_text(
        ''.join(f'{e}\ta {e} animal\n' for e in ENTS if e != 'river'))
    return folder


@pytest.fixture()
def feature_file(tmp_path, tiny_bert, capsys):
    folder = _folder(tmp_path)
    assert main(['features', '--dataset', str(folder), '--text-encoder',
                 f'hf-mean:{tiny_bert}', '--no-cache', '--no-progress',
                 '--device', 'cpu']) == 0
    out = capsys.readouterr().out
    (path, ) = (folder / 'features').iterdir()
    assert f'saved to {path}' in out
    return folder, path


def _independent_text_features(path):
    obj = torch.load(path, weights_only=True)
    return dict(zip(obj['entity']['name'], obj['entity']['x_text'])), obj


def test_feature_file_format(feature_file):
    folder, path = feature_file
    by_name, obj = _independent_text_features(path)
    assert obj['format'] == 'pyg-mmkg-features' and obj['version'] == 1
    assert obj['dataset'] == str(folder)
    assert sorted(obj['entity']['name']) == sorted(ENTS)
    assert obj['entity']['has_text'].sum() == 5  # river has no text
    assert torch.count_nonzero(by_name['river']) == 0


def test_train_accepts_the_feature_file(feature_file, tmp_path, capsys):
    folder, path = feature_file
    from pyg_mmkg.train.run import load_data
    data = load_data(str(path))
    by_name, _ = _independent_text_features(path)
    for i, name in enumerate(data['entity'].name):
        assert torch.equal(data['entity'].x_text[i], by_name[name])
    assert data['entity'].has_text.tolist() == [
        n != 'river' for n in data['entity'].name]
    run = tmp_path / 'run'
    assert main(['train', '--dataset', str(path), '--model', 'mose',
                 '--modalities', 'structure,text', '--dim', '8',
                 '--epochs', '1', '--no-progress', '--run-dir',
                 str(run)]) == 0, capsys.readouterr().err
    config = json.loads((run / 'config.json').read_text())
    assert config['dataset'] == str(path)


def test_kgfolder_accepts_the_feature_file(feature_file):
    from pyg_mmkg.datasets import KGFolder
    folder, path = feature_file
    by_name, _ = _independent_text_features(path)
    data = KGFolder(str(folder),
                    feature_files={'entity.x_text': str(path)})[0]
    for i, name in enumerate(data['entity'].name):
        assert torch.equal(data['entity'].x_text[i], by_name[name])
    assert data.feature_encoders['entity.x_text'].startswith('hf-mean:')
    with pytest.raises(RawFormatError, match='has no entity.x_image'):
        KGFolder(str(folder), feature_files={'entity.x_image': str(path)})


def test_feature_file_errors_name_the_file(tmp_path):
    from pyg_mmkg.data.feature_file import load_feature_file
    from pyg_mmkg.train.run import load_data
    bad = tmp_path / 'bad.pt'
    bad.write_bytes(b'not a zip')
    with pytest.raises(RawFormatError, match="bad.pt.*cannot load"):
        load_feature_file(str(bad))
    other = tmp_path / 'other.pt'
    torch.save({'a': torch.zeros(2)}, other)
    with pytest.raises(RawFormatError, match='other.pt.*not a pyg-mmkg '
                       'feature file'):
        load_feature_file(str(other))
    with pytest.raises(ValueError, match='other.pt.*neither a saved graph'):
        load_data(str(other))
    with pytest.raises(FileNotFoundError, match='missing.pt'):
        load_feature_file(str(tmp_path / 'missing.pt'))
