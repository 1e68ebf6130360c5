"""Fill empty Vietnamese msgstr in web/translations/vi/LC_MESSAGES/messages.po from a JSON file.

Usage: python tools/fill_po.py translations.json  — {msgid: Vietnamese text}. Existing translations
are never overwritten; prints the msgids still untranslated.
"""
import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "web/translations/vi/LC_MESSAGES/messages.po"


def main(path: str) -> int:
    wanted = json.loads(Path(path).read_text(encoding="utf-8"))
    with open(PO, "rb") as fh:
        catalog = read_po(fh, locale="vi")
    missing = []
    for message in catalog:
        if not message.id or message.string:
            continue
        if message.id in wanted:
            message.string = wanted[message.id]
        else:
            missing.append(message.id)
    with open(PO, "wb") as fh:
        write_po(fh, catalog, width=100)
    if missing:
        print(f"{len(missing)} msgids still untranslated (maybe other engineers' work in progress):")
        for msgid in missing:
            print("  ", msgid)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
