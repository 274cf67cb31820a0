"""A WHATWG-conformant, incremental event-stream decoder that yields httpx-sse events.

httpx-sse 0.4.3 decodes with the Content-Type charset, keeps a leading BOM, and emits an empty
event at every blank line once an id has been seen (its issue #35). This decoder follows the
HTML standard's "event stream interpretation" exactly and still produces
``httpx_sse.ServerSentEvent`` objects, so code written against httpx-sse keeps working.

It splits bytes, not text: CR and LF never occur inside a multi-byte UTF-8 sequence, so lines can
be cut before decoding, and each field value is decoded once (invalid bytes become U+FFFD).
"""

from __future__ import annotations

from typing import TypeAlias

from httpx_sse import ServerSentEvent

from ._client_errors import StreamError

__all__ = ["MAX_EVENT_BYTES", "EventTooLargeError", "Fields", "SseDecoder"]

MAX_EVENT_BYTES = 16 * 1024 * 1024  # one line, or the data of one event, may not grow beyond this
_BOM = b"\xef\xbb\xbf"
_COLON = 58  # ord(":")

Fields: TypeAlias = tuple[str, str, str, int | None]  # event, data, id, retry


class EventTooLargeError(StreamError):
    """A line or an event's data outgrew the decoder's limit: the server is misbehaving."""


class SseDecoder:
    """Feed raw response bytes in any chunking; get back the events each chunk completes.

    ``last_event_id`` is the stream's last event ID string (committed at each dispatch, kept
    across reconnections when passed back in); ``retry`` is the reconnection time in
    milliseconds from the latest valid ``retry`` field, or None.
    """

    __slots__ = (
        "_at_start",
        "_block_retry",
        "_data",
        "_event",
        "_id_buffer",
        "_limit",
        "_names",
        "_pending",
        "_size",
        "_skip_lf",
        "last_event_id",
        "retry",
    )

    def __init__(self, last_event_id: str = "", max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self.last_event_id = last_event_id
        self.retry: int | None = None
        self._id_buffer = last_event_id
        self._pending = b""  # an incomplete line (never contains CR or LF)
        self._skip_lf = False  # the previous chunk ended in CR: a leading LF is part of that CRLF
        self._at_start = True  # a BOM may still be stripped
        self._data: list[bytes] = []
        self._event = b""
        self._block_retry: int | None = None
        self._names: dict[bytes, str] = {}
        self._limit = max_event_bytes
        self._size = 0  # bytes read since the open event began (bounds its data)

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one chunk; return the events completed by it (often none or one)."""
        return [ServerSentEvent(*fields) for fields in self.feed_fields(chunk)]

    def feed_fields(self, chunk: bytes) -> list[Fields]:
        """Like ``feed``, as plain ``(event, data, id, retry)`` tuples (the stream's fast path)."""
        fed = len(chunk)
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if self._at_start:
            buf = self._pending + chunk
            if len(buf) < 3 and _BOM.startswith(buf):
                self._pending = buf  # could still be a BOM split across reads
                return []
            self._at_start = False
            self._pending = b""
            chunk = buf[3:] if buf[:3] == _BOM else buf
        if not chunk:
            return []
        if b"\r" in chunk:
            if chunk[-1] == 13:
                self._skip_lf = True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if self._pending:
            chunk = self._pending + chunk
        lines = chunk.split(b"\n")
        self._pending = lines.pop()
        events = self._lines(lines) if lines else []
        # Bytes read while an event stays open bound its data (counted per read, not per line).
        self._size = self._size + fed if self._data else 0
        if len(self._pending) > self._limit or self._size > self._limit:
            raise EventTooLargeError(f"an event or line exceeds {self._limit} bytes")
        return events

    def _lines(self, lines: list[bytes]) -> list[Fields]:
        # The state lives in locals for the loop and is written back once: this is the hot path.
        out: list[Fields] = []
        append = out.append
        data = self._data
        event = self._event
        id_buffer = self._id_buffer
        last_id = self.last_event_id
        block_retry = self._block_retry
        names = self._names
        for line in lines:
            if not line:
                last_id = id_buffer
                if data:
                    if not event:
                        name = "message"
                    else:
                        name = names.get(event) or self._name(event)
                    text = b"\n".join(data).decode("utf-8", "replace")  # one line: no copy
                    append((name, text, last_id, block_retry))
                    data = []
                event = b""
                block_retry = None
                continue
            head = line[:6]
            if head == b"data: ":
                data.append(line[6:])
                continue
            if head == b"event:":
                event = line  # the whole line: _name() takes the value out (and caches it)
                continue
            if line[0] == _COLON:
                continue
            field, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if field == b"data":
                data.append(value)
            elif field == b"event":
                event = value  # always empty here: `event:` lines took the branch above
            elif field == b"id":
                if b"\x00" not in value:
                    id_buffer = value.decode("utf-8", "replace")
            elif field == b"retry" and value.isdigit():  # bytes.isdigit is ASCII-only
                self.retry = block_retry = int(value)
        self._data = data
        self._event = event
        self._id_buffer = id_buffer
        self.last_event_id = last_id
        self._block_retry = block_retry
        return out

    def _name(self, line: bytes) -> str:
        value = line[7:] if line[6:7] == b" " else line[6:]
        name = value.decode("utf-8", "replace") or "message"
        if len(self._names) < 256:
            self._names[line] = name
        return name

    def end(self) -> None:
        """The stream ended: an unterminated block is discarded, as the standard requires."""
        self._pending = b""
        self._skip_lf = False
        self._data = []
        self._size = 0
        self._event = b""
        self._block_retry = None
        self._id_buffer = self.last_event_id
