"""The words of collection (DESIGN.md §5): channels of a contact, reasons, case statuses."""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["ContactChannel", "Reason", "CaseStatus", "HoldKind", "ActionKind"]


class ContactChannel(models.TextChoices):
    """How an owner was contacted (催收记录的方式). The message channels are the outbox's."""

    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    APP = "app", _("App")
    EMAIL = "email", _("Email")
    CALL = "call", _("Phone call")
    VISIT = "visit", _("Visit")
    LETTER = "letter", _("Letter")
    REGISTERED_MAIL = "registered", _("Registered mail")
    IN_PERSON = "in_person", _("In person")


class Reason(models.TextChoices):
    """Why an owner has not paid; the reason decides the next step (DESIGN.md §5)."""

    FORGOT = "forgot", _("Forgot")
    DISPUTE = "dispute", _("Service dispute")
    HARDSHIP = "hardship", _("Real hardship")
    MALICIOUS = "malicious", _("Malicious non-payment")
    UNREACHABLE = "unreachable", _("Unreachable")
    OTHER = "other", _("Other")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PROMISED = "promised", _("Promised to pay")
    INSTALLMENT = "installment", _("Installment plan")
    DISPUTED = "disputed", _("Disputed")
    HARDSHIP = "hardship", _("Hardship")
    LEGAL = "legal", _("Legal")
    CLOSED = "closed", _("Closed")


class HoldKind(models.TextChoices):
    """What pauses the dunning of a case (the run emits nothing while one is active)."""

    DISPUTE = "dispute", _("Open dispute")
    INSTALLMENT = "installment", _("Active installment plan")
    PROMISE = "promise", _("Promise not yet due")
    LEGAL = "legal", _("Legal case")
    MANUAL = "manual", _("Manual hold")


class ActionKind(models.TextChoices):
    """What a stage may do. This list is the whole of it, on purpose: there is no action that
    cuts water, electricity, heating or gas (Civil Code art. 944), restricts access (door
    cards, lifts, parking gates) or publishes a defaulter's name; the database refuses any
    other value (constraint `stageaction_kind_lawful`)."""

    MESSAGE = "message", _("Send a message")
    CALL = "call", _("Phone call task")
    VISIT = "visit", _("Booked visit task")
    FORMAL_DEMAND = "formal_demand", _("Formal demand (催缴通知书)")
    COMMITTEE = "committee", _("Ask the owners' committee")
    LEGAL_REVIEW = "legal_review", _("Propose legal review")
