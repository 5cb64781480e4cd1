"""Who may act on a project: the one collaborator rule behind v2, conat, upload and user queries.

Facts followed (``server/projects/is-collaborator.ts``, ``util/db-schema/projects.ts``): a user is in a
project when ``users[account_id].group`` is ``owner`` or ``collaborator``; ``isCollaborator`` first
refuses ids that are not uuids, and a project key acts as its own project.
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError
from .jsutil import is_valid_uuid
from .store import Store

COLLABORATOR_GROUPS = ("owner", "collaborator")


def in_project(project: dict | None, account_id: Any) -> bool:
    """Whether ``account_id`` is an owner or collaborator of ``project`` (a stored project, or None)."""
    group = (((project or {}).get("users") or {}).get(account_id) or {}).get("group")
    return group in COLLABORATOR_GROUPS


def is_collaborator(store: Store, account_id: object, project_id: object) -> bool:
    """``isCollaborator``, including the project-key special case."""
    if not is_valid_uuid(account_id) or not is_valid_uuid(project_id):
        raise ApiError("invalid account_id or project_id -- all must be valid uuid's")
    if account_id == project_id:
        # A project key acts as its project: it has proved it *is* the project.
        return True
    return in_project(store.get_project(project_id), account_id)
