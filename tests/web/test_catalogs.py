"""The message catalogs stay in step with the pages, and every API error has plain words."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from api import body_limit, limits
from api import errors as api_errors
from api.stores import accounts, sign_in
from api.stores import errors as store_errors
from api.web import error_text, i18n
from workflows import errors as wf_errors

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(
    r"^[A-Z][a-z]+(?:[A-Z][a-z]+)+$|^[A-Z][a-z]+[A-Z]$|^Forbidden$|^NotFound$|^Conflict$"
)


def extracted(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_", "-k", "N_", "--no-location", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as f:
        return {str(m.id) for m in read_po(f) if m.id}


def catalog(lang: str) -> dict[str, str]:
    path = i18n.LOCALE_DIR / i18n.catalog_dir(lang) / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        return {str(m.id): str(m.string) for m in read_po(f) if m.id and not m.fuzzy}


def test_every_string_on_the_pages_is_in_both_catalogs_and_translated_into_english(
    tmp_path: Path,
) -> None:
    wanted = extracted(tmp_path)
    assert len(wanted) > 50
    for lang in i18n.LANGUAGES:
        missing = wanted - catalog(lang).keys()
        assert not missing, f"run `make messages`: {lang} lacks {sorted(missing)[:5]}"
    english = catalog("en")
    untranslated = sorted(m for m in wanted if not english[m].strip())
    assert not untranslated, f"translate in the en catalog: {untranslated[:5]}"


def test_placeholders_survive_translation() -> None:
    for msgid, msgstr in catalog("en").items():
        assert set(re.findall(r"\{\w+\}", msgid)) == set(re.findall(r"\{\w+\}", msgstr)), msgid


def api_error_codes() -> set[str]:
    """Every stable code the API can answer with, from the modules that define them."""
    codes: set[str] = set()
    for module in (store_errors, wf_errors, api_errors, limits, body_limit, sign_in, accounts):
        codes |= {v for k, v in vars(module).items() if k.isupper() and isinstance(v, str)}
    for source in (ROOT / "api").rglob("*.py"):
        # Codes written where they are raised: Invalid("InvalidRole", ...).
        codes |= set(
            re.findall(r"(?:Invalid|Conflict|NotFound)\(\s*\"([A-Z]\w+)\"", source.read_text())
        )
    return {c for c in codes if CODE.match(c)}


def test_every_api_error_code_has_words_for_people() -> None:
    codes = api_error_codes()
    assert {"InvalidTransition", "NotSignedIn", "RateLimited", "RequestTooLarge"} <= codes
    missing = codes - error_text.TEXT.keys()
    assert not missing, f"add to api/web/error_text.py: {sorted(missing)}"
