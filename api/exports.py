"""Tables a county office can forward: CSV (UTF-8 with a BOM, so Excel reads the Chinese)
and XLSX (one sheet per table, bold Chinese headers, frozen header row)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

Cell = str | int | float | None
Format = Literal["csv", "xlsx"]
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Sheet:
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]]


def render(sheets: Sequence[Sheet], fmt: Format) -> bytes:
    return _xlsx(sheets) if fmt == "xlsx" else _csv(sheets)


def _csv(sheets: Sequence[Sheet]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for i, sheet in enumerate(sheets):
        if len(sheets) > 1:
            if i:
                writer.writerow([])
            writer.writerow([sheet.title])
        writer.writerow(sheet.headers)
        writer.writerows(_safe(row) for row in sheet.rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _safe(row: Sequence[Cell]) -> list[Cell]:
    # A cell starting with = + - @ is a formula to a spreadsheet: text people typed (a
    # reason, an address) must never run as one.
    return [f"'{c}" if isinstance(c, str) and c[:1] in ("=", "+", "-", "@") else c for c in row]


def _xlsx(sheets: Sequence[Sheet]) -> bytes:
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for sheet in sheets:
        ws = book.create_sheet(sheet.title[:31])
        ws.freeze_panes = "A2"
        header = [WriteOnlyCell(ws, value=name) for name in sheet.headers]
        for cell in header:
            cell.font = bold
        ws.append(header)
        for row in sheet.rows:
            ws.append(_safe(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
