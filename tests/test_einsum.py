"""``fg.einsum`` against numpy's values and JAX's gradients, and its errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ferrograd as fg

CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]), ("i,i->", [(4,), (4,)]), ("i,j->ij", [(3,), (4,)]),
    ("ij->ji", [(3, 4)]), ("ij->", [(3, 4)]), ("ijk->ik", [(2, 3, 4)]), ("bi,bi->b", [(3, 4), (3, 4)]),
    ("abc,cd,de->abe", [(2, 3, 4), (4, 5), (5, 6)]), ("ij,jk", [(3, 4), (4, 5)]), ("ij,kj->ik", [(3, 1), (5, 4)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]), ("ijk,k->ij", [(2, 3, 4), (4,)]), ("ab,cd->abcd", [(2, 3), (4, 5)]),
    ("ba,ab->a", [(3, 2), (2, 3)]), ("bn,nm->", [(2, 3), (3, 4)]),
]


@pytest.mark.parametrize("equation,shapes", CASES, ids=[c[0] for c in CASES])
def test_einsum_matches_numpy_and_jax_gradients(equation: str, shapes: list, rng: np.random.Generator) -> None:
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    leaves = [fg.tensor(a, requires_grad=True) for a in arrays]
    out = fg.einsum(equation, *leaves)
    want = np.einsum(equation, *[a.astype(np.float64) for a in arrays])
    assert out.shape == want.shape
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-5, atol=1e-5)
    weights = rng.standard_normal(want.shape)
    (out * fg.tensor(weights.astype(np.float32))).sum().backward()
    # JAX in float32 (its default), at float32's tolerance.
    grads = jax.grad(lambda *xs: (jnp.einsum(equation, *xs) * weights.astype(np.float32)).sum(),
                     argnums=tuple(range(len(arrays))))(*arrays)
    for leaf, g in zip(leaves, grads):
        np.testing.assert_allclose(leaf.grad.numpy(), np.asarray(g), rtol=1e-4, atol=1e-5)


def test_einsum_takes_a_list_and_rejects_bad_equations() -> None:
    a, b = fg.ones(2, 3), fg.ones(3, 4)
    assert fg.einsum("ij,jk->ik", [a, b]).tolist() == [[3.0] * 4] * 2
    with pytest.raises(ValueError, match="names 2 operands, got 1 tensors"):
        fg.einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match="subscripts 'ijk' name 3 dimensions of a 2-d operand"):
        fg.einsum("ijk,jk->i", a, b)
    with pytest.raises(ValueError, match="letter 'j' has sizes 3 and 4"):
        fg.einsum("ij,jk->ik", a, fg.ones(4, 4))
    with pytest.raises(ValueError, match="at most one '...'"):
        fg.einsum("....j,jk->...k", a, b)
    with pytest.raises(ValueError, match="repeated within one operand has sizes 2 and 3"):
        fg.einsum("ii->i", a)
    with pytest.raises(ValueError, match="output subscripts 'iz'"):
        fg.einsum("ij,jk->iz", a, b)
