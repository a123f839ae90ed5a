r"""Raw images and texts to feature tensors: open_clip, transformers and timm
encoders, batched and cached, and :func:`attach_features` to put them into a
knowledge graph. Optional dependencies are imported only when an encoder is
built."""

from pyg_mmkg._lazy import lazy_exports

# Imported on first use (see pyg_mmkg._lazy).
_EXPORTS = {
    'slugify': 'pyg_mmkg.features._utils',
    'FeatureEncoder': 'pyg_mmkg.features.base',
    'OpenCLIPEncoder': 'pyg_mmkg.features.open_clip_encoder',
    'HFTextEncoder': 'pyg_mmkg.features.hf',
    'HFImageEncoder': 'pyg_mmkg.features.hf',
    'minilm_path': 'pyg_mmkg.features.hf',
    'TimmImageEncoder': 'pyg_mmkg.features.timm_encoder',
    'default_cache_dir': 'pyg_mmkg.features.cache',
    'save_atomic': 'pyg_mmkg.features.cache',
    'find_images': 'pyg_mmkg.features.images',
    'load_image': 'pyg_mmkg.features.images',
    'TextFeatures': 'pyg_mmkg.features.pipeline',
    'ImageFeatures': 'pyg_mmkg.features.pipeline',
    'encode_texts': 'pyg_mmkg.features.pipeline',
    'encode_images': 'pyg_mmkg.features.pipeline',
    'vista_scores': 'pyg_mmkg.features.selection',
    'perceptual_hash': 'pyg_mmkg.features.selection',
    'phash_order': 'pyg_mmkg.features.selection',
    'phash_scores': 'pyg_mmkg.features.selection',
    'phash_slots': 'pyg_mmkg.features.selection',
    'attach_features': 'pyg_mmkg.features.attach',
    'load_encoder': 'pyg_mmkg.features.resolve',
    'save_feature_table': 'pyg_mmkg.features.storage',
    'load_feature_table': 'pyg_mmkg.features.storage',
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    'save_feature_table',
    'load_feature_table',
    'FeatureEncoder',
    'OpenCLIPEncoder',
    'HFTextEncoder',
    'HFImageEncoder',
    'TimmImageEncoder',
    'minilm_path',
    'encode_texts',
    'encode_images',
    'TextFeatures',
    'ImageFeatures',
    'vista_scores',
    'perceptual_hash',
    'phash_scores',
    'phash_order',
    'phash_slots',
    'attach_features',
    'load_encoder',
    'find_images',
    'load_image',
    'default_cache_dir',
    'save_atomic',
    'slugify',
]
