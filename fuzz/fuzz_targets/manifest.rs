//! Any bytes as a secrets manifest: parsing and rendering the diagnostic
//! never crash (a panic is a crash to libFuzzer), hang or exhaust memory
//! (libFuzzer's -timeout and -rss_limit_mb).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = konduktor::manifest::parse(Path::new("fuzz/secrets.yaml"), &text) {
        let _ = e.to_string();
        let _ = konduktor::diagnostic(&e, false);
    }
});
