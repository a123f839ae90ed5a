"""`pyg-mmkg evaluate` and `pyg-mmkg predict` resolve --dataset/--root for a
run directory with one rule (pyg_mmkg._cli_use.run_data)."""
import pytest

from pyg_mmkg import cli
from pyg_mmkg._cli_use import run_data
from pyg_mmkg.train import TrainConfig


def test_neither_flag_leaves_the_recorded_data_to_load_run(tmp_path):
    assert run_data(str(tmp_path), None, None) is None


def test_not_a_run_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match='not a run directory'):
        run_data(str(tmp_path), 'VTKG-I', None)


@pytest.mark.parametrize('command', ['evaluate', 'predict'])
def test_python_data_run_asks_for_dataset(tmp_path, command, capsys):
    # A run trained on data given in Python records no dataset: --root
    # alone cannot name the data, and both commands say so.
    TrainConfig().save(tmp_path / 'config.json')
    argv = [command, str(tmp_path), '--root', str(tmp_path / 'data')]
    if command == 'predict':
        argv += ['--head', 'a', '--relation', 'r']
    assert cli.main(argv) != 0
    assert 'pass --dataset' in capsys.readouterr().err
