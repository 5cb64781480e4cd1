"""A local stand-in for the CoCalc API v2 server (``python -m cocalc_magics.emulator``).

It is a real tornado HTTP server with SQLite state that answers the way cocalc.com does,
including CoCalc's quirks (errors as HTTP 200 ``{"error": ...}``, Next.js body parsing,
project-key rules, the LaTeX flow and blob URLs). It shares no code with the client on
purpose: two independent readings of the same API facts catch each other's mistakes.

Modules, in layers: each imports only from the layers above it in this list (tests/test_import_cycles.py
keeps the package free of cycles).

Foundations (no state of their own):

- ``errors``     every failure one module raises and another catches (ApiError: CoCalc's ``throw Error(message)``)
- ``jsutil``     JavaScript semantics CoCalc's code relies on (truthiness, string forms, dates, uuids)
- ``background`` work that goes on after nobody waits for it
- ``loopback``   which addresses and Host names are loopback (bind check, Host check, fault-control callers)
- ``nextjs``     Next.js conventions: body parsing, the HTML 404, JSON and plain-text answers
- ``tls``        HTTPS (``--https`` makes a self-signed certificate at start-up, or ``--tls-cert/--tls-key``)

State and the project side:

- ``store``      SQLite schema and queries
- ``keys``       API key format, hashing, verification
- ``filesystem`` maps project paths onto a directory per project and refuses escapes
- ``sandbox``    bubblewrap: every project process runs walled into its own project
- ``execute``    runs commands like CoCalc's execute-code (the project side)
- ``project_writer`` writes files into a project without following links out of it
- ``jupyter_kernels`` real kernels started through ``sandbox.project_command``, in a small pool
- ``collaborators`` the one collaborator rule (``isCollaborator``, the owner/collaborator groups)
- ``project_control`` the start/stop state machine, hub->project calls, what a new project looks like
- ``faults``     test-only fault injection (``--enable-fault-injection``): failing endpoints, stuck projects

Serving:

- ``context``    the shared state handed to every handler (store, keys, project control, faults, settings)
- ``handler``    base API handler: params, the caller, CoCalc's ``{"error"}`` convention
- ``seed``       the two seeded accounts and projects, fresh API keys on every start

Endpoints, one module per API area:

- ``projects``   projects/* (start, stop, touch, create, get, delete)
- ``schema``     the tables user queries reach (CoCalc's ``util/db-schema``)
- ``user_query`` the user-query endpoint (get/set semantics of CoCalc's user queries)
- ``exec_api``   the exec endpoint
- ``blobs``      blob storage and ``GET /blobs/...``
- ``latex``      the latex endpoint
- ``accounts``   accounts/profile, accounts/get-names and api-keys endpoints
- ``write_text_file`` the write-text-file endpoint
- ``upload``     ``POST /upload`` (Dropzone chunks) into a project
- ``jupyter``    the stateless Jupyter API (v2 jupyter/kernels, jupyter/execute): cache, limits, outputs
- ``conat_methods`` what the conat hub and project share: method lookup, argument conventions, failures
- ``conat_hub``  the hub methods CoCalc's official client calls (system, projects, db, jupyter)
- ``conat_project`` the project methods (exec, files, Jupyter), each inside its project
- ``conat``      the conat bridge ``/api/conat/{hub,project}``: auth, timeouts, CoCalc's error texts
- ``fault_control`` ``/_emulator/faults``, the HTTP control of fault injection (loopback callers only)

On top:

- ``app``        tornado Application: every route, Next's 404 for the rest
- ``server``     the HTTP server: connection cap, the loopback Host check
- ``__main__``   command line, startup, the one JSON ready line
"""
