"""Entity-level precision, recall and F1 for tagged sequences (the CoNLL evaluation, as seqeval
computes it in its default mode): an entity counts only when its type and its exact span match."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence


def extract_entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """The entities of a tag sequence as ``(type, start, end)`` (end exclusive).

    Accepts IOB1 (``I-X`` may start an entity), IOB2 (``B-X`` starts one) and IOBES tags: an entity
    starts at ``B-``/``S-``, or at ``I-``/``E-`` following another type or ``O``.
    """
    entities: list[tuple[str, int, int]] = []
    kind: str | None = None
    start = 0
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, label = tag.partition("-") if tag != "O" else ("O", "", "")
        if kind is not None and (prefix in ("O", "B", "S") or label != kind):
            entities.append((kind, start, i))
            kind = None
        if prefix != "O" and kind is None:
            kind, start = label, i
        if prefix in ("E", "S") and kind is not None:
            entities.append((kind, start, i + 1))
            kind = None
    return entities


@dataclass
class EntityScores:
    """Micro-averaged entity precision, recall and F1, and the same per entity type."""

    precision: float
    recall: float
    f1: float
    support: int
    per_type: dict[str, tuple[float, float, float, int]] = field(default_factory=dict)

    def report(self) -> str:
        """A table in seqeval's layout."""
        rows = [f"{'':>12}{'precision':>11}{'recall':>9}{'f1-score':>10}{'support':>9}"]
        for kind, (p, r, f, n) in sorted(self.per_type.items()):
            rows.append(f"{kind:>12}{p:>11.4f}{r:>9.4f}{f:>10.4f}{n:>9}")
        rows.append(f"{'micro avg':>12}{self.precision:>11.4f}{self.recall:>9.4f}{self.f1:>10.4f}{self.support:>9}")
        return "\n".join(rows)


def _prf(hits: int, predicted: int, gold: int) -> tuple[float, float, float]:
    p = hits / predicted if predicted else 0.0
    r = hits / gold if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def entity_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> EntityScores:
    """Entity-level scores of ``predicted`` tag sequences against ``gold`` ones (one per sentence)."""
    if len(gold) != len(predicted):
        raise ValueError(f"entity_scores: argument `predicted` expected {len(gold)} sequences (one per gold "
                         f"sequence), got {len(predicted)}")
    counts: dict[str, list[int]] = {}
    for i, (g, p) in enumerate(zip(gold, predicted)):
        if len(g) != len(p):
            raise ValueError(f"entity_scores: sentence {i} has {len(g)} gold tags and {len(p)} predicted tags")
        gold_set, pred_set = set(extract_entities(g)), set(extract_entities(p))
        for kind, *_ in gold_set | pred_set:
            counts.setdefault(kind, [0, 0, 0])
        for e in gold_set & pred_set:
            counts[e[0]][0] += 1
        for e in pred_set:
            counts[e[0]][1] += 1
        for e in gold_set:
            counts[e[0]][2] += 1
    per_type = {k: (*_prf(*c), c[2]) for k, c in counts.items()}
    hits, npred, ngold = (sum(c[j] for c in counts.values()) for j in range(3))
    return EntityScores(*_prf(hits, npred, ngold), support=ngold, per_type=per_type)
