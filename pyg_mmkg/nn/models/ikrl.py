import math
from typing import Any, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Linear

from pyg_mmkg.nn.kge.scorer import Scorer
from pyg_mmkg.nn.models.base import MultimodalKGEModel, check_positive
from pyg_mmkg.train.config import SLCWA_LOSS_FIELDS
from pyg_mmkg.train.recipes import Recipe

Encoded = Tuple[Tensor, Tensor]
VARIANTS = ('union', 'sbr', 'ibr')
_SOURCE = 'thunlp/IKRL@39d4cc1'


class _NoScorer(Scorer):
    # IKRL scores with its own four energies (see IKRL._energies).
    pass


def energy(x: Tensor, p_norm: int, root: bool = False) -> Tensor:
    r"""The TransE energy of :obj:`x = h + r - t` along the last dimension:
    the L1 norm, or the *squared* L2 norm (:obj:`L1_flag=0` of IKRL's
    code; the L2 norm itself with :obj:`root=True`)."""
    if p_norm == 1:
        return x.abs().sum(-1)
    return x.norm(dim=-1) if root else x.pow(2).sum(-1)


def energy_all(query: Tensor, candidates: Tensor, p_norm: int,
               root: bool = False) -> Tensor:
    r""":func:`energy` of :obj:`query[b] - candidates[n]` for all pairs,
    :obj:`[B, N]`."""
    if p_norm == 1:
        return torch.cdist(query, candidates, p=1)
    out = torch.cdist(query, candidates, p=2,
                      compute_mode='donot_use_mm_for_euclid_dist')
    return out if root else out.pow(2)


class IKRL(MultimodalKGEModel):
    r"""The IKRL model from the "Image-embodied Knowledge Representation
    Learning" paper (Xie et al., IJCAI 2017).

    Every entity has a structure-based embedding :math:`\mathbf{e}_S` and an
    image-based embedding :math:`\mathbf{e}_I`: each image feature
    :math:`\mathbf{f}_i` of the entity (norm clipped to 1) is projected by
    one shared bias-free matrix :math:`\mathbf{M}`, and the projections are
    aggregated with attention whose query is :math:`\mathbf{e}_S` (softmax
    over the entity's valid image slots only):

    .. math::
        \alpha_i = \mathrm{softmax}_i(\mathbf{M}\mathbf{f}_i \cdot
        \mathbf{e}_S), \qquad
        \mathbf{e}_I = \sum_i \alpha_i \mathbf{M} \mathbf{f}_i

    The energy has four TransE terms with one relation vector,
    :math:`E = E_{SS} + E_{II} + E_{SI} + E_{IS}` with
    :math:`E_{XY} = \|\mathbf{h}_X + \mathbf{r} - \mathbf{t}_Y\|_1`.
    :meth:`training_loss` sums a margin-ranking hinge per term (the same
    corrupted triples for all four; an extra relation-corrupted negative,
    filtered against the training triples, for :math:`E_{SS}`), weighted by
    the official per-term step sizes :obj:`term_weights` relative to the
    base learning rate, plus the official soft penalty
    :math:`\lambda \|\mathbf{e}_I\|^2` on the batch's entities whose
    :math:`\|\mathbf{e}_I\| > 1`. :meth:`after_step` projects entity and
    relation vectors back onto the unit ball (max-norm 1), as the official
    code does after each update. Scores are :math:`-E` of
    :obj:`variant`: :obj:`"ibr"` (:math:`E_{II}`, what the released
    :obj:`Test.cpp` scores), :obj:`"sbr"` (:math:`E_{SS}`) or
    :obj:`"union"` (all four terms).

    Entities without images (the paper assumes every entity has some) use
    their structural embedding as :math:`\mathbf{e}_I`, so that all four
    terms stay defined and reduce to TransE for them.

    .. note::
        Deviations from the official code (:obj:`thunlp/IKRL@39d4cc1`):

        * Random initialisation (the truncated normal of the commented-out
          block of :obj:`Train.cpp`): the official run starts from
          pre-trained TransE vectors that were never released (issue #1).
        * Gradients are computed at the start of a mini-batch and summed
          (:meth:`training_loss` returns a sum, so SGD steps equal the
          official per-example steps); the official threads update
          entity/relation copies per example (Hogwild) and clip the norms of
          the touched rows after every example, here after every step.
        * The step of :math:`E_{SS}` stays at the base learning rate; the
          official one decays linearly from 0.001 to 0.0002 over the 15,000
          epochs (no per-term scheduler in the trainer).
        * :obj:`detach_attention=True` (default) reproduces the official
          hand-derived gradient, which treats the attention weights as
          constants; :obj:`False` differentiates through them.
        * More than one negative per positive is accepted (one hinge per
          negative); the official code draws one.

    Args:
        num_nodes (int): The number of entities.
        num_relations (int): The number of relations.
        hidden_channels (int): The embedding size. (default: :obj:`50`)
        modalities (Sequence[str], optional): :obj:`"structure"` and
            :obj:`"image"`. (default: :obj:`("structure", "image")`)
        x_image (torch.Tensor, optional): Image features :obj:`[N, K, D]`
            (or :obj:`[N, D]`, one image each). (default: :obj:`None`)
        image_mask (torch.Tensor, optional): Valid image slots
            :obj:`[N, K]`. (default: all slots of :obj:`x_image`)
        margin (float, optional): The margin :math:`\gamma` of every hinge.
            (default: :obj:`4.0`)
        p_norm (int, optional): :obj:`1` (L1) or :obj:`2` (squared L2).
            (default: :obj:`1`)
        variant (str, optional): The test-time score (see above).
            (default: :obj:`"ibr"`)
        detach_attention (bool, optional): See the note.
            (default: :obj:`True`)
        term_weights (tuple, optional): Step sizes of :math:`E_{SS}`,
            :math:`E_{II}`, :math:`E_{SI}`, :math:`E_{IS}` relative to the
            base learning rate. (default: :obj:`(1.0, 1.0, 0.5, 0.5)`)
        norm_weight (float, optional): The step of the
            :math:`\|\mathbf{e}_I\|` penalty relative to the base learning
            rate. (default: :obj:`0.2`)
        relation_negatives (bool, optional): Add the relation-corrupted
            negative of :math:`E_{SS}`. (default: :obj:`True`)
        train_triples (tuple of torch.Tensor, optional): The training
            triples, to filter relation-corrupted negatives.
            (default: :obj:`None`)
    """
    #: Config fields its training_loss ignores, per regime (it defines
    #: its own objective there): the trainer warns when they are set.
    ignores_config = {'slcwa': SLCWA_LOSS_FIELDS}
    #: Its training_loss sums over the batch (data-parallel training
    #: scales it accordingly, see pyg_mmkg.train.distributed).
    loss_reduction = 'sum'
    recipes = {
        None: Recipe(
            dict(regime='slcwa', num_negatives=1, sampler='uniform',
                 filtered_negatives=True, loss='margin', margin=4.0,
                 optimizer='sgd', lr=0.001, weight_decay=0.0,
                 scheduler='none', grad_clip=None, batch_size=112,
                 epochs=15000, patience=None, dim=50,
                 model_kwargs={'margin': 4.0, 'p_norm': 1}),
            source=f'{_SOURCE} src/Train.cpp, README.md',
            notes='README: -size 50 -margin 4 -method 0 (unif); Train.cpp: '
            'L1_flag=1, nepoch=15000, rate 0.001 (SS decaying to 0.0002, '
            'kept constant here), II/SI/IS steps 1.0/0.5/0.5 and the norm '
            'penalty 0.2 of the initial rate (model term_weights / '
            'norm_weight), one filtered corrupted entity per positive; '
            'batch = 8 threads x (|train| / 100 / 8) = 112 triples on '
            'WN9-IMG (11,741 training triples), 100 batches per epoch, '
            'i.e. 11,200 sampled triples (with replacement) per official '
            'epoch against 11,741 per library epoch.'),
    }

    def __init__(
        self,
        num_nodes: int,
        num_relations: int,
        hidden_channels: int = 50,
        modalities: Sequence[str] = ('structure', 'image'),
        x_image: Optional[Tensor] = None,
        image_mask: Optional[Tensor] = None,
        margin: float = 4.0,
        p_norm: int = 1,
        variant: str = 'ibr',
        detach_attention: bool = True,
        term_weights: Sequence[float] = (1.0, 1.0, 0.5, 0.5),
        norm_weight: float = 0.2,
        relation_negatives: bool = True,
        train_triples: Optional[Tuple[Tensor, Tensor, Tensor]] = None,
    ):
        check_positive('hidden_channels', hidden_channels)
        super().__init__(num_nodes, num_relations, hidden_channels,
                         _NoScorer(), False, False)
        if variant not in VARIANTS:
            raise ValueError(f"Unknown variant '{variant}' (choose from "
                             f"{', '.join(VARIANTS)})")
        if p_norm not in (1, 2):
            raise ValueError(f"'p_norm' must be 1 or 2 (got {p_norm})")
        if len(term_weights) != 4:
            raise ValueError("'term_weights' needs 4 values (SS, II, SI, IS)")
        self._init_multimodal(modalities, {}, None)
        if not self.use_structure:
            raise ValueError("IKRL needs the 'structure' modality")
        self.margin, self.p_norm, self.variant = margin, p_norm, variant
        self.detach_attention = detach_attention
        self.term_weights = tuple(float(w) for w in term_weights)
        self.norm_weight = float(norm_weight)
        self.relation_negatives = relation_negatives
        self.proj = None
        if 'image' in self.modalities and x_image is not None:
            x = x_image.float()
            if x.dim() == 2:
                x = x.unsqueeze(1)
            slots = (torch.ones(x.shape[:2], dtype=torch.bool)
                     if image_mask is None else image_mask.view(
                         x.shape[:2]).bool())
            # Train.cpp: norm(image_vec) clips every image to norm <= 1.
            x = x / x.norm(dim=-1, keepdim=True).clamp(min=1.0)
            x = x * slots.unsqueeze(-1)
            self.register_buffer('x_image', x, persistent=False)
            self.register_buffer('has_image', slots.any(1), persistent=False)
            self.register_buffer('image_slots', slots, persistent=False)
            self.feature_modalities = ('image', )
            self.proj = Linear(x.size(-1), hidden_channels, bias=False)
        keys = torch.zeros(0, dtype=torch.long)
        if train_triples is not None:
            h, r, t = train_triples
            keys = torch.unique((h * num_relations + r) * num_nodes + t)
        self.register_buffer('train_keys', keys, persistent=False)
        self.reset_parameters()

    @classmethod
    def from_data(cls, data: Any, hidden_channels: int = 50,
                  modalities: Sequence[str] = ('structure', 'image'),
                  **kwargs: Any) -> 'IKRL':
        r"""Builds the model for :obj:`data` with its image features
        :obj:`x_image` [N, K, D] (valid slots: :obj:`image_mask` and
        :obj:`has_image`) as frozen buffers, and its training triples for
        filtering relation-corrupted negatives.

        Args:
            data (Any): The knowledge graph (:mod:`pyg_mmkg.data` contract).
            hidden_channels (int, optional): The hidden size :math:`d`.
                (default: :obj:`50`)
            modalities (Sequence[str], optional): The modalities.
                (default: :obj:`("structure", "image")`)
            **kwargs (optional): Further arguments of :class:`IKRL`.
        """
        from pyg_mmkg.data import num_entities, num_relations, triples
        from pyg_mmkg.nn.models.base import normalize_modalities
        store = data['entity']
        x, slots = None, None
        if 'image' in normalize_modalities(modalities) and 'x_image' in store:
            x = store.x_image.float()
            if x.dim() == 2:
                x = x.unsqueeze(1)
            slots = store.get('image_mask', None)
            slots = (torch.ones(x.shape[:2], dtype=torch.bool)
                     if slots is None else slots.bool().view(x.shape[:2]))
            if 'has_image' in store:
                slots = slots & store.has_image.bool().view(-1, 1)
        return cls(num_entities(data), num_relations(data), hidden_channels,
                   modalities=modalities, x_image=x, image_mask=slots,
                   train_triples=triples(data, 'train'), **kwargs)

    def reset_parameters(self):
        # The random initialisation of Train.cpp (commented out there):
        # N(0, 1/n) truncated to +-6/sqrt(n), norm clipped to 1.
        d = self.hidden_channels
        for emb in [self.node_emb, self.rel_emb]:
            torch.nn.init.trunc_normal_(emb.weight, std=1.0 / d,
                                        a=-6 / math.sqrt(d),
                                        b=6 / math.sqrt(d))
        if getattr(self, 'proj', None) is not None:
            D = self.proj.in_features
            torch.nn.init.trunc_normal_(self.proj.weight, std=1.0 / D,
                                        a=-6 / math.sqrt(D),
                                        b=6 / math.sqrt(D))
        self.after_step()

    @torch.no_grad()
    def after_step(self):
        r"""Clips every entity and relation vector to L2 norm at most 1."""
        for emb in [self.node_emb, self.rel_emb]:
            w = emb.weight
            w.div_(w.norm(dim=-1, keepdim=True).clamp(min=1.0))

    # Representations #######################################################

    def image_embedding(self, ent_s: Tensor) -> Tensor:
        r"""The image-based embeddings :math:`\mathbf{e}_I` [N, d] for
        structural embeddings :obj:`ent_s` [N, d].

        Args:
            ent_s (torch.Tensor): The structural embeddings :obj:`[N, d]`.
        """
        if 'image' not in self.feature_modalities:
            return ent_s
        x, has = self.feature('image')  # [N, K, D], [N]
        slots = self.image_slots
        if self._ablation.get('image', (None, 0))[0] == 'shuffle':
            slots, _ = self._ablated('image', slots, has)  # same permutation
        slots = slots & has.view(-1, 1)
        weight = self.proj.weight  # [d, D]
        # p_i . e_S = f_i . (M^T e_S), without projecting every image:
        logits = (x * (ent_s @ weight).unsqueeze(1)).sum(-1)  # [N, K]
        logits = logits.masked_fill(~slots, float('-inf'))
        logits = torch.where(has.view(-1, 1), logits, torch.zeros_like(
            logits))
        alpha = torch.softmax(logits, dim=-1)
        if self.detach_attention:
            alpha = alpha.detach()
        pooled = (alpha.unsqueeze(-1) * x).sum(1)  # [N, D]
        ent_i = pooled @ weight.t()
        return torch.where(has.view(-1, 1), ent_i, ent_s)

    def encode(self) -> Encoded:
        r"""Returns :obj:`([e_S | e_I] [N, 2d], r [R, d])`."""
        ent_s, _ = self.structure(self.node_emb.weight)
        ent = torch.cat([ent_s, self.image_embedding(ent_s)], dim=-1)
        return ent, self.rel_emb.weight

    def _split(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        return x[..., :self.hidden_channels], x[..., self.hidden_channels:]

    def _terms(self, variant: str):
        return {'ibr': [(1, 1)], 'sbr': [(0, 0)],
                'union': [(0, 0), (1, 1), (0, 1), (1, 0)]}[variant]

    # Scoring ###############################################################

    def forward(self, head_index: Tensor, rel_type: Tensor,
                tail_index: Tensor,
                encoded: Optional[Encoded] = None) -> Tensor:
        ent, rel = self.encode() if encoded is None else encoded
        h, t, r = self._split(ent[head_index]), self._split(
            ent[tail_index]), rel[rel_type]
        return -sum(energy(h[a] + r - t[b], self.p_norm)
                    for a, b in self._terms(self.variant))

    def score_tails(self, head_index: Tensor, rel_type: Tensor,
                    encoded: Optional[Encoded] = None) -> Tensor:
        ent, rel = self.encode() if encoded is None else encoded
        h, r, cand = self._split(ent[head_index]), rel[rel_type], \
            self._split(ent)
        return -sum(energy_all(h[a] + r, cand[b], self.p_norm)
                    for a, b in self._terms(self.variant))

    def score_heads(self, rel_type: Tensor, tail_index: Tensor,
                    encoded: Optional[Encoded] = None) -> Tensor:
        ent, rel = self.encode() if encoded is None else encoded
        t, r, cand = self._split(ent[tail_index]), rel[rel_type], \
            self._split(ent)
        return -sum(energy_all(t[b] - r, cand[a], self.p_norm)
                    for a, b in self._terms(self.variant))

    # Training ##############################################################

    def corrupt_relations(self, head_index: Tensor, rel_type: Tensor,
                          tail_index: Tensor, max_tries: int = 100) -> Tensor:
        r"""One random relation per triple such that the corrupted triple
        is not a training triple (resampled as in :obj:`Train.cpp`; after
        :obj:`max_tries` rounds, any relation other than the positive's).

        Args:
            head_index (torch.Tensor): The head indices :obj:`[B]`.
            rel_type (torch.Tensor): The relation types :obj:`[B]`.
            tail_index (torch.Tensor): The tail indices :obj:`[B]`.
            max_tries (int, optional): The number of resampling rounds.
                (default: :obj:`100`)
        """
        R, N = self.num_relations, self.num_nodes
        out = torch.randint(0, R, rel_type.shape, device=rel_type.device)
        keys = self.train_keys
        for _ in range(max_tries):
            if keys.numel() > 0:
                key = (head_index * R + out) * N + tail_index
                pos = torch.searchsorted(keys, key).clamp(max=keys.numel() -
                                                          1)
                bad = keys[pos] == key
            else:
                bad = out == rel_type
            if not bool(bad.any()):
                break
            out = torch.where(bad, torch.randint_like(out, 0, R), out)
        return out

    def training_loss(self, batch: Any, encoded: Encoded) -> Optional[Tensor]:
        r"""The official objective of an sLCWA batch (see the class
        description), summed over the batch; :obj:`None` for 1-N
        batches.

        Args:
            batch (TrainBatch): The trainer batch.
            encoded ((torch.Tensor, torch.Tensor)): The output of
                :meth:`encode`.
        """
        if batch.regime != 'slcwa':
            return None
        ent, rel = encoded
        h, r, t = batch.head_index, batch.rel_type, batch.tail_index
        nh, nt = batch.neg_head, batch.neg_tail  # [B, k]
        pos_h, pos_t = self._split(ent[h]), self._split(ent[t])
        neg_h, neg_t = self._split(ent[nh]), self._split(ent[nt])
        rv = rel[r]
        loss = ent.new_zeros(())
        for w, (a, b) in zip(self.term_weights, self._terms('union')):
            pos = energy(pos_h[a] + rv - pos_t[b], self.p_norm)
            neg = energy(neg_h[a] + rv.unsqueeze(1) - neg_t[b], self.p_norm)
            loss = loss + w * F.relu(self.margin + pos.unsqueeze(1) -
                                     neg).sum()
            if (a, b) == (0, 0) and self.relation_negatives:
                r_neg = self.corrupt_relations(h, r, t)
                neg = energy(pos_h[0] + rel[r_neg] - pos_t[0], self.p_norm)
                loss = loss + w * F.relu(self.margin + pos - neg).sum()
        if self.norm_weight > 0 and 'image' in self.feature_modalities:
            # Once per entity of the batch whose image embedding has norm
            # above 1 (gradient 2 e_I, step norm_weight * lr):
            idx = torch.unique(torch.cat([h, t, nh.reshape(-1),
                                          nt.reshape(-1)]))
            idx = idx[self.has_image[idx]]
            sq = self._split(ent[idx])[1].pow(2).sum(-1)
            loss = loss + self.norm_weight * (sq * (sq > 1)).sum()
        return loss

    def loss(self, head_index: Tensor, rel_type: Tensor,
             tail_index: Tensor) -> Tensor:
        r"""The official objective with one (unfiltered) corrupted triple
        per positive from :meth:`random_sample`, for PyG's loops.

        Args:
            head_index (torch.Tensor): The head indices :obj:`[B]`.
            rel_type (torch.Tensor): The relation types :obj:`[B]`.
            tail_index (torch.Tensor): The tail indices :obj:`[B]`.
        """
        from pyg_mmkg.train.batches import TrainBatch
        nh, _, nt = self.random_sample(head_index, rel_type, tail_index)
        batch = TrainBatch('slcwa', head_index, rel_type, tail_index,
                           neg_head=nh.view(-1, 1), neg_tail=nt.view(-1, 1))
        return self.training_loss(batch, self.encode())

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_nodes}, '
                f'num_relations={self.num_relations}, '
                f'hidden_channels={self.hidden_channels}, '
                f'variant={self.variant}, p_norm={self.p_norm}, '
                f'{self._extra_repr_args()})')
