from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportingConfig(AppConfig):
    """Moving archives in and out: Hexo posts and sites, uploads, import runs."""

    name = "importing"
    verbose_name = _("Importing")
