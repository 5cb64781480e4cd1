"""``%cocalc_project``, ``%cocalc_projects`` and ``%cocalc_start|stop|restart``: projects and their state."""

from __future__ import annotations

import time

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..config import ENV_PROJECT_ID
from ..display import say, status_line
from ..render import state_label
from .base import (
    AreaMagics,
    host_name,
    output_argument,
    output_name,
    parse_line,
    project_argument,
    project_label,
    project_reference,
    reports_errors,
    seconds,
)

_NO_WAIT_HELP = "return as soon as CoCalc has the request, without waiting for the new state"


def _state_change_magic(no_wait_help: str = _NO_WAIT_HELP):
    """The options and wrapping that %cocalc_start, _stop and _restart share (outermost decorator first)."""
    decorators = [magic_arguments(), project_argument,
                  argument("--no-wait", action="store_true", help=no_wait_help),
                  argument("--timeout", type=seconds, metavar="S", help="stop waiting after S seconds (default: 180)"),
                  output_argument, line_magic, reports_errors]

    def decorate(method):
        for decorator in reversed(decorators):
            method = decorator(method)
        return method

    return decorate

_ACTIONS = {"start": ("starting", "start"), "stop": ("stopping", "stop"), "restart": ("restarting", "restart")}


def _project_controls(session, projects):
    from ..widgets import (
        ProjectControls,  # ipywidgets loads only when the panel is shown
    )

    return ProjectControls(session, projects)


@magics_class
class ProjectMagics(AreaMagics):

    @magic_arguments()
    @argument("project", nargs="*", metavar="PROJECT", help="project id or title to make the default")
    @line_magic
    @reports_errors
    def cocalc_project(self, line=""):
        """Show the default project, or set it, as a panel with its live state and Start / Stop / Restart.

        The default project is the one the other magics use when no PROJECT is given. It can also be set
        with %config CoCalcMagics.project = "<id or title>" or the COCALC_PROJECT_ID environment variable.
        """
        args = parse_line(self.cocalc_project, line)
        reference = project_reference(args.project)
        session = self.session
        if not reference:
            if not session.project_id:
                say("No default project. Set one with %cocalc_project <id or title>, "
                    f"%config CoCalcMagics.project = '<id or title>', or {ENV_PROJECT_ID}.")
                return None
            return _project_controls(session, session.project())
        project = session.project(reference)
        session.project_id = project.project_id  # %config CoCalcMagics.project reads it from here
        say(f"Default project: {project_label(project)} ({project.project_id})")
        return _project_controls(session, project)

    @magic_arguments()
    @argument("--all", action="store_true",
              help="every project, not only those edited in the last 6 weeks (as CoCalc's projects list)")
    @argument("--limit", type=int, metavar="N", help="show at most N projects, most recently edited first")
    @output_argument
    @line_magic
    @reports_errors
    def cocalc_projects(self, line=""):
        """List your projects, most recently edited first, each with its live state and Start / Stop / Restart.

        With -o VAR the list (of Project, each with its state) is stored instead."""
        args = parse_line(self.cocalc_projects, line)
        if args.limit is not None and args.limit < 1:
            raise UsageError("--limit must be at least 1")
        projects = self.session.projects(recent=not args.all, limit=args.limit)
        if args.output or not projects:
            return self._deliver(projects, args.output)
        return _project_controls(self.session, list(projects))

    @_state_change_magic()
    def cocalc_start(self, line=""):
        """Start a project and wait until it is running."""
        return self._change_state("start", parse_line(self.cocalc_start, line))

    @_state_change_magic()
    def cocalc_stop(self, line=""):
        """Stop a project and wait until it is stopped."""
        return self._change_state("stop", parse_line(self.cocalc_stop, line))

    @_state_change_magic("after the stop, do not wait for the project to be running again")
    def cocalc_restart(self, line=""):
        """Restart a project: stop it, wait, start it and wait until it is running (API v2 has no restart)."""
        return self._change_state("restart", parse_line(self.cocalc_restart, line))

    def _change_state(self, action: str, args):
        output = output_name(args.output)
        session = self.session
        project = session.project(project_reference(args.project))
        label, host = project_label(project), host_name(session.host)
        doing = _ACTIONS[action][0]
        started = time.monotonic()
        with status_line(self._live, lambda elapsed: _interrupted_wait(action, label, elapsed, status.polled)) \
                as status:

            def describe(elapsed: float) -> str:
                seen = f" ({state_label(status.polled[-1])})" if status.polled else ""
                return f"{doing} {label} on {host}… {elapsed:.1f} s{seen}"

            call = getattr(session, action)
            state = status.run(lambda: call(project.project_id, wait=not args.no_wait, timeout=args.timeout,
                                            on_poll=status.on_poll), describe)
            elapsed = time.monotonic() - started
            if output:
                status.clear()
                return self._deliver(state, output)
            waited = "" if args.no_wait else f" after {elapsed:.1f} s"
            # One word for each state ("stopped", not CoCalc's "opened"), as the badges show it.
            described = state_label(state) + (f" (error: {state.error})" if state.error else "")
            status.finish(f"{label[:1].upper()}{label[1:]} is {described}{waited}")
        return None


def _interrupted_wait(action: str, label: str, elapsed: float, polled: list) -> str:
    """One line for a Ctrl-C during a state change: what was seen, and what the project may be doing now."""
    doing, verb = _ACTIONS[action]
    seen = f"it was last seen {state_label(polled[-1])!r}" if polled else f"the {verb} request was sent"
    if action == "restart":
        # The wait is also what would have started it again after the stop.
        outlook = "it may end up stopped or running; see %cocalc_projects, and %cocalc_start it if it stays stopped"
    else:
        outlook = f"so it may still be {doing}; see its state with %cocalc_projects"
    return f"Interrupted after {elapsed:.1f} s of waiting for {label} to {verb}: {seen}, {outlook}"
