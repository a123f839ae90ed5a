import inspect
from typing import Any, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Embedding
from torch_geometric.nn.kge import KGEModel

from pyg_mmkg.nn.kge.scorer import Scorer
from pyg_mmkg.nn.kge.spec import record_constructor_arguments

Encoded = Tuple[Tensor, Tensor]


class ScoredKGEModel(KGEModel):
    r"""An abstract base class for knowledge graph embedding models that
    separate *representation* from *scoring*.

    The model produces all entity and relation representations via
    :meth:`encode` and scores them with a :class:`Scorer`.
    Unimodal models (:class:`TransE`, :class:`DistMult`, ...) encode with
    embedding tables named as in :class:`torch_geometric.nn.kge.KGEModel`
    (:obj:`node_emb`, :obj:`rel_emb`, plus :obj:`node_emb_im` and
    :obj:`rel_emb_im` for complex-valued scorers), so that their
    :meth:`state_dict` is interchangeable with the one of PyG's models.
    Multimodal models override :meth:`encode` only; every scoring method
    goes through :meth:`encode` or its cached output :obj:`encoded`.

    Besides scoring triples via :meth:`forward`, the model scores queries
    against all entities via :meth:`score_tails` and :meth:`score_heads`.
    With :obj:`reciprocal=True`, the model holds :obj:`2 * num_relations`
    relation representations, where relation :obj:`r + num_relations` is the
    inverse of relation :obj:`r`, and head queries :math:`(?, r, t)` are
    answered as tail queries :math:`(t, r^{-1}, ?)`.

    Args:
        num_nodes (int): The number of nodes/entities in the graph.
        num_relations (int): The number of relations in the graph.
        hidden_channels (int): The hidden embedding size.
        scorer (Scorer): The scoring function. Its
            :meth:`~Scorer.entity_dim` and :meth:`~Scorer.relation_dim`
            determine the size of the representations.
        sparse (bool, optional): If set to :obj:`True`, gradients w.r.t. to
            the embedding matrices will be sparse. (default: :obj:`False`)
        reciprocal (bool, optional): If set to :obj:`True`, learns a separate
            representation for the inverse of each relation and scores head
            queries with it. (default: :obj:`False`)
    """
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Remember how each instance is built (for re-opening runs).
        record_constructor_arguments(cls)

    def __init__(
        self,
        num_nodes: int,
        num_relations: int,
        hidden_channels: int,
        scorer: Scorer,
        sparse: bool = False,
        reciprocal: bool = False,
    ):
        super().__init__(num_nodes, num_relations, hidden_channels, sparse)
        self.scorer = scorer
        self.reciprocal = reciprocal

        # Split complex-valued representations into a real and an imaginary
        # table (as PyG does); otherwise resize the tables if needed:
        num_rel = self.num_relation_representations
        ent_dim = scorer.entity_dim(hidden_channels)
        rel_dim = scorer.relation_dim(hidden_channels)
        self.node_emb_im: Optional[Embedding] = None
        self.rel_emb_im: Optional[Embedding] = None
        if ent_dim == 2 * hidden_channels:
            self.node_emb_im = Embedding(num_nodes, hidden_channels,
                                         sparse=sparse)
        elif ent_dim != hidden_channels:
            self.node_emb = Embedding(num_nodes, ent_dim, sparse=sparse)
        if rel_dim == 2 * hidden_channels:
            self.rel_emb_im = Embedding(num_rel, hidden_channels,
                                        sparse=sparse)
            rel_dim = hidden_channels
        if rel_dim != hidden_channels or num_rel != num_relations:
            self.rel_emb = Embedding(num_rel, rel_dim, sparse=sparse)

    @property
    def num_relation_representations(self) -> int:
        r"""The number of relation representations: :obj:`2 * num_relations`
        if :obj:`reciprocal=True`, else :obj:`num_relations`.
        """
        return (2 if self.reciprocal else 1) * self.num_relations

    def reset_parameters(self):
        super().reset_parameters()
        if self.node_emb_im is not None:
            self.node_emb_im.reset_parameters()
        if self.rel_emb_im is not None:
            self.rel_emb_im.reset_parameters()
        self.scorer.reset_parameters()

    @staticmethod
    def _embed(emb: Embedding, emb_im: Optional[Embedding],
               index: Optional[Tensor]) -> Tensor:
        if index is None:
            out, out_im = emb.weight, None
            if emb_im is not None:
                out_im = emb_im.weight
        else:
            out, out_im = emb(index), None
            if emb_im is not None:
                out_im = emb_im(index)
        return out if out_im is None else torch.cat([out, out_im], dim=-1)

    def encode(self) -> Encoded:
        r"""Returns the representations of all entities, of shape
        :obj:`[num_nodes, D]`, and of all relations, of shape
        :obj:`[num_relation_representations, D_r]`.
        Subclasses override this method to fuse features or to run a
        relational encoder.
        """
        return (self._embed(self.node_emb, self.node_emb_im, None),
                self._embed(self.rel_emb, self.rel_emb_im, None))

    def _encodes_tables(self) -> bool:
        # The plain tables can be looked up row-wise (cheaper, and sparse
        # gradients stay sparse) as long as `encode` is not overridden:
        return type(self).encode is ScoredKGEModel.encode

    def _scores_sampled(self) -> bool:
        # Broadcast sLCWA scoring needs the scorer's `score_sampled` and the
        # plain `forward` (scorer on looked-up representations):
        return (callable(getattr(self.scorer, 'score_sampled', None))
                and type(self).forward is ScoredKGEModel.forward
                and type(self)._gather is ScoredKGEModel._gather)

    def _gather(
        self,
        head_index: Tensor,
        rel_type: Tensor,
        tail_index: Tensor,
        encoded: Optional[Encoded],
    ) -> Tuple[Tensor, Tensor, Tensor]:
        if encoded is None and self._encodes_tables():
            # One lookup for heads and tails together: a single backward
            # pass (and gradient buffer) per entity table instead of two,
            # 9-22% faster sLCWA epochs (benchmarks/results/speed.md).
            # `split` (not slicing): its backward is one `cat`, slicing
            # would zero-fill a full-size gradient buffer per slice.
            n = head_index.numel()
            ent = self._embed(self.node_emb, self.node_emb_im,
                              torch.cat([head_index.reshape(-1),
                                         tail_index.reshape(-1)]))
            head, tail = ent.split([n, tail_index.numel()])
            return (
                head.view(*head_index.shape, -1),
                self._embed(self.rel_emb, self.rel_emb_im, rel_type),
                tail.view(*tail_index.shape, -1),
            )
        ent, rel = self.encode() if encoded is None else encoded
        return ent[head_index], rel[rel_type], ent[tail_index]

    def forward(
        self,
        head_index: Tensor,
        rel_type: Tensor,
        tail_index: Tensor,
        encoded: Optional[Encoded] = None,
    ) -> Tensor:
        r"""Returns the score for the given triplet.

        Args:
            head_index (torch.Tensor): The head indices.
            rel_type (torch.Tensor): The relation type.
            tail_index (torch.Tensor): The tail indices.
            encoded ((torch.Tensor, torch.Tensor), optional): The output of
                :meth:`encode`, to reuse representations across calls.
                (default: :obj:`None`)
        """
        head, rel, tail = self._gather(head_index, rel_type, tail_index,
                                       encoded)
        return self.scorer(head, rel, tail)

    def score_sampled(
        self,
        head_index: Tensor,
        rel_type: Tensor,
        tail_index: Tensor,
        neg_head: Tensor,
        neg_tail: Tensor,
        encoded: Optional[Encoded] = None,
    ) -> Tuple[Tensor, Tensor]:
        r"""Returns the scores :obj:`[B]` of the positives and :obj:`[B, k]`
        of their negatives :obj:`(neg_head[i, j], rel_type[i],
        neg_tail[i, j])` for sLCWA training.

        Where every negative keeps the head or the tail of its positive (as
        those of :class:`~pyg_mmkg.loader.NegativeSampler`), each table is
        looked up once per call (the :math:`B` heads, :math:`B` tails and
        :math:`B k` replacing entities, :math:`B` relations) and the scorer
        scores each positive's query against its :math:`k` candidates
        (:meth:`Scorer.score_sampled`), instead of building :math:`B k`
        full negative triples.
        The scores equal those of :meth:`forward` on the negative triples up
        to floating-point rounding (summation order; distance scorers score
        head candidates as :math:`\| c - (t - r) \|` instead of
        :math:`\| c + r - t \|`).
        Otherwise (other negatives, scorers without :meth:`score_sampled`,
        subclasses that override :meth:`forward`), the :math:`B (1 + k)`
        triples are scored with :meth:`forward`.

        Args:
            head_index (torch.Tensor): The positive heads :obj:`[B]`.
            rel_type (torch.Tensor): The positive relations :obj:`[B]`.
            tail_index (torch.Tensor): The positive tails :obj:`[B]`.
            neg_head (torch.Tensor): The negative heads :obj:`[B, k]`.
            neg_tail (torch.Tensor): The negative tails :obj:`[B, k]`.
            encoded ((torch.Tensor, torch.Tensor), optional): The output of
                :meth:`encode`. (default: :obj:`None`)
        """
        B, k = neg_head.shape
        cand_is_head = neg_tail == tail_index.view(-1, 1)
        if not self._scores_sampled() or not bool(
                (cand_is_head | (neg_head == head_index.view(-1, 1))).all()):
            h = torch.cat([head_index, neg_head.reshape(-1)])
            r = torch.cat([rel_type, rel_type.repeat_interleave(k)])
            t = torch.cat([tail_index, neg_tail.reshape(-1)])
            score = self(h, r, t, encoded=encoded)
            return score[:B], score[B:].view(B, k)
        cand = torch.where(cand_is_head, neg_head, neg_tail)
        index = torch.cat([head_index, tail_index, cand.reshape(-1)])
        # Scorers that normalize entities row-wise (TransE) get them
        # normalized where it is cheaper: the whole table if it has fewer
        # rows than the lookup, else the looked-up rows.
        normalize = getattr(self.scorer, 'normalize_entities', None)
        kwargs = {} if normalize is None else {'normalized': True}
        if (encoded is None and self._encodes_tables()
                and (normalize is None or index.numel() < self.num_nodes)):
            ent = self._embed(self.node_emb, self.node_emb_im, index)
            rel = self._embed(self.rel_emb, self.rel_emb_im, rel_type)
            if normalize is not None:
                ent = normalize(ent)
        else:
            ent, rel = self.encode() if encoded is None else encoded
            if normalize is not None and index.numel() < ent.size(0):
                ent = normalize(F.embedding(index, ent))
            else:
                if normalize is not None:
                    ent = normalize(ent)
                ent = F.embedding(index, ent)
            rel = F.embedding(rel_type, rel)
        head, tail, cand = ent.split([B, B, B * k])
        return self.scorer.score_sampled(head, rel, tail, cand.view(B, k, -1),
                                         cand_is_head, **kwargs)

    def score_tails(
        self,
        head_index: Tensor,
        rel_type: Tensor,
        encoded: Optional[Encoded] = None,
    ) -> Tensor:
        r"""Returns the scores of shape :obj:`[B, num_nodes]` of all
        candidate tails for each query :math:`(h, r, ?)`.

        Args:
            head_index (torch.Tensor): The head indices.
            rel_type (torch.Tensor): The relation type.
            encoded ((torch.Tensor, torch.Tensor), optional): The output of
                :meth:`encode`. (default: :obj:`None`)
        """
        ent, rel = self.encode() if encoded is None else encoded
        return self.scorer.score_tails(ent[head_index], rel[rel_type], ent)

    def score_heads(
        self,
        rel_type: Tensor,
        tail_index: Tensor,
        encoded: Optional[Encoded] = None,
    ) -> Tensor:
        r"""Returns the scores of shape :obj:`[B, num_nodes]` of all
        candidate heads for each query :math:`(?, r, t)`.
        If :obj:`reciprocal=True`, these are the tail scores of the query
        :math:`(t, r + \textrm{num\_relations}, ?)`.

        Args:
            rel_type (torch.Tensor): The relation type.
            tail_index (torch.Tensor): The tail indices.
            encoded ((torch.Tensor, torch.Tensor), optional): The output of
                :meth:`encode`. (default: :obj:`None`)
        """
        if self.reciprocal:
            return self.score_tails(tail_index, rel_type + self.num_relations,
                                    encoded)
        ent, rel = self.encode() if encoded is None else encoded
        return self.scorer.score_heads(rel[rel_type], ent[tail_index], ent)

    def _sampled_scores(
        self,
        head_index: Tensor,
        rel_type: Tensor,
        tail_index: Tensor,
    ) -> Tuple[Tensor, Tensor]:
        r"""Scores the positives and one negative per positive drawn by
        :meth:`random_sample`, encoding only once.
        """
        encoded = None if self._encodes_tables() else self.encode()
        pos_score = self(head_index, rel_type, tail_index, encoded=encoded)
        neg_score = self(*self.random_sample(head_index, rel_type, tail_index),
                         encoded=encoded)
        return pos_score, neg_score

    def _margin_ranking_loss(self, head_index: Tensor, rel_type: Tensor,
                             tail_index: Tensor, margin: float) -> Tensor:
        pos_score, neg_score = self._sampled_scores(head_index, rel_type,
                                                    tail_index)
        return F.margin_ranking_loss(pos_score, neg_score,
                                     target=torch.ones_like(pos_score),
                                     margin=margin)

    def _binary_cross_entropy_loss(self, head_index: Tensor, rel_type: Tensor,
                                   tail_index: Tensor) -> Tensor:
        pos_score, neg_score = self._sampled_scores(head_index, rel_type,
                                                    tail_index)
        scores = torch.cat([pos_score, neg_score], dim=0)
        target = torch.cat(
            [torch.ones_like(pos_score),
             torch.zeros_like(neg_score)], dim=0)
        return F.binary_cross_entropy_with_logits(scores, target)

    @classmethod
    def from_pyg(cls, model: KGEModel, **kwargs: Any) -> 'ScoredKGEModel':
        r"""Creates a model with the hyperparameters and a copy of the
        weights of a :class:`torch_geometric.nn.kge` model, *e.g.*,
        :obj:`TransE.from_pyg(pyg_transe)`.
        Called on :class:`ScoredKGEModel`, picks the class with the same name
        as the class of :obj:`model`.

        Args:
            model (torch_geometric.nn.kge.KGEModel): The PyG model.
            **kwargs (optional): Additional arguments of the new model's
                constructor, overriding the ones read from :obj:`model`.
        """
        target = cls
        if cls is ScoredKGEModel:
            from pyg_mmkg.nn.kge import ComplEx, DistMult, RotatE, TransE
            classes = {c.__name__: c for c in [TransE, DistMult, ComplEx,
                                               RotatE]}
            name = model.__class__.__name__
            if name not in classes:
                raise ValueError(f"No counterpart of '{name}' in "
                                 f"'pyg_mmkg.nn.kge' (expected one of "
                                 f"{sorted(classes)})")
            target = classes[name]

        params = inspect.signature(target.__init__).parameters
        args = {'sparse': model.node_emb.sparse}
        for key in ['margin', 'p_norm']:
            if key in params and hasattr(model, key):
                args[key] = getattr(model, key)
        args.update(kwargs)

        out = target(model.num_nodes, model.num_relations,
                     model.hidden_channels, **args)
        out.load_state_dict(model.state_dict())
        return out.to(model.node_emb.weight.device)

    def __repr__(self) -> str:
        out = super().__repr__()
        if self.reciprocal:
            out = f'{out[:-1]}, reciprocal=True)'
        return out
