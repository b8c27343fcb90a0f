"""The layer order of Atende's apps, written once: an app imports only apps in lower layers (and itself).

Apps in the same layer are peers and do not import each other. Higher layers reach lower ones by import; lower
layers reach higher ones only through the events bus (``core.events``) and the dotted paths of the scheduler,
which name code without importing it. ``core/tests/test_layers.py`` enforces this for every module of every app
(imports inside functions included; ``if TYPE_CHECKING:`` imports, tests and ``core/testing`` excepted), and
docs/architecture.md draws it. A new app must be placed here before its first import is accepted.
"""

from __future__ import annotations

LAYERS: list[tuple[str, ...]] = [
    ("core",),                    # DomainError, Actor, events bus, scheduler, tasks helpers, throttle: no domain
    ("accounts",),                # users, organisations, teams
    ("audit",),                   # the audit log every service records into
    ("tickets",),                 # the ticket domain
    ("rules", "kb", "surveys", "outbound"),  # the rule language; knowledge base; surveys; the delivery queue
    ("sla", "email_channel", "messaging"),  # SLA clocks (on rules); the channels customers write through
    ("reports", "signin"),        # reads tickets, SLA, surveys, kb; mails scheduled reports. Sign-in pages,
                                  # second factors, SSO: above email_channel, whose mail_queue sends its notices
    ("integrations",),            # webhooks, imports, privacy requests (marks report rollups)
    ("automation", "triage"),     # rules that act on tickets (SLA actions, mail, webhooks); learned triage
    ("chat",),                    # live chat: mails transcripts (email_channel), offers canned replies (automation)
    ("console", "portal"),        # agent and customer pages
    ("contact",),                 # the public contact form (reuses the portal's form, magic links, deflection)
    ("api",),                     # the REST API: one router per resource over the domain apps
    ("config",),                  # settings, URLs, ASGI: wires everything
]

LAYER_OF: dict[str, int] = {app: index for index, layer in enumerate(LAYERS) for app in layer}


def may_import(importer: str, imported: str) -> bool:
    """True when app ``importer`` may import app ``imported`` (both must be placed in ``LAYERS``)."""
    return importer == imported or LAYER_OF[imported] < LAYER_OF[importer]


def rule_text(importer: str, imported: str) -> str:
    """The rule an import breaks, in words, for the architecture test's message."""
    if LAYER_OF[imported] == LAYER_OF[importer]:
        return (f"{importer} and {imported} are peers in layer {LAYER_OF[importer]} "
                f"({', '.join(LAYERS[LAYER_OF[importer]])}) and must not import each other")
    return (f"{importer} (layer {LAYER_OF[importer]}) must not import {imported} (layer {LAYER_OF[imported]}, "
            f"higher); reach it through core.events or move the shared code down")
