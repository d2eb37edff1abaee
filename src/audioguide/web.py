"""Web addresses as the feed prints them: the one rule for a guide's `base_url:`/`link:` and `--base-url`.

It sits below every stage (the settings and the guide both read it), so neither imports the other for it."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from audioguide.i18n import _


def web_address(url: str, folder: bool = False) -> str:
    """An http(s) address as the feed will print it (non-ASCII host and path encoded); ValueError says why not.

    folder: the base URL every published file is appended to, so no ?query or #fragment, and a final '/'.
    """
    if re.search(r"[\s\"'<>\\`{}|^]", url):
        raise ValueError(_("must not contain spaces, quotes, <, >, {, }, | or backslashes (write a space as %20)"))
    try:
        parts = urlsplit(url)
        port = parts.port
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError) as exc:
        raise ValueError(_("is not a valid address ({error})").format(error=exc)) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(_("must start with http:// or https://"))
    if not host:
        raise ValueError(_("has no server name after the //"))
    if parts.username is not None:
        raise ValueError(_("must not hold a user name or password: the feed is public"))
    if folder and (parts.query or parts.fragment):
        raise ValueError(_("must not have a ?query or #fragment: it is the address of a folder"))
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port is not None else "")
    path = quote(parts.path, safe="/%!$&()*+,;=:@-._~")
    if folder and not path.endswith("/"):
        path += "/"
    query = quote(parts.query, safe="/%!$&()*+,;=:@-._~?")
    fragment = quote(parts.fragment, safe="/%!$&()*+,;=:@-._~?")
    return f"{parts.scheme.lower()}://{netloc}{path}" + (f"?{query}" if query else "") + \
        (f"#{fragment}" if fragment else "")

