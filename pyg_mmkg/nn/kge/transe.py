import math

import torch
import torch.nn.functional as F
from torch import Tensor

from pyg_mmkg.nn.kge.model import ScoredKGEModel
from pyg_mmkg.nn.kge.transe_scorer import TransEScorer


class TransE(ScoredKGEModel):
    r"""The TransE model from the `"Translating Embeddings for Modeling
    Multi-Relational Data" <https://proceedings.neurips.cc/paper/2013/file/
    1cecc7a77928ca8133fa24680a88d2f9-Paper.pdf>`_ paper.

    :class:`TransE` models relations as a translation from head to tail
    entities, :math:`\mathbf{e}_h + \mathbf{e}_r \approx \mathbf{e}_t`, and
    scores (see :class:`TransEScorer`)

    .. math::
        d(h, r, t) = - {\| \mathbf{e}_h + \mathbf{e}_r - \mathbf{e}_t \|}_p

    with :math:`L_p`-normalized head and tail embeddings.
    Constructor, initialization, scores and :meth:`loss` (margin ranking loss
    with one random negative per positive) are the ones of
    :class:`torch_geometric.nn.kge.TransE`, so the model is a drop-in
    replacement that adds 1-N scoring (:meth:`score_tails`,
    :meth:`score_heads`).

    Args:
        num_nodes (int): The number of nodes/entities in the graph.
        num_relations (int): The number of relations in the graph.
        hidden_channels (int): The hidden embedding size.
        margin (float, optional): The margin of the ranking loss.
            (default: :obj:`1.0`)
        p_norm (float, optional): The order of the embedding and distance
            normalization. (default: :obj:`1.0`)
        sparse (bool, optional): If set to :obj:`True`, gradients w.r.t. to
            the embedding matrices will be sparse. (default: :obj:`False`)
        reciprocal (bool, optional): If set to :obj:`True`, learns inverse
            relations to score head queries. (default: :obj:`False`)
    """
    def __init__(
        self,
        num_nodes: int,
        num_relations: int,
        hidden_channels: int,
        margin: float = 1.0,
        p_norm: float = 1.0,
        sparse: bool = False,
        reciprocal: bool = False,
    ):
        super().__init__(num_nodes, num_relations, hidden_channels,
                         TransEScorer(p_norm), sparse, reciprocal)
        self.margin = margin
        self.reset_parameters()

    @property
    def p_norm(self) -> float:
        r"""The order :math:`p` of the normalization and the distance."""
        return self.scorer.p_norm

    @p_norm.setter
    def p_norm(self, value: float):
        self.scorer.p_norm = value

    def reset_parameters(self):
        bound = 6. / math.sqrt(self.hidden_channels)
        torch.nn.init.uniform_(self.node_emb.weight, -bound, bound)
        torch.nn.init.uniform_(self.rel_emb.weight, -bound, bound)
        F.normalize(self.rel_emb.weight.data, p=self.p_norm, dim=-1,
                    out=self.rel_emb.weight.data)

    def loss(
        self,
        head_index: Tensor,
        rel_type: Tensor,
        tail_index: Tensor,
    ) -> Tensor:
        return self._margin_ranking_loss(head_index, rel_type, tail_index,
                                         self.margin)
