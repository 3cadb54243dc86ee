"""Every entry of protocol/vectors/vectors.json, loaded from the file at test time."""
import pytest

import support
from wxauth import codec, errors

VECTORS = support.load_vectors()

INVALID_ERRORS = {
    "frame_too_short": errors.FrameTooShortError,
    "frame_too_large": errors.FrameTooLargeError,
    "malformed": errors.MalformedError,
    "unknown_opcode": errors.UnknownOpcodeError,
    "unsupported_version": errors.UnsupportedVersionError,
}

REQUEST_CLASSES = {"PING": codec.Ping, "AUTH": codec.Auth, "LOGIN": codec.Login, "VALIDATE": codec.Validate,
                   "REFRESH": codec.Refresh, "REVOKE": codec.Revoke, "REVOKE_USER": codec.RevokeUser,
                   "DECRYPT": codec.Decrypt, "VERIFY_SIGNATURE": codec.VerifySignature,
                   "PHONE_NUMBER": codec.PhoneNumber, "CHECK_SESSION_KEY": codec.CheckSessionKey,
                   "RESET_SESSION_KEY": codec.ResetSessionKey}


def _ids(entries):
    return [e["name"] for e in entries]


def request_from_decoded(decoded):
    """Builds the request object from a vector's `decoded` dict (independently of the decoder)."""
    fields = {k: v for k, v in decoded.items() if k not in ("request_id", "op")}
    if "proof_hex" in fields:
        fields["proof"] = bytes.fromhex(fields.pop("proof_hex"))
    return REQUEST_CLASSES[decoded["op"]](**fields)


def session_from(d):
    return codec.Session(**d)


def body_from_decoded(decoded):
    """The response body object for a vector's `decoded` dict."""
    status = codec.Status[decoded["status"]]
    f = {k: v for k, v in decoded.items() if k not in ("request_id", "op", "status")}
    if status != codec.Status.OK:
        return codec.ErrorBody(status, **f)
    op = codec.Op[decoded["op"]]
    if op == codec.Op.HELLO:
        return codec.Hello(f["flags"], bytes.fromhex(f["nonce_hex"]), f["max_frame"])
    if op == codec.Op.PING:
        return codec.Pong(f["server_time"])
    if op == codec.Op.AUTH:
        return codec.AuthResult(f["permissions"])
    if op in (codec.Op.LOGIN, codec.Op.REFRESH):
        return codec.TokenResult(f["token"], session_from(f["session"]))
    if op == codec.Op.VALIDATE:
        return codec.SessionResult(session_from(f["session"]))
    if op in (codec.Op.REVOKE, codec.Op.VERIFY_SIGNATURE, codec.Op.RESET_SESSION_KEY):
        return codec.Empty()
    if op == codec.Op.DECRYPT:
        return codec.DecryptResult(f["data"])
    if op == codec.Op.PHONE_NUMBER:
        return codec.PhoneNumberResult(**f)
    if op == codec.Op.CHECK_SESSION_KEY:
        return codec.SessionKeyCheck(f["current"])
    return codec.RevokedCount(f["revoked"])


def test_vector_file_is_complete():
    assert VECTORS["protocol_version"] == codec.VERSION
    assert len(VECTORS["requests"]) >= 8 and len(VECTORS["responses"]) >= 20 and len(VECTORS["invalid"]) >= 9


def test_opcode_and_status_tables_match():
    assert VECTORS["opcodes"] == {op.name: op.value for op in codec.Op}
    assert VECTORS["statuses"] == {s.name: s.value for s in codec.Status}
    assert VECTORS["decrypt_failure_reasons"] == codec.DECRYPT_REASON_CODES


@pytest.mark.parametrize("vector", VECTORS["requests"], ids=_ids(VECTORS["requests"]))
def test_request_encodes_to_exact_hex(vector):
    decoded = vector["decoded"]
    frame = codec.encode_request(decoded["request_id"], request_from_decoded(decoded))
    assert frame.hex() == vector["hex"]


@pytest.mark.parametrize("vector", VECTORS["requests"], ids=_ids(VECTORS["requests"]))
def test_request_decodes(vector):
    assert codec.decode_request(bytes.fromhex(vector["hex"])).as_dict() == vector["decoded"]


@pytest.mark.parametrize("vector", VECTORS["responses"], ids=_ids(VECTORS["responses"]))
def test_response_decodes(vector):
    decoded = vector["decoded"]
    response = codec.decode_response(bytes.fromhex(vector["hex"]), codec.Op[decoded["op"]])
    assert response.as_dict() == decoded


@pytest.mark.parametrize("vector", VECTORS["responses"], ids=_ids(VECTORS["responses"]))
def test_response_encodes_to_exact_hex(vector):
    decoded = vector["decoded"]
    assert codec.encode_response(decoded["request_id"], body_from_decoded(decoded)).hex() == vector["hex"]


@pytest.mark.parametrize("vector", VECTORS["responses"], ids=_ids(VECTORS["responses"]))
def test_response_through_incremental_decoder_byte_by_byte(vector):
    data = bytes.fromhex(vector["hex"])
    dec = codec.FrameDecoder()
    frames = []
    for i in range(len(data)):
        dec.feed(data[i:i + 1])
        frames.extend(dec)
    assert len(frames) == 1 and dec.buffered == 0
    decoded = vector["decoded"]
    assert codec.decode_response(frames[0], codec.Op[decoded["op"]]).as_dict() == decoded


@pytest.mark.parametrize("vector", [v for v in VECTORS["responses"] if v["decoded"]["status"] != "OK"],
                         ids=_ids([v for v in VECTORS["responses"] if v["decoded"]["status"] != "OK"]))
def test_error_response_raises_typed_exception(vector):
    decoded = vector["decoded"]
    response = codec.decode_response(bytes.fromhex(vector["hex"]), codec.Op[decoded["op"]])
    with pytest.raises(errors.ServerError) as info:
        response.unwrap()
    exc = info.value
    assert exc.status == codec.Status[decoded["status"]]
    assert exc.message == decoded["message"]
    assert exc.request_id == decoded["request_id"]
    for name in ("errcode", "retry_after_ms", "supported", "max_frame"):
        if name in decoded:
            assert getattr(exc, name) == decoded[name]


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=_ids(VECTORS["invalid"]))
def test_invalid_vector_raises_named_error(vector):
    cls = INVALID_ERRORS[vector["expect"]]
    with pytest.raises(cls) as info:
        codec.decode_request(bytes.fromhex(vector["hex"]))
    assert info.value.code == vector["expect"]


@pytest.mark.parametrize("vector", [v for v in VECTORS["invalid"] if v["expect"].startswith("frame_")],
                         ids=_ids([v for v in VECTORS["invalid"] if v["expect"].startswith("frame_")]))
def test_invalid_length_detected_from_prefix_alone(vector):
    """A bad length prefix is reported as soon as its 4 bytes arrive, before any body byte is waited for."""
    dec = codec.FrameDecoder()
    dec.feed(bytes.fromhex(vector["hex"])[:4])
    with pytest.raises(INVALID_ERRORS[vector["expect"]]):
        dec.next_frame()


@pytest.mark.parametrize("vector", VECTORS["unknown_statuses"], ids=_ids(VECTORS["unknown_statuses"]))
def test_unknown_status_reads_its_message_and_skips_the_rest(vector):
    expected = vector["decoded"]
    response = codec.decode_response(bytes.fromhex(vector["hex"]), codec.Op.VALIDATE)
    assert response.request_id == expected["request_id"] and response.status == expected["status_code"]
    assert response.error.message == expected["message"]
    with pytest.raises(errors.UnknownStatus) as info:
        response.unwrap()
    assert not info.value.retryable


@pytest.mark.parametrize("vector", VECTORS["auth_proofs"], ids=[v["secret"][:8] for v in VECTORS["auth_proofs"]])
def test_auth_proof_uses_the_secret_as_utf8(vector):
    assert codec.auth_proof(vector["secret"], bytes.fromhex(vector["nonce_hex"])).hex() == vector["proof_hex"]
