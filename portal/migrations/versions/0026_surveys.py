"""surveys (questions, invitations, responses, answers); the default review request gains its review link

Revision ID: 0026_surveys
Revises: 0025_violations_quotes
"""
from alembic import op
import sqlalchemy as sa
import portal.types


revision = '0026_surveys'
down_revision = '0025_violations_quotes'
branch_labels = None
depends_on = None

# The default review request before and after (automation/starter.py; copied: a migration never imports the app).
REVIEW_HTML = ("<p>Hello {{ recipient.first_name }},</p><p>Thank you for staying with {{ agency.name }}. Would you tell "
               "us how it went? A short review helps other guests.</p>")
REVIEW_TEXT = ("Hello {{ recipient.first_name }},\n\nThank you for staying with {{ agency.name }}. Would you tell us "
               "how it went? A short review helps other guests.")
REVIEW_LINK_HTML = "<p><a href=\"{{ link('review') }}\">Rate your stay</a></p>"
REVIEW_LINK_TEXT = "\n\nRate your stay: {{ link('review') }}"


def upgrade() -> None:
    op.create_table('surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('intro', sa.Text(), nullable=False),
    sa.Column('sends_after', sa.Enum('workorder-completed', name='surveytrigger', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('closed', sa.Boolean(), nullable=False),
    sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_surveys_agency_id_agencies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys')),
    sa.UniqueConstraint('agency_id', 'sends_after', name=op.f('uq_surveys_agency_id_sends_after'))
    )
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_surveys_agency_id'), ['agency_id'], unique=False)

    op.create_table('survey_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('about', sa.String(length=200), nullable=False),
    sa.Column('created_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', portal.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_survey_invitations_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_survey_invitations_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_invitations_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_invitations'))
    )
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_invitations_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_invitations_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_invitations_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('prompt', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.Enum('rating', 'choice', 'text', name='questionkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_survey_questions_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_questions_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_questions'))
    )
    with op.batch_alter_table('survey_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_questions_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_questions_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('submitted_at', portal.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_survey_responses_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invitation_id'], ['survey_invitations.id'], name=op.f('fk_survey_responses_invitation_id_survey_invitations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_survey_responses_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_responses_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses')),
    sa.UniqueConstraint('invitation_id', name=op.f('uq_survey_responses_invitation_id'))
    )
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_responses_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_responses_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_responses_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('choice', sa.String(length=200), nullable=True),
    sa.Column('text', sa.String(length=4000), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('rating IS NULL OR rating BETWEEN 1 AND 5', name=op.f('ck_survey_answers_rating_1_to_5')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_survey_answers_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['survey_questions.id'], name=op.f('fk_survey_answers_question_id_survey_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['response_id'], ['survey_responses.id'], name=op.f('fk_survey_answers_response_id_survey_responses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answers')),
    sa.UniqueConstraint('response_id', 'question_id', name=op.f('uq_survey_answers_response_id_question_id'))
    )
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_answers_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_answers_question_id'), ['question_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_answers_response_id'), ['response_id'], unique=False)

    # An agency's review request still as it came gains the link to the review form (automation.starter);
    # one the agency has edited is theirs and is left alone.
    op.get_bind().execute(sa.text(
        "UPDATE mail_templates SET html_body = :new_html, text_body = :new_text "
        "WHERE name = 'Review request' AND html_body = :old_html AND text_body = :old_text"),
        {"new_html": REVIEW_HTML + REVIEW_LINK_HTML, "new_text": REVIEW_TEXT + REVIEW_LINK_TEXT,
         "old_html": REVIEW_HTML, "old_text": REVIEW_TEXT})


def downgrade() -> None:
    op.get_bind().execute(sa.text(
        "UPDATE mail_templates SET html_body = :old_html, text_body = :old_text "
        "WHERE name = 'Review request' AND html_body = :new_html AND text_body = :new_text"),
        {"new_html": REVIEW_HTML + REVIEW_LINK_HTML, "new_text": REVIEW_TEXT + REVIEW_LINK_TEXT,
         "old_html": REVIEW_HTML, "old_text": REVIEW_TEXT})
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_answers_response_id'))
        batch_op.drop_index(batch_op.f('ix_survey_answers_question_id'))
        batch_op.drop_index(batch_op.f('ix_survey_answers_agency_id'))

    op.drop_table('survey_answers')
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_responses_survey_id'))
        batch_op.drop_index(batch_op.f('ix_survey_responses_person_id'))
        batch_op.drop_index(batch_op.f('ix_survey_responses_agency_id'))

    op.drop_table('survey_responses')
    with op.batch_alter_table('survey_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_questions_survey_id'))
        batch_op.drop_index(batch_op.f('ix_survey_questions_agency_id'))

    op.drop_table('survey_questions')
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_invitations_survey_id'))
        batch_op.drop_index(batch_op.f('ix_survey_invitations_person_id'))
        batch_op.drop_index(batch_op.f('ix_survey_invitations_agency_id'))

    op.drop_table('survey_invitations')
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_surveys_agency_id'))

    op.drop_table('surveys')
