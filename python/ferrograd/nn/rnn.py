"""Recurrent layers (RNN, LSTM, GRU) and their single-step cells (RNNCell, LSTMCell, GRUCell)
with PyTorch's gate order, weight names (``weight_ih_l0``, ``weight_hh_l0_reverse``, ...; a
cell's are ``weight_ih``, ...), initialisation and ``(output, h_n)`` results.

Each layer projects the whole input sequence with one matrix product, then runs a fused Rust
cell per time step (``lstm_cell`` / ``gru_cell``: all gate nonlinearities and the state update in
one pass, and one pass backward). A :class:`~ferrograd.nn.utils.rnn.PackedSequence` input runs
each step on the sequences that still have it (the longest first), so each sequence stops at its
own length, and its final state is its last real step's."""

from __future__ import annotations

import math
from typing import Optional, Union

from .. import _core
from .. import functional as F
from .._core import Tensor, stack, cat
from . import init
from ._param import empty_parameter
from .module import Module
from .utils.rnn import PackedSequence


def _elman_step(gx: Tensor, h: Tensor, w_hh: Tensor, b_hh: Optional[Tensor], nonlinearity: str) -> Tensor:
    """h' = act(gx + h W_hh^T + b_hh), act tanh or relu."""
    pre = gx + F.linear(h, w_hh, b_hh)
    return pre.tanh() if nonlinearity == "tanh" else F.relu(pre)


def _lstm_step(gx: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Optional[Tensor], hidden: int
               ) -> tuple[Tensor, Tensor]:
    """One fused LSTM step from the input projection ``gx``: (h', c')."""
    hc = _core.lstm_cell(gx + F.linear(h, w_hh, b_hh), c)
    return hc[:, :hidden], hc[:, hidden:]


def _gru_step(gx: Tensor, h: Tensor, w_hh: Tensor, b_hh: Optional[Tensor]) -> Tensor:
    """One fused GRU step from the input projection ``gx``: h'."""
    return _core.gru_cell(gx, F.linear(h, w_hh, b_hh), h)


def _check_nonlinearity(name: str, nonlinearity: str) -> None:
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{name}: argument `nonlinearity` expected 'tanh' or 'relu', got {nonlinearity!r}")


class _RNNBase(Module):
    gates = 1

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        for arg, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: argument `{arg}` expected a positive int, got {value!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{name}: argument `dropout` expected a probability in [0, 1), got {dropout!r}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, dropout, bidirectional
        directions = 2 if bidirectional else 1
        bound = 1.0 / math.sqrt(hidden_size)
        width = self.gates * hidden_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for suffix in ([""] if not bidirectional else ["", "_reverse"]):
                shapes: dict[str, tuple[int, ...]] = {"weight_ih": (width, layer_input), "weight_hh": (width, hidden_size)}
                if bias:
                    shapes.update(bias_ih=(width,), bias_hh=(width,))
                for kind, shape in shapes.items():
                    setattr(self, f"{kind}_l{layer}{suffix}", init.uniform_(empty_parameter(shape), -bound, bound))

    def _weights(self, layer: int, suffix: str) -> tuple[Tensor, Tensor, Optional[Tensor], Optional[Tensor]]:
        def get(kind: str) -> Optional[Tensor]:
            return getattr(self, f"{kind}_l{layer}{suffix}", None)

        w_ih, w_hh = get("weight_ih"), get("weight_hh")
        assert w_ih is not None and w_hh is not None
        return w_ih, w_hh, get("bias_ih"), get("bias_hh")

    def _check_input(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input expected shape [{'batch, seq' if self.batch_first else 'seq, batch'}, "
                             f"{self.input_size}] (or unbatched [seq, {self.input_size}]), got {tuple(x.shape)}")
        # Internally [batch, seq, features].
        if x.ndim == 2:
            return x.unsqueeze(0)
        return x if self.batch_first else x.transpose(0, 1)

    def _check_packed(self, x: PackedSequence) -> Tensor:
        if x.data.ndim != 2 or x.data.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: packed input expected data of shape [steps, {self.input_size}], "
                             f"got {tuple(x.data.shape)}")
        return x.data

    def _initial(self, given: Optional[Tensor], batch: int, unbatched: bool, what: str, device: str,
                 order: Optional[Tensor] = None) -> list[Tensor]:
        """The initial states of every (layer, direction); a given ``[layers * directions, B, H]``
        state is reordered by ``order`` (a packed batch's sorted order) when there is one."""
        directions = 2 if self.bidirectional else 1
        expected = (self.num_layers * directions, batch, self.hidden_size)
        if given is None:
            return [_core.full([batch, self.hidden_size], 0.0, "float32", device, False) for _ in range(expected[0])]
        if unbatched:
            given = given.unsqueeze(1)
        if tuple(given.shape) != expected:
            raise ValueError(f"{type(self).__name__}: argument `{what}` expected shape {expected}, got {tuple(given.shape)}")
        if order is not None:
            given = given.index_select(1, order.to(given.device))
        return [given[i] for i in range(expected[0])]

    def _final(self, states: list[Tensor], packed: Optional[PackedSequence]) -> Tensor:
        """The final states ``[layers * directions, B, H]``, in the packed batch's original order."""
        out = stack(states, 0)
        if packed is not None and packed.unsorted_indices is not None:
            out = out.index_select(1, packed.unsorted_indices.to(out.device))
        return out

    def _scan(self, projected: Tensor, state: list[Tensor], w_hh: Tensor, b_hh: Optional[Tensor], reverse: bool
              ) -> tuple[Tensor, list[Tensor]]:
        """One direction over a padded batch ``[B, T, gates * H]``: outputs ``[B, T, H]``."""
        seq = projected.shape[1]
        steps: list[Tensor] = [None] * seq  # type: ignore[list-item]
        for t in (range(seq - 1, -1, -1) if reverse else range(seq)):
            state = self._cell(projected[:, t], state, w_hh, b_hh)
            steps[t] = state[0]
        return stack(steps, 1), state

    def _scan_packed(self, projected: Tensor, state: list[Tensor], w_hh: Tensor, b_hh: Optional[Tensor],
                     reverse: bool, packed: PackedSequence) -> tuple[Tensor, list[Tensor]]:
        """One direction over packed rows: step t updates the first ``batch_sizes[t]`` states
        (the sequences that have a step t) and leaves the rest, which have ended (or, in reverse,
        not yet begun). Outputs are packed as the input."""
        steps = packed.steps()
        batch = steps[0][1]
        outputs: list[Tensor] = [None] * len(steps)  # type: ignore[list-item]
        for t in (range(len(steps) - 1, -1, -1) if reverse else range(len(steps))):
            offset, size = steps[t]
            active = state if size == batch else [s[:size] for s in state]
            new = self._cell(projected[offset:offset + size], active, w_hh, b_hh)
            state = new if size == batch else [cat([n, s[size:]], 0) for n, s in zip(new, state)]
            outputs[t] = new[0]
        return cat(outputs, 0), state

    def _run(self, x: Tensor, states: list[list[Tensor]], packed: Optional[PackedSequence] = None
             ) -> tuple[Tensor, list[list[Tensor]]]:
        """Runs every layer and direction over ``x`` (``[B, T, F]``, or a packed batch's data);
        ``states[k][j]`` is state k of (layer, direction) j."""
        finals: list[list[Tensor]] = [[] for _ in states]
        directions = ["", "_reverse"] if self.bidirectional else [""]
        for layer in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(directions):
                j = layer * len(directions) + d
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, suffix)
                projected = F.linear(x, w_ih, b_ih)
                state = [s[j] for s in states]
                if packed is None:
                    out, state = self._scan(projected, state, w_hh, b_hh, bool(suffix))
                else:
                    out, state = self._scan_packed(projected, state, w_hh, b_hh, bool(suffix), packed)
                outputs.append(out)
                for k, s in enumerate(state):
                    finals[k].append(s)
            x = outputs[0] if len(outputs) == 1 else cat(outputs, -1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, finals

    def _cell(self, gx: Tensor, state: list[Tensor], w_hh: Tensor, b_hh: Optional[Tensor]) -> list[Tensor]:
        raise NotImplementedError

    def _output(self, out: Tensor, unbatched: bool) -> Tensor:
        if unbatched:
            return out[0]
        return out if self.batch_first else out.transpose(0, 1)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        for flag in ("batch_first", "bidirectional"):
            if getattr(self, flag):
                s += f", {flag}=True"
        if not self.bias:
            s += ", bias=False"
        if self.dropout:
            s += f", dropout={self.dropout}"
        return s


class LSTM(_RNNBase):
    """Long short-term memory, as ``torch.nn.LSTM``: ``forward(x, (h_0, c_0))`` returns
    ``(output, (h_n, c_n))`` with ``output`` ``[B, T, D*H]`` (batch_first) or ``[T, B, D*H]``, or
    a PackedSequence for a packed ``x``."""

    gates = 4

    def forward(self, x: Union[Tensor, PackedSequence], hx: Optional[tuple[Tensor, Tensor]] = None
                ) -> tuple[Union[Tensor, PackedSequence], tuple[Tensor, Tensor]]:
        h0, c0 = (None, None) if hx is None else hx
        if isinstance(x, PackedSequence):
            data, batch, order = self._check_packed(x), int(x.batch_sizes[0].item()), x.sorted_indices
            states = [self._initial(h0, batch, False, "h_0", data.device, order),
                      self._initial(c0, batch, False, "c_0", data.device, order)]
            out, (hs, cs) = self._run(data, states, x)
            return x.with_data(out), (self._final(hs, x), self._final(cs, x))
        unbatched = x.ndim == 2
        seq = self._check_input(x)
        batch = seq.shape[0]
        states = [self._initial(h0, batch, unbatched, "h_0", seq.device),
                  self._initial(c0, batch, unbatched, "c_0", seq.device)]
        out, (hs, cs) = self._run(seq, states)
        h_n, c_n = self._final(hs, None), self._final(cs, None)
        if unbatched:
            h_n, c_n = h_n[:, 0], c_n[:, 0]
        return self._output(out, unbatched), (h_n, c_n)

    def _cell(self, gx: Tensor, state: list[Tensor], w_hh: Tensor, b_hh: Optional[Tensor]) -> list[Tensor]:
        return list(_lstm_step(gx, state[0], state[1], w_hh, b_hh, self.hidden_size))


class _HiddenOnly(_RNNBase):
    """A recurrent layer whose only state is the hidden one (RNN, GRU): ``forward(x, h_0)``
    returns ``(output, h_n)``, the output a PackedSequence for a packed ``x``."""

    def forward(self, x: Union[Tensor, PackedSequence], hx: Optional[Tensor] = None
                ) -> tuple[Union[Tensor, PackedSequence], Tensor]:
        if isinstance(x, PackedSequence):
            data, batch = self._check_packed(x), int(x.batch_sizes[0].item())
            out, (hs,) = self._run(data, [self._initial(hx, batch, False, "h_0", data.device, x.sorted_indices)], x)
            return x.with_data(out), self._final(hs, x)
        unbatched = x.ndim == 2
        seq = self._check_input(x)
        out, (hs,) = self._run(seq, [self._initial(hx, seq.shape[0], unbatched, "h_0", seq.device)])
        h_n = self._final(hs, None)
        return self._output(out, unbatched), (h_n[:, 0] if unbatched else h_n)


class GRU(_HiddenOnly):
    """Gated recurrent unit, as ``torch.nn.GRU``: ``forward(x, h_0)`` returns ``(output, h_n)``,
    the output a PackedSequence for a packed ``x``."""

    gates = 3

    def _cell(self, gx: Tensor, state: list[Tensor], w_hh: Tensor, b_hh: Optional[Tensor]) -> list[Tensor]:
        return [_gru_step(gx, state[0], w_hh, b_hh)]


class RNN(_HiddenOnly):
    """Elman recurrent layer, as ``torch.nn.RNN``: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T +
    b_hh)`` with ``nonlinearity`` ``'tanh'`` (default) or ``'relu'``; ``forward(x, h_0)`` returns
    ``(output, h_n)``, the output a PackedSequence for a packed ``x``."""

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False) -> None:
        _check_nonlinearity("RNN", nonlinearity)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)
        self.nonlinearity = nonlinearity

    def _cell(self, gx: Tensor, state: list[Tensor], w_hh: Tensor, b_hh: Optional[Tensor]) -> list[Tensor]:
        return [_elman_step(gx, state[0], w_hh, b_hh, self.nonlinearity)]

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text + (", nonlinearity='relu'" if self.nonlinearity == "relu" else "")


class _CellBase(Module):
    """One step of a recurrent layer: ``weight_ih`` ``[gates * H, input_size]``, ``weight_hh``
    ``[gates * H, H]`` and their biases, initialised uniform in ±1/sqrt(H) as PyTorch's."""

    gates = 1
    weight_ih: Tensor
    weight_hh: Tensor

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        for arg, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: argument `{arg}` expected a positive int, got {value!r}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        bound = 1.0 / math.sqrt(hidden_size)
        width = self.gates * hidden_size
        shapes: dict[str, tuple[int, ...]] = {"weight_ih": (width, input_size), "weight_hh": (width, hidden_size)}
        if bias:
            shapes.update(bias_ih=(width,), bias_hh=(width,))
        for kind, shape in shapes.items():
            setattr(self, kind, init.uniform_(empty_parameter(shape), -bound, bound))

    def _inputs(self, x: Tensor, states: list[Optional[Tensor]]) -> tuple[Tensor, list[Tensor], bool]:
        """``x`` as ``[B, input_size]`` projected by ``weight_ih``, the states as ``[B, H]``
        (zeros when not given), and whether the input was unbatched."""
        name = type(self).__name__
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input expected shape [batch, {self.input_size}] (or unbatched "
                             f"[{self.input_size}]), got {tuple(x.shape)}")
        unbatched = x.ndim == 1
        x2 = x.unsqueeze(0) if unbatched else x
        batch = x2.shape[0]
        out = []
        for s in states:
            if s is None:
                out.append(_core.full([batch, self.hidden_size], 0.0, "float32", x.device, False))
                continue
            s2 = s.unsqueeze(0) if unbatched else s
            if tuple(s2.shape) != (batch, self.hidden_size):
                raise ValueError(f"{name}: state expected shape {(batch, self.hidden_size) if not unbatched else (self.hidden_size,)}, "
                                 f"got {tuple(s.shape)}")
            out.append(s2)
        return F.linear(x2, self.weight_ih, getattr(self, "bias_ih", None)), out, unbatched

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """One Elman step, as ``torch.nn.RNNCell``: ``forward(x, h)`` returns ``h'``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh") -> None:
        _check_nonlinearity("RNNCell", nonlinearity)
        super().__init__(input_size, hidden_size, bias)
        self.nonlinearity = nonlinearity

    def forward(self, x: Tensor, hx: Optional[Tensor] = None) -> Tensor:
        gx, (h,), unbatched = self._inputs(x, [hx])
        out = _elman_step(gx, h, self.weight_hh, getattr(self, "bias_hh", None), self.nonlinearity)
        return out[0] if unbatched else out


class LSTMCell(_CellBase):
    """One LSTM step, as ``torch.nn.LSTMCell``: ``forward(x, (h, c))`` returns ``(h', c')``."""

    gates = 4

    def forward(self, x: Tensor, hx: Optional[tuple[Tensor, Tensor]] = None) -> tuple[Tensor, Tensor]:
        h0, c0 = (None, None) if hx is None else hx
        gx, (h, c), unbatched = self._inputs(x, [h0, c0])
        h1, c1 = _lstm_step(gx, h, c, self.weight_hh, getattr(self, "bias_hh", None), self.hidden_size)
        return (h1[0], c1[0]) if unbatched else (h1, c1)


class GRUCell(_CellBase):
    """One GRU step, as ``torch.nn.GRUCell``: ``forward(x, h)`` returns ``h'``."""

    gates = 3

    def forward(self, x: Tensor, hx: Optional[Tensor] = None) -> Tensor:
        gx, (h,), unbatched = self._inputs(x, [hx])
        out = _gru_step(gx, h, self.weight_hh, getattr(self, "bias_hh", None))
        return out[0] if unbatched else out


RNNLike = Union[RNN, LSTM, GRU]
