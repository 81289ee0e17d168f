from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = _("Search")

    def ready(self) -> None:
        from . import checks, handlers  # noqa: F401  (checks register themselves with @register)

        handlers.connect()
        # The index's own tables are no model's: tell the content version that
        # rebuilding them changes what search pages show.
        from articles import content_version

        from .backends import TABLES

        content_version.watch_tables(*TABLES.values())
