"""The read-only content API at /api/v1/ (Django REST Framework).

It shows exactly what the public site shows: every queryset starts from
``Article.objects.published()``, and the article list filters with the site's
own FilterSet (extended in ``filters``). Modules:

* ``filters``: the site's ArticleFilter plus published_after/before and q;
* ``pagination``: keyset cursors over (published_at, id) and (name, id);
* ``freshness``: what a response depends on (ETag, Last-Modified, cache keys);
* ``serializers``, ``views``, ``urls``: the endpoints;
* ``throttling``: the per-address limit for anonymous clients.
"""
