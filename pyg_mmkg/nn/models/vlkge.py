import math
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Identity, Linear, ModuleDict, Parameter

from pyg_mmkg.nn.kge import (ComplExScorer, DistMultScorer, RotatEScorer,
                             Scorer, TransEScorer)
from pyg_mmkg.nn.models.base import (Features, MultimodalKGEModel,
                                     build_encoder, features_from_data,
                                     seen_in_train)

Encoded = Tuple[Tensor, Tensor]
SCORERS = {
    'transe': TransEScorer,
    'distmult': DistMultScorer,
    'complex': ComplExScorer,
    'rotate': RotatEScorer,
}
FUSIONS = ('average', 'weighted', 'sum')


def resolve_scorer(scorer: Union[str, Scorer], **kwargs: Any) -> Scorer:
    r"""Returns a :class:`~pyg_mmkg.nn.kge.Scorer` from its name
    (:obj:`"transe"`, :obj:`"distmult"`, :obj:`"complex"`,
    :obj:`"rotate"`) or the scorer itself."""
    if isinstance(scorer, Scorer):
        return scorer
    cls = SCORERS.get(str(scorer).lower())
    if cls is None:
        raise ValueError(f"Unknown scorer '{scorer}' (choose from "
                         f"{', '.join(SCORERS)} or pass a Scorer)")
    return cls(**kwargs)


class VLKGE(MultimodalKGEModel):
    r"""The VL-KGE model from the `"Vision-Language Models Meet Knowledge
    Graph Embeddings" <https://arxiv.org/abs/2603.02435>`_ paper (WWW 2026).

    Frozen entity features of a vision-language (or text) encoder are
    projected into the entity space (no projection when sizes already
    match) and fused with a structural embedding by averaging the available
    modalities of each entity:

    .. math::
        \mathbf{e}_i = \frac{s_i \mathbf{e}^s_i + \sum_m a_{im}
        \mathbf{P}_m \mathbf{x}^m_i}{s_i + \sum_m a_{im}}

    where :math:`a_{im} \in \{0, 1\}` tells whether entity :math:`i` has
    modality :math:`m`, and :math:`s_i = 1` unless :obj:`inductive=True`
    and :math:`i` never occurs in a training triple, in which case its
    (untrained) structural embedding is dropped and :math:`i` is represented
    by its features alone. Any :class:`~pyg_mmkg.nn.kge.Scorer` (TransE,
    DistMult, ComplEx, RotatE) scores the fused representations; the
    published loss (:meth:`training_loss`, :meth:`loss`) is the logistic
    loss over positives and sampled negatives.

    .. note::
        The official code filters head and tail queries with one map keyed
        by (entity, relation) that merges both directions, which removes
        too many candidates; :func:`pyg_mmkg.evaluation.evaluate` filters
        each side with its own index. The divisor of the fusion also leaves
        out dropped structural embeddings of unseen entities (the official
        code zeroes them but still counts them), which only rescales them.

    Args:
        num_nodes (int): The number of entities.
        num_relations (int): The number of relations.
        hidden_channels (int): The embedding size :math:`d` (entity
            representations have :obj:`scorer.entity_dim(d)` entries).
        scorer (str or Scorer, optional): The scoring function.
            (default: :obj:`"distmult"`)
        modalities (Sequence[str], optional): The modalities to fuse.
            (default: :obj:`("structure", "text", "image")`)
        features (Dict[str, Tuple[Tensor, Tensor]], optional): Per feature
            modality the features :obj:`[N, D]` and mask :obj:`[N]`.
            (default: :obj:`None`)
        fusion (str, optional): :obj:`"average"`, :obj:`"weighted"`
            (learnable softmax weight per modality, renormalised over the
            modalities an entity has) or :obj:`"sum"`.
            (default: :obj:`"average"`)
        project (bool, optional): Whether to learn a bias-free projection
            of the features; :obj:`None` projects only when the feature size
            differs from the entity size. (default: :obj:`None`)
        normalize (bool, optional): L2-normalise each modality before the
            fusion. (default: :obj:`False`)
        seen_mask (torch.Tensor, optional): Boolean :obj:`[N]` mask of the
            entities with a trained structural embedding (see
            :meth:`from_data` with :obj:`inductive=True`). (default:
            :obj:`None`, all)
        encoder (torch.nn.Module, optional): A relational encoder applied to
            the fused entity representations. (default: :obj:`None`)
        reciprocal (bool, optional): Learn inverse relations.
            (default: :obj:`False`)
        sparse (bool, optional): Sparse embedding gradients.
            (default: :obj:`False`)
        **scorer_kwargs (optional): Arguments of the scorer, *e.g.*
            :obj:`p_norm` or :obj:`margin`.
    """
    def __init__(
        self,
        num_nodes: int,
        num_relations: int,
        hidden_channels: int,
        scorer: Union[str, Scorer] = 'distmult',
        modalities: Sequence[str] = ('structure', 'text', 'image'),
        features: Optional[Features] = None,
        fusion: str = 'average',
        project: Optional[bool] = None,
        normalize: bool = False,
        seen_mask: Optional[Tensor] = None,
        encoder: Optional[torch.nn.Module] = None,
        reciprocal: bool = False,
        sparse: bool = False,
        **scorer_kwargs: Any,
    ):
        scorer = resolve_scorer(scorer, **scorer_kwargs)
        super().__init__(num_nodes, num_relations, hidden_channels, scorer,
                         sparse, reciprocal)
        if fusion not in FUSIONS:
            raise ValueError(f"Unknown fusion '{fusion}' (choose from "
                             f"{', '.join(FUSIONS)})")
        self._init_multimodal(modalities, features, encoder)
        if len(self.active_modalities) == 0:
            raise ValueError('VLKGE needs at least one modality')
        self.fusion, self.normalize = fusion, normalize
        dim = scorer.entity_dim(hidden_channels)
        self.proj = ModuleDict()
        for m in self.feature_modalities:
            in_dim = self.feature_dim(m)
            if project or (project is None and in_dim != dim):
                self.proj[m] = Linear(in_dim, dim, bias=False)
            elif in_dim != dim:
                raise ValueError(f"'{m}' features have {in_dim} channels but "
                                 f"entities {dim}; set 'project=True'")
            else:
                self.proj[m] = Identity()
        num_parts = len(self.active_modalities)
        self.fusion_logit = (Parameter(torch.zeros(num_parts))
                             if fusion == 'weighted' else None)
        if seen_mask is None:
            seen_mask = torch.ones(num_nodes, dtype=torch.bool)
        self.register_buffer('seen_mask', seen_mask.view(-1).bool().clone())
        for emb in [self.node_emb, self.node_emb_im]:
            if emb is not None:
                emb.requires_grad_(self.use_structure)
        self.reset_parameters()

    @classmethod
    def from_data(cls, data: Any, hidden_channels: int = 64,
                  modalities: Sequence[str] = ('structure', 'text', 'image'),
                  inductive: bool = True, encoder: Any = None,
                  encoder_kwargs: Optional[Dict[str, Any]] = None,
                  **kwargs: Any) -> 'VLKGE':
        r"""Builds the model for the knowledge graph :obj:`data` with the
        entity features of :obj:`modalities` as frozen buffers. With
        :obj:`inductive=True`, entities absent from the training triples
        are scored from their features only. :obj:`encoder` may be
        :obj:`"rgcn"`, :obj:`"compgcn"` or a module (training graph only).
        """
        from pyg_mmkg.data import num_entities, num_relations
        scorer = resolve_scorer(kwargs.pop('scorer', 'distmult'),
                                **kwargs.pop('scorer_kwargs', {}))
        encoder = build_encoder(encoder, data,
                                scorer.entity_dim(hidden_channels),
                                **(encoder_kwargs or {}))
        return cls(num_entities(data), num_relations(data), hidden_channels,
                   scorer=scorer, modalities=modalities,
                   features=features_from_data(data, modalities),
                   seen_mask=seen_in_train(data) if inductive else None,
                   encoder=encoder, **kwargs)

    def reset_parameters(self):
        for emb in [self.node_emb, self.node_emb_im, self.rel_emb_im]:
            if emb is not None:
                torch.nn.init.xavier_uniform_(emb.weight)
        if isinstance(self.scorer, RotatEScorer):
            torch.nn.init.uniform_(self.rel_emb.weight, 0, 2 * math.pi)
        else:
            torch.nn.init.xavier_uniform_(self.rel_emb.weight)
        for proj in self.proj.values():
            if isinstance(proj, Linear):
                torch.nn.init.xavier_uniform_(proj.weight)
        if self.fusion_logit is not None:
            torch.nn.init.zeros_(self.fusion_logit)
        self.scorer.reset_parameters()

    def encode(self) -> Encoded:
        parts, masks = [], []
        if self.use_structure:
            ent_s = self._embed(self.node_emb, self.node_emb_im, None)
            seen = self.seen_mask
            ent_s, seen = self.structure(ent_s * seen.unsqueeze(-1), seen)
            parts.append(ent_s)
            masks.append(seen)
        for m in self.feature_modalities:
            x, mask = self.feature(m)
            parts.append(self.proj[m](x))
            masks.append(mask)
        x = torch.stack(parts, dim=1)  # [N, P, D]
        if self.normalize:
            x = F.normalize(x, dim=-1)
        mask = torch.stack(masks, dim=1).to(x.dtype)  # [N, P]
        if self.fusion == 'average':
            weight = mask / mask.sum(1, keepdim=True).clamp(min=1.0)
        elif self.fusion == 'weighted':
            weight = torch.softmax(self.fusion_logit, 0).view(1, -1) * mask
            weight = weight / weight.sum(1, keepdim=True).clamp(min=1e-12)
        else:
            weight = mask
        ent = (weight.unsqueeze(-1) * x).sum(1)
        rel = self._embed(self.rel_emb, self.rel_emb_im, None)
        return self.refine(ent, rel)

    def training_loss(self, batch: Any, encoded: Encoded) -> Optional[Tensor]:
        r"""The published logistic loss :math:`\mathrm{mean}(\log(1 +
        \exp(-y s)))` over the positives and negatives of an sLCWA batch
        of the trainer; returns :obj:`None` for 1-N batches (the
        trainer's configured 1-N loss is used then)."""
        if batch.regime != 'slcwa':
            return None
        from pyg_mmkg.train.losses import softplus_loss
        from pyg_mmkg.train.objectives import slcwa_scores
        return softplus_loss(*slcwa_scores(self, batch, encoded))

    def loss(self, head_index: Tensor, rel_type: Tensor,
             tail_index: Tensor) -> Tensor:
        r"""The logistic loss with one random negative per positive (drawn
        by :meth:`random_sample`), for PyG's training loops."""
        from pyg_mmkg.train.losses import softplus_loss
        pos, neg = self._sampled_scores(head_index, rel_type, tail_index)
        return softplus_loss(pos, neg.view(-1, 1))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_nodes}, '
                f'num_relations={self.num_relations}, '
                f'hidden_channels={self.hidden_channels}, '
                f'scorer={self.scorer}, fusion={self.fusion}, '
                f'{self._extra_repr_args()})')
