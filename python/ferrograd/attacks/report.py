"""``fg.robustness``: clean and robust accuracy per attack and ε, the per-sample worst case, and
loud warnings on the known signs of a broken evaluation."""

from __future__ import annotations

import copy
import html
import warnings
from typing import Any, Callable, Sequence, Union

import numpy as np

from .. import _core
from ..training.inputs import as_dataset
from .base import Attack, AttackResult
from .auto import APGD, APGDT, AutoAttack, Square
from .gradient import BIM, FFGSM, FGSM, MIFGSM, NIFGSM, PGD, PGDL2, RFGSM, TPGD, Jitter
from .gradient_free import SPSA
from .optimization import FAB, FABT
from .transfer import DIFGSM, PIFGSM, SINIFGSM, TIFGSM, VMIFGSM, VNIFGSM

AttackSpec = Union[str, Callable[[Any, float], Attack]]

_NAMED: dict[str, Callable[[Any, float], Attack]] = {
    "fgsm": lambda m, e: FGSM(m, e),
    "rfgsm": lambda m, e: RFGSM(m, e),
    "ffgsm": lambda m, e: FFGSM(m, e, alpha=1.25 * e),
    "tpgd": lambda m, e: TPGD(m, e, alpha=e / 4, steps=10),
    "bim": lambda m, e: BIM(m, e, alpha=e / 8, steps=10),
    "pgd": lambda m, e: PGD(m, e, alpha=2.5 * e / 20, steps=20),
    "pgd_margin": lambda m, e: PGD(m, e, alpha=2.5 * e / 20, steps=20, loss="margin"),
    "pgdl2": lambda m, e: PGDL2(m, e, alpha=2.5 * e / 20, steps=20),
    "jitter": lambda m, e: Jitter(m, e, alpha=e / 4, steps=10),
    "mifgsm": lambda m, e: MIFGSM(m, e, alpha=e / 8, steps=10),
    "nifgsm": lambda m, e: NIFGSM(m, e, alpha=e / 8, steps=10),
    "apgd_ce": lambda m, e: APGD(m, e, steps=50, loss="ce"),
    "apgd_dlr": lambda m, e: APGD(m, e, steps=50, loss="dlr"),
    "apgd_t": lambda m, e: APGDT(m, e, steps=50),
    "autoattack": lambda m, e: AutoAttack(m, e, steps=50, queries=500),
    "square": lambda m, e: Square(m, e, queries=1000),
    "spsa": lambda m, e: SPSA(m, e, lr=e / 10, nb_iter=20, nb_sample=32),
    "difgsm": lambda m, e: DIFGSM(m, e, alpha=e / 8, steps=10, decay=1.0),
    "tifgsm": lambda m, e: TIFGSM(m, e, alpha=e / 8, steps=10),
    "vmifgsm": lambda m, e: VMIFGSM(m, e, alpha=e / 8, steps=10),
    "vnifgsm": lambda m, e: VNIFGSM(m, e, alpha=e / 8, steps=10),
    "sinifgsm": lambda m, e: SINIFGSM(m, e, alpha=e / 8, steps=10),
    "pifgsm": lambda m, e: PIFGSM(m, e, num_iter_set=10),
    "fab": lambda m, e: FAB(m, e, steps=20),
    "fab_t": lambda m, e: FABT(m, e, steps=20),
}


class RobustnessWarning(UserWarning):
    """A sign that a robustness evaluation is broken (gradient masking, a wrong model, ...)."""


class RobustnessReport:
    """Robust accuracy per attack and ε (``table[attack][i]`` for ``eps[i]``), the per-sample worst
    case over attacks (``worst_case[i]``), the clean accuracy, and the warnings raised."""

    def __init__(self, clean_accuracy: float, eps: list[float], table: dict[str, list[float]], worst_case: list[float],
                 results: dict[str, list[AttackResult]], warnings_: list[str]) -> None:
        self.clean_accuracy, self.eps, self.table = clean_accuracy, eps, table
        self.worst_case, self.results, self.warnings = worst_case, results, warnings_

    def __str__(self) -> str:
        names = [*self.table, "worst case"]
        width = max(len(n) for n in names + ["attack"])
        head = f"{'attack':<{width}} " + " ".join(f"eps={e:<7.4g}" for e in self.eps)
        rows = [f"{'clean':<{width}} {self.clean_accuracy:.4f}"]
        for name, accs in [*self.table.items(), ("worst case", self.worst_case)]:
            rows.append(f"{name:<{width}} " + " ".join(f"{a:<11.4f}" for a in accs))
        text = "\n".join([head, *rows])
        if self.warnings:
            text += "\n\nWARNINGS:\n" + "\n".join(f"- {w}" for w in self.warnings)
        return text

    def __repr__(self) -> str:
        return f"RobustnessReport(clean={self.clean_accuracy:.4f}, eps={self.eps}, worst_case={self.worst_case})"

    def _repr_html_(self) -> str:
        head = "".join(f"<th>&epsilon;={e:.4g}</th>" for e in self.eps)
        rows = "".join(f"<tr><td>{html.escape(n)}</td>" + "".join(f"<td>{a:.4f}</td>" for a in accs) + "</tr>"
                       for n, accs in [*self.table.items(), ("worst case", self.worst_case)])
        warn = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        return (f"<p>clean accuracy {self.clean_accuracy:.4f}</p><table><thead><tr><th>attack</th>{head}</tr></thead>"
                f"<tbody>{rows}</tbody></table>" + (f"<p><b>Warnings</b></p><ul>{warn}</ul>" if warn else ""))

    def plot(self, ax: Any = None) -> Any:
        """Robust accuracy against ε, one line per attack plus the worst case (matplotlib)."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as e:
            raise ImportError("RobustnessReport.plot needs matplotlib: pip install matplotlib") from e
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        for name, accs in [*self.table.items(), ("worst case", self.worst_case)]:
            ax.plot(self.eps, accs, marker="o", label=name, linestyle="--" if name == "worst case" else "-")
        ax.set_xlabel("ε")
        ax.set_ylabel("accuracy")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend()
        return ax.figure


def _gradient_health(model: Any, x: np.ndarray, y: np.ndarray) -> list[str]:
    """Warnings about the model's outputs and input gradients on a few samples."""
    from .. import functional as F
    from ..autograd import grad

    found = []
    from ..training.inputs import model_device

    xt = _core.Tensor.from_numpy(np.ascontiguousarray(x), requires_grad=True)
    # The transfer to the model's device is differentiable, so the gradient reaches the host leaf.
    out = model(xt.to(model_device(model)))
    values = out.detach().cpu().numpy()
    if values.ndim == 2 and (values >= 0).all() and np.allclose(values.sum(1), 1.0, atol=1e-4):
        found.append("the model outputs probabilities (rows are non-negative and sum to 1); attacks need logits - "
                     "remove the final softmax")
    (g,) = grad(F.cross_entropy(out, _core.Tensor.from_numpy(y).to(out.device)), [xt])
    gv = g.numpy() if g is not None else np.zeros_like(x)
    if not np.isfinite(gv).all():
        found.append("input gradients contain NaN or infinity")
    elif (np.abs(gv.reshape(len(x), -1)).max(1) == 0).mean() > 0.5:
        found.append("input gradients are exactly zero for most samples (gradient masking or a non-differentiable model)")
    return found


def robustness(model: Any, data: Any, attacks: Sequence[AttackSpec] = ("fgsm", "pgd"),
               eps: Sequence[float] = (0.0, 0.1, 0.2, 0.3), labels: np.ndarray | None = None) -> RobustnessReport:
    """Evaluates ``model`` on ``data`` under every attack at every ε and checks the evaluation.

    ``attacks`` are names (``fgsm``, ``rfgsm``, ``bim``, ``pgd``, ``pgd_margin``, ``pgdl2``,
    ``mifgsm``, ``apgd_ce``, ``apgd_dlr``, ``apgd_t``, ``autoattack``, ``square``) or callables ``(model, eps) -> Attack``. The worst case counts a sample as robust
    only if every attack failed on it. Warnings (also raised as :class:`RobustnessWarning`) flag:
    robust accuracy above clean; accuracy rising with ε or with more steps; ε = 0 differing from clean; a huge ε not
    driving accuracy near zero; zero or NaN input gradients; probability outputs; predictions that
    change between runs; a black-box attack (Square) beating every white-box one.
    """
    if isinstance(data, np.ndarray):
        if labels is None:
            raise ValueError("robustness: pass `labels` with an array of inputs")
        data = (data, labels)
    ds = as_dataset(data, "data", "robustness")
    eps = sorted(float(e) for e in eps)
    factories: dict[str, Callable[[Any, float], Attack]] = {}
    for spec in attacks:
        if isinstance(spec, str):
            if spec not in _NAMED:
                raise ValueError(f"robustness: unknown attack {spec!r}; known: {sorted(_NAMED)}")
            factories[spec] = _NAMED[spec]
        elif callable(spec):
            factories[getattr(spec, "__name__", f"attack{len(factories)}")] = spec
        else:
            raise TypeError(f"robustness: attacks must be names or callables, got {type(spec).__name__}")
    results: dict[str, list[AttackResult]] = {name: [f(model, e)(ds) for e in eps] for name, f in factories.items()}
    first = next(iter(results.values()))[0]
    y = first.labels
    clean = first.clean_accuracy
    table = {name: [r.robust_accuracy for r in rs] for name, rs in results.items()}
    worst = [float(np.mean(np.all([rs[i].adversarial_predictions == y for rs in results.values()], axis=0)))
             for i in range(len(eps))]

    found: list[str] = []
    tol = 1.0 / max(len(y), 1)
    for name, accs in table.items():
        if any(a > clean + tol for a in accs):
            found.append(f"{name}: robust accuracy exceeds clean accuracy ({max(accs):.4f} > {clean:.4f})")
        if any(b > a + tol for a, b in zip(accs, accs[1:])):
            found.append(f"{name}: accuracy rises with eps ({accs}) - the attack is not converging")
        if eps[0] == 0.0 and abs(accs[0] - clean) > tol:
            found.append(f"{name}: eps = 0 gives {accs[0]:.4f}, not the clean accuracy {clean:.4f}")
        if factories[name](model, 1.0).norm == "linf" and eps[-1] >= 0.5 and accs[-1] > 0.1:
            found.append(f"{name}: eps = {eps[-1]} leaves accuracy at {accs[-1]:.4f}; a huge budget should reach ~0")
    for name, f in factories.items():
        attack = f(model, eps[-1])
        steps = getattr(attack, "steps", 1)
        if isinstance(steps, int) and steps > 1 and not isinstance(attack, AutoAttack):
            longer = copy.copy(attack)
            setattr(longer, "steps", 2 * steps)
            more = longer(ds).robust_accuracy
            if more > table[name][-1] + tol:
                found.append(f"{name}: accuracy rises with more steps at eps = {eps[-1]} ({table[name][-1]:.4f} with "
                             f"{steps}, {more:.4f} with {2 * steps}) - the attack is not converging")
    black = [n for n, f in factories.items() if getattr(f(model, 1.0), "black_box", False)]
    white = [n for n in table if n not in black]
    for b in black:
        for i, e in enumerate(eps):
            if white and table[b][i] < min(table[w][i] for w in white) - tol:
                found.append(f"{b} (black-box) beats every white-box attack at eps = {e} ({table[b][i]:.4f}): "
                             "the gradients are likely masked")
    rerun = next(iter(factories.values()))(model, 0.0)(ds).clean_predictions
    if not np.array_equal(first.clean_predictions, rerun):
        found.append("predictions change between runs on the same inputs (a randomised model needs EOT)")
    sample = list(range(min(len(ds), 64)))
    x, ys = ds.get_batch(sample)
    was_training = model.training
    model.eval()
    try:
        found.extend(_gradient_health(model, np.asarray(x), np.asarray(ys)))
    finally:
        model.train(was_training)
    for w in found:
        warnings.warn(w, RobustnessWarning, stacklevel=2)
    return RobustnessReport(clean, eps, table, worst, results, found)
