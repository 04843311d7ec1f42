"""Command-line commands for boundaries (stub; filled in by issue 16)."""

from __future__ import annotations

import argparse


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the commands of this module on the ``gefis`` parser."""
    del sub
