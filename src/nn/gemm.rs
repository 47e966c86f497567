//! The one matrix product every layer uses: C ← A·B (or C ← C + A·B), single-threaded.
//!
//! Which kernel runs (chosen by measurement on the standard workload's five GEMM shapes):
//! - x86-64 with AVX-512F, f32: the packed AVX-512 kernel below (≈110 GFLOP/s per core here,
//!   ≈1.5× the `gemm` crate's AVX2 path, which is ≈1.4× ndarray's `matrixmultiply`);
//! - other native targets and f64: the `gemm` crate (runtime-selected AVX2/FMA kernels);
//! - wasm32, f32: the packed 4 × 8 SIMD128 kernel below. With plain SIMD128 (separate multiply
//!   and add) it times the same as `matrixmultiply`'s SIMD128 kernel (≈18 GFLOP/s in Node, near
//!   the 8 FLOP/cycle ceiling of unfused 128-bit arithmetic); built with the crate feature
//!   `wasm-relaxed-simd` (the browser build) it uses `f32x4.relaxed_madd`, which V8 lowers to
//!   an FMA, and reaches ≈22–30 GFLOP/s in headless Chromium. A 6 × 8 tile spills registers in
//!   V8 and is slower. f64 on wasm32 uses `matrixmultiply`.
//!
//! Inputs may be any strided views (transposes are free); the output is written in place, so
//! the training loop allocates nothing here. This module holds the crate's only `unsafe` code:
//! the shapes are checked against each other and ndarray views guarantee that every in-bounds
//! (row, column) offset is valid, which is all the kernels require; the `&mut` output cannot
//! alias the shared inputs.

use ndarray::{ArrayView2, ArrayViewMut2, linalg::general_mat_mul};

use crate::real::Real;

/// C ← A·B when `accumulate` is false, C ← C + A·B when it is true.
///
/// Shapes: A (m × k), B (k × n), C (m × n). Mismatched shapes are a programming error inside
/// the crate and panic with the three shapes (user input never reaches here unchecked).
pub fn matmul_into<F: Real>(
    mut c: ArrayViewMut2<F>,
    a: ArrayView2<F>,
    b: ArrayView2<F>,
    accumulate: bool,
) {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert!(
        k == k2 && c.dim() == (m, n),
        "matmul shapes: A {:?} · B {:?} → C {:?}",
        a.dim(),
        b.dim(),
        c.dim()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.fill(F::zero());
        }
        return;
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let is_f32 = std::any::TypeId::of::<F>() == std::any::TypeId::of::<f32>();
        let supported = is_f32 || std::any::TypeId::of::<F>() == std::any::TypeId::of::<f64>();
        if supported {
            let (cs_r, cs_c) = (c.strides()[0], c.strides()[1]);
            let (as_r, as_c) = (a.strides()[0], a.strides()[1]);
            let (bs_r, bs_c) = (b.strides()[0], b.strides()[1]);
            let dst = c.as_mut_ptr();
            #[cfg(target_arch = "x86_64")]
            if is_f32 && avx512::available() {
                // SAFETY: shapes are consistent and non-empty (checked above); each pointer and
                // stride pair comes from a live view of that shape; `c` is borrowed mutably, so
                // it overlaps neither input; F is f32 (checked), so the casts are identities;
                // AVX-512F is present (checked at run time).
                #[allow(unsafe_code)]
                unsafe {
                    avx512::sgemm(
                        (m, n, k),
                        (a.as_ptr().cast::<f32>(), as_r, as_c),
                        (b.as_ptr().cast::<f32>(), bs_r, bs_c),
                        (dst.cast::<f32>(), cs_r, cs_c),
                        accumulate,
                    );
                }
                return;
            }
            // SAFETY: as above; F is f32 or f64, the element types `gemm` implements, and no
            // threads are used (Parallelism::None).
            #[allow(unsafe_code)]
            unsafe {
                gemm::gemm(
                    m,
                    n,
                    k,
                    dst,
                    cs_c,
                    cs_r,
                    accumulate,
                    a.as_ptr(),
                    as_c,
                    as_r,
                    b.as_ptr(),
                    bs_c,
                    bs_r,
                    F::one(),
                    F::one(),
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
            return;
        }
    }
    #[cfg(target_arch = "wasm32")]
    if std::any::TypeId::of::<F>() == std::any::TypeId::of::<f32>() {
        let (cs_r, cs_c) = (c.strides()[0], c.strides()[1]);
        let (as_r, as_c) = (a.strides()[0], a.strides()[1]);
        let (bs_r, bs_c) = (b.strides()[0], b.strides()[1]);
        let dst = c.as_mut_ptr();
        // SAFETY: shapes are consistent and non-empty (checked above); each pointer and stride
        // pair comes from a live view of that shape; `c` is borrowed mutably, so it overlaps
        // neither input; F is f32 (checked), so the casts are identities.
        #[allow(unsafe_code)]
        unsafe {
            wasm::sgemm(
                (m, n, k),
                (a.as_ptr().cast::<f32>(), as_r, as_c),
                (b.as_ptr().cast::<f32>(), bs_r, bs_c),
                (dst.cast::<f32>(), cs_r, cs_c),
                accumulate,
            );
        }
        return;
    }
    reference_matmul_into(c, a, b, accumulate);
}

/// C ← [C +] A·B through ndarray's `general_mat_mul` (matrixmultiply), the reference the
/// fast kernels are tested and benchmarked against.
pub fn reference_matmul_into<F: Real>(
    mut c: ArrayViewMut2<F>,
    a: ArrayView2<F>,
    b: ArrayView2<F>,
    accumulate: bool,
) {
    let beta = if accumulate { F::one() } else { F::zero() };
    general_mat_mul(F::one(), &a, &b, beta, &mut c);
}

/// A packed AVX-512 single-precision kernel for x86-64 CPUs that have AVX-512F (the `gemm`
/// crate's AVX-512 kernels need a nightly compiler; on the standard workload's shapes this
/// kernel measured ≈1.5× faster than that crate's AVX2 path).
///
/// Blocking: k in slices of KC; B's slice is packed into NR-column panels (k-major), A into
/// MR-row panels; the MR × NR micro-kernel keeps 2·MR zmm accumulators and does 2·MR fused
/// multiply-adds per k. Edges are zero-padded in the packed panels and cut on write-back.
/// Packing shared by the SIMD kernels: B as panels of `nr` columns (row-major within a panel)
/// and A as panels of `mr` rows (k-major within a panel), zero-padded past the matrix edge, so
/// the kernels read contiguous, full tiles.
#[cfg(any(target_arch = "x86_64", target_arch = "wasm32"))]
#[allow(unsafe_code)]
mod pack {
    /// Packs rows k0..k0+kc of B (n columns) into `dst` as ⌈n/nr⌉ panels of kc × nr values.
    /// `dst` only grows (no clearing per call); a partial panel's padding is written as zeros.
    ///
    /// # Safety
    /// (b, b_rs, b_cs) must address a valid matrix with at least k0 + kc rows and n columns.
    pub unsafe fn b_panels(
        dst: &mut Vec<f32>,
        (b, b_rs, b_cs): (*const f32, isize, isize),
        (k0, kc, n): (usize, usize, usize),
        nr: usize,
    ) {
        let np = n.div_ceil(nr);
        if dst.len() < np * kc * nr {
            dst.resize(np * kc * nr, 0.0);
        }
        for p in 0..np {
            let j0 = p * nr;
            let nj = nr.min(n - j0);
            let panel = &mut dst[p * kc * nr..(p + 1) * kc * nr];
            for kk in 0..kc {
                // SAFETY: row k0+kk and columns j0..j0+nj ≤ n are inside B (caller).
                let row = unsafe { b.offset((k0 + kk) as isize * b_rs + j0 as isize * b_cs) };
                for (jj, v) in panel[kk * nr..kk * nr + nj].iter_mut().enumerate() {
                    *v = unsafe { *row.offset(jj as isize * b_cs) };
                }
                panel[kk * nr + nj..(kk + 1) * nr].fill(0.0);
            }
        }
    }

    /// Writes (or, unless `overwrite`, adds) the first `nj` values of `row` into row `i` of
    /// the C tile at `c`: the edge-tile store shared by the kernels.
    ///
    /// # Safety
    /// Every (i, j) with j < nj must lie inside C.
    #[inline]
    pub unsafe fn store_row(
        row: &[f32],
        (c, c_rs, c_cs): (*mut f32, isize, isize),
        i: usize,
        nj: usize,
        overwrite: bool,
    ) {
        for (j, &t) in row.iter().enumerate().take(nj) {
            // SAFETY: (i, j < nj) is inside C (caller).
            unsafe {
                let cp = c.offset(i as isize * c_rs + j as isize * c_cs);
                *cp = if overwrite { t } else { *cp + t };
            }
        }
    }

    /// Packs rows i0..i0+mi (mi ≤ mr) and columns k0..k0+kc of A into `dst` (kc · mr values,
    /// k-major); rows past mi are zero.
    ///
    /// # Safety
    /// (a, a_rs, a_cs) must address a valid matrix with at least i0 + mi rows and k0 + kc
    /// columns; `dst` must hold at least kc · mr values.
    pub unsafe fn a_panel(
        dst: &mut [f32],
        (a, a_rs, a_cs): (*const f32, isize, isize),
        (i0, mi, k0, kc): (usize, usize, usize, usize),
        mr: usize,
    ) {
        if mi < mr {
            dst[..kc * mr].fill(0.0);
        }
        for ii in 0..mi {
            // SAFETY: row i0+ii and columns k0..k0+kc are inside A (caller).
            let row = unsafe { a.offset((i0 + ii) as isize * a_rs + k0 as isize * a_cs) };
            for kk in 0..kc {
                dst[kk * mr + ii] = unsafe { *row.offset(kk as isize * a_cs) };
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx512 {
    use std::arch::x86_64::{
        __m512, _mm512_add_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_setzero_ps,
        _mm512_storeu_ps,
    };
    use std::cell::RefCell;

    const MR: usize = 12;
    const NR: usize = 32;
    const KC: usize = 256;
    /// Columns of B packed at once: KC × NC × 4 bytes = 512 KiB, half of a Zen 4 core's L2.
    const NC: usize = 512;

    thread_local! {
        /// Packing buffers, reused across calls (no allocation once warm).
        static PACK: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
    }

    /// Whether the CPU has AVX-512F (cached by the standard library).
    pub fn available() -> bool {
        std::arch::is_x86_feature_detected!("avx512f")
    }

    /// C (m × n) ← [C +] A (m × k) · B (k × n); each matrix is (pointer, row stride, column
    /// stride) in elements.
    ///
    /// # Safety
    /// AVX-512F must be available; every (pointer, strides) triple must address a valid matrix
    /// of its shape, m, n, k ≥ 1, and C must not overlap A or B.
    pub unsafe fn sgemm(
        (m, n, k): (usize, usize, usize),
        a: (*const f32, isize, isize),
        b: (*const f32, isize, isize),
        c: (*mut f32, isize, isize),
        accumulate: bool,
    ) {
        PACK.with(|p| {
            let mut p = p.borrow_mut();
            let (apack, bpack) = &mut *p;
            // SAFETY: forwarded from the caller.
            unsafe { sgemm_avx512((m, n, k), a, b, c, accumulate, apack, bpack) }
        });
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn sgemm_avx512(
        (m, n, k): (usize, usize, usize),
        (a, a_rs, a_cs): (*const f32, isize, isize),
        (b, b_rs, b_cs): (*const f32, isize, isize),
        (c, c_rs, c_cs): (*mut f32, isize, isize),
        accumulate: bool,
        apack: &mut Vec<f32>,
        bpack: &mut Vec<f32>,
    ) {
        let mp = m.div_ceil(MR);
        if apack.len() < KC * MR {
            apack.resize(KC * MR, 0.0);
        }
        let mut k0 = 0;
        while k0 < k {
            let kc = KC.min(k - k0);
            let overwrite = k0 == 0 && !accumulate;
            // B is packed NC columns at a time, so the packed block (KC × NC) stays in L2 while
            // every A panel streams past it (with all n columns at once, a wide B — a whole
            // batch's im2col — fell out of cache for every 12-row A panel).
            let mut j0 = 0;
            while j0 < n {
                let nc = NC.min(n - j0);
                let np = nc.div_ceil(NR);
                // SAFETY: rows k0..k0+kc ≤ k and columns j0..j0+nc ≤ n are inside B.
                unsafe {
                    super::pack::b_panels(
                        bpack,
                        (b.offset(j0 as isize * b_cs), b_rs, b_cs),
                        (k0, kc, nc),
                        NR,
                    )
                };
                for q in 0..mp {
                    let i0 = q * MR;
                    let mi = MR.min(m - i0);
                    // SAFETY: rows i0..i0+mi ≤ m and columns k0..k0+kc ≤ k are inside A.
                    unsafe {
                        super::pack::a_panel(
                            &mut apack[..kc * MR],
                            (a, a_rs, a_cs),
                            (i0, mi, k0, kc),
                            MR,
                        );
                    }
                    for p in 0..np {
                        let jp = j0 + p * NR;
                        let nj = NR.min(n - jp);
                        // SAFETY: the mi × nj tile at (i0, jp) lies inside C; the packed
                        // panels hold kc·MR and kc·NR values.
                        unsafe {
                            kernel(
                                kc,
                                apack.as_ptr(),
                                bpack.as_ptr().add(p * kc * NR),
                                (
                                    c.offset(i0 as isize * c_rs + jp as isize * c_cs),
                                    c_rs,
                                    c_cs,
                                ),
                                (mi, nj),
                                overwrite,
                            );
                        }
                    }
                }
                j0 += nc;
            }
            k0 += kc;
        }
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn kernel(
        kc: usize,
        ap: *const f32,
        bp: *const f32,
        (c, c_rs, c_cs): (*mut f32, isize, isize),
        (mi, nj): (usize, usize),
        overwrite: bool,
    ) {
        let mut acc: [[__m512; 2]; MR] = [[_mm512_setzero_ps(); 2]; MR];
        for kk in 0..kc {
            // SAFETY: kk < kc; the panels hold kc rows of NR (B) and MR (A) values.
            let (b0, b1, arow) = unsafe {
                (
                    _mm512_loadu_ps(bp.add(kk * NR)),
                    _mm512_loadu_ps(bp.add(kk * NR + 16)),
                    ap.add(kk * MR),
                )
            };
            for (i, acc_i) in acc.iter_mut().enumerate() {
                let av = _mm512_set1_ps(unsafe { *arow.add(i) });
                acc_i[0] = _mm512_fmadd_ps(av, b0, acc_i[0]);
                acc_i[1] = _mm512_fmadd_ps(av, b1, acc_i[1]);
            }
        }
        if c_cs == 1 && nj == NR {
            for (i, acc_i) in acc.iter().enumerate().take(mi) {
                // SAFETY: row i < mi of the tile, NR contiguous columns.
                unsafe {
                    let cp = c.offset(i as isize * c_rs);
                    let (mut v0, mut v1) = (acc_i[0], acc_i[1]);
                    if !overwrite {
                        v0 = _mm512_add_ps(_mm512_loadu_ps(cp), v0);
                        v1 = _mm512_add_ps(_mm512_loadu_ps(cp.add(16)), v1);
                    }
                    _mm512_storeu_ps(cp, v0);
                    _mm512_storeu_ps(cp.add(16), v1);
                }
            }
        } else {
            let mut tmp = [0f32; NR];
            for (i, acc_i) in acc.iter().enumerate().take(mi) {
                // SAFETY: tmp holds NR floats; (i, j) with i < mi, j < nj is inside the tile.
                unsafe {
                    _mm512_storeu_ps(tmp.as_mut_ptr(), acc_i[0]);
                    _mm512_storeu_ps(tmp.as_mut_ptr().add(16), acc_i[1]);
                    super::pack::store_row(&tmp, (c, c_rs, c_cs), i, nj, overwrite);
                }
            }
        }
    }
}

/// The wasm32 SIMD128 kernel: packed 4 × 8 tiles, with fused multiply-add from the relaxed-SIMD
/// proposal when the crate is built with the `wasm-relaxed-simd` feature (the browser build;
/// every current browser engine has it), and a separate multiply and add otherwise (Node 20's
/// V8 does not validate relaxed-SIMD modules, so the wasm tests build without it).
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
pub(crate) mod wasm {
    use core::arch::wasm32::{
        f32x4_add, f32x4_splat, v128, v128_load, v128_load32_splat, v128_store,
    };
    use std::cell::RefCell;

    const MR: usize = 4;
    const NR: usize = 8;
    const KC: usize = 256;

    thread_local! {
        /// Packing buffers, reused across calls (no allocation once warm).
        static PACK: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
    }

    /// a·b + c, fused (relaxed SIMD).
    #[cfg(feature = "wasm-relaxed-simd")]
    #[target_feature(enable = "relaxed-simd")]
    #[inline]
    fn madd(a: v128, b: v128, c: v128) -> v128 {
        core::arch::wasm32::f32x4_relaxed_madd(a, b, c)
    }

    /// a·b + c.
    #[cfg(not(feature = "wasm-relaxed-simd"))]
    #[inline(always)]
    fn madd(a: v128, b: v128, c: v128) -> v128 {
        f32x4_add(core::arch::wasm32::f32x4_mul(a, b), c)
    }

    /// C (m × n) ← [C +] A (m × k) · B (k × n); each matrix is (pointer, row stride, column
    /// stride) in elements.
    ///
    /// # Safety
    /// Every (pointer, strides) triple must address a valid matrix of its shape, m, n, k ≥ 1,
    /// and C must not overlap A or B.
    pub unsafe fn sgemm(
        (m, n, k): (usize, usize, usize),
        (a, a_rs, a_cs): (*const f32, isize, isize),
        (b, b_rs, b_cs): (*const f32, isize, isize),
        (c, c_rs, c_cs): (*mut f32, isize, isize),
        accumulate: bool,
    ) {
        PACK.with(|p| {
            let mut p = p.borrow_mut();
            let (apack, bpack) = &mut *p;
            let np = n.div_ceil(NR);
            let mp = m.div_ceil(MR);
            let mut k0 = 0;
            while k0 < k {
                let kc = KC.min(k - k0);
                // SAFETY: rows k0..k0+kc ≤ k and columns 0..n are inside B (forwarded).
                unsafe { super::pack::b_panels(bpack, (b, b_rs, b_cs), (k0, kc, n), NR) };
                if apack.len() < mp * kc * MR {
                    apack.resize(mp * kc * MR, 0.0);
                }
                for q in 0..mp {
                    let i0 = q * MR;
                    let mi = MR.min(m - i0);
                    // SAFETY: rows i0..i0+mi ≤ m and columns k0..k0+kc ≤ k are inside A.
                    unsafe {
                        super::pack::a_panel(
                            &mut apack[q * kc * MR..(q + 1) * kc * MR],
                            (a, a_rs, a_cs),
                            (i0, mi, k0, kc),
                            MR,
                        );
                    }
                }
                let overwrite = k0 == 0 && !accumulate;
                // Column panels outside, row panels inside: one B panel (kc × 8) stays hot
                // while every A panel streams past it.
                for p in 0..np {
                    let j0 = p * NR;
                    let nj = NR.min(n - j0);
                    for q in 0..mp {
                        let i0 = q * MR;
                        let mi = MR.min(m - i0);
                        // SAFETY: the mi × nj tile at (i0, j0) lies inside C; the packed
                        // panels hold kc·MR and kc·NR values.
                        unsafe {
                            kernel(
                                kc,
                                apack.as_ptr().add(q * kc * MR),
                                bpack.as_ptr().add(p * kc * NR),
                                (
                                    c.offset(i0 as isize * c_rs + j0 as isize * c_cs),
                                    c_rs,
                                    c_cs,
                                ),
                                (mi, nj),
                                overwrite,
                            );
                        }
                    }
                }
                k0 += kc;
            }
        });
    }

    // With relaxed SIMD the whole kernel carries the feature, so `madd` inlines into it (a
    // target-feature function is never inlined into a caller without that feature).
    #[cfg_attr(feature = "wasm-relaxed-simd", target_feature(enable = "relaxed-simd"))]
    #[inline]
    unsafe fn kernel(
        kc: usize,
        ap: *const f32,
        bp: *const f32,
        (c, c_rs, c_cs): (*mut f32, isize, isize),
        (mi, nj): (usize, usize),
        overwrite: bool,
    ) {
        let z = f32x4_splat(0.0);
        let (mut c00, mut c01, mut c10, mut c11) = (z, z, z, z);
        let (mut c20, mut c21, mut c30, mut c31) = (z, z, z, z);
        for kk in 0..kc {
            // SAFETY: kk < kc; the panels hold kc rows of NR (B) and MR (A) values.
            unsafe {
                let b0 = v128_load(bp.add(kk * NR).cast());
                let b1 = v128_load(bp.add(kk * NR + 4).cast());
                let a = ap.add(kk * MR);
                let a0 = v128_load32_splat(a.cast());
                c00 = madd(a0, b0, c00);
                c01 = madd(a0, b1, c01);
                let a1 = v128_load32_splat(a.add(1).cast());
                c10 = madd(a1, b0, c10);
                c11 = madd(a1, b1, c11);
                let a2 = v128_load32_splat(a.add(2).cast());
                c20 = madd(a2, b0, c20);
                c21 = madd(a2, b1, c21);
                let a3 = v128_load32_splat(a.add(3).cast());
                c30 = madd(a3, b0, c30);
                c31 = madd(a3, b1, c31);
            }
        }
        let acc = [[c00, c01], [c10, c11], [c20, c21], [c30, c31]];
        if c_cs == 1 && nj == NR {
            for (i, acc_i) in acc.iter().enumerate().take(mi) {
                // SAFETY: row i < mi of the tile, NR contiguous columns.
                unsafe {
                    let cp = c.offset(i as isize * c_rs);
                    let (mut v0, mut v1) = (acc_i[0], acc_i[1]);
                    if !overwrite {
                        v0 = f32x4_add(v128_load(cp.cast()), v0);
                        v1 = f32x4_add(v128_load(cp.add(4).cast()), v1);
                    }
                    v128_store(cp.cast(), v0);
                    v128_store(cp.add(4).cast(), v1);
                }
            }
        } else {
            let mut tmp = [0f32; NR];
            for (i, acc_i) in acc.iter().enumerate().take(mi) {
                // SAFETY: tmp holds NR floats; (i, j) with i < mi, j < nj is inside the tile.
                unsafe {
                    v128_store(tmp.as_mut_ptr().cast(), acc_i[0]);
                    v128_store(tmp.as_mut_ptr().add(4).cast(), acc_i[1]);
                    super::pack::store_row(&tmp, (c, c_rs, c_cs), i, nj, overwrite);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn naive(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
        let mut c = Array2::zeros((a.nrows(), b.ncols()));
        for i in 0..a.nrows() {
            for j in 0..b.ncols() {
                let mut s = 0.0;
                for t in 0..a.ncols() {
                    s += a[[i, t]] * b[[t, j]];
                }
                c[[i, j]] = s;
            }
        }
        c
    }

    #[test]
    fn matches_naive_product_for_transposed_views_and_accumulation() {
        let a = Array2::from_shape_fn((7, 5), |(i, j)| ((i * 3 + j * 5) % 7) as f64 - 3.0);
        let b = Array2::from_shape_fn((5, 9), |(i, j)| ((i * 11 + j) % 5) as f64 * 0.5 - 1.0);
        let want = naive(&a, &b);
        let mut c = Array2::from_elem((7, 9), 100.0);
        matmul_into(c.view_mut(), a.view(), b.view(), false);
        assert!((&c - &want).iter().all(|d| d.abs() < 1e-12));
        // Cᵀ ← Bᵀ Aᵀ through transposed views, accumulating onto 1.
        let (at, bt) = (a.t().to_owned(), b.t().to_owned());
        let mut ct = Array2::from_elem((9, 7), 1.0);
        matmul_into(ct.view_mut(), bt.t().t(), at.t().t(), true);
        assert!((&ct.t() - &want).iter().all(|d| (d - 1.0).abs() < 1e-12));
        let a32 = a.mapv(|v| v as f32);
        let mut c32 = Array2::<f32>::zeros((5, 5));
        matmul_into(c32.view_mut(), a32.t(), a32.view(), false);
        let want32 = naive(&a.t().to_owned(), &a);
        assert!(
            c32.iter()
                .zip(&want32)
                .all(|(x, y)| (f64::from(*x) - y).abs() < 1e-4)
        );
    }

    #[test]
    fn f32_kernel_edges_blocks_strides_and_accumulation() {
        // Sizes straddle the micro-kernel (12 × 32) and the k-block (256).
        for &(m, k, n) in &[(1, 1, 1), (13, 300, 33), (25, 257, 64), (40, 513, 70)] {
            let a =
                Array2::from_shape_fn((m, k), |(i, j)| ((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.5);
            let b =
                Array2::from_shape_fn((k, n), |(i, j)| ((i * 5 + j * 13) % 17) as f64 / 17.0 - 0.5);
            let want = naive(&a, &b);
            let (a32, b32) = (a.mapv(|v| v as f32), b.mapv(|v| v as f32));
            let tol = 1e-5 * k as f64;
            let mut c = Array2::<f32>::from_elem((m, n), 9.0);
            matmul_into(c.view_mut(), a32.view(), b32.view(), false);
            assert!(
                c.iter()
                    .zip(&want)
                    .all(|(x, y)| (f64::from(*x) - y).abs() < tol),
                "{m}x{k}x{n}"
            );
            // transposed inputs, column-major output, accumulate onto 1
            let (at, bt) = (a32.t().to_owned(), b32.t().to_owned());
            let mut ct = Array2::<f32>::from_elem((n, m), 1.0);
            matmul_into(ct.view_mut().reversed_axes(), at.t(), bt.t(), true);
            assert!(
                ct.t()
                    .iter()
                    .zip(&want)
                    .all(|(x, y)| (f64::from(*x) - 1.0 - y).abs() < tol)
            );
        }
    }
}
