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
    :func:`pyg_mmkg.datasets.get_dataset`), a raw KG folder, a feature
    file written by ``pyg-mmkg features`` (its dataset with its features,
    see :mod:`pyg_mmkg.data.feature_file`), or a file saved with
    :obj:`torch.save(data, path)` (loaded with
    :obj:`weights_only=True`; see
    :func:`pyg_mmkg.data.safe_load.safe_torch_load`).

    Args:
        dataset (str or os.PathLike): A dataset name, raw folder or saved file.
        root (str, optional): The dataset root. (default: :obj:`None`)
        modalities (Sequence[str], optional): The modalities to keep.
            (default: :obj:`None`: all)
    """
    if dataset is None:
        raise ValueError('No dataset given')
    dataset = os.fspath(dataset)
    if os.path.isfile(dataset):
        # A file the user saved: never unpickled with weights_only=False
        # (a file can run code then); PyG's data classes are allowed.
        from pyg_mmkg.data.safe_load import safe_torch_load
        data = safe_torch_load(dataset)
        from pyg_mmkg.data.feature_file import is_feature_file
        if is_feature_file(data):  # `pyg-mmkg features` output
            from pyg_mmkg.datasets.feature_source import load_feature_dataset
            data = load_feature_dataset(dataset, root, obj=data)
        elif isinstance(data, dict):  # not a graph (data[0]: KeyError)
            raise ValueError(f"'{dataset}' is neither a saved graph "
                             f"(torch.save(data)) nor a pyg-mmkg feature "
                             f"file; it holds a dict with keys "
                             f"{sorted(map(str, data))[:6]}")
    else:
        from pyg_mmkg.datasets import get_dataset
        data = get_dataset(dataset, root=root)
    if not hasattr(data, 'node_types') and hasattr(data, '__getitem__'):
        data = data[0]
    return select_modalities(data, modalities)


def build_model(config: TrainConfig, data: Any) -> torch.nn.Module:
    r"""Builds :obj:`config.model` for :obj:`data` (reciprocal relations for
    the 1-N regimes).

    Args:
        config (TrainConfig): The configuration naming the model.
        data (HeteroData): The graph the model is built for.
    """
    from pyg_mmkg.train.registry import get_model
    kwargs = {} if config.dim is None else dict(hidden_channels=config.dim)
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
    :obj:`checkpoints/{checkpoint}.pt` (:obj:`"best"` or :obj:`"last"`).

    The model is rebuilt from what :obj:`model.json` recorded of its
    construction (class, constructor arguments), whether the run was
    started from the command line or from Python; runs trained on data
    given in Python need :obj:`data`, which must be the same graph (its
    fingerprint is checked). User classes must be registered with
    :func:`~pyg_mmkg.train.register_model` to be rebuilt by name.

    Args:
        run_dir (str or os.PathLike): The run directory.
        data (HeteroData, optional): The graph; :obj:`None` loads the dataset
            the run recorded. (default: :obj:`None`)
        checkpoint (str, optional): :obj:`'best'` or :obj:`'last'`.
            (default: :obj:`'best'`)
        map_location (Any, optional): As in :func:`torch.load`.
            (default: :obj:`'cpu'`)
    """
    run_dir = Path(run_dir)
    config_path = run_dir / 'config.json'
    if not config_path.exists():
        raise FileNotFoundError(f"'{run_dir}' is not a run directory (no "
                                f"config.json)")
    config = TrainConfig.from_dict(json.loads(config_path.read_text()))
    path = run_dir / 'checkpoints' / f'{checkpoint}.pt'
    if not path.exists():
        raise FileNotFoundError(f"No checkpoint '{path}'")
    record = _read_model_record(run_dir)
    spec = record.get('model')
    if spec is not None and not spec.get('reloadable', True):
        raise ValueError(f"The model of '{run_dir}' ({spec['class']}) "
                         f"cannot be rebuilt from its record: "
                         f"{'; '.join(spec['problems'])}. Build it as it "
                         f"was built and load "
                         f"load_checkpoint('{path}')['model'] into it")
    if data is None:
        if config.dataset is None:
            raise ValueError(
                f"'{run_dir}' was trained on data given in Python (no "
                f"dataset name or path recorded): pass that data "
                f"(load_run(run_dir, data=...), or --dataset with "
                f"`pyg-mmkg evaluate`)")
        data = load_data(config.dataset, config.root, config.modalities)
    else:
        data = select_modalities(data, config.modalities)
    expected = record.get('data', {}).get('fingerprint')
    if expected is not None:
        actual = data_fingerprint(data)
        if actual != expected:
            raise ValueError(f"The data given for '{run_dir}' is not the "
                             f"data it was trained on (entities, relations "
                             f"or triples differ: fingerprint "
                             f"{actual[:12]} instead of {expected[:12]})")
    model = build_model(config, data)
    from pyg_mmkg.train.checkpoint import load_checkpoint
    state = load_checkpoint(path, map_location, required=('model',))
    model.load_state_dict(state['model'])
    return model, data, config


def data_fingerprint(data: Any) -> str:
    r"""A digest of the graph a model depends on: entity and relation
    names (or counts) and the triples of every split."""
    import hashlib
    from pyg_mmkg.data import num_entities, num_relations, triples
    digest = hashlib.sha256()
    for node_type, count in (('entity', num_entities(data)),
                             ('relation', num_relations(data))):
        names = None
        if node_type in data.node_types:
            names = data[node_type].get('name', None)
        digest.update(f'{node_type}:{count}\n'.encode())
        if names is not None:
            digest.update('\n'.join(map(str, names)).encode())
    for split in ('train', 'val', 'test'):
        digest.update(split.encode())
        for x in triples(data, split):
            digest.update(x.detach().to('cpu', torch.int64).contiguous()
                          .numpy().tobytes())
    return digest.hexdigest()


def config_for_model(config: TrainConfig, model: Any) -> TrainConfig:
    r""":obj:`config` with :obj:`model`, :obj:`dim`, :obj:`modalities` and
    :obj:`model_kwargs` describing the model actually trained (as
    recorded by its constructor), so that :func:`build_model` rebuilds
    it."""
    from pyg_mmkg.nn.kge.spec import model_spec
    spec = model_spec(model)
    if spec is None:
        return config
    arguments = dict(spec['arguments'])
    changes: dict = {'model': spec['name'] or spec['class']}
    if 'hidden_channels' in arguments:
        dim = arguments.pop('hidden_channels')
        changes['dim'] = None if dim is None else int(dim)
    if 'modalities' in arguments:
        modalities = arguments.pop('modalities')
        changes['modalities'] = (None if modalities is None else
                                 [modalities] if isinstance(modalities, str)
                                 else list(modalities))
    changes['model_kwargs'] = arguments
    return config.replace(**changes)


def model_record(config: TrainConfig, model: Any, data: Any) -> dict:
    r"""What :obj:`model.json` of a run directory holds."""
    from pyg_mmkg.data import num_entities, num_relations, triples
    from pyg_mmkg.nn.kge.spec import model_spec
    return {
        'model': model_spec(model),
        'data': {
            'dataset': config.dataset,
            'root': config.root,
            'num_entities': num_entities(data),
            'num_relations': num_relations(data),
            'triples': {s: int(triples(data, s)[0].numel())
                        for s in ('train', 'val', 'test')},
            'fingerprint': data_fingerprint(data),
        },
    }


def _read_model_record(run_dir: Path) -> dict:
    path = run_dir / 'model.json'
    if not path.exists():  # Runs written before model.json existed.
        return {}
    try:
        record = json.loads(path.read_text())
    except ValueError as e:
        raise ValueError(f"'{path}' is not valid JSON: {e}") from None
    if not isinstance(record, dict):
        raise ValueError(f"'{path}' must hold a JSON object")
    return record
