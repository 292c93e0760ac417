"""An MCP client on the official Python SDK 2.x (`mcp` on PyPI), in the modern (2026-07-28) or
the legacy (initialize + session) era, that checks what it did on the wire.

Run:  python mcp_client.py <url> [--mode auto|modern|legacy] [--tool NAME [--args JSON]
          [--expect TEXT]] [--resource URI [--expect-resource TEXT]]
          [--elicit-tool NAME [--elicit-args JSON] [--answer JSON] [--expect-elicit TEXT]]

--mode auto (the SDK's default) probes `server/discover` and must end up modern; modern pins
2026-07-28 (no probe); legacy runs the initialize handshake. In auto and modern it asserts the
protocol version is 2026-07-28, that no Mcp-Session-Id header went either way, that no
`initialize` was sent, and that every POST carried MCP-Protocol-Version and Mcp-Method (and
Mcp-Name for tools/call and resources/read). --elicit-tool calls a tool that asks the user
through elicitation; the elicitation callback accepts with --answer, must be called exactly
once, and the tool's final text must contain --expect-elicit. Prints what it did, ends with
`OK`; exit 1 on any failure. Hard timeout 30 s.
"""

import argparse
import json
import sys

import anyio
import httpx2
import mcp_types as types
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

MODERN = "2026-07-28"


class Wire:
    """Every HTTP exchange of the client: the request headers and JSON-RPC method, and whether
    the response named a session."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.session_headers: list[str] = []

    async def on_request(self, request: httpx2.Request) -> None:
        sid = request.headers.get("mcp-session-id")
        if sid:
            self.session_headers.append(f"request {request.method} sent Mcp-Session-Id {sid}")
        if request.method != "POST":
            return
        try:
            body = json.loads(request.content or b"null")
        except ValueError:
            body = None
        messages = body if isinstance(body, list) else [body]
        for msg in messages:
            if isinstance(msg, dict) and "method" in msg:
                self.posts.append(
                    {
                        "method": msg["method"],
                        "params": msg.get("params") or {},
                        "version": request.headers.get("mcp-protocol-version"),
                        "mcp_method": request.headers.get("mcp-method"),
                        "mcp_name": request.headers.get("mcp-name"),
                    }
                )

    async def on_response(self, response: httpx2.Response) -> None:
        sid = response.headers.get("mcp-session-id")
        if sid:
            self.session_headers.append(f"response to {response.request.method} carried Mcp-Session-Id {sid}")


def fail(message: str) -> None:
    raise AssertionError(message)


def text_of(result: types.CallToolResult) -> str:
    return " ".join(c.text for c in result.content if isinstance(c, types.TextContent))


def check_modern_wire(wire: Wire) -> None:
    if wire.session_headers:
        fail("a session was used in the modern era: " + "; ".join(wire.session_headers))
    for post in wire.posts:
        method = post["method"]
        if method == "initialize":
            fail("the client sent initialize in the modern era")
        if method.startswith("notifications/"):
            continue
        if post["version"] != MODERN:
            fail(f"{method} went with MCP-Protocol-Version {post['version']!r}")
        if post["mcp_method"] != method:
            fail(f"{method} went with Mcp-Method {post['mcp_method']!r}")
        meta = post["params"].get("_meta") or {}
        if meta.get("io.modelcontextprotocol/protocolVersion") != MODERN:
            fail(f"{method} carried no io.modelcontextprotocol/protocolVersion {MODERN} in _meta")
        want_name = {"tools/call": "name", "resources/read": "uri", "prompts/get": "name"}.get(method)
        if want_name and post["mcp_name"] != post["params"].get(want_name):
            fail(f"{method} went with Mcp-Name {post['mcp_name']!r}, not {post['params'].get(want_name)!r}")


async def run(opts: argparse.Namespace) -> None:
    with anyio.fail_after(30):
        await check(opts)


async def check(opts: argparse.Namespace) -> None:
    wire = Wire()
    asked: list[types.ElicitRequestParams] = []
    answer = json.loads(opts.answer)

    async def on_elicit(_context, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params)
        print("elicitation:", params.model_dump_json(exclude_none=True, by_alias=True))
        return types.ElicitResult(action="accept", content=answer)

    mode = {"auto": "auto", "modern": MODERN, "legacy": "legacy"}[opts.mode]
    http = httpx2.AsyncClient(
        timeout=httpx2.Timeout(30.0),
        event_hooks={"request": [wire.on_request], "response": [wire.on_response]},
    )
    async with http:
        transport = streamable_http_client(opts.url, http_client=http)
        client = Client(
            transport,
            mode=mode,
            elicitation_callback=on_elicit,
            client_info=types.Implementation(name="sunpeak-test-py-client", version="0.1.0"),
        )
        async with client:
            version = client.protocol_version
            info = client.server_info
            print("protocol:", version, "server:", f"{info.name} {info.version}" if info else "unnamed")
            if opts.mode == "legacy":
                if version == MODERN:
                    fail("legacy mode negotiated 2026-07-28")
            elif version != MODERN:
                fail(f"protocol version {version!r}, not {MODERN}")

            tools = await client.list_tools()
            names = [t.name for t in tools.tools]
            print("tools:", ", ".join(names))
            if opts.tool:
                if opts.tool not in names:
                    fail(f"{opts.tool} is not listed")
                r = await client.call_tool(opts.tool, json.loads(opts.args))
                print("callTool:", r.model_dump_json(exclude_none=True, by_alias=True))
                if r.is_error:
                    fail(f"{opts.tool} answered isError")
                if opts.expect and opts.expect not in r.model_dump_json(by_alias=True):
                    fail(f"{opts.tool}'s result does not contain {opts.expect!r}")
            if opts.resource:
                r = await client.read_resource(opts.resource)
                dumped = r.model_dump_json(exclude_none=True, by_alias=True)
                print("readResource:", dumped[:300] + ("..." if len(dumped) > 300 else ""))
                if not r.contents:
                    fail(f"{opts.resource} has no contents")
                if opts.expect_resource and opts.expect_resource not in r.model_dump_json(by_alias=True):
                    fail(f"{opts.resource} does not contain {opts.expect_resource!r}")
            if opts.elicit_tool:
                r = await client.call_tool(opts.elicit_tool, json.loads(opts.elicit_args))
                print("elicitTool:", r.model_dump_json(exclude_none=True, by_alias=True))
                if len(asked) != 1:
                    fail(f"the elicitation callback ran {len(asked)} times, not once")
                if r.is_error:
                    fail(f"{opts.elicit_tool} answered isError: {text_of(r)}")
                if opts.expect_elicit and opts.expect_elicit not in text_of(r):
                    fail(f"{opts.elicit_tool}'s text {text_of(r)!r} does not contain {opts.expect_elicit!r}")
                if opts.mode != "legacy":
                    calls = [p for p in wire.posts if p["method"] == "tools/call"
                             and p["params"].get("name") == opts.elicit_tool]
                    if len(calls) != 2 or "requestState" not in calls[1]["params"]:
                        fail(f"expected a tools/call and one retry with requestState, saw {len(calls)} calls")
                    print("rounds: 2 (input_required, then the retry with inputResponses and requestState)")

    if opts.mode != "legacy":
        check_modern_wire(wire)
        print("session: none (no Mcp-Session-Id either way, no initialize)")
    else:
        methods = [p["method"] for p in wire.posts]
        if "initialize" not in methods:
            fail("legacy mode sent no initialize")
        print("session:", "; ".join(wire.session_headers[:1]) or "none (stateless server)")
    print("methods:", ", ".join(p["method"] for p in wire.posts))
    print("OK")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url")
    p.add_argument("--mode", choices=["auto", "modern", "legacy"], default="auto")
    p.add_argument("--tool")
    p.add_argument("--args", default="{}")
    p.add_argument("--expect")
    p.add_argument("--resource")
    p.add_argument("--expect-resource")
    p.add_argument("--elicit-tool")
    p.add_argument("--elicit-args", default="{}")
    p.add_argument("--answer", default='{"name": "Alice"}')
    p.add_argument("--expect-elicit")
    opts = p.parse_args()
    try:
        anyio.run(run, opts)
    except BaseException as e:  # noqa: BLE001 - report and fail
        print("ERROR:", repr(e), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
