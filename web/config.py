"""Configuration from the environment (cấu hình).

Everything a deployment sets comes from environment variables so that the same code runs embedded
(SQLite under instance/) and in production (PostgreSQL, several gunicorn processes).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the variable and the cause."""


def instance_path() -> Path:
    return Path(os.environ.get("QUYTRINH_INSTANCE_PATH") or PROJECT_ROOT / "instance").resolve()


def database_url(environ=os.environ) -> str:
    """The database URL, validated: a malformed one is a ConfigError naming DATABASE_URL."""
    raw = environ.get("DATABASE_URL", "").strip()
    if not raw:
        return f"sqlite:///{instance_path() / 'quytrinh.db'}"
    try:
        url = make_url(raw)
        url.port  # noqa: B018 — a non-numeric port only fails when read
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(f"DATABASE_URL is malformed: {exc}") from None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"DATABASE_URL uses the unsupported database '{backend}': use sqlite:/// or postgresql://"
        )
    if backend == "postgresql" and url.drivername in ("postgresql", "postgres"):
        # psycopg 3 is the driver we ship; SQLAlchemy's bare "postgresql" means psycopg2.
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def secret_key(environ=os.environ) -> str:
    """SECRET_KEY from the environment; embedded installs get one generated once into instance/."""
    key = environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    if environ.get("QUYTRINH_ENV") == "production":
        raise ConfigError(
            "SECRET_KEY is not set: QUYTRINH_ENV=production refuses to start without a fixed secret key "
            "(sessions and CSRF tokens would not survive a restart or work across processes)"
        )
    path = instance_path() / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _int(environ, name: str, default: int, minimum: int = 1) -> int:
    """An integer setting; a malformed or too small one is a ConfigError naming the variable."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not '{raw}'") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def from_environment(environ=os.environ) -> dict:
    """The Flask config mapping for this environment."""
    from services.dossiers.lifecycle import DEFAULT_MAX_EXTENSION_WORKING_DAYS
    from services.dossiers.receive import DEFAULT_MAX_BACKDATE_DAYS

    production = environ.get("QUYTRINH_ENV") == "production"
    return {
        "SECRET_KEY": secret_key(environ),
        "SQLALCHEMY_DATABASE_URI": database_url(environ),
        # LIFO: a request takes the connection used last, whose prepared statements are warm;
        # the others idle (and are pinged before reuse).
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_use_lifo": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        # Failed logins within the window (LOCKOUT_MINUTES) before a client is held back for as long:
        # per browser-or-address and account, per address, per account for unknown browsers
        # (services.login_throttle). None of them lets a stranger lock an official out.
        "LOGIN_MAX_FAILURES": _int(environ, "QUYTRINH_LOGIN_MAX_FAILURES", 5),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": _int(environ, "QUYTRINH_LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": _int(environ, "QUYTRINH_LOGIN_MAX_FAILURES_PER_ACCOUNT", 20),
        "LOGIN_LOCKOUT_MINUTES": _int(environ, "QUYTRINH_LOGIN_LOCKOUT_MINUTES", 15),
        # How many reverse proxies in front set X-Forwarded-For/-Proto (0: none, remote_addr is the
        # client). Only set it when they do: the header is otherwise the client's to forge.
        "TRUSTED_PROXIES": _int(environ, "QUYTRINH_TRUSTED_PROXIES", 0, minimum=0),
        "MAX_CONTENT_LENGTH": _int(environ, "QUYTRINH_MAX_UPLOAD_BYTES", 20 * 1024 * 1024),
        "QUYTRINH_ENV": environ.get("QUYTRINH_ENV", "development"),
        # How far an apology letter may move a return date (working days after the current one),
        # and how far back a receipt time may be recorded (calendar days; 0: the calendar's range).
        "QUYTRINH_MAX_EXTENSION_WORKING_DAYS": _int(
            environ, "QUYTRINH_MAX_EXTENSION_WORKING_DAYS", DEFAULT_MAX_EXTENSION_WORKING_DAYS),
        "QUYTRINH_MAX_BACKDATE_DAYS": _int(environ, "QUYTRINH_MAX_BACKDATE_DAYS",
                                           DEFAULT_MAX_BACKDATE_DAYS, minimum=0),
    }
