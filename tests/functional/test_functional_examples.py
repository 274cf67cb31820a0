"""One test per example spec: the generated server on uvicorn, the generated client reading it.

Both sides come from the same spec; nothing in between is hand-written but the small service
implementations below.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from functional_packages import package, quick
from sse_live import live_server


def test_prices() -> None:
    mods = package("prices.yaml")
    server, client, models = mods["server"], mods["client"], mods["models"]

    class Prices(server.PricesService):  # type: ignore[name-defined,misc]
        async def price_stream(self, request: Any, stream: Any) -> None:
            await stream.send(models.PriceUpdate(symbol="ACME", price=1.25))
            await stream.price(models.PriceUpdate(symbol="ACME", price=1.5))
            await stream.volume(models.VolumeUpdate(symbol="ACME", volume=300))

    with live_server(server.create_app(Prices())) as url, client.PricesClient(url) as api:
        with api.price_stream() as stream:
            seen = []
            for event in stream:
                match event:
                    case client.MessageEvent(data=update):
                        seen.append(("message", update.price))
                    case client.PriceEvent(data=update):
                        seen.append(("price", update.price))
                    case client.VolumeEvent(data=volume):
                        seen.append(("volume", volume.volume))
        assert seen == [("message", 1.25), ("price", 1.5), ("volume", 300)]

        got: list[Any] = []

        async def dispatch() -> None:
            async with client.AsyncPricesClient(url) as async_api:
                stream = async_api.price_stream()
                stream.on("volume", lambda e: got.append(e.data.volume))

                @stream.on("price")
                async def on_price(event: Any) -> None:
                    got.append(event.data.price)

                await stream.run()

        asyncio.run(dispatch())
        assert got == [1.5, 300]


def test_channels() -> None:
    mods = package("channels.yaml")
    server, client, models = mods["server"], mods["client"], mods["models"]

    class Channels(server.ChannelsService):  # type: ignore[name-defined,misc]
        async def channel_stream(self, request: Any, stream: Any) -> None:
            if request.channel == "nowhere":
                raise server.ChannelNotFoundError(f"no channel {request.channel}")
            await stream.send(
                models.ChannelEvent(channel=request.channel, kind=request.filter or "-", payload={"n": 1})
            )
            await stream.log("first line\nsecond line")

    with live_server(server.create_app(Channels())) as url, client.ChannelsClient(url) as api:
        events = list(api.channel_stream("team-a", filter="deploy"))
        assert isinstance(events[0], client.MessageEvent)
        assert (events[0].data.channel, events[0].data.kind, events[0].data.payload) == ("team-a", "deploy", {"n": 1})
        assert isinstance(events[1], client.LogEvent) and events[1].data == "first line\nsecond line"
        with pytest.raises(client.ChannelNotFoundError) as info:
            list(api.channel_stream("nowhere"))
        assert info.value.status == 404 and info.value.code == "CHANNEL_NOT_FOUND"
        with pytest.raises(client.ApiError) as bad:  # the path pattern is enforced by the server
            list(api.channel_stream("Not Valid!"))
        assert bad.value.status == 422


def test_configured() -> None:
    mods = package("configured.yaml")
    server, client, models = mods["server"], mods["client"], mods["models"]
    calls: list[list[str]] = []

    class Configured(server.ConfiguredService):  # type: ignore[name-defined,misc]
        async def configured_stream(self, request: Any, stream: Any) -> None:
            symbols = [s.root for s in request.body.symbols]  # items are RootModel[str]
            calls.append(symbols)
            for i, symbol in enumerate(symbols):
                await stream.send(models.PriceUpdate(symbol=symbol, price=float(i)))

    with live_server(server.create_app(Configured())) as url, client.ConfiguredClient(url) as api:
        body = models.StreamConfig(symbols=["A", "B"], interval=250)
        with api.configured_stream(body) as stream:
            assert [(e.data.symbol, e.data.price) for e in stream] == [("A", 0.0), ("B", 1.0)]
        invalid = models.StreamConfig.model_construct(symbols=[], interval=5)
        with pytest.raises(client.ApiError) as info:
            list(api.configured_stream(invalid))
        assert info.value.status == 422
    assert calls == [["A", "B"]]  # one request per stream: the POST was never replayed


def test_jobs_resume_after_every_clean_end() -> None:
    mods = package("jobs.yaml")
    server, client, models = mods["server"], mods["client"], mods["models"]
    resumed_from: list[str | None] = []

    class Jobs(server.JobsService):  # type: ignore[name-defined,misc]
        async def job_progress(self, request: Any, stream: Any) -> None:
            if request.job_id == "missing":
                raise server.JobNotFoundError("no such job")
            resumed_from.append(request.last_event_id)
            if request.job_id == "boom":
                await stream.progress(models.Progress(step=1, total=2), id="1")
                await stream.error(models.JobError(code="CRASH", message="disk full"))
                return
            start = int(request.last_event_id or 0) + 1
            for step in range(start, min(start + 3, 11)):  # at most three events per connection
                await stream.progress(models.Progress(step=step, total=10), id=str(step))
                if step % 4 == 0:
                    await stream.log(f"checkpoint {step}", id=str(step) + ".log")
            if start + 3 > 10:
                await stream.done_event(models.JobResult(status="succeeded"), id="done")

    with live_server(server.create_app(Jobs())) as url, client.JobsClient(url, reconnect=quick(client)) as api:
        with api.job_progress("job-1", verbose=True) as stream:
            events = list(stream)
        steps = [e.data.step for e in events if isinstance(e, client.ProgressEvent)]
        assert steps == list(range(1, 11))  # zero lost, zero duplicated across three reconnections
        assert isinstance(events[-1], client.DoneEvent) and events[-1].data.status == "succeeded"
        assert resumed_from == [None, "3", "6", "9"]
        assert stream.reconnects == 3
        with pytest.raises(client.JobProgressError) as failed:
            list(api.job_progress("boom"))
        assert failed.value.event.data.code == "CRASH"
        with pytest.raises(client.JobNotFoundError):
            list(api.job_progress("missing"))


def test_notifications_with_scoped_bearer_tokens() -> None:
    mods = package("notifications.yaml")
    server, client, models = mods["server"], mods["client"], mods["models"]
    tokens = {"reader": {"notifications:read"}, "stranger": set()}

    async def authenticate(request: Any) -> Any:
        auth = request.headers.get("authorization", "")
        if not auth:
            return None
        token = auth.removeprefix("Bearer ")
        if token not in tokens:
            raise server.Unauthorized("unknown token")
        return server.Identity(id=token, scopes=frozenset(tokens[token]))

    class Notifications(server.NotificationsService):  # type: ignore[name-defined,misc]
        async def notifications(self, request: Any, stream: Any) -> None:
            await stream.send(models.Notification(id="n1", title=f"hello {request.identity.id}"))

    app = server.create_app(Notifications(), authenticator=authenticate)
    with live_server(app) as url:
        with client.NotificationsClient(url, token="reader") as api:
            (event,) = list(api.notifications())
        assert event.data.title == "hello reader" and event.data.level == "info"
        with client.NotificationsClient(url) as api, pytest.raises(client.ApiError) as anonymous:
            list(api.notifications())
        assert anonymous.value.status == 401
        with client.NotificationsClient(url, token="stranger") as api, pytest.raises(client.ApiError) as denied:
            list(api.notifications())
        assert denied.value.status == 403


def test_chat_from_openapi() -> None:
    mods = package("chat.openapi.yaml")
    server, client, models = mods["server"], mods["client"], mods["models"]

    async def authenticate(request: Any) -> Any:
        return server.Identity(id="u", scopes=frozenset({"chat:write"}))

    class Chat(server.ChatService):  # type: ignore[name-defined,misc]
        async def chat_completion(self, request: Any, stream: Any) -> None:
            words = request.body.messages[-1].content.split()
            for i, word in enumerate(words):
                await stream.delta(models.ChatDelta(index=i, content=word))
            await stream.usage(models.Usage(prompt_tokens=len(words), completion_tokens=len(words)))
            await stream.done_event(models.ChatDone(finish_reason="stop"))

    body = models.ChatRequest(model="m", messages=[models.Message(role="user", content="hi there")])

    async def main(url: str) -> list[Any]:
        async with client.AsyncChatClient(url, token="t") as api, api.chat_completion(body) as stream:
            return [event async for event in stream]

    with live_server(server.create_app(Chat(), authenticator=authenticate)) as url:
        events = asyncio.run(main(url))
    assert [type(e).__name__ for e in events] == ["DeltaEvent", "DeltaEvent", "UsageEvent", "DoneEvent"]
    assert " ".join(e.data.content for e in events[:2]) == "hi there"
