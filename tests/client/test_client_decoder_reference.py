"""The decoder against a line-by-line transcription of the HTML standard's event-stream rules.

Random streams of every field shape (and of common shapes the decoder reads whole blocks at a
time), every line ending, BOMs, NULs, multi-byte text and unterminated tails are fed in random
chunkings; events, the last event ID and the reconnection time must be what the rules give.
"""

from __future__ import annotations

import random
import re

import pytest

from roccogen.runtime._client_decoder import SseDecoder

Event = tuple[str, str, str, int | None]


def reference(stream: bytes, last_event_id: str = "") -> tuple[list[Event], str, int | None]:
    """https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation"""
    text = stream.decode("utf-8", "replace")
    text = text.removeprefix("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)
    events: list[Event] = []
    data: str | None = None  # the data buffer, None while empty
    event_type = ""
    id_buffer = last_event_id
    retry: int | None = None
    block_retry: int | None = None
    for line in lines[:-1]:  # the last piece has no line end: it is not a line yet
        if line == "":
            last_event_id = id_buffer
            if data is not None:
                events.append((event_type or "message", data, last_event_id, block_retry))
            data, event_type, block_retry = None, "", None
            continue
        if line.startswith(":"):
            continue
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            event_type = value
        elif field == "data":
            data = value if data is None else f"{data}\n{value}"
        elif field == "id":
            if "\x00" not in value:
                id_buffer = value
        elif field == "retry" and value and all(c in "0123456789" for c in value):
            retry = block_retry = int(value)
    return events, last_event_id, retry


COMMON = ["data: {\"p\":1}", "data: x:y", "event: price", "event: ", "data:  two spaces"]
ODD = [
    "data", "data:", "data:no-space", "event", "event:tight", "id: 7", "id:", "id", "id: a\x00b",
    "retry: 1500", "retry:250", "retry: 1a", "retry: ", "retry: ٣", ": a comment", ":", "foo: bar",
    "data: ü € 😀", "event: 価格", "data: \ufeffnot a bom",
]


def random_stream(rng: random.Random) -> bytes:
    parts: list[str] = ["\ufeff"] if rng.random() < 0.2 else []
    for _ in range(rng.randint(1, 40)):
        if rng.random() < 0.6:  # a common block, as servers send them
            shapes = [[f"data: d{rng.randint(0, 99)}"], [f"event: e{rng.randint(0, 3)}", "data: v"]]
            block = rng.choice(shapes)
        else:
            block = [rng.choice(COMMON + ODD) for _ in range(rng.randint(1, 4))]
        end = rng.choice(["\n", "\n", "\r\n", "\r"])
        parts.append("".join(line + end for line in block) + end * rng.choice([1, 1, 1, 2]))
    if rng.random() < 0.3:
        parts.append(rng.choice(["data: unterminated", "data: tail\n", "retry: 42\n", "id: 9\n"]))
    return "".join(parts).encode("utf-8")


def feed(stream: bytes, cuts: list[int], last_event_id: str = "") -> tuple[list[Event], str, int | None]:
    decoder = SseDecoder(last_event_id)
    events: list[Event] = []
    for begin, end in zip([0, *cuts], [*cuts, len(stream)]):
        events.extend(decoder.feed_fields(stream[begin:end]))
    decoder.end()
    return events, decoder.last_event_id, decoder.retry


@pytest.mark.parametrize("seed", range(40))
def test_random_streams_in_random_chunks_follow_the_rules(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(25):
        stream = random_stream(rng)
        expected = reference(stream, "start")
        chunkings = [[], list(range(1, len(stream)))]
        chunkings += [sorted(rng.sample(range(1, len(stream)), min(len(stream) - 1, rng.randint(1, 9)))) for _ in range(4)]
        for cuts in chunkings:
            assert feed(stream, cuts, "start") == expected, (stream, cuts)


def test_the_reference_itself_reads_a_known_stream() -> None:
    stream = b"\xef\xbb\xbfdata: a\r\ndata\r\rid: 3\nevent: x\ndata: b\n\nretry: 9\n: c\n\ndata: lost"
    assert reference(stream) == ([("message", "a\n", "", None), ("x", "b", "3", None)], "3", 9)
