"""Words for the audit log page: what was done (the action), to what kind of record (the model's
name), and what changed (field names and choice labels), never the codes stored in the row
(`collection.plan_approve`, `payments.payment`, `{"status": "open"}`)."""

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

# Apps record their own actions as "<app>.<thing>_<verb>"; the verb says what was done and the
# record type says to what, so only the verbs need words.
VERBS = {
    "approve": _("Approve"),
    "reject": _("Reject"),
    "cancel": _("Cancel"),
    "close": _("Close"),
    "open": _("Open"),
    "raise": _("Raise"),
    "resolve": _("Resolve"),
    "sign": _("Sign"),
    "draft": _("Draft"),
    "issue": _("Issue"),
    "deliver": _("Deliver"),
    "post": _("Post"),
    "record": _("Record"),
    "save": _("Save"),
    "update": _("Update"),
    "create": _("Create"),
    "propose": _("Propose"),
    "place": _("Place"),
    "release": _("Release"),
    "take": _("Take"),
    "build": _("Build"),
    "completed": _("Completed"),
    "broken": _("Broken"),
    "escalate": _("Escalate"),
    "refund": _("Refund"),
    "forfeit": _("Forfeit"),
}


def action_label(action: str, choices: dict) -> str:
    if action in choices:
        return str(choices[action])
    verb = action.rsplit(".", 1)[-1].rsplit("_", 1)[-1]
    return str(VERBS.get(verb, action))


def _model(subject_type: str):
    try:
        return apps.get_model(subject_type) if "." in subject_type else None
    except (LookupError, ValueError):
        return None


def subject_label(subject_type: str) -> str:
    model = _model(subject_type)
    return str(model._meta.verbose_name) if model is not None else subject_type


def _shown(field, value):
    if value is None or value == "":
        return "—"
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    return value if isinstance(value, str) else str(value)


def _field_label(field, key: str) -> str:
    if field is None:
        return key
    label = str(field.verbose_name)
    if field.is_relation and field.related_model and label == field.name.replace("_", " "):
        # a relation left with Django's default (English) name: say what it points to
        return str(field.related_model._meta.verbose_name)
    return label


def changes(subject_type: str, before: dict | None, after: dict | None) -> list[tuple]:
    """[(field name in words, before, after)] of a row's before/after snapshots."""
    model = _model(subject_type)
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    rows = []
    for key in list(dict.fromkeys([*before, *after])):
        field = None
        if model is not None:
            try:
                field = model._meta.get_field(key)
            except FieldDoesNotExist:
                field = None
        label = _field_label(field, key)
        rows.append(
            (
                label,
                _shown(field, before.get(key)) if key in before else "",
                _shown(field, after.get(key)) if key in after else "",
            )
        )
    return rows
