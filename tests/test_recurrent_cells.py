"""``nn.RNN`` (tanh and relu) against a JAX reference, values and gradients; the single-step cells
(RNNCell, LSTMCell, GRUCell) against one step of their layers (which test_models checks against
JAX), batched and unbatched; and their argument errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn

jax.config.update("jax_platforms", "cpu")


def _elman_reference(params: dict, x: jnp.ndarray, h0: jnp.ndarray, layers: int, nonlinearity: str
                     ) -> tuple[jnp.ndarray, jnp.ndarray]:
    """A bidirectional Elman RNN over x [T, B, F]: output [T, B, 2H] and h_n [2 * layers, B, H]."""
    act = jnp.tanh if nonlinearity == "tanh" else jax.nn.relu
    finals = []
    for layer in range(layers):
        outs = []
        for d, suffix in enumerate(["", "_reverse"]):
            w_ih, w_hh = params[f"weight_ih_l{layer}{suffix}"], params[f"weight_hh_l{layer}{suffix}"]
            b = params[f"bias_ih_l{layer}{suffix}"] + params[f"bias_hh_l{layer}{suffix}"]
            h = h0[2 * layer + d]
            steps = [None] * x.shape[0]
            for t in (range(x.shape[0] - 1, -1, -1) if suffix else range(x.shape[0])):
                h = act(x[t] @ w_ih.T + h @ w_hh.T + b)
                steps[t] = h
            outs.append(jnp.stack(steps))
            finals.append(h)
        x = jnp.concatenate(outs, -1)
    return x, jnp.stack(finals)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_matches_jax_values_and_gradients(nonlinearity: str, rng: np.random.Generator) -> None:
    fg.manual_seed(2)
    layer = nn.RNN(3, 5, num_layers=2, nonlinearity=nonlinearity, bidirectional=True)
    params = {name: p.detach().numpy().copy() for name, p in layer.named_parameters()}
    x = rng.standard_normal((6, 4, 3)).astype(np.float32)
    h0 = rng.standard_normal((4, 4, 5)).astype(np.float32)
    w_out = rng.standard_normal((6, 4, 10)).astype(np.float32)

    def objective(params: dict, x: jnp.ndarray, h0: jnp.ndarray) -> jnp.ndarray:
        out, h_n = _elman_reference(params, x, h0, 2, nonlinearity)
        return (out * w_out).sum() + h_n.sum()

    tx, th = fg.tensor(x, requires_grad=True), fg.tensor(h0, requires_grad=True)
    out, h_n = layer(tx, th)
    total = (out * fg.tensor(w_out)).sum() + h_n.sum()
    total.backward()
    np.testing.assert_allclose(total.item(), float(objective(params, x, h0)), rtol=1e-5)
    g_params, g_x, g_h0 = jax.grad(objective, argnums=(0, 1, 2))(params, x, h0)
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), np.asarray(g_params[name]), rtol=1e-4, atol=1e-4, err_msg=name)
    np.testing.assert_allclose(tx.grad.numpy(), np.asarray(g_x), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(th.grad.numpy(), np.asarray(g_h0), rtol=1e-4, atol=1e-5)
    assert repr(layer).endswith("bidirectional=True)" if nonlinearity == "tanh" else "nonlinearity='relu')")


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_cells_equal_one_step_of_their_layer(kind: str, rng: np.random.Generator) -> None:
    fg.manual_seed(3)
    layer = getattr(nn, kind)(3, 4, batch_first=True)
    cell = getattr(nn, kind + "Cell")(3, 4)
    assert [n for n, _ in cell.named_parameters()] == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    assert all(abs(p.detach().numpy()).max() <= 0.5 for p in cell.parameters())  # uniform in ±1/sqrt(4)
    cell.load_state_dict({name[:-3]: p.detach() for name, p in layer.named_parameters()})
    x = rng.standard_normal((2, 3)).astype(np.float32)
    h = rng.standard_normal((2, 4)).astype(np.float32)
    c = rng.standard_normal((2, 4)).astype(np.float32)
    state = (fg.tensor(h), fg.tensor(c)) if kind == "LSTM" else fg.tensor(h)
    layer_state = (fg.tensor(h[None]), fg.tensor(c[None])) if kind == "LSTM" else fg.tensor(h[None])
    got = cell(fg.tensor(x), state)
    _, want = layer(fg.tensor(x[:, None]), layer_state)
    got_list = list(got) if kind == "LSTM" else [got]
    want_list = [w[0] for w in want] if kind == "LSTM" else [want[0]]
    for a, b in zip(got_list, want_list):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-7)
    sum(t.sum() for t in got_list).backward()
    sum(t.sum() for t in want_list).backward()
    for (name, p), q in zip(layer.named_parameters(), cell.parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
    # Unbatched, with the default zero state.
    single = cell(fg.tensor(x[0]))
    batched = cell(fg.tensor(x[:1]))
    for a, b in zip(list(single) if kind == "LSTM" else [single], list(batched) if kind == "LSTM" else [batched]):
        assert tuple(a.shape) == (4,)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy()[0], rtol=1e-6)


def test_bad_recurrent_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="RNN: argument `nonlinearity` expected 'tanh' or 'relu', got 'gelu'"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="GRUCell: argument `hidden_size` expected a positive int, got 0"):
        nn.GRUCell(3, 0)
    with pytest.raises(ValueError, match=r"LSTMCell: input expected shape \[batch, 3\]"):
        nn.LSTMCell(3, 4)(fg.zeros(2, 5))
    with pytest.raises(ValueError, match=r"RNNCell: state expected shape \(2, 4\), got \(2, 3\)"):
        nn.RNNCell(3, 4)(fg.zeros(2, 3), fg.zeros(2, 3))
