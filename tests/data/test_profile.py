"""Profiles against known truth: exact counts and moments, sketch error bounds, merging,
frozen bins, the byte format, and every kind of bad input."""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlsteward.data import readers
from mlsteward.data.profile import FORMAT, Profile, merge, profile
from mlsteward.errors import StewardError

REL = 1e-9


def numeric_table(n: int = 60_000, seed: int = 7) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(3.0, 2.0, n)
    x[rng.random(n) < 0.02] = np.nan
    x[:5] = np.inf
    x[5:8] = -np.inf
    null = rng.random(n) < 0.05
    null[:8] = False
    ints = rng.integers(-1000, 1000, n)
    cats = rng.choice(
        np.array(["alpha", "beta", "gamma", "δέλτα", "🙂"]), n, p=[0.5, 0.2, 0.15, 0.1, 0.05]
    )
    table = pa.table(
        {
            "x": pa.array(x, mask=null),
            "i": pa.array(ints),
            "s": pa.array(cats, mask=rng.random(n) < 0.01),
            "b": pa.array(rng.random(n) < 0.3),
        }
    )
    return table, x, null


def finite_of(x: np.ndarray, null: np.ndarray) -> np.ndarray:
    v = x[~null]
    return v[np.isfinite(v)]


def test_counts_and_moments_are_exact() -> None:
    table, x, null = numeric_table()
    prof = profile(table)
    assert prof.rows == len(x)
    assert list(prof.columns) == ["x", "i", "s", "b"]
    col = prof.columns["x"]
    v = x[~null]
    assert (col.count, col.nulls) == (len(x), int(null.sum()))
    assert col.nan == int(np.isnan(v).sum())
    assert (col.posinf, col.neginf) == (5, 3)
    f = finite_of(x, null)
    assert col.moments.n == len(f)
    assert col.mean == pytest.approx(f.mean(), rel=REL)
    assert col.variance == pytest.approx(f.var(ddof=1), rel=REL)
    assert col.std == pytest.approx(f.std(ddof=1), rel=REL)
    assert (col.min, col.max) == (f.min(), f.max())
    assert col.null_rate == pytest.approx(null.mean())
    assert col.kind == "float"
    assert col.arrow_type == "double"
    ints = prof.columns["i"]
    assert ints.kind == "int"
    assert ints.mean == pytest.approx(table["i"].to_numpy().mean(), rel=REL)
    assert prof.columns["s"].kind == "string"
    assert prof.columns["b"].kind == "boolean"
    assert prof.columns["s"].nulls == table["s"].null_count


def test_quantiles_and_cdf_are_within_the_kll_bound() -> None:
    table, x, null = numeric_table(200_000)
    col = profile(table).columns["x"]
    f = np.sort(finite_of(x, null))
    eps = col.rank_error
    for q in (0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99):
        est = col.quantile(q)
        rank = np.searchsorted(f, est, side="right") / len(f)
        assert abs(rank - q) <= eps, (q, rank)
    assert col.quantiles([0.0, 1.0]) == [f[0], f[-1]]
    points = [0.0, 3.0, 6.0]
    truth = [np.searchsorted(f, p, side="right") / len(f) for p in points]
    for got, want in zip(col.cdf(points), truth, strict=True):
        assert abs(got - want) <= eps


@pytest.mark.parametrize("distinct", [1, 10, 1_000, 20_000, 300_000])
def test_distinct_is_within_the_hll_error(distinct: int) -> None:
    rng = np.random.default_rng(distinct)
    ints = rng.permutation(distinct)
    ints = np.concatenate([ints, rng.choice(ints, 50_000)])
    strings = np.char.add("v", ints.astype(str))
    prof = profile(pa.table({"f": ints * 0.37, "s": strings}))
    for name in ("f", "s"):
        est = prof.columns[name].distinct
        assert abs(est - distinct) <= max(1.0, 0.05 * distinct), (name, est)


def test_frequent_items_are_exact_for_few_categories() -> None:
    table, _, _ = numeric_table()
    col = profile(table).columns["s"]
    truth = pd.Series(table["s"].to_pylist()).value_counts()
    assert col.frequent(3) == [(str(k), int(v)) for k, v in truth.head(3).items()]
    assert dict(profile(table).columns["b"].frequent()) == {
        "false": int((~table["b"].to_numpy(zero_copy_only=False)).sum()),
        "true": int(table["b"].to_numpy(zero_copy_only=False).sum()),
    }


def parts(table: pa.Table) -> list[Profile]:
    return [profile(table.slice(0, 7_001)), profile(table.slice(7_001, 30_000)),
            profile(table.slice(37_001))]  # fmt: skip


def test_merge_is_exact_and_associative() -> None:
    table, x, null = numeric_table()
    a, b, c = parts(table)
    left, right = merge(merge(a, b), c), a.merge(b.merge(c))
    whole = profile(table)
    f = finite_of(x, null)
    for prof in (left, right):
        assert prof.rows == whole.rows
        col = prof.columns["x"]
        assert (col.count, col.nulls, col.nan, col.posinf, col.neginf) == (
            whole.columns["x"].count, whole.columns["x"].nulls, whole.columns["x"].nan, 5, 3,
        )  # fmt: skip
        assert col.mean == pytest.approx(f.mean(), rel=REL)
        assert col.variance == pytest.approx(f.var(ddof=1), rel=REL)
        assert (col.min, col.max) == (f.min(), f.max())
        assert col.frequent() == []
        assert prof.columns["s"].frequent() == whole.columns["s"].frequent()
        assert col.distinct == whole.columns["x"].distinct  # register max: exact
        for q in (0.1, 0.5, 0.9):
            assert abs(col.quantile(q) - whole.columns["x"].quantile(q)) < 0.15
    assert left.columns["x"].variance == pytest.approx(right.columns["x"].variance, rel=REL)


def test_merge_keeps_columns_of_one_side_and_widens_kinds() -> None:
    a = profile(pa.table({"k": [1, 2, 3], "only_a": ["x", "y", None]}))
    b = profile(pa.table({"k": [0.5, None], "only_b": [True, False]}))
    m = merge(a, b)
    assert list(m.columns) == ["k", "only_a", "only_b"]
    assert m.rows == 5
    assert m.columns["k"].kind == "float"
    assert m.columns["k"].arrow_type == "int64 | double"
    assert (m.columns["only_a"].count, m.columns["only_a"].nulls) == (3, 1)
    assert m.columns["only_b"].count == 2
    mixed = merge(a, profile(pa.table({"k": ["a", "b"]})))
    assert mixed.columns["k"].kind == "mixed"
    assert mixed.columns["k"].moments.n == 3
    assert mixed.columns["k"].frequent() != []


def test_histogram_edges_are_frozen_from_the_reference() -> None:
    rng = np.random.default_rng(3)
    ref = profile(pa.table({"x": rng.normal(0, 1, 50_000), "c": rng.choice(list("abcd"), 50_000)}))
    edges = ref.columns["x"].histogram.edges
    assert ref.columns["x"].histogram.exact is False
    assert len(edges) == 51
    assert edges[0] == ref.columns["x"].min
    cur_x = rng.normal(0.5, 1, 40_000)
    cur = profile(pa.table({"x": cur_x, "c": rng.choice(list("abcde"), 40_000)}), reference=ref)
    hist = cur.columns["x"].histogram
    assert hist.exact
    assert hist.edges == edges
    e = np.asarray(edges)
    assert hist.counts[0] == int((cur_x < e[0]).sum())
    assert hist.counts[-1] == int((cur_x > e[-1]).sum())
    inside = cur_x[(cur_x >= e[0]) & (cur_x <= e[-1])]
    assert list(hist.counts[1:-1]) == np.histogram(inside, bins=e)[0].tolist()
    cats = cur.columns["c"].histogram
    assert cats.categories is not None
    assert set(cats.categories) == set("abcd")
    assert cats.counts[-1] == int(sum(1 for v in cur.columns["c"].frequent() if v[0] == "e") and
                                  dict(cur.columns["c"].frequent())["e"])  # fmt: skip
    # parts profiled on the same frozen bins merge by adding counts
    half = profile(pa.table({"x": cur_x[:20_000], "c": ["a"] * 20_000}), reference=ref)
    rest = profile(pa.table({"x": cur_x[20_000:], "c": ["a"] * 20_000}), reference=ref)
    assert merge(half, rest).columns["x"].histogram.counts == hist.counts


def test_merge_refuses_different_bins_and_settings() -> None:
    rng = np.random.default_rng(4)
    t = pa.table({"x": rng.normal(size=1_000)})
    ref1, ref2 = profile(t), profile(pa.table({"x": rng.normal(size=1_000) + 5}))
    with pytest.raises(StewardError) as err:
        merge(profile(t, reference=ref1), profile(t, reference=ref2))
    assert err.value.code == "profile-mismatch"
    with pytest.raises(StewardError) as err:
        merge(profile(t, reference=ref1), profile(t))
    assert err.value.code == "profile-mismatch"
    with pytest.raises(StewardError) as err:
        merge(profile(t, bins=10), profile(t))
    assert err.value.code == "profile-mismatch"
    assert err.value.hint


def test_bytes_round_trip() -> None:
    table, _, _ = numeric_table(20_000)
    ref = profile(table)
    prof = profile(table, reference=ref)
    blob = prof.to_bytes()
    assert blob.startswith(FORMAT.encode() + b"\n")
    assert len(blob) < 60_000
    back = Profile.from_bytes(blob)
    assert Profile.from_bytes(back.to_bytes()).rows == prof.rows
    assert back.rows == prof.rows
    assert list(back.columns) == list(prof.columns)
    for name, col in prof.columns.items():
        other = back.columns[name]
        for attr in ("kind", "types", "count", "nulls", "nan", "posinf", "neginf", "moments",
                     "samples", "frozen", "distinct"):  # fmt: skip
            assert getattr(other, attr) == getattr(col, attr), (name, attr)
        assert other.frequent() == col.frequent()
        assert other.quantiles([0.1, 0.5]) == col.quantiles([0.1, 0.5]) or col.kll is None
    import pickle

    # a profile pickles as its own bytes (that is how it reaches Dask workers)
    back = pickle.loads(pickle.dumps(prof))  # noqa: S301
    assert back.columns["x"].moments == prof.columns["x"].moments


def valid_crc(body: bytes, json_len: int) -> bytes:
    return FORMAT.encode() + b"\n" + struct.pack(">II", zlib.crc32(body), json_len) + body


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"PAR1 not a profile",
        b"steward-profile/9\n....",
        b"steward-profile/1\n\x00",
        "truncated",
        "flipped",
        valid_crc(b"{not json", 9),
        valid_crc(b'{"format":"steward-profile/1"}', 30),
        valid_crc(b'["a list"]', 10),
        valid_crc(
            b'{"format":"steward-profile/1","rows":1,"settings":{},"notes":[],"columns":'
            b'[{"name":"x","kind":"float","types":[],"count":1,"nulls":0,"nan":0,"posinf":0,'
            b'"neginf":0,"moments":[0,0,0,null,null],"samples":[],"kll":[0,99],"hll":null,'
            b'"items":null,"frozen":null}]}XXXX',
            329,
        ),
    ],
    ids=[
        "empty",
        "foreign",
        "version",
        "short",
        "truncated",
        "flipped",
        "json",
        "keys",
        "list",
        "sketch-outside",
    ],
)
def test_corrupt_blobs_are_refused_with_a_code(blob: bytes | str) -> None:
    good = profile(pa.table({"x": [1.0, 2.0], "s": ["a", "b"]})).to_bytes()
    if blob == "truncated":
        blob = good[:-10]
    elif blob == "flipped":
        data = bytearray(good)
        data[len(data) // 2] ^= 0x40
        blob = bytes(data)
    assert isinstance(blob, bytes)
    with pytest.raises(StewardError) as err:
        Profile.from_bytes(blob)
    assert err.value.code == "profile-corrupt"
    assert err.value.hint


def test_damaged_sketch_bytes_with_a_good_checksum_are_refused() -> None:
    good = profile(pa.table({"x": [1.0, 2.0, 3.0]})).to_bytes()
    head = len(FORMAT) + 1
    _, size = struct.unpack(">II", good[head : head + 8])
    body = bytearray(good[head + 8 :])
    for i in range(size, len(body)):
        body[i] = 0xAB
    with pytest.raises(StewardError) as err:
        Profile.from_bytes(valid_crc(bytes(body), size))
    assert err.value.code == "profile-corrupt"


# -- inputs ---------------------------------------------------------------------------------


def test_every_frame_kind_gives_the_same_profile(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    pdf = pd.DataFrame({"x": rng.normal(size=5_000), "s": rng.choice(["a", "b"], 5_000)})
    pq.write_table(pa.Table.from_pandas(pdf, preserve_index=False), tmp_path / "d.parquet")
    pdf.to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "dir").mkdir()
    pq.write_table(pa.Table.from_pandas(pdf.iloc[:2_000], preserve_index=False),
                   tmp_path / "dir" / "a.parquet")  # fmt: skip
    pdf.iloc[2_000:].to_csv(tmp_path / "dir" / "b.csv", index=False)
    inputs = [pdf, pl.from_pandas(pdf), pl.from_pandas(pdf).lazy(), pa.Table.from_pandas(pdf),
              pa.RecordBatch.from_pandas(pdf), tmp_path / "d.parquet", str(tmp_path / "d.csv"),
              tmp_path / "dir"]  # fmt: skip
    want = pdf["x"].to_numpy()
    for data in inputs:
        prof = profile(data)
        assert prof.rows == 5_000, type(data)
        assert prof.columns["x"].mean == pytest.approx(want.mean(), rel=1e-12)
        assert prof.columns["x"].variance == pytest.approx(want.var(ddof=1), rel=1e-9)
        assert dict(prof.columns["s"].frequent()) == pdf["s"].value_counts().to_dict()


def test_batches_bound_memory_and_merge_exactly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    table, _x, _null = numeric_table(30_000)
    whole = profile(table)
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=4_000)
    monkeypatch.setattr(readers, "BATCH_ROWS", 4_096)
    for data in (table, tmp_path / "t.parquet"):
        batched = profile(data)
        assert batched.rows == whole.rows
        for name in whole.columns:
            a, b = batched.columns[name], whole.columns[name]
            assert (a.count, a.nulls, a.nan) == (b.count, b.nulls, b.nan)
            assert a.moments.n == b.moments.n
            assert a.mean == pytest.approx(b.mean, rel=REL, nan_ok=True)
            assert a.variance == pytest.approx(b.variance, rel=REL, nan_ok=True)
            assert a.frequent() == b.frequent()


def test_empty_all_null_mixed_infinite_and_unicode_columns() -> None:
    empty = profile(pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype=str)}))
    assert empty.rows == 0
    assert empty.columns["a"].count == 0
    assert math.isnan(empty.columns["a"].mean)
    assert empty.columns["a"].histogram is None
    assert empty.columns["a"].null_rate == 0.0
    assert Profile.from_bytes(empty.to_bytes()).rows == 0
    frame = pd.DataFrame(
        {
            "nulls": [None, None, None],
            "nan_only": [np.nan, np.nan, np.nan],
            "mixed": pd.Series([1, "two", 3.5], dtype=object),
            "inf": [np.inf, -np.inf, 1.0],
            "naïve 名前 🙂": ["ü", "名", None],
        }
    )
    prof = profile(frame)
    nulls = prof.columns["nulls"]
    assert (nulls.count, nulls.nulls, nulls.null_rate, nulls.distinct) == (3, 3, 1.0, 0.0)
    assert math.isnan(nulls.quantile(0.5))
    assert nulls.frequent() == []
    assert prof.columns["nan_only"].nulls == 3  # pandas' NaN is its missing value
    mixed = prof.columns["mixed"]
    assert mixed.kind == "mixed"
    assert "mixed" in mixed.arrow_type
    assert sorted(v for v, _ in mixed.frequent()) == ["1", "3.5", "two"]
    inf = prof.columns["inf"]
    assert (inf.posinf, inf.neginf, inf.moments.n, inf.mean) == (1, 1, 1, 1.0)
    uni = prof.columns["naïve 名前 🙂"]
    assert dict(uni.frequent()) == {"ü": 1, "名": 1}
    assert uni.nulls == 1
    assert Profile.from_bytes(prof.to_bytes()).columns["naïve 名前 🙂"].frequent() == uni.frequent()


def test_duplicate_column_names_are_kept_and_renamed() -> None:
    table = pa.Table.from_arrays([pa.array([1, 2]), pa.array(["x", "y"]), pa.array([3, 4])],
                                 names=["a", "a", "a#2"])  # fmt: skip
    prof = profile(table)
    assert list(prof.columns) == ["a", "a#3", "a#2"]
    assert prof.columns["a#3"].kind == "string"
    assert any("'a#3'" in note for note in prof.notes)
    frame = pd.DataFrame([[1, 2]], columns=["k", "k"])
    assert list(profile(frame).columns) == ["k", "k#2"]


@pytest.mark.parametrize(
    "make",
    [
        lambda p: [1, 2, 3],
        lambda p: {"a": [1]},
        lambda p: p / "missing.parquet",
        lambda p: "no/such/file.csv",
        lambda p: (p / "bad.csv").write_text("a,b\n1,2\n3,4,5\n") and p / "bad.csv",
        lambda p: (p / "bad.parquet").write_bytes(b"PAR1 nonsense") and p / "bad.parquet",
        lambda p: (p / "x.txt").write_text("hi") and p / "x.txt",
        lambda p: (p / "empty").mkdir() or p / "empty",
        lambda p: (p / "q.csv").write_text('a,b\n"x,1\n') and p / "q.csv",
    ],
    ids=[
        "list",
        "dict",
        "missing",
        "missing-str",
        "csv-ragged",
        "parquet-garbage",
        "txt",
        "empty-dir",
        "csv-open-quote",
    ],
)
def test_bad_input_is_a_clear_error(make: object, tmp_path: Path) -> None:
    data = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(StewardError) as err:
        profile(data)
    assert err.value.code == "profile-input", err.value
    assert err.value.hint


def test_bad_settings_are_refused() -> None:
    with pytest.raises(StewardError) as err:
        profile(pa.table({"x": [1.0]}), bins=0)
    assert err.value.code == "profile-input"


def test_list_and_struct_columns_are_profiled_not_raised() -> None:
    import pyarrow as pa

    from mlsteward.data.profile import profile_data

    table = pa.table({"l": [[1, 2], [3], None, [1, 2]], "s": [{"a": 1}, {"a": 2}, None, {"a": 1}]})
    prof = profile_data(table)
    for name in ("l", "s"):
        col = prof.columns[name]
        assert (col.kind, col.count, col.nulls) == ("other", 4, 1)
        assert len(col.samples) == 3


def test_a_missing_file_is_reported_as_a_missing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlsteward.data.profile import profile_data
    from mlsteward.errors import StewardError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(StewardError, match="does not exist") as info:
        profile_data("nope.csv")
    assert info.value.code == "profile-input"
