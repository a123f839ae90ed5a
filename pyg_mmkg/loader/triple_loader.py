from typing import Iterator, NamedTuple, Optional

import torch
from torch import Tensor

from pyg_mmkg.loader.negative_sampler import NegativeSampler


class TripleBatch(NamedTuple):
    r"""A mini-batch of positive triples and their sampled negatives.

    :obj:`head_index`, :obj:`rel_type` and :obj:`tail_index` have shape
    :obj:`[B]`; :obj:`neg_head` and :obj:`neg_tail` have shape :obj:`[B, k]`
    (or are :obj:`None` without a negative sampler). Negative :obj:`[i, j]`
    is the triple :obj:`(neg_head[i, j], rel_type[i], neg_tail[i, j])`.
    """
    head_index: Tensor
    rel_type: Tensor
    tail_index: Tensor
    neg_head: Optional[Tensor] = None
    neg_tail: Optional[Tensor] = None

    def to(self, device: torch.device,
           non_blocking: bool = False) -> 'TripleBatch':
        r"""Returns a copy of the batch with every tensor on :obj:`device`.

        Args:
            device (torch.device): The target device.
            non_blocking (bool, optional): Passed to
                :meth:`torch.Tensor.to`. (default: :obj:`False`)
        """
        return TripleBatch(*(
            None if x is None else x.to(device, non_blocking=non_blocking)
            for x in self))


class TripleLoader:
    r"""Iterates over shuffled mini-batches of positive triples, optionally
    with :math:`k` negatives per positive from a :class:`NegativeSampler`
    (stochastic local closed-world assumption, sLCWA).

    Unlike :class:`torch_geometric.nn.kge.loader.KGTripletLoader`, batches
    are slices of a :meth:`torch.randperm` permutation, so no per-example
    Python collation takes place. Iteration is deterministic given
    :obj:`seed` (or :obj:`generator`); successive epochs draw different
    permutations from the same generator.

    .. code-block:: python

        sampler = NegativeSampler.from_triples(h, r, t, num_nodes=N,
                                               num_negatives=32,
                                               strategy='bernoulli')
        loader = TripleLoader(h, r, t, batch_size=1024, shuffle=True,
                              negative_sampler=sampler, seed=0)
        for batch in loader:
            pos = model(batch.head_index, batch.rel_type, batch.tail_index)
            neg = model(batch.neg_head, batch.rel_type.view(-1, 1)
                        .expand_as(batch.neg_head), batch.neg_tail)

    Args:
        head_index (torch.Tensor): The head indices.
        rel_type (torch.Tensor): The relation types.
        tail_index (torch.Tensor): The tail indices.
        batch_size (int, optional): The number of positives per batch.
            (default: :obj:`1`)
        shuffle (bool, optional): If set to :obj:`True`, the triples are
            reshuffled every epoch. (default: :obj:`False`)
        drop_last (bool, optional): If set to :obj:`True`, drops the last
            incomplete batch. (default: :obj:`False`)
        negative_sampler (NegativeSampler, optional): The negative sampler.
            (default: :obj:`None`)
        generator (torch.Generator, optional): The random number generator
            for shuffling and sampling, on the device of the triples.
            (default: :obj:`None`)
        seed (int, optional): If given (and :obj:`generator` is not), a new
            generator seeded with it is created. (default: :obj:`None`)
    """
    def __init__(
        self,
        head_index: Tensor,
        rel_type: Tensor,
        tail_index: Tensor,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        negative_sampler: Optional[NegativeSampler] = None,
        generator: Optional[torch.Generator] = None,
        seed: Optional[int] = None,
    ):
        if not head_index.numel() == rel_type.numel() == tail_index.numel():
            raise ValueError("'head_index', 'rel_type' and 'tail_index' must "
                             "have the same number of elements")
        if batch_size < 1:
            raise ValueError(f"'batch_size' must be positive "
                             f"(got {batch_size})")
        self.head_index = head_index.view(-1)
        self.rel_type = rel_type.view(-1)
        self.tail_index = tail_index.view(-1)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.negative_sampler = negative_sampler
        if generator is None and seed is not None:
            generator = torch.Generator(device=self.head_index.device)
            generator.manual_seed(int(seed))
        self.generator = generator

    @property
    def num_triples(self) -> int:
        return self.head_index.numel()

    def __len__(self) -> int:
        if self.drop_last:
            return self.num_triples // self.batch_size
        return -(-self.num_triples // self.batch_size)

    def __iter__(self) -> Iterator[TripleBatch]:
        n, device = self.num_triples, self.head_index.device
        perm = None
        if self.shuffle:
            gen_device = (self.generator.device
                          if self.generator is not None else device)
            perm = torch.randperm(n, generator=self.generator,
                                  device=gen_device).to(device)

        for i in range(len(self)):
            start, end = i * self.batch_size, min((i + 1) * self.batch_size, n)
            if perm is None:
                h = self.head_index[start:end]
                r = self.rel_type[start:end]
                t = self.tail_index[start:end]
            else:
                index = perm[start:end]
                h = self.head_index[index]
                r = self.rel_type[index]
                t = self.tail_index[index]

            if self.negative_sampler is None:
                yield TripleBatch(h, r, t)
            else:
                neg_head, neg_tail = self.negative_sampler.sample(
                    h, r, t, generator=self.generator)
                yield TripleBatch(h, r, t, neg_head, neg_tail)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_triples}, '
                f'batch_size={self.batch_size}, shuffle={self.shuffle}, '
                f'negative_sampler={self.negative_sampler})')
