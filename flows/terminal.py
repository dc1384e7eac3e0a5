"""The consoles every `stadtradar` command prints to, and how a command ends with an error."""
from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

out = Console()
err = Console(stderr=True)
EXIT_BUSY = 3  # another run holds the warehouse (flows/cli.py, EXIT_CODES)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `error: message` to stderr and return the Exit to raise with `code`.

    Escaped: messages quote patterns like ^[a-z0-9_]+$, which Rich would take for markup and drop. Not wrapped:
    one line, whole paths, for logs and grep."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)
