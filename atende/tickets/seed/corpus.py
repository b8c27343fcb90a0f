"""Realistic, mixed English / Brazilian Portuguese text for demo and benchmark tickets."""

import random

SUBJECTS = {
    "technical": {
        "en": ["Cannot log in after password reset", "App crashes when uploading a photo", "Sync stopped working on {product}",
               "Error 500 when exporting the report", "Two-factor code never arrives", "Integration with {product} returns timeout",
               "Page is very slow since yesterday", "Mobile app shows a blank screen", "API key rejected with 401",
               "Emails from the system go to spam"],
        "pt": ["Não consigo entrar depois de redefinir a senha", "O aplicativo fecha ao enviar uma foto",
               "A sincronização parou no {product}", "Erro 500 ao exportar o relatório", "O código de dois fatores não chega",
               "Integração com {product} dá tempo esgotado", "A página está muito lenta desde ontem",
               "Aplicativo mostra tela em branco", "Chave da API recusada com 401", "E-mails do sistema caem no spam"],
    },
    "billing": {
        "en": ["Charged twice this month", "Invoice shows the wrong company name", "How do I change my payment card?",
               "Refund for the cancelled plan", "Upgrade to the annual plan", "VAT number missing on invoice"],
        "pt": ["Cobrança em duplicidade este mês", "A nota fiscal está com a razão social errada",
               "Como troco o cartão de pagamento?", "Reembolso do plano cancelado", "Quero mudar para o plano anual",
               "Boleto vencido, como gerar outro?"],
    },
    "product": {
        "en": ["Feature request: dark mode", "Can we export to Excel?", "Suggestion for the dashboard", "Question about user roles",
               "How do I add more users to my account?", "Where can I find the audit log?"],
        "pt": ["Sugestão: modo escuro", "Dá para exportar para Excel?", "Sugestão para o painel",
               "Dúvida sobre perfis de usuário", "Como adiciono mais usuários na conta?", "Onde encontro o histórico de alterações?"],
    },
}
PRODUCTS = ["Salesforce", "Slack", "Google Drive", "Outlook", "Shopify", "Pix", "WhatsApp", "SAP"]
BODIES = {
    "en": ["Hello, since this morning {issue}. I already tried clearing the cache and restarting, without success. "
           "This is blocking our team, can you help?",
           "Hi team, {issue}. It happens on Chrome and Firefox. Steps: open the dashboard, click export, wait. Thanks!",
           "Good afternoon, we noticed that {issue}.{org_sentence} Regards."],
    "pt": ["Olá, desde hoje cedo {issue}. Já tentei limpar o cache e reiniciar, sem sucesso. "
           "Isso está travando a equipe, podem ajudar?",
           "Oi pessoal, {issue}. Acontece no Chrome e no Firefox. Passos: abrir o painel, clicar em exportar, aguardar. Obrigado!",
           "Boa tarde, percebemos que {issue}.{org_sentence} Atenciosamente."],
}
ORG_SENTENCE = {"en": " Our account is under the {org} organisation.", "pt": " Nossa conta é da organização {org}."}
AGENT_REPLIES = {
    "en": ["Thanks for reaching out! Could you send us a screenshot of the error and the time it happened?",
           "I have escalated this to our engineering team and will update you as soon as I hear back.",
           "This should be fixed now: we deployed a correction this morning. Can you confirm on your side?",
           "I checked your account and applied the adjustment. You will see it on the next invoice."],
    "pt": ["Obrigado pelo contato! Pode nos enviar um print do erro e o horário em que aconteceu?",
           "Encaminhei para a equipe de engenharia e retorno assim que tiver novidades.",
           "Isso deve estar resolvido agora: publicamos uma correção hoje cedo. Pode confirmar do seu lado?",
           "Verifiquei sua conta e fiz o ajuste. Você verá na próxima fatura."],
}
CUSTOMER_REPLIES = {
    "en": ["Here is the screenshot you asked for.", "Still happening for me, unfortunately.", "It works now, thank you!",
           "Any news on this?"],
    "pt": ["Segue o print que vocês pediram.", "Continua acontecendo aqui, infelizmente.", "Agora funcionou, obrigado!",
           "Alguma novidade sobre isso?"],
}
NOTES = {
    "en": ["Looks like the same bug as last week's incident; linking.", "Customer is on the enterprise plan, prioritise.",
           "Checked the logs: the request times out on the payment gateway."],
    "pt": ["Parece o mesmo bug do incidente da semana passada.", "Cliente do plano enterprise, priorizar.",
           "Verifiquei os logs: a requisição estoura o tempo no gateway de pagamento."],
}
FIRST_NAMES = ["Ana", "Bruno", "Carla", "Diego", "Elisa", "Felipe", "Gabriela", "Henrique", "Isabela", "João", "Karen",
               "Lucas", "Mariana", "Nicolas", "Olivia", "Paulo", "Rafaela", "Samuel", "Tatiana", "Vitor", "Emma", "Liam",
               "Noah", "Sophia", "James", "Mia", "Oliver", "Charlotte", "Ethan", "Amelia"]
LAST_NAMES = ["Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Costa", "Almeida", "Carvalho", "Ribeiro",
              "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Clark", "Walker", "Young"]
TAGS = ["vip", "login", "invoice", "refund", "bug", "feature-request", "mobile", "api", "integration", "urgente",
        "performance", "onboarding"]


def ticket_text(rng: random.Random, category: str, org_name: str) -> tuple[str, str, str]:
    lang = "pt" if rng.random() < 0.5 else "en"
    subject = rng.choice(SUBJECTS[category][lang]).format(product=rng.choice(PRODUCTS))
    issue = subject[0].lower() + subject[1:]
    org_sentence = ORG_SENTENCE[lang].format(org=org_name) if org_name else ""
    body = rng.choice(BODIES[lang]).format(issue=issue, org_sentence=org_sentence)
    return lang, subject, body


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
