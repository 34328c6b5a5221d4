"""Message catalogs: Chinese first, English switchable.

Strings are written in Chinese in templates, scripts and ``error_text`` (the msgids); the
``en`` catalog translates them and the ``zh_CN`` catalog may refine them. Catalogs are read
from their ``.po`` files at start-up, so ``make run`` needs no compile step.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR: Final = Path(__file__).resolve().parent / "locale"
LANGUAGES: Final = ("zh-CN", "en")
"""What a reader may choose, the default first; the values of ``<html lang>``."""
DEFAULT: Final = LANGUAGES[0]
COOKIE: Final = "lang"


def catalog_dir(lang: str) -> str:
    return lang.replace("-", "_")


@dataclass(frozen=True)
class Language:
    code: str
    translations: Translations
    script_messages: dict[str, str]
    """The translated strings the page scripts ask for (the msgids found in ``.js`` files)."""

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)


@cache
def language(code: str) -> Language:
    """The catalog for ``code`` (one of ``LANGUAGES``), read once."""
    path = LOCALE_DIR / catalog_dir(code) / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=catalog_dir(code))
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    translations = Translations(compiled)
    script_messages = {
        str(m.id): str(m.string) or str(m.id)
        for m in catalog
        if m.id and not m.fuzzy and any(f.endswith(".js") for f, _ in m.locations)
    }
    return Language(code, translations, script_messages)


def choose(cookie: str | None, query: str | None = None) -> str:
    """The reader's language: what they asked for now, else what they chose before, else Chinese."""
    for wanted in (query, cookie):
        if wanted in LANGUAGES:
            return wanted
    return DEFAULT
