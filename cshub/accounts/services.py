"""Every write to organizations, users, roles and API keys (STYLE 2). Each validates, writes in a
transaction, and records an audit row in the same transaction."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from cshub.accounts import permissions
from cshub.accounts.models import ApiKey, Organization, OrganizationContact, User, UserRole
from cshub.accounts.roles import ORG_ADMIN_ROLES, OrganizationKind, Role, roles_allowed_for
from cshub.core import clock
from cshub.core.audit import audit_record
from cshub.core.errors import DomainError, FieldError, PermissionDeniedError
from cshub.core.models import County
from cshub.core.validators import normalize_phone, normalize_tin, validate_npi, validate_phone, validate_tin

ORGANIZATION_FIELDS = (
    "kind",
    "name",
    "npi",
    "tin",
    "plan_code",
    "address_line",
    "city",
    "zip_code",
    "phone",
    "email",
    "website",
)


def _clean_organization(data: dict[str, Any], *, instance: Organization | None = None) -> dict[str, Any]:
    """Check an organization's fields; raise one DomainError listing every bad field."""
    errors: list[FieldError] = []
    clean = {k: (data.get(k) if data.get(k) is not None else "") for k in ORGANIZATION_FIELDS if k in data}
    for key in ("name", "npi", "tin", "plan_code", "address_line", "city", "zip_code", "email", "website"):
        if key in clean:
            clean[key] = str(clean[key]).strip()
    if "kind" in clean and clean["kind"] not in OrganizationKind.values:
        errors.append(FieldError("kind", f"Choose one of: {', '.join(OrganizationKind.values)}."))
    if "name" in clean and not clean["name"]:
        errors.append(FieldError("name", "An organization needs a name.", "required"))
    if clean.get("npi"):
        try:
            validate_npi(clean["npi"])
        except ValidationError as exc:
            errors.append(FieldError("npi", exc.messages[0], "npi"))
        else:
            dupes = Organization.objects.filter(npi=clean["npi"])
            if instance is not None:
                dupes = dupes.exclude(pk=instance.pk)
            if dupes.exists():
                errors.append(FieldError("npi", "Another organization already has this NPI.", "duplicate"))
    if clean.get("tin"):
        clean["tin"] = normalize_tin(clean["tin"])
        try:
            validate_tin(clean["tin"])
        except ValidationError as exc:
            errors.append(FieldError("tin", exc.messages[0], "tin"))
    if clean.get("phone"):
        try:
            validate_phone(clean["phone"])
            clean["phone"] = normalize_phone(clean["phone"])
        except ValidationError as exc:
            errors.append(FieldError("phone", exc.messages[0], "phone"))
    if clean.get("email"):
        try:
            validate_email(clean["email"])
        except ValidationError:
            errors.append(FieldError("email", "Enter a valid email address.", "email"))
    kind = clean.get("kind", instance.kind if instance else "")
    if kind != OrganizationKind.PLAN and clean.get("plan_code"):
        errors.append(FieldError("plan_code", "Only a plan has a DHCS plan code."))
    if errors:
        raise DomainError("The organization was not saved.", errors=errors)
    return clean


def _counties(names: Iterable[str]) -> list[County]:
    names = [n for n in names if n]
    found = list(County.objects.filter(name__in=names))
    missing = sorted(set(names) - {c.name for c in found})
    if missing:
        raise DomainError(
            "The organization was not saved.",
            errors=[FieldError("counties", f"Not a California county: {', '.join(missing)}.")],
        )
    return found


@transaction.atomic
def organization_create(*, actor: User | None, counties: Iterable[str] = (), **data: Any) -> Organization:
    if actor is not None and not permissions.can_manage_organizations(actor):
        raise PermissionDeniedError()
    clean = _clean_organization(data)
    if not clean.get("kind"):
        raise DomainError(
            "The organization was not saved.", errors=[FieldError("kind", "Choose a kind.", "required")]
        )
    county_objs = _counties(counties)
    org = Organization.objects.create(created_by=actor, updated_by=actor, **clean)
    org.counties_served.set(county_objs)
    audit_record(
        actor=actor,
        action="create",
        object_type="organization",
        object_id=org.uuid,
        detail={"name": org.name, "kind": org.kind},
    )
    return org


@transaction.atomic
def organization_update(
    *, actor: User, organization: Organization, counties: Iterable[str] | None = None, **data: Any
) -> Organization:
    if not permissions.can_edit_organization(actor, organization):
        raise PermissionDeniedError()
    if (
        "kind" in data
        and data["kind"] != organization.kind
        and not permissions.can_manage_organizations(actor)
    ):
        raise PermissionDeniedError("Only plan network staff can change an organization's kind.")
    clean = _clean_organization(data, instance=organization)
    county_objs = _counties(counties) if counties is not None else None
    changed = {k: v for k, v in clean.items() if getattr(organization, k) != v}
    for key, value in changed.items():
        setattr(organization, key, value)
    organization.updated_by = actor
    organization.save()
    if county_objs is not None:
        organization.counties_served.set(county_objs)
        changed["counties"] = sorted(c.name for c in county_objs)
    audit_record(
        actor=actor,
        action="update",
        object_type="organization",
        object_id=organization.uuid,
        detail={"changed": sorted(changed)},
    )
    return organization


@transaction.atomic
def organization_contact_add(
    *, actor: User | None, organization: Organization, **data: Any
) -> OrganizationContact:
    errors = []
    if not str(data.get("name", "")).strip():
        errors.append(FieldError("name", "A contact needs a name.", "required"))
    if data.get("kind", "primary") not in OrganizationContact.Kind.values:
        errors.append(FieldError("kind", "Unknown contact kind."))
    if data.get("phone"):
        try:
            validate_phone(data["phone"])
            data["phone"] = normalize_phone(data["phone"])
        except ValidationError as exc:
            errors.append(FieldError("phone", exc.messages[0]))
    if errors:
        raise DomainError("The contact was not saved.", errors=errors)
    contact = OrganizationContact.objects.create(organization=organization, created_by=actor, **data)
    audit_record(actor=actor, action="create", object_type="organization_contact", object_id=contact.uuid)
    return contact


def _check_roles(organization: Organization, roles: Iterable[str]) -> list[str]:
    roles = sorted(set(roles))
    allowed = roles_allowed_for(organization.kind)
    unknown = [r for r in roles if r not in Role.values]
    wrong = [r for r in roles if r in Role.values and r not in allowed]
    errors = []
    if not roles:
        errors.append(FieldError("roles", "Give the user at least one role.", "required"))
    if unknown:
        errors.append(FieldError("roles", f"Unknown role: {', '.join(unknown)}."))
    if wrong:
        labels = ", ".join(Role(r).label for r in wrong)
        errors.append(
            FieldError("roles", f"A {organization.get_kind_display()} cannot hold: {labels}.", "role_kind")
        )
    if errors:
        raise DomainError("The user was not saved.", errors=errors)
    return roles


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    organization: Organization,
    email: str,
    roles: Iterable[str],
    full_name: str = "",
    title: str = "",
    password: str | None = None,
) -> User:
    """Add a person to an organization with roles. Without a password the person sets one through the
    password-reset email (the invitation)."""
    if actor is not None and not permissions.can_manage_users_of(actor, organization):
        raise PermissionDeniedError()
    email = (email or "").strip().lower()
    errors = []
    try:
        validate_email(email)
    except ValidationError:
        errors.append(FieldError("email", "Enter a valid email address.", "email"))
    else:
        if User.objects.filter(email=email).exists():
            errors.append(FieldError("email", "A user with this email already exists.", "duplicate"))
    if password:
        try:
            validate_password(password)
        except ValidationError as exc:
            errors.append(FieldError("password", " ".join(exc.messages), "password"))
    if errors:
        raise DomainError("The user was not saved.", errors=errors)
    role_list = _check_roles(organization, roles)
    user = User.objects.create_user(
        email=email,
        password=password,
        organization=organization,
        full_name=full_name.strip(),
        title=title.strip(),
    )
    if not password:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    UserRole.objects.bulk_create([UserRole(user=user, role=r) for r in role_list])
    audit_record(
        actor=actor,
        action="create",
        object_type="user",
        object_id=user.uuid,
        detail={"email": email, "roles": role_list, "organization": str(organization.uuid)},
    )
    return user


@transaction.atomic
def user_set_roles(*, actor: User, user: User, roles: Iterable[str]) -> User:
    if not permissions.can_manage_users_of(actor, user.organization):
        raise PermissionDeniedError()
    role_list = _check_roles(user.organization, roles)
    if actor.pk == user.pk and not set(role_list) & actor.role_set & ORG_ADMIN_ROLES:
        raise DomainError("You cannot remove your own administrator role.", code="self_lockout")
    UserRole.objects.filter(user=user).exclude(role__in=role_list).delete()
    existing = set(UserRole.objects.filter(user=user).values_list("role", flat=True))
    UserRole.objects.bulk_create([UserRole(user=user, role=r) for r in role_list if r not in existing])
    user._role_cache = frozenset(role_list)
    audit_record(
        actor=actor, action="update", object_type="user", object_id=user.uuid, detail={"roles": role_list}
    )
    return user


@transaction.atomic
def user_deactivate(*, actor: User, user: User) -> User:
    if not permissions.can_manage_users_of(actor, user.organization):
        raise PermissionDeniedError()
    if actor.pk == user.pk:
        raise DomainError("You cannot deactivate yourself.", code="self_lockout")
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit_record(
        actor=actor, action="update", object_type="user", object_id=user.uuid, detail={"is_active": False}
    )
    return user


# --- API keys ---------------------------------------------------------------------------------------------
API_KEY_PREFIX = "csh_"


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_key_create(
    *, actor: User | None, organization: Organization, name: str, roles: Iterable[str]
) -> tuple[ApiKey, str]:
    """Make a key for a system of the organization; returns the key row and the full key, shown once."""
    if actor is not None and not permissions.can_manage_users_of(actor, organization):
        raise PermissionDeniedError()
    name = (name or "").strip()
    if not name:
        raise DomainError(
            "The key was not made.",
            errors=[FieldError("name", "Name the system that uses the key.", "required")],
        )
    role_list = _check_roles(organization, roles)
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    service_user = User.objects.create_user(
        email=f"api-{prefix}@{organization.uuid.hex[:12]}.keys.cshub.local",
        organization=organization,
        full_name=f"API key: {name}",
        is_service_account=True,
    )
    service_user.set_unusable_password()
    service_user.save(update_fields=["password"])
    UserRole.objects.bulk_create([UserRole(user=service_user, role=r) for r in role_list])
    key = ApiKey.objects.create(
        organization=organization,
        user=service_user,
        name=name,
        prefix=prefix,
        key_hash=_hash_secret(secret),
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="create",
        object_type="api_key",
        object_id=key.uuid,
        detail={"name": name, "roles": role_list},
    )
    return key, f"{API_KEY_PREFIX}{prefix}_{secret}"


def api_key_authenticate(raw: str) -> User | None:
    """The service user behind a key, or None. Constant-time comparison of the hash."""
    if not raw or not raw.startswith(API_KEY_PREFIX) or raw.count("_") < 2:
        return None
    prefix, _, secret = raw[len(API_KEY_PREFIX) :].partition("_")
    key = (
        ApiKey.objects.select_related("user__organization")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if (
        key is None
        or not secrets.compare_digest(key.key_hash, _hash_secret(secret))
        or not key.user.is_active
    ):
        return None
    now = clock.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.user


@transaction.atomic
def api_key_revoke(*, actor: User, key: ApiKey) -> ApiKey:
    if not permissions.can_manage_users_of(actor, key.organization):
        raise PermissionDeniedError()
    key.revoked_at = clock.now()
    key.save(update_fields=["revoked_at"])
    User.objects.filter(pk=key.user_id).update(is_active=False)
    audit_record(
        actor=actor, action="update", object_type="api_key", object_id=key.uuid, detail={"revoked": True}
    )
    return key
