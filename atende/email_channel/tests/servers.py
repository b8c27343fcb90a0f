"""Real mail servers for tests: an aiosmtpd SMTP server capturing what it receives, and Debian's dovecot as an
IMAP server with a throw-away configuration (loopback port, passwd-file user, maildir in a temporary dir)."""

from __future__ import annotations

import email
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

DOVECOT = "/usr/sbin/dovecot"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class CapturedMail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> email.message.Message:
        return email.message_from_bytes(self.raw)


@dataclass
class CaptureHandler:
    received: list[CapturedMail] = field(default_factory=list)
    refuse: bool = False  # answer 451 to every message (a server that is down or overloaded)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.refuse:
            return "451 4.3.0 Try again later"
        self.received.append(CapturedMail(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


@pytest.fixture
def smtp_capture(settings):
    """A real SMTP server on loopback; Django's SMTP backend points at it. ``.received`` holds the mail."""
    handler = CaptureHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    try:
        yield handler
    finally:
        controller.stop()


@dataclass
class Dovecot:
    host: str
    port: int
    user: str
    password: str
    root: Path

    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(self.user, self.password)
        return conn

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        conn = self.client()
        try:
            conn.append(folder, "", imaplib.Time2Internaldate(time.time()), raw)
        finally:
            conn.logout()

    def count(self, folder: str = "INBOX", criteria: str = "ALL") -> int:
        conn = self.client()
        try:
            conn.create(folder)
            conn.select(folder)
            _status, data = conn.search(None, criteria)
            return len((data[0] or b"").split())
        finally:
            conn.logout()


_CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = {uid}
last_valid_uid = {uid}
default_login_user = {login_user}
default_internal_user = {internal_user}
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
"""


def _wait_for_port(port: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                if sock.recv(64).startswith(b"* OK"):
                    return True
        except OSError:
            time.sleep(0.1)
    return False


@pytest.fixture
def dovecot_server():
    """Debian's dovecot on a loopback port with a throw-away configuration; skips when it cannot run."""
    if not os.path.exists(DOVECOT):
        pytest.skip(f"{DOVECOT} not installed (scripts/ensure-test-servers.sh installs dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="atende-dovecot-"))
    if os.geteuid() == 0:
        # dovecot refuses to deliver mail as root: the mail user is the unprivileged "dovecot" account.
        try:
            account = pwd.getpwnam("dovecot")
            login = pwd.getpwnam("dovenull").pw_name
        except KeyError:
            pytest.skip("dovecot system users are missing")
        uid, gid, internal = account.pw_uid, account.pw_gid, account.pw_name
    else:
        uid, gid = os.getuid(), os.getgid()
        internal = login = pwd.getpwuid(uid).pw_name
    port = free_port()
    user, password = "support@atende.test", "imap-secret-1"
    (root / "passwd").write_text(f"{user}:{{PLAIN}}{password}\n")
    for sub in ("mail", "home", "state"):
        (root / sub).mkdir()
    if os.geteuid() == 0:
        for path in [root, *root.rglob("*")]:
            os.chown(path, uid, gid)
        os.chmod(root, 0o755)
    config = root / "dovecot.conf"
    config.write_text(_CONFIG.format(root=root, port=port, uid=uid, gid=gid, login_user=login,
                                     internal_user=internal))
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        if not _wait_for_port(port):
            process.terminate()
            output = process.communicate(timeout=5)[0].decode(errors="replace")
            log = (root / "dovecot.log").read_text(errors="replace") if (root / "dovecot.log").exists() else ""
            pytest.skip(f"dovecot could not start: {output[-500:]} {log[-500:]}")
        yield Dovecot(host="127.0.0.1", port=port, user=user, password=password, root=root)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(root, ignore_errors=True)
