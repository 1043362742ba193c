"""Who may see the scheduled jobs, and who may run one now (see wuye.accounts.roles)."""

ROLE_PERMISSIONS = {
    "finance": ["scheduler.view_jobrun"],
    "auditor": ["scheduler.view_jobrun"],
    "supervisor": ["scheduler.view_jobrun", "scheduler.run_job"],
}
