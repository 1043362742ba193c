"""The print batch of letters: one A4 page per letter, the owner's address block at the top
(window-envelope position), then the text. Fonts embedded (wuye.core.pdf)."""

from reportlab.platypus import PageBreak

from wuye.core import pdf


def letters_pdf(letters) -> bytes:
    styles = pdf.styles(11)
    flow: list = []
    for index, message in enumerate(letters):
        if index:
            flow.append(PageBreak())
        party = message.party
        flow += [
            pdf.text(message.address, styles["body"]),
            pdf.text(party.name, styles["heading"]),
            pdf.Spacer(1, 20 * pdf.mm),
        ]
        if message.subject:
            flow.append(pdf.text(message.subject, styles["title"]))
        flow += [
            pdf.text(message.text, styles["body"]),
            pdf.Spacer(1, 12 * pdf.mm),
            pdf.text(f"{message.estate.company_name or message.estate.name}", styles["right"]),
            pdf.text(f"No. {message.pk}", styles["small"]),
        ]
    return pdf.build(flow, title="letters", footer=lambda n: f"{n}")
