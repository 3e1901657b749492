"""Conversions (Binance convert and dust to BNB): balance changes that are neither trades nor
transfers. Binance's convert/tradeFlow lists the converts; no endpoint here lists dust."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import ccxt
import pytest

from exchange_sync.sim_client import SimulatorError
from tests.simulator.conftest import start_simulator


def _totals(history: dict) -> Counter:
    return Counter({a: Decimal(b["free"]) + Decimal(b["locked"]) for a, b in history["balances"].items()})


def test_binance_conversions_move_the_balances_and_nothing_else(simulator, binance, new_account, new_key):
    account = new_account()
    before = simulator.history(account)
    made = simulator.add_conversions(account, count=3) + simulator.add_conversions(account, kind="dust")
    after = simulator.history(account)

    assert after["conversions"] == made and [c["kind"] for c in made] == ["convert"] * 3 + ["dust"]
    assert all(c["to_currency"] == "BNB" for c in made if c["kind"] == "dust")
    assert all(c["timestamp"] > max(t["timestamp"] for t in before["trades"]) for c in made)
    moved: Counter = Counter()
    for conversion in made:
        moved[conversion["from_currency"]] -= Decimal(conversion["from_amount"])
        moved[conversion["to_currency"]] += Decimal(conversion["to_amount"])
    expected = _totals(before)
    expected.update(moved)
    assert _totals(after) == +expected  # (+: assets converted to nothing drop out)
    # Neither trades nor transfers: those lists are what they were; its balance is the new one.
    for stream in ("trades", "deposits", "withdrawals"):
        assert after[stream] == before[stream]
    balance = binance(new_key(account)).fetch_balance()
    totals = {asset: Decimal(str(total)) for asset, total in balance["total"].items()}
    assert {asset: total for asset, total in totals.items() if total} == _totals(after)


DAY_MS = 86_400_000


def test_convert_trade_history_lists_the_converts_as_ccxt_reads_them(
    simulator, binance, new_account, new_key
):
    """GET /sapi/v1/convert/tradeFlow through ccxt's fetch_convert_trade_history: the converts of
    the window, exact amounts, never the dust; its 30-day rule, moreData and UID weight 3000."""
    account = new_account()
    converts = simulator.add_conversions(account, count=3)
    simulator.add_conversions(account, kind="dust")
    exchange = binance(new_key(account))
    since = converts[0]["timestamp"] - 1000
    seq = simulator.last_seq()
    listed = exchange.fetch_convert_trade_history(since=since, params={"until": since + DAY_MS})

    assert [
        (c["id"], c["timestamp"], c["fromCurrency"], c["fromAmount"], c["toCurrency"], c["toAmount"])
        for c in listed
    ] == [
        (
            str(940_000_000_000_000_000 + int(c["id"])),
            c["timestamp"],
            c["from_currency"],
            c["from_amount"],
            c["to_currency"],
            c["to_amount"],
        )
        for c in converts
    ]
    assert {c["info"]["orderStatus"] for c in listed} == {"SUCCESS"}
    (request,) = simulator.requests_since(seq)["requests"]
    assert (request["path"], request["weight"]) == ("/binance/sapi/v1/convert/tradeFlow", 3000)
    truth = simulator.history(account)["ledger"]
    assert [(e["currency"], e["amount"]) for e in truth] == [
        leg
        for c in converts
        for leg in ((c["from_currency"], f"-{c['from_amount']}"), (c["to_currency"], c["to_amount"]))
    ]

    # Newest first, `limit` at a time, moreData while the window holds more.
    page = exchange.sapi_get_convert_tradeflow({"startTime": since, "endTime": since + DAY_MS, "limit": 2})
    assert [int(c["createTime"]) for c in page["list"]] == [c["timestamp"] for c in converts[:0:-1]]
    assert page["moreData"] is True
    rest = exchange.sapi_get_convert_tradeflow(
        {"startTime": since, "endTime": page["list"][-1]["createTime"], "limit": 2}
    )
    assert [int(c["createTime"]) for c in rest["list"]] == [
        converts[1]["timestamp"],
        converts[0]["timestamp"],
    ]
    assert rest["moreData"] is False
    # Both ends are required and at most 30 days apart (ccxt checks the span itself, so raw calls).
    for params in ({"startTime": since}, {"startTime": since, "endTime": since + 30 * DAY_MS + 1}):
        with pytest.raises(ccxt.BadRequest):
            exchange.sapi_get_convert_tradeflow(params)


def test_an_explicit_conversion_is_booked_exactly_or_refused(simulator, new_account):
    # A fixed id: its history (and so the asset picked) is the same in every run.
    account = new_account(account_id="conv-explicit")
    held = _totals(simulator.history(account))
    # Never BNB itself: dust is converted *to* BNB (the regression: a random history whose first
    # asset above 1 was BNB would ask for BNB -> BNB, which is refused).
    asset = next(a for a, amount in sorted(held.items()) if amount > 1 and a != "BNB")
    (made,) = simulator.add_conversions(
        account, from_asset=asset, from_amount="0.5", to_asset="BNB", to_amount="0.01", kind="dust"
    )
    assert (made["from_currency"], made["from_amount"], made["to_amount"]) == (asset, "0.5", "0.01")
    assert _totals(simulator.history(account))[asset] == held[asset] - Decimal("0.5")
    refusals = [
        ({"from_asset": asset, "from_amount": str(held[asset]), "to_asset": "BNB", "to_amount": "1"}, 400),
        ({"from_asset": asset, "from_amount": "1e-3", "to_asset": "BNB", "to_amount": "1"}, 400),
        ({"from_asset": asset, "from_amount": "0.1", "to_asset": asset, "to_amount": "1"}, 400),
        ({"count": 1, "kind": "airdrop"}, 400),
    ]
    for body, status in refusals:
        with pytest.raises(SimulatorError) as refused:
            simulator.add_conversions(account, **body)
        assert refused.value.status == status, body
    assert len(simulator.history(account)["conversions"]) == 1


@pytest.mark.parametrize("exchange", ["kraken", "okx", "coinbase"])
def test_exchanges_with_a_ledger_api_refuse_conversions(simulator, new_account, exchange):
    account = new_account(exchange)
    with pytest.raises(SimulatorError) as refused:
        simulator.add_conversions(account, count=1)
    assert refused.value.status == 409
    assert simulator.history(account)["conversions"] == []


def test_conversions_survive_a_restart(tmp_path):
    state = tmp_path / "sim.json"
    spec = {"seed": 3, "trades": 50, "symbols": 2, "deposits": 3, "withdrawals": 1, "days": 30}
    proc, sim = start_simulator("--size", "0.1", "--state-file", str(state))
    try:
        sim.create_account("converts", "binance", **spec)
        sim.add_conversions("converts", count=2)
        before = sim.history("converts")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    proc, sim = start_simulator("--size", "0.1", "--state-file", str(state))
    try:
        after = sim.history("converts")
        assert (after["conversions"], after["balances"]) == (before["conversions"], before["balances"])
    finally:
        proc.terminate()
        proc.wait(timeout=10)
