"""Each SSE dialect on a small document: what it becomes in the IR."""

from __future__ import annotations

import json
from pathlib import Path

from roccogen.ir import Api, Param
from roccogen.openapi.reader import read_openapi
from roccogen.yaml_source import load_source, parse_source

DOCUMENTS = Path(__file__).parent / "documents"


def _read(text: str) -> tuple[Api, list[str]]:
    doc, problems = parse_source(text, "doc.yaml")
    assert doc is not None, problems
    api, diagnostics = read_openapi(doc, "doc")
    assert api is not None, [d.format() for d in diagnostics]
    return api, [d.format() for d in diagnostics]


def _events(api: Api) -> list[tuple[str, bool, str | None, str, str | None]]:
    return [(e.name, e.named, e.model, e.role, e.sentinel) for e in api.streams[0].all_events]


def test_speakeasy_one_of_envelopes_with_an_event_discriminator_and_a_sentinel() -> None:
    api, messages = _read("""
openapi: 3.1.0
info: {title: Speakeasy, version: "1"}
paths:
  /chat:
    post:
      operationId: chat
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: "#/components/schemas/ChatInput"}}}
      responses:
        "200":
          description: stream
          content:
            text/event-stream:
              x-speakeasy-sse-sentinel: "[DONE]"
              schema:
                oneOf:
                  - $ref: "#/components/schemas/DeltaFrame"
                  - $ref: "#/components/schemas/UsageFrame"
                discriminator:
                  propertyName: event
                  mapping:
                    delta: "#/components/schemas/DeltaFrame"
                    usage: "#/components/schemas/UsageFrame"
components:
  schemas:
    ChatInput: {type: object, properties: {prompt: {type: string}}}
    Delta: {type: object, properties: {text: {type: string}}}
    Usage: {type: object, properties: {tokens: {type: integer}}}
    DeltaFrame:
      type: object
      required: [event, data]
      properties:
        event: {type: string}
        data: {$ref: "#/components/schemas/Delta"}
    UsageFrame:
      type: object
      required: [event, data]
      properties:
        id: {type: string}
        event: {type: string}
        data: {$ref: "#/components/schemas/Usage"}
""")
    assert messages == []
    assert _events(api) == [
        ("delta", True, "Delta", "data", None),
        ("usage", True, "Usage", "data", None),
        ("message", False, None, "terminal", "[DONE]"),
    ]
    assert api.streams[0].terminal is not None and api.streams[0].terminal.py_name == "done_event"
    assert [m.name for m in api.models] == ["ChatInput", "Delta", "Usage"]


def test_fern_stream_known_only_from_its_extension() -> None:
    api, messages = _read("""
openapi: 3.1.0
info: {title: Fern, version: "1"}
paths:
  /completions:
    post:
      operationId: complete
      x-fern-streaming:
        format: sse
        terminator: "[DONE]"
        resumable: true
        stream-condition: $request.stream
        response: {$ref: "#/components/schemas/Completion"}
        response-stream: {$ref: "#/components/schemas/Chunk"}
      responses:
        "200":
          description: the whole completion
          content: {application/json: {schema: {$ref: "#/components/schemas/Completion"}}}
components:
  schemas:
    Completion: {type: object, properties: {text: {type: string}}}
    Chunk: {type: object, properties: {delta: {type: string}}}
""")
    assert messages == []
    stream = api.streams[0]
    assert _events(api) == [("message", False, "Chunk", "data", None), ("message", False, None, "terminal", "[DONE]")]
    assert stream.resumable and stream.body is None
    assert [m.name for m in api.models] == ["Chunk"]


def test_fastapi_item_schema_in_a_3_1_document() -> None:
    api, messages = _read("""
openapi: 3.1.0
info: {title: FastAPI, version: "0.1.0"}
paths:
  /items/stream:
    get:
      operationId: stream_items_items_stream_get
      responses:
        "200":
          description: Successful Response
          content:
            text/event-stream:
              itemSchema:
                type: object
                properties:
                  data: {type: string, contentMediaType: application/json, contentSchema: {$ref: "#/components/schemas/Item"}}
                  event: {type: string}
                  id: {type: string}
                  retry: {type: integer, minimum: 0}
                required: [data]
components:
  schemas:
    Item: {type: object, required: [name], properties: {name: {type: string}, price: {type: number}}}
""")
    assert [m.split("] ")[0].rsplit("[", 1)[1] for m in messages] == ["RG033"]
    assert _events(api) == [("message", False, "Item", "data", None)]


def test_openapi_3_0_schemas_become_json_schema() -> None:
    api, _ = _read("""
openapi: 3.0.3
info: {title: Old, version: "1"}
paths:
  /s:
    get:
      operationId: s
      parameters:
        - {name: n, in: query, schema: {type: integer, minimum: 0, exclusiveMinimum: true, nullable: true}}
      responses:
        "200":
          description: x
          content: {text/event-stream: {schema: {$ref: "#/components/schemas/Event"}}}
components:
  schemas:
    Event:
      type: object
      properties:
        note: {type: string, nullable: true}
        kind: {type: string, enum: [a, b], nullable: true, default: "null"}
        detail: {allOf: [{$ref: "#/components/schemas/Detail"}], nullable: true}
        size: {type: number, minimum: 1, exclusiveMinimum: true}
    Detail: {type: object}
""")
    event = json.loads(next(m.schema_json for m in api.models if m.name == "Event"))
    assert event["properties"]["note"] == {"type": ["string", "null"]}
    assert event["properties"]["kind"] == {"type": ["string", "null"], "enum": ["a", "b", None], "default": None}
    assert event["properties"]["detail"] == {
        "anyOf": [{"allOf": [{"$ref": "#/components/schemas/Detail"}]}, {"type": "null"}],
    }
    assert event["properties"]["size"] == {"type": "number", "exclusiveMinimum": 1}
    assert api.streams[0].params == (
        Param("n", "n", "query", "integer", False, exclusive_minimum=0),
    )


def test_refs_into_relative_files() -> None:
    path = DOCUMENTS / "external" / "openapi.yaml"
    doc, problems = load_source(path, "external/openapi.yaml")
    assert doc is not None and not problems
    api, diagnostics = read_openapi(doc, "external", path)
    assert api is not None, [d.format() for d in diagnostics]
    assert [(e.name, e.model) for e in api.streams[0].events] == [("local", "Local"), ("tick", "Tick")]
    models = {m.name: json.loads(m.schema_json) for m in api.models}
    assert sorted(models) == ["Local", "Shared", "Tick"]
    assert models["Tick"]["properties"]["shared"] == {"$ref": "#/components/schemas/Shared"}
    assert models["Local"]["properties"]["shared"] == {"$ref": "#/components/schemas/Shared"}
    (limit,) = api.streams[0].params
    assert (limit.name, limit.type, limit.minimum, limit.maximum, limit.default) == ("limit", "integer", 1, 50, 10)


def test_component_names_become_class_names_without_collisions() -> None:
    api, messages = _read("""
openapi: 3.2.0
info: {title: Names, version: "1"}
paths:
  /s:
    get:
      operationId: s
      responses:
        "200":
          description: x
          content:
            text/event-stream:
              itemSchema:
                oneOf:
                  - properties: {event: {const: a}, data: {contentMediaType: application/json, contentSchema: {$ref: "#/components/schemas/tick_event"}}}
                  - properties: {event: {const: b}, data: {contentMediaType: application/json, contentSchema: {$ref: "#/components/schemas/TickEvent"}}}
                  - properties: {event: {const: c}, data: {contentMediaType: application/json, contentSchema: {$ref: "#/components/schemas/Field"}}}
                  - properties: {event: {const: d}, data: {contentMediaType: application/json, contentSchema: {properties: {x: {type: integer}}}}}
components:
  schemas:
    tick_event: {type: object, properties: {next: {$ref: "#/components/schemas/TickEvent"}}}
    TickEvent: {type: object}
    Field: {type: object}
""")
    assert [e.model for e in api.streams[0].events] == ["TickEvent2", "TickEvent", "FieldModel", "SDData"]
    assert [m.split(": ", 1)[1] for m in messages] == [
        "warning[RG012] schema 'tick_event' is class 'TickEvent2': schema 'TickEvent' is class 'TickEvent'",
        "warning[RG012] schema 'Field' is class 'FieldModel': 'Field' is a name generated code uses",
    ]
    tick2 = json.loads(next(m.schema_json for m in api.models if m.name == "TickEvent2"))
    assert tick2["properties"]["next"] == {"$ref": "#/components/schemas/TickEvent"}


def test_a_member_with_an_event_enum_declares_each_name() -> None:
    api, messages = _read("""
openapi: 3.2.0
info: {title: Enum, version: "1"}
paths:
  /s:
    get:
      operationId: s
      responses:
        "200":
          description: x
          content:
            text/event-stream:
              itemSchema:
                oneOf:
                  - properties:
                      event: {enum: [created, updated]}
                      data: {contentMediaType: application/json, contentSchema: {$ref: "#/components/schemas/Thing"}}
                  - properties:
                      event: {const: deleted}
                      data: {type: string}
components:
  schemas:
    Thing: {type: object, properties: {id: {type: string}}}
""")
    assert messages == []
    assert _events(api) == [
        ("created", True, "Thing", "data", None),
        ("deleted", True, None, "data", None),
        ("updated", True, "Thing", "data", None),
    ]


def test_openapi_3_2_media_type_refs_and_serialized_examples() -> None:
    api, messages = _read("""
openapi: 3.2.0
info: {title: Media types, version: "1"}
paths:
  /s:
    get:
      operationId: s
      responses:
        "200":
          description: x
          content:
            text/event-stream: {$ref: "#/components/mediaTypes/Ticks"}
components:
  mediaTypes:
    Ticks:
      itemSchema:
        oneOf:
          - properties: {event: {const: tick}, data: {type: string}}
      examples:
        wire:
          serializedValue: "event: Tick\\ndata: 1\\n\\n"
""")
    assert _events(api) == [("tick", True, None, "data", None)]
    assert [m.split(": ", 1)[1] for m in messages] == [
        "warning[RG032] the example sends event 'Tick', but the schema declares 'tick'; SSE event names are case-sensitive"
    ]
