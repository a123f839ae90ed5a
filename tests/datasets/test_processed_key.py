r"""The processed file follows the raw files' contents (issue 17, part 3)."""
import os

import torch

from pyg_mmkg.data import triples
from pyg_mmkg.datasets import KGFolder

TRAIN = 'a\tr\tb\nb\tr\tc\nc\ts\ta\nd\tr\ta\n'


def write_same_size_and_mtime(path, text):
    st = os.stat(path)
    assert len(text.encode()) == st.st_size
    path.write_text(text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(path).st_mtime_ns == st.st_mtime_ns


def heads_tails(data):
    h, _, t = triples(data, 'train')
    names = data['entity'].name
    return sorted((names[a], names[b]) for a, b in zip(h.tolist(),
                                                       t.tolist()))


def test_raw_change_rebuilds_even_with_same_size_and_mtime(tmp_path):
    (tmp_path / 'train.txt').write_text(TRAIN)
    (tmp_path / 'valid.txt').write_text('a\ts\tc\n')
    (tmp_path / 'test.txt').write_text('b\ts\td\n')
    first = KGFolder(str(tmp_path))
    assert ('a', 'b') in heads_tails(first[0])
    old_file = first.processed_paths[0]
    # Same length, same mtime, reversed first triple.
    write_same_size_and_mtime(tmp_path / 'train.txt',
                              TRAIN.replace('a\tr\tb', 'b\tr\ta', 1))
    second = KGFolder(str(tmp_path))
    pairs = heads_tails(second[0])
    assert ('b', 'a') in pairs and ('a', 'b') not in pairs
    assert second.processed_paths[0] != old_file
    assert not os.path.exists(old_file)  # the stale cache is removed
    # Unchanged raw files reuse the processed file (no re-processing).
    stamp = os.stat(second.processed_paths[0]).st_mtime_ns
    third = KGFolder(str(tmp_path))
    assert third.processed_paths[0] == second.processed_paths[0]
    assert os.stat(third.processed_paths[0]).st_mtime_ns == stamp


def test_feature_file_change_rebuilds(tmp_path):
    (tmp_path / 'train.txt').write_text(TRAIN)
    feats = tmp_path / 'feats' / 'text.pt'
    feats.parent.mkdir()
    torch.save(torch.ones(4, 3), feats)
    first = KGFolder(str(tmp_path),
                     feature_files={'entity.x_text': str(feats)})
    assert torch.equal(first[0]['entity'].x_text, torch.ones(4, 3))
    st = os.stat(feats)
    torch.save(torch.full((4, 3), 2.), feats)
    assert os.stat(feats).st_size == st.st_size
    os.utime(feats, ns=(st.st_atime_ns, st.st_mtime_ns))
    second = KGFolder(str(tmp_path),
                      feature_files={'entity.x_text': str(feats)})
    assert torch.equal(second[0]['entity'].x_text, torch.full((4, 3), 2.))
