from typing import Any, Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Dropout, LayerNorm, Linear, Parameter

from pyg_mmkg.nn.models._vista_layers import (_MaskedSlotDecoder, _read,
                                              _TokenEncoder, _xavier_token)
from pyg_mmkg.nn.models._vista_presets import (  # noqa: F401
    PRESETS, TRAIN_COMMON, TRAIN_PRESETS, _recipe)
from pyg_mmkg.nn.models.base import (MultimodalKGEModel, build_encoder,
                                     warn_missing_modalities,
                                     check_positive)
from pyg_mmkg.train.config import SLCWA_LOSS_FIELDS

Encoded = Tuple[Tensor, Tensor]


class VISTA(MultimodalKGEModel):
    r"""The VISTA model from the `"VISTA: Visual-Textual Knowledge Graph
    Representation Learning" <https://aclanthology.org/2023.findings-emnlp.
    488>`_ paper (Findings of EMNLP 2023).

    An entity encoder (a transformer) reads the tokens :math:`[\mathtt{CLS},
    \mathbf{s}_e, \mathbf{v}_{e,1}, \ldots, \mathbf{v}_{e,k}, \mathbf{t}_e]`
    (structural embedding, up to :math:`k` image features, text feature,
    each layer-normalised, dropped out and given a type position) and
    represents :math:`e` by its output :math:`\tilde{\mathbf{e}}` at
    :math:`\mathtt{CLS}`; a relation encoder does the same over the
    relation's structural embedding, images and text (features from
    :obj:`data['relation']`). A triplet decoder (a third transformer) reads
    :math:`[\tilde{\mathbf{e}}_h, \tilde{\mathbf{r}}, \mathtt{[MASK]}]` and
    scores every entity against its output :math:`\mathbf{q}` at the masked
    slot (1-N):

    .. math::
        f(h, r, t) = \mathbf{q}(h, r, \mathtt{?})^{\top} \tilde{\mathbf{e}}_t,
        \qquad
        f_{\mathrm{head}}(h, r, t) = \mathbf{q}(\mathtt{?}, r, t)^{\top}
        \tilde{\mathbf{e}}_h.

    Head queries put the mask in the head slot. With :obj:`reciprocal=True`
    (needed by the trainer's 1-N regimes), relation :obj:`r + R` denotes
    this head-slot query, so :obj:`score_tails(t, r + R) == score_heads(r,
    t)`; no inverse relation is learned. The published loss is the softmax
    cross-entropy over all entities (:obj:`regime="1vsall"`,
    :obj:`loss="ce"`); :attr:`recipes` hold the official per-dataset
    training settings and :obj:`PRESETS` the official model settings
    (:obj:`from_data(data, preset="VTKG-I")`). Modality ablations (:meth:`ablate`)
    act on entity and relation features alike.
    The official dropouts (up to 0.9 on the structural token) are tuned
    for hundreds of epochs: on graphs of thousands of entities VISTA stays
    at the popularity level for the first hundreds of steps with them, so
    for short budgets set :obj:`dropout=0.0, emb_dropout=0.0` (see
    ``benchmarks/results/methods.md``, WN9-IMG and FB15k-237).

    .. note::
        Empty image slots (and missing texts) are hidden from the encoders
        by a key-padding mask, as in the official code
        (:obj:`missing="mask"`). :obj:`missing="token"` instead shows one
        learned "missing" token for an item without any image (or text);
        partially filled image slots are masked in both cases. The official
        code has no such token and the paper's description of missing
        images could not be checked here. Training queries each triple in
        both directions every epoch (the official code draws one direction
        at random), so one epoch here is about two official epochs; the
        :attr:`recipes` are in these units. Models are selected on
        validation, not at a fixed test epoch. Initialisation follows the
        official code (Xavier-uniform on the :obj:`(N, 1, d)` entity and
        relation tables, on the tokens and the projections, zero projection
        biases); the transformer layers keep PyTorch's initialisation, as
        in the official code.

    Args:
        num_nodes (int): The number of entities.
        num_relations (int): The number of relations.
        hidden_channels (int, optional): Token size :math:`d`.
            (default: :obj:`256`)
        modalities (Sequence[str], optional): Token types to use.
            (default: :obj:`("structure", "text", "image")`)
        features (dict, optional): Entity features :obj:`{"text": (x [N,
            D_t], mask [N]), "image": (x [N, k, D_v], slots [N, k])}`.
        relation_features (dict, optional): The same for relations.
        num_entity_layers (int, optional): :math:`L`. (default: :obj:`2`)
        num_relation_layers (int, optional): :math:`\hat{L}`.
            (default: :obj:`1`)
        num_decoder_layers (int, optional): :math:`\tilde{L}`.
            (default: :obj:`2`)
        heads (int, optional): Attention heads. (default: :obj:`4`)
        ffn_channels (int, optional): Feed-forward size.
            (default: :obj:`2048`)
        dropout (float, optional): Transformer dropout. (default: :obj:`0.01`)
        emb_dropout (float, optional): Dropout of structural tokens.
            (default: :obj:`0.9`)
        vis_dropout (float, optional): Dropout of image tokens.
            (default: :obj:`0.4`)
        txt_dropout (float, optional): Dropout of text tokens.
            (default: :obj:`0.1`)
        missing (str, optional): :obj:`"mask"` or :obj:`"token"` (see the
            note). (default: :obj:`"mask"`)
        label_smoothing (float, optional): Label smoothing of the loss of
            :meth:`training_loss` and :meth:`loss` (0 in every official
            script). (default: :obj:`0.0`)
        encoder (torch.nn.Module, optional): A relational encoder applied to
            the encoded entities. (default: :obj:`None`)
        reciprocal (bool, optional): Accept relation ids :obj:`r + R` as
            head-slot queries. (default: :obj:`True`)
    """
    #: Config fields its training_loss ignores, per regime (it defines
    #: its own objective there): the trainer warns when they are set.
    ignores_config = {'slcwa': SLCWA_LOSS_FIELDS,
                      '1vsall': ('loss', 'label_smoothing'),
                      'kvsall': ('loss', )}
    # The official `test_*.sh` scripts; `train.py`'s defaults are VTKG-C's.
    recipes = {
        None: _recipe('VTKG-C', 'train.py (argument defaults)'),
        'VTKG-I': _recipe('VTKG-I', 'test_VTKG-I.sh'),
        'VTKG-C': _recipe('VTKG-C', 'test_VTKG-C.sh'),
        'WN18RR++': _recipe('WN18RR++', 'test_WN18RR++.sh'),
        'FB15K237': _recipe('FB15K237', 'test_FB15K237.sh'),
    }

    def __init__(
        self,
        num_nodes: int,
        num_relations: int,
        hidden_channels: int = 256,
        modalities: Sequence[str] = ('structure', 'text', 'image'),
        features: Optional[Dict[str, Tuple[Tensor, Tensor]]] = None,
        relation_features: Optional[Dict[str, Tuple[Tensor, Tensor]]] = None,
        num_entity_layers: int = 2,
        num_relation_layers: int = 1,
        num_decoder_layers: int = 2,
        heads: int = 4,
        ffn_channels: int = 2048,
        dropout: float = 0.01,
        emb_dropout: float = 0.9,
        vis_dropout: float = 0.4,
        txt_dropout: float = 0.1,
        missing: str = 'mask',
        label_smoothing: float = 0.0,
        encoder: Optional[torch.nn.Module] = None,
        reciprocal: bool = True,
    ):
        check_positive('hidden_channels', hidden_channels)
        if missing not in ('mask', 'token'):
            raise ValueError(f"Unknown missing-modality treatment "
                             f"'{missing}' (choose from mask, token)")
        d = hidden_channels
        decoder = _MaskedSlotDecoder(d, heads, ffn_channels, dropout,
                                     num_decoder_layers)
        super().__init__(num_nodes, num_relations, d, decoder, False, False)
        self.reciprocal = reciprocal
        self.missing = missing
        features = dict(features or {})
        image = features.pop('image', None)
        self._init_multimodal(modalities, features, encoder)
        if image is not None and 'image' in self.modalities:
            x, slots = image
            if x.size(0) != num_nodes or slots.shape != x.shape[:2]:
                raise ValueError(f"'image' features must be [{num_nodes}, k, "
                                 f"D] with slots [{num_nodes}, k]")
            self.register_buffer('x_image', x.float(), persistent=False)
            self.register_buffer('image_slots', slots.bool(),
                                 persistent=False)
            self.register_buffer('has_image', slots.any(1), persistent=False)
            self.feature_modalities = self.feature_modalities + ('image', )
        if not self.active_modalities:
            raise ValueError('VISTA needs at least one modality')
        # Relation features: the modalities the entities use.
        self.rel_modalities = []
        for m, (x, mask) in (relation_features or {}).items():
            if m not in self.feature_modalities:
                continue
            if x.size(0) != num_relations:
                raise ValueError(f"Relation '{m}' features must have "
                                 f"{num_relations} rows")
            if m == 'text' and x.size(-1) != self.x_text.size(-1):
                raise ValueError(f"Relation and entity text features must "
                                 f"have the same size (the text projection "
                                 f"is shared); got {x.size(-1)} and "
                                 f"{self.x_text.size(-1)}")
            self.register_buffer(f'rel_x_{m}', x.float(), persistent=False)
            if m == 'image':
                self.register_buffer('rel_image_slots', mask.bool(),
                                     persistent=False)
                mask = mask.any(1)
            self.register_buffer(f'rel_has_{m}', mask.bool(),
                                 persistent=False)
            self.rel_modalities.append(m)

        dims = {m: getattr(self, f'x_{m}').size(-1)
                for m in self.feature_modalities}
        img, txt = 'image' in dims, 'text' in dims
        self.ln_s = (LayerNorm(d) if self.use_structure else None)
        self.ln_rs = LayerNorm(d)  # Structure: entities, relations apart.
        self.ln_v = LayerNorm(d) if img else None
        self.ln_t = LayerNorm(d) if txt else None
        self.drop_s, self.drop_v = Dropout(emb_dropout), Dropout(vis_dropout)
        self.drop_t = Dropout(txt_dropout)
        self.proj_t = Linear(dims['text'], d) if txt else None
        self.proj_v = Linear(dims['image'], d) if img else None
        self.proj_rv = (Linear(self.rel_x_image.size(-1), d)
                        if 'image' in self.rel_modalities else None)
        self.missing_token = (Parameter(torch.empty(2, d))  # image, text
                              if missing == 'token' and (img or txt) else
                              None)
        self.label_smoothing = label_smoothing
        self.node_emb.requires_grad_(self.use_structure)
        self.entity_encoder = _TokenEncoder(d, heads, ffn_channels, dropout,
                                            num_entity_layers)
        self.relation_encoder = _TokenEncoder(d, heads, ffn_channels,
                                              dropout, num_relation_layers)
        self.reset_parameters()

    @classmethod
    def from_data(cls, data: Any, hidden_channels: int = 256,
                  modalities: Sequence[str] = ('structure', 'text', 'image'),
                  preset: Optional[str] = None, num_images: Optional[int] = 5,
                  encoder: Any = None,
                  encoder_kwargs: Optional[Dict[str, Any]] = None,
                  **kwargs: Any) -> 'VISTA':
        r"""Builds the model for :obj:`data`, reading entity features from
        :obj:`data['entity']` and relation features from
        :obj:`data['relation']` (:obj:`x_text`/:obj:`has_text`,
        :obj:`x_image`/:obj:`image_mask`, the first :obj:`num_images` image
        slots). :obj:`preset` (*e.g.* :obj:`"VTKG-I"`) applies the official
        settings of that dataset, which :obj:`kwargs` override.

        Args:
            data (Any): The knowledge graph (:mod:`pyg_mmkg.data` contract).
            hidden_channels (int, optional): The hidden size.
                (default: :obj:`256`)
            modalities (Sequence[str], optional): The modalities.
                (default: :obj:`("structure", "text", "image")`)
            preset (str, optional): The name of an official dataset preset.
                (default: :obj:`None`)
            num_images (int, optional): The number of image slots read per
                entity (a preset may set it). (default: :obj:`5`)
            encoder (str or torch.nn.Module, optional): :obj:`"rgcn"`,
                :obj:`"compgcn"` or a module refining the representations
                over the training graph. (default: :obj:`None`)
            encoder_kwargs (Dict[str, Any], optional): Arguments of the
                encoder built from a name. (default: :obj:`None`)
            **kwargs (optional): Further arguments of :class:`VISTA`.
        """
        from pyg_mmkg.data import num_entities, num_relations
        from pyg_mmkg.nn.models.base import normalize_modalities
        args = dict(PRESETS[preset]) if preset is not None else {}
        num_images = args.pop('num_images', num_images)
        args.update(kwargs)
        mods = normalize_modalities(modalities)
        feats, rel_feats = {}, {}
        for m in mods:
            for store, out in ((data['entity'], feats),
                               (data['relation'], rel_feats)):
                item = _read(store, m, num_images)
                if item is not None:
                    out[m] = item
        warn_missing_modalities(mods, list(feats) + list(rel_feats))
        encoder = build_encoder(encoder, data, hidden_channels,
                                **(encoder_kwargs or {}))
        return cls(num_entities(data), num_relations(data), hidden_channels,
                   modalities=mods, features=feats,
                   relation_features=rel_feats, encoder=encoder, **args)

    @property
    def num_relation_representations(self) -> int:
        return (2 if self.reciprocal else 1) * self.num_relations

    def reset_parameters(self):
        if not hasattr(self, 'entity_encoder'):
            return  # Called by the base constructor.
        # The official init: Xavier-uniform on the (N, 1, d) and (R, 1, d)
        # tables, on the projections (zero biases) and on the tokens.
        for emb in (self.node_emb, self.rel_emb):
            torch.nn.init.xavier_uniform_(emb.weight.unsqueeze(1))
        for mod in [self.ln_s, self.ln_rs, self.ln_v, self.ln_t]:
            if mod is not None:
                mod.reset_parameters()
        for mod in [self.proj_t, self.proj_v, self.proj_rv]:
            if mod is not None:
                torch.nn.init.xavier_uniform_(mod.weight)
                torch.nn.init.zeros_(mod.bias)
        if self.missing_token is not None:  # Not official: as a token.
            _xavier_token(self.missing_token)
        self.entity_encoder.reset_parameters()
        self.relation_encoder.reset_parameters()
        self.scorer.reset_parameters()

    # Tokens #################################################################

    def _tokens(self, s: Optional[Tensor],
                feats: Dict[str, Tuple[Tensor, Tensor]],
                proj_v: Optional[Linear], ln_s: LayerNorm):
        r"""The tokens :obj:`[M, T, d]` after the CLS token, their type
        positions, and the key-padding mask :obj:`[M, T]` (:obj:`None` if
        nothing is hidden)."""
        tokens, kinds, pad, fill = [], [], [], []
        if s is not None:
            tokens.append(self.drop_s(ln_s(s)).unsqueeze(1))
            kinds.append(0)
            pad.append(torch.zeros_like(s[:, :1], dtype=torch.bool))
            fill.append(pad[-1])
        token = self.missing == 'token'
        if 'image' in feats:
            x, slots = feats['image']
            v = self.drop_v(self.ln_v(proj_v(x)))  # [M, k, d]
            tokens.append(v)
            kinds += [1] * x.size(1)
            # Empty slots are hidden (official); with missing="token" an
            # item without any image shows one learned token instead.
            none = torch.zeros_like(slots)
            if token:
                none[:, 0] = ~slots.any(1)
            pad.append(~slots & ~none)
            fill.append(none)
        if 'text' in feats:
            x, has = feats['text']
            tokens.append(self.drop_t(self.ln_t(self.proj_t(x))).unsqueeze(1))
            kinds.append(2)
            miss = ~has.view(-1, 1)
            pad.append(torch.zeros_like(miss) if token else miss)
            fill.append(miss if token else torch.zeros_like(miss))
        x = torch.cat(tokens, dim=1)
        pad, fill = torch.cat(pad, dim=1), torch.cat(fill, dim=1)
        if bool(fill.any()):
            kind = torch.tensor(kinds, device=x.device)
            tok = self.missing_token[(kind - 1).clamp(min=0)]  # [T, d]
            x = torch.where(fill.unsqueeze(-1), tok, x)
        return x, kinds, (pad if bool(pad.any()) else None)

    def _slots(self, x: Tensor, has: Tensor, slots: Tensor) -> Tensor:
        # Image slots follow the rows of a shuffled image ablation.
        if self._ablation.get('image', (None, ))[0] == 'shuffle':
            slots = self._ablated('image', slots, has)[0]
        return slots & has.view(-1, 1)

    def _entity_features(self) -> Dict[str, Tuple[Tensor, Tensor]]:
        out = {}
        for m in self.feature_modalities:
            x, mask = self.feature(m)
            if m == 'image':
                mask = self._slots(x, mask, self.image_slots)
            out[m] = (x, mask)
        return out

    def _relation_features(self) -> Dict[str, Tuple[Tensor, Tensor]]:
        out = {}
        for m in self.rel_modalities:
            # The entities' ablation (if any) applies to relations too.
            x, mask = self._ablated(m, getattr(self, f'rel_x_{m}'),
                                    getattr(self, f'rel_has_{m}'))
            if m == 'image':
                mask = self._slots(x, mask, self.rel_image_slots)
            out[m] = (x, mask)
        return out

    def encode(self) -> Encoded:
        s = None
        if self.use_structure:
            s = self.structure(self.node_emb.weight)[0]
        x, kinds, pad = self._tokens(s, self._entity_features(), self.proj_v,
                                     self.ln_s)
        ent = self.entity_encoder(x, kinds, pad)
        s = self.rel_emb.weight  # Relations always have their own token.
        x, kinds, pad = self._tokens(s, self._relation_features(),
                                     self.proj_rv, self.ln_rs)
        rel = self.relation_encoder(x, kinds, pad)
        ent, rel = self.refine(ent, rel)
        if self.reciprocal:  # Relation r + R: the head-slot query of r.
            rel = torch.cat([rel, rel], dim=0)
        return ent, rel

    # Scoring ################################################################

    def _query(self, anchor_index: Tensor, rel_type: Tensor,
               head_slot: Tensor,
               encoded: Optional[Encoded]) -> Tuple[Tensor, Tensor]:
        ent, rel = self.encode() if encoded is None else encoded
        return self.scorer.query(ent[anchor_index],
                                 rel[rel_type % self.num_relations],
                                 head_slot), ent

    def _split(self, rel_type: Tensor) -> Tensor:
        if not self.reciprocal:
            if rel_type.numel() > 0 and int(
                    rel_type.max()) >= self.num_relations:
                raise IndexError('Relation ids >= num_relations need '
                                 "'reciprocal=True'")
            return torch.zeros_like(rel_type, dtype=torch.bool)
        return rel_type >= self.num_relations

    def forward(self, head_index: Tensor, rel_type: Tensor,
                tail_index: Tensor, encoded: Optional[Encoded] = None):
        q, ent = self._query(head_index, rel_type, self._split(rel_type),
                             encoded)
        return (q * ent[tail_index]).sum(-1)

    def score_tails(self, head_index: Tensor, rel_type: Tensor,
                    encoded: Optional[Encoded] = None) -> Tensor:
        q, ent = self._query(head_index, rel_type, self._split(rel_type),
                             encoded)
        return q @ ent.t()

    def score_heads(self, rel_type: Tensor, tail_index: Tensor,
                    encoded: Optional[Encoded] = None) -> Tensor:
        head_slot = torch.ones_like(rel_type, dtype=torch.bool)
        q, ent = self._query(tail_index, rel_type, head_slot, encoded)
        return q @ ent.t()

    def _ce(self, scores: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(scores, target,
                               label_smoothing=self.label_smoothing)

    def training_loss(self, batch: Any, encoded: Encoded) -> Tensor:
        r"""The published softmax cross-entropy over all entities for a
        batch of the trainer: 1vsAll queries (both directions, with
        :obj:`reciprocal=True`), KvsAll queries (targets normalised to a
        distribution), or the positives of an sLCWA batch (each masked at
        the tail and at the head; negatives are not used).

        Args:
            batch (TrainBatch): The trainer batch.
            encoded ((torch.Tensor, torch.Tensor)): The output of
                :meth:`encode`.
        """
        if batch.regime == 'slcwa':
            return self.loss(batch.head_index, batch.rel_type,
                             batch.tail_index, encoded)
        scores = self.score_tails(batch.head_index, batch.rel_type, encoded)
        if batch.regime == 'kvsall':
            target = batch.targets / batch.targets.sum(-1, keepdim=True
                                                       ).clamp(min=1e-12)
            return self._ce(scores, target)
        return self._ce(scores, batch.tail_index)

    def loss(self, head_index: Tensor, rel_type: Tensor, tail_index: Tensor,
             encoded: Optional[Encoded] = None) -> Tensor:
        r"""The published softmax cross-entropy over all entities with the
        tail and the head of every triple masked once (for PyG-style
        loops).

        Args:
            head_index (torch.Tensor): The head indices :obj:`[B]`.
            rel_type (torch.Tensor): The relation types :obj:`[B]`.
            tail_index (torch.Tensor): The tail indices :obj:`[B]`.
            encoded ((torch.Tensor, torch.Tensor), optional): The output of
                :meth:`encode` (computed if not given). (default: :obj:`None`)
        """
        encoded = self.encode() if encoded is None else encoded
        tail = self.score_tails(head_index, rel_type, encoded)
        head = self.score_heads(rel_type, tail_index, encoded)
        return self._ce(torch.cat([tail, head]),
                        torch.cat([tail_index, head_index]))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_nodes}, '
                f'num_relations={self.num_relations}, '
                f'hidden_channels={self.hidden_channels}, '
                f'missing={self.missing}, {self._extra_repr_args()})')
