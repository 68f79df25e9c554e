//! One libFuzzer binary for every target of certus-fuzz: `CERTUS_FUZZ_TARGET` names it.
#![no_main]

use std::sync::OnceLock;

fn target() -> certus_fuzz::Target {
    static TARGET: OnceLock<certus_fuzz::Target> = OnceLock::new();
    *TARGET.get_or_init(|| {
        let name = std::env::var("CERTUS_FUZZ_TARGET").unwrap_or_default();
        certus_fuzz::TARGETS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .unwrap_or_else(|| {
                let names: Vec<&str> = certus_fuzz::TARGETS.iter().map(|(n, _)| *n).collect();
                panic!("set CERTUS_FUZZ_TARGET to one of {}", names.join(", "))
            })
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| target()(data));
