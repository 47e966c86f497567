//! The wasm32 GEMM kernel against the reference product (ndarray/matrixmultiply), in wasm:
//! edge tiles, transposed (strided) inputs, accumulation and a k larger than one block.
#![cfg(target_arch = "wasm32")]

use alphacl::nn::gemm::{matmul_into, reference_matmul_into};
use alphacl::rng::Rng;
use ndarray::Array2;
use wasm_bindgen_test::wasm_bindgen_test;

fn random(rng: &mut Rng, r: usize, c: usize) -> Array2<f32> {
    Array2::from_shape_simple_fn((r, c), || rng.normal() as f32)
}

#[wasm_bindgen_test]
fn wasm_kernel_matches_reference_on_edges_strides_and_accumulation() {
    let mut rng = Rng::seed_from_u64(3);
    for &(m, n, k) in &[
        (1, 1, 1),
        (4, 8, 3),
        (5, 9, 7),
        (13, 17, 300),
        (64, 40, 513),
        (3, 130, 2),
    ] {
        for transpose_a in [false, true] {
            for accumulate in [false, true] {
                let a = if transpose_a {
                    random(&mut rng, k, m).reversed_axes()
                } else {
                    random(&mut rng, m, k)
                };
                let b = random(&mut rng, k, n);
                let c0 = random(&mut rng, m, n);
                let mut fast = c0.clone();
                let mut slow = c0.clone();
                matmul_into(fast.view_mut(), a.view(), b.view(), accumulate);
                reference_matmul_into(slow.view_mut(), a.view(), b.view(), accumulate);
                let scale = (k as f32).sqrt().max(1.0);
                for (x, y) in fast.iter().zip(&slow) {
                    assert!(
                        (x - y).abs() <= 1e-4 * scale * (1.0 + y.abs()),
                        "m={m} n={n} k={k} tA={transpose_a} acc={accumulate}: {x} vs {y}"
                    );
                }
            }
        }
    }
}
