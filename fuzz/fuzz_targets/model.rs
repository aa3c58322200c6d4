//! Fuzz target: the risk-model parser and validator must never panic, whatever the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = riskgrade::model::Model::parse(text);
        let _ = riskgrade::expr::parse_checked(text);
    }
});
