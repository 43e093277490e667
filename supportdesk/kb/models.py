"""Knowledge base (K-2): articles, their revisions, images, feedback, search documents and the
portal's suggestion log (deflection)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public (anyone, no login)"
    CUSTOMERS = "customers", "Customers (any signed-in contact)"
    ENTITLED = "entitled", "Customers with an active contract for its products"
    INTERNAL = "internal", "Internal (vendor staff only)"


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    REVIEW = "review", "In review"
    PUBLISHED = "published", "Published"


class ArticleCategory(models.Model):
    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "slug"], name="uniq_kb_category_slug")
        ]

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    # Unique over the install: the public address /kb/<slug>/ names no vendor.
    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=200)
    summary = models.CharField(
        max_length=300, blank=True, help_text="One or two sentences; the page's meta description."
    )
    body = models.TextField(help_text="Markdown.")
    body_html = models.TextField(help_text="The body rendered and sanitised when saved.")
    category = models.ForeignKey(
        ArticleCategory, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    products = models.ManyToManyField("contracts.Product", blank=True, related_name="+")
    versions = models.ManyToManyField("contracts.ProductVersion", blank=True, related_name="+")
    visibility = models.CharField(
        max_length=12, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    status = models.CharField(
        max_length=12, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    view_count = models.PositiveIntegerField(default=0)
    helpful_count = models.PositiveIntegerField(default=0)
    unhelpful_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["vendor", "status", "visibility"], name="kb_article_scope"),
        ]

    def __str__(self) -> str:
        return self.title


class ArticleRevision(models.Model):
    """One saved state of an article, with who saved it and the diff from the one before."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    diff = models.TextField(blank=True, help_text="Unified diff from the previous revision.")
    note = models.CharField(max_length=200, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="uniq_kb_revision")
        ]


def image_path(instance: ArticleImage, filename: str) -> str:
    return f"kb/images/{instance.sha256[:2]}/{instance.sha256}"


class ArticleImage(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="images")
    file = models.FileField(upload_to=image_path, max_length=200)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120, help_text="Sniffed from the bytes.")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField()


class ArticleFeedback(models.Model):
    """One "did this help?" answer; the article keeps the running counts."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    helpful = models.BooleanField()
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()


class ArticleSearchDocument(models.Model):
    """The searched text of an article (core.search.FullTextIndex), with its scope columns."""

    article = models.OneToOneField(
        Article, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    visibility = models.CharField(max_length=12)
    published = models.BooleanField()
    title = models.TextField()
    summary = models.TextField()
    body = models.TextField(help_text="The body as plain text.")


class SuggestionVisit(models.Model):
    """One portal new-ticket form as a contact filled it: the articles suggested while they
    typed, which they opened, and whether they then submitted a ticket (deflection)."""

    token = models.CharField(max_length=43, unique=True)
    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.CASCADE, related_name="+"
    )
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField()
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["vendor", "started_at"], name="kb_visit_vendor_started")]


class Suggestion(models.Model):
    visit = models.ForeignKey(SuggestionVisit, on_delete=models.CASCADE, related_name="shown")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    shown_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["visit", "article"], name="uniq_kb_suggestion")
        ]


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
