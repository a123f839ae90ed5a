r"""Private helpers of :mod:`pyg_mmkg.predict`: name lookup, the chunked
running top-:math:`k` and the result object."""
import difflib
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor


def as_index(values: Any, lookup: Dict[str, int], names: Sequence[str],
             kind: str) -> Tensor:
    r"""Converts names or ids to a 1-D long tensor of ids, with an error
    that names the closest known names.

    Args:
        values: A name, an id, a sequence of them or a tensor of ids.
        lookup (dict): Name to id.
        names (Sequence[str]): The names by id.
        kind (str): :obj:`"entity"` or :obj:`"relation"` (for messages).
    """
    count = len(names)
    if isinstance(values, Tensor):
        out = values.view(-1).long()
    else:
        if isinstance(values, (str, int)):
            values = [values]
        ids = []
        for value in values:
            if isinstance(value, str):
                if value in lookup:
                    ids.append(lookup[value])
                    continue
                if value.strip().isdigit() and int(value) < count:
                    ids.append(int(value))  # A numeric id on the CLI.
                    continue
                close = difflib.get_close_matches(value, list(lookup), n=5)
                hint = (f"; did you mean {', '.join(map(repr, close))}?"
                        if close else '')
                raise ValueError(f"Unknown {kind} '{value}' (the graph has "
                                 f"{count} {kind} names){hint}")
            ids.append(int(value))
        out = torch.tensor(ids, dtype=torch.long)
    if out.numel() == 0:
        raise ValueError(f'No {kind} given')
    if int(out.min()) < 0 or int(out.max()) >= count:
        raise ValueError(f'{kind} ids must lie in [0, {count - 1}] (got '
                         f'[{int(out.min())}, {int(out.max())}])')
    return out


def triples_budget(predictor: Any) -> int:
    r"""How many triples one :obj:`model(h, r, t)` call may score within
    :obj:`predictor.max_bytes` (gathered embeddings and intermediates)."""
    dim = int(getattr(predictor.model, 'hidden_channels', 256) or 256)
    return max(1, predictor.max_bytes // (dim * 4 * 16))


def running_topk(score: Callable[[Tensor, Tensor], Tensor], num_queries: int,
                 num_candidates: int, k: int,
                 triples_per_call: Optional[int], device: torch.device,
                 row_bytes: Optional[int] = None,
                 max_bytes: Optional[int] = None) -> Tuple[Tensor, Tensor]:
    r"""The :obj:`k` best candidates of each query, scored chunk by chunk.

    :obj:`score(q, cand)` returns the scores :obj:`[len(q), len(cand)]` of
    the queries :obj:`q` against the candidates :obj:`cand` (a contiguous
    range). With :obj:`triples_per_call=None`, every call gets all
    candidates and :obj:`max_bytes // row_bytes` queries; otherwise a call
    scores at most :obj:`triples_per_call` query-candidate pairs, and the
    best :obj:`k` are merged across candidate chunks.

    Args:
        score (callable): The scoring function.
        num_queries (int): The number of queries.
        num_candidates (int): The number of candidates.
        k (int): The number of answers per query.
        triples_per_call (int, optional): Pairs per call.
        device (torch.device): Where the indices live.
        row_bytes (int, optional): Bytes per query of a full row.
        max_bytes (int, optional): The byte budget of a call.

    Returns:
        :obj:`(ids [Q, k], scores [Q, k])` on the CPU, best first.
    """
    if triples_per_call is None:
        cand_chunk = num_candidates
        query_chunk = max(1, int(max_bytes) // max(int(row_bytes), 1))
    else:
        cand_chunk = max(1, min(num_candidates, triples_per_call))
        query_chunk = max(1, triples_per_call // cand_chunk)
    all_ids, all_scores = [], []
    for q0 in range(0, num_queries, query_chunk):  # Chunks, not queries.
        q = torch.arange(q0, min(q0 + query_chunk, num_queries),
                         device=device)
        best_s: Optional[Tensor] = None
        best_i: Optional[Tensor] = None
        for c0 in range(0, num_candidates, cand_chunk):
            cand = torch.arange(c0, min(c0 + cand_chunk, num_candidates),
                                device=device)
            s = score(q, cand)
            if s.shape != (q.numel(), cand.numel()):
                raise ValueError(f'Expected scores of shape '
                                 f'[{q.numel()}, {cand.numel()}] from the '
                                 f'model (got {tuple(s.shape)})')
            if bool(torch.isnan(s).any()):
                raise ValueError('The model returned NaN scores; the '
                                 'ranking is undefined (diverged training '
                                 'or invalid features?)')
            top_s, top_i = s.topk(min(k, cand.numel()), dim=1)
            top_i = cand[top_i]
            if best_s is not None:
                top_s = torch.cat([best_s, top_s.to(best_s.dtype)], dim=1)
                top_i = torch.cat([best_i, top_i], dim=1)
                top_s, pos = top_s.topk(min(k, top_s.size(1)), dim=1)
                top_i = top_i.gather(1, pos)
            best_s, best_i = top_s, top_i
            del s
        all_ids.append(best_i.cpu())
        all_scores.append(best_s.cpu())
    return torch.cat(all_ids), torch.cat(all_scores)


class Predictions:
    r"""The answers of a batch of link prediction queries, best first.

    Attributes:
        target (str): What was predicted: :obj:`"tail"`, :obj:`"head"` or
            :obj:`"relation"`.
        ids (torch.Tensor): The predicted ids :obj:`[Q, k]`.
        scores (torch.Tensor): Their scores :obj:`[Q, k]`.
        known (torch.Tensor): :obj:`[Q, k]`, whether the predicted triple is
            a known (train/val/test) triple.
        filtered (bool): Whether known triples were left out. Where fewer
            than :obj:`k` unknown candidates exist, the rows are padded with
            known ones (score :obj:`-inf`), which :meth:`rows` drops.

    Args:
        target (str): See above.
        query (tuple): :obj:`(head, relation, tail)` id tensors, :obj:`None`
            for the predicted part.
        ids (torch.Tensor): See above.
        scores (torch.Tensor): See above.
        known (torch.Tensor): See above.
        filtered (bool): See above.
        predictor (Predictor): Supplies the names.
    """
    def __init__(self, target: str, query: Tuple[Any, Any, Any], ids: Tensor,
                 scores: Tensor, known: Tensor, filtered: bool,
                 predictor: Any):
        self.target = target
        self.ids, self.scores = ids, scores
        self.known = known.cpu()
        self.filtered = bool(filtered)
        ent, rel = predictor.entity_names, predictor.relation_names
        parts = []
        for part, names in zip(query, (ent, rel, ent)):
            parts.append(None if part is None else
                         [names[i] for i in part.view(-1).tolist()])
        self.query: List[Tuple[Optional[str], ...]] = [
            tuple(None if p is None else p[i] for p in parts)
            for i in range(ids.size(0))
        ]
        table = rel if target == 'relation' else ent
        self.names: List[List[str]] = [[table[i] for i in row]
                                       for row in ids.tolist()]

    def __len__(self) -> int:
        return self.ids.size(0)

    def rows(self) -> List[Dict[str, Any]]:
        r"""One dictionary per answer: :obj:`query` (its position),
        :obj:`head`, :obj:`relation`, :obj:`tail`, :obj:`rank`,
        :obj:`id`, :obj:`score` and :obj:`known`."""
        out = []
        slot = {'head': 0, 'relation': 1, 'tail': 2}[self.target]
        ids, scores = self.ids.tolist(), self.scores.tolist()
        known = self.known.tolist()
        for q, query in enumerate(self.query):
            for j, name in enumerate(self.names[q]):
                if self.filtered and known[q][j]:
                    continue  # Padding: fewer unknown answers than k.
                triple = list(query)
                triple[slot] = name
                out.append({'query': q, 'head': triple[0],
                            'relation': triple[1], 'tail': triple[2],
                            'rank': j + 1, 'id': ids[q][j],
                            'score': scores[q][j], 'known': known[q][j]})
        return out

    def __str__(self) -> str:
        lines = []
        for q, query in enumerate(self.query):
            shown = ['?' if p is None else p for p in query]
            lines.append(f"({', '.join(shown)})" + (
                ' filtered' if self.filtered else ''))
            rows = [r for r in self.rows() if r['query'] == q]
            width = max([len(r[self.target]) for r in rows] + [4])
            for r in rows:
                lines.append(f"  {r['rank']:>3}  {r[self.target]:<{width}}  "
                             f"{r['score']:>10.4f}"
                             + ('  known' if r['known'] else ''))
        return '\n'.join(lines)

    def __repr__(self) -> str:
        return (f'Predictions(target={self.target!r}, queries={len(self)}, '
                f'k={self.ids.size(1)}, filtered={self.filtered})')
