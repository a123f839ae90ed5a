r"""Helpers shared by the model tests (a uniquely named module: several
`conftest` modules exist, so tests must not import from `conftest`)."""
import torch


def train_one_to_n(model, data, steps: int = 150, lr: float = 0.02):
    r"""Full-batch training with the model's published 1-N loss (or the
    softmax cross-entropy over reciprocal queries)."""
    from pyg_mmkg.data import triples
    from pyg_mmkg.train.batches import TrainBatch
    h, r, t = triples(data, 'train')
    R = model.num_relations
    h, r, t = torch.cat([h, t]), torch.cat([r, r + R]), torch.cat([t, h])
    batch = TrainBatch('1vsall', h, r, tail_index=t)
    optimizer = torch.optim.Adam(
        [p for p in model.parameters() if p.requires_grad], lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        encoded = model.encode()
        loss = model.training_loss(batch, encoded)
        if loss is None:
            loss = torch.nn.functional.cross_entropy(
                model.score_tails(h, r, encoded=encoded), t)
        loss.backward()
        optimizer.step()
    return model
