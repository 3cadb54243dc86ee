"""DECRYPT, VERIFY_SIGNATURE, PHONE_NUMBER, CHECK_SESSION_KEY and RESET_SESSION_KEY against a real `wxauthd --dev`
(its simulator encrypts user data with each user's current session_key and issues phone codes)."""
import asyncio

import pytest

import support
from wxauth import AsyncClient, Client, errors

pytestmark = pytest.mark.integration


def sim(wxauthd, path, body):
    status, _, answer = support.http_json("POST", f"{wxauthd.simulator}{path}", body)
    assert status == 200, answer
    return answer


def user_info(wxauthd, user="alice"):
    return sim(wxauthd, "/sim/encrypt", {"appid": wxauthd.dev_app_id, "user": user,
                                          "data": {"nickName": "Alice", "city": "Guangzhou"}})


def test_decrypt_signature_and_key_rotation(wxauthd):
    with Client(wxauthd.host, wxauthd.port, timeout=10) as client:
        older = client.login(wxauthd.dev_app_id, wxauthd.mint_code("py-ud"))
        issued = client.login(wxauthd.dev_app_id, wxauthd.mint_code("py-ud"))  # WeChat replaces the session_key
        info = user_info(wxauthd, "py-ud")
        data = client.decrypt(issued.token, info["encryptedData"], info["iv"])
        assert '"nickName":"Alice"' in data and wxauthd.dev_app_id in data
        # A `+` turned into a space on the way is tolerated.
        assert client.decrypt(issued.token, info["encryptedData"].replace("+", " "), info["iv"]) == data
        with pytest.raises(errors.DecryptFailed) as raised:
            client.decrypt(older.token, info["encryptedData"], info["iv"])
        assert raised.value.reason == "bad_padding_or_key" and not raised.value.retryable
        assert "log in again" in raised.value.message
        with pytest.raises(errors.DecryptFailed) as raised:
            client.decrypt(issued.token, info["encryptedData"], "AAAA")
        assert raised.value.reason == "bad_iv_length"

        client.verify_signature(issued.token, info["rawData"], info["signature"])
        bad = ("0" if info["signature"][0] != "0" else "1") + info["signature"][1:]
        with pytest.raises(errors.SignatureMismatch):
            client.verify_signature(issued.token, info["rawData"], bad)

        assert client.check_session_key(issued.token) is True
        assert client.check_session_key(older.token) is False
        client.reset_session_key(issued.token)
        assert client.check_session_key(issued.token) is True
        fresh = user_info(wxauthd, "py-ud")
        assert "Guangzhou" in client.decrypt(issued.token, fresh["encryptedData"], fresh["iv"])


def test_phone_number_async(wxauthd):
    async def run():
        async with AsyncClient(wxauthd.host, wxauthd.port, timeout=10) as client:
            issued = await client.login(wxauthd.dev_app_id, wxauthd.mint_code("py-phone"))
            codes = [sim(wxauthd, "/sim/phone-code", {"appid": wxauthd.dev_app_id, "user": "py-phone",
                                                      "phone": f"+86 1380013800{i}"})["code"] for i in range(5)]
            phones = await asyncio.gather(*(client.phone_number(issued.token, c) for c in codes))
            assert [p.pure_phone_number for p in phones] == [f"1380013800{i}" for i in range(5)]
            assert phones[0].country_code == "86"
            with pytest.raises(errors.WeChatRejected) as raised:
                await client.phone_number(issued.token, codes[0])  # single use
            assert raised.value.errcode == 40163

    asyncio.run(run())
