"""The known-browser cookie (thiết bị quen): which accounts this browser has logged into before.

A login that succeeds adds its account to a cookie signed with the app's secret key. The login
throttles (services.login_throttle) hold back unknown browsers when an account or an address is under
attack, but never a browser that has logged into the account before: strangers failing from anywhere
cannot lock the official out of their own browser. The cookie proves nothing else, grants no access,
and is readable only by the server (HttpOnly).
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from services.accounts import KnownDevice

COOKIE = "quytrinh_device"
MAX_AGE = timedelta(days=180)
_MAX_ACCOUNTS = 10  # a shared office computer: the last few accounts that logged in there


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="quytrinh-known-device")


def read() -> KnownDevice | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=int(MAX_AGE.total_seconds()))
        token, ids = str(data["t"]), tuple(int(i) for i in data["u"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None  # forged, expired or from another secret key: an unknown browser
    return KnownDevice(token, ids[-_MAX_ACCOUNTS:])


def remember(response: Response, device: KnownDevice | None, user_id: int) -> None:
    token = device.token if device else secrets.token_urlsafe(18)
    ids = [i for i in (device.user_ids if device else ()) if i != user_id][-(_MAX_ACCOUNTS - 1):] + [user_id]
    response.set_cookie(COOKIE, _serializer().dumps({"t": token, "u": ids}),
                        max_age=int(MAX_AGE.total_seconds()), httponly=True, samesite="Lax",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
                        path=current_app.config.get("SESSION_COOKIE_PATH") or "/")
