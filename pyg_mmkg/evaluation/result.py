from typing import Dict, Sequence, Tuple

import torch
from torch import Tensor
from torch_geometric.utils import scatter

from pyg_mmkg.evaluation.ranks import Ranks, rank_metrics

SIDES = ('head', 'tail', 'both')


class EvaluationResult(dict):
    r"""The result of :func:`~pyg_mmkg.evaluation.evaluate`: a :obj:`dict`
    with one entry per side (:obj:`'head'`, :obj:`'tail'` and :obj:`'both'`,
    the latter pooling the queries of all evaluated sides) and, on request,
    an entry :obj:`'per_relation'`.

    Each side entry is a :obj:`dict` holding

    * :obj:`'num_queries'`,
    * one :obj:`dict` of metrics per rank type, *e.g.*,
      :obj:`result['both']['pessimistic']['mrr']`,
    * the metrics of the first requested rank type (by default the
      realistic rank) directly, *e.g.*, :obj:`result['both']['mrr']`.

    :obj:`result['per_relation'][r]` maps each relation :obj:`r` that occurs
    in the evaluated triples to a :obj:`dict` with the same side entries
    (:meth:`with_relation_names` keys it by name instead).
    Printing the result gives a table; :meth:`flat` gives
    :obj:`{'both.realistic.mrr': ...}` style keys for loggers.

    Args:
        rank_types (Sequence[str]): The rank types reported (e.g.
            :obj:`'realistic'`).
        ks (Sequence[int]): The :obj:`k` of the Hits@k metrics.
    """
    def __init__(self, rank_types: Sequence[str], ks: Sequence[int]):
        super().__init__()
        self.rank_types = tuple(rank_types)
        self.ks = tuple(ks)

    @property
    def metric_names(self):
        return ['mr', 'mrr'] + [f'hits@{k}' for k in self.ks]

    @staticmethod
    def side_entry(metrics: Dict[str, Dict[str, float]],
                   num_queries: int) -> Dict:
        r"""Builds a side entry from :obj:`{rank_type: {metric: value}}`
        (the first rank type being the primary one).

        Args:
            metrics (Dict[str, Dict[str, float]]): The metrics of each rank
                type; the first one's are also copied to the top level.
            num_queries (int): The number of queries.
        """
        entry = {'num_queries': int(num_queries)}
        entry.update(next(iter(metrics.values())))
        entry.update({key: dict(value) for key, value in metrics.items()})
        return entry

    def flat(self, sep: str = '.', per_relation: bool = False
             ) -> Dict[str, float]:
        r"""Returns a flat :obj:`dict` without duplicates, with keys
        :obj:`side.rank_type.metric` and :obj:`side.num_queries` (and
        :obj:`per_relation.r.side...` if :obj:`per_relation=True`).

        Args:
            sep (str, optional): The key separator. (default: :obj:`"."`)
            per_relation (bool, optional): If set to :obj:`True`, the
                per-relation metrics (when present) are included.
                (default: :obj:`False`)
        """
        def _flat(sides: Dict, prefix: str) -> Dict[str, float]:
            out = {}
            for side in SIDES:
                if side not in sides:
                    continue
                entry = sides[side]
                out[f'{prefix}{side}{sep}num_queries'] = entry['num_queries']
                for rank_type in self.rank_types:
                    for name, value in entry[rank_type].items():
                        out[f'{prefix}{side}{sep}{rank_type}{sep}{name}'] = \
                            value
            return out

        out = _flat(self, '')
        if per_relation and 'per_relation' in self:
            for rel, sides in self['per_relation'].items():
                out.update(_flat(sides, f'per_relation{sep}{rel}{sep}'))
        return out

    def table(self, per_relation: bool = False) -> str:
        r"""Returns the metrics as a plain-text table.

        Args:
            per_relation (bool, optional): If set to :obj:`True`, the table
                has one block of rows per relation (when present).
                (default: :obj:`False`)
        """
        names = self.metric_names
        header = ['relation'] if per_relation else []
        header += ['side', 'rank', 'queries'] + names
        rows = []

        def _add(sides: Dict, rel=None):
            for side in SIDES:
                if side not in sides:
                    continue
                entry = sides[side]
                for rank_type in self.rank_types:
                    row = [] if rel is None else [str(rel)]
                    row += [side, rank_type, str(entry['num_queries'])]
                    for name in names:
                        value = entry[rank_type][name]
                        row.append(f'{value:.2f}' if name ==
                                   'mr' else f'{value:.4f}')
                    rows.append(row)

        if per_relation:
            for rel, sides in self.get('per_relation', {}).items():
                _add(sides, rel)
        else:
            _add(self)
        widths = [
            max(len(row[i]) for row in [header] + rows)
            for i in range(len(header))
        ]
        lines = ['  '.join(h.ljust(w) for h, w in zip(header, widths))]
        lines.append('  '.join('-' * w for w in widths))
        for row in rows:
            lines.append('  '.join(
                (c.ljust(w) if i < len(header) - len(names) - 1 else c.rjust(
                    w)) for i, (c, w) in enumerate(zip(row, widths))))
        return '\n'.join(lines)

    def __str__(self) -> str:
        out = self.table()
        if 'per_relation' in self:
            out += (f"\n(per-relation results for "
                    f"{len(self['per_relation'])} relations in "
                    f"result['per_relation'], see table(per_relation=True))")
        return out

    def __repr__(self) -> str:
        both = self.get('both', {})
        parts = [f'{k}={both[k]:.4f}' for k in self.metric_names if k in both]
        return f'{self.__class__.__name__}({", ".join(parts)})'

    def with_relation_names(self, names: Sequence[str]
                            ) -> 'EvaluationResult':
        r"""A copy whose :obj:`'per_relation'` entry is keyed by relation
        name (:obj:`names[r]`, *e.g.* :obj:`data['relation'].name`) instead
        of id; a name given to several relations gets its id appended.

        Args:
            names (Sequence[str]): The relation names by id.
        """
        out = _rebuild(self.rank_types, self.ks, dict(self))
        if 'per_relation' not in self:
            return out
        names = [str(n) for n in names]
        if self['per_relation'] and max(self['per_relation']) >= len(names):
            raise ValueError(f"{len(names)} relation names given, but the "
                             f"results hold relation "
                             f"{max(self['per_relation'])}")
        seen: Dict[str, int] = {}
        for n in names:
            seen[n] = seen.get(n, 0) + 1
        out['per_relation'] = {
            (names[r] if seen[names[r]] == 1 else f'{names[r]} ({r})'): v
            for r, v in self['per_relation'].items()
        }
        return out

    def __reduce__(self):
        return (_rebuild, (self.rank_types, self.ks, dict(self)))


def _rebuild(rank_types, ks, content):
    result = EvaluationResult(rank_types, ks)
    result.update(content)
    return result


def _grouped_metrics(ranks: Ranks, group: Tensor, num_groups: int,
                     rank_types: Sequence[str], ks: Sequence[int]
                     ) -> Tuple[Tensor, Dict[str, Dict[str, Tensor]]]:
    r"""Computes all metrics per group (vectorised)."""
    count = scatter(torch.ones_like(group, dtype=torch.double), group, 0,
                    dim_size=num_groups, reduce='sum')
    denom = count.clamp(min=1)
    out = {}
    for rank_type in rank_types:
        rank = ranks.get(rank_type)
        metrics = {
            'mr': scatter(rank, group, 0, dim_size=num_groups) / denom,
            'mrr': scatter(rank.reciprocal(), group, 0,
                           dim_size=num_groups) / denom,
        }
        for k in ks:
            metrics[f'hits@{k}'] = scatter(
                (rank <= k).double(), group, 0, dim_size=num_groups) / denom
        out[rank_type] = metrics
    return count, out


def summarise(ranks: Dict[str, Ranks], rel_type: Tensor,
               rank_types: Sequence[str], ks: Sequence[int],
               per_relation: bool) -> EvaluationResult:
    r"""Builds the :class:`EvaluationResult` from the ranks of each side."""
    result = EvaluationResult(rank_types, ks)
    sides = list(ranks.keys())
    ranks['both'] = Ranks(
        torch.cat([ranks[s].optimistic for s in sides]),
        torch.cat([ranks[s].pessimistic for s in sides]))
    for side, side_ranks in ranks.items():
        metrics = {
            rank_type: rank_metrics(side_ranks.get(rank_type), ks)
            for rank_type in rank_types
        }
        result[side] = EvaluationResult.side_entry(
            metrics, side_ranks.optimistic.numel())

    if per_relation:
        num_relations = int(rel_type.max()) + 1 if rel_type.numel() else 0
        grouped = {}
        for side, side_ranks in ranks.items():
            group = rel_type if side != 'both' else rel_type.repeat(
                len(sides))
            count, metrics = _grouped_metrics(side_ranks, group,
                                              num_relations, rank_types, ks)
            grouped[side] = (count.tolist(), {
                rank_type: {k: v.tolist()
                            for k, v in values.items()}
                for rank_type, values in metrics.items()
            })
        present = torch.unique(rel_type).tolist()
        result['per_relation'] = {}
        for rel in present:  # Loop over relations (not triples).
            entry = {}
            for side, (count, metrics) in grouped.items():
                entry[side] = EvaluationResult.side_entry(
                    {
                        rank_type: {k: v[rel]
                                    for k, v in values.items()}
                        for rank_type, values in metrics.items()
                    }, int(count[rel]))
            result['per_relation'][int(rel)] = entry
    return result
