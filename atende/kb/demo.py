"""Demo knowledge base for ``atende seed``: a few real-looking articles in English and Portuguese. Idempotent."""

from __future__ import annotations

from django.db import transaction

from atende.accounts.models import User
from atende.core.actor import Actor
from atende.kb.models import Article, KbCategory, KbSection
from atende.kb.services import article_create, category_create, section_create

STRUCTURE = [
    ("account", "Account & access", "Conta e acesso", "Log in, passwords and security.",
     "Login, senhas e segurança.", [("Logging in", "Login"), ("Security", "Segurança")]),
    ("billing", "Billing", "Cobrança", "Invoices, payments and plans.", "Faturas, pagamentos e planos.",
     [("Invoices", "Faturas"), ("Plans", "Planos")]),
    ("integrations", "Integrations", "Integrações", "Connect other tools.", "Conecte outras ferramentas.",
     [("API", "API")]),
]

# (category, section, slug, title, summary, body, language, translation_of_slug, visibility)
ARTICLES = [
    ("account", "Logging in", "reset-your-password", "Reset your password",
     "Choose a new password when you forgot the old one.",
     "If you forgot your password:\n\n1. Open the **log-in page** and choose *Forgot your password?*\n"
     "2. Enter your email address.\n3. Open the link we email you and choose a new password.\n\n"
     "The link works for three days. No email? Check your spam folder, or ask for a **log-in link** "
     "instead: it logs you in without a password.", "en", None, "public"),
    ("account", "Logging in", "redefinir-sua-senha", "Redefinir sua senha",
     "Escolha uma nova senha quando esquecer a antiga.",
     "Se você esqueceu a senha:\n\n1. Abra a **página de login** e escolha *Esqueceu a senha?*\n"
     "2. Informe seu e-mail.\n3. Abra o link que enviamos e escolha uma nova senha.\n\n"
     "O link vale por três dias. Não chegou? Verifique a caixa de spam ou peça um **link de acesso**: "
     "ele faz o login sem senha.", "pt-br", "reset-your-password", "public"),
    ("account", "Security", "two-factor-authentication", "Turn on two-factor authentication",
     "Protect your account with a code from your phone.",
     "1. Click your name at the top right to open **Your profile**, then **Two-factor authentication, passkeys, "
     "where you are signed in, and your password** (the *Security* page).\n"
     "2. Choose *Add an authenticator app* and scan the QR code with an app such as FreeOTP, Aegis, Google "
     "Authenticator or 1Password (or type the key shown under it).\n"
     "3. Type the six-digit code the app shows and choose *Confirm*.\n\n"
     "You then get ten **recovery codes**: each lets you in once if you lose your phone. Keep them somewhere "
     "safe, such as a password manager. On the same page you can also *Add a passkey or security key*.\n\n"
     "From then on, after your password Atende asks for the code from the app. Removing a second factor asks "
     "for your password. Lost your phone and your codes? Ask an administrator to reset your second factor.", "en", None, "public"),
    ("account", "Security", "autenticacao-em-dois-fatores", "Ative a autenticação em dois fatores",
     "Proteja sua conta com um código do celular.",
     "1. Clique no seu nome no canto superior direito para abrir **Seu perfil** e depois em **Autenticação em "
     "dois fatores, chaves de acesso, onde você está conectado e sua senha** (a página *Segurança*).\n"
     "2. Escolha *Adicionar um aplicativo autenticador* e leia o QR code com um aplicativo como FreeOTP, Aegis, "
     "Google Authenticator ou 1Password (ou digite a chave mostrada abaixo dele).\n"
     "3. Digite o código de seis dígitos que o aplicativo mostra e escolha *Confirmar*.\n\n"
     "Você recebe então dez **códigos de recuperação**: cada um permite entrar uma vez se você perder o celular. "
     "Guarde-os em local seguro, como um gerenciador de senhas. Na mesma página você também pode *Adicionar uma "
     "chave de acesso ou chave de segurança*.\n\n"
     "A partir daí, depois da senha o Atende pede o código do aplicativo. Remover um segundo fator pede a sua "
     "senha. Perdeu o celular e os códigos? Peça a um administrador para redefinir o seu segundo fator.", "pt-br", "two-factor-authentication", "public"),
    ("billing", "Invoices", "download-invoices", "Download your invoices",
     "Every invoice is available as a PDF.",
     "Open **Billing › Invoices**. Each line has a *Download PDF* button. Invoices are issued on the first "
     "business day of the month.\n\n| Plan | Billing day |\n|---|---|\n| Monthly | 1st |\n| Yearly | "
     "anniversary |", "en", None, "public"),
    ("billing", "Invoices", "segunda-via-de-boleto", "Como emitir a segunda via do boleto",
     "Gere um novo boleto quando o anterior vencer.",
     "Acesse **Cobrança › Faturas** e clique em *Segunda via*. O novo boleto vence em três dias úteis. "
     "Pagamentos por Pix são compensados na hora.", "pt-br", None, "public"),
    ("billing", "Plans", "change-your-plan", "Upgrade or downgrade your plan",
     "Plan changes take effect immediately and are prorated.",
     "Go to **Billing › Plan** and pick the new plan. We credit the unused part of the current period on the "
     "next invoice.", "en", None, "public"),
    ("integrations", "API", "api-tokens", "Create an API token",
     "Tokens let other systems create and read tickets.",
     "Open **Profile › API tokens**, choose *New token* and copy it: it is shown once. Send it as "
     "`Authorization: Bearer <token>`.\n\n```\ncurl -H \"Authorization: Bearer $TOKEN\" "
     "https://help.example.com/api/v1/tickets\n```", "en", None, "public"),
    ("account", "Security", "handling-account-takeover-reports", "Handling account takeover reports",
     "Internal runbook: what agents check before unlocking an account.",
     "**Internal — do not send to customers.**\n\n1. Confirm the requester's identity through the phone number "
     "on file.\n2. Check the last log-in IPs in the admin.\n3. Force a password reset and revoke API tokens.\n"
     "4. Escalate to *Security* if more than one account from the same organisation is affected.",
     "en", None, "internal"),
]


def demo_exists() -> bool:
    return KbCategory.objects.filter(slug="account").exists()


@transaction.atomic
def load_demo() -> dict[str, int]:
    if demo_exists():
        return {"articles": 0}
    author = User.objects.filter(email="agent@atende.test").first()
    actor = Actor.for_user(author) if author else Actor.system()
    sections: dict[tuple[str, str], KbSection] = {}
    for position, (slug, name, name_pt, desc, desc_pt, section_names) in enumerate(STRUCTURE):
        category = category_create(actor=actor, name=name, name_pt_br=name_pt, slug=slug, description=desc,
                                   description_pt_br=desc_pt, position=position)
        for i, (section_name, section_pt) in enumerate(section_names):
            sections[(slug, section_name)] = section_create(actor=actor, category=category, name=section_name,
                                                            name_pt_br=section_pt, position=i)
    created: dict[str, Article] = {}
    for category, section, slug, title, summary, body, language, translation_of, visibility in ARTICLES:
        created[slug] = article_create(
            actor=actor, section=sections[(category, section)], slug=slug, title=title, summary=summary,
            body_markdown=body, language=language, status="published", visibility=visibility,
            translation_of=created.get(translation_of) if translation_of else None)
    created["reset-your-password"].related.add(created["two-factor-authentication"])
    created["download-invoices"].related.add(created["change-your-plan"])
    return {"articles": len(created)}
