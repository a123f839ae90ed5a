"""One sLCWA step (sample k negatives, score, loss, backward, Adam) per
implementation, for ``k_sweep.py``. ``make_impl`` returns a function of a
positive batch ``[B, 3]`` (head, relation, tail)."""
import math

import torch
import torch.nn.functional as F

IMPLS = ['pyg-mmkg', 'pykeen', 'pyg', 'pure']


def mmkg_loss(loss):
    from pyg_mmkg.train import losses
    if loss == 'margin':
        return lambda p, n: losses.margin_ranking_loss(p, n, 1.0)
    if loss == 'bce':
        return lambda p, n: losses.bce_loss(p, n, 0.0)
    if loss == 'softplus':
        return losses.softplus_loss
    return lambda p, n: losses.self_adversarial_loss(p, n, 9.0, 1.0)


def make_impl(impl, name, loss, N, R, train, k, args):
    torch.manual_seed(0)
    if name == 'vlkge':
        return _vlkge(impl, N, R, k, args)
    return {'pyg-mmkg': _mmkg, 'pykeen': _pykeen, 'pyg': _pyg,
            'pure': _pure}[impl](name, loss, N, R, train, k, args)


def _step(opt, loss, after=None):
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    if after is not None:
        after()


def _mmkg(name, loss, N, R, train, k, args):
    from pyg_mmkg.loader import NegativeSampler
    from pyg_mmkg.nn import kge
    from pyg_mmkg.train.batches import TrainBatch
    from pyg_mmkg.train.objectives import slcwa_scores
    cls = {'transe': kge.TransE, 'distmult': kge.DistMult,
           'complex': kge.ComplEx, 'rotate': kge.RotatE}[name]
    model = cls(N, R, args.dim)
    sampler = NegativeSampler(num_nodes=N, num_negatives=k)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    fn = mmkg_loss(loss)

    def run(b):
        h, r, t = b.unbind(1)
        nh, nt = sampler.sample(h, r, t)
        batch = TrainBatch('slcwa', h, r, t, nh, nt)
        _step(opt, fn(*slcwa_scores(model, batch)))
    return run


def _vlkge(impl, N, R, k, args):
    if impl not in ('pyg-mmkg', 'pyg-mmkg-old'):
        return None
    from pyg_mmkg.loader import NegativeSampler
    from pyg_mmkg.nn.models import VLKGE
    from pyg_mmkg.train.batches import TrainBatch
    g = torch.Generator().manual_seed(0)
    feats = {'text': (torch.randn(N, 384, generator=g),
                      torch.ones(N, dtype=torch.bool))}
    model = VLKGE(N, R, args.dim, scorer='distmult',
                  modalities=('structure', 'text'), features=feats)
    sampler = NegativeSampler(num_nodes=N, num_negatives=k)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    fn = mmkg_loss('softplus')

    def run(b):
        h, r, t = b.unbind(1)
        nh, nt = sampler.sample(h, r, t)
        encoded = model.encode()
        if impl == 'pyg-mmkg':  # the trainer's path (training_loss hook)
            loss = model.training_loss(TrainBatch('slcwa', h, r, t, nh, nt),
                                       encoded)
        else:  # before score_sampled: B (1 + k) explicit triples
            B = h.numel()
            s = model(torch.cat([h, nh.reshape(-1)]),
                      torch.cat([r, r.repeat_interleave(k)]),
                      torch.cat([t, nt.reshape(-1)]), encoded=encoded)
            loss = fn(s[:B], s[B:].view(B, k))
        _step(opt, loss)
    return run


def _sample(h, t, N, k):
    B = h.numel()
    corrupt_head = torch.rand(B, k) < 0.5
    other = torch.randint(N, (B, k))
    return (torch.where(corrupt_head, other, h.view(-1, 1)),
            torch.where(corrupt_head, t.view(-1, 1), other))


def _pure(name, loss, N, R, train, k, args):
    dim = args.dim
    ent_dim = 2 * dim if name in ('complex', 'rotate') else dim
    rel_dim = 2 * dim if name == 'complex' else dim
    bound = 6. / math.sqrt(dim)
    ent = torch.empty(N, ent_dim).uniform_(-bound, bound).requires_grad_()
    rel = torch.empty(R, rel_dim).uniform_(-bound, bound).requires_grad_()
    opt = torch.optim.Adam([ent, rel], lr=1e-3, fused=True)
    fn = mmkg_loss(loss)

    def score(h, r, t):
        if name == 'transe':
            h, t = F.normalize(h, p=1.0, dim=-1), F.normalize(t, p=1.0, dim=-1)
            return -(h + r - t).norm(p=1.0, dim=-1)
        if name == 'distmult':
            return (h * r * t).sum(-1)
        hr, hi = h.chunk(2, -1)
        tr, ti = t.chunk(2, -1)
        if name == 'complex':
            rr, ri = r.chunk(2, -1)
            return ((hr * rr - hi * ri) * tr + (hr * ri + hi * rr) * ti).sum(-1)
        c, s = torch.cos(r), torch.sin(r)
        rot = torch.cat([c * hr - s * hi, c * hi + s * hr], -1)
        return 1.0 - torch.linalg.vector_norm(rot - t, dim=-1)

    def run(b):
        h, r, t = b.unbind(1)
        B = h.numel()
        nh, nt = _sample(h, t, N, k)
        hh = torch.cat([h, nh.reshape(-1)])
        rr = torch.cat([r, r.repeat_interleave(k)])
        tt = torch.cat([t, nt.reshape(-1)])
        s = score(F.embedding(hh, ent), F.embedding(rr, rel),
                  F.embedding(tt, ent))
        _step(opt, fn(s[:B], s[B:].view(B, k)))
    return run


def _pyg(name, loss, N, R, train, k, args):
    from torch_geometric.nn import kge
    cls = {'transe': kge.TransE, 'distmult': kge.DistMult,
           'complex': kge.ComplEx, 'rotate': kge.RotatE}[name]
    model = cls(N, R, args.dim)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    fn = mmkg_loss(loss)

    def run(b):
        h, r, t = b.unbind(1)
        B = h.numel()
        pos = model(h, r, t)
        # PyG draws one negative per positive: repeat the positives k times.
        nh, nr, nt = model.random_sample(h.repeat(k), r.repeat(k),
                                         t.repeat(k))
        neg = model(nh, nr, nt).view(k, B).t().contiguous()
        _step(opt, fn(pos, neg))
    return run


def _pykeen(name, loss, N, R, train, k, args):
    from pykeen import losses, models
    from pykeen.sampling import BasicNegativeSampler
    from pykeen.training import SLCWATrainingLoop
    from pykeen.triples import TriplesFactory
    tf = TriplesFactory(train, {str(i): i for i in range(N)},
                        {str(i): i for i in range(R)})
    if loss == 'margin':
        lf = losses.MarginRankingLoss(margin=1.0)
    elif loss == 'bce':
        lf = losses.BCEWithLogitsLoss()
    else:
        lf = losses.NSSALoss(margin=9.0, adversarial_temperature=1.0)
    kw = dict(triples_factory=tf, embedding_dim=args.dim, loss=lf,
              random_seed=0)
    if name == 'transe':
        model = models.TransE(scoring_fct_norm=1, **kw)
    elif name == 'distmult':
        model = models.DistMult(regularizer=None, **kw)
    elif name == 'complex':
        model = models.ComplEx(regularizer=None, **kw)
    else:
        model = models.RotatE(**kw)
    sampler = BasicNegativeSampler(mapped_triples=tf.mapped_triples,
                                   num_entities=N, num_negs_per_pos=k,
                                   corruption_scheme=('head', 'tail'))
    opt = torch.optim.Adam(model.get_grad_params(), lr=1e-3)

    def run(b):
        neg, mask = sampler.sample(b)
        batch = {'positives': b, 'negatives': neg}
        if mask is not None:
            batch['masks'] = mask
        value = SLCWATrainingLoop._process_batch_static(
            model, lf, None, batch, None, None)
        _step(opt, value, model.post_parameter_update)
    return run
