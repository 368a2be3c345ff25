"""``chorus seed``: a consistent synthetic data set whose users can log in and see their threads."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chorus.db import sync_engine
from chorus.models import Message, Participant, Thread, User
from chorus.ops.cli import main

TINY = [
    "--users", "30", "--threads", "25", "--messages", "600", "--big-thread-messages", "1500",
    "--busy-user-threads", "12", "--participants-per-thread", "4", "--seed", "7",
]  # fmt: skip
PRINTED_CREDENTIALS = re.compile(r"^busy user: (\S+)\s+password: (\S+)", re.MULTILINE)


def _seed(tmp_path: Path, *extra: str) -> Path:
    output = tmp_path / "seed.json"
    main(["seed", *TINY, "--output", str(output), *extra])
    return output


def test_messages_are_numbered_one_to_n_and_threads_point_at_their_newest(tmp_path: Path) -> None:
    saved = json.loads(_seed(tmp_path).read_text())
    with sync_engine().connect() as connection:
        threads = {t.id: t for t in connection.execute(select(Thread))}
        messages = connection.execute(
            select(Message.id, Message.thread_id, Message.seq, Message.author_id, Message.created_at).order_by(
                Message.thread_id, Message.seq
            )
        ).all()
        members: dict[object, set[object]] = defaultdict(set)
        for participant in connection.execute(select(Participant)):
            members[participant.thread_id].add(participant.user_id)
            last_seq = threads[participant.thread_id].last_seq
            assert 0 <= participant.read_seq <= last_seq
            assert 0 <= participant.notified_seq <= last_seq
        unverified = connection.scalar(select(func.count()).where(User.email_verified_at.is_(None)))
    by_thread = defaultdict(list)
    for message in messages:
        by_thread[message.thread_id].append(message)
        assert message.author_id in members[message.thread_id], "authors are the thread's participants"
    assert len(threads) == 26
    assert len(messages) == 600 + 1500
    assert unverified == 0
    for thread_id, thread in threads.items():
        numbered = by_thread.get(thread_id, [])
        assert [m.seq for m in numbered] == list(range(1, thread.last_seq + 1))
        times = [m.created_at for m in numbered]
        assert times == sorted(times), "times grow with seq"
        assert len(members[thread_id]) == 4
        if numbered:
            assert (thread.last_message_id, thread.last_activity_at) == (numbered[-1].id, numbered[-1].created_at)
        else:
            assert thread.last_message_id is None
    big = threads[next(t for t in threads if str(t) == saved["big_thread"]["id"])]
    assert big.last_seq == saved["big_thread"]["messages"] == 1500
    busy_threads = [t for t, people in members.items() if any(str(p) == saved["busy_user"]["id"] for p in people)]
    assert len(busy_threads) == saved["busy_user"]["threads"] == 12


def test_the_busy_user_logs_in_with_the_printed_password_and_sees_their_threads(
    client: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(tmp_path)
    credentials = PRINTED_CREDENTIALS.search(capsys.readouterr().out)
    assert credentials, "the seed prints the busy user's credentials"
    email, password = credentials.groups()
    response = client.post("/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    listed = client.get("/threads", params={"limit": 100}, headers=headers)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert len(items) == 12
    assert [i["last_activity_at"] for i in items] == sorted((i["last_activity_at"] for i in items), reverse=True)
    assert all(i["unread_count"] >= 0 for i in items)


def test_a_database_with_data_is_left_alone_unless_reset(tmp_path: Path) -> None:
    _seed(tmp_path)
    with pytest.raises(SystemExit, match="--reset"):
        _seed(tmp_path)
    _seed(tmp_path, "--reset")
    with sync_engine().connect() as connection:
        assert connection.scalar(select(func.count()).select_from(User)) == 30
        assert connection.scalar(select(func.count()).select_from(Message)) == 2100


def test_impossible_parameters_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="busy-user-threads"):
        main(["seed", "--users", "5", "--participants-per-thread", "2", "--threads", "2", "--busy-user-threads", "9"])
    with sync_engine().connect() as connection:
        assert connection.scalar(select(func.count()).select_from(User)) == 0
