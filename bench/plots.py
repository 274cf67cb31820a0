"""PNG plots of a benchmark run (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import ticker

LABELS = {
    "generated": "roccogen (generated)",
    "sse_starlette": "sse-starlette",
    "starlette": "Starlette StreamingResponse\n(pre-encoded bytes)",
    "httpx_sse": "httpx-sse iter_sse\n(untyped)",
    "httpx_sse_validated": "httpx-sse +\nmodel_validate_json",
    "generated_async": "roccogen\n(async)",
    "httpx_sse_async": "httpx-sse aiter_sse\n(async)",
}
OURS, PEER = "#1f77b4", "#9e9e9e"
PEER_COLORS = {"sse_starlette": "#9e9e9e", "starlette": "#d0d0d0"}


def _bars(ax: Any, rates: dict[str, dict[str, float]], title: str) -> None:
    names = list(rates)
    medians = [rates[n]["median"] for n in names]
    low = [rates[n]["median"] - rates[n]["low"] for n in names]
    high = [rates[n]["high"] - rates[n]["median"] for n in names]
    colors = [OURS if n.startswith("generated") else PEER for n in names]
    ax.bar(range(len(names)), medians, yerr=[low, high], color=colors, capsize=4)
    ax.set_xticks(
        range(len(names)),
        [LABELS.get(n, n) for n in names],
        fontsize=8,
        rotation=20,
        ha="right",
        rotation_mode="anchor",
    )
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v / 1000:,.0f}k"))
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("events/s (median, min–max)")
    for i, m in enumerate(medians):
        ax.annotate(
            f"{m / 1000:,.0f}k",
            (i, m),
            ha="center",
            va="bottom",
            fontsize=8,
            xytext=(0, 3),
            textcoords="offset points",
        )


def events_plot(results: dict[str, Any], path: Path) -> None:
    """Bar charts: server single stream, client over loopback, in-memory decoding."""
    panels = [
        ("single_stream", "Server: one stream"),
        ("single_stream_paced", "Server: one event per loop iteration"),
        ("client", "Client: typed events over loopback"),
        ("decode", "Decoder: in memory"),
    ]
    present = [(k, t) for k, t in panels if k in results]
    if not present:
        return
    cols = min(len(present), 2)
    rows = (len(present) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 4.8 * rows), squeeze=False)
    for ax, (key, title) in zip(axes.flat, present, strict=False):
        _bars(ax, results[key]["rates"], title)
    for ax in list(axes.flat)[len(present) :]:
        ax.set_visible(False)
    fig.suptitle("Events per second (higher is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def fanout_plot(results: dict[str, Any], path: Path) -> None:
    """Grouped bars: server CPU % of a core and kB per connection at each fan-out size."""
    if "fan_out" not in results:
        return
    sizes = list(results["fan_out"])
    peers = tuple(results["fan_out"][sizes[0]]["cpu_pct"])
    width = 0.8 / len(peers)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, metric, label in (
        (axes[0], "cpu_pct", "server CPU, % of one core"),
        (axes[1], "kb_per_conn", "RSS delta per connection, kB"),
    ):
        for j, peer in enumerate(peers):
            xs = [i + (j - (len(peers) - 1) / 2) * width for i in range(len(sizes))]
            stats = [results["fan_out"][s][metric][peer] for s in sizes]
            med = [s["median"] for s in stats]
            err = [
                [s["median"] - s["low"] for s in stats],
                [s["high"] - s["median"] for s in stats],
            ]
            ax.bar(
                xs,
                med,
                width=width,
                yerr=err,
                capsize=4,
                label=LABELS[peer],
                color=OURS if peer == "generated" else PEER_COLORS.get(peer, PEER),
            )
        ax.set_xticks(range(len(sizes)), [f"{int(s):,} connections" for s in sizes])
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
    fig.suptitle("Fan-out at 1 event/s per connection (lower is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def generator_plot(results: dict[str, Any], path: Path, target_seconds: float) -> None:
    """Generator wall time, serial and formatting parts vs endpoints, log-log, linear guide."""
    if "generator" not in results:
        return
    sizes = results["generator"]["sizes"]
    ns = sorted(int(n) for n in sizes)
    total = [sizes[str(n)]["total"]["median"] for n in ns]
    fmt = [sizes[str(n)]["stages"]["format"] for n in ns]
    serial = [sizes[str(n)].get("serial_total", float("nan")) for n in ns]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.loglog(ns, total, "o-", color=OURS, label="roccogen build (build + write)")
    ax.loglog(ns, serial, "^:", color=PEER, label="the same, models not overlapped")
    ax.loglog(ns, fmt, "s--", color="#ff7f0e", label="formatting (in that serial build)")
    ref = ns[len(ns) // 2] if len(ns) > 2 else ns[0]
    per = sizes[str(ref)]["total"]["median"] / ref
    ax.loglog(ns, [per * n for n in ns], color="#bbbbbb", lw=0.8, label=f"linear from {ref}")
    ax.axhline(
        target_seconds,
        color="#d62728",
        lw=0.8,
        ls="-.",
        label=f"target: {max(ns):,} endpoints ≤ {target_seconds:g} s",
    )
    ax.set_xlabel("endpoints in the spec")
    ax.set_ylabel("seconds (median)")
    ax.set_title("Generator time vs spec size")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
