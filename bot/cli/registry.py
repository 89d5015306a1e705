"""``thidua zones|enterprises|contacts|invite|audit``: the registry from the command line."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click
from sqlmodel import Session

from bot.cli.writing import writing
from bot.compose import App
from bot.i18n import _, fmt_date, fmt_instant
from bot.texts.registry import export_registry, report_lines
from bot.texts.roles import role_name
from storage import audit, invitations, links, registry, tabular
from storage.identifiers import display_phone
from storage.models import Contact, Role
from storage.registry_import import Outcome, import_enterprises
from storage.xlsx import write_table


@click.group("zones")
def zones() -> None:
    """Industrial zones (KCN)."""


@zones.command("add")
@click.argument("name")
@click.pass_obj
def zones_add(app: App, name: str) -> None:
    """Add an industrial zone by NAME."""
    with writing(app) as session:
        zone = registry.add_zone(session=session, name=name)
        audit.record(
            db=session, actor=app.actor, action="zone.add", now=app.now(), target=zone.name
        )
        session.commit()
    click.echo(_("Zone: %(name)s") % {"name": zone.name})


@zones.command("list")
@click.pass_obj
def zones_list(app: App) -> None:
    """List the industrial zones."""
    with app.session() as session:
        for zone in registry.list_zones(session=session):
            click.echo(zone.name)


@click.group("enterprises")
def enterprises() -> None:
    """The registry of enterprises in the zones."""


@enterprises.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--create-zones", is_flag=True, help="Add zones the file names but the list lacks.")
@click.option("--dry-run", is_flag=True, help="Check the file and report, but save nothing.")
@click.pass_obj
def enterprises_import(app: App, file: Path, create_zones: bool, dry_run: bool) -> None:
    """Create or update enterprises from an .xlsx or .csv FILE, matched by tax code."""
    max_bytes = app.settings.import_max_mb * 1024 * 1024
    tabular.read_before_writing(file, max_bytes=max_bytes)  # the lock is held for writing only
    with writing(app) as session:
        report = import_enterprises(
            session=session,
            path=file,
            now=app.now(),
            create_zones=create_zones,
            dry_run=dry_run,
            max_bytes=max_bytes,
        )
        if report.saved:
            audit.record(
                db=session,
                actor=app.actor,
                action="enterprises.import",
                now=app.now(),
                target=file.name,
                details={o.value: report.count(o) for o in Outcome},
            )
            session.commit()
    for line in report_lines(report):
        click.echo(line)
    if report.count(Outcome.REJECTED):
        raise click.exceptions.Exit(1)


@enterprises.command("list")
@click.option("--zone", help="Only this zone.")
@click.pass_obj
def enterprises_list(app: App, zone: str | None) -> None:
    """List registered enterprises by zone."""
    with app.session() as session:
        chosen = None
        if zone:
            chosen = registry.find_zone(session=session, name=zone)
            if chosen is None:
                raise click.ClickException(_("No zone named “%(zone)s”.") % {"zone": zone})
        rows = registry.list_enterprises(session=session, zone=chosen)
    for enterprise, where in rows:
        status = "" if enterprise.active else " " + _("(inactive)")
        zone_name = where.name if where else _("(no zone)")
        click.echo(f"{enterprise.tax_code:<15} {enterprise.name} — {zone_name}{status}")
    click.echo(_("%(n)s enterprises.") % {"n": len(rows)})


@enterprises.command("export")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_obj
def enterprises_export(app: App, file: Path) -> None:
    """Write the registry to an .xlsx FILE (it can be imported back)."""
    with app.session() as session:
        count = export_registry(session, file)
    click.echo(_("Wrote %(n)s enterprises to %(file)s.") % {"n": count, "file": file})


@click.group("contacts")
def contacts() -> None:
    """People who act in chat for an enterprise or for the board."""


@contacts.command("add")
@click.option("--enterprise", "tax_code", help="Tax code of the contact's enterprise.")
@click.option("--name", "full_name", required=True, help="Full name.")
@click.option("--phone", help="Mobile number.")
@click.option("--email", help="E-mail address.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.CONTACT.value)
@click.pass_obj
def contacts_add(
    app: App,
    tax_code: str | None,
    full_name: str,
    phone: str | None,
    email: str | None,
    role: str,
) -> None:
    """Add a contact person."""
    with writing(app) as session:
        enterprise = (
            registry.require_enterprise(session=session, tax_code=tax_code) if tax_code else None
        )
        contact = registry.add_contact(
            session=session,
            full_name=full_name,
            now=app.now(),
            enterprise=enterprise,
            phone=phone,
            email=email,
            role=Role(role),
        )
        audit.record(
            db=session,
            actor=app.actor,
            action="contact.add",
            now=app.now(),
            target=f"contact:{contact.id}",
            details={"role": role, "enterprise": enterprise.tax_code if enterprise else None},
        )
        session.commit()
    click.echo(
        _("Contact #%(id)s added: %(name)s.") % {"id": contact.id, "name": contact.full_name}
    )


@contacts.command("list")
@click.option("--enterprise", "tax_code", help="Only this enterprise's contacts.")
@click.pass_obj
def contacts_list(app: App, tax_code: str | None) -> None:
    """List contacts with their role and whether they are linked in chat."""
    with app.session() as session:
        enterprise = (
            registry.require_enterprise(session=session, tax_code=tax_code) if tax_code else None
        )
        people = registry.list_contacts(session=session, enterprise=enterprise)
        linked_ids = links.linked_contact_ids(session=session)
        firms = (
            [enterprise]
            if enterprise
            else [e for e, _zone in registry.list_enterprises(session=session)]
        )
        names = {e.id: f"{e.name} ({e.tax_code})" for e in firms}
    for person in people:
        phone = display_phone(person.phone) if person.phone else "—"
        linked = _("linked") if person.id in linked_ids else _("not linked")
        where = names.get(person.enterprise_id, "") if person.enterprise_id else ""
        parts = [
            f"#{person.id:<5} {person.full_name}",
            where,
            phone,
            role_name(person.role),
            linked,
        ]
        click.echo(" · ".join(p for p in parts if p))
    click.echo(_("%(n)s contacts.") % {"n": len(people)})


@contacts.command("unlink")
@click.argument("contact_id", type=int)
@click.pass_obj
def contacts_unlink(app: App, contact_id: int) -> None:
    """Take a person's chats away from them (a new invitation links a chat again)."""
    with writing(app) as session:
        contact = registry.require_contact(session=session, contact_id=contact_id)
        count = registry.unlink_contact(session=session, contact=contact)
        _audit(app, session, "contact.unlink", contact, {"chats": count})
    click.echo(
        _("%(name)s (#%(id)s) is no longer linked to %(n)s chats; their access ends now.")
        % {"name": contact.full_name, "id": contact.id, "n": count}
    )


@contacts.command("set-role")
@click.argument("contact_id", type=int)
@click.argument("role", type=click.Choice([r.value for r in Role]))
@click.option("--enterprise", "tax_code", help="The enterprise, for an enterprise contact.")
@click.pass_obj
def contacts_set_role(app: App, contact_id: int, role: str, tax_code: str | None) -> None:
    """Change what a person may do; it applies at their chats' next message."""
    with writing(app) as session:
        contact = registry.require_contact(session=session, contact_id=contact_id)
        before = contact.role
        enterprise = (
            registry.require_enterprise(session=session, tax_code=tax_code) if tax_code else None
        )
        registry.set_role(session=session, contact=contact, role=Role(role), enterprise=enterprise)
        _audit(app, session, "contact.set_role", contact, {"from": before, "to": role})
    click.echo(
        _("%(name)s (#%(id)s) is now a %(role)s.")
        % {"name": contact.full_name, "id": contact.id, "role": role_name(role)}
    )


@contacts.command("remove")
@click.argument("contact_id", type=int)
@click.pass_obj
def contacts_remove(app: App, contact_id: int) -> None:
    """Delete a person, their chat links and unused invitations (submissions stay)."""
    with writing(app) as session:
        contact = registry.require_contact(session=session, contact_id=contact_id)
        name = contact.full_name
        registry.remove_contact(session=session, contact=contact)
        _audit(app, session, "contact.remove", contact, {})
    click.echo(_("%(name)s (#%(id)s) was removed.") % {"name": name, "id": contact_id})


def _audit(
    app: App, session: Session, action: str, contact: Contact, details: dict[str, object]
) -> None:
    """Records who changed whose access, then commits with the change."""
    audit.record(
        db=session, actor=app.actor, action=action, now=app.now(),
        target=f"contact:{contact.id}", details=details,
    )  # fmt: skip
    session.commit()


@click.group("invite")
def invite() -> None:
    """Invitation codes that link a chat to a contact, board member or admin."""


@invite.command("create")
@click.option("--enterprise", "tax_code", help="Tax code of the enterprise (contact invites).")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    help="Role the code links (default: the contact's role, else enterprise contact).",
)
@click.option("--contact", "contact_id", type=int, help="Contact # this invite is for.")
@click.option("--days", type=int, help="Days the code stays valid (default from settings).")
@click.option(
    "--all-unlinked",
    "sheet",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write FILE.xlsx: a code for every contact of every enterprise no chat is linked to.",
)
@click.pass_obj
def invite_create(
    app: App, tax_code: str | None, role: str | None, contact_id: int | None, days: int | None,
    sheet: Path | None,
) -> None:  # fmt: skip
    """Print a single-use invitation code and its deep link (or a sheet of them)."""
    now = app.now()
    if sheet is not None:
        _invite_all_unlinked(app, sheet, days)
        return
    with writing(app) as session:
        enterprise = (
            registry.require_enterprise(session=session, tax_code=tax_code) if tax_code else None
        )
        contact = (
            registry.require_contact(session=session, contact_id=contact_id) if contact_id else None
        )
        role = role or (contact.role if contact else Role.CONTACT.value)
        issued = invitations.create_invitation(
            session=session,
            role=Role(role),
            created_by=app.actor,
            now=now,
            valid_for=timedelta(days=days or app.settings.invite_days),
            enterprise=enterprise,
            contact=contact,
        )
        audit.record(
            db=session,
            actor=app.actor,
            action="invite.create",
            now=now,
            target=f"invitation:{issued.invitation.id}",
            details={"role": role, "enterprise": enterprise.tax_code if enterprise else None},
        )
        session.commit()
    tz = app.settings.tz
    click.echo(_("Invitation code: %(code)s") % {"code": issued.code})
    username = app.settings.telegram_bot_username
    if username:
        click.echo(
            _("Telegram link: https://t.me/%(bot)s?start=%(code)s")
            % {"bot": username, "code": issued.code}
        )
    click.echo(_("Or type in the chat: /start %(code)s") % {"code": issued.code})
    if app.settings.zalo_token is not None or app.settings.zalo_bot_link:
        click.echo(
            _("On Zalo: open %(link)s, then send the code %(code)s as a message.")
            % {
                "link": app.settings.zalo_bot_link or _("the board's Zalo bot"),
                "code": issued.code,
            }
        )
    click.echo(
        _("Valid until %(when)s, for one use only.")
        % {"when": fmt_instant(issued.invitation.expires_at, tz)}
    )


def _invite_all_unlinked(app: App, sheet: Path, days: int | None) -> None:
    """One code per contact (or per enterprise without contacts) of every active enterprise
    that no chat reaches, in a workbook ready for a mail merge; written before the codes are
    saved, so a failed write leaves no code nobody has."""
    now, tz = app.now(), app.settings.tz
    valid = timedelta(days=days or app.settings.invite_days)
    username, zalo = app.settings.telegram_bot_username, app.settings.zalo_bot_link
    rows: list[list[object]] = []
    with writing(app) as session:
        linked = links.linked_contact_ids(session=session)
        contacts_of: dict[int | None, list[Contact]] = {}
        for contact in registry.list_contacts(session=session):  # one query, not one a firm
            if contact.role == Role.CONTACT:
                contacts_of.setdefault(contact.enterprise_id, []).append(contact)
        for enterprise, zone in registry.list_enterprises(session=session, active_only=True):
            people = contacts_of.get(enterprise.id, [])
            if any(p.id in linked for p in people):
                continue
            invited: list[Contact | None] = list(people) or [None]
            for person in invited:
                issued = invitations.create_invitation(
                    session=session, role=Role.CONTACT, created_by=app.actor, now=now,
                    valid_for=valid, enterprise=enterprise,
                    contact=person,
                )  # fmt: skip
                rows.append([
                    enterprise.name, enterprise.tax_code, zone.name if zone else "",
                    person.full_name if person else "",
                    display_phone(person.phone) if person and person.phone else "",
                    issued.code,
                    f"https://t.me/{username}?start={issued.code}" if username else "",
                    _("open %(link)s and send the code") % {"link": zalo} if zalo else "",
                    fmt_instant(issued.invitation.expires_at, tz),
                ])  # fmt: skip
        header = [
            _("Enterprise"), _("Tax code"), _("Industrial zone"), _("Contact"), _("Phone"),
            _("Invitation code"), _("Telegram link"), _("On Zalo"), _("Valid until"),
        ]  # fmt: skip
        write_table(
            sheet,
            title=_("Invitation codes — %(board)s — %(date)s")
            % {"board": app.settings.board_name, "date": fmt_date(now, tz)},
            sheet_name=_("Invitations"),
            header=header,
            rows=rows,
            widths=(40, 14, 22, 26, 15, 17, 45, 40, 26),
        )
        audit.record(
            db=session, actor=app.actor, action="invite.create_unlinked", now=now,
            target=sheet.name, details={"codes": len(rows)},
        )  # fmt: skip
        session.commit()
    enterprises = len({row[1] for row in rows})
    click.echo(
        _("Wrote %(n)s invitation codes for %(m)s enterprises no chat reaches to %(file)s.")
        % {"n": len(rows), "m": enterprises, "file": sheet}
    )


@click.command("audit")
@click.option("--limit", type=int, default=50, show_default=True)
@click.pass_obj
def audit_list(app: App, limit: int) -> None:
    """Show the newest audit events."""
    with app.session() as session:
        events = audit.list_events(session=session, limit=limit)
    for event in events:
        details = json.dumps(event.details, ensure_ascii=False) if event.details else ""
        when = fmt_instant(event.at, app.settings.tz)
        click.echo(f"{when} · {event.actor} · {event.action} · {event.target or ''} {details}")


COMMANDS = [zones, enterprises, contacts, invite, audit_list]
