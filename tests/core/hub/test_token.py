"""A token typed into Studio: checked with the Hub, refused in a sentence when wrong, and kept where the Hub
client keeps its tokens, so the client (and every tool) uses it from then on."""

from __future__ import annotations

import pytest

from studio.core.errors import HubError
from studio.core.hub import token
from tests.hub_server import TOKEN


def test_a_typed_token_is_checked_and_kept_where_the_client_reads_it(hub, hf_cache):
    assert token.current() is None and token.source() == "none"
    with pytest.raises(HubError, match="refused that token"):
        token.save("hf_wrong")
    with pytest.raises(HubError, match="empty"):
        token.save("  ")
    assert token.current() is None
    assert token.save(f" {TOKEN}\n") == "person"
    assert token.current() == TOKEN and token.source() == "the Hub client's login"
