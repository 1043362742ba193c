ROLE_PERMISSIONS = {
    "auditor": ["audit.view_auditevent"],
    "supervisor": ["audit.view_auditevent"],
}
