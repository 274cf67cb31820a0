"""Everything answered before a stream starts: params, Last-Event-ID, body, auth, JSON errors."""

from __future__ import annotations

import json
import socket
import sys
from typing import Any

import pytest
from server_harness import LiveServer, all_blocks, client, generate

kitchen = generate("kitchen")
notifications = generate("notifications")
Tick = sys.modules["srvt_kitchen.models"].Tick

TOKENS = {
    "reader": kitchen.Identity(
        id="u1", scopes=frozenset({"read", "feed"}), roles=frozenset({"staff"})
    ),
    "admin": kitchen.Identity(
        id="u2", scopes=frozenset({"admin", "feed"}), roles=frozenset({"owner"})
    ),
    "no-feed": kitchen.Identity(id="u3", scopes=frozenset({"read"}), roles=frozenset({"staff"})),
    "no-read": kitchen.Identity(id="u4", scopes=frozenset({"feed"}), roles=frozenset({"staff"})),
    "no-role": kitchen.Identity(id="u5", scopes=frozenset({"read", "feed"})),
}


async def authenticate(request: Any) -> Any:
    header = request.headers.get("authorization")
    if header is None:
        return None
    token = header.removeprefix("Bearer ")
    if token == "crash":
        raise RuntimeError("authenticator bug")
    if token not in TOKENS:
        raise kitchen.Unauthorized("unknown token")
    return TOKENS[token]


class Kitchen(kitchen.KitchenService):
    async def feed(self, request: Any, stream: Any) -> None:
        values = {
            "topic": request.topic,
            "count": request.count,
            "mode": request.mode,
            "ratio": request.ratio,
            "flag": request.flag,
            "x_tenant": request.x_tenant,
            "level": request.level,
            "weight": request.weight,
            "strict": request.strict,
            "last_event_id": request.last_event_id,
        }
        await stream.note(json.dumps(values), id="0")

    async def secure(self, request: Any, stream: Any) -> None:
        await stream.send(Tick(n=1, text=request.identity.id))

    async def maybe_auth(self, request: Any, stream: Any) -> None:
        who = request.identity.id if request.identity is not None else "anonymous"
        await stream.who(who)

    async def upload(self, request: Any, stream: Any) -> None:
        body = request.body
        await stream.send(Tick(n=body.interval, text=f"{request.bucket}:{','.join(body.symbols)}"))

    async def optional_body(self, request: Any, stream: Any) -> None:
        await stream.got("none" if request.body is None else ",".join(request.body.symbols))


@pytest.fixture(scope="module")
def srv() -> Any:
    app = kitchen.create_app(Kitchen(), authenticator=authenticate)
    with LiveServer(app) as server:
        yield server


def _note(response: Any) -> dict[str, Any]:
    blocks = all_blocks(response)
    assert blocks[0]["event"] == "note", blocks
    return json.loads(blocks[0]["data"])


def _fields(response: Any) -> set[tuple[str, str]]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    return {(f["in"], f["name"]) for f in body["details"]["fields"]}


def test_valid_params_arrive_typed(srv: Any) -> None:
    with client() as http:
        url = srv.url + "/feed/news?count=7&mode=slow&ratio=0.5&flag=true&level=2&weight=1.5&strict=1"
        with http.stream("GET", url, headers={"X-Tenant": "acme"}) as r:
            assert r.status_code == 200
            values = _note(r)
    assert values == {
        "topic": "news", "count": 7, "mode": "slow", "ratio": 0.5, "flag": True,
        "x_tenant": "acme", "last_event_id": None, "level": 2, "weight": 1.5, "strict": True,
    }  # fmt: skip


def test_defaults_apply_and_optional_params_are_none(srv: Any) -> None:
    with client() as http, http.stream("GET", srv.url + "/feed/news") as r:
        values = _note(r)
    assert values["count"] == 10 and values["mode"] == "fast"
    assert values["ratio"] is None and values["flag"] is None and values["x_tenant"] is None


@pytest.mark.parametrize(
    ("path", "headers", "failing"),
    [
        ("/feed/NEWS", {}, {("path", "topic")}),
        ("/feed/news?count=0", {}, {("query", "count")}),
        ("/feed/news?count=abc", {}, {("query", "count")}),
        ("/feed/news?count=101", {}, {("query", "count")}),
        ("/feed/news?mode=medium", {}, {("query", "mode")}),
        ("/feed/news?ratio=0", {}, {("query", "ratio")}),
        ("/feed/news?flag=maybe", {}, {("query", "flag")}),
        ("/feed/news?level=4", {}, {("query", "level")}),
        ("/feed/news?level=1.5", {}, {("query", "level")}),
        ("/feed/news?weight=1", {}, {("query", "weight")}),
        ("/feed/news?strict=false", {}, {("query", "strict")}),
        ("/feed/news?ratio=inf", {}, {("query", "ratio")}),
        ("/feed/news?ratio=nan", {}, {("query", "ratio")}),
        ("/feed/news", {"X-Tenant": "ACME"}, {("header", "X-Tenant")}),
        (
            "/feed/Bad?count=0&mode=x",
            {"X-Tenant": "1"},
            {("path", "topic"), ("query", "count"), ("query", "mode"), ("header", "X-Tenant")},
        ),
    ],
)
def test_invalid_params_are_422_with_the_failing_fields(
    srv: Any, path: str, headers: dict[str, str], failing: set[tuple[str, str]]
) -> None:
    with client() as http:
        assert _fields(http.get(srv.url + path, headers=headers)) == failing


def test_last_event_id_reaches_the_handler(srv: Any) -> None:
    with client() as http:
        with http.stream("GET", srv.url + "/feed/news", headers={"Last-Event-ID": "41"}) as r:
            assert _note(r)["last_event_id"] == "41"
        with http.stream(
            "GET", srv.url + "/feed/news", headers={"Last-Event-ID": "é-1".encode()}
        ) as r:
            assert _note(r)["last_event_id"] == "é-1"


def _raw_get(srv: Any, path: str, extra: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
        sock.sendall(
            b"GET "
            + path.encode()
            + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + extra
            + b"\r\n"
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


@pytest.mark.parametrize(
    "value",
    [b"x" * 257, b"\xff\xfe", b"a\x01b", b"a\x7fb"],
    ids=["too-long", "not-utf8", "control", "del"],
)
def test_untrusted_last_event_id_is_validated(srv: Any, value: bytes) -> None:
    answer = _raw_get(srv, "/feed/news", b"Last-Event-ID: " + value + b"\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 422"), head
    doc = json.loads(body)
    assert doc["details"]["fields"][0]["name"] == "Last-Event-ID"


def test_last_event_id_length_bound_is_configurable() -> None:
    settings = kitchen.ServerSettings(max_event_id_bytes=4)
    app = kitchen.create_app(Kitchen(), authenticator=authenticate, settings=settings)
    with LiveServer(app) as server, client() as http:
        assert (
            http.get(server.url + "/feed/news", headers={"Last-Event-ID": "1234"}).status_code
            == 200
        )
        assert (
            http.get(server.url + "/feed/news", headers={"Last-Event-ID": "12345"}).status_code
            == 422
        )


def test_valid_body_reaches_the_handler(srv: Any) -> None:
    with client() as http:
        with http.stream("POST", srv.url + "/upload/b1", json={"symbols": ["A", "B"]}) as r:
            blocks = all_blocks(r)
    assert json.loads(blocks[0]["data"]) == {"n": 1000, "text": "b1:A,B"}


@pytest.mark.parametrize(
    ("content", "ctype", "status", "code"),
    [
        (b"", "application/json", 422, "VALIDATION_FAILED"),
        (b"   ", "application/json", 422, "VALIDATION_FAILED"),
        (b"{}", "application/json", 422, "VALIDATION_FAILED"),
        (b'{"symbols": []}', "application/json", 422, "VALIDATION_FAILED"),
        (b'{"symbols": ["A"], "interval": 5}', "application/json", 422, "VALIDATION_FAILED"),
        (b"{not json", "application/json", 422, "VALIDATION_FAILED"),
        (b'{"symbols": ["A"]}', "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
        (b'{"symbols": ["A"]}', "application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ],
)
def test_bad_bodies_are_refused(
    srv: Any, content: bytes, ctype: str, status: int, code: str
) -> None:
    with client() as http:
        r = http.post(srv.url + "/upload/b1", content=content, headers={"Content-Type": ctype})
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    if status == 422:
        assert all(f["in"] == "body" for f in r.json()["details"]["fields"])


def test_empty_required_body_is_422_even_without_content_type(srv: Any) -> None:
    with client() as http:
        r = http.post(srv.url + "/upload/b1")
    assert r.status_code == 422
    assert r.json()["details"]["fields"][0]["type"] == "missing"


def test_body_over_one_mebibyte_is_413_by_default(srv: Any) -> None:
    big = json.dumps({"symbols": ["x" * (1024 * 1024)]}).encode()
    with client() as http:
        r = http.post(
            srv.url + "/upload/b1", content=big, headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 413
        assert r.json()["code"] == "PAYLOAD_TOO_LARGE"
        just_under = json.dumps({"symbols": ["x" * (1024 * 1024 - 100)]}).encode()
        assert len(just_under) <= 1024 * 1024
        with http.stream(
            "POST",
            srv.url + "/upload/b1",
            content=just_under,
            headers={"Content-Type": "application/json"},
        ) as r:
            assert r.status_code == 200


def test_body_limit_is_configurable_and_holds_for_chunked_bodies() -> None:
    settings = kitchen.ServerSettings(max_body_bytes=64)
    app = kitchen.create_app(Kitchen(), authenticator=authenticate, settings=settings)
    payload = json.dumps({"symbols": ["y" * 100]}).encode()

    def chunks() -> Any:
        for i in range(0, len(payload), 10):
            yield payload[i : i + 10]

    with LiveServer(app) as server, client() as http:
        headers = {"Content-Type": "application/json"}
        r = http.post(server.url + "/upload/b1", content=chunks(), headers=headers)
        assert "content-length" not in r.request.headers
        assert r.status_code == 413
        r = http.post(server.url + "/upload/b1", content=payload, headers=headers)
        assert r.status_code == 413


def test_optional_body_may_be_empty(srv: Any) -> None:
    with client() as http:
        with http.stream("POST", srv.url + "/optional") as r:
            assert all_blocks(r)[0]["data"] == "none"
        with http.stream("POST", srv.url + "/optional", json={"symbols": ["Q"]}) as r:
            assert all_blocks(r)[0]["data"] == "Q"


def test_path_param_of_a_body_endpoint_is_validated(srv: Any) -> None:
    with client() as http:
        r = http.post(srv.url + "/upload/" + "b" * 11, json={"symbols": ["A"]})
    assert _fields(r) == {("path", "bucket")}


def test_app_refuses_to_start_when_auth_is_required_and_no_authenticator() -> None:
    with pytest.raises(kitchen.ConfigurationError, match="secure"):
        kitchen.create_app(Kitchen())

    class Notes(notifications.NotificationsService):
        async def notifications(self, request: Any, stream: Any) -> None:
            pass

    with pytest.raises(notifications.ConfigurationError):
        notifications.create_app(Notes())


@pytest.mark.parametrize(
    ("token", "status", "code"),
    [
        (None, 401, "UNAUTHORIZED"),
        ("bogus", 401, "UNAUTHORIZED"),
        ("reader", 200, None),
        ("admin", 200, None),
        ("no-feed", 403, "FORBIDDEN"),
        ("no-read", 403, "FORBIDDEN"),
        ("no-role", 403, "FORBIDDEN"),
        ("crash", 500, "INTERNAL_ERROR"),
    ],
)
def test_auth_scopes_or_inside_and_across_groups(
    srv: Any, token: str | None, status: int, code: str | None
) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with client() as http, http.stream("GET", srv.url + "/secure", headers=headers) as r:
        r.read()
    assert r.status_code == status
    if code is not None:
        assert r.json()["code"] == code
    if status == 401:
        assert r.headers["www-authenticate"] == "Bearer"
    if token == "no-feed":
        assert r.json()["details"] == {"scopes": [["feed"]]}
    if token == "no-read":
        assert r.json()["details"] == {"scopes": [["read", "admin"]]}
    if token == "no-role":
        assert r.json()["details"] == {"roles": [["staff", "owner"]]}
    if status == 200:
        assert json.loads(r.text.split("data: ", 1)[1])["text"] == TOKENS[token].id


def test_optional_auth_allows_anonymous_but_not_bad_credentials(srv: Any) -> None:
    with client() as http:
        r = http.get(srv.url + "/maybe")
        assert r.status_code == 200 and r.text == "event: who\ndata: anonymous\n\n"
        r = http.get(srv.url + "/maybe", headers={"Authorization": "Bearer admin"})
        assert r.text == "event: who\ndata: u2\n\n"
        r = http.get(srv.url + "/maybe", headers={"Authorization": "Bearer bogus"})
        assert r.status_code == 401


def test_auth_is_checked_before_params_and_body(srv: Any) -> None:
    with client() as http:
        assert http.get(srv.url + "/secure?anything=1").status_code == 401


def test_unknown_paths_and_methods_answer_json(srv: Any) -> None:
    with client() as http:
        r = http.get(srv.url + "/nowhere")
        assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
        r = http.post(srv.url + "/feed/news")
        assert r.status_code == 405 and r.json()["code"] == "METHOD_NOT_ALLOWED"
        r = http.head(srv.url + "/feed/news")
        assert r.status_code == 405 and r.headers["allow"] == "GET"
