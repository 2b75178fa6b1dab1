"""Text: the Rust tokenizer, text datasets, entity scores, the BERT encoder against a numpy
re-implementation of its forward pass, and fine-tuning MiniLM on SST-2 and CoNLL-2003."""

from __future__ import annotations

import collections
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.special import erf

import ferrograd as fg
from ferrograd import functional as F
from conftest import read_safetensors


@pytest.fixture(scope="module")
def tokenizer(minilm_dir: Path) -> fg.text.Tokenizer:
    return fg.text.Tokenizer.from_pretrained(minilm_dir)


def vocab_ids(minilm_dir: Path, tokens: list[str]) -> list[int]:
    """Ids read from vocab.txt directly (line number = id)."""
    vocab = {t: i for i, t in enumerate((minilm_dir / "vocab.txt").read_text(encoding="utf-8").splitlines())}
    return [vocab[t] for t in tokens]


# -- tokenizer ----------------------------------------------------------------------------------

def test_tokenizer_lowercases_splits_word_pieces_and_adds_special_tokens(tokenizer, minilm_dir):
    batch = tokenizer(["Tokenization isn't HARD.", "A cat"], return_tensors="np")
    first = ["[CLS]", "token", "##ization", "isn", "'", "t", "hard", ".", "[SEP]"]
    second = ["[CLS]", "a", "cat", "[SEP]"]
    expected = np.array([vocab_ids(minilm_dir, first), vocab_ids(minilm_dir, second) + [0] * 5])
    np.testing.assert_array_equal(batch["input_ids"], expected)
    np.testing.assert_array_equal(batch["attention_mask"], (expected != 0).astype(np.int64))
    np.testing.assert_array_equal(batch["word_ids"][0], [-1, 0, 0, 1, 2, 3, 4, 5, -1])
    assert tokenizer.pad_token_id == 0 and tokenizer.vocab_size == 30522
    assert tokenizer.decode(batch["input_ids"][0][:3]) == "tokenization"
    assert tokenizer.decode(batch["input_ids"][1], skip_special_tokens=False) == "[CLS] a cat [SEP] [PAD] [PAD] [PAD] [PAD] [PAD]"


def test_tokenizer_truncates_pads_and_encodes_pairs(tokenizer, minilm_dir):
    long = "one two three four five six seven"
    cut = tokenizer(long, max_length=5, return_tensors="np")["input_ids"]
    np.testing.assert_array_equal(cut, [vocab_ids(minilm_dir, ["[CLS]", "one", "two", "three", "[SEP]"])])
    fixed = tokenizer(["hi"], max_length=6, padding="max_length")
    assert fixed["input_ids"].dtype == "int64" and tuple(fixed["input_ids"].shape) == (1, 6)
    pair = tokenizer("a cat", text_pair="the dog", return_tensors="np")
    np.testing.assert_array_equal(pair["token_type_ids"], [[0, 0, 0, 0, 1, 1, 1]])
    with pytest.raises(ValueError, match="truncation=False"):
        tokenizer(long, max_length=4, truncation=False)
    with pytest.raises(ValueError, match="padding"):
        tokenizer("x", padding="sideways")
    with pytest.raises(TypeError, match="texts"):
        tokenizer([1, 2])  # type: ignore[list-item]
    with pytest.raises(FileNotFoundError):
        fg.text.Tokenizer.from_file("/nonexistent/tokenizer.json")


# -- datasets -----------------------------------------------------------------------------------

def test_text_classification_dataset_reads_sst2_with_dynamic_padding(tokenizer, data_dir):
    ds = fg.text.text_classification_dataset(data_dir / "sst2" / "train.tsv", tokenizer, limit=100)
    rows = [line.split("\t") for line in (data_dir / "sst2" / "train.tsv").read_text().splitlines()[1:101]]
    assert len(ds) == 100 and ds.classes == ["0", "1"]
    np.testing.assert_array_equal(ds.labels, [int(r[1]) for r in rows])
    ids, label = ds[3]
    expected = tokenizer(rows[3][0], return_tensors="np")["input_ids"][0]
    np.testing.assert_array_equal(ids[: len(expected)], expected)
    assert (ids[len(expected):] == 0).all() and label == int(rows[3][1])
    x, y = next(iter(fg.data.DataLoader(ds, 4, shuffle=False)))
    width = max(len(tokenizer(r[0], return_tensors="np")["input_ids"][0]) for r in rows[:4])
    assert x.dtype == np.int64 and x.shape == (4, width) and y.shape == (4,)
    with pytest.raises(ValueError, match="not one of the classes"):
        fg.text.text_classification_dataset(data_dir / "sst2" / "dev.tsv", tokenizer, classes=["0"])
    with pytest.raises(ValueError, match="no column"):
        fg.text.text_classification_dataset(data_dir / "sst2" / "dev.tsv", tokenizer, text="review")
    with pytest.raises(TypeError, match="tokenizer"):
        fg.text.text_classification_dataset(data_dir / "sst2" / "dev.tsv", "bert")  # type: ignore[arg-type]


def test_conll_labels_sit_on_the_first_word_piece(tokenizer, data_dir):
    sentences = fg.text.read_conll(data_dir / "conll2003" / "eng.testa")
    assert len(sentences) == 3250
    assert sentences[0] == (["CRICKET", "-", "LEICESTERSHIRE", "TAKE", "OVER", "AT", "TOP", "AFTER", "INNINGS", "VICTORY", "."],
                            ["O", "O", "I-ORG", "O", "O", "O", "O", "O", "O", "O", "O"])
    ds = fg.text.token_classification_dataset(sentences[:50], tokenizer, max_length=64)
    ids, labels = ds[0]
    enc = tokenizer.encode_words([sentences[0][0]], return_tensors="np")
    words = enc["word_ids"][0]
    classes = ds.classes
    for k, w in enumerate(words):
        first_piece = w >= 0 and (k == 0 or words[k - 1] != w)
        assert labels[k] == (classes.index(sentences[0][1][w]) if first_piece else -100)
    assert sum(label != -100 for label in labels) == len(sentences[0][0])
    x, y = next(iter(fg.data.DataLoader(ds, 8, shuffle=False)))
    assert x.shape == y.shape and x.shape[1] <= 64


def test_entity_scores_follow_the_conll_chunk_rules():
    assert fg.text.extract_entities(["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-LOC"]) == [
        ("PER", 0, 2), ("LOC", 3, 4), ("LOC", 4, 6)]
    assert fg.text.extract_entities(["B-ORG", "I-PER", "S-MISC", "B-LOC", "E-LOC"]) == [
        ("ORG", 0, 1), ("PER", 1, 2), ("MISC", 2, 3), ("LOC", 3, 5)]
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "B-MISC"]]
    s = fg.text.entity_scores(gold, pred)
    # 2 of 4 predicted entities are right, 2 of 3 gold entities are found.
    assert (s.precision, s.recall) == (0.5, pytest.approx(2 / 3)) and s.f1 == pytest.approx(4 / 7)
    assert s.per_type["PER"] == (1.0, 1.0, 1.0, 1) and s.per_type["MISC"][:3] == (0.0, 0.0, 0.0)
    assert "micro avg" in s.report()
    with pytest.raises(ValueError, match="sentence 0"):
        fg.text.entity_scores([["O"]], [["O", "O"]])


# -- BERT against a numpy forward pass ----------------------------------------------------------

def bert_reference(w: dict[str, np.ndarray], config: dict, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """BERT's forward pass in float64 numpy: the last hidden states [B, L, H]."""
    w = {k: v.astype(np.float64) for k, v in w.items() if v.dtype == np.float32}
    eps, heads = config["layer_norm_eps"], config["num_attention_heads"]

    def norm(x, name):
        mu = x.mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps) * w[name + ".weight"] + w[name + ".bias"]

    def dense(x, name):
        return x @ w[name + ".weight"].T + w[name + ".bias"]

    b, n = ids.shape
    h = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n] \
        + w["embeddings.token_type_embeddings.weight"][0]
    h = norm(h, "embeddings.LayerNorm")
    bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e30)
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        split = lambda x: x.reshape(b, n, heads, -1).transpose(0, 2, 1, 3)  # noqa: E731
        q, k, v = (split(dense(h, p + "attention.self." + m)) for m in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(q.shape[-1]) + bias
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(b, n, -1)
        h = norm(dense(ctx, p + "attention.output.dense") + h, p + "attention.output.LayerNorm")
        inner = dense(h, p + "intermediate.dense")
        inner = 0.5 * inner * (1 + erf(inner / math.sqrt(2)))
        h = norm(dense(inner, p + "output.dense") + h, p + "output.LayerNorm")
    return h


def test_minilm_sentence_embeddings_match_a_numpy_forward_pass(minilm_dir, tokenizer):
    sentences = ["This is an example sentence", "Each sentence is converted",
                 "Adversarial robustness of sentence encoders is rarely measured.", "short"]
    batch = tokenizer(sentences, return_tensors="np")
    model = fg.models.BertModel.from_pretrained(minilm_dir)
    with fg.no_grad():
        got = model.embed(fg.tensor(batch["input_ids"]), fg.tensor(batch["attention_mask"])).numpy()
    weights = read_safetensors(minilm_dir / "model.safetensors")
    config = json.loads((minilm_dir / "config.json").read_text())
    hidden = bert_reference(weights, config, batch["input_ids"], batch["attention_mask"])
    mask = batch["attention_mask"][..., None]
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    expected = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)
    # Padding must not change a sentence's embedding: alone, "short" embeds the same.
    alone = tokenizer(["short"], return_tensors="fg")
    with fg.no_grad():
        single = model.embed(alone["input_ids"]).numpy()
    np.testing.assert_allclose(single[0], got[3], atol=1e-5)
    # Similar sentences are closer than unrelated ones.
    assert got[0] @ got[1] > got[0] @ got[3]


def test_bert_heads_shapes_gradients_and_errors(minilm_dir):
    fg.manual_seed(0)
    clf = fg.models.BertForSequenceClassification.from_pretrained(minilm_dir, num_labels=3, pooling="mean")
    ner = fg.models.BertForTokenClassification.from_pretrained(minilm_dir, num_labels=5)
    base = fg.models.BertModel.from_pretrained(minilm_dir)
    np.testing.assert_array_equal(clf.bert.encoder.layer[2].output.dense.weight.detach().numpy(),
                                  base.encoder.layer[2].output.dense.weight.detach().numpy())
    ids = fg.tensor(np.array([[101, 2023, 2003, 102, 0], [101, 7592, 102, 0, 0]]))
    logits = clf(ids)
    assert tuple(logits.shape) == (2, 3)
    F.cross_entropy(logits, fg.tensor([0, 2])).backward()
    assert clf.classifier.weight.grad is not None and clf.bert.embeddings.word_embeddings.weight.grad is not None
    assert tuple(ner(ids).shape) == (2, 5, 5)
    with pytest.raises(TypeError, match="input_ids"):
        clf(fg.tensor(np.zeros((2, 5), np.float32)))
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        fg.models.BertModel.from_pretrained(minilm_dir / "1_Pooling")
    with pytest.raises(ValueError, match="pooling"):
        fg.models.BertForSequenceClassification(fg.models.BertConfig(), pooling="max")


def test_scaled_dot_product_attention_matches_jax():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 3, 4, 8)).astype(np.float32) for _ in range(3))
    keep = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)[:, None, None, :]

    def reference(q, k, v):
        s = q @ jnp.swapaxes(k, -1, -2) / jnp.sqrt(8.0) + jnp.where(keep, 0.0, np.finfo(np.float32).min)
        return (jax.nn.softmax(s, -1) @ v * jnp.arange(1, 9)).sum()

    tq, tk, tv = (fg.tensor(a, requires_grad=True) for a in (q, k, v))
    out = (F.scaled_dot_product_attention(tq, tk, tv, fg.tensor(keep)) * fg.tensor(np.arange(1, 9, dtype=np.float32))).sum()
    out.backward()
    np.testing.assert_allclose(out.item(), float(reference(q, k, v)), rtol=1e-5)
    for got, want in zip((tq, tk, tv), jax.grad(reference, argnums=(0, 1, 2))(q, k, v)):
        np.testing.assert_allclose(got.grad.numpy(), np.asarray(want), atol=1e-5)


@pytest.mark.parametrize("lq,lk", [(4, 4), (3, 6), (6, 3)])
def test_causal_attention_matches_jax(lq: int, lk: int):
    """``is_causal``: query i attends to keys 0..i (PyTorch's top-left lower triangle), for square,
    wide and tall score matrices; values and gradients against JAX."""
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    rng = np.random.default_rng(2)
    q = rng.standard_normal((2, 3, lq, 8)).astype(np.float32)
    k, v = (rng.standard_normal((2, 3, lk, 8)).astype(np.float32) for _ in range(2))
    allowed = np.tril(np.ones((lq, lk), bool))
    weight = rng.standard_normal((2, 3, lq, 8)).astype(np.float32)

    def reference(q, k, v):
        s = jnp.where(allowed, q @ jnp.swapaxes(k, -1, -2) / jnp.sqrt(8.0), -jnp.inf)
        return (jax.nn.softmax(s, -1) @ v * weight).sum()

    tq, tk, tv = (fg.tensor(a, requires_grad=True) for a in (q, k, v))
    out = (F.scaled_dot_product_attention(tq, tk, tv, is_causal=True) * fg.tensor(weight)).sum()
    out.backward()
    np.testing.assert_allclose(out.item(), float(reference(q, k, v)), rtol=1e-5)
    for got, want in zip((tq, tk, tv), jax.grad(reference, argnums=(0, 1, 2))(q, k, v)):
        np.testing.assert_allclose(got.grad.numpy(), np.asarray(want), atol=1e-5)
    # Not the unmasked attention: the check above can fail.
    full = F.scaled_dot_product_attention(tq, tk, tv).detach().numpy()
    assert np.abs(full - F.scaled_dot_product_attention(tq, tk, tv, is_causal=True).detach().numpy()).max() > 0.1
    with pytest.raises(ValueError, match=r"argument `attn_mask` expected None with is_causal=True"):
        F.scaled_dot_product_attention(tq, tk, tv, fg.zeros(lq, lk), is_causal=True)


def test_fused_attention_on_strided_heads_with_dropout_matches_the_composed_ops():
    """Heads permuted out of a [B, L, H*d] projection (strided, as BERT makes them), values
    broadcast over the batch, a float mask, an explicit scale, and dropout: the fused op gives the
    composed ops' output and gradients, and drops the same elements under the same seed."""
    rng = np.random.default_rng(1)
    x = fg.tensor(rng.standard_normal((2, 5, 3 * 4)).astype(np.float32), requires_grad=True)
    k = fg.tensor(rng.standard_normal((2, 3, 6, 4)).astype(np.float32), requires_grad=True)
    v = fg.tensor(rng.standard_normal((1, 3, 6, 7)).astype(np.float32), requires_grad=True)
    mask = fg.tensor(rng.standard_normal((2, 1, 1, 6)).astype(np.float32))
    weight = fg.tensor(rng.standard_normal((2, 3, 5, 7)).astype(np.float32))

    def run(fused: bool) -> tuple[np.ndarray, list[np.ndarray]]:
        for t in (x, k, v):
            t.grad = None
        q = x.reshape(2, 5, 3, 4).permute(0, 2, 1, 3)
        fg.manual_seed(7)
        if fused:
            out = F.scaled_dot_product_attention(q, k, v, mask, dropout_p=0.3, scale=0.4)
        else:
            out = F.dropout(F.attention_weights(q, k, mask, scale=0.4), 0.3) @ v
        (out * weight).sum().backward()
        return out.detach().numpy(), [t.grad.numpy() for t in (x, k, v)]

    (fused_out, fused_grads), (ref_out, ref_grads) = run(True), run(False)
    np.testing.assert_allclose(fused_out, ref_out, rtol=1e-5, atol=1e-6)
    for got, want in zip(fused_grads, ref_grads):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    q = x.reshape(2, 5, 3, 4).permute(0, 2, 1, 3)
    undropped = F.scaled_dot_product_attention(q, k, v, mask, dropout_p=0.3, training=False, scale=0.4).detach().numpy()
    assert np.abs(undropped - fused_out).max() > 0.1  # dropout took part (and eval mode skips it)
    with pytest.raises(ValueError, match=r"do not fit"):
        F.scaled_dot_product_attention(k, k, fg.zeros(2, 3, 5, 4))
    with pytest.raises(ValueError, match=r"mask \[4, 6\] does not broadcast"):
        F.scaled_dot_product_attention(k, k, k, fg.zeros(4, 6))


# -- fine-tuning on real data -------------------------------------------------------------------

def read_tsv(path: Path, limit: int | None = None) -> tuple[list[str], np.ndarray]:
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()[1:]][:limit]
    return [r[0] for r in rows], np.array([int(r[1]) for r in rows])


def test_minilm_fine_tuned_on_sst2_beats_bag_of_words(minilm_dir, tokenizer, data_dir):
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    n = 2000
    train = fg.text.text_classification_dataset(data_dir / "sst2" / "train.tsv", tokenizer, limit=n, max_length=64)
    dev = fg.text.text_classification_dataset(data_dir / "sst2" / "dev.tsv", tokenizer, max_length=64, classes=train.classes)
    fg.manual_seed(0)
    model = fg.models.BertForSequenceClassification.from_pretrained(minilm_dir, num_labels=2, pooling="mean")
    optimizer = fg.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)
    model.fit(train, epochs=1, batch_size=32, optimizer=optimizer, seed=0, verbose=False)
    accuracy = model.evaluate(dev, batch_size=64).accuracy

    texts, labels = read_tsv(data_dir / "sst2" / "train.tsv", n)
    dev_texts, dev_labels = read_tsv(data_dir / "sst2" / "dev.tsv")
    vectorizer = CountVectorizer(ngram_range=(1, 2))
    baseline = LogisticRegression(C=1.0, max_iter=2000).fit(vectorizer.fit_transform(texts), labels)
    baseline_accuracy = float((baseline.predict(vectorizer.transform(dev_texts)) == dev_labels).mean())
    print(f"SST-2 dev accuracy after {n} sentences: MiniLM {accuracy:.4f}, bag of words {baseline_accuracy:.4f}")
    assert accuracy > baseline_accuracy + 0.03


def test_minilm_token_classification_on_conll_beats_most_frequent_tag(minilm_dir, tokenizer, data_dir):
    n = 2000
    train_sentences = fg.text.read_conll(data_dir / "conll2003" / "eng.train")[:n]
    dev_sentences = fg.text.read_conll(data_dir / "conll2003" / "eng.testa")
    train = fg.text.token_classification_dataset(train_sentences, tokenizer, max_length=96)
    dev = fg.text.token_classification_dataset(dev_sentences, tokenizer, max_length=96, classes=train.classes)
    fg.manual_seed(0)
    model = fg.models.BertForTokenClassification.from_pretrained(minilm_dir, num_labels=len(train.classes))
    optimizer = fg.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    model.fit(train, epochs=1, batch_size=32, optimizer=optimizer, seed=0, verbose=False)
    scores = model.predict(dev, batch_size=64)
    labels = dev.labels[:, : scores.shape[1]]
    predicted = []
    for row, label_row, (words, _) in zip(scores.argmax(-1), labels, dev_sentences):
        tags = [train.classes[k] for k in row[label_row != -100]]
        predicted.append(tags + ["O"] * (len(words) - len(tags)))
    gold = [tags for _, tags in dev_sentences]
    f1 = fg.text.entity_scores(gold, predicted).f1

    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for words, tags in train_sentences:
        for word, tag in zip(words, tags):
            counts[word][tag] += 1
    baseline = [[counts[w].most_common(1)[0][0] if w in counts else "O" for w in words] for words, _ in dev_sentences]
    baseline_f1 = fg.text.entity_scores(gold, baseline).f1
    print(f"CoNLL-2003 eng.testa entity F1 after {n} sentences: MiniLM {f1:.4f}, most frequent tag {baseline_f1:.4f}")
    assert f1 > baseline_f1 + 0.15
