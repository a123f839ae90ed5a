import torch
from torch import Tensor

from pyg_mmkg.nn.kge.complex_scorer import ComplExScorer
from pyg_mmkg.nn.kge.model import ScoredKGEModel


class ComplEx(ScoredKGEModel):
    r"""The ComplEx model from the `"Complex Embeddings for Simple Link
    Prediction" <https://arxiv.org/abs/1606.06357>`_ paper.

    :class:`ComplEx` embeds entities and relations in
    :math:`\mathbb{C}^d` and scores with the real part of the Hermitian
    trilinear product (see :class:`ComplExScorer`)

    .. math::
        d(h, r, t) = \mathrm{Re}(\langle \mathbf{e}_h, \mathbf{e}_r,
        \overline{\mathbf{e}_t} \rangle)

    Real and imaginary parts live in the tables :obj:`node_emb` /
    :obj:`node_emb_im` and :obj:`rel_emb` / :obj:`rel_emb_im`;
    :meth:`encode` returns their concatenation.
    Constructor, initialization, scores and :meth:`loss` (binary
    cross-entropy with one random negative per positive) are the ones of
    :class:`torch_geometric.nn.kge.ComplEx`, so the model is a drop-in
    replacement that adds 1-N scoring (:meth:`score_tails`,
    :meth:`score_heads`).

    Args:
        num_nodes (int): The number of nodes/entities in the graph.
        num_relations (int): The number of relations in the graph.
        hidden_channels (int): The hidden embedding size (per real and
            imaginary part).
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
        sparse: bool = False,
        reciprocal: bool = False,
    ):
        super().__init__(num_nodes, num_relations, hidden_channels,
                         ComplExScorer(), sparse, reciprocal)
        self.reset_parameters()

    def reset_parameters(self):
        torch.nn.init.xavier_uniform_(self.node_emb.weight)
        torch.nn.init.xavier_uniform_(self.node_emb_im.weight)
        torch.nn.init.xavier_uniform_(self.rel_emb.weight)
        torch.nn.init.xavier_uniform_(self.rel_emb_im.weight)

    def loss(
        self,
        head_index: Tensor,
        rel_type: Tensor,
        tail_index: Tensor,
    ) -> Tensor:
        return self._binary_cross_entropy_loss(head_index, rel_type,
                                               tail_index)
