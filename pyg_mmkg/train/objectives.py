"""Scoring a training batch and turning the scores into a loss."""
from typing import Any, Callable, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from pyg_mmkg.train.batches import TrainBatch
from pyg_mmkg.train.config import TrainConfig


def _score(model, h: Tensor, r: Tensor, t: Tensor, encoded: Any) -> Tensor:
    if encoded is None:
        return model(h, r, t)
    return model(h, r, t, encoded=encoded)


def slcwa_scores(model, batch: TrainBatch,
                 encoded: Any = None) -> Tuple[Tensor, Tensor]:
    r"""Scores the positives [B] and negatives [B, k] of an sLCWA batch in
    a single model call (on the representations :obj:`encoded`): the
    model's :meth:`score_sampled` if it has one (see
    :meth:`~pyg_mmkg.nn.kge.ScoredKGEModel.score_sampled`), else its
    :meth:`forward` on the :math:`B (1 + k)` triples."""
    fast = getattr(model, 'score_sampled', None)
    if callable(fast):  # one lookup per table, queries broadcast over k
        if encoded is None:
            return fast(batch.head_index, batch.rel_type, batch.tail_index,
                        batch.neg_head, batch.neg_tail)
        return fast(batch.head_index, batch.rel_type, batch.tail_index,
                    batch.neg_head, batch.neg_tail, encoded=encoded)
    B, k = batch.neg_head.shape
    h = torch.cat([batch.head_index, batch.neg_head.reshape(-1)])
    r = torch.cat([batch.rel_type, batch.rel_type.repeat_interleave(k)])
    t = torch.cat([batch.tail_index, batch.neg_tail.reshape(-1)])
    score = _score(model, h, r, t, encoded)
    return score[:B], score[B:].view(B, k)


def lcwa_scores(model, batch: TrainBatch, encoded: Any = None) -> Tensor:
    r"""Scores all tails of the 1-N queries of a batch: [B, N]."""
    if encoded is None:
        return model.score_tails(batch.head_index, batch.rel_type)
    return model.score_tails(batch.head_index, batch.rel_type,
                             encoded=encoded)


def slcwa_loss(pos: Tensor, neg: Tensor, config: TrainConfig) -> Tensor:
    r"""The sLCWA loss :obj:`config.loss_name` of positive scores [B] and
    negative scores [B, k] (see :mod:`pyg_mmkg.train.losses`):
    :obj:`"margin"` (:func:`margin_ranking_loss`), :obj:`"softplus"`,
    :obj:`"bce"` (with label smoothing) or :obj:`"nssa"`
    (:func:`self_adversarial_loss` with :obj:`adversarial_temperature`)."""
    from pyg_mmkg.train import losses
    name = config.loss_name
    if name == 'margin':
        return losses.margin_ranking_loss(pos, neg, config.loss_margin)
    if name == 'softplus':
        return losses.softplus_loss(pos, neg)
    if name == 'bce':
        return losses.bce_loss(pos, neg, config.label_smoothing)
    if name == 'nssa':
        return losses.self_adversarial_loss(
            pos, neg, config.loss_margin, config.adversarial_temperature)
    raise ValueError(f"Unknown sLCWA loss '{name}'")  # pragma: no cover


def lcwa_loss(scores: Tensor, batch: TrainBatch,
              config: TrainConfig) -> Tensor:
    r"""The 1-N loss: :obj:`"bce"` (multi-label, per entity) or
    :obj:`"ce"` (softmax cross-entropy; several answers share the target
    mass). KvsAll targets arrive label-smoothed from the loader; 1vsAll
    targets are answer indices, smoothed here."""
    from pyg_mmkg.train import losses
    name = config.loss_name
    if batch.targets is not None:  # KvsAll: dense, already smoothed.
        targets, eps = batch.targets, 0.0
    else:  # 1vsAll: one answer per query.
        targets, eps = batch.tail_index, config.label_smoothing
        if name == 'bce':
            targets = F.one_hot(targets, scores.size(-1)).to(scores.dtype)
    if name == 'bce':
        return losses.one_to_n_bce_loss(scores, targets, eps)
    if name == 'ce':
        return losses.one_to_n_ce_loss(scores, targets, eps)
    raise ValueError(f"Unknown 1-N loss '{name}'")  # pragma: no cover


def _representations(batch: TrainBatch, encoded: Any):
    ent, rel = encoded[0], encoded[1]
    out = [ent[batch.head_index], rel[batch.rel_type]]
    if batch.tail_index is not None and batch.regime == 'slcwa':
        out.append(ent[batch.tail_index])
    return out


def regularization(batch: TrainBatch, encoded: Any,
                   config: TrainConfig) -> Optional[Tensor]:
    r"""The :obj:`"l2"` or :obj:`"n3"` penalty (weighted by
    :obj:`regularizer_weight`, divided by the batch size) on the
    representations of the batch's positives (sLCWA) or queries (1-N), or
    :obj:`None`."""
    if config.regularizer == 'none' or config.regularizer_weight == 0:
        return None
    if encoded is None:
        return None
    from pyg_mmkg.train import losses
    reps = _representations(batch, encoded)
    fn = (losses.l2_regularizer
          if config.regularizer == 'l2' else losses.n3_regularizer)
    return fn(reps, config.regularizer_weight)


def needs_encoding(model, config: TrainConfig) -> bool:
    r"""Whether a step must call :meth:`encode`: always, except for models
    whose representations are plain embedding tables (then row-wise lookups
    are cheaper) when no regulariser needs the representations, and models
    that set :obj:`encodes_batch_only = True` (their :meth:`training_loss`
    gets :obj:`encoded=None` and encodes only the batch's entities)."""
    if not callable(getattr(model, 'encode', None)):
        return False
    if getattr(model, 'encodes_batch_only', False):
        return False
    if callable(getattr(model, 'training_loss', None)):
        return True
    tables_only = getattr(model, '_encodes_tables', None)
    if callable(tables_only) and tables_only() and (
            config.regularizer == 'none' or config.regularizer_weight == 0):
        return False
    return True


def batch_loss(model, batch: TrainBatch, encoded: Any,
               config: TrainConfig,
               on_fallback: Optional[Callable[[str], None]] = None
               ) -> Tensor:
    r"""The loss of one batch: the model's own :meth:`training_loss` hook
    if it defines one (and it returns a tensor), else the configured loss;
    plus the regulariser. When a model's hook returns :obj:`None` (it has
    no objective for this regime), :obj:`on_fallback` is called with a
    sentence saying which loss is optimised instead."""
    loss = None
    hook = getattr(model, 'training_loss', None)
    if callable(hook):
        loss = hook(batch, encoded)
        if loss is None and on_fallback is not None:
            on_fallback(
                f"{type(model).__name__}.training_loss has no objective for "
                f"'{batch.regime}' batches: the trainer's "
                f"'{config.loss_name}' loss is optimised instead")
    if loss is None:
        if batch.regime == 'slcwa':
            pos, neg = slcwa_scores(model, batch, encoded)
            loss = slcwa_loss(pos, neg, config)
        else:
            loss = lcwa_loss(lcwa_scores(model, batch, encoded), batch,
                             config)
    reg = regularization(batch, encoded, config)
    return loss if reg is None else loss + reg
