"""Rendering a page: the reader's language, the base template and the data its scripts read."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api.deps import SettingsDep
from api.web import error_text, i18n, vocabulary
from core import service_words

# Apps whose sign-in outlives the tab (a refresh cookie, api/routes/auth.py): the resident's,
# who comes back days later from a new tab or an SMS. The desks stay signed in per tab.
KEPT_SIGN_IN: Final = frozenset({"resident"})
TEMPLATES: Final = Path(__file__).resolve().parent / "templates"
STATIC: Final = Path(__file__).resolve().parent / "static"


@cache
def environment(lang: str) -> Environment:
    """One environment per language: the i18n extension binds its catalog at install time."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.language(lang).translations, newstyle=True)  # type: ignore[attr-defined]
    return env


def tz_label(timezone: str, lang: str) -> str:
    """How a page labels its times: Beijing time for China's zone, else the zone's name."""
    language = i18n.language(lang)
    if ZoneInfo(timezone).key in ("Asia/Shanghai", "Asia/Chongqing", "PRC"):
        return language.gettext("北京时间")
    return timezone


class Pages:
    """Renders the app's templates for one request, in the reader's language."""

    def __init__(self, request: Request, settings: SettingsDep) -> None:
        self.request = request
        self.settings = settings
        self.lang = i18n.choose(request.cookies.get(i18n.COOKIE), request.query_params.get("lang"))

    def script_data(self, app: str) -> dict[str, Any]:
        language = i18n.language(self.lang)
        return {
            "app": app,
            "lang": self.lang,
            "timezone": self.settings.county_timezone,
            "tz_label": tz_label(self.settings.county_timezone, self.lang),
            "hotline": self.settings.center_hotline,
            "messages": language.script_messages,
            "errors": {code: language.gettext(text) for code, text in error_text.TEXT.items()},
            "error_fallback": language.gettext(error_text.FALLBACK),
            "error_offline": language.gettext(error_text.OFFLINE),
            "error_unreachable": language.gettext(error_text.UNREACHABLE),
            "error_server": language.gettext(error_text.SERVER),
            "kept_sign_in": app in KEPT_SIGN_IN,
            "sms_code_attempts": self.settings.sms_code_max_attempts,
            "common_items": service_words.COMMON,
            "service_words": service_words.WORDS,
            "service_separators": service_words.SEPARATORS.pattern,
            "statuses": {
                code: language.gettext(words) for code, words in vocabulary.STATUS.items()
            },
        }

    def render(
        self, template: str, app: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        env = environment(self.lang)
        html = env.get_template(template).render(
            lang=self.lang,
            languages=i18n.LANGUAGES,
            app=app,
            path=self.request.url.path,
            hotline=self.settings.center_hotline,
            script_data=self.script_data(app),
            **context,
        )
        response = HTMLResponse(html, status_code=status_code)
        # Pages carry no personal data (scripts fetch it with the reader's token), but they do
        # change with the language cookie.
        response.headers["Vary"] = "Cookie"
        response.headers["Cache-Control"] = "no-cache"
        if self.request.query_params.get("lang") in i18n.LANGUAGES:
            response.set_cookie(i18n.COOKIE, self.lang, max_age=365 * 86400, samesite="lax")
        return response


PagesDep = Annotated[Pages, Depends()]
