"""``bench/results.md`` from a run's results: machine, targets and where we stand, every table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.stats import Summary, fmt_num, fmt_ratio, fmt_summary

GENERATOR_TARGET_SECONDS = 10.0
GENERATOR_TARGET_SIZE = 1000
KB_TARGET = 20.0


def _s(d: dict[str, float]) -> Summary:
    return Summary(d["median"], d["low"], d["high"], int(d["n"]))


@dataclass(frozen=True)
class Target:
    """One goal of the issue and the measurement that answers it."""

    goal: str
    measured: str
    met: bool | None  # None: not measured in this run
    bound_in_spread: bool = False  # the bound lies within the min–max range of the rounds

    @property
    def status(self) -> str:
        """met / not met (noting a bound inside the spread) / — when not measured."""
        if self.met is None:
            return "—"
        if self.met:
            return "met" + (" (bound within the spread)" if self.bound_in_spread else "")
        return "**not met**" + (" (bound within the spread)" if self.bound_in_spread else "")


def _ratio_target(goal: str, s: Summary, bound: float, *, at_least: bool) -> Target:
    met = s.median >= bound if at_least else s.median <= bound
    return Target(goal, fmt_ratio(s, 3), met, s.low <= bound <= s.high)


def targets(r: dict[str, Any]) -> list[Target]:
    """Every target of the issue, judged on medians of paired ratios."""
    out: list[Target] = []
    ss = r.get("single_stream")
    for peer, goal, bound in (
        ("sse_starlette", "server single stream ≥ 1.5× sse-starlette", 1.5),
        ("starlette", "server single stream ≥ 1.0× raw Starlette streaming", 1.0),
    ):
        if ss:
            out.append(
                _ratio_target(goal, _s(ss["ratios"][f"generated / {peer}"]), bound, at_least=True)
            )
        else:
            out.append(Target(goal, "not run", None))
    fo = r.get("fan_out", {})
    for size, data in fo.items():
        out.append(
            _ratio_target(
                f"fan-out CPU ≤ 0.5× sse-starlette ({int(size):,} connections)",
                _s(data["cpu_ratio"]),
                0.5,
                at_least=False,
            )
        )
    for size, data in fo.items():
        kb = _s(data["kb_per_conn"]["generated"])
        out.append(
            Target(
                f"≤ {KB_TARGET:g} kB per idle connection ({int(size):,} connections)",
                fmt_summary(kb, 1, " kB"),
                kb.median <= KB_TARGET,
                kb.low <= KB_TARGET <= kb.high,
            )
        )
    if not fo:
        out.append(
            Target("fan-out CPU ≤ 0.5× sse-starlette; ≤ 20 kB per connection", "not run", None)
        )
    cl = r.get("client")
    if cl:
        out.append(
            _ratio_target(
                "client ≥ 1.0× raw httpx-sse while validating models",
                _s(cl["ratios"]["generated / httpx_sse"]),
                1.0,
                at_least=True,
            )
        )
    else:
        out.append(Target("client ≥ 1.0× raw httpx-sse while validating models", "not run", None))
    gen = r.get("generator")
    size = str(GENERATOR_TARGET_SIZE)
    if gen and size in gen["sizes"]:
        t = _s(gen["sizes"][size]["total"])
        out.append(
            Target(
                f"generator: {GENERATOR_TARGET_SIZE:,} endpoints ≤ {GENERATOR_TARGET_SECONDS:g} s",
                fmt_summary(t, 1, " s"),
                t.median <= GENERATOR_TARGET_SECONDS,
            )
        )
        growth = gen["growth_vs_linear"]
        text = ", ".join(f"{k}: {v:.2f}" for k, v in growth.items())
        # Judged between the two largest sizes: at 10 endpoints fixed costs dominate.
        last = list(growth.values())[-1]
        out.append(
            Target(
                "generator grows linearly (time ratio ÷ size ratio ≈ 1, judged on the "
                "two largest specs, ≤ 1.25)",
                text,
                last <= 1.25,
            )
        )
    else:
        out.append(
            Target(f"generator: {GENERATOR_TARGET_SIZE:,} endpoints ≤ 10 s", "not run", None)
        )
    return out


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


NAMES = {
    "generated": "roccogen generated",
    "sse_starlette": "sse-starlette `EventSourceResponse` (dicts, `model_dump_json`)",
    "starlette": "Starlette `StreamingResponse` (pre-encoded bytes)",
    "httpx_sse": "httpx-sse `iter_sse` (untyped)",
    "httpx_sse_validated": "httpx-sse `iter_sse` + `Tick.model_validate_json`",
    "generated_async": "roccogen generated, async client",
    "httpx_sse_async": "httpx-sse `aiter_sse` (untyped, async)",
}


def render(r: dict[str, Any]) -> str:
    """The whole results.md."""
    meta = r["meta"]
    lines = [
        "# Benchmark results",
        "",
        (
            f"Written by `make bench` (`python -m bench`) on {meta['date']}, in {meta['seconds']:.0f} s ("
            + ", ".join(f"{k} {v:.0f} s" for k, v in meta.get("durations", {}).items())
            + "). Do not edit: the scripts in `bench/` are the source of truth; rerun them to update."
        ),
        "",
        (
            "Every ratio is taken between peers measured back to back in the same round (the order "
            "rotates each round) on a shared, noisy machine; it is reported as the **median and the "
            "min–max range over the rounds**. Absolute numbers are context only. A target is judged "
            'on the median; "bound within the spread" means some rounds fell on the other side.'
        ),
        "",
        "## Targets",
        "",
    ]
    lines += _table(
        ["target (issue 6)", "measured: median (min–max)", "status"],
        [[t.goal, t.measured, t.status] for t in targets(r)],
    )
    lines += ["", "## Machine", ""]
    lines += _table(["", ""], [[k, f"`{v}`"] for k, v in r["machine"].items()])
    lines += [
        "",
        (
            f"Payload: `{meta['payload']}` ({meta['payload_bytes']} bytes of JSON; "
            f"{meta['frame_bytes']}-byte frame `event: tick` + `data:`). uvicorn settings for "
            f"every server: `{meta['uvicorn']}` (its default loop and HTTP implementation: "
            f"{meta['uvicorn_impl']})."
        ),
        "",
    ]
    lines += _single_stream(r) + _fan_out(r) + _client(r) + _generator(r)
    lines += ["## Plots", "", "![events per second](events_per_second.png)", ""]
    if "fan_out" in r:
        lines += ["![fan-out](fan_out.png)", ""]
    if "generator" in r:
        lines += ["![generator time](generator_time.png)", ""]
    return "\n".join(lines) + "\n"


def _stream_tables(ss: dict[str, Any]) -> list[str]:
    per_cpu = ss.get("events_per_cpu_second", {})
    rows = [
        [
            NAMES[a],
            fmt_summary(_s(v)),
            fmt_summary(_s(ss["server_cpu_pct"][a]), 0, " %"),
            fmt_summary(_s(per_cpu[a])) if a in per_cpu else "—",
        ]
        for a, v in ss["rates"].items()
    ]
    lines = _table(
        ["server", "events/s", "server CPU (% of a core)", "events per server CPU second"], rows
    )
    lines += [""]
    cpu_ratios = ss.get("cpu_ratios", {})
    lines += _table(
        ["ratio", "events/s: median (min–max)", "per server CPU second: median (min–max)"],
        [
            [k, fmt_ratio(_s(v)), fmt_ratio(_s(cpu_ratios[k])) if k in cpu_ratios else "—"]
            for k, v in ss["ratios"].items()
        ],
    )
    return lines + [""]


def _single_stream(r: dict[str, Any]) -> list[str]:
    ss = r.get("single_stream")
    if not ss:
        return []
    lines = [
        "## 1. Server, one stream",
        "",
        (
            "One client reads one stream of n events to its end over a raw socket (n sized to "
            f"~{r['meta']['stream_seconds']:g} s per peer: "
            + ", ".join(f"{a} {fmt_num(n)}" for a, n in ss["events_per_stream"].items())
            + f"); {_s(next(iter(ss['rates'].values()))).n} rounds. The handlers send in a tight "
            "loop: the generated server queues frames and writes many per `send`."
        ),
        "",
    ]
    lines += _stream_tables(ss)
    paced = r.get("single_stream_paced")
    if paced:
        lines += [
            "### One event per loop iteration (context, not a target)",
            "",
            (
                "The same, but every handler yields to the event loop after each event "
                "(`await asyncio.sleep(0)`), as one fed by another task would: nothing is left "
                "to coalesce, so this shows the per-event cost of each stack."
            ),
            "",
        ]
        lines += _stream_tables(paced)
    return lines


def _fan_out(r: dict[str, Any]) -> list[str]:
    fo = r.get("fan_out")
    if not fo:
        return []
    m = r["meta"]
    lines = [
        "## 2. Server fan-out",
        "",
        (
            f"A fresh server per trial; a separate load-generator process (asyncio raw sockets) "
            f"opens the connections, each receiving 1 event/s. CPU is measured over "
            f"{m['fanout_window']:g} s once all are connected (+{m['fanout_settle']:g} s settling); "
            f"memory is the server's RSS after minus before the connections (10 warm "
            f"connections already open before), divided by the added connections."
        ),
        "",
    ]
    rows = []
    for size, d in fo.items():
        for peer in d["cpu_pct"]:
            rows.append(
                [
                    f"{int(size):,}",
                    NAMES[peer],
                    fmt_summary(_s(d["cpu_pct"][peer]), 1, " %"),
                    fmt_summary(_s(d["kb_per_conn"][peer]), 1, " kB"),
                    f"{d['delivered'][peer]:.2f}",
                    f"{d['connect_seconds'][peer]:.1f} s",
                    str(d["failed"][peer]),
                ]
            )
    lines += _table(
        [
            "connections",
            "server",
            "CPU (% of a core)",
            "RSS per connection",
            "events delivered (min, of expected)",
            "ramp (max)",
            "failed",
        ],
        rows,
    )
    lines += [""]
    rows = [
        [
            f"{int(size):,}",
            fmt_ratio(_s(d["cpu_ratio"])),
            fmt_ratio(_s(d["mem_ratio"])),
            fmt_ratio(_s(d["floor_cpu_ratio"])) if "floor_cpu_ratio" in d else "—",
            fmt_ratio(_s(d["cpu_vs_floor"])) if "cpu_vs_floor" in d else "—",
        ]
        for size, d in fo.items()
    ]
    lines += _table(
        [
            "connections",
            "CPU generated / sse-starlette",
            "memory generated / sse-starlette",
            "context: CPU bare StreamingResponse / sse-starlette",
            "context: CPU generated / bare StreamingResponse",
        ],
        rows,
    )
    lines += [
        "",
        (
            "The bare `StreamingResponse` does nothing per event but the write (no "
            "serialization, keep-alive, disconnect watch, send timeout or hooks): its ratio "
            "to sse-starlette is about as low as one write per event per connection goes "
            "on this stack."
        ),
    ]
    return lines + [""]


def _client(r: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    cl = r.get("client")
    if cl:
        lines += [
            "## 3. Client",
            "",
            (
                f"Clients (sync; async as context) read streams of {fmt_num(cl['events_per_stream'])} events from a "
                "raw Starlette server writing 128 pre-encoded frames per write (faster than any "
                "client), each to its end."
            ),
            "",
        ]
        lines += _table(
            ["client", "events/s (wall clock)", "events per CPU second of the client"],
            [
                [NAMES[c], fmt_summary(_s(v)), fmt_summary(_s(cl["rates_per_cpu_second"][c]))]
                for c, v in cl["rates"].items()
            ],
        )
        lines += [""]
        lines += _table(
            ["ratio", "wall clock: median (min–max)", "per CPU second: median (min–max)"],
            [
                [k, fmt_ratio(_s(v)), fmt_ratio(_s(cl["cpu_ratios"][k]))]
                for k, v in cl["ratios"].items()
            ],
        )
        lines += [""]
    dec = r.get("decode")
    if dec:
        lines += [
            "### In-memory decoding",
            "",
            (
                f"{fmt_num(dec['events'])} frames fed in {dec['chunk_bytes'] // 1024} KiB chunks: "
                "the generated package's `SseDecoder.feed` vs httpx-sse's own pipeline "
                "(incremental UTF-8 decoding, `SSELineDecoder`, `SSEDecoder`), both producing "
                "`ServerSentEvent`s."
            ),
            "",
        ]
        lines += _table(
            ["decoder", "events/s"],
            [[NAMES.get(d, d), fmt_summary(_s(v))] for d, v in dec["rates"].items()],
        )
        lines += ["", f"Ratio generated / httpx-sse: {fmt_ratio(_s(dec['ratio']))}.", ""]
    return lines


def _generator(r: dict[str, Any]) -> list[str]:
    gen = r.get("generator")
    if not gen:
        return []
    lines = [
        "## 4. Generator",
        "",
        (
            "`build_spec` + `write_files` on `bench/synth.py` specs (three events and two models "
            "per endpoint), each build in a fresh process as `roccogen build` runs (the wall time "
            "includes interpreter start and imports: `startup`), each cold build with an empty "
            "black cache. Such a build generates the models in a forked process while it "
            "renders the rest, so its stages overlap: the stage times (and the formatting "
            "share) are from one more cold build, run serially, whose wall time is given beside "
            "them."
        ),
        "",
    ]
    rows = []
    for n, d in gen["sizes"].items():
        st = d["stages"]
        rows.append(
            [
                f"{int(n):,}",
                fmt_summary(_s(d["total"]), 2, " s"),
                str(_s(d["total"]).n),
                f"{d['per_endpoint_ms']:.1f}",
                f"{100 * _s(d['format_share']).median:.0f} %",
                f"{d['output_mb']:.1f}",
                f"{d['serial_total']:.2f} s" if "serial_total" in d else "",
                " / ".join(
                    f"{st.get(k, 0.0):.2f}"
                    for k in (
                        "startup",
                        "load + IR",
                        "models",
                        "server",
                        "client",
                        "openapi",
                        "format",
                        "write",
                        "other",
                    )
                ),
            ]
        )
    lines += _table(
        [
            "endpoints",
            "cold build, wall time",
            "runs",
            "ms per endpoint",
            "formatting share",
            "output MB",
            "serial build",
            "serial stages, s: startup / load+IR / models / server / client / openapi / format / write / other",
        ],
        rows,
    )
    warm_rows = [
        [
            f"{int(n):,}",
            f"{d['warm_unchanged']['total']:.2f} s",
            f"{d['warm_one_edited']['total']:.2f} s" if d.get("warm_one_edited") else "not run",
        ]
        for n, d in gen["sizes"].items()
        if "warm_unchanged" in d
    ]
    if warm_rows:
        lines += [
            "",
            (
                "Warm rebuilds reuse the black cache of the last cold build "
                "(`ROCCOGEN_CACHE_DIR`): the same spec again, and the spec with one "
                "endpoint's summary edited. Context only; the target is judged cold."
            ),
            "",
        ]
        lines += _table(
            ["endpoints", "warm: unchanged spec", "warm: one endpoint edited"], warm_rows
        )
    growth = ", ".join(f"{k}: {v:.2f}" for k, v in gen["growth_vs_linear"].items())
    lines += ["", f"Growth vs linear (time ratio ÷ size ratio; 1.00 = linear): {growth}.", ""]
    return lines
