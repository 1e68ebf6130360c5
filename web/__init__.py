"""The Flask app factory (ứng dụng web)."""
from __future__ import annotations

import logging
import os

from flask import Flask

from web import config as config_module


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app from the environment; `overrides` is for tests and tools.

    Raises config.ConfigError (naming the variable) when the environment is wrong.
    """
    settings = config_module.from_environment(os.environ)
    settings.update(overrides or {})
    if "SQLALCHEMY_DATABASE_URI" in (overrides or {}):
        # Overrides go through the same validation as DATABASE_URL.
        settings["SQLALCHEMY_DATABASE_URI"] = config_module.database_url(
            {"DATABASE_URL": settings["SQLALCHEMY_DATABASE_URI"]})

    app = Flask(__name__, instance_path=str(config_module.instance_path()))
    app.config.update(settings)
    if app.config.get("TRUSTED_PROXIES"):
        # Behind N proxies, the client's address (the login throttles' key) and scheme are theirs to tell.
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    os.makedirs(app.instance_path, exist_ok=True)

    from web import input_guard
    input_guard.register(app)  # before any route is added: the bounded "int" converter, the request guard

    from web.extensions import babel, csrf, db, login_manager, migrate
    from web import i18n

    db.init_app(app)
    from web import request_db
    request_db.register(app, db)
    migrate.init_app(app, db, directory=str(config_module.MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    login_manager.init_app(app)

    with app.app_context():
        from services.db import tune_sqlite
        tune_sqlite(db.engine)

    from web import auth, admin, errors, main
    from web import admin_calendar  # noqa: F401 — adds the calendar pages to admin.bp before it is registered
    from web import admin_policy  # noqa: F401 — and the policy page
    app.register_blueprint(auth.bp)
    app.register_blueprint(main.bp)
    app.register_blueprint(admin.bp)
    from web import desk, dossiers
    app.register_blueprint(desk.bp)
    app.register_blueprint(dossiers.bp)
    from web import designer, designer_review  # noqa: F401 — review routes attach to designer.bp
    app.register_blueprint(designer.bp)
    from web import documents, inbox, notifications, tasks
    for blueprint in (inbox.bp, tasks.bp, documents.bp, notifications.bp):
        app.register_blueprint(blueprint)
    from web import audit, reports
    app.register_blueprint(audit.bp)
    app.register_blueprint(reports.bp)
    errors.register(app)
    i18n.register(app)
    from web import security_headers
    security_headers.register(app)
    from web import form_i18n
    form_i18n.register(app)

    if not app.debug:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return app
