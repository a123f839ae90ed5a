import math
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Identity, Linear, ModuleDict, Parameter

from pyg_mmkg.nn.kge import (ComplExScorer, DistMultScorer, RotatEScorer,
                             Scorer, TransEScorer)
from pyg_mmkg.nn.models._vlkge_recipes import RECIPES
from pyg_mmkg.nn.models.base import (Features, MultimodalKGEModel,
                                     build_encoder, features_from_data,
                                     seen_in_train)
from pyg_mmkg.train.config import SLCWA_LOSS_FIELDS

Encoded = Tuple[Tensor, Tensor]
SCORERS = {
    'transe': TransEScorer,
    'distmult': DistMultScorer,
    'complex': ComplExScorer,
    'rotate': RotatEScorer,
}
# The scorer arguments of the official models (vlkge/models/transe.py and
# rotate.py; configs: p_norm 1, normalize_relations true, margin 12):
OFFICIAL_SCORER_KWARGS = {
    'transe': dict(p_norm=1.0, norm_p=2.0, normalize_relations=True,
                   margin=12.0),
    'rotate': dict(margin=12.0),
}
FUSIONS = ('average', 'weighted', 'sum')
LAYOUTS = ('official', 'split')
UNSEEN_STRUCTURE = ('count', 'exclude')


def resolve_scorer(scorer: Union[str, Scorer], **kwargs: Any) -> Scorer:
    r"""Returns a :class:`~pyg_mmkg.nn.kge.Scorer` from its name
    (:obj:`"transe"`, :obj:`"distmult"`, :obj:`"complex"`,
    :obj:`"rotate"`) or the scorer itself. A name gets the arguments of the
    official VL-KGE models (TransE: margin 12, :math:`L_1` distance of
    :math:`L_2`-normalized entities and relations; RotatE: margin 12),
    which :obj:`kwargs` override."""
    if isinstance(scorer, Scorer):
        return scorer
    name = str(scorer).lower()
    cls = SCORERS.get(name)
    if cls is None:
        raise ValueError(f"Unknown scorer '{scorer}' (choose from "
                         f"{', '.join(SCORERS)} or pass a Scorer)")
    return cls(**{**OFFICIAL_SCORER_KWARGS.get(name, {}), **kwargs})


class VLKGE(MultimodalKGEModel):
    r"""The VL-KGE model from the `"Vision-Language Models Meet Knowledge
    Graph Embeddings" <https://arxiv.org/abs/2603.02435>`_ paper (WWW 2026).

    Frozen entity features of a vision-language (or text) encoder are
    projected into the entity space (no projection when sizes already
    match) and fused with a structural embedding by averaging the available
    modalities of each entity:

    .. math::
        \mathbf{e}_i = \frac{s_i \mathbf{e}^s_i + \sum_m a_{im}
        \mathbf{P}_m \mathbf{x}^m_i}{c_i + \sum_m a_{im}}

    where :math:`a_{im} \in \{0, 1\}` tells whether entity :math:`i` has
    modality :math:`m`. :math:`s_i = c_i = 1`, except with
    :obj:`inductive=True` for an entity :math:`i` that occurs in no
    training triple: its (untrained) structural embedding is zeroed
    (:math:`s_i = 0`) but still counted in the divisor (:math:`c_i = 1`,
    official), or left out of it with :obj:`unseen_structure="exclude"`
    (:math:`c_i = 0`). The two divisors rank unseen candidates differently
    against seen ones (with DistMult, an unseen entity with text and image
    scores :math:`3/2` times higher under :obj:`"exclude"`), so they are
    not equivalent.

    Any :class:`~pyg_mmkg.nn.kge.Scorer` (TransE, DistMult, ComplEx, RotatE)
    scores the fused representations. For the complex-valued ComplEx and
    RotatE, the fused vector is the **real part** only, of size
    :obj:`hidden_channels` (the rank; 768 = CLIP's feature size in the
    paper, hence no projection), and the imaginary part is a separate
    structural table that is not fused (official layout;
    :obj:`complex_layout="split"` instead fuses features into both halves
    of a rank-:obj:`hidden_channels` vector, *i.e.* at half the rank for
    the same feature size). Scorers given by name use the official
    arguments: TransE :math:`12 - \|\bar{\mathbf{e}}_h + \bar{\mathbf{r}} -
    \bar{\mathbf{e}}_t\|_1` with :math:`L_2`-normalized
    :math:`\bar{\cdot}`, RotatE with margin 12. The published loss
    (:meth:`training_loss`, :meth:`loss`) is the logistic loss over
    positives and sampled negatives; :attr:`recipes` holds the published
    training configurations.

    Deviations from the official code (thefth/vl-kge @ c78994e):

    * Evaluation: the official code filters head and tail queries with one
      map keyed by (entity, relation) that merges both directions, which
      removes too many candidates, and breaks ties by entity index;
      :func:`pyg_mmkg.evaluation.evaluate` filters each side with its own
      index and uses realistic ties.
    * Negatives (:class:`~pyg_mmkg.train.Trainer`): the official sampler
      rejects corruptions found in train, validation *and* test triples;
      the library filters against training triples only. The side to
      corrupt is drawn per negative, not per positive.
    * Missing modalities always use per-entity masks (the official
      :obj:`modality_asymmetry=True` path); with every modality present
      (WN9-IMG) both paths agree.
    * With :obj:`inductive=True`, ComplEx/RotatE zero the imaginary row of
      unseen entities as well; the official inductive (WikiArt) models
      build the imaginary part from a text-indexed table and a gated
      projection of the real part instead, which is not implemented.
    * The :obj:`"structure"` ablation of :meth:`ablate` also ablates the
      imaginary table. Without :obj:`"structure"` among the modalities the
      imaginary table is still trained, as in the official code.
    * Relation-name features, residual adapters, shared projections and
      concatenation fusion are not implemented.

    Args:
        num_nodes (int): The number of entities.
        num_relations (int): The number of relations.
        hidden_channels (int): The embedding size :math:`d`: the size of
            fused entity vectors, and the rank of ComplEx/RotatE (entity
            representations have :obj:`scorer.entity_dim(d)` entries).
        scorer (str or Scorer, optional): The scoring function (see
            :func:`resolve_scorer`). (default: :obj:`"distmult"`)
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
            differs from the fused size. (default: :obj:`None`)
        normalize (bool, optional): L2-normalise each modality before the
            fusion. (default: :obj:`False`)
        seen_mask (torch.Tensor, optional): Boolean :obj:`[N]` mask of the
            entities with a trained structural embedding (see
            :meth:`from_data` with :obj:`inductive=True`). (default:
            :obj:`None`, all)
        unseen_structure (str, optional): Whether the zeroed structural
            embedding of an entity outside :obj:`seen_mask` is still counted
            in the divisor of the average (:obj:`"count"`, official) or not
            (:obj:`"exclude"`). (default: :obj:`"count"`)
        complex_layout (str, optional): For ComplEx/RotatE, :obj:`"official"`
            (features fused into the real part, separate imaginary table) or
            :obj:`"split"` (features fused into both halves).
            (default: :obj:`"official"`)
        encoder (torch.nn.Module, optional): A relational encoder applied to
            the fused entity representations. (default: :obj:`None`)
        reciprocal (bool, optional): Learn inverse relations.
            (default: :obj:`False`)
        sparse (bool, optional): Sparse embedding gradients.
            (default: :obj:`False`)
        **scorer_kwargs (optional): Arguments of the scorer, *e.g.*
            :obj:`p_norm` or :obj:`margin`.
    """
    #: The published training configurations per dataset
    #: (:mod:`pyg_mmkg.train.recipes`; deviations in their :obj:`notes`).
    #: Config fields its training_loss ignores, per regime (it defines
    #: its own objective there): the trainer warns when they are set.
    ignores_config = {'slcwa': SLCWA_LOSS_FIELDS}
    recipes = RECIPES

    keeps_half_features = True  # Features are read through `feature`.

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
        unseen_structure: str = 'count',
        complex_layout: str = 'official',
        encoder: Optional[torch.nn.Module] = None,
        reciprocal: bool = False,
        sparse: bool = False,
        **scorer_kwargs: Any,
    ):
        scorer = resolve_scorer(scorer, **scorer_kwargs)
        super().__init__(num_nodes, num_relations, hidden_channels, scorer,
                         sparse, reciprocal)
        for name, value, choices in [('fusion', fusion, FUSIONS),
                                     ('unseen_structure', unseen_structure,
                                      UNSEEN_STRUCTURE),
                                     ('complex_layout', complex_layout,
                                      LAYOUTS)]:
            if value not in choices:
                raise ValueError(f"Unknown {name} '{value}' (choose from "
                                 f"{', '.join(choices)})")
        self._init_multimodal(modalities, features, encoder)
        if len(self.active_modalities) == 0:
            raise ValueError('VLKGE needs at least one modality')
        self.fusion, self.normalize = fusion, normalize
        self.unseen_structure = unseen_structure
        self.complex_layout = complex_layout
        # Official layout: features are fused into the real table only.
        self.real_only = (self.node_emb_im is not None
                          and complex_layout == 'official')
        dim = (self.node_emb.embedding_dim if self.real_only else
               scorer.entity_dim(hidden_channels))
        self.proj = ModuleDict()
        for m in self.feature_modalities:
            in_dim = self.feature_dim(m)
            if project or (project is None and in_dim != dim):
                self.proj[m] = Linear(in_dim, dim, bias=False)
            elif in_dim != dim:
                raise ValueError(f"'{m}' features have {in_dim} channels but "
                                 f"fused vectors {dim}; set 'project=True'")
            else:
                self.proj[m] = Identity()
        num_parts = len(self.active_modalities)
        self.fusion_logit = (Parameter(torch.zeros(num_parts))
                             if fusion == 'weighted' else None)
        if seen_mask is None:
            seen_mask = torch.ones(num_nodes, dtype=torch.bool)
        self.register_buffer('seen_mask', seen_mask.view(-1).bool().clone())
        self.node_emb.requires_grad_(self.use_structure)
        if self.node_emb_im is not None:
            self.node_emb_im.requires_grad_(self.use_structure
                                            or self.real_only)
        self.reset_parameters()

    @classmethod
    def from_data(cls, data: Any, hidden_channels: Optional[int] = None,
                  modalities: Sequence[str] = ('structure', 'text', 'image'),
                  inductive: bool = False, encoder: Any = None,
                  encoder_kwargs: Optional[Dict[str, Any]] = None,
                  **kwargs: Any) -> 'VLKGE':
        r"""Builds the model for the knowledge graph :obj:`data` with the
        entity features of :obj:`modalities` as frozen buffers. With
        :obj:`inductive=True` (as in the official WikiArt configurations;
        the WN9-IMG ones use :obj:`False`), entities absent from the
        training triples get no structural embedding and are scored from
        their features (see :obj:`unseen_structure`). :obj:`encoder` may be
        :obj:`"rgcn"`, :obj:`"compgcn"` or a module (training graph only).
        Without :obj:`hidden_channels`, the rank is the size of the first
        feature modality present (as the official code, where it is the
        CLIP feature size: no projection), or 64 without features.

        Args:
            data (Any): The knowledge graph (:mod:`pyg_mmkg.data` contract).
            hidden_channels (int, optional): The rank. (default: :obj:`None`)
            modalities (Sequence[str], optional): The modalities.
                (default: :obj:`("structure", "text", "image")`)
            inductive (bool, optional): If set to :obj:`True`, entities
                absent from the training triples are scored from their
                features only. (default: :obj:`False`)
            encoder (str or torch.nn.Module, optional): :obj:`"rgcn"`,
                :obj:`"compgcn"` or a module refining the representations
                over the training graph. (default: :obj:`None`)
            encoder_kwargs (Dict[str, Any], optional): Arguments of the
                encoder built from a name. (default: :obj:`None`)
            **kwargs (optional): Further arguments of :class:`VLKGE`
                (:obj:`scorer` and :obj:`scorer_kwargs` included).
        """
        from pyg_mmkg.data import num_entities, num_relations
        features = features_from_data(data, modalities)
        if hidden_channels is None:
            sizes = [x.size(-1) for x, _ in features.values()]
            hidden_channels = int(sizes[0]) if sizes else 64
        scorer = resolve_scorer(kwargs.pop('scorer', 'distmult'),
                                **kwargs.pop('scorer_kwargs', {}))
        encoder = build_encoder(encoder, data,
                                scorer.entity_dim(hidden_channels),
                                **(encoder_kwargs or {}))
        return cls(num_entities(data), num_relations(data), hidden_channels,
                   scorer=scorer, modalities=modalities,
                   features=features,
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
        parts, masks, imag = [], [], None
        seen = self.seen_mask
        if self.use_structure:
            # [Re | Im] of complex-valued scorers: ablated together.
            ent_s = self._embed(self.node_emb, self.node_emb_im, None)
            count = (seen if self.unseen_structure == 'exclude' else
                     torch.ones_like(seen))
            ent_s, count = self.structure(ent_s * seen.unsqueeze(-1), count)
            if self.real_only:
                ent_s, imag = ent_s.chunk(2, dim=-1)
            parts.append(ent_s)
            masks.append(count)
        elif self.real_only:
            imag = self.node_emb_im.weight * seen.unsqueeze(-1)
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
        if imag is not None:
            ent = torch.cat([ent, imag], dim=-1)
        rel = self._embed(self.rel_emb, self.rel_emb_im, None)
        return self.refine(ent, rel)

    def training_loss(self, batch: Any, encoded: Encoded) -> Optional[Tensor]:
        r"""The published logistic loss :math:`\mathrm{mean}(\log(1 +
        \exp(-y s)))` over the positives and negatives of an sLCWA batch
        of the trainer; returns :obj:`None` for 1-N batches (the
        trainer's configured 1-N loss is used then).

        Args:
            batch (TrainBatch): The trainer batch.
            encoded ((torch.Tensor, torch.Tensor)): The output of
                :meth:`encode`.
        """
        if batch.regime != 'slcwa':
            return None
        from pyg_mmkg.train.losses import softplus_loss
        from pyg_mmkg.train.objectives import slcwa_scores
        return softplus_loss(*slcwa_scores(self, batch, encoded))

    def loss(self, head_index: Tensor, rel_type: Tensor,
             tail_index: Tensor) -> Tensor:
        r"""The logistic loss with one random negative per positive (drawn
        by :meth:`random_sample`), for PyG's training loops.

        Args:
            head_index (torch.Tensor): The head indices :obj:`[B]`.
            rel_type (torch.Tensor): The relation types :obj:`[B]`.
            tail_index (torch.Tensor): The tail indices :obj:`[B]`.
        """
        from pyg_mmkg.train.losses import softplus_loss
        pos, neg = self._sampled_scores(head_index, rel_type, tail_index)
        return softplus_loss(pos, neg.view(-1, 1))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_nodes}, '
                f'num_relations={self.num_relations}, '
                f'hidden_channels={self.hidden_channels}, '
                f'scorer={self.scorer}, fusion={self.fusion}, '
                + (f'complex_layout={self.complex_layout}, '
                   if self.node_emb_im is not None else '')
                + f'{self._extra_repr_args()})')
