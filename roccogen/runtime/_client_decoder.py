"""A WHATWG-conformant, incremental event-stream decoder that yields httpx-sse events.

httpx-sse 0.4.3 decodes with the Content-Type charset, keeps a leading BOM, and emits an empty
event at every blank line once an id has been seen (its issue #35). This decoder follows the
HTML standard's "event stream interpretation" exactly and still produces
``httpx_sse.ServerSentEvent`` objects, so code written against httpx-sse keeps working.

It splits bytes, not text: CR and LF never occur inside a multi-byte UTF-8 sequence, so lines can
be cut before decoding, and each field value is decoded once (invalid bytes become U+FFFD).
"""

from __future__ import annotations

from httpx_sse import ServerSentEvent

from ._client_errors import StreamError

__all__ = ["MAX_EVENT_BYTES", "EventTooLargeError", "SseDecoder"]

MAX_EVENT_BYTES = 16 * 1024 * 1024  # one line, or the data of one event, may not grow beyond this
_BOM = b"\xef\xbb\xbf"
_COLON = 58  # ord(":")


class EventTooLargeError(StreamError):
    """A line or an event's data outgrew the decoder's limit: the server is misbehaving."""


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


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
        self._size = 0  # bytes of data buffered for the current event

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one chunk; return the events completed by it (often none or one)."""
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
        if len(self._pending) > self._limit or self._size > self._limit:
            raise EventTooLargeError(f"an event or line exceeds {self._limit} bytes")
        return events

    def _lines(self, lines: list[bytes]) -> list[ServerSentEvent]:
        out: list[ServerSentEvent] = []
        data = self._data
        for line in lines:
            if not line:
                self.last_event_id = self._id_buffer
                if data:
                    out.append(self._dispatch(data))
                    data = self._data = []
                    self._size = 0
                self._event = b""
                self._block_retry = None
                continue
            if line[:6] == b"data: ":  # the common case, without partition's allocations
                data.append(line[6:])
                self._size += len(line)
                continue
            if line[0] == _COLON:
                continue
            name, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if name == b"data":
                data.append(value)
                self._size += len(line)
            elif name == b"event":
                self._event = value
            elif name == b"id":
                if b"\x00" not in value:
                    self._id_buffer = _text(value)
            elif name == b"retry" and value.isdigit():  # bytes.isdigit is ASCII-only
                self.retry = self._block_retry = int(value)
        return out

    def _dispatch(self, data: list[bytes]) -> ServerSentEvent:
        raw = self._event
        if raw:
            event = self._names.get(raw)
            if event is None:
                event = _text(raw)
                if len(self._names) < 256:
                    self._names[raw] = event
        else:
            event = "message"
        text = _text(data[0]) if len(data) == 1 else _text(b"\n".join(data))
        return ServerSentEvent(event, text, self.last_event_id, self._block_retry)

    def end(self) -> None:
        """The stream ended: an unterminated block is discarded, as the standard requires."""
        self._pending = b""
        self._skip_lf = False
        self._data = []
        self._size = 0
        self._event = b""
        self._block_retry = None
        self._id_buffer = self.last_event_id
