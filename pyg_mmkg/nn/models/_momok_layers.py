"""Building blocks of :class:`pyg_mmkg.nn.models.MoMoK`: the
relation-guided mixture of experts, the adaptive fusion of modalities, the
CLUB mutual-information estimator with its training (ExID), and the
published training recipes."""
import copy
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import (Dropout, Linear, ModuleList, Parameter, ReLU,
                      Sequential, Tanh)


class _Experts(torch.nn.Module):
    r"""ReMoKE: :math:`K` "whitening" experts :math:`\mathbf{W}_k
    (\mathbf{x} - \mathbf{b}_k)` mixed by a (noisy) gate whose softmax is
    sharpened per query by the relation temperature
    :math:`\sigma(\theta_r)`.

    The temperature logits :math:`\theta_r` are given to :meth:`forward`
    (MoMoK shares one vector of them across its modalities); with
    :obj:`num_relations` set, the adaptor holds its own vector
    :obj:`temperature` instead (the per-modality variant)."""
    def __init__(self, channels, num_experts, noisy, dropout,
                 num_relations: Optional[int] = None):
        super().__init__()
        self.weight = Parameter(torch.empty(num_experts, channels, channels))
        self.bias = Parameter(torch.empty(num_experts, channels))
        self.gate = Parameter(torch.empty(channels, num_experts))
        self.noise = (Parameter(torch.empty(channels, num_experts))
                      if noisy else None)
        self.temperature = (Parameter(torch.empty(num_relations))
                            if num_relations is not None else None)
        self.dropout = Dropout(dropout)

    def reset_parameters(self):
        # As the official MoEAdaptorLayer (experts N(0, 0.02) without bias
        # after the product, whitening biases and noise weights zero),
        # except the gate: N(0, 0.02), not zero, so that the temperatures
        # receive gradient from the first step also without gate noise.
        torch.nn.init.normal_(self.weight, std=0.02)
        torch.nn.init.zeros_(self.bias)
        torch.nn.init.normal_(self.gate, std=0.02)
        if self.noise is not None:
            torch.nn.init.zeros_(self.noise)
        if self.temperature is not None:  # nn.Embedding's N(0, 1).
            torch.nn.init.normal_(self.temperature)

    def forward(self, x: Tensor,
                theta: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        r"""Returns the gated mixture :obj:`[M, d]` and the expert outputs
        :obj:`[M, K, d]` of the rows :obj:`x`; :obj:`theta` :obj:`[M]`
        holds the temperature logits of the rows' query relations
        (:obj:`None` for candidates: plain softmax)."""
        out = torch.einsum('mkd,ked->mke',
                           self.dropout(x).unsqueeze(1) - self.bias,
                           self.weight)
        logits = x @ self.gate
        if self.training and self.noise is not None:
            std = F.softplus(x @ self.noise) + 0.01
            logits = logits + torch.randn_like(logits) * std
        if theta is not None:  # Relation-specific temperature.
            logits = logits / torch.sigmoid(theta).unsqueeze(-1)
        gate = torch.softmax(logits, dim=-1)
        return (gate.unsqueeze(-1) * out).sum(1), out


class _Fusion(torch.nn.Module):
    r"""Adaptive fusion of modality vectors: :math:`\sum_i \sum_m
    \alpha_{i,m} \mathbf{h}_{i,m}` with :math:`\mathbf{h}_{i,m} =
    \mathrm{ReLU}(\mathbf{W}^m_i \mathrm{drop}(\mathbf{x}_m) +
    \mathbf{c}^m_i)` and :math:`\alpha_i = \mathrm{softmax}_m(\mathbf{w}^
    {\top} \mathbf{h}_{i,m})`. The attention vector :math:`\mathbf{w}` is
    shared by the heads :math:`i` (official :obj:`ent_attn`); with
    :obj:`shared_attention=False` each head has its own
    :math:`\mathbf{w}_i`."""
    def __init__(self, num_modalities, in_channels, out_channels=None,
                 num_layers=2, dropout=0.2, shared_attention=True):
        super().__init__()
        out_channels = out_channels or in_channels
        self.proj = ModuleList([
            ModuleList([Linear(in_channels, out_channels)
                        for _ in range(num_modalities)])
            for _ in range(num_layers)
        ])
        self.shared_attention = shared_attention
        if shared_attention:
            self.att = Linear(out_channels, 1, bias=False)
        else:
            self.att = ModuleList([Linear(out_channels, 1, bias=False)
                                   for _ in range(num_layers)])
        self.dropout = Dropout(dropout)

    def reset_parameters(self):
        for mod in self.modules():  # PyTorch's defaults, as the official.
            if isinstance(mod, Linear):
                mod.reset_parameters()

    def forward(self, xs: List[Tensor]) -> Tensor:
        out = 0
        for i, proj in enumerate(self.proj):
            att = self.att if self.shared_attention else self.att[i]
            h = torch.stack([F.relu(p(self.dropout(x)))
                             for p, x in zip(proj, xs)], dim=1)  # [M, P, d]
            alpha = torch.softmax(att(h), dim=1)
            out = out + (alpha * h).sum(1)
        return out


class _CLUB(torch.nn.Module):
    r"""The sampled CLUB upper bound on :math:`I(\mathbf{x}; \mathbf{y})`
    with a Gaussian variational :math:`q(\mathbf{y} | \mathbf{x})`."""
    def __init__(self, channels, hidden):
        super().__init__()
        self.mu = Sequential(Linear(channels, hidden), ReLU(),
                             Linear(hidden, channels))
        self.logvar = Sequential(Linear(channels, hidden), ReLU(),
                                 Linear(hidden, channels), Tanh())

    def reset_parameters(self):
        for mod in self.modules():
            if isinstance(mod, Linear):
                mod.reset_parameters()

    def nll(self, x: Tensor, y: Tensor) -> Tensor:
        mu, logvar = self.mu(x), self.logvar(x)
        return 0.5 * ((mu - y)**2 / logvar.exp() + logvar).sum(-1).mean()

    def forward(self, x: Tensor, y: Tensor, perm: Tensor) -> Tensor:
        mu, logvar = self.mu(x), self.logvar(x)
        pos = (mu - y)**2
        neg = (mu - y[perm])**2
        return ((neg - pos) / (2 * logvar.exp())).sum(-1).mean()


_SOURCE = 'zjukg/MoMoK@99c2df1'
_NOTES = ('KvsAll over (h, r) and (t, r^-1) queries as the official '
          'ConvECorpus, so one official epoch is one library epoch. '
          'Targets: the official 0.9 y + 1/N is approximated by label '
          'smoothing 0.1, (1 - 0.1) y + 0.1 / N. ExponentialLR with gamma '
          '1.0 (a constant rate) is scheduler "none". The official loop '
          'evaluates test every 100 epochs and keeps the best test metrics '
          'without early stopping; here validation every 100 epochs picks '
          'the model. The CLUB estimator uses the model lr, as the '
          'official optimizer_mi.')


def _recipe(where: str, dim: int, lr: float):
    from pyg_mmkg.train.recipes import Recipe
    return Recipe(
        dict(regime='kvsall', loss='bce', label_smoothing=0.1,
             optimizer='adam', lr=lr, weight_decay=0.0, scheduler='none',
             batch_size=1024, epochs=2000, eval_every=100, patience=None,
             dim=dim,
             model_kwargs=dict(relation_channels=256, num_experts=3,
                               mu=1e-4, estimator_lr=lr, noisy_gating=True,
                               decision_loss='bce')),
        source=f'{_SOURCE} {where}', notes=_NOTES)


class _ExID:
    r"""ExID, the expert information disentanglement of
    :class:`~pyg_mmkg.nn.models.MoMoK` (a mixin): random expert pairs, the
    CLUB bound on their mutual information, and the estimator's own Adam
    step, whose state travels in the model's :meth:`state_dict`."""
    def _pairs(self, experts: Dict[str, Tensor]):
        # Two distinct random experts per modality and a permutation.
        out = {}
        for m, e in experts.items():
            K = e.size(1)
            i = int(torch.randint(K, (1, )))
            j = (i + int(torch.randint(1, K, (1, )))) % K
            perm = torch.randperm(e.size(0), device=e.device)
            out[m] = (e[:, i], e[:, j], perm)
        return out

    def _estimator_optimizer(self) -> torch.optim.Adam:
        # Kept out of the module tree (not a parameter owner); its state
        # travels in checkpoints through `get_extra_state`.
        params = list(self.club.parameters())
        opt = self.__dict__.get('_estimator_opt')
        if opt is None or opt.param_groups[0]['params'][0] is not params[0]:
            opt = torch.optim.Adam(params, lr=self.estimator_lr)
            self.__dict__['_estimator_opt'] = opt
        return opt

    def get_extra_state(self) -> Dict[str, Any]:
        r"""The CLUB estimator's Adam state, so that a resumed run continues
        the estimator exactly (part of :meth:`state_dict`)."""
        opt = self.__dict__.get('_estimator_opt')
        # A copy: Adam updates its moments in place.
        return {'estimator_optimizer':
                None if opt is None else copy.deepcopy(opt.state_dict())}

    def set_extra_state(self, state: Dict[str, Any]) -> None:
        saved = (state or {}).get('estimator_optimizer')
        if saved is None:
            self.__dict__.pop('_estimator_opt', None)
        elif len(self.club) > 0:
            self._estimator_optimizer().load_state_dict(saved)

    def estimator_step(self, pairs) -> float:
        r"""One Adam step of the CLUB estimators on detached expert outputs
        (minimising the Gaussian negative log-likelihood); returns it."""
        params = list(self.club.parameters())
        opt = self._estimator_optimizer()
        self.club.requires_grad_(True)
        try:
            with torch.enable_grad():
                nll = sum(self.club[m].nll(x.detach(), y.detach())
                          for m, (x, y, _) in pairs.items()) / len(pairs)
                grads = torch.autograd.grad(nll, params, allow_unused=True)
        finally:
            self.club.requires_grad_(False)
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
        for p in params:
            p.grad = None
        return float(nll.detach())

    def mutual_information(self, pairs) -> Tensor:
        r"""The CLUB bound averaged over the modalities."""
        return sum(self.club[m](x, y, perm)
                   for m, (x, y, perm) in pairs.items()) / len(pairs)
