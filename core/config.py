"""Settings: read once in the entry point, typed, passed down.

Nothing else reads the environment or the settings file.
"""

from __future__ import annotations

import enum
import ipaddress
from datetime import timedelta
from pathlib import Path
from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from core.models import Priority
from core.rules.base import Duration
from core.rules.explain import explain, where
from core.rules.loader import node_at
from core.secrets import read_secret


class StageName(enum.StrEnum):
    INGEST = "ingest"
    CORRELATE = "correlate"
    TICKETER = "ticketer"
    NOTIFY = "notify"
    SCHEDULER = "scheduler"


class Secret(BaseModel):
    """A credential: named in the settings, read from the environment or a file at start-up,
    and never printed (its value is a SecretStr)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    env: str | None = None
    file: Path | None = None
    value: SecretStr | None = Field(default=None, description="Given directly (tests only)")

    @model_validator(mode="after")
    def _resolve(self) -> Self:
        given = [name for name in ("env", "file", "value") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give the secret as exactly one of {env: VARIABLE} or {file: PATH}")
        if self.value is None:  # resolved once, here
            object.__setattr__(self, "value", SecretStr(read_secret(self.env, self.file)))
        return self

    def reveal(self) -> bytes:
        return self.value.get_secret_value().encode() if self.value else b""


class HmacCheck(BaseModel):
    """A source that signs its requests: hex HMAC-SHA256 of the body (or of
    "timestamp:body" when it sends a timestamp header), as Grafana does."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    secret: Secret
    header: str = "X-Grafana-Alerting-Signature"
    timestamp_header: str = ""
    max_skew_s: int = Field(default=300, gt=0)


class SourceSettings(BaseModel):
    """Per-source credentials and limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token: Secret | None = Field(
        default=None, description="Bearer token, or ?token= for senders that cannot set headers"
    )
    hmac: HmacCheck | None = None
    rate_per_s: float | None = Field(default=None, gt=0)
    burst: int | None = Field(default=None, gt=0)
    sns_confirm_topics: tuple[str, ...] = Field(
        default=(), description="SNS topic ARNs whose subscription Sereno may confirm"
    )


class IngestSettings(BaseModel):
    """Limits and credentials of the receivers. The defaults never drop a real alert: a
    storm-sized Alertmanager group of thousands of alerts fits, and overload answers 503 with
    Retry-After, which every sender retries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_body_bytes: int = Field(default=32 * 1024 * 1024, gt=0)
    max_alerts_per_request: int = Field(default=20_000, gt=0)
    rate_per_s: float = Field(default=1000.0, gt=0, description="Requests per second per source")
    burst: int = Field(default=5000, gt=0, description="Requests a source may send at once")
    max_in_flight: int = Field(
        default=512, gt=0, description="Requests handled at once, all sources"
    )
    body_timeout_s: float = Field(
        default=30.0, gt=0, description="Time a sender has to send a request's whole body"
    )
    sources: dict[str, SourceSettings] = Field(default_factory=dict)
    require_credential: bool | None = Field(
        default=None,
        description="Refuse alerts from a source with no token or signature configured; "
        "None: on when listening beyond loopback",
    )

    def source(self, name: str) -> SourceSettings:
        return self.sources.get(name, SourceSettings())


class EmailDelivery(BaseModel):
    """The daily report by email (SMTP), the HTML as the message and the Markdown beside it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1)
    port: int = Field(default=587, gt=0, lt=65536)
    sender: str = Field(min_length=3, description="From: address")
    to: tuple[str, ...] = Field(min_length=1, description="Recipients")
    username: str = ""
    password: Secret | None = None
    starttls: bool = Field(default=True, description="Upgrade to TLS when the server offers it")
    use_tls: bool = Field(default=False, description="TLS from the start (port 465)")
    timeout_s: float = Field(default=30.0, gt=0)


class WebhookDelivery(BaseModel):
    """The daily report POSTed as JSON (the report's JSON form) to a URL."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(pattern=r"^https?://")
    token: Secret | None = Field(default=None, description="Sent as a Bearer token")
    timeout_s: float = Field(default=30.0, gt=0)


class ReportSettings(BaseModel):
    """The daily report: when `serve` produces it and where it goes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hour: int = Field(default=9, ge=0, le=23, description="Local hour of the meeting")
    minute: int = Field(default=0, ge=0, le=59)
    schedule: bool = Field(default=True, description="Produce it in `serve` at that time")
    folder: Path | None = Field(
        default=None, description="Write daily-YYYY-MM-DD.{html,md,json} here"
    )
    email: EmailDelivery | None = None
    webhook: WebhookDelivery | None = None
    top: int = Field(default=10, gt=0, le=100, description="Lines in each top list")
    recurring_min: int = Field(
        default=3, ge=2, description="Incidents in 7 days that make a problem candidate"
    )


class NotifySettings(BaseModel):
    """How notifications are written and delivered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    templates_dir: Path | None = Field(
        default=None,
        description="Operator's templates, <language>/<name>.j2, used before the shipped ones",
    )
    max_attempts: int = Field(default=8, ge=1, description="Tries before a message is given up")
    backoff_s: float = Field(default=5.0, gt=0, description="First wait after a failed try")
    max_backoff_s: float = Field(default=900.0, gt=0, description="Longest wait between tries")
    timeout_s: float = Field(default=10.0, gt=0, description="Longest a channel may take")
    concurrency: int = Field(default=16, ge=1, description="Messages being delivered at once")
    poll_s: float = Field(default=1.0, gt=0, description="How often the outbox is looked at")


class WebhookBackend(BaseModel):
    """The generic webhook ticket backend: each ticket change POSTed as JSON, signed with
    hex HMAC-SHA256 of the body in `header` (as `sha256=<hex>`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(pattern=r"^https?://", description="Where ticket changes are POSTed")
    secret: Secret
    header: str = "X-Sereno-Signature"
    timeout_s: float = Field(default=10.0, gt=0)
    backoff_max_s: float = Field(
        default=60.0, gt=0, description="Longest wait between two tries while it is down"
    )


JIRA_PRIORITIES = {"P1": "Highest", "P2": "High", "P3": "Medium", "P4": "Low", "P5": "Lowest"}


class JiraBackend(BaseModel):
    """The Jira ticket backend (REST API v2): Jira Cloud with an account's email and API
    token (basic auth), or Jira Data Center with a personal access token (bearer)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(pattern=r"^https?://", description="Base URL, https://example.atlassian.net")
    project: str = Field(min_length=1, description="Project key, OPS")
    issue_type: str = Field(default="Task", min_length=1)
    auth: Literal["basic", "bearer"] = Field(
        default="basic", description="basic: Cloud email + API token; bearer: Data Center PAT"
    )
    email: str = Field(default="", description="The account's email (basic auth)")
    token: Secret
    label_prefix: str = Field(
        default="sereno-", pattern=r"^\S+$", description="Label that names the incident"
    )
    search_path: str = Field(
        default="/rest/api/2/search",
        pattern=r"^/",
        description="JQL search; Jira Cloud's newer one is /rest/api/2/search/jql",
    )
    resolve_transition: str = Field(default="Done", min_length=1)
    reopen_transition: str = Field(default="Reopen", min_length=1)
    priorities: dict[Priority, str] = Field(
        default_factory=lambda: {Priority(k): v for k, v in JIRA_PRIORITIES.items()},
        description="Sereno priority -> Jira priority name; one left out is not set",
    )
    account_id: str = Field(
        default="", description="Sereno's own account; its changes are not read back"
    )
    webhook_secret: Secret | None = Field(
        default=None, description="The secret of Jira's webhook to Sereno; None: poll only"
    )
    poll_s: float = Field(default=60.0, gt=0, description="How often JQL is read for changes")
    timeout_s: float = Field(default=10.0, gt=0)
    backoff_max_s: float = Field(
        default=60.0, gt=0, description="Longest wait between two tries while it is down"
    )

    @model_validator(mode="after")
    def _email_for_basic(self) -> Self:
        if self.auth == "basic" and not self.email:
            raise ValueError("auth: basic needs email (the Jira Cloud account's email)")
        return self


class RtBackend(BaseModel):
    """Request Tracker 5 (REST2, RT::Authen::Token): a ticket per incident, named by the
    custom field `custom_field`; read back by polling REST2 and by the scrip of contrib/rt/.
    Queues, priorities and statuses are mapped in the rules (tickets.systems.rt)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(pattern=r"^https?://", description="RT's base URL, https://rt.example")
    token: Secret = Field(description="The API user's auth token (RT 5: Settings > Auth Tokens)")
    user: str = Field(
        default="sereno",
        min_length=1,
        description="The API user; its own changes are not read back",
    )
    custom_field: str = Field(
        default="Sereno incident", min_length=1, description="Custom field naming the incident"
    )
    reference_prefix: str = Field(
        default="",
        max_length=64,
        description="Before the incident id in the custom field, when several Sereno "
        "installations share one RT (sereno-prod-)",
    )
    callback_secret: Secret | None = Field(
        default=None, description="Shared with the scrip ($SerenoCallbackSecret); None: poll only"
    )
    poll_s: float = Field(default=60.0, gt=0, description="How often REST2 is read for changes")
    timeout_s: float = Field(default=10.0, gt=0)
    backoff_max_s: float = Field(
        default=60.0, gt=0, description="Longest wait between two tries while it is down"
    )


class GlpiBackend(BaseModel):
    """GLPI's REST API (apirest.php): a session from an App-Token and a user token; a ticket
    per incident, named by `[<tag>:<incident id>]` at the end of its title; read back by
    polling and by GLPI's outgoing webhooks (X-GLPI-signature). Categories, groups, scales
    and statuses are mapped in the rules (tickets.systems.glpi)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(pattern=r"^https?://", description="https://glpi.example/apirest.php")
    app_token: Secret | None = Field(default=None, description="The API client's App-Token")
    user_token: Secret = Field(description="The API user's remote access key")
    user_id: int = Field(
        default=0, ge=0, description="The API user's id; its changes are not read back"
    )
    entity_id: int = Field(default=0, ge=0, description="Entity the tickets are made in")
    tag: str = Field(
        default="sereno", pattern=r"^[A-Za-z0-9_-]+$", description="Names the incident"
    )
    webhook_secret: Secret | None = Field(
        default=None, description="The secret of GLPI's webhooks to Sereno; None: poll only"
    )
    poll_s: float = Field(default=60.0, gt=0)
    timeout_s: float = Field(default=10.0, gt=0)
    backoff_max_s: float = Field(
        default=60.0, gt=0, description="Longest wait between two tries while it is down"
    )


class TicketBackends(BaseModel):
    """External ticket backends, besides the builtin one; several at once are allowed.
    Each is fed from the `tickets` stream by a delivery loop of its own (its outbox)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    webhook: WebhookBackend | None = None
    jira: JiraBackend | None = None
    rt: RtBackend | None = None
    glpi: GlpiBackend | None = None


class AlertmanagerAckBack(BaseModel):
    """Acknowledging an incident silences its firing Alertmanager alerts there, so
    Alertmanager stops notifying about what a person has already taken."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(pattern=r"^https?://", description="Alertmanager, http://alertmanager:9093")
    duration: Duration = Field(
        default=timedelta(hours=4), description="How long the silence lasts (90m, 4h, 1d)"
    )
    created_by: str = Field(default="sereno", min_length=1, max_length=256)
    expire_on_resolve: bool = Field(
        default=True, description="Expire the silence when the incident resolves"
    )
    auth_header: str = Field(default="Authorization", min_length=1)
    auth: Secret | None = Field(
        default=None, description="The header's whole value, e.g. 'Bearer <token>'"
    )
    timeout_s: float = Field(default=10.0, gt=0)
    backoff_max_s: float = Field(
        default=60.0, gt=0, description="Longest wait between two tries while it is down"
    )

    @field_validator("duration")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("a silence must last a while; write for example 4h")
        return value


class AcknowledgeBack(BaseModel):
    """Sources told when a person acknowledges an incident; off unless one is named."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    alertmanager: AlertmanagerAckBack | None = None


RoleName = Literal["viewer", "operator", "admin"]


class OidcSettings(BaseModel):
    """Single sign-on with an OpenID Connect provider (authorization code flow with PKCE).
    Roles come from a claim of the ID token (`role_claim`, e.g. groups) through `roles`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    issuer: str = Field(pattern=r"^https?://", description="The provider's issuer URL")
    client_id: str = Field(min_length=1)
    client_secret: Secret | None = Field(default=None, description="None for a public client")
    scopes: tuple[str, ...] = ("openid", "profile", "email")
    username_claim: str = Field(default="preferred_username", min_length=1)
    role_claim: str = Field(default="groups", min_length=1)
    roles: dict[str, str] = Field(
        default_factory=dict,
        description="Claim value -> role: 'admin', 'operator', 'viewer', or 'operator:redes' "
        "for a role within one support group",
    )
    default_role: RoleName | None = Field(
        default=None, description="Role of someone no claim value maps; None: refused"
    )
    label: str = Field(default="Single sign-on", description="Text of the sign-in button")
    timeout_s: float = Field(default=10.0, gt=0)

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: dict[str, str]) -> dict[str, str]:
        for claim, role in value.items():
            if role.partition(":")[0] not in ("viewer", "operator", "admin"):
                raise ValueError(
                    f"{claim}: write viewer, operator or admin, optionally :GROUP after it"
                )
        return value


class TrustedHeaderSettings(BaseModel):
    """A reverse proxy that signs people in and names them in a header. Off by default;
    the header is believed only from `proxies`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    header: str = Field(default="X-Forwarded-User", min_length=1)
    proxies: tuple[str, ...] = Field(
        default=(), description="Addresses or networks (CIDR) of the proxies to believe"
    )
    default_role: RoleName = Field(
        default="viewer", description="Role of a named person who is not a local user"
    )

    @field_validator("proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as e:
                raise ValueError(f"{item!r}: write an address or a network, 10.0.0.0/8") from e
        return value


class AuthSettings(BaseModel):
    """Who may use Sereno. With no user yet and listening on loopback, the API is open (and
    says so on start); anywhere else it needs a credential unless `allow_open` says not."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    allow_open: bool = Field(
        default=False,
        description="Serve beyond loopback with no user configured, open to anyone (unsafe)",
    )
    session_ttl: Duration = Field(
        default=timedelta(hours=12), description="How long a sign-in lasts"
    )
    cookie_secure: bool | None = Field(
        default=None, description="Send cookies over HTTPS only; None: when public_url is https"
    )
    login_attempts: int = Field(
        default=5, ge=1, description="Wrong passwords in a row before the account locks"
    )
    lockout: Duration = Field(default=timedelta(minutes=15), description="How long it locks")
    login_rate_per_minute: float = Field(
        default=10.0, gt=0, description="Sign-in attempts per minute from one address"
    )
    token_max_ttl: Duration = Field(
        default=timedelta(days=366), description="Longest an API token may be valid"
    )
    silence_max_duration: Duration = Field(
        default=timedelta(days=30), description="Longest a silence may last"
    )
    silence_force_share: float = Field(
        default=0.25,
        gt=0,
        le=1,
        description="A silence matching more than this share of the firing alerts needs "
        "force and the admin role",
    )
    access_log: bool = Field(
        default=False, description="Log every request in the Combined Log Format"
    )
    oidc: OidcSettings | None = None
    trusted_header: TrustedHeaderSettings = TrustedHeaderSettings()


class Settings(BaseModel):
    """Everything `serve`, `replay` and the workers need to know, from one YAML file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    listen: str = "127.0.0.1:8080"
    data_dir: Path = Path("data")
    rules_dir: Path = Path("rules")
    runbooks_dir: Path = Path("runbooks")
    public_url: str = ""
    timezone: str = "Europe/Madrid"
    language: Literal["en", "es"] = "en"
    stages: tuple[StageName, ...] = tuple(StageName)
    sqlite_synchronous: Literal["NORMAL", "FULL", "OFF"] = Field(
        default="NORMAL",
        description="NORMAL survives the process being killed, FULL also a power cut; "
        "OFF only the former, never waiting for the disk (replay's scratch data)",
    )
    redis_url: str = Field(
        default="",
        description="redis://HOST:PORT/DB to keep streams and state in Redis; empty: embedded",
    )
    redis_prefix: str = Field(
        default="{sereno}",
        description="Start of every Redis key; its {hash tag} keeps them in one Cluster slot",
    )
    claim_idle_s: float = Field(
        default=60.0,
        ge=0,
        description="Entries pending this long with their consumer are taken over by another",
    )
    max_deliveries: int = Field(
        default=5, ge=1, description="Deliveries after which a failing entry is dead-lettered"
    )
    tick_s: float = Field(
        default=15.0, gt=0, description="How often timers are looked at (also in replay)"
    )
    ingest: IngestSettings = IngestSettings()
    notify: NotifySettings = NotifySettings()
    ticket_backends: TicketBackends = TicketBackends()
    acknowledge_back: AcknowledgeBack = AcknowledgeBack()
    report: ReportSettings = ReportSettings()
    auth: AuthSettings = AuthSettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError("write an IANA time zone, for example Europe/Madrid") from e
        return value

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError("write HOST:PORT, for example 127.0.0.1:8080")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("write redis://HOST:PORT/DB (or rediss:// or unix://)")
        return value

    @field_validator("redis_prefix")
    @classmethod
    def _hash_tag(cls, value: str) -> str:
        # Redis Cluster hashes only the text between the first { and the next }: a prefix
        # that opens with a non-empty tag puts every key, whatever follows, in one slot, so
        # one Lua script may touch them all.
        opening, closing = value.find("{"), value.find("}")
        if opening != 0 or closing < 2:
            raise ValueError("start with a non-empty hash tag in braces, for example {sereno}")
        return value

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    @property
    def loopback(self) -> bool:
        """Whether only this machine can reach the listening address."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def base_url(self) -> str:
        """Where people reach this Sereno; used in links inside tickets and messages."""
        return self.public_url.rstrip("/") or f"http://{self.listen}"


class ConfigError(Exception):
    """The configuration file cannot be used; the message says where and how to fix it."""


def load_settings(path: Path | None, **overrides: object) -> Settings:
    """Read `path` (YAML), apply command-line `overrides` that are not None, and resolve
    relative folders against the file's own folder so `--config` works from anywhere.
    ConfigError names the file, the line and the key of each problem, and what to write."""
    raw: dict[str, object] = {}
    base = Path.cwd()
    root: yaml.Node | None = None
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"{path}: cannot read the configuration file: {e.strerror}") from e
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
            loaded = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML: {e}") from e
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the configuration must be a mapping of settings")
        raw = loaded
        base = path.parent
    given = {k: v for k, v in overrides.items() if v is not None}
    raw.update(given)
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as e:
        problems = sorted(_problem(path, root, given, error) for error in e.errors())
        raise ConfigError("\n".join(text for _, text in problems)) from e
    templates = settings.notify.templates_dir
    if templates is not None and not templates.is_absolute():
        notify = settings.notify.model_copy(update={"templates_dir": base / templates})
        settings = settings.model_copy(update={"notify": notify})
    return settings.model_copy(
        update={
            name: base / getattr(settings, name)
            for name in ("data_dir", "rules_dir", "runbooks_dir")
            if not getattr(settings, name).is_absolute() and name not in given
        }
        | _report_folder(settings, base)
    )


def _report_folder(settings: Settings, base: Path) -> dict[str, object]:
    folder = settings.report.folder
    if folder is None or folder.is_absolute():
        return {}
    return {"report": settings.report.model_copy(update={"folder": base / folder})}


def _problem(
    path: Path | None, root: yaml.Node | None, given: dict[str, object], error: ErrorDetails
) -> tuple[int, str]:
    """One settings error as rules errors are told, `file:line: key: what to write`, with
    its line to sort by."""
    loc = tuple(error["loc"])
    sentence = explain(Settings, error)
    if loc and str(loc[0]) in given:
        return 0, f"command line: --{str(loc[0]).replace('_', '-')}: {sentence}"
    line = node_at(root, loc).start_mark.line + 1 if root is not None and loc else 0
    return line, f"{path or 'settings'}:{line}: {where(loc) or '(top level)'}: {sentence}"
