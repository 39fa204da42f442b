from __future__ import annotations

from django.db import models


class RetentionRun(models.Model):
    """One run of one retention job: what it was, when, how many rows it destroyed or
    rewrote, and whether it failed (the exception's class only: a message could name someone).
    Rows are only ever added (and themselves deleted after ``STAFF_AUDIT_RETENTION_DAYS``); staff
    read them to know that the data's lifecycle is being kept."""

    job = models.CharField(max_length=64)
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    items = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["job", "-started_at"], name="retentionrun_job_latest")]

    def __str__(self) -> str:
        return f"{self.job} at {self.started_at:%Y-%m-%d %H:%M}: {self.items}"
