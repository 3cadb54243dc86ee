"""Exception classes: one per status, `retryable` as in PROTOCOL.md's status table (parsed from the file)."""
import re

import pytest

import support
from wxauth import codec, errors


def protocol_status_table():
    """{status code: retryable?} from the `| 0xNN | NAME | body | retry? |` rows of PROTOCOL.md."""
    rows = {}
    for line in support.PROTOCOL_MD.read_text("utf-8").splitlines():
        m = re.match(r"\|\s*`0x([0-9A-Fa-f]{2})`\s*\|\s*([A-Z_]+)\s*\|[^|]*\|\s*([^|]*)\|", line)
        if m and m.group(2) in codec.Status.__members__:
            rows[int(m.group(1), 16)] = (m.group(2), m.group(3).strip())
    return rows


TABLE = protocol_status_table()


def test_table_parsed():
    assert set(TABLE) == {s.value for s in codec.Status}


@pytest.mark.parametrize("status", [s for s in codec.Status if s != codec.Status.OK], ids=lambda s: s.name)
def test_one_class_per_status_with_retryable_from_protocol_md(status):
    name, retry = TABLE[status.value]
    assert name == status.name
    exc = errors.error_for_status(status, message="m", request_id=5)
    assert type(exc) is errors.ERROR_CLASSES[status]
    assert exc.status == status and exc.status_name == status.name
    assert exc.retryable is retry.startswith("yes"), (status.name, retry)
    assert (status in codec.RETRYABLE_STATUSES) is exc.retryable


def test_named_classes_and_fields():
    rejected = errors.error_for_status(0x20, message="code been used", errcode=40163)
    assert isinstance(rejected, errors.WeChatRejected)
    assert (rejected.errcode, rejected.errmsg, rejected.retryable) == (40163, "code been used", False)
    limited = errors.error_for_status(0x30, message="quota", errcode=45011, retry_after_ms=60000)
    assert isinstance(limited, errors.RateLimited)
    assert (limited.retry_after_ms, limited.errcode, limited.retryable) == (60000, 45011, True)
    for cls in (errors.InvalidToken, errors.TokenExpired, errors.TokenRevoked):
        assert issubclass(cls, errors.TokenError) and not cls.retryable
    assert errors.WeChatUnavailable(-1).retryable and errors.ShuttingDown().retryable
    assert errors.InternalError().retryable and errors.ServerFull().retryable
    assert not errors.NotAuthorized().retryable and not errors.MalformedRequest().retryable


def test_unknown_status_is_not_retryable_and_keeps_body():
    exc = errors.error_for_status(0x7E, message="new thing", body=b"\x01\x00\x03abc")
    assert isinstance(exc, errors.UnknownStatus)
    assert exc.status == 0x7E and not exc.retryable and exc.body == b"\x01\x00\x03abc"


def test_local_errors():
    assert errors.ConnectionLost("x").retryable and isinstance(errors.ConnectionLost("x"), ConnectionError)
    assert errors.RequestTimeout("x").retryable and isinstance(errors.RequestTimeout("x"), TimeoutError)
    assert isinstance(errors.FieldLimitError("token", "too long"), ValueError)
    assert all(issubclass(c, errors.WxAuthError) for c in errors.ERROR_CLASSES.values())
