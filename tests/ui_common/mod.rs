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
