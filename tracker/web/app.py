"""The web app (`tracker serve`): reporting units enter values and milestone progress, upload
the Excel template, and everyone browses the reports, the targets and who has reported.

Server-rendered (Starlette, the package's Jinja2 templates with autoescape, no JavaScript,
nothing fetched from elsewhere), on the same database as the CLI and the scheduler. The
handlers are thin (one module per area: signin, entry, uploads, progress, browse, admin; what they
share in core): the values go through the service (the same checks as a file import),
statuses and reports through the service (tracker.service.Tracker), permissions and
sessions through tracker.web.auth. Each handler body runs in a worker thread, since the
database calls block.

Every form carries the session's CSRF token; every write and every refusal is audited;
permissions are checked on the server for every cell, whatever the form offered.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from tracker.domain.model import TargetsModel
from tracker.web.admin import audit_log, user_active, users
from tracker.web.approvals import (
    approval_view,
    approvals,
    approvals_decide,
    approvals_preview,
    approvals_submit,
    approvals_unlock,
)
from tracker.web.browse import (
    completeness,
    history,
    remind,
    report_file,
    reports,
    reports_generate,
    target_page,
    targets,
)
from tracker.web.core import SECURITY_HEADERS, WebState
from tracker.web.entry import entry
from tracker.web.exports import export_download
from tracker.web.progress import progress
from tracker.web.signin import healthz, home, login_page, logout
from tracker.web.uploads import template_download, upload


class SecurityHeaders:
    """Adds the security headers to every response (a plain ASGI wrapper: cheap)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Any, *, engine: Any = None, clock: Callable[[], datetime] | None = None,
               model: TargetsModel | None = None) -> Starlette:
    """The ASGI app on `settings`' database. `clock` (default: the system clock, aware UTC)
    lets tests move time; `model` replaces targets.yaml."""
    from tracker import store as db
    engine = engine or db.get_engine(settings.database_url)
    routes = [
        Route("/", home),
        Route("/healthz", healthz),
        Route("/login", login_page, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/entry", entry, methods=["GET", "POST"]),
        Route("/upload", upload, methods=["GET", "POST"]),
        Route("/template", template_download),
        Route("/progress", progress, methods=["GET", "POST"]),
        Route("/reports", reports),
        Route("/reports/generate", reports_generate, methods=["POST"]),
        Route("/reports/{name}", report_file),
        Route("/reports/plans/{plan}/{name}", report_file),
        Route("/targets", targets),
        Route("/targets/{target_id}", target_page),
        Route("/history", history),
        Route("/export", export_download),
        Route("/completeness", completeness),
        Route("/completeness/remind", remind, methods=["POST"]),
        Route("/users", users, methods=["GET", "POST"]),
        Route("/users/{username}/{action:str}", user_active, methods=["POST"]),
        Route("/audit", audit_log),
        Route("/approvals", approvals),
        Route("/approvals/submit", approvals_submit, methods=["POST"]),
        Route("/approvals/decide", approvals_decide, methods=["POST"]),
        Route("/approvals/unlock", approvals_unlock, methods=["POST"]),
        Route("/approvals/view", approval_view),
        Route("/approvals/preview", approvals_preview),
    ]
    app = Starlette(routes=routes)
    app.state.web = WebState(settings, engine, clock or (lambda: datetime.now(UTC)), model)
    app.add_middleware(SecurityHeaders)
    return app
