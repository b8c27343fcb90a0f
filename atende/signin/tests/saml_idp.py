"""A SAML 2.0 identity provider for tests, built on pysaml2's own IdP ``Server`` (signing with xmlsec1), served
over HTTP on loopback from a thread of the test process.

It shows a sign-in form ("sign in as"), then answers the service provider with an auto-post form carrying the
signed response. Usernames name faults: ``expired`` (the assertion's lifetime has passed), ``unsigned`` (the
signature stripped), ``rogue`` (signed with a key the service provider does not trust), ``other_sp`` (meant for another
service provider)."""

from __future__ import annotations

import base64
import datetime
import html
import re
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server

XMLSEC = "/usr/bin/xmlsec1"


def _key_pair(directory: Path, name: str) -> tuple[Path, Path, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"test-idp-{name}")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365)).sign(key, hashes.SHA256()))
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    cert_path.write_text(pem)
    return key_path, cert_path, pem


def _server(entity_id: str, sso_url: str, key: Path, cert: Path, lifetime_minutes: int) -> Server:
    config = IdPConfig()
    config.load({
        "entityid": entity_id, "xmlsec_binary": XMLSEC, "key_file": str(key), "cert_file": str(cert),
        "metadata": {},
        "service": {"idp": {
            "endpoints": {"single_sign_on_service": [(sso_url, BINDING_HTTP_REDIRECT)]},
            "name_id_format": [NAMEID_FORMAT_EMAILADDRESS], "want_authn_requests_signed": False,
            "policy": {"default": {"lifetime": {"minutes": lifetime_minutes}, "attribute_restrictions": None,
                                   "name_form": NAME_FORMAT_URI}},
        }},
    })
    return Server(config=config)


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@dataclass
class SamlIdp:
    base: str
    entity_id: str
    sso_url: str
    certificate: str
    httpd: WSGIServer

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def start(directory: Path) -> SamlIdp:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    entity_id, sso_url = f"{base}/metadata", f"{base}/sso/redirect"
    key, cert, pem = _key_pair(directory, "idp")
    rogue_key, rogue_cert, _pem = _key_pair(directory, "rogue")
    servers = {"default": _server(entity_id, sso_url, key, cert, 15),
               "expired": _server(entity_id, sso_url, key, cert, -10),
               "rogue": _server(entity_id, sso_url, rogue_key, rogue_cert, 15)}

    def app(environ, start_response):
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        if path == "/sso/redirect" and method == "GET":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            body = (f'<!doctype html><title>Test SAML IdP</title><h1>Test SAML IdP</h1>'
                    f'<form method="post" action="/sso/login">'
                    f'<input type="hidden" name="SAMLRequest" value="{html.escape(query["SAMLRequest"][0])}">'
                    f'<input type="hidden" name="RelayState" value="{html.escape(query.get("RelayState", [""])[0])}">'
                    f'<label>Sign in as <input name="username" id="saml-username"></label>'
                    f'<button type="submit" id="saml-submit">Sign in</button></form>')
        elif path == "/sso/login" and method == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            form = parse_qs(environ["wsgi.input"].read(size).decode())
            username = form["username"][0]
            server = servers.get(username, servers["default"])
            request = server.parse_authn_request(form["SAMLRequest"][0], BINDING_HTTP_REDIRECT).message
            email = f"{username}@saml.test"
            response = server.create_authn_response(
                {"mail": [email], "displayName": [username.title()], "groups": ["support-l2"]},
                in_response_to=request.id, destination=request.assertion_consumer_service_url,
                sp_entity_id="urn:another-sp" if username == "other_sp" else request.issuer.text,
                name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=email),
                authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password", "authn_auth": entity_id},
                sign_assertion=True, sign_response=False)
            xml = str(response)
            if username == "unsigned":  # the signature stripped off, as an attacker editing the answer would
                xml = re.sub(r"<(\w+:)?Signature\b.*?</(\w+:)?Signature>", "", xml, flags=re.DOTALL)
            encoded = base64.b64encode(xml.encode()).decode()
            body = (f'<!doctype html><title>Continue</title><form method="post" id="saml-post"'
                    f' action="{html.escape(request.assertion_consumer_service_url)}">'
                    f'<input type="hidden" name="SAMLResponse" value="{encoded}">'
                    f'<input type="hidden" name="RelayState" value="{html.escape(form.get("RelayState", [""])[0])}">'
                    f'<button type="submit" id="saml-continue">Continue</button></form>')
        else:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body.encode()]

    httpd = make_server("127.0.0.1", port, app, handler_class=_Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return SamlIdp(base=base, entity_id=entity_id, sso_url=sso_url, certificate=pem, httpd=httpd)
