r"""RSME's relation statistics from images: the mean rank proportion (MRP)
of a relation, the forget gate :math:`g_r` and the relation-specific
:math:`\alpha_r` built from it (official :obj:`MRP.py` and :obj:`utils.py`
of :obj:`wangmengsd/RSME@d46e6d5`, re-derived)."""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.utils import scatter


def one_to_one_mask(head_index: Tensor, tail_index: Tensor) -> Tensor:
    r"""Which triples are "1-1" in :obj:`MRP.py`'s sense: their
    (head, tail) pair occurs in exactly one of the given triples (under
    any relation; a repeated triple is not 1-1)."""
    if head_index.numel() == 0:
        return torch.zeros(0, dtype=torch.bool, device=head_index.device)
    n = int(torch.maximum(head_index.max(), tail_index.max())) + 1
    key = head_index * n + tail_index
    _, inverse, counts = torch.unique(key, return_inverse=True,
                                      return_counts=True)
    return counts[inverse] == 1


def mean_rank_proportion(x: Tensor, has_image: Tensor, head_index: Tensor,
                         rel_type: Tensor, tail_index: Tensor,
                         num_relations: int,
                         chunk_size: int = 4096) -> Tensor:
    r"""The MRP statistic of every relation, :obj:`[num_relations]`
    (:obj:`nan` where it is undefined).

    Over the 1-1 triples (:func:`one_to_one_mask`) of the given triples,
    the candidates :math:`T` are the distinct tails of all 1-1 triples that
    have an image. For relation :math:`r` and each head :math:`h` of a 1-1
    :math:`r`-triple that has an image and at least one candidate tail, each
    true tail :math:`t` gets the rank of :math:`\cos(x_h, x_t)` among
    :math:`\{\cos(x_h, x_c)\}_{c \in T}` (1 = most similar; ties in
    candidate order), the ranks of :math:`h` are averaged and divided by
    :math:`|T|`, and :math:`\mathrm{MRP}(r)` is the mean over its heads.
    Small values: tails look like their heads.

    Args:
        x (torch.Tensor): Image features :obj:`[N, D]`.
        has_image (torch.Tensor): Which entities have an image :obj:`[N]`.
        head_index (torch.Tensor): Heads of the triples to use (RSME's
            official code passes train, valid *and* test; pass training
            triples only).
        rel_type (torch.Tensor): Their relations.
        tail_index (torch.Tensor): Their tails.
        num_relations (int): The number of relations.
        chunk_size (int, optional): Triples ranked at once.
            (default: :obj:`4096`)
    """
    device = x.device
    out = torch.full((num_relations, ), float('nan'), device=device)
    has_image = has_image.view(-1).bool().to(device)
    h, r, t = (v.view(-1).to(device) for v in (head_index, rel_type,
                                                tail_index))
    keep = one_to_one_mask(h, t)
    h, r, t = h[keep], r[keep], t[keep]
    cand = torch.unique(t[has_image[t]])  # sorted candidate tails
    keep = has_image[h] & has_image[t]
    h, r, t = h[keep], r[keep], t[keep]
    if h.numel() == 0:
        return out
    x = F.normalize(x.float(), p=2, dim=-1)
    cand_x = x[cand]  # [T, D]
    pos = torch.searchsorted(cand, t)  # index of each true tail in `cand`
    order = torch.arange(cand.numel(), device=device)
    ranks = []
    for start in range(0, h.numel(), chunk_size):
        sl = slice(start, start + chunk_size)
        score = x[h[sl]] @ cand_x.t()  # [c, T]
        true = score.gather(1, pos[sl].view(-1, 1))
        before = (score > true) | ((score == true)
                                   & (order.view(1, -1) < pos[sl].view(-1, 1)))
        ranks.append(1.0 + before.sum(1).to(x.dtype))
    prop = torch.cat(ranks) / cand.numel()
    # Mean over the true tails of each (relation, head), then over heads:
    _, group = torch.unique(r * x.size(0) + h, return_inverse=True)
    num_groups = int(group.max()) + 1
    per_head = scatter(prop, group, 0, dim_size=num_groups, reduce='mean')
    group_rel = scatter(r, group, 0, dim_size=num_groups, reduce='max')
    total = scatter(per_head, group_rel, 0, dim_size=num_relations,
                    reduce='sum')
    count = scatter(torch.ones_like(per_head), group_rel, 0,
                    dim_size=num_relations, reduce='sum')
    return torch.where(count > 0, total / count.clamp(min=1), out)


def forget_gate(mrp: Tensor, remember_rate: float = 100.0) -> Tensor:
    r"""The forget gate :math:`g_r = [\mathrm{MRP}(r) < \mathrm{rate} /
    100]` (official :obj:`get_img_vec_array_forget`); relations without an
    MRP get :math:`0`, as there.

    Args:
        mrp (torch.Tensor): :func:`mean_rank_proportion` output.
        remember_rate (float, optional): The threshold in percent.
            (default: :obj:`100.0`)
    """
    gate = mrp < remember_rate / 100.0  # nan < c is False
    return gate.to(torch.float)


def sigmoid_alpha(mrp: Tensor) -> Tensor:
    r"""The relation-specific :math:`\alpha_r = 1 / (1 + e^{\mathrm{MRP}(r)})`
    (official :obj:`get_img_vec_sig_alpha`); relations without an MRP get
    :math:`1 / (1 + e)`, as there.

    Args:
        mrp (torch.Tensor): :func:`mean_rank_proportion` output.
    """
    filled = torch.where(torch.isnan(mrp), torch.ones_like(mrp), mrp)
    return torch.sigmoid(-filled)


def relation_statistics(x: Tensor, has_image: Tensor, head_index: Tensor,
                        rel_type: Tensor, tail_index: Tensor,
                        num_relations: int, remember_rate: float = 100.0
                        ) -> Tuple[Tensor, Tensor, Tensor]:
    r"""Returns :obj:`(mrp, gate, alpha)`, each :obj:`[num_relations]`:
    :func:`mean_rank_proportion`, :func:`forget_gate` and
    :func:`sigmoid_alpha` of the given (training) triples.

    Args:
        x (torch.Tensor): Image features :obj:`[N, D]`.
        has_image (torch.Tensor): Which entities have an image :obj:`[N]`.
        head_index (torch.Tensor): Training heads.
        rel_type (torch.Tensor): Training relations.
        tail_index (torch.Tensor): Training tails.
        num_relations (int): The number of relations.
        remember_rate (float, optional): Threshold of the forget gate in
            percent. (default: :obj:`100.0`)
    """
    mrp = mean_rank_proportion(x, has_image, head_index, rel_type,
                               tail_index, num_relations)
    return mrp, forget_gate(mrp, remember_rate), sigmoid_alpha(mrp)
