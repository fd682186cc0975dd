"""Wiring the stages to one storage, one clock and one set of rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry

from core.clock import Clock
from core.config import Settings, StageName
from core.metrics import (
    RuntimeMetrics,
    make_bus_metrics,
    make_correlate_metrics,
    make_ingest_metrics,
    make_notify_metrics,
    make_runtime_metrics,
    make_ticketer_metrics,
)
from core.rules import RulesRef
from core.runbooks import load_runbooks
from core.runtime import Stage
from core.storage import Storage
from correlate.worker import CorrelateStage
from ingest.receiver import Receiver
from notify.delivery import Deliverer
from notify.render import Renderer
from notify.tickets import TicketNotifyStage
from notify.worker import NotifyStage
from ticketer.acknowledge_back import AcknowledgeBackStage
from ticketer.backends.base import TicketBackend
from ticketer.backends.glpi import GlpiTicketBackend
from ticketer.backends.glpi_client import GlpiClient
from ticketer.backends.glpi_watch import GlpiWatcher
from ticketer.backends.jira import JiraTicketBackend
from ticketer.backends.jira_watch import JiraWatcher
from ticketer.backends.rt import RtTicketBackend
from ticketer.backends.rt_client import RtClient
from ticketer.backends.rt_watch import RtWatcher
from ticketer.backends.watch import Watcher
from ticketer.backends.webhook import WebhookTicketBackend
from ticketer.delivery import DeliveryStage
from ticketer.rehearsal import RehearsalStage
from ticketer.silencer import AlertmanagerSilencer
from ticketer.texts import TicketTexts
from ticketer.worker import TicketerStage


@dataclass
class Pipeline:
    """Everything one process runs, built once from settings."""

    settings: Settings
    rules: RulesRef
    clock: Clock
    storage: Storage
    registry: CollectorRegistry
    runtime_metrics: RuntimeMetrics
    receiver: Receiver
    stages: list[Stage] = field(default_factory=list)
    deliverer: Deliverer | None = None
    """Sends the notifications the notify stage decided; None without the notify stage."""
    backends: list[TicketBackend] = field(default_factory=list)
    """External ticket backends the stages call; closed by the owner of the pipeline."""
    rehearsals: list[RehearsalStage] = field(default_factory=list)
    """Without delivery (replay): what each external backend would have been asked."""
    silencers: list[AlertmanagerSilencer] = field(default_factory=list)
    """Sources told of acknowledgements; closed by the owner of the pipeline."""
    watchers: dict[str, Watcher] = field(default_factory=dict)
    """Ticket systems read back, by backend name; run and closed by the owner."""


def _external_backends(
    settings: Settings, texts: TicketTexts, rules: RulesRef
) -> list[tuple[TicketBackend, float]]:
    """The configured external ticket backends, each with its longest wait between tries."""
    configured = settings.ticket_backends
    wanted: list[tuple[TicketBackend, float]] = []
    if configured.webhook is not None:
        wanted.append((WebhookTicketBackend(configured.webhook), configured.webhook.backoff_max_s))
    if configured.jira is not None:
        wanted.append((JiraTicketBackend(configured.jira, texts), configured.jira.backoff_max_s))
    if configured.rt is not None:
        wanted.append((RtTicketBackend(configured.rt, texts, rules), configured.rt.backoff_max_s))
    if configured.glpi is not None:
        wanted.append(
            (GlpiTicketBackend(configured.glpi, texts, rules), configured.glpi.backoff_max_s)
        )
    return wanted


def _watchers(
    settings: Settings, storage: Storage, clock: Clock, texts: TicketTexts, rules: RulesRef
) -> dict[str, Watcher]:
    """The ticket systems read back, by backend name."""
    configured = settings.ticket_backends
    watchers: dict[str, Watcher] = {}
    if configured.rt is not None:
        watchers["rt"] = RtWatcher(RtClient(configured.rt), storage.store, clock, rules)
    if configured.glpi is not None:
        watchers["glpi"] = GlpiWatcher(GlpiClient(configured.glpi), storage.store, clock, rules)
    if configured.jira is not None:
        jira = JiraTicketBackend(configured.jira, texts)
        watchers["jira"] = JiraWatcher(jira, configured.jira, storage.store, clock, rules)
    return watchers


def build_pipeline(
    settings: Settings,
    rules: RulesRef,
    clock: Clock,
    registry: CollectorRegistry | None = None,
    *,
    deliver: bool = True,
) -> Pipeline:
    """Create (without opening anything) the storage and every stage `settings` asks for.
    Loads the runbooks beside the rules if they are not loaded yet (RulesError if invalid).
    With `deliver` false (replay), external ticket backends are never called: the calls
    they would have had are listed by `rehearsals`, and no source is told of an
    acknowledgement."""
    if rules.runbooks is None:
        rules.runbooks = load_runbooks(settings.runbooks_dir, rules.current)
    registry = registry or CollectorRegistry()
    storage = Storage(settings, make_bus_metrics(registry))
    runtime_metrics = make_runtime_metrics(registry)
    notify_metrics = make_notify_metrics(registry)
    receiver = Receiver(storage.bus, rules, clock, make_ingest_metrics(registry), settings.ingest)
    ticketer_metrics = make_ticketer_metrics(registry)
    renderer = Renderer(settings.timezone, settings.notify.templates_dir)
    texts = TicketTexts(settings.language, settings.timezone)
    candidates: dict[StageName, Stage] = {
        StageName.CORRELATE: CorrelateStage(
            storage.store, rules, clock, make_correlate_metrics(registry), runtime_metrics
        ),
        StageName.TICKETER: TicketerStage(
            storage.store, rules, clock, settings.base_url, ticketer_metrics, runtime_metrics,
            texts=texts,
        ),
        StageName.NOTIFY: NotifyStage(
            storage.store, rules, renderer, settings, notify_metrics, runtime_metrics,
        ),
    }  # fmt: skip
    stages = [stage for name, stage in candidates.items() if name in settings.stages]
    if StageName.NOTIFY in settings.stages:
        stages.append(
            TicketNotifyStage(storage.store, rules, renderer, settings, notify_metrics,
                              runtime_metrics)
        )  # fmt: skip
    deliverer = None
    if StageName.NOTIFY in settings.stages:
        deliverer = Deliverer(storage.store, rules, clock, settings.notify, notify_metrics)
    backends: list[TicketBackend] = []
    wanted = _external_backends(settings, texts, rules)
    if deliver and StageName.TICKETER in settings.stages:
        for backend, backoff_max_s in wanted:
            backends.append(backend)
            stages.append(
                DeliveryStage(storage.store, backend, clock, ticketer_metrics, runtime_metrics,
                              backoff_max_s=backoff_max_s)
            )  # fmt: skip
    silencers: list[AlertmanagerSilencer] = []
    back = settings.acknowledge_back.alertmanager
    if back is not None and deliver and StageName.TICKETER in settings.stages:
        silencer = AlertmanagerSilencer(back)
        silencers.append(silencer)
        stages.append(
            AcknowledgeBackStage(storage.store, silencer, texts, clock, settings.base_url,
                                 ticketer_metrics, runtime_metrics)
        )  # fmt: skip
    watchers = (
        _watchers(settings, storage, clock, texts, rules)
        if deliver and StageName.TICKETER in settings.stages
        else {}
    )
    rehearsals: list[RehearsalStage] = []
    if not deliver and StageName.TICKETER in settings.stages:
        rehearsals = [RehearsalStage(storage.store, b, runtime_metrics) for b, _ in wanted]
        stages += rehearsals
    return Pipeline(
        settings=settings,
        rules=rules,
        clock=clock,
        storage=storage,
        registry=registry,
        runtime_metrics=runtime_metrics,
        receiver=receiver,
        stages=stages,
        deliverer=deliverer,
        backends=backends,
        rehearsals=rehearsals,
        silencers=silencers,
        watchers=watchers,
    )
