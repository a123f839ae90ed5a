from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from pyg_mmkg.nn.kge.model import Encoded, ScoredKGEModel
from pyg_mmkg.nn.kge.tucker_scorer import TuckERScorer


class TuckER(ScoredKGEModel):
    r"""The TuckER model from the `"TuckER: Tensor Factorization for
    Knowledge Graph Completion" <https://arxiv.org/abs/1901.09590>`_ paper.

    :class:`TuckER` scores with the Tucker decomposition of the binary
    tensor of triples, a core tensor
    :math:`\mathcal{W} \in \mathbb{R}^{d_r \times d_e \times d_e}` shared by
    all relations (see :class:`TuckERScorer`):

    .. math::
        d(h, r, t) = \mathcal{W} \times_1 \mathbf{e}_r \times_2
        \mathbf{e}_h \times_3 \mathbf{e}_t

    with batch normalization and dropout on the way, as in the official
    code. Scores are logits.
    The model is trained 1-N: :meth:`loss_1n` is the binary cross-entropy of
    the scores of all candidate tails against (label-smoothed) targets, as
    used with a KvsAll loader; :meth:`loss` is the same objective on the
    triples of a :meth:`loader` batch (the true tail of each triple is the
    only positive of its query, and with :obj:`reciprocal=True` each triple
    also yields the query :math:`(t, r^{-1}, ?)`), so the model also fits
    PyG's training loop.

    Defaults follow the official code (dropouts and label smoothing of its
    command line, reciprocal relations added to the training data).
    Deliberate differences from the official code: entity and relation
    :math:`0` are trained like all others (the official embeddings use
    :obj:`padding_idx=0`, which freezes them), and label smoothing is the
    standard :math:`(1 - \epsilon) y + \epsilon / N` (the official code uses
    :math:`(1 - \epsilon) y + 1 / N`).

    Args:
        num_nodes (int): The number of nodes/entities in the graph.
        num_relations (int): The number of relations in the graph.
        hidden_channels (int): The entity embedding size :math:`d_e`.
        relation_channels (int, optional): The relation embedding size
            :math:`d_r`. If set to :obj:`None`, will use
            :obj:`hidden_channels`. (default: :obj:`None`)
        input_dropout (float, optional): Dropout probability on the
            normalized head. (default: :obj:`0.3`)
        hidden_dropout1 (float, optional): Dropout probability on the
            relation matrix. (default: :obj:`0.4`)
        hidden_dropout2 (float, optional): Dropout probability on the
            normalized query. (default: :obj:`0.5`)
        label_smoothing (float, optional): Label smoothing :math:`\epsilon`
            applied to the targets in :meth:`loss` and :meth:`loss_1n`. Set it
            to :obj:`0.0` if your loader already smooths the targets.
            (default: :obj:`0.1`)
        sparse (bool, optional): If set to :obj:`True`, gradients w.r.t. to
            the embedding matrices will be sparse. (default: :obj:`False`)
        reciprocal (bool, optional): If set to :obj:`True`, learns inverse
            relations to score head queries. (default: :obj:`True`)
    """
    def __init__(
        self,
        num_nodes: int,
        num_relations: int,
        hidden_channels: int,
        relation_channels: Optional[int] = None,
        input_dropout: float = 0.3,
        hidden_dropout1: float = 0.4,
        hidden_dropout2: float = 0.5,
        label_smoothing: float = 0.1,
        sparse: bool = False,
        reciprocal: bool = True,
    ):
        scorer = TuckERScorer(hidden_channels, relation_channels,
                              input_dropout, hidden_dropout1, hidden_dropout2)
        super().__init__(num_nodes, num_relations, hidden_channels, scorer,
                         sparse, reciprocal)
        self.relation_channels = scorer.relation_channels
        self.label_smoothing = label_smoothing
        self.reset_parameters()

    def reset_parameters(self):
        torch.nn.init.xavier_normal_(self.node_emb.weight)
        torch.nn.init.xavier_normal_(self.rel_emb.weight)
        self.scorer.reset_parameters()

    def loss_1n(
        self,
        head_index: Tensor,
        rel_type: Tensor,
        targets: Tensor,
        encoded: Optional[Encoded] = None,
    ) -> Tensor:
        r"""Returns the binary cross-entropy between the scores of all
        candidate tails of each query :math:`(h, r, ?)` and :obj:`targets`,
        after label smoothing.

        Args:
            head_index (torch.Tensor): The head indices of shape :obj:`[B]`.
            rel_type (torch.Tensor): The relation type of shape :obj:`[B]`
                (inverse relations are :obj:`r + num_relations`).
            targets (torch.Tensor): The multi-hot targets of shape
                :obj:`[B, num_nodes]`.
            encoded ((torch.Tensor, torch.Tensor), optional): The output of
                :meth:`encode`. (default: :obj:`None`)
        """
        scores = self.score_tails(head_index, rel_type, encoded)
        targets = targets.to(scores.dtype)
        if self.label_smoothing > 0:
            targets = ((1.0 - self.label_smoothing) * targets +
                       self.label_smoothing / targets.size(-1))
        return F.binary_cross_entropy_with_logits(scores, targets)

    def loss(
        self,
        head_index: Tensor,
        rel_type: Tensor,
        tail_index: Tensor,
    ) -> Tensor:
        if self.reciprocal:
            head_index, tail_index = (
                torch.cat([head_index, tail_index], dim=0),
                torch.cat([tail_index, head_index], dim=0),
            )
            rel_type = torch.cat([rel_type, rel_type + self.num_relations])
        targets = F.one_hot(tail_index, self.num_nodes)
        return self.loss_1n(head_index, rel_type, targets)
