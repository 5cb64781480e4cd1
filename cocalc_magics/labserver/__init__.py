"""The Jupyter server extension behind the CoCalc sidebar of the JupyterLab extension.

The browser never holds the API key: it asks these routes (under ``<base_url>/cocalc-magics/``), and they
call CoCalc through one :class:`~cocalc_magics.CoCalcSession` that lives in the Jupyter server process and
reads the same settings as a kernel's session (``COCALC_API_KEY``/``COCALC_HOST``, the config file).
``jupyter-config/server-config/cocalc_magics.labserver.json`` enables it; pip installs that file into
``etc/jupyter/jupyter_server_config.d`` through the wheel's shared-data.
"""

from __future__ import annotations


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "cocalc_magics.labserver"}]


def _load_jupyter_server_extension(server_app) -> None:
    from .handlers import (
        setup_handlers,  # tornado and jupyter_server load only inside a Jupyter server
    )

    setup_handlers(server_app.web_app)
    server_app.log.info("cocalc-magics: CoCalc sidebar routes registered under %scocalc-magics/",
                        server_app.web_app.settings.get("base_url", "/"))
