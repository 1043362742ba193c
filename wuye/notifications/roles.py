"""What each role may do with notifications (see wuye.accounts.roles).

Customer service and finance send campaigns and manage templates; collectors and auditors
read the outbox and templates."""

_READ = [
    "notifications.view_message",
    "notifications.view_messagetemplate",
    "notifications.view_campaign",
    "notifications.view_contactpolicy",
    "notifications.view_channeloptout",
    "notifications.view_letterbatch",
]
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
    "customer_service": _MANAGE,
    "finance": _MANAGE,
    "supervisor": [*_MANAGE, "notifications.change_contactpolicy"],
    "collector": _READ,
    "auditor": _READ,
}
