"""Zip bombs and garbled encodings on every way a bank statement comes in: the page, the API,
the command line and the service (which the background worker runs). Each is refused at
once with the reason; nothing is stored or posted."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from wuye.core.tests.bombs import bomb_xlsx
from wuye.online import services
from wuye.online.models import TransferStatement
from wuye.online.statements import StatementRejected

pytestmark = pytest.mark.django_db

REFUSED = "would expand from"


def test_the_service_refuses_a_bomb(finance, estate):
    with pytest.raises(StatementRejected, match=REFUSED):
        services.transfer_statement_import(
            actor=finance, estate=estate, file_name="s.xlsx", content=bomb_xlsx(40)
        )
    assert not TransferStatement.objects.exists()


def test_the_page_refuses_a_bomb_and_says_why(client, finance, estate):
    client.force_login(finance)
    response = client.post(
        f"/pay/transfers/statements/?estate={estate.pk}",
        {"file": SimpleUploadedFile("s.xlsx", bomb_xlsx(40))},
    )
    assert response.status_code == 200 and REFUSED in response.content.decode()
    assert not TransferStatement.objects.exists()


def test_the_api_refuses_a_bomb_with_a_400(finance, estate):
    api = APIClient()
    api.force_authenticate(finance)
    response = api.post(
        "/api/v1/online/statements/",
        {"estate": estate.pk, "file": SimpleUploadedFile("s.xlsx", bomb_xlsx(40))},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "statement_rejected"
    assert REFUSED in response.json()["detail"]


def test_the_command_line_refuses_a_bomb(finance, estate, tmp_path):
    path = tmp_path / "s.xlsx"
    path.write_bytes(bomb_xlsx(40))
    with pytest.raises(CommandError, match=REFUSED):
        call_command("transfer-statement", str(path), estate=estate.code, user=finance.username)


def test_a_statement_of_endless_blank_rows_is_refused_by_the_row_budget(finance, estate):
    content = "交易日期,交易流水号,摘要,贷方金额\r\n".encode() + b",,,\r\n" * 50_000
    with pytest.raises(StatementRejected, match="more than 40,015 rows"):
        services.transfer_statement_import(
            actor=finance, estate=estate, file_name="s.csv", content=content
        )


def test_a_big5_statement_is_refused_naming_the_encoding(finance, estate):
    content = "交易日期,交易流水號,摘要,貸方金額\r\n2026-03-09,B1,陳大文 繳費,10.00\r\n"
    with pytest.raises(StatementRejected, match="Big5"):
        services.transfer_statement_import(
            actor=finance, estate=estate, file_name="s.csv", content=content.encode("big5")
        )


def test_a_shift_jis_statement_is_refused_saying_how_to_save_it(finance, estate):
    # Shift-JIS decodes as GBK without an error, into garbled names: refused, not imported
    content = "交易日期,交易番号,摘要,金額\r\n2026-03-09,B1,山田太郎 振込,10.00\r\n"
    with pytest.raises(StatementRejected, match="UTF-8"):
        services.transfer_statement_import(
            actor=finance, estate=estate, file_name="s.csv", content=content.encode("shift_jis")
        )
    assert not TransferStatement.objects.exists()


def test_the_background_worker_refuses_a_stored_bomb_at_once(finance, estate):
    # a statement's file is read before it is stored, so only an older version could have
    # stored a bomb; the worker's task must still refuse it at once, not expand it
    from datetime import date

    from wuye.online.tasks import post_statement

    statement = TransferStatement.objects.create(
        estate=estate,
        file_name="s.xlsx",
        sha256="0" * 64,
        uploaded_by=finance,
        first_day=date(2026, 3, 1),
        last_day=date(2026, 3, 31),
        lines_total=400,
        content=bomb_xlsx(40),
    )
    with pytest.raises(StatementRejected, match=REFUSED):
        post_statement.call(statement.pk)
