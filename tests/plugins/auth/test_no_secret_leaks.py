"""No secret the flow creates shows up in a later response or in any log line."""

from __future__ import annotations

import logging

from auth_helpers import PASSWORD, bearer, mailed_token, wait_for_mail

from agentvault_registry.core.appkeys import STORAGE


async def test_secrets_stay_out_of_responses_and_logs(auth_client, caplog):
    caplog.set_level(logging.DEBUG)
    client = auth_client
    secrets: list[str] = [PASSWORD]
    later_responses: list[str] = []

    async def call(method, path, **kwargs):
        response = await client.request(method, path, **kwargs)
        text = await response.text()
        later_responses.append(text)
        return response, text

    await call(
        "POST",
        "/api/v1/auth/register",
        json={"email": "ada@example.org", "username": "ada", "password": PASSWORD},
    )
    await wait_for_mail(client.app, 1)
    verify_token = mailed_token(client.app, "verify-email")
    secrets.append(verify_token)
    await call("POST", "/api/v1/auth/verify-email", json={"token": verify_token})

    response = await client.post(
        "/api/v1/auth/login", json={"username": "ada", "password": PASSWORD}
    )
    pair = await response.json()
    secrets += [pair["access_token"], pair["refresh_token"]]
    response = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    rotated = await response.json()
    secrets += [rotated["access_token"], rotated["refresh_token"]]
    token = rotated["access_token"]

    response = await client.post(
        "/api/v1/auth/api-keys",
        json={"name": "ci", "scopes": ["agents:read"]},
        headers=bearer(token),
    )
    key = (await response.json())["key"]
    secrets.append(key)

    await call("GET", "/api/v1/auth/me", headers=bearer(token))
    await call("GET", "/api/v1/auth/me", headers={"X-API-Key": key})
    await call("GET", "/api/v1/auth/api-keys", headers=bearer(token))
    await call(
        "POST", "/api/v1/auth/login", json={"username": "ada", "password": "wrong " + PASSWORD}
    )
    await call("POST", "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    await call("POST", "/api/v1/auth/recover", json={"email": "ada@example.org"})
    await wait_for_mail(client.app, 2)
    reset_token = mailed_token(client.app, "reset-password")
    secrets.append(reset_token)
    new_password = "recovered passphrase 99"
    secrets.append(new_password)
    await call(
        "POST",
        "/api/v1/auth/recover/confirm",
        json={"token": reset_token, "new_password": new_password},
    )

    user = await client.app[STORAGE].records.find_user_by_login("ada")
    secrets.append(user.password_hash)

    logs = caplog.text + "\n".join(record.getMessage() for record in caplog.records)
    assert "ada@example.org" in logs  # the mail summary was logged, so logs were captured
    for secret in secrets:
        assert secret not in logs, f"a secret ({secret[:6]}...) appears in the logs"
        for text in later_responses:
            assert secret not in text, f"a secret ({secret[:6]}...) appears in a response"
