"""Per-call CPU time on small inputs (2×1×32×32), in µs: the cost of validation and dispatch.

``python -m benchmarks.overhead`` prints one JSON line: the best of 3×5 runs of 200 calls each,
timed with the process's CPU clock (``time.process_time``), which other processes on the machine
disturb far less than wall time. Run it once per version to compare (``benchmarks/README.md``).
"""

import json
import time
import timeit

import numpy as np
import torch

import xploss
import xploss.torch as xt


def main() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random((2, 32, 32, 1)) < 0.3).astype(np.float32)
    p = rng.random((2, 32, 32, 1)).astype(np.float32)
    yt, pt = (
        torch.from_numpy(np.moveaxis(y, -1, 1).copy()),
        torch.from_numpy(np.moveaxis(p, -1, 1).copy()),
    )
    pg = pt.clone().requires_grad_()
    module = xt.DiceLoss()
    cases = {
        "numpy dice_loss default": lambda: xploss.dice_loss(y, p),
        "numpy dice_loss axis=(1,2,3)": lambda: xploss.dice_loss(y, p, axis=(1, 2, 3)),
        "torch functional axis=(2,3)": lambda: xploss.dice_loss(yt, pt, axis=(2, 3)),
        "torch DiceLoss forward": lambda: module(pt, yt),
        "torch DiceLoss fwd+bwd": lambda: module(pg, yt).backward(),
    }
    out = {}
    for name, fn in cases.items():
        for _ in range(200):
            fn()
        times = [
            min(timeit.Timer(fn, timer=time.process_time).repeat(number=200, repeat=5)) / 200 * 1e6
            for _ in range(3)
        ]
        out[name] = min(times)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
