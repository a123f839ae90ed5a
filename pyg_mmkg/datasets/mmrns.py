r"""MKG-W and MKG-Y (MMRNS, Xu et al., ACM MM 2022) and KVC16K (MoMoK,
Zhang et al., ICLR 2025) in the ``head relation tail .`` layout."""
from __future__ import annotations

import os.path as osp
import warnings
from typing import List
from urllib.parse import unquote

from pyg_mmkg.data.contract import ENTITY, RELATION
from pyg_mmkg.data.io import RawFormatError, iter_lines, resolve
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


_KON = ('https://raw.githubusercontent.com/zjukg/K-ON/'
        'e118ed7c5f8970ea97dc8954d4cd924ffe155700/data/MKG-W')
# Optional side files of MKG-W (zjukg/K-ON, MIT): the DBpedia resource of
# every Wikidata entity, and the English label of every relation.
_MKGW_LINKS = {
    'ent_links.txt': (f'{_KON}/ent_links.txt', '4aa7e9f5ff3bbeea7dee3124669ed'
                      'ba7903e65b22844529999325c6bec624511'),
    'rel_links.txt': (f'{_KON}/rel_links.txt', '4f4276bec413905e109b1daf938a9'
                      '1c57baf2d4be7d0e3f3bcb4904adfd02ffe'),
}


def dbpedia_name(uri: str) -> str:
    r"""A readable name from a DBpedia resource URI: its last path segment,
    percent-escapes decoded, underscores as spaces
    (:obj:`http://dbpedia.org/resource/Jim_Jones_(rapper)` ->
    :obj:`"Jim Jones (rapper)"`).

    Args:
        uri (str): The URI (angle brackets allowed).
    """
    uri = uri.strip().strip('<>')
    # The resource name may itself hold '/' (AC/DC, Frost/Nixon_(film)).
    for prefix in ('http://dbpedia.org/resource/',
                   'https://dbpedia.org/resource/'):
        if uri.startswith(prefix):
            tail = uri[len(prefix):]
            break
    else:
        tail = uri.rstrip('/').rsplit('/', 1)[-1]
    return unquote(tail).replace('_', ' ').strip()


def read_entity_links(path: str, names: List[str]) -> List[str]:
    r"""Reads MKG-W's :obj:`ent_links` (``dbpedia_uri<TAB>wikidata_uri``
    lines) into one readable name per entity of :obj:`names` (the Wikidata
    URIs of :obj:`entity2id.txt`); entities without a link get :obj:`""`.

    Args:
        path (str): The file (plain or :obj:`.gz`).
        names (list[str]): The entity names, in id order.

    Raises:
        RawFormatError: naming the file and line of a malformed line, or of
            a Wikidata entity linked twice.
    """
    real = resolve(path)
    index = {n: i for i, n in enumerate(names)}
    out = [''] * len(names)
    seen = {}
    for line_no, line in iter_lines(real):
        parts = line.split('\t')
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise RawFormatError(real, line_no, "expected 'dbpedia_uri<TAB>"
                                 "wikidata_uri'")
        key = parts[1].strip()
        if key in seen:
            raise RawFormatError(real, line_no, f"'{key}' is linked twice "
                                 f"(first on line {seen[key]})")
        seen[key] = line_no
        if key in index:
            out[index[key]] = dbpedia_name(parts[0])
    return out


def _urls(folder: str, digests):
    return {f: (f'{_MOMOK}/{folder}/{f}', d) for f, d in zip(_FILES, digests)}


class MKG_W(MMKGDataset):
    r"""The MKG-W dataset (Wikidata subset) from the `"Relation-enhanced
    Negative Sampling for Multimodal Knowledge Graph Completion"
    <https://arxiv.org/abs/2208.14092>`_ paper, as used by MoMoK.
    Entities are Wikidata URIs; the optional ``ent_links.txt`` of zjukg/K-ON
    (MIT; also accepted gzipped) links each to its DBpedia resource, whose
    name becomes ``data['entity'].text`` (*e.g.* "Jim Jones (rapper)"), and
    ``rel_links.txt`` gives the relations' English labels
    (``data['relation'].text``). :meth:`download` fetches both when it
    fetches the triples (a failure only warns); otherwise place them in the
    raw folder.

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
    urls = {**_urls('MKG-W', [
        '805e2e9a9a8fff032e2caa17233d8ceaaf2356221c66d6ad3c17d31292d360f5',
        '7035491ec0b2865e1220ec9491aafbcf3ff3d6c797816a0129735e0be9f2ea29',
        '66187e7d882a654915d8048897916ca8c5798e9c7df3a5b8ba8fab5d231cafcd',
        '6840322036c394af6ab33be5c4f988edafbd48d61fdc9e3b9b485c42e6f5a2da',
        'f0cfb7b5091d8601d0298889533e4f128237a700207b5739d27c0d81152f8245',
    ]), **_MKGW_LINKS}
    manual = _manual('MKG-W')
    stats = dict(num_entities=15000, num_relations=169, train=34196,
                 val=4276, test=4274)

    @property
    def feature_id(self) -> str:
        # Bumped whenever the names are read differently, so that a
        # processed file holding older names is rebuilt.
        return f'{super().feature_id}__names-2'

    def download(self) -> None:
        super().download()
        # The name files are optional: a failed download leaves the dataset
        # usable (structure only) with a warning.
        for name in _MKGW_LINKS:
            if resolve(osp.join(self.raw_dir, name), required=False):
                continue
            try:
                self._download_file(name)
            except RuntimeError as e:
                warnings.warn(f"MKG-W: the optional '{name}' could not be "
                              f"downloaded ({e}); its names are left out",
                              stacklevel=2)

    def read_raw(self):
        r"""Reads the triples and, when present, the entity names
        (``ent_links.txt``: the DBpedia resource of each Wikidata entity,
        read by :func:`read_entity_links` into ``data['entity'].text``) and
        the relation labels (``rel_links.txt``, one per line in
        ``relation2id.txt`` order, into ``data['relation'].text``)."""
        data = super().read_raw()
        path = osp.join(self.raw_dir, 'ent_links.txt')
        if resolve(path, required=False):
            data[ENTITY].text = read_entity_links(path, data[ENTITY].name)
        path = osp.join(self.raw_dir, 'rel_links.txt')
        if resolve(path, required=False):
            real = resolve(path)
            labels = [line.strip() for _, line in iter_lines(real)]
            if len(labels) != int(data[RELATION].num_nodes):
                raise RawFormatError(real, None, f"expected one label per "
                                     f"relation ({data[RELATION].num_nodes}"
                                     f" lines), got {len(labels)}")
            data[RELATION].text = labels
        return data


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
