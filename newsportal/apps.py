"""The project package as an app: only so that its system checks (newsportal.checks) register."""

from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "newsportal"
    verbose_name = "newsportal"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (the checks register themselves with @register)
