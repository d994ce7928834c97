"""The one Jinja environment of the tracker: the report and the web app render through it,
with the same filters for numbers, units and regions.

Autoescape is on (every user text is escaped); templates are not re-read from disk at each
request; jinja2 is imported on first use so `tracker --help` stays fast.
"""

import json
from typing import Any

from tracker.report.labels import UI

_ENV: Any = None


def _region(context: Any, code: str | None) -> str:
    """`code|region`: the region's name, by the `region_name` function the page was rendered
    with (the web app passes its own), else the code itself."""
    name = context.get("region_name")
    return name(code) if name and code else (code or "")


def environment() -> Any:
    """The jinja2 Environment, built once."""
    global _ENV
    if _ENV is None:
        import jinja2

        from tracker.domain.format import format_number, format_value
        from tracker.domain.model import MILESTONE_STATE_LABELS
        from tracker.domain.periods import PLAN_TZ
        from tracker.domain.units import label as unit_label
        from tracker.report.svg import rollup_chart, sparkline

        methods = frozenset(dir(dict))

        class Environment(jinja2.Environment):
            def getattr(self, obj: Any, attribute: str) -> Any:
                """`item.title` on a dict (the report's data is dicts): its key first, as
                `item['title']` would, without raising AttributeError on the way (which made
                attribute look-ups the largest cost of rendering). A dict's own methods
                (`c.get`, `d.items`) stay methods whatever its keys, as Jinja has them."""
                if type(obj) is dict and attribute not in methods:
                    try:
                        return obj[attribute]
                    except KeyError:
                        pass
                return super().getattr(obj, attribute)

        env = Environment(loader=jinja2.PackageLoader("tracker", "templates"), autoescape=True,
                          auto_reload=False, trim_blocks=True, lstrip_blocks=True,
                          undefined=jinja2.StrictUndefined)
        env.globals.update(sparkline=sparkline, rollup_chart=rollup_chart, state_labels=MILESTONE_STATE_LABELS, tz=PLAN_TZ)
        env.filters.update(num=format_number, unit=unit_label, value=format_value,
                           region=jinja2.pass_context(_region))
        _ENV = env
    return _ENV


def render_report(context: dict[str, Any], fragments: Any = None) -> str:
    """The HTML page for a report context. `fragments` (tracker.report.fragments): the memo
    the context was built with; a card or a table row made from the same objects before is
    put in as it was rendered then."""
    env = environment()
    words = UI[context["lang"]]

    def fragment(name: str, place_name: str, place: Any, **names: Any) -> Any:
        """The template `name` (which reads only `c.lang` and `t` of the page) rendered with
        `names` (JSON-ready data), its position variable `place_name` set to `place` (a
        data-json path or row index). With `fragments`, the same data rendered before is
        put in as it was: the data, as JSON, is the key."""
        from markupsafe import Markup

        from tracker.report.fragments import SLOT

        def make() -> str:
            return env.get_template(name).render(c=context, t=words, **{place_name: SLOT}, **names)

        if fragments is None:
            return Markup(make().replace(SLOT, str(place)))
        plain = tuple(sorted((k, v if isinstance(v, str) else tuple(v)) for k, v in names.items()
                             if not isinstance(v, dict)))
        data = tuple(v for _, v in sorted(names.items()) if isinstance(v, dict))

        def by_content() -> str:  # data made anew (a new status) that says the same renders the same
            key = (name, context["lang"], place_name, json.dumps(names, ensure_ascii=False, sort_keys=True))
            return fragments.get((), key, make)

        # the same data objects (kept by tracker.report.build) are the same HTML without encoding them
        html = fragments.get(data, ("html", name, context["lang"], place_name, plain), by_content)
        return Markup(html.replace(SLOT, str(place)))

    return env.get_template("report.html").render(c=context, t=words, fragment=fragment)


def render_index(entries: list[dict[str, Any]], lang: str = "zh") -> str:
    """The index page listing every report (newest first) with its headline counts."""
    return environment().get_template("index.html").render(entries=entries, t=UI[lang], lang=lang)
