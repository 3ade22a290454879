"""The results table (printed row by row, and as markdown) and the plot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HEADER = ("case", "db", "goals", "measured", "floor", "ratio", "target", "ok")


@dataclass
class Result:
    """One row of the table."""

    case: str
    db: str
    goals: int | None
    measured: str
    floor: str = ""
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None

    def cells(self) -> tuple[str, ...]:
        """The row as text."""
        return (
            self.case,
            self.db,
            "" if self.goals is None else f"{self.goals:,}".replace(",", " "),
            self.measured,
            self.floor,
            "" if self.ratio is None else f"{self.ratio:.2f}x",
            self.target,
            {None: "", True: "yes", False: "NO"}[self.ok],
        )


WIDTHS = (40, 10, 9, 16, 16, 8, 12, 3)


def print_header() -> None:
    """The table's heading on stdout."""
    print("  ".join(h.ljust(w) for h, w in zip(HEADER, WIDTHS, strict=True)), flush=True)


def print_row(result: Result) -> None:
    """One row on stdout, as soon as the case has run."""
    cells = result.cells()
    print("  ".join(c.ljust(w) for c, w in zip(cells, WIDTHS, strict=True)), flush=True)


def markdown(results: list[Result]) -> str:
    """The table as markdown."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in results]
    return "\n".join(lines) + "\n"


@dataclass
class Series:
    """Request time (seconds) against number of goals, for the plot."""

    label: str
    points: dict[int, float]
    style: str = "o-"


def plot(series: list[Series], bars: dict[str, float], title: str, path: Path) -> None:
    """Request time against goals (log-log) and, beside it, the throughput figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.5), gridspec_kw={"width_ratios": [3, 2]})
    for s in series:
        if s.points:
            xs = sorted(s.points)
            left.plot(xs, [s.points[x] for x in xs], s.style, label=s.label)
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("goals in the forest")
    left.set_ylabel("request time, seconds (median)")
    left.set_title("Forest read: GET /api/v2/goals/tree")
    left.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=7, loc="upper left")
    names = list(bars)
    right.barh(names, [bars[n] for n in names], color="tab:blue")
    right.invert_yaxis()
    right.set_xlabel("requests per second (median)")
    right.set_title("Single reads and writes, 2 workers")
    right.tick_params(axis="y", labelsize=8)
    for i, n in enumerate(names):
        right.text(bars[n], i, f" {bars[n]:.0f}", va="center", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def ms(seconds: float) -> str:
    """A duration for a table cell: milliseconds, or seconds from 10 s on."""
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"
