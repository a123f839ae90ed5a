r"""Raw images and texts to feature tensors: open_clip, transformers and timm
encoders, batched and cached, and :func:`attach_features` to put them into a
knowledge graph. Optional dependencies are imported only when an encoder is
built."""
from pyg_mmkg.features._utils import slugify
from pyg_mmkg.features.base import FeatureEncoder
from pyg_mmkg.features.open_clip_encoder import OpenCLIPEncoder
from pyg_mmkg.features.hf import HFTextEncoder, HFImageEncoder, minilm_path
from pyg_mmkg.features.timm_encoder import TimmImageEncoder
from pyg_mmkg.features.cache import default_cache_dir, save_atomic
from pyg_mmkg.features.images import find_images, load_image
from pyg_mmkg.features.pipeline import (
    TextFeatures,
    ImageFeatures,
    encode_texts,
    encode_images,
    vista_scores,
)
from pyg_mmkg.features.selection import (perceptual_hash, phash_order,
                                         phash_scores)
from pyg_mmkg.features.attach import attach_features
from pyg_mmkg.features.resolve import load_encoder

__all__ = [
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
    'attach_features',
    'load_encoder',
    'find_images',
    'load_image',
    'default_cache_dir',
    'save_atomic',
    'slugify',
]
