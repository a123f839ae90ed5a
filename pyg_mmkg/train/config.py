"""The training configuration: one dataclass, readable from JSON or YAML."""
import dataclasses
import functools
import json
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Union

REGIMES = ('slcwa', 'kvsall', '1vsall')
SAMPLERS = ('uniform', 'bernoulli')
SLCWA_LOSSES = ('margin', 'softplus', 'nssa', 'bce')
LCWA_LOSSES = ('bce', 'ce')
REGULARIZERS = ('none', 'l2', 'n3')
OPTIMIZERS = ('adam', 'adamw', 'adagrad', 'sgd', 'rmsprop')
EMBEDDING_OPTIMIZERS = ('dense', 'sparse_adam', 'rowwise_adagrad')
SCHEDULERS = ('none', 'step', 'cosine', 'plateau')
DEVICES = ('auto', 'cpu', 'cuda')
METRICS = ('mrr', 'hits@1', 'hits@3', 'hits@10')
RECIPES = ('published', 'none')
VAL_FILTERS = ('train+val', 'train+val+test')
# Fields that belong to a recipe's regime: not applied when the user trains
# the method in another regime.
REGIME_FIELDS = ('loss', 'margin', 'adversarial_temperature',
                 'num_negatives', 'sampler', 'filtered_negatives',
                 'label_smoothing')
# The loss fields of the sLCWA regime: what a model whose training_loss
# defines its own sLCWA objective ignores (its `ignores_config`).
SLCWA_LOSS_FIELDS = ('loss', 'margin', 'adversarial_temperature',
                     'label_smoothing')


def _flag(name: str) -> str:
    return '--' + name.replace('_', '-')


def _name(name: str) -> str:
    return f"'{name}' ({_flag(name)})"


def _check(config, name: str, kind: type, ok, expected: str,
           optional: bool = False) -> None:
    value = getattr(config, name)
    if value is None and optional:
        return
    bad = value is None or isinstance(value, bool)
    if not bad:
        try:
            converted = kind(value)
        except (TypeError, ValueError):
            bad = True
        else:
            bad = (converted != value or not ok(converted)
                   or (kind is float and converted != converted))
            if not bad:
                setattr(config, name, converted)
    if bad:
        raise ValueError(f"{_name(name)} must be {expected} (got "
                         f"{value!r})")


@dataclass
class TrainConfig:
    r"""Everything that defines a training run, as one flat, serialisable
    record.

    Defaults are the ones used by :obj:`pyg-mmkg train` when no option is
    given: ComplEx-style 1-N training (KvsAll, BCE, label smoothing 0.1,
    reciprocal relations) with Adam, tuned on the bundled VTKG-I, where
    :obj:`pyg-mmkg train --dataset VTKG-I --model complex` reaches a test
    MRR of about 0.40 in a few seconds on a CPU. Every field can be set
    from a JSON/YAML file (:meth:`from_file`) or from the command line
    (:obj:`--field-name`).

    Args:
        dataset (str, optional): Dataset name for :meth:`get_dataset` or a
            path to a dataset folder/file (used by the CLI and for
            re-evaluating a run). (default: :obj:`None`)
        root (str, optional): Dataset root folder. (default: :obj:`None`)
        modalities (List[str], optional): Modalities the model may use, *e.g.*
            :obj:`['structure', 'text']`; features of other modalities are
            removed from the data before the model is built. :obj:`None`
            keeps all. (default: :obj:`None`)
        model (str): Model name resolved by
            :func:`pyg_mmkg.train.get_model`. (default: :obj:`"complex"`)
        dim (int, optional): :obj:`hidden_channels` of the model;
            :obj:`None` lets the model choose (*e.g.* VL-KGE's rank is the
            size of its features). (default: :obj:`128`)
        model_kwargs (dict): Further model arguments. (default: :obj:`{}`)
        recipe (str): :obj:`"published"` starts from the model's published
            training recipe (see :mod:`pyg_mmkg.train.recipes`): every
            field not set explicitly takes the recipe's value, explicit
            fields win (:obj:`model_kwargs` are merged, recipe first).
            :obj:`"none"` uses the generic defaults below. Models without
            a published recipe (the unimodal scorers) always use the
            defaults. (default: :obj:`"published"`)
        regime (str): :obj:`"slcwa"` (:math:`k` negatives per positive),
            :obj:`"kvsall"` (multi-label 1-N over all entities) or
            :obj:`"1vsall"` (softmax over all entities), the last two with
            reciprocal relations. (default: :obj:`"kvsall"`)
        num_negatives (int): Negatives per positive (sLCWA).
            (default: :obj:`32`)
        sampler (str): :obj:`"uniform"` or :obj:`"bernoulli"` corruption.
            (default: :obj:`"uniform"`)
        filtered_negatives (bool): Draw negatives only among corruptions
            that are not training triples. (default: :obj:`False`)
        loss (str, optional): sLCWA: :obj:`"margin"`, :obj:`"softplus"`,
            :obj:`"nssa"` (self-adversarial) or :obj:`"bce"`; KvsAll/1vsAll:
            :obj:`"bce"` or :obj:`"ce"`. :obj:`None` picks :obj:`"nssa"` for
            sLCWA, :obj:`"bce"` for KvsAll and :obj:`"ce"` for 1vsAll.
            (default: :obj:`None`)
        margin (float, optional): Margin :math:`\gamma` of the margin and
            self-adversarial losses; :obj:`None` means :obj:`1.0` for
            :obj:`"margin"` and :obj:`0.0` for :obj:`"nssa"` (PyG-style
            RotatE already adds its margin to the score). With TransE
            (PyG's, which L_p-normalises entities, so distances are of order
            1-2) a margin around :obj:`1.0` works: :obj:`1.0` gave MKG-W
            test MRR 0.302 in `benchmarks/results/reproduction.md`.
            (default: :obj:`None`)
        adversarial_temperature (float): Temperature :math:`\alpha` of the
            self-adversarial weights. (default: :obj:`1.0`)
        label_smoothing (float): Label smoothing of 1-N targets (and of
            the sLCWA :obj:`"bce"` loss). (default: :obj:`0.1`)
        regularizer (str): :obj:`"none"`, :obj:`"l2"` or :obj:`"n3"` on the
            representations used in a batch. (default: :obj:`"none"`)
        regularizer_weight (float): Weight of the regulariser.
            (default: :obj:`0.0`)
        optimizer (str): :obj:`"adam"` (fused when supported),
            :obj:`"adamw"`, :obj:`"adagrad"` or :obj:`"sgd"`.
            (default: :obj:`"adam"`)
        embedding_optimizer (str): How embedding tables
            (:class:`torch.nn.Embedding` weights) are updated:
            :obj:`"dense"` puts them on :obj:`optimizer` with every other
            parameter; :obj:`"sparse_adam"`
            (:class:`torch.optim.SparseAdam`, lazy Adam) and
            :obj:`"rowwise_adagrad"`
            (:class:`~pyg_mmkg.train.sparse_optim.RowWiseAdagrad`, one
            accumulator per row) update only the rows a batch used, so a
            step costs the same whatever the number of entities; the other
            parameters stay on :obj:`optimizer` in the same step. The
            tables then emit sparse gradients (sLCWA); with 1-N regimes
            every candidate row receives a gradient, so the update is
            dense-sized (see :obj:`docs/scaling.md`). Not combinable with
            :obj:`weight_decay`. (default: :obj:`"dense"`)
        lr (float): Learning rate. (default: :obj:`0.01`)
        weight_decay (float): Weight decay. (default: :obj:`0.0`)
        scheduler (str): :obj:`"none"`, :obj:`"step"`, :obj:`"cosine"`
            (cosine annealing with warm restarts) or :obj:`"plateau"`
            (on validation :obj:`metric`). (default: :obj:`"none"`)
        scheduler_kwargs (dict): Arguments of the scheduler (*e.g.*
            :obj:`step_size`, :obj:`gamma`, :obj:`T_0`, :obj:`factor`).
            (default: :obj:`{}`)
        grad_clip (float, optional): Maximal gradient norm.
            (default: :obj:`None`)
        epochs (int): Maximal number of epochs. (default: :obj:`100`)
        batch_size (int): Training batch size (positives, or 1-N queries).
            (default: :obj:`256`)
        eval_every (int): Validate every this many epochs.
            (default: :obj:`5`)
        patience (int, optional): Stop after this many validations without
            improvement of the validation :obj:`metric`. :obj:`None`
            disables early stopping. (default: :obj:`5`)
        min_epochs (int): Early stopping never ends a run before this epoch.
            (default: :obj:`0`)
        max_time_s (float, optional): Stop after the epoch during which this
            many seconds of training have passed (a budget; the best
            validation model is still the one tested). (default: :obj:`None`)
        metric (str): Validation metric used for model selection.
            (default: :obj:`"mrr"`)
        seed (int): Random seed. (default: :obj:`0`)
        device (str): :obj:`"auto"`, :obj:`"cpu"` or :obj:`"cuda"`.
            (default: :obj:`"auto"`)
        amp (bool): Mixed precision (CUDA only; ignored on CPU).
            (default: :obj:`False`)
        deterministic (bool): Call
            :meth:`torch.use_deterministic_algorithms` (needed for
            bit-identical CUDA runs). (default: :obj:`False`)
        eval_batch_size (int): Queries per evaluation batch.
            (default: :obj:`256`)
        progress (bool): Show tqdm progress bars. (default: :obj:`True`)
        val_filter (str): Known triples filtered out when ranking the
            validation split (model selection): :obj:`"train+val"` keeps
            test triples out of model selection; :obj:`"train+val+test"`
            is the common protocol of published code (test answers then
            influence validation ranks). The test split is always filtered
            with train + val + test. (default: :obj:`"train+val"`)
    """
    dataset: Optional[str] = None
    root: Optional[str] = None
    modalities: Optional[List[str]] = None
    model: str = 'complex'
    dim: Optional[int] = 128
    model_kwargs: Dict[str, Any] = field(default_factory=dict)
    recipe: str = 'published'
    regime: str = 'kvsall'
    num_negatives: int = 32
    sampler: str = 'uniform'
    filtered_negatives: bool = False
    loss: Optional[str] = None
    margin: Optional[float] = None
    adversarial_temperature: float = 1.0
    label_smoothing: float = 0.1
    regularizer: str = 'none'
    regularizer_weight: float = 0.0
    optimizer: str = 'adam'
    embedding_optimizer: str = 'dense'
    lr: float = 0.01
    weight_decay: float = 0.0
    scheduler: str = 'none'
    scheduler_kwargs: Dict[str, Any] = field(default_factory=dict)
    grad_clip: Optional[float] = None
    epochs: int = 100
    batch_size: int = 256
    eval_every: int = 5
    patience: Optional[int] = 5
    min_epochs: int = 0
    max_time_s: Optional[float] = None
    metric: str = 'mrr'
    seed: int = 0
    device: str = 'auto'
    amp: bool = False
    deterministic: bool = False
    eval_batch_size: int = 256
    progress: bool = True
    val_filter: str = 'train+val'

    def __post_init__(self):
        # All validation of a configuration lives here, so that Python, the
        # config file and the command line reject the same values with the
        # same message (naming the field and its flag).
        if isinstance(self.modalities, str):
            self.modalities = [m.strip() for m in self.modalities.split(',')
                               if m.strip()]
        for name, choices in [('regime', REGIMES), ('sampler', SAMPLERS),
                              ('regularizer', REGULARIZERS),
                              ('optimizer', OPTIMIZERS),
                              ('embedding_optimizer', EMBEDDING_OPTIMIZERS),
                              ('scheduler', SCHEDULERS), ('device', DEVICES),
                              ('metric', METRICS), ('recipe', RECIPES)]:
            value = getattr(self, name)
            if isinstance(value, str):
                value = value.lower()
                setattr(self, name, value)
            if value not in choices:
                raise ValueError(f"Unknown {name} '{value}' ({_flag(name)}; "
                                 f"choose from {', '.join(choices)})")
        if self.loss is not None:
            self.loss = self.loss.lower()
            # While the regime is not given, a recipe may still set it: a
            # loss of another regime is checked once it is final
            # (check_loss_regime, called by the Trainer).
            if 'regime' in self.explicit_fields or self.loss not in (
                    SLCWA_LOSSES + LCWA_LOSSES):
                self.check_loss_regime()
        for name in ['num_negatives', 'epochs', 'batch_size',
                     'eval_every', 'eval_batch_size']:
            _check(self, name, int, lambda v: v >= 1, 'a positive integer')
        _check(self, 'dim', int, lambda v: v >= 1,
               "a positive integer or None (the model's own default)",
               optional=True)
        _check(self, 'seed', int, lambda v: v >= 0, 'an integer >= 0')
        _check(self, 'min_epochs', int, lambda v: v >= 0, 'an integer >= 0')
        _check(self, 'patience', int, lambda v: v >= 1,
               'a positive integer or None (no early stopping)',
               optional=True)
        _check(self, 'max_time_s', float, lambda v: v > 0,
               'positive or None', optional=True)
        _check(self, 'lr', float, lambda v: v > 0, 'positive')
        _check(self, 'weight_decay', float, lambda v: v >= 0, '>= 0')
        _check(self, 'regularizer_weight', float, lambda v: v >= 0, '>= 0')
        _check(self, 'margin', float, lambda v: v >= 0, '>= 0 or None',
               optional=True)
        _check(self, 'adversarial_temperature', float, lambda v: v > 0,
               'positive')
        _check(self, 'grad_clip', float, lambda v: v > 0,
               'a positive maximal gradient norm or None (no clipping)',
               optional=True)
        _check(self, 'label_smoothing', float, lambda v: 0.0 <= v < 1.0,
               'in [0, 1)')
        if self.embedding_optimizer != 'dense' and self.weight_decay > 0:
            raise ValueError(
                f"{_name('embedding_optimizer')} "
                f"'{self.embedding_optimizer}' has no weight decay; set "
                f"{_name('weight_decay')} to 0 or use "
                f"{_flag('embedding_optimizer')} dense (got weight_decay="
                f"{self.weight_decay})")
        for name in ('model_kwargs', 'scheduler_kwargs'):
            if not isinstance(getattr(self, name), dict):
                raise ValueError(f"{_name(name)} must be a mapping (got "
                                 f"{getattr(self, name)!r})")
        if self.modalities is not None and len(self.modalities) == 0:
            raise ValueError(f"{_name('modalities')} must name at least one "
                             f"modality, or be None for all")
        if isinstance(self.val_filter, str):  # 'train+valid' is accepted
            self.val_filter = self.val_filter.lower().replace(
                'valid', 'val').replace(' ', '')
        if self.val_filter not in VAL_FILTERS:
            raise ValueError(f"Unknown val_filter '{self.val_filter}' "
                             f"({_flag('val_filter')}; choose from "
                             f"{', '.join(VAL_FILTERS)})")

    def check_loss_regime(self) -> None:
        r"""Raises an error if :obj:`loss` does not fit :obj:`regime`."""
        if self.loss is None:
            return
        valid = SLCWA_LOSSES if self.regime == 'slcwa' else LCWA_LOSSES
        if self.loss not in valid:
            raise ValueError(f"Loss '{self.loss}' ({_flag('loss')}) does "
                             f"not fit regime '{self.regime}' (choose "
                             f"from {', '.join(valid)})")

    @property
    def loss_name(self) -> str:
        r"""The loss actually used (resolving the regime default)."""
        if self.loss is not None:
            return self.loss
        return {'slcwa': 'nssa', 'kvsall': 'bce', '1vsall': 'ce'}[self.regime]

    @property
    def loss_margin(self) -> float:
        r"""The margin actually used (resolving the loss default)."""
        if self.margin is not None:
            return float(self.margin)
        return 1.0 if self.loss_name == 'margin' else 0.0

    @property
    def reciprocal(self) -> bool:
        r"""Whether the model needs reciprocal relations (1-N regimes)."""
        return self.regime in ('kvsall', '1vsall')

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def field_names(cls) -> List[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, values: Dict[str, Any], **overrides) -> 'TrainConfig':
        r"""Builds a config from a dictionary; unknown keys raise an error
        listing the valid ones.

        Args:
            values (Dict[str, Any]): The fields (dashes in keys are read as
                underscores).
            **overrides: Fields that replace those of :obj:`values`
                (:obj:`None` values are ignored).
        """
        values = {k.replace('-', '_'): v for k, v in values.items()}
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = sorted(set(values) - set(cls.field_names()))
        if unknown:
            raise ValueError(f"Unknown config key(s) {unknown} (valid keys: "
                             f"{', '.join(cls.field_names())})")
        return cls(**values)

    @classmethod
    def from_file(cls, path: Union[str, os.PathLike],
                  **overrides) -> 'TrainConfig':
        r"""Reads a :obj:`.json` or :obj:`.yaml`/:obj:`.yml` file (YAML
        needs :obj:`pyyaml`). Non-:obj:`None` :obj:`overrides` win.

        Args:
            path (str or os.PathLike): The config file.
            **overrides: Fields that replace those of the file
                (:obj:`None` values are ignored).
        """
        path = os.fspath(path)
        with open(path) as f:
            text = f.read()
        if path.endswith(('.yaml', '.yml')):
            try:
                import yaml
            except Exception as e:
                raise ImportError(f"Reading '{path}' needs PyYAML "
                                  f"(pip install 'pyg-mmkg[yaml]')") from e
            values = yaml.safe_load(text) or {}
        else:
            values = json.loads(text)
        if not isinstance(values, dict):
            raise ValueError(f"Config file '{path}' must hold a mapping")
        return cls.from_dict(values, **overrides)

    def save(self, path: Union[str, os.PathLike]) -> None:
        r"""Writes the config as JSON (atomically).

        Args:
            path (str or os.PathLike): The output file.
        """
        from pyg_mmkg.train.checkpoint import atomic_write_text
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + '\n')

    def replace(self, **changes) -> 'TrainConfig':
        r"""A copy with :obj:`changes`, which count as explicitly set."""
        explicit = self.explicit_fields | frozenset(changes)
        _PENDING.explicit = explicit  # seen by __init__'s checks
        try:
            out = dataclasses.replace(self, **changes)
        finally:
            _PENDING.explicit = None
        out._explicit = explicit
        return out

    @property
    def explicit_fields(self) -> frozenset:
        r"""The fields given explicitly (to the constructor, in a config
        file, on the command line or through :meth:`replace`), which a
        published recipe never overrides."""
        return getattr(self, '_explicit', frozenset(self.field_names()))

    def with_recipe(self, recipe: Any,
                    skip: Sequence[str] = ()) -> 'TrainConfig':
        r"""A copy where every field of :obj:`recipe` (a
        :class:`~pyg_mmkg.train.recipes.Recipe` or a dict) that was not set
        explicitly takes the recipe's value. :obj:`model_kwargs` are merged
        (the recipe's first, explicit ones win); :obj:`scheduler_kwargs`
        follow the recipe only while :obj:`scheduler` does; the loss and
        negative-sampling fields (:obj:`REGIME_FIELDS`) only while the
        regime is the recipe's. Fields in :obj:`skip` are left alone.

        Args:
            recipe (Recipe or dict): The recipe, or its config fields.
            skip (Sequence[str], optional): Fields the recipe must not set.
                (default: :obj:`()`)
        """
        values = dict(getattr(recipe, 'config', recipe))
        explicit = self.explicit_fields
        changes = {}
        regime = self.regime if 'regime' in explicit else values.get(
            'regime', self.regime)
        other_regime = values.get('regime', regime) != regime
        for name, value in values.items():
            if name in skip or (other_regime and name in REGIME_FIELDS):
                continue  # The recipe's loss etc. belong to its regime.
            if name == 'model_kwargs':
                merged = dict(value)
                merged.update(self.model_kwargs)
                changes[name] = merged
            elif name == 'scheduler_kwargs':
                if 'scheduler' not in explicit or ('scheduler' in values and
                                                   values['scheduler'] ==
                                                   self.scheduler):
                    if name not in explicit:
                        changes[name] = dict(value)
            elif name not in explicit:
                changes[name] = value
        out = dataclasses.replace(self, **changes)
        out._explicit = explicit
        return out


_dataclass_init = TrainConfig.__init__


_PENDING = threading.local()


@functools.wraps(_dataclass_init)
def _init(self, *args, **kwargs):
    names = TrainConfig.field_names()
    pending = getattr(_PENDING, 'explicit', None)
    _PENDING.explicit = None
    self._explicit = (pending if pending is not None else
                      frozenset(names[:len(args)]) | frozenset(kwargs))
    _dataclass_init(self, *args, **kwargs)


TrainConfig.__init__ = _init
