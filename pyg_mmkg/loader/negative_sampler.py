from typing import Optional, Tuple, Union

import torch
from torch import Tensor

from pyg_mmkg.utils._triple_csr import num_or_max as _num_or_max
from pyg_mmkg.utils.triple_index import TripleIndex

Triples = Tuple[Tensor, Tensor, Tensor]


def bernoulli_head_probability(
    head_index: Tensor,
    rel_type: Tensor,
    tail_index: Tensor,
    num_relations: Optional[int] = None,
) -> Tensor:
    r"""Computes the per-relation probability of corrupting the *head* under
    the Bernoulli negative sampling of the `"Knowledge Graph Embedding by
    Translating on Hyperplanes" <https://ojs.aaai.org/index.php/AAAI/article/
    view/8870>`_ paper (TransH).

    .. math::
        p_r = \frac{\mathrm{tph}_r}{\mathrm{tph}_r + \mathrm{hpt}_r},

    where :math:`\mathrm{tph}_r` is the average number of tails per distinct
    head of relation :math:`r` and :math:`\mathrm{hpt}_r` the average number
    of heads per distinct tail. Duplicate triples are counted once. Relations
    without any triple get :math:`p_r = 0.5`.

    Args:
        head_index (torch.Tensor): The head indices of the training triples.
        rel_type (torch.Tensor): The relation types of the training triples.
        tail_index (torch.Tensor): The tail indices of the training triples.
        num_relations (int, optional): The number of relations.
            (default: :obj:`None`, inferred from :obj:`rel_type`)

    Returns:
        A float tensor of shape :obj:`[num_relations]`.
    """
    R = _num_or_max(num_relations, rel_type)
    triples = TripleIndex(head_index, rel_type, tail_index, num_relations=R)
    h, r, t = triples.triples()
    num_triples = torch.bincount(r, minlength=R).double()
    hr = torch.unique(h * R + r)
    rt = torch.unique(t * R + r)
    num_heads = torch.bincount(hr % R, minlength=R).double()
    num_tails = torch.bincount(rt % R, minlength=R).double()
    tph = num_triples / num_heads.clamp(min=1)
    hpt = num_triples / num_tails.clamp(min=1)
    prob = tph / (tph + hpt)
    return torch.where(num_triples > 0, prob, torch.full_like(prob, 0.5))


class NegativeSampler:
    r"""Samples :math:`k` corrupted triples per positive triple for
    stochastic local closed-world (sLCWA) training.

    Every negative replaces either the head or the tail of its positive with
    a random entity; the other side is kept. The side is drawn per negative:

    * :obj:`"uniform"`: the head is corrupted with probability :math:`0.5`.
    * :obj:`"bernoulli"`: the head is corrupted with the per-relation
      probability :math:`\mathrm{tph}_r / (\mathrm{tph}_r + \mathrm{hpt}_r)`
      of the TransH paper (see :func:`bernoulli_head_probability`), computed
      from :obj:`train_triples`.

    The replacement entity is never the positive's own entity. If
    :obj:`filter_index` is given, it is drawn *exactly* uniformly among the
    entities that do not form a known true triple, so a filtered negative is
    never a known triple. This is done in one vectorised pass over sorted
    keys (see :class:`~pyg_mmkg.utils.TripleIndex`) instead of rejection
    sampling, so it needs no bound on the number of retries. Where the
    chosen side has no valid replacement at all, the other side is
    corrupted; where neither side has one, a :class:`ValueError` is raised.

    .. note::
        Filter with the *training* triples only (as PyKEEN does). Filtering
        with validation or test triples leaks them into training.

    Args:
        num_nodes (int): The number of entities.
        num_negatives (int, optional): The number :math:`k` of negatives per
            positive. (default: :obj:`1`)
        strategy (str, optional): :obj:`"uniform"` or :obj:`"bernoulli"`.
            (default: :obj:`"uniform"`)
        filter_index (TripleIndex or tuple, optional): Known true triples
            to filter out, as a :class:`~pyg_mmkg.utils.TripleIndex` (*e.g.*,
            a :class:`TripleSet` or a
            :class:`~pyg_mmkg.evaluation.FilterIndex`) or a tuple
            :obj:`(head_index, rel_type, tail_index)`. (default: :obj:`None`)
        train_triples (tuple, optional): The training triples
            :obj:`(head_index, rel_type, tail_index)`, required by the
            :obj:`"bernoulli"` strategy. (default: :obj:`None`)
        num_relations (int, optional): The number of relations.
            (default: :obj:`None`, inferred from the triples)
    """
    strategies = ('uniform', 'bernoulli')

    def __init__(
        self,
        num_nodes: int,
        num_negatives: int = 1,
        strategy: str = 'uniform',
        filter_index: Optional[Union[TripleIndex, Triples]] = None,
        train_triples: Optional[Triples] = None,
        num_relations: Optional[int] = None,
    ):
        if num_nodes < 2:
            raise ValueError(f"Negative sampling needs at least two entities "
                             f"(got {num_nodes})")
        if num_negatives < 1:
            raise ValueError(f"'num_negatives' must be positive "
                             f"(got {num_negatives})")
        if strategy not in self.strategies:
            raise ValueError(f"Unknown negative sampling strategy "
                             f"'{strategy}' (expected one of "
                             f"{self.strategies})")

        self.num_nodes = int(num_nodes)
        self.num_negatives = int(num_negatives)
        self.strategy = strategy

        if filter_index is not None and not isinstance(filter_index,
                                                       TripleIndex):
            filter_index = TripleIndex(*filter_index, num_nodes=num_nodes,
                                       num_relations=num_relations)
        if filter_index is not None and filter_index.num_nodes != num_nodes:
            raise ValueError(f"'filter_index' was built for "
                             f"{filter_index.num_nodes} entities but the "
                             f"sampler uses {num_nodes}")
        self.filter_index = filter_index

        self.head_prob: Optional[Tensor] = None
        if strategy == 'bernoulli':
            if train_triples is None:
                raise ValueError("The 'bernoulli' strategy needs the "
                                 "training triples ('train_triples')")
            self.head_prob = bernoulli_head_probability(
                *train_triples, num_relations=num_relations).float()

    @classmethod
    def from_triples(
        cls,
        head_index: Tensor,
        rel_type: Tensor,
        tail_index: Tensor,
        num_nodes: int,
        num_negatives: int = 1,
        strategy: str = 'uniform',
        filtered: bool = False,
        num_relations: Optional[int] = None,
    ) -> 'NegativeSampler':
        r"""Builds a sampler from the training triples: Bernoulli statistics
        and (if :obj:`filtered=True`) the filter both come from them.

        Args:
            head_index (torch.Tensor): The head indices of the training
                triples.
            rel_type (torch.Tensor): Their relation types.
            tail_index (torch.Tensor): Their tail indices.
            num_nodes (int): The number of entities.
            num_negatives (int, optional): The number of negatives per
                positive. (default: :obj:`1`)
            strategy (str, optional): The corruption strategy
                (:obj:`"uniform"` or :obj:`"bernoulli"`).
                (default: :obj:`"uniform"`)
            filtered (bool, optional): If set to :obj:`True`, negatives are
                drawn among the entities that do not form a training triple
                (the filter is a :class:`TripleSet` of the given triples).
                (default: :obj:`False`)
            num_relations (int, optional): The number of relations.
                (default: :obj:`None`)
        """
        triples = (head_index, rel_type, tail_index)
        filter_index = None
        if filtered:
            filter_index = TripleIndex(*triples, num_nodes=num_nodes,
                                       num_relations=num_relations)
        return cls(num_nodes, num_negatives, strategy,
                   filter_index=filter_index, train_triples=triples,
                   num_relations=num_relations)

    def to(self, device: torch.device) -> 'NegativeSampler':
        r"""Moves the sampler's tensors to :obj:`device` (in place).

        Args:
            device (torch.device): The target device.
        """
        if self.filter_index is not None:
            self.filter_index = self.filter_index.to(device)
        if self.head_prob is not None:
            self.head_prob = self.head_prob.to(device)
        return self

    def head_probability(self, rel_type: Tensor) -> Tensor:
        r"""Returns the probability of corrupting the head of each triple
        (:math:`0.5` unless Bernoulli statistics were given).

        Args:
            rel_type (torch.Tensor): The relation type of each triple.
        """
        if self.head_prob is None:
            return torch.full(rel_type.shape, 0.5, device=rel_type.device)
        return self.head_prob.to(rel_type.device)[rel_type]

    def sample(
        self,
        head_index: Tensor,
        rel_type: Tensor,
        tail_index: Tensor,
        generator: Optional[torch.Generator] = None,
    ) -> Tuple[Tensor, Tensor]:
        r"""Samples negatives for a batch of positives.

        Args:
            head_index (torch.Tensor): The positive heads of shape
                :obj:`[B]`.
            rel_type (torch.Tensor): The positive relations of shape
                :obj:`[B]`.
            tail_index (torch.Tensor): The positive tails of shape
                :obj:`[B]`.
            generator (torch.Generator, optional): The random number
                generator, on the device of the triples.
                (default: :obj:`None`)

        Returns:
            A tuple :obj:`(neg_head, neg_tail)` of shape :obj:`[B, k]`; the
            relation of negative :obj:`[i, j]` is :obj:`rel_type[i]`.
        """
        k, device = self.num_negatives, head_index.device
        shape = (head_index.numel(), k)
        h = head_index.view(-1, 1).expand(shape)
        r = rel_type.view(-1, 1).expand(shape)
        t = tail_index.view(-1, 1).expand(shape)

        rand = torch.rand(shape, generator=generator, device=device)
        corrupt_head = rand < self.head_probability(r)

        if self.filter_index is None:
            # Uniform among the `N - 1` entities other than the positive one:
            other = torch.randint(0, self.num_nodes - 1, shape,
                                  generator=generator, device=device)
            anchor = torch.where(corrupt_head, h, t)
            other = other + (other >= anchor).long()
            neg_head = torch.where(corrupt_head, other, h)
            neg_tail = torch.where(corrupt_head, t, other)
            return neg_head, neg_tail

        filter_index = self.filter_index
        if filter_index.device != device:
            filter_index = filter_index.to(device)
        # Group ranges are computed once per positive, not per negative:
        base_h, lo_h, free_h = filter_index.query_ranges(
            'head', tail_index, rel_type)
        base_t, lo_t, free_t = filter_index.query_ranges(
            'tail', head_index, rel_type)
        head_ok, tail_ok = free_h > 0, free_t > 0
        if not bool((head_ok | tail_ok).all()):
            raise ValueError("Cannot sample a filtered negative: every "
                             "corruption of some positive triple is a known "
                             "true triple")
        corrupt_head = ((corrupt_head & head_ok.view(-1, 1))
                        | ~tail_ok.view(-1, 1))

        base = torch.where(corrupt_head, base_h.view(-1, 1),
                           base_t.view(-1, 1))
        lo = torch.where(corrupt_head, lo_h.view(-1, 1), lo_t.view(-1, 1))
        free = torch.where(corrupt_head, free_h.view(-1, 1),
                           free_t.view(-1, 1))
        other = filter_index.draw_complement(corrupt_head, base, lo, free,
                                             generator)
        neg_head = torch.where(corrupt_head, other, h)
        neg_tail = torch.where(corrupt_head, t, other)
        return neg_head, neg_tail

    def __call__(self, head_index: Tensor, rel_type: Tensor,
                 tail_index: Tensor,
                 generator: Optional[torch.Generator] = None):
        return self.sample(head_index, rel_type, tail_index, generator)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_nodes={self.num_nodes}, '
                f'num_negatives={self.num_negatives}, '
                f'strategy={self.strategy}, '
                f'filtered={self.filter_index is not None})')
