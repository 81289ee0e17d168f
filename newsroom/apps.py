from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NewsroomConfig(AppConfig):
    """Newsroom intelligence and editorial operations: bylines, keywords, revisions."""

    name = "newsroom"
    verbose_name = _("Newsroom")

    def ready(self) -> None:
        from . import handlers

        handlers.connect()
