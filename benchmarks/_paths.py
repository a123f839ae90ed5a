r"""Where the benchmarks find their data and put their scratch files, with
no path of one machine: the real data is ``../shared/data`` beside the
repository (``$PYG_MMKG_SHARED/data`` when set), or a folder given on the
command line; scratch files go to a fresh temporary folder of the run.
"""
import os
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def shared_data(name: str, given: str = None) -> str:
    r"""The folder of dataset :obj:`name` in the staged real data.

    Args:
        name (str): The folder name, e.g. ``'FB15k-237'``.
        given (str, optional): A folder given on the command line (wins).
    """
    if given:
        path = given
    else:
        shared = os.environ.get('PYG_MMKG_SHARED',
                                osp.join(osp.dirname(REPO), 'shared'))
        path = osp.join(shared, 'data', name)
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
