//! Small exact-decimal helpers used by filters and sizing.

use rust_decimal::{Decimal, RoundingStrategy};

/// One basis point as a fraction: `bps / 10_000`.
pub fn bps(bps: Decimal) -> Decimal {
    bps / Decimal::from(10_000)
}

/// The largest multiple of `step` that is `<= value` (for `value >= 0`). A zero step returns
/// `value` unchanged.
pub fn floor_to_step(value: Decimal, step: Decimal) -> Decimal {
    if step <= Decimal::ZERO {
        return value;
    }
    if let Some(dp) = decimal_places_of_power_of_ten(step) {
        // `step` = 10^-dp: flooring to it is rounding to dp places (no division). The same
        // value as the general formula below, which the tests check.
        if !value.is_sign_negative() {
            return value
                .round_dp_with_strategy(dp, RoundingStrategy::ToNegativeInfinity)
                .normalize();
        }
    }
    ((value / step).floor() * step).normalize()
}

/// The smallest multiple of `step` that is `>= value`. A zero step returns `value` unchanged.
pub fn ceil_to_step(value: Decimal, step: Decimal) -> Decimal {
    if step <= Decimal::ZERO {
        return value;
    }
    if let Some(dp) = decimal_places_of_power_of_ten(step) {
        if !value.is_sign_negative() {
            return value
                .round_dp_with_strategy(dp, RoundingStrategy::ToPositiveInfinity)
                .normalize();
        }
    }
    ((value / step).ceil() * step).normalize()
}

/// `Some(dp)` when `step` is exactly 10^-dp (1, 0.1, 0.00001, …, also written with trailing
/// zeros); `None` for any other step (e.g. 0.5 or 10).
fn decimal_places_of_power_of_ten(step: Decimal) -> Option<u32> {
    let mut m = u64::try_from(step.mantissa()).ok()?;
    let mut zeros = 0u32;
    while m >= 10 && m % 10 == 0 {
        m /= 10;
        zeros += 1;
    }
    if m != 1 {
        return None;
    }
    step.scale().checked_sub(zeros)
}

/// Whether `value - base` is an exact multiple of `step` (a zero step always passes), as
/// Binance's PRICE_FILTER and LOT_SIZE define it.
pub fn is_on_step(value: Decimal, base: Decimal, step: Decimal) -> bool {
    if step <= Decimal::ZERO {
        return true;
    }
    let diff = value - base;
    if let Some(dp) = decimal_places_of_power_of_ten(step) {
        // A multiple of 10^-dp has no non-zero digit after the dp-th decimal.
        let extra = diff.scale().saturating_sub(dp);
        if extra == 0 {
            return true;
        }
        let m = diff.mantissa().unsigned_abs();
        return match u64::try_from(m) {
            Ok(m) if extra <= 19 => m.is_multiple_of(10u64.pow(extra)),
            _ => m.is_multiple_of(10u128.pow(extra)),
        };
    }
    (diff % step).is_zero()
}

/// Number of digits after the decimal point needed to print `d` exactly.
pub fn decimals(d: Decimal) -> u32 {
    d.normalize().scale()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn steps() {
        assert_eq!(floor_to_step(dec!(123.456), dec!(0.01)), dec!(123.45));
        assert_eq!(ceil_to_step(dec!(123.451), dec!(0.01)), dec!(123.46));
        assert_eq!(floor_to_step(dec!(7), dec!(1)), dec!(7));
        assert!(is_on_step(
            dec!(0.00001234),
            dec!(0.00000001),
            dec!(0.00000001)
        ));
        assert!(!is_on_step(dec!(0.123456), dec!(0.00001), dec!(0.00001)));
        assert_eq!(decimals(dec!(0.0000130)), 6);
    }

    /// The fast paths for power-of-ten steps give exactly (value and representation) what the
    /// general formulas give.
    #[test]
    fn power_of_ten_steps_match_the_general_formula() {
        let steps = [
            dec!(1),
            dec!(1.000),
            dec!(0.1),
            dec!(0.01),
            dec!(0.00001),
            dec!(0.0000100),
            dec!(0.00000001),
            dec!(0.5),
            dec!(10),
            dec!(0.25),
            dec!(0.00002),
        ];
        assert_eq!(decimal_places_of_power_of_ten(dec!(1.000)), Some(0));
        assert_eq!(decimal_places_of_power_of_ten(dec!(0.0000100)), Some(5));
        assert_eq!(decimal_places_of_power_of_ten(dec!(10)), None);
        assert_eq!(decimal_places_of_power_of_ten(dec!(0.5)), None);
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let value = Decimal::new((x >> (i % 40)) as i64, (x % 19) as u32);
            for step in steps {
                let floor = ((value / step).floor() * step).normalize();
                let ceil = ((value / step).ceil() * step).normalize();
                let (f, c) = (floor_to_step(value, step), ceil_to_step(value, step));
                for base in [Decimal::ZERO, step, dec!(0.00001), dec!(3)] {
                    assert_eq!(
                        is_on_step(value, base, step),
                        ((value - base) % step).is_zero(),
                        "{value} base {base} step {step}"
                    );
                }
                assert_eq!(
                    (f, f.scale(), c, c.scale()),
                    (floor, floor.scale(), ceil, ceil.scale()),
                    "{value} step {step}"
                );
            }
        }
    }
}
