"""Registry events other apps act on, without the registry importing them (apps import
downward only): an app above registers a callback in its `AppConfig.ready`, the registry's
service calls it inside its own transaction, so what the callback writes (an outbox row)
commits or rolls back with the change that caused it."""

from collections.abc import Callable

_relation_started: list[Callable] = []
_unit_page: list[Callable] = []


def on_relation_started(callback: Callable) -> None:
    """`callback(relation=UnitParty, actor=...)` after an ownership or tenancy is recorded."""
    if callback not in _relation_started:
        _relation_started.append(callback)


def relation_started(*, relation, actor) -> None:
    for callback in _relation_started:
        callback(relation=relation, actor=actor)


def on_unit_page(callback: Callable) -> None:
    """`callback(unit=Unit, user=User) -> dict` adds to the unit page's context what an app
    above knows of the unit (payments: its balance)."""
    if callback not in _unit_page:
        _unit_page.append(callback)


def unit_page(*, unit, user) -> dict:
    extra: dict = {}
    for callback in _unit_page:
        extra.update(callback(unit=unit, user=user))
    return extra
