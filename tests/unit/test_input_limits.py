"""The request limits middleware on a bare ASGI app, and the e-mail rule shared by the server
and the browser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from edge.limits import BodyLimitMiddleware, UrlCharactersMiddleware
from models.auth import EMAIL_MAX, EMAIL_PATTERN, RegisterRequest

LIMIT = 1024


async def echo_length(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the whole body the way a handler outside any framework would, answers its length."""
    assert scope["type"] == "http"
    size, more = 0, True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(size).encode()})


def client() -> httpx.AsyncClient:
    app = BodyLimitMiddleware(echo_length, max_bytes=LIMIT)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://limits")


async def test_a_body_within_the_limit_passes() -> None:
    async with client() as http:
        response = await http.post("/", content=b"x" * LIMIT)
    assert response.status_code == 200
    assert response.text == str(LIMIT)


async def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    async with client() as http:
        response = await http.post("/", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.json() == {"errorMessage": "Слишком большой запрос: не больше 1 КиБ"}


async def test_a_streamed_body_is_refused_at_the_first_chunk_past_the_limit() -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(100):
            sent += 100
            yield b"x" * 100

    async with client() as http:
        response = await http.post("/", content=chunks())
    assert response.status_code == 413
    assert set(response.json()) == {"errorMessage"}
    assert sent <= LIMIT + 100


async def test_a_streamed_body_within_the_limit_passes() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 100

    async with client() as http:
        response = await http.post("/", content=chunks())
    assert response.status_code == 200
    assert response.text == "1000"


async def test_requests_without_a_body_are_untouched() -> None:
    async with client() as http:
        response = await http.get("/")
    assert response.status_code == 200
    assert response.text == "0"


@pytest.mark.parametrize(
    "url", ["/a%00b", "/x?q=a%00b", "/x?q=%0a", "/x?q=%7F", "/x?a%09=1", "/x%1F/y"]
)
async def test_control_characters_in_a_url_are_400(url: str) -> None:
    app = UrlCharactersMiddleware(echo_length)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://u") as c:
        response = await c.get(url)
    assert response.status_code == 400
    assert response.json() == {"errorMessage": "Недопустимые символы в адресе запроса"}


@pytest.mark.parametrize("url", ["/", "/x?q=%D1%87%D0%B0%D0%B9+%C3%A9", "/a%20b?x=%25"])
async def test_other_urls_pass(url: str) -> None:
    app = UrlCharactersMiddleware(echo_length)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://u") as c:
        assert (await c.get(url)).status_code == 200


# --- the e-mail rule -----------------------------------------------------------------------------

GOOD = ["a@b.ru", "Alice.Smith+shop@mail.example.com", "иван@почта.рф", "o'neil@example.ie"]
BAD = [
    "a b@x.ru",
    "a\x01b@x.ru",
    "a\x00b@x.ru",
    "a\x7fb@x.ru",
    "a\x85b@x.ru",
    "a\ufeffb@x.ru",
    "<a>@x.ru",
    "a@x>.ru",
    "a,b@x.ru",
    "a;b@x.ru",
    'a"b@x.ru',
    "a(b)@x.ru",
    "a[b]@x.ru",
    "a\\b@x.ru",
    "a@b@x.ru",
    "a@x.r",
    "@x.ru",
]


@pytest.mark.parametrize("email", GOOD)
def test_good_emails_pass(email: str) -> None:
    assert re.fullmatch(EMAIL_PATTERN, email)


@pytest.mark.parametrize("email", BAD, ids=repr)
def test_bad_emails_are_refused(email: str) -> None:
    assert not re.fullmatch(EMAIL_PATTERN, email)


def test_the_length_is_bounded_at_254() -> None:
    base = {
        "username": "alice",
        "firstName": "Алиса",
        "phone": "+7 912 345-67-89",
        "password": "correct horse",
    }
    longest = "a@" + "d" * (EMAIL_MAX - 5) + ".ru"
    assert len(longest) == EMAIL_MAX
    assert RegisterRequest.model_validate({**base, "email": longest}).email == longest
    with pytest.raises(ValueError, match="254"):
        RegisterRequest.model_validate({**base, "email": "a" + longest})


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js for the browser's RegExp")
def test_the_browser_reads_the_pattern_as_the_server_does() -> None:
    """An input's `pattern` is compiled as `^(?:pattern)$` with the `v` flag: the same verdicts
    as Python's `re`, for every example above."""
    script = """
        const [pattern, emails] = JSON.parse(require("fs").readFileSync(0, "utf8"));
        const re = new RegExp("^(?:" + pattern + ")$", "v");
        console.log(JSON.stringify(emails.map((e) => re.test(e))));
    """
    emails = GOOD + BAD
    node = subprocess.run(
        ["node", "-e", script],
        input=json.dumps([EMAIL_PATTERN, emails]),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert json.loads(node.stdout) == [bool(re.fullmatch(EMAIL_PATTERN, e)) for e in emails]
