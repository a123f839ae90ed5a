import pytest
import torch

from train_testing import synthetic_kg  # noqa: F401


@pytest.fixture(autouse=True)
def one_thread():
    # Tiny graphs train fastest single-threaded, above all on a busy machine.
    num_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(num_threads)


@pytest.fixture
def kg():
    return synthetic_kg()
