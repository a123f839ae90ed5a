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
