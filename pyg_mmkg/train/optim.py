"""Optimiser and learning-rate scheduler factories."""
import inspect
from typing import Iterable, Optional

import torch
from torch.optim import Optimizer

from pyg_mmkg.train.config import TrainConfig


def _fused_supported(params, device: torch.device) -> bool:
    if 'fused' not in inspect.signature(torch.optim.Adam).parameters:
        return False  # pragma: no cover - very old PyTorch
    if any(p.is_sparse or p.dtype not in (torch.float16, torch.bfloat16,
                                          torch.float32, torch.float64)
           for p in params):
        return False  # pragma: no cover
    if device.type == 'cuda':
        return True
    # CPU fused kernels exist in recent PyTorch only; probe once.
    try:
        probe = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.Adam([probe], fused=True)
        probe.grad = torch.ones(1)
        opt.step()
        return True
    except Exception:
        return False


def build_optimizer(config: TrainConfig, params: Iterable,
                    device: Optional[torch.device] = None) -> Optimizer:
    r"""Builds the optimiser named by :obj:`config.optimizer`. Adam and
    AdamW use the fused implementation where the device supports it."""
    params = [p for p in params if p.requires_grad]
    if not params:
        raise ValueError('The model has no trainable parameters')
    device = device or params[0].device
    name = config.optimizer
    kwargs = dict(lr=config.lr, weight_decay=config.weight_decay)
    if name in ('adam', 'adamw'):
        cls = torch.optim.Adam if name == 'adam' else torch.optim.AdamW
        if _fused_supported(params, device):
            kwargs['fused'] = True
        return cls(params, **kwargs)
    if name == 'adagrad':
        return torch.optim.Adagrad(params, **kwargs)
    if name == 'sgd':
        return torch.optim.SGD(params, **kwargs)
    if name == 'rmsprop':  # TransAE's reference (torch defaults otherwise)
        return torch.optim.RMSprop(params, **kwargs)
    raise ValueError(f"Unknown optimizer '{name}'")  # pragma: no cover


def build_scheduler(config: TrainConfig, optimizer: Optimizer):
    r"""Builds the scheduler named by :obj:`config.scheduler` (or returns
    :obj:`None`). :obj:`"step"` and :obj:`"cosine"` step once per epoch,
    :obj:`"plateau"` once per validation on the selection metric."""
    kw = dict(config.scheduler_kwargs)
    name = config.scheduler
    if name == 'none':
        return None
    if name == 'step':
        return torch.optim.lr_scheduler.StepLR(
            optimizer, step_size=kw.pop('step_size', 30),
            gamma=kw.pop('gamma', 0.1), **kw)
    if name == 'cosine':
        return torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            optimizer, T_0=kw.pop('T_0', 10), T_mult=kw.pop('T_mult', 1),
            eta_min=kw.pop('eta_min', 0.0), **kw)
    if name == 'plateau':
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode='max', factor=kw.pop('factor', 0.5),
            patience=kw.pop('patience', 2), **kw)
    raise ValueError(f"Unknown scheduler '{name}'")  # pragma: no cover
