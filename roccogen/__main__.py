"""``python -m roccogen``."""

from roccogen.cli import app

app(prog_name="roccogen")
