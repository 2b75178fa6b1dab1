"""``fg.einsum``: Einstein summation over any number of operands, lowered to the core's
differentiable ops (sums, permutes, reshapes and one batched matrix product per pair of
operands), so gradients and devices come with it.

Each pair is contracted by sorting its letters into batch letters (in both operands and still
needed), contracted letters (in both, needed no more), and letters of one operand only; letters of
one operand that nothing else needs are summed away first. Operands are contracted left to right.
Not supported: ``...`` (ellipsis) and a letter repeated within one operand (diagonals)."""

from __future__ import annotations

import math
from typing import Sequence

from ._core import Tensor


def _parse(equation: str, operands: Sequence[Tensor]) -> tuple[list[str], str]:
    eq = equation.replace(" ", "")
    inputs, arrow, output = eq.partition("->")
    terms = inputs.split(",")
    if "." in eq:
        raise ValueError(f"einsum: '...' (ellipsis) is not supported, got {equation!r}")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: the equation names {len(terms)} operands, got {len(operands)} tensors")
    for term, t in zip(terms, operands):
        if not term.isalpha() and term != "":
            raise ValueError(f"einsum: subscripts must be letters, got {term!r} in {equation!r}")
        if len(term) != t.ndim:
            raise ValueError(f"einsum: subscripts {term!r} name {len(term)} dimensions of a {t.ndim}-d operand")
        if len(set(term)) != len(term):
            raise ValueError(f"einsum: a letter repeated within one operand (a diagonal) is not supported, got {term!r}")
    if not arrow:
        letters = "".join(terms)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    if len(set(output)) != len(output) or any(c not in "".join(terms) for c in output):
        raise ValueError(f"einsum: output subscripts {output!r} must be distinct letters of the inputs")
    return terms, output


def _sizes(terms: Sequence[str], operands: Sequence[Tensor]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for term, t in zip(terms, operands):
        for letter, n in zip(term, t.shape):
            seen = sizes.get(letter, 1)
            if n != seen and 1 not in (n, seen):
                raise ValueError(f"einsum: letter {letter!r} has sizes {seen} and {n}")
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
    matrix product, ``einsum("i,i->", u, v)`` a dot product, ``einsum("ij->ji", a)`` a transpose.
    Without ``->`` the output is the letters that occur once, in alphabetical order; size-1
    dimensions broadcast. Operands may also be given as one list."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    terms, output = _parse(equation, operands)
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
