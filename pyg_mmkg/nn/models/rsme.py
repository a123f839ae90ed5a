import warnings
from typing import Any, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Linear

from pyg_mmkg.nn.kge.complex_scorer import ComplExScorer
from pyg_mmkg.nn.models._rsme_gate import (forget_gate, mean_rank_proportion,
                                           sigmoid_alpha)
from pyg_mmkg.nn.models._rsme_recipe import RSME_RECIPES
from pyg_mmkg.nn.models.base import (Features, MultimodalKGEModel,
                                     check_positive)

Encoded = Tuple[Tensor, Tensor]
ALPHA_MODES = ('constant', 'relation')


def first_image(data: Any, slot: Optional[Tensor] = None
                ) -> Tuple[Tensor, Tensor]:
    r"""One image feature per entity from :obj:`data['entity'].x_image`:
    slot :obj:`slot[i]` of entity :math:`i` of the :obj:`[N, K, D]`
    features when :obj:`slot` is given, else its first filled slot (the most
    central image when they were encoded with :obj:`selection='phash'`), or
    the :obj:`[N, D]` features themselves. Returns :obj:`(x [N, D], mask
    [N])` with zero rows for entities without an image.

    Args:
        data (HeteroData): The knowledge graph.
        slot (torch.Tensor, optional): Per entity, the image slot to keep
            :obj:`[N]` (*e.g.* :func:`phash_image_slot`).
            (default: :obj:`None`)
    """
    store = data['entity']
    x = store.x_image.float()
    mask = store.get('has_image', None)
    mask = (torch.ones(x.size(0), dtype=torch.bool) if mask is None
            else mask.view(-1).bool())
    if x.dim() == 3:
        slots = store.get('image_mask', None)
        slots = (torch.ones(x.shape[:2], dtype=torch.bool) if slots is None
                 else slots.bool())
        rows = torch.arange(x.size(0))
        if slot is None:
            slot = slots.to(torch.int8).argmax(dim=1)  # first True slot
        elif slot.shape != (x.size(0), ) or bool(
                ((slot < 0) | (slot >= x.size(1))).any()):
            raise ValueError(f"'slot' must hold one index in [0, "
                             f"{x.size(1)}) per entity, got shape "
                             f"{tuple(slot.shape)}")
        x = x[rows, slot]
        mask = mask & slots[rows, slot]
    return x * mask.unsqueeze(-1).to(x.dtype), mask


def phash_image_slot(data: Any) -> Optional[Tensor]:
    r"""RSME's filter gate on :obj:`data`: per entity, the slot of
    :obj:`x_image` [N, K, D] holding its pHash-central image
    (:func:`pyg_mmkg.features.phash_slots` over the files of
    :obj:`data['entity'].image_files`, one list of paths per entity in
    slot order), or :obj:`None` when the data has no files to read (the
    bundled VTKG-I has them) or a single slot.

    Args:
        data (HeteroData): The knowledge graph.
    """
    store = data['entity']
    files = store.get('image_files', None)
    x = store.get('x_image', None)
    if files is None or x is None or x.dim() != 3 or x.size(1) == 1:
        return None
    if len(files) != x.size(0):
        raise ValueError(f"data['entity'].image_files lists {len(files)} "
                         f"entities, x_image {x.size(0)}")
    slots = store.get('image_mask', None)
    filled = (torch.ones(x.shape[:2], dtype=torch.bool) if slots is None
              else slots.bool())
    counts = torch.tensor([len(f) for f in files])
    bad = (counts != filled.sum(1)).nonzero().view(-1)
    if bad.numel():
        i = int(bad[0])
        raise ValueError(f"data['entity'].image_files must list one file per "
                         f"filled image slot; entity {i} lists "
                         f"{int(counts[i])} for {int(filled[i].sum())} "
                         f"(stale after re-encoding the images?)")
    # File j of an entity is in its j-th filled slot.
    from pyg_mmkg.features import phash_slots
    pick = phash_slots([list(f) for f in files])
    order = torch.argsort((~filled).to(torch.int8), dim=1, stable=True)
    return order[torch.arange(order.size(0)), pick]


class RSME(MultimodalKGEModel):
    r"""The RSME model from the `"Is Visual Context Really Helpful for
    Knowledge Graph? A Representation Learning Perspective"
    <https://doi.org/10.1145/3474085.3475470>`_ paper (ACM MM 2021).

    ComplEx (reciprocal relations, 1-N scoring) on entities that mix a
    structural embedding :math:`\mathbf{e}^s` with the projection of one
    frozen image feature :math:`\mathbf{x}` per entity:

    .. math::
        \tilde{\mathbf{e}} = (1 - \alpha) \mathbf{e}^s + \alpha \,
        \mathbf{W} \mathbf{x}, \qquad
        s(h, r, t) = \beta \, \mathrm{Re}(\langle \tilde{\mathbf{e}}_h,
        \mathbf{r}, \overline{\tilde{\mathbf{e}}_t} \rangle) + (1 - \beta)
        \cos(\mathbf{x}_h, \mathbf{x}_t) \, g_r

    with :math:`\alpha` a constant (:obj:`alpha_mode="constant"`, 0.7) or
    :math:`\alpha_r = 1 / (1 + e^{\mathrm{MRP}(r)})` per relation
    (:obj:`"relation"`), and the forget gate :math:`g_r = [\mathrm{MRP}(r)
    < \mathrm{remember\_rate} / 100]`, where :math:`\mathrm{MRP}(r)` is the
    mean rank proportion of the true tails of relation :math:`r` among
    all tails by raw image cosine
    (:func:`~pyg_mmkg.nn.models._rsme_gate.mean_rank_proportion`).
    :meth:`forward`, :meth:`score_tails` and :meth:`score_heads` return the
    inference score :math:`s`; the published objective
    (:meth:`training_loss`) is the softmax cross-entropy over all entities
    of the ComplEx part alone plus N3 on the moduli of the mixed head,
    relation and tail (:obj:`train_image_term=True` trains :math:`s`
    instead). Relation :math:`r^{-1}` shares :math:`g_r` and
    :math:`\alpha_r`. Without the image modality the model is ComplEx-N3
    (:math:`s` is the ComplEx score). :meth:`encode` returns entity rows
    :math:`[\mathbf{e}^s \| \mathbf{W}\mathbf{x} \|
    \mathbf{x} / \|\mathbf{x}\|]`.

    The official filter gate (one image per entity, the one with the
    largest summed pHash similarity to the entity's other images) is
    :func:`pyg_mmkg.features.phash_slots` /
    :obj:`encode_images(..., selection='phash')`; :meth:`from_data` applies
    it when the data lists its image files (:func:`phash_image_slot`, the
    bundled VTKG-I does), else takes the first image slot
    (:func:`first_image`), which is the central one for features encoded
    with :obj:`selection='phash'`.

    .. note::
        Deviations from the official code (:obj:`wangmengsd/RSME@d46e6d5`):

        * **The MRP statistic, the forget gate and** :math:`\alpha_r` **are
          computed from training triples only** (:meth:`from_data`). The
          official :obj:`MRP.py` (:obj:`get_filtered_triples`) collects the
          1-1 triples of the train, valid *and* test files, so the gate and
          the relation-specific :math:`\alpha_r` see test triples (a
          leak). The file it needs (:obj:`fb15k_tail_norm_vector.pickle`)
          is not produced by the released code (RSME issue #3): the
          candidates here are the normalised image features of the
          candidate tails, as its name says.
        * MRP ties (equal cosines) are ranked in candidate (entity id)
          order; the official :obj:`np.argsort` breaks them arbitrarily.
        * In :obj:`"relation"` mode the official training scores are
          :obj:`detach()`-ed (only the N3 term trains) and computed in a
          Python loop over the batch; here they are differentiable and
          vectorised.
        * No :obj:`random_gate` option; no hard-coded CUDA device.
        * The image term uses raw features (as official) and zero for
          entities without an image (official: zero vectors, whose cosine
          is 0 as well).

    Args:
        num_nodes (int): The number of entities.
        num_relations (int): The number of relations.
        hidden_channels (int): The complex rank :math:`k`.
            (default: :obj:`1000`)
        modalities (Sequence[str], optional): :obj:`"structure"` and
            optionally :obj:`"image"`. (default: :obj:`("structure",
            "image")`)
        features (Dict[str, Tuple[Tensor, Tensor]], optional): The image
            features :obj:`[N, D]` and mask :obj:`[N]` under
            :obj:`"image"`. (default: :obj:`None`)
        mrp (torch.Tensor, optional): :math:`\mathrm{MRP}(r)` per relation
            :obj:`[num_relations]` (:obj:`nan`: undefined, as for every
            relation when not given: gate :math:`0`, :math:`\alpha_r = 1 /
            (1 + e)`, as the official code treats relations without a
            statistic). (default: :obj:`None`)
        alpha (float, optional): The constant :math:`\alpha`.
            (default: :obj:`0.7`)
        alpha_mode (str, optional): :obj:`"constant"` or :obj:`"relation"`.
            (default: :obj:`"constant"`)
        beta (float, optional): :math:`\beta`. (default: :obj:`0.5`)
        use_forget_gate (bool, optional): Multiply the image term by
            :math:`g_r` (else :math:`g_r = 1`). (default: :obj:`True`)
        remember_rate (float, optional): Gate threshold in percent.
            (default: :obj:`100.0`)
        train_image_term (bool, optional): Train on :math:`s` instead of
            its ComplEx part. (default: :obj:`False`)
        n3_weight (float, optional): Weight of N3. (default: :obj:`0.0`)
        init_scale (float, optional): Standard deviation of the initial
            embeddings. (default: :obj:`1e-3`)
        reciprocal (bool, optional): Learn inverse relations.
            (default: :obj:`True`)
        sparse (bool, optional): Sparse embedding gradients.
            (default: :obj:`False`)
    """
    #: Config fields its training_loss ignores, per regime.
    ignores_config = {'1vsall': ('loss', 'label_smoothing'),
                      'kvsall': ('loss', )}
    recipes = RSME_RECIPES
    own_regularizer = 'n3'

    def __init__(
        self,
        num_nodes: int,
        num_relations: int,
        hidden_channels: int = 1000,
        modalities: Sequence[str] = ('structure', 'image'),
        features: Optional[Features] = None,
        mrp: Optional[Tensor] = None,
        alpha: float = 0.7,
        alpha_mode: str = 'constant',
        beta: float = 0.5,
        use_forget_gate: bool = True,
        remember_rate: float = 100.0,
        train_image_term: bool = False,
        n3_weight: float = 0.0,
        init_scale: float = 1e-3,
        reciprocal: bool = True,
        sparse: bool = False,
    ):
        super().__init__(num_nodes, num_relations, hidden_channels,
                         ComplExScorer(), sparse, reciprocal)
        check_positive('hidden_channels', hidden_channels)
        if alpha_mode not in ALPHA_MODES:
            raise ValueError(f"Unknown alpha_mode '{alpha_mode}' (choose "
                             f"from {', '.join(ALPHA_MODES)})")
        mods = [m for m in modalities if m in ('structure', 'image')]
        if len(mods) < len(list(modalities)):
            warnings.warn("RSME uses the modalities 'structure' and 'image' "
                          "only; the others are ignored")
        features = {k: v for k, v in (features or {}).items()
                    if k == 'image'}
        self._init_multimodal(mods or ['structure'], features, None)
        if not self.use_structure:
            raise ValueError("RSME needs the 'structure' modality")
        self.alpha, self.alpha_mode = float(alpha), alpha_mode
        self.beta, self.use_forget_gate = float(beta), bool(use_forget_gate)
        self.remember_rate = float(remember_rate)
        self.train_image_term = bool(train_image_term)
        self.n3_weight, self.init_scale = float(n3_weight), float(init_scale)
        self.image = 'image' in self.feature_modalities
        if mrp is None:
            mrp = torch.full((num_relations, ), float('nan'))
        mrp = mrp.float().view(-1)
        if mrp.numel() != num_relations:
            raise ValueError(f"'mrp' must have {num_relations} entries "
                             f"(got {mrp.numel()})")
        reps = 2 if reciprocal else 1
        self.register_buffer('mrp', mrp.clone())
        self.register_buffer('gate', forget_gate(mrp, remember_rate)
                             .repeat(reps))
        self.register_buffer('rel_alpha', sigmoid_alpha(mrp).repeat(reps))
        if self.image:
            self.proj = Linear(self.feature_dim('image'),
                               2 * hidden_channels, bias=False)
        self.reset_parameters()

    @classmethod
    def from_data(cls, data: Any, hidden_channels: int = 1000,
                  modalities: Sequence[str] = ('structure', 'image'),
                  image_selection: str = 'phash',
                  **kwargs: Any) -> 'RSME':
        r"""Builds the model for :obj:`data` with one image feature per
        entity and :math:`\mathrm{MRP}(r)` computed from the **training**
        triples only.

        Args:
            data (Any): The knowledge graph (:mod:`pyg_mmkg.data` contract).
            hidden_channels (int, optional): The hidden size :math:`d`.
                (default: :obj:`1000`)
            modalities (Sequence[str], optional): The modalities.
                (default: :obj:`("structure", "image")`)
            image_selection (str, optional): :obj:`"phash"`, the official
                filter gate: the pHash-central image of each entity when
                :obj:`data['entity'].image_files` lists the files of the
                image slots (:func:`phash_image_slot`), else the first
                filled slot; :obj:`"first"`: always the first filled slot
                (:func:`first_image`). (default: :obj:`"phash"`)
            **kwargs (optional): Further arguments of :class:`RSME`.
        """
        from pyg_mmkg.data import num_entities, num_relations, triples
        if image_selection not in ('phash', 'first'):
            raise ValueError(f"'image_selection' must be 'phash' or 'first' "
                             f"(got '{image_selection}')")
        features = {}
        if 'image' in modalities and 'x_image' in data['entity']:
            slot = (phash_image_slot(data) if image_selection == 'phash'
                    else None)
            features['image'] = first_image(data, slot)
        R = num_relations(data)
        if 'image' in features and 'mrp' not in kwargs:
            h, r, t = triples(data, 'train')
            kwargs['mrp'] = mean_rank_proportion(*features['image'], h, r,
                                                 t, R)
        return cls(num_entities(data), R, hidden_channels,
                   modalities=modalities, features=features, **kwargs)

    def reset_parameters(self):
        # kbc's init: N(0, 1) tables scaled by `init`; W Xavier-uniform.
        for emb in [self.node_emb, self.node_emb_im, self.rel_emb,
                    self.rel_emb_im]:
            torch.nn.init.normal_(emb.weight, std=self.init_scale)
        if getattr(self, 'image', False):
            torch.nn.init.xavier_uniform_(self.proj.weight)

    # Representations ########################################################

    def encode(self) -> Encoded:
        ent = torch.cat([self.node_emb.weight, self.node_emb_im.weight], -1)
        ent, _ = self.structure(ent)
        rel = torch.cat([self.rel_emb.weight, self.rel_emb_im.weight], -1)
        if not self.image:
            return ent, rel
        x, mask = self.feature('image')
        x = x * mask.unsqueeze(-1).to(x.dtype)
        ent = torch.cat([ent, self.proj(x), F.normalize(x, p=2, dim=-1)], -1)
        return ent, rel

    def _split(self, ent: Tensor) -> Tuple[Tensor, Optional[Tensor],
                                           Optional[Tensor]]:
        k2 = 2 * self.hidden_channels
        if not self.image:
            return ent, None, None
        return ent[..., :k2], ent[..., k2:2 * k2], ent[..., 2 * k2:]

    def _alpha(self, rel_type: Tensor) -> Any:
        if self.alpha_mode == 'constant':
            return self.alpha
        return self.rel_alpha[rel_type].unsqueeze(-1)

    def mixed(self, ent: Tensor, alpha: Any) -> Tensor:
        r"""The mixed entity embeddings :math:`(1 - \alpha) \mathbf{e}^s +
        \alpha \mathbf{W}\mathbf{x}` of rows :obj:`ent` of :meth:`encode`.

        Args:
            ent (torch.Tensor): Rows of the first output of :meth:`encode`.
            alpha (float or torch.Tensor): :math:`\alpha`, broadcastable.
        """
        ent_s, img, _ = self._split(ent)
        return ent_s if img is None else (1 - alpha) * ent_s + alpha * img

    def _gate(self, rel_type: Tensor) -> Tensor:
        if not self.use_forget_gate:
            return torch.ones_like(self.gate[rel_type])
        return self.gate[rel_type]

    def _combine(self, score: Tensor, cos: Optional[Tensor],
                 rel_type: Tensor, full: bool = True) -> Tensor:
        if cos is None or not full:
            return score
        gate = self._gate(rel_type)
        if score.dim() == 2:
            gate = gate.unsqueeze(-1)
        return self.beta * score + (1 - self.beta) * cos * gate

    # Scores (inference score s) #############################################

    def forward(self, head_index: Tensor, rel_type: Tensor,
                tail_index: Tensor,
                encoded: Optional[Encoded] = None) -> Tensor:
        ent, rel = self.encode() if encoded is None else encoded
        alpha = self._alpha(rel_type)
        head, tail = ent[head_index], ent[tail_index]
        score = self.scorer(self.mixed(head, alpha), rel[rel_type],
                            self.mixed(tail, alpha))
        cos = None
        if self.image:
            cos = (self._split(head)[2] * self._split(tail)[2]).sum(-1)
        return self._combine(score, cos, rel_type)

    def _score_tails(self, head_index: Tensor, rel_type: Tensor,
                     encoded: Optional[Encoded], full: bool) -> Tensor:
        ent, rel = self.encode() if encoded is None else encoded
        alpha = self._alpha(rel_type)
        ent_s, img, x = self._split(ent)
        head, rel = self.mixed(ent[head_index], alpha), rel[rel_type]
        if img is None:
            return self.scorer.score_tails(head, rel, ent_s)
        if self.alpha_mode == 'constant':
            score = self.scorer.score_tails(head, rel, self.mixed(ent, alpha))
        else:
            score = ((1 - alpha) * self.scorer.score_tails(head, rel, ent_s) +
                     alpha * self.scorer.score_tails(head, rel, img))
        cos = x[head_index] @ x.t() if full else None
        return self._combine(score, cos, rel_type, full)

    def score_tails(self, head_index: Tensor, rel_type: Tensor,
                    encoded: Optional[Encoded] = None) -> Tensor:
        return self._score_tails(head_index, rel_type, encoded, True)

    def score_heads(self, rel_type: Tensor, tail_index: Tensor,
                    encoded: Optional[Encoded] = None) -> Tensor:
        if self.reciprocal:
            return self.score_tails(tail_index, rel_type + self.num_relations,
                                    encoded)
        ent, rel = self.encode() if encoded is None else encoded
        alpha = self._alpha(rel_type)
        ent_s, img, x = self._split(ent)
        tail, rel = self.mixed(ent[tail_index], alpha), rel[rel_type]
        if img is None:
            return self.scorer.score_heads(rel, tail, ent_s)
        if self.alpha_mode == 'constant':
            score = self.scorer.score_heads(rel, tail, self.mixed(ent, alpha))
        else:
            score = ((1 - alpha) * self.scorer.score_heads(rel, tail, ent_s) +
                     alpha * self.scorer.score_heads(rel, tail, img))
        return self._combine(score, x[tail_index] @ x.t(), rel_type)

    # Training ###############################################################

    def training_loss(self, batch: Any, encoded: Encoded) -> Optional[Tensor]:
        r"""The published objective for a 1-N batch: softmax cross-entropy
        over all entities of the ComplEx scores of the mixed embeddings
        (of :math:`s` with :obj:`train_image_term=True`; targets: the
        answer of 1vsAll batches or the normalised multi-hot KvsAll
        targets) plus :obj:`n3_weight` times the sum of the cubed moduli
        of the mixed head, the relation (and the mixed tail), divided by
        the batch size. Returns :obj:`None` for sLCWA batches (not
        published; the trainer's loss is used).

        Args:
            batch (TrainBatch): The batch.
            encoded ((torch.Tensor, torch.Tensor)): :meth:`encode`'s output.
        """
        from pyg_mmkg.train.losses import (complex_n3_regularizer,
                                           one_to_n_ce_loss)
        if batch.regime == 'slcwa':
            return None
        h, r, t = batch.head_index, batch.rel_type, batch.tail_index
        scores = self._score_tails(h, r, encoded, self.train_image_term)
        loss = one_to_n_ce_loss(scores, t if t is not None else
                                batch.targets)
        if self.n3_weight > 0:
            ent, rel = encoded
            alpha = self._alpha(r)
            factors = [self.mixed(ent[h], alpha), rel[r]]
            if t is not None:
                factors.append(self.mixed(ent[t], alpha))
            loss = loss + complex_n3_regularizer(factors, self.n3_weight)
        return loss

    def loss(self, head_index: Tensor, rel_type: Tensor,
             tail_index: Tensor) -> Tensor:
        r"""The published objective on positive triples (tail queries, and
        reciprocal head queries if :obj:`reciprocal=True`).

        Args:
            head_index (torch.Tensor): The heads.
            rel_type (torch.Tensor): The relations.
            tail_index (torch.Tensor): The tails.
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
                f'alpha_mode={self.alpha_mode}, {self._extra_repr_args()})')
