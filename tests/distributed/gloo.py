"""Two torch processes over gloo on loopback: ``spawn(body, out)`` runs ``body(rank, out)`` in
each, inside a process group with a 60 s collective timeout, so a rank that waits for nothing
fails instead of hanging."""

from __future__ import annotations

import datetime
import os
import socket
import sys
from collections.abc import Callable

import torch.distributed as dist
import torch.multiprocessing as mp

Body = Callable[[int, str], None]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(rank: int, world: int, port: int, body: Body, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    timeout = datetime.timedelta(seconds=60)
    dist.init_process_group("gloo", rank=rank, world_size=world, timeout=timeout)
    try:
        body(rank, out)
        dist.barrier()  # neither rank tears gloo down while the other is still in a collective
    finally:
        dist.destroy_process_group()
    # Gloo's worker threads can abort the interpreter's finalization ("terminate called
    # without an active exception"); the results are written, so leave without it.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def spawn(body: Body, out: str, world: int = 2) -> None:
    """Run ``body`` (a module-level function: it is pickled) on ``world`` ranks."""
    args = (world, free_port(), body, out)
    mp.start_processes(_worker, args=args, nprocs=world, start_method="spawn")
