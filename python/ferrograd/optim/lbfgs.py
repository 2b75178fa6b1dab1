"""L-BFGS (``torch.optim.LBFGS``): a quasi-Newton method for full-batch problems that re-evaluates
the loss through a closure, optionally with a strong-Wolfe line search.

The parameters are handled as one flat vector (their gradients joined), and the curvature pairs
``(s, y)`` of the last ``history_size`` iterations give the search direction by the two-loop
recursion. The vector work runs in ferrograd's ops; the scalars (dot products, step lengths) are
Python floats."""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, NamedTuple, Optional

import numpy as np

from .._core import Tensor, cat
from ..autograd import enable_grad, no_grad
from .algorithms import _check

Closure = Callable[[], Any]


class _Point(NamedTuple):
    """A trial of the line search: the step, and the loss, gradient and slope along the direction there."""

    step: float
    loss: float
    grad: Tensor
    slope: float


def _dot(a: Tensor, b: Tensor) -> float:
    return float((a * b).sum().item())


def _cubic_minimum(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                   low: float, high: float) -> float:
    """The minimiser within [low, high] of the cubic through (x1, f1) and (x2, f2) with slopes g1
    and g2 (Nocedal & Wright, eq. 3.59); the interval's midpoint when the cubic has none."""
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    square = d1 * d1 - g1 * g2
    if square < 0:
        return (low + high) / 2
    d2 = math.copysign(math.sqrt(square), x2 - x1)
    x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    return min(max(x, low), high)


class LBFGS:
    """L-BFGS with PyTorch's options and defaults. ``step(closure)`` runs up to ``max_iter``
    iterations (``max_eval`` loss evaluations), each along the two-loop direction with step
    ``lr`` (the first scaled down by the gradient's L1 norm), or with the step a strong-Wolfe line
    search finds (``line_search_fn="strong_wolfe"``). It stops early when the largest gradient
    entry is below ``tolerance_grad`` or the step or loss change is below ``tolerance_change``.

    ``closure`` must clear the gradients, compute the loss, call ``backward()`` and return the
    loss. One parameter group; ``model.fit`` cannot drive it (its steps need the closure)."""

    def __init__(self, params: Iterable[Tensor], lr: float = 1.0, max_iter: int = 20, max_eval: Optional[int] = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: Optional[str] = None) -> None:
        _check("lr", lr)
        for name, value in (("max_iter", max_iter), ("history_size", history_size)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"LBFGS: argument `{name}` expected a positive int, got {value!r}")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: argument `line_search_fn` expected None or 'strong_wolfe', got {line_search_fn!r}")
        items = list(params)
        if not items or isinstance(items[0], dict) and len(items) != 1:
            raise ValueError("LBFGS: argument `params` expected a non-empty list of tensors (one parameter group)")
        group_params = items[0]["params"] if isinstance(items[0], dict) else items
        self._params: list[Tensor] = list(group_params)
        for p in self._params:
            if not isinstance(p, Tensor) or not p.is_leaf:
                raise ValueError("LBFGS: argument `params` expected leaf tensors")
        self.defaults: dict[str, Any] = dict(lr=lr, max_iter=max_iter,
                                             max_eval=max_eval if max_eval is not None else max_iter * 5 // 4,
                                             tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                                             history_size=history_size, line_search_fn=line_search_fn)
        self.param_groups: list[dict[str, Any]] = [{**self.defaults, "params": self._params, "initial_lr": lr}]
        self._state: dict[str, Any] = {"func_evals": 0, "n_iter": 0}

    @property
    def state(self) -> dict[Tensor, dict[str, Any]]:
        """The optimizer's memory (iteration counts, the last direction and step, the curvature
        pairs), kept under the first parameter as PyTorch does."""
        return {self._params[0]: self._state}

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clears every parameter's gradient (to None, or to zeros in place)."""
        for p in self._params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    def _flat_grad(self) -> Tensor:
        parts = []
        for p in self._params:
            g = p.grad
            parts.append(g.reshape(-1) if g is not None else p.detach().new_full((p.numel(),), 0.0))
        return cat(parts, 0)

    def _move(self, step: float, direction: Tensor) -> None:
        """p += step * direction, slice by slice."""
        offset = 0
        with no_grad():
            for p in self._params:
                n = p.numel()
                p.add_(direction[offset:offset + n].reshape(list(p.shape)), alpha=step)
                offset += n

    def _evaluate(self, closure: Closure) -> float:
        with enable_grad():
            return float(closure())

    def _loss_and_grad_at(self, closure: Closure, start: list[Tensor], step: float, direction: Tensor
                          ) -> tuple[float, Tensor]:
        """The loss and flat gradient at start + step * direction; the parameters go back to start."""
        self._move(step, direction)
        loss = self._evaluate(closure)
        grad = self._flat_grad()
        with no_grad():
            for p, s in zip(self._params, start):
                p.copy_(s)
        return loss, grad

    def _strong_wolfe(self, closure: Closure, step: float, direction: Tensor, loss: float, grad: Tensor,
                      slope: float, c1: float = 1e-4, c2: float = 0.9, max_tries: int = 25
                      ) -> tuple[float, Tensor, float, int]:
        """A step along ``direction`` meeting the strong Wolfe conditions (sufficient decrease with
        ``c1``, curvature with ``c2``): first bracket an interval that holds one, then shrink it by
        cubic interpolation (Nocedal & Wright, algorithms 3.5 and 3.6). Returns the loss and
        gradient there, the step, and the number of evaluations (at most ``max_tries``)."""
        biggest = float(direction.abs().max().item())
        start = [p.detach().clone() for p in self._params]

        def at(t: float) -> _Point:
            new_loss, new_grad = self._loss_and_grad_at(closure, start, t, direction)
            return _Point(t, new_loss, new_grad, _dot(new_grad, direction))

        def sufficient(point: _Point) -> bool:
            return point.loss <= loss + c1 * point.step * slope

        def flat(point: _Point) -> bool:
            return abs(point.slope) <= -c2 * slope

        prev, current, evals = _Point(0.0, loss, grad, slope), at(step), 1
        low = high = None
        while evals < max_tries:
            if not sufficient(current) or (evals > 1 and current.loss >= prev.loss):
                low, high = prev, current
                break
            if flat(current):
                return current.loss, current.grad, current.step, evals
            if current.slope >= 0:
                low, high = current, prev
                break
            # Extrapolate: the cubic's minimum between 1.01 and 10 times the step.
            bounds = (current.step + 0.01 * (current.step - prev.step), current.step * 10)
            nxt = _cubic_minimum(prev.step, prev.loss, prev.slope, current.step, current.loss, current.slope, *bounds)
            prev, current, evals = current, at(nxt), evals + 1
        if low is None or high is None:
            return current.loss, current.grad, current.step, evals
        # Zoom: `low` satisfies sufficient decrease with the least loss so far, and the
        # interval towards `high` holds a point meeting both conditions.
        while evals < max_tries and abs(high.step - low.step) * biggest >= self.defaults["tolerance_change"]:
            left, right = min(low.step, high.step), max(low.step, high.step)
            t = _cubic_minimum(low.step, low.loss, low.slope, high.step, high.loss, high.slope, left, right)
            # A trial within a tenth of the interval from an end makes little progress: move it in.
            margin = 0.1 * (right - left)
            t = min(max(t, left + margin), right - margin)
            trial = at(t)
            evals += 1
            if not sufficient(trial) or trial.loss >= low.loss:
                high = trial
                continue
            if flat(trial):
                return trial.loss, trial.grad, trial.step, evals
            if trial.slope * (high.step - low.step) >= 0:
                high = low
            low = trial
        return low.loss, low.grad, low.step, evals

    def step(self, closure: Closure) -> Any:
        """Runs the iterations; returns the loss the closure gave first (before any move)."""
        if closure is None:
            raise ValueError("LBFGS.step: argument `closure` expected a function that computes the loss and its "
                             "gradients, got None")
        g = self.param_groups[0]
        lr, max_iter, max_eval = float(g["lr"]), g["max_iter"], g["max_eval"]
        tol_grad, tol_change, history = g["tolerance_grad"], g["tolerance_change"], g["history_size"]
        st = self._state
        with enable_grad():
            first_loss = closure()
        loss = float(first_loss)
        evals = 1
        st["func_evals"] += 1
        grad = self._flat_grad()
        if float(grad.abs().max().item()) <= tol_grad:
            return first_loss
        direction, step = st.get("d"), st.get("t")
        dirs, steps, rhos = st.setdefault("old_dirs", []), st.setdefault("old_stps", []), st.setdefault("ro", [])
        h_diag, prev_grad, prev_loss = st.get("H_diag", 1.0), st.get("prev_flat_grad"), st.get("prev_loss")
        iteration = 0
        while iteration < max_iter:
            iteration += 1
            st["n_iter"] += 1
            if st["n_iter"] == 1:
                direction = grad.neg()
                dirs.clear(), steps.clear(), rhos.clear()
                h_diag = 1.0
            else:
                assert direction is not None and prev_grad is not None and step is not None
                y = grad - prev_grad
                s = direction * step
                ys = _dot(y, s)
                if ys > 1e-10:  # keep only pairs of positive curvature, so H stays positive definite
                    if len(dirs) == history:
                        dirs.pop(0), steps.pop(0), rhos.pop(0)
                    dirs.append(y), steps.append(s), rhos.append(1.0 / ys)
                    h_diag = ys / _dot(y, y)
                # Two-loop recursion: direction = -H grad.
                alphas = [0.0] * len(dirs)
                q = grad.neg()
                for i in range(len(dirs) - 1, -1, -1):
                    alphas[i] = _dot(steps[i], q) * rhos[i]
                    q = q - dirs[i] * alphas[i]
                r = q * h_diag
                for i in range(len(dirs)):
                    beta = _dot(dirs[i], r) * rhos[i]
                    r = r + steps[i] * (alphas[i] - beta)
                direction = r
            prev_grad = grad.clone()
            prev_loss = loss
            step = min(1.0, 1.0 / float(grad.abs().sum().item())) * lr if st["n_iter"] == 1 else lr
            slope = _dot(grad, direction)
            if slope > -tol_change:  # not a descent direction
                break
            used = 0
            if g["line_search_fn"] == "strong_wolfe":
                loss, grad, step, used = self._strong_wolfe(closure, step, direction, loss, grad, slope)
                self._move(step, direction)
                converged = float(grad.abs().max().item()) <= tol_grad
            else:
                self._move(step, direction)
                converged = False
                if iteration != max_iter:
                    loss = self._evaluate(closure)
                    grad = self._flat_grad()
                    converged = float(grad.abs().max().item()) <= tol_grad
                    used = 1
            evals += used
            st["func_evals"] += used
            if iteration == max_iter or evals >= max_eval or converged:
                break
            if float((direction * step).abs().max().item()) <= tol_change or abs(loss - prev_loss) < tol_change:
                break
        st.update(d=direction, t=step, H_diag=h_diag, prev_flat_grad=prev_grad, prev_loss=prev_loss)
        return first_loss

    def state_dict(self) -> dict[str, Any]:
        """The options and the memory (tensors as numpy arrays), for checkpoints."""
        def plain(v: Any) -> Any:
            if isinstance(v, Tensor):
                return v.detach().cpu().numpy().copy()
            if isinstance(v, list):
                return [plain(x) for x in v]
            return v
        options = {k: v for k, v in self.param_groups[0].items() if k != "params"}
        return {"param_groups": [{**options, "params": list(range(len(self._params)))}],
                "state": {0: {k: plain(v) for k, v in self._state.items()}} if self._state["n_iter"] else {}}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores what :meth:`state_dict` saved (the same parameters)."""
        groups = state_dict["param_groups"]
        if len(groups) != 1 or len(groups[0]["params"]) != len(self._params):
            raise ValueError("LBFGS.load_state_dict: the saved optimizer has a different number of parameters")
        self.param_groups[0].update({k: v for k, v in groups[0].items() if k != "params"})
        device = self._params[0].device

        def tensor(v: Any) -> Any:
            if isinstance(v, np.ndarray):
                return Tensor.from_numpy(np.array(v, dtype=np.float32, order="C")).to(device)
            if isinstance(v, list):
                return [tensor(x) for x in v]
            return v
        saved = state_dict["state"].get(0, {})
        self._state = {"func_evals": 0, "n_iter": 0, **{k: tensor(v) for k, v in saved.items()}}

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v}" for k, v in self.defaults.items())
        return f"LBFGS({opts})"
