"""One page of every public type, for the checks that must hold on all of them.

The Nu Html Checker (tests/articles/test_html_validity.py) and axe-core
(tests/articles/test_accessibility.py) look at the same pages: a new page type is added
here once and both check it.
"""

from __future__ import annotations

from django.utils import timezone

from articles.models import ArticleHits
from tests.factories import chain, publish


def public_page_paths(body: str) -> dict[str, str]:
    """Name -> path of one page of every public type, around an article whose body is `body`.

    The seeds should be imported first, so that listings hold more than one story.
    """
    deep = chain("金融", "券商", "深度")
    article = publish("券商加大IT投入", categories=[deep], tags=["券商"], author="记者甲", body=body)
    day = article.published_date
    # Read, so that the home page's 热门 block and /hot/ list it (articles.hot).
    ArticleHits.objects.create(article=article, hour=timezone.now().replace(minute=0, second=0, microsecond=0), count=3)
    publish("央行开展逆回购操作", categories=[chain("金融", "财联社", "电报")],
            body="<p>【央行开展逆回购操作】财联社电，央行今日开展1000亿元7天期逆回购操作。</p>")
    return {
        "home": "/",
        "wire": "/wire/",
        "category-index": "/category/",
        "category": deep.get_absolute_url(),
        "archive-index": "/archive/",
        "archive-year": f"/archive/{day:%Y}/",
        "archive-month": f"/archive/{day:%Y/%m}/",
        "archive-day": f"/archive/{day:%Y/%m/%d}/",
        "article": article.get_absolute_url(),
        "tag": "/tag/券商/",
        "author": article.author.get_absolute_url(),
        "search-results": "/search/?q=券商",
        "search-empty": "/search/",
        "hot": "/hot/",
        "not-found": "/no/such/page/",
        "admin-login": "/admin/login/",
    }
