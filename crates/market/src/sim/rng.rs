//! The simulator's random numbers: ChaCha8 (portable, seedable, stable across versions of
//! `rand_chacha`) and samplers written out here, so the stream for a seed never changes with a
//! dependency upgrade.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Rng {
    inner: ChaCha8Rng,
    spare_normal: Option<f64>,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng {
            inner: ChaCha8Rng::seed_from_u64(seed),
            spare_normal: None,
        }
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.inner.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `(0, 1]` (safe to take the log of).
    fn uniform_open0(&mut self) -> f64 {
        1.0 - self.uniform()
    }

    /// Standard normal (Box–Muller; the second value is kept for the next call).
    pub(crate) fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        let r = (-2.0 * self.uniform_open0().ln()).sqrt();
        let theta = std::f64::consts::TAU * self.uniform();
        self.spare_normal = Some(r * theta.sin());
        r * theta.cos()
    }

    /// Exponential with mean 1.
    pub(crate) fn exp1(&mut self) -> f64 {
        -self.uniform_open0().ln()
    }

    /// Poisson count with the given mean (inversion for small means, a rounded normal above 30).
    pub(crate) fn poisson(&mut self, mean: f64) -> u64 {
        if mean.is_nan() || mean <= 0.0 {
            return 0;
        }
        if mean > 30.0 {
            let x = (mean + mean.sqrt() * self.normal()).round();
            return if x > 0.0 { x as u64 } else { 0 };
        }
        let limit = (-mean).exp();
        let mut k = 0u64;
        let mut p = self.uniform_open0();
        while p > limit {
            k += 1;
            p *= self.uniform_open0();
        }
        k
    }

    pub(crate) fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_are_right() {
        let mut r = Rng::new(7);
        let n = 200_000;
        let (mut s, mut s2, mut e, mut pois) = (0.0, 0.0, 0.0, 0u64);
        for _ in 0..n {
            let z = r.normal();
            s += z;
            s2 += z * z;
            e += r.exp1();
            pois += r.poisson(2.5);
        }
        let n = n as f64;
        assert!((s / n).abs() < 0.01);
        assert!((s2 / n - 1.0).abs() < 0.02);
        assert!((e / n - 1.0).abs() < 0.02);
        assert!((pois as f64 / n - 2.5).abs() < 0.03);
        let mut a = Rng::new(1);
        let mut b = Rng::new(1);
        assert!((0..100).all(|_| a.uniform().to_bits() == b.uniform().to_bits()));
    }
}
