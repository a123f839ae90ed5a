from typing import Any, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch.nn import Parameter, ParameterDict

from pyg_mmkg.nn.kge.complex_scorer import ComplExScorer
from pyg_mmkg.nn.models._otkge_recipe import OTKGE_RECIPES
from pyg_mmkg.nn.models._sinkhorn import log_sinkhorn
from pyg_mmkg.nn.models.base import (Features, MultimodalKGEModel,
                                     check_positive, features_from_data)

Encoded = Tuple[Tensor, Tensor]
SAMPLES = ('first', 'random')


def ot_projection(x: Tensor, e: Tensor, scale: float, lam: float = 0.1,
                  max_iter: int = 1000, tol: float = 1e-9) -> Tensor:
    r"""OTKGE's optimal-transport projection without :math:`\Delta`: for
    each of the :math:`K` entities, the entropic plan
    :math:`\mathbf{P}^{(i)} \in \mathbb{R}^{d_m \times D}` between the
    :math:`d_m` scalar coordinates of its modality vector
    :obj:`x[i]` and the :math:`D` coordinates of its structural vector
    :obj:`e[i]` (uniform marginals, cost
    :math:`C^{(i)}_{ab} = s (x_{ia} - e_{ib})^2`, kernel
    :math:`\exp(-\lambda C)`), averaged and scaled:
    :math:`\frac{1}{K} \sum_i \mathbf{P}^{(i)} \cdot D \cdot s`.

    Args:
        x (torch.Tensor): Modality vectors :obj:`[K, d_m]`.
        e (torch.Tensor): Structural vectors :obj:`[K, D]`.
        scale (float): The cost scale :math:`s`.
        lam (float, optional): The kernel rate :math:`\lambda`
            (:math:`\epsilon = 1 / \lambda`). (default: :obj:`0.1`)
        max_iter (int, optional): Sinkhorn iterations at most.
            (default: :obj:`1000`)
        tol (float, optional): Sinkhorn's stopping threshold.
            (default: :obj:`1e-9`)
    """
    with torch.no_grad():
        # [K, D, d_m]: rows are structural coordinates, columns modality
        # coordinates, as the official solver sees them.
        cost = scale * (x.unsqueeze(1) - e.unsqueeze(2)).pow(2)
        plan, _ = log_sinkhorn(cost, epsilon=1.0 / lam, max_iter=max_iter,
                               tol=tol)
        return plan.transpose(1, 2).mean(0) * e.size(-1) * scale


class OTKGE(MultimodalKGEModel):
    r"""The OTKGE model from the `"OTKGE: Multi-modal Knowledge Graph
    Embeddings via Optimal Transport"
    <https://openreview.net/forum?id=gbXqMdxsZIP>`_ paper (NeurIPS 2022).

    Each feature modality :math:`m` (image, text) is projected into the
    :math:`D = 2k` real coordinates of ComplEx by
    :math:`\mathbf{T}_m = \bar{\mathbf{P}}_m D s + \mathbf{\Delta}_m`, where
    :math:`\bar{\mathbf{P}}_m` is the mean entropic optimal-transport plan
    between the coordinates of the modality vectors and of the structural
    vectors of a few entities (see :func:`ot_projection`; no gradient flows
    through it) and :math:`\mathbf{\Delta}_m \in \mathbb{R}^{d_m \times D}`
    a learnable offset. Entities fuse as

    .. math::
        \tilde{\mathbf{e}} = (1 - \alpha - \gamma) \mathbf{e}^s + \alpha
        \mathbf{x}^{img} \mathbf{T}_{img} + \gamma \mathbf{x}^{txt}
        \mathbf{T}_{txt}

    and ComplEx scores :math:`\mathrm{Re}\langle \tilde{\mathbf{e}}_h,
    \mathbf{r}, \overline{\tilde{\mathbf{e}}_t} \rangle` against all
    :math:`\tilde{\mathbf{e}}`. The published loss (:meth:`training_loss`)
    is the 1-N softmax cross-entropy with reciprocal relations (optionally
    weighted per answer by its training frequency) plus N3 on the moduli of
    the fused head and tail and of the relation.

    The plans are solved in the log domain
    (:func:`~pyg_mmkg.nn.models._sinkhorn.log_sinkhorn`), batched over the
    :math:`K` entities. By default they are recomputed at every
    :meth:`encode` from entities :math:`0, \dots, K-1`, as released;
    :obj:`sample="random"` draws :math:`K` entities that have the modality
    per refresh, and :obj:`plan_every=n` refreshes the plans every
    :math:`n` training steps only (a training step is an :meth:`encode` in
    training mode with autograd on; the plans live in persistent buffers,
    and evaluation then reuses the last one).

    .. note::
        Deviations from the official code (:obj:`Lion-ZS/OTKGE@aa4caa1`):

        * Log-domain Sinkhorn instead of the scaling form with kernel
          :math:`\exp(-\lambda C)`, which underflows for costs above about
          :math:`10^3` in float32 (the official solver then stops with the
          previous iterate or a degenerate plan); no :math:`10^{-16}` added
          to the divisions. Identical plans where the kernel is
          representable.
        * A modality the model does not use has weight zero, and the
          structure takes :math:`1 -` the weights of the used feature
          modalities (the release always has both); structure alone is
          ComplEx-N3. Entities without a modality have zero features (the
          release has features for every entity).
        * Model selection on validation MRR by the library (the release
          tests its last epoch).
        * The unused tables of the release (:obj:`embeddings1`,
          :obj:`bias1`, :obj:`bias2`) are left out.

    Args:
        num_nodes (int): The number of entities.
        num_relations (int): The number of relations.
        hidden_channels (int): The ComplEx rank :math:`k`
            (:math:`D = 2k` real coordinates). (default: :obj:`500`)
        modalities (Sequence[str], optional): :obj:`"structure"` (required)
            and any of :obj:`"image"`, :obj:`"text"`.
            (default: :obj:`("structure", "image", "text")`)
        features (Dict[str, Tuple[Tensor, Tensor]], optional): Per feature
            modality the features :obj:`[N, d_m]` and mask :obj:`[N]`.
            (default: :obj:`None`)
        alpha (float, optional): The image weight :math:`\alpha`.
            (default: :obj:`0.1`)
        gamma (float, optional): The text weight :math:`\gamma` (0.8 on
            WN9-IMG, 0.7 on FB-IMG). (default: :obj:`0.8`)
        ot_scale (float, optional): The cost and plan scale :math:`s` (100
            on WN9-IMG, 300 on FB-IMG). (default: :obj:`100.0`)
        ot_lambda (float, optional): The kernel rate :math:`\lambda`.
            (default: :obj:`0.1`)
        ot_entities (int, optional): :math:`K`, the entities per plan.
            (default: :obj:`10`)
        sample (str, optional): :obj:`"first"` (ids :math:`0..K-1`, as
            released) or :obj:`"random"`. (default: :obj:`"first"`)
        plan_every (int, optional): Training steps between plan refreshes.
            (default: :obj:`1`)
        sinkhorn_iters (int, optional): Sinkhorn iterations at most.
            (default: :obj:`1000`)
        sinkhorn_tol (float, optional): Sinkhorn's threshold on the squared
            marginal error. (default: :obj:`1e-9`)
        n3_weight (float, optional): Weight of N3. (default: :obj:`5e-3`)
        init_scale (float, optional): Standard deviation of the initial
            entity and relation tables. (default: :obj:`1e-3`)
        entity_weight (torch.Tensor, optional): Cross-entropy weight
            :obj:`[N]` of each answer entity. (default: :obj:`None`)
        seed (int, optional): Seed of :obj:`sample="random"`.
            (default: :obj:`0`)
        reciprocal (bool, optional): Learn inverse relations.
            (default: :obj:`True`)
        sparse (bool, optional): Sparse embedding gradients.
            (default: :obj:`False`)
    """
    #: Config fields its training_loss ignores, per regime.
    ignores_config = {'1vsall': ('loss', 'label_smoothing'),
                      'kvsall': ('loss', )}
    recipes = OTKGE_RECIPES
    # training_loss adds its own N3 (n3_weight).
    own_regularizer = 'n3'

    def __init__(
        self,
        num_nodes: int,
        num_relations: int,
        hidden_channels: int = 500,
        modalities: Sequence[str] = ('structure', 'image', 'text'),
        features: Optional[Features] = None,
        alpha: float = 0.1,
        gamma: float = 0.8,
        ot_scale: float = 100.0,
        ot_lambda: float = 0.1,
        ot_entities: int = 10,
        sample: str = 'first',
        plan_every: int = 1,
        sinkhorn_iters: int = 1000,
        sinkhorn_tol: float = 1e-9,
        n3_weight: float = 5e-3,
        init_scale: float = 1e-3,
        entity_weight: Optional[Tensor] = None,
        seed: int = 0,
        reciprocal: bool = True,
        sparse: bool = False,
    ):
        super().__init__(num_nodes, num_relations, hidden_channels,
                         ComplExScorer(), sparse, reciprocal)
        for name, value in [('ot_scale', ot_scale), ('ot_lambda', ot_lambda),
                            ('ot_entities', ot_entities),
                            ('plan_every', plan_every),
                            ('sinkhorn_iters', sinkhorn_iters)]:
            check_positive(name, value)
        if sample not in SAMPLES:
            raise ValueError(f"Unknown sample '{sample}' (choose from "
                             f"{', '.join(SAMPLES)})")
        self._init_multimodal(modalities, features, None)
        if not self.use_structure:
            raise ValueError("OTKGE needs the 'structure' modality (the "
                             "plans transport onto structural coordinates)")
        self.alpha, self.gamma = float(alpha), float(gamma)
        self.ot_scale, self.ot_lambda = float(ot_scale), float(ot_lambda)
        self.ot_entities, self.sample = int(ot_entities), sample
        self.plan_every, self.seed = int(plan_every), int(seed)
        self.sinkhorn_iters = int(sinkhorn_iters)
        self.sinkhorn_tol = float(sinkhorn_tol)
        self.n3_weight, self.init_scale = float(n3_weight), float(init_scale)
        dim = 2 * hidden_channels
        self.delta = ParameterDict({
            m: Parameter(torch.empty(self.feature_dim(m), dim))
            for m in self.feature_modalities
        })
        for m in self.feature_modalities:
            self.register_buffer(f'plan_{m}',
                                 torch.zeros(self.feature_dim(m), dim))
        self.register_buffer('plan_ready', torch.tensor(False))
        if entity_weight is not None:
            entity_weight = entity_weight.float().view(-1)
            if entity_weight.numel() != num_nodes:
                raise ValueError(f"'entity_weight' needs {num_nodes} values "
                                 f"(got {entity_weight.numel()})")
        self.register_buffer('entity_weight', entity_weight, persistent=False)
        self._step = 0
        self.reset_parameters()

    @classmethod
    def from_data(cls, data: Any, hidden_channels: int = 500,
                  modalities: Sequence[str] = ('structure', 'image', 'text'),
                  frequency_weight: bool = False, **kwargs: Any) -> 'OTKGE':
        r"""Builds the model for :obj:`data` with the features of
        :obj:`modalities` as frozen buffers; :obj:`frequency_weight=True`
        weights the cross-entropy of each answer entity by
        :math:`0.1 + 0.9 f / \max f`, :math:`f` its number of occurrences
        (as head or tail) in the *training* triples (official
        :obj:`-weight`).

        Args:
            data (HeteroData): The graph (data contract).
            hidden_channels (int, optional): The ComplEx rank.
                (default: :obj:`500`)
            modalities (Sequence[str], optional): The modalities fused;
                absent features warn and are dropped.
                (default: :obj:`('structure', 'image', 'text')`)
            frequency_weight (bool, optional): Weight the cross-entropy by
                training-triple frequency. (default: :obj:`False`)
            **kwargs (optional): Arguments of :class:`OTKGE`.
        """
        from pyg_mmkg.data import num_entities, num_relations, triples
        N = num_entities(data)
        if frequency_weight:
            head, _, tail = triples(data, 'train')
            freq = torch.bincount(torch.cat([head, tail]), minlength=N)
            freq = freq.float()
            kwargs['entity_weight'] = 0.1 + 0.9 * freq / freq.max().clamp(
                min=1.0)
        return cls(N, num_relations(data), hidden_channels,
                   modalities=modalities,
                   features=features_from_data(data, modalities), **kwargs)

    def reset_parameters(self):
        for emb in [self.node_emb, self.node_emb_im, self.rel_emb,
                    self.rel_emb_im]:
            torch.nn.init.normal_(emb.weight, std=self.init_scale)
        for delta in getattr(self, 'delta', {}).values():
            torch.nn.init.xavier_uniform_(delta)
        if hasattr(self, 'plan_ready'):
            self.plan_ready.fill_(False)
        self._step = 0

    def weight(self, modality: str) -> float:
        r"""The fusion weight of :obj:`modality` (:math:`1 -` the weights of
        the used feature modalities for :obj:`"structure"`).

        Args:
            modality (str): :obj:`"structure"`, :obj:`"image"` or
                :obj:`"text"`.
        """
        weights = {'image': self.alpha, 'text': self.gamma}
        if modality == 'structure':
            return 1.0 - sum(weights[m] for m in self.feature_modalities)
        return weights[modality]

    # Plans ##################################################################

    def _sample(self, modality: str, mask: Tensor) -> Tensor:
        K = min(self.ot_entities, self.num_nodes)
        if self.sample == 'first':
            return torch.arange(K, device=mask.device)
        pool = mask.nonzero().view(-1)
        if pool.numel() == 0:
            pool = torch.arange(self.num_nodes, device=mask.device)
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 +
                                            self._step)
        perm = torch.randperm(pool.numel(), generator=gen)[:K]
        return pool[perm.to(pool.device)]

    def refresh_plans(self, ent_s: Tensor) -> None:
        r"""Recomputes the scaled mean plan of every feature modality (under
        :obj:`no_grad`).

        Args:
            ent_s (torch.Tensor): The structural entity table :obj:`[N, D]`.
        """
        for m in self.feature_modalities:
            x, mask = self.feature(m)
            x = x * mask.unsqueeze(-1).to(x.dtype)
            idx = self._sample(m, mask)
            plan = ot_projection(x[idx], ent_s[idx].detach(), self.ot_scale,
                                 self.ot_lambda, self.sinkhorn_iters,
                                 self.sinkhorn_tol)
            getattr(self, f'plan_{m}').copy_(plan)
        self.plan_ready.fill_(True)

    def _update_plans(self, ent_s: Tensor) -> None:
        if len(self.feature_modalities) == 0:
            return
        ready = bool(self.plan_ready)
        if self.training and torch.is_grad_enabled():  # A training step.
            refresh = not ready or self._step % self.plan_every == 0
            self._step += 1
        else:  # Evaluation: as released, unless plans are cached/sampled.
            refresh = not ready or (self.plan_every == 1
                                    and self.sample == 'first')
        if refresh:
            self.refresh_plans(ent_s)

    def projection(self, modality: str) -> Tensor:
        r"""The projection :math:`\mathbf{T}_m` :obj:`[d_m, D]` (current
        plan plus :math:`\mathbf{\Delta}_m`).

        Args:
            modality (str): A feature modality of the model.
        """
        return getattr(self, f'plan_{modality}') + self.delta[modality]

    # Representations #########################################################

    def encode(self) -> Encoded:
        ent_s = torch.cat([self.node_emb.weight, self.node_emb_im.weight], -1)
        rel = torch.cat([self.rel_emb.weight, self.rel_emb_im.weight], -1)
        ent_s, _ = self.structure(ent_s)
        self._update_plans(ent_s)
        ent = self.weight('structure') * ent_s
        for m in self.feature_modalities:
            x, mask = self.feature(m)
            x = x * mask.unsqueeze(-1).to(x.dtype)
            ent = ent + self.weight(m) * (x @ self.projection(m))
        return ent, rel

    # Training ###############################################################

    def training_loss(self, batch: Any, encoded: Encoded) -> Optional[Tensor]:
        r"""The published objective for a 1-N batch of the trainer
        (:class:`~pyg_mmkg.train.TrainBatch`): softmax cross-entropy over
        all entities (weighted per answer by :obj:`entity_weight` if set;
        KvsAll targets are normalised) plus N3 on the moduli of the fused
        head, the relation and (1vsAll) the fused tail. Returns
        :obj:`None` for sLCWA batches (the trainer's loss is used then).

        Args:
            batch (TrainBatch): The training batch.
            encoded (tuple): The output of :meth:`encode` (fused entity and
                relation tables).
        """
        from pyg_mmkg.train.losses import (complex_n3_regularizer,
                                           one_to_n_ce_loss)
        if batch.regime == 'slcwa':
            return None
        ent, rel = encoded
        h, r, t = batch.head_index, batch.rel_type, batch.tail_index
        scores = self.score_tails(h, r, encoded)
        loss = one_to_n_ce_loss(scores, t if t is not None else
                                batch.targets, weight=self.entity_weight)
        if self.n3_weight > 0:
            factors = [ent[h], rel[r]] + ([ent[t]] if t is not None else [])
            loss = loss + complex_n3_regularizer(factors, self.n3_weight)
        return loss

    def loss(self, head_index: Tensor, rel_type: Tensor,
             tail_index: Tensor) -> Tensor:
        r"""The published objective on positive triples (tail queries, and
        reciprocal head queries if :obj:`reciprocal=True`).

        Args:
            head_index (torch.Tensor): Heads [B].
            rel_type (torch.Tensor): Relations [B].
            tail_index (torch.Tensor): Tails [B].
        """
        from pyg_mmkg.train.batches import TrainBatch
        h, r, t = head_index, rel_type, tail_index
        if self.reciprocal:
            h, r, t = (torch.cat([h, t]), torch.cat(
                [r, r + self.num_relations]), torch.cat([t, h]))
        return self.training_loss(TrainBatch('1vsall', h, r, t),
                                  self.encode())

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_nodes}, '
                f'num_relations={self.num_relations}, '
                f'hidden_channels={self.hidden_channels}, '
                f'alpha={self.alpha}, gamma={self.gamma}, '
                f'ot_scale={self.ot_scale}, sample={self.sample}, '
                f'plan_every={self.plan_every}, {self._extra_repr_args()})')
