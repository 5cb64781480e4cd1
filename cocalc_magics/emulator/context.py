"""The shared state every handler reaches through ``self.ctx``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .collaborators import is_collaborator
from .faults import FaultPlan
from .filesystem import ProjectFilesystem
from .keys import KeyResolver
from .project_control import ProjectControl
from .store import Store


@dataclass
class Context:
    store: Store
    keys: KeyResolver
    control: ProjectControl
    data_dir: Path
    allow_exec: bool
    exec_refusal: str = ""
    site_url: str = ""
    blob_store_max_bytes: int = 1000 * 1000 * 1000
    # Set only with --enable-fault-injection (tests); None means every request is answered normally.
    faults: FaultPlan | None = field(default=None, repr=False)

    def filesystem(self, project_id: str) -> ProjectFilesystem:
        fs = ProjectFilesystem(self.data_dir / "projects", project_id)
        fs.ensure()
        return fs

    def is_collaborator(self, account_id: object, project_id: object) -> bool:
        return is_collaborator(self.store, account_id, project_id)
