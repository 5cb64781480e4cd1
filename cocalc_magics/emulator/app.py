"""The tornado Application: every route, and Next.js's HTML 404 for everything else."""

from __future__ import annotations

import tornado.web

from . import accounts, blobs, conat, exec_api, latex, projects, user_query
from .context import Context

_NOT_FOUND_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"/>\
<title>404: This page could not be found.</title></head><body><div id="__next">\
<div style="font-family:system-ui,sans-serif;height:100vh;text-align:center;display:flex;\
flex-direction:column;align-items:center;justify-content:center"><div>\
<h1 class="next-error-h1" style="display:inline-block;margin:0 20px 0 0;padding:0 23px 0 0;\
font-size:24px;font-weight:500;vertical-align:top;line-height:49px">404</h1>\
<div style="display:inline-block"><h2 style="font-size:14px;font-weight:400;line-height:49px;margin:0">\
This page could not be found.</h2></div></div></div></div></body></html>"""


class NotFoundHandler(tornado.web.RequestHandler):
    """Next answers unknown paths (including unknown API routes) with its HTML 404 page."""

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

    def prepare(self) -> None:
        self.set_status(404)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(_NOT_FOUND_PAGE if self.request.method != "HEAD" else None)


def make_app(ctx: Context) -> tornado.web.Application:
    routes = [
        *projects.ROUTES, *user_query.ROUTES, *exec_api.ROUTES, *latex.ROUTES,
        *accounts.ROUTES, *conat.ROUTES, *blobs.ROUTES,
    ]
    handlers = [(pattern, handler, {"ctx": ctx}) for pattern, handler in routes]
    return tornado.web.Application(
        handlers,
        default_handler_class=NotFoundHandler,
        compress_response=False,
        xheaders=False,
    )
