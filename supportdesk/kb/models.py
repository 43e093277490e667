from __future__ import annotations

from django.conf import settings
from django.db import models

# --- releases and downloads (K-3, E-6, E-7) ---------------------------------------------------


class ReleaseFile(models.Model):
    """A file of a release, kept in Django storage (K-3), with its size and SHA-256."""

    release = models.ForeignKey("contracts.Release", on_delete=models.PROTECT, related_name="files")
    file = models.FileField(max_length=400)
    filename = models.CharField(max_length=200)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["release", "filename", "pk"]

    def __str__(self) -> str:
        return f"{self.release} · {self.filename}"


class DownloadLink(models.Model):
    """An expiring link to one release file for one organisation. Only the SHA-256 of its
    random token is stored: the link itself cannot be rebuilt from the database."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    release_file = models.ForeignKey(ReleaseFile, on_delete=models.CASCADE, related_name="links")
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.CASCADE, related_name="download_links"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"link to {self.release_file} for {self.organization}"


class DownloadLog(models.Model):
    """One download through a link: who, when, which file, which bytes (append-only)."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    link = models.ForeignKey(
        DownloadLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="downloads"
    )
    release_file = models.ForeignKey(
        ReleaseFile, on_delete=models.PROTECT, related_name="downloads"
    )
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.CASCADE, related_name="downloads"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    status = models.PositiveSmallIntegerField(help_text="200 for the whole file, 206 for a range")
    range_start = models.BigIntegerField()
    range_end = models.BigIntegerField(help_text="Inclusive")
    bytes_sent = models.BigIntegerField(default=0)
    finished = models.BooleanField(default=False)
    remote_addr = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["vendor", "-at"], name="kb_download_vendor_at")]

    def __str__(self) -> str:
        return f"{self.release_file} → {self.organization} at {self.at:%Y-%m-%d %H:%M}"
