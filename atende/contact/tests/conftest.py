from atende.kb.tests.fixtures import *  # noqa: F401,F403
