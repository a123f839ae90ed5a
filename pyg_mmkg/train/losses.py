r"""Loss functions and regularisers for knowledge graph embedding training.

All losses take *scores* where higher means more plausible (the convention
of :class:`torch_geometric.nn.kge.KGEModel`). sLCWA losses take the scores of
the positives :obj:`pos` of shape :obj:`[B]` and of their negatives
:obj:`neg` of shape :obj:`[B, k]` (negative :obj:`neg[i, j]` belongs to
positive :obj:`pos[i]`; a :obj:`[B]` tensor is read as :math:`k = 1`).
1-N losses take the scores :obj:`[B, N]` of every entity for :obj:`B`
queries.
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    'margin_ranking_loss',
    'softplus_loss',
    'bce_loss',
    'self_adversarial_loss',
    'one_to_n_bce_loss',
    'one_to_n_ce_loss',
    'n3_regularizer',
    'complex_n3_regularizer',
    'l2_regularizer',
    'complex_modulus',
]


def _pair(pos: Tensor, neg: Tensor):
    pos = pos.view(-1)
    neg = neg.view(pos.numel(), -1)
    return pos, neg


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == 'mean':
        return loss.mean()
    if reduction == 'sum':
        return loss.sum()
    if reduction == 'none':
        return loss
    raise ValueError(f"Unknown reduction '{reduction}' (expected 'mean', "
                     f"'sum' or 'none')")


def margin_ranking_loss(pos: Tensor, neg: Tensor, margin: float = 1.0,
                        reduction: str = 'mean') -> Tensor:
    r"""The pairwise margin ranking loss (TransE), each positive against
    each of its negatives:

    .. math::
        \mathcal{L} = \frac{1}{Bk} \sum_{i=1}^{B} \sum_{j=1}^{k}
        \max(0, \gamma - s^+_i + s^-_{ij})

    Args:
        pos (torch.Tensor): Positive scores :obj:`[B]`.
        neg (torch.Tensor): Negative scores :obj:`[B, k]`.
        margin (float, optional): The margin :math:`\gamma`.
            (default: :obj:`1.0`)
        reduction (str, optional): :obj:`"mean"`, :obj:`"sum"` or
            :obj:`"none"` (returns :obj:`[B, k]`). (default: :obj:`"mean"`)
    """
    pos, neg = _pair(pos, neg)
    loss = F.relu(margin - pos.unsqueeze(-1) + neg)
    return _reduce(loss, reduction)


def softplus_loss(pos: Tensor, neg: Tensor,
                  reduction: str = 'mean') -> Tensor:
    r"""The pointwise logistic loss of ComplEx (Trouillon et al., 2016),
    :math:`\log(1 + \exp(-y \cdot s))` with :math:`y = 1` for positives and
    :math:`y = -1` for negatives, averaged over all :math:`B + Bk` scores:

    .. math::
        \mathcal{L} = \frac{1}{B + Bk} \Big( \sum_i \mathrm{softplus}(-s^+_i)
        + \sum_{i,j} \mathrm{softplus}(s^-_{ij}) \Big)

    It equals :func:`bce_loss` without label smoothing.

    Args:
        pos (torch.Tensor): Positive scores :obj:`[B]`.
        neg (torch.Tensor): Negative scores :obj:`[B, k]`.
        reduction (str, optional): :obj:`"mean"`, :obj:`"sum"` or
            :obj:`"none"` (returns the :obj:`[B + Bk]` concatenation of the
            positive and flattened negative terms). (default: :obj:`"mean"`)
    """
    pos, neg = _pair(pos, neg)
    loss = torch.cat([F.softplus(-pos), F.softplus(neg.reshape(-1))])
    return _reduce(loss, reduction)


def bce_loss(pos: Tensor, neg: Tensor, label_smoothing: float = 0.0,
             reduction: str = 'mean') -> Tensor:
    r"""Binary cross-entropy with logits over positives (label :math:`1`)
    and negatives (label :math:`0`), averaged over all :math:`B + Bk`
    scores, as in PyG's :meth:`DistMult.loss` / :meth:`ComplEx.loss`. With
    label smoothing :math:`\epsilon`, the labels become :math:`1 - \epsilon/2`
    and :math:`\epsilon / 2`.

    Args:
        pos (torch.Tensor): Positive scores :obj:`[B]`.
        neg (torch.Tensor): Negative scores :obj:`[B, k]`.
        label_smoothing (float, optional): :math:`\epsilon`.
            (default: :obj:`0.0`)
        reduction (str, optional): As in :func:`softplus_loss`.
            (default: :obj:`"mean"`)
    """
    pos, neg = _pair(pos, neg)
    scores = torch.cat([pos, neg.reshape(-1)])
    labels = torch.cat([torch.ones_like(pos), torch.zeros_like(neg.view(-1))])
    if label_smoothing > 0:
        labels = labels * (1.0 - label_smoothing) + 0.5 * label_smoothing
    loss = F.binary_cross_entropy_with_logits(scores, labels,
                                              reduction='none')
    return _reduce(loss, reduction)


def self_adversarial_loss(pos: Tensor, neg: Tensor, margin: float = 0.0,
                          temperature: float = 1.0,
                          reduction: str = 'mean') -> Tensor:
    r"""The self-adversarial negative sampling loss of the `"RotatE:
    Knowledge Graph Embedding by Relational Rotation in Complex Space"
    <https://arxiv.org/abs/1902.10197>`_ paper, written for scores :math:`s`
    where higher is better (RotatE's :math:`-d_r(h, t)`):

    .. math::
        \ell_i = -\log \sigma(\gamma + s^+_i) - \sum_{j=1}^{k} p_{ij}
        \log \sigma(-\gamma - s^-_{ij}), \qquad
        p_{ij} = \mathrm{softmax}_j(\alpha \, s^-_{ij}),

    where the weights :math:`p_{ij}` are treated as constants (detached).
    As in the official RotatE code, the positive and negative terms are
    each averaged over the batch and the loss is their mean:
    :math:`\mathcal{L} = \frac{1}{2B} \sum_i \ell_i`.

    Args:
        pos (torch.Tensor): Positive scores :obj:`[B]`.
        neg (torch.Tensor): Negative scores :obj:`[B, k]`.
        margin (float, optional): The margin :math:`\gamma`. Keep :obj:`0`
            for scorers that already add a margin (PyG's :class:`RotatE`
            scores :math:`\gamma - d`); use e.g. :obj:`9.0` for raw
            :math:`-d` scores. (default: :obj:`0.0`)
        temperature (float, optional): The adversarial temperature
            :math:`\alpha`; :obj:`0` gives uniform weights :math:`1/k`.
            (default: :obj:`1.0`)
        reduction (str, optional): :obj:`"mean"`, :obj:`"sum"` (of
            :math:`\ell_i / 2`) or :obj:`"none"` (returns :math:`\ell_i / 2`
            of shape :obj:`[B]`). (default: :obj:`"mean"`)
    """
    pos, neg = _pair(pos, neg)
    weight = torch.softmax(temperature * neg.detach(), dim=-1)
    pos_term = -F.logsigmoid(margin + pos)
    neg_term = -(weight * F.logsigmoid(-margin - neg)).sum(dim=-1)
    return _reduce(0.5 * (pos_term + neg_term), reduction)


def one_to_n_bce_loss(scores: Tensor, targets: Tensor,
                      label_smoothing: float = 0.0) -> Tensor:
    r"""Binary cross-entropy with logits of 1-N scoring (ConvE, TuckER), the
    mean over all :math:`B \times N` entries:

    .. math::
        \mathcal{L} = -\frac{1}{BN} \sum_{b, e} y_{be} \log \sigma(s_{be})
        + (1 - y_{be}) \log(1 - \sigma(s_{be}))

    Args:
        scores (torch.Tensor): Scores :obj:`[B, N]`.
        targets (torch.Tensor): Multi-hot targets :obj:`[B, N]` (possibly
            already smoothed by :class:`~pyg_mmkg.loader.KvsAllLoader`).
        label_smoothing (float, optional): If :math:`\epsilon > 0`, targets
            become :math:`(1 - \epsilon) y + \epsilon / N` here.
            (default: :obj:`0.0`)
    """
    if scores.shape != targets.shape:
        raise ValueError(f"'scores' {tuple(scores.shape)} and 'targets' "
                         f"{tuple(targets.shape)} must have the same shape")
    targets = targets.to(scores.dtype)
    if label_smoothing > 0:
        targets = (1.0 - label_smoothing) * targets + (label_smoothing /
                                                       scores.size(-1))
    return F.binary_cross_entropy_with_logits(scores, targets)


def one_to_n_ce_loss(scores: Tensor, targets: Tensor,
                     label_smoothing: float = 0.0,
                     weight: Optional[Tensor] = None) -> Tensor:
    r"""Softmax cross-entropy over all :math:`N` entities (1-vs-all or
    k-vs-all), averaged over the :math:`B` queries:

    .. math::
        \mathcal{L} = -\frac{1}{B} \sum_b \sum_e q_{be}
        \log \mathrm{softmax}(s_b)_e, \qquad
        q_b = (1 - \epsilon) \frac{y_b}{\sum_e y_{be}} + \frac{\epsilon}{N}.

    Args:
        scores (torch.Tensor): Scores :obj:`[B, N]`.
        targets (torch.Tensor): Either the answer indices :obj:`[B]` (long,
            :math:`y_b` one-hot) or non-negative targets :obj:`[B, N]`
            (float, e.g. multi-hot), which are normalised to sum to one.
        label_smoothing (float, optional): :math:`\epsilon`.
            (default: :obj:`0.0`)
        weight (torch.Tensor, optional): A weight :obj:`[N]` per answer
            entity, as in :func:`torch.nn.functional.cross_entropy` (OTKGE's
            frequency weighting). (default: :obj:`None`)
    """
    if not targets.is_floating_point():
        return F.cross_entropy(scores, targets, weight=weight,
                               label_smoothing=label_smoothing)
    if scores.shape != targets.shape:
        raise ValueError(f"'scores' {tuple(scores.shape)} and 'targets' "
                         f"{tuple(targets.shape)} must have the same shape")
    targets = targets.to(scores.dtype)
    targets = targets / targets.sum(dim=-1, keepdim=True).clamp(min=1e-12)
    return F.cross_entropy(scores, targets, weight=weight,
                           label_smoothing=label_smoothing)


def n3_regularizer(factors: Sequence[Tensor], weight: float = 1.0) -> Tensor:
    r"""The weighted nuclear 3-norm regulariser of the `"Canonical Tensor
    Decomposition for Knowledge Base Completion"
    <https://arxiv.org/abs/1806.07297>`_ paper:

    .. math::
        \lambda \frac{1}{B} \sum_{f} \sum_{b, d} |f_{bd}|^3

    over the factors :obj:`[B, D]` of a batch (e.g. the head, relation and
    tail representations). For ComplEx, pass the moduli of the complex
    entries (see :func:`complex_modulus`), as in the paper.

    Args:
        factors (Sequence[torch.Tensor]): The factors, each with the batch as
            first dimension.
        weight (float, optional): :math:`\lambda`. (default: :obj:`1.0`)
    """
    factors = list(factors)
    total = sum(f.abs().pow(3).sum() for f in factors)
    return weight * total / factors[0].size(0)


def complex_n3_regularizer(factors: Sequence[Tensor],
                           weight: float = 1.0) -> Tensor:
    r""":func:`n3_regularizer` on the moduli of complex factors stored as
    :obj:`[re | im]` (ComplEx), computed as
    :math:`\sum |z|^3 = \sum (\mathrm{re}^2 + \mathrm{im}^2)^{3/2}`,
    whose gradient is finite at :math:`z = 0` (unlike that of the modulus
    :math:`\sqrt{\mathrm{re}^2 + \mathrm{im}^2}`); the weighted N3 of
    MoSE, RSME and OTKGE.

    Args:
        factors (Sequence[torch.Tensor]): The complex factors :obj:`[B, 2D]`,
            each with the batch as first dimension.
        weight (float, optional): :math:`\lambda`. (default: :obj:`1.0`)
    """
    factors = list(factors)
    total = sum((f.chunk(2, dim=-1)[0]**2 +
                 f.chunk(2, dim=-1)[1]**2).pow(1.5).sum() for f in factors)
    return weight * total / factors[0].size(0)


def l2_regularizer(factors: Sequence[Tensor], weight: float = 1.0) -> Tensor:
    r"""The squared :math:`L_2` regulariser
    :math:`\lambda \frac{1}{B} \sum_f \sum_{b, d} f_{bd}^2` over the factors
    :obj:`[B, D]` of a batch.

    Args:
        factors (Sequence[torch.Tensor]): The factors, each with the batch as
            first dimension.
        weight (float, optional): :math:`\lambda`. (default: :obj:`1.0`)
    """
    factors = list(factors)
    total = sum(f.pow(2).sum() for f in factors)
    return weight * total / factors[0].size(0)


def complex_modulus(x: Tensor) -> Tensor:
    r"""Returns the element-wise modulus :math:`\sqrt{a^2 + b^2}` of a
    complex representation stored as the concatenation :obj:`[a | b]` of
    its real and imaginary parts along the last dimension."""
    re, im = x.chunk(2, dim=-1)
    sq = re.pow(2) + im.pow(2)
    # sqrt has an infinite derivative at 0, which turned the gradient of an
    # all-zero entry (e.g. a missing feature) into NaN: route zeros through a
    # clamped branch so their gradient is exactly 0.
    safe = sq.clamp_min(torch.finfo(sq.dtype).tiny).sqrt()
    return torch.where(sq > 0, safe, torch.zeros_like(sq))
