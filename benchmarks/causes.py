"""Measurements behind the explanations of the missed targets in ``benchmarks/README.md``.

Each probe times the building blocks of a loss side by side (interleaved, as ``run.py`` does)
and writes ``causes.md``: where the time of a soft Dice goes, which fused alternatives exist in
each framework and what they cost, and how much of a small call is validation.
``python -m benchmarks.causes`` (``--sizes tiny`` for the smoke test).
"""

from __future__ import annotations

import argparse
import pathlib
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.run import WORKLOADS, available, interleaved, make_inputs
from xploss._options import DiceLossOptions


def options(dims: tuple[int, ...]) -> DiceLossOptions:
    """What a call validates (the options it passes), for ``_inputs.prepare``."""
    return DiceLossOptions().evolve({"axis": dims, "class_axis": 1})


Probe = dict[str, Callable[[], Any]]


def torch_reductions(shape: tuple[int, ...]) -> Probe:
    """The three sums of a soft Dice, and the fused forms of ``Σ y·p`` PyTorch has."""
    import torch

    y, p = (torch.from_numpy(a) for a in make_inputs(shape))
    dims = tuple(range(2, len(shape)))
    flat = (*shape[:2], -1)
    yf, pf = y.reshape(flat), p.reshape(flat)
    return {
        "sum(y*p)": lambda: torch.sum(y * p, dim=dims),
        "product y*p alone": lambda: y * p,
        "sum(y)": lambda: torch.sum(y, dim=dims),
        "linalg.vecdot": lambda: torch.linalg.vecdot(yf, pf),
        "einsum": lambda: torch.einsum("bcn,bcn->bc", yf, pf),
        "streaming limit": lambda: (torch.sum(y), torch.sum(p)),
    }


def numpy_reductions(shape: tuple[int, ...]) -> Probe:
    y, p = make_inputs(shape)
    dims = tuple(range(2, len(shape)))
    flat = (*shape[:2], -1)
    yf, pf = y.reshape(flat), p.reshape(flat)
    return {
        "sum(y*p)": lambda: np.sum(y * p, axis=dims),
        "sum(y)": lambda: np.sum(y, axis=dims),
        "vecdot": lambda: np.vecdot(yf, pf),
        "streaming limit": lambda: (np.sum(y), np.sum(p)),
    }


def jax_reductions(shape: tuple[int, ...]) -> Probe:
    """Channels-last under ``jax.jit``: the per-image sums are strided, the limit is not."""
    import jax
    import jax.numpy as jnp

    y, p = (jnp.asarray(np.moveaxis(a, 1, -1)) for a in make_inputs(shape))
    dims = tuple(range(1, len(shape) - 1))
    per_image = jax.jit(lambda y, p: jnp.sum(y * p, axis=dims))
    sums = jax.jit(lambda y: jnp.sum(y, axis=dims))
    limit = jax.jit(lambda y, p: (jnp.sum(y), jnp.sum(p)))
    return {
        "sum(y*p) per image and class": lambda: per_image(y, p).block_until_ready(),
        "sum(y) per image and class": lambda: sums(y).block_until_ready(),
        "streaming limit": lambda: jax.block_until_ready(limit(y, p)),
    }


def torch_bce(shape: tuple[int, ...]) -> Probe:
    """Forward and backward of the sigmoid BCE: the standard-only softplus form (seven
    elementwise passes) against PyTorch's fused ops, and xploss, which uses the fused softplus."""
    import torch
    import torch.nn.functional as F

    y_np, z_np = make_inputs(shape)
    y = torch.from_numpy(y_np)
    z = torch.from_numpy(4 * z_np - 2).requires_grad_()
    zero = torch.tensor(0.0)

    def softplus_form() -> None:
        magnitude = torch.abs(z)
        ((z + magnitude) / 2 + torch.log1p(torch.exp(-magnitude)) - z * y).mean().backward()

    import xploss
    import xploss.torch  # registers the namespace with PyTorch's fused softplus

    return {
        "xploss.binary_cross_entropy": lambda: xploss.binary_cross_entropy(
            y, z, from_logits=True
        ).backward(),
        "softplus form": softplus_form,
        "logaddexp(0, z) - z*y": lambda: (torch.logaddexp(zero, z) - z * y).mean().backward(),
        "F.binary_cross_entropy_with_logits": lambda: F.binary_cross_entropy_with_logits(
            z, y
        ).backward(),
    }


def numpy_overhead(shape: tuple[int, ...]) -> Probe:
    """A small call: validation and input preparation against the arithmetic."""
    import xploss
    from xploss._inputs import prepare

    y, p = make_inputs(shape)
    dims = tuple(range(2, len(shape)))

    def native() -> Any:
        tp = np.sum(y * p, axis=dims)
        dice = (2 * tp + 1e-5) / (np.sum(y, axis=dims) + np.sum(p, axis=dims) + 1e-5)
        return 1 - np.mean(dice)

    return {
        "native": native,
        "xploss.dice_loss": lambda: xploss.dice_loss(y, p, axis=dims),
        "validation and preparation alone": lambda: prepare(y, p, options(dims)),
    }


def torch_overhead(shape: tuple[int, ...]) -> Probe:
    import torch

    import xploss
    import xploss.torch as xt
    from xploss._inputs import prepare

    y, p = (torch.from_numpy(a) for a in make_inputs(shape))
    dims = tuple(range(2, len(shape)))
    module = xt.DiceLoss()

    def native() -> Any:
        tp = torch.sum(y * p, dim=dims)
        dice = (2 * tp + 1e-5) / (torch.sum(y, dim=dims) + torch.sum(p, dim=dims) + 1e-5)
        return 1 - torch.mean(dice)

    return {
        "native": native,
        "xploss.dice_loss": lambda: xploss.dice_loss(y, p, axis=dims),
        "xt.DiceLoss()": lambda: module(p, y),
        "validation and preparation alone": lambda: prepare(y, p, options(dims)),
    }


def numpy_rounding(shape: tuple[int, ...]) -> str:
    """Relative error of ``Σ y·p`` in float32 against float64, per reduction."""
    y, p = make_inputs(shape)
    yf, pf = y.reshape(-1), p.reshape(-1)
    exact = float(np.dot(yf.astype(np.float64), pf.astype(np.float64)))
    errors = {
        "sum(y*p) (pairwise)": abs(float(np.sum(yf * pf)) - exact) / exact,
        "vecdot": abs(float(np.vecdot(yf, pf)) - exact) / exact,
    }
    return ", ".join(f"{name}: {error:.1e}" for name, error in errors.items())


def section(title: str, timings: dict[str, Any], baseline: str) -> list[str]:
    base = timings[baseline]["median"]
    lines = [f"### {title}", "", f"| | median | / {baseline} |", "|---|---|---|"]
    for name, t in timings.items():
        lines.append(f"| {name} | {t['median'] * 1e3:.3f} ms | {t['median'] / base:.2f} |")
    return [*lines, ""]


def run(sizes: str, repeats: int, budget: float) -> str:
    workloads = WORKLOADS[sizes]
    small = next(iter(workloads.values()))
    large = list(workloads.values())[-2]
    lines = [
        "# Where the time goes",
        "",
        "Written by `python -m benchmarks.causes`; medians of interleaved repeats in one process.",
        "",
    ]
    probes: list[tuple[str, str, Callable[[tuple[int, ...]], Probe], tuple[int, ...], str]] = [
        ("numpy", "NumPy: the reductions", numpy_reductions, large, "streaming limit"),
        ("numpy", "NumPy: one small call", numpy_overhead, small, "native"),
        ("torch", "PyTorch eager: the reductions", torch_reductions, large, "streaming limit"),
        ("torch", "PyTorch eager: one small call", torch_overhead, small, "native"),
        ("torch", "PyTorch eager: sigmoid BCE, fwd+bwd", torch_bce, large, "softplus form"),
        ("jax", "JAX jit, channels-last: the reductions", jax_reductions, large, "streaming limit"),
    ]
    for module, title, probe, shape, baseline in probes:
        if not available(module):
            continue
        shape_text = "×".join(map(str, shape))
        timings = interleaved(probe(shape), repeats, budget)
        lines += section(f"{title} ({shape_text})", timings, baseline)
    shape_text = "×".join(map(str, large))
    lines += [
        f"Float32 rounding of `Σ y·p` over all {shape_text} elements, relative to float64: "
        f"{numpy_rounding(large)}.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", choices=list(WORKLOADS), default="full")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--budget", type=float, default=0.05, help="seconds per measurement")
    parser.add_argument("--out", default=str(pathlib.Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    text = run(args.sizes, args.repeats, args.budget)
    (out / "causes.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
