"""A benchmark run's plots (matplotlib, from the ``bench`` extra)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal


def plot_two_axes(
    path: Path,
    title: str,
    legend_at: Literal["upper left", "lower left"],
    draw: Callable[[Any, Any], None],
) -> None:
    """A plot with a left and a right y axis, which ``draw(left, right)`` fills, and one legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, left = plt.subplots(figsize=(7, 4))
    right = left.twinx()
    draw(left, right)
    handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    left.legend(handles, [str(h.get_label()) for h in handles], loc=legend_at, fontsize=8)
    left.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def plot(sweep: list[dict[str, Any]], path: Path) -> None:
    xs = [row["concurrency"] for row in sweep]

    def draw(left: Any, right: Any) -> None:
        left.plot(
            xs, [r["project_lifecycles_per_s"] for r in sweep], "o-", label="project lifecycles/s"
        )
        left.plot(
            xs,
            [r["baseline_lifecycles_per_s"] for r in sweep],
            "s--",
            label="bare baseline lifecycles/s",
        )
        left.set_xlabel("concurrent lifecycles")
        left.set_ylabel("lifecycles per second")
        right.plot(
            xs,
            [r["project_p99_ms"] for r in sweep],
            "^:",
            color="tab:red",
            label="project lifecycle p99",
        )
        right.set_ylabel("lifecycle p99 (ms)")

    plot_two_axes(path, "Four-order lifecycles against concurrency", "upper left", draw)
