from typing import Any, Dict, List, Optional, Tuple, Union

import torch
from torch import Tensor

from pyg_mmkg.features._utils import (
    autocast_context,
    import_optional,
    resolve_device,
    weights_fingerprint,
)


class FeatureEncoder:
    r"""Base class of all feature encoders: a frozen pretrained model that
    maps a batch of texts and/or images to one vector each.

    Subclasses set :obj:`modalities`, :obj:`identity`, :obj:`model` and
    implement :meth:`_encode_text` and/or :meth:`preprocess` and
    :meth:`_encode_image`. The pipeline functions
    :func:`~pyg_mmkg.features.encode_texts` and
    :func:`~pyg_mmkg.features.encode_images` handle batching, progress,
    missing inputs and caching on top of this interface.

    Args:
        device (torch.device or str, optional): The device to run on.
            (default: :obj:`None` = CUDA if available, else CPU)
        precision (str, optional): :obj:`'auto'` (fp16 autocast on CUDA, fp32
            on CPU), :obj:`'fp32'`, :obj:`'fp16'` or :obj:`'bf16'`.
            (default: :obj:`'auto'`)
    """
    #: The modalities the encoder supports, a subset of ('text', 'image').
    modalities: Tuple[str, ...] = ()

    def __init__(self, device: Optional[Union[str, torch.device]] = None,
                 precision: str = 'auto'):
        self.device = resolve_device(device)
        self.precision = precision
        autocast_context(self.device, precision)  # Validates `precision`.
        self.model: Optional[torch.nn.Module] = None
        self._identity = ''
        self._dim: Optional[int] = None
        self._fingerprint: Optional[str] = None

    @property
    def identity(self) -> str:
        r"""A short string naming the encoder and everything that changes its
        output, e.g. :obj:`'hf-mean:all-MiniLM-L6-v2:last'` or
        :obj:`'open_clip:ViT-B-32:laion2b_s34b_b79k'`. Datasets put it into
        their processed file names (see :func:`~pyg_mmkg.features.slugify`).
        """
        return self._identity

    @property
    def dim(self) -> int:
        r"""The dimension of the produced features."""
        if self._dim is None:
            if 'text' in self.modalities:
                self._dim = int(self.encode_text(['a']).size(-1))
            else:
                Image = import_optional('PIL.Image', 'vision')
                x = self.preprocess(Image.new('RGB', (64, 64)))
                self._dim = int(self.encode_image(x.unsqueeze(0)).size(-1))
        return self._dim

    def config(self) -> Dict[str, Any]:
        r"""Options that change the output but are not in :obj:`identity`
        (e.g. :obj:`max_length`); they enter the cache key."""
        return {}

    @property
    def cache_token(self) -> str:
        r"""The string a feature cache is keyed on: :obj:`identity`, the
        options of :meth:`config` and a fingerprint of the weights (so two
        random initialisations or a fine-tuned model never share a cache
        entry)."""
        if self._fingerprint is None and self.model is not None:
            self._fingerprint = weights_fingerprint(self.model)
        items = sorted(self.config().items())
        return f'{self.identity}|{items}|{self._fingerprint}'

    def to(self, device: Union[str, torch.device]) -> 'FeatureEncoder':
        r"""Moves the model to :obj:`device` (in place) and returns the
        encoder.

        Args:
            device (str or torch.device): The target device.
        """
        self.device = torch.device(device)
        if self.model is not None:
            self.model.to(self.device)
        return self

    def _context(self) -> Any:
        return autocast_context(self.device, self.precision)

    @torch.no_grad()
    def encode_text(self, texts: List[str]) -> Tensor:
        r"""Encodes one batch of texts into a :obj:`[len(texts), dim]`
        float32 CPU tensor.

        Args:
            texts (List[str]): The texts.
        """
        if 'text' not in self.modalities:
            raise TypeError(f"'{self.__class__.__name__}' cannot encode texts")
        if len(texts) == 0:
            return torch.empty(0, self.dim)
        with self._context():
            out = self._encode_text(list(texts))
        return out.float().cpu()

    @torch.no_grad()
    def encode_image(self, pixel_values: Tensor) -> Tensor:
        r"""Encodes one batch of preprocessed images
        :obj:`[B, C, H, W]` (see :meth:`preprocess`) into a :obj:`[B, dim]`
        float32 CPU tensor.

        Args:
            pixel_values (torch.Tensor): The preprocessed images
                :obj:`[B, C, H, W]`; moved to the encoder's device.
        """
        if 'image' not in self.modalities:
            raise TypeError(
                f"'{self.__class__.__name__}' cannot encode images")
        pixel_values = pixel_values.to(self.device)
        with self._context():
            out = self._encode_image(pixel_values)
        return out.float().cpu()

    def preprocess(self, image: Any) -> Tensor:
        r"""Turns one RGB :class:`PIL.Image.Image` into a :obj:`[C, H, W]`
        tensor ready for :meth:`encode_image`.

        Args:
            image (PIL.Image.Image): The image.
        """
        raise TypeError(f"'{self.__class__.__name__}' cannot encode images")

    def _encode_text(self, texts: List[str]) -> Tensor:
        raise NotImplementedError

    def _encode_image(self, pixel_values: Tensor) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}('{self.identity}', "
                f"device={self.device})")
