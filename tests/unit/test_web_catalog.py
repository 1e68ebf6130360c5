"""Every message the web and the services can show has a Vietnamese translation."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_every_extracted_message_is_translated(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-k", "N_", "--no-location", "-o", str(pot), "."], cwd=ROOT, check=True, capture_output=True)
    with open(pot, "rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with open(ROOT / "web/translations/vi/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh, locale="vi")
    translated = {m.id for m in catalog if m.id and m.string and "fuzzy" not in m.flags}
    missing = sorted(wanted - translated, key=str)
    assert not missing, f"untranslated (run pybabel extract/update and fill the .po): {missing[:10]}"
