"""Deterministic weekly numbers for a trading newsletter, from typed data rows: jinja filters for
briefs that say `filters: [trading]`. Pure.

Formulas (documented because readers check them):
- round trips: closed trades; win rate: winners (pnl > 0) / round trips, in percent;
- realized PnL: sum of pnl; reward:risk: average winner / |average loser|;
- net return: last equity / first equity - 1, in percent (equity rows sorted by time);
- max drawdown: the largest fall from a running equity peak, in percent of that peak."""

from __future__ import annotations

from collections import defaultdict


def trade_stats(trades: list[dict]) -> dict:
    pnls = [float(t["pnl"]) for t in trades]
    winners, losers = [p for p in pnls if p > 0], [p for p in pnls if p < 0]
    average_loss = abs(sum(losers) / len(losers)) if losers else 0.0
    return {
        "round_trips": len(pnls),
        "wins": len(winners),
        "losses": len(losers),
        "win_rate_pct": round(100 * len(winners) / len(pnls), 1) if pnls else 0.0,
        "realized_pnl": round(sum(pnls), 2),
        "reward_risk": round((sum(winners) / len(winners)) / average_loss, 2) if winners and average_loss else None,
    }


def equity_stats(equity: list[dict], value_key: str = "equity", time_key: str = "at") -> dict:
    values = [float(row[value_key]) for row in sorted(equity, key=lambda r: r[time_key])]
    if len(values) < 2 or values[0] == 0:
        return {"net_return_pct": None, "max_drawdown_pct": None}
    peak, drawdown = values[0], 0.0
    for value in values:
        peak = max(peak, value)
        drawdown = max(drawdown, (peak - value) / peak if peak else 0.0)
    return {"net_return_pct": round(100 * (values[-1] / values[0] - 1), 2), "max_drawdown_pct": round(100 * drawdown, 2)}


def failure_clusters(trades: list[dict], cause_key: str = "cause", pair_key: str = "pair") -> list[dict]:
    """Losing trades grouped by cause, biggest cluster first; each with its pairs and totals."""
    groups = defaultdict(list)
    for trade in trades:
        if float(trade["pnl"]) < 0:
            groups[trade.get(cause_key) or "Unlabelled"].append(trade)
    clusters = [{
        "cause": cause, "count": len(rows), "total_pnl": round(sum(float(r["pnl"]) for r in rows), 2),
        "avg_pnl": round(sum(float(r["pnl"]) for r in rows) / len(rows), 2),
        "pairs": sorted({r[pair_key] for r in rows}),
    } for cause, rows in groups.items()]
    return sorted(clusters, key=lambda c: (-c["count"], c["cause"]))


def worst_pair(trades: list[dict], pair_key: str = "pair", cause_key: str = "cause") -> dict | None:
    """The pair and cause with the most losing trades (the reference issue's highlighted line)."""
    groups = defaultdict(list)
    for trade in trades:
        if float(trade["pnl"]) < 0:
            groups[(trade[pair_key], trade.get(cause_key) or "Unlabelled")].append(float(trade["pnl"]))
    if not groups:
        return None
    (pair, cause), pnls = max(groups.items(), key=lambda kv: (len(kv[1]), -sum(kv[1])))
    return {"pair": pair, "cause": cause, "count": len(pnls), "total_pnl": round(sum(pnls), 2),
            "avg_pnl": round(sum(pnls) / len(pnls), 2)}


FILTERS = {"trade_stats": trade_stats, "equity_stats": equity_stats, "failure_clusters": failure_clusters,
           "worst_pair": worst_pair}
