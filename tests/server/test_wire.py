"""SSE framing of the runtime, without a server: fields, data lines, JSON on one line."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel

from roccogen.runtime._server_sse import (
    EventKind,
    SseFieldError,
    check_field,
    encode_comment,
    encode_text,
)
from roccogen.runtime._server_stream import EventStream


class Quote(BaseModel):
    symbol: str
    price: float
    note: str | None = None


class QuoteStream(EventStream):
    __slots__ = ()
    KINDS = (
        EventKind("message", "message", named=False, model=Quote),
        EventKind("quote", "quote", named=True, model=Quote),
        EventKind("log", "log", named=True, model=None),
        EventKind("end", "end", named=True, model=Quote, role="terminal"),
    )


def _stream(retry_ms: int | None = None) -> QuoteStream:
    return QuoteStream(retry_ms=retry_ms, max_buffer=1 << 20, max_id_bytes=16)


def _queued(stream: EventStream) -> bytes:
    return b"".join(stream._chunks)


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\r\nb", "a\x00b", "\n", "x\r"])
def test_cr_lf_nul_refused_in_every_field(bad: str) -> None:
    for kind in ("event name", "id", "comment"):
        with pytest.raises(SseFieldError):
            check_field(kind, bad)
    with pytest.raises(SseFieldError):
        encode_comment(bad)
    with pytest.raises(SseFieldError):
        EventKind("k", bad, named=True, model=None)


def test_refused_fields_write_nothing() -> None:
    async def run() -> bytes:
        stream = _stream()
        with pytest.raises(SseFieldError):
            await stream.send_comment("ok\nevent: forged")
        with pytest.raises(SseFieldError):
            await stream._emit("log", "x", "1\nevent: forged", None)
        with pytest.raises(SseFieldError):
            await stream._emit_named("log\ndata: forged", "x", None, None)
        assert stream.events == 0
        return _queued(stream)

    assert asyncio.run(run()) == b""


def test_multiline_text_becomes_data_lines() -> None:
    assert encode_text("one") == b"data: one\n"
    assert encode_text("a\nb\r\nc\rd") == b"data: a\ndata: b\ndata: c\ndata: d\n"
    assert encode_text("end\n") == b"data: end\ndata: \n"
    assert encode_text("") == b"data: \n"
    # Only CR and LF end lines on the wire; other separators are data.
    assert encode_text("a\u2028b\x0bc") == "data: a\u2028b\x0bc\n".encode()


def test_json_stays_on_one_line_and_unset_fields_are_omitted() -> None:
    frame = EventKind("quote", "quote", named=True, model=Quote).encode(
        Quote(symbol="A\nB\r", price=1.5), b""
    )
    assert frame == b'event: quote\ndata: {"symbol":"A\\nB\\r","price":1.5}\n\n'
    assert frame.count(b"\n") == 3


def test_unnamed_event_has_no_event_line() -> None:
    frame = EventKind("message", "message", named=False, model=Quote).encode(
        Quote(symbol="X", price=2), b""
    )
    assert frame == b'data: {"symbol":"X","price":2.0}\n\n'


def test_wrong_payload_type_is_refused() -> None:
    async def run() -> None:
        stream = _stream()
        with pytest.raises(TypeError):
            await stream._emit("quote", {"symbol": "X", "price": 1}, None, None)
        with pytest.raises(TypeError):
            await stream._emit("log", Quote(symbol="X", price=1), None, None)
        with pytest.raises(ValueError, match="not a declared"):
            await stream._emit_named("nope", "x", None, None)
        with pytest.raises(ValueError, match="not a declared"):
            await stream._emit_named("end", Quote(symbol="X", price=1), None, None)

    asyncio.run(run())


def test_id_retry_and_spec_retry_on_first_event_only() -> None:
    async def run() -> bytes:
        stream = _stream(retry_ms=2000)
        await stream._emit("log", "a", "1", None)
        await stream._emit("log", "b", "2", None)
        await stream._emit("log", "c", None, 50)
        with pytest.raises(ValueError):
            await stream._emit("log", "d", None, -1)
        with pytest.raises(SseFieldError):
            await stream._emit("log", "e", "x" * 17, None)
        return _queued(stream)

    assert asyncio.run(run()) == (
        b"retry: 2000\nid: 1\nevent: log\ndata: a\n\n"
        b"id: 2\nevent: log\ndata: b\n\n"
        b"retry: 50\nevent: log\ndata: c\n\n"
    )


def test_comment_frames() -> None:
    assert encode_comment("keep-alive") == b": keep-alive\n\n"
    assert encode_comment("") == b":\n\n"


def test_terminal_event_closes_the_stream() -> None:
    async def run() -> None:
        stream = _stream()
        await stream._emit_final("end", Quote(symbol="X", price=1), None, None)
        assert stream.closed and stream.done.is_set()
        from roccogen.runtime._server_sse import StreamClosed

        with pytest.raises(StreamClosed):
            await stream._emit("log", "late", None, None)
        with pytest.raises(StreamClosed):
            await stream.send_comment("late")

    asyncio.run(run())


def test_a_refused_event_consumes_neither_the_retry_hint_nor_the_id() -> None:
    async def run() -> tuple[bytes, str | None]:
        stream = _stream(retry_ms=700)
        with pytest.raises(TypeError):
            await stream._emit("quote", "not a Quote", "9", None)
        with pytest.raises(SseFieldError):
            await stream._emit("log", "x", "bad\nid", None)
        await stream._emit("log", "ok", "1", None)
        return _queued(stream), stream.last_id

    assert asyncio.run(run()) == (b"retry: 700\nid: 1\nevent: log\ndata: ok\n\n", "1")


def test_hooks_subscribe_and_unsubscribe() -> None:
    from roccogen.runtime._server_sse import StreamHooks, StreamLifecycle, StreamSignal

    hooks = StreamHooks()
    seen: list[str] = []
    undo_one = hooks.subscribe("http.stream.started", lambda s: seen.append("one"))
    undo_all = hooks.subscribe_all(lambda s: seen.append(s.signal.value))
    info = StreamLifecycle(StreamSignal.STARTED, "e", "GET", "/", 0.0, 0)
    hooks.emit(info)
    assert seen == ["one", "http.stream.started"]
    assert hooks.active(StreamSignal.ENDED)
    undo_one()
    undo_all()
    hooks.emit(info)
    assert seen == ["one", "http.stream.started"]
    assert not hooks.active(StreamSignal.STARTED)
    with pytest.raises(ValueError):
        hooks.subscribe("http.stream.nope", lambda s: None)
