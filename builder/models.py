"""Workflows: an editable draft, and immutable numbered versions made by publishing it."""

from django.conf import settings
from django.db import models, transaction

from core.models import Workspace


class Workflow(models.Model):
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="workflows")
    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    draft = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "slug"], name="unique_workflow_slug")
        ]
        ordering = ["name"]

    def __str__(self):
        return self.name

    def latest_version(self):
        return self.versions.order_by("-number").first()

    def publish(self, definition, note="", user=None):
        """Freeze a validated definition as the next version number."""
        with transaction.atomic():
            # Lock the workflow so two publishes cannot take the same number.
            Workflow.objects.select_for_update().filter(id=self.id).first()
            latest = self.versions.order_by("-number").first()
            return WorkflowVersion.objects.create(
                workflow=self,
                number=(latest.number + 1) if latest else 1,
                definition=definition,
                note=note,
                created_by=user,
            )


class WorkflowVersion(models.Model):
    """Never updated: runs are pinned to it. The definition's actions are pinned too."""

    workflow = models.ForeignKey(Workflow, models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="unique_version_number")
        ]
        ordering = ["workflow_id", "-number"]

    def __str__(self):
        return f"{self.workflow.name} v{self.number}"
