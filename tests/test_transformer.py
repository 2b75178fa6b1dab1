"""Multi-head attention and Transformer encoder and decoder layers against JAX (values and
gradients), the encoder-decoder Transformer's layout, position encodings, and a from-scratch
encoder classifier learning SST-2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn

jax = pytest.importorskip("jax")
jnp = jax.numpy
NEG = float(np.finfo(np.float32).min)


def mha_ref(p: dict, q, k, v, pad, heads: int, causal: bool = False):
    """PyTorch's multi-head attention (batch_first) in JAX; ``pad`` True marks padded keys, and
    ``causal`` keeps query ``i`` on keys ``0..i``."""
    b, lq, e = q.shape
    d = e // heads
    w, bias = p["in_proj_weight"], p["in_proj_bias"]
    proj = lambda x, i: (x @ w[i * e:(i + 1) * e].T + bias[i * e:(i + 1) * e]).reshape(b, -1, heads, d).transpose(0, 2, 1, 3)  # noqa: E731
    qh, kh, vh = proj(q, 0), proj(k, 1), proj(v, 2)
    s = qh @ kh.transpose(0, 1, 3, 2) / np.sqrt(d) + jnp.where(pad[:, None, None, :], NEG, 0.0)
    if causal:
        s = s + jnp.where(np.triu(np.ones((lq, k.shape[1]), bool), 1), NEG, 0.0)
    a = jax.nn.softmax(s, -1)
    out = (a @ vh).transpose(0, 2, 1, 3).reshape(b, lq, e) @ p["out_proj.weight"].T + p["out_proj.bias"]
    return out, a.mean(1)


def layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / jnp.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps) * w + b


def encoder_layer_ref(p: dict, x, pad, heads: int, norm_first: bool):
    attn = lambda h: mha_ref({k[len("self_attn."):]: v for k, v in p.items() if k.startswith("self_attn.")}, h, h, h, pad, heads)[0]  # noqa: E731
    ff = lambda h: jax.nn.relu(h @ p["linear1.weight"].T + p["linear1.bias"]) @ p["linear2.weight"].T + p["linear2.bias"]  # noqa: E731
    n1 = lambda h: layer_norm(h, p["norm1.weight"], p["norm1.bias"])  # noqa: E731
    n2 = lambda h: layer_norm(h, p["norm2.weight"], p["norm2.bias"])  # noqa: E731
    if norm_first:
        x = x + attn(n1(x))
        return x + ff(n2(x))
    x = n1(x + attn(x))
    return n2(x + ff(x))


def decoder_layer_ref(p: dict, x, memory, tgt_pad, memory_pad, heads: int, norm_first: bool):
    """PyTorch's decoder layer (causal self-attention, attention over ``memory``, feed-forward)."""
    def sub(prefix: str) -> dict:
        return {k[len(prefix):]: v for k, v in p.items() if k.startswith(prefix)}

    attn = lambda h: mha_ref(sub("self_attn."), h, h, h, tgt_pad, heads, causal=True)[0]  # noqa: E731
    cross = lambda h: mha_ref(sub("multihead_attn."), h, memory, memory, memory_pad, heads)[0]  # noqa: E731
    ff = lambda h: jax.nn.relu(h @ p["linear1.weight"].T + p["linear1.bias"]) @ p["linear2.weight"].T + p["linear2.bias"]  # noqa: E731
    n = [lambda h, i=i: layer_norm(h, p[f"norm{i}.weight"], p[f"norm{i}.bias"]) for i in (1, 2, 3)]
    if norm_first:
        x = x + attn(n[0](x))
        x = x + cross(n[1](x))
        return x + ff(n[2](x))
    x = n[0](x + attn(x))
    x = n[1](x + cross(x))
    return n[2](x + ff(x))


def params_of(module: nn.Module) -> dict[str, np.ndarray]:
    return {n: p.detach().numpy() for n, p in module.named_parameters()}


def test_multihead_attention_matches_jax_with_padding_mask():
    rng = np.random.default_rng(0)
    fg.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    assert [n for n, _ in mha.named_parameters()] == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    fg.manual_seed(1)
    with fg.no_grad():  # non-zero biases, so that their part of the forward pass is checked too
        for name, p in mha.named_parameters():
            if name.endswith("bias"):
                p.copy_(fg.randn(*p.shape))
    q, kv = rng.standard_normal((2, 3, 8)).astype(np.float32), rng.standard_normal((2, 5, 8)).astype(np.float32)
    pad = np.array([[False, False, False, True, True], [False] * 5])
    w = rng.standard_normal((2, 3, 8)).astype(np.float32)
    tq, tkv = fg.tensor(q, requires_grad=True), fg.tensor(kv, requires_grad=True)
    out, weights = mha(tq, tkv, tkv, key_padding_mask=fg.tensor(pad))
    (out * fg.tensor(w)).sum().backward()
    ref_out, ref_weights = mha_ref(params_of(mha), q, kv, kv, pad, 2)
    np.testing.assert_allclose(out.detach().numpy(), np.asarray(ref_out), atol=1e-5)
    np.testing.assert_allclose(weights.detach().numpy(), np.asarray(ref_weights), atol=1e-6)
    assert np.all(weights.detach().numpy()[0, :, 3:] == 0)
    grads = jax.grad(lambda p, q, kv: (mha_ref(p, q, kv, kv, pad, 2)[0] * w).sum(), argnums=(0, 1, 2))(params_of(mha), q, kv)
    for name, p in mha.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), np.asarray(grads[0][name]), atol=1e-4, err_msg=name)
    np.testing.assert_allclose(tq.grad.numpy(), np.asarray(grads[1]), atol=1e-4)
    np.testing.assert_allclose(tkv.grad.numpy(), np.asarray(grads[2]), atol=1e-4)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_layer_matches_jax(norm_first: bool):
    rng = np.random.default_rng(1)
    fg.manual_seed(2)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True, norm_first=norm_first)
    x = rng.standard_normal((2, 4, 8)).astype(np.float32)
    pad = np.array([[False, False, True, True], [False] * 4])
    w = rng.standard_normal(x.shape).astype(np.float32)
    tx = fg.tensor(x, requires_grad=True)
    out = layer(tx, src_key_padding_mask=fg.tensor(pad))
    (out * fg.tensor(w)).sum().backward()
    ref = encoder_layer_ref(params_of(layer), x, pad, 2, norm_first)
    np.testing.assert_allclose(out.detach().numpy(), np.asarray(ref), atol=1e-5)
    g_params, g_x = jax.grad(lambda p, x: (encoder_layer_ref(p, x, pad, 2, norm_first) * w).sum(), argnums=(0, 1))(params_of(layer), x)
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), np.asarray(g_params[name]), atol=2e-4, err_msg=name)
    np.testing.assert_allclose(tx.grad.numpy(), np.asarray(g_x), atol=2e-4)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_decoder_layer_matches_jax(norm_first: bool):
    """Causal self-attention with target padding, attention over a padded memory, values and
    gradients (parameters, target and memory) against JAX."""
    rng = np.random.default_rng(5)
    fg.manual_seed(5)
    layer = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True, norm_first=norm_first)
    x, memory = rng.standard_normal((2, 4, 8)).astype(np.float32), rng.standard_normal((2, 5, 8)).astype(np.float32)
    tgt_pad, memory_pad = np.array([[False] * 3 + [True], [False] * 4]), np.array([[False] * 4 + [True], [False] * 5])
    w = rng.standard_normal(x.shape).astype(np.float32)
    tx, tm = fg.tensor(x, requires_grad=True), fg.tensor(memory, requires_grad=True)
    out = layer(tx, tm, tgt_key_padding_mask=fg.tensor(tgt_pad), memory_key_padding_mask=fg.tensor(memory_pad),
                tgt_is_causal=True)
    (out * fg.tensor(w)).sum().backward()
    ref = decoder_layer_ref(params_of(layer), x, memory, tgt_pad, memory_pad, 2, norm_first)
    np.testing.assert_allclose(out.detach().numpy(), np.asarray(ref), atol=1e-5)
    grads = jax.grad(lambda p, x, m: (decoder_layer_ref(p, x, m, tgt_pad, memory_pad, 2, norm_first) * w).sum(),
                     argnums=(0, 1, 2))(params_of(layer), x, memory)
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), np.asarray(grads[0][name]), atol=2e-4, err_msg=name)
    np.testing.assert_allclose(tx.grad.numpy(), np.asarray(grads[1]), atol=2e-4)
    np.testing.assert_allclose(tm.grad.numpy(), np.asarray(grads[2]), atol=2e-4)


@fg.no_grad()
def test_encoder_decoder_transformer_has_pytorchs_layout_and_uses_its_encoder():
    """nn.Transformer: PyTorch's state-dict names (encoder and decoder stacks, each with a final
    norm), Xavier-initialised matrices, and an output equal to the decoder run on the encoder's
    output; the batch and feature sizes are checked."""
    fg.manual_seed(6)
    model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=3, dim_feedforward=16,
                           dropout=0.0, batch_first=True)
    names = list(model.state_dict())
    assert names[0] == "encoder.layers.0.self_attn.in_proj_weight" and "encoder.norm.weight" in names
    assert "decoder.layers.2.multihead_attn.out_proj.weight" in names and names[-1] == "decoder.norm.bias"
    bound = np.sqrt(6 / (8 + 16))
    w = model.encoder.layers[0].linear1.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.5 * bound
    src, tgt = fg.randn(2, 5, 8), fg.randn(2, 3, 8)
    causal = nn.Transformer.generate_square_subsequent_mask(3)
    out = model(src, tgt, tgt_mask=causal)
    expected = model.decoder(tgt, model.encoder(src), tgt_mask=causal)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="Transformer: src and tgt expected the same batch size"):
        model(src, fg.randn(3, 3, 8))
    with pytest.raises(ValueError, match="expected feature size d_model=8"):
        model(src, fg.randn(2, 3, 4))


@pytest.mark.parametrize("need_weights", [False, True])
def test_is_causal_equals_the_square_subsequent_mask(need_weights: bool):
    """``is_causal=True`` gives what PyTorch's ``generate_square_subsequent_mask`` as ``attn_mask``
    gives, alone and with a padding mask, and its weights are zero above the diagonal."""
    rng = np.random.default_rng(4)
    fg.manual_seed(4)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = fg.tensor(rng.standard_normal((2, 5, 8)).astype(np.float32))
    causal = nn.generate_square_subsequent_mask(5)
    np.testing.assert_array_equal(causal.numpy(), np.triu(np.full((5, 5), -np.inf, np.float32), 1))
    pad = fg.tensor(np.array([[False] * 4 + [True], [False] * 5]))
    for padding in (None, pad):
        out, w = mha(x, x, x, key_padding_mask=padding, need_weights=need_weights, is_causal=True)
        ref, ref_w = mha(x, x, x, key_padding_mask=padding, need_weights=need_weights, attn_mask=causal)
        np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
        if need_weights:
            weights = w.detach().numpy()
            np.testing.assert_allclose(weights, ref_w.detach().numpy(), rtol=1e-5, atol=1e-7)
            assert np.all(weights[:, np.triu_indices(5, 1)[0], np.triu_indices(5, 1)[1]] == 0)
    plain = mha(x, x, x, need_weights=need_weights)[0].detach().numpy()
    assert np.abs(plain - out.detach().numpy()).max() > 1e-2
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
    encoder = nn.TransformerEncoder(layer, 2)
    np.testing.assert_allclose(encoder(x, is_causal=True).detach().numpy(), encoder(x, mask=causal).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


@fg.no_grad()
def test_encoder_stack_masks_positions_and_errors():
    fg.manual_seed(3)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0)
    encoder = nn.TransformerEncoder(layer, 3, norm=nn.LayerNorm(8))
    names = list(encoder.state_dict())
    assert names[0] == "layers.0.self_attn.in_proj_weight" and "layers.2.linear2.bias" in names and names[-1] == "norm.bias"
    np.testing.assert_array_equal(encoder.layers[2].linear1.weight.detach().numpy(), layer.linear1.weight.detach().numpy())
    x = fg.randn(5, 2, 8)  # [seq, batch, d] by default
    causal = fg.tensor(np.triu(np.ones((5, 5), bool), 1))
    out = encoder(x, mask=causal)
    # With a causal mask, the first position's output depends on the first input only.
    changed = x.numpy().copy()
    changed[1:] += 1.0
    again = encoder(fg.tensor(changed), mask=causal)
    np.testing.assert_allclose(out.numpy()[0], again.numpy()[0], atol=1e-5)
    assert not np.allclose(out.numpy()[1], again.numpy()[1])
    table = nn.SinusoidalPositionalEncoding(6, max_len=10).pe.numpy()
    np.testing.assert_allclose(table[3], [np.sin(3), np.cos(3), np.sin(3 / 10000 ** (2 / 6)), np.cos(3 / 10000 ** (2 / 6)),
                                          np.sin(3 / 10000 ** (4 / 6)), np.cos(3 / 10000 ** (4 / 6))], atol=1e-6)
    learned = nn.LearnedPositionalEmbedding(10, 6)
    y = learned(fg.zeros(2, 4, 6))
    np.testing.assert_allclose(y.numpy()[1], learned.embedding.weight.detach().numpy()[:4])
    with pytest.raises(ValueError, match="max_len"):
        learned(fg.zeros(1, 11, 6))
    with pytest.raises(ValueError, match="key_padding_mask"):
        layer(fg.randn(5, 2, 8), src_key_padding_mask=fg.tensor(np.zeros((2, 4), bool)))
    with pytest.raises(ValueError, match="multiple"):
        nn.MultiheadAttention(10, 3)


def test_transformer_classifier_learns_sst2_from_scratch(data_dir: Path, minilm_dir: Path):
    tokenizer = fg.text.Tokenizer.from_pretrained(minilm_dir)
    train = fg.text.text_classification_dataset(data_dir / "sst2" / "train.tsv", tokenizer, max_length=48, limit=20000)
    dev = fg.text.text_classification_dataset(data_dir / "sst2" / "dev.tsv", tokenizer, max_length=48, classes=train.classes)
    fg.manual_seed(0)
    model = fg.models.TransformerClassifier(tokenizer.vocab_size, 2, d_model=64, nhead=4, num_layers=2,
                                            dim_feedforward=128, positions="learned")
    history = model.fit(train, epochs=1, batch_size=64, optimizer=fg.optim.AdamW(model.parameters(), lr=1e-3),
                        seed=0, verbose=False)
    accuracy = model.evaluate(dev).accuracy
    print(f"encoder classifier from scratch, one epoch of 20,000 SST-2 phrases: train {history['accuracy'][0]:.4f}, dev {accuracy:.4f}")
    assert history["accuracy"][0] > 0.6 and accuracy > 0.68
