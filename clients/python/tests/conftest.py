"""Fixtures: the shared vectors, an in-memory fake server, and real wxauthd processes (started on port 0)."""
from typing import Callable, Iterator, List

import pytest

import support
from wxauth.testing import FakeServer


@pytest.fixture(scope="session")
def vectors():
    return support.load_vectors()


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    with FakeServer() as srv:
        yield srv


def _require_binary() -> None:
    binary = support.wxauthd_bin()
    if not binary.exists():
        msg = f"wxauthd binary not found at {binary} (build it or set WXAUTHD_BIN)"
        if support.server_required():
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture(scope="session")
def wxauthd() -> Iterator[support.Wxauthd]:
    """One real `wxauthd --dev` for the whole session (default lifetimes)."""
    _require_binary()
    server = support.start_wxauthd()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def start_wxauthd() -> Iterator[Callable[..., support.Wxauthd]]:
    """Factory for a real wxauthd with extra arguments (e.g. "--idle-timeout", "2"); stopped after the test."""
    _require_binary()
    started: List[support.Wxauthd] = []

    def start(*extra: str) -> support.Wxauthd:
        server = support.start_wxauthd(*extra)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()
