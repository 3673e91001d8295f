"""Finding things on the grid page as a person does: a statement by its id, its level buttons,
its comment and its save status."""
from __future__ import annotations

import re

from playwright.sync_api import Page


def statement(page: Page, item_id: str):
    return page.get_by_role("group", name=re.compile(rf"^{re.escape(item_id)}\b"))


def status(page: Page, item_id: str):
    return statement(page, item_id).locator("[data-status]")


def level(page: Page, item_id: str, name: str):
    return statement(page, item_id).get_by_role("radio", name=name, exact=True)


def comment(page: Page, item_id: str):
    return statement(page, item_id).get_by_label("Commentaire")
