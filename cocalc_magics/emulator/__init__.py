"""A local stand-in for the CoCalc API v2 server (``python -m cocalc_magics.emulator``).

It is a real tornado HTTP server with SQLite state that answers the way cocalc.com does,
including CoCalc's quirks (errors as HTTP 200 ``{"error": ...}``, Next.js body parsing,
project-key rules, the LaTeX flow and blob URLs). It shares no code with the client on
purpose: two independent readings of the same API facts catch each other's mistakes.

Files, one job each:

- ``__main__``   command line, startup, the one JSON ready line
- ``app``        tornado Application: routes and the Next.js-style 404 page
- ``handler``    base request handler: body parsing, auth, CoCalc's error convention
- ``context``    the shared state handed to every handler (store, settings, project control)
- ``store``      SQLite schema and queries
- ``seed``       the two seeded accounts and projects, fresh API keys on every start
- ``keys``       API key format, hashing, verification
- ``accounts``   accounts/profile, accounts/get-names and api-keys endpoints
- ``projects``   projects/* endpoints and the start/stop state machine
- ``user_query`` the user-query endpoint (get/set semantics of CoCalc's user queries)
- ``filesystem`` maps project paths onto a directory per project and refuses escapes
- ``execute``    runs commands like CoCalc's execute-code (the project side)
- ``exec_api``   the exec endpoint
- ``latex``      the latex endpoint
- ``blobs``      blob storage and ``GET /blobs/...``
- ``conat``      the conat bridge ``/api/conat/{hub,project}``: auth, timeouts, CoCalc's error texts
- ``conat_hub``  the hub methods CoCalc's official client calls (system, projects, db, jupyter)
- ``conat_project`` the project methods (exec, files, Jupyter), each inside its project
- ``conat_methods`` what both share: method lookup, argument conventions, how a method fails
- ``jupyter``    the stateless Jupyter API (v2 jupyter/kernels, jupyter/execute): cache, limits, outputs
- ``jupyter_kernels`` real kernels started through ``sandbox.project_command``, in a small pool
- ``jsutil``     JavaScript semantics CoCalc's code relies on (truthiness, string forms)
- ``faults``     test-only fault injection (``--enable-fault-injection``): failing endpoints, stuck projects
- ``tls``        HTTPS (``--https`` makes a self-signed certificate at start-up, or ``--tls-cert/--tls-key``)
"""
