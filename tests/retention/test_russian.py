"""The retention jobs' names in Russian (issue 13). A name is the key its runs are recorded
under, so it stays English in the registry; a page shows it with ``{% translate job.name %}``,
which finds it in the retention app's catalogue."""

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from tests.factories import make_petition
from undersign.retention.jobs import JOBS
from undersign.retention.registry import retention_jobs_registered
from undersign.retention.services import PersonalDataNotDue, check_personal_data_due


def test_every_job_of_this_app_has_a_russian_name():
    template = Template("{% load i18n %}{% for job in jobs %}{% translate job.name %}|{% endfor %}")
    with translation.override("ru"):
        shown = template.render(Context({"jobs": JOBS})).rstrip("|").split("|")
    assert len(shown) == len(JOBS)
    for job, russian in zip(JOBS, shown, strict=True):
        assert russian != job.name
        assert any("а" <= ch <= "я" for ch in russian), russian
    assert "удаление IP-адресов подписантов" in shown


def test_the_registry_keeps_english_names():
    names = {job.name for job in retention_jobs_registered()}
    assert "drop signers' IP addresses" in names


@pytest.mark.django_db
def test_not_due_refusal_in_russian():
    petition = make_petition()
    with translation.override("ru"), pytest.raises(PersonalDataNotDue) as refused:
        check_personal_data_due(petition, timezone.now())
    assert refused.value.message == f"Срок уничтожения персональных данных петиции {petition.pk} ещё не наступил."
