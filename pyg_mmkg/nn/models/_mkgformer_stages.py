r"""Training stages of :class:`~pyg_mmkg.nn.models.MKGformer`: which
parameters learn in stage 1 (the new token rows only) and stage 2
(everything but what :obj:`cache_vision` freezes)."""
import torch
from torch import Tensor

from pyg_mmkg.nn.models import _mkgformer_layers as L


class StagesMixin:
    r"""Stage switching of :class:`~pyg_mmkg.nn.models.MKGformer`."""

    @property
    def word_embeddings(self) -> torch.nn.Embedding:
        r"""The (resized) word embeddings; rows :math:`V \ldots V + N - 1`
        are the entity tokens, then the relation tokens."""
        return self.mlm.get_input_embeddings()

    def _mask_stage1_grad(self, grad: Tensor) -> Tensor:
        if self._stage != 1:
            return grad
        keep = torch.zeros_like(grad[:, :1])
        keep[self.vocab:] = 1.0
        return grad * keep

    def set_stage(self, stage: int) -> None:
        r"""Stage 1: every parameter frozen but the word embeddings, whose
        gradient is zero outside the new token rows. Stage 2: everything
        trainable (except what :obj:`cache_vision` freezes).

        Args:
            stage (int): :obj:`1` or :obj:`2`.
        """
        if stage not in (1, 2):
            raise ValueError("'stage' must be 1 or 2")
        self._stage = stage
        emb = self.word_embeddings.weight
        for p in self.parameters():
            p.requires_grad_(stage == 2 or p is emb)
        if stage == 2 and self.cache_vision:
            self.freeze_cached_vision()

    def freeze_cached_vision(self) -> None:
        r"""Freezes what :obj:`cache_vision` caches: the patch convolution,
        the pre-layer-norm and the vision layers below the M-Encoder."""
        tower = getattr(self.vision, 'vision_model', self.vision)
        n = len(L.vision_layers(self.vision)) - self.fusion_layers
        for m in [tower.embeddings, tower.pre_layrnorm,
                  *L.vision_layers(self.vision)[:n]]:
            for p in m.parameters():
                p.requires_grad_(False)

    def train(self, mode: bool = True) -> 'torch.nn.Module':
        r"""Switches mode; drops the vision cache (it is rebuilt lazily).

        Args:
            mode (bool, optional): Training mode. (default: :obj:`True`)
        """
        if getattr(self, '_cache', None) is not None:
            self._cache = None
        return super().train(mode)

