"""A git merge driver for the pages' message catalogs (.po, .pot): the union of both sides.

Two branches that add strings to a catalog touch neighbouring lines of one sorted file, so
git's line merge conflicts where nothing really does. This keeps every message of both sides
(a translation wins over an empty one; where both translate one msgid differently, the other
branch's wins and the driver says so). Set up once per clone:

    git config merge.catalog.driver "python3 scripts/merge_catalog.py %O %A %B"

(``.gitattributes`` routes ``*.po`` and ``*.pot`` here). ``make messages`` tidies afterwards.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po


def merge(ours_path: Path, theirs_path: Path) -> list[str]:
    with ours_path.open("rb") as f:
        ours = read_po(f)
    with theirs_path.open("rb") as f:
        theirs = read_po(f)
    disagreements = []
    for message in theirs:
        if not message.id:
            continue
        mine = ours.get(message.id, message.context)
        if mine is None:
            ours[message.id] = message
            continue
        if message.string and mine.string != message.string:
            if mine.string:
                disagreements.append(str(message.id))
            mine.string = message.string
            mine.flags.discard("fuzzy")
        for location in message.locations:
            if location not in mine.locations:
                mine.locations.append(location)
    with ours_path.open("wb") as f:
        write_po(f, ours, width=0, sort_output=True, include_previous=False)
    return disagreements


if __name__ == "__main__":
    _base, ours, theirs = (Path(p) for p in sys.argv[1:4])
    for msgid in merge(ours, theirs):
        print(
            f"merge_catalog: two translations of {msgid!r}; kept the incoming one", file=sys.stderr
        )
