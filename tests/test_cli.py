import json

import pytest
import torch

from pyg_mmkg.cli import main

NUM_NODES = 30


def write_kg_folder(folder, num_nodes=NUM_NODES, seed=0):
    r"""A tiny learnable KG as a raw TSV folder: `likes` maps e to e+1,
    `liked_by` is its inverse, `adores` a copy of `likes`."""
    g = torch.Generator().manual_seed(seed)
    lines = []
    for e in range(num_nodes):
        nxt = (e + 1) % num_nodes
        lines += [f'e{e}\tlikes\te{nxt}', f'e{nxt}\tliked_by\te{e}',
                  f'e{e}\tadores\te{nxt}']
    perm = torch.randperm(len(lines), generator=g).tolist()
    lines = [lines[i] for i in perm]
    a, b = int(0.8 * len(lines)), int(0.9 * len(lines))
    folder.mkdir(parents=True, exist_ok=True)
    for name, part in [('train.txt', lines[:a]), ('valid.txt', lines[a:b]),
                       ('test.txt', lines[b:])]:
        (folder / name).write_text('\n'.join(part) + '\n')
    return folder


@pytest.fixture(autouse=True)
def one_thread():
    # Tiny graphs train fastest single-threaded, above all on a busy machine.
    num_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(num_threads)


@pytest.fixture
def kg_dir(tmp_path):
    return write_kg_folder(tmp_path / 'toy')


TRAIN = ['--model', 'complex', '--regime', '1vsall', '--dim', '8',
         '--epochs', '6', '--eval-every', '3', '--lr', '0.1',
         '--no-progress']


def test_train_and_evaluate(kg_dir, tmp_path, capsys):
    run_dir = tmp_path / 'run'
    assert main(['train', '--dataset', str(kg_dir), '--run-dir',
                 str(run_dir), *TRAIN]) == 0
    out = capsys.readouterr().out
    results = json.loads((run_dir / 'results.json').read_text())
    assert 'run directory: ' + str(run_dir) in out
    test_line = [line for line in out.splitlines()
                 if line.startswith('test ')][0]
    assert f"{results['test']['mrr']:.4f}" in test_line
    config = json.loads((run_dir / 'config.json').read_text())
    assert (config['model'], config['dim'], config['epochs']) == ('complex',
                                                                  8, 6)

    assert main(['evaluate', str(run_dir), '--json']) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated['both']['mrr'] == pytest.approx(results['test']['mrr'])

    assert main(['evaluate', str(run_dir), '--split', 'val']) == 0
    out = capsys.readouterr().out
    assert out.startswith('val split of')
    assert f"{results['val']['mrr']:.4f}" in out


def test_config_file_and_cli_overrides(kg_dir, tmp_path, capsys):
    cfg = tmp_path / 'cfg.json'
    cfg.write_text(json.dumps({'dataset': str(kg_dir), 'model': 'distmult',
                               'dim': 4, 'epochs': 2, 'progress': False,
                               'regime': 'kvsall'}))
    run_dir = tmp_path / 'run'
    assert main(['train', '--config', str(cfg), '--epochs', '1',
                 '--run-dir', str(run_dir)]) == 0
    config = json.loads((run_dir / 'config.json').read_text())
    assert config['model'] == 'distmult' and config['epochs'] == 1
    assert config['regime'] == 'kvsall'

    # Resuming with more epochs continues the same run directory:
    assert main(['train', '--resume', '--run-dir', str(run_dir),
                 '--epochs', '2']) == 0
    results = json.loads((run_dir / 'results.json').read_text())
    assert results['epochs_trained'] == 2

    # Training into an existing run without --resume is refused:
    assert main(['train', '--config', str(cfg), '--run-dir',
                 str(run_dir)]) == 1
    assert 'already holds a run' in capsys.readouterr().err


def test_modalities_and_errors(kg_dir, tmp_path, capsys):
    assert main(['train', '--model', 'transe']) == 1
    assert '--dataset is required' in capsys.readouterr().err
    assert main(['train', '--resume']) == 1
    assert '--resume needs --run-dir' in capsys.readouterr().err
    assert main(['train', '--dataset', str(kg_dir), '--model', 'nope',
                 '--run-dir', str(tmp_path / 'r'), '--no-progress']) == 1
    assert "Unknown model 'nope'" in capsys.readouterr().err
    assert main(['train', '--dataset', str(kg_dir), '--regime', 'x']) == 1
    assert "Unknown regime 'x'" in capsys.readouterr().err
    assert main(['train', '--dataset', str(kg_dir), '--modalities',
                 'structure,smell', '--run-dir', str(tmp_path / 's'),
                 '--no-progress']) == 1
    assert "Unknown modalities ['smell']" in capsys.readouterr().err
    assert main(['evaluate', str(tmp_path)]) == 1
    assert 'not a run directory' in capsys.readouterr().err


def test_info(kg_dir, capsys):
    assert main(['info', str(kg_dir)]) == 0
    out = capsys.readouterr().out
    assert f'entities:  {NUM_NODES}' in out
    assert 'relations: 3' in out
    assert 'train:     72 triples' in out and 'test:      9 triples' in out
    assert 'structure only' in out


def test_datasets_and_models(capsys):
    assert main(['datasets']) == 0
    lines = capsys.readouterr().out.splitlines()
    vtkg = [line for line in lines if line.startswith('VTKG-I ')][0]
    assert vtkg.split()[1] == 'yes'
    assert main(['datasets', '--json']) == 0
    names = [d['name'] for d in json.loads(capsys.readouterr().out)]
    assert 'VTKG-I' in names
    assert main(['models']) == 0
    assert {'transe', 'rotate', 'tucker'} <= set(
        capsys.readouterr().out.split())


def test_features_subcommand_is_wired(capsys):
    pytest.importorskip('pyg_mmkg.features.cli')
    with pytest.raises(SystemExit) as info:
        main(['features', '--help'])
    assert info.value.code == 0
    assert '--text-encoder' in capsys.readouterr().out
