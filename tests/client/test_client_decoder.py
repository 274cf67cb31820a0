"""The event-stream decoder against the WHATWG rules, fed with awkward chunk boundaries.

Each case is written from the standard ("Server-sent events", event stream interpretation), not
from the decoder's code. Every case is decoded whole, byte by byte, at every single split point,
and in pseudo-random chunkings: the events must be the same each time.
"""

from __future__ import annotations

import random

import httpx_sse
import pytest

from roccogen.runtime._client_decoder import EventTooLargeError, SseDecoder
from roccogen.runtime._client_errors import StreamError, content_type_essence

Ev = tuple[str, str, str, int | None]  # event, data, id, retry


def chunkings(stream: bytes) -> list[list[bytes]]:
    """Whole, byte by byte, every two-piece split, and a few random splits."""
    out = [[stream], [stream[i : i + 1] for i in range(len(stream))]]
    out += [[stream[:i], stream[i:]] for i in range(1, len(stream))]
    rng = random.Random(len(stream))
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, max(2, len(stream))), k=min(4, max(0, len(stream) - 1))))
        pieces, last = [], 0
        for cut in cuts:
            pieces.append(stream[last:cut])
            last = cut
        pieces.append(stream[last:])
        out.append(pieces)
    return out


def decode(chunks: list[bytes], last_event_id: str = "") -> tuple[list[Ev], SseDecoder]:
    decoder = SseDecoder(last_event_id)
    events: list[Ev] = []
    for chunk in chunks:
        for sse in decoder.feed(chunk):
            assert isinstance(sse, httpx_sse.ServerSentEvent)
            events.append((sse.event, sse.data, sse.id, sse.retry))
    decoder.end()
    return events, decoder


def check(stream: bytes, expected: list[Ev]) -> SseDecoder:
    decoder = None
    for pieces in chunkings(stream):
        events, decoder = decode(pieces)
        assert events == expected, pieces
    assert decoder is not None
    return decoder


CASES: dict[str, tuple[bytes, list[Ev]]] = {
    "lf": (b"data: a\n\ndata: b\n\n", [("message", "a", "", None), ("message", "b", "", None)]),
    "crlf": (b"data: a\r\n\r\ndata: b\r\n\r\n", [("message", "a", "", None), ("message", "b", "", None)]),
    "cr": (b"data: a\r\rdata: b\r\r", [("message", "a", "", None), ("message", "b", "", None)]),
    # CRLF is one line end: "a" and "b" are two data lines of one event, not two events.
    "crlf_is_one_line_end": (b"data: a\r\ndata: b\r\n\r\n", [("message", "a\nb", "", None)]),
    "mixed_line_ends": (b"data: 1\rdata: 2\ndata: 3\r\n\n", [("message", "1\n2\n3", "", None)]),
    "bom_stripped": (b"\xef\xbb\xbfdata: x\n\n", [("message", "x", "", None)]),
    # Only one BOM is stripped: a second one makes the field name "\ufeffdata", which is ignored.
    "second_bom_kept": (b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\ndata: y\n\n", [("message", "y", "", None)]),
    "bom_later_is_data": (b"data: \xef\xbb\xbfx\n\n", [("message", "\ufeffx", "", None)]),
    "utf8_multibyte": ("data: €😀ü\n\n".encode(), [("message", "€😀ü", "", None)]),
    "invalid_utf8_replaced": (b"data: a\xffb\xe2\x82\n\n", [("message", "a\ufffdb\ufffd", "", None)]),
    "other_breaks_are_data": (
        "data: a\u2028b\u0085c\x0bd\x0ce\n\n".encode(),
        [("message", "a\u2028b\u0085c\x0bd\x0ce", "", None)],
    ),
    "comment_ignored": (b": hello\ndata: x\n: again\n\n", [("message", "x", "", None)]),
    "only_comments": (b": ping\n\n: ping\n\n", []),
    "field_without_colon": (b"data\ndata\n\n", [("message", "\n", "", None)]),
    "one_space_removed": (b"data:  two\n\n", [("message", " two", "", None)]),
    "no_space": (b"data:x\n\n", [("message", "x", "", None)]),
    "tab_kept": (b"data:\tx\n\n", [("message", "\tx", "", None)]),
    "colon_in_value": (b"data: a: b\n\n", [("message", "a: b", "", None)]),
    "names_case_sensitive": (b"Data: x\nDATA: y\nEvent: e\ndata: z\n\n", [("message", "z", "", None)]),
    "unknown_field_ignored": (b"foo: bar\ndata: x\n\n", [("message", "x", "", None)]),
    "event_type": (b"event: price\ndata: 1\n\ndata: 2\n\n", [("price", "1", "", None), ("message", "2", "", None)]),
    "empty_event_is_message": (b"event:\ndata: 1\n\n", [("message", "1", "", None)]),
    "last_data_lf_removed_once": (b"data:\ndata:\n\n", [("message", "\n", "", None)]),
    "empty_data_line_dispatches": (b"data:\n\n", [("message", "", "", None)]),
    "no_data_no_event": (b"event: x\n\n", []),
    "id_persists": (
        b"id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n",
        [("message", "a", "1", None), ("message", "b", "1", None), ("message", "c", "", None)],
    ),
    "id_with_nul_ignored": (b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n", [("message", "a", "1", None), ("message", "b", "1", None)]),
    # httpx-sse issue #35: after an id, blank lines and keep-alive comments must not become events.
    "no_phantom_after_id": (b"id: 7\ndata: a\n\n: ka\n\n\n\n: ka\n\n", [("message", "a", "7", None)]),
    "id_only_block_no_event": (b"id: 9\n\n", []),
    "retry_digits": (b"retry: 1500\ndata: a\n\n", [("message", "a", "", 1500)]),
    "retry_not_digits": (
        b"retry: +5\ndata: a\n\nretry: 5s\ndata: b\n\nretry:\ndata: c\n\nretry:  5\ndata: d\n\nretry: -1\ndata: e\n\n",
        [("message", x, "", None) for x in "abcde"],
    ),
    "retry_only_block_no_event": (b"retry: 10\n\n: ka\n\n", []),
    "retry_non_ascii_digits": ("retry: ٣\ndata: a\n\n".encode(), [("message", "a", "", None)]),
    "unterminated_block_discarded": (b"data: a\n\ndata: b\n", [("message", "a", "", None)]),
    "unterminated_no_newline": (b"data: a\n\nevent: x\ndata: b", [("message", "a", "", None)]),
    "event_with_empty_value": (b"event: \ndata: x\n\nevent:\ndata: y\n\n", [("message", "x", "", None), ("message", "y", "", None)]),
    "event_without_space": (b"event:tick\ndata: x\n\n", [("tick", "x", "", None)]),
    "event_two_spaces": (b"event:  tick\ndata: x\n\n", [(" tick", "x", "", None)]),
    "event_then_two_data_lines": (b"event: e\ndata: a\ndata: b\n\n", [("e", "a\nb", "", None)]),
    "data_then_event": (b"data: a\nevent: e\n\n", [("e", "a", "", None)]),
    "id_between_fast_blocks": (
        b"event: e\ndata: 1\n\nid: 5\n\ndata: 2\n\nevent: e\ndata: 3\n\n",
        [("e", "1", "", None), ("message", "2", "5", None), ("e", "3", "5", None)],
    ),
    "blank_lines_between_blocks": (b"event: x\n\n\ndata: y\n\n\n\ndata: z\n\n", [("message", "y", "", None), ("message", "z", "", None)]),
    "multiline_json": (
        b'event: log\ndata: {"a":\ndata:  1}\n\n',
        [("log", '{"a":\n 1}', "", None)],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_conformance(name: str) -> None:
    stream, expected = CASES[name]
    check(stream, expected)


def test_last_event_id_committed_only_on_dispatch() -> None:
    events, decoder = decode([b"id: 1\ndata: a\n\nid: 2\ndata: b\n"])  # second block unterminated
    assert events == [("message", "a", "1", None)]
    assert decoder.last_event_id == "1"


def test_id_only_block_updates_last_event_id() -> None:
    decoder = check(b"id: 1\ndata: a\n\nid: 42\n\n", [("message", "a", "1", None)])
    assert decoder.last_event_id == "42"


def test_empty_id_resets() -> None:
    decoder = check(b"id: 1\ndata: a\n\nid:\n\n", [("message", "a", "1", None)])
    assert decoder.last_event_id == ""


def test_retry_only_block_sets_reconnection_time() -> None:
    decoder = check(b"retry: 250\n\nretry: x\n\n", [])
    assert decoder.retry == 250


def test_last_event_id_carried_into_a_new_connection() -> None:
    events, decoder = decode([b"data: a\n\n"], last_event_id="17")
    assert events == [("message", "a", "17", None)]
    assert decoder.last_event_id == "17"


def test_bom_split_then_not_a_bom() -> None:
    # "\xef\xbb" then "x": not a BOM, so the bytes stay (decoded as U+FFFD) in the field name.
    events, _ = decode([b"\xef", b"\xbb", b"data: no\n\ndata: yes\n\n"])
    assert events == [("message", "yes", "", None)]


def test_large_stream_in_random_chunks_matches_whole() -> None:
    rng = random.Random(5)
    parts = []
    for i in range(2000):
        parts.append(f"id: {i}\r\nevent: e{i % 3}\r\ndata: {'x' * rng.randint(0, 40)}€\r\n\r\n")
        if i % 7 == 0:
            parts.append(": keep-alive\r\n\r\n")
    stream = "".join(parts).encode()
    whole, _ = decode([stream])
    assert len(whole) == 2000
    pieces, pos = [], 0
    while pos < len(stream):
        step = rng.randint(1, 300)
        pieces.append(stream[pos : pos + step])
        pos += step
    chunked, _ = decode(pieces)
    assert chunked == whole


def test_httpx_sse_alone_would_emit_phantom_events() -> None:
    """Why the runtime decodes by itself: httpx-sse 0.4.3 turns a keep-alive after an id into an event."""
    decoder = httpx_sse._decoders.SSEDecoder()
    out = [decoder.decode(line) for line in ["id: 1", "data: a", "", ": ka", ""]]
    assert [e for e in out if e is not None][-1].data == ""  # the phantom the runtime avoids


@pytest.mark.parametrize(
    ("header", "essence"),
    [
        ("text/event-stream", "text/event-stream"),
        ("Text/Event-Stream; charset=utf-8", "text/event-stream"),
        (" text/event-stream ;x=y", "text/event-stream"),
        ("text/event-streams", "text/event-streams"),
        ("application/json", "application/json"),
        (None, ""),
    ],
)
def test_content_type_essence(header: str | None, essence: str) -> None:
    assert content_type_essence(header) == essence


def test_a_line_without_end_cannot_grow_without_bound() -> None:
    decoder = SseDecoder(max_event_bytes=1000)
    decoder.feed(b"data: ok\n\n")
    with pytest.raises(EventTooLargeError):
        for _ in range(20):
            decoder.feed(b"x" * 100)
    assert issubclass(EventTooLargeError, StreamError)


def test_an_event_of_many_data_lines_cannot_grow_without_bound() -> None:
    decoder = SseDecoder(max_event_bytes=1000)
    assert len(decoder.feed(b"data: 123456789\n" * 50 + b"\n")) == 1  # 800 bytes: fine
    with pytest.raises(EventTooLargeError):
        decoder.feed(b"data: 123456789\n" * 80)
