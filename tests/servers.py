"""Real local servers for delivery tests: an HTTP endpoint that records requests and can be
told to fail the first N, and an SMTP server (aiosmtpd) that records messages."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class RecordingHTTPServer:
    """POSTs are recorded; the first `fail_first` get HTTP 500, then `reply` is returned."""

    def __init__(self, fail_first: int = 0, reply: dict[str, Any] | None = None, echo_secrets: bool = False):
        self.requests: list[dict[str, Any]] = []
        self.fail_first = fail_first
        self.echo_secrets = echo_secrets  # a misbehaving proxy: its error repeats the URL and credentials
        self.reply = reply if reply is not None else {"ok": True}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append({"path": self.path, "headers": dict(self.headers),
                                       "json": json.loads(body.decode("utf-8"))})
                failing = len(outer.requests) <= outer.fail_first or outer.echo_secrets
                data = json.dumps({"error": "busy"} if failing else outer.reply).encode()
                reason = f"bad {self.path} {self.headers.get('Authorization', '')}" if outer.echo_secrets else None
                self.send_response(500 if failing else 200, reason)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "RecordingHTTPServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


class RecordingSMTPServer:
    """aiosmtpd on a free loopback port; `messages` holds (envelope rcpts, raw message bytes);
    `on_quit()` is called when a client says QUIT."""

    def __init__(self, tls_context: Any = None, require_starttls: bool = False,
                 on_quit: Any = None):
        import socket

        from aiosmtpd.controller import Controller

        self.messages: list[tuple[list[str], bytes]] = []
        outer = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                outer.messages.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
                return "250 OK"

            async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
                if on_quit is not None:  # what the client has done by the time it says QUIT
                    on_quit()
                return "221 Bye"

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        kwargs: dict[str, Any] = {}
        if tls_context is not None:
            kwargs.update(tls_context=tls_context, require_starttls=require_starttls)
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self) -> "RecordingSMTPServer":
        self.controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.controller.stop()
