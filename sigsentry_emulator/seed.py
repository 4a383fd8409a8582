"""The seed file: tenants, projects and API keys to create at start-up (TOML or JSON).

```toml
[[tenants]]
id = "tnt_acme"
projects = ["prj_web", "prj_data"]

[[tenants.keys]]
key = "ss_secret_change-me"          # stored hashed; keep this file private
project = "prj_web"                  # omit for a tenant-scoped key (needs X-Project-Id)
permissions = ["config:read", "config:write"]
```

The same structure in JSON (`{"tenants": [{"id": ..., "projects": [...], "keys": [...]}]}`) is
read from a file ending in `.json`. Seeding is idempotent: running it again re-applies the
permissions and scope of each key and leaves log sources alone.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Permission = Literal["config:read", "config:write"]
TenantId = Annotated[str, Field(pattern=r"^tnt_[A-Za-z0-9_-]{1,64}$")]
ProjectId = Annotated[str, Field(pattern=r"^prj_[A-Za-z0-9_-]{1,64}$")]
ApiKeyText = Annotated[str, Field(pattern=r"^ss_secret_[A-Za-z0-9_-]{8,200}$", repr=False)]


class SeedKey(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: ApiKeyText
    project: ProjectId | None = None
    permissions: list[Permission] = Field(min_length=1)


class SeedTenant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: TenantId
    projects: list[ProjectId] = Field(default_factory=list)
    keys: list[SeedKey] = Field(default_factory=list)

    @model_validator(mode="after")
    def _keys_name_known_projects(self) -> SeedTenant:
        for key in self.keys:
            if key.project is not None and key.project not in self.projects:
                raise ValueError(f"key scoped to {key.project}, which is not in projects")
        return self


class SeedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenants: list[SeedTenant] = Field(default_factory=list)


class SeedFileError(Exception):
    """The seed file cannot be read or does not match the format above."""


def load_seed_file(path: Path) -> SeedConfig:
    try:
        text = path.read_text(encoding="utf-8")
        raw = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        return SeedConfig.model_validate(raw)
    except (OSError, ValueError) as exc:
        # ValidationError is a ValueError; its text holds no input values (hide_input below)
        if isinstance(exc, ValidationError):
            lines = [
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                for e in exc.errors(include_url=False, include_input=False)
            ]
            raise SeedFileError(f"{path}: " + "; ".join(lines)) from None
        raise SeedFileError(f"{path}: {exc}") from None
