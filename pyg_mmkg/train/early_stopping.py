"""Early stopping on a validation metric."""
import math
from typing import Any, Dict, Optional


class EarlyStopping:
    r"""Tracks the best value of a validation metric (higher is better) and
    says when to stop.

    Args:
        patience (int, optional): Number of validations without improvement
            after which :attr:`should_stop` becomes :obj:`True`;
            :obj:`None` never stops. (default: :obj:`None`)
        min_delta (float): Smallest change counted as an improvement.
            (default: :obj:`0.0`)
        min_epochs (int): Never stop before this epoch (long plateaus at
            the start of 1-N training would otherwise end a run at random
            level). (default: :obj:`0`)
    """
    def __init__(self, patience: Optional[int] = None,
                 min_delta: float = 0.0, min_epochs: int = 0):
        self.patience = patience
        self.min_delta = min_delta
        self.min_epochs = int(min_epochs)
        self.best_value = -math.inf
        self.best_epoch: Optional[int] = None
        self.num_bad = 0
        self.should_stop = False

    def step(self, value: float, epoch: int) -> bool:
        r"""Records the validation :obj:`value` of :obj:`epoch`; returns
        :obj:`True` if it is a new best (better by more than
        :obj:`min_delta`; NaN never is).

        Args:
            value (float): The validation metric (higher is better).
            epoch (int): The epoch it was measured after.
        """
        value = float(value)
        if math.isnan(value):
            improved = False
        else:
            improved = value > self.best_value + self.min_delta
        if improved:
            self.best_value = value
            self.best_epoch = int(epoch)
            self.num_bad = 0
        else:
            self.num_bad += 1
            if (self.patience is not None and self.num_bad >= self.patience
                    and epoch >= self.min_epochs):
                self.should_stop = True
        return improved

    def state_dict(self) -> Dict[str, Any]:
        return dict(best_value=self.best_value, best_epoch=self.best_epoch,
                    num_bad=self.num_bad, should_stop=self.should_stop)

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        r"""Restores the state saved by :meth:`state_dict`.

        Args:
            state (Dict[str, Any]): The saved state.
        """
        self.best_value = float(state['best_value'])
        self.best_epoch = state['best_epoch']
        self.num_bad = int(state['num_bad'])
        self.should_stop = bool(state['should_stop'])

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(patience={self.patience}, '
                f'best={self.best_value:.4f}@{self.best_epoch})')
