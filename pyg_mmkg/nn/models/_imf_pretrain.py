r"""Optional structural pre-training of :class:`~pyg_mmkg.nn.models.IMF`
(the official stage 0) through the library's relational encoders.

The official code (HestiaSky/IMF-Pytorch@df883e4, :obj:`main.py`
:obj:`train_encoder` and :obj:`models/model.py` :obj:`GAT`) trains a
KBGAT-style sparse graph attention encoder full-batch on the training graph
with a TransE margin loss (L1 distance, margin 1, two corrupted triples per
positive, Adam with learning rate 5e-4 and weight decay 1e-5, 3000 epochs);
with :obj:`pre_trained=1` its entity outputs initialise the structural
entity table :math:`E_s` and its relation outputs the first half of the
structural relation table :math:`R_s`, whose reciprocal half is the negated
vectors. :obj:`main` has the call of :obj:`train_encoder` commented out, so
the published runs do not use it; as released, the stage cannot run for
IMF either: :obj:`main` builds IMF's :obj:`ConvECorpus`, whose batches are
:math:`(h, r, -1)` 1-N queries without negatives (the corrupted triples come
from :obj:`ConvKBCorpus`), and the two-head entity output has 512 columns
for IMF's 256-d tables.

:func:`pretrain_structure` runs the same stage with an R-GCN or CompGCN
encoder of :mod:`pyg_mmkg.nn.encoders` (see its note for every deviation).
"""
import time
from typing import Any, Dict, Optional, Tuple

import torch
from torch import Tensor

_SOURCE = 'HestiaSky/IMF-Pytorch@df883e4'

#: The official stage-0 settings (:obj:`main.py` :obj:`config_args` and
#: :obj:`train_encoder`, :obj:`GAT.loss_func`).
OFFICIAL = dict(epochs=3000, lr=5e-4, margin=1.0, num_negatives=2,
                weight_decay=1e-5)

ENCODERS = ('rgcn', 'compgcn')
INVERSE = ('negate', 'encoder')


def check_encoder_name(encoder: Any) -> None:
    r"""Raises a :class:`ValueError` unless :obj:`encoder` is
    :obj:`"rgcn"`, :obj:`"compgcn"` or a
    :class:`~pyg_mmkg.nn.encoders.RelationalEncoder`.

    Args:
        encoder (Any): The encoder or its name.
    """
    from pyg_mmkg.nn.encoders import RelationalEncoder
    if isinstance(encoder, RelationalEncoder):
        return
    if not isinstance(encoder, str) or encoder.lower() not in ENCODERS:
        raise ValueError(f"Unknown structural pre-training encoder "
                         f"{encoder!r} (choose from {', '.join(ENCODERS)} or "
                         f"pass a RelationalEncoder; the official KBGAT is "
                         f"not implemented)")


def transe_margin_loss(ent: Tensor, rel: Tensor, head_index: Tensor,
                       rel_type: Tensor, tail_index: Tensor, neg_head: Tensor,
                       neg_tail: Tensor, margin: float = 1.0) -> Tensor:
    r"""The official stage-0 loss: the mean over all (positive, negative)
    pairs of :math:`\max(0, d(h, r, t) - d(h', r, t') + \gamma)` with the
    TransE distance :math:`d(h, r, t) = \|\mathbf{e}_h + \mathbf{r}_r -
    \mathbf{e}_t\|_1` (official :obj:`GAT.loss_func`, which calls
    :obj:`F.margin_ranking_loss` with target :math:`-1`).

    Args:
        ent (torch.Tensor): Entity representations :obj:`[N, d]`.
        rel (torch.Tensor): Relation representations :obj:`[R', d]`.
        head_index, rel_type, tail_index (torch.Tensor): Positives
            :obj:`[B]`.
        neg_head, neg_tail (torch.Tensor): Negatives :obj:`[B, k]`; the
            relation of negative :obj:`[i, j]` is :obj:`rel_type[i]`.
        margin (float, optional): :math:`\gamma`. (default: :obj:`1.0`)
    """
    r = rel[rel_type]
    pos = (ent[head_index] + r - ent[tail_index]).abs().sum(-1)
    neg = (ent[neg_head] + r.unsqueeze(1) - ent[neg_tail]).abs().sum(-1)
    return torch.relu(pos.unsqueeze(1) - neg + margin).mean()


def corrupt(index: Any, head_index: Tensor, rel_type: Tensor,
            tail_index: Tensor, num_negatives: int, num_nodes: int,
            generator: Optional[torch.Generator] = None
            ) -> Tuple[Tensor, Tensor]:
    r"""Official-style negatives :obj:`[B, k]`: the first :math:`\lfloor
    k/2 \rfloor` columns replace the head, the others the tail (the official
    :obj:`ConvKBCorpus.get_batch` makes :math:`k/2` of each), each drawn
    uniformly among the entities that do not form a triple of
    :obj:`index` (a :class:`~pyg_mmkg.utils.TripleIndex` of the *training*
    triples; the official sampler rejects train, validation and test
    triples), or uniformly among all entities if :obj:`index` is
    :obj:`None`. Vectorised: one draw per negative, no retries.

    Args:
        index (TripleIndex, optional): The triples a negative must avoid.
        head_index, rel_type, tail_index (torch.Tensor): Positives
            :obj:`[B]`.
        num_negatives (int): :math:`k`.
        num_nodes (int): The number of entities.
        generator (torch.Generator, optional): The random number generator.
            (default: :obj:`None`)
    """
    B, k = head_index.numel(), num_negatives
    k_head = k // 2
    shape = (B, k)
    h = head_index.view(-1, 1).expand(shape).clone()
    t = tail_index.view(-1, 1).expand(shape).clone()
    r = rel_type.view(-1, 1).expand(shape)
    side = torch.zeros(shape, dtype=torch.bool, device=h.device)
    side[:, :k_head] = True  # True: the head is replaced.
    if index is None:
        other = torch.randint(0, num_nodes, shape, generator=generator,
                              device=h.device)
    else:
        new_h, ok_h = index.sample_heads(r.reshape(-1), t.reshape(-1),
                                         generator)
        new_t, ok_t = index.sample_tails(h.reshape(-1), r.reshape(-1),
                                         generator)
        other = torch.where(side.reshape(-1), new_h, new_t)
        ok = torch.where(side.reshape(-1), ok_h, ok_t)
        if not bool(ok.all()):  # Every entity forms a training triple:
            fallback = torch.randint(0, num_nodes, other.shape,
                                     generator=generator, device=h.device)
            other = torch.where(ok, other, fallback)
        other = other.view(shape)
    return torch.where(side, other, h), torch.where(side, t, other)


class _Stage0(torch.nn.Module):
    # The trained parts: the encoder, its entity input table and the
    # relation table (the encoder's input for CompGCN, the TransE relation
    # vectors themselves for encoders that do not update relations).
    def __init__(self, encoder: torch.nn.Module, x: Tensor, rel: Tensor,
                 normalize: bool):
        super().__init__()
        self.encoder = encoder
        self.x = torch.nn.Parameter(x)
        self.rel = torch.nn.Parameter(rel)
        self.normalize = normalize

    def forward(self) -> Tuple[Tensor, Tensor]:
        x = torch.nn.functional.normalize(self.x, p=2, dim=-1)
        out, rel = self.encoder(x, rel=self.rel)
        if rel is None:  # R-GCN: relations are passed through (or absent).
            rel = self.rel
        if self.normalize:
            out = torch.nn.functional.normalize(out, p=2, dim=-1)
        return out, rel


def _tables(target: Any) -> Tuple[Tensor, Tensor]:
    if isinstance(target, (tuple, list)):
        if len(target) != 2:
            raise ValueError("Pass a model or the tables (entity [N, d], "
                             "relation [2R, d])")
        ent, rel = target
    else:
        if not (hasattr(target, 'node_emb') and hasattr(target, 'rel_emb')):
            raise ValueError(f"'{type(target).__name__}' has no structural "
                             f"tables 'node_emb' and 'rel_emb'")
        if getattr(target, 'use_structure', True) is False:
            raise ValueError("The model does not use the structure "
                             "modality: there is no structural table to "
                             "pre-train")
        ent, rel = target.node_emb.weight, target.rel_emb.weight
    if ent.dim() != 2 or rel.dim() != 2 or ent.size(1) != rel.size(1):
        raise ValueError(f"Expected an entity table [N, d] and a relation "
                         f"table [2R, d] (got {list(ent.shape)} and "
                         f"{list(rel.shape)})")
    return ent, rel


def pretrain_structure(
    target: Any,
    data: Any,
    encoder: Any = 'rgcn',
    epochs: int = OFFICIAL['epochs'],
    lr: float = OFFICIAL['lr'],
    margin: float = OFFICIAL['margin'],
    num_negatives: int = OFFICIAL['num_negatives'],
    weight_decay: float = OFFICIAL['weight_decay'],
    filtered: bool = True,
    normalize: bool = True,
    inverse: str = 'negate',
    encoder_kwargs: Optional[Dict[str, Any]] = None,
    seed: Optional[int] = None,
    log_every: int = 0,
) -> Dict[str, Any]:
    r"""IMF's optional structural pre-training (official stage 0) with a
    relational encoder of the library instead of the official KBGAT.

    The encoder runs full-batch over the graph of the *training* triples
    (with inverse edges, :func:`pyg_mmkg.data.train_graph`); every epoch
    is one Adam step on :func:`transe_margin_loss` over all training
    triples and :obj:`num_negatives` corruptions of each (:func:`corrupt`).
    Only :func:`pyg_mmkg.data.triples` of the :obj:`"train"` split is read:
    validation and test triples never reach it. After the last epoch, the
    encoder's entity outputs (evaluation mode) are copied into the entity
    table, its relation vectors :math:`\mathbf{r}_0, \ldots,
    \mathbf{r}_{R-1}` into the first :math:`R` rows of the relation table
    and :math:`-\mathbf{r}_0, \ldots` into the reciprocal rows (official
    convention; :obj:`inverse="encoder"` uses CompGCN's own inverse
    relation rows instead). The encoder is then discarded.

    The relation vectors of the TransE loss are, for CompGCN, its output
    relation representations (one linear map per layer of a learned input
    table of :math:`2R` rows, rows :math:`R \ldots 2R - 1` being the inverse
    edge types); for R-GCN, which does not update relations, a learned
    table of :math:`R` rows.

    .. note::
        Deviations from the official stage 0 (HestiaSky/IMF-Pytorch@df883e4):
        (1) R-GCN or CompGCN (:func:`~pyg_mmkg.nn.models.base.build_encoder`
        defaults: two R-GCN layers with two bases, ReLU in between; one
        CompGCN layer with :obj:`"sub"` composition and tanh) instead of the
        two-head KBGAT, whose attention ignores relation types and whose
        relation outputs are a linear map of a normalised free table (no
        message passing either); no KBGAT skip projection of the input
        entities (both library encoders have a self-loop weight). (2)
        Output size :math:`d` (the official entity output has
        :math:`d \times` heads :math:`= 512` columns, which does not fit
        IMF's 256-d table). (3) Negatives avoid *training* triples only
        (the official sampler also rejects validation and test triples, a
        leak) and are drawn exactly among the valid entities rather than by
        rejection; with odd :math:`k` the extra negative replaces a tail
        (the official code leaves that row a copy of the positive). (4) The
        entity input table is re-normalised by a differentiable
        :math:`L_2` normalisation in every forward pass (the official code
        overwrites the parameter with its normalised value each epoch), and
        starts from the model's current table rather than
        :math:`\mathcal{N}(0, 1)`; the relation inputs start from the
        model's relation table. (5) The copied outputs are computed once
        more after training in evaluation mode (the official checkpoint
        keeps the last training forward pass, with dropout); the library
        encoders have no dropout by default (KBGAT: 0.3). (6) The full
        batch is not shuffled (it has no effect on a full-batch step).

    Args:
        target (torch.nn.Module or tuple): An
            :class:`~pyg_mmkg.nn.models.IMF` (its :obj:`node_emb` and
            :obj:`rel_emb`), or a tuple :obj:`(entity [N, d], relation
            [2R, d])` of tensors written in place.
        data (HeteroData): The knowledge graph (:mod:`pyg_mmkg.data`
            contract); only its training triples are used.
        encoder (str or RelationalEncoder, optional): :obj:`"rgcn"`,
            :obj:`"compgcn"`, or an encoder built for :math:`2R` edge
            types with :math:`d` input and output channels (its stored
            graph is replaced by the training graph). (default:
            :obj:`"rgcn"`)
        epochs (int, optional): Full-batch steps. (default: :obj:`3000`,
            official)
        lr (float, optional): Adam learning rate. (default: :obj:`5e-4`,
            official)
        margin (float, optional): The margin :math:`\gamma`.
            (default: :obj:`1.0`, official)
        num_negatives (int, optional): Negatives per positive.
            (default: :obj:`2`, official)
        weight_decay (float, optional): Adam weight decay. (default:
            :obj:`1e-5`, official)
        filtered (bool, optional): Draw negatives among the corruptions that
            are no training triple. (default: :obj:`True`)
        normalize (bool, optional): :math:`L_2`-normalise the entity
            outputs, as the official encoder. (default: :obj:`True`)
        inverse (str, optional): The reciprocal relation rows:
            :obj:`"negate"` (official) or :obj:`"encoder"` (CompGCN's
            inverse edge type rows). (default: :obj:`"negate"`)
        encoder_kwargs (Dict[str, Any], optional): Further arguments of the
            encoder class (:func:`~pyg_mmkg.nn.models.base.build_encoder`).
            (default: :obj:`None`)
        seed (int, optional): If given, the stage runs with its own random
            state seeded with it, and the caller's random state is left as
            it was. (default: :obj:`None`)
        log_every (int, optional): Print the loss every that many epochs
            (:obj:`0`: never). (default: :obj:`0`)

    Returns:
        A dict with the encoder's name, :obj:`epochs`, the per-epoch
        :obj:`loss` list and :obj:`time_s`.
    """
    from pyg_mmkg.data import num_entities, num_relations
    check_encoder_name(encoder)
    if inverse not in INVERSE:
        raise ValueError(f"'inverse' must be one of {INVERSE} (got "
                         f"{inverse!r})")
    if epochs < 1 or num_negatives < 1:
        raise ValueError(f"'epochs' and 'num_negatives' must be >= 1 (got "
                         f"{epochs} and {num_negatives}): zero epochs would "
                         f"write an untrained encoder's outputs")
    ent_table, rel_table = _tables(target)
    N, R = num_entities(data), num_relations(data)
    if ent_table.size(0) != N or rel_table.size(0) != 2 * R:
        raise ValueError(f"The tables {list(ent_table.shape)} and "
                         f"{list(rel_table.shape)} do not fit the data ({N} "
                         f"entities, 2 x {R} relations)")
    device = ent_table.device
    devices = [device] if device.type == 'cuda' else []
    with torch.random.fork_rng(devices=devices, enabled=seed is not None):
        if seed is not None:
            torch.manual_seed(seed)
        return _run(ent_table, rel_table, data, encoder,
                    dict(encoder_kwargs or {}), epochs, lr, margin,
                    num_negatives, weight_decay, filtered, normalize,
                    inverse, log_every)


def _run(ent_table: Tensor, rel_table: Tensor, data: Any, encoder: Any,
         encoder_kwargs: Dict[str, Any], epochs: int, lr: float,
         margin: float, num_negatives: int, weight_decay: float,
         filtered: bool, normalize: bool, inverse: str,
         log_every: int) -> Dict[str, Any]:
    # The body of `pretrain_structure`, under its random state.
    from pyg_mmkg.data import triples
    from pyg_mmkg.nn.encoders import CompGCNEncoder, RelationalEncoder
    from pyg_mmkg.nn.models.base import build_encoder
    from pyg_mmkg.utils import TripleIndex
    N, R = ent_table.size(0), rel_table.size(0) // 2
    d, device = ent_table.size(1), ent_table.device
    name = encoder if isinstance(encoder, str) else type(encoder).__name__
    enc = build_encoder(encoder.lower() if isinstance(encoder, str) else
                        encoder, data, d, **encoder_kwargs)
    if isinstance(encoder, RelationalEncoder):  # The training graph only:
        edge_index, edge_type, _ = RelationalEncoder.train_graph(data)
        enc.set_graph(edge_index, edge_type)
    uses_rel = isinstance(enc, CompGCNEncoder)
    if inverse == 'encoder' and not uses_rel:
        raise ValueError(f"inverse='encoder' needs an encoder that updates "
                         f"the relations of the 2R edge types (CompGCN), "
                         f"not {name}")
    rel0 = rel_table.detach() if uses_rel else rel_table.detach()[:R]
    stage = _Stage0(enc, ent_table.detach().clone(), rel0.clone(),
                    normalize).to(device)
    h, r, t = (x.to(device) for x in triples(data, 'train'))
    index = TripleIndex(h, r, t, num_nodes=N, num_relations=R) if (
        filtered) else None
    optimizer = torch.optim.Adam(stage.parameters(), lr=lr,
                                 weight_decay=weight_decay)
    losses = []
    t0 = time.perf_counter()
    stage.train()
    for epoch in range(epochs):
        neg_h, neg_t = corrupt(index, h, r, t, num_negatives, N)
        optimizer.zero_grad()
        ent, rel = stage()
        loss = transe_margin_loss(ent, rel, h, r, t, neg_h, neg_t, margin)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        if log_every and (epoch + 1) % log_every == 0:
            print(f'structural pre-training ({name}) epoch {epoch + 1}/'
                  f'{epochs}: loss {losses[-1]:.4f}', flush=True)
    stage.eval()
    with torch.no_grad():
        ent, rel = stage()
        ent_table.copy_(ent)
        rel_table[:R].copy_(rel[:R])
        rel_table[R:].copy_(rel[R:2 * R] if inverse == 'encoder' else
                            -rel[:R])
    return {'encoder': name, 'epochs': epochs, 'loss': losses,
            'time_s': time.perf_counter() - t0}
