"""Benchmarks run from a fresh clone with one command (issue 16): no script
names a folder of the machine it was written on (the DATA constant of
benchmarks/speed/bench_speed.py was '/work/shared/data/FB15k-237'), none
reads a file another script must have written to a fixed temporary path
(bench_speed.py's '/tmp/speed_bench_fb15k237.pt', read by four others)."""
import pathlib
import re

BENCH = pathlib.Path(__file__).resolve().parents[1] / 'benchmarks'


def _scripts():
    return [p for p in sorted(BENCH.rglob('*')) if p.suffix in ('.py', '.sh')
            and 'logs' not in p.parts]


def test_no_machine_paths_in_benchmark_scripts():
    bad = []
    for path in _scripts():
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"""['"=]/(work|home|root)/""", line):
                bad.append(f'{path.relative_to(BENCH)}:{i}: {line.strip()}')
    assert not bad, '\n'.join(bad)


def test_speed_scripts_prepare_their_own_triples():
    for path in (BENCH / 'speed').glob('*.py'):
        text = path.read_text()
        assert 'TRIPLES_PT' not in text, path.name
        assert not re.search(r"""['"]/tmp/[^'"]*\.pt['"]""", text), path.name


def test_data_found_beside_the_repository(tmp_path, monkeypatch):
    import sys
    sys.path.insert(0, str(BENCH))
    try:
        import _paths
    finally:
        sys.path.remove(str(BENCH))
    (tmp_path / 'data' / 'FB15k-237').mkdir(parents=True)
    monkeypatch.setenv('PYG_MMKG_SHARED', str(tmp_path))
    assert _paths.shared_data('FB15k-237') == str(tmp_path / 'data' /
                                                  'FB15k-237')
    assert _paths.shared_data('FB15k-237', str(tmp_path)) == str(tmp_path)
    import pytest
    with pytest.raises(SystemExit, match='--data'):
        _paths.shared_data('WN18RR')


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_shared_found_beside_the_main_checkout_of_a_worktree(tmp_path,
                                                             monkeypatch):
    # Layout of `git worktree add`: <wt>/.git is a file naming
    # <main>/.git/worktrees/<name>, whose `commondir` points back to
    # <main>/.git. The data sits at <main>/../shared, not <wt>/../shared.
    import sys
    sys.path.insert(0, str(BENCH))
    try:
        import _paths
    finally:
        sys.path.remove(str(BENCH))
    monkeypatch.delenv('PYG_MMKG_SHARED', raising=False)
    main = tmp_path / 'repos' / 'main'
    (main / '.git' / 'worktrees' / 'wt1').mkdir(parents=True)
    _write(main / '.git' / 'worktrees' / 'wt1' / 'commondir', '../..\n')
    (tmp_path / 'repos' / 'shared' / 'data').mkdir(parents=True)
    wt = tmp_path / 'wts' / 'wt1'
    _write(wt / '.git',
           f"gitdir: {main / '.git' / 'worktrees' / 'wt1'}\n")
    assert _paths.main_checkout(str(wt)) == str(main)
    assert _paths.main_checkout(str(main)) == str(main)
    assert _paths.shared_root(str(wt)) == str(tmp_path / 'repos' / 'shared')
    # A ../shared beside the worktree itself still wins.
    (tmp_path / 'wts' / 'shared').mkdir()
    assert _paths.shared_root(str(wt)) == str(tmp_path / 'wts' / 'shared')
    # The methods scripts' default goes through the same lookup.
    text = (BENCH / 'methods' / 'mkg_structure.py').read_text()
    assert "SHARED = osp.join(shared_root(), 'data')" in text
