"""`govcloud schedule show`: the unit files that run the expiry job (orchestrator/schedule.py)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..workspace import Workspace


@dataclass
class ScheduleFiles:
    files: dict[str, str]             # file name -> text
    written_to: Path | None

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-schedule/1", "files": self.files,
                "written_to": str(self.written_to) if self.written_to else None}


def schedule_show(ws: Workspace, kind: str, every: int, notify: list[str] | None,
                  user: str | None, image: str, pvc: str, write: Path | None) -> ScheduleFiles:
    """Render the files for ``kind`` (cron, systemd, kubernetes); write them into ``write``."""
    from ..schedule import render
    files = render(kind, ws.root, every, notify, user, image=image, pvc=pvc)
    if write is not None:
        write.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (write / name).write_text(text, encoding="utf-8")
    return ScheduleFiles(files, write)
