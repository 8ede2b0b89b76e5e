"""The filter language: parsing (trees, precedence, errors with their column) and what
each form matches on real SQLite and PostgreSQL stores (NaN, missing keys, numbers vs
text, like/in/is null, ordering with missing values last, paging)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from datetime import datetime

import pytest

from mlsteward.store.database import Store
from mlsteward.store.query import (
    Compare,
    Field,
    FilterError,
    InList,
    IsNull,
    Like,
    Literal,
    Logic,
    Not,
    OrderKey,
    parse_field,
    parse_filter,
    parse_order_by,
)
from mlsteward.store.runs import (
    MetricPoint,
    finish_run,
    insert_metrics,
    insert_run,
    set_params,
    set_tags,
)
from mlsteward.store.views import search

AUC = Field("metric", "auc")


def cmp(field: Field, op: str, value: float | str | bool, raw: str | None = None) -> Compare:
    if raw is None:
        raw = repr(value) if isinstance(value, str) else str(value).lower()
    return Compare(field, op, Literal(value, raw))


# -- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("metrics.auc > 0.8", cmp(AUC, ">", 0.8, "0.8")),
        ("metrics.auc>=1e-3", cmp(AUC, ">=", 1e-3, "1e-3")),
        ("metrics.auc == -2", cmp(AUC, "=", -2.0, "-2")),
        ("metrics.auc <> .5", cmp(AUC, "!=", 0.5, ".5")),
        ("METRIC.auc <= +3", cmp(AUC, "<=", 3.0, "+3")),
        ("params.lr = 0.1", cmp(Field("param", "lr"), "=", 0.1, "0.1")),
        ("params.opt = 'it\\'s'", cmp(Field("param", "opt"), "=", "it's", "'it\\'s'")),
        ('tags.team = "a\\"b"', cmp(Field("tag", "team"), "=", 'a"b', '"a\\"b"')),
        ("metrics.`val loss` < 1", cmp(Field("metric", "val loss"), "<", 1.0, "1")),
        ('metrics."val loss" < 1', cmp(Field("metric", "val loss"), "<", 1.0, "1")),
        ("metrics.val/loss-2:x.y < 1", cmp(Field("metric", "val/loss-2:x.y"), "<", 1.0, "1")),
        ("git_dirty = true", cmp(Field("attribute", "git_dirty"), "=", True, "true")),
        ("attributes.run_name = 'a'", cmp(Field("attribute", "name"), "=", "a", "'a'")),
        ("Status != 'failed'", cmp(Field("attribute", "status"), "!=", "failed", "'failed'")),
        ("name = 42", cmp(Field("attribute", "name"), "=", "42", "42")),  # text compares as text
        (
            "params.opt in ('adam', 3)",
            InList(Field("param", "opt"), (Literal("adam", "'adam'"), Literal(3.0, "3")), False),
        ),
        ("tags.t NOT IN ('x')", InList(Field("tag", "t"), (Literal("x", "'x'"),), True)),
        ("name like 'tr%'", Like(Field("attribute", "name"), "tr%", False, False)),
        ("name not ilike 'TR%'", Like(Field("attribute", "name"), "TR%", True, True)),
        ("metrics.auc is null", IsNull(AUC, False)),
        ("end_time IS NOT NULL", IsNull(Field("attribute", "end_time"), True)),
    ],
)
def test_parses_each_form(text: str, tree: object) -> None:
    assert parse_filter(text) == tree


def test_an_empty_filter_is_none() -> None:
    assert parse_filter(None) is None
    assert parse_filter("  \n") is None


def test_and_binds_tighter_than_or_and_not_tighter_than_and() -> None:
    a, b, c = (cmp(Field("metric", k), ">", 1.0, "1") for k in "abc")
    assert parse_filter("metrics.a > 1 or metrics.b > 1 and metrics.c > 1") == Logic(
        "or", (a, Logic("and", (b, c)))
    )
    assert parse_filter("not metrics.a > 1 and metrics.b > 1") == Logic("and", (Not(a), b))
    assert parse_filter("(metrics.a > 1 or metrics.b > 1) and metrics.c > 1") == Logic(
        "and", (Logic("or", (a, b)), c)
    )
    assert parse_filter("not not metrics.a > 1") == Not(Not(a))


def test_a_time_takes_an_iso_date() -> None:
    tree = parse_filter("start_time >= '2025-01-31'")
    assert isinstance(tree, Compare)
    assert tree.literal.value == datetime(2025, 1, 31).timestamp()


def test_a_keyword_inside_a_name_is_not_a_keyword() -> None:
    # "android" starts with "and", "order" with "or": names are read whole
    tree = parse_filter("params.android = 1 and tags.order = 'x'")
    assert isinstance(tree, Logic)
    assert [n.field.name for n in tree.nodes if isinstance(n, Compare)] == ["android", "order"]


@pytest.mark.parametrize(
    ("text", "code", "position", "says"),
    [
        ("metrics.auc >", "filter-syntax", 13, "found the end of the filter"),
        ("metrics.auc 3", "filter-syntax", 12, "expected an operator"),
        ("metrics.auc ~ 3", "filter-syntax", 12, "found '~'"),
        ("metrics.auc = 'x'", "filter-syntax", 14, "compares with numbers"),
        ("metrics.auc like 'x%'", "filter-syntax", 17, "is not text"),
        ("params.opt like 3", "filter-syntax", 16, "expected a quoted pattern"),
        ("git_dirty = 'yes'", "filter-syntax", 12, "true or false"),
        ("git_dirty > true", "filter-syntax", 12, "compare it with = or !="),
        ("status = true", "filter-syntax", 9, "is text"),
        ("start_time > 'last week'", "filter-syntax", 13, "ISO date"),
        ("duration > 'x'", "filter-syntax", 11, "compares with numbers"),
        ("(name = 'a'", "filter-syntax", 11, "expected ')'"),
        ("name = 'a' xor name = 'b'", "filter-syntax", 11, "found 'xor'"),
        ("name = 'a", "filter-syntax", 7, "no closing '"),
        ("metrics.`auc < 1", "filter-syntax", 8, "no closing `"),
        ("metrics. > 1", "filter-syntax", 8, "a name after the prefix"),
        ("name not = 'a'", "filter-syntax", 9, "'in', 'like' or 'ilike' after 'not'"),
        ("name is 'a'", "filter-syntax", 8, "'null' or 'not null'"),
        ("params.x in 1", "filter-syntax", 12, "'(' to open the list"),
        ("params.x in (1 2)", "filter-syntax", 15, "',' or ')'"),
        ("params.x = ", "filter-syntax", 11, "expected a value"),
        ("and name = 'a'", "filter-syntax", 0, "found 'and'"),
        ("= 3", "filter-syntax", 0, "expected a field"),
        ("name = 'a' and", "filter-syntax", 14, "expected a field"),
        ("foo = 1", "filter-field", 0, "the attributes are id, name"),
        ("name = 'a' or attributes.lr > 1", "filter-field", 14, "'lr' is not a run attribute"),
        ("metric.auc > 1 and bar.x = 1", "filter-field", 19, "'bar' is not a field prefix"),
    ],
)
def test_errors_name_their_code_and_column(text: str, code: str, position: int, says: str) -> None:
    with pytest.raises(FilterError) as info:
        parse_filter(text)
    err = info.value
    assert (err.code, err.position) == (code, position), err.message
    assert says in err.message
    # the message shows the filter with a caret under the column, and points at the docs
    lines = err.message.splitlines()
    assert lines[1] == f"  {text}"
    assert lines[2] == "  " + " " * position + "^"
    assert "docs/runs.md" in (err.hint or "")


def test_the_caret_points_into_the_right_line_of_a_multi_line_filter() -> None:
    with pytest.raises(FilterError) as info:
        parse_filter("metrics.auc > 0.5\n  and nope = 1")
    assert info.value.position == 24
    assert info.value.message.splitlines()[1:3] == ["    and nope = 1", "        ^"]
    assert "column 7" in info.value.message


def test_an_unknown_attribute_suggests_the_prefixes() -> None:
    with pytest.raises(FilterError) as info:
        parse_filter("lr > 0.1")
    assert "metrics.lr, params.lr or tags.lr" in (info.value.hint or "")


@pytest.mark.parametrize(
    ("spec", "keys"),
    [
        (None, [OrderKey(Field("attribute", "start_time"), True)]),
        ("-metrics.auc", [OrderKey(AUC, True)]),
        ("metrics.auc DESC", [OrderKey(AUC, True)]),
        ("+metrics.auc", [OrderKey(AUC, False)]),
        ("metrics.auc asc", [OrderKey(AUC, False)]),
        (
            ["params.lr", "-start_time"],
            [
                OrderKey(Field("param", "lr"), False),
                OrderKey(Field("attribute", "start_time"), True),
            ],
        ),
        ("metrics.`val loss` desc", [OrderKey(Field("metric", "val loss"), True)]),
    ],
)
def test_parses_order_by(spec: str | list[str] | None, keys: list[OrderKey]) -> None:
    assert parse_order_by(spec) == keys


@pytest.mark.parametrize(
    ("spec", "code", "position"),
    [
        ("metrics.auc sideways", "filter-syntax", 12),
        ("bogus", "filter-field", 0),
        ("-", "filter-syntax", 1),
    ],
)
def test_order_by_errors(spec: str, code: str, position: int) -> None:
    with pytest.raises(FilterError) as info:
        parse_order_by(spec)
    assert (info.value.code, info.value.position) == (code, position)
    assert info.value.message.startswith("order_by error")


def test_parse_field_gives_canonical_names() -> None:
    assert str(parse_field("metric.auc")) == "metrics.auc"
    assert str(parse_field("attributes.run_id")) == "id"
    with pytest.raises(FilterError):
        parse_field("metrics.auc > 1")


# -- what a filter matches ------------------------------------------------------------------


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """Runs a..f with params, metrics and tags that probe every rule of the language."""
    store = Store.connect(store_url)
    now = time.time()
    runs = {
        # name: (params, metrics (key -> points), tags, status)
        "a": (
            {"lr": "0.1", "opt": "adam"},
            {"auc": [0.9], "loss": [0.5, 0.2]},
            {"team": "vision"},
            "finished",
        ),
        "b": (
            {"lr": "0.01", "opt": "sgd"},
            {"auc": [0.95, math.nan]},
            {"team": "nlp", "pct": "50%"},
            "failed",
        ),
        "c": ({"lr": "auto", "flag": "True"}, {"auc": [0.7]}, {"pct": "500"}, "finished"),
        "d": ({}, {"auc": [math.inf]}, {}, "running"),
        "e": ({"lr": "1e-3"}, {}, {"Team": "vision"}, "finished"),
        "f_x": ({"opt": "Adam"}, {"auc": [-math.inf]}, {}, "finished"),
    }
    with store.write() as conn:
        for i, (name, (params, metrics, tags, status)) in enumerate(runs.items()):
            run_id = f"{i:x}" * 32
            insert_run(
                conn,
                {
                    "id": run_id,
                    "name": name,
                    "experiment": "exp2" if name == "e" else "default",
                    "start_time": now + i,
                    "git_dirty": name == "a",
                },
            )
            set_params(conn, run_id, params)
            set_tags(conn, run_id, tags)
            points = [
                MetricPoint(k, v, step, now + step)
                for k, vs in metrics.items()
                for step, v in enumerate(vs)
            ]
            insert_metrics(conn, run_id, points)
            if status != "running":
                finish_run(conn, run_id, status, now + i + 10 * (i + 1))
    yield store
    store.close()


def names(
    store: Store, text: str | None, order_by: str | list[str] | None = "name", **kw: object
) -> list[str]:
    with store.read() as conn:
        return [v.name for v in search(conn, text, order_by, **kw)]  # type: ignore[arg-type]


# (filter, the names of the runs it matches); one store per backend serves them all
SEMANTICS: list[tuple[str | None, list[str]]] = [
    # metrics compare their latest value; NaN (b's latest auc) never satisfies a comparison
    ("metrics.auc > 0.8", ["a", "d"]),
    ("metrics.auc >= 0.95", ["d"]),
    ("metrics.auc != 0.9", ["c", "d", "f_x"]),
    ("metrics.auc < 0", ["f_x"]),
    ("metrics.loss < 0.3", ["a"]),
    ("metrics.loss > 0.4", []),
    ("metrics.auc in (0.7, 0.9)", ["a", "c"]),
    # not is the complement: runs without the key, or with NaN, match it
    ("not metrics.auc > 0.8", ["b", "c", "e", "f_x"]),
    ("metrics.auc is null", ["e"]),
    ("metrics.auc is not null", ["a", "b", "c", "d", "f_x"]),
    # params: a number compares value_num, a string compares the text
    ("params.lr = 0.1", ["a"]),
    ("params.lr = 0.10", ["a"]),
    ("params.lr = '0.1'", ["a"]),
    ("params.lr = '0.10'", []),
    ("params.lr = 0.001", ["e"]),
    ("params.lr > 0.005", ["a", "b"]),
    ("params.lr != 0.1", ["b", "c", "e"]),
    ("params.lr = 'auto'", ["c"]),
    ("params.lr not in (0.1, 0.01)", ["c", "e"]),
    ("params.flag = true", ["c"]),
    ("params.flag in ('x', true)", ["c"]),
    ("params.opt in ('adam', true)", ["a"]),  # only a boolean ignores case
    ("params.opt in ('adam', 'sgd')", ["a", "b"]),
    ("params.opt not in ('adam')", ["b", "f_x"]),
    ("params.opt like 'ad%'", ["a"]),
    ("params.opt like 'Ad%'", ["f_x"]),
    ("params.opt ilike 'AD%'", ["a", "f_x"]),
    ("params.opt not like 'ad%'", ["b", "f_x"]),
    ("params.opt is null", ["c", "d", "e"]),
    # tags are text, their keys case-sensitive
    ("tags.team = 'vision'", ["a"]),
    ("tags.Team = 'vision'", ["e"]),
    ("tags.team is not null", ["a", "b"]),
    ("tags.pct like '50\\%'", ["b"]),
    ("tags.pct like '50%'", ["b", "c"]),
    ("tags.pct like '5_0'", ["c"]),
    # attributes
    ("name = 'f_x'", ["f_x"]),
    ("name like 'f\\_%'", ["f_x"]),
    ("name ilike 'F%'", ["f_x"]),
    ("status = 'running'", ["d"]),
    ("status in ('failed', 'running')", ["b", "d"]),
    ("end_time is null", ["d"]),
    ("duration > 25", ["c", "e", "f_x"]),
    ("not duration > 25", ["a", "b", "d"]),
    ("git_dirty = true", ["a"]),
    ("experiment = 'exp2'", ["e"]),
    ("start_time > '2000-01-01'", ["a", "b", "c", "d", "e", "f_x"]),
    ("id = '11111111111111111111111111111111'", ["b"]),
    # logic
    ("metrics.auc > 0.8 and params.opt = 'adam'", ["a"]),
    ("metrics.auc > 0.8 or tags.team = 'nlp'", ["a", "b", "d"]),
    ("not (metrics.auc > 0.8 or tags.team = 'nlp')", ["c", "e", "f_x"]),
    (None, ["a", "b", "c", "d", "e", "f_x"]),
]


def test_filter_semantics(store: Store) -> None:
    got = [(t, names(store, t), want) for t, want in SEMANTICS]
    wrong = "\n".join(f"{t!r}: got {g}, expected {w}" for t, g, w in got if g != w)
    assert not wrong, wrong


ORDERS: list[tuple[str | list[str] | None, list[str]]] = [
    # NaN (b) and a missing value (e) sort last in both directions, then by id
    ("-metrics.auc", ["d", "a", "c", "f_x", "b", "e"]),
    ("metrics.auc", ["f_x", "c", "a", "d", "b", "e"]),
    # params: numbers in numeric order, then text, then runs without the param
    ("params.lr", ["e", "b", "a", "c", "d", "f_x"]),
    ("-params.lr", ["a", "b", "e", "c", "d", "f_x"]),
    ("tags.team desc", ["a", "b", "c", "d", "e", "f_x"]),
    ("-end_time", ["f_x", "e", "c", "b", "a", "d"]),
    ("start_time", ["a", "b", "c", "d", "e", "f_x"]),
    (None, ["f_x", "e", "d", "c", "b", "a"]),
    (["status", "-name"], ["b", "f_x", "e", "c", "a", "d"]),
]


def test_order_by_puts_missing_values_last(store: Store) -> None:
    wrong = [
        (o, names(store, None, o), want) for o, want in ORDERS if names(store, None, o) != want
    ]
    assert not wrong, "\n".join(f"{o!r}: got {got}, expected {want}" for o, got, want in wrong)


def test_paging_experiment_and_status(store: Store) -> None:
    everything = names(store, None, "-metrics.auc")
    pages = [names(store, None, "-metrics.auc", limit=4, offset=o) for o in (0, 4, 8)]
    assert pages[0] + pages[1] == everything
    assert pages[2] == []
    assert names(store, None, experiment="exp2") == ["e"]
    assert names(store, "params.lr is not null", status="finished") == ["a", "c", "e"]
