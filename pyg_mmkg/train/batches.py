"""Training batches of the three regimes (sLCWA, KvsAll, 1vsAll).

All randomness (shuffling, negatives) comes from one
:class:`torch.Generator` owned by the trainer, whose state is part of every
checkpoint, so that a resumed run draws exactly the same batches.
"""
from dataclasses import dataclass, fields
from typing import Iterator, Optional, Tuple

import torch
from torch import Tensor

from pyg_mmkg.train.config import TrainConfig

Triples = Tuple[Tensor, Tensor, Tensor]


@dataclass
class TrainBatch:
    r"""One training batch, handed to :meth:`training_loss` hooks of models.

    * sLCWA: :obj:`head_index`, :obj:`rel_type`, :obj:`tail_index` [B]
      positives and :obj:`neg_head`, :obj:`neg_tail` [B, k] negatives (the
      relation of negative :obj:`[i, j]` is :obj:`rel_type[i]`).
    * KvsAll: queries :obj:`head_index`, :obj:`rel_type` [B] (relations
      :math:`\geq R` are reciprocal) and dense :obj:`targets` [B, N] (label
      smoothing already applied); :obj:`tail_index` is :obj:`None`.
    * 1vsAll: queries :obj:`head_index`, :obj:`rel_type` [B] (with
      reciprocal copies) and their answer :obj:`tail_index` [B].

    Args:
        regime (str): :obj:`'slcwa'`, :obj:`'kvsall'` or :obj:`'1vsall'`.
        head_index (torch.Tensor): Heads (sLCWA) or query entities [B].
        rel_type (torch.Tensor): Relations [B].
        tail_index (torch.Tensor, optional): Tails [B] (sLCWA, 1vsAll).
        neg_head (torch.Tensor, optional): Negative heads [B, k] (sLCWA).
        neg_tail (torch.Tensor, optional): Negative tails [B, k] (sLCWA).
        targets (torch.Tensor, optional): Multi-hot targets [B, N] (KvsAll).
    """
    regime: str
    head_index: Tensor
    rel_type: Tensor
    tail_index: Optional[Tensor] = None
    neg_head: Optional[Tensor] = None
    neg_tail: Optional[Tensor] = None
    targets: Optional[Tensor] = None

    def to(self, device: torch.device) -> 'TrainBatch':
        r"""Moves every tensor of the batch to :obj:`device` (in place,
        non-blocking) and returns the batch.

        Args:
            device (torch.device): The target device.
        """
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Tensor):
                setattr(self, f.name, value.to(device, non_blocking=True))
        return self

    @property
    def num_examples(self) -> int:
        return self.head_index.numel()


class _Batches:
    r"""Wraps a :mod:`pyg_mmkg.loader` loader so that it yields
    :class:`TrainBatch` es."""
    def __init__(self, regime: str, loader):
        self.regime = regime
        self.loader = loader

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[TrainBatch]:
        for b in self.loader:
            if self.regime == 'slcwa':
                yield TrainBatch('slcwa', b.head_index, b.rel_type,
                                 b.tail_index, b.neg_head, b.neg_tail)
            elif self.regime == 'kvsall':
                yield TrainBatch('kvsall', b.query_head, b.query_rel,
                                 targets=b.targets)
            else:
                yield TrainBatch('1vsall', b.query_head, b.query_rel,
                                 tail_index=b.targets)


def build_batches(train: Triples, num_nodes: int, num_relations: int,
                  config: TrainConfig, generator: torch.Generator,
                  device: torch.device) -> _Batches:
    r"""The shuffled training batches of :obj:`config.regime`, built from
    :class:`~pyg_mmkg.loader.TripleLoader` with a
    :class:`~pyg_mmkg.loader.NegativeSampler` (sLCWA) or
    :class:`~pyg_mmkg.loader.KvsAllLoader` (KvsAll / 1vsAll, with
    reciprocal queries), all drawing from :obj:`generator`."""
    from pyg_mmkg.loader import KvsAllLoader, NegativeSampler, TripleLoader
    h, r, t = (x.to(device) for x in train)
    if config.regime == 'slcwa':
        sampler = NegativeSampler.from_triples(
            h, r, t, num_nodes=num_nodes, num_negatives=config.num_negatives,
            strategy=config.sampler, filtered=config.filtered_negatives,
            num_relations=num_relations).to(device)
        loader = TripleLoader(h, r, t, batch_size=config.batch_size,
                              shuffle=True, negative_sampler=sampler,
                              generator=generator)
    else:
        kvsall = config.regime == 'kvsall'
        loader = KvsAllLoader(
            h, r, t, num_nodes=num_nodes, num_relations=num_relations,
            reciprocal=True, batch_size=config.batch_size, shuffle=True,
            label_smoothing=config.label_smoothing if kvsall else 0.0,
            mode=config.regime, generator=generator)
    return _Batches(config.regime, loader)
