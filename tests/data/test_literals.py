r"""Numeric literal files (``entity <TAB> attribute <TAB> value``)."""
import pytest
import torch

from pyg_mmkg.data.io import RawFormatError
from pyg_mmkg.data.literals import read_numeric_literals
from pyg_mmkg.datasets import KGFolder

FB = '<http://rdf.freebase.com/ns/'


def write_kg(folder, literals=None, name='literals.txt'):
    folder.mkdir(exist_ok=True)
    (folder / 'train.txt').write_text('a\tr\tb\nb\tr\tc\nc\ts\ta\n')
    (folder / 'valid.txt').write_text('a\ts\tc\n')
    (folder / 'test.txt').write_text('b\ts\ta\n')
    if literals is not None:
        (folder / name).write_text(literals)
    return folder


def test_read_numeric_literals(tmp_path):
    path = tmp_path / 'lit.txt'
    path.write_text(f'a\t{FB}year>\t1990\n'
                    f'c\t{FB}year>\t"1950.5"\n'
                    f'b\t{FB}area>\t3.5\n'
                    f'b\t{FB}area>\t4.0\n'  # the last value wins
                    f'zz\t{FB}area>\t1.0\n'
                    f'a\t{FB}key/x>\t7\n')
    x, mask, attrs = read_numeric_literals(str(path), ['a', 'b', 'c'],
                                           unknown='skip',
                                           exclude=['/key/'])
    assert attrs == [f'{FB}area>', f'{FB}year>']  # sorted by name
    expected = torch.tensor([[0., 1990.], [4.0, 0.], [0., 1950.5]])
    assert torch.equal(x, expected)
    assert mask.tolist() == [[False, True], [True, False], [False, True]]
    # Attributes occurring more than `min_count` times (whole file):
    _, _, attrs = read_numeric_literals(str(path), ['a', 'b', 'c'],
                                        min_count=2, unknown='skip')
    assert attrs == [f'{FB}area>']
    with pytest.raises(RawFormatError, match=r"lit.txt, line 5: unknown "
                       r"entity 'zz'"):
        read_numeric_literals(str(path), ['a', 'b', 'c'])


@pytest.mark.parametrize('line,match', [
    ('a\tyear\tnineteen\n', "line 2: value 'nineteen' of 'year' is not "
     "numeric"),
    ('a\tyear\n', 'line 2: expected 3 tab-separated fields'),
    ('a\tyear\tnan\n', "line 2: value 'nan' is not finite"),
])
def test_bad_literal_lines(tmp_path, line, match):
    path = tmp_path / 'lit.txt'
    path.write_text('b\tyear\t1\n' + line)
    with pytest.raises(RawFormatError, match=match):
        read_numeric_literals(str(path), ['a', 'b'])


def test_kg_folder_reads_literals(tmp_path):
    folder = write_kg(tmp_path / 'kg', 'a\tyear\t1990\nc\tpop\t5e6\n')
    data = KGFolder(str(folder))[0]
    store = data['entity']
    names = list(store.name)
    assert data.numeric_predicates == ['pop', 'year']
    assert store.x_numeric[names.index('a')].tolist() == [0.0, 1990.0]
    assert store.numeric_mask.sum() == 2
    # Another file name, and errors name the file and line:
    other = write_kg(tmp_path / 'kg2', 'q\tyear\t1\n', name='mine.tsv')
    with pytest.raises(RawFormatError, match=r"mine.tsv, line 1: unknown "
                       r"entity 'q'"):
        KGFolder(str(other), literal_file='mine.tsv')
    plain = KGFolder(str(write_kg(tmp_path / 'kg3')))[0]
    assert 'x_numeric' not in plain['entity']
