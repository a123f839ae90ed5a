from typing import Any, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor
from torch.nn import Dropout

from pyg_mmkg.nn.kge import ComplExScorer, DistMultScorer, Scorer
from pyg_mmkg.nn.models._literale_layers import LiteralGate
from pyg_mmkg.nn.models.base import (Features, MultimodalKGEModel,
                                     check_positive, features_from_data)
from pyg_mmkg.train.recipes import Recipe

Encoded = Tuple[Tensor, Tensor]
SCORERS = {'distmult': DistMultScorer, 'complex': ComplExScorer}
NORMALIZATIONS = ('official', 'observed', 'none')
_SOURCE = 'SmartDataAnalytics/LiteralE@0b0c48f'


def normalize_literals(x: Tensor, values: Tensor,
                       mode: str = 'official') -> Tuple[Tensor, Tensor]:
    r"""Min-max normalises numeric literals :obj:`x` [N, L] per attribute;
    :obj:`values` [N, L] tells which entries exist. Returns the normalised
    matrix and the value :obj:`[L]` that stands for a missing entry.

    * :obj:`"official"` (:obj:`main_literal.py`): missing entries are
      :math:`0`, and minimum and maximum run over *all* :math:`N` entities,
      :math:`(x - \min) / (\max - \min + 10^{-8})`; a missing entry becomes
      :math:`-\min / (\max - \min + 10^{-8})`.
    * :obj:`"observed"`: minimum and maximum over the entities with a value
      (the values fill :math:`[0, 1]`), missing entries :math:`0`.
    * :obj:`"none"`: raw values, missing entries :math:`0`.
    """
    if mode not in NORMALIZATIONS:
        raise ValueError(f"Unknown normalisation '{mode}' (choose from "
                         f"{', '.join(NORMALIZATIONS)})")
    values = values.to(torch.bool)
    x = torch.where(values, x.float(), torch.zeros_like(x, dtype=torch.float))
    zero = torch.zeros(x.size(-1), dtype=x.dtype, device=x.device)
    if mode == 'none' or x.size(0) == 0:
        return x, zero
    if mode == 'official':
        low, high = x.min(0).values, x.max(0).values
        scale = high - low + 1e-8
        return (x - low) / scale, (zero - low) / scale
    inf = torch.full_like(x, float('inf'))
    low = torch.where(values, x, inf).min(0).values
    high = torch.where(values, x, -inf).max(0).values
    seen = values.any(0)
    low = torch.where(seen, low, zero)
    high = torch.where(seen, high, zero)
    out = (x - low) / (high - low + 1e-8)
    return torch.where(values, out, torch.zeros_like(out)), zero


class LiteralE(MultimodalKGEModel):
    r"""The LiteralE model from the `"Incorporating Literals into Knowledge
    Graph Embeddings" <https://arxiv.org/abs/1802.00934>`_ paper (ISWC 2019).

    A learnable function :math:`g` combines every entity embedding
    :math:`\mathbf{e}` with the entity's numeric literals :math:`\mathbf{l}`
    (min-max normalised per attribute, see :func:`normalize_literals`) and,
    optionally, a text literal vector, before DistMult or ComplEx scores
    the combined embeddings (see
    :class:`~pyg_mmkg.nn.models._literale_layers.LiteralGate`):

    .. math::
        \mathbf{z} = \sigma(\mathbf{W}_{ze} \mathbf{e} + \mathbf{W}_{zl}
        \mathbf{l} + \mathbf{b}), \quad
        \mathbf{h} = \tanh(\mathbf{W}_h [\mathbf{e}; \mathbf{l}] +
        \mathbf{b}_h), \quad
        g(\mathbf{e}, \mathbf{l}) = \mathbf{z} \odot \mathbf{h} +
        (1 - \mathbf{z}) \odot \mathbf{e}

    ComplEx has two independent gates, one for the real and one for the
    imaginary part (same literals). :obj:`gate="linear"` is the
    :obj:`glin` variant :math:`\mathbf{W}[\mathbf{e}; \mathbf{l}] +
    \mathbf{b}` (with :math:`\tanh` for ComplEx, as released). Input dropout
    hits the query entity and the relation after :math:`g`, never the
    candidates. The published objective (:meth:`training_loss`) is 1-N
    binary cross-entropy over all entities (KvsAll); sLCWA batches get the
    binary cross-entropy of positives and negatives, as PyG's
    :class:`~torch_geometric.nn.kge.ComplEx`.

    Entities without literals get the literal row of an entity whose
    literals are all missing (zeros before normalisation, as the official
    preprocessing fills them). The normalisation statistics are computed
    on the features given to the constructor (all entities of the graph,
    no triples are used).

    .. note::
        Deviations from the official code
        (:obj:`SmartDataAnalytics/LiteralE@0b0c48f`):

        * Reciprocal relations (:obj:`reciprocal=True`, default): head
          queries :math:`(?, r, t)` are tail queries :math:`(t, r^{-1}, ?)`,
          and the KvsAll targets of each direction are its own answers. The
          released preprocessing (ConvE's pre-fix :obj:`wrangle_KG.py`)
          keys targets and filters by :math:`(e, r)` for both directions
          with the same relation id, mixing heads and tails (ConvE issue
          #18, pykeen issue #1211); that bug is not reproduced.
        * Scores are logits and the loss is BCE-with-logits (the official
          model returns sigmoids and uses :obj:`BCELoss`: same objective,
          numerically safer).
        * Text literals combine with ComplEx and with :obj:`glin` as well
          (the release has only the gated DistMult text variant,
          :obj:`DistMultLiteral_gate_text`, whose equations are used).
        * :obj:`normalize="observed"` is an option (the release normalises
          over all entities with missing values as zeros, the default here).
        * No entity is a padding index (the release reserves index 0 of
          spodernet's vocabulary for padding, which no real entity uses).

    Args:
        num_nodes (int): The number of entities.
        num_relations (int): The number of relations.
        hidden_channels (int): The embedding size :math:`d` (per real and
            imaginary part for ComplEx). (default: :obj:`200`)
        scorer (str, optional): :obj:`"distmult"` or :obj:`"complex"`.
            (default: :obj:`"distmult"`)
        gate (str, optional): :obj:`"gated"` or :obj:`"linear"` (glin).
            (default: :obj:`"gated"`)
        modalities (Sequence[str], optional): :obj:`"structure"` plus the
            literal types, :obj:`"numeric"` and/or :obj:`"text"`.
            (default: :obj:`("structure", "numeric")`)
        features (Dict[str, Tuple[Tensor, Tensor]], optional): Per literal
            type the features :obj:`[N, D]` (raw numeric values, missing
            ones zero) and entity mask :obj:`[N]`. (default: :obj:`None`)
        numeric_mask (torch.Tensor, optional): Which numeric values exist,
            :obj:`[N, L]` (default: every value of the entities that have
            the modality).
        normalize (str, optional): :obj:`"official"`, :obj:`"observed"` or
            :obj:`"none"` (see :func:`normalize_literals`).
            (default: :obj:`"official"`)
        input_dropout (float, optional): Dropout of the query entity and
            relation. (default: :obj:`0.2`)
        objective (str, optional): The 1-N loss: :obj:`"bce"` (published)
            or :obj:`"ce"` (softmax cross-entropy over all entities, with
            multi-hot targets normalised; not the paper's, for short
            budgets in which the BCE has not left its initial plateau).
            (default: :obj:`"bce"`)
        reciprocal (bool, optional): Learn inverse relations.
            (default: :obj:`True`)
        sparse (bool, optional): Sparse embedding gradients.
            (default: :obj:`False`)
    """
    #: Config fields its training_loss ignores, per regime (it defines
    #: its own objective there): the trainer warns when they are set.
    ignores_config = {'slcwa': ('loss', 'margin', 'adversarial_temperature'),
                      '1vsall': ('loss', ), 'kvsall': ('loss', )}
    recipes = {
        None: Recipe(
            dict(regime='kvsall', loss='bce', label_smoothing=0.0,
                 optimizer='adam', lr=1e-3, weight_decay=0.0,
                 scheduler='none', grad_clip=None, batch_size=128,
                 epochs=100, patience=None, dim=200,
                 model_kwargs={'input_dropout': 0.2}),
            source=f'{_SOURCE} main_literal.py, README.md',
            regimes=('kvsall', ),
            notes='README: input_drop 0.2, batch_size 128, epochs 100, lr '
            '0.001, Adam with weight_decay Config.L2 = 0; main_literal.py '
            'hard-codes embedding_dim = 200 after parsing the command line '
            '(the README says 100 for DistMult/ComplEx) and comments label '
            'smoothing out. One official epoch passes over the (e, r) '
            'queries of both directions, as one library KvsAll epoch does. '
            'The release never stops early and saves the last epoch; '
            'patience=None trains all epochs, the library still keeps the '
            'best validation epoch.'),
    }

    def __init__(
        self,
        num_nodes: int,
        num_relations: int,
        hidden_channels: int = 200,
        scorer: Union[str, Scorer] = 'distmult',
        gate: str = 'gated',
        modalities: Sequence[str] = ('structure', 'numeric'),
        features: Optional[Features] = None,
        numeric_mask: Optional[Tensor] = None,
        normalize: str = 'official',
        input_dropout: float = 0.2,
        objective: str = 'bce',
        reciprocal: bool = True,
        sparse: bool = False,
    ):
        if isinstance(scorer, str):
            if scorer.lower() not in SCORERS:
                raise ValueError(f"Unknown scorer '{scorer}' (LiteralE "
                                 f"supports {', '.join(SCORERS)})")
            scorer = SCORERS[scorer.lower()]()
        if not isinstance(scorer, (DistMultScorer, ComplExScorer)):
            raise ValueError('LiteralE supports DistMult and ComplEx scorers')
        check_positive('hidden_channels', hidden_channels)
        if objective not in ('bce', 'ce'):
            raise ValueError(f"'objective' must be 'bce' or 'ce' (got "
                             f"'{objective}')")
        super().__init__(num_nodes, num_relations, hidden_channels, scorer,
                         sparse, reciprocal)
        features = dict(features or {})
        if 'numeric' in features:
            x, mask = features['numeric']
            mask = mask.view(-1).bool()
            values = (mask.view(-1, 1).expand_as(x) if numeric_mask is None
                      else numeric_mask.bool() & mask.view(-1, 1))
            x, fill = normalize_literals(x, values, normalize)
            features['numeric'] = (x, mask)
        else:
            fill = torch.zeros(0)
        self._init_multimodal(modalities, features, None)
        if not self.use_structure:
            raise ValueError("LiteralE needs the 'structure' modality")
        self.register_buffer('numeric_fill', fill, persistent=False)
        self.normalize, self.gate = normalize, gate
        self.objective = objective
        self.complex = isinstance(scorer, ComplExScorer)
        dims = [self.feature_dim(m) for m in self.feature_modalities]
        parts = 2 if self.complex else 1
        self.gates = torch.nn.ModuleList([
            LiteralGate(hidden_channels, dims, gate, tanh=self.complex)
            for _ in range(parts)
        ])
        self.input_dropout = Dropout(input_dropout)
        self.reset_parameters()

    @classmethod
    def from_data(cls, data: Any, hidden_channels: int = 200,
                  modalities: Sequence[str] = ('structure', 'numeric'),
                  **kwargs: Any) -> 'LiteralE':
        r"""Builds the model for :obj:`data` with its numeric literals
        (:obj:`x_numeric` [N, L], :obj:`numeric_mask` [N, L]) and/or text
        literal vectors (:obj:`x_text`) as frozen buffers.

        Args:
            data (Any): The knowledge graph (:mod:`pyg_mmkg.data` contract).
            hidden_channels (int, optional): The hidden size :math:`d`.
                (default: :obj:`200`)
            modalities (Sequence[str], optional): The modalities.
                (default: :obj:`("structure", "numeric")`)
            **kwargs (optional): Further arguments of :class:`LiteralE`.
        """
        from pyg_mmkg.data import num_entities, num_relations
        store = data['entity']
        if 'numeric_mask' in store and 'numeric_mask' not in kwargs:
            kwargs['numeric_mask'] = store.numeric_mask
        return cls(num_entities(data), num_relations(data), hidden_channels,
                   modalities=modalities,
                   features=features_from_data(data, modalities), **kwargs)

    def reset_parameters(self):
        # Xavier-normal embedding tables, as the official `init()`.
        for emb in [self.node_emb, self.node_emb_im, self.rel_emb,
                    self.rel_emb_im]:
            if emb is not None:
                torch.nn.init.xavier_normal_(emb.weight)
        for gate in getattr(self, 'gates', []):
            gate.reset_parameters()

    def literals(self) -> list:
        r"""The literal blocks :obj:`[N, D_m]` fed to :math:`g` (after the
        active ablation; entities without the modality get the fill row)."""
        out = []
        for m in self.feature_modalities:
            x, mask = self.feature(m)
            fill = (self.numeric_fill if m == 'numeric' else
                    torch.zeros(x.size(-1), dtype=x.dtype, device=x.device))
            out.append(torch.where(mask.view(-1, 1), x,
                                   fill.view(1, -1).expand_as(x)))
        return out

    def encode(self) -> Encoded:
        ent = self._embed(self.node_emb, self.node_emb_im, None)
        ent, _ = self.structure(ent)
        lits = self.literals()
        if self.complex:
            re, im = ent.chunk(2, dim=-1)
            ent = torch.cat([self.gates[0](re, lits),
                             self.gates[1](im, lits)], dim=-1)
        else:
            ent = self.gates[0](ent, lits)
        return ent, self._embed(self.rel_emb, self.rel_emb_im, None)

    # Scoring with input dropout on the query (entity and relation) ########

    def forward(self, head_index: Tensor, rel_type: Tensor,
                tail_index: Tensor,
                encoded: Optional[Encoded] = None) -> Tensor:
        ent, rel = self.encode() if encoded is None else encoded
        return self.scorer(self.input_dropout(ent[head_index]),
                           self.input_dropout(rel[rel_type]), ent[tail_index])

    def score_tails(self, head_index: Tensor, rel_type: Tensor,
                    encoded: Optional[Encoded] = None) -> Tensor:
        ent, rel = self.encode() if encoded is None else encoded
        return self.scorer.score_tails(self.input_dropout(ent[head_index]),
                                       self.input_dropout(rel[rel_type]), ent)

    def score_heads(self, rel_type: Tensor, tail_index: Tensor,
                    encoded: Optional[Encoded] = None) -> Tensor:
        if self.reciprocal:
            return self.score_tails(tail_index, rel_type + self.num_relations,
                                    encoded)
        ent, rel = self.encode() if encoded is None else encoded
        return self.scorer.score_heads(self.input_dropout(rel[rel_type]),
                                       self.input_dropout(ent[tail_index]),
                                       ent)

    # Objectives ###########################################################

    def training_loss(self, batch: Any, encoded: Encoded) -> Tensor:
        r"""The published 1-N binary cross-entropy over all entities
        (KvsAll targets as given, label smoothing already applied by the
        loader; 1vsAll answers one-hot; softmax cross-entropy with
        :obj:`objective="ce"`), or the binary cross-entropy of the
        positives and negatives of an sLCWA batch.

        Args:
            batch (TrainBatch): The trainer batch.
            encoded ((torch.Tensor, torch.Tensor)): The output of
                :meth:`encode`.
        """
        from pyg_mmkg.train.losses import (bce_loss, one_to_n_bce_loss,
                                           one_to_n_ce_loss)
        from pyg_mmkg.train.objectives import lcwa_scores, slcwa_scores
        if batch.regime == 'slcwa':
            return bce_loss(*slcwa_scores(self, batch, encoded))
        scores = lcwa_scores(self, batch, encoded)
        targets = batch.targets
        if self.objective == 'ce':
            return one_to_n_ce_loss(scores, batch.tail_index
                                    if targets is None else targets)
        if targets is None:
            targets = torch.nn.functional.one_hot(
                batch.tail_index, scores.size(-1)).to(scores.dtype)
        return one_to_n_bce_loss(scores, targets)

    def loss(self, head_index: Tensor, rel_type: Tensor,
             tail_index: Tensor) -> Tensor:
        r"""Binary cross-entropy with one random negative per positive
        (drawn by :meth:`random_sample`), for PyG's training loops.

        Args:
            head_index (torch.Tensor): The head indices :obj:`[B]`.
            rel_type (torch.Tensor): The relation types :obj:`[B]`.
            tail_index (torch.Tensor): The tail indices :obj:`[B]`.
        """
        return self._binary_cross_entropy_loss(head_index, rel_type,
                                               tail_index)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_nodes}, '
                f'num_relations={self.num_relations}, '
                f'hidden_channels={self.hidden_channels}, '
                f'scorer={self.scorer}, gate={self.gate}, '
                f'normalize={self.normalize}, {self._extra_repr_args()})')
