r"""MKGformer: a hybrid transformer with multi-level fusion (Chen et al.,
SIGIR 2022; official code zjunlp/MKGformer, ``MKG/``)."""
from typing import Any, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from pyg_mmkg.nn.kge.distmult_scorer import DistMultScorer
from pyg_mmkg.nn.models import _mkgformer_layers as L
from pyg_mmkg.nn.models import _mkgformer_prompts as P
from pyg_mmkg.nn.models._mkgformer_setup import (build_text, build_vision,
                                                 load_tokenizer)
from pyg_mmkg.nn.models._mkgformer_recipe import RECIPES, STAGE1
from pyg_mmkg.nn.models._mkgformer_stages import StagesMixin
from pyg_mmkg.nn.models.base import MultimodalKGEModel

Encoded = Tuple[Tensor, Tensor]


class MKGformer(StagesMixin, MultimodalKGEModel):
    r"""MKGformer from the `"Hybrid Transformer with Multi-level Fusion for
    Multimodal Knowledge Graph Completion"
    <https://arxiv.org/abs/2205.02357>`_ paper.

    A BERT-family text tower and a CLIP vision tower run side by side; their
    last :obj:`fusion_layers` layers form the M-Encoder with prefix-guided
    interaction and correlation-aware fusion
    (:mod:`~pyg_mmkg.nn.models._mkgformer_layers`). Every entity and
    relation is a new vocabulary token; a query is a prompt with one
    ``[MASK]`` (:mod:`~pyg_mmkg.nn.models._mkgformer_prompts`) and the MLM
    head, restricted to the entity-token slice, scores all :math:`N`
    entities at once, so :meth:`score_tails` / :meth:`score_heads` are
    native and :meth:`forward` reads one of their entries. Only the *known*
    entity's description and images enter a query (the official data bug,
    fixed in commit :obj:`9614c05`, fed the answer's images).

    Training has two stages (:mod:`~pyg_mmkg.nn.models._mkgformer_train`):
    stage 1 (:meth:`entity_modeling_loss`, label-smoothed cross-entropy,
    only the new token rows learn, see :meth:`set_stage`) and stage 2 (full
    fine-tuning with multi-label BCE over all entities: the library's
    KvsAll regime with :obj:`loss="bce"`).

    Deviations from the official code:

    * Stage 1 updates only the new entity/relation token rows of the word
      embeddings (the official code trains the whole word-embedding matrix,
      with weight decay); stage 2 multi-label targets are the *training*
      answers only (the official collator takes them from train, dev and
      test triples: a leak).
    * Prompt truncation: the relation text keeps at most
      :math:`\lfloor (\text{max\_length} - 6) / 2 \rfloor` word pieces and
      the description the rest (the official tokenizer truncates the longest
      segment first).
    * Images: image groups of any count and size (the official one 224,
      three 128 and three 64 pixel images are :obj:`images=[x224, x128,
      x64]`); missing images are zero pixels, as in the official collator.
      :obj:`cache_vision=True` caches the vision states entering the
      M-Encoder per entity, which freezes the patch convolution and the
      lower vision layers (the official code fine-tunes them): a much
      cheaper step, at the price of fewer trainable vision parameters.
    * Only CLIP vision towers (:class:`transformers.CLIPVisionModel`), as
      the official code; both towers need the same number of layers, width
      and heads (PGI and CAF mix their states), as the official code
      asserts.
    * The MLM head of a checkpoint without one (*e.g.* MiniLM, a
      :obj:`BertModel`) is newly initialised; its decoder is tied to the
      word embeddings as in the official code.

    Args:
        num_nodes (int): The number of entities.
        num_relations (int): The number of relations.
        entity_text (list of str): The description of each entity.
        relation_text (list of str): The text of each relation.
        text_encoder (str or transformers.PretrainedConfig, optional): A
            local :mod:`transformers` checkpoint directory of a BERT-family
            model, or a configuration (random weights). :obj:`None`: a tiny
            random BERT of width :obj:`hidden_channels`. (default:
            :obj:`None`)
        tokenizer (str or tokenizer, optional): Tokenizer (directory);
            defaults to :obj:`text_encoder` if it is a directory, else the
            offline MiniLM tokenizer.
        vision (str or transformers.CLIPVisionConfig, optional): A CLIP
            vision checkpoint directory or configuration; :obj:`None` for
            the text-only mode. (default: :obj:`None`)
        images (list of torch.Tensor, optional): Image groups :obj:`[N, K_i,
            3, S_i, S_i]` (pixels, zeros where missing).
        fusion_layers (int, optional): Layers of the M-Encoder.
            (default: :obj:`4`)
        max_length (int, optional): Prompt length (official 64 on FB15k-237,
            32 on WN18). (default: :obj:`64`)
        cache_vision (bool, optional): Cache the vision states entering the
            M-Encoder. (default: :obj:`False`)
        dropout (float, optional): Overrides the towers' dropout rates.
        hidden_channels (int, optional): Width of the default tiny text
            tower (and vision configuration). (default: :obj:`32`)
        num_layers (int, optional): Layers of the default tiny towers.
            (default: :obj:`2`)
        modalities (list of str, optional): :obj:`"text"` and, with a
            vision tower, :obj:`"image"`. Descriptions and images are
            token inputs, not feature buffers, so they cannot be ablated
            with :meth:`ablate`.
    """
    recipes = RECIPES
    stage1_recipe = STAGE1
    encodes_batch_only = True  # scores come from prompts, not tables
    #: Fields the 1-N objective of :meth:`training_loss` does not read.
    ignores_config = {'kvsall': ('loss', ),
                      '1vsall': ('loss', 'label_smoothing')}

    def __init__(self, num_nodes: int, num_relations: int,
                 entity_text: Sequence[str], relation_text: Sequence[str],
                 text_encoder: Any = None, tokenizer: Any = None,
                 vision: Any = None, images: Optional[Sequence[Tensor]] = None,
                 fusion_layers: int = 4, max_length: int = 64,
                 cache_vision: bool = False, dropout: Optional[float] = None,
                 hidden_channels: int = 32, num_layers: int = 2,
                 modalities: Sequence[str] = ('text', 'image')):
        tok = load_tokenizer(tokenizer, text_encoder)
        mlm = build_text(text_encoder, tok, hidden_channels, num_layers,
                         dropout)
        width = mlm.config.hidden_size
        super().__init__(num_nodes, num_relations, width, DistMultScorer(),
                         reciprocal=True)
        del self.node_emb, self.rel_emb  # entities are vocabulary tokens
        self.node_emb = self.rel_emb = None
        if len(entity_text) != num_nodes or len(relation_text) != \
                num_relations:
            raise ValueError('One text per entity and per relation needed')
        # New tokens [ENTITY_i] (ids V + i), [RELATION_j] (V + N + j):
        self.vocab = len(tok)
        tok.add_tokens([f'[ENTITY_{i}]' for i in range(num_nodes)] +
                       [f'[RELATION_{j}]' for j in range(num_relations)],
                       special_tokens=True)
        new = num_nodes + num_relations
        mlm.resize_token_embeddings(self.vocab + new, mean_resizing=False)
        emb = mlm.get_input_embeddings().weight
        with torch.no_grad():  # official init: N(0, initializer_range)
            emb[self.vocab:].normal_(0.0, mlm.config.initializer_range)
            mlm.cls.predictions.bias[self.vocab:].zero_()
        self.mlm = mlm
        self.tokenizer = tok
        self.special = dict(cls=tok.cls_token_id, sep=tok.sep_token_id,
                            mask=tok.mask_token_id)
        self.max_length = max_length
        ent_ids, rel_ids = (P.tokenize(tok, entity_text),
                            P.tokenize(tok, relation_text))
        w_r = min(max(map(len, rel_ids), default=1), (max_length - 6) // 2)
        w_e = max(max_length - 6 - w_r, 1)
        for name, (x, m) in (('desc', P.pad_ids(ent_ids, w_e)),
                             ('rel_text', P.pad_ids(rel_ids, w_r))):
            self.register_buffer(f'{name}_ids', x, persistent=False)
            self.register_buffer(f'{name}_valid', m, persistent=False)

        self.vision = build_vision(vision, mlm.config, dropout)
        self.fusion_layers = fusion_layers if self.vision is not None else 0
        self.cache_vision = cache_vision and self.vision is not None
        mods = tuple(m for m in modalities if m in ('text', 'image'))
        if self.vision is None:
            mods = tuple(m for m in mods if m != 'image')
        self._init_multimodal(mods or ('text', ), None)
        if self.vision is not None:
            n = len(self.mlm.bert.encoder.layer)
            if not 0 < fusion_layers < n or len(L.vision_layers(
                    self.vision)) != n:
                raise ValueError(f"'fusion_layers' must be in [1, {n - 1}] "
                                 f"and both towers need {n} layers")
            self.fusion_dense = torch.nn.ModuleList([
                torch.nn.Linear(width, mlm.config.intermediate_size)
                for _ in range(fusion_layers)])
            if images is None:
                raise ValueError("A vision tower needs 'images'")
            for i, x in enumerate(images):
                if x.size(0) != num_nodes:
                    raise ValueError('Image groups need one row per entity')
                self.register_buffer(f'images_{i}', x.float(),
                                     persistent=False)
            self.num_image_groups = len(images)
            if self.cache_vision:  # frozen below the M-Encoder
                self.freeze_cached_vision()
            self._cache: Optional[Tensor] = None
        self._stage = 2
        self._grad_hook = emb.register_hook(self._mask_stage1_grad)

    @classmethod
    def from_data(cls, data: Any, text_encoder: Any = None,
                  modalities: Sequence[str] = ('text', 'image'),
                  reciprocal: bool = True, **kwargs: Any) -> 'MKGformer':
        r"""Builds the model for :obj:`data`: entity descriptions from
        :obj:`data['entity'].text` (else the names), relation text from
        :obj:`data['relation'].text` (else the names). Only the numbers of
        entities and relations and these texts are read.

        Args:
            data (torch_geometric.data.HeteroData): The graph.
            text_encoder (str or config, optional): See the class.
            modalities (list of str, optional): See the class.
            reciprocal (bool, optional): Must be :obj:`True`: relation
                :math:`r + R` is the head prompt of :math:`r` (the model's
                own mirror query, no extra parameters).
            **kwargs (optional): Further arguments of the class.
        """
        if not reciprocal:
            raise ValueError('MKGformer answers head queries with its head '
                             "prompt: 'reciprocal' must be True")
        from pyg_mmkg.data import num_entities, num_relations
        ent, rel = data['entity'], data['relation']
        ent_text = ent.get('text', None) or ent.name
        rel_text = rel.get('text', None) or rel.name
        return cls(num_entities(data), num_relations(data), list(ent_text),
                   list(rel_text), text_encoder=text_encoder,
                   modalities=modalities, **kwargs)

    def reset_parameters(self):
        r"""Not supported: the towers come from a checkpoint."""

    # Encoding ################################################################

    def _vision_dropout(self) -> float:
        return float(getattr(self.vision.config, 'attention_dropout', 0.0))

    def _vision_states(self, entity: Tensor) -> Tuple[Tensor, int]:
        groups = [getattr(self, f'images_{i}')[entity]
                  for i in range(self.num_image_groups)]
        if not self.cache_vision:
            return L.vision_tokens(self.vision, groups), 0
        start = len(L.vision_layers(self.vision)) - self.fusion_layers
        if self._cache is None:
            with torch.no_grad():
                all_groups = [getattr(self, f'images_{i}')
                              for i in range(self.num_image_groups)]
                x = L.vision_tokens(self.vision, all_groups)
                self._cache = L.lower_vision(L.vision_layers(self.vision), x,
                                             start, 0.0)
        return self._cache[entity], start

    def _mask_logits(self, ids: Tensor, attn: Tensor, types: Tensor,
                     image_entity: Optional[Tensor]) -> Tensor:
        bert = self.mlm.bert
        text = bert.embeddings(input_ids=ids, token_type_ids=types)
        ext = (1.0 - attn[:, None, None, :].to(text.dtype)) * -10000.0
        vis, start, layers = None, 0, None
        if self.vision is not None and image_entity is not None:
            vis, start = self._vision_states(image_entity)
            layers = L.vision_layers(self.vision)
        out = L.hybrid_encode(bert.encoder.layer, text, ext, layers, vis,
                              getattr(self, 'fusion_dense', None), start,
                              self._vision_dropout() if layers else 0.0)
        pos = (ids == self.special['mask']).long().argmax(1)
        hidden = out[torch.arange(ids.size(0), device=ids.device), pos]
        head = self.mlm.cls.predictions
        hidden = head.transform(hidden)
        lo, hi = self.vocab, self.vocab + self.num_nodes
        return hidden @ self.word_embeddings.weight[lo:hi].t() + \
            head.bias[lo:hi]

    def query_scores(self, known: Tensor, rel: Tensor, head_query: Tensor,
                     image_entity: Optional[Tensor] = None) -> Tensor:
        r"""Scores :obj:`[B, N]` of queries :math:`(?, r, known)` (where
        :obj:`head_query`) or :math:`(known, r, ?)`.

        Args:
            known (torch.Tensor): Known entities :obj:`[B]`.
            rel (torch.Tensor): Relations :obj:`[B]` in :math:`[0, R)`.
            head_query (torch.Tensor): :obj:`[B]` bool.
            image_entity (torch.Tensor, optional): Whose images enter each
                query; always :obj:`known` (the default) in this model.
        """
        ids, attn, types = P.link_prompts(
            known, rel, head_query, (self.desc_ids, self.desc_valid),
            (self.rel_text_ids, self.rel_text_valid), self.special,
            self.vocab, self.num_nodes)
        return self._mask_logits(ids, attn, types,
                                 known if image_entity is None
                                 else image_entity)

    def entity_modeling_loss(self, entity: Tensor,
                             label_smoothing: float = 0.1) -> Tensor:
        r"""Stage-1 loss: ``[CLS] [MASK] [SEP] desc(e) [SEP]`` (with the
        images of :math:`e`) must predict :math:`e`; cross-entropy over the
        entity tokens with label smoothing (the official
        ``LabelSmoothSoftmaxCEV1``: :math:`\epsilon / N` on every entity,
        :math:`1 - \epsilon` on the answer).

        Args:
            entity (torch.Tensor): Entities :obj:`[B]`.
            label_smoothing (float, optional): :math:`\epsilon`.
        """
        ids, attn, types = P.entity_prompts(
            entity, (self.desc_ids, self.desc_valid), self.special)
        logits = self._mask_logits(ids, attn, types, entity)
        eps = label_smoothing
        target = torch.full_like(logits, eps / logits.size(1))
        target.scatter_(1, entity.view(-1, 1), 1.0 - eps)
        return -(target * logits.log_softmax(-1)).sum(1).mean()

    # Scoring #################################################################

    def encode(self) -> Encoded:
        r"""The entity and relation token embeddings :obj:`([N, D], [R,
        D])`; scoring does not need them (it runs the prompts)."""
        w = self.word_embeddings.weight
        lo = self.vocab + self.num_nodes
        return w[self.vocab:lo], w[lo:lo + self.num_relations]

    def score_tails(self, head_index: Tensor, rel_type: Tensor,
                    encoded: Optional[Encoded] = None) -> Tensor:
        r"""Scores :obj:`[B, N]` of :math:`(h, r, ?)`; relations
        :math:`r \geq R` ask :math:`(?, r - R, h)`.

        Args:
            head_index (torch.Tensor): :obj:`[B]`.
            rel_type (torch.Tensor): :obj:`[B]`.
            encoded (optional): Ignored.
        """
        inverse = rel_type >= self.num_relations
        rel = torch.where(inverse, rel_type - self.num_relations, rel_type)
        return self.query_scores(head_index, rel, inverse)

    def score_heads(self, rel_type: Tensor, tail_index: Tensor,
                    encoded: Optional[Encoded] = None) -> Tensor:
        r"""Scores :obj:`[B, N]` of :math:`(?, r, t)` (the head prompt).

        Args:
            rel_type (torch.Tensor): :obj:`[B]` in :math:`[0, R)`.
            tail_index (torch.Tensor): :obj:`[B]`.
            encoded (optional): Ignored.
        """
        return self.query_scores(tail_index, rel_type,
                                 torch.ones_like(tail_index, dtype=torch.bool))

    def forward(self, head_index: Tensor, rel_type: Tensor, tail_index: Tensor,
                encoded: Optional[Encoded] = None) -> Tensor:
        r"""The score of each triple: the logit of the tail's token in the
        tail query :math:`(h, r, ?)` (:math:`r \geq R`: of the head's token
        in :math:`(?, r - R, h)`, *i.e.* :obj:`(t, r + R, h)` is the head
        query of :math:`(h, r, t)`).

        Args:
            head_index (torch.Tensor): :obj:`[B]`.
            rel_type (torch.Tensor): :obj:`[B]`.
            tail_index (torch.Tensor): :obj:`[B]`.
            encoded (optional): Ignored.
        """
        scores = self.score_tails(head_index, rel_type)
        return scores.gather(1, tail_index.view(-1, 1)).view(-1)

    def training_loss(self, batch: Any,
                      encoded: Optional[Encoded] = None) -> Optional[Tensor]:
        r"""The stage-2 objective (official :obj:`--bce 1`): BCE with logits
        over all entities, the mean over :math:`B \times N` entries, against
        the KvsAll multi-hot targets (1vsAll: the one answer). sLCWA:
        :obj:`None` (the configured loss on :meth:`forward` scores).

        Args:
            batch (TrainBatch): The batch.
            encoded (optional): Ignored.
        """
        if batch.regime == 'slcwa':
            return None
        scores = self.score_tails(batch.head_index, batch.rel_type)
        if batch.targets is not None:
            target = batch.targets.to(scores.dtype)
        else:
            target = F.one_hot(batch.tail_index, self.num_nodes).to(
                scores.dtype)
        return F.binary_cross_entropy_with_logits(scores, target)

    def loss(self, head_index: Tensor, rel_type: Tensor,
             tail_index: Tensor) -> Tensor:
        r"""Stage-2 BCE over all entities on the tail and head queries of
        the given triples, each with its one answer.

        Args:
            head_index (torch.Tensor): :obj:`[B]`.
            rel_type (torch.Tensor): :obj:`[B]`.
            tail_index (torch.Tensor): :obj:`[B]`.
        """
        scores = torch.cat([self.score_tails(head_index, rel_type),
                            self.score_heads(rel_type, tail_index)])
        answer = torch.cat([tail_index, head_index])
        return F.binary_cross_entropy_with_logits(
            scores, F.one_hot(answer, self.num_nodes).to(scores.dtype))

    def _extra_repr_args(self) -> str:
        return (f"modalities={list(self.modalities)}, "
                f"width={self.hidden_channels}, "
                f"layers={len(self.mlm.bert.encoder.layer)}, "
                f"fusion_layers={self.fusion_layers}, "
                f"vision={self.vision is not None}")
