//! Small row kernels of the loss engine, written so the compiler can vectorise them (SSE2
//! natively, SIMD128 on wasm32): a fast e^x for the f32 training path, and sums/minima with
//! eight independent accumulators (a single running sum is latency-bound).
//!
//! The f64 path (reference calculator, gradient checks) uses the standard library's `exp`.

use std::any::{Any, TypeId};
use std::cell::RefCell;

use crate::real::Real;

/// e^x for x ≤ 0 in f32 (Cephes-style): x = n·ln2 + r with |r| ≤ ½ln2, e^r by a degree-6
/// polynomial, 2ⁿ from the exponent bits. Relative error ≤ 3e-7 on [−87, 0]; arguments below
/// −87 (e^x < 1.7e-38, the f32 subnormal range) flush to 0, and −∞ gives 0. Branch-free.
#[inline(always)]
fn exp_f32_nonpositive(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer (|v| < 2²²).
    const ROUND: f32 = 12_582_912.0;
    let xc = x.clamp(-87.0, 0.0);
    let v = xc * LOG2E + ROUND;
    let n = v - ROUND;
    let r = xc - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    // The low bits of v hold the integer n (v = 1.5·2²³ + n), so 2ⁿ is built with integer ops
    // only (a float→int conversion would not vectorise). n ∈ [−126, 0], so n + 127 ∈ [1, 127]
    // is a normal exponent.
    let biased = v.to_bits().wrapping_sub(0x4B40_0000).wrapping_add(127);
    let scale = f32::from_bits(biased << 23);
    if x < -87.0 { 0.0 } else { y * scale }
}

/// Replaces every entry x ≤ 0 of `buf` by e^x (entries may be −∞, giving 0). Uses the fast
/// vectorisable kernel for f32 and `f64::exp` for f64.
#[allow(
    clippy::ptr_arg,
    reason = "a Vec (not a slice) can be downcast to Vec<f32>"
)]
pub(crate) fn exp_nonpositive_inplace<F: Real>(buf: &mut Vec<F>) {
    if let Some(v) = (buf as &mut dyn Any).downcast_mut::<Vec<f32>>() {
        for x in v.iter_mut() {
            *x = exp_f32_nonpositive(*x);
        }
    } else {
        for x in buf.iter_mut() {
            *x = x.exp();
        }
    }
}

/// Σ x with eight interleaved accumulators.
#[inline]
pub(crate) fn sum<F: Real>(xs: &[F]) -> F {
    let mut acc = [F::zero(); 8];
    let chunks = xs.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            acc[k] += c[k];
        }
    }
    let mut s = rest.iter().fold(F::zero(), |s, &x| s + x);
    for a in acc {
        s += a;
    }
    s
}

/// Σ_j a_j·(c − d_j) with eight interleaved accumulators.
#[inline]
pub(crate) fn weighted_gap<F: Real>(a: &[F], d: &[F], c: F) -> F {
    let mut acc = [F::zero(); 8];
    let n = a.len().min(d.len());
    let (a, d) = (&a[..n], &d[..n]);
    let ca = a.chunks_exact(8);
    let cd = d.chunks_exact(8);
    let (ra, rd) = (ca.remainder(), cd.remainder());
    for (x, y) in ca.zip(cd) {
        for k in 0..8 {
            acc[k] += x[k] * (c - y[k]);
        }
    }
    let mut s = ra
        .iter()
        .zip(rd)
        .fold(F::zero(), |s, (&x, &y)| s + x * (c - y));
    for v in acc {
        s += v;
    }
    s
}

/// min over `xs` except indices `skip1` and `skip2` (+∞ if nothing is left).
#[inline]
pub(crate) fn min_except<F: Real>(xs: &[F], skip1: usize, skip2: usize) -> F {
    let (lo, hi) = (skip1.min(skip2), skip1.max(skip2));
    let min_of = |s: &[F]| {
        let mut acc = [F::infinity(); 8];
        let chunks = s.chunks_exact(8);
        let rest = chunks.remainder();
        for c in chunks {
            for k in 0..8 {
                if c[k] < acc[k] {
                    acc[k] = c[k];
                }
            }
        }
        let mut m = rest
            .iter()
            .fold(F::infinity(), |m, &x| if x < m { x } else { m });
        for a in acc {
            if a < m {
                m = a;
            }
        }
        m
    };
    let n = xs.len();
    let a = min_of(&xs[..lo.min(n)]);
    let mid_start = (lo + 1).min(n);
    let b = min_of(&xs[mid_start..hi.min(n).max(mid_start)]);
    let c = if hi < n {
        min_of(&xs[hi + 1..])
    } else {
        F::infinity()
    };
    let m = if b < a { b } else { a };
    if c < m { c } else { m }
}

thread_local! {
    /// Recycled 2B × 2B and 2B × d buffers, one small stack per float type, so a training step
    /// does not map and fault in fresh megabytes on every call (at most [`POOL_DEPTH`] buffers
    /// per type are kept, for the thread's lifetime).
    static POOL_F32: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
    static POOL_F64: RefCell<Vec<Vec<f64>>> = const { RefCell::new(Vec::new()) };
}

/// Buffers kept per float type.
const POOL_DEPTH: usize = 4;

/// A vector of length `len` (contents unspecified: callers overwrite every entry they read),
/// recycled from this thread's pool when one is available.
pub(crate) fn take_buffer<F: Real>(len: usize) -> Vec<F> {
    fn pick<T>(pool: &RefCell<Vec<Vec<T>>>, len: usize) -> Vec<T> {
        let mut p = pool.borrow_mut();
        // Prefer a buffer that is already big enough.
        match p.iter().position(|v| v.capacity() >= len) {
            Some(k) => p.swap_remove(k),
            None => p.pop().unwrap_or_default(),
        }
    }
    let boxed: Box<dyn Any> = if TypeId::of::<F>() == TypeId::of::<f32>() {
        Box::new(POOL_F32.with(|p| pick(p, len)))
    } else if TypeId::of::<F>() == TypeId::of::<f64>() {
        Box::new(POOL_F64.with(|p| pick(p, len)))
    } else {
        Box::new(Vec::<F>::new())
    };
    let mut v = boxed.downcast::<Vec<F>>().map(|b| *b).unwrap_or_default();
    v.resize(len, F::zero());
    v
}

/// Returns a buffer to this thread's pool (dropped if the pool is full).
pub(crate) fn give_buffer<F: Real>(v: Vec<F>) {
    fn keep<T>(pool: &RefCell<Vec<Vec<T>>>, v: Vec<T>) {
        let mut p = pool.borrow_mut();
        if p.len() < POOL_DEPTH {
            p.push(v);
        }
    }
    let boxed: Box<dyn Any> = Box::new(v);
    match boxed.downcast::<Vec<f32>>() {
        Ok(b) => POOL_F32.with(|p| keep(p, *b)),
        Err(other) => {
            if let Ok(b) = other.downcast::<Vec<f64>>() {
                POOL_F64.with(|p| keep(p, *b));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_is_accurate_on_the_nonpositive_axis() {
        let mut xs: Vec<f32> = (0..200_000).map(|k| -(k as f32) * 4.4e-4).collect();
        xs.extend([0.0, -0.5, -1e-8, -86.99, -87.5, -1000.0, f32::NEG_INFINITY]);
        let mut ys = xs.clone();
        exp_nonpositive_inplace(&mut ys);
        for (&x, &y) in xs.iter().zip(&ys) {
            if x < -87.0 {
                assert_eq!(y, 0.0, "e^{x}");
            } else {
                let want = f64::from(x).exp();
                let rel = ((f64::from(y) - want) / want).abs();
                assert!(rel < 3e-7, "e^{x}: {y} vs {want} (rel {rel:e})");
            }
        }
        assert_eq!(ys[200_000], 1.0);
    }

    #[test]
    fn f64_path_uses_the_exact_exp() {
        let mut v = vec![-0.3f64, -700.0, f64::NEG_INFINITY];
        exp_nonpositive_inplace(&mut v);
        assert_eq!(v, vec![(-0.3f64).exp(), (-700.0f64).exp(), 0.0]);
    }

    #[test]
    fn reductions_match_plain_loops() {
        let xs: Vec<f64> = (0..37)
            .map(|k| ((k * 7919) % 101) as f64 * 0.01 - 0.3)
            .collect();
        let d: Vec<f64> = (0..37).map(|k| (k as f64).sin()).collect();
        assert!((sum(&xs) - xs.iter().sum::<f64>()).abs() < 1e-12);
        let want: f64 = xs.iter().zip(&d).map(|(a, b)| a * (0.7 - b)).sum();
        assert!((weighted_gap(&xs, &d, 0.7) - want).abs() < 1e-12);
        for (s1, s2) in [(0, 5), (36, 3), (10, 11), (20, 20)] {
            let want = (0..37)
                .filter(|&j| j != s1 && j != s2)
                .map(|j| xs[j])
                .fold(f64::INFINITY, f64::min);
            assert_eq!(min_except(&xs, s1, s2), want, "{s1} {s2}");
        }
    }
}
