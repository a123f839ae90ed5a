from typing import Iterator, NamedTuple, Optional

import torch
from torch import Tensor

from pyg_mmkg.loader.triple_set import _MAX_KEY


class KvsAllBatch(NamedTuple):
    r"""A mini-batch of 1-N queries :math:`(h, r, ?)`.

    :obj:`query_head` and :obj:`query_rel` have shape :obj:`[B]`.
    :obj:`targets` is a float tensor of shape :obj:`[B, N]` (multi-hot,
    possibly label-smoothed) in :obj:`"kvsall"` mode, or a long tensor of
    shape :obj:`[B]` holding the single answer in :obj:`"1vsall"` mode.
    """
    query_head: Tensor
    query_rel: Tensor
    targets: Tensor

    def to(self, device: torch.device,
           non_blocking: bool = False) -> 'KvsAllBatch':
        r"""Returns a copy of the batch with every tensor on :obj:`device`.

        Args:
            device (torch.device): The target device.
            non_blocking (bool, optional): Passed to
                :meth:`torch.Tensor.to`. (default: :obj:`False`)
        """
        return KvsAllBatch(*(x.to(device, non_blocking=non_blocking)
                             for x in self))


class KvsAllLoader:
    r"""Iterates over 1-N training queries for local closed-world (LCWA)
    training, as in the `"Convolutional 2D Knowledge Graph Embeddings"
    <https://arxiv.org/abs/1707.01476>`_ (ConvE) and `"TuckER: Tensor
    Factorization for Knowledge Graph Completion"
    <https://arxiv.org/abs/1901.09590>`_ papers.

    * :obj:`mode="kvsall"`: one query per *distinct* :math:`(h, r)` pair;
      its target is the multi-hot vector :math:`y \in \{0, 1\}^N` of all
      known tails :math:`t` with :math:`(h, r, t)` in the given triples.
      With label smoothing :math:`\epsilon`, targets become
      :math:`(1 - \epsilon) y + \epsilon / N`.
    * :obj:`mode="1vsall"`: one query per triple with the single target
      index :math:`t` (for a softmax cross-entropy over all entities; apply
      label smoothing in the loss).

    With :obj:`reciprocal=True`, every triple :math:`(h, r, t)` also yields
    the reciprocal query :math:`(t, r + R, ?)` with answer :math:`h`, so
    heads are predicted as tails of inverse relations (the model needs
    :math:`2R` relation representations). Otherwise only tails are predicted.

    Targets are gathered per batch from a CSR of the (query -> answers)
    lists by index arithmetic, never by a Python loop.

    Args:
        head_index (torch.Tensor): The head indices of the training triples.
        rel_type (torch.Tensor): The relation types of the training triples.
        tail_index (torch.Tensor): The tail indices of the training triples.
        num_nodes (int): The number of entities :math:`N`.
        num_relations (int): The number of relations :math:`R`.
        reciprocal (bool, optional): If set to :obj:`True`, adds reciprocal
            queries. (default: :obj:`True`)
        batch_size (int, optional): The number of queries per batch.
            (default: :obj:`128`)
        shuffle (bool, optional): If set to :obj:`True`, reshuffles the
            queries every epoch. (default: :obj:`True`)
        label_smoothing (float, optional): The label smoothing
            :math:`\epsilon` (:obj:`"kvsall"` mode only). (default: :obj:`0.0`)
        mode (str, optional): :obj:`"kvsall"` or :obj:`"1vsall"`.
            (default: :obj:`"kvsall"`)
        drop_last (bool, optional): If set to :obj:`True`, drops the last
            incomplete batch. (default: :obj:`False`)
        generator (torch.Generator, optional): The random number generator
            for shuffling. (default: :obj:`None`)
        seed (int, optional): If given (and :obj:`generator` is not), a new
            generator seeded with it is created. (default: :obj:`None`)

    .. note::
        Official ConvE/TuckER code smooths with :math:`(1-\epsilon) y + 1/N`;
        we use the standard :math:`(1-\epsilon) y + \epsilon / N`.
    """
    modes = ('kvsall', '1vsall')

    def __init__(
        self,
        head_index: Tensor,
        rel_type: Tensor,
        tail_index: Tensor,
        num_nodes: int,
        num_relations: int,
        reciprocal: bool = True,
        batch_size: int = 128,
        shuffle: bool = True,
        label_smoothing: float = 0.0,
        mode: str = 'kvsall',
        drop_last: bool = False,
        generator: Optional[torch.Generator] = None,
        seed: Optional[int] = None,
    ):
        if mode not in self.modes:
            raise ValueError(f"Unknown mode '{mode}' (expected one of "
                             f"{self.modes})")
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"'label_smoothing' must be in [0, 1) "
                             f"(got {label_smoothing})")
        if mode == '1vsall' and label_smoothing > 0:
            raise ValueError("'1vsall' mode yields target indices; apply "
                             "label smoothing in the loss instead (e.g. "
                             "'one_to_n_ce_loss(..., label_smoothing=...)')")
        if batch_size < 1:
            raise ValueError(f"'batch_size' must be positive "
                             f"(got {batch_size})")

        self.num_nodes = N = int(num_nodes)
        self.num_relations = int(num_relations)
        self.reciprocal = reciprocal
        self.num_query_relations = R = (2 * self.num_relations
                                        if reciprocal else self.num_relations)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.label_smoothing = float(label_smoothing)
        self.mode = mode
        self.drop_last = drop_last
        if generator is None and seed is not None:
            generator = torch.Generator(device=head_index.device)
            generator.manual_seed(int(seed))
        self.generator = generator
        if N * N * max(R, 1) >= _MAX_KEY:
            raise ValueError(f"Cannot hash queries of a graph with {N} "
                             f"entities and {R} relations into int64 keys")

        h = head_index.view(-1).long()
        r = rel_type.view(-1).long()
        t = tail_index.view(-1).long()
        if reciprocal:
            h, r, t = (torch.cat([h, t]), torch.cat([r, r + num_relations]),
                       torch.cat([t, h]))

        if mode == '1vsall':
            self.query_head, self.query_rel, self.answer = h, r, t
            self.rowptr = self.col = None
        else:
            keys = torch.unique((h * R + r) * N + t)
            query, count = torch.unique_consecutive(keys // N,
                                                    return_counts=True)
            self.query_head, self.query_rel = query // R, query % R
            self.rowptr = torch.cat([count.new_zeros(1), count.cumsum(0)])
            self.col = keys % N
            self.answer = None

    @property
    def num_queries(self) -> int:
        return self.query_head.numel()

    def __len__(self) -> int:
        if self.drop_last:
            return self.num_queries // self.batch_size
        return -(-self.num_queries // self.batch_size)

    def targets(self, query_id: Tensor) -> Tensor:
        r"""Returns the (smoothed) multi-hot targets :obj:`[B, N]` of the
        queries :obj:`query_id` (:obj:`"kvsall"` mode), or their answers
        :obj:`[B]` (:obj:`"1vsall"` mode).

        Args:
            query_id (torch.Tensor): The query indices :obj:`[B]`.
        """
        if self.mode == '1vsall':
            return self.answer[query_id]
        start = self.rowptr[query_id]
        count = self.rowptr[query_id + 1] - start
        total = int(count.sum())
        row = torch.repeat_interleave(
            torch.arange(query_id.numel(), device=count.device), count,
            output_size=total)
        first = torch.repeat_interleave(start, count, output_size=total)
        offset = torch.cumsum(count, 0) - count
        offset = torch.repeat_interleave(offset, count, output_size=total)
        pos = first + torch.arange(total, device=count.device) - offset

        out = torch.zeros(query_id.numel(), self.num_nodes,
                          device=count.device)
        out[row, self.col[pos]] = 1.0
        if self.label_smoothing > 0:
            eps = self.label_smoothing
            out = out * (1.0 - eps) + eps / self.num_nodes
        return out

    def __iter__(self) -> Iterator[KvsAllBatch]:
        n, device = self.num_queries, self.query_head.device
        if self.shuffle:
            gen_device = (self.generator.device
                          if self.generator is not None else device)
            perm = torch.randperm(n, generator=self.generator,
                                  device=gen_device).to(device)
        else:
            perm = torch.arange(n, device=device)

        for i in range(len(self)):
            query_id = perm[i * self.batch_size:(i + 1) * self.batch_size]
            yield KvsAllBatch(self.query_head[query_id],
                              self.query_rel[query_id],
                              self.targets(query_id))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_queries}, '
                f'mode={self.mode}, reciprocal={self.reciprocal}, '
                f'batch_size={self.batch_size})')
