"""Import from the browser: uploaded posts, and .zip archives of them.

upload → `inspect_upload` (type and archive checks: a refused upload imports
nothing) → `UploadSource`, given to importing.service.run_import (the
command's own entry point), in the request: posts copied into a
TemporaryDirectory under stable names → the import → an ImportRun.

Files are named `upload:<file>` or `upload:<archive>/<member>` in reports,
`Article.source_path` and `ImportedFile`, so uploading the same file again is
"unchanged". Archive members are never extracted by their own names: each is
copied, size-capped, to a numbered file inside the temporary directory, so no
name in an archive can write outside it. Archives with absolute or `..`
member names or symlinks are refused anyway (they are not innocent), as are
archives with too many entries or whose posts would unpack to too much (zip
bombs), judged from the archive's directory before anything is decompressed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import stat
import tempfile
import unicodedata
import zipfile
import zoneinfo
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterator, Sequence

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext, gettext_lazy as _

from articles.models import ImportRun
from importing.pipeline import SUFFIXES
from importing.service import ImportOptions, StagedFiles

ARCHIVE_SUFFIX = ".zip"
NAME_PREFIX = "upload:"
MAX_NAME_CHARS = 900  # ImportedFile.path and Article.source_path hold 1000
CHUNK = 64 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


class UploadRejected(ValueError):
    """An upload that cannot be imported at all; the message names the file."""


@dataclass(frozen=True)
class UploadLimits:
    post_bytes: int  # each post, as the command's --max-bytes
    entries: int  # entries in one archive
    unpacked_bytes: int  # one archive's posts together

    @classmethod
    def from_settings(cls) -> "UploadLimits":
        return cls(settings.NEWSPORTAL_IMPORT_MAX_BYTES, settings.NEWSPORTAL_UPLOAD_MAX_ENTRIES,
                   settings.NEWSPORTAL_UPLOAD_MAX_UNPACKED_BYTES)


@dataclass(frozen=True)
class Member:
    info: zipfile.ZipInfo
    name: str  # decoded and '/'-separated


@dataclass
class Upload:
    """One uploaded file, checked: a post, or an archive and the posts in it."""

    file: UploadedFile
    members: list[Member] | None = None  # None: the file is a post itself
    ignored: list[str] = field(default_factory=list)  # archive files that are not posts

    @property
    def name(self) -> str:
        return self.file.name or "upload"


# --- checking (before anything is imported) -------------------------------------


def inspect_upload(file: UploadedFile, limits: UploadLimits) -> Upload:
    """Check one uploaded file; raises UploadRejected naming it if it cannot be imported."""
    name = file.name or "upload"
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in SUFFIXES:
        return Upload(file)
    if suffix != ARCHIVE_SUFFIX:
        raise UploadRejected(gettext("%(name)s: not a .md, .markdown, .txt or .zip file") % {"name": name})
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise UploadRejected(gettext("%(name)s: not a readable .zip archive (%(error)s)") % {"name": name, "error": exc}) from exc
    if len(infos) > limits.entries:
        raise UploadRejected(gettext(
            "%(name)s: %(count)s entries, over the limit of %(limit)s "
            "(NEWSPORTAL_UPLOAD_MAX_ENTRIES); split it into smaller archives")
            % {"name": name, "count": f"{len(infos):,}", "limit": f"{limits.entries:,}"})
    upload = Upload(file, members=[])
    for info in infos:
        member_name = _member_name(info)
        problem = _unsafe(info, member_name)
        if problem:
            raise UploadRejected(gettext("%(name)s: %(member)r %(problem)s; the archive was not imported")
                                 % {"name": name, "member": member_name, "problem": problem})
        if info.is_dir():
            continue
        if _is_post(member_name):
            upload.members.append(Member(info, member_name))
        else:
            upload.ignored.append(f"{name}/{member_name}")
    if not upload.members:
        raise UploadRejected(gettext("%(name)s: contains no .md, .markdown or .txt files") % {"name": name})
    unpacked = sum(m.info.file_size for m in upload.members if m.info.file_size <= limits.post_bytes)
    if unpacked > limits.unpacked_bytes:
        raise UploadRejected(gettext(
            "%(name)s: its posts would unpack to %(size)s bytes, over the limit of "
            "%(limit)s (NEWSPORTAL_UPLOAD_MAX_UNPACKED_BYTES)")
            % {"name": name, "size": f"{unpacked:,}", "limit": f"{limits.unpacked_bytes:,}"})
    upload.members.sort(key=lambda m: m.name)
    return upload


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author wrote it.

    Without the UTF-8 flag, zipfile decodes names as CP437; archives made on
    Chinese Windows hold GBK there, and many tools write UTF-8 without the flag.
    """
    name = info.filename
    if not info.flag_bits & 0x800:
        raw = name.encode("cp437")
        for encoding in ("utf-8", "gb18030"):
            try:
                name = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    return unicodedata.normalize("NFC", name.replace("\\", "/"))


def _unsafe(info: zipfile.ZipInfo, name: str) -> str | None:
    if name.startswith("/") or _DRIVE.match(name):
        return gettext("is an absolute path")
    if ".." in name.split("/"):
        return gettext("points outside the archive (path traversal)")
    if stat.S_ISLNK(info.external_attr >> 16):
        return gettext("is a symbolic link")
    return None


def _is_post(name: str) -> bool:
    parts = [part for part in name.split("/") if part]
    if not parts or any(part.startswith(".") or part == "__MACOSX" for part in parts):
        return False  # macOS resource forks, .DS_Store, hidden folders
    return PurePosixPath(parts[-1]).suffix.lower() in SUFFIXES


# --- importing ----------------------------------------------------------------


@dataclass(frozen=True)
class UploadSource:
    """Checked uploads, as importing.service.run_import's source: staged into a temporary directory."""

    uploads: Sequence[Upload]
    limits: UploadLimits = field(default_factory=UploadLimits.from_settings)
    origin: str = ImportRun.Origin.UPLOAD

    @property
    def sources(self) -> list[str]:
        return [upload.name for upload in self.uploads]

    @contextmanager
    def staged(self, options: ImportOptions) -> Iterator[StagedFiles]:
        """The posts copied into a temporary directory, removed when the import is done."""
        with tempfile.TemporaryDirectory(prefix="newsportal-upload-") as directory:
            staged = _stage(self.uploads, Path(directory), self.limits)
            staged.ignored.extend(name for upload in self.uploads for name in upload.ignored)
            yield staged


def _stage(uploads: Sequence[Upload], directory: Path, limits: UploadLimits) -> StagedFiles:
    """Copy every post into `directory` as 0.md, 1.txt, …; errors for those that cannot be."""
    staged = StagedFiles(paths=[], names=[])
    numbers = itertools.count()

    def add(name: str, size: int, open_source) -> None:
        display = NAME_PREFIX + name
        if len(display) > MAX_NAME_CHARS:
            staged.errors.append(f"{display[:100]}…: file name is over {MAX_NAME_CHARS} characters")
            return
        if size > limits.post_bytes:
            staged.errors.append(
                f"{display}: file is {size:,} bytes, over the {limits.post_bytes:,}-byte limit "
                "(NEWSPORTAL_IMPORT_MAX_BYTES)")
            return
        target = directory / f"{next(numbers)}{PurePosixPath(name).suffix.lower()}"
        try:
            with open_source() as source, open(target, "xb") as out:
                _copy_capped(source, out, limits.post_bytes)
        except _TooLarge:  # longer than its archive entry declared
            target.unlink(missing_ok=True)
            staged.errors.append(f"{display}: file is over the {limits.post_bytes:,}-byte limit")
            return
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError) as exc:
            # A damaged member (bad CRC, unsupported compression) fails alone.
            target.unlink(missing_ok=True)
            staged.errors.append(f"{display}: cannot unpack from the archive: {exc}")
            return
        staged.paths.append(target)
        staged.names.append(display)

    for upload in uploads:
        if upload.members is None:
            add(upload.name, upload.file.size or 0, lambda u=upload: _from_start(u.file))
            continue
        upload.file.seek(0)
        with zipfile.ZipFile(upload.file) as archive:
            for member in upload.members:
                if member.info.flag_bits & 0x1:
                    staged.errors.append(
                        f"{NAME_PREFIX}{upload.name}/{member.name}: is encrypted; upload it unencrypted")
                    continue
                add(f"{upload.name}/{member.name}", member.info.file_size,
                    lambda a=archive, i=member.info: a.open(i))
    return staged


class _TooLarge(Exception):
    pass


@contextmanager
def _from_start(file: UploadedFile) -> Iterator[BinaryIO]:
    """An uploaded file read from its start, left open (Django closes it)."""
    file.seek(0)
    yield file


def _copy_capped(source: BinaryIO, out: BinaryIO, limit: int) -> None:
    """Copy at most `limit` bytes; a source longer than its declared size is refused."""
    written = 0
    while chunk := source.read(CHUNK):
        written += len(chunk)
        if written > limit:
            raise _TooLarge
        out.write(chunk)


# --- the form -------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".md,.markdown,.txt,.zip"}))
        # An empty post fails alone, named, in the import's report (as on the command line).
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list[UploadedFile]:
        files = data if isinstance(data, (list, tuple)) else [data] if data else []
        if not files and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(file, initial) for file in files]


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class UploadImportForm(forms.Form):
    files = MultipleFileField(
        label=_("Files"),
        help_text=_("Posts (.md, .markdown, .txt) or .zip archives of them; several at once are fine. "
                    "In an archive, folders are searched and other files are ignored."),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"), choices=_time_zone_choices,
        help_text=_("For dates written without an offset."),
    )
    overwrite_edited = forms.BooleanField(
        label=_("Overwrite edited articles"), required=False,
        help_text=_("Also replace articles changed in the admin with the file's version "
                    "(by default they are kept and counted as “kept local edits”)."),
    )

    def __init__(self, *args, limits: UploadLimits | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits or UploadLimits.from_settings()
        self.fields["time_zone"].initial = settings.TIME_ZONE

    def clean_files(self) -> list[Upload]:
        uploads, problems = [], []
        for file in self.cleaned_data["files"]:
            try:
                uploads.append(inspect_upload(file, self.limits))
            except UploadRejected as exc:
                problems.append(ValidationError(str(exc), code="rejected"))
        if problems:
            raise ValidationError(problems)
        return uploads

    def clean_time_zone(self) -> dt.tzinfo:
        return zoneinfo.ZoneInfo(self.cleaned_data["time_zone"])

    def import_source(self) -> UploadSource:
        """The valid form's uploads, to give to importing.service.run_import."""
        return UploadSource(self.cleaned_data["files"], self.limits)

    def import_options(self) -> ImportOptions:
        """How the valid form asks to import, with the upload's own limits."""
        return ImportOptions(
            time_zone=self.cleaned_data["time_zone"].key, max_bytes=self.limits.post_bytes,
            overwrite_edited=self.cleaned_data["overwrite_edited"],
            # In this process and this request: a web worker must not fork.
            workers=0,
        )
