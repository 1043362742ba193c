"""The contact policy: THE guard for every contact with a party, messages as well as the calls
and visits that collection records. Reads only (no writes), so any caller may ask it.

Decisions (docs in the app's report):
- Order of checks: channel enabled -> consent and opt-out -> quiet hours -> weekly cap.
- Consent: SMS, WeChat, app and e-mail need an explicit `consents[channel] is True` on the
  party and no open opt-out. Letters, calls and visits need no consent (a debtor may be told of
  a debt by post or in person) but an open opt-out is respected for every purpose, a formal
  demand (催缴通知书) included (issue 11 §14): the demand then goes by another way the owner
  has not refused -- a letter (`message_queue` switches it), else a visit by hand.
- Quiet hours (default 21:00-08:00, estate's time zone) apply to every channel but letters
  (printing at night disturbs no one). The next allowed time is the end of the quiet hours.
- The cap counts contacts per party per channel over a rolling 7 x 24 hours (messages from the
  moment they go out, plus `ContactMark`s); the next allowed time is when the oldest contact
  that keeps the count at the cap leaves the window.
- The total cap (`weekly_cap_total`, none by default) counts the same contacts on every
  channel together -- SMS, WeChat, app, e-mail, letters, calls and visits -- so that an owner
  is not reached three times a week on each of five channels. It is checked after the
  channel's own cap, the same way (reason `weekly_total_cap`).
- One-time codes are requested by the owner: they bypass quiet hours, the cap and consent, and
  only a disabled channel stops them.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import ChannelOptOut, ContactMark, ContactPolicy, Message, Purpose

WEEK = timedelta(days=7)
CONSENT_REQUIRED = {"sms", "wechat", "app", "email"}
NO_QUIET_HOURS = {"letter"}
COUNTED_STATUSES = [Message.Status.SENDING, Message.Status.SENT, Message.Status.DELIVERED]


@dataclass(frozen=True)
class ContactDecision:
    """Whether a contact may happen now; if not, why and (when waiting helps) from when."""

    allowed: bool
    reason: str = ""
    next_allowed_at: datetime | None = None

    @property
    def permanent(self) -> bool:
        """Refused and waiting will not help (no consent, opted out, channel disabled)."""
        return not self.allowed and self.next_allowed_at is None


# Why a message waits or was stopped: the code is stored on the message, the label is what
# staff read (Message.suppressed_reason_label).
REASONS = {
    "channel_disabled": _("the estate has disabled this channel"),
    "no_consent": _("the party has not consented to this channel"),
    "opted_out": _("the party opted out of this channel"),
    "quiet_hours": _("quiet hours"),
    "weekly_cap": _("weekly contact cap reached"),
    "weekly_total_cap": _("weekly contact cap across channels reached"),
    "no_address": _("no address for this channel"),
    "no_channel": _("no channel reaches this party"),
}


def policy_for(estate_id: int) -> ContactPolicy:
    """The estate's policy, or the defaults (unsaved) when it has none."""
    policy = ContactPolicy.objects.filter(estate_id=estate_id).first()
    if policy is None:
        policy = ContactPolicy(
            estate_id=estate_id,
            time_zone=settings.WUYE.get("BUSINESS_TIME_ZONE", settings.TIME_ZONE),
        )
    return policy


def in_quiet_hours(policy: ContactPolicy, at: datetime) -> bool:
    local = at.astimezone(ZoneInfo(policy.time_zone)).time()
    start, end = policy.quiet_start, policy.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_hours_end(policy: ContactPolicy, at: datetime) -> datetime:
    """The first moment after `at` at which the quiet hours end (local wall time)."""
    zone = ZoneInfo(policy.time_zone)
    local = at.astimezone(zone)
    candidate = datetime.combine(local.date(), policy.quiet_end, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), policy.quiet_end, zone)
    return candidate


def contact_times(
    party_id: int, channel: str | None, since: datetime, until: datetime
) -> list[datetime]:
    """When `party` was contacted on `channel` (None: on any channel) in (since, until],
    oldest first."""
    on = {"channel": channel} if channel is not None else {}
    sent = Message.objects.filter(
        party_id=party_id,
        status__in=COUNTED_STATUSES,
        contacted_at__gt=since,
        contacted_at__lte=until,
        **on,
    ).values_list("contacted_at", flat=True)
    marks = ContactMark.objects.filter(
        party_id=party_id, at__gt=since, at__lte=until, **on
    ).values_list("at", flat=True)
    return sorted([*sent, *marks])


def has_open_opt_out(party_id: int, channel: str) -> bool:
    return ChannelOptOut.objects.filter(
        party_id=party_id, channel=channel, revoked_at__isnull=True
    ).exists()


class ContactFacts:
    """What `contact_check` reads of many parties for one moment `at`, read at once (three
    statements): their open opt-outs and their contacts in the week before `at`. A campaign
    checks a thousand parties with it instead of three statements per party and channel."""

    def __init__(self, party_ids, at: datetime):
        ids = sorted(set(party_ids))
        self.at = at
        self.opted_out: set[tuple[int, str]] = set(
            ChannelOptOut.objects.filter(party_id__in=ids, revoked_at__isnull=True).values_list(
                "party_id", "channel"
            )
        )
        self.times: dict[int, list[tuple[datetime, str]]] = {}
        since = at - WEEK
        for party_id, channel, moment in [
            *Message.objects.filter(
                party_id__in=ids,
                status__in=COUNTED_STATUSES,
                contacted_at__gt=since,
                contacted_at__lte=at,
            ).values_list("party_id", "channel", "contacted_at"),
            *ContactMark.objects.filter(party_id__in=ids, at__gt=since, at__lte=at).values_list(
                "party_id", "channel", "at"
            ),
        ]:
            self.times.setdefault(party_id, []).append((moment, channel))

    def has_open_opt_out(self, party_id: int, channel: str) -> bool:
        return (party_id, channel) in self.opted_out

    def contact_times(self, party_id: int, channel: str | None) -> list[datetime]:
        """`contact_times(party_id, channel, at - WEEK, at)`."""
        return sorted(m for m, c in self.times.get(party_id, ()) if channel is None or c == channel)


def contact_check(
    *,
    party,
    channel: str,
    at: datetime | None = None,
    purpose: str = Purpose.OTHER,
    policy: ContactPolicy | None = None,
    facts: ContactFacts | None = None,
) -> ContactDecision:
    """May `party` be contacted on `channel` at `at` for `purpose`? See the module docstring.
    `facts`: the party's opt-outs and contacts read beforehand for this `at` (else read)."""
    at = at or timezone.now()
    policy = policy or policy_for(party.estate_id)
    if facts is not None and facts.at != at:
        facts = None
    if not policy.channel_enabled(channel):
        return ContactDecision(False, "channel_disabled")
    if purpose == Purpose.ONE_TIME_CODE:
        return ContactDecision(True)
    if channel in CONSENT_REQUIRED and (party.consents or {}).get(channel) is not True:
        return ContactDecision(False, "no_consent")
    if (
        facts.has_open_opt_out(party.pk, channel)
        if facts is not None
        else has_open_opt_out(party.pk, channel)
    ):
        return ContactDecision(False, "opted_out")

    if facts is not None:
        times = facts.contact_times(party.pk, channel)
    else:
        times = contact_times(party.pk, channel, at - WEEK, at)
    total_cap = policy.weekly_cap_total or 0
    every = []
    if total_cap:
        every = (
            facts.contact_times(party.pk, None)
            if facts is not None
            else contact_times(party.pk, None, at - WEEK, at)
        )
    reason = ""
    moment = at
    for _step in range(policy.weekly_cap + total_cap + 3):
        if channel not in NO_QUIET_HOURS and in_quiet_hours(policy, moment):
            reason = reason or "quiet_hours"
            moment = quiet_hours_end(policy, moment)
            continue
        window = [t for t in times if t > moment - WEEK]
        if policy.weekly_cap and len(window) >= policy.weekly_cap:
            reason = reason or "weekly_cap"
            moment = window[len(window) - policy.weekly_cap] + WEEK
            continue
        window = [t for t in every if t > moment - WEEK]
        if total_cap and len(window) >= total_cap:
            reason = reason or "weekly_total_cap"
            moment = window[len(window) - total_cap] + WEEK
            continue
        break
    if moment == at:
        return ContactDecision(True)
    return ContactDecision(False, reason, moment)
