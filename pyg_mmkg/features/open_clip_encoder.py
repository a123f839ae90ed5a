import os.path as osp
from typing import Any, Dict, List, Optional, Union

import torch
from torch import Tensor

from pyg_mmkg.features._utils import (
    hub_offline,
    import_optional,
    is_offline,
    offline_error,
    output_tensor,
)
from pyg_mmkg.features.base import FeatureEncoder


class OpenCLIPEncoder(FeatureEncoder):
    r"""Image and text features from an `open_clip
    <https://github.com/mlfoundations/open_clip>`_ model (CLIP, SigLIP,
    EVA-CLIP, ...), so that images and texts land in the same space.

    .. code-block:: python

        enc = OpenCLIPEncoder('ViT-B-32', pretrained='laion2b_s34b_b79k')
        enc.identity  # 'open_clip:ViT-B-32:laion2b_s34b_b79k'

    Args:
        model_name (str): An open_clip model name (see
            :obj:`open_clip.list_models()`), an :obj:`'hf-hub:org/repo'` id,
            or a local directory holding :obj:`open_clip_config.json` and
            the weights.
        pretrained (str, optional): A pretrained tag (see
            :obj:`open_clip.list_pretrained()`), or the path of a local
            checkpoint file. :obj:`None` keeps the random initialisation
            (for tests). (default: :obj:`None`)
        name (str, optional): The weights' name used in :obj:`identity`.
            (default: :obj:`None` = the tag, or the checkpoint's file name
            without extension)
        normalize (bool, optional): If set to :obj:`True`, returns
            L2-normalised features (as CLIP's contrastive loss uses them).
            (default: :obj:`False`)
        cache_dir (str, optional): Where open_clip stores downloaded weights.
            (default: :obj:`None`)
        offline (bool, optional): Forbid downloads. (default: :obj:`None` =
            read :obj:`HF_HUB_OFFLINE` / :obj:`PYG_MMKG_OFFLINE`)
        device (torch.device or str, optional): The device.
            (default: :obj:`None`)
        precision (str, optional): See :class:`FeatureEncoder`.
            (default: :obj:`'auto'`)
    """
    modalities = ('text', 'image')

    def __init__(
        self,
        model_name: str,
        pretrained: Optional[str] = None,
        name: Optional[str] = None,
        normalize: bool = False,
        cache_dir: Optional[str] = None,
        offline: Optional[bool] = None,
        device: Optional[Union[str, torch.device]] = None,
        precision: str = 'auto',
    ):
        super().__init__(device, precision)
        open_clip = import_optional('open_clip', 'clip')
        self.model_name = model_name
        self.pretrained = pretrained
        self.normalize = normalize

        arch = model_name
        if osp.isdir(model_name):
            arch = f'local-dir:{model_name}'
        is_local = arch.startswith('local-dir:') or (
            pretrained is not None and osp.isfile(pretrained))
        if (arch.startswith('hf-hub:') or arch.startswith('local-dir:')):
            pretrained_arg = None
        else:
            pretrained_arg = pretrained
        offline = is_offline(offline) and not is_local
        if (pretrained_arg is not None and not is_local
                and not open_clip.get_pretrained_cfg(arch, pretrained)):
            raise ValueError(
                f"'{pretrained}' is neither a file nor a pretrained tag of "
                f"open_clip model '{model_name}' (known tags: "
                f"{open_clip.list_pretrained_tags_by_model(arch)})")

        try:
            with hub_offline(offline):
                model, _, preprocess = open_clip.create_model_and_transforms(
                    arch, pretrained=pretrained_arg, device=self.device,
                    cache_dir=cache_dir)
        except Exception as e:  # noqa: BLE001
            if is_local or (pretrained is None
                            and not arch.startswith('hf-hub:')):
                raise
            raise offline_error(
                'open_clip', f'{model_name}:{pretrained}',
                "download the checkpoint on a machine with network access "
                "(e.g. `open_clip.create_model_and_transforms(name, "
                "pretrained=tag, cache_dir=DIR)`, or the "
                "'open_clip_pytorch_model.bin' file of its Hugging Face "
                "repository) and pass the local file as `pretrained=PATH` "
                "(or a folder with open_clip_config.json and the weights as "
                "`model_name=DIR`).", e) from e
        model.eval()
        self.model = model
        self._preprocess = preprocess
        self.tokenizer = open_clip.get_tokenizer(arch)

        if name is None:
            if arch.startswith('local-dir:'):
                name = 'local'
            elif pretrained is None:
                name = 'random'
            elif osp.isfile(pretrained):
                name = osp.splitext(osp.basename(pretrained))[0]
            else:
                name = pretrained
        short = osp.basename(osp.normpath(model_name)) if osp.isdir(
            model_name) else model_name
        self._identity = f'open_clip:{short}:{name}'
        if normalize:
            self._identity += ':norm'
        self._dim = self._infer_dim()

    def _infer_dim(self) -> Optional[int]:
        proj = getattr(self.model, 'text_projection', None)
        if isinstance(proj, torch.nn.Linear):
            return proj.out_features
        if isinstance(proj, Tensor):
            return proj.size(-1)
        out_dim = getattr(getattr(self.model, 'visual', None), 'output_dim',
                          None)
        return int(out_dim) if out_dim is not None else None

    def config(self) -> Dict[str, Any]:
        return {'normalize': self.normalize}

    def preprocess(self, image: Any) -> Tensor:
        return self._preprocess(image)

    def _encode_text(self, texts: List[str]) -> Tensor:
        tokens = self.tokenizer(texts).to(self.device)
        out = self.model.encode_text(tokens, normalize=self.normalize)
        return output_tensor(out)

    def _encode_image(self, pixel_values: Tensor) -> Tensor:
        out = self.model.encode_image(pixel_values, normalize=self.normalize)
        return output_tensor(out)
