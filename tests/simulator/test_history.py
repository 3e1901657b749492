"""History invariants for every exchange: balances are the ledger's sums and never negative,
pending deposits are not credited, transfers change status later and balances follow."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from exchange_sync.sim_client import SimulatorError
from exchange_sync.simulator import ledger
from exchange_sync.simulator.state import World
from tests.simulator.conftest import (
    EXCHANGES,
    NET_LEDGERS,
    expected_balances,
    ledger_balances,
    net_balances,
    truth_balances,
)

DAY = 86_400_000
ANCHOR = 1_780_000_000_000


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(seed=7, size=1.0, anchor_ms=ANCHOR)


def test_every_default_account_keeps_its_ledger_and_balances_equal(world):
    for account in world.accounts.values():
        entries = ledger.ledger(account)
        totals = {asset: total for asset, total in ledger.sums(entries).items() if total}
        assert totals == {asset: total for asset, total in account.balances.items() if total}, account.id
        assert all(entry.balance >= 0 for entry in entries), account.id
        ticks = [entry.tick for entry in entries]
        assert ticks == sorted(ticks), "the ledger is in time order"


# The ledger's native type of a staking reward (Binance has no ledger stream).
REWARD_TYPES = {"kraken": "staking", "coinbase": "staking_reward"}
DEFAULT_ACCOUNTS = {"binance": "alice", "kraken": "dave", "okx": "frank", "coinbase": "erin"}


def test_history_balances_are_exact_and_never_negative(simulator, exchange, new_account):
    history = simulator.history(new_account(exchange, trades=500, deposits=30, withdrawals=20))
    assert expected_balances(history, exchange) == truth_balances(history)
    assert all("e" not in b["free"].lower() for b in history["balances"].values())
    if history["ledger"]:
        # Trades and transfers explain every ledger entry but the rewards.
        rewards = {}
        for entry in history["ledger"]:
            if entry["type"] == REWARD_TYPES.get(exchange):
                rewards[entry["currency"]] = rewards.get(entry["currency"], Decimal(0)) + Decimal(
                    entry["amount"]
                )
        replayed = net_balances(history)
        for asset, amount in rewards.items():
            replayed[asset] = replayed.get(asset, Decimal(0)) + amount
        ledgered = ledger_balances(history, net=exchange in NET_LEDGERS)
        assert {a: v for a, v in replayed.items() if v} == ledgered


def test_generated_transfers_have_realistic_statuses(simulator, exchange):
    history = simulator.history(DEFAULT_ACCOUNTS[exchange])
    now = time.time() * 1000
    for kind in ("deposits", "withdrawals"):
        history[kind] += history["unlisted"][kind]  # the world's transfers, shown or not
    deposits = {d["status"] for d in history["deposits"]}
    assert deposits == {"ok", "pending"}, deposits
    withdrawals = [w["status"] for w in history["withdrawals"]]
    assert "pending" in withdrawals and "failed" in withdrawals
    assert "canceled" in withdrawals or exchange == "kraken", "Kraken shows a canceled withdrawal as Failure"
    for transfers in (history["deposits"], history["withdrawals"]):
        assert any(t["status"] == "pending" and now - t["timestamp"] >= 8 * DAY for t in transfers)


def test_pending_deposits_are_not_credited_until_they_are(simulator, exchange, new_account):
    # A fixed id: whether a deposit is still pending depends on the generator's draw.
    account_id = new_account(
        exchange, account_id=f"pending-{exchange}", trades=50, deposits=12, withdrawals=10, days=60
    )
    before = simulator.history(account_id)
    pending = [d for d in before["deposits"] + before["unlisted"]["deposits"] if d["status"] == "pending"]
    assert pending, "an account with >= 10 deposits has a long-pending one"
    deposit = pending[0]
    assert expected_balances(before, exchange) == truth_balances(before)
    settled = simulator.settle_transfer(account_id, deposit["id"], "ok")
    assert (settled["id"], settled["status"]) == (deposit["id"], "ok")
    after = simulator.history(account_id)
    asset, amount = deposit["currency"], Decimal(deposit["amount"])
    assert truth_balances(after)[asset] == truth_balances(before).get(asset, Decimal(0)) + amount
    assert expected_balances(after, exchange) == truth_balances(after)
    assert [d["status"] for d in after["deposits"] if d["id"] == deposit["id"]] == ["ok"]
    credit = after["ledger"][-1] if after["ledger"] else None
    if exchange == "coinbase":
        # ccxt's Coinbase ledger entry is the deposit's own transaction: no refid, native type
        assert credit is not None and credit["type"] in ("send", "fiat_deposit")
        assert (credit["id"], credit["refid"], credit["amount"]) == (deposit["id"], None, deposit["amount"])
    elif credit is not None:
        # OKX books a deposit as a transfer in (bill type 1) that names no order.
        kind, refid = {"okx": ("1", None)}.get(exchange, ("deposit", deposit["id"]))
        assert (credit["type"], credit["refid"], credit["amount"]) == (kind, refid, deposit["amount"])
    with pytest.raises(SimulatorError) as again:
        simulator.settle_transfer(account_id, deposit["id"], "ok")
    assert again.value.status == 409


@pytest.mark.parametrize("outcome", ["failed", "canceled"])
def test_a_failed_or_canceled_withdrawal_is_refunded(simulator, exchange, new_account, outcome):
    account_id = new_account(exchange, trades=60, deposits=5, withdrawals=2, days=60)
    made = simulator.add_activity(account_id, pending_withdrawals=1)["withdrawals"][0]
    assert made["status"] == "pending"
    before = simulator.history(account_id)
    asset = made["currency"]
    settled = simulator.settle_transfer(account_id, made["id"], outcome)
    after = simulator.history(account_id)
    refund = Decimal(made["amount"]) + Decimal(made["fee"])
    assert truth_balances(after)[asset] == truth_balances(before)[asset] + refund
    assert expected_balances(after, exchange) == truth_balances(after)
    words = {
        "binance": {"failed": "failed", "canceled": "canceled"},
        "kraken": {"failed": "failed", "canceled": "failed"},
        "okx": {"failed": "failed", "canceled": "canceled"},
        "coinbase": {"failed": "failed", "canceled": "canceled"},
    }
    assert settled["status"] == words[exchange][outcome]
    if after["ledger"] and exchange == "okx":
        # A transfer out of amount + fee, then back in (bill type 1), naming no order.
        out = next(e for e in reversed(before["ledger"]) if e["currency"] == asset and e["type"] == "1")
        back = after["ledger"][-1]
        assert (out["refid"], Decimal(out["amount"])) == (None, -refund)
        assert (back["type"], back["refid"], back["currency"], Decimal(back["amount"])) == (
            "1",
            None,
            asset,
            refund,
        )
    elif exchange == "coinbase":
        # The debit is the send's own transaction; the refund a later "tx" transaction of its own.
        (debit,) = [e for e in after["ledger"] if e["id"] == made["id"]]
        assert debit["type"] in ("send", "fiat_withdrawal")
        assert Decimal(debit["amount"]) - Decimal(debit["fee"] or 0) == -refund
        assert (after["ledger"][-1]["type"], Decimal(after["ledger"][-1]["amount"])) == ("tx", refund)
    elif after["ledger"]:
        entries = [e for e in after["ledger"] if e["refid"] == made["id"]]
        assert [(e["type"], Decimal(e["amount"])) for e in entries] == [
            ("withdrawal", -Decimal(made["amount"])),
            ("withdrawal", refund),
        ]


def test_pending_activity_and_ok_settlements(simulator, exchange, new_account):
    account_id = new_account(exchange, trades=40, deposits=4, withdrawals=2, days=30)
    made = simulator.add_activity(account_id, pending_deposits=2, pending_withdrawals=1, deposits=1)
    assert [d["status"] for d in made["deposits"]] == ["ok", "pending", "pending"]
    assert [w["status"] for w in made["withdrawals"]] == ["pending"]
    history = simulator.history(account_id)
    assert expected_balances(history, exchange) == truth_balances(history)
    withdrawal = made["withdrawals"][0]
    before = truth_balances(history)
    assert simulator.settle_transfer(account_id, withdrawal["id"], "ok")["status"] == "ok"
    assert truth_balances(simulator.history(account_id)) == before, "a withdrawal was debited when made"


def test_settle_validation(simulator, exchange, new_account):
    account_id = new_account(exchange, trades=10, deposits=2, withdrawals=0, days=30)
    deposit = simulator.add_activity(account_id, pending_deposits=1)["deposits"][0]
    with pytest.raises(SimulatorError) as unknown:
        simulator.settle_transfer(account_id, "nope", "ok")
    assert unknown.value.status == 404
    with pytest.raises(SimulatorError) as bad:
        simulator.settle_transfer(account_id, deposit["id"], "lost")
    assert bad.value.status == 400 and '"field":"status"' in str(bad.value)
    settles = simulator.exchanges()[exchange]["settles"]["deposit"]
    assert "canceled" not in settles, "deposits cannot be canceled on either exchange"
    with pytest.raises(SimulatorError) as refused:
        simulator.settle_transfer(account_id, deposit["id"], "canceled")
    assert refused.value.status == 400


def test_binance_trade_ids_are_per_symbol_counters(simulator, new_account):
    """Two symbols of one account share some trade ids, as on Binance (ids count per symbol)."""
    for account_id in ("alice", new_account(trades=40, symbols=2, deposits=3, withdrawals=0, days=30)):
        trades = simulator.history(account_id)["trades"]
        symbols_per_id: dict[str, set[str]] = {}
        for trade in trades:
            symbols_per_id.setdefault(trade["id"], set()).add(trade["market_id"])
        if len({t["market_id"] for t in trades}) >= 2:  # (rarely one market never gets funds)
            assert any(len(symbols) > 1 for symbols in symbols_per_id.values()), account_id
        assert len({(t["market_id"], t["id"]) for t in trades}) == len(trades), "unique per symbol"


@pytest.mark.parametrize("exchange_name", EXCHANGES)
def test_amounts_are_canonical_strings(simulator, exchange_name):
    history = simulator.history(
        {"binance": "bob", "kraken": "dave", "okx": "frank", "coinbase": "erin"}[exchange_name]
    )
    amounts = [t[field] for t in history["trades"] for field in ("price", "amount", "cost", "fee")]
    amounts += [e[f] for e in history["ledger"] for f in ("amount", "fee", "balance") if e[f] is not None]
    amounts += [d["amount"] for d in history["deposits"] + history["withdrawals"]]
    for text in amounts:
        assert isinstance(text, str) and "e" not in text.lower()
        assert text == "0" or not (("." in text and text.endswith("0")) or text.endswith(".")), text
