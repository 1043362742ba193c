"""Who is acting and from where, for the audit rows written during a request or a command."""

import contextvars
import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class AuditContext:
    ip: str | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    source: str = "system"  # web, api, cli, task, system


_current: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar(
    "wuye_audit_context", default=None
)


def current() -> AuditContext:
    return _current.get() or AuditContext()


def bind(ctx: AuditContext) -> contextvars.Token:
    return _current.set(ctx)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)
