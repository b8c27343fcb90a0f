import pytest

from atende.signin.tests.oidc_idp import server as oidc_server


@pytest.fixture(scope="session")
def oidc_idp(tmp_path_factory):
    """A real OpenID Connect provider on loopback (django-oidc-provider in its own process)."""
    provider = oidc_server.start(tmp_path_factory.mktemp("oidc-idp"))
    yield provider
    oidc_server.stop(provider)
