from collections.abc import Mapping
from typing import Any, Dict, Optional, Sequence

from pyg_mmkg.features.base import FeatureEncoder
from pyg_mmkg.features.pipeline import encode_images, encode_texts


def _num_nodes(data: Any, node_type: str) -> int:
    store = data[node_type]
    num_nodes = getattr(store, 'num_nodes', None)
    if num_nodes is None:
        raise ValueError(f"'data[\"{node_type}\"].num_nodes' is not set")
    return int(num_nodes)


def _by_name(data: Any, node_type: str, values: Any, what: str) -> Any:
    r"""A dict name -> value becomes a list in id order (an error if no key
    is a name, a warning with counts if some are not); a sequence is kept.
    Without this, a dict's keys (the names) were encoded as the texts."""
    if not isinstance(values, Mapping):
        return values
    from pyg_mmkg.utils.align import align_keys
    names = getattr(data[node_type], 'name', None)
    if names is None:
        raise ValueError(f"'{what}' is a dict but data['{node_type}'].name "
                         f"is not set; pass a list in id order")
    out = [None] * len(names)
    keys = list(values.keys())
    for key, pos in zip(keys, align_keys(keys, names, node_type,
                                         f"'{what}'")):
        if pos >= 0:
            out[pos] = values[key]
    return out


def _check_len(values: Sequence[Any], num_nodes: int, what: str) -> None:
    if len(values) != num_nodes:
        raise ValueError(f"'{what}' has {len(values)} entries but the graph "
                         f"has {num_nodes}")


def attach_features(
    data: Any,
    text_encoder: Optional[FeatureEncoder] = None,
    image_encoder: Optional[FeatureEncoder] = None,
    entity_texts: Optional[Sequence[Optional[str]]] = None,
    entity_images: Optional[Sequence[Any]] = None,
    relation_texts: Optional[Sequence[Optional[str]]] = None,
    relation_images: Optional[Sequence[Any]] = None,
    cache_dir: Optional[str] = None,
    batch_size: int = 32,
    max_images: int = 1,
    selection: str = 'first',
    num_workers: int = 0,
    progress: bool = True,
) -> Any:
    r"""Encodes raw texts and images and stores the features in a
    :class:`~torch_geometric.data.HeteroData` knowledge graph, in place.

    For :obj:`node_type` in :obj:`'entity'` and :obj:`'relation'` it sets

    * :obj:`x_text` [N, D_t] and :obj:`has_text` [N] (a :obj:`None` or blank
      text gives a zero row and :obj:`has_text=False`),
    * :obj:`x_image` [N, K, D_v], :obj:`image_mask` [N, K] and
      :obj:`has_image` [N],

    and records, for each feature, the encoder identity in
    :obj:`data.feature_encoders` (e.g. :obj:`{'entity.x_text':
    'hf-mean:all-MiniLM-L6-v2:last'}`) and its dimension in
    :obj:`data.feature_dims`.

    .. code-block:: python

        text_enc = HFTextEncoder(minilm_path())
        attach_features(data, text_encoder=text_enc,
                        entity_texts=data['entity'].text,
                        cache_dir=default_cache_dir())

    Args:
        data (HeteroData): The graph, with :obj:`data['entity'].num_nodes`
            (and :obj:`data['relation'].num_nodes` for relation features).
        text_encoder (FeatureEncoder, optional): Encodes all texts.
        image_encoder (FeatureEncoder, optional): Encodes all images.
        entity_texts (list[str or None], optional): One text per entity.
            (default: :obj:`None` = :obj:`data['entity'].text` if present
            and a text encoder is given)
        entity_images (list, optional): Per entity :obj:`None`, an image or a
            list of images (file paths, bytes or PIL images). Texts and
            images may also be a dict name -> value, matched to
            :obj:`data[node_type].name` (no key matching: an error; some
            keys unmatched: a :class:`~pyg_mmkg.utils.align.FeatureMatchWarning`
            with counts).
        relation_texts (list[str or None], optional): One text per relation.
            (default: :obj:`None` = :obj:`data['relation'].text` if present
            and a text encoder is given)
        relation_images (list, optional): Per relation, as
            :obj:`entity_images`.
        cache_dir (str, optional): Feature cache folder (see
            :func:`~pyg_mmkg.features.default_cache_dir`).
            (default: :obj:`None` = no cache)
        batch_size (int, optional): Inputs per forward pass.
            (default: :obj:`32`)
        max_images (int, optional): :obj:`K`, image slots per item.
            (default: :obj:`1`)
        selection (str, optional): :obj:`'first'`, :obj:`'vista'` or
            :obj:`'phash'`, see :func:`~pyg_mmkg.features.encode_images`. (default:
            :obj:`'first'`)
        num_workers (int, optional): Image decoding workers.
            (default: :obj:`0`)
        progress (bool, optional): Show progress bars. (default: :obj:`True`)

    Returns:
        The same :obj:`data` object.
    """
    texts = {'entity': entity_texts, 'relation': relation_texts}
    images = {'entity': entity_images, 'relation': relation_images}
    if text_encoder is not None:
        for node_type in texts:
            if texts[node_type] is None and node_type in data.node_types:
                texts[node_type] = getattr(data[node_type], 'text', None)

    encoders: Dict[str, str] = dict(getattr(data, 'feature_encoders', None)
                                    or {})
    dims: Dict[str, int] = dict(getattr(data, 'feature_dims', None) or {})

    for node_type in ('entity', 'relation'):
        texts[node_type] = _by_name(data, node_type, texts[node_type],
                                    f'{node_type}_texts')
        images[node_type] = _by_name(data, node_type, images[node_type],
                                     f'{node_type}_images')
        if texts[node_type] is not None:
            if text_encoder is None:
                raise ValueError(f"'{node_type}' texts were given but no "
                                 f"'text_encoder'")
            num_nodes = _num_nodes(data, node_type)
            _check_len(texts[node_type], num_nodes, f'{node_type}_texts')
            out = encode_texts(text_encoder, texts[node_type], batch_size,
                               cache_dir, progress, desc=f'{node_type} texts')
            store = data[node_type]
            store.x_text, store.has_text = out.x, out.has_text
            encoders[f'{node_type}.x_text'] = text_encoder.identity
            dims[f'{node_type}.x_text'] = int(out.x.size(-1))

        if images[node_type] is not None:
            if image_encoder is None:
                raise ValueError(f"'{node_type}' images were given but no "
                                 f"'image_encoder'")
            num_nodes = _num_nodes(data, node_type)
            _check_len(images[node_type], num_nodes, f'{node_type}_images')
            out = encode_images(image_encoder, images[node_type], max_images,
                                selection, batch_size, cache_dir,
                                num_workers, progress,
                                desc=f'{node_type} images')
            store = data[node_type]
            store.x_image, store.image_mask = out.x, out.mask
            store.has_image = out.has_image
            # Files listed for the previous slots no longer match them.
            if 'image_files' in store:
                del store.image_files
            encoders[f'{node_type}.x_image'] = image_encoder.identity
            dims[f'{node_type}.x_image'] = int(out.x.size(-1))

    data.feature_encoders = encoders
    data.feature_dims = dims
    return data
