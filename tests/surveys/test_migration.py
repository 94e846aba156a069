"""Migration 0026: an agency's review request still as it came gains the review link; one the agency edited
is left alone; going back down restores the old text."""

from alembic import command
from sqlalchemy import select, text

from automation.models import MailTemplate
from automation.starter import TEMPLATES
from portal import db, migrate
from tests import factories as f

OLD_HTML = ("<p>Hello {{ recipient.first_name }},</p><p>Thank you for staying with {{ agency.name }}. Would you tell "
            "us how it went? A short review helps other guests.</p>")
OLD_TEXT = ("Hello {{ recipient.first_name }},\n\nThank you for staying with {{ agency.name }}. Would you tell us how "
            "it went? A short review helps other guests.")


def _bodies(agency_ids):
    return {aid: db.session.scalar(select(MailTemplate.text_body).where(
        MailTemplate.agency_id == aid, MailTemplate.name == "Review request").execution_options(all_agencies=True))
        for aid in agency_ids}


def test_the_default_review_request_gains_its_link(app):
    with app.app_context():
        untouched, edited = f.agency("alpha", starter=True).id, f.agency("beta", starter=True).id
        db.session.commit()
        db.session.close()
        cfg = migrate.alembic_config()
        try:
            command.downgrade(cfg, "0020_invoice_threshold")
            with db.engine().begin() as conn:
                assert conn.execute(text("SELECT text_body FROM mail_templates WHERE name = 'Review request' "
                                         "AND agency_id = :a"), {"a": untouched}).scalar() == OLD_TEXT
                conn.execute(text("UPDATE mail_templates SET text_body = 'Our own words' WHERE agency_id = :a "
                                  "AND name = 'Review request'"), {"a": edited})
        finally:
            command.upgrade(cfg, "head")
        assert _bodies([untouched, edited]) == {untouched: TEMPLATES["review-request"][3], edited: "Our own words"}
        assert "link('review')" in TEMPLATES["review-request"][2] and TEMPLATES["review-request"][2].startswith(
            OLD_HTML)
