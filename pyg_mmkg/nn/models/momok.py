from typing import Any, Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Embedding, ModuleDict, Parameter

from pyg_mmkg.nn.kge.scorer import Scorer
from pyg_mmkg.nn.kge.tucker_scorer import TuckERScorer
from pyg_mmkg.nn.models._momok_layers import (_CLUB, _Experts, _ExID,
                                              _Fusion, _recipe)
from pyg_mmkg.nn.models.base import (Features, MultimodalKGEModel,
                                     check_positive, features_from_data)

Encoded = Tuple[Tensor, Tensor]

class MoMoK(_ExID, MultimodalKGEModel):
    r"""The MoMoK model from the `"Multiple Heads are Better than One:
    Mixture of Modality Knowledge Experts for Entity Representation
    Learning" <https://arxiv.org/abs/2405.16869>`_ paper (ICLR 2025).

    Per modality :math:`m` (structure, text, image) a mixture of :math:`K`
    relation-guided experts (ReMoKE) turns the entity input
    :math:`\mathbf{x}_m` into :math:`\mathbf{e}_m = \sum_k G_k
    \mathbf{W}_k(\mathbf{x}_m - \mathbf{b}_k)` with gate
    :math:`G = \mathrm{softmax}(\mathbf{x}_m \mathbf{W}_g /
    \sigma(\theta_r))` (noisy in training), where the temperature
    :math:`\theta_r` of the query relation, one per relation shared by the
    modalities, applies to query entities and candidates use a plain
    softmax. With two or more modalities a joint modality fuses the
    :math:`\mathbf{e}_m` (and the per-modality relation embeddings) with
    adaptive weights from one attention vector shared by the two fusion
    heads. Each branch :math:`b` decides
    with its own TuckER (MuJoD) and the score is the sum of the branch
    probabilities

    .. math::
        f(h, r, t) = \sum_b \sigma\big(\mathrm{TuckER}_b(\mathbf{e}^b_h,
        \mathbf{r}^b, \mathbf{e}^b_t)\big).

    The loss (:meth:`training_loss`) sums the branches' binary
    cross-entropies over all entities (KvsAll with reciprocal relations;
    softmax cross-entropies with :obj:`decision_loss="ce"`)
    and adds :math:`\mu` times the CLUB upper bound on the mutual
    information between two random experts of each modality (ExID), whose
    variational network takes its own Adam step on every training batch
    (:meth:`estimator_step`; its Adam state is saved in :meth:`state_dict`
    as module extra state). Features are fine-tuned: the L2-normalised,
    average-pooled features plus a learned offset per entity. An entity
    without a modality starts from a fill vector, the mean feature of the
    entities that have it (the official MMKB feature files hold the mean
    image there), and fine-tunes it like any other entity.

    .. note::
        The CLUB estimator is trained with the published Gaussian negative
        log-likelihood; the official code omits its :math:`\log \sigma^2`
        term (which drives the variance to its bound). The estimator step
        runs right before the model's loss on the same batch (the official
        loop runs it after). Features are pooled by 1-D adaptive average
        pooling instead of the official per-dataset 2-D reshapes, targets
        are smoothed by the trainer as :math:`(1 - \epsilon) y +
        \epsilon / N` (official: :math:`0.9 y + 1/N`) and models are
        selected on validation (the official code keeps the best test
        metric). Every modality is pooled to :math:`d`, so the image and
        text TuckERs have :math:`d`-sized entities (official: the pooled
        feature size, *e.g.* the raw image size on MKG-W/MKG-Y). The
        official code has no missing-feature mask; a :obj:`"drop"` ablation
        gives every entity the (untuned) fill vector. Initialisation follows
        the official code (gate and noise weights zero, temperatures
        :math:`\mathcal{N}(0, 1)`, Xavier-uniform TuckER cores, PyTorch's
        default linear layers).

    Args:
        num_nodes (int): The number of entities.
        num_relations (int): The number of relations.
        hidden_channels (int, optional): Entity size :math:`d`.
            (default: :obj:`256`)
        relation_channels (int, optional): Relation size of the TuckER
            cores (default: :obj:`hidden_channels`).
        modalities (Sequence[str], optional): The modalities.
            (default: :obj:`("structure", "text", "image")`)
        features (dict, optional): Per feature modality the features
            :obj:`[N, D]` and mask :obj:`[N]`. (default: :obj:`None`)
        num_experts (int, optional): Experts per modality :math:`K`.
            (default: :obj:`3`)
        noisy_gating (bool, optional): Gate noise in training.
            (default: :obj:`True`)
        mu (float, optional): Weight :math:`\mu` of the CLUB bound.
            (default: :obj:`1e-4`)
        estimator_lr (float, optional): Adam learning rate of the CLUB
            estimator (the official code uses the model's).
            (default: :obj:`5e-4`)
        fine_tune (bool, optional): Learn an offset of each entity's
            features (or fill vector). With :obj:`False`, entities without
            a modality share its fill vector. (default: :obj:`True`)
        expert_dropout (float, optional): Dropout on expert inputs.
            (default: :obj:`0.0`)
        fusion_dropout (float, optional): Dropout in the fusion.
            (default: :obj:`0.2`)
        input_dropout, hidden_dropout1, hidden_dropout2 (float, optional):
            Dropouts of each TuckER. (default: :obj:`0.3, 0.4, 0.5`)
        reciprocal (bool, optional): Must be :obj:`True` (head queries are
            reciprocal tail queries, as published). (default: :obj:`True`)
        decision_loss (str, optional): :obj:`"bce"` (published): each
            branch's binary cross-entropy over all entities, and the score
            sums the branch sigmoids. :obj:`"ce"`: each branch's softmax
            cross-entropy over all entities, and the score sums the branch
            softmax probabilities. Not in the paper; on sparse 15k-entity
            graphs (MKG-W/MKG-Y/DB15K) 1-N BCE spends thousands of steps on a
            plateau at random-level ranking, which softmax cross-entropy
            does not have (see ``benchmarks/results/methods.md``).
            (default: :obj:`"bce"`)
        shared_temperature (bool, optional): One relation temperature
            shared by the experts of all modalities (official); with
            :obj:`False`, one per modality. (default: :obj:`True`)
        shared_attention (bool, optional): One attention vector shared by
            the fusion heads (official); with :obj:`False`, one per head.
            (default: :obj:`True`)
    """
    # `train.py`'s defaults are the DB15K run; the README gives MKG-W and
    # MKG-Y (its `scripts/train.sh` is not in the repository).
    #: Config fields its training_loss ignores, per regime (it defines
    #: its own objective there): the trainer warns when they are set.
    ignores_config = {'slcwa': ('loss', 'margin', 'adversarial_temperature'),
                      '1vsall': ('loss', ), 'kvsall': ('loss', )}
    recipes = {
        None: _recipe('train.py (argument defaults, DB15K)', 256, 5e-4),
        'DB15K': _recipe('train.py (argument defaults, DB15K)', 256, 5e-4),
        'MKG-W': _recipe('README.md (MKG-W command) + train.py defaults',
                         200, 1e-3),
        'MKG-Y': _recipe('README.md (MKG-Y command) + train.py defaults',
                         300, 5e-4),
    }

    def __init__(
        self,
        num_nodes: int,
        num_relations: int,
        hidden_channels: int = 256,
        relation_channels: Optional[int] = None,
        modalities: Sequence[str] = ('structure', 'text', 'image'),
        features: Optional[Features] = None,
        num_experts: int = 3,
        noisy_gating: bool = True,
        mu: float = 1e-4,
        estimator_lr: float = 5e-4,
        fine_tune: bool = True,
        expert_dropout: float = 0.0,
        fusion_dropout: float = 0.2,
        input_dropout: float = 0.3,
        hidden_dropout1: float = 0.4,
        hidden_dropout2: float = 0.5,
        reciprocal: bool = True,
        decision_loss: str = 'bce',
        shared_temperature: bool = True,
        shared_attention: bool = True,
    ):
        check_positive('hidden_channels', hidden_channels)
        if decision_loss not in ('bce', 'ce'):
            raise ValueError(f"'decision_loss' must be 'bce' or 'ce' (got "
                             f"'{decision_loss}')")
        check_positive('num_experts', num_experts)
        if not reciprocal:
            raise ValueError("MoMoK answers head queries with reciprocal "
                             "relations; use 'reciprocal=True'")
        d = hidden_channels
        d_r = relation_channels or d
        scorer = Scorer()  # Placeholder: each branch has its own TuckER.
        super().__init__(num_nodes, num_relations, d, scorer, False, True)
        self._init_multimodal(modalities, features)
        self.branches = list(self.active_modalities)
        if not self.branches:
            raise ValueError('MoMoK needs at least one modality')
        if len(self.branches) > 1:
            self.branches.append('joint')
        self.mu, self.estimator_lr = mu, estimator_lr
        self.decision_loss = decision_loss
        self.fine_tune = fine_tune
        num_rel = 2 * num_relations
        self.rel_emb = Embedding(num_rel, d_r)
        self.rel_feat = ModuleDict({
            m: Embedding(num_rel, d_r)
            for m in self.feature_modalities
        })
        self.offset = torch.nn.ParameterDict({
            m: Parameter(torch.zeros(num_nodes, d))
            for m in (self.feature_modalities if fine_tune else [])
        })
        for m in self.feature_modalities:
            # The fill of entities without the modality: the mean feature
            # of those that have it (the official MMKB files hold the mean
            # image there), fine-tuned per entity through the offset.
            x, has = getattr(self, f'x_{m}'), getattr(self, f'has_{m}')
            fill = (x[has].mean(0) if bool(has.any()) else
                    torch.zeros(x.size(-1)))
            self.register_buffer(f'fill_{m}', fill, persistent=False)
        mods = self.active_modalities
        self.shared_temperature = shared_temperature
        # One temperature logit per (reciprocal) relation, shared by the
        # experts of all modalities as the official `rel_gate`:
        self.temperature = (Parameter(torch.empty(num_rel))
                            if shared_temperature else None)
        self.experts = ModuleDict({
            m: _Experts(d, num_experts, noisy_gating, expert_dropout,
                        None if shared_temperature else num_rel)
            for m in mods
        })
        self.node_emb.requires_grad_(self.use_structure)
        self.rel_emb.requires_grad_(self.use_structure)
        self.fuse_ent = self.fuse_rel = None
        if 'joint' in self.branches:
            self.fuse_ent = _Fusion(len(mods), d, dropout=fusion_dropout,
                                    shared_attention=shared_attention)
            # As the official `fuse_r`, the joint relation has size d:
            self.fuse_rel = _Fusion(len(mods), d_r, d,
                                    dropout=fusion_dropout,
                                    shared_attention=shared_attention)
        self.tucker = ModuleDict({
            b: TuckERScorer(d, d if b == 'joint' else d_r, input_dropout,
                            hidden_dropout1, hidden_dropout2)
            for b in self.branches
        })
        self.club = ModuleDict({
            m: _CLUB(d, max(d // 2, 1))
            for m in (mods if num_experts > 1 and mu > 0 else [])
        })
        self.club.requires_grad_(False)  # Trained by `estimator_step`.
        self.reset_parameters()

    @classmethod
    def from_data(cls, data: Any, hidden_channels: int = 256,
                  modalities: Sequence[str] = ('structure', 'text', 'image'),
                  **kwargs: Any) -> 'MoMoK':
        r"""Builds the model for :obj:`data` with the entity features of
        :obj:`modalities` (images averaged over their slots).

        Args:
            data (Any): The knowledge graph (:mod:`pyg_mmkg.data` contract).
            hidden_channels (int, optional): The hidden size :math:`d`.
                (default: :obj:`256`)
            modalities (Sequence[str], optional): The modalities.
                (default: :obj:`("structure", "text", "image")`)
            **kwargs (optional): Further arguments of :class:`MoMoK`.
        """
        from pyg_mmkg.data import num_entities, num_relations
        return cls(num_entities(data), num_relations(data), hidden_channels,
                   modalities=modalities,
                   features=features_from_data(data, modalities), **kwargs)

    def reset_parameters(self):
        if not hasattr(self, 'club'):
            return  # Called by the base constructor.
        torch.nn.init.xavier_normal_(self.node_emb.weight)
        torch.nn.init.xavier_normal_(self.rel_emb.weight)
        for emb in self.rel_feat.values():
            torch.nn.init.xavier_normal_(emb.weight)
        for p in self.offset.values():
            torch.nn.init.zeros_(p)
        if self.temperature is not None:  # nn.Embedding's N(0, 1).
            torch.nn.init.normal_(self.temperature)
        for mod in [*self.experts.values(), *self.tucker.values(),
                    *self.club.values(), self.fuse_ent, self.fuse_rel]:
            if mod is not None:
                mod.reset_parameters()
        for tucker in self.tucker.values():  # The official TuckERLayer's.
            torch.nn.init.xavier_uniform_(tucker.core)

    # Inputs #################################################################

    def inputs(self) -> Dict[str, Tensor]:
        r"""The entity inputs :obj:`[N, d]` of every modality, after the
        active ablation."""
        out = {}
        if self.use_structure:
            out['structure'] = self.structure(self.node_emb.weight)[0]
        for m in self.feature_modalities:
            x, has = getattr(self, f'x_{m}'), getattr(self, f'has_{m}')
            fill = self._pool(getattr(self, f'fill_{m}').view(1, -1))
            x = torch.where(has.view(-1, 1), self._pool(x), fill)
            if m in self.offset:  # Fine-tuned, missing entities included.
                x = x + self.offset[m]
            if self._ablation.get(m, (None, ))[0] == 'drop':
                # Every entity is treated as missing, without fine-tuning.
                out[m] = fill.expand_as(x)
            else:
                out[m] = self._ablated(m, x, has)[0]
        return out

    def _pool(self, x: Tensor) -> Tensor:
        x = F.normalize(x, dim=-1)
        if x.size(-1) != self.hidden_channels:
            x = F.adaptive_avg_pool1d(x.unsqueeze(1),
                                      self.hidden_channels).squeeze(1)
        return x

    def _relations(self,
                   index: Optional[Tensor] = None) -> Dict[str, Tensor]:
        tables = {'structure': self.rel_emb, **self.rel_feat}
        out = {}
        for m in self.active_modalities:
            w = tables[m].weight
            out[m] = w if index is None else w[index]
        if self.fuse_rel is not None:
            out['joint'] = self.fuse_rel(list(out.values()))
        return out

    def _entities(self, x: Dict[str, Tensor],
                  rel_type: Optional[Tensor] = None):
        out, experts = {}, {}
        for m, adaptor in self.experts.items():
            theta = None
            if rel_type is not None:
                table = (self.temperature if self.shared_temperature else
                         adaptor.temperature)
                theta = table[rel_type]
            out[m], experts[m] = adaptor(x[m], theta)
        if self.fuse_ent is not None:
            out['joint'] = self.fuse_ent([out[m] for m in self.experts])
        return out, experts

    def encode(self) -> Encoded:
        r"""Candidate representations (no relation temperature) of all
        branches side by side :obj:`[N, B * d]`, and the relation
        representations of all branches :obj:`[2R, B * d_r]`."""
        ent, _ = self._entities(self.inputs())
        rel = self._relations()
        return (torch.cat([ent[b] for b in self.branches], dim=-1),
                torch.cat([rel[b] for b in self.branches], dim=-1))

    # Scoring ################################################################

    def _queries(self, head_index: Tensor, rel_type: Tensor,
                 encoded: Optional[Encoded]):
        encoded = self.encode() if encoded is None else encoded
        ent = encoded[0].chunk(len(self.branches), dim=-1)
        x = {m: v[head_index] for m, v in self.inputs().items()}
        heads, experts = self._entities(x, rel_type)
        rels = self._relations(rel_type)
        queries = [self.tucker[b].query(heads[b], rels[b])
                   for b in self.branches]
        return queries, ent, experts

    def branch_score_tails(self, head_index: Tensor, rel_type: Tensor,
                           encoded: Optional[Encoded] = None) -> Tensor:
        r"""The logits :obj:`[num_branches, B, N]` of every branch
        (:attr:`branches`).

        Args:
            head_index (torch.Tensor): The head indices :obj:`[B]`.
            rel_type (torch.Tensor): The relation types :obj:`[B]`.
            encoded ((torch.Tensor, torch.Tensor), optional): The output of
                :meth:`encode` (computed if not given). (default: :obj:`None`)
        """
        queries, ent, _ = self._queries(head_index, rel_type, encoded)
        return torch.stack([q @ e.t() for q, e in zip(queries, ent)])

    def forward(self, head_index: Tensor, rel_type: Tensor,
                tail_index: Tensor, encoded: Optional[Encoded] = None):
        if self.decision_loss == 'ce':  # Normalised over all entities.
            scores = self.score_tails(head_index, rel_type, encoded)
            return scores.gather(1, tail_index.view(-1, 1)).view(-1)
        queries, ent, _ = self._queries(head_index, rel_type, encoded)
        return sum(torch.sigmoid((q * e[tail_index]).sum(-1))
                   for q, e in zip(queries, ent))

    def score_tails(self, head_index: Tensor, rel_type: Tensor,
                    encoded: Optional[Encoded] = None) -> Tensor:
        logits = self.branch_score_tails(head_index, rel_type, encoded)
        if self.decision_loss == 'ce':
            return torch.softmax(logits, dim=-1).sum(0)
        return torch.sigmoid(logits).sum(0)

    # Training ###############################################################

    def _objective(self, head_index, rel_type, targets, encoded):
        queries, ent, experts = self._queries(head_index, rel_type, encoded)
        from pyg_mmkg.train.losses import one_to_n_ce_loss
        branch_loss = (one_to_n_ce_loss if self.decision_loss == 'ce' else
                       F.binary_cross_entropy_with_logits)
        loss = sum(branch_loss(q @ e.t(), targets)
                   for q, e in zip(queries, ent))
        if len(self.club) > 0 and head_index.numel() > 1:
            pairs = self._pairs(experts)
            if self.training and torch.is_grad_enabled():
                self.estimator_step(pairs)
            loss = loss + self.mu * self.mutual_information(pairs)
        return loss

    def training_loss(self, batch: Any, encoded: Encoded) -> Tensor:
        r"""The published loss of a trainer batch: per-branch binary
        cross-entropy over all entities (KvsAll targets, or one-hot answers
        of 1vsAll and sLCWA batches; sLCWA negatives are not used) plus
        :math:`\mu` times the CLUB bound, after one estimator step.

        Args:
            batch (TrainBatch): The trainer batch.
            encoded ((torch.Tensor, torch.Tensor)): The output of
                :meth:`encode`.
        """
        if batch.regime == 'slcwa':
            return self.loss(batch.head_index, batch.rel_type,
                             batch.tail_index, encoded)
        targets = batch.targets
        if targets is None:
            targets = F.one_hot(batch.tail_index, self.num_nodes).float()
        return self._objective(batch.head_index, batch.rel_type, targets,
                               encoded)

    def loss(self, head_index: Tensor, rel_type: Tensor, tail_index: Tensor,
             encoded: Optional[Encoded] = None) -> Tensor:
        r"""The published loss on the given triples, queried at the tail
        and (reciprocally) at the head, for PyG-style loops.

        Args:
            head_index (torch.Tensor): The head indices :obj:`[B]`.
            rel_type (torch.Tensor): The relation types :obj:`[B]`.
            tail_index (torch.Tensor): The tail indices :obj:`[B]`.
            encoded ((torch.Tensor, torch.Tensor), optional): The output of
                :meth:`encode` (computed if not given). (default: :obj:`None`)
        """
        R = self.num_relations
        h = torch.cat([head_index, tail_index])
        r = torch.cat([rel_type, rel_type + R])
        t = torch.cat([tail_index, head_index])
        targets = F.one_hot(t, self.num_nodes).float()
        return self._objective(h, r, targets, encoded)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_nodes}, '
                f'num_relations={self.num_relations}, '
                f'hidden_channels={self.hidden_channels}, '
                f'branches={self.branches}, {self._extra_repr_args()})')
