r"""Helpers shared by the multimodal models of :mod:`pyg_mmkg.nn.models`:
reading features from the data contract, missing-modality masks, modality
ablation and an optional relational encoder."""
import contextlib
from typing import Any, Dict, Iterator, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from pyg_mmkg.nn.kge.model import ScoredKGEModel

MODALITIES = ('structure', 'text', 'image', 'numeric')
ABLATION_MODES = ('drop', 'zero', 'shuffle')
_ALIASES = {'visual': 'image', 'images': 'image', 'textual': 'text',
            'graph': 'structure'}

Features = Dict[str, Tuple[Tensor, Tensor]]

_FEATURE_KEYS = {'text': 'x_text', 'image': 'x_image', 'numeric': 'x_numeric'}


class MissingModalityWarning(UserWarning):
    r"""A model was asked for a modality the data does not hold; it is built
    without it. Turn it into an error with
    :obj:`warnings.simplefilter('error', MissingModalityWarning)`."""


def warn_missing_modalities(requested: Sequence[str],
                            present: Sequence[str]) -> None:
    r"""Warns (:class:`MissingModalityWarning`) about the feature
    modalities in :obj:`requested` that are not in :obj:`present`, and
    raises if nothing at all would be left to the model.

    Args:
        requested (Sequence[str]): The modalities asked for.
        present (Sequence[str]): The feature modalities the data holds.
    """
    import warnings
    requested = normalize_modalities(requested)
    missing = [m for m in requested if m != 'structure' and m not in present]
    if not missing:
        return
    left = [m for m in requested if m not in missing]
    keys = ', '.join(f"entity.{_FEATURE_KEYS[m]}" for m in missing)
    if not left:
        raise ValueError(f"modalities={list(requested)}: the data holds none "
                         f"of them (no {keys}); attach features "
                         f"(pyg_mmkg.features.attach_features) or add "
                         f"'structure'")
    warnings.warn(f"modalities={list(requested)} asks for "
                  f"{', '.join(map(repr, missing))}, but the data has no "
                  f"{keys}: the model is built WITHOUT "
                  f"{'it' if len(missing) == 1 else 'them'} (it uses "
                  f"{', '.join(left)} only). Attach the features or drop "
                  f"{'it' if len(missing) == 1 else 'them'} from "
                  f"modalities", MissingModalityWarning, stacklevel=3)


def normalize_modalities(modalities: Sequence[str]) -> Tuple[str, ...]:
    r"""Lower-cases :obj:`modalities`, resolves aliases (*e.g.*
    :obj:`"visual"`), removes duplicates and checks the names."""
    if isinstance(modalities, str):
        modalities = [modalities]
    out = []
    for m in modalities:
        m = _ALIASES.get(m.lower(), m.lower())
        if m not in MODALITIES:
            raise ValueError(f"Unknown modality '{m}' (choose from "
                             f"{', '.join(MODALITIES)})")
        if m not in out:
            out.append(m)
    if len(out) == 0:
        raise ValueError('At least one modality is required')
    return tuple(out)


def features_from_data(data: Any, modalities: Sequence[str]) -> Features:
    r"""Reads the entity features of the feature modalities in
    :obj:`modalities` that :obj:`data` holds, as
    :obj:`{modality: (x [N, D], mask [N] bool)}`.

    Text features stored in half precision (:obj:`float16`/:obj:`bfloat16`,
    *e.g.* memory-mapped by
    :func:`~pyg_mmkg.features.storage.load_feature_table`) stay in half
    precision (see :attr:`MultimodalKGEModel.keeps_half_features`); other
    features are converted to :obj:`float32`.

    Images :obj:`x_image` [N, K, D] are averaged over the valid slots of
    :obj:`image_mask` [N, K]. Numeric literals :obj:`x_numeric` [N, L] have
    their missing values (:obj:`numeric_mask` [N, L]) set to zero; an
    entity has the modality when it has at least one value. Rows of
    entities without the modality are zeroed, so that whatever a dataset
    stored there can never leak into a model. Requested modalities
    missing from :obj:`data` are skipped with a
    :class:`MissingModalityWarning` (a :obj:`ValueError` if nothing is
    left).

    Args:
        data (HeteroData): The graph.
        modalities (Sequence[str]): The modalities asked for.
    """
    store = data['entity']
    num_nodes = int(store.num_nodes)
    out: Features = {}
    for m in normalize_modalities(modalities):
        if m == 'text' and 'x_text' in store:
            x = _float_or_half(store.x_text)
            mask = store.get('has_text', None)
        elif m == 'image' and 'x_image' in store:
            x = store.x_image.float()
            mask = store.get('has_image', None)
            if x.dim() == 3:
                slots = store.get('image_mask', None)
                if slots is None:
                    slots = torch.ones(x.shape[:2], dtype=torch.bool)
                slots = slots.to(torch.bool)
                weight = slots.to(x.dtype).unsqueeze(-1)
                x = (x * weight).sum(1) / weight.sum(1).clamp(min=1.0)
                mask = slots.any(1) if mask is None else (mask.bool()
                                                          & slots.any(1))
        elif m == 'numeric' and 'x_numeric' in store:
            # Missing values (numeric_mask [N, L] False) become 0; an entity
            # has the modality if it has at least one value.
            x = store.x_numeric.float()
            values = store.get('numeric_mask', None)
            values = (torch.ones_like(x, dtype=torch.bool) if values is None
                      else values.to(torch.bool))
            x = torch.where(values, x, torch.zeros_like(x))
            mask = values.any(1)
        else:
            continue
        if x.size(0) != num_nodes:
            raise ValueError(f"'{m}' features have {x.size(0)} rows but "
                             f"the graph has {num_nodes} entities")
        if mask is None:
            mask = torch.ones(num_nodes, dtype=torch.bool)
        mask = mask.view(-1).bool()
        x = x * mask.unsqueeze(-1).to(x.dtype)
        out[m] = (x, mask)
    warn_missing_modalities(modalities, list(out))
    return out


def _float_or_half(x: Tensor) -> Tensor:
    return x if x.dtype in HALF_DTYPES else x.float()


HALF_DTYPES = (torch.float16, torch.bfloat16)


def seen_in_train(data: Any) -> Tensor:
    r"""A boolean mask :obj:`[N]` of the entities that occur in a training
    triple."""
    from pyg_mmkg.data import num_entities, triples
    head, _, tail = triples(data, 'train')
    seen = torch.zeros(num_entities(data), dtype=torch.bool)
    seen[head] = True
    seen[tail] = True
    return seen


def build_encoder(encoder: Any, data: Any, channels: int,
                  reciprocal: bool = True, **kwargs: Any):
    r"""Returns a relational encoder over the *training* graph of
    :obj:`data`: :obj:`encoder` itself if it is a
    :class:`~pyg_mmkg.nn.encoders.RelationalEncoder`, a plain PyG
    convolution wrapped in :class:`~pyg_mmkg.nn.encoders.ConvEncoder` (its
    sizes and number of relations checked here), or a new
    :class:`~pyg_mmkg.nn.encoders.RGCNEncoder` (:obj:`"rgcn"`) or
    :class:`~pyg_mmkg.nn.encoders.CompGCNEncoder` (:obj:`"compgcn"`) with
    :obj:`channels` input, hidden and output channels and :obj:`kwargs`.

    R-GCN without :obj:`num_bases` or :obj:`num_blocks` gets the basis
    decomposition with two bases that the R-GCN paper uses for link
    prediction on FB15k and WN18: a full weight matrix per edge type costs
    :math:`2R \cdot d^2` parameters per layer (128 M for VTKG-I's 434 edge
    types at :math:`d = 384`).

    Args:
        encoder (str or torch.nn.Module, optional): The encoder.
        data (HeteroData): The graph (its training triples).
        channels (int): The entity representation size.
        reciprocal (bool, optional): Unused, kept for compatibility.
            (default: :obj:`True`)
        **kwargs: Further arguments of the encoder class.
    """
    from pyg_mmkg.nn.encoders import (CompGCNEncoder, RelationalEncoder,
                                      RGCNEncoder)
    if encoder is None or isinstance(encoder, RelationalEncoder):
        return encoder
    if isinstance(encoder, torch.nn.Module):
        from torch_geometric.nn.conv import MessagePassing
        if not isinstance(encoder, MessagePassing):
            from pyg_mmkg.nn.encoders.conv import check_encoder_module
            check_encoder_module(encoder)
            return encoder
        from pyg_mmkg.nn.encoders.conv import wrap_conv
        return wrap_conv(encoder, data, channels)
    classes = {'rgcn': RGCNEncoder, 'compgcn': CompGCNEncoder}
    cls = classes.get(str(encoder).lower())
    if cls is None:
        raise ValueError(f"Unknown encoder '{encoder}' (choose from "
                         f"{', '.join(classes)} or pass a module)")
    kwargs.setdefault('out_channels', channels)
    if cls is RGCNEncoder and kwargs.get('num_bases') is None and kwargs.get(
            'num_blocks') is None:
        kwargs['num_bases'] = 2
    return cls.from_data(data, channels, channels, add_inverse=True,
                         **kwargs)


class MultimodalKGEModel(ScoredKGEModel):
    r"""Base class of the multimodal models: a
    :class:`~pyg_mmkg.nn.kge.ScoredKGEModel` whose entity representations
    are computed from frozen feature buffers and learnable tables.

    It stores one feature buffer :obj:`x_{modality}` and one mask buffer
    :obj:`has_{modality}` per feature modality (non-persistent: features
    belong to the data and are re-attached by :meth:`from_data`), and
    provides:

    * :meth:`feature` / :meth:`structure`: the inputs of :meth:`encode`,
      after any active ablation;
    * :meth:`ablate`: a context manager that removes (:obj:`"drop"`), zeroes
      (:obj:`"zero"`) or shuffles across entities (:obj:`"shuffle"`) one
      modality at evaluation, to show that a model uses it;
    * :meth:`refine`: an optional relational encoder over the training
      graph applied to entity representations.

    A subclass that reads its features through :meth:`feature` only sets
    :attr:`keeps_half_features` to :obj:`True`: half-precision feature
    tables are then stored in half precision (half the memory of
    :obj:`float32`) and upcast by :meth:`feature` when used.
    """
    #: Store :obj:`float16`/:obj:`bfloat16` features as they are (the model
    #: reads them through :meth:`feature`, which upcasts).
    keeps_half_features: bool = False

    def _init_multimodal(self, modalities: Sequence[str],
                         features: Optional[Features],
                         encoder: Optional[torch.nn.Module] = None):
        features = features or {}
        self.modalities = normalize_modalities(modalities)
        self.feature_modalities = tuple(m for m in self.modalities
                                        if m != 'structure' and m in features)
        for m in self.feature_modalities:
            x, mask = features[m]
            mask = mask.view(-1).bool()
            if x.size(0) != self.num_nodes or mask.numel() != self.num_nodes:
                raise ValueError(f"'{m}' features must have {self.num_nodes} "
                                 f"rows (got {x.size(0)} and {mask.numel()})")
            if x.dtype in HALF_DTYPES and self.keeps_half_features:
                x = x * mask.unsqueeze(-1).to(x.dtype)  # Half: N x D x 2 B.
            else:
                x = x.float() * mask.unsqueeze(-1)
            self.register_buffer(f'x_{m}', x, persistent=False)
            self.register_buffer(f'has_{m}', mask, persistent=False)
        if encoder is not None:
            from pyg_mmkg.nn.encoders.conv import check_encoder_module
            check_encoder_module(encoder)
        self.encoder = encoder
        self._ablation: Dict[str, Tuple[str, int]] = {}

    @property
    def use_structure(self) -> bool:
        return 'structure' in self.modalities

    def feature_dim(self, modality: str) -> int:
        return getattr(self, f'x_{modality}').size(-1)

    # Ablation ###############################################################

    def _ablated(self, modality: str, x: Tensor,
                 mask: Tensor) -> Tuple[Tensor, Tensor]:
        mode, seed = self._ablation.get(modality, (None, 0))
        if mode is None:
            return x, mask
        if mode == 'zero':
            return torch.zeros_like(x), mask
        if mode == 'drop':
            return torch.zeros_like(x), torch.zeros_like(mask)
        # 'shuffle': permute the rows of the entities that have the modality.
        idx = mask.nonzero().view(-1)
        gen = torch.Generator().manual_seed(seed)
        perm = torch.randperm(idx.numel(), generator=gen).to(idx.device)
        out = x.clone()
        out[idx] = x[idx[perm]]
        return out, mask

    def feature(self, modality: str) -> Tuple[Tensor, Tensor]:
        r"""Returns the features :obj:`[N, D]` and mask :obj:`[N]` of a
        feature modality, after the active ablation (if any)."""
        x = getattr(self, f'x_{modality}')
        if x.dtype in HALF_DTYPES:  # Stored in half, computed in float32.
            x = x.float()
        return self._ablated(modality, x, getattr(self, f'has_{modality}'))

    def structure(self, x: Tensor,
                  mask: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        r"""Applies the active ablation of :obj:`"structure"` to structural
        entity representations :obj:`x` [N, D] with mask :obj:`mask` [N]
        (default: all entities)."""
        if mask is None:
            mask = torch.ones(x.size(0), dtype=torch.bool, device=x.device)
        return self._ablated('structure', x, mask)

    @contextlib.contextmanager
    def ablate(self, modality: str, mode: str = 'shuffle',
               seed: int = 0) -> Iterator['MultimodalKGEModel']:
        r"""Context manager that ablates one modality, *e.g.*, to show that
        the model uses it:

        .. code-block:: python

            full = evaluate(model, h, r, t, filter_index=fi)
            with model.ablate('text', mode='shuffle'):
                shuffled = evaluate(model, h, r, t, filter_index=fi)

        Args:
            modality (str): :obj:`"structure"`, :obj:`"text"` or
                :obj:`"image"`.
            mode (str, optional): :obj:`"drop"` (every entity is treated as
                missing the modality), :obj:`"zero"` (features or structural
                embeddings set to zero, masks kept) or :obj:`"shuffle"` (rows
                permuted among the entities that have the modality, with
                :obj:`seed`). (default: :obj:`"shuffle"`)
            seed (int, optional): Seed of the permutation.
                (default: :obj:`0`)
        """
        modality = normalize_modalities([modality])[0]
        if mode not in ABLATION_MODES:
            raise ValueError(f"Unknown ablation mode '{mode}' (choose from "
                             f"{', '.join(ABLATION_MODES)})")
        if modality not in self.modalities or (
                modality != 'structure'
                and modality not in self.feature_modalities):
            raise ValueError(f"'{self.__class__.__name__}' does not use the "
                             f"modality '{modality}' (it uses "
                             f"{', '.join(self.active_modalities)})")
        previous = self._ablation.get(modality)
        self._ablation[modality] = (mode, int(seed))
        try:
            yield self
        finally:
            if previous is None:
                self._ablation.pop(modality, None)
            else:
                self._ablation[modality] = previous

    @property
    def active_modalities(self) -> Tuple[str, ...]:
        r"""The modalities the model actually uses."""
        out = ('structure', ) if self.use_structure else ()
        return out + self.feature_modalities

    # Relational encoder #####################################################

    def refine(self, ent: Tensor, rel: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Runs the relational encoder (if any) on entity representations
        :obj:`ent` [N, D]; relation representations :obj:`rel` are given to
        (and updated by) encoders that take one row per edge type."""
        if self.encoder is None:
            return ent, rel
        num_types = getattr(self.encoder, 'num_relations', None)
        give_rel = num_types == rel.size(0)
        out, new_rel = self.encoder(ent, rel=rel if give_rel else None)
        if give_rel and new_rel is not None and new_rel.shape == rel.shape:
            rel = new_rel
        return out, rel

    def _extra_repr_args(self) -> str:
        out = f"modalities={list(self.active_modalities)}"
        if self.reciprocal:
            out += ', reciprocal=True'
        if self.encoder is not None:
            out += f', encoder={self.encoder.__class__.__name__}'
        return out


def modality_ablation(
    model: MultimodalKGEModel,
    head_index: Tensor,
    rel_type: Tensor,
    tail_index: Tensor,
    filter_index: Any = None,
    modalities: Optional[Sequence[str]] = None,
    modes: Sequence[str] = ('shuffle', ),
    **kwargs: Any,
) -> Dict[str, Any]:
    r"""Evaluates :obj:`model` as is and with each modality ablated, and
    returns :obj:`{'full': result, 'text/shuffle': result, ...}` (results of
    :func:`pyg_mmkg.evaluation.evaluate`, to which :obj:`kwargs` go)."""
    from pyg_mmkg.evaluation import evaluate
    if modalities is None:
        modalities = model.active_modalities
    out = {'full': evaluate(model, head_index, rel_type, tail_index,
                            filter_index=filter_index, **kwargs)}
    for m in modalities:
        for mode in modes:
            with model.ablate(m, mode):
                out[f'{m}/{mode}'] = evaluate(model, head_index, rel_type,
                                              tail_index,
                                              filter_index=filter_index,
                                              **kwargs)
    return out


def check_positive(name: str, value: Union[int, float]) -> None:
    if value <= 0:
        raise ValueError(f"'{name}' must be positive (got {value})")
