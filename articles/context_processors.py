from django.conf import settings

from articles.front import channel_bar


def site(request) -> dict:
    """The site's name and description, and the channel bar (called only by a page that shows it), for every template."""
    return {
        "site_name": settings.NEWSPORTAL_SITE_NAME,
        "site_description": settings.NEWSPORTAL_SITE_DESCRIPTION,
        "channel_bar": channel_bar,
    }
