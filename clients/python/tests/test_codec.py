"""Codec behaviour beyond the shared vectors: limits, incremental framing, auth proof, unknown statuses."""
import hashlib
import struct

import pytest

from wxauth import codec, errors

TOKEN = "A" * 44


def _hmac_sha256_by_hand(key: bytes, msg: bytes) -> bytes:
    """RFC 2104 spelled out, to check codec.auth_proof without trusting the same library call."""
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(k ^ 0x36 for k in key) + msg).digest()
    return hashlib.sha256(bytes(k ^ 0x5C for k in key) + inner).digest()


def test_auth_proof_is_hmac_sha256_of_context_and_nonce():
    nonce = bytes(range(32))
    expected = _hmac_sha256_by_hand(b"s3cret", b"wxauth-auth-v1" + nonce)
    assert codec.auth_proof("s3cret", nonce) == expected == codec.auth_proof(b"s3cret", nonce)
    assert len(expected) == codec.PROOF_SIZE


@pytest.mark.parametrize("request_obj,field", [
    (codec.Login("", "c"), "app_id"),
    (codec.Login("a" * 65, "c"), "app_id"),
    (codec.Login("wx1", ""), "code"),
    (codec.Login("wx1", "c" * 257), "code"),
    (codec.Validate(""), "token"),
    (codec.Validate("t" * 129), "token"),
    (codec.Refresh("é" * 65), "token"),  # 130 bytes: limits count UTF-8 bytes, not characters
    (codec.RevokeUser("wx1", ""), "openid"),
    (codec.RevokeUser("wx1", "o" * 129), "openid"),
    (codec.Auth("", b"\0" * 32), "caller_id"),
    (codec.Auth("svc", b"\0" * 31), "proof"),
])
def test_field_limits_enforced_before_sending(request_obj, field):
    with pytest.raises(errors.FieldLimitError) as info:
        codec.encode_request(1, request_obj)
    assert info.value.field == field


def test_field_limits_upper_bounds_accepted():
    for req in (codec.Login("a" * 64, "c" * 256), codec.Validate("t" * 128), codec.RevokeUser("a", "o" * 128),
                codec.Auth("c" * 64, b"\1" * 32)):
        rf = codec.decode_request(codec.encode_request(9, req))
        assert rf.request == req and rf.request_id == 9


def test_decoder_limits_mirror_encoder():
    body = struct.pack(">H", 129) + b"t" * 129
    with pytest.raises(errors.MalformedError):
        codec.decode_request(codec.encode_frame(codec.Op.VALIDATE, 1, body))


def test_request_id_bounds():
    assert codec.decode_request(codec.encode_request(0xFFFFFFFF, codec.Ping())).request_id == 0xFFFFFFFF
    with pytest.raises(errors.FieldLimitError):
        codec.encode_request(1 << 32, codec.Ping())


def test_incremental_decoder_splits_coalesced_frames():
    data = b"".join(codec.encode_request(i, codec.Validate(TOKEN)) for i in range(1, 51))
    dec = codec.FrameDecoder()
    got = []
    for chunk in (data[:7], data[7:1000], data[1000:]):
        dec.feed(chunk)
        got.extend(dec)
    assert [f.request_id for f in got] == list(range(1, 51)) and dec.buffered == 0


def test_max_frame_boundary():
    dec = codec.FrameDecoder(max_frame=100)
    dec.feed(struct.pack(">I", 100))
    assert dec.next_frame() is None  # exactly the limit: wait for the body
    dec = codec.FrameDecoder(max_frame=100)
    dec.feed(struct.pack(">I", 101))
    with pytest.raises(errors.FrameTooLargeError) as info:
        dec.next_frame()
    assert (info.value.length, info.value.limit) == (101, 100)


def test_decode_frame_truncated_and_overlong():
    frame = codec.encode_request(3, codec.Ping())
    with pytest.raises(errors.MalformedError):
        codec.decode_frame(frame[:-1] if len(frame) > 10 else frame[:8])
    with pytest.raises(errors.MalformedError):
        codec.decode_frame(frame + b"\0")
    with pytest.raises(errors.MalformedError):
        codec.decode_frame(b"\0\0")


def test_ok_response_with_trailing_bytes_is_malformed():
    frame = codec.encode_frame(codec.Status.OK, 4, struct.pack(">q", 1) + b"\0")
    with pytest.raises(errors.MalformedError):
        codec.decode_response(frame, codec.Op.PING)


def test_response_with_other_version_is_rejected():
    frame = codec.encode_frame(codec.Status.OK, 4, b"", version=2)
    with pytest.raises(errors.UnsupportedVersionError):
        codec.decode_response(frame, codec.Op.REVOKE)


def test_unknown_status_decodes_and_keeps_message():
    body = struct.pack(">H", 9) + "new error".encode() + struct.pack(">I", 7)
    response = codec.decode_response(codec.encode_frame(0x7E, 12, body), codec.Op.LOGIN)
    assert not response.ok and response.error.raw == body
    assert response.as_dict() == {"request_id": 12, "op": "LOGIN", "status": "STATUS_0x7E",
                                  "body_hex": body.hex(), "message": "new error"}
    with pytest.raises(errors.UnknownStatus) as info:
        response.unwrap()
    assert info.value.status == 0x7E and info.value.message == "new error" and not info.value.retryable


def test_known_status_with_trailing_bytes_is_malformed():
    body = struct.pack(">H", 1) + b"x" + b"\x00"
    with pytest.raises(errors.MalformedError):
        codec.decode_response(codec.encode_frame(codec.Status.INVALID_TOKEN, 3, body), codec.Op.VALIDATE)


def test_unicode_session_roundtrip_and_negative_times():
    s = codec.Session("wx1", "o用户🙂", "u", -1, 0, 2**63 - 1)
    frame = codec.encode_response(5, codec.TokenResult(TOKEN, s))
    r = codec.decode_response(frame, codec.Op.REFRESH)
    assert r.unwrap() == codec.TokenResult(TOKEN, s)


def test_secrets_are_not_in_reprs():
    assert TOKEN not in repr(codec.Validate(TOKEN))
    assert "secret-code" not in repr(codec.Login("wx1", "secret-code"))
    assert "abab" not in repr(codec.Auth("svc", b"\xab" * 32))
    assert TOKEN not in repr(codec.TokenResult(TOKEN, codec.Session("a", "o", "", 0, 0, 0)))
