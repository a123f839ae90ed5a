r"""MKG-W and MKG-Y (MMRNS, Xu et al., ACM MM 2022) and KVC16K (MoMoK,
Zhang et al., ICLR 2025) in the ``head relation tail .`` layout."""
from __future__ import annotations

from pyg_mmkg.datasets.base import MMKGDataset

__all__ = ['MKG_W', 'MKG_Y', 'KVC16K']

_MOMOK = ('https://raw.githubusercontent.com/zjukg/MoMoK/'
          '99c2df114d48c79708ea0608644b685183d81bd9/datasets')
_FILES = ('entity2id.txt', 'relation2id.txt', 'train.txt', 'valid.txt',
          'test.txt')


def _manual(name: str) -> str:
    return (f"The triples download from GitHub (zjukg/MoMoK, "
            f"datasets/{name}/). The image and text features of {name} are "
            f"on the Google Drive linked from https://github.com/zjukg/MoMoK;"
            f" pass them with feature_files={{'entity.x_image': ..., "
            f"'entity.x_text': ...}} (a dict name -> tensor or a tensor in "
            f"entity2id order) or encode raw images/texts with "
            f"pyg_mmkg.features.")


def _urls(folder: str, digests):
    return {f: (f'{_MOMOK}/{folder}/{f}', d) for f, d in zip(_FILES, digests)}


class MKG_W(MMKGDataset):
    r"""The MKG-W dataset (Wikidata subset) from the `"Relation-enhanced
    Negative Sampling for Multimodal Knowledge Graph Completion"
    <https://arxiv.org/abs/2208.14092>`_ paper, as used by MoMoK.

    **STATS:**

    .. list-table::
        :header-rows: 1

        * - #entities
          - #relations
          - #train
          - #valid
          - #test
        * - 15,000
          - 169
          - 34,196
          - 4,276
          - 4,274
    """
    layout = 'mmrns'
    files = _FILES
    urls = _urls('MKG-W', [
        '805e2e9a9a8fff032e2caa17233d8ceaaf2356221c66d6ad3c17d31292d360f5',
        '7035491ec0b2865e1220ec9491aafbcf3ff3d6c797816a0129735e0be9f2ea29',
        '66187e7d882a654915d8048897916ca8c5798e9c7df3a5b8ba8fab5d231cafcd',
        '6840322036c394af6ab33be5c4f988edafbd48d61fdc9e3b9b485c42e6f5a2da',
        'f0cfb7b5091d8601d0298889533e4f128237a700207b5739d27c0d81152f8245',
    ])
    manual = _manual('MKG-W')
    stats = dict(num_entities=15000, num_relations=169, train=34196,
                 val=4276, test=4274)


class MKG_Y(MMKGDataset):
    r"""The MKG-Y dataset (YAGO subset) from the `"Relation-enhanced
    Negative Sampling for Multimodal Knowledge Graph Completion"
    <https://arxiv.org/abs/2208.14092>`_ paper, as used by MoMoK. Entity
    names contain dots (``Acharnaikos_F.C.``): only the final ``' .'`` of a
    line is stripped.

    **STATS:**

    .. list-table::
        :header-rows: 1

        * - #entities
          - #relations
          - #train
          - #valid
          - #test
        * - 15,000
          - 28
          - 21,310
          - 2,665
          - 2,663
    """
    layout = 'mmrns'
    files = _FILES
    urls = _urls('MKG-Y', [
        'ca7c45833c5454545e4ffbeb1e7dde6c5ff2548d6688c91ad44effc9d1095d06',
        '584d45c33a0d1003a28d08ee17507e8da21f3809491f1d511549a0287bdf8dcb',
        '3be3e886268cade513b35429d7aa5e145f51692c2f2bedbd7ff7d60a7a6c263e',
        'bcc01dbedd4c25f87481ca47b00724a1de1808ec098d80e27fec595c13c8bae4',
        '618b1a1ba2a1880e9cf0f56ae920b589df59a859442d4f1ff32a4e632c25bc4b',
    ])
    manual = _manual('MKG-Y')
    stats = dict(num_entities=15000, num_relations=28, train=21310,
                 val=2665, test=2663)


class KVC16K(MMKGDataset):
    r"""KVC16K (the Kuai16K folder of the MoMoK code) from the `"Multiple
    Heads are Better than One: Mixture of Modality Knowledge Experts for
    Entity Representation Learning" <https://arxiv.org/abs/2405.16869>`_
    paper: a short-video knowledge graph (Chinese entity names, 4 numeric
    relations). The train file has about 170 repeated lines, kept as
    upstream.

    .. warning::
        The official splits share a few triples: 30 of the 22,523
        validation lines and 48 of the 22,525 test lines are training
        triples, and 5 validation lines are test triples. They are kept
        byte-for-byte for comparability, so loading opts in to split
        overlap by default (``allow_split_overlap=True``) and emits a
        :class:`~pyg_mmkg.data.SplitOverlapWarning` with these counts; pass
        ``allow_split_overlap=False`` to make it an error.

    **STATS:**

    .. list-table::
        :header-rows: 1

        * - #entities
          - #relations
          - #train
          - #valid
          - #test
        * - 16,015
          - 4
          - 180,190
          - 22,523
          - 22,525
    """
    layout = 'mmrns'
    files = _FILES
    urls = _urls('Kuai16K', [
        '7f65e608f23480e5dc0cb81230f2a948e1f42ff2ffd71b3328b0e9978b63472d',
        'f64081447d516d225669e1c018ee4377ad966243eff795952ae9cfb823511aa3',
        'ebb91ee9d8a90cdfb58e06353ae2bf22f2086a477cd863a3945cfc289ea366aa',
        'b7f07994c9f27d604e4f50149dbff63bea54cdf560e31507a8d2dfa4a36d56db',
        '0a7ec0e44221348858af5bfd4fa9775bd86f5b5395c90e306133b3758efc7d4a',
    ])
    manual = _manual('Kuai16K')
    stats = dict(num_entities=16015, num_relations=4, train=180190,
                 val=22523, test=22525)
    allow_split_overlap = True  # the official splits share 83 lines
