"""torch.distributed set-up for trainers started by ``torchrun`` (one helper for all of them).

``rank, world, device = init_distributed("cuda")`` joins the process group that torchrun's
environment describes (nccl on CUDA, gloo on CPU) and puts each process on its local GPU;
outside torchrun it returns ``(0, 1, device)`` and does nothing.
"""

from __future__ import annotations

import datetime
import os

import torch


def init_distributed(device: str | torch.device = "cpu") -> tuple[int, int, torch.device]:
    """``(rank, world_size, device)``; ``device`` honoured (``cuda`` becomes ``cuda:LOCAL_RANK``)."""
    device = torch.device(device)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    if world <= 1:
        return 0, 1, device
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                                timeout=datetime.timedelta(hours=12))
    return dist.get_rank(), dist.get_world_size(), device


def average_gradients(params, world: int) -> None:
    """Average the ``.grad`` of ``params`` over the ``world`` processes (parameters outside DDP)."""
    if world <= 1:
        return
    import torch.distributed as dist

    for p in params:
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= world
