import math

import torch
from torch import Tensor

from pyg_mmkg.nn.kge.model import ScoredKGEModel
from pyg_mmkg.nn.kge.rotate_scorer import RotatEScorer


class RotatE(ScoredKGEModel):
    r"""The RotatE model from the `"RotatE: Knowledge Graph Embedding by
    Relational Rotation in Complex Space" <https://arxiv.org/abs/1902.10197>`_
    paper.

    :class:`RotatE` models relations as rotations in complex space,
    :math:`\mathbf{e}_t \approx \mathbf{e}_h \circ \mathbf{e}_r` with
    :math:`|e_{r,i}| = 1`, and scores (see :class:`RotatEScorer`)

    .. math::
        d(h, r, t) = \gamma - {\| \mathbf{e}_h \circ \mathbf{e}_r -
        \mathbf{e}_t \|}_2

    Entities have real and imaginary tables :obj:`node_emb` /
    :obj:`node_emb_im`; :obj:`rel_emb` holds the relation phases.
    Constructor, initialization, scores and :meth:`loss` (binary
    cross-entropy with one random negative per positive) are the ones of
    :class:`torch_geometric.nn.kge.RotatE`, so the model is a drop-in
    replacement that adds 1-N scoring (:meth:`score_tails`,
    :meth:`score_heads`).

    Args:
        num_nodes (int): The number of nodes/entities in the graph.
        num_relations (int): The number of relations in the graph.
        hidden_channels (int): The hidden embedding size (per real and
            imaginary part).
        margin (float, optional): The margin :math:`\gamma` added to the
            negative distance. (default: :obj:`1.0`)
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
                         RotatEScorer(margin), sparse, reciprocal)
        self.reset_parameters()

    @property
    def margin(self) -> float:
        r"""The margin :math:`\gamma` of the scoring function."""
        return self.scorer.margin

    @margin.setter
    def margin(self, value: float):
        self.scorer.margin = value

    def reset_parameters(self):
        torch.nn.init.xavier_uniform_(self.node_emb.weight)
        torch.nn.init.xavier_uniform_(self.node_emb_im.weight)
        torch.nn.init.uniform_(self.rel_emb.weight, 0, 2 * math.pi)

    def loss(
        self,
        head_index: Tensor,
        rel_type: Tensor,
        tail_index: Tensor,
    ) -> Tensor:
        return self._binary_cross_entropy_loss(head_index, rel_type,
                                               tail_index)
