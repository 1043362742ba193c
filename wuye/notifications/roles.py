"""What each role may do with notifications (see wuye.accounts.roles).

Customer service and finance send campaigns and manage templates; collectors and auditors
read the outbox and templates. Consents to a channel (with when and how they were given) are
recorded by customer service at the service desk, by cashiers at the window (where owners
come in person and sign the form) and by supervisors; the owner gives their own in the
portal. The contact policy (quiet hours, weekly caps per channel and in all) is a
supervisor's: it decides how hard the company may press owners."""

_READ = [
    "notifications.view_message",
    "notifications.view_messagetemplate",
    "notifications.view_campaign",
    "notifications.view_contactpolicy",
    "notifications.view_channeloptout",
    "notifications.view_channelconsent",
    "notifications.view_letterbatch",
]
_CONSENTS = ["notifications.view_channelconsent", "notifications.add_channelconsent"]
_MANAGE = [
    *_READ,
    "notifications.add_messagetemplate",
    "notifications.change_messagetemplate",
    "notifications.send_campaign",
    "notifications.add_campaign",
    "notifications.resend_message",
    "notifications.change_message",
    "notifications.add_letterbatch",
    "notifications.add_channeloptout",
    "notifications.change_channeloptout",
]

ROLE_PERMISSIONS = {
    "cashier": _CONSENTS,
    "customer_service": [*_MANAGE, *_CONSENTS],
    "finance": _MANAGE,
    "supervisor": [*_MANAGE, *_CONSENTS, "notifications.change_contactpolicy"],
    "collector": _READ,
    "auditor": _READ,
}
