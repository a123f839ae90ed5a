"""Loading data, building models and re-opening run directories."""
import copy
import json
import os
from pathlib import Path
from typing import Any, Optional, Sequence, Tuple, Union

import torch

from pyg_mmkg.train.config import TrainConfig

MODALITIES = ('structure', 'text', 'image', 'numeric')

# The node-store attributes that belong to each optional modality.
_MODALITY_KEYS = {
    'text': ('x_text', 'has_text'),
    'image': ('x_image', 'image_mask', 'has_image'),
    'numeric': ('x_numeric', 'numeric_mask'),
}


def select_modalities(data: Any,
                      modalities: Optional[Sequence[str]] = None) -> Any:
    r"""Returns a shallow copy of :obj:`data` without the features of
    modalities that are not in :obj:`modalities` (on entities and
    relations); :obj:`None` keeps everything. Features are not copied."""
    if modalities is None:
        return data
    modalities = [m.lower() for m in modalities]
    aliases = {'visual': 'image', 'images': 'image', 'textual': 'text',
               'literal': 'numeric', 'graph': 'structure'}
    modalities = [aliases.get(m, m) for m in modalities]
    unknown = sorted(set(modalities) - set(MODALITIES))
    if unknown:
        raise ValueError(f"Unknown modalities {unknown} (choose from "
                         f"{', '.join(MODALITIES)})")
    out = copy.copy(data)
    for modality, keys in _MODALITY_KEYS.items():
        if modality in modalities:
            continue
        for node_type in ('entity', 'relation'):
            if node_type not in out.node_types:
                continue
            store = out[node_type]
            for key in keys:
                if key in store:
                    del store[key]
    return out


def load_data(dataset: Union[str, os.PathLike], root: Optional[str] = None,
              modalities: Optional[Sequence[str]] = None) -> Any:
    r"""Loads a knowledge graph: a registered dataset name (see
    :func:`pyg_mmkg.datasets.get_dataset`), a raw KG folder, or a file
    saved with :obj:`torch.save(data, path)`."""
    if dataset is None:
        raise ValueError('No dataset given')
    dataset = os.fspath(dataset)
    if os.path.isfile(dataset):
        # A file the user saved and asked for (not a downloaded artefact).
        data = torch.load(dataset, weights_only=False)
    else:
        from pyg_mmkg.datasets import get_dataset
        data = get_dataset(dataset, root=root)
    if not hasattr(data, 'node_types') and hasattr(data, '__getitem__'):
        data = data[0]
    return select_modalities(data, modalities)


def build_model(config: TrainConfig, data: Any) -> torch.nn.Module:
    r"""Builds :obj:`config.model` for :obj:`data` (reciprocal relations for
    the 1-N regimes)."""
    from pyg_mmkg.train.registry import get_model
    kwargs = dict(hidden_channels=config.dim)
    if config.reciprocal:
        kwargs['reciprocal'] = True
    if config.modalities is not None:
        kwargs['modalities'] = list(config.modalities)
    kwargs.update(config.model_kwargs)
    return get_model(config.model, data, **kwargs)


def load_run(run_dir: Union[str, os.PathLike], data: Any = None,
             checkpoint: str = 'best',
             map_location: Any = 'cpu') -> Tuple[torch.nn.Module, Any,
                                                 TrainConfig]:
    r"""Re-opens a run directory written by :class:`Trainer`: returns
    :obj:`(model, data, config)` with the weights of
    :obj:`checkpoints/{checkpoint}.pt` (:obj:`"best"` or :obj:`"last"`)."""
    run_dir = Path(run_dir)
    config_path = run_dir / 'config.json'
    if not config_path.exists():
        raise FileNotFoundError(f"'{run_dir}' is not a run directory (no "
                                f"config.json)")
    config = TrainConfig.from_dict(json.loads(config_path.read_text()))
    path = run_dir / 'checkpoints' / f'{checkpoint}.pt'
    if not path.exists():
        raise FileNotFoundError(f"No checkpoint '{path}'")
    if data is None:
        data = load_data(config.dataset, config.root, config.modalities)
    else:
        data = select_modalities(data, config.modalities)
    model = build_model(config, data)
    state = torch.load(path, map_location=map_location, weights_only=True)
    model.load_state_dict(state['model'])
    return model, data, config
