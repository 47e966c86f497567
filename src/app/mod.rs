//! The egui lab.
