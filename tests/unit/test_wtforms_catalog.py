"""WTForms' own messages have a Vietnamese translation (web/form_i18n.py serves them to every form)."""
from __future__ import annotations

import re
from pathlib import Path

import wtforms
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w+\}")


def _catalog():
    with open(ROOT / "web/translations/vi/LC_MESSAGES/wtforms.po", "rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(fh, locale="vi") if m.id}


def test_every_wtforms_message_is_translated_with_its_placeholders():
    with open(Path(wtforms.__file__).parent / "locale" / "wtforms.pot", "rb") as fh:
        wanted = [m for m in read_po(fh) if m.id]
    catalog = _catalog()
    for template in wanted:
        key = template.id if isinstance(template.id, str) else template.id[0]
        assert key in catalog, f"untranslated WTForms message: {key!r}"
        entry = catalog[key]
        strings = [entry.string] if isinstance(entry.string, str) else list(entry.string)
        assert all(strings), key
        for text in strings:
            assert sorted(PLACEHOLDER.findall(text)) == sorted(set(PLACEHOLDER.findall(key))), (key, text)


def test_the_compiled_catalogue_answers():
    from web.form_i18n import catalog

    assert catalog("vi").ugettext("This field is required.") == "Trường này là bắt buộc."
    assert catalog("en").ugettext("This field is required.") == "This field is required."
