//! Calibration of the synthetic market from a candle series (see `docs/simulator.md`).

use papermemes_core::event::Candle;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::SimError;

/// Returns beyond this many local standard deviations count as jumps.
pub const JUMP_THRESHOLD_SIGMA: f64 = 4.0;

/// The fewest candles [`Calibration::from_candles`] accepts (a week of 5-minute bars).
pub const MIN_CANDLES: usize = 2016;

/// How many points of the jump-size distribution are kept.
const JUMP_QUANTILES: usize = 101;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// Everything the simulator knows about a pair. Measured from candles except where a field says
/// otherwise. Volatilities are of natural-log returns over one bar of `interval_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub symbol: String,
    /// Bar length of the source candles (volatilities and volumes are per bar of this length).
    pub interval_ms: i64,
    /// Candles used, and the span they cover.
    pub bars: usize,
    pub from_ms: i64,
    pub to_ms: i64,
    /// Where the simulation starts: the last close of the series.
    pub start_price: Decimal,
    /// Price tick implied by the candles (the most decimals seen in open/high/low/close). Used
    /// only to remove tick noise from the measured volatility; the simulator quotes on the
    /// instrument's tick.
    pub price_tick_hint: Decimal,
    /// Spread in ticks. NOT measured (candles carry no quotes): 1 tick when a tick is at least
    /// 0.5 bp of the price, else 2 (see the doc).
    pub spread_ticks: u32,
    /// Standard deviation of the latent (tick-noise-free) log return per bar, by UTC hour.
    pub vol_by_hour: [f64; 24],
    /// Day-to-day volatility clustering: a multiplier `exp(x - s^2)`, `x` an Ornstein–Uhlenbeck
    /// process.
    pub stochastic_vol: StochasticVol,
    /// Fat tails: jumps on top of the diffusion, in units of the local volatility.
    pub jumps: Jumps,
    /// Share of the per-bar variance carried by the Gaussian diffusion (`1 - p E[J^2]`).
    pub diffusion_share: f64,
    /// Base-asset volume per bar, by UTC hour.
    pub volume_by_hour: [VolumeStats; 24],
    /// Measured, for reference: log-return std, 1 % and 99 % quantiles and kurtosis of the
    /// source bars, and the tick-noise variance removed.
    pub observed_std: f64,
    pub observed_q01: f64,
    pub observed_q99: f64,
    pub observed_kurtosis: f64,
    pub tick_noise_var: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StochasticVol {
    /// Stationary standard deviation `s` of the log-volatility factor `x`.
    pub log_std: f64,
    /// Mean-reversion time `tau` of `x`, in milliseconds.
    pub tau_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Jumps {
    /// The threshold used, in local standard deviations.
    pub threshold_sigma: f64,
    /// Probability of a jump per bar of `interval_ms`.
    pub prob_per_bar: f64,
    /// Share of jumps that go up.
    pub up_fraction: f64,
    /// Equally spaced quantiles (0 to 1) of the jump size `|z|`, in local standard deviations.
    pub size_quantiles: Vec<f64>,
}

impl Jumps {
    /// `E[J^2]` of the stored size distribution (piecewise-linear between quantiles).
    pub fn mean_square(&self) -> f64 {
        let q = &self.size_quantiles;
        match q.len() {
            0 => 0.0,
            1 => q[0] * q[0],
            n => {
                let mut s = 0.0;
                for w in q.windows(2) {
                    // mean of x^2 for x uniform on [a, b]
                    s += (w[0] * w[0] + w[0] * w[1] + w[1] * w[1]) / 3.0;
                }
                s / (n - 1) as f64
            }
        }
    }

    /// The size for a uniform `u` in `[0, 1)`.
    pub(crate) fn size(&self, u: f64) -> f64 {
        let q = &self.size_quantiles;
        match q.len() {
            0 => 0.0,
            1 => q[0],
            n => {
                let x = u.clamp(0.0, 1.0) * (n - 1) as f64;
                let i = (x.floor() as usize).min(n - 2);
                let f = x - i as f64;
                q[i] * (1.0 - f) + q[i + 1] * f
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VolumeStats {
    /// Mean base-asset volume per bar.
    pub mean: f64,
    /// Standard deviation of `ln(volume)` over bars with volume.
    pub log_std: f64,
}

impl Calibration {
    /// Calibrate from a candle series (ascending open times, one interval, ideally 5 minutes;
    /// gaps are allowed and returns across them are skipped). Needs [`MIN_CANDLES`] candles.
    pub fn from_candles(symbol: &str, candles: &[Candle]) -> Result<Calibration, SimError> {
        let bad = |message: String| SimError::BadCandles {
            symbol: symbol.to_string(),
            message,
        };
        if candles.len() < MIN_CANDLES {
            return Err(SimError::NotEnoughCandles {
                symbol: symbol.to_string(),
                got: candles.len(),
                need: MIN_CANDLES,
            });
        }
        let interval_ms = candles[1].open_time_ms - candles[0].open_time_ms;
        if interval_ms <= 0 || interval_ms > HOUR_MS || HOUR_MS % interval_ms != 0 {
            return Err(bad(format!(
                "bar interval {interval_ms} ms: need a positive interval that divides one hour"
            )));
        }
        let mut closes = Vec::with_capacity(candles.len());
        let mut max_scale = 0u32;
        for (i, c) in candles.iter().enumerate() {
            if i > 0 && c.open_time_ms <= candles[i - 1].open_time_ms {
                return Err(bad(format!("open times not ascending at row {i}")));
            }
            if i > 0 && (c.open_time_ms - candles[i - 1].open_time_ms) % interval_ms != 0 {
                return Err(bad(format!("row {i} is off the {interval_ms} ms grid")));
            }
            for p in [c.open, c.high, c.low, c.close] {
                if p <= Decimal::ZERO {
                    return Err(bad(format!("non-positive price {p} at row {i}")));
                }
                max_scale = max_scale.max(p.normalize().scale());
            }
            let close = c
                .close
                .to_f64()
                .ok_or_else(|| bad(format!("close {} at row {i} is not representable", c.close)))?;
            closes.push(close);
        }
        let tick_hint = Decimal::new(1, max_scale.min(28));
        let tick_f = tick_hint.to_f64().unwrap_or(0.0);
        let last = &candles[candles.len() - 1];
        let start_price = last.close;
        let start_f = closes[closes.len() - 1];
        // Spread: an assumption, not a measurement (see the doc).
        let spread_ticks: u32 = if tick_f / start_f >= 0.5e-4 { 1 } else { 2 };

        // Returns between consecutive bars, their UTC hour and day.
        struct Ret {
            r: f64,
            hour: usize,
            day: i64,
            noise: f64,
        }
        let half_spread = spread_ticks as f64 * tick_f / 2.0;
        // Variance of a last-trade price around the latent price: at the bid or the ask, and
        // the touch rounded to the tick.
        let obs_noise_abs = half_spread * half_spread + tick_f * tick_f / 12.0;
        let mut rets = Vec::with_capacity(candles.len());
        for i in 1..candles.len() {
            if candles[i].open_time_ms - candles[i - 1].open_time_ms != interval_ms {
                continue;
            }
            let t = candles[i].open_time_ms;
            let p = closes[i];
            rets.push(Ret {
                r: (p / closes[i - 1]).ln(),
                hour: hour_of(t),
                day: t.div_euclid(DAY_MS),
                noise: 2.0 * obs_noise_abs / (p * p),
            });
        }
        let n = rets.len();
        if n < MIN_CANDLES / 2 {
            return Err(bad(format!("only {n} consecutive bars")));
        }
        let nf = n as f64;

        // Observed moments.
        let all: Vec<f64> = rets.iter().map(|x| x.r).collect();
        let mean = all.iter().sum::<f64>() / nf;
        let var = all.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / nf;
        if var.is_nan() || var <= 0.0 {
            return Err(bad("prices never move".into()));
        }
        let m4 = all.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / nf;
        let mut sorted = all.clone();
        sorted.sort_by(f64::total_cmp);
        let tick_noise_var = rets.iter().map(|x| x.noise).sum::<f64>() / nf;
        // Latent variance: the observed one less the tick/bid-ask noise (kept at >= 25 %).
        let latent_var = (var - tick_noise_var).max(0.25 * var);

        // Hour-of-day shape, from mean absolute returns (robust to the few huge bars).
        let mut abs_sum = [0.0f64; 24];
        let mut count = [0usize; 24];
        for x in &rets {
            abs_sum[x.hour] += (x.r - mean).abs();
            count[x.hour] += 1;
        }
        let overall_abs = abs_sum.iter().sum::<f64>() / nf;
        let mut shape = [1.0f64; 24];
        for h in 0..24 {
            if count[h] > 0 && overall_abs > 0.0 {
                shape[h] = (abs_sum[h] / count[h] as f64 / overall_abs).max(0.05);
            }
        }
        let ms: f64 = (0..24)
            .map(|h| count[h] as f64 * shape[h] * shape[h])
            .sum::<f64>()
            / nf;
        let mut vol_by_hour = [0.0f64; 24];
        for h in 0..24 {
            vol_by_hour[h] = latent_var.sqrt() * shape[h] / ms.sqrt();
        }

        // Standardize by the hour profile, then measure day-to-day volatility.
        let z: Vec<f64> = rets
            .iter()
            .map(|x| (x.r - mean) / vol_by_hour[x.hour])
            .collect();
        let mean_abs_z = z.iter().map(|v| v.abs()).sum::<f64>() / nf;
        let var_abs_z = z.iter().map(|v| v * v).sum::<f64>() / nf - mean_abs_z * mean_abs_z;
        let mut days: Vec<(i64, f64, usize)> = Vec::new(); // (day, sum |z|, count)
        for (x, zv) in rets.iter().zip(&z) {
            match days.last_mut() {
                Some(d) if d.0 == x.day => {
                    d.1 += zv.abs();
                    d.2 += 1;
                }
                _ => days.push((x.day, zv.abs(), 1)),
            }
        }
        let per_day_full = (DAY_MS / interval_ms) as usize;
        let day_factor: Vec<(i64, f64)> = days
            .iter()
            .filter(|d| d.2 * 2 >= per_day_full && d.1 > 0.0)
            .map(|d| (d.0, d.1 / d.2 as f64 / mean_abs_z))
            .collect();
        let stochastic_vol = fit_stochastic_vol(&day_factor, var_abs_z, mean_abs_z, per_day_full);

        // Standardize by the day factor too; what is left beyond the threshold is jumps.
        let mut z2 = Vec::with_capacity(n);
        let mut di = 0;
        for (x, zv) in rets.iter().zip(&z) {
            while di < day_factor.len() && day_factor[di].0 < x.day {
                di += 1;
            }
            if di < day_factor.len() && day_factor[di].0 == x.day {
                z2.push(zv / day_factor[di].1);
            }
        }
        let n2 = z2.len().max(1) as f64;
        let v2 = z2.iter().map(|v| v * v).sum::<f64>() / n2;
        let s2 = if v2 > 0.0 { v2.sqrt() } else { 1.0 };
        let mut exceed: Vec<f64> = Vec::new();
        let mut ups = 0usize;
        for v in &z2 {
            let v = v / s2;
            if v.abs() > JUMP_THRESHOLD_SIGMA {
                exceed.push(v.abs());
                if v > 0.0 {
                    ups += 1;
                }
            }
        }
        exceed.sort_by(f64::total_cmp);
        let size_quantiles = if exceed.is_empty() {
            Vec::new()
        } else {
            (0..JUMP_QUANTILES)
                .map(|i| quantile(&exceed, i as f64 / (JUMP_QUANTILES - 1) as f64))
                .collect()
        };
        let jumps = Jumps {
            threshold_sigma: JUMP_THRESHOLD_SIGMA,
            prob_per_bar: exceed.len() as f64 / n2,
            up_fraction: if exceed.is_empty() {
                0.5
            } else {
                ups as f64 / exceed.len() as f64
            },
            size_quantiles,
        };
        let diffusion_share = (1.0 - jumps.prob_per_bar * jumps.mean_square()).max(0.05);

        // Volume by hour.
        let mut vsum = [0.0f64; 24];
        let mut vcount = [0usize; 24];
        let mut lsum = [0.0f64; 24];
        let mut lsq = [0.0f64; 24];
        let mut lcount = [0usize; 24];
        for c in candles {
            let h = hour_of(c.open_time_ms);
            let v = c.volume.to_f64().unwrap_or(0.0).max(0.0);
            vsum[h] += v;
            vcount[h] += 1;
            if v > 0.0 {
                let l = v.ln();
                lsum[h] += l;
                lsq[h] += l * l;
                lcount[h] += 1;
            }
        }
        let overall_vol = vsum.iter().sum::<f64>() / candles.len() as f64;
        let mut volume_by_hour = [VolumeStats {
            mean: overall_vol,
            log_std: 0.5,
        }; 24];
        for h in 0..24 {
            if vcount[h] > 0 {
                volume_by_hour[h].mean = vsum[h] / vcount[h] as f64;
            }
            if lcount[h] > 1 {
                let m = lsum[h] / lcount[h] as f64;
                volume_by_hour[h].log_std = (lsq[h] / lcount[h] as f64 - m * m).max(0.0).sqrt();
            }
        }

        Ok(Calibration {
            symbol: symbol.to_string(),
            interval_ms,
            bars: candles.len(),
            from_ms: candles[0].open_time_ms,
            to_ms: last.close_time_ms(),
            start_price,
            price_tick_hint: tick_hint,
            spread_ticks,
            vol_by_hour,
            stochastic_vol,
            jumps,
            diffusion_share,
            volume_by_hour,
            observed_std: var.sqrt(),
            observed_q01: quantile(&sorted, 0.01),
            observed_q99: quantile(&sorted, 0.99),
            observed_kurtosis: m4 / (var * var),
            tick_noise_var,
        })
    }

    /// Checks that a (possibly deserialized) calibration can drive a simulator.
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |message: &str| {
            Err(SimError::BadCalibration {
                symbol: self.symbol.clone(),
                message: message.to_string(),
            })
        };
        let finite_nonneg = |x: f64| x.is_finite() && x >= 0.0;
        if self.interval_ms <= 0 {
            return bad("interval_ms must be positive");
        }
        if self.start_price <= Decimal::ZERO {
            return bad("start_price must be positive");
        }
        if self.spread_ticks == 0 {
            return bad("spread_ticks must be at least 1");
        }
        if !self.vol_by_hour.iter().all(|v| finite_nonneg(*v)) {
            return bad("vol_by_hour must be finite and non-negative");
        }
        let sv = &self.stochastic_vol;
        if !(finite_nonneg(sv.log_std) && sv.tau_ms.is_finite() && sv.tau_ms > 0.0) {
            return bad("stochastic_vol needs log_std >= 0 and tau_ms > 0");
        }
        let j = &self.jumps;
        if !(0.0..=1.0).contains(&j.prob_per_bar)
            || !(0.0..=1.0).contains(&j.up_fraction)
            || !j.size_quantiles.iter().all(|v| finite_nonneg(*v))
        {
            return bad("jumps: probabilities in [0, 1] and finite sizes");
        }
        if !(self.diffusion_share.is_finite() && self.diffusion_share > 0.0) {
            return bad("diffusion_share must be positive");
        }
        if !self
            .volume_by_hour
            .iter()
            .all(|v| finite_nonneg(v.mean) && finite_nonneg(v.log_std))
        {
            return bad("volume_by_hour must be finite and non-negative");
        }
        Ok(())
    }
}

/// Fit the slow volatility factor from daily mean-absolute-return factors `m_d`:
/// `s^2 = Var(ln m_d) - sampling noise`, corrected for averaging an OU process over a day, and
/// `tau` from the lag-1 autocorrelation of `ln m_d` (de-attenuated for the noise).
fn fit_stochastic_vol(
    day_factor: &[(i64, f64)],
    var_abs_z: f64,
    mean_abs_z: f64,
    bars_per_day: usize,
) -> StochasticVol {
    let fallback = StochasticVol {
        log_std: 0.0,
        tau_ms: DAY_MS as f64,
    };
    if day_factor.len() < 5 || mean_abs_z <= 0.0 {
        return fallback;
    }
    let logs: Vec<(i64, f64)> = day_factor.iter().map(|(d, m)| (*d, m.ln())).collect();
    let k = logs.len() as f64;
    let mu = logs.iter().map(|x| x.1).sum::<f64>() / k;
    let var = logs.iter().map(|x| (x.1 - mu).powi(2)).sum::<f64>() / k;
    let noise = var_abs_z / (mean_abs_z * mean_abs_z) / bars_per_day.max(1) as f64;
    let signal = (var - noise).max(0.0);
    if signal <= 1e-6 || var <= 0.0 {
        return fallback;
    }
    let mut cov = 0.0;
    let mut pairs = 0usize;
    for w in logs.windows(2) {
        if w[1].0 == w[0].0 + 1 {
            cov += (w[0].1 - mu) * (w[1].1 - mu);
            pairs += 1;
        }
    }
    let ac = if pairs > 0 {
        cov / pairs as f64 / var
    } else {
        0.5
    };
    let phi = (ac * var / signal).clamp(0.05, 0.98);
    let tau_days = -1.0 / phi.ln();
    // A day's average of an OU process with stationary variance s^2 has variance f * s^2.
    let r = 1.0 / tau_days;
    let f = 2.0 * tau_days * tau_days * (r - 1.0 + (-r).exp());
    let s2 = (signal / f.clamp(0.1, 1.0)).min(1.0);
    StochasticVol {
        log_std: s2.sqrt(),
        tau_ms: tau_days * DAY_MS as f64,
    }
}

pub(crate) fn hour_of(t_ms: i64) -> usize {
    t_ms.div_euclid(HOUR_MS).rem_euclid(24) as usize
}

/// Linear-interpolated quantile of sorted data.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let x = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let i = x.floor() as usize;
    let f = x - i as f64;
    let j = (i + 1).min(sorted.len() - 1);
    sorted[i] * (1.0 - f) + sorted[j] * f
}
