"""`manage.py export_articles OUT_DIR [--site] [--category PATH] [--since DATE]`: articles back to Hexo posts."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from importing.hexo_export import export_articles, selection
from articles.management.arguments import add_since_option
from articles.models import Category


class Command(BaseCommand):
    help = (
        "Write articles as Hexo posts (YAML front matter + body), one file each, named "
        "YYYY-MM-DD-slug.md. Importing the directory with import_articles gives the same articles "
        "back. Every status is exported; drafts and articles in review get 'published: false'. "
        "With --site, OUT_DIR becomes a Hexo site that `hexo generate` builds."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out_dir", metavar="OUT_DIR", help="directory to write to (created if missing)")
        parser.add_argument("--category", metavar="PATH",
                            help="only this category and its subcategories, by path (e.g. 金融/财联社)")
        parser.add_argument("--site", action="store_true",
                            help="write a whole Hexo site: _config.yml (our time zone and permalinks) and "
                                 "package.json unless present, published posts in source/_posts/, drafts and "
                                 "articles in review in source/_drafts/, the images stored at import in "
                                 "each post's asset folder")
        add_since_option(parser)

    def handle(self, *args, **options) -> None:
        out_dir = Path(options["out_dir"])
        if out_dir.exists() and not out_dir.is_dir():
            raise CommandError(f"{out_dir}: exists and is not a directory")
        category = None
        if options["category"]:
            path = options["category"].strip("/")
            category = Category.objects.filter(path=path).first()
            if category is None:
                raise CommandError(f"--category: no category with the path {path!r}")
        since = options["since"]
        try:
            report = export_articles(selection(category=category, since=since), out_dir, site=options["site"])
        except OSError as exc:
            raise CommandError(f"{exc.filename or out_dir}: cannot write: {exc.strerror or exc}") from exc
        summary = f"exported {len(report.written)} article(s) to {out_dir}"
        if report.keys_given:
            summary += f"; {report.keys_given} written in the admin were given an import key"
        if options["site"]:
            summary += (f"\na Hexo site: {len(report.written) - report.drafts} in source/_posts, "
                        f"{report.drafts} in source/_drafts")
            for path in report.site_files_kept:
                summary += f"\nkept the site's own {path.name} (check its timezone, permalink and new_post_name)"
            if report.assets:
                summary += f"\n{report.assets} stored image(s) copied into the posts' asset folders"
            summary += f"\nbuild it: cd {out_dir} && npm install && npm run build"
        self.stdout.write(summary)
        for line in report.warnings:
            self.stderr.write(f"warning: {line}")
