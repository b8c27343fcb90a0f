import base64
import json
import time


def userinfo(claims, user):
    claims["email"] = user.email
    claims["email_verified"] = user.username != "unverified"
    claims["name"] = user.get_full_name() or user.username
    return claims


def id_token_hook(id_token, user, **kwargs):
    fault = user.username
    if fault == "wrong_aud":
        id_token["aud"] = "another-application"
    elif fault == "wrong_iss":
        id_token["iss"] = "https://impostor.invalid/openid"
    elif fault == "bad_nonce":
        id_token["nonce"] = "not-the-nonce-we-were-sent"
    elif fault == "expired":
        id_token["iat"], id_token["exp"] = int(time.time()) - 7200, int(time.time()) - 3600
    id_token["groups"] = ["support-l2"] if fault == "grouped" else []
    return id_token


class CorruptSignatureMiddleware:
    """For the ``bad_sig`` account, the token endpoint's ID token leaves with a flipped signature byte."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.endswith("/token") or response.status_code != 200:
            return response
        body = json.loads(response.content)
        header, payload, signature = body["id_token"].split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if claims.get("email", "").startswith("bad_sig@"):
            raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
            raw[10] ^= 0xFF
            body["id_token"] = ".".join([header, payload, base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")])
            response.content = json.dumps(body).encode()
            response["Content-Length"] = str(len(response.content))
        return response
