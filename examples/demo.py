"""Serve the generated Prices API with uvicorn and read it with the generated client.

    roccogen build specs/prices.yaml -o out
    python examples/demo.py out
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path

import httpx
import uvicorn


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "out").resolve()
    sys.path[:0] = [str(out), str(Path(__file__).parent)]
    from prices.client import MessageEvent, PriceEvent, PricesClient, VolumeEvent
    from prices.server import create_app
    from prices_service import RandomWalkPrices

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(RandomWalkPrices(0.1)), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    print(f"serving the generated Prices API on {url}  (OpenAPI: {url}/openapi.json)\n")

    print("-- on the wire (first 9 lines of GET /prices/stream) --")
    with httpx.stream("GET", f"{url}/prices/stream") as response:
        print(f"HTTP {response.status_code}  content-type: {response.headers['content-type']}")
        for n, line in enumerate(response.iter_lines()):
            print(f"  {line}")
            if n == 8:
                break

    print("\n-- typed events through the generated client --")
    with PricesClient(url) as api, api.price_stream() as stream:
        for n, event in enumerate(stream):
            match event:
                case MessageEvent(data=update):
                    print(f"  message  {update.symbol} {update.price:>7.2f}")
                case PriceEvent(data=update):
                    print(f"  price    {update.symbol} {update.price:>7.2f}")
                case VolumeEvent(data=volume):
                    print(f"  volume   {volume.symbol} {volume.volume:>7d}")
            if n == 11:
                break
    server.should_exit = True
    thread.join(timeout=10)
    print("\ndone: stream closed, server stopped")


if __name__ == "__main__":
    main()
