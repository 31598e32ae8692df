"""`wardbot zalo connect` and GET /zalo/oauth/callback: consent with PKCE, tokens stored."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.storage.database import Database
from app.storage.tokens import DatabaseTokenStore
from tests.conftest import RunningApp
from tests.support.fake_zalo import FakeZalo

pytestmark = pytest.mark.anyio


def _connect(
    running: RunningApp, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str
) -> dict[str, str]:
    settings = running.services.settings
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name, value in {
        "DATABASE_URL": settings.database_url,
        "ZALO_APP_ID": settings.zalo_app_id,
        "ZALO_OAUTH_BASE_URL": settings.zalo_oauth_base_url,
        "ZALO_OAUTH_REDIRECT_URI": "https://ward.example/zalo/oauth/callback",
    }.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["zalo", "connect", *args])
    assert result.exit_code == 0, result.output
    url = urlsplit(result.output.strip())
    assert url.path == "/v4/oa/permission"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["redirect_uri"] == "https://ward.example/zalo/oauth/callback"
    assert "code_challenge_method" not in query
    return query


async def test_consent_then_callback_stores_the_pair(
    running: RunningApp, fake_zalo: FakeZalo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    query = _connect(running, monkeypatch, tmp_path)
    fake_zalo.grant_code("the-code", query["code_challenge"])
    response = await running.client.get(
        "/zalo/oauth/callback", params={"code": "the-code", "state": query["state"], "oa_id": "x"}
    )
    assert response.status_code == 200, response.text
    stored = DatabaseTokenStore(running.services.db, running.services.settings.zalo_oa_id).load()
    assert stored is not None
    assert stored.access_token == fake_zalo.valid_access_token
    assert stored.refresh_token == fake_zalo.valid_refresh_token
    # The verifier sent is the one whose S256 challenge went into the link.
    [exchange] = [r for r in fake_zalo.requests if r.form.get("grant_type") == "authorization_code"]
    digest = hashlib.sha256(exchange.form["code_verifier"].encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == query["code_challenge"]

    again = await running.client.get(
        "/zalo/oauth/callback", params={"code": "the-code", "state": query["state"]}
    )
    assert again.status_code == 400  # the state is single-use


async def test_unknown_state_is_refused(running: RunningApp, fake_zalo: FakeZalo) -> None:
    response = await running.client.get(
        "/zalo/oauth/callback", params={"code": "c", "state": "forged"}
    )
    assert response.status_code == 400
    assert fake_zalo.requests == []


async def test_connect_for_one_oa_stores_that_oas_pair_only(
    running: RunningApp, fake_zalo: FakeZalo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = running.services.db
    query = _connect(running, monkeypatch, tmp_path, "--oa", "5550001")
    fake_zalo.grant_code("code-1", query["code_challenge"])
    response = await running.client.get(
        "/zalo/oauth/callback",
        params={"code": "code-1", "state": query["state"], "oa_id": "5550001"},
    )
    assert response.status_code == 200, response.text
    stored = DatabaseTokenStore(db, "5550001").load()
    assert stored is not None and stored.access_token == fake_zalo.valid_access_token

    # A consent given by another OA's admin is not stored as this OA's pair.
    query = _connect(running, monkeypatch, tmp_path, "--oa", "5550001")
    fake_zalo.grant_code("code-2", query["code_challenge"])
    refused = await running.client.get(
        "/zalo/oauth/callback",
        params={"code": "code-2", "state": query["state"], "oa_id": "6660002"},
    )
    assert refused.status_code == 400
    assert "wardbot zalo connect --oa 5550001" in refused.text
    assert DatabaseTokenStore(db, "6660002").load() is None
    assert DatabaseTokenStore(db, "5550001").load() == stored


def test_tokens_set_reads_two_tokens_from_stdin_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'w.db'}"
    env = {"DATABASE_URL": url}
    one = CliRunner().invoke(cli, ["zalo", "tokens", "set", "--oa", "777"], input="x\n", env=env)
    assert one.exit_code == 2 and "nothing stored" in one.stderr
    extra = CliRunner().invoke(cli, ["zalo", "tokens", "set", "--oa", "777", "acc", "ref"], env=env)
    assert extra.exit_code != 0  # never as arguments
    bad_oa = CliRunner().invoke(cli, ["zalo", "tokens", "set", "--oa", "7 7"], input="a b", env=env)
    assert bad_oa.exit_code == 2
    done = CliRunner().invoke(
        cli, ["zalo", "tokens", "set", "--oa", "777"], input="acc-1 \n ref-1\n", env=env
    )
    assert done.exit_code == 0, done.output
    assert "acc-1" not in done.output
    db = Database(url)
    try:
        pair = DatabaseTokenStore(db, "777").load()
        assert pair is not None and (pair.access_token, pair.refresh_token) == ("acc-1", "ref-1")
        assert DatabaseTokenStore(db, "778").load() is None
    finally:
        db.close()
