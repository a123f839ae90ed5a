import torch
import torch.nn.functional as F
from torch import Tensor

from pyg_mmkg.nn.kge.scorer import Scorer


class TransEScorer(Scorer):
    r"""The TransE scoring function from the `"Translating Embeddings for
    Modeling Multi-Relational Data" <https://proceedings.neurips.cc/paper/
    2013/file/1cecc7a77928ca8133fa24680a88d2f9-Paper.pdf>`_ paper, with the
    math of :class:`torch_geometric.nn.kge.TransE`.

    Head and tail representations are :math:`L_p`-normalized before the
    translation is measured:

    .. math::
        f(h, r, t) = - {\left\| \frac{\mathbf{e}_h}{\|\mathbf{e}_h\|_p} +
        \mathbf{e}_r - \frac{\mathbf{e}_t}{\|\mathbf{e}_t\|_p} \right\|}_p

    1-N scoring uses :meth:`torch.cdist`, which for :math:`p = 2` computes
    distances via matrix products.

    Args:
        p_norm (float, optional): The order :math:`p` of the normalization and
            of the distance. (default: :obj:`1.0`)
    """
    def __init__(self, p_norm: float = 1.0):
        super().__init__()
        self.p_norm = p_norm

    def _normalize(self, x: Tensor) -> Tensor:
        return F.normalize(x, p=self.p_norm, dim=-1)

    def forward(self, head: Tensor, rel: Tensor, tail: Tensor) -> Tensor:
        head, tail = self._normalize(head), self._normalize(tail)
        return -((head + rel) - tail).norm(p=self.p_norm, dim=-1)

    def score_tails(self, head: Tensor, rel: Tensor,
                    tail_all: Tensor) -> Tensor:
        query = self._normalize(head) + rel
        return -torch.cdist(query, self._normalize(tail_all), p=self.p_norm)

    def score_heads(self, rel: Tensor, tail: Tensor,
                    head_all: Tensor) -> Tensor:
        # ||h + r - t|| = ||h - (t - r)||:
        query = self._normalize(tail) - rel
        return -torch.cdist(query, self._normalize(head_all), p=self.p_norm)

    def extra_repr(self) -> str:
        return f'p_norm={self.p_norm}'
