"""Demo automation for ``atende seed``: team assignment, a routing rule, triggers, a time rule, macros and canned
replies in English and Portuguese. Idempotent. (Closing solved tickets after 4 days is the built-in auto-close.)"""

from __future__ import annotations

from atende.accounts.models import Team, User
from atende.automation.models import CannedReply, Macro, RoutingRule, TimeRule, Trigger
from atende.automation.services.assignment import team_set_assignment
from atende.automation.services.definitions import canned_reply_save, macro_save, rule_save

STRATEGIES = {"technical-support": ("least_loaded", True), "billing": ("round_robin", False),
              "product": ("skills", False)}

CANNED = [
    ("Greeting", "en", "Hi {{requester.first_name}},\n\nThanks for contacting us about ticket #{{ticket.number}}. "),
    ("Saudação", "pt-br", "Olá {{requester.first_name}},\n\nObrigado por falar conosco sobre o chamado "
                          "#{{ticket.number}}. "),
    ("Password reset", "en", "You can reset your password at any time from the login page (“Forgot your "
                             "password?”). The link is valid for one hour.\n\n{{agent.name}}"),
    ("Redefinir senha", "pt-br", "Você pode redefinir sua senha na página de login (“Esqueceu a senha?”). O link vale "
                                 "por uma hora.\n\n{{agent.name}}"),
    ("Refund policy", "en", "Refunds are processed within 5 business days to the original payment method."),
    ("Política de reembolso", "pt-br", "Os reembolsos são processados em até 5 dias úteis na forma de pagamento "
                                       "original."),
]


def load_demo() -> dict[str, int]:
    admin = User.objects.filter(email="admin@atende.test").first()
    if admin is None or Trigger.objects.filter(name="VIP customers are high priority").exists():
        return {}
    for slug, (strategy, reassign) in STRATEGIES.items():
        team = Team.objects.filter(slug=slug).first()
        if team:
            team_set_assignment(team=team, strategy=strategy, reassign_when_offline=reassign)
    billing = Team.objects.filter(slug="billing").first()
    if billing and not RoutingRule.objects.exists():
        rule_save(kind="routing", name="Money questions go to Billing", description="Words in the subject or body.",
                  conditions={"any": [
                      {"field": "subject", "op": "contains_any_words",
                       "value": "invoice invoices refund billing fatura boleto cobrança reembolso"},
                      {"field": "body", "op": "contains_any_words", "value": "invoice refund fatura reembolso"}]},
                  actions=[{"type": "set_team", "value": billing.pk}, {"type": "add_tags", "value": ["billing"]}])
    rule_save(kind="trigger", name="VIP customers are high priority", events=["created"],
              conditions={"all": [{"field": "tags", "op": "includes_any", "value": ["vip"]},
                                  {"field": "priority", "op": "at_most", "value": "normal"}]},
              actions=[{"type": "set_priority", "value": "high"},
                       {"type": "add_note", "body": "VIP customer: priority raised automatically."}])
    rule_save(kind="trigger", name="Reopened tickets are flagged", events=["status_changed"],
              conditions={"all": [{"field": "status", "op": "changed_from", "value": "solved"}]},
              actions=[{"type": "add_tags", "value": ["reopened"]}])
    rule_save(kind="trigger", name="Urgent tickets alert the team", events=["created", "priority_changed"],
              conditions={"all": [{"field": "priority", "op": "is", "value": "urgent"}]},
              actions=[{"type": "send_email", "to": "team", "subject": "Urgent: #{{ticket.number}} {{ticket.subject}}",
                        "body": "An urgent ticket needs attention: {{ticket.url}}"}])
    reminders = {"en": "Hi {{requester.first_name}}, we are still waiting for your answer on #{{ticket.number}}. "
                       "Reply to this message when you can and we will pick it up.",
                 "pt-br": "Olá {{requester.first_name}}, ainda aguardamos sua resposta no chamado #{{ticket.number}}. "
                          "Responda esta mensagem quando puder."}
    for language, text in reminders.items():
        language_condition = {"field": "language", "op": "is", "value": language} if language == "pt-br" else \
            {"field": "language", "op": "is_not", "value": "pt-br"}
        rule_save(kind="time_rule", name=f"Pending 3 days: remind the customer ({language})",
                  anchor="status_changed_at", hours=72,
                  conditions={"all": [{"field": "status", "op": "is", "value": "pending"}, language_condition]},
                  actions=[{"type": "reply", "body": text}, {"type": "add_tags", "value": ["reminded"]}])
    if not Macro.objects.exists():
        macro_save(user=admin, name="Ask for more information", actions=[
            {"type": "set_status", "value": "pending"}, {"type": "add_tags", "value": ["needs-info"]}],
            reply_text="Hi {{requester.first_name}}, could you send us a screenshot and the exact time it "
                       "happened?\n\n{{agent.name}}")
        macro_save(user=admin, name="Pedir mais informações", actions=[
            {"type": "set_status", "value": "pending"}, {"type": "add_tags", "value": ["needs-info"]}],
            reply_text="Olá {{requester.first_name}}, pode nos enviar uma captura de tela e o horário em que "
                       "aconteceu?\n\n{{agent.name}}")
        macro_save(user=admin, name="Solved: thanks", actions=[{"type": "set_status", "value": "solved"}],
                   reply_text="Glad we could help, {{requester.first_name}}! Reply if anything else comes up.")
        macro_save(user=admin, name="Escalate to engineering", reply_visibility="note",
                   actions=[{"type": "set_priority", "value": "high"}, {"type": "add_tags", "value": ["escalated"]}],
                   reply_text="Escalated to engineering by {{agent.name}}.")
    if not CannedReply.objects.exists():
        for title, language, body in CANNED:
            canned_reply_save(user=admin, title=title, language=language, body=body)
    return {"routing_rules": RoutingRule.objects.count(), "triggers": Trigger.objects.count(),
            "time_rules": TimeRule.objects.count(), "macros": Macro.objects.count(),
            "canned_replies": CannedReply.objects.count()}
