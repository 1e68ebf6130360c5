"""Security headers on every response (tiêu đề bảo mật), from one after-request hook.

The pages load only our own files: scripts (web/static/js, bpmn-js and htmx vendored under
web/static/vendor), stylesheets and fonts, and fetch only our own URLs. So the policy allows
'self' and nothing else — no inline script, no eval, no inline <style> or style="" in markup:

- the templates carry no inline script or on*= handler (data goes in data-* attributes or
  <script type="application/json">, which is data, not script, and CSP does not block it);
- htmx is told (base.html, <meta name="htmx-config">) not to eval (hx-on, js: values, trigger
  filters) and not to inject its indicator <style>;
- bpmn-js sets styles through the CSSOM (element.style.x = …) and SVG presentation attributes,
  which style-src does not govern; its bpmn-js.css has data: images, hence img-src data:.

frame-ancestors 'none' (and X-Frame-Options for older browsers) stops the one-click claim and
complete forms being framed. Uploaded content keeps its own, stricter headers (web/serving.py);
this hook only fills in what a response has not set.
"""
from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
#: Only where the cookies are HTTPS-only (QUYTRINH_ENV=production): a browser then keeps to HTTPS.
HSTS = "max-age=31536000"


def register(app: Flask) -> None:
    hsts = bool(app.config.get("SESSION_COOKIE_SECURE"))

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
