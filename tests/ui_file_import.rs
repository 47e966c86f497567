//! A dropped weights file that is not UTF-8 is refused naming its first bad byte; one with a
//! UTF-8 byte-order mark is read (issue 18, item 11).
#![cfg(feature = "app")]

use alphacl::app::LabApp;
use alphacl::train::{RunConfig, Trainer};

mod ui_common;
use ui_common::harness;

#[test]
fn a_dropped_weights_file_is_decoded_as_utf8_with_a_bom_or_refused_with_a_position() {
    let cfg = RunConfig::default();
    let json = Trainer::new(cfg.clone()).unwrap().weights_json();
    let mut h = harness(LabApp::new(cfg));
    h.run();
    let mut latin1 = json.clone().into_bytes();
    latin1[3] = 0xE9;
    h.state_mut()
        .files_dropped(&[("w.json".to_string(), latin1)]);
    h.run();
    let e = h.state().error.clone().unwrap_or_default();
    assert!(
        e.contains("w.json") && e.contains("byte 3") && e.contains("0xE9"),
        "{e}"
    );
    h.state_mut().error = None;
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(json.as_bytes());
    h.state_mut()
        .files_dropped(&[("bom.json".to_string(), bom)]);
    for _ in 0..4 {
        h.run();
    }
    assert_eq!(h.state().error, None);
}
