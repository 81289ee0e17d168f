"""What a Hexo site's posts are called by the others: the index `post_link` and `post_path` resolve through.

`{% post_link hexo-2-7-released %}` in one post names another by its slug;
the link goes to that post's old address (its Hexo permalink), which the
import records and which answers with a 301 to the article
(articles.legacy_urls), and its text is that post's title. A post being
parsed in a worker knows nothing of the others, so the index is built
first, from every post's front matter, and each post that uses it is handed
the entries its own tags name (`linked_posts`): its content hash then changes
only when one of those does, and what travels to the worker stays small.

Pure Python, no Django.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Iterable, Mapping

from importing.hexo_site import PostRef, SitePost
from importing.parse import (
    DEFAULT_MAX_BYTES, ImportFileError, build_article, decode_source, read_source, front_matter_and_body,
)
from importing.tag_plugins import split_args

# The tags that name another post (hexo/dist/plugins/tag/post_link.js, post_path.js).
LINK_TAGS = (b"post_link", b"post_path")
# One such tag; its arguments are bounded so that a line of unclosed tags is read in linear time.
_LINK_TAG = re.compile(r"\{%-?\s*post_(?:link|path)\s+(.{0,2000}?)\s*-?%\}")


def uses_post_links(data: bytes) -> bool:
    return any(tag in data for tag in LINK_TAGS)


def named_posts(data: bytes) -> set[str]:
    """The posts a file's post_link/post_path tags name (a slug or a title, without its #anchor), as
    importing.tag_plugins reads the tags' arguments."""
    if not uses_post_links(data):
        return set()
    names = set()
    for tag in _LINK_TAG.finditer(data.decode("utf-8", "replace")):
        args = split_args(tag.group(1))
        if args:
            names.add(args[0].split("#")[0] if args[0].count("#") == 1 else args[0])
    return names


def linked_posts(names: Iterable[str], index: Mapping[str, PostRef]) -> dict[str, PostRef]:
    """The entries of `index` that `names` name; a name not in it is left for the tag to report."""
    return {name: index[name] for name in names if name in index}


def link_index(posts: Iterable[tuple[Path, SitePost]], tz: dt.tzinfo,
               max_bytes: int = DEFAULT_MAX_BYTES) -> Mapping[str, PostRef]:
    """Each published post's slug → its old address and title, and its title → the same, as post_link
    finds a post by either (the slug first); posts that cannot be read are left out (their own import
    reports why)."""
    index: dict[str, PostRef] = {}
    by_title: dict[str, PostRef] = {}
    for path, site_post in posts:
        if site_post.draft:
            continue  # Hexo's post_link finds drafts too, but a draft has no public address
        try:
            meta, _body = front_matter_and_body(decode_source(read_source(path, max_bytes), str(path)),
                                                 str(path), site_post)
            article = build_article(meta, "", path=str(path), digest="", tz=tz,
                                    modified=path.stat().st_mtime, site_post=site_post)
        except (ImportFileError, OSError):
            continue
        if article.old_paths:
            ref = PostRef(url=article.old_paths[0], title=article.title)
            index.setdefault(site_post.slug, ref)
            by_title.setdefault(article.title, ref)
    return {**by_title, **index}
