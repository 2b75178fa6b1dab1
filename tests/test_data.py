"""fg.data: loaders checked against the real files of the data folder (parsed again here with numpy),
corrupted temp copies of them, small pickled CIFAR batches and image folders written here, and the
DataLoader's batching, seeding and transforms checked against numpy."""

from __future__ import annotations

import gzip
import os
import pickle
import shutil
import struct
import zlib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import ferrograd as fg

T = fg.data.transforms

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
MNIST_FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]


def parse_idx(path: Path) -> np.ndarray:
    """numpy's own parse of a (gzipped) IDX file, independent of ferrograd."""
    raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def parse_cifar_bin(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images [N, 3, 32, 32] and labels of a CIFAR-10 binary-version file, as its PROVENANCE says."""
    records = np.fromfile(path, np.uint8).reshape(-1, 3073)
    return records[:, 1:].reshape(-1, 3, 32, 32), records[:, 0].astype(np.int64)


def all_batches(ds: fg.data.Dataset, transforms: list | None = None, seed: int | None = 0) -> np.ndarray:
    """The whole dataset in order as one float32 array, through the DataLoader."""
    loader = fg.data.DataLoader(ds, 1000, shuffle=False, seed=seed, transforms=transforms or [])
    return np.concatenate([x for x, _ in loader])


def write_png(path: Path, rgb: np.ndarray) -> None:
    """Writes an 8-bit RGB PNG ([H, W, 3] uint8) with zlib, so the tests need no imaging library."""
    h, w, _ = rgb.shape

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    rows = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def mnist(data_dir: Path) -> tuple[fg.data.Dataset, fg.data.Dataset]:
    return fg.data.mnist(data_dir / "mnist")


@pytest.fixture(scope="module")
def cifar(data_dir: Path) -> tuple[fg.data.Dataset, fg.data.Dataset]:
    return fg.data.cifar10(data_dir / "cifar10_subset")


@pytest.fixture(scope="module")
def cifar_arrays(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    return parse_cifar_bin(data_dir / "cifar10_subset" / "data_batch_1_first4000.bin")


# ---------------------------------------------------------------------------------------- MNIST


def test_mnist_sizes_labels_and_pixels(mnist: tuple, data_dir: Path) -> None:
    train, test = mnist
    assert (len(train), len(test)) == (60000, 10000)
    assert train.sample_shape == (1, 28, 28) and train.num_classes == 10
    assert train.classes == [str(d) for d in range(10)]
    assert train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    root = data_dir / "mnist"
    np.testing.assert_array_equal(train.labels, parse_idx(root / "train-labels-idx1-ubyte.gz"))
    np.testing.assert_array_equal(test.labels, parse_idx(root / "t10k-labels-idx1-ubyte.gz"))
    images = parse_idx(root / "train-images-idx3-ubyte.gz")
    for i in (0, 1, 12345, 59999):
        x, y = train[i]
        assert x.dtype == np.uint8 and x.shape == (1, 28, 28)
        assert int(x.sum()) == int(images[i].sum())
        np.testing.assert_array_equal(x[0], images[i])
    assert train[-1][1] == train.labels[-1]
    with pytest.raises(IndexError):
        train[60000]
    test_images = parse_idx(root / "t10k-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(all_batches(test), test_images[:, None].astype(np.float32) / 255)


def test_mnist_reads_raw_files_and_fashion_names(tmp_path: Path, data_dir: Path) -> None:
    for name in MNIST_FILES:
        raw = gzip.open(data_dir / "mnist" / name).read()
        (tmp_path / name.removesuffix(".gz")).write_bytes(raw)
    train, test = fg.data.mnist(tmp_path, fashion=True)
    assert (len(train), len(test)) == (60000, 10000)
    assert train.classes[0] == "T-shirt/top" and train.classes[9] == "Ankle boot"
    assert train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    np.testing.assert_array_equal(test[9999][0][0], parse_idx(data_dir / "mnist" / "t10k-images-idx3-ubyte.gz")[9999])


def mnist_copy(tmp_path: Path, data_dir: Path) -> Path:
    """A folder linking the four real MNIST files, for tests that replace one by a corrupted copy."""
    for name in MNIST_FILES:
        os.symlink(data_dir / "mnist" / name, tmp_path / name)
    return tmp_path


def replace(path: Path, content: bytes) -> None:
    path.unlink()
    path.write_bytes(content)


def test_mnist_rejects_flipped_magic(tmp_path: Path, data_dir: Path) -> None:
    root = mnist_copy(tmp_path, data_dir)
    labels = bytearray(gzip.open(root / "t10k-labels-idx1-ubyte.gz").read())
    labels[3] = 0x03
    replace(root / "t10k-labels-idx1-ubyte.gz", gzip.compress(bytes(labels)))
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte\.gz: bad IDX magic number 0x00000803, expected 0x00000801"):
        fg.data.mnist(root)


def test_mnist_rejects_truncated_files(tmp_path: Path, data_dir: Path) -> None:
    root = mnist_copy(tmp_path, data_dir)
    images = gzip.open(root / "t10k-images-idx3-ubyte.gz").read()
    replace(root / "t10k-images-idx3-ubyte.gz", gzip.compress(images[:-100]))
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz: .*need 7840000 data bytes .* found 7839900"):
        fg.data.mnist(root)
    packed = (data_dir / "mnist" / "t10k-images-idx3-ubyte.gz").read_bytes()
    replace(root / "t10k-images-idx3-ubyte.gz", packed[: len(packed) // 2])
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz: corrupt or truncated gzip stream"):
        fg.data.mnist(root)


def test_mnist_rejects_count_mismatch_and_missing_files(tmp_path: Path, data_dir: Path) -> None:
    root = mnist_copy(tmp_path, data_dir)
    labels = gzip.open(root / "t10k-labels-idx1-ubyte.gz").read()
    short = labels[:4] + struct.pack(">I", 9999) + labels[8:-1]
    replace(root / "t10k-labels-idx1-ubyte.gz", gzip.compress(short))
    with pytest.raises(ValueError, match="holds 10000 images but .* holds 9999 labels"):
        fg.data.mnist(root)
    (root / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"t10k-labels-idx1-ubyte\.gz"):
        fg.data.mnist(root)


# ------------------------------------------------------------------------------------- CIFAR-10


def test_cifar10_subset_matches_the_binary_records(cifar: tuple, cifar_arrays: tuple, data_dir: Path) -> None:
    train, test = cifar
    root = data_dir / "cifar10_subset"
    assert (len(train), len(test)) == (4000, 846)
    assert train.classes == CIFAR10_CLASSES and test.num_classes == 10
    assert train.sample_shape == (3, 32, 32)
    np.testing.assert_array_equal(train.labels, np.loadtxt(root / "data_batch_1_labels.txt", dtype=np.int64)[:4000])
    np.testing.assert_array_equal(test.labels, np.loadtxt(root / "test_batch_labels.txt", dtype=np.int64)[:846])
    assert test.labels[:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    images, labels = cifar_arrays
    np.testing.assert_array_equal(train.labels, labels)
    for i in (0, 931, 932, 3999):
        np.testing.assert_array_equal(train[i][0], images[i])
    np.testing.assert_array_equal(all_batches(train), images.astype(np.float32) / 255)


def test_cifar10_explicit_file_lists(data_dir: Path) -> None:
    root = data_dir / "cifar10_subset"
    train, test = fg.data.cifar10(
        root, train_files=["test_batch_first846.bin", "test_batch_first846.bin"], test_files=[root / "data_batch_1_first4000.bin"]
    )
    assert (len(train), len(test)) == (1692, 4000)
    np.testing.assert_array_equal(train.labels[:846], train.labels[846:])
    np.testing.assert_array_equal(test.labels[:10], np.loadtxt(root / "data_batch_1_labels.txt", dtype=np.int64)[:10])


def cifar_copy(tmp_path: Path, data_dir: Path) -> Path:
    for f in ("batches.meta", "data_batch_1_first4000.bin", "test_batch_first846.bin"):
        os.symlink(data_dir / "cifar10_subset" / f, tmp_path / f)
    return tmp_path


def test_cifar10_rejects_partial_records_and_bad_meta(tmp_path: Path, data_dir: Path) -> None:
    root = cifar_copy(tmp_path, data_dir)
    records = (root / "test_batch_first846.bin").read_bytes()
    replace(root / "test_batch_first846.bin", records[:-10])
    with pytest.raises(ValueError, match=r"test_batch_first846\.bin: 2599748 bytes is not a whole number of 3073-byte records"):
        fg.data.cifar10(root)
    replace(root / "test_batch_first846.bin", records)
    meta = bytearray((root / "batches.meta").read_bytes())
    meta[0] = 0x00
    replace(root / "batches.meta", bytes(meta))
    with pytest.raises(ValueError, match=r"batches\.meta: not a pickle of protocol 2 or later: first byte 0x00"):
        fg.data.cifar10(root)
    (root / "batches.meta").unlink()
    with pytest.raises(FileNotFoundError, match=r"batches\.meta"):
        fg.data.cifar10(root)


def test_cifar10_rejects_truncated_meta(tmp_path: Path, data_dir: Path) -> None:
    root = cifar_copy(tmp_path, data_dir)
    meta = (root / "batches.meta").read_bytes()
    replace(root / "batches.meta", meta[:60])
    with pytest.raises(ValueError, match=r"batches\.meta: truncated pickle"):
        fg.data.cifar10(root)


# ----------------------------------------------------------------- python-version (pickle) batches


def write_pickle(path: Path, obj: object, protocol: int) -> None:
    path.write_bytes(pickle.dumps(obj, protocol=protocol))


def key(name: str, as_bytes: bool) -> str | bytes:
    """Dict keys as the real files give them under Python 3 (bytes) or as text."""
    return name.encode() if as_bytes else name


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("bytes_keys", [True, False])
def test_cifar10_pickled_batches(tmp_path: Path, cifar_arrays: tuple, protocol: int, bytes_keys: bool) -> None:
    images, labels = cifar_arrays
    parts = [(0, 30), (30, 50), (50, 60)]
    names = ["data_batch_1", "data_batch_2", "test_batch"]
    for name, (a, b) in zip(names, parts):
        batch = {
            key("batch_label", bytes_keys): key(f"batch {name}", bytes_keys),
            key("labels", bytes_keys): labels[a:b].tolist(),
            key("data", bytes_keys): images[a:b].reshape(b - a, 3072).copy(),
            key("filenames", bytes_keys): [key(f"img{i}.png", bytes_keys) for i in range(a, b)],
        }
        write_pickle(tmp_path / name, batch, protocol)
    meta = {key("label_names", bytes_keys): [key(c, bytes_keys) for c in CIFAR10_CLASSES], key("num_vis", bytes_keys): 3072}
    write_pickle(tmp_path / "batches.meta", meta, protocol)
    train, test = fg.data.cifar10(tmp_path)
    assert (len(train), len(test)) == (50, 10)
    assert train.classes == CIFAR10_CLASSES
    np.testing.assert_array_equal(train.labels, labels[:50])
    np.testing.assert_array_equal(test.labels, labels[50:60])
    np.testing.assert_array_equal(all_batches(train), images[:50].astype(np.float32) / 255)
    np.testing.assert_array_equal(test[9][0], images[59])


def test_cifar100_pickled_fine_and_coarse_labels(tmp_path: Path, cifar_arrays: tuple) -> None:
    images = cifar_arrays[0][:20]
    fine = [(7 * i) % 100 for i in range(20)]
    coarse = [f // 5 for f in fine]
    for name, sl in (("train", slice(0, 15)), ("test", slice(15, 20))):
        batch = {b"fine_labels": fine[sl], b"coarse_labels": coarse[sl], b"data": images[sl].reshape(-1, 3072).copy()}
        write_pickle(tmp_path / name, batch, 2)
    meta = {b"fine_label_names": [f"f{i}".encode() for i in range(100)], b"coarse_label_names": [f"c{i}".encode() for i in range(20)]}
    write_pickle(tmp_path / "meta", meta, 2)
    train, test = fg.data.cifar100(tmp_path)
    assert train.num_classes == 100 and train.classes[99] == "f99"
    assert train.labels.tolist() == fine[:15] and test.labels.tolist() == fine[15:]
    train_c, _ = fg.data.cifar100(tmp_path, coarse=True)
    assert train_c.num_classes == 20 and train_c.labels.tolist() == coarse[:15]
    np.testing.assert_array_equal(test[0][0], images[15])


def test_pickled_batches_are_validated(tmp_path: Path, cifar_arrays: tuple) -> None:
    images, labels = cifar_arrays
    meta = {b"label_names": [c.encode() for c in CIFAR10_CLASSES]}
    write_pickle(tmp_path / "batches.meta", meta, 2)
    good = {b"labels": labels[:4].tolist(), b"data": images[:4].reshape(4, 3072).copy()}
    write_pickle(tmp_path / "test_batch", good, 2)

    write_pickle(tmp_path / "data_batch_1", {**good, b"data": images[:4].reshape(4, 3072).astype(np.float64)}, 4)
    with pytest.raises(ValueError, match=r"data_batch_1: data: expected a uint8 array \(dtype 'u1'\), found dtype 'f8'"):
        fg.data.cifar10(tmp_path)
    write_pickle(tmp_path / "data_batch_1", {**good, b"labels": labels[:3].tolist()}, 4)
    with pytest.raises(ValueError, match=r"data_batch_1: data has shape \[4, 3072\], expected \[3, 3072\]"):
        fg.data.cifar10(tmp_path)
    write_pickle(tmp_path / "data_batch_1", {**good, b"extra": Fraction(1, 3)}, 4)
    with pytest.raises(ValueError, match=r"data_batch_1: the pickle refers to fractions\.Fraction.*refusing"):
        fg.data.cifar10(tmp_path)
    whole = pickle.dumps(good, protocol=2)
    (tmp_path / "data_batch_1").write_bytes(whole[: len(whole) - 200])
    with pytest.raises(ValueError, match=r"data_batch_1: truncated pickle"):
        fg.data.cifar10(tmp_path)
    write_pickle(tmp_path / "data_batch_1", {b"data": good[b"data"]}, 4)
    with pytest.raises(ValueError, match=r"no key 'labels'"):
        fg.data.cifar10(tmp_path)


# ---------------------------------------------------------------------------------- ImageFolder


def test_image_folder_decodes_real_images_exactly(tmp_path: Path, cifar_arrays: tuple) -> None:
    images, labels = cifar_arrays
    picked = [i for i in range(40) if labels[i] in (3, 5)]
    for i in picked:
        folder = tmp_path / CIFAR10_CLASSES[labels[i]]
        folder.mkdir(exist_ok=True)
        write_png(folder / f"{i:03d}.png", images[i].transpose(1, 2, 0))
    (tmp_path / "cat" / "notes.txt").write_text("skipped")
    ds = fg.data.image_folder(tmp_path, 32)
    assert ds.classes == ["cat", "dog"]
    by_class = sorted(picked, key=lambda i: (labels[i] != 3, i))
    assert ds.labels.tolist() == [0 if labels[i] == 3 else 1 for i in by_class]
    np.testing.assert_array_equal(all_batches(ds), images[by_class].astype(np.float32) / 255)
    small = fg.data.image_folder(tmp_path, 16)
    assert small.sample_shape == (3, 16, 16)
    x = small[0][0].astype(np.float64)
    assert abs(x.mean() - images[by_class[0]].mean()) < 2.0


def test_image_folder_rejects_broken_files(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    with pytest.raises(FileNotFoundError, match="no .png/.jpg/.jpeg file"):
        fg.data.image_folder(tmp_path, 8)
    write_png(tmp_path / "a" / "ok.png", np.zeros((4, 4, 3), np.uint8))
    good = (tmp_path / "a" / "ok.png").read_bytes()
    (tmp_path / "a" / "cut.png").write_bytes(good[:30])
    with pytest.raises(ValueError, match=r"cut\.png: cannot decode the image"):
        fg.data.image_folder(tmp_path, 8)


# -------------------------------------------------------------------------------------- CSV/TSV


def test_from_csv_reads_adult_numeric_columns(data_dir: Path) -> None:
    path = data_dir / "adult" / "adult.data"
    numeric = [0, 2, 4, 10, 11, 12]
    ds = fg.data.from_csv(path, label=14, features=numeric, header=False)
    assert len(ds) == 32561 and ds.sample_shape == (6,)
    assert ds.classes == ["<=50K", ">50K"]
    assert int(ds.labels.sum()) == 7841
    expected = np.loadtxt(path, delimiter=",", usecols=numeric, dtype=np.float32)
    np.testing.assert_array_equal(all_batches(ds), expected)
    assert ds[0][0].tolist() == [39, 77516, 13, 2174, 0, 40]
    with pytest.raises(ValueError, match=r"adult\.data: line 1, column 1: \"State-gov\" is not a number"):
        fg.data.from_csv(path, label=14, header=False)


def test_from_csv_headers_missing_values_and_tsv(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("age,score,group\n31,0.5,b\n?,1.5,a\n40,,b\n22,2.5,a\n")
    with pytest.raises(ValueError, match=r"t\.csv: line 3, column 0 \(\"age\"\): missing value"):
        fg.data.from_csv(table, label="group")
    ds = fg.data.from_csv(table, label="group", missing="drop")
    assert ds.classes == ["a", "b"] and ds.labels.tolist() == [1, 0]
    np.testing.assert_array_equal(np.stack([ds[i][0] for i in range(2)]), [[31, 0.5], [22, 2.5]])
    only_score = fg.data.from_csv(table, label="group", features=["score"], missing="drop")
    assert only_score.sample_shape == (1,) and len(only_score) == 3
    with pytest.raises(ValueError, match="no column"):
        fg.data.from_csv(table, label="grp")
    with pytest.raises(ValueError, match="missing"):
        fg.data.from_csv(table, label="group", missing="ignore")
    tsv = tmp_path / "t.tsv"
    tsv.write_text("x\ty\n1\t3\n2\t10\n3\t3\n")
    ds = fg.data.from_csv(tsv, label="y")
    assert ds.classes == ["3", "10"] and ds.labels.tolist() == [0, 1, 0]


# ---------------------------------------------------------------------------------- from_numpy


def test_from_numpy_images_and_features() -> None:
    X = np.arange(5 * 4 * 4, dtype=np.uint8).reshape(5, 4, 4)
    y = np.array([0, 2, 1, 2, 0])
    ds = fg.data.from_numpy(X, y)
    assert len(ds) == 5 and ds.sample_shape == (1, 4, 4) and ds.classes == ["0", "1", "2"]
    np.testing.assert_array_equal(ds[3][0][0], X[3])
    np.testing.assert_array_equal(all_batches(ds), X[:, None].astype(np.float32) / 255)
    feats = fg.data.from_numpy(np.linspace(-1, 1, 12).reshape(6, 2), np.arange(6) % 2, classes=["no", "yes"])
    assert feats[5][0].dtype == np.float32 and feats.classes == ["no", "yes"]
    np.testing.assert_allclose(all_batches(feats), np.linspace(-1, 1, 12, dtype=np.float32).reshape(6, 2))
    with pytest.raises(ValueError, match="3 samples but y has 2"):
        fg.data.from_numpy(np.zeros((3, 2)), np.zeros(2, np.int64))
    with pytest.raises(TypeError):
        fg.data.from_numpy(np.zeros((3, 2), np.int32), np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="labels"):
        fg.data.from_numpy(np.zeros((3, 2)), np.array([0, 1, 5]), classes=["a", "b"])


# ----------------------------------------------------------------------------------- DataLoader


def indexed(n: int = 50) -> fg.data.Dataset:
    """n float samples [k, k] labelled k % 5, so batches reveal which samples they hold."""
    return fg.data.from_numpy(np.repeat(np.arange(n, dtype=np.float32), 2).reshape(n, 2), np.arange(n) % 5)


def epoch_ids(loader: fg.data.DataLoader) -> list[list[int]]:
    return [x[:, 0].astype(int).tolist() for x, _ in loader]


def test_loader_batches_sizes_and_drop_last() -> None:
    loader = fg.data.DataLoader(indexed(), 16, shuffle=False)
    assert len(loader) == 4
    batches = list(loader)
    assert [len(y) for _, y in batches] == [16, 16, 16, 2]
    x, y = batches[0]
    assert x.dtype == np.float32 and y.dtype == np.int64 and x.shape == (16, 2)
    assert y.tolist() == [k % 5 for k in range(16)]
    assert sum(epoch_ids(loader), []) == list(range(50))
    dropping = fg.data.DataLoader(indexed(), 16, drop_last=True)
    assert len(dropping) == 3 and [len(y) for _, y in dropping] == [16, 16, 16]
    with pytest.raises(ValueError, match="batch_size"):
        fg.data.DataLoader(indexed(), 0)


def test_loader_shuffles_by_seed_and_epoch() -> None:
    a = fg.data.DataLoader(indexed(), 10, seed=3)
    b = fg.data.DataLoader(indexed(), 10, seed=3)
    first, second = epoch_ids(a), epoch_ids(a)
    assert a.epoch == 2
    assert first == epoch_ids(b)
    assert first != second and sorted(sum(first, [])) == list(range(50))
    assert first != sum([list(range(k, k + 10)) for k in range(0, 50, 10)], [])
    b.set_epoch(1)
    assert epoch_ids(b) == second
    assert epoch_ids(fg.data.DataLoader(indexed(), 10, seed=4)) != first


def test_unseeded_loader_and_get_batch_follow_manual_seed() -> None:
    loader = fg.data.DataLoader(indexed(), 50, seed=None)
    fg.manual_seed(11)
    first = epoch_ids(loader)
    loader.set_epoch(0)
    fg.manual_seed(11)
    assert epoch_ids(loader) == first
    ds = fg.data.from_numpy(np.arange(64, dtype=np.uint8).reshape(1, 1, 8, 8).repeat(20, 0), np.zeros(20, np.int64))
    flip = [T.RandomHorizontalFlip()]
    fg.manual_seed(5)
    x1, _ = ds.get_batch(list(range(20)), flip)
    x2, _ = ds.get_batch(list(range(20)), flip)
    fg.manual_seed(5)
    np.testing.assert_array_equal(ds.get_batch(list(range(20)), flip)[0], x1)
    assert not np.array_equal(x1, x2)
    np.testing.assert_array_equal(ds.get_batch([0, 1], flip, seed=9)[0], ds.get_batch([0, 1], flip, seed=9)[0])


def test_loader_as_tensors() -> None:
    x, y = next(iter(fg.data.DataLoader(indexed(), 8, shuffle=False, as_tensors=True)))
    assert isinstance(x, fg.Tensor) and x.dtype == "float32" and x.shape == (8, 2)
    assert y.dtype == "int64" and y.numpy().tolist() == [0, 1, 2, 3, 4, 0, 1, 2]


def test_split_and_subset() -> None:
    ds = indexed(40)
    a, b = ds.split(0.8, seed=1)
    assert (len(a), len(b)) == (32, 8)
    ids_a, ids_b = all_batches(a)[:, 0], all_batches(b)[:, 0]
    assert sorted(np.concatenate([ids_a, ids_b]).tolist()) == list(range(40))
    np.testing.assert_array_equal(all_batches(ds.split(0.8, seed=1)[1])[:, 0], ids_b)
    assert not np.array_equal(all_batches(ds.split(0.8, seed=2)[1])[:, 0], ids_b)
    sub = ds.subset([5, 5, 39])
    assert all_batches(sub)[:, 0].tolist() == [5, 5, 39] and sub.labels.tolist() == [0, 0, 4]
    with pytest.raises(ValueError):
        ds.subset([40])
    with pytest.raises(ValueError):
        ds.split(1.5)


# ----------------------------------------------------------------------------------- transforms


def cifar_batch(ds: fg.data.Dataset, transforms: list, seed: int = 0, n: int = 64) -> np.ndarray:
    return ds.get_batch(list(range(n)), transforms, seed=seed)[0]


def test_normalize_matches_numpy(cifar: tuple, cifar_arrays: tuple) -> None:
    mean, std = [0.4914, 0.4822, 0.4465], [0.247, 0.243, 0.261]
    x = cifar_batch(cifar[0], [T.Normalize(mean, std)])
    ref = (cifar_arrays[0][:64] / np.float32(255) - np.float32(mean)[:, None, None]) / np.float32(std)[:, None, None]
    np.testing.assert_allclose(x, ref, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="mean"):
        fg.data.DataLoader(cifar[0], 8, transforms=[T.Normalize([0.5, 0.5], [0.2, 0.2])])
    with pytest.raises(ValueError, match="std"):
        T.Normalize([0.5], [0.0])


def test_flip_mirrors_with_probability(cifar: tuple, cifar_arrays: tuple) -> None:
    images = cifar_arrays[0][:64].astype(np.float32) / 255
    np.testing.assert_array_equal(cifar_batch(cifar[0], [T.RandomHorizontalFlip(1.0)]), images[..., ::-1])
    np.testing.assert_array_equal(cifar_batch(cifar[0], [T.RandomHorizontalFlip(0.0)]), images)
    half = cifar_batch(cifar[0], [T.RandomHorizontalFlip()])
    flipped = [np.array_equal(half[i], images[i, ..., ::-1]) for i in range(64)]
    kept = [np.array_equal(half[i], images[i]) for i in range(64)]
    assert all(f or k for f, k in zip(flipped, kept)) and 16 < sum(flipped) < 48


def test_random_crop_takes_windows_of_the_padded_image(cifar: tuple, cifar_arrays: tuple) -> None:
    images = cifar_arrays[0][:64].astype(np.float32) / 255
    padded = np.pad(images, ((0, 0), (0, 0), (4, 4), (4, 4)))
    x = cifar_batch(cifar[0], [T.RandomCrop(32, padding=4)])
    offsets = set()
    for i in range(64):
        found = [(t, l) for t in range(9) for l in range(9) if np.array_equal(x[i], padded[i, :, t : t + 32, l : l + 32])]
        assert found, f"sample {i} is no window of its padded image"
        offsets.add(found[0])
    assert len(offsets) > 20
    np.testing.assert_array_equal(cifar_batch(cifar[0], [T.RandomCrop(32)]), images)
    assert cifar_batch(cifar[0], [T.RandomCrop((20, 24), padding=1)]).shape == (64, 3, 20, 24)
    with pytest.raises(ValueError, match="does not fit"):
        cifar_batch(cifar[0], [T.RandomCrop(40, padding=2)])


def test_cutout_zeroes_one_square(cifar: tuple, cifar_arrays: tuple) -> None:
    images = cifar_arrays[0][:64].astype(np.float32) / 255
    x = cifar_batch(cifar[0], [T.Cutout(8)])
    for i in range(64):
        changed = np.argwhere((x[i] != images[i]).any(axis=0))
        assert (x[i][:, changed[:, 0], changed[:, 1]] == 0).all()
        if len(changed):
            (y0, x0), (y1, x1) = changed.min(0), changed.max(0)
            assert y1 - y0 < 8 and x1 - x0 < 8
    newly_zero = ((x == 0).all(axis=1) & ~(images == 0).all(axis=1)).sum(axis=(1, 2))
    assert newly_zero.max() == 64 and (newly_zero == 64).sum() > 10 and newly_zero.min() >= 4


def test_random_resized_crop(cifar: tuple, cifar_arrays: tuple) -> None:
    images = cifar_arrays[0][:64].astype(np.float32) / 255
    whole = T.RandomResizedCrop(32, scale=(1.0, 1.0), ratio=(1.0, 1.0))
    np.testing.assert_array_equal(cifar_batch(cifar[0], [whole]), images)
    rrc = [T.RandomResizedCrop(16)]
    x = cifar_batch(cifar[0], rrc, seed=1)
    assert x.shape == (64, 3, 16, 16) and x.min() >= 0 and x.max() <= 1
    np.testing.assert_array_equal(x, cifar_batch(cifar[0], rrc, seed=1))
    assert not np.array_equal(x, cifar_batch(cifar[0], rrc, seed=2))
    with pytest.raises(ValueError, match="scale"):
        T.RandomResizedCrop(16, scale=(0.9, 0.1))


def test_augmented_loader_epochs_are_reproducible(cifar: tuple) -> None:
    augment = [T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.Cutout(8), T.Normalize([0.5] * 3, [0.25] * 3)]
    runs = []
    for _ in range(2):
        loader = fg.data.DataLoader(cifar[0], 500, seed=7, transforms=augment)
        runs.append([x for x, _ in loader] + [x for x, _ in loader])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(runs[0][0], runs[0][8])
    with pytest.raises(ValueError, match=r"needs image samples \[C, H, W\]"):
        fg.data.DataLoader(indexed(), 4, transforms=[T.Cutout(2)])
