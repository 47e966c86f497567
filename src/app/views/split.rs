//! Side-by-side parts of a view that stack, one under the other, when the view is narrow
//! (a phone, or a window below ~900 px with the control panel folded away).

/// Views narrower than this (points) stack their columns.
pub const STACK_BELOW: f32 = 620.0;

/// Height of a plot in a stacked view (points): tall enough for three y ticks and a legend.
pub const STACKED_PLOT_H: f32 = 240.0;

/// Whether a view drawn in `ui` stacks its columns.
pub fn stacked(ui: &egui::Ui) -> bool {
    ui.available_width() < STACK_BELOW
}

/// Draws `left` and `right` in two columns, or `left` above `right` in a narrow `ui`; both
/// get `state` in turn.
pub fn two_columns<T>(
    ui: &mut egui::Ui,
    state: &mut T,
    left: impl FnOnce(&mut egui::Ui, &mut T),
    right: impl FnOnce(&mut egui::Ui, &mut T),
) {
    if stacked(ui) {
        left(ui, state);
        right(ui, state);
    } else {
        ui.columns(2, |cols| {
            left(&mut cols[0], state);
            right(&mut cols[1], state);
        });
    }
}
