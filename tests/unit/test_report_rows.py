"""Which rows of the PDF profile may be taller than a page (`profile.Statement.tall`): those start
where they fall; every other row is kept whole on one page (tests/integration/test_reports.py
renders one and looks at its pages)."""
from pin_grid.models import Answer
from pin_grid.reports.profile import Statement

SENTENCE = "Les partenaires se rencontrent chaque mois pour revoir les situations des familles. "  # 84 characters


def _statement(grid, **answer) -> Statement:
    theme = grid.themes[0]
    return Statement(theme, theme.items[0], Answer(**answer), None, None, None)


def test_what_the_team_usually_writes_keeps_its_row_whole(grid):
    assert not _statement(grid, comment=SENTENCE * 5, action=SENTENCE * 2, action_owner="Coordination PIN").tall
    assert not _statement(grid, comment=SENTENCE * 5, action=SENTENCE * 2).tall_in_plan
    assert not Statement(grid.themes[0], grid.themes[0].items[0], None, None, None, None).tall


def test_a_comment_or_an_action_of_a_page_or_more_may_break(grid):
    assert _statement(grid, comment=SENTENCE * 40).tall  # 3,360 characters in the wide column
    assert _statement(grid, action=SENTENCE * 20).tall  # 1,680 in the narrow one
    # The plan has no comment, and narrower columns.
    assert not _statement(grid, comment=SENTENCE * 40).tall_in_plan
    assert _statement(grid, action=SENTENCE * 12).tall_in_plan and not _statement(grid, action=SENTENCE * 12).tall


def test_line_breaks_count_as_lines(grid):
    as_a_list = "\n".join(f"- point {k}" for k in range(60))  # 600 characters, 60 lines
    assert _statement(grid, comment=as_a_list).tall
    assert not _statement(grid, comment=as_a_list.replace("\n", " ")).tall
