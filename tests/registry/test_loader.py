"""The registry's YAML parse: libyaml's speed, the pure-Python loader's error messages."""

from __future__ import annotations

import pytest
import yaml

from exchange_sync.registry import RegistryFileError, load_registry
from exchange_sync.registry.loader import parse_yaml
from tests.registry.test_validate import write

REGISTRY = """\
defaults: {history_start: 2024-06-01, streams: [balances, trades]}
exchanges: {binance: {schedule: null, pool_slots: 3}}
accounts:
  - {id: alice, exchange: binance, symbols: [ETH/BTC], notify: [apprise_ops]}
  - id: bob
    exchange: kraken
    history_start: 2025-01-01T12:30:00Z
"""


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML was built without libyaml")
def test_libyaml_parses_the_registry():
    from exchange_sync.registry import loader

    # The pure-Python parser was ~73 % of a DAG file's parse at 1,000 accounts.
    assert loader._LOADER is yaml.CSafeLoader


def test_parse_builds_what_safe_load_builds():
    assert parse_yaml(REGISTRY) == yaml.safe_load(REGISTRY)


def test_yaml_error_quotes_the_line_under_a_caret(tmp_path):
    """libyaml's errors give only a line and column; the message stays the pure loader's."""
    path = write(tmp_path, "defaults:\n  history_start: 2024-01-01\n notify: [ops]\naccounts: []\n")
    with pytest.raises(RegistryFileError) as info:
        load_registry(path)
    assert str(info.value) == (
        f"{path}: not valid YAML: while parsing a block mapping\n"
        '  in "<unicode string>", line 1, column 1:\n'
        "    defaults:\n"
        "    ^\n"
        "expected <block end>, but found '<block mapping start>'\n"
        '  in "<unicode string>", line 3, column 2:\n'
        "     notify: [ops]\n"
        "     ^"
    )


def test_unsafe_tags_stay_refused(tmp_path):
    path = write(tmp_path, "accounts:\n  - !!python/object/apply:os.system [echo hi]\n")
    with pytest.raises(RegistryFileError, match=r"(?s)could not determine a constructor .*line 2, column 5:"):
        load_registry(path)
