r"""Private building blocks of :class:`~pyg_mmkg.nn.models.IMF`: the fixed
feature pooling, the low-rank interactive (bilinear) fusion, the
contrastive alignment loss, the official form of label smoothing and the
published training recipe."""
from typing import List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Linear, ModuleList

_SOURCE = 'HestiaSky/IMF-Pytorch@df883e4'


def pool_features(x: Tensor, channels: int) -> Tensor:
    r"""L2-normalises each row of :obj:`x` :obj:`[N, D]` and reduces it to
    :obj:`channels` columns by fixed average pooling, as the official
    code: 4096-d image features viewed as :math:`64 \times 64` and pooled
    with :math:`4 \times 4` windows (to 256); features whose size and
    :obj:`channels` are multiples of 64 viewed as :math:`(D / 64) \times 64`
    and adaptively pooled to :math:`(\mathrm{channels} / 64) \times 64`
    (the official 768-d BERT text, to 256); any other size by 1-D adaptive
    average pooling (an extension for other encoders and sizes).

    Args:
        x (torch.Tensor): Features :obj:`[N, D]`.
        channels (int): The output size.
    """
    x = F.normalize(x, dim=-1)
    N, D = x.shape
    if D == channels:
        return x
    if D == 4096 and channels == 256:
        return F.avg_pool2d(x.view(N, 1, 64, 64), 4).view(N, channels)
    if D % 64 == 0 and channels % 64 == 0 and channels <= D:
        out = F.adaptive_avg_pool2d(x.view(N, D // 64, 64),
                                    (channels // 64, 64))
        return out.reshape(N, channels)
    return F.adaptive_avg_pool1d(x.unsqueeze(1), channels).squeeze(1)


class LowRankFusion(torch.nn.Module):
    r"""IMF's interactive fusion (stage 2), a MUTAN-style low-rank
    multilinear fusion of :math:`M` modality vectors:

    .. math::
        \mathbf{z} = \mathrm{ReLU}\Big(\sum_{i=1}^{k} \prod_{m=1}^{M}
        \mathrm{ReLU}\big(\mathbf{W}^m_i\, \mathrm{drop}(\mathbf{x}_m) +
        \mathbf{b}^m_i\big)\Big)

    with one dropout sample per factor (:math:`\prod` is element-wise).

    Args:
        channels (int): The size of every input and of the output.
        num_modalities (int): The number :math:`M` of inputs.
        rank (int, optional): The rank :math:`k`. (default: :obj:`2`)
        dropout (float, optional): Dropout on each factor's input.
            (default: :obj:`0.2`)
    """
    def __init__(self, channels: int, num_modalities: int, rank: int = 2,
                 dropout: float = 0.2):
        super().__init__()
        self.channels, self.rank, self.dropout = channels, rank, dropout
        self.num_modalities = num_modalities
        self.lins = ModuleList([
            ModuleList([Linear(channels, channels)
                        for _ in range(num_modalities)])
            for _ in range(rank)
        ])

    def reset_parameters(self):
        for factors in self.lins:
            for lin in factors:
                lin.reset_parameters()

    def forward(self, xs: Sequence[Tensor]) -> Tensor:
        r"""Fuses the :math:`M` tensors :obj:`xs` of shape :obj:`[*, d]`.

        Args:
            xs (Sequence[torch.Tensor]): One tensor per modality.
        """
        if len(xs) != self.num_modalities:
            raise ValueError(f'Expected {self.num_modalities} inputs '
                             f'(got {len(xs)})')
        out = 0
        for factors in self.lins:
            prod = 1
            for lin, x in zip(factors, xs):
                x = F.dropout(x, self.dropout, self.training)
                prod = prod * F.relu(lin(x))
            out = out + prod
        return F.relu(out)

    def extra_repr(self) -> str:
        return (f'{self.channels}, num_modalities={self.num_modalities}, '
                f'rank={self.rank}, dropout={self.dropout}')


def contrastive_alignment_loss(xs: List[Tensor]) -> Tensor:
    r"""The paper's contrastive alignment of the modality representations of
    a batch of :math:`B` entities: with rows normalised to unit length,

    .. math::
        \mathcal{L} = \frac{1}{B} \sum_{e} \mathrm{softplus}\Big(
        \overline{\cos}_{\mathrm{neg}}(e) - \overline{\cos}_{\mathrm{pos}}(e)
        \Big)

    where :math:`\overline{\cos}_{\mathrm{pos}}(e)` averages the cosines of
    entity :math:`e`'s representations across each pair of modalities and
    :math:`\overline{\cos}_{\mathrm{neg}}(e)` averages, over modalities, the
    cosines of :math:`e` with the :math:`B - 1` *other* entities of the
    batch in the same modality. (The released :obj:`contrastive_loss`
    divides by the Frobenius norm of the whole batch instead of each row's
    norm, averages the negatives with the zeroed diagonal included, and is
    never called.)

    Args:
        xs (List[torch.Tensor]): :math:`M \geq 2` tensors :obj:`[B, d]`, the
            same entities in each modality.
    """
    B = xs[0].size(0)
    if len(xs) < 2 or B < 2:
        return xs[0].new_zeros(())
    xs = [F.normalize(x, dim=-1) for x in xs]
    pos = torch.stack([(xs[i] * xs[j]).sum(-1) for i in range(len(xs))
                       for j in range(i + 1, len(xs))], dim=1).mean(1)
    off = ~torch.eye(B, dtype=torch.bool, device=xs[0].device)
    neg = torch.stack([(x @ x.t())[off].view(B, B - 1).mean(1) for x in xs],
                      dim=1).mean(1)
    return F.softplus(neg - pos).mean()


def smooth_targets(targets: Tensor, label_smoothing: float) -> Tensor:
    r"""IMF's label smoothing :math:`(1 - \epsilon)\, y + 1 / N` of targets
    :obj:`[B, N]` (the official :obj:`0.9 y + 1/N` for
    :math:`\epsilon = 0.1`; note :math:`1 / N`, not :math:`\epsilon / N`).

    Args:
        targets (torch.Tensor): Multi-hot targets :obj:`[B, N]`.
        label_smoothing (float): :math:`\epsilon`; :obj:`0` leaves the
            targets unchanged.
    """
    if label_smoothing <= 0:
        return targets
    return (1.0 - label_smoothing) * targets + 1.0 / targets.size(-1)


_NOTES = ('KvsAll over (h, r) and (t, r^-1) queries as the official '
          'ConvECorpus, so one official epoch is one library epoch. The '
          'trainer\'s label smoothing is 0: the model applies the official '
          '0.9 y + 1/N itself (label_smoothing=0.1 of the model). '
          'ExponentialLR with gamma 1.0 (a constant rate) is scheduler '
          '"none". The official loop evaluates test every 10 epochs and '
          'keeps the per-metric best test values (a selection on test); '
          'here validation every 10 epochs selects the model. The released '
          'main.py does not run (see the IMF docstring).')


def imf_recipes():
    r"""The published recipe (:mod:`pyg_mmkg.train.recipes`) of
    :class:`~pyg_mmkg.nn.models.IMF`: the official :obj:`main.py`
    defaults, the same for every dataset."""
    from pyg_mmkg.train.recipes import Recipe
    recipe = Recipe(
        dict(regime='kvsall', loss='bce', label_smoothing=0.0,
             optimizer='adam', lr=5e-4, weight_decay=0.0, scheduler='none',
             batch_size=256, epochs=1000, eval_every=10, patience=None,
             dim=256, model_kwargs=dict(rank=2, label_smoothing=0.1)),
        source=f'{_SOURCE} main.py (config_args defaults)', notes=_NOTES)
    return {None: recipe}
