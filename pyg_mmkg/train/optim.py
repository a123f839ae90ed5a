"""Optimiser and learning-rate scheduler factories."""
import inspect
from typing import Iterable, Optional, Union

import torch
from torch.optim import Optimizer

from pyg_mmkg.train.config import TrainConfig
from pyg_mmkg.train.sparse_optim import CompositeOptimizer, RowWiseAdagrad


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


def embedding_tables(model: torch.nn.Module) -> list:
    r"""The trainable weights of the :class:`torch.nn.Embedding` modules of
    :obj:`model` (each once).

    Args:
        model (torch.nn.Module): The model.
    """
    out, seen = [], set()
    for module in model.modules():
        if isinstance(module, torch.nn.Embedding):
            w = module.weight
            if w.requires_grad and id(w) not in seen:
                seen.add(id(w))
                out.append(w)
    return out


def _dense_optimizer(config: TrainConfig, params: list,
                     device: torch.device) -> Optimizer:
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


def build_optimizer(config: TrainConfig,
                    params: Union[torch.nn.Module, Iterable],
                    device: Optional[torch.device] = None) -> Optimizer:
    r"""Builds the optimiser named by :obj:`config.optimizer`. Adam and
    AdamW use the fused implementation where the device supports it.

    With :obj:`config.embedding_optimizer` other than :obj:`"dense"`,
    :obj:`params` must be the model: its :class:`torch.nn.Embedding`
    tables are switched to sparse gradients and put on
    :class:`torch.optim.SparseAdam` or
    :class:`~pyg_mmkg.train.sparse_optim.RowWiseAdagrad`, the other
    parameters on :obj:`config.optimizer`, both stepped as one
    :class:`~pyg_mmkg.train.sparse_optim.CompositeOptimizer`.

    Args:
        config (TrainConfig): The configuration.
        params (torch.nn.Module or iterable): The model, or its parameters.
        device (torch.device, optional): The device of the parameters.
            (default: :obj:`None`, that of the first parameter)
    """
    model = params if isinstance(params, torch.nn.Module) else None
    params = [p for p in (model.parameters() if model is not None
                          else params) if p.requires_grad]
    if not params:
        raise ValueError('The model has no trainable parameters')
    device = device or params[0].device
    if config.embedding_optimizer == 'dense':
        return _dense_optimizer(config, params, device)
    if model is None:
        raise ValueError(
            f"embedding_optimizer='{config.embedding_optimizer}' "
            f"(--embedding-optimizer) needs the model, not its parameters, "
            f"to find its embedding tables")
    tables = embedding_tables(model)
    if not tables:
        raise ValueError(
            f"embedding_optimizer='{config.embedding_optimizer}' "
            f"(--embedding-optimizer): {type(model).__name__} has no "
            f"torch.nn.Embedding table; use --embedding-optimizer dense")
    for module in model.modules():
        if isinstance(module, torch.nn.Embedding):
            module.sparse = True  # Row lookups now emit sparse gradients.
    ids = {id(t) for t in tables}
    if config.embedding_optimizer == 'sparse_adam':
        sparse_opt = torch.optim.SparseAdam(tables, lr=config.lr)
    else:
        sparse_opt = RowWiseAdagrad(tables, lr=config.lr)
    dense = [p for p in params if id(p) not in ids]
    optimizers = [sparse_opt]
    if dense:
        optimizers.append(_dense_optimizer(config, dense, device))
    return CompositeOptimizer(optimizers, sparse=[True, False][:len(
        optimizers)])


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
