from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from csas.progress.datapackage import (
    datapackage_contents,
    datapackage_summary,
    datapackage_write_folder,
    datapackage_write_zip,
)
from csas.strategy.models import Strategy
from csas.strategy.selectors import strategy_get_default, version_get_published


class Command(BaseCommand):
    help = (
        "Write the open data package (published data only) to PATH: a zip, or with --folder "
        "a folder holding datapackage.json, data/*.csv and geo/*.geojson."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="Where to write the zip (or the folder).")
        parser.add_argument(
            "--folder", action="store_true", help="Write the files into a folder, not a zip."
        )
        parser.add_argument(
            "--strategy", default="", help="Strategy slug (default: the site's strategy)."
        )
        parser.add_argument(
            "--force", action="store_true", help="Replace PATH if it already exists."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        target: Path = options["path"]
        if target.exists() and not options["force"]:
            raise CommandError(f"{target} already exists; pass --force to replace it")
        strategy = self._strategy(options["strategy"])
        try:
            version = version_get_published(strategy)
        except Http404 as exc:
            raise CommandError(f"strategy {strategy.slug!r}: no version is published") from exc
        contents = datapackage_contents(version)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target, then move it into place: a failed export leaves no
        # half-written package behind.
        if options["folder"]:
            staging = Path(tempfile.mkdtemp(prefix=".datapackage-", dir=target.parent))
            try:
                datapackage_write_folder(contents, staging)
                if target.exists():
                    shutil.rmtree(target) if target.is_dir() else target.unlink()
                staging.rename(target)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        else:
            handle, name = tempfile.mkstemp(
                prefix=".datapackage-", suffix=".zip", dir=target.parent
            )
            try:
                with os.fdopen(handle, "wb") as stream:
                    datapackage_write_zip(contents, stream)
                if target.is_dir():
                    shutil.rmtree(target)
                os.replace(name, target)
            except BaseException:
                Path(name).unlink(missing_ok=True)
                raise
        if options["verbosity"] >= 1:
            for resource in datapackage_summary(contents):
                self.stdout.write(f"{resource.path}: {resource.rows} rows")
            self.stdout.write(f"Wrote {target} ({version.label}).")

    def _strategy(self, slug: str) -> Strategy:
        if slug:
            strategy = Strategy.objects.select_related("city").filter(slug=slug).first()
            if strategy is None:
                known = ", ".join(Strategy.objects.values_list("slug", flat=True)) or "none"
                raise CommandError(f"--strategy: no strategy {slug!r} (loaded: {known})")
            return strategy
        default = strategy_get_default()
        if default is None:
            raise CommandError("no strategy is loaded; run load_strategy first")
        return default
