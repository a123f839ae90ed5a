r"""WN9-IMG from IKRL (Xie et al., IJCAI 2017)."""
from __future__ import annotations

import os
import os.path as osp
import shutil
import subprocess

from pyg_mmkg.data.contract import ENTITY
from pyg_mmkg.data.align import align_keys
from pyg_mmkg.data.io import (RawFormatError, read_image_index,
                              read_text_map, resolve)
from pyg_mmkg.data.raw import read_kg_folder
from pyg_mmkg.datasets.base import DatasetNotFoundError, MMKGDataset

__all__ = ['WN9_IMG']

_IKRL_RAR = ('https://github.com/thunlp/IKRL/raw/'
             '39d4cc109234fb28788fbd8bc2732494c5631972/data.rar')
_GLOSSES = ('https://raw.githubusercontent.com/yao8839836/kg-bert/'
            '0b8f625108efcb9b43603b6840f2548ff3d3c973/data/WN18/'
            'entity2text.txt')


class WN9_IMG(MMKGDataset):
    r"""The WN9-IMG dataset from the `"Image-embodied Knowledge
    Representation Learning" <https://www.ijcai.org/proceedings/2017/438>`_
    paper: a WordNet subset whose entities have ImageNet images (10 for
    most). Triples are stored head, tail, relation with CRLF endings.

    ``data['entity'].image_refs`` lists each entity's ImageNet image ids
    (from ``image_list.txt``); the photos themselves must come from
    ImageNet (licence). Entity glosses (``entity2text.txt`` of kg-bert's
    WordNet files, keyed by offset) become ``data['entity'].text`` when
    present.

    **STATS:**

    .. list-table::
        :header-rows: 1

        * - #entities
          - #relations
          - #train
          - #valid
          - #test
          - #images
        * - 6,555
          - 9
          - 11,741
          - 1,337
          - 1,319
          - 63,225
    """
    layout = 'wn9'
    files = ('entity2id.txt', 'relation2id.txt', 'train.txt', 'valid.txt',
             'test.txt')
    manual = (f"Download data.rar from {_IKRL_RAR} (thunlp/IKRL, MIT), "
              f"extract it (unar/unrar) and move its files into the raw "
              f"folder. Images come from ImageNet (image ids in "
              f"image_list.txt).")
    stats = dict(num_entities=6555, num_relations=9, train=11741, val=1337,
                 test=1319)
    default_max_images = 10

    def download(self) -> None:
        from torch_geometric.data import download_url
        os.makedirs(self.raw_dir, exist_ok=True)
        tool = shutil.which('unar') or shutil.which('unrar') or \
            shutil.which('bsdtar')
        missing = [f for f, p in zip(self.raw_file_names, self.raw_paths)
                   if not osp.exists(p)]
        where = (f"Missing in '{self.raw_dir}': "
                 f"{', '.join(repr(f) for f in missing)}.")
        if tool is None:
            raise DatasetNotFoundError(
                f'Dataset not found. {where} No RAR extractor (unar, unrar '
                f'or bsdtar) is installed to unpack data.rar. '
                f'{self.manual}')
        try:
            rar = download_url(_IKRL_RAR, self.raw_dir)
            download_url(_GLOSSES, self.raw_dir)
        except Exception as e:
            raise DatasetNotFoundError(
                f'Dataset not found. {where} Could not download '
                f'{_IKRL_RAR} ({e}). {self.manual}') from e
        name = osp.basename(tool)
        cmd = {'unar': [tool, '-f', '-D', '-o', self.raw_dir, rar],
               'unrar': [tool, 'e', '-o+', rar, self.raw_dir],
               'bsdtar': [tool, '-xf', rar, '-C', self.raw_dir]}[name]
        subprocess.run(cmd, check=True, capture_output=True)
        for root, _, files in os.walk(self.raw_dir):
            for f in files:
                if root != self.raw_dir and f.endswith('.txt'):
                    os.replace(osp.join(root, f), osp.join(self.raw_dir, f))
        os.remove(rar)

    def read_raw(self):
        # Glosses are keyed by offset without the 'n' of the entity names,
        # so the generic text reader (exact names) is not used for them.
        data = read_kg_folder(self.raw_dir, self.layout,
                              text_files={'entity': [], 'relation': []},
                              allow_split_overlap=self.allow_split_overlap)
        names = data[ENTITY].name
        gloss = osp.join(self.raw_dir, 'entity2text.txt')
        if resolve(gloss, required=False):
            text = read_text_map(gloss)
            real = resolve(gloss)
            align_keys(['n' + k for k in text], names, 'entity', real,
                       error=lambda msg: RawFormatError(real, None, msg))
            data[ENTITY].text = [text.get(n[1:], '') for n in names]
        images = osp.join(self.raw_dir, 'image_list.txt')
        if resolve(images, required=False):
            index = read_image_index(images, names=names, fmt='prefixed')
            data[ENTITY].image_refs = [index.get(n, []) for n in names]
        return data
