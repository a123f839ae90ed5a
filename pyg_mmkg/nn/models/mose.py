from typing import Any, Dict, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch.nn import Embedding, Linear, ModuleDict

from pyg_mmkg.nn.kge.complex_scorer import ComplExScorer
from pyg_mmkg.nn.models._ensemble import (ENSEMBLES, fit_boosting,
                                          fit_meta, select_ensemble)
from pyg_mmkg.nn.models._mose_recipe import MOSE_RECIPES
from pyg_mmkg.nn.models.base import (Features, MultimodalKGEModel,
                                     build_encoder, check_positive,
                                     features_from_data)

Encoded = Tuple[Tensor, Tensor]


class MoSE(MultimodalKGEModel):
    r"""The MoSE model from the `"MoSE: Modality Split and Ensemble for
    Multimodal Knowledge Graph Completion"
    <https://aclanthology.org/2022.emnlp-main.719>`_ paper.

    MoSE trains one ComplEx branch per modality :math:`m` (structure, text,
    image), each with its *own* relation table (modality-split relations):

    .. math::
        \phi_m(h, r, t) = \mathrm{Re}(\langle \mathbf{e}^m_h,
        \mathbf{r}^m, \overline{\mathbf{e}^m_t} \rangle), \qquad
        \mathbf{e}^m = \big((1 - \alpha) \mathbf{e}^s + \alpha
        \mathbf{x}^m \mathbf{W}_m\big) / \tau

    where :math:`\mathbf{e}^s` is the structural embedding and
    :math:`\mathbf{x}^m` the frozen features (zero for entities without the
    modality). The published loss (:meth:`training_loss`, :meth:`loss`) sums
    over branches the 1-N softmax cross-entropy and the N3 regulariser, with
    reciprocal relations. At inference, branch scores are combined
    (:attr:`ensemble`): :obj:`"average"` (MoSE-AI), :obj:`"boosting"`
    (MoSE-BI, relation-specific weights) or :obj:`"meta"` (MoSE-MI, an MLP
    on the vector of branch scores), fitted post hoc on *validation*
    triples by :meth:`fit_ensemble`; a modality name scores with that
    branch alone. :meth:`encode` returns the branches side by side, so the
    representations have :obj:`M * 2 * hidden_channels` columns.

    .. note::
        Deliberate differences from the official code: (1) model selection
        uses the validation metric of the ensemble the trainer evaluates
        (the official code selects checkpoints on the minimum rank over
        modalities, an oracle); (2) the meta-learner's epoch is chosen on
        the queries of held-out *validation* triples (the official code
        picks it on test); (3) boosting counts only genuine (query, wrong
        candidate) pairs by default: known answers and the target are left
        out instead of being counted as correctly ordered (the official
        pairs: :obj:`fit_ensemble(..., pairs="all")`); its selection rule
        is the official one by default (:obj:`rule="official"`; the
        alternative :obj:`rule="unique"` weights each modality once, which
        differs from the official rule for three or more branches);
        (4) the meta-learner has no final ReLU (which creates ties);
        (5) entities without a modality have zero features instead of
        random noise; (6) :obj:`ensemble="auto"` chooses among AI / BI / MI
        on held-out validation triples (the official code has no automatic
        choice and reports MI picked on test); (7) no learning-rate
        schedule by default (the official ReduceLROnPlateau is built with
        :obj:`mode="min"` on validation H@10, so it halves the rate while
        H@10 rises; see :attr:`recipes`).

    Args:
        num_nodes (int): The number of entities.
        num_relations (int): The number of relations.
        hidden_channels (int): The complex rank :math:`k` of each branch.
        modalities (Sequence[str], optional): The branches, among
            :obj:`"structure"`, :obj:`"text"` and :obj:`"image"`; feature
            modalities without :obj:`features` are skipped.
            (default: :obj:`("structure", "text", "image")`)
        features (Dict[str, Tuple[Tensor, Tensor]], optional): Per feature
            modality the features :obj:`[N, D]` and mask :obj:`[N]`.
            (default: :obj:`None`)
        alpha (float, optional): Weight :math:`\alpha` of the features in
            the feature branches. (default: :obj:`1.0`)
        scale (float, optional): The temperature :math:`\tau`.
            (default: :obj:`20.0`)
        n3_weight (float, optional): Weight of the N3 regulariser.
            (default: :obj:`0.01`)
        init_scale (float, optional): Standard deviation of the initial
            embeddings. (default: :obj:`1e-3`)
        reciprocal (bool, optional): Learn inverse relations (as the paper).
            (default: :obj:`True`)
        ensemble (str, optional): The initial :attr:`ensemble`, or
            :obj:`"auto"`: start with :obj:`"average"` and, when the
            :class:`~pyg_mmkg.train.Trainer` finishes (:meth:`on_fit_end`),
            fit MoSE-BI and MoSE-MI on part of the validation triples and
            keep the one of AI / BI / MI with the best MRR on the other,
            held-out part (:meth:`select_ensemble`; costly on large graphs:
            the meta-learner trains on validation queries against all
            entities). (default: :obj:`"average"`)
        meta_hidden (int, optional): Hidden size of the meta-learner.
            (default: :obj:`32`)
        encoder (torch.nn.Module, optional): A relational encoder applied to
            the entity representations of each branch separately (shared
            weights). (default: :obj:`None`)
        sparse (bool, optional): Sparse embedding gradients.
            (default: :obj:`False`)
    """
    #: The published training configuration (:mod:`pyg_mmkg.train.recipes`;
    #: values and their deviations in :obj:`recipes[None].notes`).
    #: Config fields its training_loss ignores, per regime (it defines
    #: its own objective there): the trainer warns when they are set.
    ignores_config = {'1vsall': ('loss', 'label_smoothing'), 'kvsall': ('loss', )}
    recipes = MOSE_RECIPES
    # training_loss adds its own N3 (n3_weight): the trainer warns when a
    # second regulariser is configured on top of it.
    own_regularizer = 'n3'

    def __init__(
        self,
        num_nodes: int,
        num_relations: int,
        hidden_channels: int,
        modalities: Sequence[str] = ('structure', 'text', 'image'),
        features: Optional[Features] = None,
        alpha: float = 1.0,
        scale: float = 20.0,
        n3_weight: float = 0.01,
        init_scale: float = 1e-3,
        reciprocal: bool = True,
        ensemble: str = 'average',
        meta_hidden: int = 32,
        encoder: Optional[torch.nn.Module] = None,
        sparse: bool = False,
    ):
        super().__init__(num_nodes, num_relations, hidden_channels,
                         ComplExScorer(), sparse, reciprocal)
        check_positive('scale', scale)
        self._init_multimodal(modalities, features, encoder)
        self.branches = self.active_modalities
        if len(self.branches) == 0:
            raise ValueError('MoSE needs at least one branch')
        self.alpha, self.scale = float(alpha), float(scale)
        self.n3_weight, self.init_scale = float(n3_weight), float(init_scale)
        dim, num_rel = 2 * hidden_channels, self.num_relation_representations
        self.proj = ModuleDict({
            m: Linear(self.feature_dim(m), dim, bias=False)
            for m in self.feature_modalities
        })
        self.rel_mod = ModuleDict({
            m: Embedding(num_rel, dim, sparse=sparse)
            for m in self.feature_modalities
        })
        M = len(self.branches)
        self.meta = torch.nn.Sequential(Linear(M, meta_hidden),
                                        torch.nn.ReLU(),
                                        Linear(meta_hidden, 1))
        self.meta.requires_grad_(False)  # Fitted by `fit_ensemble` only.
        self.register_buffer('ensemble_weight', torch.full((num_rel, M),
                                                           1.0 / M))
        self.register_buffer('ensemble_code', torch.tensor(0))
        # Structural tables nobody reads are frozen (no dead parameters):
        mix = self.alpha < 1 and len(self.feature_modalities) > 0
        self.node_emb.requires_grad_(self.use_structure or mix)
        self.node_emb_im.requires_grad_(self.use_structure or mix)
        self.rel_emb.requires_grad_(self.use_structure)
        self.rel_emb_im.requires_grad_(self.use_structure)
        self.reset_parameters()
        self.auto_ensemble = ensemble == 'auto'
        self.set_ensemble('average' if self.auto_ensemble else ensemble)

    @classmethod
    def from_data(cls, data: Any, hidden_channels: int = 64,
                  modalities: Sequence[str] = ('structure', 'text', 'image'),
                  encoder: Any = None,
                  encoder_kwargs: Optional[Dict[str, Any]] = None,
                  **kwargs: Any) -> 'MoSE':
        r"""Builds the model for the knowledge graph :obj:`data`, taking
        the entity features of :obj:`modalities` as frozen buffers;
        :obj:`encoder` may be :obj:`"rgcn"`, :obj:`"compgcn"` or a module
        (run over the training graph only).

        Args:
            data (Any): The knowledge graph (:mod:`pyg_mmkg.data` contract).
            hidden_channels (int, optional): The hidden size :math:`d`.
                (default: :obj:`64`)
            modalities (Sequence[str], optional): The modalities.
                (default: :obj:`("structure", "text", "image")`)
            encoder (str or torch.nn.Module, optional): :obj:`"rgcn"`,
                :obj:`"compgcn"` or a module refining the representations
                over the training graph (with :obj:`2 * hidden_channels`
                channels). (default: :obj:`None`)
            encoder_kwargs (Dict[str, Any], optional): Arguments of the
                encoder built from a name. (default: :obj:`None`)
            **kwargs (optional): Further arguments of :class:`MoSE`.
        """
        from pyg_mmkg.data import num_entities, num_relations
        encoder = build_encoder(encoder, data, 2 * hidden_channels,
                                **(encoder_kwargs or {}))
        return cls(num_entities(data), num_relations(data), hidden_channels,
                   modalities=modalities,
                   features=features_from_data(data, modalities),
                   encoder=encoder, **kwargs)

    def reset_parameters(self):
        for emb in [self.node_emb, self.node_emb_im, self.rel_emb,
                    self.rel_emb_im, *self.rel_mod.values()]:
            torch.nn.init.normal_(emb.weight, std=self.init_scale)
        for lin in self.proj.values():
            torch.nn.init.xavier_uniform_(lin.weight)
        for layer in self.meta:
            if isinstance(layer, Linear):
                layer.reset_parameters()
        self.ensemble_weight.fill_(1.0 / len(self.branches))

    # Ensemble selection #####################################################

    @property
    def ensemble(self) -> str:
        r"""How branch scores are combined: :obj:`"average"`,
        :obj:`"boosting"`, :obj:`"meta"` or the name of one branch."""
        return (ENSEMBLES + self.branches)[int(self.ensemble_code)]

    def set_ensemble(self, ensemble: str) -> 'MoSE':
        r"""Sets :attr:`ensemble` and returns the model.

        Args:
            ensemble (str): :obj:`"average"`, :obj:`"boosting"`,
                :obj:`"meta"` or the name of one branch.
        """
        names = ENSEMBLES + self.branches
        if ensemble not in names:
            raise ValueError(f"Unknown ensemble '{ensemble}' (choose from "
                             f"{', '.join(names)})")
        self.ensemble_code.fill_(names.index(ensemble))
        return self

    # Representations and branch scores ######################################

    def encode(self) -> Encoded:
        ent_s = torch.cat([self.node_emb.weight, self.node_emb_im.weight], -1)
        rel_s = torch.cat([self.rel_emb.weight, self.rel_emb_im.weight], -1)
        ent_s, _ = self.structure(ent_s)
        ents, rels = [], []
        for m in self.branches:
            if m == 'structure':
                ent, rel = ent_s, rel_s
            else:
                x, mask = self.feature(m)
                ent = self.alpha * self.proj[m](x) * mask.unsqueeze(-1)
                if self.alpha < 1:
                    ent = ent + (1 - self.alpha) * ent_s
                ent, rel = ent / self.scale, self.rel_mod[m].weight
            ent, rel = self.refine(ent, rel)
            ents.append(ent)
            rels.append(rel)
        return torch.cat(ents, dim=-1), torch.cat(rels, dim=-1)

    def _split(self, x: Tensor) -> Tensor:
        return x.view(*x.shape[:-1], len(self.branches), -1)

    def branch_forward(self, head_index: Tensor, rel_type: Tensor,
                       tail_index: Tensor,
                       encoded: Optional[Encoded] = None) -> Tensor:
        r"""Returns the scores :obj:`[B, M]` of each branch.

        Args:
            head_index (torch.Tensor): The head indices :obj:`[B]`.
            rel_type (torch.Tensor): The relation types :obj:`[B]`.
            tail_index (torch.Tensor): The tail indices :obj:`[B]`.
            encoded ((torch.Tensor, torch.Tensor), optional): The output of
                :meth:`encode` (computed if not given). (default: :obj:`None`)
        """
        ent, rel = self.encode() if encoded is None else encoded
        ent, rel = self._split(ent), self._split(rel)
        return self.scorer(ent[head_index], rel[rel_type], ent[tail_index])

    def branch_score_tails(self, head_index: Tensor, rel_type: Tensor,
                           encoded: Optional[Encoded] = None) -> Tensor:
        r"""Returns the scores :obj:`[B, M, N]` of all tails per branch.

        Args:
            head_index (torch.Tensor): The head indices :obj:`[B]`.
            rel_type (torch.Tensor): The relation types :obj:`[B]`.
            encoded ((torch.Tensor, torch.Tensor), optional): The output of
                :meth:`encode` (computed if not given). (default: :obj:`None`)
        """
        ent, rel = self.encode() if encoded is None else encoded
        ent, rel = self._split(ent), self._split(rel)
        head, rel = ent[head_index], rel[rel_type]
        return torch.stack([
            self.scorer.score_tails(head[:, m], rel[:, m], ent[:, m])
            for m in range(len(self.branches))
        ], dim=1)

    def branch_score_heads(self, rel_type: Tensor, tail_index: Tensor,
                           encoded: Optional[Encoded] = None) -> Tensor:
        r"""Returns the scores :obj:`[B, M, N]` of all heads per branch.

        Args:
            rel_type (torch.Tensor): The relation types :obj:`[B]`.
            tail_index (torch.Tensor): The tail indices :obj:`[B]`.
            encoded ((torch.Tensor, torch.Tensor), optional): The output of
                :meth:`encode` (computed if not given). (default: :obj:`None`)
        """
        if self.reciprocal:
            return self.branch_score_tails(tail_index,
                                           rel_type + self.num_relations,
                                           encoded)
        ent, rel = self.encode() if encoded is None else encoded
        ent, rel = self._split(ent), self._split(rel)
        tail, rel = ent[tail_index], rel[rel_type]
        return torch.stack([
            self.scorer.score_heads(rel[:, m], tail[:, m], ent[:, m])
            for m in range(len(self.branches))
        ], dim=1)

    def combine(self, scores: Tensor, rel_type: Tensor) -> Tensor:
        r"""Combines branch scores :obj:`[B, M]` or :obj:`[B, M, N]` of
        queries with relations :obj:`rel_type` by :attr:`ensemble`.

        Args:
            scores (torch.Tensor): The branch scores :obj:`[B, M]` or
                :obj:`[B, M, N]`.
            rel_type (torch.Tensor): The query relations :obj:`[B]`
                (indexing the per-relation weights of :obj:`"boosting"`).
        """
        name = self.ensemble
        if name in self.branches:
            return scores[:, self.branches.index(name)]
        if name == 'meta':
            return self.meta(scores.movedim(1, -1)).squeeze(-1)
        if name == 'average':
            return scores.mean(1)
        weight = self.ensemble_weight[rel_type]  # [B, M]
        if scores.dim() == 3:
            weight = weight.unsqueeze(-1)
        return (weight * scores).sum(1)

    def forward(self, head_index: Tensor, rel_type: Tensor,
                tail_index: Tensor,
                encoded: Optional[Encoded] = None) -> Tensor:
        return self.combine(
            self.branch_forward(head_index, rel_type, tail_index, encoded),
            rel_type)

    def score_tails(self, head_index: Tensor, rel_type: Tensor,
                    encoded: Optional[Encoded] = None) -> Tensor:
        return self.combine(
            self.branch_score_tails(head_index, rel_type, encoded), rel_type)

    def score_heads(self, rel_type: Tensor, tail_index: Tensor,
                    encoded: Optional[Encoded] = None) -> Tensor:
        scores = self.branch_score_heads(rel_type, tail_index, encoded)
        if self.reciprocal:
            rel_type = rel_type + self.num_relations
        return self.combine(scores, rel_type)

    # Training ###############################################################

    def training_loss(self, batch: Any, encoded: Encoded) -> Optional[Tensor]:
        r"""The published objective for a 1-N batch of the trainer
        (:class:`~pyg_mmkg.train.TrainBatch`): per branch, the softmax
        cross-entropy over all entities (targets: the answer of 1vsAll
        batches or the normalised multi-hot KvsAll targets) plus N3 on the
        moduli of the head, relation (and tail) representations. Returns
        :obj:`None` for sLCWA batches (the trainer's loss is used then).

        Args:
            batch (TrainBatch): The trainer batch.
            encoded ((torch.Tensor, torch.Tensor)): The output of
                :meth:`encode`.
        """
        from pyg_mmkg.train.losses import (complex_n3_regularizer,
                                           one_to_n_ce_loss)
        if batch.regime == 'slcwa':
            return None
        h, r, t = batch.head_index, batch.rel_type, batch.tail_index
        target = t if t is not None else batch.targets
        scores = self.branch_score_tails(h, r, encoded)
        loss = sum(one_to_n_ce_loss(scores[:, m], target)
                   for m in range(len(self.branches)))
        if self.n3_weight > 0:
            ent, rel = self._split(encoded[0]), self._split(encoded[1])
            factors = [ent[h], rel[r]] + ([ent[t]] if t is not None else [])
            loss = loss + complex_n3_regularizer(factors, self.n3_weight)
        return loss

    def loss(self, head_index: Tensor, rel_type: Tensor,
             tail_index: Tensor) -> Tensor:
        r"""The published objective on positive triples (tail queries, and
        reciprocal head queries if :obj:`reciprocal=True`).

        Args:
            head_index (torch.Tensor): The head indices :obj:`[B]`.
            rel_type (torch.Tensor): The relation types :obj:`[B]`.
            tail_index (torch.Tensor): The tail indices :obj:`[B]`.
        """
        from pyg_mmkg.train.batches import TrainBatch
        h, r, t = head_index, rel_type, tail_index
        if self.reciprocal:
            h, r, t = (torch.cat([h, t]), torch.cat(
                [r, r + self.num_relations]), torch.cat([t, h]))
        return self.training_loss(TrainBatch('1vsall', h, r, t),
                                  self.encode())

    # Post-hoc ensembles #####################################################

    @torch.no_grad()
    def fit_ensemble(self, head_index: Tensor, rel_type: Tensor,
                     tail_index: Tensor, method: str = 'boosting',
                     filter_index: Any = None, batch_size: int = 256,
                     min_queries: int = 10, epochs: int = 20,
                     lr: float = 0.1, holdout: float = 0.2,
                     seed: int = 0, rule: str = 'official',
                     pairs: str = 'genuine') -> 'MoSE':
        r"""Fits the ensemble :obj:`method` on *validation* triples (head
        and tail queries) and selects it as :attr:`ensemble`.

        Args:
            head_index, rel_type, tail_index (torch.Tensor): Validation
                triples (never test triples).
            method (str, optional): :obj:`"average"`, :obj:`"boosting"`
                (per-relation AdaBoost weights; relations with fewer than
                :obj:`min_queries` queries get uniform weights) or
                :obj:`"meta"` (meta-learner trained with softmax
                cross-entropy on unfiltered branch scores, Adagrad with
                :obj:`lr`, :obj:`epochs` epochs; the epoch with the best
                filtered MRR on the head and tail queries of a
                :obj:`holdout` fraction of the triples is kept; all its
                randomness comes from a generator seeded with :obj:`seed`).
                (default: :obj:`"boosting"`)
            filter_index (FilterIndex, optional): Known true triples, left
                out of the boosting statistics and of the held-out MRR.
                (default: :obj:`None`)
            rule (str, optional): The boosting selection rule:
                :obj:`"official"` (`weight_learning.py`: each round picks
                the best modality among those whose accumulated weight is
                :math:`\leq 0`, so one picked with a negative weight can be
                picked again, and adds to its weight) or :obj:`"unique"`
                (each modality picked once). The two agree for two
                branches. (default: :obj:`"official"`)
            pairs (str, optional): The boosting pairs: :obj:`"genuine"`
                (wrong candidates only) or :obj:`"all"` (also the target
                and the known answers, counted as correctly ordered, as the
                official filtered scores do). (default: :obj:`"genuine"`)
        """
        if method not in ENSEMBLES:
            raise ValueError(f"Unknown ensemble method '{method}' (choose "
                             f"from {', '.join(ENSEMBLES)})")
        was_training = self.training
        self.eval()
        device = self.ensemble_weight.device
        h, r, t = (x.to(device).view(-1) for x in (head_index, rel_type,
                                                    tail_index))
        encoded = self.encode()
        if method == 'boosting':
            fit_boosting(self, h, r, t, filter_index, encoded, batch_size,
                         min_queries, rule, pairs)
        elif method == 'meta':
            with torch.enable_grad():
                fit_meta(self, h, r, t, filter_index, encoded, batch_size,
                         epochs, lr, holdout, seed)
        self.set_ensemble(method)
        self.train(was_training)
        return self

    def on_fit_end(self, trainer: Any) -> None:
        r"""Called by the :class:`~pyg_mmkg.train.Trainer` on the
        validation-selected model. With :obj:`ensemble="auto"`, runs
        :meth:`select_ensemble` on the validation triples (never test).

        Args:
            trainer (Trainer): The trainer (its validation triples and
                :attr:`~pyg_mmkg.train.Trainer.val_filter_index` are used).
        """
        if not self.auto_ensemble or len(self.branches) < 2:
            return
        h, r, t = trainer.split_triples['val']
        if h.numel() == 0:
            return
        # Model selection: validation ranks filtered without test triples.
        self.select_ensemble(h, r, t, filter_index=trainer.val_filter_index)

    def select_ensemble(self, head_index: Tensor, rel_type: Tensor,
                        tail_index: Tensor, filter_index: Any = None,
                        holdout: float = 0.2, seed: int = 0,
                        **kwargs: Any) -> str:
        r"""Fits BI and MI (:meth:`fit_ensemble`, with :obj:`kwargs`) on a
        :obj:`1 - holdout` part of the validation triples and keeps the one
        of AI / BI / MI with the best filtered MRR on the held-out triples,
        which none of them was fitted on (ties go to the simpler ensemble,
        in the order AI, BI, MI). The held-out MRR of each is kept in
        :obj:`ensemble_validation`; returns the chosen ensemble.

        Args:
            head_index (torch.Tensor): The head indices of the validation
                triples.
            rel_type (torch.Tensor): Their relation types.
            tail_index (torch.Tensor): Their tail indices.
            filter_index (FilterIndex, optional): The filter of the
                rankings (fitting and held-out). (default: :obj:`None`)
            holdout (float, optional): The held-out fraction.
                (default: :obj:`0.2`)
            seed (int, optional): The seed of the split (also passed to
                :meth:`fit_ensemble`). (default: :obj:`0`)
            **kwargs (optional): Further arguments of :meth:`fit_ensemble`.
        """
        return select_ensemble(self, head_index, rel_type, tail_index,
                               filter_index, holdout, seed, **kwargs)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_nodes}, '
                f'num_relations={self.num_relations}, '
                f'hidden_channels={self.hidden_channels}, '
                f'{self._extra_repr_args()}, ensemble={self.ensemble})')
