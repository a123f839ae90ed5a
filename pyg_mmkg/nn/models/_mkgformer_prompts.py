r"""Token prompts of :class:`~pyg_mmkg.nn.models.MKGformer`, assembled on
tensors (no Python loop over queries).

Entity :math:`i` is the token :math:`V + i` and relation :math:`j` the token
:math:`V + N + j` of the resized vocabulary (:math:`V` words, :math:`N`
entities), as the official processor does. The prompts are those of the
official ``MKG/data/processor.py`` (after the data fix of commit
:obj:`9614c05`), where the description is always the *known* entity's:

* head query :math:`(?, r, t)`: ``[CLS] [MASK] [SEP] text(r) [REL_r] [SEP]
  [ENT_t] desc(t) [SEP]``;
* tail query :math:`(h, r, ?)`: ``[CLS] [ENT_h] [SEP] text(r) [REL_r] [SEP]
  [MASK] desc(h) [SEP]``;
* entity modeling (stage 1): ``[CLS] [MASK] [SEP] desc(e) [SEP]``.

Token types are 0 up to the middle ``[SEP]`` and 1 after it (a BERT sentence
pair, as the official tokenizer call builds).
"""
from typing import List, Sequence, Tuple

import torch
from torch import Tensor


def pad_ids(seqs: Sequence[Sequence[int]], max_len: int) -> Tuple[Tensor,
                                                                   Tensor]:
    r"""Pads token id lists (truncated to :obj:`max_len`) into
    :obj:`[n, max_len]` ids and a boolean validity mask.

    Args:
        seqs (list of list of int): Token ids.
        max_len (int): Width.
    """
    ids = torch.zeros(len(seqs), max(max_len, 1), dtype=torch.long)
    valid = torch.zeros(len(seqs), max(max_len, 1), dtype=torch.bool)
    for i, s in enumerate(seqs):  # once, at construction
        s = list(s)[:max_len]
        ids[i, :len(s)] = torch.tensor(s, dtype=torch.long)
        valid[i, :len(s)] = True
    return ids, valid


def tokenize(tokenizer, texts: Sequence[str]) -> List[List[int]]:
    r"""Word-piece ids of :obj:`texts` without special tokens.

    Args:
        tokenizer: A :mod:`transformers` tokenizer.
        texts (list of str): The texts.
    """
    out = tokenizer(list(texts), add_special_tokens=False)['input_ids']
    return [list(x) for x in out]


def assemble(pieces: Sequence[Tuple[Tensor, Tensor, int]]
             ) -> Tuple[Tensor, Tensor, Tensor]:
    r"""Concatenates padded pieces :obj:`(ids [B, w], valid [B, w],
    token_type)`, moves the valid tokens of every row to the front (stable)
    and trims the common padding. Returns :obj:`input_ids`,
    :obj:`attention_mask` and :obj:`token_type_ids`, all :obj:`[B, L]`.

    Args:
        pieces (list): The pieces, in order.
    """
    ids = torch.cat([p[0] for p in pieces], dim=1)
    valid = torch.cat([p[1] for p in pieces], dim=1)
    types = torch.cat([torch.full_like(p[0], p[2]) for p in pieces], dim=1)
    order = torch.sort((~valid).to(torch.uint8), dim=1, stable=True)[1]
    ids, valid, types = (x.gather(1, order) for x in (ids, valid, types))
    length = int(valid.sum(1).max())
    ids = torch.where(valid, ids, torch.zeros_like(ids))[:, :length]
    types = torch.where(valid, types, torch.zeros_like(types))[:, :length]
    return ids, valid[:, :length].long(), types


def _one(x: Tensor) -> Tuple[Tensor, Tensor]:
    x = x.view(-1, 1)
    return x, torch.ones_like(x, dtype=torch.bool)


def link_prompts(known: Tensor, rel: Tensor, head_query: Tensor,
                 desc: Tuple[Tensor, Tensor], rel_text: Tuple[Tensor, Tensor],
                 special: dict, vocab: int,
                 num_nodes: int) -> Tuple[Tensor, Tensor, Tensor]:
    r"""The link prediction prompts of a batch of queries.

    Args:
        known (torch.Tensor): The known entity of each query :obj:`[B]`.
        rel (torch.Tensor): The relation :obj:`[B]` in :math:`[0, R)`.
        head_query (torch.Tensor): :obj:`[B]` bool, :obj:`True` for
            :math:`(?, r, known)`, :obj:`False` for :math:`(known, r, ?)`.
        desc ((torch.Tensor, torch.Tensor)): Entity description ids and
            validity :obj:`[N, W_e]`.
        rel_text ((torch.Tensor, torch.Tensor)): Relation text ids and
            validity :obj:`[R, W_r]`.
        special (dict): Ids of :obj:`cls`, :obj:`sep`, :obj:`mask`.
        vocab (int): :math:`V`, the id of the first entity token.
        num_nodes (int): :math:`N`.
    """
    mask = torch.full_like(known, special['mask'])
    ent = known + vocab
    first = torch.where(head_query, mask, ent)
    second = torch.where(head_query, ent, mask)
    cls = torch.full_like(known, special['cls'])
    sep = torch.full_like(known, special['sep'])
    return assemble([
        (*_one(cls), 0), (*_one(first), 0), (*_one(sep), 0),
        (rel_text[0][rel], rel_text[1][rel], 0),
        (*_one(rel + vocab + num_nodes), 0), (*_one(sep), 0),
        (*_one(second), 1), (desc[0][known], desc[1][known], 1),
        (*_one(sep), 1),
    ])


def entity_prompts(entity: Tensor, desc: Tuple[Tensor, Tensor],
                   special: dict) -> Tuple[Tensor, Tensor, Tensor]:
    r"""The stage-1 prompts ``[CLS] [MASK] [SEP] desc(e) [SEP]``.

    Args:
        entity (torch.Tensor): Entities :obj:`[B]`.
        desc ((torch.Tensor, torch.Tensor)): Description ids and validity.
        special (dict): Ids of :obj:`cls`, :obj:`sep`, :obj:`mask`.
    """
    full = {k: torch.full_like(entity, v) for k, v in special.items()}
    return assemble([
        (*_one(full['cls']), 0), (*_one(full['mask']), 0),
        (*_one(full['sep']), 0), (desc[0][entity], desc[1][entity], 1),
        (*_one(full['sep']), 1),
    ])
