"""Passwords in URLs, hidden from everything shown: messages, `doctor`, the Settings page, logs.

One function for every URL we show, the model server's (`LLM_API_BASE=http://user:pass@host/v1`) and the
database's (`DATABASE_URL=postgresql://user:pass@host/db`), whether the text is the URL alone or an error
message quoting it. Standard library only, so the pipeline and every store adapter may import it.
"""

from __future__ import annotations

import re

MASK = "***"
# userinfo of every URL in a text. The password runs to the last `@` before the host (a raw `@` in it is
# taken as libpq and urlsplit take it), never across a `/` or whitespace.
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/@:\s]*):(?P<secret>[^/\s]*)@")


def mask_url(text: str) -> str:
    """`text` with the password of every URL in it replaced by `***` (`http://user:***@host/v1`)."""
    return _USERINFO.sub(lambda match: f"{match['scheme']}{match['user']}:{MASK}@", str(text))
