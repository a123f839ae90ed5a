r"""A first line made of column-name words is a triple, not a header, when
the entity and relation lists name its fields."""
from pyg_mmkg.data.raw import read_kg_folder


def _write(folder, name, text):
    (folder / name).write_text(text)


def test_known_names_first_triple_is_kept(tmp_path):
    _write(tmp_path, 'entities.txt', 'head\ntail\nbody\narm\n')
    _write(tmp_path, 'relations.txt', 'relation\npart_of\n')
    _write(tmp_path, 'train.tsv', 'head\trelation\ttail\n'
           'arm\tpart_of\tbody\nhead\tpart_of\tbody\n')
    _write(tmp_path, 'valid.tsv', 'arm\trelation\thead\n')
    _write(tmp_path, 'test.tsv', 'tail\tpart_of\tbody\n')
    data = read_kg_folder(str(tmp_path))
    store = data['entity', 'to', 'entity']
    assert int(store.train_mask.sum()) == 3
    assert data.source_files['header_skipped'] == []
    ent = list(data['entity'].name)
    rel = list(data['relation'].name)
    h, t = store.edge_index[:, store.train_mask].tolist()
    r = store.edge_type[store.train_mask].tolist()
    triples = {(ent[a], rel[b], ent[c]) for a, b, c in zip(h, r, t)}
    assert ('head', 'relation', 'tail') in triples


def test_real_header_still_skipped_with_lists(tmp_path):
    _write(tmp_path, 'entities.txt', 'body\narm\n')
    _write(tmp_path, 'relations.txt', 'part_of\n')
    _write(tmp_path, 'train.tsv', 'head\trelation\ttail\n'
           'arm\tpart_of\tbody\n')
    _write(tmp_path, 'test.tsv', 'arm\tpart_of\tbody\n')
    data = read_kg_folder(str(tmp_path), allow_split_overlap=True)
    assert data.source_files['header_skipped'] == ['train.tsv']
    store = data['entity', 'to', 'entity']
    assert int(store.train_mask.sum()) == 1
