"""Turn ``results.json`` into a markdown table of ratios and a PNG plot."""

from __future__ import annotations

import json
import pathlib
import statistics
import sys
from typing import Any


def ratio(group: dict[str, Any], a: str, b: str) -> tuple[float, float, float] | None:
    """Median and range of the per-repeat ratios a/b (the repeats were interleaved)."""
    timings = group["timings"]
    if a not in timings or b not in timings:
        return None
    ratios = [x / y for x, y in zip(timings[a]["times"], timings[b]["times"], strict=True)]
    return statistics.median(ratios), min(ratios), max(ratios)


def fmt(r: tuple[float, float, float] | None) -> str:
    return "" if r is None else f"{r[0]:.2f} ({r[1]:.2f}–{r[2]:.2f})"


def table(results: dict[str, Any]) -> str:
    rows = [
        "| framework | mode | pass | workload | xploss | xploss / native | xploss − native "
        "| xploss / anchor | xploss / streaming |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for g in results["groups"]:
        t = g["timings"]
        ours = next((k for k in t if k.startswith("xploss")), None)
        if ours is None:
            continue
        anchors = [
            k
            for k in t
            if k not in ("xploss", "native", "streaming limit") and not k.startswith("xploss")
        ]
        # the Dice groups feed optax logits: it is compared with xploss on the same logits and
        # softmax; the entropy groups feed every implementation logits already
        as_optax = "xploss (softmax, as optax)" if "xploss (softmax, as optax)" in t else "xploss"
        mine = {k: as_optax if k.startswith("optax") else "xploss" for k in anchors}
        anchor_text = "; ".join(
            f"{k}: {fmt(ratio(g, mine[k], k))}" for k in anchors if ratio(g, mine[k], k)
        )
        if g["workload"].endswith("(GD, Dice+CE)"):
            gd = ratio(g, "xploss GeneralizedDiceLoss", "MONAI GeneralizedDiceLoss")
            ce = ratio(g, "xploss Dice + CE", "MONAI DiceCELoss")
            bce = ratio(g, "xploss BCEDiceLoss", "native BCE-Dice")
            anchor_text = (
                f"GD vs MONAI GDL: {fmt(gd)}; Dice + CE vs MONAI DiceCE: {fmt(ce)}; "
                f"BCE-Dice vs native: {fmt(bce)}"
            )
        native = t.get("native")
        delta = "" if native is None else f"{(t[ours]['median'] - native['median']) * 1e6:+.1f} µs"
        rows.append(
            f"| {g['framework']} | {g['mode']} | {g['pass']} | {g['workload']} | "
            f"{t[ours]['median'] * 1e3:.3f} ms | {fmt(ratio(g, 'xploss', 'native'))} | {delta} | "
            f"{anchor_text} | {fmt(ratio(g, 'xploss', 'streaming limit'))} |"
        )
    return "\n".join(rows)


def plot(results: dict[str, Any], path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [g for g in results["groups"] if ratio(g, "xploss", "native")]
    labels = [f"{g['framework']} {g['mode']} {g['pass']}\n{g['workload']}" for g in groups]
    medians = [ratio(g, "xploss", "native")[0] for g in groups]  # type: ignore[index]
    figure, axes = plt.subplots(figsize=(10, 0.28 * len(groups) + 1.5))
    colours = ["tab:green" if m <= 1.05 else "tab:orange" for m in medians]
    axes.barh(range(len(groups)), medians, color=colours)
    axes.axvline(1.0, color="black", linewidth=0.8)
    axes.axvline(1.05, color="grey", linestyle="--", linewidth=0.8)
    axes.set_yticks(range(len(groups)), labels, fontsize=6)
    axes.invert_yaxis()
    axes.set_xlabel("time of xploss / time of the hand-written native loss (median)")
    axes.set_title("xploss vs the native loss, same process, interleaved")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def write(results: dict[str, Any], out: pathlib.Path) -> None:
    machine = results["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
    text = (
        f"Machine: {machine['platform']}, {machine['cpus']} CPUs. Versions: {versions}.\n\n"
        "Ratios are medians (min–max) of per-repeat ratios; the implementations ran interleaved "
        "in one process.\n\n" + table(results) + "\n"
    )
    for key, label in (("numpy_peak_memory", "NumPy"), ("torch_peak_memory", "PyTorch")):
        memory = results.get(key)
        if memory is None:
            continue
        memory_text = ", ".join(f"{k}: {v:.2f}" for k, v in memory.items() if k != "shape")
        text += (
            f"\n{label} eager forward, peak memory allocated during the call, in input sizes "
            f"(shape {tuple(memory['shape'])}): {memory_text}.\n"
        )
    for framework, memory in results.get("many_classes_peak_memory", {}).items():
        memory_text = ", ".join(f"{k}: {v:.2f}" for k, v in memory.items() if k != "shape")
        what = "forward + backward" if framework == "torch" else "forward"
        text += (
            f"\nMany classes, {framework} eager {what}, peak memory allocated during the call, "
            f"in input sizes (shape {tuple(memory['shape'])}, sparse labels): {memory_text}.\n"
        )
    (out / "table.md").write_text(text)
    plot(results, out / "ratios.png")
    print(text)


if __name__ == "__main__":
    directory = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results")
    write(json.loads((directory / "results.json").read_text()), directory)
