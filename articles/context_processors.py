from django.conf import settings


def site(request) -> dict:
    """The site's name and description, for every template."""
    return {
        "site_name": settings.NEWSPORTAL_SITE_NAME,
        "site_description": settings.NEWSPORTAL_SITE_DESCRIPTION,
    }
