"""What an authenticator app computes, for tests: the TOTP code of a device at a moment."""

import time

from django_otp.oath import TOTP


def totp_code(device, *, at: float | None = None) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"


def sign_in(client, email: str, password: str, **extra):
    return client.post("/accounts/login/", {"username": email, "password": password, **extra},
                       REMOTE_ADDR=extra.pop("ip", "192.0.2.10"))
