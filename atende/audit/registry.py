"""Which models hold configuration ("settings"), and therefore must leave an audit entry on every write, and
which do not (with the reason). Every model of every Atende app is in exactly one of the two, and each write path
listed for a settings model is exercised by ``audit/tests/test_settings_matrix.py``: a new model fails that test
until it is placed here, and a settings model fails it until each of its write paths records who changed what.

Write paths: ``admin`` (the Django admin, whose ModelAdmin must be an ``AuditedAdmin``), ``service`` (the
console's settings pages and the API call the app's services), ``reorder`` (the ▲/▼ of an ordered list).
"""

SETTINGS_MODELS: dict[str, tuple[str, ...]] = {
    "core.siteconfiguration": ("service", "admin"),       # branding
    "accounts.team": ("service", "admin"),                # assignment strategy; name, members
    "signin.securitypolicy": ("service",),
    "signin.ssoprovider": ("service",),
    "tickets.ticketsettings": ("admin",),
    "tickets.category": ("admin",),
    "tickets.tag": ("admin",),
    "tickets.customfield": ("admin",),
    "tickets.ticketform": ("admin",),                     # its fields are edited inline (tickets.ticketformfield)
    "email_channel.emailsettings": ("admin",),
    "email_channel.mailbox": ("admin",),
    "email_channel.senderrule": ("admin",),
    "email_channel.notificationtemplate": ("admin",),
    "sla.businesscalendar": ("service",),                 # with its hours, holidays and teams
    "sla.slapolicy": ("service", "reorder"),
    "automation.routingrule": ("service", "reorder"),
    "automation.trigger": ("service", "reorder"),
    "automation.timerule": ("service", "reorder"),
    "automation.macro": ("service", "reorder"),
    "automation.cannedreply": ("service",),
    "reports.reportschedule": ("service",),
    "integrations.webhooksubscription": ("service", "admin"),
    "triage.fieldsetting": ("service",),
    "triage.predictablefield": ("service", "admin"),
    "chat.widget": ("service", "admin"),
    "chat.chatagentsetting": ("service", "admin"),
    "contact.contactformsettings": ("admin",),
    "messaging.whatsapptemplate": ("admin",),
    "api.apitoken": ("service", "admin"),                 # created and revoked with their own audit actions
}

NOT_SETTINGS: dict[str, str] = {
    # Parts of a settings model, recorded in their parent's entry.
    "tickets.ticketformfield": "a ticket form's field, recorded in the form's entry (admin inline)",
    "accounts.teammembership": "team membership, recorded as its own 'team membership changed' entry",
    "sla.calendarteam": "a calendar's teams, recorded in the calendar's entry",
    "sla.businesshours": "a calendar's hours, recorded in the calendar's entry",
    "sla.holiday": "a calendar's holidays, recorded in the calendar's entry",
    # People and customer records (role, team and account changes have their own audit actions).
    "accounts.user": "people: creation, role and account changes have their own audit actions",
    "accounts.organization": "a customer record, created by the API and imports; admin edits are recorded",
    "accounts.organizationdomain": "part of an organisation",
    "accounts.contactidentity": "a customer's email or phone, with its own customer timeline",
    "accounts.customerevent": "a customer's timeline",
    # Conversations and their timelines.
    "tickets.ticket": "conversation data, with its own timeline (TicketEvent)",
    "tickets.tickettag": "conversation data", "tickets.ticketfollower": "conversation data",
    "tickets.message": "conversation data", "tickets.attachment": "conversation data",
    "tickets.ticketevent": "the tickets' own audit trail", "tickets.ticketlink": "conversation data",
    "chat.chatsession": "conversation data", "messaging.conversationmessage": "conversation data",
    "email_channel.inboundmessage": "received mail", "messaging.inboundwebhook": "received webhook calls",
    "email_channel.undeliverableaddress": "addresses that bounced (kept by the mail pipeline)",
    "surveys.satisfactionsurvey": "customers' answers",
    "kb.kbcategory": "knowledge-base content, edited by agents", "kb.kbsection": "knowledge-base content",
    "kb.article": "knowledge-base content", "kb.articleattachment": "knowledge-base content",
    "kb.articlevote": "readers' votes", "kb.deflection": "portal statistics",
    "console.savedview": "an agent's (or a team's) list filter: a way of working, not configuration",
    "console.notification": "an agent's notifications",
    # Machinery: queues, cursors, caches, statistics, results.
    "core.throttlebucket": "throttle counters", "core.subscribercursor": "event dispatcher state",
    "core.eventretry": "event dispatcher state", "core.workerheartbeat": "worker liveness",
    "outbound.delivery": "the outgoing queue", "outbound.deliveryattempt": "the outgoing queue",
    "automation.timeruleschedule": "time rules' due times", "automation.rulerun": "rule runs",
    "automation.assignmentcursor": "round-robin position",
    "reports.hourstats": "report rollups", "reports.daystats": "report rollups",
    "reports.daydurationstats": "report rollups", "reports.daycategorystats": "report rollups",
    "reports.daytagstats": "report rollups", "reports.dayagentstats": "report rollups",
    "reports.daybacklog": "report rollups", "reports.rollupmark": "report rollups",
    "reports.rollupstate": "report rollups",
    "sla.slaclock": "a ticket's SLA clocks",
    "integrations.externalrecord": "import bookkeeping",
    "integrations.privacyrequest": "privacy requests, recorded as 'person erased' entries",
    "triage.triagemodel": "trained by the scheduler or `atende triage train`, never edited",
    "triage.prediction": "a ticket's suggestions",
    "api.idempotencykey": "API request replay protection",
    "signin.signinsession": "sessions: sign-ins and ends have their own audit actions",
    "signin.passkey": "second factors: added and removed have their own audit actions",
    "signin.samlrequest": "SAML request bookkeeping",
    "audit.auditentry": "the log itself",
}
