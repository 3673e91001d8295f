"""What a web worker loads when it starts, and the commands that load more only when run."""
import json
import os
import subprocess
import sys

from sqlalchemy import inspect

from pin_grid.extensions import db

from ..conftest import ROOT
from .conftest import make_app

# Each is loaded by the one action that needs it; a worker that never does it never carries it
# (about 25 MB together: Alembic with Mako, zxcvbn's lists, the workbook writer, matplotlib).
ON_DEMAND = ("alembic", "flask_migrate", "zxcvbn", "xlsxwriter", "matplotlib", "weasyprint")


def test_a_started_app_has_not_loaded_what_only_some_actions_need(tmp_path):
    script = ("import json, sys\nfrom pin_grid import create_app\ncreate_app()\n"
              "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/start.sqlite", "SECRET_KEY": "start-up",
           "PIN_ENV": "production"}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert "flask" in loaded and "sqlalchemy" in loaded  # the check sees what was loaded
    assert loaded.isdisjoint(ON_DEMAND), loaded & set(ON_DEMAND)


def test_the_migration_commands_load_flask_migrate_when_run(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/cli.sqlite")
    runner = app.test_cli_runner()
    assert "migrate" not in app.extensions
    listed = runner.invoke(args=["db", "--help"])
    assert listed.exit_code == 0 and "upgrade" in listed.output and "--directory" in listed.output, listed.output
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, (upgraded.output, upgraded.exception)
    with app.app_context():
        assert {"assessment", "answer", "alembic_version"} <= set(inspect(db.engine).get_table_names())
        db.engine.dispose()
