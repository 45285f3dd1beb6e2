"""Hand untranslated UI strings to a translator and take the translations back.

    python scripts/translations.py export LANG OUT.json   # untranslated and fuzzy entries
    python scripts/translations.py import LANG IN.json    # fill them in (then compile_messages)

The JSON is a list of objects: ``msgid``, ``msgid_plural`` (or null), ``msgctxt`` (or null),
``plural_forms`` (how many forms the language has), and ``msgstr`` (a string) or
``msgstr_plural`` (a list, one per form) for the translator to fill. Import checks that every
``%(name)s`` placeholder survives, refuses entries it cannot find, and clears the fuzzy flag.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "src" / "csas" / "locale"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _catalogue(language: str) -> tuple[Path, polib.POFile]:
    path = LOCALE / language / "LC_MESSAGES" / "django.po"
    if not path.exists():
        raise SystemExit(f"{path}: no catalogue for {language!r}")
    return path, polib.pofile(str(path))


def _plural_forms(catalogue: polib.POFile) -> int:
    found = re.search(r"nplurals\s*=\s*(\d+)", catalogue.metadata.get("Plural-Forms", ""))
    return int(found.group(1)) if found else 2


def export(language: str, out: Path) -> int:
    _, catalogue = _catalogue(language)
    forms = _plural_forms(catalogue)
    wanted = catalogue.untranslated_entries() + catalogue.fuzzy_entries()
    rows = [
        {
            "msgctxt": entry.msgctxt,
            "msgid": entry.msgid,
            "msgid_plural": entry.msgid_plural or None,
            "plural_forms": forms,
            "msgstr": "",
            "msgstr_plural": [""] * forms if entry.msgid_plural else None,
        }
        for entry in wanted
    ]
    out.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{language}: {len(rows)} entries to translate written to {out}")
    return 0


def _check(language: str, msgid: str, text: str) -> None:
    if not text.strip():
        raise SystemExit(f"{language}: empty translation for {msgid!r}")
    if set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(msgid)):
        raise SystemExit(f"{language}: placeholders differ in {msgid!r} -> {text!r}")


def import_(language: str, source: Path) -> int:
    path, catalogue = _catalogue(language)
    forms = _plural_forms(catalogue)
    rows = json.loads(source.read_text(encoding="utf-8"))
    done = 0
    for number, row in enumerate(rows, start=1):
        entry = catalogue.find(row["msgid"], msgctxt=row.get("msgctxt") or False)
        if entry is None:
            raise SystemExit(f"{source}: entry {number} ({row['msgid']!r}) is not in {path}")
        if entry.msgid_plural:
            texts = row.get("msgstr_plural") or []
            if len(texts) != forms:
                raise SystemExit(
                    f"{source}: entry {number} ({row['msgid']!r}) needs {forms} plural forms"
                )
            for text in texts:
                _check(language, entry.msgid_plural, text)
            entry.msgstr_plural = dict(enumerate(texts))
        else:
            _check(language, entry.msgid, row.get("msgstr", ""))
            entry.msgstr = row["msgstr"]
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        entry.previous_msgid = None
        entry.previous_msgid_plural = None
        done += 1
    catalogue.save(str(path))
    print(f"{language}: {done} entries filled in {path}")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[1] not in {"export", "import"}:
        print(__doc__)
        return 2
    _, verb, language, file = argv
    return export(language, Path(file)) if verb == "export" else import_(language, Path(file))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
