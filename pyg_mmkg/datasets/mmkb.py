r"""DB15K from MMKB (Liu et al., ESWC 2019) in the MMRNS / MoMoK split."""
from __future__ import annotations

import os.path as osp

from pyg_mmkg.data.contract import ENTITY
from pyg_mmkg.data.io import read_image_index, resolve
from pyg_mmkg.datasets.base import MMKGDataset

__all__ = ['DB15K']

_NATIVE = ('https://raw.githubusercontent.com/zjukg/NATIVE/'
           'c72291c3d571b36c754897935d21718aa4568fe7/benchmarks/DB15K')
_MMKB = ('https://raw.githubusercontent.com/mniepert/mmkb/'
         'dc1c89cac110ddbb9944d6ed5ab2b3c2339d320c/DB15K')
_FILES = ('entity2id.txt', 'relation2id.txt', 'train2id.txt',
          'valid2id.txt', 'test2id.txt')
_DIGESTS = (
    '8f8d070f1bb24d07ed3050e4e4e780cb7f2245d0b14db3346e8db4fa55981728',
    '25e5a975ee079dbd5b8d22ffe23575a9e3135d263e0a3763224777bf526c1a74',
    'd41f9b9ab5c0e6eed393e0f93febb4258dc02e5e4a4e2a99c49410d167522804',
    'dc7ed39aa14e35a2f7ac09a0ff046067ee0e0d7953f8a204f04e7c09776095b1',
    '15f28535d04f3711b739a49d824f2346167384283cde57123376392d418ad6de',
)


class DB15K(MMKGDataset):
    r"""The DB15K dataset from the `"MMKG: Multi-Modal Knowledge Graphs"
    <https://arxiv.org/abs/1903.05485>`_ paper, in the split of MMRNS /
    MoMoK / NATIVE (OpenKE ids, head-tail-relation order). The MMKB image
    index (entity -> image id, ``DB15K_ImageIndex.txt``) is read into
    ``data['entity'].image_refs`` when present; the images and VGG features
    themselves are on Dropbox and must be downloaded by hand.

    .. warning::
        The validation split of this (upstream MMRNS / MoMoK / NATIVE)
        release is not held out: of its 9,904 lines (7,481 distinct), 8,719
        are training triples and 1,105 are test triples; only 80 are new.
        Validation MRR therefore rewards memorisation and partly sees test
        answers. It is kept byte-for-byte for comparability with published
        numbers; select models with care (e.g. a fixed epoch budget, or a
        validation set carved from train). Loading therefore opts in to
        split overlap by default (``allow_split_overlap=True``) and emits a
        :class:`~pyg_mmkg.data.SplitOverlapWarning` with these counts (the
        train and test splits share no triple); pass
        ``allow_split_overlap=False`` to make it an error.

    **STATS:**

    .. list-table::
        :header-rows: 1

        * - #entities
          - #relations
          - #train
          - #valid
          - #test
        * - 12,842
          - 279
          - 79,222
          - 9,904
          - 9,902
    """
    layout = 'openke'
    files = _FILES
    urls = {f: (f'{_NATIVE}/{f}', d) for f, d in zip(_FILES, _DIGESTS)}
    manual = ("The triples download from GitHub (zjukg/NATIVE). Images and "
              "VGG16 features of MMKB (https://github.com/mniepert/mmkb) "
              "are on Dropbox: encode images with pyg_mmkg.features or pass "
              "precomputed tensors with feature_files=.")
    stats = dict(num_entities=12842, num_relations=279, train=79222,
                 val=9904, test=9902)
    allow_split_overlap = True  # the official validation split overlaps

    def read_raw(self):
        data = super().read_raw()
        path = osp.join(self.raw_dir, 'DB15K_ImageIndex.txt')
        if resolve(path, required=False):
            # MMKB writes URIs in angle brackets, as entity2id.txt does.
            index = read_image_index(path, fmt='pairs')
            data[ENTITY].image_refs = [index.get(n, [])
                                       for n in data[ENTITY].name]
        return data
