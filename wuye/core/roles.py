"""The role names of DESIGN.md §1 (Django group names) and their Chinese labels."""

ROLES = [
    "cashier",
    "collector",
    "customer_service",
    "engineering",
    "security",
    "finance",
    "supervisor",
    "auditor",
]

ROLE_LABELS = {
    "cashier": "收费员",
    "collector": "催收员",
    "customer_service": "客服",
    "engineering": "工程",
    "security": "安保",
    "finance": "财务",
    "supervisor": "主管",
    "auditor": "审计",
}
