"""``fg.einsum``: Einstein summation over any number of operands, lowered to the core's
differentiable ops (sums, permutes, reshapes, diagonals and one batched matrix product per pair of
operands), so gradients and devices come with it.

A letter repeated within one operand first takes that operand's diagonal over those dimensions
(``'ii->i'``, ``'bii->bi'``). An ellipsis (``...``) stands for the operand's remaining
dimensions, right-aligned and broadcast across operands as numpy does; without ``->`` they lead
the output, and (as in PyTorch, unlike numpy) an explicit output without ``...`` sums them away.
Each pair is then contracted by sorting its letters into batch letters (in both operands and still
needed), contracted letters (in both, needed no more), and letters of one operand only; letters of
one operand that nothing else needs are summed away first. Operands are contracted left to right."""

from __future__ import annotations

import math
from typing import Sequence

from ._core import Tensor

# Internal labels of the ellipsis dimensions: private-use characters, never letters, so they cannot
# clash with a subscript; label ``_ELLIPSIS + k`` is the k-th of the broadcast ellipsis dimensions.
_ELLIPSIS = 0xE000


def _label(c: str) -> str:
    return repr(c) if c.isalpha() else f"'...' dimension {ord(c) - _ELLIPSIS}"


def _expand_ellipsis(term: str, ndim: int, width: int) -> str:
    """``term`` with its ``...`` replaced by the labels of its last ``ndim - letters`` of the
    ``width`` broadcast ellipsis dimensions."""
    head, dots, tail = term.partition("...")
    if not dots:
        return term
    count = ndim - len(head) - len(tail)
    return head + "".join(chr(_ELLIPSIS + k) for k in range(width - count, width)) + tail


def _parse(equation: str, operands: Sequence[Tensor]) -> tuple[list[str], str]:
    eq = equation.replace(" ", "")
    inputs, arrow, output = eq.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: the equation names {len(terms)} operands, got {len(operands)} tensors")
    for term in terms + [output]:
        if not all(c.isascii() and c.isalpha() for c in term.replace("...", "", 1)):
            raise ValueError(f"einsum: subscripts must be letters and at most one '...', got {term!r} in {equation!r}")
    widths = []
    for term, t in zip(terms, operands):
        letters = term.replace("...", "", 1)
        named = len(letters)
        if "..." in term and named > t.ndim:
            raise ValueError(f"einsum: subscripts {term!r} name at least {named} dimensions of a {t.ndim}-d operand")
        if "..." not in term and named != t.ndim:
            raise ValueError(f"einsum: subscripts {term!r} name {named} dimensions of a {t.ndim}-d operand")
        widths.append(t.ndim - named if "..." in term else 0)
    width = max(widths, default=0)
    terms = [_expand_ellipsis(term, t.ndim, width) for term, t in zip(terms, operands)]
    if arrow:
        output = output.replace("...", "".join(chr(_ELLIPSIS + k) for k in range(width)), 1)
    else:
        letters = "".join(terms)
        output = "".join(chr(_ELLIPSIS + k) for k in range(width))
        output += "".join(sorted(c for c in set(letters) if c.isalpha() and letters.count(c) == 1))
    if len(set(output)) != len(output) or any(c not in "".join(terms) for c in output if c.isalpha()):
        raise ValueError(f"einsum: output subscripts {eq.partition('->')[2]!r} must be distinct letters of the inputs")
    return terms, output


def _diagonals(t: Tensor, term: str) -> tuple[Tensor, str]:
    """``t`` with each letter repeated in ``term`` replaced by the diagonal over its dimensions
    (which must have one size), the diagonal last; and the term of the result."""
    while len(set(term)) != len(term):
        c = next(c for c in term if term.count(c) > 1)
        first = term.index(c)
        second = term.index(c, first + 1)
        if t.shape[first] != t.shape[second]:
            raise ValueError(f"einsum: letter {_label(c)} repeated within one operand has sizes "
                             f"{t.shape[first]} and {t.shape[second]}; its dimensions must match")
        t = t.diagonal(0, first, second)
        term = "".join(x for i, x in enumerate(term) if i not in (first, second)) + c
    return t, term


def _sizes(terms: Sequence[str], operands: Sequence[Tensor]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for term, t in zip(terms, operands):
        for letter, n in zip(term, t.shape):
            seen = sizes.get(letter, 1)
            if n != seen and 1 not in (n, seen):
                raise ValueError(f"einsum: letter {_label(letter)} has sizes {seen} and {n}")
            sizes[letter] = max(seen, n)
    return sizes


def _sum_away(t: Tensor, term: str, keep: set[str]) -> tuple[Tensor, str]:
    dims = [i for i, c in enumerate(term) if c not in keep]
    if not dims:
        return t, term
    return t.sum(dims), "".join(c for c in term if c in keep)


def _contract(a: Tensor, ta: str, b: Tensor, tb: str, keep: set[str], sizes: dict[str, int]) -> tuple[Tensor, str]:
    a, ta = _sum_away(a, ta, keep | set(tb))
    b, tb = _sum_away(b, tb, keep | set(ta))
    batch = [c for c in ta if c in tb and c in keep]
    contracted = [c for c in ta if c in tb and c not in keep]
    left = [c for c in ta if c not in tb]
    right = [c for c in tb if c not in ta]

    def arranged(t: Tensor, term: str, order: list[str], groups: list[list[str]]) -> Tensor:
        t = t.permute(*[term.index(c) for c in order]) if order else t
        t = t.expand(*[sizes[c] for c in order]) if order else t
        return t.reshape(*[math.prod(sizes[c] for c in g) for g in groups])

    lhs = arranged(a, ta, batch + left + contracted, [batch, left, contracted])
    rhs = arranged(b, tb, batch + contracted + right, [batch, contracted, right])
    product = lhs @ rhs
    term = "".join(batch + left + right)
    return product.reshape(*[sizes[c] for c in term]), term


def einsum(equation: str, *operands: Tensor) -> Tensor:
    """Einstein summation, as ``torch.einsum``: ``einsum("bij,bjk->bik", a, b)`` is a batched
    matrix product, ``einsum("i,i->", u, v)`` a dot product, ``einsum("ij->ji", a)`` a transpose,
    ``einsum("ii->i", a)`` a diagonal, ``einsum("...ij,...jk->...ik", a, b)`` a broadcast batched
    product. Without ``->`` the output is the ``...`` dimensions then the letters that occur once,
    in alphabetical order; size-1 dimensions broadcast. Operands may also be given as one list."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    terms, output = _parse(equation, operands)
    pairs = [_diagonals(t, term) for t, term in zip(operands, terms)]
    operands, terms = tuple(p[0] for p in pairs), [p[1] for p in pairs]
    sizes = _sizes(terms, operands)
    current, term = operands[0], terms[0]
    for i in range(1, len(operands)):
        later = set(output).union(*terms[i + 1:])
        current, term = _contract(current, term, operands[i], terms[i], later, sizes)
    current, term = _sum_away(current, term, set(output))
    if term != output:
        current = current.permute(*[term.index(c) for c in output])
    shape = [sizes[c] for c in output]
    return current if list(current.shape) == shape else current.expand(*shape)
