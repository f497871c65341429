//! Instruments and the Binance spot filters that orders must pass where they enter.
//!
//! The instrument list is read from JSON in the shape of Binance's `GET /api/v3/exchangeInfo`
//! response, so the shipped dated snapshot and a live refresh use one parser. Unknown filters and
//! unknown fields are ignored (the exchange adds them over time); known filters are validated.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{InstrumentError, Reject};
use crate::num::{floor_to_step, is_on_step};
use crate::order::Side;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceFilter {
    pub min_price: Decimal,
    pub max_price: Decimal,
    pub tick_size: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LotSize {
    pub min_qty: Decimal,
    pub max_qty: Decimal,
    pub step_size: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotionalFilter {
    pub min_notional: Decimal,
    pub apply_min_to_market: bool,
    pub max_notional: Decimal,
    pub apply_max_to_market: bool,
    pub avg_price_mins: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PercentPriceBySide {
    pub bid_multiplier_up: Decimal,
    pub bid_multiplier_down: Decimal,
    pub ask_multiplier_up: Decimal,
    pub ask_multiplier_down: Decimal,
    pub avg_price_mins: u32,
}

/// A tradable pair with its filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instrument {
    pub symbol: String,
    pub base_asset: String,
    pub quote_asset: String,
    pub status: String,
    pub price_filter: Option<PriceFilter>,
    pub lot_size: Option<LotSize>,
    pub market_lot_size: Option<LotSize>,
    pub notional: Option<NotionalFilter>,
    pub percent_price_by_side: Option<PercentPriceBySide>,
    pub order_types: Vec<String>,
    pub oco_allowed: bool,
    pub quote_order_qty_market_allowed: bool,
    /// Filter fields that are estimates rather than read from the exchange (see the snapshot).
    pub estimated: Vec<String>,
}

impl Instrument {
    /// Price tick (0 when the instrument has no PRICE_FILTER).
    pub fn tick(&self) -> Decimal {
        self.price_filter
            .as_ref()
            .map_or(Decimal::ZERO, |f| f.tick_size)
    }

    /// Lot step (0 when the instrument has no LOT_SIZE).
    pub fn step(&self) -> Decimal {
        self.lot_size
            .as_ref()
            .map_or(Decimal::ZERO, |f| f.step_size)
    }

    /// The step for market orders: MARKET_LOT_SIZE's when it sets one, else LOT_SIZE's.
    pub fn market_step(&self) -> Decimal {
        match &self.market_lot_size {
            Some(m) if m.step_size > Decimal::ZERO => m.step_size,
            _ => self.step(),
        }
    }

    /// Round a quantity down to what a market order may carry.
    pub fn floor_market_qty(&self, qty: Decimal) -> Decimal {
        floor_to_step(qty, self.market_step())
    }

    /// PRICE_FILTER: `min <= price <= max` and `(price - min) % tick == 0` (zero parts disabled).
    pub fn check_price(&self, price: Decimal) -> Result<(), Reject> {
        if price <= Decimal::ZERO {
            return Err(Reject::InvalidParameter(format!(
                "price must be positive, got {price}"
            )));
        }
        let Some(f) = &self.price_filter else {
            return Ok(());
        };
        let ok_min = f.min_price.is_zero() || price >= f.min_price;
        let ok_max = f.max_price.is_zero() || price <= f.max_price;
        let ok_tick = is_on_step(price, f.min_price, f.tick_size);
        if ok_min && ok_max && ok_tick {
            Ok(())
        } else {
            Err(Reject::PriceFilter {
                price,
                min: f.min_price.normalize(),
                max: f.max_price.normalize(),
                tick: f.tick_size.normalize(),
            })
        }
    }

    /// LOT_SIZE (limit orders) or MARKET_LOT_SIZE then LOT_SIZE (market orders).
    pub fn check_quantity(&self, qty: Decimal, market: bool) -> Result<(), Reject> {
        if qty <= Decimal::ZERO {
            return Err(Reject::InvalidParameter(format!(
                "quantity must be positive, got {qty}"
            )));
        }
        let check = |f: &LotSize, name: &'static str| {
            let ok_min = qty >= f.min_qty;
            let ok_max = f.max_qty.is_zero() || qty <= f.max_qty;
            let ok_step = is_on_step(qty, f.min_qty, f.step_size);
            if ok_min && ok_max && ok_step {
                Ok(())
            } else {
                Err(Reject::LotSize {
                    filter: name,
                    quantity: qty,
                    min: f.min_qty.normalize(),
                    max: f.max_qty.normalize(),
                    step: f.step_size.normalize(),
                })
            }
        };
        if market {
            if let Some(m) = &self.market_lot_size {
                check(m, "MARKET_LOT_SIZE")?;
            }
        }
        match &self.lot_size {
            Some(l) => check(l, "LOT_SIZE"),
            None => Ok(()),
        }
    }

    /// NOTIONAL: `price * qty` within `[minNotional, maxNotional]`; for market orders only when
    /// `applyMinToMarket` / `applyMaxToMarket` say so (priced at the reference price).
    pub fn check_notional(&self, notional: Decimal, market: bool) -> Result<(), Reject> {
        let Some(f) = &self.notional else {
            return Ok(());
        };
        if (!market || f.apply_min_to_market) && notional < f.min_notional {
            return Err(Reject::MinNotional {
                notional,
                min: f.min_notional.normalize(),
            });
        }
        if (!market || f.apply_max_to_market)
            && !f.max_notional.is_zero()
            && notional > f.max_notional
        {
            return Err(Reject::MaxNotional {
                notional,
                max: f.max_notional.normalize(),
            });
        }
        Ok(())
    }

    /// PERCENT_PRICE_BY_SIDE against the reference (average) price. Skipped without a reference.
    pub fn check_percent_price(
        &self,
        side: Side,
        price: Decimal,
        reference: Option<Decimal>,
    ) -> Result<(), Reject> {
        let (Some(f), Some(avg)) = (&self.percent_price_by_side, reference) else {
            return Ok(());
        };
        let (up, down, name) = match side {
            Side::Buy => (f.bid_multiplier_up, f.bid_multiplier_down, "buy"),
            Side::Sell => (f.ask_multiplier_up, f.ask_multiplier_down, "sell"),
        };
        let (low, high) = (avg * down, avg * up);
        if price < low || price > high {
            return Err(Reject::PercentPriceBySide {
                side: name,
                price,
                low,
                high,
            });
        }
        Ok(())
    }

    pub fn supports(&self, order_type: &str) -> bool {
        self.order_types.is_empty() || self.order_types.iter().any(|t| t == order_type)
    }
}

/// Instruments by symbol (sorted, so iteration is deterministic).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Instruments {
    pub by_symbol: BTreeMap<String, Instrument>,
    /// When the snapshot was taken / where it came from, if known.
    pub as_of: Option<String>,
}

impl Instruments {
    pub fn get(&self, symbol: &str) -> Result<&Instrument, Reject> {
        self.by_symbol
            .get(symbol)
            .ok_or_else(|| Reject::UnknownSymbol(symbol.to_string()))
    }

    pub fn insert(&mut self, instrument: Instrument) {
        self.by_symbol.insert(instrument.symbol.clone(), instrument);
    }

    pub fn symbols(&self) -> impl Iterator<Item = &str> {
        self.by_symbol.keys().map(String::as_str)
    }

    /// Parse Binance's `exchangeInfo` JSON (or the shipped snapshot of the same shape).
    pub fn from_exchange_info_json(json: &str) -> Result<Self, InstrumentError> {
        let raw: wire::ExchangeInfo = serde_json::from_str(json)?;
        let mut out = Instruments {
            by_symbol: BTreeMap::new(),
            as_of: raw.x_papermemes.and_then(|x| x.as_of),
        };
        for s in raw.symbols {
            out.insert(s.into_instrument()?);
        }
        Ok(out)
    }
}

/// Binance's wire shapes. Private: the domain types above are what the app uses.
mod wire {
    use super::*;

    #[derive(Deserialize)]
    pub struct ExchangeInfo {
        pub symbols: Vec<Symbol>,
        #[serde(default)]
        pub x_papermemes: Option<Meta>,
    }

    #[derive(Deserialize)]
    pub struct Meta {
        pub as_of: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Symbol {
        pub symbol: String,
        pub status: String,
        pub base_asset: String,
        pub quote_asset: String,
        #[serde(default)]
        pub order_types: Vec<String>,
        #[serde(default)]
        pub oco_allowed: bool,
        #[serde(default)]
        pub quote_order_qty_market_allowed: bool,
        #[serde(default)]
        pub filters: Vec<serde_json::Value>,
        #[serde(default)]
        pub x_papermemes: Option<SymbolMeta>,
    }

    #[derive(Deserialize)]
    pub struct SymbolMeta {
        #[serde(default)]
        pub estimated: Vec<String>,
    }

    #[derive(Deserialize)]
    #[serde(tag = "filterType")]
    enum Filter {
        #[serde(rename = "PRICE_FILTER", rename_all = "camelCase")]
        Price {
            min_price: Decimal,
            max_price: Decimal,
            tick_size: Decimal,
        },
        #[serde(rename = "LOT_SIZE", rename_all = "camelCase")]
        Lot {
            min_qty: Decimal,
            max_qty: Decimal,
            step_size: Decimal,
        },
        #[serde(rename = "MARKET_LOT_SIZE", rename_all = "camelCase")]
        MarketLot {
            min_qty: Decimal,
            max_qty: Decimal,
            step_size: Decimal,
        },
        #[serde(rename = "NOTIONAL", rename_all = "camelCase")]
        Notional {
            min_notional: Decimal,
            #[serde(default)]
            apply_min_to_market: bool,
            #[serde(default)]
            max_notional: Decimal,
            #[serde(default)]
            apply_max_to_market: bool,
            #[serde(default)]
            avg_price_mins: u32,
        },
        /// Older symbols carry MIN_NOTIONAL instead of NOTIONAL.
        #[serde(rename = "MIN_NOTIONAL", rename_all = "camelCase")]
        MinNotional {
            min_notional: Decimal,
            #[serde(default)]
            apply_to_market: bool,
            #[serde(default)]
            avg_price_mins: u32,
        },
        #[serde(rename = "PERCENT_PRICE_BY_SIDE", rename_all = "camelCase")]
        PercentBySide {
            bid_multiplier_up: Decimal,
            bid_multiplier_down: Decimal,
            ask_multiplier_up: Decimal,
            ask_multiplier_down: Decimal,
            #[serde(default)]
            avg_price_mins: u32,
        },
    }

    const KNOWN: &[&str] = &[
        "PRICE_FILTER",
        "LOT_SIZE",
        "MARKET_LOT_SIZE",
        "NOTIONAL",
        "MIN_NOTIONAL",
        "PERCENT_PRICE_BY_SIDE",
    ];

    impl Symbol {
        pub fn into_instrument(self) -> Result<Instrument, InstrumentError> {
            let invalid = |message: String| InstrumentError::Invalid {
                symbol: self.symbol.clone(),
                message,
            };
            if self.symbol.is_empty() || self.base_asset.is_empty() || self.quote_asset.is_empty() {
                return Err(invalid(
                    "symbol, baseAsset and quoteAsset must be non-empty".into(),
                ));
            }
            let mut inst = Instrument {
                symbol: self.symbol.clone(),
                base_asset: self.base_asset.clone(),
                quote_asset: self.quote_asset.clone(),
                status: self.status.clone(),
                price_filter: None,
                lot_size: None,
                market_lot_size: None,
                notional: None,
                percent_price_by_side: None,
                order_types: self.order_types.clone(),
                oco_allowed: self.oco_allowed,
                quote_order_qty_market_allowed: self.quote_order_qty_market_allowed,
                estimated: self
                    .x_papermemes
                    .as_ref()
                    .map(|m| m.estimated.clone())
                    .unwrap_or_default(),
            };
            for value in &self.filters {
                let kind = value
                    .get("filterType")
                    .and_then(|v| v.as_str())
                    .unwrap_or("");
                if !KNOWN.contains(&kind) {
                    continue; // filters we do not model (ICEBERG_PARTS, MAX_NUM_ORDERS, …)
                }
                let f: Filter = serde_json::from_value(value.clone())
                    .map_err(|e| invalid(format!("filter {kind}: {e}")))?;
                match f {
                    Filter::Price {
                        min_price,
                        max_price,
                        tick_size,
                    } => {
                        if tick_size < Decimal::ZERO || min_price < Decimal::ZERO {
                            return Err(invalid("PRICE_FILTER values must not be negative".into()));
                        }
                        inst.price_filter = Some(PriceFilter {
                            min_price,
                            max_price,
                            tick_size,
                        });
                    }
                    Filter::Lot {
                        min_qty,
                        max_qty,
                        step_size,
                    } => {
                        if step_size < Decimal::ZERO || min_qty < Decimal::ZERO {
                            return Err(invalid("LOT_SIZE values must not be negative".into()));
                        }
                        inst.lot_size = Some(LotSize {
                            min_qty,
                            max_qty,
                            step_size,
                        });
                    }
                    Filter::MarketLot {
                        min_qty,
                        max_qty,
                        step_size,
                    } => {
                        inst.market_lot_size = Some(LotSize {
                            min_qty,
                            max_qty,
                            step_size,
                        });
                    }
                    Filter::Notional {
                        min_notional,
                        apply_min_to_market,
                        max_notional,
                        apply_max_to_market,
                        avg_price_mins,
                    } => {
                        inst.notional = Some(NotionalFilter {
                            min_notional,
                            apply_min_to_market,
                            max_notional,
                            apply_max_to_market,
                            avg_price_mins,
                        })
                    }
                    Filter::MinNotional {
                        min_notional,
                        apply_to_market,
                        avg_price_mins,
                    } => {
                        if inst.notional.is_none() {
                            inst.notional = Some(NotionalFilter {
                                min_notional,
                                apply_min_to_market: apply_to_market,
                                max_notional: Decimal::ZERO,
                                apply_max_to_market: false,
                                avg_price_mins,
                            })
                        }
                    }
                    Filter::PercentBySide {
                        bid_multiplier_up,
                        bid_multiplier_down,
                        ask_multiplier_up,
                        ask_multiplier_down,
                        avg_price_mins,
                    } => {
                        inst.percent_price_by_side = Some(PercentPriceBySide {
                            bid_multiplier_up,
                            bid_multiplier_down,
                            ask_multiplier_up,
                            ask_multiplier_down,
                            avg_price_mins,
                        })
                    }
                }
            }
            Ok(inst)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const DOGE: &str = r#"{"timezone":"UTC","serverTime":1,"rateLimits":[],"symbols":[{"symbol":"DOGEUSDT","status":"TRADING","baseAsset":"DOGE","quoteAsset":"USDT","orderTypes":["LIMIT","LIMIT_MAKER","MARKET","STOP_LOSS_LIMIT","TAKE_PROFIT_LIMIT"],"ocoAllowed":true,"someNewField":42,
      "filters":[{"filterType":"PRICE_FILTER","minPrice":"0.00001000","maxPrice":"1000.00000000","tickSize":"0.00001000"},
                 {"filterType":"LOT_SIZE","minQty":"1.00000000","maxQty":"9000000000.00000000","stepSize":"1.00000000"},
                 {"filterType":"ICEBERG_PARTS","limit":10},
                 {"filterType":"MARKET_LOT_SIZE","minQty":"0.00000000","maxQty":"5000000.00000000","stepSize":"0.00000000"},
                 {"filterType":"NOTIONAL","minNotional":"5.00000000","applyMinToMarket":true,"maxNotional":"9000000.00000000","applyMaxToMarket":false,"avgPriceMins":5},
                 {"filterType":"PERCENT_PRICE_BY_SIDE","bidMultiplierUp":"5","bidMultiplierDown":"0.2","askMultiplierUp":"5","askMultiplierDown":"0.2","avgPriceMins":5}]}]}"#;

    fn doge() -> Instrument {
        let all = Instruments::from_exchange_info_json(DOGE).expect("parse");
        all.get("DOGEUSDT").expect("doge").clone()
    }

    #[test]
    fn parses_binance_shape_and_ignores_unknowns() {
        let d = doge();
        assert_eq!(d.tick(), dec!(0.00001));
        assert_eq!(d.step(), dec!(1));
        assert_eq!(
            d.market_step(),
            dec!(1),
            "zero MARKET_LOT_SIZE step falls back to LOT_SIZE"
        );
        assert_eq!(d.notional.as_ref().map(|n| n.min_notional), Some(dec!(5)));
    }

    #[test]
    fn filters_reject_like_binance() {
        let d = doge();
        assert!(d.check_price(dec!(0.12345)).is_ok());
        assert_eq!(
            d.check_price(dec!(0.123456)).map_err(|e| e.code()),
            Err("filter_price")
        );
        assert!(d.check_quantity(dec!(100), false).is_ok());
        assert_eq!(
            d.check_quantity(dec!(100.5), false).map_err(|e| e.code()),
            Err("filter_lot_size")
        );
        assert_eq!(
            d.check_quantity(dec!(6000000), true).map_err(|e| e.code()),
            Err("filter_lot_size")
        );
        assert_eq!(
            d.check_notional(dec!(4.99), false).map_err(|e| e.code()),
            Err("filter_min_notional")
        );
        assert!(d.check_notional(dec!(5), true).is_ok());
        assert!(d
            .check_percent_price(Side::Buy, dec!(0.5), Some(dec!(0.1)))
            .is_ok());
        assert_eq!(
            d.check_percent_price(Side::Buy, dec!(0.51), Some(dec!(0.1)))
                .map_err(|e| e.code()),
            Err("filter_percent_price")
        );
    }

    #[test]
    fn malformed_filter_is_a_clear_error() {
        let bad = DOGE.replace(r#""tickSize":"0.00001000""#, r#""tickSize":"abc""#);
        let err = Instruments::from_exchange_info_json(&bad).expect_err("must fail");
        assert!(err.to_string().contains("DOGEUSDT"), "{err}");
        assert!(Instruments::from_exchange_info_json("{").is_err());
    }
}
