"""The article body's editor widget (django-prose-editor, ProseMirror).

It offers what articles.sanitize allows and nothing more, so whatever an
editor makes survives the save unchanged. The widget only edits: it is used
without django-prose-editor's own sanitising, because `Article.save()` passes
every body through `articles.sanitize.sanitize_body`, the project's one
sanitiser. Its JavaScript and CSS ship inside the package and are served as
static files (whitenoise); nothing is loaded from a CDN.
"""

from __future__ import annotations

from django import forms
from django_prose_editor.widgets import AdminProseEditorWidget

EDITOR_EXTENSIONS: dict[str, object] = {
    "Paragraph": True,
    "HardBreak": True,
    # h1 is the article's title on the page; sections start at h2.
    "Heading": {"levels": [2, 3, 4]},
    "Bold": True,
    "Italic": True,
    "Underline": True,
    "Strike": True,
    "Subscript": True,
    "Superscript": True,
    "BulletList": True,
    "OrderedList": True,
    "ListItem": True,
    "Blockquote": True,
    "HorizontalRule": True,
    # The sanitiser drops `target` and sets rel itself (noopener noreferrer nofollow).
    "Link": {"enableTarget": False, "protocols": ["http", "https", "mailto"]},
    # Images by URL, with alt text and an optional caption.
    "Figure": True,
    "Caption": True,
    "Image": True,
    "Table": True,
    "TableRow": True,
    "TableHeader": True,
    "TableCell": True,
}


class BodyEditorWidget(AdminProseEditorWidget):
    """The package's admin widget, its menus in the reader's language and its arrow drawn without a font.

    static/js/admin-editor-i18n.js translates the toolbar's tooltips and the
    block-type menu through Django's JavaScript catalogue (our djangojs.po);
    static/css/admin-editor.css replaces the menu arrow's missing glyph.
    """

    @property
    def media(self):
        return super().media + forms.Media(css={"all": ["css/admin-editor.css"]}, js=["js/admin-editor-i18n.js"])


def body_widget() -> AdminProseEditorWidget:
    return BodyEditorWidget(config={"extensions": EDITOR_EXTENSIONS}, preset="configurable")
