"""Text from a model, a user or a database made safe to print on a terminal.

Why: a model's output (or an idea pasted from anywhere) can hold escape sequences, and a terminal obeys
them: OSC 52 writes the clipboard, `ESC [2J` clears the screen, a carriage return hides what came before
it on the line, OSC 8 dresses a link up as other text. Human-readable output therefore drops every escape
sequence and C0/C1 control character but newline and tab. JSON output keeps the text exactly:
`json.dumps` escapes C0 controls (`\\u001b`), and `json_text` escapes DEL and the C1 controls as well,
which `json.dumps(ensure_ascii=False)` would print raw (a terminal may obey an 8-bit CSI, U+009B).
"""

from __future__ import annotations

import json
import re

# ESC followed by: a CSI sequence, an OSC/DCS/SOS/PM/APC string (to BEL or ESC \, or to the end), or one
# more character. Dropping the whole sequence keeps its parameters from showing up as litter.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|.?)", re.DOTALL
)
# C0 controls but tab (\x09) and newline (\x0a), DEL, and C1 controls (their 8-bit CSI/OSC forms included).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` without escape sequences or control characters other than newline and tab (a CRLF becomes
    a newline)."""
    text = text.replace("\r\n", "\n")
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))


_RAW_IN_JSON = re.compile(r"[\x7f-\x9f]")


def json_text(value: object, **options: object) -> str:
    """`json.dumps(value, ensure_ascii=False, **options)` with DEL and C1 controls escaped too (`\\u009b`):
    the same JSON, with no character a terminal acts on."""
    text = json.dumps(value, ensure_ascii=False, **options)
    return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
