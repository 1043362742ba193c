"""Setting up online collection on pages (finance, supervisors): merchant accounts, which
account collects which fee item, and owners' auto-debit mandates. The writes of orders,
notifications and batches stay in their own modules; these call them where they exist
(`merchant_account_create`, `merchant_route_set`, `mandate_create`, `mandate_cancel`).

- Credentials never enter the database (README "Configuring a real merchant"): a page shows
  whether an account's credentials are present in `WUYE_PAY["merchants"][code]` (or, for a
  sandbox account, whether the sandbox is on) and which keys are missing, never a value.
- The test of an account asks the provider (or the sandbox gateway) for an order that does
  not exist: an answer "no such order", signed and verified, proves the keys, the merchant
  identifiers and the way to the provider; anything else is shown as the provider said it.
  Each test is audited with its outcome.
- A mandate is signed up with its signed form's scan (PDF or image, at most 10 MB), kept
  through the storage API and served only through an estate-scoped page. Its account number
  is stored encrypted and shown masked (****1234). Suspended mandates are skipped by debit
  batches and can be reinstated; a revoked (cancelled) one is final.
"""

import secrets
from dataclasses import dataclass
from pathlib import PurePath

from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.audit.summaries import Summary
from wuye.core.errors import DomainError
from wuye.registry.services import require_estate, require_perm

from ..conf import pay_settings
from ..models import DebitMandate, MerchantAccount
from ..providers import ProviderError
from .autodebit import mandate_create

# What each provider's configuration must hold (README); either WeChat Pay verification key.
REQUIRED_KEYS = {
    "wechat": ["mchid", "appid", "apiv3_key", "private_key", "cert_serial_no"],
    "alipay": ["app_id", "seller_id", "app_private_key", "alipay_public_key"],
}
FORM_TYPES = {".pdf", ".jpg", ".jpeg", ".png"}
FORM_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Configured:
    """Whether an account can be used, without saying any secret: `missing` key names."""

    ok: bool
    missing: tuple[str, ...] = ()
    reason: str = ""


def merchant_configured(account: MerchantAccount) -> Configured:
    if account.mode == MerchantAccount.Mode.SANDBOX:
        if not pay_settings()["sandbox"]:
            return Configured(False, reason=_("the sandbox is switched off on this server"))
        return Configured(True)
    config = pay_settings()["merchants"].get(account.code) or {}
    if not config:
        return Configured(
            False,
            REQUIRED_KEYS.get(account.provider, ()),
            _("no credentials for %(code)s in WUYE_PAY") % {"code": account.code},
        )
    missing = [k for k in REQUIRED_KEYS.get(account.provider, []) if not config.get(k)]
    if account.provider == "wechat" and not (
        config.get("public_key") or config.get("platform_certs")
    ):
        missing.append("public_key / platform_certs")
    if missing:
        return Configured(
            False, tuple(missing), _("missing: %(keys)s") % {"keys": ", ".join(missing)}
        )
    return Configured(True)


@dataclass(frozen=True)
class TestResult:
    ok: bool
    message: str


def merchant_account_test(*, actor, account: MerchantAccount) -> TestResult:
    """Ask the provider about an order that does not exist (see the module docstring). Talks
    to the provider outside any transaction; the audit row is written after the answer."""
    from ..providers import client_for

    require_perm(actor, "online.change_merchantaccount")
    require_estate(actor, account.estate_id)
    configured = merchant_configured(account)
    if not configured.ok:
        result = TestResult(False, configured.reason)
    else:
        probe = f"WYTEST{timezone.now():%y%m%d%H%M%S}{secrets.token_hex(3).upper()}"
        try:
            found = client_for(account).query(out_trade_no=probe)
        except ProviderError as exc:
            result = TestResult(False, str(exc)[:300])
        except Exception as exc:  # a key that does not parse, a network stack error
            result = TestResult(False, f"{type(exc).__name__}: {exc}"[:300])
        else:
            if found is None:
                result = TestResult(True, _("the provider answered and its signature was verified"))
            else:
                result = TestResult(False, _("the provider knows the test order: check the keys"))
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditEvent.Action.OTHER,
            subject=account,
            summary=Summary(
                gettext_noop("merchant account tested: ok: %(message)s")
                if result.ok
                else gettext_noop("merchant account tested: failed: %(message)s"),
                message=str(result.message)[:200],
            ),
        )
    return result


@transaction.atomic
def merchant_account_update(
    *, actor, account: MerchantAccount, name: str, is_default: bool, is_active: bool
) -> MerchantAccount:
    """Rename, make the estate's default for its provider, or switch an account off (its
    orders stay; fee items routed to it fall back to the default)."""
    require_perm(actor, "online.change_merchantaccount")
    require_estate(actor, account.estate_id)
    account = MerchantAccount.objects.select_for_update().get(pk=account.pk)
    name = (name or "").strip()
    if not name:
        raise DomainError(_("give the account a name"), field="name")
    before = {"name": account.name, "is_default": account.is_default, "active": account.is_active}
    if is_default and not account.is_default:
        others = MerchantAccount.objects.filter(
            estate_id=account.estate_id, provider=account.provider, is_default=True
        ).exclude(pk=account.pk)
        for other in others:  # one by one: the notify cache is told on save
            other.is_default = False
            other.save(update_fields=["is_default"])
    account.name, account.is_default, account.is_active = name, is_default, is_active
    account.save(update_fields=["name", "is_default", "is_active"])
    after = {"name": account.name, "is_default": account.is_default, "active": account.is_active}
    if after != before:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            subject=account,
            before={k: v for k, v in before.items() if after[k] != v},
            after={k: v for k, v in after.items() if before[k] != v},
        )
    return account


def _check_form(signed_form) -> None:
    suffix = PurePath(getattr(signed_form, "name", "") or "").suffix.lower()
    if suffix not in FORM_TYPES:
        raise DomainError(
            _("the signed form must be a PDF, JPG or PNG scan, not %(name)s")
            % {"name": getattr(signed_form, "name", "")},
            field="signed_form",
        )
    if (getattr(signed_form, "size", 0) or 0) > FORM_MAX_BYTES:
        raise DomainError(_("the scan is larger than 10 MB"), field="signed_form")


def _attach(mandate: DebitMandate, signed_form) -> None:
    suffix = PurePath(signed_form.name).suffix.lower()
    mandate.signed_form.save(
        f"{mandate.reference}{suffix}", File(signed_form, name=signed_form.name), save=False
    )
    mandate.save(update_fields=["signed_form"])


@transaction.atomic
def mandate_sign_up(*, actor, signed_form=None, **fields) -> DebitMandate:
    """A new mandate (`autodebit.mandate_create`: party, bank, account, limit, signed on)
    with the scan of the signed form, in one transaction."""
    if signed_form is not None:
        _check_form(signed_form)
    try:
        with transaction.atomic():
            mandate = mandate_create(actor=actor, **fields)
    except IntegrityError as exc:  # two sign-ups at once: the UNIQUE active mandate decides
        raise DomainError(
            _("%(party)s already has an active mandate with %(bank)s")
            % {"party": fields.get("party"), "bank": fields.get("bank")},
            field="bank",
        ) from exc
    if signed_form is not None:
        _attach(mandate, signed_form)
    return mandate


@transaction.atomic
def mandate_form_attach(*, actor, mandate: DebitMandate, signed_form) -> DebitMandate:
    """Add (or replace) the scan of the signed form."""
    require_perm(actor, "online.add_debitmandate")
    require_estate(actor, mandate.estate_id)
    _check_form(signed_form)
    mandate = DebitMandate.objects.select_for_update().get(pk=mandate.pk)
    _attach(mandate, signed_form)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        subject=mandate,
        summary=Summary(gettext_noop("signed form attached")),
        after={"signed_form": mandate.signed_form.name},
    )
    return mandate


def _move(actor, mandate: DebitMandate, *, to: str, allowed: tuple[str, ...], summary: Summary):
    require_perm(actor, "online.change_debitmandate")
    require_estate(actor, mandate.estate_id)
    mandate = DebitMandate.objects.select_for_update().get(pk=mandate.pk)
    if mandate.status == to:
        return mandate
    if mandate.status not in allowed:
        raise DomainError(
            _("the mandate is %(status)s") % {"status": mandate.get_status_display()},
            field="status",
        )
    before = mandate.status
    mandate.status = to
    try:
        with transaction.atomic():
            mandate.save(update_fields=["status"])
    except IntegrityError as exc:
        raise DomainError(
            _("%(party)s has another active mandate with %(bank)s")
            % {"party": mandate.party, "bank": mandate.bank},
            field="status",
        ) from exc
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        subject=mandate,
        summary=summary,
        before={"status": before},
        after={"status": to},
    )
    return mandate


@transaction.atomic
def mandate_suspend(*, actor, mandate: DebitMandate) -> DebitMandate:
    """Pause the debits (the owner asked, a dispute); batches skip the mandate."""
    return _move(
        actor,
        mandate,
        to=DebitMandate.Status.SUSPENDED,
        allowed=("active",),
        summary=Summary(gettext_noop("suspend")),
    )


@transaction.atomic
def mandate_reinstate(*, actor, mandate: DebitMandate) -> DebitMandate:
    """Debit again a suspended mandate."""
    return _move(
        actor,
        mandate,
        to=DebitMandate.Status.ACTIVE,
        allowed=("suspended",),
        summary=Summary(gettext_noop("reinstate")),
    )
