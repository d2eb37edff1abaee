"""`audioguide studio`: a local web application, in French, for the people who make guides.

Starlette serves pages rendered with Jinja2; htmx (vendored, static/htmx-2.0.11.min.js, licence beside it) sends
the live checks, the listening and the pronunciation tries; the build's progress comes by server-sent events.
"""

from audioguide.studio.server import create_app, serve_studio

__all__ = ["create_app", "serve_studio"]
