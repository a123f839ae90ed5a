import torch
from torch import Tensor

from pyg_mmkg.nn.kge.distmult_scorer import DistMultScorer
from pyg_mmkg.nn.kge.model import ScoredKGEModel


class DistMult(ScoredKGEModel):
    r"""The DistMult model from the `"Embedding Entities and Relations for
    Learning and Inference in Knowledge Bases"
    <https://arxiv.org/abs/1412.6575>`_ paper.

    :class:`DistMult` models relations as diagonal matrices, which reduces
    the bilinear interaction to the trilinear product (see
    :class:`DistMultScorer`)

    .. math::
        d(h, r, t) = \langle \mathbf{e}_h, \mathbf{e}_r, \mathbf{e}_t \rangle

    Constructor, initialization, scores and :meth:`loss` (margin ranking loss
    with one random negative per positive) are the ones of
    :class:`torch_geometric.nn.kge.DistMult`, so the model is a drop-in
    replacement that adds 1-N scoring (:meth:`score_tails`,
    :meth:`score_heads`).

    Args:
        num_nodes (int): The number of nodes/entities in the graph.
        num_relations (int): The number of relations in the graph.
        hidden_channels (int): The hidden embedding size.
        margin (float, optional): The margin of the ranking loss.
            (default: :obj:`1.0`)
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
        sparse: bool = False,
        reciprocal: bool = False,
    ):
        super().__init__(num_nodes, num_relations, hidden_channels,
                         DistMultScorer(), sparse, reciprocal)
        self.margin = margin
        self.reset_parameters()

    def reset_parameters(self):
        torch.nn.init.xavier_uniform_(self.node_emb.weight)
        torch.nn.init.xavier_uniform_(self.rel_emb.weight)

    def loss(
        self,
        head_index: Tensor,
        rel_type: Tensor,
        tail_index: Tensor,
    ) -> Tensor:
        return self._margin_ranking_loss(head_index, rel_type, tail_index,
                                         self.margin)
