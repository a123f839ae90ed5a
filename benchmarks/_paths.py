r"""Where the benchmarks find their data and put their scratch files, with
no path of one machine: the real data is ``../shared/data`` beside the
repository (``$PYG_MMKG_SHARED/data`` when set), or a folder given on the
command line; scratch files go to a fresh temporary folder of the run.
"""
import os
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def main_checkout(repo: str = REPO) -> str:
    r"""The root of the main checkout of :obj:`repo`: :obj:`repo` itself,
    or, when :obj:`repo` is a linked ``git worktree`` (its ``.git`` is a
    file ``gitdir: <main>/.git/worktrees/<name>``), the checkout that owns
    the worktree.

    Args:
        repo (str, optional): A repository root. (default: this repository)
    """
    dot_git = osp.join(repo, '.git')
    if not osp.isfile(dot_git):
        return repo
    with open(dot_git) as f:
        line = f.read().strip()
    if not line.startswith('gitdir:'):
        return repo
    gitdir = osp.join(repo, line[len('gitdir:'):].strip())
    common = osp.join(gitdir, 'commondir')
    if not osp.isfile(common):
        return repo
    with open(common) as f:
        common_dir = osp.normpath(osp.join(gitdir, f.read().strip()))
    return osp.dirname(common_dir)


def shared_root(repo: str = REPO) -> str:
    r"""The ``shared`` folder beside the repository: ``$PYG_MMKG_SHARED``
    when set, else ``../shared`` beside :obj:`repo`, else (a linked git
    worktree with no ``../shared`` of its own) ``../shared`` beside the
    main checkout.

    Args:
        repo (str, optional): A repository root. (default: this repository)
    """
    if os.environ.get('PYG_MMKG_SHARED'):
        return os.environ['PYG_MMKG_SHARED']
    beside = osp.join(osp.dirname(repo), 'shared')
    if osp.isdir(beside):
        return beside
    main = osp.join(osp.dirname(main_checkout(repo)), 'shared')
    return main if osp.isdir(main) else beside


def shared_data(name: str, given: str = None) -> str:
    r"""The folder of dataset :obj:`name` in the staged real data.

    Args:
        name (str): The folder name, e.g. ``'FB15k-237'``.
        given (str, optional): A folder given on the command line (wins).
    """
    if given:
        path = given
    else:
        path = osp.join(shared_root(), 'data', name)
    if not osp.isdir(path):
        raise SystemExit(
            f"error: data folder '{path}' not found. Put the staged data at "
            f"../shared/data beside the repository (or set PYG_MMKG_SHARED),"
            f" or pass the {name} folder with --data.")
    return path


def cache_dir(name: str) -> str:
    r"""A per-user cache folder for tools a benchmark installs once (e.g.
    PyKEEN's virtual environment), outside the repository.

    Args:
        name (str): The sub-folder.
    """
    base = os.environ.get('XDG_CACHE_HOME',
                          osp.join(osp.expanduser('~'), '.cache'))
    return osp.join(base, 'pyg_mmkg', 'benchmarks', name)
