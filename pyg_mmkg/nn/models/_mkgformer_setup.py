r"""Building the towers and the tokenizer of
:class:`~pyg_mmkg.nn.models.MKGformer` from local :mod:`transformers`
checkpoints or configurations (nothing is downloaded)."""
import os.path as osp
from typing import Any, Optional


def _quiet():
    from transformers.utils import logging
    logging.set_verbosity_error()


def load_tokenizer(tokenizer: Any, text_encoder: Any):
    r"""A fresh tokenizer: :obj:`tokenizer` (object or directory), else the
    :obj:`text_encoder` directory, else the offline MiniLM tokenizer.

    Args:
        tokenizer: Tokenizer or directory, or :obj:`None`.
        text_encoder: Checkpoint directory or configuration, or :obj:`None`.
    """
    import copy

    from transformers import AutoTokenizer
    _quiet()
    if tokenizer is not None and not isinstance(tokenizer, str):
        return copy.deepcopy(tokenizer)  # new tokens are added to it
    path = tokenizer
    if path is None and isinstance(text_encoder, str):
        path = text_encoder
    if path is None:
        from pyg_mmkg.features import minilm_path
        path = minilm_path()
    if not osp.isdir(path):
        raise ValueError(f"'{path}' is not a local tokenizer directory")
    return AutoTokenizer.from_pretrained(path)


def _dropout_kwargs(dropout: Optional[float]) -> dict:
    if dropout is None:
        return {}
    return dict(hidden_dropout_prob=dropout,
                attention_probs_dropout_prob=dropout)


def build_text(text_encoder: Any, tokenizer: Any, hidden_channels: int,
               num_layers: int, dropout: Optional[float]):
    r"""A :class:`transformers.BertForMaskedLM`: from a local checkpoint
    directory (a :obj:`BertModel` checkpoint gets a new MLM head), from a
    configuration (random weights), or a tiny random one.

    Args:
        text_encoder: Directory, :class:`transformers.BertConfig` or
            :obj:`None`.
        tokenizer: The tokenizer (for the vocabulary size).
        hidden_channels (int): Width of the tiny default.
        num_layers (int): Layers of the tiny default.
        dropout (float, optional): Overrides the dropout rates.
    """
    from transformers import BertConfig, BertForMaskedLM
    _quiet()
    if isinstance(text_encoder, str):
        if not osp.isdir(text_encoder):
            raise ValueError(f"'{text_encoder}' is not a local checkpoint "
                             f"directory (nothing is downloaded)")
        return BertForMaskedLM.from_pretrained(text_encoder,
                                               **_dropout_kwargs(dropout))
    if text_encoder is None:
        heads = 2 if hidden_channels % 2 == 0 else 1
        text_encoder = BertConfig(
            vocab_size=len(tokenizer), hidden_size=hidden_channels,
            num_hidden_layers=num_layers, num_attention_heads=heads,
            intermediate_size=4 * hidden_channels,
            max_position_embeddings=512)
    config = text_encoder.__class__.from_dict(
        {**text_encoder.to_dict(), **_dropout_kwargs(dropout)})
    return BertForMaskedLM(config)


def build_vision(vision: Any, text_config: Any, dropout: Optional[float]):
    r"""A :class:`transformers.CLIPVisionModel` (or :obj:`None`): from a
    local directory, a :class:`~transformers.CLIPVisionConfig` or a dict
    of its fields. Its class and position embeddings and its
    post-layer-norm, unused by MKGformer, are frozen.

    Args:
        vision: Directory, configuration, dict or :obj:`None`.
        text_config: The text tower's configuration (width and heads must
            match).
        dropout (float, optional): Overrides the attention dropout.
    """
    if vision is None:
        return None
    from transformers import CLIPVisionConfig, CLIPVisionModel
    _quiet()
    kw = {} if dropout is None else dict(attention_dropout=dropout)
    if isinstance(vision, str):
        model = CLIPVisionModel.from_pretrained(vision, **kw)
    else:
        if isinstance(vision, dict):
            vision = CLIPVisionConfig(**vision)
        model = CLIPVisionModel(CLIPVisionConfig.from_dict(
            {**vision.to_dict(), **kw}))
    cfg = model.config
    if (cfg.hidden_size != text_config.hidden_size
            or cfg.num_attention_heads != text_config.num_attention_heads):
        raise ValueError('The vision and text towers need the same width '
                         'and number of heads (PGI and CAF mix them)')
    tower = getattr(model, 'vision_model', model)
    for p in (tower.embeddings.class_embedding,
              *tower.embeddings.position_embedding.parameters(),
              *tower.post_layernorm.parameters()):
        p.requires_grad_(False)
    return model
