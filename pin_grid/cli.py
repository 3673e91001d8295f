"""Command-line tools: `flask --app app grid …`, `export-assessments`, `import-assessments`, `report`, `doctor`."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app, g
from flask.cli import AppGroup, ScriptInfo
from flask_babel import force_locale
from flask_babel import gettext as _

from . import accounts, backups, demo as demo_data, exchange, limits, reports, services
from .context import current_locale, grid_catalog
from .extensions import bind_migrations
from .grid import GridError, load_catalog, load_grid
from .models import ROLES
from .services import SYSTEM
from .views.comparison import shown_rows

grid_cli = AppGroup("grid", help="Check or show the grid (grid_items.yaml).")


def _grids_or_exit():
    """Every grid version (the CLI stops, naming each fault, when one is invalid)."""
    try:
        return grid_catalog()
    except GridError as exc:
        _report_grid_error(exc)
        sys.exit(1)


def _grid_or_exit():
    return _grids_or_exit().current


def _report_grid_error(exc: GridError) -> None:
    click.echo(_("%(path)s : nombre de problèmes : %(count)d", path=exc.path, count=len(exc.problems)), err=True)
    for problem in exc.problems:
        click.echo(f"  {problem}", err=True)


@grid_cli.command("check")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
def grid_check(path: str | None) -> None:
    """Check the grid file (by default the app's, with the earlier versions in grids/ and how
    each one follows the previous); exit 1 listing every problem."""
    load_grid.cache_clear()
    try:
        grids = [load_grid(path)] if path else list(
            load_catalog(current_app.config["GRID_FILE"], current_app.config["GRID_ARCHIVE"]).versions.values())
    except GridError as exc:
        _report_grid_error(exc)
        sys.exit(1)
    for grid in grids:
        click.echo(_("%(path)s : grille valide, version %(version)s, %(themes)d thèmes, %(items)d énoncés, %(levels)d niveaux.",
                     path=path or grid.version, version=grid.version, themes=len(grid.themes), items=len(grid.items),
                     levels=len(grid.levels)))


@grid_cli.command("diff")
@click.argument("older")
@click.argument("newer")
def grid_diff(older: str, newer: str) -> None:
    """What changed from grid version OLDER to NEWER, statement by statement."""
    catalog = _grids_or_exit()
    missing = [v for v in (older, newer) if catalog.get(v) is None]
    if missing:
        click.echo(_("Version de grille inconnue : %(versions)s (connues : %(known)s).", versions=", ".join(missing),
                     known=", ".join(sorted(catalog.versions))), err=True)
        sys.exit(1)
    try:
        changes = catalog.diff(older, newer)
    except KeyError:
        click.echo(_("La version %(older)s ne précède pas la version %(newer)s.", older=older, newer=newer), err=True)
        sys.exit(1)
    before, after = catalog[older], catalog[newer]
    click.echo(_("Grille %(older)s → %(newer)s", older=older, newer=newer))
    for change in changes:
        origins = ", ".join(change.origins)
        if change.change == "removed":
            click.echo(f"  {_('retiré'):10} {origins:14} {before.items[origins].text.fr}")
            continue
        label = {"same": _("identique"), "reworded": _("reformulé"), "split": _("scindé"), "merged": _("fusionné"),
                 "new": _("nouveau")}[change.change]
        click.echo(f"  {label:10} {change.item_id:6} ← {origins or '—':7} {after.items[change.item_id].text.fr}")
    carried = sum(1 for c in changes if c.change in ("same", "reworded"))
    click.echo(_("Réponses reprises d'une version à l'autre : %(carried)d énoncés sur %(total)d.", carried=carried,
                 total=len(after.items)))


@grid_cli.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print the grid as JSON.")
def grid_show(as_json: bool) -> None:
    """Print the grid."""
    grid = _grid_or_exit()
    if as_json:
        click.echo(json.dumps(grid.as_json(), ensure_ascii=False, indent=2))
        return
    click.echo(f"{_('Grille')} {grid.version}")
    for theme in grid.themes:
        click.echo(f"{theme.letter}  {theme.name.fr}")
        for item in theme.items:
            click.echo(f"   {item.id:6} {item.text.fr}")


@click.command("export-assessments")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="File to write (default: stdout).")
def export_assessments(output: str | None) -> None:
    """Export every assessment, with all its versions, in the pin-grid/1 JSON format."""
    text = exchange.dumps(exchange.export_document(services.version_chains(), _grids_or_exit()))
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(_("%(path)s écrit.", path=output), err=True)
    else:
        click.echo(text, nl=False)


@click.command("import-assessments")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True, help="Replace an assessment with the same territory, date and perspective.")
def import_assessments(files: tuple[str, ...], replace: bool) -> None:
    """Import pin-grid/1 files. A file with any error is not imported at all."""
    grids = _grids_or_exit()
    failed = False
    for path in files:
        try:
            document = exchange.parse_document(Path(path).read_bytes(), grids)
        except exchange.DocumentError as exc:
            failed = True
            click.echo(_("%(path)s : rien d'importé (nombre d'erreurs : %(count)d) :", path=path, count=len(exc.problems)), err=True)
            for problem in exc.problems:
                click.echo(f"  {problem}", err=True)
            continue
        report = services.import_assessments(document.assessments, replace=replace)
        click.echo(_("%(path)s : évaluations créées : %(created)d, remplacées : %(replaced)d, ignorées : %(skipped)d.",
                     path=path, created=len(report.created), replaced=len(report.replaced), skipped=len(report.skipped)))
        for label in report.skipped:
            click.echo("  " + _("déjà présente, ignorée (--replace pour la remplacer) : %(label)s", label=label))
        for label in report.refused:
            failed = True
            click.echo("  " + _("finalisée, donc non remplacée (une correction passe par une révision) : %(label)s",
                                label=label), err=True)
    if failed:
        sys.exit(1)


@click.command("compare")
@click.option("--year", type=click.IntRange(1900, 2999), required=True, help="Year of the cohort.")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def compare(year: int, as_json: bool) -> None:
    """Compare the territories of a year: symbols, ensemble and profile of each."""
    grid = _grid_or_exit()
    comparison = services.compare_year(year, grid_catalog())
    if as_json:
        click.echo(exchange.dumps_rows(exchange.comparison_document(comparison)), nl=False)
        return
    reference = comparison.reference
    click.echo(_("Comparaison %(year)s : nombre de territoires : %(size)d, référence : %(reference)s", year=year,
                 size=reference.cohort_size,
                 reference=_("la cohorte") if reference.kind == "cohort" else _("seuils absolus (cohorte trop petite)")))
    letters = [t.letter for t in grid.components]
    click.echo(f"{'':12} {'':28} {'date':10} " + " ".join(f"{c:>3}" for c in letters) + f" {'ens.':>10}  profil")
    for row in comparison.rows:
        t, st = row.assessment.territory, row.standing
        symbols = " ".join(f"{(st.symbols[th.id] or '·'):>3}" for th in grid.components)
        ensemble = f"{st.ensemble:5.1f} {st.ensemble_symbol:>3}" if st.ensemble is not None else f"{'—':>9}"
        profile = f"{st.profile.letter} {st.profile.subprofile}" if st.profile else "—"
        click.echo(f"{t.code:12} {t.name[:28]:28} {row.assessment.date.isoformat()} {symbols} {ensemble:>10}  {profile}")


CLI_ACTOR = "cli"  # who the audit trail says exported from the command line


@click.command("export")
@click.option("--what", type=click.Choice(services.EXPORT_WHAT), required=True,
              help="comparison, results (per theme), answers (per statement) or json (pin-grid/1).")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "json"]),
              help="xlsx (the default) or csv; json goes with --what json.")
@click.option("--dialect", type=click.Choice(["rfc4180"]), help="With --format csv: ',' and a decimal point, no BOM.")
@click.option("--year", type=click.IntRange(1900, 2999), help="Assessments dated that year (comparison: its cohort).")
@click.option("--region", help="Territories of that region.")
@click.option("--perspective", type=click.Choice(services.PERSPECTIVES), help="Collective views or partners' views.")
@click.option("--organisation", "organization", help="Assessments where that partner organisation took part.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True))
def export(what: str, fmt: str | None, dialect: str | None, year: int | None, region: str | None,
           perspective: str | None, organization: str | None, output: str) -> None:
    """Export the comparison table of a year, the results or the answers (XLSX or CSV), or the
    pin-grid/1 JSON, as the web's « Exporter » does for an administrator; audited as « cli »."""
    grids = _grids_or_exit()
    fmt = fmt or ("json" if what == "json" else "xlsx")
    found = services.organization_by_name(organization) if organization else None
    problem = None
    if (what == "json") != (fmt == "json"):
        problem = _("--format json va avec --what json, et seulement avec lui.")
    elif dialect and fmt != "csv":
        problem = _("--dialect ne s'applique qu'au format CSV (--format csv).")
    elif region is not None and region not in services.region_names():
        problem = _("Région inconnue : « %(region)s ». Choisissez une région de la liste.", region=region)
    elif what == "comparison" and perspective == "partner":
        problem = _("La comparaison porte sur la vue collective de chaque territoire : le point de vue d'un organisme "
                    "partenaire ne s'y applique pas.")
    elif organization and found is None:
        problem = _("Aucun organisme de ce nom : « %(name)s ».", name=organization)
    if problem:
        click.echo(problem, err=True)
        sys.exit(1)
    filters = services.ExportFilters(year, region, perspective, *(found or (None, None)))
    if what == "json":
        document = services.exchange_export(services.EVERYTHING, filters, grids)
        services.record_export(CLI_ACTOR, what, fmt, filters)
        Path(output).write_text(exchange.dumps(document), encoding="utf-8")
        rows = len(document["assessments"])
    else:
        locale = current_locale()
        if what == "comparison":
            comparison, filters = services.comparison_of(filters, grids)
            table = services.comparison_export(comparison, [(row, None) for row in comparison.rows], filters, grids,
                                               locale)
        elif what == "results":
            table = services.results_export(services.EVERYTHING, filters, grids, locale)
        else:
            table = services.answers_export(services.EVERYTHING, filters, grids, locale)
        services.record_export(CLI_ACTOR, what, fmt, filters, dialect)
        with open(output, "wb") as file:
            rows = services.write_export(file, table, fmt, dialect, actor=CLI_ACTOR, filters=filters,
                                         scope_text=_("toutes les évaluations (ligne de commande)"))
    click.echo(_("%(path)s écrit (lignes : %(rows)d).", path=output, rows=rows), err=True)


class _CommandLineReader:
    """Who reads a report made from the command line: the command line belongs to whoever runs the
    server and is not restricted (README « Roles »), so it reads as an administrator does."""

    id = 0
    role = "admin"
    email = SYSTEM
    is_authenticated = True
    territories: list = []
    region_names: set = set()


@click.command("report")
@click.option("--assessment", "assessment_id", type=click.IntRange(1, limits.ID_MAX),
              help="The assessment whose PDF profile to write.")
@click.option("--year", type=click.IntRange(1900, 2999), help="The year of the regional report.")
@click.option("--region", help="Regional report: only the territories of that region.")
@click.option("--perspective", type=click.Choice(reports.PERSPECTIVES), help="Regional report: collective or partner views.")
@click.option("--language", type=click.Choice(["fr", "en"]), default="fr", show_default=True)
@click.option("--paper", type=click.Choice(sorted(reports.PAPERS)), default="letter", show_default=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True))
def report(assessment_id: int | None, year: int | None, region: str | None, perspective: str | None, language: str,
           paper: str, output: str) -> None:
    """Write the PDF profile of one assessment (--assessment ID), or the regional report of a year
    (--year Y [--region R]), as an administrator sees them."""
    grids = _grids_or_exit()
    if (assessment_id is None) == (year is None):
        click.echo(_("Indiquez soit --assessment (le profil d'une évaluation), soit --year (le rapport régional)."), err=True)
        sys.exit(1)
    if assessment_id is None and region is not None and region not in services.region_names():
        click.echo(_("Région inconnue : « %(region)s ». Choisissez une région de la liste.", region=region), err=True)
        sys.exit(1)
    with current_app.test_request_context(), force_locale(language):
        g._login_user = _CommandLineReader()  # what current_user reads: the comparison's names
        try:
            if assessment_id is not None:
                pdf = reports.profile_pdf(services.get_assessment(assessment_id, with_answers=True), grids,
                                          language=language, paper=paper)
                what = f"profil.pdf assessment {assessment_id}"
            else:
                asked = services.RegionalFilters(year, region, perspective or reports.COLLECTIVE, None)
                board = services.regional_dashboard(asked, "all", 0, grids)
                if board.current is None or board.ignored:
                    click.echo(_("Aucune évaluation finalisée pour ces filtres (année %(year)d) : rien n'a été écrit.",
                                 year=year), err=True)
                    sys.exit(1)
                pdf = reports.regional_pdf_for(board, shown_rows, grids, language=language, paper=paper)
                what = f"rapport.pdf year {year} region {region or '-'} perspective {board.filters.perspective}"
        except (services.NotFound, reports.ReportsUnavailable) as exc:
            click.echo(str(exc.message), err=True)
            sys.exit(1)
    Path(output).write_bytes(pdf)
    services.record_event(SYSTEM, "report", detail=f"{what} ({language}, {paper}) -> {output}")
    click.echo(_("%(path)s écrit (%(size)d octets).", path=output, size=len(pdf)), err=True)


@click.command("doctor")
def doctor() -> None:
    """Check what the PDF reports need from the system (Pango and its libraries), the fonts
    shipped with the app and the tools of the tests; exit 1 when a required one is missing."""
    problems = 0

    def show(title: str, checks) -> None:
        nonlocal problems
        click.echo(title)
        for check in checks:
            if check.found:
                click.echo(f"  ok        {check.what} ({check.detail})")
            elif check.required:
                problems += 1
                click.echo("  " + _("MANQUANT  %(what)s : installez le paquet %(package)s (apt-get install %(package)s)",
                                    what=check.what, package=check.detail))
            else:
                click.echo("  " + _("absent    %(what)s : facultatif, pour les tests (apt-get install %(package)s)",
                                    what=check.what, package=check.detail))

    show(_("Bibliothèques du système pour les rapports PDF (WeasyPrint) :"), reports.library_checks())
    show(_("Polices livrées avec l'application et leurs licences :"), reports.font_checks())
    show(_("Outils des tests (lecture du texte et des pages des PDF) :"), reports.tool_checks())
    if problems == 0:
        try:
            size = len(reports.one_page_pdf())
        except reports.ReportsUnavailable as exc:
            problems += 1
            click.echo(_("Essai de production d'un PDF : impossible (%(reason)s).", reason=exc.message))
        except Exception as exc:  # noqa: BLE001 — what went wrong, in one line, never a traceback
            problems += 1
            click.echo(_("Essai de production d'un PDF : impossible (%(reason)s).", reason=f"{type(exc).__name__}: {exc}"))
        else:
            click.echo(_("Essai de production d'un PDF : réussi (%(size)d octets).", size=size))
    if problems:
        click.echo(_("Les rapports PDF ne peuvent pas être produits sur cette machine (problèmes : %(count)d).",
                     count=problems), err=True)
        sys.exit(1)
    click.echo(_("Les rapports PDF peuvent être produits sur cette machine."))


@click.command("demo")
@click.option("--territories", type=click.IntRange(1, 10_000), default=22, show_default=True)
@click.option("--years", type=click.IntRange(1, 20), default=4, show_default=True)
@click.option("--seed", type=int, default=2024, show_default=True, help="Same seed, same data.")
@click.option("--force", is_flag=True, help="Add the demo even though the database already holds data.")
def demo(territories: int, years: int, seed: int, force: bool) -> None:
    """Fill an empty database with plausible territories and finalised assessments (bulk
    inserts in one transaction, one line in the audit trail)."""
    grid = _grid_or_exit()
    if services.holds_data() and not force:
        click.echo(_("La base contient déjà des données : rien n'a été ajouté (--force pour ajouter la démo quand même)."), err=True)
        sys.exit(1)
    report = demo_data.write_demo(grid, territories, years, seed)
    click.echo(_("Démo : territoires : %(territories)d, évaluations finalisées ajoutées : %(created)d, déjà présentes : %(skipped)d.",
                 territories=territories, created=report.created, skipped=report.skipped))


users_cli = AppGroup("users", help="Accounts.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--territory", "territories", multiple=True, help="Territory code (coordonnateur, membre); repeatable.")
@click.option("--region", "regions", multiple=True, help="Region (gestionnaire); repeatable.")
@click.option("--name", "display_name", default="", help="The name shown on screen (optional).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt.")
def users_create(email: str, role: str, territories: tuple[str, ...], regions: tuple[str, ...], display_name: str,
                 password_stdin: bool) -> None:
    """Create an account (the first administrator, for instance)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt(_("Mot de passe"), hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(email, password, role, territories=list(territories), regions=list(regions),
                                    display_name=display_name, actor=SYSTEM)
    except services.ServiceError as exc:
        click.echo(str(exc.message), err=True)
        sys.exit(1)
    click.echo(_("Compte créé : %(email)s (%(role)s).", email=user.email, role=user.role))


@users_cli.command("set-password")
@click.option("--email", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt.")
def users_set_password(email: str, password_stdin: bool) -> None:
    """Give an account a new password (e.g. after a restore without credentials); ends its sessions."""
    user = next((u for u in accounts.all_users() if u.email == accounts.normalize_email(email)), None)
    if user is None:
        click.echo(_("Aucun compte pour cette adresse."), err=True)
        sys.exit(1)
    password = sys.stdin.readline().rstrip("\n") if password_stdin else click.prompt(
        _("Mot de passe"), hide_input=True, confirmation_prompt=True)
    try:
        accounts.set_password(user.id, password, actor=SYSTEM)
    except services.ServiceError as exc:
        click.echo(str(exc.message), err=True)
        sys.exit(1)
    click.echo(_("Mot de passe changé pour %(email)s.", email=user.email))


@click.command("backup")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--with-credentials", is_flag=True, help="Include the password hashes (keep the file safe).")
def backup(output: str, with_credentials: bool) -> None:
    """Write everything the database holds to a JSON file."""
    document = backups.dump(with_credentials=with_credentials)
    Path(output).write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    counts = ", ".join(f"{table} {len(rows)}" for table, rows in document["tables"].items() if rows)
    click.echo(_("%(path)s écrit (%(counts)s).", path=output, counts=counts), err=True)


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def restore(path: str) -> None:
    """Fill an empty database (schema made by `flask db upgrade`) from a backup file."""
    try:
        counts = backups.load(Path(path).read_bytes())
    except backups.BackupError as exc:
        click.echo(_("Rien n'a été restauré : %(error)s", error=str(exc)), err=True)
        sys.exit(1)
    click.echo(_("Restauré : %(counts)s.", counts=", ".join(f"{t} {n}" for t, n in counts.items() if n)))


class MigrationCommands(click.Group):
    """`flask db …`: Flask-Migrate's commands, bound to the app only when one is asked for (see
    extensions.bind_migrations)."""

    @staticmethod
    def _commands(ctx: click.Context) -> click.Group:
        bind_migrations(ctx.ensure_object(ScriptInfo).load_app())
        from flask_migrate.cli import db as commands

        return commands

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # The real group's options (--directory, -x) and callback, which puts them in `g`.
        commands = self._commands(ctx)
        self.params, self.callback = commands.params, commands.callback
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._commands(ctx).list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._commands(ctx).get_command(ctx, name)


def init_app(app: Flask) -> None:
    app.cli.add_command(MigrationCommands("db", help="Database migrations (Flask-Migrate)."))
    app.cli.add_command(users_cli)
    app.cli.add_command(backup)
    app.cli.add_command(restore)
    app.cli.add_command(grid_cli)
    app.cli.add_command(export_assessments)
    app.cli.add_command(import_assessments)
    app.cli.add_command(compare)
    app.cli.add_command(export)
    app.cli.add_command(demo)
    app.cli.add_command(report)
    app.cli.add_command(doctor)
