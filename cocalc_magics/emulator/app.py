"""The tornado Application: every route, and Next.js's HTML 404 for everything else."""

from __future__ import annotations

import tornado.web

from . import (
    accounts,
    blobs,
    conat,
    exec_api,
    fault_control,
    jupyter,
    latex,
    projects,
    upload,
    user_query,
    write_text_file,
)
from .context import Context
from .nextjs import NotFoundHandler


def make_app(ctx: Context) -> tornado.web.Application:
    routes = [
        *projects.ROUTES, *user_query.ROUTES, *exec_api.ROUTES, *latex.ROUTES,
        *accounts.ROUTES, *conat.ROUTES, *blobs.ROUTES,
        *write_text_file.ROUTES, *upload.ROUTES,
        # Registered only when fault injection is on; otherwise the path is Next's 404 like any other.
        *(fault_control.ROUTES if ctx.faults is not None else []),
        *jupyter.ROUTES,  # v2 jupyter/kernels and jupyter/execute
    ]
    handlers = [(pattern, handler, {"ctx": ctx}) for pattern, handler in routes]
    return tornado.web.Application(
        handlers,
        default_handler_class=NotFoundHandler,
        compress_response=False,
        xheaders=False,
    )
