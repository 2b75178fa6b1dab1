"""``fg.Generator``: a random stream of its own. The same seed repeats the numbers, two generators
with one seed agree, successive draws differ, drawing never moves the global stream, every random
function takes ``generator=``, and the stream is the core's Philox (a published known answer, and
the global generator's values for the same seed, bit for bit)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn
from ferrograd.utils.data import DataLoader, TensorDataset, random_split


def values(t: Any) -> np.ndarray:
    return np.asarray(t.numpy() if isinstance(t, fg.Tensor) else t)


def test_philox_matches_the_published_known_answer() -> None:
    # Random123's known-answer vector for philox4x32-10 with zero counter and key (the core's own
    # Rust test checks the words); each value is a word's top 24 bits over 2**24.
    g = fg.Generator().manual_seed(0)
    assert fg.rand(4, generator=g).tolist() == [(w >> 8) / 2**24 for w in
                                                 (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)]


def test_a_seed_gives_the_global_generators_values() -> None:
    fg.manual_seed(1234)
    expected_uniform = fg.rand(3, 5).numpy()
    expected_normal = fg.randn(101).numpy()
    g = fg.Generator().manual_seed(1234)
    np.testing.assert_array_equal(fg.rand(3, 5, generator=g).numpy(), expected_uniform)
    np.testing.assert_array_equal(fg.randn(101, generator=g).numpy(), expected_normal)


def test_same_seed_repeats_and_successive_draws_differ() -> None:
    a, b = fg.Generator().manual_seed(7), fg.Generator().manual_seed(7)
    first_a, second_a = fg.rand(64, generator=a).numpy(), fg.rand(64, generator=a).numpy()
    first_b, second_b = fg.rand(64, generator=b).numpy(), fg.rand(64, generator=b).numpy()
    np.testing.assert_array_equal(first_a, first_b)
    np.testing.assert_array_equal(second_a, second_b)
    assert not np.array_equal(first_a, second_a)
    assert not np.array_equal(fg.rand(64, generator=fg.Generator().manual_seed(8)).numpy(), first_a)
    a.manual_seed(7)
    np.testing.assert_array_equal(fg.rand(64, generator=a).numpy(), first_a)


def test_drawing_from_a_generator_leaves_the_global_stream_alone() -> None:
    fg.manual_seed(5)
    plain = [fg.rand(10).numpy(), fg.randn(10).numpy()]
    fg.manual_seed(5)
    first = fg.rand(10).numpy()
    state = fg.get_rng_state()
    g = fg.Generator().manual_seed(5)
    fg.randn(33, generator=g)
    fg.randperm(20, generator=g)
    assert fg.get_rng_state() == state
    np.testing.assert_array_equal(first, plain[0])
    np.testing.assert_array_equal(fg.randn(10).numpy(), plain[1])


def test_state_round_trips_and_continues_the_global_stream() -> None:
    g = fg.Generator().manual_seed(3)
    fg.rand(5, generator=g)
    state = g.get_state()
    assert state == (3, 8)  # 5 values claim two whole 4-value blocks, as in the core
    after = fg.rand(6, generator=g).numpy()
    assert g.set_state(state) is g
    np.testing.assert_array_equal(fg.rand(6, generator=g).numpy(), after)
    # A global state resumes here, and the generator continues exactly where the global would.
    fg.manual_seed(11)
    fg.rand(9)
    h = fg.Generator().set_state(fg.get_rng_state())
    np.testing.assert_array_equal(fg.rand(4, generator=h).numpy(), fg.rand(4).numpy())


def test_pickled_and_copied_generators_continue_the_stream() -> None:
    import copy
    import pickle

    g = fg.Generator("cuda").manual_seed(12)
    fg.rand(3, generator=g)
    for clone in (pickle.loads(pickle.dumps(g)), copy.deepcopy(g)):
        assert clone.device == "cuda" and clone.get_state() == g.get_state() == (12, 4)
        np.testing.assert_array_equal(fg.rand(5, generator=clone).numpy(),
                                      fg.rand(5, generator=fg.Generator().set_state((12, 4))).numpy())
    assert g.get_state() == (12, 4)


def test_seeds_initial_seed_and_device() -> None:
    g = fg.Generator()
    assert g.initial_seed() == 0x5EED and g.device == "cpu" and g.device.type == "cpu"
    assert g.manual_seed(42) is g and g.initial_seed() == 42
    assert fg.Generator().manual_seed(-1).initial_seed() == 2**64 - 1
    fresh = g.seed()
    assert g.initial_seed() == fresh and 0 <= fresh < 2**64 and g.get_state() == (fresh, 0)
    assert fg.Generator("cuda:1").device.index == 1
    assert fg.Generator(device=fg.device("cuda")).device == "cuda"


def test_bad_arguments_raise_naming_them() -> None:
    with pytest.raises(ValueError, match=r"Generator: argument `device` expected 'cpu', 'cuda' or 'cuda:N', got 'tpu'"):
        fg.Generator(device="tpu")
    with pytest.raises(TypeError, match=r"Generator: argument `device` expected .* got 3"):
        fg.Generator(device=3)  # type: ignore[arg-type]
    g = fg.Generator()
    with pytest.raises(TypeError, match=r"manual_seed: argument `seed` expected an int, got 'x' \(str\)"):
        g.manual_seed("x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"argument `seed` expected an int, got 1.5"):
        g.manual_seed(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError,
                       match=r"argument `seed` expected an int in \[-2\*\*63, 2\*\*64\), got 18446744073709551616"):
        g.manual_seed(2**64)
    with pytest.raises(TypeError, match=r"set_state: argument `state` expected a \(seed, offset\) pair"):
        g.set_state("ab")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"set_state: argument `state` expected a seed and offset in \[0, 2\*\*64\), "
                                         r"got \(1, -4\)"):
        g.set_state((1, -4))
    with pytest.raises(TypeError, match=r"rand: argument `generator` expected a ferrograd.Generator or None, got 3"):
        fg.rand(2, generator=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"DataLoader: argument `generator` expected a ferrograd.Generator"):
        DataLoader(list(range(4)), generator=np.random.default_rng(0))  # type: ignore[arg-type]


SAMPLERS: dict[str, Callable[[fg.Generator], Any]] = {
    "rand": lambda g: fg.rand(2, 3, generator=g),
    "randn": lambda g: fg.randn(5, generator=g),
    "randint": lambda g: fg.randint(0, 1000, (20,), generator=g),
    "randperm": lambda g: fg.randperm(30, generator=g),
    "normal": lambda g: fg.normal(fg.zeros(6), fg.ones(6), generator=g),
    "normal_size": lambda g: fg.normal(2.0, 3.0, (4,), generator=g),
    "bernoulli": lambda g: fg.bernoulli(fg.full((40,), 0.5), generator=g),
    "multinomial": lambda g: fg.multinomial(fg.tensor([0.2, 0.3, 0.5]), 8, True, generator=g),
    "multinomial_no_replacement": lambda g: fg.multinomial(fg.ones(2, 10), 10, generator=g),
    "uniform_": lambda g: fg.zeros(8).uniform_(-2, 2, generator=g),
    "normal_": lambda g: fg.zeros(8).normal_(1, 2, generator=g),
    "bernoulli_": lambda g: fg.zeros(40).bernoulli_(0.3, generator=g),
    "init.uniform_": lambda g: nn.init.uniform_(fg.zeros(6), -1, 1, generator=g),
    "init.normal_": lambda g: nn.init.normal_(fg.zeros(6), generator=g),
    "init.kaiming_uniform_": lambda g: nn.init.kaiming_uniform_(fg.zeros(4, 3), generator=g),
    "init.kaiming_normal_": lambda g: nn.init.kaiming_normal_(fg.zeros(4, 3), generator=g),
    "init.xavier_uniform_": lambda g: nn.init.xavier_uniform_(fg.zeros(4, 3), generator=g),
    "init.xavier_normal_": lambda g: nn.init.xavier_normal_(fg.zeros(4, 3), generator=g),
    "init.trunc_normal_": lambda g: nn.init.trunc_normal_(fg.zeros(50), generator=g),
    "init.orthogonal_": lambda g: nn.init.orthogonal_(fg.zeros(4, 3), generator=g),
    "random_split": lambda g: sum((s.indices for s in random_split(range(30), [20, 10], generator=g)), []),
    "DataLoader": lambda g: [b[0].tolist() for b in DataLoader(TensorDataset(fg.arange(12)), 4, shuffle=True,
                                                               generator=g)],
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_every_random_function_draws_from_the_generator_only(name: str) -> None:
    sample = SAMPLERS[name]
    fg.manual_seed(99)
    state = fg.get_rng_state()
    g = fg.Generator().manual_seed(2024)
    first, second = values(sample(g)), values(sample(g))
    assert fg.get_rng_state() == state, "the global stream moved"
    again = values(sample(fg.Generator().manual_seed(2024)))
    np.testing.assert_array_equal(again, first)
    assert not np.array_equal(first, second), "successive draws repeated"


def test_generator_draws_keep_shapes_and_requires_grad() -> None:
    g = fg.Generator()
    assert fg.rand((), generator=g).shape == () and fg.randint(0, 5, (), generator=g).shape == ()
    assert fg.randn(3, 0, generator=g).shape == (3, 0) and fg.rand(0, generator=g).tolist() == []
    assert fg.rand(2, 3, generator=g, requires_grad=True).requires_grad
    assert fg.randn(fg.Size([4]), generator=g).dtype == "float32"


def test_generator_values_follow_the_distributions() -> None:
    g = fg.Generator().manual_seed(0)
    u = fg.rand(20000, generator=g).numpy()
    z = fg.randn(20000, generator=g).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03
    ints = fg.randint(3, 7, (4000,), generator=g).numpy()
    assert set(np.unique(ints)) == {3, 4, 5, 6}
    assert sorted(fg.randperm(50, generator=g).tolist()) == list(range(50))
    picks = fg.multinomial(fg.tensor([0.0, 1.0, 3.0]), 4000, True, generator=g).numpy()
    assert (picks != 0).all() and abs((picks == 2).mean() - 0.75) < 0.03


def test_random_split_generator_and_keyword_seed() -> None:
    fg.manual_seed(1)
    order = fg.randperm(20).tolist()
    # seed= (keyword only now) still gives the split manual_seed(seed) gave.
    a, b = random_split(range(20), [15, 5], seed=1)
    assert a.indices + b.indices == order
    c, d = random_split(range(20), [15, 5], generator=fg.Generator().manual_seed(1))
    assert c.indices == a.indices and d.indices == b.indices
    with pytest.raises(TypeError, match=r"random_split: argument `generator` expected a ferrograd.Generator or None, "
                                        r"got 1 \(pass an int seed as seed=...\)"):
        random_split(range(20), [15, 5], 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"random_split: arguments `generator` and `seed` expected at most one"):
        random_split(range(20), [15, 5], fg.Generator(), seed=1)


def test_loader_shuffles_from_its_generator_every_pass() -> None:
    ds = TensorDataset(fg.arange(10))
    loader = DataLoader(ds, 10, shuffle=True, generator=fg.Generator().manual_seed(4))
    first, second = (next(iter(loader))[0].tolist() for _ in range(2))
    assert sorted(first) == list(range(10)) and first != second
    assert first == fg.randperm(10, generator=fg.Generator().manual_seed(4)).tolist()


def test_native_loader_takes_its_shuffle_seed_from_the_generator() -> None:
    ds = fg.data.from_numpy(np.arange(24, dtype=np.float32).reshape(12, 2), np.arange(12))

    def epoch(seed: int) -> list[int]:
        state = fg.get_rng_state()
        loader = DataLoader(ds, 12, shuffle=True, generator=fg.Generator().manual_seed(seed))
        order = [int(v) for v in next(iter(loader))[1].tolist()]
        assert fg.get_rng_state() == state
        return order

    assert epoch(3) == epoch(3) and sorted(epoch(3)) == list(range(12)) and epoch(3) != epoch(4)


def test_generator_on_cuda_gives_the_cpu_values() -> None:
    if not fg.cuda.is_available():
        pytest.skip("needs a CUDA device")
    on_gpu = fg.rand(1000, generator=fg.Generator("cuda").manual_seed(8), device="cuda")
    assert on_gpu.device == "cuda:0"
    np.testing.assert_array_equal(on_gpu.cpu().numpy(), fg.rand(1000, generator=fg.Generator().manual_seed(8)).numpy())
    fg.manual_seed(8)
    np.testing.assert_array_equal(fg.rand(1000, device="cuda").cpu().numpy(), on_gpu.cpu().numpy())
