//! The vertical slice really learns: contrastive training on the default Gaussian mixture
//! separates the clusters in embedding space (held-out weighted-kNN accuracy rises well above
//! both chance and the random-initialisation encoder).

use alphacl::train::{RunConfig, Trainer};

#[test]
fn training_separates_the_clusters_of_the_default_toy_set() {
    for seed in [1u64, 2, 3] {
        let cfg = RunConfig {
            seed,
            ..RunConfig::default()
        };
        let mut t = Trainer::new(cfg).expect("default config runs");
        let chance = 1.0 / t.data.num_classes as f64;
        let at_init = t
            .history
            .evals
            .first()
            .map(|e| e.knn_acc)
            .expect("step-0 evaluation");
        for _ in 0..300 {
            t.step().expect("finite step");
        }
        t.refresh_snapshot();
        let trained = t.history.last_knn().expect("evaluation");
        assert!(
            trained > 0.8,
            "seed {seed}: kNN {trained:.3} after 300 steps"
        );
        assert!(
            trained > 4.0 * chance,
            "seed {seed}: {trained:.3} vs chance {chance:.3}"
        );
        assert!(
            trained > at_init + 0.15,
            "seed {seed}: training must beat the random encoder ({at_init:.3} -> {trained:.3})"
        );
        // The linear probe ran at the first evaluation and is recorded in history and CSV.
        let probe = t.history.evals[0]
            .probe_acc
            .expect("probe at the first evaluation");
        assert!((0.0..=1.0).contains(&probe));
        let csv = t.history.to_csv();
        assert!(csv.starts_with("step,time_s,loss,knn_acc,probe_acc\n"));
        assert_eq!(csv.lines().count(), 301, "one row per step plus the header");
    }
}
