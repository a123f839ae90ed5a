r"""The literal combination functions :math:`g` of LiteralE."""
from typing import List, Sequence

import torch
from torch import Tensor
from torch.nn import Linear, ModuleList, Parameter

GATES = ('gated', 'linear')


class LiteralGate(torch.nn.Module):
    r"""LiteralE's :math:`g(\mathbf{e}, \mathbf{l}_1, \ldots, \mathbf{l}_k)`
    for one real-valued entity block of size :math:`d`.

    * :obj:`"gated"` (:obj:`Gate` / :obj:`GateMulti` of the official
      :obj:`model.py`):

      .. math::
          \mathbf{z} = \sigma(\mathbf{W}_{ze} \mathbf{e} + \sum_j
          \mathbf{W}_{zl_j} \mathbf{l}_j + \mathbf{b}), \quad
          \mathbf{h} = \tanh(\mathbf{W}_h [\mathbf{e}; \mathbf{l}_1; \ldots]
          + \mathbf{b}_h), \quad
          g = \mathbf{z} \odot \mathbf{h} + (1 - \mathbf{z}) \odot \mathbf{e}

    * :obj:`"linear"` (:obj:`glin`): :math:`g = \mathbf{W} [\mathbf{e};
      \mathbf{l}_1; \ldots] + \mathbf{b}`, followed by :math:`\tanh` when
      :obj:`tanh=True` (the official :obj:`ComplexLiteral` has it, the
      official :obj:`DistMultLiteral` does not).
    """
    def __init__(self, channels: int, literal_dims: Sequence[int],
                 gate: str = 'gated', tanh: bool = False):
        super().__init__()
        if gate not in GATES:
            raise ValueError(f"Unknown gate '{gate}' (choose from "
                             f"{', '.join(GATES)})")
        self.gate, self.tanh = gate, tanh
        self.literal_dims = list(literal_dims)
        in_dim = channels + sum(self.literal_dims)
        self.lin = Linear(in_dim, channels)  # W_h (gated) or W (linear)
        if gate == 'gated':
            self.gate_ent = Linear(channels, channels, bias=False)
            self.gate_lit = ModuleList(
                [Linear(dim, channels, bias=False)
                 for dim in self.literal_dims])
            self.gate_bias = Parameter(torch.zeros(channels))
        self.reset_parameters()

    def reset_parameters(self):
        # torch.nn.Linear's default initialisation, as in the official code
        # (only the embedding tables are Xavier-normal initialised there).
        self.lin.reset_parameters()
        if self.gate == 'gated':
            self.gate_ent.reset_parameters()
            for lin in self.gate_lit:
                lin.reset_parameters()
            torch.nn.init.zeros_(self.gate_bias)

    def forward(self, ent: Tensor, literals: List[Tensor]) -> Tensor:
        out = self.lin(torch.cat([ent] + list(literals), dim=-1))
        if self.gate == 'linear':
            return torch.tanh(out) if self.tanh else out
        z = self.gate_ent(ent) + self.gate_bias
        for lin, lit in zip(self.gate_lit, literals):
            z = z + lin(lit)
        z = torch.sigmoid(z)
        return z * torch.tanh(out) + (1.0 - z) * ent

    def extra_repr(self) -> str:
        return f'gate={self.gate}, literal_dims={self.literal_dims}'
