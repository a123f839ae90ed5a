r"""FB15K-237-IMG and WN18-IMG as used by MKGformer (Chen et al., SIGIR
2022), RSME and MoSE: the standard graphs plus entity images."""
from __future__ import annotations

from pyg_mmkg.datasets.base import MMKGDataset

__all__ = ['FB15K_237_IMG', 'WN18_IMG']

_VILLMOW = ('https://raw.githubusercontent.com/villmow/'
            'datasets_knowledge_embedding/'
            '9e392453d6804d1f51c13e5650ae58ed48b638d5')
_KGBERT = ('https://raw.githubusercontent.com/yao8839836/kg-bert/'
           '0b8f625108efcb9b43603b6840f2548ff3d3c973/data')
_IMAGES = ("Entity images are on the Google Drive linked from "
           "https://github.com/zjunlp/MKGformer (MKGformer's "
           "'{0}' images): unpack them and pass image_paths= "
           "(entity name -> list of files) with an image_encoder from "
           "pyg_mmkg.features, or pass precomputed tensors with "
           "feature_files=.")


class FB15K_237_IMG(MMKGDataset):
    r"""FB15K-237-IMG (FB15k-237 of Toutanova and Chen, 2015, with the entity
    images of the `"Hybrid Transformer with Multi-level Fusion for
    Multimodal Knowledge Graph Completion" <https://arxiv.org/abs/
    2205.02357>`_ paper). Triples, entity names and relation texts download
    from GitHub; images must be downloaded by hand.

    **STATS:**

    .. list-table::
        :header-rows: 1

        * - #entities
          - #relations
          - #train
          - #valid
          - #test
        * - 14,541
          - 237
          - 272,115
          - 17,535
          - 20,466
    """
    layout = 'tsv'
    files = ('entities.txt', 'relations.txt', 'train.txt', 'valid.txt',
             'test.txt')
    urls = {
        'train.txt': (f'{_VILLMOW}/FB15k-237/train.txt',
                      '61099230e4439f90885ca9767739e31e8e32f54736fa1c35952b'
                      '27997bc7c08a'),
        'valid.txt': (f'{_VILLMOW}/FB15k-237/valid.txt',
                      '749cbe9d923bac7b9354da5614ecfed2e0220256d442c3e04a6b'
                      '303db1f273d9'),
        'test.txt': (f'{_VILLMOW}/FB15k-237/test.txt',
                     'e2e35e8e6113de220140b6f44dc71a5207b0fc6872d575e874ae'
                     'fe13259b655b'),
        'entities.txt': (f'{_KGBERT}/FB15k-237/entities.txt',
                         '7341cc8e03b3b0293d2a3cf7b355513e76a70558a804ad8572'
                         'bb9847a51fdec1'),
        'relations.txt': (f'{_KGBERT}/FB15k-237/relations.txt',
                          '8abf7ba03bad41395095538e4678ab61831d337ab37d3d4f8b'
                          'acea6514e0a9fc'),
        'entity2text.txt': (f'{_KGBERT}/FB15k-237/entity2text.txt',
                            '16beedcfad3d32696e8b0b98cfa0f5eeb144f5142225f22'
                            '7a64fd9ce37447da5'),
        'relation2text.txt': (f'{_KGBERT}/FB15k-237/relation2text.txt',
                              '4bf7cb6ea0ac09b17ad210889f723be5e079669f6ae5d'
                              '507787e1320bbaa0f72'),
    }
    manual = _IMAGES.format('FB15k-237')
    stats = dict(num_entities=14541, num_relations=237, train=272115,
                 val=17535, test=20466)

    def download(self) -> None:
        self._fetch(list(self.urls))  # the text files too


class WN18_IMG(MMKGDataset):
    r"""WN18-IMG (WN18 of Bordes et al., 2013, with 10 ImageNet images per
    entity as collected by RSME/MKGformer). Triples download from GitHub in
    OpenKE layout (head, tail, relation ids); glosses from kg-bert's
    ``entity2text.txt`` when present; images must be downloaded by hand.

    **STATS:**

    .. list-table::
        :header-rows: 1

        * - #entities
          - #relations
          - #train
          - #valid
          - #test
        * - 40,943
          - 18
          - 141,442
          - 5,000
          - 5,000
    """
    layout = 'openke'
    files = ('entity2id.txt', 'relation2id.txt', 'train.txt', 'valid.txt',
             'test.txt')
    urls = {
        'entity2id.txt': (f'{_VILLMOW}/WN18/original/entity2id.txt',
                          'a0e127ef59529a4662dbf5f12b1278efbcab9d4636eb80e5'
                          '828a75311ebbb427'),
        'relation2id.txt': (f'{_VILLMOW}/WN18/original/relation2id.txt',
                            'b0f326f55f4c4ca403e97e97c495e93627bea3fb8f08b95'
                            '92afd31ef5bcf9752'),
        'train.txt': (f'{_VILLMOW}/WN18/original/train.txt',
                      '1bcaff005ba0a5cdd9f9f9982812ac9a0750a84989b4335a50e4'
                      'c93e13d158c0'),
        'valid.txt': (f'{_VILLMOW}/WN18/original/valid.txt',
                      '86cf1437161c5982b9a9ef26d5f8400161a700aa4b3350a6c347'
                      'd508369a9cc6'),
        'test.txt': (f'{_VILLMOW}/WN18/original/test.txt',
                     'ab06e417090ba904b98796d72fa72c3a5d00241639a849859b2b'
                     '458074e16ba6'),
    }
    manual = _IMAGES.format('WN18')
    stats = dict(num_entities=40943, num_relations=18, train=141442,
                 val=5000, test=5000)
