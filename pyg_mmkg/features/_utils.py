"""Helpers shared by the feature encoders: lazy imports, devices, offline
mode."""
import contextlib
import hashlib
import importlib
import os
import re
from typing import Any, Iterator, Optional, Union

import torch
from torch import Tensor

EXTRAS = {
    'open_clip': 'clip',
    'transformers': 'text',
    'timm': 'vision',
    'PIL': 'vision',
}

_OFFLINE_ENV = ('PYG_MMKG_OFFLINE', 'HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE')


def import_optional(name: str, extra: Optional[str] = None) -> Any:
    r"""Imports the optional dependency :obj:`name` or raises an
    :class:`ImportError` naming the extra to install.

    Any exception is caught, not only :class:`ImportError`: a broken
    :obj:`torchvision` makes :obj:`open_clip` and :obj:`transformers` raise a
    :class:`RuntimeError` at import time.
    """
    try:
        return importlib.import_module(name)
    except Exception as e:  # noqa: BLE001
        extra = extra or EXTRAS.get(name.split('.')[0], 'full')
        raise ImportError(
            f"'{name}' is required for this feature encoder but could not be "
            f"imported ({type(e).__name__}: {e}). Install it via "
            f"pip install 'pyg-mmkg[{extra}]'") from e


def is_offline(offline: Optional[bool] = None) -> bool:
    r"""Returns whether downloads are disabled: :obj:`offline` if given,
    otherwise whether one of :obj:`PYG_MMKG_OFFLINE`, :obj:`HF_HUB_OFFLINE`
    or :obj:`TRANSFORMERS_OFFLINE` is set to a true value."""
    if offline is not None:
        return bool(offline)
    for key in _OFFLINE_ENV:
        value = os.environ.get(key, '').strip().lower()
        if value in {'1', 'true', 'yes', 'on'}:
            return True
    return False


@contextlib.contextmanager
def hub_offline(offline: bool) -> Iterator[None]:
    r"""Temporarily forbids Hugging Face Hub downloads (used by
    :obj:`transformers`, :obj:`open_clip` and :obj:`timm`), so that a missing
    model fails at once instead of after several network retries."""
    if not offline:
        yield
        return
    try:
        constants = importlib.import_module('huggingface_hub.constants')
    except Exception:  # noqa: BLE001
        yield
        return
    old = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = old


def offline_error(kind: str, name: str, how: str,
                  cause: BaseException) -> RuntimeError:
    r"""Builds the error raised when a model is neither local nor
    downloadable."""
    return RuntimeError(
        f"Could not load the {kind} model '{name}': it is not a local file or "
        f"directory, and downloading it failed ({type(cause).__name__}: "
        f"{str(cause).splitlines()[0] if str(cause) else ''}). To use it "
        f"offline, {how}")


def resolve_device(device: Optional[Union[str, torch.device]]) -> torch.device:
    if device is None:
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    return torch.device(device)


def autocast_context(device: torch.device, precision: str) -> Any:
    r"""Returns the mixed-precision context for :obj:`precision`
    (:obj:`'auto'` = fp16 on CUDA, fp32 elsewhere)."""
    if precision not in {'auto', 'fp32', 'fp16', 'bf16'}:
        raise ValueError(f"'precision' must be 'auto', 'fp32', 'fp16' or "
                         f"'bf16' (got '{precision}')")
    if precision == 'auto':
        precision = 'fp16' if device.type == 'cuda' else 'fp32'
    if precision == 'fp32':
        return contextlib.nullcontext()
    dtype = torch.float16 if precision == 'fp16' else torch.bfloat16
    return torch.autocast(device_type=device.type, dtype=dtype)


def output_tensor(out: Any, *keys: str) -> Tensor:
    r"""Returns the embedding tensor from a model output: a tensor as is
    (:obj:`transformers` 4), or the first non-empty attribute among
    :obj:`keys` and :obj:`pooler_output` (:obj:`transformers` 5 returns a
    :class:`BaseModelOutputWithPooling` from :meth:`get_image_features` /
    :meth:`get_text_features`)."""
    if isinstance(out, Tensor):
        return out
    for key in (*keys, 'pooler_output'):
        value = getattr(out, key, None)
        if isinstance(value, Tensor):
            return value
    if isinstance(out, (tuple, list)) and isinstance(out[0], Tensor):
        return out[0]
    raise TypeError(
        f"Cannot find an embedding tensor in '{type(out).__name__}'")


def weights_fingerprint(module: torch.nn.Module, max_tensors: int = 4,
                        max_numel: int = 1 << 20) -> str:
    r"""A cheap fingerprint of a module's weights: the names and shapes of
    all parameters and buffers, plus the values of a few of them. It tells
    apart two random initialisations or a fine-tuned copy of the same
    architecture, so that a feature cache never serves stale features."""
    h = hashlib.sha256()
    state = module.state_dict()
    for key, value in state.items():
        h.update(f'{key}:{tuple(value.shape)};'.encode())
    keys = [k for k, v in state.items() if v.is_floating_point()]
    if len(keys) > 0:
        step = max(1, len(keys) // max_tensors)
        for key in (keys[::step][:max_tensors] + keys[-1:]):
            value = state[key].detach().reshape(-1)[:max_numel]
            h.update(value.to('cpu', torch.float32).numpy().tobytes())
    return h.hexdigest()[:16]


def slugify(text: str) -> str:
    r"""Makes :obj:`text` (e.g. an encoder identity) safe as a file name:
    every character outside :obj:`[A-Za-z0-9._-]` becomes :obj:`'_'`.

    Args:
        text (str): The text to make file-name safe.
    """
    return re.sub(r'[^A-Za-z0-9._-]+', '_', text).strip('_')
