"""Every mail leaves through the outbound engine: only the mail transport (``email_channel/transports.py``) may
reach Django's mail sending (``send_mail``, ``send_mass_mail``, ``EmailMessage.send``, a backend connection) or
``smtplib``. A mail sent anywhere else would get no retry, no attempt log and no bounce suppression."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2]  # atende/
NOT_CHECKED = {"tests", "migrations", "testing"}  # tests read mail.outbox; test support starts servers
MAIL_EXIT = {"email_channel/transports.py"}
SENDING = {"send_mail", "send_mass_mail", "mail_admins", "mail_managers", "EmailMessage", "EmailMultiAlternatives",
           "get_connection"}
HINT = "queue it with email_channel.services.mail_queue (docs/architecture.md \"Outbound deliveries\")"


def _reasons(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "smtplib" or alias.name.startswith("django.core.mail"):
                    found.append((node.lineno, f"imports {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "smtplib" or (node.module.startswith("django.core.mail")
                                            and any(a.name in SENDING or a.name == "*" for a in node.names)):
                found.append((node.lineno, f"imports {', '.join(a.name for a in node.names)} from {node.module}"))
            elif node.module == "django.core" and any(a.name == "mail" for a in node.names):
                found.append((node.lineno, "imports django.core.mail"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SENDING \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "mail":
            found.append((node.lineno, f"calls mail.{node.func.attr}"))
    return found


def mail_exits(root: Path) -> list[str]:
    """``path:line: what`` for every way out to a mail server under ``root`` other than the mail transport."""
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if NOT_CHECKED & set(relative.parts[:-1]) or relative.as_posix() in MAIL_EXIT:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        found += [f"{relative.as_posix()}:{line}: {what}; {HINT}" for line, what in _reasons(tree)]
    return found


def test_only_the_mail_transport_sends_mail():
    exits = mail_exits(PACKAGE)
    assert exits == [], "mail sent outside the outbound engine:\n" + "\n".join(exits)


def test_the_mail_transport_is_where_mail_leaves():
    assert _reasons(ast.parse((PACKAGE / "email_channel/transports.py").read_text()))  # the allowed exit exists


def test_the_check_reports_each_way_out(tmp_path):
    app = tmp_path / "signin"
    app.mkdir()
    (app / "tasks.py").write_text(
        "from django.core.mail import send_mail\n"
        "from django.core import mail\n"
        "import smtplib\n"
        "from django.core.mail.message import EmailMessage\n"
        "def f():\n"
        "    mail.send_mass_mail(())\n"
        "from django.core.mail import BadHeaderError\n")  # an exception class sends nothing
    (app / "forms.py").write_text(  # a method that happens to be called send_mail is not an exit
        "class Form:\n    def send_mail(self):\n        return self.send_mail()\n")
    (app / "tests").mkdir()
    (app / "tests" / "test_x.py").write_text("from django.core import mail\n")
    exits = [line.split(";")[0] for line in mail_exits(tmp_path)]
    assert exits == [
        "signin/tasks.py:1: imports send_mail from django.core.mail",
        "signin/tasks.py:2: imports django.core.mail",
        "signin/tasks.py:3: imports smtplib",
        "signin/tasks.py:4: imports EmailMessage from django.core.mail.message",
        "signin/tasks.py:6: calls mail.send_mass_mail",
    ]
