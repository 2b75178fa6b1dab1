"""Unbatched inputs: PyTorch's convolutions, pooling and instance norms also take one sample
without its batch axis ([C, L] for the 1-D ops, [C, D, H, W] for the 3-D ones)."""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar, cast

from ._core import Tensor

Op = TypeVar("Op", bound=Callable[..., Any])


def accepts_unbatched(batched_rank: int) -> Callable[[Op], Op]:
    """Lets an op over batched inputs of rank ``batched_rank`` take a single sample one rank
    lower: it runs on a batch of one and drops that axis again from every tensor it returns."""

    def wrap(op: Op) -> Op:
        @functools.wraps(op)
        def run(x: Any, *args: Any, **kwargs: Any) -> Any:
            if not isinstance(x, Tensor) or x.ndim != batched_rank - 1:
                return op(x, *args, **kwargs)
            out = op(x.unsqueeze(0), *args, **kwargs)
            return tuple(o.squeeze(0) for o in out) if isinstance(out, tuple) else out.squeeze(0)

        return cast(Op, run)

    return wrap
