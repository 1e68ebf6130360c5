"""Dossier documents on the web (tài liệu hồ sơ): upload from the task page, download as attachment.

The upload route checks its CSRF token itself, after raising this request's size limit to the
documents' limit plus room for the form: the app-wide check would read an oversized body first
and answer with a bare 413, where the official should see "too large" next to the file field.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms.validators import ValidationError as CSRFValidationError

from services import documents as document_service
from services.errors import Conflict, ValidationError
from services.roles import OFFICIAL_ROLES
from web import serving
from web.auth import role_required
from web.extensions import csrf, db
from web.tasks import get_step, max_document_bytes, render_task

bp = Blueprint("documents", __name__)

_FORM_ROOM = 64 * 1024  # the CSRF token, the field names and the multipart boundaries


def store() -> document_service.DocumentStore:
    root = current_app.config.get("QUYTRINH_DOCUMENTS_DIR") or Path(current_app.instance_path) / "documents"
    return document_service.DocumentStore(root)


@bp.post("/tasks/<int:step_id>/documents")
@csrf.exempt  # checked below, once the body may be read
@role_required(*OFFICIAL_ROLES)
def upload(step_id: int):
    step = get_step(step_id)
    limit = max_document_bytes(current_app.config)
    request.max_content_length = limit + _FORM_ROOM
    too_large = _("The file is larger than the limit of %(limit)s.", limit=document_service.human_size(limit))
    try:
        token, upload_file = request.form.get("csrf_token"), request.files.get("file")
    except RequestEntityTooLarge:
        return render_task(step, upload_error=too_large, status=413)
    try:
        validate_csrf(token)
    except CSRFValidationError as exc:
        raise CSRFError(str(exc)) from None
    if upload_file is None or not upload_file.filename:
        return render_task(step, upload_error=_("Choose a file to upload."), status=400)
    try:
        result = document_service.upload(
            db.session, current_user._get_current_object(), step.dossier_id, upload_file.stream,
            upload_file.filename, store=store(), max_bytes=limit, step_id=step_id)
    except (ValidationError, Conflict) as exc:
        # Refused file, or the dossier stopped or closed meanwhile: said next to the file field.
        return render_task(db.session.get(type(step), step_id), upload_error=_(exc.template, **exc.params),
                           status=exc.status)
    if result.created:
        flash(_("Document '%(name)s' is attached.", name=result.document.filename), "success")
    else:
        flash(_("The same file is already attached as '%(name)s'.", name=result.document.filename), "info")
    return redirect(url_for("tasks.show", step_id=step_id, _anchor="documents"), 303)


@bp.get("/documents/<int:document_id>")
@login_required
def download(document_id: int):
    document, path = document_service.open_document(db.session, current_user._get_current_object(),
                                                    document_id, store())
    return serving.uploaded(path, filename=document.filename, content_type=document.content_type)
