r"""Link prediction by name: the top-:math:`k` tails of :math:`(h, r, ?)`,
heads of :math:`(?, r, t)` and relations of :math:`(h, ?, t)` of a trained
model or run directory.

.. code-block:: python

    from pyg_mmkg.predict import predict_tails

    pred = predict_tails('runs/VTKG-I-complex-...', head='Lisbon',
                         relation='capital_of', k=10, filtered=True)
    print(pred)            # a table: rank, name, score, known
    pred.names[0]          # the k names of the first query

Scoring is vectorised and memory-bounded: queries are scored in chunks of
at most :obj:`max_bytes` of scores (never a :obj:`[B, N]` float64 matrix)
and candidates are chunked too where the model can only score triples
(:obj:`model(h, r, t)`), keeping a running top-:math:`k`.
"""
import os
from typing import Any, Sequence, Union

import torch
from torch import Tensor

from pyg_mmkg._predict_utils import (Predictions, as_index, running_topk,
                                     triples_budget)

DEFAULT_MAX_BYTES = 256 * 1024**2
SPLITS = ('train', 'val', 'test')

__all__ = ['Predictor', 'Predictions', 'predict_tails', 'predict_heads',
           'predict_relations']


class Predictor:
    r"""Answers link prediction queries by entity and relation name with a
    trained model; the model is encoded once (:meth:`encode`, if it has
    one) and the known-triple index built once, on first use.

    Tails and heads are scored as evaluation ranks them: with
    :obj:`score_tails` / :obj:`score_heads` where the model has them (for
    models with reciprocal relations, a head query :math:`(?, r, t)` is the
    tail query :math:`(t, r^{-1}, ?)`), otherwise with :obj:`model(h, r, t)`.
    Relations are scored with :obj:`model(h, r, t)`.

    Args:
        model (torch.nn.Module or str): A trained model, or a run directory
            written by :class:`~pyg_mmkg.train.Trainer` (re-opened with
            :func:`~pyg_mmkg.train.load_run`).
        data (HeteroData, optional): The graph the model was trained on
            (names and known triples). Needed with a model; optional with
            a run directory whose dataset is recorded.
            (default: :obj:`None`)
        checkpoint (str, optional): :obj:`"best"` or :obj:`"last"`, for a
            run directory. (default: :obj:`"best"`)
        known_splits (Sequence[str], optional): The splits whose triples
            count as known (filtered out with :obj:`filtered=True`, flagged
            in :attr:`Predictions.known` otherwise).
            (default: :obj:`('train', 'val', 'test')`)
        max_bytes (int, optional): The most bytes of scores held at once.
            (default: 256 MiB)
    """
    def __init__(self, model: Union[torch.nn.Module, str, os.PathLike],
                 data: Any = None, checkpoint: str = 'best',
                 known_splits: Sequence[str] = SPLITS,
                 max_bytes: int = DEFAULT_MAX_BYTES):
        if isinstance(model, (str, os.PathLike)):
            from pyg_mmkg.train.run import load_run
            model, data, _ = load_run(model, data, checkpoint)
        if data is None:
            raise ValueError('Predictions by name need the data the model '
                             'was trained on: pass data=...')
        if int(max_bytes) < 1:
            raise ValueError(f"'max_bytes' must be positive (got "
                             f"{max_bytes})")
        from pyg_mmkg.data import num_entities, num_relations
        self.model, self.data = model, data
        self.num_entities = num_entities(data)
        self.num_relations = num_relations(data)
        self.known_splits = tuple(known_splits)
        self.max_bytes = int(max_bytes)
        self.entity_names = node_names(data, 'entity', self.num_entities)
        self.relation_names = node_names(data, 'relation',
                                         self.num_relations)
        self._lookup = {}
        self._filter = None
        self._encoded = None
        self._encoded_done = False

    # Helpers ##############################################################

    @property
    def device(self) -> torch.device:
        for tensor in self.model.parameters():
            return tensor.device
        return torch.device('cpu')

    def _index(self, kind: str, values: Any) -> Tensor:
        names = (self.entity_names if kind == 'entity' else
                 self.relation_names)
        if kind not in self._lookup:
            self._lookup[kind] = {n: i for i, n in enumerate(names)}
        return as_index(values, self._lookup[kind], names, kind)

    def filter_index(self):
        r"""The :class:`~pyg_mmkg.evaluation.FilterIndex` of the triples of
        :obj:`known_splits`, built on first use."""
        if self._filter is None:
            from pyg_mmkg.data.contract import filter_index
            self._filter = filter_index(self.data, self.known_splits)
        return self._filter.to(self.device)

    def _encode(self):
        if not self._encoded_done:
            encode = getattr(self.model, 'encode', None)
            self._encoded = encode() if callable(encode) else None
            self._encoded_done = True
        return self._encoded

    def _run(self, fn):
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                return fn()
        finally:
            self.model.train(was_training)

    # Queries ##############################################################

    def tails(self, head: Any, relation: Any, k: int = 10,
              filtered: bool = False) -> Predictions:
        r"""The top-:obj:`k` tails of each query :math:`(h_i, r_i, ?)`.

        Args:
            head (str, int, Sequence or torch.Tensor): Head name(s) or
                id(s); a single value is broadcast against :obj:`relation`.
            relation (str, int, Sequence or torch.Tensor): Relation name(s)
                or id(s).
            k (int, optional): The number of answers. (default: :obj:`10`)
            filtered (bool, optional): If :obj:`True`, known triples are
                not proposed. (default: :obj:`False`)
        """
        return self._entities('tail', head, relation, k, filtered)

    def heads(self, relation: Any, tail: Any, k: int = 10,
              filtered: bool = False) -> Predictions:
        r"""The top-:obj:`k` heads of each query :math:`(?, r_i, t_i)`.

        Args:
            relation (str, int, Sequence or torch.Tensor): Relation name(s)
                or id(s).
            tail (str, int, Sequence or torch.Tensor): Tail name(s) or
                id(s).
            k (int, optional): The number of answers. (default: :obj:`10`)
            filtered (bool, optional): If :obj:`True`, known triples are
                not proposed. (default: :obj:`False`)
        """
        return self._entities('head', tail, relation, k, filtered)

    def relations(self, head: Any, tail: Any, k: int = 10,
                  filtered: bool = False) -> Predictions:
        r"""The top-:obj:`k` relations of each query :math:`(h_i, ?, t_i)`.

        Args:
            head (str, int, Sequence or torch.Tensor): Head name(s) or
                id(s).
            tail (str, int, Sequence or torch.Tensor): Tail name(s) or
                id(s).
            k (int, optional): The number of answers. (default: :obj:`10`)
            filtered (bool, optional): If :obj:`True`, known triples are
                not proposed. (default: :obj:`False`)
        """
        h, t = self._pair(self._index('entity', head),
                          self._index('entity', tail))
        k = _check_k(k, self.num_relations)
        device = self.device
        h, t = h.to(device), t.to(device)
        R = self.num_relations
        fi = self.filter_index()

        def score(q: Tensor, cand: Tensor) -> Tensor:
            kw = {} if self._encode() is None else {'encoded': self._encode()}
            hq = h[q].repeat_interleave(cand.numel())
            tq = t[q].repeat_interleave(cand.numel())
            rq = cand.repeat(q.numel())
            s = self.model(hq, rq, tq, **kw).view(q.numel(), cand.numel())
            if filtered:
                s = s.masked_fill(fi.contains(hq, rq, tq).view_as(s),
                                  float('-inf'))
            return s

        ids, scores = self._run(lambda: running_topk(
            score, h.numel(), R, k, triples_budget(self), device))
        known = fi.contains(h.view(-1, 1).expand_as(ids).reshape(-1),
                            ids.reshape(-1),
                            t.view(-1, 1).expand_as(ids).reshape(-1))
        return Predictions('relation', (h, None, t), ids, scores,
                           known.view_as(ids), filtered, self)

    def _entities(self, side: str, node: Any, relation: Any, k: int,
                  filtered: bool) -> Predictions:
        node, rel = self._pair(self._index('entity', node),
                               self._index('relation', relation))
        k = _check_k(k, self.num_entities)
        device = self.device
        node, rel = node.to(device), rel.to(device)
        N = self.num_entities
        fi = self.filter_index()
        fast = callable(getattr(self.model, f'score_{side}s', None))

        def score(q: Tensor, cand: Tensor) -> Tensor:
            kw = {} if self._encode() is None else {'encoded': self._encode()}
            if fast:  # All N candidates at once ([len(q), N]).
                s = (self.model.score_tails(node[q], rel[q], **kw)
                     if side == 'tail' else
                     self.model.score_heads(rel[q], node[q], **kw))
            else:  # Only `cand`, through model(h, r, t).
                nq = node[q].repeat_interleave(cand.numel())
                rq = rel[q].repeat_interleave(cand.numel())
                cq = cand.repeat(q.numel())
                s = (self.model(nq, rq, cq, **kw) if side == 'tail' else
                     self.model(cq, rq, nq, **kw))
                s = s.view(q.numel(), cand.numel())
            if filtered:
                row, col = (fi.tails(node[q], rel[q]) if side == 'tail' else
                            fi.heads(rel[q], node[q]))
                if not fast:  # Known answers among this candidate chunk.
                    pos = col - int(cand[0])
                    keep = (pos >= 0) & (pos < cand.numel())
                    row, col = row[keep], pos[keep]
                s = s.index_put((row, col), torch.tensor(
                    float('-inf'), dtype=s.dtype, device=s.device))
            return s

        # The fast path scores all candidates in one chunk.
        ids, scores = self._run(lambda: running_topk(
            score, node.numel(), N, k,
            (None if fast else triples_budget(self)), device,
            row_bytes=N * 4 * 3 if fast else None,
            max_bytes=self.max_bytes))
        flat = ids.reshape(-1)
        nq = node.view(-1, 1).expand_as(ids).reshape(-1)
        rq = rel.view(-1, 1).expand_as(ids).reshape(-1)
        known = (fi.contains(nq, rq, flat) if side == 'tail' else
                 fi.contains(flat, rq, nq))
        query = (node, rel, None) if side == 'tail' else (None, rel, node)
        return Predictions(side, query, ids, scores, known.view_as(ids),
                           filtered, self)

    @staticmethod
    def _pair(a: Tensor, b: Tensor):
        if a.numel() != b.numel():
            if a.numel() == 1:
                a = a.expand(b.numel())
            elif b.numel() == 1:
                b = b.expand(a.numel())
            else:
                raise ValueError(f'The query parts have {a.numel()} and '
                                 f'{b.numel()} values: give equally many, '
                                 f'or one of them once')
        return a.contiguous(), b.contiguous()


def node_names(data: Any, node_type: str, count: int) -> list:
    r"""The names of the :obj:`count` nodes of :obj:`node_type`
    (:obj:`"entity"` or :obj:`"relation"`) as strings, or their ids where
    the data stores no (complete) names.

    Args:
        data (HeteroData): The graph.
        node_type (str): :obj:`"entity"` or :obj:`"relation"`.
        count (int): The number of nodes.
    """
    names = None
    if node_type in data.node_types:
        names = data[node_type].get('name', None)
    if names is None or len(names) != count:
        return [str(i) for i in range(count)]
    return [str(n) for n in names]


def _check_k(k: int, count: int) -> int:
    if int(k) < 1:
        raise ValueError(f"'k' must be a positive integer (got {k})")
    return min(int(k), count)


def predict_tails(model: Any, head: Any, relation: Any, k: int = 10,
                  filtered: bool = False, data: Any = None,
                  **kwargs: Any) -> Predictions:
    r"""The top-:obj:`k` tails of :math:`(h, r, ?)` (see
    :meth:`Predictor.tails`).

    Args:
        model (torch.nn.Module or str): A trained model or a run directory.
        head: Head name(s) or id(s).
        relation: Relation name(s) or id(s).
        k (int, optional): The number of answers. (default: :obj:`10`)
        filtered (bool, optional): Leave out known triples.
            (default: :obj:`False`)
        data (HeteroData, optional): The training data (see
            :class:`Predictor`). (default: :obj:`None`)
        **kwargs: Further arguments of :class:`Predictor`.
    """
    return Predictor(model, data, **kwargs).tails(head, relation, k,
                                                  filtered)


def predict_heads(model: Any, relation: Any, tail: Any, k: int = 10,
                  filtered: bool = False, data: Any = None,
                  **kwargs: Any) -> Predictions:
    r"""The top-:obj:`k` heads of :math:`(?, r, t)` (see
    :meth:`Predictor.heads`).

    Args:
        model (torch.nn.Module or str): A trained model or a run directory.
        relation: Relation name(s) or id(s).
        tail: Tail name(s) or id(s).
        k (int, optional): The number of answers. (default: :obj:`10`)
        filtered (bool, optional): Leave out known triples.
            (default: :obj:`False`)
        data (HeteroData, optional): The training data (see
            :class:`Predictor`). (default: :obj:`None`)
        **kwargs: Further arguments of :class:`Predictor`.
    """
    return Predictor(model, data, **kwargs).heads(relation, tail, k,
                                                  filtered)


def predict_relations(model: Any, head: Any, tail: Any, k: int = 10,
                      filtered: bool = False, data: Any = None,
                      **kwargs: Any) -> Predictions:
    r"""The top-:obj:`k` relations of :math:`(h, ?, t)` (see
    :meth:`Predictor.relations`).

    Args:
        model (torch.nn.Module or str): A trained model or a run directory.
        head: Head name(s) or id(s).
        tail: Tail name(s) or id(s).
        k (int, optional): The number of answers. (default: :obj:`10`)
        filtered (bool, optional): Leave out known triples.
            (default: :obj:`False`)
        data (HeteroData, optional): The training data (see
            :class:`Predictor`). (default: :obj:`None`)
        **kwargs: Further arguments of :class:`Predictor`.
    """
    return Predictor(model, data, **kwargs).relations(head, tail, k,
                                                      filtered)
