from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Embedding, ModuleDict, Parameter

from pyg_mmkg.nn.kge.scorer import Scorer
from pyg_mmkg.nn.kge.tucker_scorer import TuckERScorer
from pyg_mmkg.nn.models._imf_layers import (LowRankFusion,
                                            contrastive_alignment_loss,
                                            imf_recipes, pool_features,
                                            smooth_targets)
from pyg_mmkg.nn.models._imf_pretrain import (check_encoder_name,
                                              pretrain_structure)
from pyg_mmkg.nn.models.base import (Features, MultimodalKGEModel,
                                     check_positive, features_from_data)

Encoded = Tuple[Tensor, Tensor]


class IMF(MultimodalKGEModel):
    r"""The IMF model from the `"IMF: Interactive Multimodal Fusion Model
    for Link Prediction" <https://arxiv.org/abs/2303.10816>`_ paper
    (Li et al., WWW 2023).

    Stage 1 keeps one entity table per modality :math:`m` (structure, image,
    text): the structural table is learned, the feature tables start from
    the L2-normalised features reduced to :math:`d` columns by fixed average
    pooling (:func:`~pyg_mmkg.nn.models._imf_layers.pool_features`) and are
    fine-tuned (or frozen with :obj:`freeze_features=True`); each modality
    has its own relation table with reciprocal relations. Stage 2 fuses the
    modalities of entities and, separately, of relations with the rank-2
    interactive bilinear fusion
    (:class:`~pyg_mmkg.nn.models._imf_layers.LowRankFusion`) into a joint
    branch :obj:`"mm"`. Stage 3 scores every branch :math:`b` with its own
    TuckER decoder (:class:`~pyg_mmkg.nn.kge.TuckERScorer`, with its
    dropouts and batch normalisations):
    :math:`p_b = \sigma(q_b(h, r) \cdot \mathbf{e}^b_t)`. Stage 4, the
    decision fusion, averages the branch probabilities
    :math:`p = \frac{1}{|B|} \sum_b p_b` (:attr:`ensemble`
    :obj:`"average"`); a branch name scores with that branch alone, and
    :meth:`branch_score_tails` exposes each branch's logits.

    The loss (:meth:`training_loss`) sums the branch binary cross-entropies
    over all entities against IMF's smoothed targets
    :math:`0.9\, y + 1/N`, plus :obj:`contrastive_weight` times the paper's
    contrastive alignment of the head entities' modality representations
    (:func:`~pyg_mmkg.nn.models._imf_layers.contrastive_alignment_loss`).

    .. note::
        Deliberate differences from the official code
        (HestiaSky/IMF-Pytorch@df883e4): (1) the released code does not run
        (:obj:`model.py` does not compile, :obj:`main.py` back-propagates the
        list of predictions instead of :obj:`loss_func`, and any command
        line flag crashes argparse); this model follows the classes it
        defines. (2) The official loop keeps, per metric, the best *test*
        value over all evaluations; with the
        :class:`~pyg_mmkg.train.Trainer`, the checkpoint is selected on
        *validation* MRR and test is evaluated once. (3) The contrastive
        loss is implemented as the paper describes it, with per-row
        (cosine) normalisation and the diagonal left out of the negatives'
        mean, and it is off by default (:obj:`contrastive_weight=0`) since
        the released training never calls it. (4) A feature table is the
        pooled features plus a learned offset that starts at zero (the
        official tables are initialised from the features): with Adam and
        no weight decay both train identically, and modality ablation then
        acts on the feature part. (5) Entities without a feature get the
        pooled mean feature of those that have it (the official MMKB image
        file holds the mean image there). (6) The joint branch's head and
        candidate representations share one fusion pass per step (the
        official forward fuses the heads and all candidates in two passes,
        with two dropout samples). (7) :obj:`branch_loss="ce"` (softmax
        cross-entropy per branch) is an option not in the paper, for short
        CPU budgets where 1-N BCE stays long at its initial plateau. (8) The
        optional structural pre-training (official stage 0, whose call is
        commented out of :obj:`main`, so off by default here too) trains
        the library's R-GCN or CompGCN encoder instead of the official
        KBGAT, with the official TransE margin loss, negatives and
        optimiser settings, over the training graph only; its entity
        outputs initialise the structural entity table and its relation
        vectors the structural relation table (reciprocal rows negated, as
        the official :obj:`pre_trained=1`). It runs when a
        :class:`~pyg_mmkg.train.Trainer` starts a new fit
        (:meth:`on_fit_start`; :obj:`pretrain`) or by calling
        :func:`~pyg_mmkg.nn.models._imf_pretrain.pretrain_structure`,
        whose docstring lists every deviation (encoder, output size 256
        instead of the official 512 = 2 heads :math:`\times` 256, negatives
        that avoid only training triples).

    Args:
        num_nodes (int): The number of entities.
        num_relations (int): The number of relations.
        hidden_channels (int, optional): The size :math:`d` of every entity
            and relation representation. (default: :obj:`256`)
        modalities (Sequence[str], optional): Among :obj:`"structure"`,
            :obj:`"text"` and :obj:`"image"`; feature modalities without
            :obj:`features` are skipped. With two or more, the joint branch
            :obj:`"mm"` is added. (default: :obj:`("structure", "text",
            "image")`)
        features (Dict[str, Tuple[Tensor, Tensor]], optional): Per feature
            modality the features :obj:`[N, D]` and mask :obj:`[N]`.
            (default: :obj:`None`)
        rank (int, optional): The rank of the fusion. (default: :obj:`2`)
        fusion_dropout (float, optional): Dropout in the fusion.
            (default: :obj:`0.2`)
        input_dropout, hidden_dropout1, hidden_dropout2 (float, optional):
            Dropouts of each TuckER decoder. (default: :obj:`0.3, 0.4, 0.5`)
        freeze_features (bool, optional): Keep the pooled features fixed
            instead of fine-tuning them. (default: :obj:`False`)
        label_smoothing (float, optional): :math:`\epsilon` of IMF's
            :math:`(1 - \epsilon) y + 1/N` targets, applied by
            :meth:`training_loss` (set the trainer's own label smoothing to
            0, as the recipe does). (default: :obj:`0.1`)
        branch_loss (str, optional): :obj:`"bce"` (published) or
            :obj:`"ce"` (see note (7)). (default: :obj:`"bce"`)
        contrastive_weight (float, optional): Weight of the contrastive
            alignment loss. (default: :obj:`0.0`)
        ensemble (str, optional): :obj:`"average"` or a branch name.
            (default: :obj:`"average"`)
        reciprocal (bool, optional): Must be :obj:`True` (head queries are
            reciprocal tail queries, as published). (default: :obj:`True`)
        pretrain (str, optional): :obj:`"rgcn"` or :obj:`"compgcn"`: the
            structural pre-training (note (8)) that :meth:`on_fit_start`
            runs before the first epoch of a new fit; :obj:`None` skips it,
            as the official :obj:`main`. Its time is reported in the fit's
            results (:obj:`fit_start`) and is not counted in the trainer's
            :obj:`train_time_s` nor in :obj:`max_time_s`.
            (default: :obj:`None`)
        pretrain_epochs (int, optional): Its number of full-batch epochs.
            (default: :obj:`3000`, official)
        pretrain_kwargs (Dict[str, Any], optional): Further arguments of
            :func:`~pyg_mmkg.nn.models._imf_pretrain.pretrain_structure`
            (:obj:`lr`, :obj:`margin`, :obj:`num_negatives`,
            :obj:`weight_decay`, :obj:`encoder_kwargs`, ...; official
            values by default). (default: :obj:`None`)
    """
    #: The published training configuration (:mod:`pyg_mmkg.train.recipes`).
    recipes = imf_recipes()
    #: Config fields its training_loss ignores, per regime.
    ignores_config = {'slcwa': ('loss', 'margin', 'adversarial_temperature'),
                      '1vsall': ('loss', 'label_smoothing'),
                      'kvsall': ('loss', )}

    def __init__(
        self,
        num_nodes: int,
        num_relations: int,
        hidden_channels: int = 256,
        modalities: Sequence[str] = ('structure', 'text', 'image'),
        features: Optional[Features] = None,
        rank: int = 2,
        fusion_dropout: float = 0.2,
        input_dropout: float = 0.3,
        hidden_dropout1: float = 0.4,
        hidden_dropout2: float = 0.5,
        freeze_features: bool = False,
        label_smoothing: float = 0.1,
        branch_loss: str = 'bce',
        contrastive_weight: float = 0.0,
        ensemble: str = 'average',
        reciprocal: bool = True,
        pretrain: Optional[str] = None,
        pretrain_epochs: int = 3000,
        pretrain_kwargs: Optional[Dict[str, Any]] = None,
    ):
        check_positive('hidden_channels', hidden_channels)
        if pretrain is not None:
            if not isinstance(pretrain, str):
                raise ValueError("'pretrain' is an encoder name; pass a "
                                 "module to 'pretrain_structure' instead")
            check_encoder_name(pretrain)
        pretrain_kwargs = dict(pretrain_kwargs or {})
        for key in ('encoder', 'epochs', 'target', 'data'):
            if key in pretrain_kwargs:
                raise ValueError(f"'pretrain_kwargs' cannot set '{key}' "
                                 f"(use 'pretrain' and 'pretrain_epochs')")
        if pretrain_epochs < 1:
            raise ValueError(f"'pretrain_epochs' must be >= 1 (got "
                             f"{pretrain_epochs}); pass pretrain=None for "
                             f"no pre-training")
        import inspect
        known = set(inspect.signature(pretrain_structure).parameters)
        unknown = sorted(set(pretrain_kwargs) - known)
        if unknown:
            raise ValueError(f"Unknown 'pretrain_kwargs' {unknown} (choose "
                             f"from {sorted(known - {'target', 'data'})})")
        check_positive('rank', rank)
        if not reciprocal:
            raise ValueError("IMF answers head queries with reciprocal "
                             "relations; use 'reciprocal=True'")
        if branch_loss not in ('bce', 'ce'):
            raise ValueError(f"'branch_loss' must be 'bce' or 'ce' (got "
                             f"'{branch_loss}')")
        d = hidden_channels
        super().__init__(num_nodes, num_relations, d, Scorer(), False, True)
        self._init_multimodal(modalities, features)
        self.mods = list(self.active_modalities)
        if not self.mods:
            raise ValueError('IMF needs at least one modality')
        if pretrain is not None and not self.use_structure:
            raise ValueError("'pretrain' pre-trains the structural tables: "
                             "add 'structure' to 'modalities'")
        self.branches = self.mods + (['mm'] if len(self.mods) > 1 else [])
        self.freeze_features = freeze_features
        self.label_smoothing = float(label_smoothing)
        self.branch_loss = branch_loss
        self.contrastive_weight = float(contrastive_weight)
        num_rel = 2 * num_relations
        self.rel_emb = Embedding(num_rel, d)
        self.rel_feat = ModuleDict(
            {m: Embedding(num_rel, d)
             for m in self.feature_modalities})
        self.offset = torch.nn.ParameterDict({
            m: Parameter(torch.zeros(num_nodes, d))
            for m in ([] if freeze_features else self.feature_modalities)
        })
        for m in self.feature_modalities:
            x, has = getattr(self, f'x_{m}'), getattr(self, f'has_{m}')
            fill = x[has].mean(0) if bool(has.any()) else x.new_zeros(
                x.size(-1))
            self.register_buffer(f'fill_{m}', fill, persistent=False)
        self.fuse_ent = self.fuse_rel = None
        if 'mm' in self.branches:
            self.fuse_ent = LowRankFusion(d, len(self.mods), rank,
                                          fusion_dropout)
            self.fuse_rel = LowRankFusion(d, len(self.mods), rank,
                                          fusion_dropout)
        self.tucker = ModuleDict({
            b: TuckERScorer(d, d, input_dropout, hidden_dropout1,
                            hidden_dropout2)
            for b in self.branches
        })
        self.node_emb.requires_grad_(self.use_structure)
        self.rel_emb.requires_grad_(self.use_structure)
        self.pretrain = pretrain
        self.pretrain_epochs = int(pretrain_epochs)
        self.pretrain_kwargs = pretrain_kwargs
        self.register_buffer('ensemble_code', torch.tensor(0))
        self.set_ensemble(ensemble)
        self.reset_parameters()

    @classmethod
    def from_data(cls, data: Any, hidden_channels: int = 256,
                  modalities: Sequence[str] = ('structure', 'text', 'image'),
                  **kwargs: Any) -> 'IMF':
        r"""Builds the model for :obj:`data` with the entity features of
        :obj:`modalities` (images averaged over their slots).

        Args:
            data (Any): The knowledge graph (:mod:`pyg_mmkg.data` contract).
            hidden_channels (int, optional): :math:`d`. (default: :obj:`256`)
            modalities (Sequence[str], optional): The modalities.
                (default: :obj:`("structure", "text", "image")`)
            **kwargs (optional): Further arguments of :class:`IMF`.
        """
        from pyg_mmkg.data import num_entities, num_relations
        return cls(num_entities(data), num_relations(data), hidden_channels,
                   modalities=modalities,
                   features=features_from_data(data, modalities), **kwargs)

    def reset_parameters(self):
        if not hasattr(self, 'tucker'):
            return  # Called by the base constructor.
        # As the official IMF: Xavier-normal tables, Xavier-uniform cores.
        torch.nn.init.xavier_normal_(self.node_emb.weight)
        torch.nn.init.xavier_normal_(self.rel_emb.weight)
        for emb in self.rel_feat.values():
            torch.nn.init.xavier_normal_(emb.weight)
        for p in self.offset.values():
            torch.nn.init.zeros_(p)
        for fuse in (self.fuse_ent, self.fuse_rel):
            if fuse is not None:
                fuse.reset_parameters()
        for tucker in self.tucker.values():
            tucker.reset_parameters()
            torch.nn.init.xavier_uniform_(tucker.core)

    # Structural pre-training ################################################

    def pretrain_structure(self, data: Any, **kwargs: Any) -> Dict[str, Any]:
        r"""Runs the structural pre-training (note (8)) on the training
        graph of :obj:`data` with :attr:`pretrain` (default :obj:`"rgcn"`),
        :attr:`pretrain_epochs` and :attr:`pretrain_kwargs`, overridden by
        :obj:`kwargs`; returns the summary of
        :func:`~pyg_mmkg.nn.models._imf_pretrain.pretrain_structure`.

        Args:
            data (HeteroData): The knowledge graph.
            **kwargs (optional): Arguments of
                :func:`~pyg_mmkg.nn.models._imf_pretrain.pretrain_structure`.
        """
        args = dict(encoder=self.pretrain or 'rgcn',
                    epochs=self.pretrain_epochs, **self.pretrain_kwargs)
        args.update(kwargs)
        return pretrain_structure(self, data, **args)

    def on_fit_start(self, trainer: Any) -> Optional[Dict[str, Any]]:
        r"""Called by the :class:`~pyg_mmkg.train.Trainer` before the first
        epoch of a new (not resumed) fit: runs :meth:`pretrain_structure`
        on the trainer's data, seeded with its :obj:`config.seed`, if
        :attr:`pretrain` is set; returns its summary without the per-epoch
        losses (or :obj:`None`).

        Args:
            trainer (Trainer): The trainer.
        """
        if self.pretrain is None:
            return None
        kwargs = {'seed': trainer.config.seed}
        kwargs.update(self.pretrain_kwargs)
        info = self.pretrain_structure(trainer.data, **kwargs)
        losses = info.pop('loss')
        info.update(loss_first=losses[0] if losses else None,
                    loss_last=losses[-1] if losses else None)
        return info

    # Ensemble ###############################################################

    @property
    def ensemble(self) -> str:
        r"""How branch probabilities are combined: :obj:`"average"` (the
        published decision fusion) or the name of one branch."""
        return (['average'] + self.branches)[int(self.ensemble_code)]

    def set_ensemble(self, ensemble: str) -> 'IMF':
        r"""Sets :attr:`ensemble`.

        Args:
            ensemble (str): :obj:`"average"` or a branch name.
        """
        names = ['average'] + self.branches
        if ensemble not in names:
            raise ValueError(f"Unknown ensemble '{ensemble}' (choose from "
                             f"{', '.join(names)})")
        self.ensemble_code.fill_(names.index(ensemble))
        return self

    # Representations ########################################################

    def inputs(self) -> Dict[str, Tensor]:
        r"""The entity tables :obj:`[N, d]` of the modalities (stage 1),
        after the active ablation."""
        out = {}
        if self.use_structure:
            out['structure'] = self.structure(self.node_emb.weight)[0]
        for m in self.feature_modalities:
            x, fill = self._pooled(m)
            has = getattr(self, f'has_{m}')
            if m in self.offset:
                x = x + self.offset[m]
            if self._ablation.get(m, (None, ))[0] == 'drop':
                out[m] = fill.expand_as(x)  # Every entity treated as missing.
            else:
                out[m] = self._ablated(m, x, has)[0]
        return out

    def _pooled(self, m: str) -> Tuple[Tensor, Tensor]:
        # The pooled features [N, d] (missing rows filled) and the pooled
        # fill [1, d] of modality m, cached until a buffer changes in place.
        d = self.hidden_channels
        x, has = getattr(self, f'x_{m}'), getattr(self, f'has_{m}')
        fill = getattr(self, f'fill_{m}')
        key = tuple((t.data_ptr(), t._version, t.device) for t in (x, has,
                                                                  fill))
        cache = self.__dict__.setdefault('_pool_cache', {})
        if m not in cache or cache[m][0] != key:
            with torch.no_grad():
                pooled_fill = pool_features(fill.view(1, -1), d)
                pooled = torch.where(has.view(-1, 1), pool_features(x, d),
                                     pooled_fill)
            cache[m] = (key, pooled, pooled_fill)
        return cache[m][1], cache[m][2]

    def encode(self) -> Encoded:
        r"""The entity :obj:`[N, |B| d]` and relation :obj:`[2R, |B| d]`
        representations of all branches (:attr:`branches`) side by side."""
        ent = self.inputs()
        tables = {'structure': self.rel_emb, **self.rel_feat}
        rel = {m: tables[m].weight for m in self.mods}
        if 'mm' in self.branches:
            ent['mm'] = self.fuse_ent([ent[m] for m in self.mods])
            rel['mm'] = self.fuse_rel([rel[m] for m in self.mods])
        return (torch.cat([ent[b] for b in self.branches], dim=-1),
                torch.cat([rel[b] for b in self.branches], dim=-1))

    def _split(self, encoded: Optional[Encoded]) -> Tuple[List[Tensor],
                                                          List[Tensor]]:
        ent, rel = self.encode() if encoded is None else encoded
        M = len(self.branches)
        return list(ent.chunk(M, dim=-1)), list(rel.chunk(M, dim=-1))

    # Scores #################################################################

    def branch_forward(self, head_index: Tensor, rel_type: Tensor,
                       tail_index: Tensor,
                       encoded: Optional[Encoded] = None) -> Tensor:
        r"""The logits :obj:`[B, |B|]` of every branch for the triples.

        Args:
            head_index, rel_type, tail_index (torch.Tensor): Triples
                :obj:`[B]`.
            encoded ((torch.Tensor, torch.Tensor), optional): The output of
                :meth:`encode`. (default: :obj:`None`)
        """
        ent, rel = self._split(encoded)
        return torch.stack([
            self.tucker[b](e[head_index], r[rel_type], e[tail_index])
            for b, e, r in zip(self.branches, ent, rel)
        ], dim=1)

    def branch_score_tails(self, head_index: Tensor, rel_type: Tensor,
                           encoded: Optional[Encoded] = None) -> Tensor:
        r"""The logits :obj:`[B, |B|, N]` of all tails per branch.

        Args:
            head_index, rel_type (torch.Tensor): Queries :obj:`[B]`
                (relations :math:`\geq R` are reciprocal).
            encoded ((torch.Tensor, torch.Tensor), optional): The output of
                :meth:`encode`. (default: :obj:`None`)
        """
        ent, rel = self._split(encoded)
        return torch.stack([
            self.tucker[b].score_tails(e[head_index], r[rel_type], e)
            for b, e, r in zip(self.branches, ent, rel)
        ], dim=1)

    def combine(self, logits: Tensor) -> Tensor:
        r"""The decision fusion of branch logits :obj:`[B, |B|, ...]`: the
        mean branch probability, or one branch's (:attr:`ensemble`).

        Args:
            logits (torch.Tensor): Branch logits, branches in dimension 1.
        """
        code = int(self.ensemble_code)
        if code > 0:
            return torch.sigmoid(logits[:, code - 1])
        return torch.sigmoid(logits).mean(1)

    def forward(self, head_index: Tensor, rel_type: Tensor,
                tail_index: Tensor,
                encoded: Optional[Encoded] = None) -> Tensor:
        return self.combine(
            self.branch_forward(head_index, rel_type, tail_index, encoded))

    def score_tails(self, head_index: Tensor, rel_type: Tensor,
                    encoded: Optional[Encoded] = None) -> Tensor:
        return self.combine(
            self.branch_score_tails(head_index, rel_type, encoded))

    def score_heads(self, rel_type: Tensor, tail_index: Tensor,
                    encoded: Optional[Encoded] = None) -> Tensor:
        return self.score_tails(tail_index, rel_type + self.num_relations,
                                encoded)

    # Training ###############################################################

    def objective(self, head_index: Tensor, rel_type: Tensor,
                  targets: Tensor, encoded: Optional[Encoded] = None
                  ) -> Tensor:
        r"""The IMF loss of 1-N queries: the sum over branches of the binary
        cross-entropy (or softmax cross-entropy, :obj:`branch_loss="ce"`)
        of all tails against the smoothed :obj:`targets`, plus the weighted
        contrastive alignment of the queries' distinct head entities.

        Args:
            head_index, rel_type (torch.Tensor): Queries :obj:`[B]`.
            targets (torch.Tensor): Multi-hot targets :obj:`[B, N]` (not yet
                smoothed).
            encoded ((torch.Tensor, torch.Tensor), optional): The output of
                :meth:`encode`. (default: :obj:`None`)
        """
        from pyg_mmkg.train.losses import one_to_n_ce_loss
        encoded = self.encode() if encoded is None else encoded
        logits = self.branch_score_tails(head_index, rel_type, encoded)
        targets = smooth_targets(targets.to(logits.dtype),
                                 self.label_smoothing)
        fn = (F.binary_cross_entropy_with_logits
              if self.branch_loss == 'bce' else one_to_n_ce_loss)
        loss = sum(fn(logits[:, i], targets)
                   for i in range(len(self.branches)))
        if self.contrastive_weight > 0 and len(self.mods) > 1:
            ent, _ = self._split(encoded)
            heads = head_index.unique()
            loss = loss + self.contrastive_weight * contrastive_alignment_loss(
                [ent[i][heads] for i in range(len(self.mods))])
        return loss

    def training_loss(self, batch: Any, encoded: Encoded) -> Tensor:
        r"""The IMF loss of a trainer batch: KvsAll targets, or the one-hot
        answers of 1vsAll batches (sLCWA batches: the positives, queried at
        the tail and reciprocally at the head; negatives are not used).

        Args:
            batch (TrainBatch): The batch.
            encoded ((torch.Tensor, torch.Tensor)): The output of
                :meth:`encode`.
        """
        if batch.regime == 'slcwa':
            return self.loss(batch.head_index, batch.rel_type,
                             batch.tail_index, encoded)
        targets = batch.targets
        if targets is None:
            targets = F.one_hot(batch.tail_index, self.num_nodes).float()
        return self.objective(batch.head_index, batch.rel_type, targets,
                              encoded)

    def loss(self, head_index: Tensor, rel_type: Tensor, tail_index: Tensor,
             encoded: Optional[Encoded] = None) -> Tensor:
        r"""The IMF loss on the given triples, queried at the tail and
        (reciprocally) at the head, for PyG-style loops.

        Args:
            head_index, rel_type, tail_index (torch.Tensor): Triples
                :obj:`[B]`.
            encoded ((torch.Tensor, torch.Tensor), optional): The output of
                :meth:`encode`. (default: :obj:`None`)
        """
        R = self.num_relations
        h = torch.cat([head_index, tail_index])
        r = torch.cat([rel_type, rel_type + R])
        t = torch.cat([tail_index, head_index])
        targets = F.one_hot(t, self.num_nodes).float()
        return self.objective(h, r, targets, encoded)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_nodes}, '
                f'num_relations={self.num_relations}, '
                f'hidden_channels={self.hidden_channels}, '
                f'branches={self.branches}, {self._extra_repr_args()}, '
                f'ensemble={self.ensemble})')
