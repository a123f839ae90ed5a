r"""Multimodal KG benchmarks as :class:`InMemoryDataset` s of one
:class:`HeteroData` each."""
from typing import Dict, List, Type

from pyg_mmkg.datasets.base import MMKGDataset
from pyg_mmkg.datasets.folder import KGFolder
from pyg_mmkg.datasets.ikrl import WN9_IMG
from pyg_mmkg.datasets.mkgformer import FB15K_237_IMG, WN18_IMG
from pyg_mmkg.datasets.mmkb import DB15K
from pyg_mmkg.datasets.mmrns import KVC16K, MKG_W, MKG_Y
from pyg_mmkg.datasets.pyg_align import IdAlignment, align_with_pyg
from pyg_mmkg.datasets.vista import FB15K237, VTKG_C, VTKG_I, WN18RR_PP
from pyg_mmkg.datasets.wikiart import (WikiArtMKG, WikiArtMKG_v1,
                                       WikiArtMKG_v2)

DATASETS: Dict[str, Type[MMKGDataset]] = {
    'VTKG-I': VTKG_I,
    'VTKG-C': VTKG_C,
    'WN18RR++': WN18RR_PP,
    'FB15K237': FB15K237,
    'WN9-IMG': WN9_IMG,
    'FB15K-237-IMG': FB15K_237_IMG,
    'WN18-IMG': WN18_IMG,
    'MKG-W': MKG_W,
    'MKG-Y': MKG_Y,
    'DB15K': DB15K,
    'KVC16K': KVC16K,
    'WikiArt-MKG-v1': WikiArtMKG_v1,
    'WikiArt-MKG-v2': WikiArtMKG_v2,
}


def _norm(name: str) -> str:
    return name.upper().replace('_', '').replace('-', '').replace('PP', '++')


def get_dataset(name: str, root: str = None, **kwargs) -> MMKGDataset:
    r"""Returns the dataset called :obj:`name` (case and ``-``/``_``
    insensitive), rooted at :obj:`root` (default:
    ``$PYG_HOME/pyg_mmkg/<name>``). A folder path loads a
    :class:`KGFolder`.

    Args:
        name (str): A registered dataset name or a raw KG folder.
        root (str, optional): The dataset root. (default: :obj:`None`)
        **kwargs (optional): Passed to the dataset class (see
            :class:`~pyg_mmkg.datasets.base.MMKGDataset`).
    """
    import os.path as osp
    table = {_norm(k): v for k, v in DATASETS.items()}
    cls = table.get(_norm(name))
    if cls is None:
        if osp.isdir(name):
            return KGFolder(name, **kwargs)
        raise ValueError(f"Unknown dataset '{name}'; known: "
                         f"{sorted(DATASETS)} (or pass a folder path)")
    if root is None:
        from torch_geometric import get_home_dir
        canonical = [k for k, v in DATASETS.items() if v is cls][0]
        root = osp.join(get_home_dir(), 'pyg_mmkg', canonical)
    return cls(root, **kwargs)


def list_datasets() -> List[dict]:
    r"""One dict per dataset: name, class, what loads offline, stats."""
    out = []
    for name, cls in DATASETS.items():
        out.append(dict(
            name=name, cls=cls.__name__, stats=dict(cls.stats),
            downloadable=bool(cls.urls),
            bundled=cls is VTKG_I,
            manual=cls.manual or '',
        ))
    return out


__all__ = [
    'MMKGDataset', 'KGFolder', 'VTKG_I', 'VTKG_C', 'WN18RR_PP', 'FB15K237',
    'WN9_IMG', 'FB15K_237_IMG', 'WN18_IMG', 'MKG_W', 'MKG_Y', 'DB15K',
    'KVC16K', 'WikiArtMKG', 'WikiArtMKG_v1', 'WikiArtMKG_v2', 'DATASETS',
    'get_dataset', 'list_datasets', 'IdAlignment', 'align_with_pyg'
]
