"""Zones, enterprises and contacts: the board's registry."""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session, col, func, select

from storage.identifiers import parse_phone, parse_tax_code
from storage.models import ChatLink, Contact, Enterprise, IndustrialZone, Role
from storage.text import nfc, search_key

_ZONE_PREFIX = re.compile(r"^(khu cong nghiep|kcn|k c n)(\s+|$)")


class RegistryError(ValueError):
    """A registry change refused for a reason the message layer can name."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


def zone_key(name: str) -> str:
    """Matches "KCN Quế Võ", "Khu công nghiệp Quế Võ" and "que vo" to one zone."""
    return _ZONE_PREFIX.sub("", search_key(name))


_SHOWN_PREFIX = re.compile(
    r"^\s*(khu\s+c[oôố]ng\s+nghi[eệ]p|k\.?\s*c\.?\s*n\b\.?)\s*[:\-–]?\s*", re.IGNORECASE
)


def zone_display(name: str) -> str:
    """A zone's name shown one way: "KCN Quang Châu", however the file wrote it."""
    clean = nfc(name)
    if not _SHOWN_PREFIX.match(clean):
        return clean  # "Quế Võ", or a cụm công nghiệp: as written
    rest = _SHOWN_PREFIX.sub("", clean).strip()
    return f"KCN {rest[:1].upper()}{rest[1:]}" if rest else clean


def add_zone(*, session: Session, name: str) -> IndustrialZone:
    """Creates a zone, or returns the existing one of the same folded name."""
    clean = zone_display(name)
    key = zone_key(clean)
    if not key:
        raise RegistryError("zone_name_empty")
    existing = session.exec(select(IndustrialZone).where(IndustrialZone.key == key)).first()
    if existing:
        return existing
    zone = IndustrialZone(name=clean, key=key)
    session.add(zone)
    session.flush()
    return zone


def list_zones(*, session: Session) -> list[IndustrialZone]:
    """Zones by name."""
    return list(session.exec(select(IndustrialZone).order_by(col(IndustrialZone.key))))


def find_zone(*, session: Session, name: str) -> IndustrialZone | None:
    """The zone whose folded name matches, if any."""
    return session.exec(select(IndustrialZone).where(IndustrialZone.key == zone_key(name))).first()


def get_enterprise(*, session: Session, tax_code: str) -> Enterprise | None:
    """The enterprise with this MST, given in any accepted spelling."""
    value = parse_tax_code(tax_code).value
    return session.exec(select(Enterprise).where(Enterprise.tax_code == value)).first()


def require_enterprise(*, session: Session, tax_code: str) -> Enterprise:
    """Like get_enterprise, but an unknown MST is an error the caller reports."""
    enterprise = get_enterprise(session=session, tax_code=tax_code)
    if enterprise is None:
        raise RegistryError("enterprise_unknown", tax_code=tax_code)
    return enterprise


def add_enterprise(
    *,
    session: Session,
    tax_code: str,
    name: str,
    now: datetime,
    zone: IndustrialZone | None = None,
    address: str | None = None,
) -> Enterprise:
    """Registers a new enterprise; its MST must be valid and not yet registered."""
    value = parse_tax_code(tax_code).value
    if session.exec(select(Enterprise.id).where(Enterprise.tax_code == value)).first():
        raise RegistryError("enterprise_exists", tax_code=value)
    clean = nfc(name)
    if not search_key(clean):
        raise RegistryError("enterprise_name_empty")
    enterprise = Enterprise(
        tax_code=value,
        name=clean,
        name_key=search_key(clean),
        zone_id=zone.id if zone else None,
        address=nfc(address) if address else None,
        created_at=now,
        updated_at=now,
    )
    session.add(enterprise)
    session.flush()
    return enterprise


def list_enterprises(
    *, session: Session, zone: IndustrialZone | None = None, active_only: bool = False
) -> list[tuple[Enterprise, IndustrialZone | None]]:
    """Enterprises with their zone, ordered by zone then name."""
    query = (
        select(Enterprise, IndustrialZone)
        .join(IndustrialZone, isouter=True)
        .order_by(col(IndustrialZone.key), col(Enterprise.name_key))
    )
    if zone is not None:
        query = query.where(Enterprise.zone_id == zone.id)
    if active_only:
        query = query.where(col(Enterprise.active).is_(True))
    return list(session.exec(query).all())


def add_contact(
    *,
    session: Session,
    full_name: str,
    now: datetime,
    enterprise: Enterprise | None = None,
    phone: str | None = None,
    email: str | None = None,
    role: Role = Role.CONTACT,
) -> Contact:
    """Adds a person; an enterprise contact needs its enterprise, board and admins do not."""
    clean = nfc(full_name)
    if not search_key(clean):
        raise RegistryError("contact_name_empty")
    if role == Role.CONTACT and enterprise is None:
        raise RegistryError("contact_needs_enterprise")
    contact = Contact(
        enterprise_id=enterprise.id if enterprise else None,
        full_name=clean,
        phone=parse_phone(phone) if phone else None,
        email=nfc(email) if email else None,
        role=role,
        created_at=now,
    )
    session.add(contact)
    session.flush()
    return contact


def list_contacts(*, session: Session, enterprise: Enterprise | None = None) -> list[Contact]:
    """Contacts, those of one enterprise if given."""
    query = select(Contact).order_by(col(Contact.enterprise_id), col(Contact.id))
    if enterprise is not None:
        query = query.where(Contact.enterprise_id == enterprise.id)
    return list(session.exec(query))


def get_contact(*, session: Session, contact_id: int) -> Contact | None:
    """One contact by id."""
    return session.get(Contact, contact_id)


def require_contact(*, session: Session, contact_id: int) -> Contact:
    """One contact by id, or the error naming the missing number."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise RegistryError("contact_unknown", id=contact_id)
    return contact


def unlink_contact(*, session: Session, contact: Contact) -> int:
    """Removes every chat link of a person (the chats lose its access at their next input);
    returns how many there were."""
    found = list(session.exec(select(ChatLink).where(ChatLink.contact_id == contact.id)))
    for link in found:
        session.delete(link)
    session.flush()
    return len(found)


def set_role(
    *, session: Session, contact: Contact, role: Role, enterprise: Enterprise | None = None
) -> None:
    """Changes what a person may do, at their chats' next input; an enterprise contact
    needs its enterprise (given, or the one it has)."""
    if enterprise is not None:
        contact.enterprise_id = enterprise.id
    if role == Role.CONTACT and contact.enterprise_id is None:
        raise RegistryError("contact_needs_enterprise")
    contact.role = role
    session.add(contact)
    session.flush()


def remove_contact(*, session: Session, contact: Contact) -> None:
    """Deletes a person with their chat links and unused invitations; what they submitted
    stays, no longer naming them."""
    session.delete(contact)
    session.flush()


def counts(*, session: Session) -> dict[str, int]:
    """How many active enterprises, contacts and linked chats the registry holds (they belong
    to no campaign year)."""
    return {
        "enterprises": session.exec(
            select(func.count()).select_from(Enterprise).where(col(Enterprise.active).is_(True))
        ).one(),
        "contacts": session.exec(select(func.count()).select_from(Contact)).one(),
        "chats": session.exec(select(func.count()).select_from(ChatLink)).one(),
    }
