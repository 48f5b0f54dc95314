"""Whether the dashboard is reachable from other machines without the user having asked for it.

Streamlit listens on every interface unless told otherwise, and the history (every idea, every prompt)
has no login in front of it. `prompt-improver dashboard` binds 127.0.0.1 unless `--host` is given, and
then records the choice in `CHOSEN_HOST_ENV`; the app warns on every page when its address is not a
loopback one and is not the address so chosen (e.g. `streamlit run` from a directory whose own
`.streamlit/config.toml` or `STREAMLIT_SERVER_ADDRESS` says `0.0.0.0`). Pure: no Streamlit import.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

CHOSEN_HOST_ENV = "PROMPT_IMPROVER_DASHBOARD_HOST"
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(address: str | None) -> bool:
    """Whether binding `address` keeps the server on this machine (None or "" bind every interface)."""
    if not address:
        return False
    host = address.strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name that may resolve to any interface


def exposure_warning(address: str | None, environ: Mapping[str, str]) -> str | None:
    """The warning to show when the app is served beyond this machine by nobody's explicit choice, else None."""
    if is_loopback(address):
        return None
    chosen = environ.get(CHOSEN_HOST_ENV, "").strip()
    if chosen and chosen == (address or "").strip():
        return None
    where = f"address {address}" if address and address not in ("0.0.0.0", "::") else "every network interface"
    return (
        f"This dashboard listens on {where}: anyone who can reach this machine can read and change your "
        "prompt history (there is no login). Restart it with `prompt-improver dashboard` (127.0.0.1 only), or "
        "with `prompt-improver dashboard --host HOST` if other machines should reach it."
    )
