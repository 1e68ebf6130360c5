"""Where a user-given target may send the browser (chuyển hướng an toàn): pages of this site only.

`next` on the login page, and the `next` field of the claim and notification forms, come from the
request, so anyone can craft them into a link: none may become an open redirect. Every such target
goes through `local_path`, the one rule.
"""
from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

from flask import current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

# What a browser ignores or rewrites before resolving a URL (WHATWG URL standard): C0 controls and
# spaces around it, tab/CR/LF anywhere, a backslash read as a slash ("/<TAB>/evil" and
# "/<backslash>evil" both mean "//evil", another host).
_IGNORED = dict.fromkeys(map(ord, "\t\r\n"))
_AROUND = "".join(map(chr, range(0x21)))
_MAX_LENGTH = 2000


def local_path(target: str | None) -> str | None:
    """`target` as a path of this site that answers GET, or None.

    It is read as a browser would read it; only a path with no scheme and no host (before and after
    percent-decoding) that matches one of the app's GET routes is kept, and what is returned is the
    path that was checked, not the raw input.
    """
    if not isinstance(target, str) or not target or len(target) > _MAX_LENGTH:
        return None
    cleaned = target.translate(_IGNORED).strip(_AROUND).replace("\\", "/")
    if (not cleaned.startswith("/") or cleaned.startswith("//")
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in cleaned)):
        return None
    parts = urlsplit(cleaned)
    path = unquote(parts.path)
    if parts.scheme or parts.netloc or path.startswith("//") or "\\" in path:
        return None
    try:
        current_app.create_url_adapter(request).match(path, method="GET")
    except RequestRedirect:
        pass  # the same page with a trailing slash: still this site
    except HTTPException:  # no such page, or none to land on (POST only)
        return None
    return request.script_root + urlunsplit(("", "", parts.path, parts.query, parts.fragment))
