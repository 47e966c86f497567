//! PAPER §5.3: with per-row normalisation, the 2-layer ReLU max player's W₁ keeps rank > 1,
//! while the linear network collapses to rank 1.

use alphacl::theory::relu2::{Normalization, Relu2, Relu2Config};

fn final_rank(relu: bool, norm: Normalization, seed: u64, steps: usize) -> f64 {
    let mut e = Relu2::new(Relu2Config {
        relu,
        norm,
        seed,
        ..Relu2Config::default()
    })
    .unwrap();
    let e0 = e.energy();
    e.step(steps);
    assert!(e.energy() > e0, "ascent must increase E_α");
    e.readout().w1_effective_rank
}

#[test]
fn relu_keeps_higher_rank_and_linear_collapses() {
    let seeds = 6;
    let steps = 400;
    let relu: Vec<f64> = (0..seeds)
        .map(|s| final_rank(true, Normalization::PerRow, s, steps))
        .collect();
    let lin: Vec<f64> = (0..seeds)
        .map(|s| final_rank(false, Normalization::PerRow, s, steps))
        .collect();
    let high = relu.iter().filter(|&&r| r > 1.5).count();
    assert!(high * 2 > seeds as usize, "ReLU ranks {relu:?}");
    assert!(lin.iter().all(|&r| r < 1.05), "linear ranks {lin:?}");
}

#[test]
fn whole_layer_frobenius_normalisation_lets_relu_collapse() {
    // PAPER §5.3 caveat: with ‖W₁‖_F = 1 instead of unit rows, the ReLU net also goes to rank ≈ 1.
    let ranks: Vec<f64> = (0..4)
        .map(|s| final_rank(true, Normalization::Frobenius, s, 400))
        .collect();
    assert!(ranks.iter().filter(|&&r| r < 1.5).count() >= 3, "{ranks:?}");
}
