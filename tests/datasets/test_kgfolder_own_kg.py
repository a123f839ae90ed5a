"""Seam 4 of issue 16: a user's own KG folder. On the code before the fix,
train.tsv/valid.tsv/test.tsv were not detected (the error did not name the
expected files), a header line became a triple, a description file under
another name was ignored silently, and a failed load left processed/."""
import os

import pytest
import torch

from pyg_mmkg.datasets import KGFolder
from pyg_mmkg.datasets.folder import UnusedFilesWarning

ROWS = [('Lisbon', 'capital_of', 'Portugal'),
        ('Madrid', 'capital_of', 'Spain'),
        ('Porto', 'city_in', 'Portugal'),
        ('Seville', 'city_in', 'Spain'),
        ('Portugal', 'borders', 'Spain'),
        ('Barcelona', 'city_in', 'Spain')]


def _write(path, rows, sep='\t', header=None):
    lines = ([sep.join(header)] if header else []) + [sep.join(r)
                                                      for r in rows]
    path.write_text('\n'.join(lines) + '\n')


def _triples(data, split):
    """(head, relation, tail) names of a split, independently of ids."""
    store = data['entity', 'to', 'entity']
    m = store[f'{split}_mask']
    h, t = store.edge_index[:, m]
    r = store.edge_type[m]
    ent, rel = data['entity'].name, data['relation'].name
    return sorted((ent[a], rel[b], ent[c])
                  for a, b, c in zip(h.tolist(), r.tolist(), t.tolist()))


def test_tsv_files_with_a_header_and_a_named_description_file(tmp_path):
    d = tmp_path / 'kg'
    d.mkdir()
    header = ('head', 'relation', 'tail')
    _write(d / 'train.tsv', ROWS[:4], header=header)
    _write(d / 'valid.tsv', ROWS[4:5], header=header)
    _write(d / 'test.tsv', ROWS[5:], header=header)
    (d / 'descriptions.txt').write_text('Lisbon\tcapital of Portugal\n')
    with pytest.warns(UnusedFilesWarning, match='descriptions.txt'):
        ds = KGFolder(str(d))
    data = ds[0]
    assert _triples(data, 'train') == sorted(ROWS[:4])  # no 'head' entity
    assert _triples(data, 'val') == sorted(ROWS[4:5])
    assert 'head' not in data['entity'].name
    assert 'not read: descriptions.txt' in ds.summary()
    assert 'train train.tsv (header skipped)' in ds.summary()

    ds = KGFolder(str(d), text_files='descriptions.txt')
    data = ds[0]
    i = data['entity'].name.index('Lisbon')
    assert data['entity'].text[i] == 'capital of Portugal'
    assert data.source_files['entity_text'] == ['descriptions.txt']
    assert data.source_files['unused'] == []


def test_file_names_and_column_order_as_arguments(tmp_path):
    d = tmp_path / 'kg'
    d.mkdir()
    htr = [(h, t, r) for h, r, t in ROWS]
    _write(d / 'kg_train.csv', htr[:4], sep=',')
    _write(d / 'kg_dev.csv', htr[4:5], sep=',')
    _write(d / 'kg_test.csv', htr[5:], sep=',')
    with pytest.raises(ValueError, match='train.tsv') as e:
        KGFolder(str(d))
    assert 'kg_train.csv' in str(e.value)  # lists what it found
    ds = KGFolder(str(d), files={'train': 'kg_train.csv',
                                 'valid': 'kg_dev.csv',
                                 'test': 'kg_test.csv'},
                  columns=('head', 'tail', 'relation'))
    assert _triples(ds[0], 'train') == sorted(ROWS[:4])
    assert _triples(ds[0], 'test') == sorted(ROWS[5:])
    # A header naming the columns sets the order by itself:
    _write(d / 'kg_train.csv', htr[:4], sep=',',
           header=('subject', 'object', 'predicate'))
    ds = KGFolder(str(d), files={'train': 'kg_train.csv',
                                 'val': 'kg_dev.csv', 'test': 'kg_test.csv'},
                  columns=None, header='auto', force_reload=True)
    assert _triples(ds[0], 'train') == sorted(ROWS[:4])


def test_header_argument(tmp_path):
    d = tmp_path / 'kg'
    d.mkdir()
    _write(d / 'train.txt', [('x', 'y', 'z')] + ROWS[:4])
    ds = KGFolder(str(d), header=True)
    assert _triples(ds[0], 'train') == sorted(ROWS[:4])
    ds = KGFolder(str(d), header=False)
    assert ('x', 'y', 'z') in _triples(ds[0], 'train')


def test_header_detected_against_entity_lists(tmp_path):
    d = tmp_path / 'kg'
    d.mkdir()
    ents = sorted({x for h, _, t in ROWS for x in (h, t)})
    (d / 'entities.txt').write_text('\n'.join(ents) + '\n')
    (d / 'relations.txt').write_text('capital_of\ncity_in\nborders\n')
    _write(d / 'train.txt', ROWS[:4], header=('from', 'edge_label', 'to'))
    data = KGFolder(str(d))[0]
    assert _triples(data, 'train') == sorted(ROWS[:4])
    assert data.source_files['header_skipped'] == ['train.txt']


def test_failed_load_leaves_no_processed_folder(tmp_path):
    d = tmp_path / 'kg'
    d.mkdir()
    (d / 'train.tsv').write_text('a\tr\tb\nbroken line\n')
    with pytest.raises(ValueError, match=r'train.tsv, line 2'):
        KGFolder(str(d))
    assert not os.path.exists(d / 'processed')
    assert sorted(os.listdir(d)) == ['train.tsv']
    # Named files that do not exist are named in the error:
    with pytest.raises(FileNotFoundError, match='nope.tsv'):
        KGFolder(str(d), files={'train': 'nope.tsv'})
    with pytest.raises(FileNotFoundError, match='desc.txt'):
        (d / 'train.tsv').write_text('a\tr\tb\n')
        KGFolder(str(d), text_files='desc.txt')
    assert not os.path.exists(d / 'processed')
    assert torch.is_tensor(KGFolder(str(d))[0]['entity', 'to',
                                                 'entity'].edge_index)


def test_info_says_which_files_were_read(tmp_path, capsys):
    from pyg_mmkg.cli import main
    d = tmp_path / 'kg'
    d.mkdir()
    _write(d / 'train.tsv', ROWS[:4], header=('head', 'relation', 'tail'))
    _write(d / 'test.tsv', ROWS[5:])
    (d / 'notes.txt').write_text('Lisbon\tcapital\n')
    with pytest.warns(UnusedFilesWarning):
        assert main(['info', str(d)]) == 0
    out = capsys.readouterr().out
    assert ('files:     layout tsv; train train.tsv (header skipped), test '
            'test.tsv (no val file); not read: notes.txt') in out


def test_a_bad_first_triple_is_not_taken_for_a_header(tmp_path):
    d = tmp_path / 'kg'
    d.mkdir()
    ents = sorted({x for h, _, t in ROWS for x in (h, t)})
    (d / 'entities.txt').write_text('\n'.join(ents) + '\n')
    (d / 'relations.txt').write_text('capital_of\ncity_in\nborders\n')
    _write(d / 'train.txt', [('Lisbn', 'capital_of', 'Portugal')] + ROWS[1:4])
    with pytest.raises(ValueError, match="train.txt, line 1: unknown "
                       "entity 'Lisbn'"):
        KGFolder(str(d))
