"""A minimal hand-written sLCWA training loop in plain PyTorch.

This is the practical speed limit the benchmark compares against: one
parameter tensor per table, one random permutation per epoch, one negative
per positive (head or tail corrupted with probability 1/2), positives and
negatives scored in one call, and ``torch.optim.Adam(fused=True)``.
The scores and losses are the ones of ``torch_geometric.nn.kge``:
margin ranking loss (margin 1) for TransE and DistMult, binary
cross-entropy for ComplEx and RotatE.
"""
import math

import torch
import torch.nn.functional as F

__all__ = ['PureTorchKGE']


class PureTorchKGE:
    def __init__(self, name, num_nodes, num_relations, dim=200, lr=0.01,
                 seed=0, gather='index'):
        # gather='index': ent[idx] (backward: index_put_ with accumulate);
        # gather='embedding': F.embedding (backward: embedding_dense_backward,
        # as nn.Embedding in PyG / pyg-mmkg).
        self.gather = gather
        g = torch.Generator().manual_seed(seed)
        self.name, self.num_nodes = name, num_nodes
        complex_ent = name in ('complex', 'rotate')
        ent_dim = 2 * dim if complex_ent else dim
        rel_dim = 2 * dim if name == 'complex' else dim
        bound = 6. / math.sqrt(dim)
        self.ent = torch.empty(num_nodes, ent_dim).uniform_(
            -bound, bound, generator=g).requires_grad_()
        if name == 'rotate':
            rel = torch.rand(num_relations, rel_dim, generator=g) * 2 * math.pi
        else:
            rel = torch.empty(num_relations, rel_dim).uniform_(
                -bound, bound, generator=g)
        self.rel = rel.requires_grad_()
        self.opt = torch.optim.Adam([self.ent, self.rel], lr=lr, fused=True)
        self.gen = torch.Generator().manual_seed(seed)

    def score(self, h, r, t):
        n = self.name
        if n == 'transe':
            h, t = F.normalize(h, p=1.0, dim=-1), F.normalize(t, p=1.0, dim=-1)
            return -(h + r - t).norm(p=1.0, dim=-1)
        if n == 'distmult':
            return (h * r * t).sum(-1)
        if n == 'complex':
            hr, hi = h.chunk(2, -1)
            rr, ri = r.chunk(2, -1)
            tr, ti = t.chunk(2, -1)
            return ((hr * rr - hi * ri) * tr + (hr * ri + hi * rr) * ti).sum(-1)
        # rotate
        hr, hi = h.chunk(2, -1)
        c, s = torch.cos(r), torch.sin(r)
        rot = torch.cat([c * hr - s * hi, c * hi + s * hr], -1)
        return 1.0 - torch.linalg.vector_norm(rot - t, dim=-1)

    def loss(self, pos, neg):
        if self.name in ('transe', 'distmult'):
            return F.relu(1.0 - pos + neg).mean()
        scores = torch.cat([pos, neg])
        target = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)])
        return F.binary_cross_entropy_with_logits(scores, target)

    def train_epoch(self, h_all, r_all, t_all, batch_size=1024,
                    max_batches=None):
        n = h_all.numel()
        perm = torch.randperm(n, generator=self.gen)
        total = 0.0
        for i, start in enumerate(range(0, n, batch_size)):
            if max_batches is not None and i >= max_batches:
                break
            idx = perm[start:start + batch_size]
            h, r, t = h_all[idx], r_all[idx], t_all[idx]
            b = idx.numel()
            corrupt_head = torch.rand(b, generator=self.gen) < 0.5
            other = torch.randint(0, self.num_nodes, (b, ),
                                  generator=self.gen)
            nh = torch.where(corrupt_head, other, h)
            nt = torch.where(corrupt_head, t, other)
            hh, rr, tt = torch.cat([h, nh]), torch.cat([r, r]), torch.cat(
                [t, nt])
            if self.gather == 'index':
                s = self.score(self.ent[hh], self.rel[rr], self.ent[tt])
            else:
                s = self.score(F.embedding(hh, self.ent),
                               F.embedding(rr, self.rel),
                               F.embedding(tt, self.ent))
            loss = self.loss(s[:b], s[b:])
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            total += float(loss.detach())
        return total
