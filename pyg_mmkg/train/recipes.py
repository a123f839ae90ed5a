r"""Published training recipes.

A method's *recipe* is the training configuration its authors published
(regime, loss, label smoothing, optimiser, learning rate, batch size,
negatives, epochs, scheduler, clipping, and the model arguments of their
scripts), with the place it was read from. A model class declares its
recipes in a class attribute:

.. code-block:: python

    class MyMethod(MultimodalKGEModel):
        recipes = {
            None: Recipe(dict(regime='slcwa', loss='softplus', lr=0.1, ...),
                         source='owner/repo@abc1234 configs/default.yaml'),
            'WN9-IMG': Recipe(dict(...), source='...'),  # per dataset
        }

:class:`~pyg_mmkg.train.Trainer` and :obj:`pyg-mmkg train` start from the
recipe of the model (for the dataset, when the official scripts differ per
dataset): every field the user does not set explicitly takes the recipe's
value; an explicit field wins. :obj:`recipe='none'` (:obj:`--recipe none`)
trains with the library's generic defaults instead.

Epoch counts and scheduler periods of a recipe are in the library's epoch
units: one library epoch passes over every training triple once in the
sLCWA regime, and over the queries of *both* directions in the 1-N regimes.
"""
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple


def dataset_key(name: Optional[str]) -> Optional[str]:
    r"""Normalises a dataset name for recipe lookup (case, ``-`` and ``_``
    insensitive, ``PP`` = ``++``)."""
    if name is None:
        return None
    import os.path as osp
    name = str(name)
    if osp.sep in name or (osp.altsep and osp.altsep in name):
        name = osp.basename(osp.normpath(name))
    return (name.upper().replace('_', '').replace('-', '')
            .replace('PP', '++'))


@dataclass(frozen=True)
class Recipe:
    r"""One published training configuration.

    Args:
        config (dict): :class:`~pyg_mmkg.train.TrainConfig` field values
            (any subset; :obj:`dim` and :obj:`model_kwargs` are used when
            the model is built from the configuration).
        source (str): Where the values were read (repository, commit,
            file), or the paper section.
        regimes (tuple of str, optional): The training regimes the method
            publishes; defaults to the recipe's own :obj:`regime`.
            Training with another regime warns once.
        notes (str): What differs from the official script and why (*e.g.*
            epoch counts converted to library epochs).
    """
    config: Mapping[str, Any]
    source: str
    regimes: Tuple[str, ...] = ()
    notes: str = ''

    def __post_init__(self):
        from pyg_mmkg.train.config import TrainConfig
        unknown = sorted(set(self.config) - set(TrainConfig.field_names()))
        if unknown:
            raise ValueError(f"Recipe from '{self.source}' sets unknown "
                             f"config field(s) {unknown}")
        if not self.regimes and 'regime' in self.config:
            object.__setattr__(self, 'regimes', (self.config['regime'], ))

    def describe(self) -> str:
        r"""One line: the values and their source."""
        values = ', '.join(f'{k}={v!r}' for k, v in self.config.items())
        return f'{values} [{self.source}]'


def _model_class(model: Any) -> Optional[type]:
    if model is None:
        return None
    if isinstance(model, str):
        from pyg_mmkg.train.registry import _discover
        return _discover(model)
    return model if isinstance(model, type) else type(model)


def get_recipe(model: Any, dataset: Optional[str] = None
               ) -> Optional[Recipe]:
    r"""The published recipe of :obj:`model` (a model, its class or its
    registered name) for :obj:`dataset`, falling back to the method's
    default recipe; :obj:`None` if the method publishes none."""
    cls = _model_class(model)
    table = getattr(cls, 'recipes', None)
    if not table:
        return None
    key = dataset_key(dataset)
    for name, recipe in table.items():
        if name is not None and dataset_key(name) == key:
            return recipe
    return table.get(None)


def apply_recipe(config: Any, model: Any, dataset: Optional[str] = None,
                 skip: Tuple[str, ...] = ()) -> Tuple[Any, Optional[Recipe]]:
    r"""Returns :obj:`(config, recipe)`: :obj:`config` completed with the
    published recipe of :obj:`model` for :obj:`dataset` (default:
    :obj:`config.dataset`) where it has no explicit value, and the recipe
    used (:obj:`None` with :obj:`config.recipe == "none"` or for models
    without one)."""
    if config.recipe == 'none':
        return config, None
    recipe = get_recipe(model, dataset if dataset is not None
                        else config.dataset)
    if recipe is None:
        return config, None
    return config.with_recipe(recipe, skip=skip), recipe


def recipe_record(config: Any, recipe: Optional[Recipe],
                  model: Any = None) -> Dict[str, Any]:
    r"""What :obj:`recipe.json` of a run directory holds: the recipe's
    source and notes, the values it supplied, and the fields the user set
    to something else."""
    cls = _model_class(model)
    out: Dict[str, Any] = {
        'model': None if cls is None else cls.__name__,
        'recipe': config.recipe if recipe is not None else 'none',
    }
    if recipe is None:
        out['source'] = ('library defaults (TrainConfig)' if config.recipe
                         == 'none' else 'library defaults: the model '
                         'publishes no recipe')
        return out
    used, overridden = {}, {}
    for name, value in recipe.config.items():
        actual = getattr(config, name)
        if name == 'model_kwargs':
            actual = {k: actual[k] if k in actual else
                      _default_argument(cls, k) for k in value}
            same = actual == dict(value)
        else:
            same = actual == value
        (used if same else overridden)[name] = (
            value if same else {'recipe': value, 'used': actual})
    out.update(source=recipe.source, regimes=list(recipe.regimes),
               notes=recipe.notes, applied=used, overridden=overridden)
    return out


def _default_argument(cls: Optional[type], name: str) -> Any:
    # The value a model argument takes when it is not given.
    import inspect
    for factory in (getattr(cls, 'from_data', None), cls):
        if factory is None:
            continue
        try:
            param = inspect.signature(factory).parameters.get(name)
        except (TypeError, ValueError):  # pragma: no cover
            continue
        if param is not None and param.default is not param.empty:
            return param.default
    return '<not given>'


def describe_recipe(config: Any, recipe: Optional[Recipe],
                    model: Any = None) -> str:
    r"""The line :obj:`pyg-mmkg train` prints at start."""
    record = recipe_record(config, recipe, model)
    if recipe is None:
        return f"recipe: {record['source']}"
    text = f"recipe: {record['model']} as published [{recipe.source}]"
    if record['overridden']:
        changed = ', '.join(f"{k}={v['used']!r} (published {v['recipe']!r})"
                            for k, v in record['overridden'].items())
        text += f'; overridden: {changed}'
    return text


def unpublished_regime_message(config: Any, recipe: Recipe,
                               model: Any) -> Optional[str]:
    r"""The warning for a regime the method does not publish, or
    :obj:`None`."""
    if config.regime in recipe.regimes:
        return None
    cls = _model_class(model)
    what = {
        'slcwa': f"'{config.loss_name}' loss over {config.num_negatives} "
                 f"negative(s) per positive",
        'kvsall': f"multi-label 1-N '{config.loss_name}' loss over all "
                  f"entities with reciprocal relations (label smoothing "
                  f"{config.label_smoothing})",
        '1vsall': f"1-N '{config.loss_name}' loss over all entities with "
                  f"reciprocal relations (label smoothing "
                  f"{config.label_smoothing})",
    }[config.regime]
    return (f"{cls.__name__} publishes regime(s) "
            f"{', '.join(recipe.regimes)} [{recipe.source}], not "
            f"'{config.regime}': unless its own training_loss handles "
            f"'{config.regime}' batches, it will optimise the trainer's "
            f"{what}, which is not the published method")
