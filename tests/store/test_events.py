"""The event log: appended with the change it describes, and never changed after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from mlsteward.store.database import Store
from mlsteward.store.events import actor, append_event, read_events
from mlsteward.store.schema import events


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    store = Store.connect(store_url)
    yield store
    store.close()


def test_events_come_back_in_order_with_their_payload(store: Store) -> None:
    with store.write() as conn:
        append_event(conn, "run.start", "run1", {"name": "train", "lr": 0.1})
        append_event(conn, "dataset.version", "reviews@1", {"size": 10})
        append_event(conn, "run.end", "run1", None, who="ci@runner")
    with store.read() as conn:
        every = read_events(conn)
        assert [e.kind for e in every] == ["run.start", "dataset.version", "run.end"]
        assert every[0].payload == {"lr": 0.1, "name": "train"}
        assert every[0].actor == actor()
        assert "@" in every[0].actor
        assert every[2].actor == "ci@runner"
        assert every[2].payload == {}
        assert every[0].id < every[1].id < every[2].id
        assert every[0].time <= every[2].time
        assert [e.kind for e in read_events(conn, subject="run1")] == ["run.start", "run.end"]
        assert [e.subject for e in read_events(conn, kind="dataset.version")] == ["reviews@1"]
        assert len(read_events(conn, limit=2)) == 2


@pytest.mark.parametrize(
    "statement",
    [
        sa.update(events).values(actor="mallory"),
        sa.update(events).where(events.c.kind == "run.start").values(payload="{}"),
        sa.delete(events),
        sa.delete(events).where(events.c.subject == "run1"),
    ],
    ids=["update-all", "update-one", "delete-all", "delete-one"],
)
def test_the_database_refuses_to_change_or_delete_an_event(
    store: Store, statement: sa.Executable
) -> None:
    with store.write() as conn:
        append_event(conn, "run.start", "run1", {"name": "train"})
    with pytest.raises(DBAPIError, match="append-only"), store.write() as conn:
        conn.execute(statement)
    with store.read() as conn:
        (event,) = read_events(conn)
    assert (event.kind, event.subject, event.payload) == ("run.start", "run1", {"name": "train"})
    assert event.actor == actor()


def test_events_of_a_rolled_back_change_are_not_kept(store: Store) -> None:
    with store.write() as conn:
        append_event(conn, "run.start", "kept", {})

    def change_that_fails() -> None:
        with store.write() as conn:
            append_event(conn, "run.start", "lost", {})
            raise RuntimeError("the change failed half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        change_that_fails()
    with store.read() as conn:
        assert [e.subject for e in read_events(conn)] == ["kept"]
