r"""Image selection: which of an entity's images are kept, in which order.

The one home of the selection rules used when encoding images
(:func:`pyg_mmkg.features.encode_images`) and when loading a dataset's
pre-computed image features (:mod:`pyg_mmkg.data.raw`).
"""
import torch
from torch import Tensor
from torch_geometric.utils import scatter

__all__ = ['SELECTIONS', 'vista_scores']

SELECTIONS = ('first', 'vista')


def _rank_within(ent: Tensor, score: Tensor, num_nodes: int) -> Tensor:
    r"""Orders images by (entity, descending score), ties by input order;
    returns the permutation and each image's rank within its entity."""
    perm = torch.sort(score, descending=True, stable=True)[1]
    perm = perm[torch.sort(ent[perm], stable=True)[1]]
    count = torch.bincount(ent, minlength=num_nodes)
    start = count.cumsum(0) - count
    rank = torch.arange(ent.numel()) - start[ent[perm]]
    return perm, rank


def vista_scores(x: Tensor, group: Tensor, num_groups: int) -> Tensor:
    r"""VISTA's image centrality: for image :math:`i` of an entity with
    images :math:`j \in J`, :math:`s_i = \langle f_i, \sum_{j \in J} f_j
    \rangle`, the sum of inner products with all images of the same entity.
    Like VISTA's :obj:`sort_vis_features`, the sum includes :math:`j = i`
    and uses raw (unnormalised) features.

    Args:
        x (torch.Tensor): Image features [M, D].
        group (torch.Tensor): The entity of each image [M].
        num_groups (int): The number of entities.
    """
    total = scatter(x, group, dim=0, dim_size=num_groups, reduce='sum')
    return (x * total[group]).sum(dim=-1)
