"""``thidua person find|erase``: a person's data found and erased on request (NĐ 13/2023)."""

from __future__ import annotations

import click
from sqlmodel import Session

from bot.cli.writing import writing
from bot.compose import App
from bot.i18n import _
from bot.texts.roles import role_name
from storage import audit, erasure, registry
from storage.catalogue import by_code
from storage.models import Nominee, NomineeKind


@click.group("person")
def person() -> None:
    """A person's data: find it, erase it on their request (Decree 13/2023/NĐ-CP)."""


@person.command("find")
@click.argument("name")
@click.pass_obj
def person_find(app: App, name: str) -> None:
    """List contacts and nominees whose name holds NAME (diacritics need not match)."""
    with app.session() as session:
        people = erasure.find_contacts(session=session, name=name)
        nominees = erasure.find_nominees(session=session, name=name)
        for contact in people:
            click.echo(
                _("Contact #%(id)s: %(name)s · %(role)s")
                % {"id": contact.id, "name": contact.full_name, "role": role_name(contact.role)}
            )
        for nominee, enterprise, campaign in nominees:
            title = by_code(campaign.regime, nominee.title_code)
            click.echo(
                _("Nominee #%(id)s: %(name)s · %(enterprise)s (%(tax)s) · %(year)s · %(title)s")
                % {
                    "id": nominee.id, "name": nominee.name, "enterprise": enterprise.name,
                    "tax": enterprise.tax_code, "year": campaign.year,
                    "title": title.name if title else nominee.title_code,
                }
            )  # fmt: skip
    if not people and not nominees:
        click.echo(_("Nobody by that name."))


@person.command("erase")
@click.option("--contact", "contact_id", type=int, help="Contact # (see `person find`).")
@click.option("--nominee", "nominee_id", type=int, help="Nominee # (see `person find`).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def person_erase(app: App, contact_id: int | None, nominee_id: int | None, yes: bool) -> None:
    """Erase one person's name, phone, e-mail and chats; counts and submissions stay, and the
    audit trail keeps a pseudonym."""
    if (contact_id is None) == (nominee_id is None):
        raise click.UsageError(_("Give either --contact or --nominee."))
    with writing(app) as session:
        if contact_id is not None:
            contact = registry.require_contact(session=session, contact_id=contact_id)
            _confirm(yes, _("Erase %(name)s (contact #%(id)s), their phone, e-mail and chats?")
                     % {"name": contact.full_name, "id": contact_id})  # fmt: skip
            done = erasure.erase_contact(session=session, contact=contact, now=app.now())
            target = f"contact:{contact_id}"
            summary = _("Contact #%(id)s erased: %(n)s chats unlinked.") % {
                "id": contact_id, "n": done.chats,
            }  # fmt: skip
        else:
            nominee = _nominee(session, nominee_id)
            rows = erasure.same_person(session=session, nominee=nominee)
            _confirm(yes, _("Erase %(name)s from %(n)s rows of their enterprise's lists?")
                     % {"name": nominee.name, "n": len(rows)})  # fmt: skip
            done = erasure.erase_nominee(session=session, nominee=nominee)
            target = f"nominee:{nominee_id}"
            summary = _("Nominee erased from %(n)s rows; titles and counts stay.") % {
                "n": done.nominee_rows
            }
        audit.record(
            db=session, actor=app.actor, action="person.erase", now=app.now(), target=target,
            details={"pseudonym": done.pseudonym, "chats": done.chats,
                     "nominee_rows": done.nominee_rows, "audit_entries": done.audit_entries},
        )  # fmt: skip
        session.commit()
    click.echo(summary)
    click.echo(_("From now on they appear as %(label)s.") % {"label": done.pseudonym})
    click.echo(_("Backups made before today still hold the data until they expire."))


def _nominee(session: Session, nominee_id: int | None) -> Nominee:
    """The nominee by number; a collective is not a person."""
    nominee = session.get(Nominee, nominee_id)
    if nominee is None:
        raise click.ClickException(_("No nominee #%(id)s.") % {"id": nominee_id})
    if nominee.kind != NomineeKind.INDIVIDUAL:
        raise click.ClickException(
            _("Nominee #%(id)s is a collective, not a person: nothing personal to erase.")
            % {"id": nominee_id}
        )
    return nominee


def _confirm(yes: bool, question: str) -> None:
    """Asks before an erasure, which cannot be undone."""
    if not yes:
        click.confirm(question + " " + _("This cannot be undone."), abort=True)


COMMANDS = [person]
