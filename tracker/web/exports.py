"""The download of stored values (the web side of `tracker export`): GET /export with the same
filters as query parameters (format=csv|xlsx, revisions=1, plan, indicator, region, period,
department; indicator and region may repeat). Any signed-in account may download: the values
are the ones the target pages show."""

import io
from urllib.parse import quote

from starlette.responses import Response

from tracker.web.core import Ctx, page


@page()
def export_download(ctx: Ctx) -> Response:
    from tracker.actuals.exports import MEDIA_TYPES
    from tracker.actuals.problems import EntryError

    state = ctx.state
    state.model()
    q = ctx.request.query_params
    revisions = q.get("revisions", "") in ("1", "true", "on", "yes")
    body = io.BytesIO()
    try:
        done = state.tracker.export(body, fmt=q.get("format") or "xlsx", revisions=revisions,
                                    plan=q.get("plan") or None, indicators=[v for v in q.getlist("indicator") if v],
                                    regions=[v for v in q.getlist("region") if v], period=q.get("period") or None,
                                    department=q.get("department") or None)
    except EntryError as exc:
        return ctx.render("web/error.html", 400, title="无法导出", message=exc.format("zh"), detail="")
    ctx.audit("export", str(ctx.request.url.query), detail=f"{done['rows']} rows")
    name = f"数据导出-{state.today().isoformat()}{'-全部版本' if revisions else ''}.{done['format']}"
    return Response(body.getvalue(), media_type=MEDIA_TYPES[done["format"]],
                    headers={"content-disposition": f"attachment; filename=\"export.{done['format']}\"; "
                                                    f"filename*=UTF-8''{quote(name)}"})
