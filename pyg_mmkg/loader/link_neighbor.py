from typing import Any, List, Optional

import torch
from torch import Tensor


class _AttachTriples:
    # Picklable transform (works with `num_workers > 0`) that turns a
    # triplet-mode `LinkNeighborLoader` batch into a KG batch.
    def __init__(self, seed_rel: Tensor, seed_edge: Tensor,
                 num_edges: int, add_inverse: bool,
                 exclude_seed_edges: bool, then: Optional[Any] = None):
        self.then = then
        self.seed_rel = seed_rel
        self.seed_edge = seed_edge
        self.num_edges = num_edges
        self.add_inverse = add_inverse
        self.exclude_seed_edges = exclude_seed_edges

    def __call__(self, data: Any) -> Any:
        data.rel_type = self.seed_rel[data.input_id]
        data.dst_neg_index = data.dst_neg_index.view(data.input_id.numel(),
                                                     -1)
        if self.exclude_seed_edges:
            # Remove the supervision edges (and their inverses) from the
            # sampled subgraph, so that a positive cannot be read off the
            # message passing graph:
            seed_edge = self.seed_edge[data.input_id]
            e_id = data.e_id
            if self.add_inverse:
                e_id = e_id % self.num_edges
            keep = ~torch.isin(e_id, seed_edge)
            data.edge_index = data.edge_index[:, keep]
            data.edge_type = data.edge_type[keep]
            data.e_id = data.e_id[keep]
        return data if self.then is None else self.then(data)


def link_neighbor_loader(
    head_index: Tensor,
    rel_type: Tensor,
    tail_index: Tensor,
    num_nodes: int,
    num_relations: int,
    num_neighbors: List[int],
    num_negatives: int = 1,
    batch_size: int = 1,
    shuffle: bool = False,
    add_inverse: bool = True,
    reciprocal: bool = False,
    exclude_seed_edges: bool = False,
    x: Optional[Tensor] = None,
    **kwargs: Any,
):
    r"""Returns a :class:`torch_geometric.loader.LinkNeighborLoader` that
    yields sampled subgraphs around mini-batches of training triples, with
    :math:`k` random negative tails per positive (PyG's :obj:`"triplet"`
    negative sampling).

    The message passing graph is built from the given *training* triples only
    (plus inverse edges of type :math:`r + R` if :obj:`add_inverse=True`), so
    no validation or test edge can enter a batch. Every batch is a
    :class:`~torch_geometric.data.Data` object with the usual subgraph
    attributes (:obj:`n_id`, :obj:`e_id`, :obj:`edge_index`, :obj:`edge_type`)
    and, in local node indices,

    * :obj:`src_index` :obj:`[B]`: the heads,
    * :obj:`dst_pos_index` :obj:`[B]`: the tails,
    * :obj:`dst_neg_index` :obj:`[B, k]`: the negative tails,
    * :obj:`rel_type` :obj:`[B]`: the relations of the positives, recovered
      from :obj:`input_id` (PyG forbids :obj:`edge_label` in triplet mode).

    Requires :obj:`pyg-lib` or :obj:`torch-sparse`.

    Args:
        head_index (torch.Tensor): The head indices of the training triples.
        rel_type (torch.Tensor): The relation types of the training triples.
        tail_index (torch.Tensor): The tail indices of the training triples.
        num_nodes (int): The number of entities :math:`N`.
        num_relations (int): The number of relations :math:`R`.
        num_neighbors (List[int]): The number of neighbours to sample per hop.
        num_negatives (int, optional): The number of negative tails per
            positive. (default: :obj:`1`)
        batch_size (int, optional): The number of positives per batch.
            (default: :obj:`1`)
        shuffle (bool, optional): Whether to shuffle the positives.
            (default: :obj:`False`)
        add_inverse (bool, optional): If set to :obj:`True`, adds inverse
            edges :math:`(t, r + R, h)` to the message passing graph.
            (default: :obj:`True`)
        reciprocal (bool, optional): If set to :obj:`True`, also uses the
            reciprocal queries :math:`(t, r + R, h)` as positives, so heads
            are corrupted through them. (default: :obj:`False`)
        exclude_seed_edges (bool, optional): If set to :obj:`True`, removes
            the batch's positive edges (and their inverses) from its
            subgraph. (default: :obj:`False`)
        x (torch.Tensor, optional): Entity features :obj:`[N, D]` to slice
            into the batches. (default: :obj:`None`)
        **kwargs (optional): Further arguments of
            :class:`torch_geometric.loader.LinkNeighborLoader` (e.g.,
            :obj:`num_workers`).
    """
    from torch_geometric.data import Data
    from torch_geometric.loader import LinkNeighborLoader
    from torch_geometric.sampler import NegativeSampling

    if 'edge_label' in kwargs:
        raise ValueError("'edge_label' cannot be used with triplet negative "
                         "sampling; relation ids are attached as 'rel_type'")
    head_index = head_index.view(-1).long()
    rel_type = rel_type.view(-1).long()
    tail_index = tail_index.view(-1).long()
    num_edges = head_index.numel()

    edge_index = torch.stack([head_index, tail_index])
    edge_type = rel_type
    if add_inverse:
        edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
        edge_type = torch.cat([rel_type, rel_type + num_relations])
    data = Data(edge_index=edge_index, edge_type=edge_type,
                num_nodes=num_nodes)
    if x is not None:
        data.x = x

    seed_edge = torch.arange(num_edges)
    seed_index = torch.stack([head_index, tail_index])
    seed_rel = rel_type
    if reciprocal:
        seed_index = torch.cat([seed_index, seed_index.flip(0)], dim=1)
        seed_rel = torch.cat([rel_type, rel_type + num_relations])
        seed_edge = torch.cat([seed_edge, seed_edge])

    transform = _AttachTriples(seed_rel, seed_edge, num_edges, add_inverse,
                               exclude_seed_edges, kwargs.pop('transform',
                                                              None))

    return LinkNeighborLoader(
        data,
        num_neighbors=num_neighbors,
        edge_label_index=seed_index,
        neg_sampling=NegativeSampling('triplet', amount=num_negatives),
        batch_size=batch_size,
        shuffle=shuffle,
        transform=transform,
        **kwargs,
    )
