"""A WHATWG-conformant, incremental event-stream decoder that yields httpx-sse events.

httpx-sse 0.4.3 decodes with the Content-Type charset, keeps a leading BOM, and emits an empty
event at every blank line once an id has been seen (its issue #35). This decoder follows the
HTML standard's "event stream interpretation" exactly and still produces
``httpx_sse.ServerSentEvent`` objects, so code written against httpx-sse keeps working.

Each read is decoded at once by an incremental UTF-8 decoder (a sequence split across reads is
completed by the next one; invalid bytes become U+FFFD, whatever the charset says), then split
into lines: CR and LF never occur inside a multi-byte sequence, so this is the standard's
decode-then-parse, done one read at a time.
"""

from __future__ import annotations

import codecs
from typing import TypeAlias

from httpx_sse import ServerSentEvent

from ._client_errors import StreamError

__all__ = ["MAX_EVENT_BYTES", "EventTooLargeError", "Fields", "SseDecoder"]

MAX_EVENT_BYTES = 16 * 1024 * 1024  # one line, or the data of one event, may not grow beyond this

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
        "_utf8",
        "last_event_id",
        "retry",
    )

    def __init__(self, last_event_id: str = "", max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self.last_event_id = last_event_id
        self.retry: int | None = None
        self._id_buffer = last_event_id
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")  # holds split sequences
        self._pending = ""  # an incomplete line (never contains CR or LF)
        self._skip_lf = False  # the previous chunk ended in CR: a leading LF is part of that CRLF
        self._at_start = True  # a BOM may still be stripped
        self._data: list[str] = []
        self._event = ""
        self._block_retry: int | None = None
        self._names: dict[str, str] = {}
        self._limit = max_event_bytes
        self._size = 0  # bytes read since the open event began (bounds its data)

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one chunk; return the events completed by it (often none or one)."""
        return [ServerSentEvent(*fields) for fields in self.feed_fields(chunk)]

    def feed_fields(self, chunk: bytes) -> list[Fields]:
        """Like ``feed``, as plain ``(event, data, id, retry)`` tuples (the stream's fast path)."""
        fed = len(chunk)
        text = self._utf8.decode(chunk)
        if self._at_start:
            if not text:
                return []  # not one character yet (a BOM may be split across reads)
            self._at_start = False
            if text[0] == "\ufeff":
                text = text[1:]
        if self._skip_lf and text:
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
        if not text:
            return []
        if "\r" in text:
            if text[-1] == "\r":
                self._skip_lf = True
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if self._pending:
            text = self._pending + text
        lines = text.split("\n")
        self._pending = lines.pop()
        events = self._lines(lines) if lines else []
        # Bytes read while an event stays open bound its data (counted per read, not per line).
        self._size = self._size + fed if self._data else 0
        if len(self._pending) > self._limit or self._size > self._limit:
            raise EventTooLargeError(f"an event or line exceeds {self._limit} bytes")
        return events

    def _lines(self, lines: list[str]) -> list[Fields]:
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
                    append((name, "\n".join(data), last_id, block_retry))
                    data = []
                event = ""
                block_retry = None
                continue
            head = line[:6]
            if head == "data: ":
                data.append(line[6:])
                continue
            if head == "event:":
                event = line  # the whole line: _name() takes the value out (and caches it)
                continue
            if line[0] == ":":
                continue
            field, _, value = line.partition(":")
            if value[:1] == " ":
                value = value[1:]
            if field == "data":
                data.append(value)
            elif field == "event":
                event = value  # always empty here: `event:` lines took the branch above
            elif field == "id":
                if "\x00" not in value:
                    id_buffer = value
            elif field == "retry" and value.isascii() and value.isdigit():
                self.retry = block_retry = int(value)
        self._data = data
        self._event = event
        self._id_buffer = id_buffer
        self.last_event_id = last_id
        self._block_retry = block_retry
        return out

    def _name(self, line: str) -> str:
        name = (line[7:] if line[6:7] == " " else line[6:]) or "message"
        if len(self._names) < 256:
            self._names[line] = name
        return name

    def end(self) -> None:
        """The stream ended: an unterminated block is discarded, as the standard requires."""
        self._utf8.reset()
        self._pending = ""
        self._skip_lf = False
        self._data = []
        self._size = 0
        self._event = ""
        self._block_retry = None
        self._id_buffer = self.last_event_id
