"""Two generic auto-debit file layouts to start from (copy and adjust per bank)."""

from django.db import migrations

LAYOUTS = [
    {
        "code": "generic-csv",
        "name": "通用CSV代扣格式",
        "format": "csv",
        "encoding": "gbk",
        "delimiter": ",",
        "header_row": True,
        "export_columns": [
            {"field": "reference", "title": "流水号"},
            {"field": "account_number", "title": "账号"},
            {"field": "account_name", "title": "户名"},
            {"field": "amount", "title": "金额"},
            {"field": "party_ref", "title": "缴费编号"},
            {"field": "text:物业费", "title": "摘要"},
        ],
        "return_columns": {"reference": 0, "amount": 3, "status": 4, "reason": 5, "message": 6},
        "return_header_rows": 1,
        "success_codes": ["0000", "成功"],
        "reason_map": {
            "1001": "insufficient_funds",
            "1002": "account_closed",
            "1003": "account_frozen",
            "1004": "name_mismatch",
            "1005": "mandate_revoked",
            "1006": "limit_exceeded",
        },
    },
    {
        "code": "generic-fixed",
        "name": "通用定长代扣格式",
        "format": "fixed",
        "encoding": "gbk",
        "delimiter": "",
        "header_row": False,
        "export_columns": [
            {"field": "reference", "width": 24},
            {"field": "account_number", "width": 32},
            {"field": "account_name", "width": 40},
            {"field": "amount_fen", "width": 15, "align": "right", "pad": "0"},
            {"field": "date", "width": 8},
        ],
        "return_columns": {"reference": [0, 24], "status": [24, 26], "reason": [26, 30]},
        "return_header_rows": 0,
        "success_codes": ["00"],
        "reason_map": {
            "E051": "insufficient_funds",
            "E052": "account_closed",
            "E053": "account_frozen",
            "E054": "name_mismatch",
            "E055": "mandate_revoked",
        },
    },
]


def seed(apps, schema_editor):
    Layout = apps.get_model("online", "BankFileLayout")
    for layout in LAYOUTS:
        Layout.objects.get_or_create(code=layout["code"], defaults=layout)


class Migration(migrations.Migration):
    dependencies = [("online", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
