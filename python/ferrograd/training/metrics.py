"""``Module.evaluate`` and ``Module.predict``: inference in Rust, then classification metrics from
the confusion matrix with scikit-learn's definitions (so ``report()`` matches
``sklearn.metrics.classification_report`` on the same predictions)."""

from __future__ import annotations

import html
from typing import Any, Optional, Sequence

import numpy as np

from .. import _core
from .. import functional as F
from .inputs import DataLike, LossLike, check_device, make_loader, make_objective, model_device


def _safe_div(num: Any, den: Any) -> Any:
    """num / den with 0 where den is 0 (scikit-learn's zero_division=0)."""
    out = np.zeros(np.broadcast(num, den).shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


class EvaluationReport:
    """Metrics of a classifier on a dataset.

    Attributes: ``loss``, ``accuracy``, ``top_k`` (``{k: accuracy}``), ``confusion_matrix``
    (rows: true class, columns: predicted), per-class ``precision``, ``recall``, ``f1``,
    ``support``, and ``averages`` (``{"micro"|"macro"|"weighted": (precision, recall, f1)}``).
    """

    def __init__(self, outputs: np.ndarray, labels: np.ndarray, loss: float, classes: Sequence[str],
                 top_k: Sequence[int]) -> None:
        n_classes = max(len(classes), outputs.shape[1] if outputs.ndim == 2 else 0)
        self.classes = list(classes) + [str(i) for i in range(len(classes), n_classes)]
        self.loss = float(loss)
        self.labels = labels
        self.predictions = outputs.argmax(1)
        self.num_samples = len(labels)
        cm = np.zeros((n_classes, n_classes), dtype=np.int64)
        np.add.at(cm, (labels, self.predictions), 1)
        self.confusion_matrix = cm
        tp = np.diag(cm).astype(np.float64)
        predicted, support = cm.sum(0).astype(np.float64), cm.sum(1).astype(np.float64)
        self.support = cm.sum(1)
        self.precision = _safe_div(tp, predicted)
        self.recall = _safe_div(tp, support)
        self.f1 = _safe_div(2 * self.precision * self.recall, self.precision + self.recall)
        self.accuracy = float(tp.sum() / max(self.num_samples, 1))
        micro_p = float(_safe_div(tp.sum(), predicted.sum()))
        micro_r = float(_safe_div(tp.sum(), support.sum()))
        micro_f = float(_safe_div(np.float64(2 * micro_p * micro_r), np.float64(micro_p + micro_r)))
        total = support.sum()
        weights = support / total if total else support
        self.averages = {
            "micro": (micro_p, micro_r, micro_f),
            "macro": (float(self.precision.mean()), float(self.recall.mean()), float(self.f1.mean())),
            "weighted": (float(self.precision @ weights), float(self.recall @ weights), float(self.f1 @ weights)),
        }
        ranked = np.argsort(-outputs, axis=1, kind="stable") if outputs.ndim == 2 else np.zeros((0, 0), dtype=np.int64)
        self.top_k = {int(k): float((ranked[:, :k] == labels[:, None]).any(1).mean()) for k in top_k
                      if outputs.ndim == 2 and 0 < k <= n_classes and self.num_samples}

    def __getitem__(self, key: str) -> float:
        """``report["loss"]``, ``report["accuracy"]``, ``report["top5_accuracy"]``, ``report["macro_f1"]``..."""
        return self.as_dict()[key]

    def as_dict(self) -> dict[str, float]:
        """The scalar metrics by name."""
        d = {"loss": self.loss, "accuracy": self.accuracy}
        d.update({f"top{k}_accuracy": v for k, v in self.top_k.items()})
        for avg, (p, r, f) in self.averages.items():
            d.update({f"{avg}_precision": p, f"{avg}_recall": r, f"{avg}_f1": f})
        return d

    def report(self, digits: int = 2, print_report: bool = True) -> str:
        """The classification report in scikit-learn's layout; printed unless ``print_report=False``."""
        headers = ["precision", "recall", "f1-score", "support"]
        width = max(max((len(c) for c in self.classes), default=0), len("weighted avg"), digits)
        head_fmt = "{:>{width}s} " + " {:>9}" * len(headers)
        text = head_fmt.format("", *headers, width=width) + "\n\n"
        row_fmt = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
        for i, name in enumerate(self.classes):
            text += row_fmt.format(name, self.precision[i], self.recall[i], self.f1[i], int(self.support[i]),
                                   width=width, digits=digits)
        text += "\n"
        total = int(self.support.sum())
        acc_fmt = "{:>{width}s} " + " {:>9.{digits}}" * 2 + " {:>9.{digits}f}" + " {:>9}\n"
        text += acc_fmt.format("accuracy", "", "", self.averages["micro"][2], total, width=width, digits=digits)
        for avg in ("macro", "weighted"):
            text += row_fmt.format(f"{avg} avg", *self.averages[avg], total, width=width, digits=digits)
        if print_report:
            print(text)
        return text

    def __repr__(self) -> str:
        tops = "".join(f", top{k}={v:.4f}" for k, v in self.top_k.items() if k != 1)
        return f"EvaluationReport(n={self.num_samples}, loss={self.loss:.4f}, accuracy={self.accuracy:.4f}{tops})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(c)}</td><td>{self.precision[i]:.4f}</td><td>{self.recall[i]:.4f}</td>"
            f"<td>{self.f1[i]:.4f}</td><td>{int(self.support[i])}</td></tr>"
            for i, c in enumerate(self.classes))
        head = f"<p>loss {self.loss:.4f} &middot; accuracy {self.accuracy:.4f}</p>"
        return (head + "<table><thead><tr><th>class</th><th>precision</th><th>recall</th><th>f1</th><th>support</th></tr>"
                f"</thead><tbody>{rows}</tbody></table>")


def _run(model: Any, data: DataLike, op: str, batch_size: int, transforms: Sequence[Any], objective: Any,
         device: Optional[str]) -> tuple[np.ndarray, np.ndarray, float, Any]:
    device = check_device(device, op, model)
    if device != model_device(model):
        raise _core.DeviceError(f"{op}: the model is on {model_device(model)} but device={device!r}; "
                                f"move it with model.to({device!r})")
    loader = make_loader(data, "data", op, batch_size, False, 0, transforms)
    was_training = model.training
    model.eval()
    try:
        out, labels, loss = _core.predict_epoch(model._loop_layer(), loader, objective, None, device)
    finally:
        model.train(was_training)
    return out, labels, loss, loader


def labelled_rows(out: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Token-level outputs ``[N, L, C]`` with labels ``[N, L]`` as the rows of the labelled tokens
    (labels -100 dropped: padding, special tokens, continuation word pieces); others unchanged."""
    if out.ndim == 3 and labels.ndim == 2 and out.shape[:2] == labels.shape:
        keep = labels != -100
        return out[keep], labels[keep]
    return out, labels


def evaluate(model: Any, data: DataLike, batch_size: int = 512, loss: LossLike = "cross_entropy",
             transforms: Sequence[Any] = (), top_k: Sequence[int] = (1, 5), device: Optional[str] = None) -> EvaluationReport:
    """Evaluates a classifier; see :meth:`ferrograd.nn.Module.evaluate`."""
    out, labels, loss_value, loader = _run(model, data, "evaluate", batch_size, transforms, make_objective(loss, "evaluate"),
                                           device)
    out, labels = labelled_rows(out, labels)
    if out.ndim != 2:
        raise ValueError(f"evaluate: expected the model to output [N, classes] scores (or [N, L, classes] for "
                         f"token labels), got shape {out.shape}")
    return EvaluationReport(out, labels, loss_value, loader.dataset.classes, top_k)


def predict(model: Any, data: DataLike, batch_size: int = 512, probabilities: bool = False,
            transforms: Sequence[Any] = (), device: Optional[str] = None) -> np.ndarray:
    """The model's outputs for every sample; see :meth:`ferrograd.nn.Module.predict`."""
    out, _, _, _ = _run(model, data, "predict", batch_size, transforms, None, device)
    if probabilities:
        if out.ndim != 2:
            raise ValueError(f"predict: probabilities=True needs [N, classes] outputs, got shape {out.shape}")
        out = F.softmax(_core.Tensor.from_numpy(np.ascontiguousarray(out)), 1).numpy()
    return out
