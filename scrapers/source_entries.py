"""Writing sources.yml entries: an entry's id and YAML text, reading it back, appending it safely to the file."""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from scrapers.config import Source, SourcesFileError, load_sources
from scrapers.urls import host_of

MAX_NAME_CHARS = 120  # a source's display name taken from its site: a title, not a paragraph
NEW_FILE_MODE = 0o644  # a new sources file, as an editor would create it (less the umask)
# Characters YAML does not allow in a document (PyYAML's reader refuses them), besides the C0/C1 controls.
_NOT_YAML = re.compile("[\ufffe\uffff\ud800-\udfff]")


def one_line(text: str) -> str:
    """text as one line that YAML accepts in a scalar or a comment: whitespace runs (line breaks included) as
    one space, control and format characters dropped."""
    kept = "".join(ch if unicodedata.category(ch) not in ("Cc", "Cf") else " " if ch.isspace() else ""
                   for ch in text)
    return " ".join(_NOT_YAML.sub("", kept).split())


def clean_name(text: str | None, limit: int = MAX_NAME_CHARS) -> str | None:
    """A display name from a page (og:site_name, <title>): one line, at most limit characters (cut at a word
    where it can be, marked with '…'); None when nothing is left."""
    name = one_line(text or "")
    if len(name) > limit:
        cut = name[:limit - 1]
        if " " in cut[limit // 2:]:
            cut = cut[:cut.rfind(" ")]
        name = cut.rstrip(" -–—|:,;") + "…"
    return name or None


def derive_id(url: str, taken: Collection[str] = ()) -> str:
    """A source id from a URL's host (www.leipzig.de -> leipzig), made unique against taken ids."""
    host = host_of(url)
    labels = [label for label in host.split(".") if label and label != "www"]
    if len(labels) >= 2 and not host.replace(".", "").isdigit():
        labels = labels[:-1]  # the top-level domain says nothing about the publisher
    base = re.sub(r"[^a-z0-9]+", "_", "_".join(labels).lower()).strip("_") or "site"
    if base[0].isdigit():
        base = f"site_{base}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def _yaml_scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = one_line(str(value))
    if re.fullmatch(r"[a-z0-9_]+", text) and yaml.safe_load(text) == text:  # an id or a kind: bare, as people write
        return text
    # Single quotes: backslashes of a regex stay as written, '#' and ':' are text; a quote is doubled.
    return "'" + text.replace("'", "''") + "'"


def entry_text(entry: dict[str, Any], comments: Iterable[str] = (), indent: str = "  ") -> str:
    """The YAML of one sources.yml list item, at indent, with comment lines above it. Strings are written on one
    line (see one_line), whatever a site put in them."""
    lines = [f"{indent}# {one_line(c)}".rstrip() for comment in comments for c in comment.splitlines()]
    inner = indent + "  "
    for n, (key, value) in enumerate(entry.items()):
        lead = f"{indent}- " if n == 0 else inner
        if isinstance(value, list):
            if len(value) <= 1:
                lines.append(f"{lead}{key}: [{', '.join(_yaml_scalar(v) for v in value)}]")
            else:
                lines.append(f"{lead}{key}:")
                lines += [f"{inner}  - {_yaml_scalar(v)}" for v in value]
        else:
            lines.append(f"{lead}{key}: {_yaml_scalar(value)}")
    return "\n".join(lines) + "\n"


def parse_entry(text: str) -> Source:
    """The Source an entry_text describes (raises ValueError when it does not validate)."""
    try:
        data = yaml.safe_load("sources:\n" + text)
    except yaml.YAMLError as exc:
        raise ValueError(f"the entry is not valid YAML: {exc}") from None
    items = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        raise ValueError("the entry is not one YAML mapping in a list")
    try:
        return Source.model_validate(items[0])
    except ValidationError as exc:
        raise ValueError(str(exc)) from None


class AppendError(ValueError):
    """The entry cannot be appended to the sources file; the file is left as it was."""


def _item_indent(text: str) -> str:
    """The indentation of the list items under `sources:` (two spaces when the list is empty or absent)."""
    lines = text.splitlines()
    for n, line in enumerate(lines):
        if re.match(r"^sources\s*:", line):
            for following in lines[n + 1:]:
                m = re.match(r"^( *)- ", following)
                if m:
                    return m.group(1)
                if following.strip() and not following.lstrip().startswith("#") and not following.startswith(" "):
                    break
            break
    return "  "


def _new_file_mode() -> int:
    mask = os.umask(0o022)  # the only way to read the umask is to set it: set it back at once
    os.umask(mask)
    return NEW_FILE_MODE & ~mask


def append_entry(path: Path, entry: dict[str, Any], comments: Iterable[str] = ()) -> None:
    """Append an entry to a sources file, keeping its text, comments and mode; the whole resulting file is
    validated before it replaces the old one (written to a temporary file, then renamed), so a refusal changes
    nothing. A symlink stays a link: the file it points to is the one replaced.

    Raises AppendError for a duplicate id or a result that does not validate, SourcesFileError for a file that
    is not valid already.
    """
    source_id = str(entry.get("id"))
    target = path.resolve()  # the rename below must replace the file, not the link to it
    if target.exists():
        existing = load_sources(target)  # a broken file is reported as it is, not blamed on the new entry
        if source_id in {s.id for s in existing}:
            raise AppendError(f"{path}: a source with id {source_id!r} exists already; choose another with --id")
        old = target.read_text(encoding="utf-8")
    else:
        old = "sources:\n"
    text = entry_text(entry, comments, _item_indent(old))
    new = (old if old.endswith("\n") else old + "\n") + ("\n" if old.strip() != "sources:" else "") + text
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(new)
            out.flush()
            os.fsync(out.fileno())
        try:
            written = load_sources(temp)
        except SourcesFileError as exc:
            raise AppendError(f"{path}: the file with the new entry would not be valid, nothing written: "
                              f"{str(exc).removeprefix(str(temp) + ': ')}") from None
        if source_id not in {s.id for s in written}:
            raise AppendError(f"{path}: the entry would not land in the list 'sources' (is another key after it?); "
                              "nothing written: paste it by hand")
        if target.exists():
            shutil.copymode(target, temp)
        else:
            os.chmod(temp, _new_file_mode())  # mkstemp's 0600 would hide the file from the crawler's user
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
