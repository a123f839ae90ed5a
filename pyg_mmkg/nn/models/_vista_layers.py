"""Building blocks of :class:`pyg_mmkg.nn.models.VISTA`: the token
encoders (entity and relation transformers), the masked-slot triplet
decoder, and feature reading."""
import math
from typing import Any, Optional

import torch
from torch import Tensor
from torch.nn import (LayerNorm, Linear, Parameter, TransformerEncoder,
                      TransformerEncoderLayer)

from pyg_mmkg.nn.kge.scorer import Scorer


def _transformer(channels: int, heads: int, ffn: int, dropout: float,
                 num_layers: int) -> TransformerEncoder:
    layer = TransformerEncoderLayer(channels, heads, ffn, dropout,
                                    batch_first=True)
    return TransformerEncoder(layer, num_layers,
                              enable_nested_tensor=False)


def _read(store: Any, modality: str, num_images: Optional[int]):
    if modality == 'text' and 'x_text' in store:
        x = store.x_text.float()
        mask = store.get('has_text', None)
        mask = (torch.ones(x.size(0), dtype=torch.bool)
                if mask is None else mask.view(-1).bool())
        return x * mask.unsqueeze(-1), mask
    if modality == 'image' and 'x_image' in store:
        x = store.x_image.float()
        x = x.unsqueeze(1) if x.dim() == 2 else x
        slots = store.get('image_mask', None)
        slots = (torch.ones(x.shape[:2], dtype=torch.bool)
                 if slots is None else slots.bool())
        if x.dim() == 3 and store.get('has_image', None) is not None:
            slots = slots & store.has_image.view(-1, 1).bool()
        if num_images is not None:
            x, slots = x[:, :num_images], slots[:, :num_images]
        return x * slots.unsqueeze(-1), slots
    return None


def _xavier_token(token: Tensor, fan_out: Optional[int] = None) -> None:
    r"""The official initialisation of VISTA's tokens, rows of :obj:`token`:
    :func:`torch.nn.init.xavier_uniform_` on a :obj:`(1, 1, d)` tensor
    (:obj:`fan_out = d`; position and CLS tokens) or on a :obj:`(1, d)`
    tensor (:obj:`fan_out = 1`; the mask token :obj:`lp_token`)."""
    d = token.size(-1)
    bound = math.sqrt(6.0 / (d + (d if fan_out is None else fan_out)))
    with torch.no_grad():
        token.uniform_(-bound, bound)


def _reset_transformer(transformer) -> None:
    r"""Re-initialises every linear, layer-norm and attention weight of a
    :class:`torch.nn.TransformerEncoder`."""
    for layer in transformer.layers:
        for m in layer.modules():
            if isinstance(m, (Linear, LayerNorm)):
                m.reset_parameters()
        layer.self_attn._reset_parameters()


class _TokenEncoder(torch.nn.Module):
    r"""A transformer over :obj:`[CLS, structure, image_1..k, text]` tokens
    whose output at :obj:`CLS` represents the item."""
    def __init__(self, channels, heads, ffn, dropout, num_layers):
        super().__init__()
        self.cls = Parameter(torch.empty(channels))
        self.pos = Parameter(torch.empty(3, channels))  # str, image, text
        self.transformer = _transformer(channels, heads, ffn, dropout,
                                        num_layers)

    def reset_parameters(self):
        _xavier_token(self.cls)
        _xavier_token(self.pos)
        _reset_transformer(self.transformer)

    def forward(self, tokens, kinds, padding):
        # tokens: [M, T, d]; kinds: list of position indices per token.
        pos = self.pos[torch.tensor(kinds, device=tokens.device)]
        cls = self.cls.view(1, 1, -1).expand(tokens.size(0), 1, -1)
        x = torch.cat([cls, tokens + pos.unsqueeze(0)], dim=1)
        if padding is not None:
            pad = torch.zeros_like(padding[:, :1])
            padding = torch.cat([pad, padding], dim=1)
        return self.transformer(x, src_key_padding_mask=padding)[:, 0]


class _MaskedSlotDecoder(Scorer):
    r"""VISTA's triplet decoder as a :class:`Scorer`: a transformer over
    :obj:`[head, relation, tail]` tokens in which the slot to predict holds a
    learned mask token; the output at that slot is matched by dot product
    against the candidate representations."""
    def __init__(self, channels, heads, ffn, dropout, num_layers):
        super().__init__()
        self.mask = Parameter(torch.empty(channels))
        self.pos = Parameter(torch.empty(3, channels))
        self.transformer = _transformer(channels, heads, ffn, dropout,
                                        num_layers)

    def reset_parameters(self):
        _xavier_token(self.mask, fan_out=1)
        _xavier_token(self.pos)
        _reset_transformer(self.transformer)

    def query(self, anchor: Tensor, rel: Tensor, head_slot: Tensor) -> Tensor:
        r"""The output :obj:`[B, d]` at the masked slot of :obj:`(anchor,
        rel, ?)` (or :obj:`(?, rel, anchor)` where :obj:`head_slot`)."""
        side = head_slot.view(-1, 1)
        mask = self.mask.view(1, -1).expand_as(anchor)
        first = torch.where(side, mask, anchor)
        last = torch.where(side, anchor, mask)
        x = torch.stack([first, rel, last], dim=1) + self.pos.unsqueeze(0)
        out = self.transformer(x)
        return torch.where(side, out[:, 0], out[:, 2])

    def forward(self, head: Tensor, rel: Tensor, tail: Tensor) -> Tensor:
        no = torch.zeros(head.size(0), dtype=torch.bool, device=head.device)
        return (self.query(head, rel, no) * tail).sum(-1)

    def score_tails(self, head, rel, tail_all):
        no = torch.zeros(head.size(0), dtype=torch.bool, device=head.device)
        return self.query(head, rel, no) @ tail_all.t()

    def score_heads(self, rel, tail, head_all):
        yes = torch.ones(tail.size(0), dtype=torch.bool, device=tail.device)
        return self.query(tail, rel, yes) @ head_all.t()
