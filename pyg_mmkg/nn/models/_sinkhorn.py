r"""Entropic optimal transport by Sinkhorn iterations in the log domain
(used by :class:`~pyg_mmkg.nn.models.OTKGE`)."""
from typing import Optional, Tuple

import torch
from torch import Tensor


def log_sinkhorn(
    cost: Tensor,
    a: Optional[Tensor] = None,
    b: Optional[Tensor] = None,
    epsilon: float = 10.0,
    max_iter: int = 1000,
    tol: float = 1e-9,
    check_every: int = 10,
) -> Tuple[Tensor, int]:
    r"""Solves the entropic optimal-transport problem

    .. math::
        \min_{\mathbf{P} \geq 0,\ \mathbf{P} \mathbf{1} = \mathbf{a},\
        \mathbf{P}^\top \mathbf{1} = \mathbf{b}} \langle \mathbf{P},
        \mathbf{C} \rangle - \epsilon H(\mathbf{P})

    with Sinkhorn's alternating scalings written in the log domain, so that
    large costs (where the kernel :math:`\exp(-\mathbf{C}/\epsilon)`
    underflows to zero) stay exact. With the dual potentials
    :math:`\mathbf{f}, \mathbf{g}`, each iteration updates the column
    potential first, then the row potential (the order of POT's and
    OTKGE's :obj:`sinkhorn_knopp`, whose :math:`\mathbf{v}` and
    :math:`\mathbf{u}` are :math:`e^{\mathbf{g}/\epsilon}` and
    :math:`e^{\mathbf{f}/\epsilon}`):

    .. math::
        g_j &= \epsilon \log b_j - \epsilon \log \sum_i
        \exp((f_i - C_{ij}) / \epsilon) \\
        f_i &= \epsilon \log a_i - \epsilon \log \sum_j
        \exp((g_j - C_{ij}) / \epsilon)

    and :math:`P_{ij} = \exp((f_i + g_j - C_{ij}) / \epsilon)`. Every
    :obj:`check_every` iterations the squared error of the column marginal,
    :math:`\|\mathbf{b} - \mathbf{P}^\top \mathbf{1}\|_2^2` (the row
    marginal is exact after each iteration), is compared with :obj:`tol`,
    as in OTKGE's solver; each problem of a batch stops on its own (keeps
    its iterate), and the loop ends when all have stopped.

    Args:
        cost (torch.Tensor): Cost matrices :obj:`[..., n, m]` (any leading
            batch dimensions).
        a (torch.Tensor, optional): Row marginals :obj:`[..., n]` or
            :obj:`[n]` (positive, summing to one). (default: uniform)
        b (torch.Tensor, optional): Column marginals :obj:`[..., m]` or
            :obj:`[m]`. (default: uniform)
        epsilon (float, optional): The entropic regularisation
            :math:`\epsilon` (POT's :obj:`reg`; OTKGE's kernel
            :math:`\exp(-\lambda \mathbf{C})` has :math:`\epsilon =
            1/\lambda`). (default: :obj:`10.0`)
        max_iter (int, optional): The maximum number of iterations.
            (default: :obj:`1000`)
        tol (float, optional): The stopping threshold of the squared
            marginal error. (default: :obj:`1e-9`)
        check_every (int, optional): How often the error is checked.
            (default: :obj:`10`)

    Returns:
        The plans :obj:`[..., n, m]` and the number of iterations run (by
        the slowest problem).
    """
    if epsilon <= 0:
        raise ValueError(f"'epsilon' must be positive (got {epsilon})")
    if max_iter < 1 or check_every < 1:
        raise ValueError("'max_iter' and 'check_every' must be positive")
    n, m = cost.shape[-2:]
    if a is None:
        a = cost.new_full((n, ), 1.0 / n)
    if b is None:
        b = cost.new_full((m, ), 1.0 / m)
    log_a = a.to(cost.dtype).log().expand(cost.shape[:-1])
    log_b = b.to(cost.dtype).log().expand(cost.shape[:-2] + (m, ))
    scaled = -cost / epsilon  # log kernel
    f = torch.zeros_like(log_a)  # potentials divided by epsilon
    g = torch.zeros_like(log_b)
    active = torch.ones(cost.shape[:-2], dtype=torch.bool,
                        device=cost.device)
    it = 0
    while it < max_iter:
        it += 1
        new_g = log_b - torch.logsumexp(scaled + f.unsqueeze(-1), dim=-2)
        new_f = log_a - torch.logsumexp(scaled + new_g.unsqueeze(-2), dim=-1)
        # Converged problems keep their iterate (each stops on its own):
        g = torch.where(active.unsqueeze(-1), new_g, g)
        f = torch.where(active.unsqueeze(-1), new_f, f)
        if it % check_every == 0:
            col = torch.logsumexp(scaled + f.unsqueeze(-1) + g.unsqueeze(-2),
                                  dim=-2).exp()
            err = (b.to(cost.dtype) - col).pow(2).sum(-1)
            active = active & (err > tol)
            if not bool(active.any()):
                break
    plan = (scaled + f.unsqueeze(-1) + g.unsqueeze(-2)).exp()
    return plan, it
