"""Vocoder tests run torch on one thread: tiny convolutions gain nothing from two, and on a
shared 2-core machine thread hand-offs dominate their run time."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
