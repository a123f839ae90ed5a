r"""The hybrid transformer of :class:`~pyg_mmkg.nn.models.MKGformer`: a BERT
text tower and a CLIP vision tower run layer by layer side by side; their
last :obj:`fusion_layers` layers form the M-Encoder with prefix-guided
interaction (PGI) and correlation-aware fusion (CAF).

The layers reuse the weights of :mod:`transformers` modules
(:class:`~transformers.BertLayer`, :class:`~transformers.CLIPEncoderLayer`)
and re-implement their forward pass to insert PGI and CAF as the official
``MKG/models/modeling_unimo.py`` of zjunlp/MKGformer does:

* PGI, vision layer :math:`l` of the M-Encoder: the keys and values of text
  layer :math:`l - 1` (after the text projections, per head) are prepended
  to the vision keys and values; **no padding mask** is applied to these
  text prefixes (as in the official code).
* CAF, text layer :math:`l` of the M-Encoder: the self-attention context
  :math:`C` (before the output projection) attends to the output
  :math:`V` of vision layer :math:`l`, :math:`F = \mathrm{softmax}(C V^\top)
  V`, **without scaling and without mask** (as in the official code), and
  the FFN input becomes :math:`W_1 H + W_f F` before the activation, with a
  new :math:`W_f` (``fusion_dense``).
* Vision tokens: patch embeddings of each image (convolution without bias)
  concatenated, **without the class token and without position
  embeddings** (commented out in the official code), then the CLIP
  pre-layer-norm; the vision post-layer-norm is not used.
"""
import math
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

KV = Tuple[Tensor, Tensor]


def _heads(x: Tensor, num_heads: int) -> Tensor:
    B, L, D = x.shape
    return x.view(B, L, num_heads, D // num_heads).transpose(1, 2)


def _merge(x: Tensor) -> Tensor:
    B, H, L, d = x.shape
    return x.transpose(1, 2).reshape(B, L, H * d)


def text_layer(layer: torch.nn.Module, hidden: Tensor, ext_mask: Tensor,
               vision: Optional[Tensor] = None,
               fusion_dense: Optional[torch.nn.Module] = None
               ) -> Tuple[Tensor, KV]:
    r"""One BERT layer, with CAF when :obj:`vision` is given.

    Args:
        layer (torch.nn.Module): A :class:`transformers` :obj:`BertLayer`.
        hidden (torch.Tensor): Text states :obj:`[B, L, D]`.
        ext_mask (torch.Tensor): Additive attention mask :obj:`[B, 1, 1, L]`
            (:math:`-10000` at padding, as the official code).
        vision (torch.Tensor, optional): Output of the vision layer of the
            same depth :obj:`[B, P, D]` (M-Encoder layers only).
        fusion_dense (torch.nn.Module, optional): :math:`W_f`.

    Returns:
        The new text states and this layer's text keys and values
        :obj:`[B, heads, L, d]` (the PGI prefix of the next vision layer).
    """
    sa = layer.attention.self
    H = sa.num_attention_heads
    q = _heads(sa.query(hidden), H)
    k = _heads(sa.key(hidden), H)
    v = _heads(sa.value(hidden), H)
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.size(-1)) + ext_mask
    probs = sa.dropout(torch.softmax(scores, dim=-1))
    context = _merge(probs @ v)
    attention = layer.attention.output(context, hidden)
    inter = layer.intermediate.dense(attention)
    if vision is not None:
        # CAF: token-to-patch attention on the raw context, no scaling/mask.
        fused = torch.softmax(context @ vision.transpose(-1, -2), dim=-1)
        inter = inter + fusion_dense(fused @ vision)
    inter = layer.intermediate.intermediate_act_fn(inter)
    return layer.output(inter, attention), (k, v)


def vision_layer(layer: torch.nn.Module, hidden: Tensor,
                 prefix: Optional[KV] = None, dropout: float = 0.0) -> Tensor:
    r"""One CLIP vision layer (pre-norm), with PGI when :obj:`prefix` is
    given.

    Args:
        layer (torch.nn.Module): A :class:`transformers`
            :obj:`CLIPEncoderLayer`.
        hidden (torch.Tensor): Vision states :obj:`[B, P, D]`.
        prefix ((torch.Tensor, torch.Tensor), optional): Text keys and values
            :obj:`[B, heads, L, d]` of the previous text layer.
        dropout (float, optional): Attention dropout (training only).
    """
    at = layer.self_attn
    H = at.num_heads
    x = layer.layer_norm1(hidden)
    q = _heads(at.q_proj(x) * (x.size(-1) // H) ** -0.5, H)
    k = _heads(at.k_proj(x), H)
    v = _heads(at.v_proj(x), H)
    if prefix is not None:  # PGI: no mask on the text prefix.
        k = torch.cat([prefix[0], k], dim=2)
        v = torch.cat([prefix[1], v], dim=2)
    probs = torch.softmax(q @ k.transpose(-1, -2), dim=-1)
    probs = F.dropout(probs, p=dropout, training=layer.training)
    hidden = hidden + at.out_proj(_merge(probs @ v))
    return hidden + layer.mlp(layer.layer_norm2(hidden))


def vision_tokens(vision: torch.nn.Module, images: Sequence[Tensor]) -> Tensor:
    r"""Patch tokens of the image groups :obj:`images` (each :obj:`[B, K_i,
    3, S_i, S_i]`) concatenated along the token axis, after the CLIP
    pre-layer-norm: :obj:`[B, P, D]`, with :math:`P = \sum_i K_i
    (S_i / p)^2`. No class token, no position embeddings (official).

    Args:
        vision (torch.nn.Module): A :class:`transformers`
            :obj:`CLIPVisionModel` (or its :obj:`vision_model`).
        images (list of torch.Tensor): The image groups.
    """
    tower = getattr(vision, 'vision_model', vision)
    conv = tower.embeddings.patch_embedding
    out = []
    for group in images:
        B, K = group.shape[:2]
        x = conv(group.flatten(0, 1).to(conv.weight.dtype))
        out.append(x.flatten(2).transpose(1, 2).reshape(B, -1, x.size(1)))
    return tower.pre_layrnorm(torch.cat(out, dim=1))


def vision_layers(vision: torch.nn.Module) -> torch.nn.ModuleList:
    r"""The encoder layers of a CLIP vision tower.

    Args:
        vision (torch.nn.Module): A :obj:`CLIPVisionModel`.
    """
    return getattr(vision, 'vision_model', vision).encoder.layers


def hybrid_encode(text_layers: Sequence[torch.nn.Module], text: Tensor,
                  ext_mask: Tensor,
                  vis_layers: Optional[Sequence[torch.nn.Module]] = None,
                  vision: Optional[Tensor] = None,
                  fusion_dense: Optional[Sequence[torch.nn.Module]] = None,
                  vision_start: int = 0, vision_dropout: float = 0.0
                  ) -> Tensor:
    r"""Runs both towers layer by layer (the official ``UnimoEncoder``):
    with :math:`L` layers and :math:`F` fusion layers, vision layer
    :math:`l \geq L - F` gets the text keys/values of text layer
    :math:`l - 1` (PGI) and text layer :math:`l \geq L - F` fuses the output
    of vision layer :math:`l` (CAF). Returns the last text states.

    Args:
        text_layers (list): The :math:`L` BERT layers.
        text (torch.Tensor): Text embeddings :obj:`[B, L_t, D]`.
        ext_mask (torch.Tensor): Additive text attention mask.
        vis_layers (list, optional): The :math:`L` CLIP layers
            (:obj:`None`: text only).
        vision (torch.Tensor, optional): Vision states entering vision layer
            :obj:`vision_start` :obj:`[B, P, D]`.
        fusion_dense (list, optional): The :math:`F` :math:`W_f`.
        vision_start (int, optional): The first vision layer to run (the
            lower ones were cached). (default: :obj:`0`)
        vision_dropout (float, optional): Vision attention dropout.
    """
    L = len(text_layers)
    F_ = len(fusion_dense) if (vis_layers is not None
                               and fusion_dense is not None) else 0
    first = L - F_
    kv: List[Optional[KV]] = [None]
    for idx in range(L):
        vis_out = None
        if vis_layers is not None and idx >= vision_start:
            prefix = kv[-1] if idx >= first else None
            vision = vision_layer(vis_layers[idx], vision, prefix,
                                  vision_dropout)
            vis_out = vision if idx >= first else None
        text, kv_now = text_layer(
            text_layers[idx], text, ext_mask, vis_out,
            fusion_dense[idx - first] if vis_out is not None else None)
        kv.append(kv_now)
    return text


def lower_vision(vis_layers: Sequence[torch.nn.Module], vision: Tensor,
                 stop: int, dropout: float = 0.0) -> Tensor:
    r"""Runs the vision layers below :obj:`stop` (independent of the text).

    Args:
        vis_layers (list): The CLIP layers.
        vision (torch.Tensor): Vision tokens :obj:`[B, P, D]`.
        stop (int): The first M-Encoder layer.
        dropout (float, optional): Attention dropout.
    """
    for idx in range(stop):
        vision = vision_layer(vis_layers[idx], vision, None, dropout)
    return vision
