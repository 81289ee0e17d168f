from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EditorialConfig(AppConfig):
    """The Django admin for the newsroom: articles, taxonomy, imports, keywords.

    Its admin.py is found by the admin's autodiscovery; the site itself is
    `editorial.site.NewsroomAdminSite`, installed in place of django.contrib.admin.
    """

    name = "editorial"
    verbose_name = _("Editorial admin")
