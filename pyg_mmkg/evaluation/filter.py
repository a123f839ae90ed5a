from pyg_mmkg.utils.triple_index import TripleIndex


class FilterIndex(TripleIndex):
    r"""The index of known true triples for the *filtered* link prediction
    protocol of `"Translating Embeddings for Modeling Multi-Relational Data"
    <https://proceedings.neurips.cc/paper/2013/file/
    1cecc7a77928ca8133fa24680a88d2f9-Paper.pdf>`_ paper: when ranking the
    answer of a query :math:`(h, r, ?)` (or :math:`(?, r, t)`), every other
    entity that forms a known true triple with the query is removed from the
    candidates.

    This is :class:`pyg_mmkg.utils.TripleIndex` under its evaluation name
    (the same structure filters negatives in
    :class:`pyg_mmkg.loader.NegativeSampler`), kept for backward
    compatibility: one CSR per direction, so memory is
    :math:`\mathcal{O}(|\mathcal{T}|)`. Lookups return :obj:`(row, col)`
    index pairs into a :obj:`[B, N]` score matrix, so a whole batch of
    queries is filtered with a single indexing operation, *e.g.*,
    :obj:`scores[row, col] = float('nan')`.

    Args:
        head_index (torch.Tensor): The head indices of the true triples.
        rel_type (torch.Tensor): The relation types of the true triples.
        tail_index (torch.Tensor): The tail indices of the true triples.
        num_nodes (int, optional): The number of entities.
            (default: :obj:`None`, inferred from the triples)
        num_relations (int, optional): The number of relations.
            (default: :obj:`None`, inferred from the triples)
    """
