"""Fixtures shared by the generator tests."""
import pytest


@pytest.fixture(scope="module")
def one_torch_thread():
    """Torch on one thread for a test module (restored afterwards): small tensors gain nothing from two, and
    spinning threads slow other work on a shared 2-core machine. Use with
    `pytestmark = pytest.mark.usefixtures("one_torch_thread")`."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
