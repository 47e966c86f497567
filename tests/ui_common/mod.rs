//! Shared by the egui_kittest UI tests: a 1280×800 harness that, like the browser shell, runs
//! the training slice (`logic`) and then draws the lab every frame.

use alphacl::app::LabApp;
use egui_kittest::Harness;

/// A harness around `app` at the lab's reference size.
pub fn harness(app: LabApp) -> Harness<'static, LabApp> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(
            |ui, app: &mut LabApp| {
                app.logic();
                app.ui(ui);
            },
            app,
        )
}

/// Delivers every data file the app is waiting for as a small synthetic prepared CIFAR-shaped
/// set (random pixels, 10 classes; the side is read from the file name `cifar10-<side>…`), as
/// the browser shell does after a download. Returns the paths delivered.
#[allow(dead_code)]
pub fn deliver_synthetic_assets(app: &mut LabApp) -> Vec<String> {
    use alphacl::data::cifar::Prepared;
    let paths = app.assets.take_wanted();
    for path in &paths {
        let side: usize = path
            .rsplit('/')
            .next()
            .and_then(|f| f.strip_prefix("cifar10-"))
            .and_then(|f| f.split(['-', '.']).next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(16);
        let mut rng = alphacl::rng::Rng::seed_from_u64(side as u64);
        let (n_train, n_test) = (300, 60);
        let px = |n: usize, rng: &mut alphacl::rng::Rng| -> Vec<u8> {
            (0..n * 3 * side * side)
                .map(|_| (rng.uniform_range(0.0, 255.0)) as u8)
                .collect()
        };
        let file = Prepared {
            channels: 3,
            side,
            class_names: (0..10).map(|c| format!("class {c}")).collect(),
            train_labels: (0..n_train).map(|i| (i % 10) as u8).collect(),
            train_pixels: px(n_train, &mut rng),
            test_labels: (0..n_test).map(|i| (i % 10) as u8).collect(),
            test_pixels: px(n_test, &mut rng),
        };
        let bytes = file.to_bytes().expect("a valid synthetic file");
        app.asset_finished(path, Ok(bytes));
    }
    paths
}
