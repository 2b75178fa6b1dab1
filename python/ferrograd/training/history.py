"""History: the per-epoch record that ``fit`` returns."""

from __future__ import annotations

import html
from typing import Any, Iterator


class History:
    """Per-epoch metrics of a ``fit`` run, as in Keras: ``history.history["loss"]`` is the list of
    training losses, one per epoch; ``epoch`` the epoch numbers (0-based). ``plot()`` draws the
    curves with matplotlib; in a notebook the object renders as a table."""

    def __init__(self) -> None:
        self.epoch: list[int] = []
        self.history: dict[str, list[float]] = {}

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        """Records one epoch's metrics."""
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, [float("nan")] * (len(self.epoch) - 1)).append(float(value))
        for key, values in self.history.items():
            if len(values) < len(self.epoch):
                values.append(float("nan"))

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def __iter__(self) -> Iterator[str]:
        return iter(self.history)

    def __len__(self) -> int:
        return len(self.epoch)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, History) and self.epoch == other.epoch and self.history == other.history

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (used by training checkpoints)."""
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "History":
        """Rebuilds a History from :meth:`to_dict`'s output (e.g. read back from a checkpoint)."""
        h = cls()
        h.epoch = [int(e) for e in d["epoch"]]
        h.history = {k: [float(x) for x in v] for k, v in d["history"].items()}
        return h

    def plot(self, metrics: list[str] | None = None, ax: Any = None) -> Any:
        """Plots loss curves on one axis and accuracy curves on another (matplotlib required);
        returns the figure."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as e:
            raise ImportError("History.plot needs matplotlib: pip install matplotlib") from e
        keys = metrics or [k for k in self.history if k not in ("lr", "time")]
        groups = [[k for k in keys if "loss" in k], [k for k in keys if "loss" not in k]]
        groups = [g for g in groups if g]
        axes: list[Any]
        if ax is None:
            fig, grid = plt.subplots(1, len(groups), figsize=(5 * len(groups), 3.5), squeeze=False)
            axes = list(grid[0])
        else:
            fig, axes = ax.figure, [ax] * len(groups)
        epochs = [e + 1 for e in self.epoch]
        for a, group in zip(axes, groups):
            for k in group:
                a.plot(epochs, self.history[k], marker="o", label=k)
            a.set_xlabel("epoch")
            a.legend()
            a.grid(alpha=0.3)
        fig.tight_layout()
        return fig

    def __repr__(self) -> str:
        last = {k: round(v[-1], 4) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"

    def _repr_html_(self) -> str:
        keys = list(self.history)
        head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
        rows = "".join(
            f"<tr><td>{e + 1}</td>" + "".join(f"<td>{self.history[k][i]:.4f}</td>" for k in keys) + "</tr>"
            for i, e in enumerate(self.epoch)
        )
        return f"<table><thead><tr><th>epoch</th>{head}</tr></thead><tbody>{rows}</tbody></table>"
