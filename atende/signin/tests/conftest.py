import pytest

from atende.signin.tests.oidc_idp import server as oidc_server


@pytest.fixture(scope="session")
def oidc_idp(tmp_path_factory):
    """A real OpenID Connect provider on loopback (django-oidc-provider in its own process)."""
    provider = oidc_server.start(tmp_path_factory.mktemp("oidc-idp"))
    yield provider
    oidc_server.stop(provider)


@pytest.fixture(scope="session")
def saml_idp(tmp_path_factory):
    """A real SAML identity provider on loopback (pysaml2's IdP server, signing with xmlsec1)."""
    import shutil

    from atende.signin.tests import saml_idp as idp

    if shutil.which("xmlsec1") is None:
        pytest.skip("xmlsec1 is not installed (make install-test installs Debian's xmlsec1)")
    provider = idp.start(tmp_path_factory.mktemp("saml-idp"))
    yield provider
    provider.stop()
