"""The shared state every handler reaches through ``self.ctx``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .filesystem import ProjectFilesystem
from .jsutil import is_valid_uuid
from .keys import KeyResolver
from .store import Store

if TYPE_CHECKING:
    from .faults import FaultPlan
    from .projects import ProjectControl


class ApiError(Exception):
    """``throw Error(message)`` in a CoCalc handler: answered as HTTP 200 ``{"error": message}``."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Context:
    store: Store
    keys: KeyResolver
    data_dir: Path
    transition_delay: float
    allow_exec: bool
    exec_refusal: str = ""
    site_url: str = ""
    blob_store_max_bytes: int = 1000 * 1000 * 1000
    control: ProjectControl = field(init=False, repr=False)
    # Set only with --enable-fault-injection (tests); None means every request is answered normally.
    faults: FaultPlan | None = field(default=None, repr=False)

    def filesystem(self, project_id: str) -> ProjectFilesystem:
        fs = ProjectFilesystem(self.data_dir / "projects", project_id)
        fs.ensure()
        return fs

    def is_collaborator(self, account_id: object, project_id: object) -> bool:
        """server/projects/is-collaborator.ts, including the project-key special case."""
        if not is_valid_uuid(account_id) or not is_valid_uuid(project_id):
            raise ApiError("invalid account_id or project_id -- all must be valid uuid's")
        if account_id == project_id:
            # A project key acts as its project: it has proved it *is* the project.
            return True
        project = self.store.get_project(project_id)  # type: ignore[arg-type]
        if project is None:
            return False
        group = ((project.get("users") or {}).get(account_id) or {}).get("group")
        return group in ("owner", "collaborator")
