"""``WeightAveraging``: a callback that makes ``fit`` keep an SWA or EMA copy of the model's
weights, folded in after every optimizer step inside the Rust loop."""

from __future__ import annotations

from typing import Any, Optional

from ..autograd import no_grad
from ..optim.swa_utils import AveragedModel, native_rule
from .callbacks import Callback


class WeightAveraging(Callback):
    """Folds the trained weights into ``averaged`` (an ``fg.optim.swa_utils.AveragedModel`` of the
    model) after every optimizer step from epoch ``start_epoch`` on, in the Rust training loop,
    with the rule it was made with: the default equal average (SWA), or ``get_ema_multi_avg_fn``,
    ``get_ema_avg_fn``, ``get_swa_avg_fn`` or ``get_swa_multi_avg_fn``; each gives the same values
    as ``averaged.update_parameters(model)`` after each ``optimizer.step()`` would. Its
    ``n_averaged`` counts the steps (also when an epoch stops early). Without ``use_buffers`` the
    buffers (batch-norm statistics) are copied from the model after each epoch; run
    ``swa_utils.update_bn`` to recompute them for SWA weights."""

    def __init__(self, averaged: AveragedModel, start_epoch: int = 0) -> None:
        if not isinstance(averaged, AveragedModel):
            raise TypeError(f"WeightAveraging: argument `averaged` expected a swa_utils.AveragedModel, "
                            f"got {type(averaged).__name__}")
        if native_rule(averaged) is None:
            raise ValueError("WeightAveraging: argument `averaged` expected an AveragedModel with the default "
                             "average or a swa_utils.get_*_avg_fn function (fit folds it in inside its Rust loop), "
                             "got a custom function; call averaged.update_parameters(model) in your own loop")
        if not isinstance(start_epoch, int) or start_epoch < 0:
            raise ValueError(f"WeightAveraging: argument `start_epoch` expected a non-negative int, got {start_epoch!r}")
        self.averaged, self.start_epoch = averaged, start_epoch

    def average_for(self, epoch: int, model: Any) -> Optional[tuple[list[tuple[Any, Any]], str, float, Any]]:
        """What ``fit`` hands the Rust loop for ``epoch``: (average, model tensor) pairs, the rule,
        its decay and the update counter; None before ``start_epoch``."""
        if epoch < self.start_epoch:
            return None
        rule, decay = native_rule(self.averaged) or ("equal", 0.0)
        mine, theirs = list(self.averaged._tracked(self.averaged.module)), list(self.averaged._tracked(model))
        if len(mine) != len(theirs):
            raise ValueError("WeightAveraging: the averaged model does not have the trained model's tensors")
        return list(zip(mine, theirs)), rule, decay, self.averaged.n_averaged

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if epoch >= self.start_epoch and not self.averaged.use_buffers:
            with no_grad():
                for mine, theirs in zip(self.averaged.module.buffers(), self.model.buffers()):
                    mine.copy_(theirs.detach().to(str(mine.device)))

