//! Property tests: random market data (book snapshots and diffs around a random-walk mid,
//! trades, candles) interleaved with random orders (every type, some invalid) and cancels.
//! After every step the account must stay consistent.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use papermemes_core::event::{Candle, MarketEvent};
use papermemes_core::exchange::{Exchange, ExchangeConfig, ExecEvent, Report};
use papermemes_core::order::{OcoRequest, Order, OrderRequest, OrderType, Side, TimeInForce};
use papermemes_core::Decimal;
use proptest::prelude::*;
use rust_decimal_macros::dec;

const TICK: Decimal = dec!(0.00001);
const INITIAL: Decimal = dec!(1000);

#[derive(Debug, Clone)]
enum Step {
    Snapshot {
        drift: i8,
        levels: Vec<(u8, u16)>,
    },
    Delta {
        drift: i8,
        bid: bool,
        level: u8,
        qty: u16,
    },
    Trade {
        offset: i8,
        qty: u16,
        seller: bool,
    },
    Candle {
        open: i8,
        up: u8,
        down: u8,
        close: i8,
    },
    Order {
        kind: u8,
        buy: bool,
        qty: u16,
        off: i8,
        stop_off: i8,
        bad: u8,
    },
    Cancel {
        pick: u8,
    },
    Advance {
        ms: u8,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => (-3i8..=3, prop::collection::vec((0u8..3, 1u16..60), 1..6))
            .prop_map(|(drift, levels)| Step::Snapshot { drift, levels }),
        3 => (-2i8..=2, any::<bool>(), 0u8..6, 0u16..60)
            .prop_map(|(drift, bid, level, qty)| Step::Delta { drift, bid, level, qty }),
        3 => (-6i8..=6, 1u16..400, any::<bool>())
            .prop_map(|(offset, qty, seller)| Step::Trade { offset, qty, seller }),
        1 => (-5i8..=5, 0u8..15, 0u8..15, -8i8..=8)
            .prop_map(|(open, up, down, close)| Step::Candle { open, up, down, close }),
        4 => (0u8..11, any::<bool>(), 1u16..6000, -20i8..=20, -20i8..=20, 0u8..20)
            .prop_map(|(kind, buy, qty, off, stop_off, bad)| Step::Order { kind, buy, qty, off, stop_off, bad }),
        1 => any::<u8>().prop_map(|pick| Step::Cancel { pick }),
        1 => any::<u8>().prop_map(|ms| Step::Advance { ms }),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    latency: i64,
    candles_only: bool,
    maker_bps: u8,
    taker_bps: u8,
    slippage_bps: u8,
    steps: Vec<Step>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![Just(0i64), Just(50)],
        prop::bool::weighted(0.25),
        0u8..12,
        0u8..12,
        0u8..20,
        prop::collection::vec(step(), 1..120),
    )
        .prop_map(
            |(latency, candles_only, maker_bps, taker_bps, slippage_bps, steps)| Case {
                latency,
                candles_only,
                maker_bps,
                taker_bps,
                slippage_bps,
                steps,
            },
        )
}

fn px(ticks: i64) -> Decimal {
    Decimal::from(ticks) * TICK
}

/// Plays a case, checking the invariants after every step. Returns every event, serialized.
struct Run {
    ex: Exchange,
    mid: i64,
    t: i64,
    events: Vec<ExecEvent>,
    accepted: BTreeMap<u64, Order>,
    finished: BTreeSet<u64>,
    quote: Decimal,
    base: Decimal,
    /// Check the invariants after every step (off for a run that reports fills only).
    checking: bool,
}

impl Run {
    fn new(c: &Case) -> Self {
        let cfg = ExchangeConfig {
            maker_fee_bps: Decimal::from(c.maker_bps),
            taker_fee_bps: Decimal::from(c.taker_bps),
            latency_ms: c.latency,
            slippage_bps: Decimal::from(c.slippage_bps),
        };
        let mut ex = Exchange::new(instruments(), cfg, "USDT");
        let mut events = ex.deposit("USDT", INITIAL, 0);
        let mut run = Run {
            ex,
            mid: 10_000,
            t: 1_000,
            events: Vec::new(),
            accepted: BTreeMap::new(),
            finished: BTreeSet::new(),
            quote: INITIAL,
            base: Decimal::ZERO,
            checking: true,
        };
        // Start with a market so orders have prices to refer to.
        let first = if c.candles_only {
            run.candle_event(0, 5, 5, 0)
        } else {
            snapshot(
                DOGE,
                run.t,
                &[(px(9_999), dec!(2000)), (px(9_998), dec!(3000))],
                &[(px(10_001), dec!(2000)), (px(10_002), dec!(3000))],
            )
        };
        let out = run.ex.on_event(&first);
        events.extend(out);
        run.events = events;
        run
    }

    fn candle_event(&mut self, open: i8, up: u8, down: u8, close: i8) -> MarketEvent {
        let o = (self.mid + i64::from(open)).max(100);
        let c = (self.mid + i64::from(close)).max(100);
        let h = o.max(c) + i64::from(up);
        let l = (o.min(c) - i64::from(down)).max(50);
        self.mid = c;
        let bar = Candle {
            open_time_ms: self.t,
            interval_ms: 1_000,
            open: px(o),
            high: px(h),
            low: px(l),
            close: px(c),
            volume: dec!(1000000),
        };
        self.t += 1_000;
        candle_event(DOGE, bar)
    }

    fn market_event(&mut self, c: &Case, s: &Step) -> Option<MarketEvent> {
        if c.candles_only {
            return match s {
                Step::Candle {
                    open,
                    up,
                    down,
                    close,
                } => Some(self.candle_event(*open, *up, *down, *close)),
                Step::Trade { offset, qty, .. } => {
                    Some(self.candle_event(0, (*qty % 7) as u8, (*qty % 5) as u8, *offset))
                }
                Step::Snapshot { drift, .. } | Step::Delta { drift, .. } => {
                    Some(self.candle_event(*drift, 3, 3, *drift))
                }
                _ => None,
            };
        }
        self.t += 10;
        let t = self.t;
        Some(match s {
            Step::Snapshot { drift, levels } => {
                self.mid = (self.mid + i64::from(*drift)).max(1_000);
                let mut bids = Vec::new();
                let mut asks = Vec::new();
                let (mut b, mut a) = (self.mid - 1, self.mid + 1);
                for (gap, size) in levels {
                    bids.push((px(b), Decimal::from(*size) * dec!(100)));
                    asks.push((px(a), Decimal::from(*size) * dec!(90)));
                    b -= 1 + i64::from(*gap);
                    a += 1 + i64::from(*gap);
                }
                snapshot(DOGE, t, &bids, &asks)
            }
            Step::Delta {
                drift,
                bid,
                level,
                qty,
            } => {
                self.mid = (self.mid + i64::from(*drift)).max(1_000);
                let q = if qty % 5 == 0 {
                    Decimal::ZERO
                } else {
                    Decimal::from(*qty) * dec!(50)
                };
                let off = 1 + i64::from(*level);
                // Drifting diffs may cross the other side: resting orders then fill as makers.
                if *bid {
                    delta(DOGE, t, &[(px(self.mid - off + i64::from(*drift)), q)], &[])
                } else {
                    delta(DOGE, t, &[], &[(px(self.mid + off + i64::from(*drift)), q)])
                }
            }
            Step::Trade {
                offset,
                qty,
                seller,
            } => trade(
                DOGE,
                t,
                px(self.mid + i64::from(*offset)),
                Decimal::from(*qty) * dec!(10),
                *seller,
            ),
            Step::Candle {
                open,
                up,
                down,
                close,
            } => {
                // A candle in a book market only updates the last close.
                let bar = Candle {
                    open_time_ms: t - 1_000,
                    interval_ms: 1_000,
                    open: px(self.mid + i64::from(*open)),
                    high: px(self.mid + i64::from(*open).max(i64::from(*close)) + i64::from(*up)),
                    low: px(self.mid + i64::from(*open).min(i64::from(*close)) - i64::from(*down)),
                    close: px(self.mid + i64::from(*close)),
                    volume: dec!(1),
                };
                candle_event(DOGE, bar)
            }
            _ => return None,
        })
    }

    fn order_request(
        &self,
        kind: u8,
        buy: bool,
        qty: u16,
        off: i8,
        stop_off: i8,
        bad: u8,
    ) -> Result<OrderRequest, OcoRequest> {
        let side = if buy { Side::Buy } else { Side::Sell };
        let mut q = Decimal::from(qty);
        let mut price = px(self.mid + i64::from(off));
        let stop = px(self.mid + i64::from(stop_off));
        match bad {
            0 => price += dec!(0.000001),
            1 => q += dec!(0.5),
            2 => q = dec!(3),
            _ => {}
        }
        let ty = match kind {
            0 | 1 => OrderType::Market,
            2..=4 => OrderType::Limit,
            5 => OrderType::LimitMaker,
            6 => OrderType::StopLoss,
            7 => OrderType::StopLossLimit,
            8 => OrderType::TakeProfit,
            9 => OrderType::TakeProfitLimit,
            _ => {
                let (p, s) = if buy {
                    (price.min(stop), price.max(stop))
                } else {
                    (price.max(stop), price.min(stop))
                };
                return Err(OcoRequest {
                    symbol: DOGE.into(),
                    side,
                    quantity: q,
                    price: p,
                    stop_price: s,
                    stop_limit_price: qty.is_multiple_of(2).then_some(s),
                });
            }
        };
        let mut r = OrderRequest::new(
            DOGE,
            side,
            ty,
            Some(q),
            ty.has_price().then_some(price),
            ty.has_stop().then_some(stop),
        );
        if kind == 1 {
            r.quantity = None;
            r.quote_quantity = Some(Decimal::from(qty) / dec!(10));
        }
        r.time_in_force = match (ty, kind) {
            (OrderType::Limit, 3) => Some(TimeInForce::Ioc),
            (OrderType::Limit, 4) => Some(TimeInForce::Fok),
            (OrderType::Limit | OrderType::StopLossLimit | OrderType::TakeProfitLimit, _) => {
                Some(TimeInForce::Gtc)
            }
            _ => None,
        };
        Ok(r)
    }

    fn play(&mut self, c: &Case, s: &Step) -> Result<(), TestCaseError> {
        let book_before = self.ex.book(DOGE).cloned();
        let out = match s {
            Step::Order {
                kind,
                buy,
                qty,
                off,
                stop_off,
                bad,
            } => {
                let before = state(&self.ex);
                let res = match self.order_request(*kind, *buy, *qty, *off, *stop_off, *bad) {
                    Ok(r) if self.ex.report() == Report::Fills => {
                        let mut out = Vec::new();
                        self.ex.submit_into(r, self.t, &mut out).map(|_| out)
                    }
                    Ok(r) => self.ex.submit(r, self.t).map(|(_, e)| e),
                    Err(oco) => self.ex.submit_oco(oco, self.t).map(|(_, e)| e),
                };
                match res {
                    Ok(e) => e,
                    Err(_) => {
                        prop_assert_eq!(state(&self.ex), before, "a refusal changed the account");
                        Vec::new()
                    }
                }
            }
            Step::Cancel { pick } => {
                let ids: Vec<u64> = self.ex.open_orders().map(|o| o.id).collect();
                if ids.is_empty() {
                    let before = state(&self.ex);
                    prop_assert!(self.ex.cancel(12345, self.t).is_err());
                    prop_assert_eq!(state(&self.ex), before);
                    Vec::new()
                } else {
                    let id = ids[usize::from(*pick) % ids.len()];
                    let e = self
                        .ex
                        .cancel(id, self.t)
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert!(self.ex.order(id).is_none());
                    e
                }
            }
            Step::Advance { ms } => {
                self.t += i64::from(*ms);
                self.ex.advance_to(self.t)
            }
            _ => match self.market_event(c, s) {
                Some(e) => self.ex.on_event(&e),
                None => Vec::new(),
            },
        };
        if self.checking {
            self.check(&out, book_before.as_ref())?;
        }
        self.events.extend(out);
        Ok(())
    }

    fn check(
        &mut self,
        out: &[ExecEvent],
        book: Option<&papermemes_core::book::OrderBook>,
    ) -> Result<(), TestCaseError> {
        let inst = self.ex.instruments().get(DOGE).expect("doge").clone();
        for e in out {
            match e {
                ExecEvent::OrderNew(o) => {
                    // (4) every accepted order passed the filters.
                    if let Some(p) = o.price {
                        prop_assert!(inst.check_price(p).is_ok(), "accepted price {}", p);
                    }
                    if let Some(s) = o.stop_price {
                        prop_assert!(inst.check_price(s).is_ok(), "accepted stop {}", s);
                    }
                    if let Some(q) = o.quantity {
                        prop_assert!(
                            inst.check_quantity(q, o.order_type.is_market_like())
                                .is_ok(),
                            "accepted qty {}",
                            q
                        );
                        if let Some(p) = o.price.or(o.stop_price) {
                            prop_assert!(p * q >= dec!(5), "accepted notional {}", p * q);
                        }
                    }
                    if let Some(qq) = o.quote_quantity {
                        prop_assert!(qq >= dec!(5));
                    }
                    prop_assert!(
                        !self.accepted.contains_key(&o.id),
                        "order id {} reused",
                        o.id
                    );
                    self.accepted.insert(o.id, o.clone());
                }
                ExecEvent::OrderUpdate(u) => {
                    prop_assert!(
                        !self.finished.contains(&u.order_id),
                        "update after the end of {}",
                        u.order_id
                    );
                    if u.status.is_terminal() {
                        self.finished.insert(u.order_id);
                    }
                }
                ExecEvent::Fill(f) => {
                    // (5) a finished (cancelled, expired, …) order never fills.
                    prop_assert!(
                        !self.finished.contains(&f.order_id),
                        "fill after the end of {}",
                        f.order_id
                    );
                    let o = self
                        .accepted
                        .get(&f.order_id)
                        .ok_or_else(|| TestCaseError::fail("fill of an unknown order"))?;
                    prop_assert!(f.quantity > Decimal::ZERO);
                    prop_assert_eq!(f.quote_quantity, f.price * f.quantity);
                    prop_assert_eq!(f.fee_asset.as_str(), "USDT");
                    let rate = if f.is_maker {
                        self.ex.config().maker_fee_bps
                    } else {
                        self.ex.config().taker_fee_bps
                    };
                    prop_assert_eq!(f.fee, f.quote_quantity * rate / dec!(10000));
                    // (3) no fill better than offered.
                    if f.is_maker {
                        prop_assert_eq!(
                            Some(f.price),
                            o.working_limit(),
                            "maker fill off the limit"
                        );
                    } else {
                        if let Some(l) = o.working_limit() {
                            match f.side {
                                Side::Buy => {
                                    prop_assert!(f.price <= l, "buy {} above limit {}", f.price, l)
                                }
                                Side::Sell => {
                                    prop_assert!(f.price >= l, "sell {} below limit {}", f.price, l)
                                }
                            }
                        }
                        if let Some(b) = book.filter(|b| !b.is_empty()) {
                            match f.side {
                                Side::Buy => {
                                    let ask = b.best_ask().map(|a| a.0);
                                    prop_assert!(
                                        ask.is_some_and(|a| f.price >= a),
                                        "buy at {} better than ask {:?}",
                                        f.price,
                                        ask
                                    )
                                }
                                Side::Sell => {
                                    let bid = b.best_bid().map(|a| a.0);
                                    prop_assert!(
                                        bid.is_some_and(|b| f.price <= b),
                                        "sell at {} better than bid {:?}",
                                        f.price,
                                        bid
                                    )
                                }
                            }
                        }
                    }
                    match f.side {
                        Side::Buy => {
                            self.quote -= f.quote_quantity + f.fee;
                            self.base += f.quantity;
                        }
                        Side::Sell => {
                            self.quote += f.quote_quantity - f.fee;
                            self.base -= f.quantity;
                        }
                    }
                }
                ExecEvent::Balance(_) => {}
            }
        }
        let p = self.ex.portfolio();
        // (1) nothing negative.
        for (asset, b) in &p.balances {
            prop_assert!(
                b.free >= Decimal::ZERO && b.locked >= Decimal::ZERO,
                "{} went negative: {:?}",
                asset,
                b
            );
        }
        // (2) value conservation, exact.
        prop_assert_eq!(p.balance("USDT").total(), self.quote, "USDT not conserved");
        prop_assert_eq!(p.balance("DOGE").total(), self.base, "DOGE not conserved");
        // (6) locked balances are exactly what open orders hold.
        let mut held: BTreeMap<String, Decimal> = BTreeMap::new();
        for o in self.ex.open_orders() {
            prop_assert!(o.locked >= Decimal::ZERO);
            *held.entry(o.locked_asset.clone()).or_default() += o.locked;
            prop_assert!(
                !self.finished.contains(&o.id),
                "finished order {} still open",
                o.id
            );
            if let Some(r) = o.remaining() {
                prop_assert!(r > Decimal::ZERO, "open order {} with nothing left", o.id);
            }
        }
        for asset in ["USDT", "DOGE"] {
            prop_assert_eq!(
                p.balance(asset).locked,
                held.get(asset).copied().unwrap_or_default(),
                "{} locked",
                asset
            );
        }
        Ok(())
    }
}

fn run(c: &Case) -> Result<String, TestCaseError> {
    let mut r = Run::new(c);
    for s in &c.steps {
        r.play(c, s)?;
    }
    serde_json::to_string(&r.events).map_err(|e| TestCaseError::fail(e.to_string()))
}

/// The fills, balances, positions, open orders and id counters after playing `c` with the
/// exchange reporting `report`, serialized.
fn outcome(c: &Case, report: Report) -> Result<String, TestCaseError> {
    let mut r = Run::new(c);
    r.ex.set_report(report);
    r.checking = false;
    for s in &c.steps {
        r.play(c, s)?;
    }
    let fills: Vec<&ExecEvent> = r
        .events
        .iter()
        .filter(|e| matches!(e, ExecEvent::Fill(_)))
        .collect();
    let open: Vec<&Order> = r.ex.open_orders().collect();
    serde_json::to_string(&(fills, r.ex.portfolio(), open, r.ex.next_ids()))
        .map_err(|e| TestCaseError::fail(e.to_string()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn exchange_invariants_hold(c in case()) {
        let first = run(&c)?;
        // (7) determinism: the same inputs give byte-identical output.
        let second = run(&c)?;
        prop_assert_eq!(first, second);
    }

    /// (8) Reporting fills only (what a backtest asks for) changes what is reported, never what
    /// happens: the same fills, balances, positions and open orders, to the digit.
    #[test]
    fn reporting_fills_only_changes_nothing_else(c in case()) {
        let all = outcome(&c, Report::All)?;
        let fills = outcome(&c, Report::Fills)?;
        prop_assert_eq!(all, fills);
    }
}
