"""Building blocks of :class:`pyg_mmkg.nn.models.MoMoK`: the
relation-guided mixture of experts, the adaptive fusion of modalities and
the CLUB mutual-information estimator."""
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import (Dropout, Linear, ModuleList, Parameter, ReLU,
                      Sequential, Tanh)


class _Experts(torch.nn.Module):
    r"""ReMoKE: :math:`K` "whitening" experts :math:`\mathbf{W}_k
    (\mathbf{x} - \mathbf{b}_k)` mixed by a (noisy) gate whose softmax is
    sharpened per relation by the temperature :math:`\sigma(\theta_r)`."""
    def __init__(self, channels, num_experts, num_relations, noisy, dropout):
        super().__init__()
        self.weight = Parameter(torch.empty(num_experts, channels, channels))
        self.bias = Parameter(torch.empty(num_experts, channels))
        self.gate = Parameter(torch.empty(channels, num_experts))
        self.noise = (Parameter(torch.empty(channels, num_experts))
                      if noisy else None)
        self.temperature = Parameter(torch.empty(num_relations))
        self.dropout = Dropout(dropout)

    def reset_parameters(self):
        torch.nn.init.normal_(self.weight, std=0.02)
        torch.nn.init.zeros_(self.bias)
        torch.nn.init.normal_(self.gate, std=0.02)
        if self.noise is not None:
            torch.nn.init.zeros_(self.noise)
        torch.nn.init.zeros_(self.temperature)

    def forward(self, x: Tensor,
                rel_type: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        # Expert outputs [M, K, d] and their gated mixture [M, d]:
        out = torch.einsum('mkd,ked->mke',
                           self.dropout(x).unsqueeze(1) - self.bias,
                           self.weight)
        logits = x @ self.gate
        if self.training and self.noise is not None:
            std = F.softplus(x @ self.noise) + 0.01
            logits = logits + torch.randn_like(logits) * std
        if rel_type is not None:  # Relation-specific temperature.
            logits = logits / torch.sigmoid(
                self.temperature[rel_type]).unsqueeze(-1)
        gate = torch.softmax(logits, dim=-1)
        return (gate.unsqueeze(-1) * out).sum(1), out


class _Fusion(torch.nn.Module):
    r"""Adaptive fusion of modality vectors: :math:`\sum_i \sum_m
    \alpha_{i,m} \mathrm{ReLU}(\mathbf{W}^m_i \mathbf{x}_m)` with
    :math:`\alpha_i = \mathrm{softmax}_m(\mathbf{w}_i^{\top}
    \mathrm{ReLU}(\mathbf{W}^m_i \mathbf{x}_m))`."""
    def __init__(self, num_modalities, channels, num_layers=2, dropout=0.2):
        super().__init__()
        self.proj = ModuleList([
            ModuleList([Linear(channels, channels)
                        for _ in range(num_modalities)])
            for _ in range(num_layers)
        ])
        self.att = ModuleList([Linear(channels, 1, bias=False)
                               for _ in range(num_layers)])
        self.dropout = Dropout(dropout)

    def reset_parameters(self):
        for mod in self.modules():
            if isinstance(mod, Linear):
                mod.reset_parameters()
                if mod.bias is not None:  # No unit starts dead.
                    torch.nn.init.zeros_(mod.bias)

    def forward(self, xs: List[Tensor]) -> Tensor:
        out = 0
        for proj, att in zip(self.proj, self.att):
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
