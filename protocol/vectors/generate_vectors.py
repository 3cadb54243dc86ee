#!/usr/bin/env python3
"""Writes protocol/vectors/vectors.json from an encoder that shares no code with any client.

Run: python3 protocol/vectors/generate_vectors.py  (rewrites vectors.json next to this file)

Every entry has `hex` (a complete frame, length prefix included) and `decoded` (its meaning).
Request entries: decoded = {"request_id", "op", ...fields}.
Response entries: decoded = {"request_id", "op" (the request's opcode), "status", ...fields}.
Invalid entries: the `expect` field names what a decoder must report (see vectors.json "invalid").
"""
import hashlib
import hmac
import json
import os
import struct

VERSION = 1
OPS = {"PING": 0x01, "AUTH": 0x02, "LOGIN": 0x10, "VALIDATE": 0x11, "REFRESH": 0x12, "REVOKE": 0x13,
       "REVOKE_USER": 0x14, "HELLO": 0x00, "DECRYPT": 0x20, "VERIFY_SIGNATURE": 0x21, "PHONE_NUMBER": 0x22,
       "CHECK_SESSION_KEY": 0x23, "RESET_SESSION_KEY": 0x24}
STATUS = {"OK": 0x00, "MALFORMED_REQUEST": 0x01, "UNSUPPORTED_VERSION": 0x02, "UNKNOWN_OPCODE": 0x03,
          "FRAME_TOO_LARGE": 0x04, "INVALID_TOKEN": 0x10, "TOKEN_EXPIRED": 0x11, "TOKEN_REVOKED": 0x12,
          "UNKNOWN_APP": 0x13, "WECHAT_REJECTED": 0x20, "WECHAT_UNAVAILABLE": 0x21, "RATE_LIMITED": 0x30,
          "SERVER_FULL": 0x31, "NOT_AUTHORIZED": 0x32, "SHUTTING_DOWN": 0x33, "STORE_UNAVAILABLE": 0x34,
          "INTERNAL_ERROR": 0x3F,
          "DECRYPT_FAILED": 0x14, "SIGNATURE_MISMATCH": 0x15}
# DECRYPT_FAILED reason byte.
DECRYPT_REASONS = {"bad_base64": 1, "bad_key_length": 2, "bad_iv_length": 3, "bad_padding_or_key": 4,
                   "appid_mismatch": 5, "stale_watermark": 6}


def s(text):
    b = text.encode("utf-8")
    return struct.pack(">H", len(b)) + b


def by(data):
    return struct.pack(">H", len(data)) + data


def frame(kind, request_id, body=b"", version=VERSION):
    inner = struct.pack(">BBI", version, kind, request_id) + body
    return struct.pack(">I", len(inner)) + inner


def session(d):
    return (s(d["app_id"]) + s(d["openid"]) + s(d["unionid"]) +
            struct.pack(">qqq", d["created_at"], d["expires_at"], d["absolute_expires_at"]))


TOKEN_A = "AV9kZXYtcmFuZG9tLWJ5dGVzLXRhZy10YWctdGFnLXRhZw"[:44]
TOKEN_B = "Ab7-QyZ3_0k1lm2Nn3Oo4Pp5Qq6Rr7Ss8Tt9Uu0Vv1Ww2"[:44]
SESSION = {"app_id": "wx1234567890abcdef", "openid": "oQz5o5Mxd3oyEXAMPLEopenid01",
           "unionid": "", "created_at": 1764160000000, "expires_at": 1764161800000,
           "absolute_expires_at": 1764203200000}
# User data examples (WeChat's documented sample shapes; not real secrets).
ENC_DATA = "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142d"
IV_B64 = "r7BXXKkLb8qrSNn05n0qiA=="
RAW_DATA = '{"nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"CN"}'
SIG = "75e81ceda165f4ffa64f4068af58c64b8f54b88c"
PLAIN_JSON = '{"openId":"oGZUI0egBJY1zhBYw2KhdUfwVJJE","nickName":"Band","watermark":{"timestamp":1477314187,"appid":"wx4f4bc4dec97d474b"}}'
SESSION_U = dict(SESSION, unionid="o6_bmasdasdsad6_2sgVt7hMZOPfL", openid="oUnicode用户")


def main():
    requests = [
        ("ping", "PING", 1, {}, b""),
        ("auth", "AUTH", 2, {"caller_id": "orders-api", "proof_hex": "ab" * 32},
         s("orders-api") + by(bytes.fromhex("ab" * 32))),
        ("login", "LOGIN", 3, {"app_id": "wx1234567890abcdef", "code": "081Kq4Ga1aBcDe0kEXAMPLEcode"},
         s("wx1234567890abcdef") + s("081Kq4Ga1aBcDe0kEXAMPLEcode")),
        ("login_unicode_code", "LOGIN", 0xFFFFFFFF, {"app_id": "wx1", "code": "c+ode/é"},
         s("wx1") + s("c+ode/é")),
        ("validate", "VALIDATE", 7, {"token": TOKEN_A}, s(TOKEN_A)),
        ("refresh", "REFRESH", 8, {"token": TOKEN_A}, s(TOKEN_A)),
        ("revoke", "REVOKE", 9, {"token": TOKEN_B}, s(TOKEN_B)),
        ("revoke_user", "REVOKE_USER", 10, {"app_id": "wx1234567890abcdef", "openid": SESSION["openid"]},
         s("wx1234567890abcdef") + s(SESSION["openid"])),
        # User data (appended; the entries above are unchanged).
        ("decrypt", "DECRYPT", 25, {"token": TOKEN_A, "encrypted_data": ENC_DATA, "iv": IV_B64},
         s(TOKEN_A) + s(ENC_DATA) + s(IV_B64)),
        ("verify_signature", "VERIFY_SIGNATURE", 26, {"token": TOKEN_A, "raw_data": RAW_DATA, "signature": SIG},
         s(TOKEN_A) + s(RAW_DATA) + s(SIG)),
        ("verify_signature_empty_raw", "VERIFY_SIGNATURE", 27, {"token": TOKEN_A, "raw_data": "", "signature": SIG},
         s(TOKEN_A) + s("") + s(SIG)),
        ("phone_number", "PHONE_NUMBER", 28, {"token": TOKEN_A, "code": "e31968a7f94cc5ee25fafc2aef2773f0bb8c3937b22520eb8ee345274d00c144"},
         s(TOKEN_A) + s("e31968a7f94cc5ee25fafc2aef2773f0bb8c3937b22520eb8ee345274d00c144")),
        ("check_session_key", "CHECK_SESSION_KEY", 29, {"token": TOKEN_A}, s(TOKEN_A)),
        ("reset_session_key", "RESET_SESSION_KEY", 30, {"token": TOKEN_B}, s(TOKEN_B)),
    ]
    responses = [
        ("hello_open", "HELLO", 0, "OK", {"flags": 0, "nonce_hex": "00" * 32, "max_frame": 65536},
         struct.pack(">B", 0) + by(bytes(32)) + struct.pack(">I", 65536)),
        ("hello_auth_required", "HELLO", 0, "OK",
         {"flags": 1, "nonce_hex": bytes(range(32)).hex(), "max_frame": 1048576},
         struct.pack(">B", 1) + by(bytes(range(32))) + struct.pack(">I", 1048576)),
        ("ping_ok", "PING", 1, "OK", {"server_time": 1764160000123}, struct.pack(">q", 1764160000123)),
        ("auth_ok", "AUTH", 2, "OK", {"permissions": 63}, struct.pack(">I", 63)),
        ("login_ok", "LOGIN", 3, "OK", {"token": TOKEN_A, "session": SESSION}, s(TOKEN_A) + session(SESSION)),
        ("validate_ok_unionid", "VALIDATE", 7, "OK", {"session": SESSION_U}, session(SESSION_U)),
        ("refresh_ok", "REFRESH", 8, "OK", {"token": TOKEN_B, "session": SESSION}, s(TOKEN_B) + session(SESSION)),
        ("revoke_ok", "REVOKE", 9, "OK", {}, b""),
        ("revoke_user_ok", "REVOKE_USER", 10, "OK", {"revoked": 3}, struct.pack(">I", 3)),
        ("malformed", "LOGIN", 11, "MALFORMED_REQUEST", {"message": "app_id: string longer than 64 bytes"},
         s("app_id: string longer than 64 bytes")),
        ("unsupported_version", "PING", 12, "UNSUPPORTED_VERSION",
         {"supported": 1, "message": "protocol version 9 is not supported"},
         s("protocol version 9 is not supported") + struct.pack(">B", 1)),
        ("unknown_opcode", "PING", 13, "UNKNOWN_OPCODE", {"message": "unknown opcode 0x7f"}, s("unknown opcode 0x7f")),
        ("frame_too_large", "PING", 0, "FRAME_TOO_LARGE",
         {"max_frame": 65536, "message": "frame of 4294967295 bytes exceeds the limit"},
         s("frame of 4294967295 bytes exceeds the limit") + struct.pack(">I", 65536)),
        ("invalid_token", "VALIDATE", 14, "INVALID_TOKEN", {"message": "unknown token"}, s("unknown token")),
        ("token_expired", "VALIDATE", 15, "TOKEN_EXPIRED", {"message": "session expired"}, s("session expired")),
        ("token_revoked", "REFRESH", 16, "TOKEN_REVOKED", {"message": "session revoked"}, s("session revoked")),
        ("unknown_app", "LOGIN", 17, "UNKNOWN_APP", {"message": "app wxnope is not configured"},
         s("app wxnope is not configured")),
        ("wechat_rejected", "LOGIN", 18, "WECHAT_REJECTED",
         {"errcode": 40163, "message": "code been used, rid: 6502c5f4-1b2e1f0a"},
         s("code been used, rid: 6502c5f4-1b2e1f0a") + struct.pack(">i", 40163)),
        ("wechat_unavailable", "LOGIN", 19, "WECHAT_UNAVAILABLE",
         {"errcode": -1, "message": "system error"}, s("system error") + struct.pack(">i", -1)),
        ("rate_limited", "LOGIN", 20, "RATE_LIMITED",
         {"retry_after_ms": 60000, "errcode": 45011, "message": "api minute-quota reach limit"},
         s("api minute-quota reach limit") + struct.pack(">Ii", 60000, 45011)),
        ("server_full", "LOGIN", 21, "SERVER_FULL", {"message": "session capacity reached"},
         s("session capacity reached")),
        ("not_authorized", "LOGIN", 22, "NOT_AUTHORIZED", {"message": "caller may not LOGIN"},
         s("caller may not LOGIN")),
        ("shutting_down", "VALIDATE", 23, "SHUTTING_DOWN", {"message": "server is shutting down"},
         s("server is shutting down")),
        ("internal_error", "LOGIN", 24, "INTERNAL_ERROR", {"message": "internal error"}, s("internal error")),
        # User data (appended).
        ("decrypt_ok", "DECRYPT", 25, "OK", {"data": PLAIN_JSON}, s(PLAIN_JSON)),
        ("verify_signature_ok", "VERIFY_SIGNATURE", 26, "OK", {}, b""),
        ("phone_number_ok", "PHONE_NUMBER", 28, "OK",
         {"phone_number": "13800138000", "pure_phone_number": "13800138000", "country_code": "86"},
         s("13800138000") + s("13800138000") + s("86")),
        ("check_session_key_current", "CHECK_SESSION_KEY", 29, "OK", {"current": True}, struct.pack(">B", 1)),
        ("check_session_key_stale", "CHECK_SESSION_KEY", 29, "OK", {"current": False}, struct.pack(">B", 0)),
        ("reset_session_key_ok", "RESET_SESSION_KEY", 30, "OK", {}, b""),
        ("decrypt_failed_padding", "DECRYPT", 25, "DECRYPT_FAILED",
         {"reason": "bad_padding_or_key", "message": "cannot decrypt with the current session_key; log in again"},
         s("cannot decrypt with the current session_key; log in again") +
         struct.pack(">B", DECRYPT_REASONS["bad_padding_or_key"])),
        ("decrypt_failed_appid", "DECRYPT", 25, "DECRYPT_FAILED",
         {"reason": "appid_mismatch", "message": "watermark names another app"},
         s("watermark names another app") + struct.pack(">B", DECRYPT_REASONS["appid_mismatch"])),
        ("decrypt_failed_stale", "DECRYPT", 25, "DECRYPT_FAILED",
         {"reason": "stale_watermark", "message": "watermark too old"},
         s("watermark too old") + struct.pack(">B", DECRYPT_REASONS["stale_watermark"])),
        ("signature_mismatch", "VERIFY_SIGNATURE", 26, "SIGNATURE_MISMATCH",
         {"message": "signature does not match rawData"}, s("signature does not match rawData")),
        ("phone_number_rejected", "PHONE_NUMBER", 28, "WECHAT_REJECTED",
         {"errcode": 40029, "message": "invalid code"}, s("invalid code") + struct.pack(">i", 40029)),
        # Persistence (appended).
        ("store_unavailable", "LOGIN", 31, "STORE_UNAVAILABLE",
         {"message": "the session store cannot keep changes right now"},
         s("the session store cannot keep changes right now")),
        # Spec answers of 2026-12-01 (appended).
        ("auth_ok_validate_only", "AUTH", 2, "OK", {"permissions": 5}, struct.pack(">I", 5)),
        ("auth_ok_open_server", "AUTH", 2, "OK", {"permissions": 2047}, struct.pack(">I", 2047)),
        ("rate_limited_own_limit", "LOGIN", 32, "RATE_LIMITED",
         {"retry_after_ms": 1500, "errcode": 0, "message": "too many logins for this user"},
         s("too many logins for this user") + struct.pack(">Ii", 1500, 0)),
        ("malformed_request_id_zero", "PING", 0, "MALFORMED_REQUEST",
         {"message": "request id 0 is reserved for the server's own frames"},
         s("request id 0 is reserved for the server's own frames")),
        ("frame_too_short", "PING", 0, "MALFORMED_REQUEST",
         {"message": "frame length 5 is shorter than the 6-byte header"},
         s("frame length 5 is shorter than the 6-byte header")),
        ("shutting_down_in_flight", "LOGIN", 33, "SHUTTING_DOWN",
         {"message": "server is shutting down; retry on another server"},
         s("server is shutting down; retry on another server")),
    ]
    # Statuses a decoder does not know: every error body starts with `message str`; what follows is skipped.
    unknown_statuses = [
        ("unknown_status_message_only", 0x3E, 34, s("a status from a later version"), "a status from a later version"),
        ("unknown_status_with_fields", 0x35, 35, s("later fields follow") + struct.pack(">IB", 1234, 7),
         "later fields follow"),
    ]
    # Server behaviour: a conversation on one connection, run against a real server (the Swift suite does).
    # Steps: send (hex frame), send_auth (AUTH computed from this connection's HELLO nonce), expect (the next
    # frame's request id and status, plus permissions for an AUTH answer), expect_close (the server hangs up).
    # A send_auth with `then` writes those frames in the same write as the AUTH (pipelined behind it).
    gateway = {"id": "gateway", "secret": "gateway-secret-0123456789abcdef", "permissions": ["VALIDATE"]}
    admin = {"id": "admin", "secret": "admin-secret-0123456789abcdefgh", "permissions": ["ALL"]}
    secured = [gateway, admin]

    def send(kind, rid, body=b"", version=VERSION):
        return {"send": frame(kind, rid, body, version).hex()}

    def expect(rid, status, **extra):
        return {"expect": dict(request_id=rid, status=status, **extra)}

    def auth(caller, rid, secret=None):
        return {"send_auth": {"caller_id": caller["id"], "secret": secret or caller["secret"], "request_id": rid}}

    close = {"expect_close": True}
    exchanges = [
        ("request_id_zero_is_refused_and_closes", [],
         [send(0x01, 0), expect(0, "MALFORMED_REQUEST"), close]),
        ("length_below_six_is_refused_with_id_zero", [],
         [{"send": "000000050101000000"}, expect(0, "MALFORMED_REQUEST"), close]),
        ("length_over_max_frame_is_refused_with_id_zero", [],
         [{"send": "ffffffff0101"}, expect(0, "FRAME_TOO_LARGE"), close]),
        ("unsupported_version_echoes_the_request_id_and_keeps_the_connection", [],
         [send(0x01, 5, version=9), expect(5, "UNSUPPORTED_VERSION"), send(0x01, 6), expect(6, "OK")]),
        ("unknown_opcode_keeps_the_connection", [],
         [send(0x7F, 7), expect(7, "UNKNOWN_OPCODE"), send(0x01, 8), expect(8, "OK")]),
        ("malformed_request_keeps_the_connection", [],
         [send(0x11, 9, s("")), expect(9, "MALFORMED_REQUEST"), send(0x01, 10), expect(10, "OK")]),
        ("open_server_answers_one_auth_with_every_permission", [],
         [auth(gateway, 1), expect(1, "OK", permissions=2047), auth(gateway, 2), expect(2, "NOT_AUTHORIZED"),
          send(0x01, 3), expect(3, "OK")]),
        ("before_auth_a_request_is_not_authorized_and_closes", secured,
         [send(0x01, 1), expect(1, "NOT_AUTHORIZED"), close]),
        ("before_auth_a_malformed_auth_is_malformed_and_closes", secured,
         [send(0x02, 1, s("gateway") + by(b"\x01" * 31)), expect(1, "MALFORMED_REQUEST"), close]),
        ("before_auth_an_unknown_opcode_closes", secured,
         [send(0x7F, 1), expect(1, "UNKNOWN_OPCODE"), close]),
        ("before_auth_an_unsupported_version_closes", secured,
         [send(0x02, 1, version=9), expect(1, "UNSUPPORTED_VERSION"), close]),
        ("auth_with_a_wrong_secret_closes", secured,
         [auth(gateway, 1, secret="not-the-gateway-secret-0123456789"), expect(1, "NOT_AUTHORIZED"), close]),
        ("auth_answers_the_callers_permissions_plus_ping", secured,
         [auth(gateway, 1), expect(1, "OK", permissions=5)]),
        ("a_second_auth_is_refused_and_switches_nothing", secured,
         [auth(gateway, 1), expect(1, "OK", permissions=5), auth(admin, 2), expect(2, "NOT_AUTHORIZED"),
          send(0x13, 3, s(TOKEN_A)), expect(3, "NOT_AUTHORIZED"), send(0x01, 4), expect(4, "OK")]),
        ("the_body_is_parsed_before_the_permission_is_checked", secured,
         [auth(gateway, 1), expect(1, "OK", permissions=5), send(0x13, 2, s("")), expect(2, "MALFORMED_REQUEST"),
          send(0x13, 3, s(TOKEN_A)), expect(3, "NOT_AUTHORIZED")]),
        ("requests_pipelined_behind_auth_run_with_its_result", secured,
         [{"send_auth": {"caller_id": gateway["id"], "secret": gateway["secret"], "request_id": 1,
                         "then": frame(0x13, 2, s(TOKEN_A)).hex() + frame(0x01, 3, b"").hex()}},
          expect(1, "OK", permissions=5), expect(2, "NOT_AUTHORIZED"), expect(3, "OK")]),
    ]
    # DECRYPT's base64 tolerance: `text` as a mini program may send it, `hex` what it decodes to (null: bad_base64).
    base64_inputs = [
        ("plain", "r7BXXKkLb8qrSNn05n0qiA==", "afb0575ca90b6fcaab48d9f4e67d2a88"),
        ("missing_padding", "r7BXXKkLb8qrSNn05n0qiA", "afb0575ca90b6fcaab48d9f4e67d2a88"),
        ("plus_turned_space", "AAAA +//", "000000fbefff"),
        ("lf_wrapped", "r7BXXKkLb8qr\nSNn05n0qiA==\n", "afb0575ca90b6fcaab48d9f4e67d2a88"),
        ("crlf_wrapped_mime", "r7BXXKkLb8qr\r\nSNn05n0qiA==\r\n", "afb0575ca90b6fcaab48d9f4e67d2a88"),
        ("cr_and_tab", "r7BXXKkLb8qr\rSNn05n0\tqiA==", "afb0575ca90b6fcaab48d9f4e67d2a88"),
        ("url_safe_alphabet_refused", "r7BXXKkLb8qrSNn05n0qiA-_", None),
        ("not_base64", "not*base64", None),
        ("one_char_over_a_group", "QUJDR", None),
    ]
    mime = "".join(chr(0x41 + (i % 26)) for i in range(100))  # 100 bytes: 136 base64 chars, wrapped at 76
    import base64 as _b64
    encoded = _b64.b64encode(mime.encode()).decode()
    base64_inputs.append(("crlf_every_76_characters", encoded[:76] + "\r\n" + encoded[76:] + "\r\n",
                          mime.encode().hex()))
    # DECRYPT's watermark age, in whole seconds: age = floor(now_ms / 1000) - timestamp; refused when age > max.
    watermark_ages = [
        {"timestamp": 1764160000, "now_ms": 1764160001999, "max_age_seconds": 1, "accepted": True},
        {"timestamp": 1764160000, "now_ms": 1764160002000, "max_age_seconds": 1, "accepted": False},
        {"timestamp": 1764160000, "now_ms": 1764160000000, "max_age_seconds": 0, "accepted": True},
        {"timestamp": 1764160000, "now_ms": 1764160000999, "max_age_seconds": 0, "accepted": True},
        {"timestamp": 1764160000, "now_ms": 1764160001000, "max_age_seconds": 0, "accepted": False},
        {"timestamp": 1764160005, "now_ms": 1764160000000, "max_age_seconds": 1, "accepted": True},
        {"timestamp": 1764159700, "now_ms": 1764160000500, "max_age_seconds": 300, "accepted": True},
        {"timestamp": 1764159699, "now_ms": 1764160000500, "max_age_seconds": 300, "accepted": False},
    ]
    invalid = [
        # A decoder given these bytes must report the named error (and must not read past them).
        {"name": "length_below_header", "hex": "000000050111000000",
         "expect": "frame_too_short"},
        {"name": "length_too_large", "hex": "ffffffff01110000000700", "expect": "frame_too_large"},
        {"name": "string_longer_than_body", "hex": frame(0x11, 5, struct.pack(">H", 10) + b"abc").hex(),
         "expect": "malformed"},
        {"name": "trailing_bytes", "hex": frame(0x01, 6, b"\x00").hex(), "expect": "malformed"},
        {"name": "invalid_utf8", "hex": frame(0x11, 7, struct.pack(">H", 2) + b"\xc3\x28").hex(),
         "expect": "malformed"},
        {"name": "empty_token", "hex": frame(0x11, 8, struct.pack(">H", 0)).hex(), "expect": "malformed"},
        {"name": "unknown_opcode", "hex": frame(0x7F, 9, b"").hex(), "expect": "unknown_opcode"},
        {"name": "unknown_version", "hex": frame(0x01, 10, b"", version=9).hex(), "expect": "unsupported_version"},
        {"name": "auth_proof_wrong_length", "hex": frame(0x02, 11, s("svc") + by(b"\x01" * 31)).hex(),
         "expect": "malformed"},
        {"name": "decrypt_iv_too_long", "hex": frame(0x20, 12, s(TOKEN_A) + s("d") + s("x" * 65)).hex(),
         "expect": "malformed"},
        {"name": "verify_signature_missing_field", "hex": frame(0x21, 13, s(TOKEN_A) + s("{}")).hex(),
         "expect": "malformed"},
    ]
    # AUTH proofs: HMAC-SHA256 keyed with the caller secret's UTF-8 bytes (never hex-decoded) over
    # "wxauth-auth-v1" || nonce.
    proofs = []
    for secret, nonce in [("gateway-secret-0123456789abcdef", bytes(range(32))),
                          ("00112233445566778899aabbccddeeff", bytes(32)),
                          ("密钥-secret-with-utf8-0123456789", bytes([0xFF] * 32))]:
        proof = hmac.new(secret.encode("utf-8"), b"wxauth-auth-v1" + nonce, hashlib.sha256).digest()
        proofs.append({"secret": secret, "nonce_hex": nonce.hex(), "proof_hex": proof.hex()})
    out = {
        "protocol_version": VERSION,
        "opcodes": {k: v for k, v in OPS.items()},
        "statuses": STATUS,
        "decrypt_failure_reasons": DECRYPT_REASONS,
        "requests": [{"name": n, "hex": frame(OPS[op], rid, body).hex(), "decoded": dict(request_id=rid, op=op, **d)}
                     for (n, op, rid, d, body) in requests],
        "responses": [{"name": n, "hex": frame(STATUS[st], rid, body).hex(),
                       "decoded": dict(request_id=rid, op=op, status=st, **d)}
                      for (n, op, rid, st, d, body) in responses],
        "invalid": invalid,
        "unknown_statuses": [{"name": n, "hex": frame(code, rid, body).hex(),
                              "decoded": {"request_id": rid, "status_code": code, "message": message}}
                             for (n, code, rid, body, message) in unknown_statuses],
        "exchanges": [{"name": n, "callers": callers, "steps": steps} for (n, callers, steps) in exchanges],
        "base64": [{"name": n, "text": text, "hex": hx} for (n, text, hx) in base64_inputs],
        "watermark_ages": watermark_ages,
        "auth_proofs": proofs,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
