r"""Every reader names the file and line of bad input; caches stay whole."""
import gzip
import os
import os.path as osp

import pytest
import torch

from pyg_mmkg.data import RawFormatError, read_kg_folder
from pyg_mmkg.data.io import atomic_save, read_id_map, read_triples
from pyg_mmkg.datasets import KGFolder, MKG_W


def write(folder, name, text):
    path = osp.join(folder, name)
    with open(path, 'w', newline='') as f:
        f.write(text)
    return path


def vista_folder(tmp_path, train='a\tr\tb\nb\tr\tc\n'):
    d = str(tmp_path)
    write(d, 'entities.txt', 'a\nb\nc\n')
    write(d, 'relations.txt', 'r\n')
    write(d, 'train.txt', train)
    write(d, 'valid.txt', 'a\tr\tc\n')
    write(d, 'test.txt', 'c\tr\ta\n')
    return d


def test_wrong_number_of_columns(tmp_path):
    d = vista_folder(tmp_path, train='a\tr\tb\nb\tr\n')
    with pytest.raises(RawFormatError) as e:
        read_kg_folder(d)
    assert f"{osp.join(d, 'train.txt')}, line 2" in str(e.value)
    assert 'expected 3 columns (hrt), found 2' in str(e.value)


def test_unknown_entity_and_relation(tmp_path):
    d = vista_folder(tmp_path, train='a\tr\tb\nb\tr\tzzz\n')
    with pytest.raises(RawFormatError, match=r"line 2: unknown entity 'zzz'"):
        read_kg_folder(d)
    d2 = tmp_path / 'two'
    d2.mkdir()
    vista_folder(d2, train='a\tq\tb\n')
    with pytest.raises(RawFormatError, match=r"line 1: unknown relation 'q'"):
        read_kg_folder(str(d2))


def test_openke_bad_ids_and_count_header(tmp_path):
    d = str(tmp_path)
    write(d, 'entity2id.txt', '2\nx 0\ny 1\n')
    write(d, 'relation2id.txt', '1\nr 0\n')
    write(d, 'train2id.txt', '2\n0 1 0\n0 5 0\n')
    write(d, 'valid2id.txt', '0\n')
    write(d, 'test2id.txt', '0\n')
    with pytest.raises(RawFormatError, match=r'train2id.txt, line 3: entity '
                       r'id out of range'):
        read_kg_folder(d)
    write(d, 'train2id.txt', '3\n0 1 0\n')
    with pytest.raises(RawFormatError, match='header says 3 triples'):
        read_kg_folder(d)
    write(d, 'entity2id.txt', '2\nx 0\ny 0\n')
    with pytest.raises(RawFormatError, match=r'line 3: id 0 assigned twice'):
        read_id_map(osp.join(d, 'entity2id.txt'))


def test_crlf_and_trailing_dot(tmp_path):
    d = str(tmp_path)
    write(d, 'entity2id.txt', 'A.B. 0\r\nc 1\r\n')
    write(d, 'relation2id.txt', 'r 0\r\n')
    write(d, 'train.txt', 'A.B. r c .\r\nc r A.B. .\r\n')
    write(d, 'valid.txt', 'c r c .\n')
    write(d, 'test.txt', 'A.B. r A.B. .\n')
    data = read_kg_folder(d)
    assert data.layout == 'mmrns'
    assert data['entity'].name == ['A.B.', 'c']
    ei = data['entity', 'to', 'entity'].edge_index
    assert ei[:, :2].tolist() == [[0, 1], [1, 0]]
    rows, _ = read_triples(osp.join(d, 'train.txt'), sep=None,
                           strip_dot=True)
    assert rows[0] == ('A.B.', 'r', 'c')


def test_missing_required_file(tmp_path):
    d = vista_folder(tmp_path)
    os.remove(osp.join(d, 'relations.txt'))
    os.remove(osp.join(d, 'entities.txt'))
    with pytest.raises(FileNotFoundError, match='train.txt|entities.txt'):
        read_kg_folder(d, layout='vista')


def test_manual_download_message(tmp_path):
    from pyg_mmkg.datasets import VTKG_C
    with pytest.raises(RuntimeError) as e:
        VTKG_C(str(tmp_path))
    msg = str(e.value)
    assert msg.startswith('Dataset not found.')
    assert "'entities.txt'" in msg and str(tmp_path / 'raw') in msg
    assert 'drive.google.com' in msg and 'bdi-lab/VISTA' in msg


def test_download_error_names_url_and_target(tmp_path, monkeypatch):
    import torch_geometric.data

    def offline(url, folder, *args, **kwargs):
        raise OSError('network unreachable')
    monkeypatch.setattr(torch_geometric.data, 'download_url', offline)
    with pytest.raises(RuntimeError) as e:
        MKG_W(str(tmp_path))
    msg = str(e.value)
    assert 'raw.githubusercontent.com/zjukg/MoMoK' in msg
    assert str(tmp_path / 'raw' / 'entity2id.txt') in msg


def test_checksum_mismatch_removes_file(tmp_path, monkeypatch):
    import torch_geometric.data

    def fake(url, folder, log=True, filename=None):
        os.makedirs(folder, exist_ok=True)
        path = osp.join(folder, filename)
        with open(path, 'w') as f:
            f.write('tampered\n')
        return path
    monkeypatch.setattr(torch_geometric.data, 'download_url', fake)
    with pytest.raises(RuntimeError, match='Checksum mismatch'):
        MKG_W(str(tmp_path))
    assert not osp.exists(tmp_path / 'raw' / 'entity2id.txt')


def test_download_with_correct_checksums(tmp_path, monkeypatch,
                                         shared_data):
    r"""The real download path, served from the real files."""
    import shutil

    import torch_geometric.data
    served = []

    def fake(url, folder, log=True, filename=None):
        src = osp.join(shared_data, 'MKG-Y', url.rsplit('/', 1)[1])
        os.makedirs(folder, exist_ok=True)
        shutil.copy(src, osp.join(folder, filename))
        served.append(url)
        return osp.join(folder, filename)
    monkeypatch.setattr(torch_geometric.data, 'download_url', fake)
    from pyg_mmkg.datasets import MKG_Y
    data = MKG_Y(str(tmp_path))[0]
    assert len(served) == 5 and data['entity'].num_nodes == 15000


def test_corrupt_gzip(tmp_path):
    d = vista_folder(tmp_path)
    os.remove(osp.join(d, 'train.txt'))
    with open(osp.join(d, 'train.txt.gz'), 'wb') as f:
        f.write(gzip.compress(b'a\tr\tb\n')[:-9])
    with pytest.raises(RawFormatError, match='train.txt.gz: cannot read'):
        read_kg_folder(d)


def test_interrupted_processing_leaves_no_cache(tmp_path, monkeypatch):
    d = vista_folder(tmp_path)
    from torch_geometric.data import InMemoryDataset

    def crash(data_list, path):
        with open(path, 'wb') as f:
            f.write(b'half')
        raise KeyboardInterrupt
    monkeypatch.setattr(InMemoryDataset, 'save', staticmethod(crash))
    with pytest.raises(KeyboardInterrupt):
        KGFolder(d)
    monkeypatch.undo()
    processed = osp.join(d, 'processed')
    assert not osp.exists(processed)  # nothing half-written, no empty dir
    data = KGFolder(d)[0]  # a clean re-run processes again
    assert data['entity'].num_nodes == 3


def test_concurrent_processing_of_one_root(tmp_path, monkeypatch):
    # Another process processes the same root while this one is saving
    # (parallel runs on a fresh root): neither may move the other's file.
    d = vista_folder(tmp_path)
    from torch_geometric.data import InMemoryDataset
    save = InMemoryDataset.save
    calls = []

    def save_with_a_rival(data_list, path):
        calls.append(path)
        if len(calls) == 1:
            KGFolder(d)  # the rival runs to completion in between
        save(data_list, path)
    monkeypatch.setattr(InMemoryDataset, 'save',
                        staticmethod(save_with_a_rival))
    data = KGFolder(d)[0]
    assert len(calls) == 2 and calls[0] != calls[1]
    assert data['entity'].num_nodes == 3
    processed = osp.join(d, 'processed')
    assert [f for f in os.listdir(processed) if 'data__' in f] == [
        osp.basename(KGFolder(d).processed_paths[0])]


def test_atomic_save_keeps_previous_file(tmp_path):
    path = str(tmp_path / 'x.pt')
    atomic_save({'a': 1}, path)

    class Boom:
        def __reduce__(self):
            raise RuntimeError('boom')
    with pytest.raises(RuntimeError):
        atomic_save({'b': Boom()}, path)
    assert torch.load(path) == {'a': 1}
    assert os.listdir(tmp_path) == ['x.pt']
