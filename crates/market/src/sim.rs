//! A seeded, deterministic synthetic market: one simulator per pair, calibrated from candles,
//! producing the same [`MarketEvent`](papermemes_core::event::MarketEvent)s as a live feed
//! (an L2 book as a snapshot then diffs, trades at the touch, and closed 5-minute candles built
//! from its own trades), so the app runs with no data files and no network.
//!
//! * [`Calibration`]: what the simulator needs to know about a pair, measured from a candle
//!   series (hour-of-day volatility, slow stochastic volatility, fat-tailed jumps, hour-of-day
//!   volume) plus a few documented assumptions (the spread). Serde, so it can be saved/embedded.
//! * [`Simulator`]: the event generator. Same instrument, calibration, seed, start time and
//!   config give the same event sequence, byte for byte (on the same platform and build).
//!
//! The model, the calibration procedure and the measured match are in `docs/simulator.md`.

mod calibrate;
mod engine;
mod rng;

pub use calibrate::{Calibration, Jumps, StochasticVol, VolumeStats, JUMP_THRESHOLD_SIGMA};
pub use engine::{SimConfig, Simulator, Skip, CANDLE_MS};

use thiserror::Error;

/// Why a calibration or a simulator could not be built.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SimError {
    #[error("{symbol}: need at least {need} candles to calibrate, got {got}")]
    NotEnoughCandles {
        symbol: String,
        got: usize,
        need: usize,
    },
    #[error("{symbol}: bad candle series: {message}")]
    BadCandles { symbol: String, message: String },
    #[error("{symbol}: instrument unusable for simulation: {message}")]
    BadInstrument { symbol: String, message: String },
    #[error("bad simulator config: {0}")]
    BadConfig(String),
    #[error("{symbol}: calibration is not usable: {message}")]
    BadCalibration { symbol: String, message: String },
}

impl SimError {
    pub fn code(&self) -> &'static str {
        match self {
            SimError::NotEnoughCandles { .. } => "sim_not_enough_candles",
            SimError::BadCandles { .. } => "sim_bad_candles",
            SimError::BadInstrument { .. } => "sim_bad_instrument",
            SimError::BadConfig(_) => "sim_bad_config",
            SimError::BadCalibration { .. } => "sim_bad_calibration",
        }
    }
}

/// Several pairs' simulators merged into one time-ordered stream (ties go to the earlier pair
/// in the list), deterministic like each simulator. Serde round-trips its whole state.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SimMarket {
    sims: Vec<(Simulator, Option<papermemes_core::event::MarketEvent>)>,
}

impl SimMarket {
    /// One simulator per `(instrument, calibration)`; each gets its own seed derived from
    /// `seed` and its place in the list.
    pub fn new(
        pairs: Vec<(&papermemes_core::instrument::Instrument, Calibration)>,
        seed: u64,
        start_ms: papermemes_core::TimeMs,
    ) -> Result<SimMarket, SimError> {
        let mut sims = Vec::with_capacity(pairs.len());
        for (i, (inst, cal)) in pairs.into_iter().enumerate() {
            let s = seed ^ (0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i as u64 + 1));
            sims.push((Simulator::new(inst, cal, s, start_ms)?, None));
        }
        Ok(SimMarket { sims })
    }
}

/// What [`SimMarket::fast_forward`] went past.
#[derive(Debug, Clone, Default)]
pub struct FastForward {
    /// Events skipped (what `next()` would have handed out up to the target time).
    pub events: u64,
    /// Each pair's last closed candle and last trade at or before the target time (those it
    /// had), in time order.
    pub last_prints: Vec<papermemes_core::event::MarketEvent>,
    /// Each pair's order book as of the target time.
    pub books: Vec<papermemes_core::event::MarketEvent>,
}

impl SimMarket {
    /// Run every pair up to and including market time `until_ms` without handing out the
    /// events, and say where that left the market. Afterwards the market continues with the
    /// very events `next()` would give after taking everything up to `until_ms` (each pair is
    /// its own seeded simulator, so when its steps are taken does not change them). The pairs
    /// are independent, so they run on up to `threads` threads.
    pub fn fast_forward(
        &mut self,
        until_ms: papermemes_core::TimeMs,
        threads: usize,
    ) -> FastForward {
        let threads = threads.clamp(1, self.sims.len().max(1));
        let per = self.sims.len().div_ceil(threads).max(1);
        let results: Vec<Skipped> = std::thread::scope(|scope| {
            let jobs: Vec<_> = self
                .sims
                .chunks_mut(per)
                .map(|chunk| {
                    scope.spawn(move || {
                        chunk
                            .iter_mut()
                            .map(|(sim, peeked)| skip_until(sim, peeked, until_ms))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            jobs.into_iter()
                .flat_map(|j| j.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let mut ff = FastForward::default();
        for (n, last, book) in results {
            ff.events += n;
            let mut last: Vec<_> = last.into_iter().flatten().collect();
            last.sort_by_key(|e| e.time_ms());
            ff.last_prints.extend(last);
            ff.books.extend(book);
        }
        ff
    }
}

/// One pair's part of [`SimMarket::fast_forward`]: events skipped, its last candle and last
/// trade, its book.
type Skipped = (
    u64,
    [Option<papermemes_core::event::MarketEvent>; 2],
    Option<papermemes_core::event::MarketEvent>,
);

fn skip_until(
    sim: &mut Simulator,
    peeked: &mut Option<papermemes_core::event::MarketEvent>,
    until_ms: papermemes_core::TimeMs,
) -> Skipped {
    use papermemes_core::event::MarketEvent;
    let (mut n, mut last): (u64, [Option<MarketEvent>; 2]) = (0, [None, None]);
    match peeked.take() {
        // Already generated past the target: nothing to skip, and its book as of the target
        // is not known any more.
        Some(e) if e.time_ms() > until_ms => {
            *peeked = Some(e);
            return (0, [None, None], None);
        }
        Some(e) => engine::keep_last(&mut n, &mut last, e),
        None => {}
    }
    let skip = sim.skip_until(until_ms);
    n += skip.events;
    if skip.last_candle.is_some() {
        last[0] = skip.last_candle;
    }
    if skip.last_trade.is_some() {
        last[1] = skip.last_trade;
    }
    (n, last, Some(skip.book))
}

impl Iterator for SimMarket {
    type Item = papermemes_core::event::MarketEvent;

    fn next(&mut self) -> Option<Self::Item> {
        let mut best: Option<(usize, i64)> = None;
        for (i, (sim, peeked)) in self.sims.iter_mut().enumerate() {
            let e = peeked.get_or_insert_with(|| sim.next_event());
            let t = e.time_ms();
            if best.is_none_or(|(_, bt)| t < bt) {
                best = Some((i, t));
            }
        }
        let (i, _) = best?;
        self.sims.get_mut(i).and_then(|(_, p)| p.take())
    }
}
